"""bench/hierarchy_decoding.py: an asked subtype answered instead of its parent."""

from __future__ import annotations

from tests.doubles.span import tiny_span_parts
from uniner.data.hierarchy import Edge, TypeHierarchy
from uniner.students.span.decoding import Span
from uniner.students.span.extractor import SpanExtractor

HIER = TypeHierarchy((Edge("person", "artist"), Edge("artist", "singer")))
TEXT = "Alice met Bob in Paris ."


def test_the_best_descendant_takes_the_parents_score(bench_script) -> None:
    bench_script("select_decoding_dev")
    hd = bench_script("hierarchy_decoding")
    spans = [
        Span(0, 1, "person", 0.9),
        Span(0, 1, "singer", 0.3),  # a grandchild counts
        Span(0, 1, "artist", 0.2),
        Span(0, 1, "city", 0.5),  # not a kind of person: never picked
        Span(3, 4, "city", 0.8),  # another span, no descendants asked: unchanged
    ]
    got = sorted(hd.prefer_descendants(spans, HIER, min_score=0.1))
    assert got == sorted(
        [Span(0, 1, "singer", 0.9), Span(0, 1, "artist", 0.2), Span(0, 1, "city", 0.5),
         Span(3, 4, "city", 0.8)]
    )  # fmt: skip


def test_descendants_below_the_floor_or_the_ratio_leave_the_span_as_it_is(bench_script) -> None:
    bench_script("select_decoding_dev")
    hd = bench_script("hierarchy_decoding")
    spans = [Span(0, 1, "person", 0.9), Span(0, 1, "artist", 0.3)]
    assert hd.prefer_descendants(spans, HIER, min_score=0.4) == spans
    assert hd.prefer_descendants(spans, HIER, min_score=0.0, ratio=0.5) == spans
    assert hd.prefer_descendants(spans, HIER, min_score=0.0, ratio=0.25)[0].label == "artist"
    # a best type that is itself the descendant stays
    child_best = [Span(0, 1, "artist", 0.9), Span(0, 1, "person", 0.8)]
    assert hd.prefer_descendants(child_best, HIER, min_score=0.0) == child_best


def test_the_probe_without_a_rule_answers_as_the_model(bench_script, tmp_path) -> None:
    bench_script("select_decoding_dev")  # imported by name, as when run from bench/
    hd = bench_script("hierarchy_decoding")
    model = SpanExtractor(*tiny_span_parts(tmp_path))
    model.fixed_threshold(0.0)  # a random-init model scores about 0.02: answer everything
    labels = ["person", "artist", "city"]
    probe = hd.RuleProbe(model, HIER, floor=0.0)
    want = model.extract_each([TEXT], [labels])[0].entities
    assert tuple(probe.extract_each([TEXT], [labels])[0].entities) == want
    people = {(e.start, e.end) for e in want if e.label == "person"}
    assert people  # the seeded tiny model answers "Alice met" as a person
    probe.rule = (0.0, 0.0)  # every person span, whose artist scores above 0, turns artist
    ruled = probe.extract_each([TEXT], [labels])[0].entities
    assert {(e.start, e.end) for e in ruled if e.label == "artist"} >= people
    assert not any(e.label == "person" for e in ruled)
