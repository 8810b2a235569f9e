"""A confident generic-type mention also gets the specific asked type the model sees in it
(``prefer_specific``): the pure rule on hand-made spans, the extractor, and a release's config."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from conftest import require
from tests.doubles.span import FirstWordScorer, tiny_span_parts
from uniner.students.span.decoding import Span, decode, prefer_specific
from uniner.students.span.extractor import SpanExtractor
from uniner.students.span.release import release

os.environ.setdefault("HF_HUB_OFFLINE", "1")

SPANS = [
    Span(0, 2, "person", 0.95),
    Span(0, 2, "writer", 0.20),
    Span(0, 2, "city", 0.06),
    Span(3, 4, "person", 0.90),  # no other label on this span: unchanged
    Span(5, 6, "person", 0.40),  # not confident: unchanged
    Span(5, 6, "writer", 0.30),
    Span(7, 8, "book", 0.8),
]


def by_key(spans):
    return {(s.start, s.end, s.label): round(s.score, 2) for s in spans}


def test_the_best_specific_label_is_lifted_and_the_generic_one_kept_or_dropped() -> None:
    kept = by_key(prefer_specific(SPANS, {"person"}, threshold=0.6, min_score=0.05))
    assert kept[(0, 2, "writer")] == 0.95  # lifted to the span's confidence
    assert kept[(0, 2, "person")] == 0.95 and kept[(0, 2, "city")] == 0.06  # others untouched
    assert kept[(3, 4, "person")] == 0.90 and kept[(5, 6, "writer")] == 0.30
    dropped = by_key(prefer_specific(SPANS, {"person"}, 0.6, 0.05, keep_generic=False))
    assert (0, 2, "person") not in dropped and dropped[(0, 2, "writer")] == 0.95
    assert (3, 4, "person") in dropped and (5, 6, "person") in dropped
    # after thresholding and flat single-label decoding the specific type wins the span
    final = decode([s for s in prefer_specific(SPANS, {"person"}, 0.6, 0.05) if s.score >= 0.6])
    assert [(s.start, s.label) for s in final] == [(0, "person"), (3, "person"), (7, "book")]
    final = decode(
        [s for s in prefer_specific(SPANS, {"person"}, 0.6, 0.05, False) if s.score >= 0.6]
    )
    assert [(s.start, s.label) for s in final] == [(0, "writer"), (3, "person"), (7, "book")]


def test_broad_labels_are_never_the_specific_type() -> None:
    spans = [Span(0, 2, "person", 0.9), Span(0, 2, "location", 0.3), Span(0, 2, "writer", 0.1)]
    kept = by_key(prefer_specific(spans, {"person"}, 0.6, 0.05, broad={"location"}))
    assert kept == {(0, 2, "person"): 0.9, (0, 2, "location"): 0.3, (0, 2, "writer"): 0.9}
    only_broad = by_key(prefer_specific(spans[:2], {"person"}, 0.6, 0.05, broad={"location"}))
    assert only_broad == by_key(spans[:2])  # a person / location call is left as it is


def test_min_score_gates_and_duplicates_from_windows_merge() -> None:
    assert by_key(prefer_specific(SPANS, {"person"}, 0.6, 0.25)) == by_key(SPANS)
    twice = [*SPANS, Span(0, 2, "writer", 0.3)]  # the same span read in an overlapping window
    assert by_key(prefer_specific(twice, {"person"}, 0.6, 0.25))[(0, 2, "writer")] == 0.95
    assert by_key(prefer_specific(SPANS, set(), 0.6, 0.05)) == by_key(SPANS)
    with pytest.raises(ValueError, match="min_score"):
        prefer_specific(SPANS, {"person"}, 0.6, 0.7)


SCORES = {"person": 0.9, "writer": 0.1, "city": 0.01, "location": 0.3}


class Oracle(FirstWordScorer):
    """Scores the first word by label name (SCORES), nothing else."""

    def first_word_score(self, label: str) -> float:
        return SCORES.get(label.lower(), 0.0)


@pytest.fixture(scope="module")
def parts(tmp_path_factory: pytest.TempPathFactory):
    return tiny_span_parts(tmp_path_factory.mktemp("bb-specific"))


def found(ext, labels, **kw):
    return sorted((e.label, round(e.score, 2)) for e in ext.extract("Ada wrote .", labels, **kw))


def test_extractor_applies_the_rule_to_asked_generic_labels(parts) -> None:
    ext = Oracle(*parts, threshold=0.6, multi_label=True, generic_labels=("Person",))
    assert found(ext, ["person", "writer", "city"]) == [("person", 0.9), ("writer", 0.9)]
    assert found(ext, ["person", "writer"], multi_label=False) == [("writer", 0.9)]
    # generic labels match whatever the case ("Person" in the config, "PERSON" asked)
    assert found(ext, ["PERSON", "writer"]) == [("PERSON", 0.9), ("writer", 0.9)]
    assert found(ext, ["person"]) == [("person", 0.9)]  # nothing more specific was asked
    assert found(ext, ["person", "city"]) == [("person", 0.9)]  # city 0.01 < 0.05
    assert found(ext, ["writer", "city"]) == []  # no generic label asked
    assert found(ext, ["person", "location"]) == [("location", 0.9), ("person", 0.9)]
    ext.broad_labels = ("Location",)
    assert found(ext, ["person", "location"]) == [("person", 0.9)]
    off = Oracle(*parts, threshold=0.6, multi_label=True)
    assert found(off, ["person", "writer"]) == [("person", 0.9)]
    stricter = Oracle(*parts, threshold=0.6, multi_label=True, generic_labels=("person",))
    stricter.specific_min_score = 0.2
    assert found(stricter, ["person", "writer"]) == [("person", 0.9)]
    # only calls asking at least specific_min_types types
    ext.specific_min_types = 3
    assert found(ext, ["person", "writer"]) == [("person", 0.9)]
    assert found(ext, ["person", "writer", "city"]) == [("person", 0.9), ("writer", 0.9)]
    ext.specific_min_types = 2
    # a caller's threshold below the floor lowers the floor with it
    assert found(ext, ["person", "writer"], threshold=0.08) == [("person", 0.9), ("writer", 0.9)]


def test_release_writes_and_load_reads_it(parts, tmp_path: Path) -> None:
    model, tok = parts
    src = SpanExtractor(model, tok).save(tmp_path / "trained", storage="full")
    dest = release(
        src, tmp_path / "rel", "m", "0.1.3", 0.6, True, generic_labels=["person"],
        broad_labels=["location"],
    )  # fmt: skip
    cfg = json.loads((dest / "config.json").read_text(encoding="utf-8"))
    rule = {"generic": ["person"], "min_score": 0.05, "broad": ["location"], "min_types": 2}
    assert cfg["prefer_specific"] == rule
    ext = SpanExtractor.load(dest)
    assert ext.generic_labels == ("person",) and ext.specific_min_score == 0.05
    assert ext.broad_labels == ("location",)
    five = release(src, tmp_path / "five", "m", "1", 0.6, generic_labels=["person"],
                   specific_min_types=5)  # fmt: skip
    assert SpanExtractor.load(five).specific_min_types == 5
    with pytest.raises(ValueError, match="specific_min_types"):
        release(src, tmp_path / "bad", "m", "1", 0.6, generic_labels=["p"], specific_min_types=1)
    with pytest.raises(ValueError, match="only act with generic"):
        release(src, tmp_path / "bad", "m", "1", 0.6, broad_labels=["location"])
    plain = SpanExtractor.load(release(dest, tmp_path / "plain", "m", "0.2.0", 0.5))
    assert plain.generic_labels == ()  # a later release without the rule removes it
    with pytest.raises(ValueError, match="above the threshold"):
        release(src, tmp_path / "bad", "m", "1", 0.3, generic_labels=["person"],
                specific_min_score=0.4)  # fmt: skip
    cfg["prefer_specific"] = ["person"]
    (dest / "config.json").write_text(json.dumps(cfg), encoding="utf-8")
    with pytest.raises(ValueError, match=r"config.json: prefer_specific must be"):
        SpanExtractor.load(dest)


def test_http_api_applies_and_reports_it(parts) -> None:
    require("fastapi", "serve")
    from fastapi.testclient import TestClient

    from uniner.serving.app import create_app

    ext = Oracle(*parts, threshold=0.6, multi_label=True, generic_labels=("person",))
    with TestClient(create_app(ext)) as client:
        info = client.get("/v1/models").json()["models"][0]
        rule = {"generic": ["person"], "min_score": 0.05, "broad": [], "min_types": 2}
        assert info["prefer_specific"] == rule
        body = {"text": "Ada wrote .", "labels": ["person", "writer"], "multi_label": False}
        ents = client.post("/v1/extract", json=body).json()["results"][0]["entities"]
        assert [(e["text"], e["label"]) for e in ents] == [("Ada", "writer")]
    with TestClient(create_app(Oracle(*parts, threshold=0.6))) as client:
        assert client.get("/v1/models").json()["models"][0]["prefer_specific"] is None


def test_select_decoding_redecodes_a_dump_as_the_extractor_decodes(parts) -> None:
    """bench/select_decoding.py scores the rule offline from one low-threshold dump; that must
    equal what the extractor itself returns with the rule on."""
    import sys

    sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "bench"))
    from select_decoding import Rule, redecode

    labels = ["person", "writer", "city", "location", "book"]
    text = "Ada wrote ."
    ext = Oracle(*parts, threshold=0.6, generic_labels=("person",), broad_labels=("location",))
    for multi in (False, True):
        online = ext.extract(text, labels, multi_label=multi)
        ext.generic_labels = ()
        dump = ext.extract_detailed([text], labels, threshold=0.05, mode="all", multi_label=True)
        ext.generic_labels = ("person",)
        rule = Rule(frozenset({"person"}), 0.05, frozenset({"location"}))
        offline = redecode(list(dump[0].entities), 0.6, "flat", multi, rule)
        assert offline == online and online  # Entity equality: offsets, text and label
        assert [e.score for e in offline] == [e.score for e in online]
        assert redecode(list(dump[0].entities), 0.6, "flat", multi) != online  # the rule acts
