"""Casing and informal-text variants of an annotated example, with offsets kept exact.

Users write in lower case and in social-media style as often as in edited prose, and a model
trained and chosen only on edited text fails there. These transformations make such text from
the sentences we have, for training augmentation and for the development suite
(:mod:`uniner.benchmark.devsuite`), without losing an annotation: the words of every mention stay
as they are (lower-cased at most), its label stays, and its offsets are remapped so that
``text[start:end] == entity.text`` holds in the new example (the :class:`Example` constructor
checks it).

``informalize`` is seeded by the ``random.Random`` it is given: the same state gives the same
text. Its probabilities live in one frozen :class:`InformalStyle` (``DEFAULT_STYLE``).
"""

from __future__ import annotations

import random
import re
import string
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from typing import Any

from uniner.data.types import Entity, Example

VARIANTS: tuple[str, ...] = ("cased", "lower", "informal")
"""The ways the development suite (and training) writes a sentence: as written, lower-cased,
and informal social-media style."""

PROBE_VARIANTS: tuple[str, ...] = ("tagged",)
"""Variants outside the suite's summary, for probes: ``tagged`` is ``informal`` with half the
one-word mentions written as hashtags (``#Chicago``; :data:`TAGGED_STYLE`)."""


@dataclass(frozen=True)
class InformalStyle:
    """How often each informal-text step happens (probabilities in [0, 1]).

    Every step except lower-casing touches only the text between mentions, so mentions keep
    their words. The defaults aim at tweets as people write them: mostly lower case, little
    punctuation, a handle or hashtag, sometimes a link or an emoji, the odd "u" or "soooo".

    * ``lower_all``: lower-case the whole text, mentions included; otherwise only the text
      outside mentions is lower-cased (capitals are then missing "mostly").
    * ``drop_punct``: drop each sentence punctuation mark (``. , ; : ! ?``) outside mentions.
    * ``reply_handle``: start the text with an ``@handle`` (a reply).
    * ``inline_handle``: insert an ``@handle`` at a random word boundary.
    * ``hashtag``: insert a generic ``#hashtag`` at a random word boundary or the end.
    * ``tag_word``: turn one word (4+ letters) outside mentions into a hashtag (``#monday``).
    * ``url``: add a short link, at the end (``url_at_end`` of the time) or at a boundary.
    * ``emoji``: add an emoji at the end or at a boundary.
    * ``abbreviate``: replace each word with a common chat abbreviation (``you`` -> ``u``).
    * ``repeat_letters``: stretch a word's last vowel (``so`` -> ``sooo``), per eligible word.
    * ``tag_mention``: write a one-word mention as a hashtag (``#Chicago``), per mention; the
      ``#`` is outside the mention's offsets. Off by default: every other marker above is a
      non-mention, and a model trained only on those learns that a hashtag is never a name.

    When none of the marker steps (handles, hashtags, link, emoji) fired, a link is added, so
    the informal text always differs from the source outside its mentions.
    """

    lower_all: float = 0.7
    drop_punct: float = 0.8
    reply_handle: float = 0.35
    inline_handle: float = 0.2
    hashtag: float = 0.4
    tag_word: float = 0.2
    url: float = 0.35
    url_at_end: float = 0.7
    emoji: float = 0.3
    abbreviate: float = 0.7
    repeat_letters: float = 0.03
    tag_mention: float = 0.0


DEFAULT_STYLE = InformalStyle()
TAGGED_STYLE = InformalStyle(tag_mention=0.5)

ABBREVIATIONS: Mapping[str, str] = {
    "you": "u",
    "your": "ur",
    "you're": "ur",
    "please": "pls",
    "are": "r",
    "because": "bc",
    "thanks": "thx",
    "people": "ppl",
    "tomorrow": "tmrw",
    "tonight": "tonite",
    "with": "w/",
    "without": "w/o",
    "really": "rly",
    "about": "abt",
    "before": "b4",
    "great": "gr8",
    "love": "luv",
    "probably": "prob",
    "though": "tho",
    "and": "&",
}
"""Chat abbreviations applied to words outside mentions (matched case-insensitively)."""

HANDLE_STEMS = ("user", "jess", "mike", "newsdesk", "the_real_sam", "daily", "kat", "dev", "fan")
HASHTAGS = ("#news", "#tbt", "#fyi", "#mood", "#breaking", "#weekend", "#lol", "#facts", "#update")
EMOJIS = ("😂", "🔥", "👍", "😍", "🙏", "😭", "💯", "👀")
SENTENCE_PUNCT = frozenset(".,;:!?")
_TOKEN_RE = re.compile(r"\s+|\w+(?:[-'’]\w+)*|[^\w\s]", re.UNICODE)
_URL_CHARS = string.ascii_letters + string.digits
_ONE_WORD = re.compile(r"[^\W_]\w*", re.UNICODE)


def lower_text(text: str) -> str:
    """``text`` lower-cased character by character, at the same length.

    ``str.lower`` turns a few characters into two ('İ' -> 'i̇'), which would shift every offset
    after them; such a character is kept as it is.
    """
    return "".join(low if len(low := ch.lower()) == 1 else ch for ch in text)


def _with_variant(example: Example, variant: str) -> dict[str, Any]:
    return {**dict(example.meta), "variant": variant}


def lowercase(example: Example) -> Example:
    """The example lower-cased; offsets unchanged (the text keeps its length)."""
    text = lower_text(example.text)
    ents = tuple(
        Entity(e.start, e.end, text[e.start : e.end], e.label, e.score) for e in example.entities
    )
    return Example(text, ents, example.labels, example.id, _with_variant(example, "lower"))


def _regions(entities: Sequence[Entity]) -> list[tuple[int, int]]:
    """The mention spans merged where they overlap or touch: the protected parts of the text."""
    out: list[list[int]] = []
    for e in sorted(entities, key=lambda e: (e.start, e.end)):
        if out and e.start <= out[-1][1]:
            out[-1][1] = max(out[-1][1], e.end)
        else:
            out.append([e.start, e.end])
    return [(s, t) for s, t in out]


def _pieces(text: str, regions: list[tuple[int, int]]) -> list[list[str]]:
    """Token lists of the text outside mentions: one before, between and after the regions."""
    bounds = [0, *[p for r in regions for p in r], len(text)]
    return [_TOKEN_RE.findall(text[bounds[k] : bounds[k + 1]]) for k in range(0, len(bounds), 2)]


def _stretch(word: str, rng: random.Random) -> str:
    """The word with its last vowel (or last letter) repeated 2 to 4 more times."""
    vowels = [i for i, ch in enumerate(word) if ch.lower() in "aeiouy"]
    i = vowels[-1] if vowels else len(word) - 1
    return word[: i + 1] + word[i] * rng.randint(2, 4) + word[i + 1 :]


def _edit_words(pieces: list[list[str]], style: InformalStyle, rng: random.Random) -> None:
    """Drop punctuation, abbreviate and stretch words outside mentions, in place."""
    for toks in pieces:
        for k, tok in enumerate(toks):
            if tok in SENTENCE_PUNCT:
                if rng.random() < style.drop_punct:
                    toks[k] = ""
            elif tok.lower() in ABBREVIATIONS:
                if rng.random() < style.abbreviate:
                    toks[k] = ABBREVIATIONS[tok.lower()]
            elif len(tok) >= 3 and tok.isalpha() and rng.random() < style.repeat_letters:
                toks[k] = _stretch(tok, rng)


def _slots(pieces: list[list[str]]) -> list[tuple[int, int]]:
    """Word boundaries outside mentions: (piece, token index) of every whitespace token."""
    return [(p, k) for p, toks in enumerate(pieces) for k, t in enumerate(toks) if t.isspace()]


def _insert(pieces: list[list[str]], marker: str, rng: random.Random, where: str) -> None:
    """Put ``marker`` at the start, the end or a random word boundary outside mentions."""
    slots = _slots(pieces)
    if where == "start" or (where == "inline" and not slots):
        pieces[0].insert(0, marker + " ")
    elif where == "end":
        pieces[-1].append(" " + marker)
    else:
        p, k = rng.choice(slots)
        pieces[p][k] = " " + marker + " "


def _tag_word(pieces: list[list[str]], rng: random.Random) -> bool:
    """Prefix ``#`` to one alphabetic word of 4+ letters outside mentions; False if none."""
    cands = [
        (p, k)
        for p, toks in enumerate(pieces)
        for k, t in enumerate(toks)
        if t.isalpha() and len(t) >= 4
    ]
    if not cands:
        return False
    p, k = rng.choice(cands)
    pieces[p][k] = "#" + pieces[p][k]
    return True


def _handle(rng: random.Random) -> str:
    digits = str(rng.randint(1, 99)) if rng.random() < 0.5 else ""
    return "@" + rng.choice(HANDLE_STEMS) + digits


def _url(rng: random.Random) -> str:
    return "https://t.co/" + "".join(rng.choice(_URL_CHARS) for _ in range(6))


def _add_markers(pieces: list[list[str]], style: InformalStyle, rng: random.Random) -> None:
    """Handles, hashtags, a link and an emoji, each by its probability; at least one of them."""
    added = False
    if rng.random() < style.tag_word:
        added = _tag_word(pieces, rng) or added
    if rng.random() < style.inline_handle:
        _insert(pieces, _handle(rng), rng, "inline")
        added = True
    if rng.random() < style.hashtag:
        _insert(pieces, rng.choice(HASHTAGS), rng, rng.choice(("inline", "end")))
        added = True
    if rng.random() < style.emoji:
        _insert(pieces, rng.choice(EMOJIS), rng, rng.choice(("inline", "end")))
        added = True
    if rng.random() < style.url or not added:
        _insert(pieces, _url(rng), rng, "end" if rng.random() < style.url_at_end else "inline")
    if rng.random() < style.reply_handle:
        _insert(pieces, _handle(rng), rng, "start")


def _join(pieces: list[list[str]], lower_outside: bool) -> list[str]:
    """Each piece's text with runs of spaces collapsed; the text's ends stripped; a piece that
    separated two mentions (never empty: touching mentions share a region) stays non-empty."""
    out = []
    for p, toks in enumerate(pieces):
        s = re.sub(r" {2,}", " ", "".join(toks))
        if lower_outside:
            s = lower_text(s)
        if p == 0:
            s = s.lstrip()
        if p == len(pieces) - 1:
            s = s.rstrip()
        if not s and 0 < p < len(pieces) - 1:
            s = " "
        out.append(s)
    return out


def informalize(
    example: Example, rng: random.Random, style: InformalStyle = DEFAULT_STYLE
) -> Example:
    """The sentence rewritten in informal social-media style (see :class:`InformalStyle`).

    Mentions keep their words (lower-cased when the whole text is) and labels; text between
    them is edited and markers (handles, hashtags, a link, an emoji) are inserted at word
    boundaries outside mentions. Offsets are remapped; labels, id and meta are kept, and
    ``meta["variant"]`` is ``"informal"``. The same ``rng`` state gives the same output.
    """
    text = example.text
    regions = _regions(example.entities)
    lower_all = rng.random() < style.lower_all
    pieces = _pieces(text, regions)
    _edit_words(pieces, style, rng)
    _add_markers(pieces, style, rng)
    outside = _join(pieces, lower_outside=True)
    new_text, shift = outside[0], {}
    for k, (s, t) in enumerate(regions):
        mention = text[s:t]
        if style.tag_mention and _taggable(new_text, mention, rng, style.tag_mention):
            new_text += "#"
        shift[(s, t)] = len(new_text) - s
        new_text += (lower_text(mention) if lower_all else mention) + outside[k + 1]
    ents = []
    for e in example.entities:
        region = next(r for r in regions if r[0] <= e.start and e.end <= r[1])
        start, end = e.start + shift[region], e.end + shift[region]
        ents.append(Entity(start, end, new_text[start:end], e.label, e.score))
    meta = _with_variant(example, "informal")
    return Example(new_text, tuple(ents), example.labels, example.id, meta)


def _taggable(before: str, mention: str, rng: random.Random, share: float) -> bool:
    """Whether a mention (one word of letters and digits, at a word start) becomes a hashtag;
    draws from ``rng`` only for such a mention."""
    if not _ONE_WORD.fullmatch(mention) or (before and not before[-1].isspace()):
        return False
    return rng.random() < share


def apply_variant(example: Example, variant: str, rng: random.Random) -> Example:
    """The example as ``variant`` writes it (one of :data:`VARIANTS` or :data:`PROBE_VARIANTS`);
    ``cased`` is unchanged."""
    if variant == "cased":
        return example
    if variant == "lower":
        return lowercase(example)
    if variant == "informal":
        return informalize(example, rng)
    if variant == "tagged":
        tagged = informalize(example, rng, TAGGED_STYLE)
        return replace(tagged, meta=_with_variant(tagged, "tagged"))
    known = ", ".join(VARIANTS + PROBE_VARIANTS)
    raise ValueError(f"unknown variant {variant!r}; variants: {known}")
