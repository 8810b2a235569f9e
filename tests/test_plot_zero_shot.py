"""``bench/plot_zero_shot.py`` reads both result forms it is given and refuses incomplete ones."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from uniner.benchmark import paper


def test_both_forms_give_the_same_columns_and_gaps_are_refused(
    tmp_path: Path, bench_script
) -> None:
    mod = bench_script("plot_zero_shot")
    f1 = {d: 10.0 + i for i, d in enumerate(paper.ZERO_SHOT_DATASETS.values())}
    bench = {"results": [{"dataset": d, "official": {"f1": v / 100}} for d, v in f1.items()]}
    peer = {"per_set": {d: {"official": v, "strict": v} for d, v in f1.items()}}
    (tmp_path / "b.json").write_text(json.dumps(bench))
    (tmp_path / "p.json").write_text(json.dumps(peer))
    a = mod.official_by_column(tmp_path / "b.json")
    b = mod.official_by_column(tmp_path / "p.json")
    assert list(a) == list(paper.ZERO_SHOT_COLUMNS)
    assert a == pytest.approx(b)
    assert a["Movie"] == pytest.approx(10.0) and a["Science"] == pytest.approx(16.0)
    del peer["per_set"]["CrossNER_music"]
    (tmp_path / "p.json").write_text(json.dumps(peer))
    with pytest.raises(ValueError, match="no scores for Music"):
        mod.official_by_column(tmp_path / "p.json")
    (tmp_path / "x.json").write_text("{}")
    with pytest.raises(ValueError, match="neither"):
        mod.official_by_column(tmp_path / "x.json")
