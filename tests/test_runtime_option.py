"""The onnx runtime in `uniner extract`, `serve`, `bench` and the spaCy component."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
import torch
from typer.testing import CliRunner

from conftest import require
from uniner.cli import _register, app
from uniner.students.span.backbones import load_encoder, load_tokenizer
from uniner.students.span.config import SpanModelConfig
from uniner.students.span.extractor import SpanExtractor
from uniner.students.span.model import SpanModel
from uniner.students.span.onnx_runtime import INT8_NAME, STAMP_NAME

require("onnxruntime", "onnx")  # uniner imports it lazily, the tests need it

pytestmark = pytest.mark.usefixtures("one_torch_thread")
TEXT = "Alice Smith flew from Paris to New York ."
LABELS = ["person", "city"]


@pytest.fixture(scope="module")
def model_dir(backbone: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    torch.manual_seed(5)
    cfg = SpanModelConfig(backbone=str(backbone), hidden_dim=16, max_width=4)
    model = SpanModel(cfg, load_encoder(str(backbone)))
    with torch.no_grad():
        for p in model.parameters():
            p.add_(torch.randn_like(p) * 0.05)
    ext = SpanExtractor(model.eval(), load_tokenizer(str(backbone)), name="tiny")
    return ext.save(tmp_path_factory.mktemp("m") / "tiny", storage="full")


def _every_pair(model_dir: Path, *extra: str) -> dict[tuple[int, int, str], float]:
    """(start, end, label) -> score of every candidate: nested, multi-label, threshold 0."""
    _register()
    args = ["extract", TEXT, "-m", str(model_dir), "--json", "--nested", "--multi-label"]
    args += ["--threshold", "0", *(a for lab in LABELS for a in ("-l", lab)), *extra]
    res = CliRunner().invoke(app, args)
    assert res.exit_code == 0, res.output
    ents = json.loads(res.stdout)["entities"]
    return {(e["start"], e["end"], e["label"]): e["score"] for e in ents}


def test_extract_runtime_onnx_exports_once_and_scores_like_torch(model_dir, tmp_path):
    torch_scores = _every_pair(model_dir)
    onnx_dir = tmp_path / "onnx"
    onnx_scores = _every_pair(model_dir, "--runtime", "onnx", "--onnx-dir", str(onnx_dir))
    assert (onnx_dir / INT8_NAME).is_file() and (onnx_dir / STAMP_NAME).is_file()
    assert onnx_scores.keys() == torch_scores.keys() and len(torch_scores) > 10
    diffs = [abs(onnx_scores[k] - torch_scores[k]) for k in torch_scores]
    assert max(diffs) > 0 and sum(diffs) / len(diffs) < 0.05  # int8: close, not identical
    stamp = (onnx_dir / STAMP_NAME).stat().st_mtime_ns
    assert _every_pair(model_dir, "--runtime", "onnx", "--onnx-dir", str(onnx_dir)) == onnx_scores
    assert (onnx_dir / STAMP_NAME).stat().st_mtime_ns == stamp  # reused, not exported again


def test_onnx_dir_needs_runtime_onnx(model_dir, tmp_path):
    _register()
    for cmd in (["extract", TEXT, "-l", "person"], ["serve"]):
        args = [*cmd, "-m", str(model_dir), "--onnx-dir", str(tmp_path)]
        res = CliRunner().invoke(app, args)
        assert res.exit_code == 2 and "--runtime onnx" in res.output
    assert not any(tmp_path.iterdir())
    a_file = tmp_path / "model.int8.onnx"
    a_file.write_text("not a folder")
    args = ["extract", TEXT, "-l", "person", "-m", str(model_dir), "--runtime", "onnx"]
    res = CliRunner().invoke(app, [*args, "--onnx-dir", str(a_file)])
    words = " ".join(re.sub("[│╭╮╰╯─]", " ", res.output).split())
    assert res.exit_code == 2 and "is a file" in words


def test_serve_runtime_onnx_reports_it(model_dir, tmp_path, monkeypatch):
    require("fastapi", "serve")
    from fastapi.testclient import TestClient

    from uniner.serving import server
    from uniner.serving.app import create_app

    served = []
    monkeypatch.setattr(server, "serve", lambda extractor, *a, **k: served.append(extractor))
    _register()
    args = ["serve", "-m", str(model_dir), "--runtime", "onnx", "--onnx-dir", str(tmp_path)]
    res = CliRunner().invoke(app, args)
    assert res.exit_code == 0, res.output
    assert "on onnx at http://" in res.output
    with TestClient(create_app(served[0])) as client:  # lifespan starts the batcher
        assert client.get("/v1/models").json()["models"][0]["runtime"] == "onnx"
        got = client.post("/v1/extract", json={"text": TEXT, "labels": LABELS, "threshold": 0})
    assert got.status_code == 200, got.text
    assert got.json()["results"][0]["entities"]


def test_bench_runtime_onnx_records_it(model_dir, tmp_path, shared_data):
    _register()
    out, onnx_dir = tmp_path / "bench", tmp_path / "onnx"
    args = ["bench", "-e", str(model_dir), "-d", "CrossNER_AI", "--split", "dev"]
    args += ["--max-queries", "12", "--out", str(out)]
    res = CliRunner().invoke(app, [*args, "--runtime", "onnx", "--onnx-dir", str(onnx_dir)])
    assert res.exit_code == 0, res.output
    report = json.loads((out / "results.json").read_text())
    assert report["meta"]["runtime"] == "onnx" and (onnx_dir / STAMP_NAME).is_file()
    assert report["results"][0]["n_queries"] == 12
    res = CliRunner().invoke(app, ["bench", "-e", "gazetteer", "--runtime", "onnx"])
    words = " ".join(re.sub("[│╭╮╰╯─]", " ", res.output).split())  # the error box wraps lines
    assert res.exit_code == 2 and "only span-student models do" in words


def test_spacy_component_runtime_onnx(model_dir, tmp_path, monkeypatch):
    spacy = require("spacy", "spacy")
    monkeypatch.setenv("UNINER_ONNX_CACHE", str(tmp_path / "cache"))
    nlp = spacy.blank("en")
    cfg = {"labels": LABELS, "model": str(model_dir), "threshold": 0.0}
    pipe = nlp.add_pipe("uniner", name="fast", config={**cfg, "runtime": "onnx"})
    assert pipe.extractor.onnx is not None and pipe.extractor.torch_released
    assert list((tmp_path / "cache").glob("*/model.int8.onnx"))
    doc = nlp(TEXT)
    assert doc.ents and all(e.label_ in LABELS for e in doc.ents)
    with pytest.raises(ValueError, match=r"\[components\.bad\] runtime must be one of"):
        nlp.add_pipe("uniner", name="bad", config={**cfg, "runtime": "tensorrt"})


def test_runtime_onnx_without_onnxruntime_says_what_to_install(model_dir, monkeypatch):
    import sys

    monkeypatch.setitem(sys.modules, "onnxruntime", None)  # import now raises ImportError
    _register()
    res = CliRunner().invoke(app, ["extract", TEXT, "-l", "person", "--runtime", "onnx"])
    words = " ".join(re.sub("[│╭╮╰╯─]", " ", res.output).split())
    assert res.exit_code == 2 and "pip install 'uniner[onnx]'" in words
