"""``bench/gazetteer_share.py`` chooses the gazetteer's ``min_share`` on the dev suite: each
value is scored with the value actually set on the gazetteer, and the best summary is named."""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path
from types import SimpleNamespace

from uniner.baselines.gazetteer import Gazetteer


def fake_suite(seen: list[float]):  # type: ignore[no-untyped-def]
    """A run_dev_suite stand-in whose summary peaks at min_share 0.3."""

    def run(gaz: Gazetteer, **_: object) -> SimpleNamespace:
        seen.append(gaz.min_share)
        score = 0.5 - abs(gaz.min_share - 0.3)
        axes = {"shape": ["1", "3", "all"], "variant": ["cased", "lower", "informal"]}
        return SimpleNamespace(summary=score, by=lambda axis: dict.fromkeys(axes[axis], score))

    return run


def test_each_share_is_scored_and_the_best_is_chosen(bench_script, monkeypatch, tmp_path) -> None:
    mod = bench_script("gazetteer_share")
    seen: list[float] = []
    table = {("Paris",): Counter({"location": 3, "person": 1})}
    monkeypatch.setattr(mod, "run_dev_suite", fake_suite(seen))
    monkeypatch.setattr(mod, "default_gazetteer", lambda: Gazetteer(table))
    mod.main(["--out", str(tmp_path), "--shares", "0", "0.3", "0.7"])
    assert seen == [0.0, 0.3, 0.7]
    record = json.loads(Path(tmp_path, "gazetteer_share.json").read_text())
    assert record["chosen_min_share"] == 0.3
    assert [r["summary"] for r in record["rows"]] == [20.0, 50.0, 10.0]
    assert record["rows"][1]["by_variant"]["lower"] == 50.0


def test_markdown_has_a_row_per_share(bench_script) -> None:
    mod = bench_script("gazetteer_share")
    row = {"min_share": 0.5, "summary": 12.34, "by_shape": {"1": 1.0}, "by_variant": {"cased": 2.0}}
    text = mod.markdown([row, {**row, "min_share": 0.0}])
    lines = text.splitlines()
    assert lines[0] == "| min_share | summary | 1 | cased |"
    assert lines[2] == "| 0.5 | 12.3 | 1.0 | 2.0 |"
    assert lines[3].startswith("| 0.0 |")
