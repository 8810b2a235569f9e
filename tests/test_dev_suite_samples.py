"""The dev suite on several samples (``--samples``): per-seed figures, their mean and range,
the files written, and the CLI's one-line refusal outside the dev suite."""

from __future__ import annotations

import json
import os
from dataclasses import replace

import pytest
from typer.testing import CliRunner

os.environ.setdefault("HF_HUB_OFFLINE", "1")

from tests.test_dev_suite import Oracle, tiny_model_dir  # noqa: F401 (a fixture)
from uniner.benchmark.devsuite import DEV_SUITE, prepare
from uniner.benchmark.devsuite_samples import DevSamplesResult, run_dev_samples, sample_figures
from uniner.cli import _register, app


def _figures(summary: float, one: float, three: float, every: float) -> dict:
    official = {
        "summary": summary,
        "by_shape": {"1": one, "3": three, "all": every},
        "by_variant": {"cased": summary, "lower": summary, "informal": summary},
        "by_set": {"toy": summary},
    }
    return sample_figures(official)


def test_gaps_mean_and_range_are_taken_key_by_key():
    a, b = _figures(0.70, 0.72, 0.71, 0.68), _figures(0.66, 0.70, 0.67, 0.66)
    assert a["gaps"] == pytest.approx({"1": 0.04, "3": 0.03})
    r = DevSamplesResult((0, 1), (a, b))
    assert r.mean["summary"] == pytest.approx(0.68)
    assert r.mean["gaps"] == pytest.approx({"1": 0.04, "3": 0.02})
    assert r.spread["gaps"] == pytest.approx({"1": 0.0, "3": 0.02})
    assert r.spread["by_shape"]["all"] == pytest.approx(0.02)
    rows = r.markdown.splitlines()
    assert "| seed | summary | 1 | 3 | all | gap 1 vs all | gap 3 vs all |" in rows[2]
    assert rows[-2].startswith("| **mean** | 68.00 | 71.00 | 69.00 | 67.00 | 4.00 | 2.00 |")


def test_seeds_must_be_distinct():
    with pytest.raises(ValueError, match="distinct"):
        run_dev_samples(Oracle([]), [3, 3])


def test_each_seed_is_a_suite_run_and_the_mean_is_theirs(shared_data, tmp_path):
    sets, seeds = ["ncbi", "conllpp"], [5, 6]
    drawn = []
    for seed in seeds:
        spec = replace(DEV_SUITE, sets=tuple(sets), max_passages=3, seed=seed)
        per_set, _ = prepare(spec, None, strict=True)
        drawn.append([c for s in per_set for c in s])
    assert {e.text for c in drawn[0] for e in c.examples} != {
        e.text for c in drawn[1] for e in c.examples
    }  # each seed draws passages of its own
    oracle = Oracle(drawn[0] + drawn[1])
    r = run_dev_samples(oracle, seeds, out=tmp_path, sets=sets, max_passages=3, progress=False)
    runs = [json.loads((tmp_path / f"seed-{s}" / "results.json").read_text()) for s in seeds]
    assert [run["meta"]["suite"]["seed"] for run in runs] == seeds
    assert all({c["dataset"] for c in run["cells"]} == set(sets) for run in runs)
    per_seed = [run["summary"]["official"]["summary"] for run in runs]
    payload = json.loads((tmp_path / "samples.json").read_text())
    assert payload["mean"]["summary"] == pytest.approx(sum(per_seed) / 2)
    assert [s["seed"] for s in payload["samples"]] == seeds
    assert r.mean["summary"] == pytest.approx(1.0)  # the oracle answers the gold mentions
    assert (tmp_path / "samples.md").read_text() == r.markdown


def test_cli_reads_the_suite_on_two_samples(shared_data, tiny_model_dir, tmp_path):  # noqa: F811
    _register()
    out = tmp_path / "dev"
    args = ["bench", "--suite", "dev", "-e", str(tiny_model_dir), "-d", "conllpp"]
    result = CliRunner().invoke(
        app, [*args, "--max-passages", "2", "--samples", "2", "--seed", "4", "--out", str(out)]
    )
    assert result.exit_code == 0, result.output
    assert (out / "seed-4" / "results.json").exists() and (out / "seed-5" / "table.md").exists()
    payload = json.loads((out / "samples.json").read_text())
    assert payload["meta"]["seeds"] == [4, 5] and "Dev suite on 2 samples" in result.output


def test_cli_refuses_samples_outside_the_dev_suite_in_one_line():
    _register()
    result = CliRunner().invoke(app, ["bench", "--samples", "2", "-e", "gazetteer"])
    assert result.exit_code == 2 and "--suite dev" in result.output
    assert "Traceback" not in result.output
