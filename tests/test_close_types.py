"""bench/close_types.py: each gold mention of a type family sorted by what came back on its span."""

from __future__ import annotations

import pytest

from uniner.data.types import Entity, Example

FAMILY = ("person", "writer", "politician")


def _e(start: int, end: int, label: str, text: str = "x") -> Entity:
    return Entity(start, end, text, label)


def test_outcome_sorts_right_general_sibling_specific_missed(bench_script) -> None:
    ct = bench_script("close_types")
    writer = _e(0, 5, "writer")
    assert ct.outcome(writer, [_e(0, 5, "writer")], FAMILY) == "right"
    assert ct.outcome(writer, [_e(0, 5, "person")], FAMILY) == "general"
    assert ct.outcome(writer, [_e(0, 5, "politician")], FAMILY) == "sibling"
    assert ct.outcome(writer, [_e(0, 4, "writer")], FAMILY) == "missed"  # boundary off
    assert ct.outcome(writer, [], FAMILY) == "missed"
    person = _e(0, 5, "person")
    assert ct.outcome(person, [_e(0, 5, "writer")], FAMILY) == "specific"
    assert ct.outcome(person, [_e(0, 5, "person")], FAMILY) == "right"


def test_tally_counts_only_the_family_asked_and_the_table_gives_shares(bench_script) -> None:
    ct = bench_script("close_types")
    fams = ct.families({"writer": "person", "politician": "person", "city": "location"})
    assert fams == {"person": FAMILY, "location": ("location", "city")}
    ex = Example(
        "Obama met King in Paris.",
        (
            _e(0, 5, "politician", "Obama"),
            _e(10, 14, "writer", "King"),
            _e(18, 23, "city", "Paris"),
        ),
    )
    calls = ct.plan_calls([ex, Example("nothing here")], fams, limit=10, seed=0)
    assert sorted(fam[0] for _, fam in calls) == ["location", "person"]  # none for the empty one
    preds = {
        "person": [_e(0, 5, "politician"), _e(10, 14, "politician")],
        "location": [],
    }
    counts = ct.tally(calls, [preds[fam[0]] for _, fam in calls])
    assert counts["politician"] == {"right": 1}
    assert counts["writer"] == {"sibling": 1}
    assert counts["city"] == {"missed": 1}
    md = ct.table(counts, fams)
    assert "| writer | 1 | 0.0 | 0.0 | 100.0 | 0.0 | 0.0 |" in md
    assert "| **person family** | 2 | 50.0 | 0.0 | 50.0 | 0.0 | 0.0 |" in md
    assert len(ct.plan_calls([ex] * 5, fams, limit=3, seed=1)) == 3


def test_types_read_apart_one_per_pass(bench_script, tmp_path) -> None:
    from tests.doubles.span import tiny_span_parts
    from uniner.students.span.extractor import SpanExtractor

    ct = bench_script("close_types")
    model = SpanExtractor(*tiny_span_parts(tmp_path))
    assert model.label_groups(["person", "writer", "city"]) == [("person", "writer", "city")]
    ct.read_types_apart(model, 1)
    assert model.label_groups(["person", "writer", "city"]) == [("person",), ("writer",), ("city",)]
    ct.read_types_apart(model, 2)
    assert model.label_groups(["person", "writer", "city"]) == [("person", "writer"), ("city",)]
    with pytest.raises(ValueError, match="labels-per-pass"):
        ct.read_types_apart(model, 0)
