"""bench/order_ensemble.py: scores averaged over label orders, and a cell read by its ensembles."""

from __future__ import annotations

import pytest

from tests.doubles.span import tiny_span_parts
from uniner.benchmark.devsuite import Cell
from uniner.data.types import Entity, Example
from uniner.students.span.decoding import Span
from uniner.students.span.extractor import SpanExtractor

LABELS = (*(f"type {i}" for i in range(5)), "person")


def test_orders_are_seeded_permutations_asked_then_reversed(bench_script) -> None:
    oe = bench_script("order_ensemble")
    assert oe.order(5, 0) == [0, 1, 2, 3, 4] and oe.order(5, 1) == [4, 3, 2, 1, 0]
    assert sorted(oe.order(5, 2)) == list(range(5)) and oe.order(5, 2) == oe.order(5, 2)


def test_average_counts_a_pair_missing_from_an_order_as_zero(bench_script) -> None:
    oe = bench_script("order_ensemble")
    first = [[Span(0, 1, "person", 0.8), Span(2, 3, "city", 0.4)]]
    second = [[Span(0, 1, "person", 0.6)]]
    got = {(s.start, s.end, s.label): s.score for s in oe.average([first, second])[0]}
    assert got == {(0, 1, "person"): pytest.approx(0.7), (2, 3, "city"): pytest.approx(0.2)}


def test_a_cell_scored_per_order_and_per_ensemble(bench_script, tmp_path) -> None:
    oe = bench_script("order_ensemble")
    model = SpanExtractor(*tiny_span_parts(tmp_path))
    model.fixed_threshold(0.0)
    ex = Example("Alice met Bob in Paris .", (Entity(0, 5, "Alice", "person"),))
    cell = Cell("toy", "all", "cased", (ex,), (LABELS,))
    f1 = oe.cell_scores(model, cell, 3, floor=0.0)
    assert list(f1) == ["order 1", "order 2", "order 3", "mean of 2", "mean of 3"]
    assert all(0.0 <= v <= 1.0 for v in f1.values())
