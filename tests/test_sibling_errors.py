"""bench/sibling_errors.py: rows for answers on a gold span with another type."""

from __future__ import annotations

from tests.doubles.span import tiny_span_parts
from uniner.benchmark.devsuite import Cell
from uniner.data.types import Entity, Example
from uniner.students.span.extractor import SpanExtractor

LABELS = ("person", "city", "artist")
TEXT = "Alice met Bob in Paris ."


def test_an_answer_with_another_type_than_the_gold_one_is_a_row(bench_script, tmp_path) -> None:
    se = bench_script("sibling_errors")
    model = SpanExtractor(*tiny_span_parts(tmp_path))
    model.fixed_threshold(0.0)  # a random-init model: every word answered with some type
    first = model.extract(TEXT, list(LABELS))[0]
    other = next(lab for lab in LABELS if lab != first.label)
    gold = Entity(first.start, first.end, first.text, other)  # that span, another type
    cell = Cell("toy", "all", "cased", (Example(TEXT, (gold,)),), (LABELS,))
    rows = se.wrong_type_rows(model, cell, floor=0.0)
    assert len(rows) == 1
    row = rows[0]
    assert (row["text"], row["gold"], row["answer"]) == (first.text, other, first.label)
    assert row["answer_score"] >= row["gold_score"] and row["gold_rank"] in (2, 3)
    close = dict(row, gold_rank=2, gold_score=0.5, threshold=0.4)
    md = se.summary([close, dict(close, gold_rank=None, gold_score=0.0)])
    assert md.splitlines()[0] == (
        "2 answers on a gold mention with another type. Gold type ranked 2nd: 1, 3rd: 0, "
        "lower: 1; gold score at or above the call's threshold: 1; below 0.1: 1."
    )
    assert f"| {other} | {first.label} | 2 |" in md
