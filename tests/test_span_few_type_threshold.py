"""A released threshold for calls asking few types (``few_types_threshold``), and where it acts:
the Python API, a release's config, ``uniner bench --threshold`` and the HTTP API."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest
from typer.testing import CliRunner

from conftest import require
from tests.doubles.span import FirstWordScorer, tiny_span_parts
from uniner.cli import _register, app
from uniner.students.span.extractor import SpanExtractor
from uniner.students.span.release import release

os.environ.setdefault("HF_HUB_OFFLINE", "1")


class Oracle(FirstWordScorer):
    """Scores the first word 0.7 for every asked label, nothing else."""


@pytest.fixture(scope="module")
def parts(tmp_path_factory: pytest.TempPathFactory):
    return tiny_span_parts(tmp_path_factory.mktemp("bb-few"))


def oracle(parts, **kw) -> Oracle:
    return Oracle(*parts, threshold=0.6, multi_label=True, **kw)


def labels_found(ents) -> list[str]:
    return sorted(e.label for e in ents)


def test_threshold_for_counts_the_asked_types(parts) -> None:
    ext = oracle(parts, few_types=2, few_type_threshold=0.8)
    assert [ext.threshold_for(n) for n in (1, 2, 3, 30)] == [0.8, 0.8, 0.6, 0.6]
    assert oracle(parts).threshold_for(1) == 0.6  # no rule: one threshold
    with pytest.raises(ValueError, match="threshold"):
        oracle(parts, few_types=2, few_type_threshold=1.5)
    with pytest.raises(ValueError, match="few_types"):
        oracle(parts, few_types=-1)


def test_few_type_calls_use_their_threshold(parts) -> None:
    ext = oracle(parts, few_types=2, few_type_threshold=0.8)
    text = "Oslo is cold."
    assert ext.extract(text, ["city"]) == []  # 0.7 < 0.8
    assert labels_found(ext.extract(text, ["city", "place", "town"])) == ["city", "place", "town"]
    assert labels_found(ext.extract(text, ["city"], threshold=0.5)) == ["city"]  # caller's wins
    # one batch, two calls: each text decoded at its own call's threshold
    res = ext.extract_each([text, text], [["city"], ["city", "place", "town"]])
    assert [len(r.entities) for r in res] == [0, 3]
    assert [r.threshold for r in res] == [0.8, 0.6]  # each result says what it used
    assert labels_found(ext.fixed_threshold(0.65).extract(text, ["city"])) == ["city"]
    assert ext.threshold_for(1) == 0.65


def test_release_writes_and_load_reads_it(parts, tmp_path: Path) -> None:
    model, tok = parts
    src = SpanExtractor(model, tok).save(tmp_path / "trained", storage="full")
    dest = release(
        src, tmp_path / "rel", "m", "0.1.2", 0.6, True, few_types=3, few_type_threshold=0.75
    )
    cfg = json.loads((dest / "config.json").read_text(encoding="utf-8"))
    assert cfg["few_types_threshold"] == {"max_types": 3, "threshold": 0.75}
    ext = SpanExtractor.load(dest)
    assert (ext.threshold, ext.few_types, ext.few_type_threshold) == (0.6, 3, 0.75)
    # a later release without the rule removes it
    assert (
        SpanExtractor.load(release(dest, tmp_path / "plain", "m", "0.2.0", 0.5)).threshold_for(1)
        == 0.5
    )
    for bad in (
        {"few_types": 3},
        {"few_type_threshold": 0.7},
        {"few_types": 2, "few_type_threshold": 2.0},
    ):
        with pytest.raises(ValueError, match="few_type"):
            release(src, tmp_path / "bad", "m", "0.1.2", 0.6, **bad)
    cfg["few_types_threshold"] = {"max_types": 3}
    (dest / "config.json").write_text(json.dumps(cfg), encoding="utf-8")
    with pytest.raises(ValueError, match=r"config\.json: few_types_threshold"):
        SpanExtractor.load(dest)


def test_bench_threshold_option(parts, tmp_path: Path, shared_data) -> None:
    model, tok = parts
    src = SpanExtractor(model, tok).save(tmp_path / "trained", storage="full")
    dest = release(src, tmp_path / "rel", "m", "0.1.2", 0.6, few_types=3, few_type_threshold=0.75)
    _register()  # the subcommands (the entry point registers them on first use)
    runner = CliRunner()
    args = ["bench", "-e", str(dest), "-d", "CrossNER_AI", "--split", "dev", "--max-queries", "5"]
    res = runner.invoke(app, [*args, "--threshold", "0.3", "--out", str(tmp_path / "b")])
    assert res.exit_code == 0, res.output
    meta = json.loads((tmp_path / "b" / "results.json").read_text(encoding="utf-8"))
    assert meta["meta"]["threshold"] == 0.3
    res = runner.invoke(app, ["bench", "-e", "gazetteer", "--threshold", "0.3"])
    assert res.exit_code != 0 and "no score threshold" in res.output
    res = runner.invoke(app, [*args, "--threshold", "1.5"])
    assert res.exit_code != 0


def test_http_api_uses_it_when_the_request_gives_none(parts) -> None:
    require("fastapi", "serve")
    from fastapi.testclient import TestClient

    from uniner.serving.app import create_app

    ext = oracle(parts, few_types=2, few_type_threshold=0.8)
    with TestClient(create_app(ext)) as client:
        info = client.get("/v1/models").json()["models"][0]
        assert info["default_threshold"] == 0.6
        assert info["few_types_threshold"] == {"max_types": 2, "threshold": 0.8}
        one = client.post("/v1/extract", json={"text": "Oslo is cold.", "labels": ["city"]}).json()
        assert one["threshold"] == 0.8 and one["results"][0]["entities"] == []
        three = {"text": "Oslo is cold.", "labels": ["city", "place", "town"]}
        body = client.post("/v1/extract", json=three).json()
        assert body["threshold"] == 0.6 and len(body["results"][0]["entities"]) == 3
        given = {"text": "Oslo is cold.", "labels": ["city"], "threshold": 0.5}
        assert len(client.post("/v1/extract", json=given).json()["results"][0]["entities"]) == 1


def test_extract_cli_prints_the_threshold_it_used(parts, tmp_path: Path) -> None:
    model, tok = parts
    src = SpanExtractor(model, tok).save(tmp_path / "trained", storage="full")
    dest = release(src, tmp_path / "rel", "m", "0.1.2", 0.6, few_types=1, few_type_threshold=0.99)
    _register()

    def printed(*args: str) -> str:
        res = CliRunner().invoke(app, ["extract", "Oslo is cold.", "-m", str(dest), *args])
        assert res.exit_code == 0, res.output
        return res.output

    assert "threshold 0.99" in printed("-l", "city")  # one type: the few-types threshold
    assert "threshold 0.60" in printed("-l", "city", "-l", "country")
    assert "threshold 0.30" in printed("-l", "city", "--threshold", "0.3")
