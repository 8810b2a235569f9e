"""bench/label_order.py: a many-type call read with its types in several orders."""

from __future__ import annotations

from tests.doubles.span import tiny_span_parts
from uniner.benchmark.devsuite import Cell
from uniner.data.types import Entity, Example
from uniner.students.span.extractor import SpanExtractor

TEXT = "Alice met Bob in Paris ."
LABELS = (*(f"type {i}" for i in range(6)), "person")


def test_orders_are_permutations_asked_first(bench_script) -> None:
    lo = bench_script("label_order")
    got = lo.orders(7, 5)
    assert list(got)[:2] == ["asked", "reversed"] and len(got) == 5
    assert got["asked"] == list(range(7)) and got["reversed"] == list(range(7))[::-1]
    assert all(sorted(idx) == list(range(7)) for idx in got.values())
    assert got == lo.orders(7, 5)  # seeded
    assert list(lo.orders(7, 1)) == ["asked"]


def test_greedy_packing_is_the_old_planner_and_is_undone(bench_script, tmp_path) -> None:
    lo = bench_script("label_order")
    model = SpanExtractor(*tiny_span_parts(tmp_path))
    model.config.max_labels_per_pass = 6
    assert [len(g) for g in model.label_groups(LABELS)] == [4, 3]
    with lo.packing("greedy"):
        assert [len(g) for g in model.label_groups(LABELS)] == [6, 1]
    assert [len(g) for g in model.label_groups(LABELS)] == [4, 3]


def test_scores_per_order_and_table(bench_script, tmp_path) -> None:
    lo = bench_script("label_order")
    model = SpanExtractor(*tiny_span_parts(tmp_path))
    model.fixed_threshold(0.0)
    ex = Example(TEXT, (Entity(0, 5, "Alice", "person"),))
    cell = Cell("toy", "all", "cased", (ex,), (LABELS,))
    f1 = lo.order_scores(model, cell, 3, with_sorted=True)
    assert list(f1) == ["asked", "reversed", "shuffle 1", "sorted"]
    assert all(0.0 <= v <= 1.0 for v in f1.values())
    row = dict(set="toy", types=7, per_pass=6, packing="even", passes=2, f1=f1)
    md = lo.table([row])
    assert md.splitlines()[0].startswith("| set | types | per pass | packing | passes | asked |")
    assert md.splitlines()[-1].startswith("| toy | 7 | 6 | even | 2 |")


def test_sorted_order_and_index_orders(bench_script) -> None:
    lo = bench_script("label_order")
    labs = ("person", "City", "award")
    assert lo.reorder(labs, "sorted", []) == ("award", "City", "person")
    assert lo.reorder(labs, "reversed", [4, 3, 2, 1, 0]) == ("award", "City", "person")
    assert lo.reorder(labs, "asked", [0, 1, 2, 3]) == labs  # indices past the call skipped
