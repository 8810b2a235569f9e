"""Casing and informal-text variants: offsets stay exact, nothing is lost, seeds reproduce."""

import dataclasses
import random
import re

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from uniner.data.augment import (
    DEFAULT_STYLE,
    VARIANTS,
    InformalStyle,
    apply_variant,
    informalize,
    lower_text,
    lowercase,
)
from uniner.data.types import Entity, Example

TEXT = "Alan Turing, you know, worked in Manchester. Please, İstanbul is great!"
EX = Example(
    TEXT,
    (
        Entity(0, 11, "Alan Turing", "person"),
        Entity(5, 11, "Turing", "surname"),  # nested in the person mention
        Entity(33, 43, "Manchester", "city"),
        Entity(53, 61, "İstanbul", "city"),
    ),
    labels=("person", "surname", "city", "country"),
    id="ex-1",
    meta={"source": "toy"},
)


def outside(ex: Example) -> str:
    """The text with every mention character removed."""
    covered = {i for e in ex.entities for i in range(e.start, e.end)}
    return "".join(ch for i, ch in enumerate(ex.text) if i not in covered)


def assert_same_mentions(new: Example, old: Example, lowered: bool | None = None) -> None:
    assert len(new.entities) == len(old.entities)
    for n, o in zip(
        sorted(new.entities, key=lambda e: (e.label, e.start)),
        sorted(old.entities, key=lambda e: (e.label, e.start)),
        strict=True,
    ):
        assert new.text[n.start : n.end] == n.text
        assert n.label == o.label
        assert n.text in (o.text, lower_text(o.text))
        if lowered is not None:
            assert n.text == (lower_text(o.text) if lowered else o.text)


def test_lowercase_keeps_offsets_and_the_dotted_capital_i():
    low = lowercase(EX)
    assert low.text == lower_text(TEXT) and low.text.startswith("alan turing")
    assert "İstanbul" in low.text  # 'İ'.lower() is two characters: kept as written
    assert len(low.text) == len(TEXT)
    assert_same_mentions(low, EX, lowered=True)
    assert (low.labels, low.id, low.meta["source"], low.meta["variant"]) == (
        EX.labels,
        "ex-1",
        "toy",
        "lower",
    )


def test_informal_is_seeded_and_keeps_everything_but_the_style():
    a = informalize(EX, random.Random(3))
    b = informalize(EX, random.Random(3))
    assert a == b and a.meta == b.meta
    assert len({informalize(EX, random.Random(s)).text for s in range(10)}) > 5
    assert_same_mentions(a, EX)
    assert (a.labels, a.id, a.meta["variant"], a.meta["source"]) == (
        EX.labels,
        "ex-1",
        "informal",
        "toy",
    )
    assert outside(a) != outside(EX)


def test_informal_looks_informal_over_many_seeds():
    outs = [informalize(EX, random.Random(s)) for s in range(200)]
    texts = [o.text for o in outs]
    share = lambda pred: sum(map(pred, texts)) / len(texts)  # noqa: E731
    assert 0.2 < share(lambda t: "@" in t) < 0.8
    assert 0.2 < share(lambda t: "#" in t) < 0.9
    assert 0.2 < share(lambda t: "https://t.co/" in t) < 0.9
    assert share(lambda t: " u " in t) > 0.5  # "you" abbreviated most of the time
    assert share(lambda t: t.startswith("alan turing")) > 0.4  # all lower-cased, often
    assert share(lambda t: "," not in t) > 0.3  # punctuation dropped
    assert all("Alan Turing" in t or "alan turing" in t for t in texts)  # mention words kept


def test_every_informal_text_has_a_marker_even_with_all_steps_off():
    off = InformalStyle(**{f.name: 0.0 for f in dataclasses.fields(InformalStyle)})
    plain = Example("Paris", (Entity(0, 5, "Paris", "city"),))
    out = informalize(plain, random.Random(0), off)
    assert re.fullmatch(r"https://t\.co/\w{6} Paris", out.text)  # no word boundary: at the start
    assert_same_mentions(out, plain, lowered=False)


def test_touching_mentions_never_merge_into_one_word():
    ex = Example("Paris,London", (Entity(0, 5, "Paris", "city"), Entity(6, 12, "London", "city")))
    style = dataclasses.replace(DEFAULT_STYLE, drop_punct=1.0)
    out = informalize(ex, random.Random(0), style)
    assert_same_mentions(out, ex)
    first, second = sorted(out.entities, key=lambda e: e.start)
    assert second.start > first.end


@pytest.mark.parametrize("variant", VARIANTS)
def test_apply_variant(variant):
    out = apply_variant(EX, variant, random.Random(0))
    assert_same_mentions(out, EX, lowered=True if variant == "lower" else None)
    if variant == "cased":
        assert out == EX
    if variant == "lower":
        assert out.text == out.text.lower().replace("i̇", "İ")


def test_unknown_variant_is_refused():
    with pytest.raises(ValueError, match="variants: cased, lower, informal"):
        apply_variant(EX, "shouty", random.Random(0))


_TEXT_CHARS = "abcXYZ İßéΣ,.!?;:'- \n\t🎉#@_0"


@st.composite
def examples(draw):  # type: ignore[no-untyped-def]
    text = draw(st.text(alphabet=_TEXT_CHARS, min_size=1, max_size=40))
    n = draw(st.integers(0, 4))
    ents = []
    for _ in range(n):
        s = draw(st.integers(0, len(text) - 1))
        e = draw(st.integers(s + 1, len(text)))
        ents.append(Entity(s, e, text[s:e], draw(st.sampled_from(["a", "b", "c"]))))
    return Example(text, tuple(ents), labels=("a", "b", "c"))


@settings(max_examples=300, deadline=None)
@given(ex=examples(), seed=st.integers(0, 2**16))
def test_property_offsets_valid_and_nothing_lost(ex, seed):
    low = lowercase(ex)
    assert_same_mentions(low, ex, lowered=True)
    a = informalize(ex, random.Random(seed))
    assert a == informalize(ex, random.Random(seed))
    assert_same_mentions(a, ex)  # Example itself checks text[start:end] == entity.text
    assert outside(a) != outside(ex)
    # With every step off, nothing outside mentions is lost either: only case and spacing.
    off = InformalStyle(**{f.name: 0.0 for f in dataclasses.fields(InformalStyle)})
    plain = informalize(ex, random.Random(seed), off)
    kept = re.sub(r"https://t\.co/\w{6}", "", plain.text)
    covered = {i for e in ex.entities for i in range(e.start, e.end)}
    expected = "".join(ch if i in covered else lower_text(ch) for i, ch in enumerate(ex.text))
    assert "".join(kept.split()) == "".join(expected.split())
