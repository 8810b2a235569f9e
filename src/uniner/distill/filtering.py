"""Filter a teacher's (mention, type) pairs the way the paper does, counting every loss.

Rules, in order, each with a named reason that the report counts:

``empty_mention`` / ``empty_type``
    nothing left after stripping;
``else_type``
    an ELSE-like type (None, NA, MISC, ELSE, ... in any case): the paper drops these;
``long_type`` / ``long_mention``
    over the configured length (words or characters): a type that is a paragraph or a
    "mention" that is a whole sentence is a teacher failure, not data;
``non_english``
    a mention whose letters are mostly outside the Latin script (the paper keeps English only;
    accented Latin like "Zürich" stays);
``hallucinated``
    the mention is not in the passage, checked with :func:`uniner.data.align.align_mentions`
    (exact, then case/whitespace/Unicode tolerant, word-boundary aware);
``duplicate``
    the same (mention, type) again in one answer (not a loss of information, counted apart).

Types are normalised (outer whitespace stripped, inner runs squashed, lower-cased unless
``lowercase_types`` is off) before the checks, so "Person " and "person" are one type.
Kept mentions are aligned to character offsets (every occurrence) and returned as entities.
"""

from __future__ import annotations

import unicodedata
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field

from uniner.data.align import align_mentions
from uniner.data.types import Entity

REASONS = (
    "empty_mention",
    "empty_type",
    "else_type",
    "long_type",
    "long_mention",
    "non_english",
    "hallucinated",
    "duplicate",
)
ELSE_TYPES = frozenset(
    {"none", "na", "n/a", "n.a.", "misc", "miscellaneous", "else", "null", "nil", "unknown"}
)


@dataclass(frozen=True, slots=True)
class FilterConfig:
    """Limits of the filter; the defaults suit the type-based prompt."""

    max_type_words: int = 6
    max_type_chars: int = 60
    max_mention_words: int = 12
    max_mention_chars: int = 120
    min_latin_share: float = 0.5
    lowercase_types: bool = True
    else_types: frozenset[str] = ELSE_TYPES

    @classmethod
    def for_definitions(cls) -> FilterConfig:
        """The definition-based prompt answers with a short sentence per type, not a noun."""
        return cls(max_type_words=40, max_type_chars=300, lowercase_types=False)


@dataclass(slots=True)
class FilterResult:
    """Kept entities (offsets into the passage), kept pairs in answer order, and the losses."""

    entities: list[Entity]
    kept: list[tuple[str, str]]
    dropped: Counter[str] = field(default_factory=Counter)
    hallucinated: list[tuple[str, str]] = field(default_factory=list)


def normalise_type(label: str, lowercase: bool = True) -> str:
    out = " ".join(label.split())
    return out.lower() if lowercase else out


def latin_share(text: str) -> float:
    """Share of the letters in ``text`` that belong to the Latin script (1.0 when no letters)."""
    letters = [ch for ch in text if ch.isalpha()]
    if not letters:
        return 1.0
    latin = sum(1 for ch in letters if unicodedata.name(ch, "").startswith("LATIN"))
    return latin / len(letters)


def _too_long(s: str, words: int, chars: int) -> bool:
    return len(s) > chars or len(s.split()) > words


def filter_pairs(
    passage: str, pairs: Iterable[tuple[str, str]], config: FilterConfig | None = None
) -> FilterResult:
    """Apply the rules of the module docstring to the pairs of one passage."""
    cfg = config or FilterConfig()
    result = FilterResult([], [])
    seen: set[tuple[str, str]] = set()
    spans: set[tuple[int, int, str]] = set()
    for raw_mention, raw_type in pairs:
        mention = raw_mention.strip()
        label = normalise_type(raw_type, cfg.lowercase_types)
        reason = None
        if not mention:
            reason = "empty_mention"
        elif not label:
            reason = "empty_type"
        elif label.lower().strip(" .") in cfg.else_types:
            reason = "else_type"
        elif _too_long(label, cfg.max_type_words, cfg.max_type_chars):
            reason = "long_type"
        elif _too_long(mention, cfg.max_mention_words, cfg.max_mention_chars):
            reason = "long_mention"
        elif latin_share(mention) < cfg.min_latin_share:
            reason = "non_english"
        elif (mention, label) in seen:
            reason = "duplicate"
        if reason is not None:
            result.dropped[reason] += 1
            continue
        aligned = align_mentions(passage, [mention], label)
        if aligned.unfound:
            result.dropped["hallucinated"] += 1
            result.hallucinated.append((mention, label))
            continue
        seen.add((mention, label))
        result.kept.append((mention, label))
        for ent in aligned.entities:
            if ent.key() not in spans:
                spans.add(ent.key())
                result.entities.append(ent)
    result.entities.sort()
    return result
