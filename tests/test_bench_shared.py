"""The benchmark on the real zero-shot data: gold scores 1.0, the CLI writes every output."""

import json
from collections import deque

import pytest
from typer.testing import CliRunner

from uniner.benchmark.dump import rescore
from uniner.benchmark.loaders import load_split
from uniner.benchmark.registry import suite
from uniner.benchmark.runner import evaluate_split
from uniner.cli import _register, app


class GoldExtractor:
    """Returns the gold entities of each text: what a perfect model would answer.

    Some test sets repeat a sentence with different gold, so answers are served in order.
    """

    name = "gold"

    def __init__(self, examples):
        self.by_text = {}
        for ex in examples:
            self.by_text.setdefault(ex.text, deque()).append(list(ex.entities))

    def extract_batch(self, texts, labels):
        return [self.by_text[t].popleft() for t in texts]


@pytest.mark.parametrize("spec", suite("zero-shot"), ids=lambda s: s.name)
def test_gold_scores_one_under_both_metrics(shared_data, spec):
    data = load_split(spec, "test", shared_data)
    r = evaluate_split(
        GoldExtractor(data.examples), spec.name, "test", data.labels, data.examples, progress=False
    )
    assert r.n_passages == len(data.examples) and r.n_queries == data.n_queries
    assert r.official.f1 == pytest.approx(1.0)
    assert r.strict.f1 == pytest.approx(1.0)
    assert r.partial.f1 == pytest.approx(1.0)


def test_bench_cli_writes_json_csv_markdown_png(shared_data, tmp_path):
    _register()
    out = tmp_path / "bench"
    result = CliRunner().invoke(
        app,
        [
            "bench",
            "--extractor",
            "spacy",
            "-d",
            "CrossNER_AI",
            "-d",
            "mit-restaurant",
            "--max-queries",
            "300",
            "--out",
            str(out),
            "--save-predictions",
        ],
    )
    assert result.exit_code == 0, result.output
    assert "| UniNER-7B (paper) | 53.5 | 31.7 |" in result.output
    assert "### Where spacy-sm goes wrong (test, offsets)" in result.output
    payload = json.loads((out / "results.json").read_text())
    assert [r["dataset"] for r in payload["results"]] == ["CrossNER_AI", "mit-restaurant"]
    assert all(r["n_queries"] == 300 for r in payload["results"])
    assert payload["meta"]["max_queries"] == 300
    assert (out / "results.csv").read_text().count("\n") == 3
    assert (out / "f1.png").read_bytes()[:4] == b"\x89PNG"
    assert (out / "errors.png").read_bytes()[:4] == b"\x89PNG"
    assert "| AI |" in (out / "errors.md").read_text()
    # The saved predictions give back exactly the scores the run reported.
    for r in payload["results"]:
        again = rescore(out / "predictions" / f"{r['dataset']}.test.jsonl").to_dict()
        for key in ("n_passages", "n_queries", "official", "strict", "partial", "errors"):
            assert again[key] == r[key], key
        e = r["errors"]
        assert sum(e["predictions"].values()) > 0  # spaCy finds something on both sets
        assert e["predictions"]["boundary"] == sum(e["boundary"].values())


def test_bench_cli_rejects_unknown_data_set(shared_data, tmp_path):
    _register()
    result = CliRunner().invoke(app, ["bench", "-d", "no-such-set", "--out", str(tmp_path)])
    assert result.exit_code == 2  # one line, before any model loads (tests/test_cli_errors.py)
    assert "unknown data set" in result.stderr and "Traceback" not in result.output
