"""Context labels: a call asking under ``min_labels`` types is padded; padding answers dropped."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from tests.doubles.span import FirstWordScorer, tiny_span_parts
from uniner.students.span.extractor import SpanExtractor
from uniner.students.span.release import release

os.environ.setdefault("HF_HUB_OFFLINE", "1")

CONTEXT = ("person", "date", "concept", "number")


class Oracle(FirstWordScorer):
    """Scores word 0 as every asked label: the context labels higher than the caller's."""

    seen: list[tuple[str, ...]]

    def score_items(self, items, encs):  # type: ignore[no-untyped-def]
        self.seen += [it.labels for it in items]
        return super().score_items(items, encs)

    def first_word_score(self, label: str) -> float:
        return 0.9 if label in CONTEXT else 0.7


@pytest.fixture(scope="module")
def parts(tmp_path_factory: pytest.TempPathFactory):
    return tiny_span_parts(tmp_path_factory.mktemp("bb-context"))


def oracle(parts, **kw) -> Oracle:
    ext = Oracle(*parts, threshold=0.5, **kw)
    ext.seen = []
    return ext


def test_padding_up_to_min_labels_and_answers_dropped(parts) -> None:
    ext = oracle(parts, min_labels=3, context_labels=CONTEXT)
    # "Person" is asked: its casefolded twin is not added as context
    assert ext.with_context(("city",)) == ("city", "person", "date")
    assert ext.with_context(("Person",)) == ("Person", "date", "concept")
    assert ext.with_context(("a", "b", "c", "d")) == ("a", "b", "c", "d")
    ents = ext.extract("Oslo is cold.", ["city"])
    assert ext.seen == [("city", "person", "date")]
    # flat single-label decoding: a context label scoring higher on the same span must not win
    assert [(e.text, e.label, e.score) for e in ents] == [("Oslo", "city", pytest.approx(0.7))]
    ents = ext.extract("Oslo is cold.", ["city", "date"], multi_label=True)
    assert sorted(e.label for e in ents) == ["city", "date"]  # asked, so answered


def test_max_context_caps_the_padding(parts) -> None:
    ext = oracle(parts, min_labels=4, context_labels=CONTEXT, max_context=2)
    assert ext.with_context(("city",)) == ("city", "person", "date")  # 2, not the 3 missing
    assert ext.with_context(("a", "b", "c")) == ("a", "b", "c", "person")  # 1 missing: 1
    ext.extract("Oslo is cold.", ["city"])
    assert ext.seen == [("city", "person", "date")]
    assert oracle(parts, min_labels=4, context_labels=CONTEXT, max_context=0).with_context(
        ("city",)
    ) == ("city",)
    with pytest.raises(ValueError, match="max_context"):
        oracle(parts, min_labels=4, context_labels=CONTEXT, max_context=-1)


def test_no_padding_without_min_labels(parts) -> None:
    ext = oracle(parts, context_labels=CONTEXT)
    ext.extract("Oslo is cold.", ["city"])
    assert ext.seen == [("city",)]
    with pytest.raises(ValueError, match="min_labels"):
        oracle(parts, min_labels=-1)


def test_release_writes_and_load_reads_context(parts, tmp_path: Path) -> None:
    model, tok = parts
    src = SpanExtractor(model, tok).save(tmp_path / "trained", storage="full")
    with pytest.raises(ValueError, match="context labels"):
        release(src, tmp_path / "bad", "m", "0.1.0", 0.5, min_labels=8, context_labels=CONTEXT)
    dest = release(src, tmp_path / "rel", "m", "0.1.0", 0.6, True, 3, CONTEXT)
    cfg = json.loads((dest / "config.json").read_text(encoding="utf-8"))
    assert (cfg["min_labels"], cfg["context_labels"]) == (3, list(CONTEXT))
    ext = SpanExtractor.load(dest)
    assert (ext.min_labels, ext.context_labels, ext.threshold) == (3, CONTEXT, 0.6)
    assert ext.max_context is None and "max_context_labels" not in cfg
    capped = release(src, tmp_path / "capped", "m", "0.1.1", 0.6, True, 3, CONTEXT, 2)
    assert json.loads((capped / "config.json").read_text())["max_context_labels"] == 2
    assert SpanExtractor.load(capped).max_context == 2
    with pytest.raises(ValueError, match="max_context"):
        release(src, tmp_path / "bad2", "m", "0.1.1", 0.6, max_context=2)  # no min_labels
    # a later release without padding removes it
    plain = release(dest, tmp_path / "plain", "m", "0.2.0", 0.5)
    assert SpanExtractor.load(plain).min_labels == 0


def test_saved_copy_decodes_as_the_release(parts, tmp_path: Path) -> None:
    """save() / save_pretrained() keep the release's decoding; from_pretrained() reads it back."""
    model, tok = parts
    src = SpanExtractor(model, tok).save(tmp_path / "trained", storage="full")
    rel = release(
        src,
        tmp_path / "rel",
        "m",
        "0.1.3",
        0.6,
        min_labels=3,
        context_labels=CONTEXT,
        max_context=2,
        few_types=2,
        few_type_threshold=0.75,
        generic_labels=("person",),
        broad_labels=("location",),
        specific_min_types=3,
    )
    ext = SpanExtractor.load(rel)
    ext.multi_label = True  # a caller's change is saved too
    copy = SpanExtractor.from_pretrained(ext.save_pretrained(tmp_path / "copy", storage="full"))
    assert copy.decoding_config() == ext.decoding_config()
    assert (copy.threshold_for(2), copy.threshold_for(5), copy.max_context) == (0.75, 0.6, 2)
    assert copy.multi_label and copy.generic_labels == ("person",) and copy.name == "m"
    saved = json.loads((tmp_path / "copy" / "config.json").read_text(encoding="utf-8"))
    released = json.loads((rel / "config.json").read_text(encoding="utf-8"))
    for key in ("min_labels", "context_labels", "few_types_threshold", "prefer_specific"):
        assert saved[key] == released[key]
    text, labels = "Ada Lovelace wrote notes .", ["person", "writer"]
    assert copy.extract(text, labels) == ext.extract(text, labels)
    # a bare extractor saves the bare defaults, which load back as they were
    bare = SpanExtractor.load(SpanExtractor(model, tok).save(tmp_path / "bare", storage="full"))
    assert bare.decoding_config() == {"threshold": 0.5, "multi_label": False}
