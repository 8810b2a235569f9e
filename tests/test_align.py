"""Mention-string to span alignment: boundaries, fallbacks, Unicode offsets, unfound reporting."""

from __future__ import annotations

import unicodedata

import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from uniner.data.align import AlignmentResult, align_mentions, fold_case, is_word_char
from uniner.data.types import Entity, Example, ValidationError


def spans(result: AlignmentResult) -> list[tuple[int, int, str]]:
    return [(e.start, e.end, e.text) for e in result.entities]


def test_every_occurrence_in_text_order_and_labelled() -> None:
    text = "Paris is big. I love Paris, and Paris loves me."
    res = align_mentions(text, ["Paris"], "city")
    assert spans(res) == [(0, 5, "Paris"), (21, 26, "Paris"), (32, 37, "Paris")]
    assert all(e.label == "city" for e in res.entities)
    assert res.unfound == () and res.all_found


def test_first_mode_keeps_only_leftmost() -> None:
    text = "Paris, Paris and Rome, Rome"
    res = align_mentions(text, ["Rome", "Paris"], "city", mode="first")
    assert spans(res) == [(0, 5, "Paris"), (17, 21, "Rome")]


def test_unknown_mode_rejected() -> None:
    with pytest.raises(ValueError, match="mode"):
        align_mentions("x", ["x"], "t", mode="longest")


def test_empty_label_rejected() -> None:
    with pytest.raises(ValidationError):
        align_mentions("x", ["x"], " ")


def test_single_string_instead_of_list_rejected() -> None:
    with pytest.raises(TypeError):
        align_mentions("Paris", "Paris", "city")


def test_non_string_mention_rejected() -> None:
    with pytest.raises(TypeError, match="int"):
        align_mentions("1 2", ["1", 2], "num")  # type: ignore[list-item]


def test_word_boundaries() -> None:
    text = "The start of art, artful arts, and Art."
    res = align_mentions(text, ["art"], "t")
    # "start", "artful", "arts" are not matches; "Art" is not needed: an exact match exists.
    assert spans(res) == [(13, 16, "art")]


def test_boundary_with_digits_and_underscore() -> None:
    res = align_mentions("2020 12020 2020a foo_2020 (2020)", ["2020"], "year")
    assert [(e.start, e.end) for e in res.entities] == [(0, 4), (27, 31)]


@pytest.mark.parametrize(
    ("text", "mention", "expected"),
    [
        ("Made in the U.S. today", "U.S.", [(12, 16)]),
        ("I code C++ daily, not C++11", "C++", [(7, 10), (22, 25)]),  # "+" edge: no boundary
        ("artificial intelligence (AI) rules", "(AI)", [(24, 28)]),
        ("see (AI)x", "(AI)", [(4, 8)]),
        ("a.NET b", ".NET", [(1, 5)]),  # leading "." needs no boundary; trailing "T" does
        ("a.NETx b", ".NET", []),
    ],
)
def test_punctuation_edges_need_no_boundary(
    text: str, mention: str, expected: list[tuple[int, int]]
) -> None:
    res = align_mentions(text, [mention], "t")
    assert [(e.start, e.end) for e in res.entities] == expected
    assert res.unfound == (() if expected else (mention,))


def test_rejected_candidate_does_not_hide_overlapping_valid_one() -> None:
    # "a-a" at 1 is preceded by "b" (rejected); the overlapping one at 3 is valid.
    res = align_mentions("ba-a-a", ["a-a"], "t")
    assert spans(res) == [(3, 6, "a-a")]


def test_all_mode_occurrences_do_not_overlap() -> None:
    # Leftmost first, then the scan resumes after the match: "0 0" in "0 0 0" is found once.
    res = align_mentions("0 0 0", ["0 0"], "t")
    assert spans(res) == [(0, 3, "0 0")]


def test_case_fallback_only_when_no_exact_occurrence() -> None:
    text = "apple pie and Apple Inc. and APPLE"
    exact = align_mentions(text, ["Apple"], "org")
    assert spans(exact) == [(14, 19, "Apple")]
    assert exact.matched_by == (("Apple", "exact"),)
    folded = align_mentions(text, ["aPPle"], "org")
    assert spans(folded) == [(0, 5, "apple"), (14, 19, "Apple"), (29, 34, "APPLE")]
    assert folded.matched_by == (("aPPle", "casefold"),)


def test_case_insensitive_can_be_switched_off() -> None:
    res = align_mentions("Apple", ["apple"], "org", case_insensitive=False)
    assert res.entities == () and res.unfound == ("apple",)


def test_unfound_reported_in_order_with_original_strings() -> None:
    res = align_mentions("Alice met Bob.", ["Carol", "Bob", "", "   ", "Dave", "Carol"], "per")
    assert spans(res) == [(10, 13, "Bob")]
    # "" and "   " both strip to "" and are de-duplicated, as is the second "Carol".
    assert res.unfound == ("Carol", "", "Dave")
    assert not res.all_found


def test_duplicates_and_case_variants_give_one_span() -> None:
    res = align_mentions("Paris!", ["Paris", "Paris", "paris", " Paris "], "city")
    assert spans(res) == [(0, 5, "Paris")]
    assert res.unfound == ()


def test_mention_outer_whitespace_is_stripped() -> None:
    res = align_mentions("in New York now", ["  New York\n"], "city")
    assert spans(res) == [(3, 11, "New York")]


def test_overlapping_mentions_both_kept() -> None:
    res = align_mentions("New York City", ["New York", "York City"], "loc")
    assert spans(res) == [(0, 8, "New York"), (4, 13, "York City")]


@pytest.mark.parametrize(
    ("text", "mention", "expected"),
    [
        ("in New\nYork now", "New York", "New\nYork"),
        ("in New York now", "New  York", "New York"),
        ("in New \t\n York now", "New York", "New \t\n York"),
        ("in New\u00a0York now", "New York", "New\u00a0York"),  # no-break space
        ("in NEW\nYORK now", "new york", "NEW\nYORK"),  # whitespace + case
    ],
)
def test_whitespace_tolerant_fallback(text: str, mention: str, expected: str) -> None:
    res = align_mentions(text, [mention], "city")
    assert [e.text for e in res.entities] == [expected]
    assert res.entities[0].start == 3


def test_whitespace_fallback_is_last_resort_and_optional() -> None:
    text = "New York and New\nYork"
    res = align_mentions(text, ["New York"], "city")
    assert spans(res) == [(0, 8, "New York")]  # exact exists: the lenient one is not added
    strict = align_mentions("New\nYork", ["New York"], "city", collapse_whitespace=False)
    assert strict.unfound == ("New York",)


def test_sharp_s_length_change_keeps_original_offsets() -> None:
    text = "Die Straße führt nach BERLIN, straße"
    res = align_mentions(text, ["STRASSE", "berlin"], "loc")
    assert spans(res) == [(4, 10, "Straße"), (22, 28, "BERLIN"), (30, 36, "straße")]
    for e in res.entities:
        assert text[e.start : e.end] == e.text


def test_sharp_s_is_not_split() -> None:
    # "ss" occurs in the folded text only as the two halves of "ß": never a partial character.
    res = align_mentions("Straße", ["ss", "s"], "x")
    assert res.entities == () and res.unfound == ("ss", "s")
    # A mention "ss" does find a whole "ß" that stands alone as a word.
    whole = align_mentions("the letter ß here", ["SS"], "x")
    assert spans(whole) == [(11, 12, "ß")]


def test_turkish_dotted_capital_i() -> None:
    text = "İstanbul and İzmir, then Paris"
    res = align_mentions(text, ["istanbul", "İZMİR", "PARIS"], "city")
    assert spans(res) == [(0, 8, "İstanbul"), (13, 18, "İzmir"), (25, 30, "Paris")]
    # str.casefold alone gives "i" + U+0307 for "İ"; our fold keeps it one character.
    assert fold_case("İzmir") == "izmir"
    assert "İ".casefold() == "i\u0307"


def test_emoji_and_astral_characters() -> None:
    text = "🎉🎉 Party at 𝔘𝔫𝔦 with Bob 🎉 and bob"
    res = align_mentions(text, ["Bob", "🎉"], "x")
    found = spans(res)
    assert ("Bob" in {t for _, _, t in found}) and found.count((0, 1, "🎉")) == 1
    for e in res.entities:
        assert text[e.start : e.end] == e.text
    # Emoji edges are not word characters: no boundary needed around them.
    assert [(s, e) for s, e, t in found if t == "🎉"] == [(0, 1), (1, 2), (25, 26)]
    # Offsets are code points: the three astral letters count one each (not UTF-16 pairs).
    assert [(s, e) for s, e, t in found if t == "Bob"] == [(21, 24)]


def test_combining_accents() -> None:
    decomposed = "Cafe\u0301 and Café"  # NFD then NFC "Café"
    # "Cafe" must not match the first four code points of the decomposed "Café".
    assert align_mentions(decomposed, ["Cafe"], "x").unfound == ("Cafe",)
    res = align_mentions(decomposed, ["Café"], "x")  # NFC mention: exact match on the NFC copy
    assert spans(res) == [(10, 14, "Café")]
    nfd_only = "Cafe\u0301 is open"
    res = align_mentions(nfd_only, ["Café"], "x")  # NFC mention, NFD text: unicode fallback
    assert spans(res) == [(0, 5, "Cafe\u0301")]
    assert res.matched_by == (("Café", "unicode:exact"),)
    off = align_mentions(nfd_only, ["Café"], "x", unicode_normalize=False)
    assert off.unfound == ("Café",)


def test_entities_fit_example_validation() -> None:
    text = "Straße, İzmir and NEW\nYORK"
    res = align_mentions(text, ["strasse", "izmir", "new york"], "loc")
    ex = Example(text=text, entities=res.entities)  # validates text[start:end] == entity.text
    assert len(ex.entities) == 3


def test_is_word_char() -> None:
    assert is_word_char("a") and is_word_char("7") and is_word_char("_") and is_word_char("é")
    assert is_word_char("\u0301")  # combining acute
    assert not is_word_char(".") and not is_word_char(" ") and not is_word_char("🎉")


def test_empty_text_and_no_mentions() -> None:
    assert align_mentions("", ["x"], "t") == AlignmentResult((), ("x",), ())
    assert align_mentions("abc", [], "t") == AlignmentResult((), (), ())


# --- properties -------------------------------------------------------------------------------

_WORD_CHARS = "abcXYZßİıiIéÉ" + "e\u0301" + "ﬁ" + "Σσς" + "09_"
_tokens = st.text(alphabet=_WORD_CHARS + "🎉.-+", min_size=1, max_size=6).filter(
    lambda t: not unicodedata.category(t[0]).startswith("M")
)
_seps = st.sampled_from([" ", "  ", "\n", ", ", "\u00a0", " (", ") "])


def _loose(s: str) -> str:
    return " ".join(fold_case(unicodedata.normalize("NFC", s)).split())


@settings(max_examples=300, deadline=None)
@given(
    tokens=st.lists(_tokens, min_size=1, max_size=8),
    seps=st.lists(_seps, min_size=8, max_size=8),
    data=st.data(),
)
def test_property_substring_at_boundaries_is_found(
    tokens: list[str], seps: list[str], data: st.DataObject
) -> None:
    """A run of whole tokens cut from the text is always found, at the place it was cut from
    (or at an overlapping occurrence: "all" returns non-overlapping occurrences, so in "0 0 0"
    the mention "0 0" is found at 0-3, which hides 2-5), and every span is the text there."""
    parts: list[str] = []
    starts: list[int] = []
    pos = 0
    for i, tok in enumerate(tokens):
        starts.append(pos)
        parts.append(tok)
        pos += len(tok)
        if i < len(tokens) - 1:
            parts.append(seps[i])
            pos += len(seps[i])
    text = "".join(parts)
    i = data.draw(st.integers(0, len(tokens) - 1))
    j = data.draw(st.integers(i, len(tokens) - 1))
    start, end = starts[i], starts[j] + len(tokens[j])
    mention = text[start:end]
    assume(mention.strip() == mention)
    res = align_mentions(text, [mention], "t")
    assert res.unfound == ()
    assert any(e.start < end and start < e.end for e in res.entities)
    for e in res.entities:
        assert text[e.start : e.end] == e.text == mention


@settings(max_examples=300, deadline=None)
@given(
    text=st.text(alphabet=_WORD_CHARS + " \n🎉.", max_size=30),
    data=st.data(),
    variant=st.sampled_from(["same", "upper", "lower", "swapcase", "casefold"]),
)
def test_property_every_span_matches_mention(text: str, data: st.DataObject, variant: str) -> None:
    """For any substring (in any case variant), each aligned entity is the original text at its
    offsets and equals the mention exactly or after case folding / whitespace collapsing."""
    i = data.draw(st.integers(0, len(text)))
    j = data.draw(st.integers(i, len(text)))
    mention = getattr(text[i:j], variant)() if variant != "same" else text[i:j]
    res = align_mentions(text, [mention, mention.upper()], "t")
    for e in res.entities:
        assert text[e.start : e.end] == e.text
        assert _loose(e.text) in {_loose(mention), _loose(mention.upper())}
    assert len(res.unfound) + len(res.matched_by) == len({mention.strip(), mention.upper().strip()})
    assert all(isinstance(e, Entity) for e in res.entities)
