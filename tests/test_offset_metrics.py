"""Offset metrics: strict, partial (0.5 per word-overlapping pair), span-only, per type, macro."""

from __future__ import annotations

import json

import pytest

from uniner.data.types import Entity
from uniner.evaluation import (
    Counts,
    OffsetReport,
    aggregate,
    aggregate_reports,
    aggregate_to_dict,
    maximum_matching,
    score_offsets,
)


def ent(text: str, sub: str, label: str, occurrence: int = 0) -> Entity:
    """The ``occurrence``-th ``sub`` of ``text`` as an entity (keeps hand-made cases readable)."""
    start = -1
    for _ in range(occurrence + 1):
        start = text.index(sub, start + 1)
    return Entity(start, start + len(sub), sub, label)


TEXT = "Barack Obama visited New York City and met Angela Merkel in Berlin."


def test_strict_partial_span_only_by_hand() -> None:
    gold = [
        ent(TEXT, "Barack Obama", "person"),
        ent(TEXT, "New York City", "location"),
        ent(TEXT, "Angela Merkel", "person"),
        ent(TEXT, "Berlin", "location"),
    ]
    pred = [
        ent(TEXT, "Barack Obama", "person"),  # exact
        ent(TEXT, "New York", "location"),  # overlaps "New York City": partial
        ent(TEXT, "Angela Merkel", "location"),  # right span, wrong label
        ent(TEXT, "met", "person"),  # spurious
    ]
    rep = score_offsets([gold], [pred], [TEXT])
    # strict: 1 of 4 predicted, 1 of 4 gold.
    assert rep.strict == Counts(1, 4, 4)
    assert rep.strict.precision == 0.25 and rep.strict.recall == 0.25
    # partial: exact 1 + 0.5 for New York; the mislabelled Merkel does not count (label differs).
    assert rep.partial == Counts(1.5, 4, 4)
    assert rep.partial.f1 == pytest.approx(0.375)
    # span-only: Obama and Merkel spans match.
    assert rep.span_only == Counts(2, 4, 4)
    # per type.
    assert set(rep.per_type) == {"location", "person"}
    assert rep.per_type["person"].strict == Counts(1, 2, 2)
    assert rep.per_type["person"].partial == Counts(1, 2, 2)
    assert rep.per_type["location"].strict == Counts(0, 2, 2)
    assert rep.per_type["location"].partial == Counts(0.5, 2, 2)
    assert rep.n_examples == 1


def test_per_type_sums_to_totals() -> None:
    gold = [ent(TEXT, "Barack Obama", "person"), ent(TEXT, "Berlin", "location")]
    pred = [ent(TEXT, "Obama", "person"), ent(TEXT, "Berlin", "location"), ent(TEXT, "in", "x")]
    rep = score_offsets([gold], [pred], [TEXT])
    assert Counts.total([t.strict for t in rep.per_type.values()]) == rep.strict
    assert Counts.total([t.partial for t in rep.per_type.values()]) == rep.partial
    assert rep.per_type["x"].strict == Counts(0, 1, 0)


def test_partial_needs_a_shared_word_not_just_shared_punctuation() -> None:
    text = "the U.S. Army base"
    gold = [ent(text, "U.S.", "org")]
    pred = [Entity(7, 13, ". Army", "org")]  # shares only the "." with the gold span
    assert score_offsets([gold], [pred], [text]).partial == Counts(0, 1, 1)
    # Without texts, any character overlap counts.
    assert score_offsets([gold], [pred]).partial == Counts(0.5, 1, 1)
    # Adjacent spans never overlap.
    adjacent = [Entity(8, 13, " Army", "org")]
    assert score_offsets([gold], [adjacent], [text]).partial == Counts(0, 1, 1)
    assert score_offsets([gold], [adjacent]).partial == Counts(0, 1, 1)


def test_partial_inside_a_word_counts_as_sharing_it() -> None:
    # Character overlap containing a letter is a shared word even if neither span is whole.
    text = "Washington"
    rep = score_offsets([[Entity(0, 4, "Wash", "loc")]], [[Entity(2, 6, "shin", "loc")]], [text])
    assert rep.partial == Counts(0.5, 1, 1)


def test_partial_each_gold_once_exact_first_maximum_pairing() -> None:
    text = "New York City Hall"
    gold = [ent(text, "New York", "loc"), ent(text, "City Hall", "loc")]
    # Two predictions both overlapping "New York"; one also overlaps "City Hall".
    pred = [ent(text, "New", "loc"), ent(text, "York City", "loc")]
    rep = score_offsets([gold], [pred], [text])
    # Maximum pairing: New->New York, York City->City Hall: 2 * 0.5.
    assert rep.partial == Counts(1.0, 2, 2)
    # Same predictions in the other order: same score.
    assert score_offsets([gold], [pred[::-1]], [text]).partial == Counts(1.0, 2, 2)
    # An exact match takes its gold first: "New York" exact, "New" then has nothing left.
    rep2 = score_offsets([gold], [[ent(text, "New", "loc"), ent(text, "New York", "loc")]], [text])
    assert rep2.strict == Counts(1, 2, 2)
    assert rep2.partial == Counts(1, 2, 2)


def test_partial_requires_same_label() -> None:
    gold = [ent(TEXT, "New York City", "location")]
    pred = [ent(TEXT, "New York", "organization")]
    rep = score_offsets([gold], [pred], [TEXT])
    assert rep.partial == Counts(0, 1, 1)
    assert rep.span_only == Counts(0, 1, 1)


def test_duplicates_count_once_and_span_only_ignores_label() -> None:
    gold = [ent(TEXT, "Berlin", "location"), ent(TEXT, "Berlin", "location")]
    pred = [
        ent(TEXT, "Berlin", "location"),
        ent(TEXT, "Berlin", "location").with_score(0.3),  # score is not identity
        ent(TEXT, "Berlin", "city"),
    ]
    rep = score_offsets([gold], [pred], [TEXT])
    assert rep.strict == Counts(1, 2, 1)
    assert rep.span_only == Counts(1, 1, 1)


def test_repeated_mentions_are_distinct_spans() -> None:
    text = "Paris and Paris"
    gold = [ent(text, "Paris", "loc", 0), ent(text, "Paris", "loc", 1)]
    pred = [ent(text, "Paris", "loc", 1)]
    assert score_offsets([gold], [pred], [text]).strict == Counts(1, 1, 2)


def test_multiple_examples_are_micro_pooled() -> None:
    t1, t2 = "Alice runs", "Bob and Carol"
    golds = [[ent(t1, "Alice", "per")], [ent(t2, "Bob", "per"), ent(t2, "Carol", "per")]]
    preds = [[ent(t1, "Alice", "per")], [ent(t2, "Bob", "per"), ent(t2, "and", "per")]]
    rep = score_offsets(golds, preds, [t1, t2])
    assert rep.strict == Counts(2, 3, 3)
    assert rep.n_examples == 2
    one = score_offsets(golds[:1], preds[:1], [t1]) + score_offsets(golds[1:], preds[1:], [t2])
    assert one == rep


def test_empty_inputs_give_zero_without_errors() -> None:
    for rep in (score_offsets([], []), score_offsets([[]], [[]]), score_offsets([[]], [[]], [""])):
        for c in (rep.strict, rep.partial, rep.span_only):
            assert (c.precision, c.recall, c.f1) == (0.0, 0.0, 0.0)
        assert rep.per_type == {}
        assert rep.type_macro().f1 == 0.0
    only_gold = score_offsets([[ent(TEXT, "Berlin", "loc")]], [[]], [TEXT])
    assert only_gold.strict == Counts(0, 0, 1) and only_gold.strict.f1 == 0.0
    only_pred = score_offsets([[]], [[ent(TEXT, "Berlin", "loc")]], [TEXT])
    assert only_pred.strict == Counts(0, 1, 0) and only_pred.strict.f1 == 0.0


def test_mismatched_lengths_raise_clearly() -> None:
    with pytest.raises(ValueError, match="golds has 2 examples but preds has 1"):
        score_offsets([[], []], [[]])
    with pytest.raises(ValueError, match="texts has 1 entries but there are 2 examples"):
        score_offsets([[], []], [[], []], ["a"])
    with pytest.raises(TypeError):
        score_offsets([[]], [[]], "a")


def test_entities_must_point_at_their_text() -> None:
    with pytest.raises(ValueError, match="outside the text"):
        score_offsets([[Entity(0, 50, "x" * 50, "t")]], [[]], ["short"])
    with pytest.raises(ValueError, match="example 0 prediction"):
        score_offsets([[]], [[Entity(0, 3, "abc", "t")]], ["xyz"])


def test_type_macro_weighs_types_equally() -> None:
    text = "A B C D E"
    gold = [Entity(0, 1, "A", "big"), Entity(2, 3, "B", "big"), Entity(4, 5, "C", "big")]
    gold += [Entity(6, 7, "D", "rare")]
    pred = gold[:3]  # "big" perfect, "rare" missed
    rep = score_offsets([gold], [pred], [text])
    assert rep.strict.f1 == pytest.approx(2 * 1 * 0.75 / 1.75)
    assert rep.type_macro().f1 == pytest.approx(0.5)
    with pytest.raises(ValueError):
        rep.type_macro("span_only")  # type: ignore[arg-type]


def test_aggregate_micro_and_macro_over_datasets() -> None:
    reports = {
        "big": OffsetReport(strict=Counts(90, 100, 100), n_examples=10),
        "small": OffsetReport(strict=Counts(1, 10, 10), n_examples=1),
    }
    agg = aggregate_reports(reports)
    assert agg["strict"].micro == Counts(91, 110, 110)
    assert agg["strict"].micro.f1 == pytest.approx(91 / 110)
    assert agg["strict"].macro.f1 == pytest.approx((0.9 + 0.1) / 2)
    assert agg["partial"].macro.f1 == 0.0
    d = aggregate_to_dict(reports)
    json.dumps(d)  # JSON-serialisable
    assert d["strict"]["macro"]["f1"] == pytest.approx(0.5)
    assert set(d["datasets"]) == {"big", "small"}


def test_aggregate_empty() -> None:
    agg = aggregate({})
    assert agg.micro == Counts() and agg.macro.f1 == 0.0
    assert aggregate_reports({})["strict"].macro.f1 == 0.0


def test_to_dict_is_json_ready() -> None:
    gold = [ent(TEXT, "Berlin", "location")]
    rep = score_offsets([gold], [gold], [TEXT])
    d = json.loads(json.dumps(rep.to_dict()))
    assert d["strict"]["f1"] == 1.0
    assert d["per_type"]["location"]["partial"]["correct"] == 1.0
    assert d["n_examples"] == 1


def test_counts_addition_and_validation() -> None:
    assert Counts(1, 2, 3) + Counts(0.5, 1, 1) == Counts(1.5, 3, 4)
    assert sum([Counts(1, 1, 1), Counts(0, 1, 0)]) == Counts(1, 2, 1)
    with pytest.raises(ValueError):
        Counts(3, 2, 5)
    with pytest.raises(ValueError):
        Counts(-1, 0, 0)


@pytest.mark.parametrize(
    ("edges", "expected"),
    [
        ([[0, 1], [0]], 2),  # greedy on the first choice would give 1
        ([[0], [0], [0]], 1),
        ([[], []], 0),
        ([[0, 1, 2], [0], [1]], 3),
    ],
)
def test_maximum_matching(edges: list[list[int]], expected: int) -> None:
    n_right = 1 + max((j for row in edges for j in row), default=-1)
    assert maximum_matching(len(edges), n_right, lambda i, j: j in edges[i]) == expected


def test_maximum_matching_long_chain_no_recursion_limit() -> None:
    # Left i < n-1 takes right i first; the last left links only right 0, which forces one
    # augmenting path through every earlier pair (deeper than Python's recursion limit).
    n = 1500

    def linked(i: int, j: int) -> bool:
        return j == 0 if i == n - 1 else j in (i, i + 1)

    assert maximum_matching(n, n, linked) == n
