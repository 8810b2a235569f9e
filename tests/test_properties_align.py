"""Property-based tests of the alignment on adversarial text: any code point (lone surrogates,
combining marks, case-changing letters, odd whitespace), any mention list. The documented errors
are the only ones (ValueError for a mode, ValidationError for a label, TypeError for mentions);
every span is the original text at its offsets; every mention is either placed or reported."""

from __future__ import annotations

import unicodedata

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from uniner.data.align import align_mentions, fold_case
from uniner.data.readers.conversation import conversation_to_example
from uniner.data.types import Conversation, Query, ValidationError

SETTINGS = settings(max_examples=150, deadline=None)
TRICKY = "aAßẞİıiIσςΣﬁ\u0301e\u0307 \t\n\u00a0\u2028\u3000.-_'0🎉\ud800\udfff"
text_st = st.text(st.characters(codec=None), max_size=40) | st.text(TRICKY, max_size=40)
mention_st = st.text(st.characters(codec=None), max_size=8) | st.text(TRICKY, max_size=8)
label_st = st.text(st.characters(codec=None), min_size=1, max_size=6).filter(str.strip)


def _loose(s: str) -> set[str]:
    """The forms a lenient match may equal: as given, case-folded, whitespace-collapsed, in
    NFC/NFD."""
    forms = {s, unicodedata.normalize("NFC", s), unicodedata.normalize("NFD", s)}
    return {" ".join(fold_case(f).split()) for f in forms} | {" ".join(f.split()) for f in forms}


@SETTINGS
@given(
    text=text_st,
    mentions=st.lists(mention_st, max_size=5),
    label=label_st,
    mode=st.sampled_from(["all", "first"]),
    strict=st.booleans(),
)
def test_spans_are_the_text_and_every_mention_is_accounted_for(
    text: str, mentions: list[str], label: str, mode: str, strict: bool
) -> None:
    # a mention may also be a piece of the text, so that matches happen
    mentions = [*mentions, text[len(text) // 3 : len(text) // 2]]
    res = align_mentions(
        text,
        mentions,
        label,
        mode=mode,
        case_insensitive=not strict,
        collapse_whitespace=not strict,
        unicode_normalize=not strict,
    )
    for e in res.entities:
        assert 0 <= e.start < e.end <= len(text)
        assert text[e.start : e.end] == e.text and e.label == label
    assert [e.key() for e in res.entities] == sorted({e.key() for e in res.entities})
    placed = {m for m, _ in res.matched_by}
    assert len(placed) + len(res.unfound) == len({m.strip() for m in mentions})
    assert all(not m.strip() or m not in placed for m in res.unfound)
    for e in res.entities:  # each span equals some placed mention, up to the allowed leniency
        assert any(_loose(e.text) & _loose(m.strip()) for m in placed)
        if strict:
            assert e.text in {m.strip() for m in placed}


@SETTINGS
@given(text=text_st, bad=st.sampled_from([None, 1, b"x", ["x"], 2.5]))
def test_a_mention_that_is_not_a_string_is_a_type_error(text: str, bad: object) -> None:
    with pytest.raises(TypeError):
        align_mentions(text, ["a", bad], "t")  # type: ignore[list-item]


@SETTINGS
@given(text=text_st, label=st.text(" \t\n\u00a0\u3000", max_size=3))
def test_a_blank_label_is_a_validation_error(text: str, label: str) -> None:
    with pytest.raises(ValidationError):
        align_mentions(text, ["a"], label)


@SETTINGS
@given(
    text=text_st,
    queries=st.lists(st.tuples(label_st, st.lists(mention_st, max_size=3)), max_size=4),
)
def test_conversation_answers_become_valid_examples(
    text: str, queries: list[tuple[str, list[str]]]
) -> None:
    conv = Conversation("c", text, tuple(Query(lab, tuple(ans)) for lab, ans in queries))
    ex, unfound = conversation_to_example(conv)
    assert ex.text == text and ex.labels == tuple(dict.fromkeys(lab for lab, _ in queries))
    for e in ex.entities:
        assert text[e.start : e.end] == e.text and e.label in ex.labels
    asked = {(lab, a) for lab, ans in queries for a in ans}
    assert set(unfound) <= asked
