"""bench/shape_scores.py: a gold mention's score asked alone and among all of a cell's types."""

from __future__ import annotations

from pathlib import Path
from types import SimpleNamespace

from uniner.data.types import Entity, Example

TEXT = "Ada met Bob in Rome"
GOLD = (Entity(0, 3, "Ada", "person"), Entity(15, 19, "Rome", "city"))


class CrowdShy:
    """Scores each gold span 0.9 under its type when asked alone, 0.6 among more types; a
    span of another type is never returned."""

    def threshold_for(self, n_types: int) -> float:
        return 0.85 if n_types == 1 else 0.7

    def extract_each(self, texts, label_lists, **kw):  # type: ignore[no-untyped-def]
        assert kw["multi_label"] and kw["mode"] == "all"
        out = []
        for _text, labels in zip(texts, label_lists, strict=True):
            score = 0.9 if len(labels) == 1 else 0.6
            ents = [
                Entity(g.start, g.end, g.text, g.label, score=score)
                for g in GOLD
                if g.label in labels
            ]
            out.append(SimpleNamespace(entities=ents))
        return out


def test_rows_show_the_fall_and_the_recall_each_shape_can_reach(
    bench_script, monkeypatch, tmp_path: Path
) -> None:
    shapes = bench_script("shape_scores")
    cell = SimpleNamespace(
        examples=[Example(TEXT, GOLD)], asked=[("person", "city", "date", "film")]
    )
    monkeypatch.setattr(shapes, "load", lambda name: CrowdShy())
    monkeypatch.setattr(shapes, "load_dev_set", lambda name, spec: name)
    monkeypatch.setattr(shapes, "build_cells", lambda ds, spec: [cell])
    pairs = shapes.gold_scores(CrowdShy(), "toy")
    assert pairs == [(0.9, 0.6, 4), (0.9, 0.6, 4)]
    shapes.main(["--models", "m", "--sets", "toy", "--out", str(tmp_path)])
    rows = (tmp_path / "table.md").read_text().splitlines()
    assert rows[2] == "| m | toy | 2 | 0.90 | 0.60 | 0.30 | 100% (0.85) | 0% (0.70) |"
