"""Word segmentation with character offsets.

Word-level models and baselines need words, and every word must map back to exact character
offsets of the original text. The pattern keeps hyphenated and apostrophe words together
("state-of-the-art", "O'Neil") and makes every other non-space character a word of its own.
"""

from __future__ import annotations

import re

WORD_RE = re.compile(r"\w+(?:[-'’]\w+)*|[^\w\s]", re.UNICODE)


def word_spans(text: str) -> list[tuple[int, int]]:
    """(start, end) character offsets of the words of ``text``, in order."""
    return [m.span() for m in WORD_RE.finditer(text)]


def words(text: str) -> list[str]:
    return [m.group() for m in WORD_RE.finditer(text)]
