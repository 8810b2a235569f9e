"""Span decoding on hand-made score matrices: threshold, flat, nested, multi-label."""

from __future__ import annotations

import numpy as np
import pytest

from uniner.students.span.decoding import (
    Span,
    decode,
    decode_scores,
    merge_duplicates,
    spans_from_scores,
)

LABELS = ["person", "org"]


def scores(n_words: int, width: int, entries: dict[tuple[int, int, int], float]) -> np.ndarray:
    """``entries[(start, end_exclusive, label)] = p``; everything else 0.01."""
    arr = np.full((n_words, width, len(LABELS)), 0.01, dtype=np.float32)
    for (s, e, lab), p in entries.items():
        arr[s, e - s - 1, lab] = p
    return arr


def keys(spans: list[Span]) -> list[tuple[int, int, str]]:
    return [(s.start, s.end, s.label) for s in spans]


def test_threshold_and_invalid_spans() -> None:
    arr = scores(4, 3, {(0, 1, 0): 0.9, (1, 3, 1): 0.5, (2, 3, 0): 0.49})
    arr[3, 2, 0] = 0.99  # words 3..5 do not exist in a 4-word text
    got = spans_from_scores(arr, LABELS, threshold=0.5)
    assert sorted(keys(got)) == [(0, 1, "person"), (1, 3, "org")]
    assert all(isinstance(s.score, float) for s in got)
    # num_words shorter than the array (padding): spans past it are dropped
    assert keys(spans_from_scores(arr, LABELS, 0.5, num_words=2)) == [(0, 1, "person")]
    assert keys(spans_from_scores(arr, LABELS, 0.5, offset=10))[0] == (10, 11, "person")


def test_shape_errors() -> None:
    with pytest.raises(ValueError, match="shape"):
        spans_from_scores(np.zeros((3, 2)), LABELS, 0.5)
    with pytest.raises(ValueError, match="labels"):
        spans_from_scores(np.zeros((3, 2, 3)), LABELS, 0.5)
    with pytest.raises(ValueError, match="mode"):
        decode([], mode="overlapping")  # type: ignore[arg-type]


def test_flat_keeps_highest_and_drops_any_overlap() -> None:
    # "New York City Council": [0,3) org 0.9, [0,2) person 0.8 overlaps, [3,4) org 0.7 is disjoint
    arr = scores(5, 4, {(0, 3, 1): 0.9, (0, 2, 0): 0.8, (2, 4, 0): 0.85, (3, 4, 1): 0.7})
    got = decode_scores(arr, LABELS, 0.5, mode="flat")
    assert keys(got) == [(0, 3, "org"), (3, 4, "org")]


def test_flat_one_label_per_span_unless_multi_label() -> None:
    arr = scores(3, 2, {(0, 2, 0): 0.9, (0, 2, 1): 0.6, (1, 2, 1): 0.95})
    # (1,2) org wins first, then (0,2) overlaps it partially -> dropped in flat mode
    assert keys(decode_scores(arr, LABELS, 0.5, mode="flat")) == [(1, 2, "org")]
    arr = scores(3, 2, {(0, 2, 0): 0.9, (0, 2, 1): 0.6})
    assert keys(decode_scores(arr, LABELS, 0.5, mode="flat")) == [(0, 2, "person")]
    got = decode_scores(arr, LABELS, 0.5, mode="flat", multi_label=True)
    assert keys(got) == [(0, 2, "org"), (0, 2, "person")]


def test_nested_allows_containment_but_not_crossing() -> None:
    # [0,4) org contains [0,1) person and [2,4) org; [1,3) crosses both and is dropped
    arr = scores(
        5, 4, {(0, 4, 1): 0.95, (0, 1, 0): 0.9, (2, 4, 1): 0.88, (1, 3, 0): 0.85, (4, 5, 0): 0.6}
    )
    got = decode_scores(arr, LABELS, 0.5, mode="nested")
    assert keys(got) == [(0, 1, "person"), (0, 4, "org"), (2, 4, "org"), (4, 5, "person")]
    flat = decode_scores(arr, LABELS, 0.5, mode="flat")
    assert keys(flat) == [(0, 4, "org"), (4, 5, "person")]


def test_nested_multi_label_same_span() -> None:
    arr = scores(3, 3, {(0, 3, 1): 0.9, (0, 3, 0): 0.7, (1, 2, 0): 0.6})
    assert keys(decode_scores(arr, LABELS, 0.5, mode="nested")) == [(0, 3, "org"), (1, 2, "person")]
    got = decode_scores(arr, LABELS, 0.5, mode="nested", multi_label=True)
    assert keys(got) == [(0, 3, "org"), (0, 3, "person"), (1, 2, "person")]


def test_all_mode_keeps_overlaps() -> None:
    arr = scores(4, 3, {(0, 2, 0): 0.9, (1, 3, 1): 0.8, (1, 3, 0): 0.7})
    assert keys(decode_scores(arr, LABELS, 0.5, mode="all")) == [(0, 2, "person"), (1, 3, "org")]
    got = decode_scores(arr, LABELS, 0.5, mode="all", multi_label=True)
    assert len(got) == 3


def test_duplicates_keep_max_and_order_does_not_matter() -> None:
    spans = [Span(0, 2, "person", 0.6), Span(0, 2, "person", 0.9), Span(1, 3, "org", 0.8)]
    merged = merge_duplicates(spans)
    assert sorted(merged) == [Span(0, 2, "person", 0.9), Span(1, 3, "org", 0.8)]
    assert decode(spans) == decode(list(reversed(spans))) == [Span(0, 2, "person", 0.9)]


def test_ties_are_deterministic() -> None:
    a = [Span(0, 2, "org", 0.5), Span(1, 3, "person", 0.5)]
    assert decode(a) == decode(a[::-1]) == [Span(0, 2, "org", 0.5)]


def test_threshold_zero_and_one() -> None:
    arr = scores(2, 2, {(0, 1, 0): 1.0})
    assert keys(decode_scores(arr, LABELS, 1.0)) == [(0, 1, "person")]
    assert len(decode_scores(arr, LABELS, 0.0, mode="all", multi_label=True)) == 3 * 2


@pytest.mark.parametrize("mode", ["flat", "nested"])
@pytest.mark.parametrize("multi_label", [False, True])
def test_decoding_low_then_filtering_equals_decoding_high(mode, multi_label) -> None:
    """Greedy decoding keeps or drops a span by higher-scoring spans only, so one pass at a low
    threshold, filtered, gives every higher threshold (``bench/single_type_queries.py``)."""
    rng = np.random.default_rng(7)
    for _ in range(20):
        arr = rng.random((9, 4, len(LABELS))).astype(np.float32) ** 3
        low = decode_scores(arr, LABELS, 0.05, mode, multi_label)
        for high in (0.2, 0.4, 0.6):
            got = [s for s in low if s.score >= high]
            assert keys(got) == keys(decode_scores(arr, LABELS, high, mode, multi_label))
