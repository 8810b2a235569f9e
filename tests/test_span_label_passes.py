"""Label passes of a joint span model: as few as fit, of even sizes, and as many labels per
pass as the model was trained on (a label read alone scores as in a one-type call)."""

from __future__ import annotations

import pytest

from tests.doubles.span import tiny_span_parts
from uniner.students.span.config import DataConfig, RunConfig, SpanModelConfig
from uniner.students.span.extractor import SpanExtractor

LABELS = [f"type {i}" for i in range(40)]


@pytest.fixture()
def model(tmp_path) -> SpanExtractor:
    return SpanExtractor(*tiny_span_parts(tmp_path))


@pytest.mark.parametrize(
    ("n_labels", "per_pass", "sizes"),
    [(5, 4, [3, 2]), (10, 4, [4, 3, 3]), (33, 32, [17, 16]), (8, 4, [4, 4]), (3, 4, [3])],
)
def test_passes_are_as_few_as_fit_and_even(model, n_labels, per_pass, sizes) -> None:
    model.config.max_labels_per_pass = per_pass
    groups = model.label_groups(LABELS[:n_labels])
    assert [len(g) for g in groups] == sizes
    assert [lab for g in groups for lab in g] == LABELS[:n_labels]  # order kept, none lost


def test_pass_sizes_differ_by_at_most_one(model) -> None:
    for per_pass in range(1, 9):
        model.config.max_labels_per_pass = per_pass
        for n in range(1, 20):
            sizes = [len(g) for g in model.label_groups(LABELS[:n])]
            assert len(sizes) == -(-n // per_pass), (per_pass, n)
            assert max(sizes) - min(sizes) <= 1, (per_pass, n, sizes)


def test_even_passes_keep_the_prefix_budget(model) -> None:
    model.config.max_prefix_tokens = 40
    groups = model.label_groups(LABELS)
    assert len(groups) > 1
    assert all(model.featurizer.prefix_length(g) <= 40 for g in groups)


def test_a_call_reports_its_even_passes(model) -> None:
    model.config.max_labels_per_pass = 4
    res = model.extract_detailed(["Alice met Bob in Paris ."], LABELS[:5], threshold=0.0)[0]
    assert res.label_passes == 2


def test_a_run_reads_as_many_labels_per_pass_as_it_trains_on() -> None:
    cfg = RunConfig(data=DataConfig(max_labels=33))
    assert cfg.model.max_labels_per_pass == 33
    assert RunConfig(data=DataConfig(max_labels=12)).model.max_labels_per_pass == 32
    assert (
        RunConfig.from_dict(
            {"data": {"max_labels": 40}, "train": {"max_steps": 1}}
        ).model.max_labels_per_pass
        == 40
    )


def test_labels_per_pass_must_be_positive() -> None:
    with pytest.raises(ValueError, match="max_labels_per_pass"):
        SpanModelConfig(max_labels_per_pass=0)


def _answers(model: SpanExtractor, labels: list[str]) -> list[tuple[int, int, str, float]]:
    res = model.extract_detailed(["Alice met Bob in Paris ."], labels, threshold=0.0)[0]
    return sorted((e.start, e.end, e.label, round(e.score or 0.0, 6)) for e in res.entities)


def test_sorted_label_order_gives_the_same_answer_in_any_order(model) -> None:
    model.config.label_order = "sorted"
    labels = ["city", "Person", "organization", "date", "person"]
    first = _answers(model, labels)
    assert first and _answers(model, labels[::-1]) == first
    assert _answers(model, labels[2:] + labels[:2]) == first
    assert model.planner.reading_order(tuple(labels)) == (
        "city",
        "date",
        "organization",
        "Person",
        "person",
    )


def test_asked_label_order_reads_types_as_listed(model) -> None:
    assert model.config.label_order == "asked"
    assert model.planner.reading_order(("city", "person")) == ("city", "person")
    assert model.planner.reading_order(("person", "city")) == ("person", "city")
    with pytest.raises(ValueError, match="label_order"):
        SpanModelConfig(label_order="random")


def test_candidates_hold_every_pair_above_the_floor_once_and_decode_like_a_call(model) -> None:
    from uniner.students.span.entities import decode_all

    texts = ["Alice met Bob in Paris .", "Carol flew to Rome ."]
    lists = [LABELS[:3], LABELS[:5]]
    plan, found = model.candidates(texts, lists, floor=0.0)
    assert plan.thresholds == [model.decoding.raw_threshold(len(labs)) for labs in lists]
    for cands, labs in zip(found, lists, strict=True):
        keys = [(s.start, s.end, s.label) for s in cands]
        assert len(keys) == len(set(keys))  # one per (span, type)
        assert {s.label for s in cands} == set(labs)  # floor 0: every asked type scored
    decoded = decode_all(texts, plan, found, model.call_decoding())
    assert [r.entities for r in decoded] == [r.entities for r in model.extract_each(texts, lists)]
