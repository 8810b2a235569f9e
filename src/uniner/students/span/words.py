"""Words with character offsets, and the casing shape of each word.

The span student scores spans of *words*, so every word must map back to exact character offsets
of the original text. The segmentation is ``uniner.data.words`` (hyphen and apostrophe words stay
together, every other non-space character is a word of its own), shared with the baselines, so
a change to it is a change to every saved model: treat it as part of the model format.

The shape exists because the shipped backbones are uncased: the tokenizer lowercases, so without it
the model cannot tell "Apple" from "apple".
"""

from __future__ import annotations

import re

from uniner.data.words import WORD_RE, word_spans

__all__ = [
    "SHAPES",
    "SHAPE_NONE",
    "WORD_RE",
    "clean_for_tokenizer",
    "lowercased_shape",
    "word_shape",
    "word_spans",
]

# Index 0 is reserved for tokens that are not text words (labels, [CLS], [SEP], padding).
SHAPES: tuple[str, ...] = (
    "none",
    "lower",
    "capitalised",
    "allcaps",
    "mixed",
    "digit",
    "punct",
    "other",
)
SHAPE_NONE = 0
_LOWER, _CAP, _UPPER, _MIXED, _DIGIT, _PUNCT, _OTHER = range(1, 8)

_SURROGATES = re.compile("[\ud800-\udfff]")


def word_shape(word: str) -> int:
    """Casing class of a word (an index into :data:`SHAPES`)."""
    if word.isalpha():  # fast path, most words
        if word.islower():
            return _LOWER
        if word.isupper():
            return _CAP if len(word) == 1 else _UPPER
        if word[0].isupper() and word[1:].islower():
            return _CAP
        if word.lower() == word.upper():
            return _OTHER
        return _MIXED
    if any(c.isdigit() for c in word):
        return _DIGIT
    if not any(c.isalnum() for c in word):
        return _PUNCT
    cased = [c for c in word if c.isupper() or c.islower()]
    if not cased:
        return _OTHER
    if all(c.islower() for c in cased):
        return _LOWER
    if all(c.isupper() for c in cased):
        return _CAP if len(cased) == 1 else _UPPER
    if cased[0].isupper() and all(c.islower() for c in cased[1:]):
        return _CAP
    return _MIXED


def lowercased_shape(shape: int) -> int:
    """The shape the same word would have if its text were lowercased.

    ``lowercased_shape(word_shape(w)) == word_shape(w.lower())`` for every word: a cased shape
    becomes ``lower``, the others (digits, punctuation, caseless scripts) do not change. Training
    uses it to show a piece as caseless text (queries, chat) without re-tokenising: the backbone
    is uncased, so its token ids are the same either way.
    """
    return _LOWER if shape in (_CAP, _UPPER, _MIXED) else shape


def clean_for_tokenizer(s: str) -> str:
    """Replace lone surrogates (which cannot be encoded to UTF-8) with U+FFFD.

    Offsets are taken from the original text, so the replacement never shifts a result.
    """
    return _SURROGATES.sub("\ufffd", s)
