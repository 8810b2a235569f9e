"""Turn mention strings into character spans.

A teacher LLM (data construction) or a generative student (inference) answers with mention
*strings*; everything downstream (offset metrics, span students, spaCy docs) needs *offsets*.
:func:`align_mentions` finds the strings in the text under explicit, documented rules rather
than a bare ``str.find``, because each shortcut of ``find`` is a real failure mode:

* **Word boundaries.** "art" must not match inside "start". A boundary is required only on a
  side where the mention's edge character is a word character (letter, digit, underscore, or a
  combining mark, so "Cafe" does not match the first four code points of a decomposed
  "Cafe\\u0301"). Mentions that begin or end with punctuation ("U.S.", "C++", "(AI)") therefore
  still match wherever the punctuation sits.
* **Which occurrences** (``mode``). The choice is explicit, in the spirit of spacy-llm's named
  alignment modes:

  ``"all"`` (default)
      every non-overlapping occurrence, scanning left to right. An answer lists each name
      once, but the text usually repeats it, and gold annotations mark every repetition.
  ``"first"``
      only the leftmost occurrence: for callers that want one span per answered string.

* **Strict first, lenient only as a fallback.** For each mention the matchers are tried in this
  order and the first one that finds *any* occurrence wins (a lenient match never adds to an
  exact one):

  1. ``exact``: the mention as given (after stripping its outer whitespace);
  2. ``casefold``: case-insensitive via :func:`fold_case` (``str.casefold``, with Turkish "İ"
     folding to "i"), so "STRASSE" finds "Straße" and "izmir" finds "İzmir";
  3. ``whitespace``: runs of whitespace in mention and text are treated as equal ("New  York"
     finds "New\\nYork"), case-sensitive;
  4. ``whitespace+casefold``: both relaxations;
  5. ``unicode``: steps 1-4 again with the mention in NFC, then NFD form, so that a composed
     "é" finds a decomposed one (the text itself is never rewritten).

  Steps 2-5 can each be switched off (``case_insensitive``, ``collapse_whitespace``,
  ``unicode_normalize``) for a strict aligner.
* **Offsets always index the original text.** Case folding can change length ("ß" -> "ss",
  "İ" -> "i" + U+0307) and whitespace collapsing shortens runs, so lenient matching runs on a
  transformed copy that keeps, for every transformed character, the original character range
  it came from. A match counts only if it starts and ends on whole original characters (the
  "s" of a folded "ß" is not a match), and ``text[start:end]`` is returned as the entity text.
* **Nothing is dropped silently.** Strings that cannot be found (and empty or whitespace-only
  mentions) are returned in ``unfound``, so data construction can report its losses.

Mentions are de-duplicated (after stripping) before searching, and identical spans found by
different mentions ("Paris" and "paris") are returned once. Overlapping spans from different
mentions ("New York" and "York") are all kept: resolving overlaps is the caller's decision.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from uniner.data.types import Entity, ValidationError

MODES = ("all", "first")


def is_word_char(ch: str) -> bool:
    """Letters, digits, underscore and combining marks: what a word boundary must not split."""
    return ch.isalnum() or ch == "_" or unicodedata.category(ch).startswith("M")


def _fold_char(ch: str) -> str:
    return "i" if ch == "\u0130" else ch.casefold()


def fold_case(s: str) -> str:
    """Case-fold for matching: ``str.casefold``, except that Turkish "İ" (U+0130) folds to a plain
    "i" rather than "i" + U+0307, so that "IZMIR", "izmir" and "İZMİR" all find "İzmir".

    Folding is done character by character (the result equals folding the whole string, because
    ``casefold`` has no context rules), which is what lets offsets be mapped back.
    """
    return "".join(_fold_char(ch) for ch in s)


@dataclass(frozen=True, slots=True)
class AlignmentResult:
    """The spans found, in text order, and the mention strings that could not be placed.

    ``matched_by`` records, for each found mention, which matcher found it (``"exact"``,
    ``"casefold"``, ``"whitespace"``, ``"whitespace+casefold"``, each optionally prefixed with
    ``"unicode:"``), which makes it easy to measure how much of a teacher's output needed
    leniency.
    """

    entities: tuple[Entity, ...]
    unfound: tuple[str, ...]
    matched_by: tuple[tuple[str, str], ...] = ()

    @property
    def all_found(self) -> bool:
        return not self.unfound


class _View:
    """A transformed copy of the text with a map back to original character ranges.

    The text is cut into units (one character, or one whitespace run when collapsing); each unit
    becomes a chunk of the transformed string. ``unit_of[k]`` is the unit of transformed char k.
    """

    __slots__ = ("norm", "norm_end", "norm_start", "orig_end", "orig_start", "unit_of")

    def __init__(self, text: str, *, fold: bool, collapse: bool) -> None:
        parts: list[str] = []
        self.unit_of: list[int] = []
        self.orig_start: list[int] = []
        self.orig_end: list[int] = []
        self.norm_start: list[int] = []
        self.norm_end: list[int] = []
        pos = 0
        i, n = 0, len(text)
        while i < n:
            j = i + 1
            if collapse and text[i].isspace():
                while j < n and text[j].isspace():
                    j += 1
                chunk = " "
            else:
                chunk = _fold_char(text[i]) if fold else text[i]
            unit = len(self.orig_start)
            self.orig_start.append(i)
            self.orig_end.append(j)
            self.norm_start.append(pos)
            pos += len(chunk)
            self.norm_end.append(pos)
            self.unit_of.extend([unit] * len(chunk))
            parts.append(chunk)
            i = j
        self.norm = "".join(parts)

    def to_original(self, a: int, b: int) -> tuple[int, int] | None:
        """Original range of transformed range [a, b), or None if it splits an original unit."""
        first, last = self.unit_of[a], self.unit_of[b - 1]
        if self.norm_start[first] != a or self.norm_end[last] != b:
            return None
        return self.orig_start[first], self.orig_end[last]


def _boundaries_ok(text: str, start: int, end: int) -> bool:
    if is_word_char(text[start]) and start > 0 and is_word_char(text[start - 1]):
        return False
    return not (is_word_char(text[end - 1]) and end < len(text) and is_word_char(text[end]))


def _find_spans(
    text: str, haystack: str, needle: str, to_original: Callable[[int, int], tuple[int, int] | None]
) -> list[tuple[int, int]]:
    """Non-overlapping occurrences of ``needle`` that map to whole characters at word boundaries.

    A rejected candidate advances the scan by one position only, so a bad occurrence cannot hide
    a good one that overlaps it ("a-a" in "ba-a-a" is found at 3 although 1 is rejected).
    """
    spans: list[tuple[int, int]] = []
    if not needle:
        return spans
    pos = haystack.find(needle)
    while pos != -1:
        end = pos + len(needle)
        span = to_original(pos, end)
        if span is not None and _boundaries_ok(text, *span):
            spans.append(span)
            pos = haystack.find(needle, end)
        else:
            pos = haystack.find(needle, pos + 1)
    return spans


def _identity(a: int, b: int) -> tuple[int, int] | None:
    return (a, b)


class _Searcher:
    """The strategies of one alignment call, strictest first, over views of one ``text``
    (each normalised view is built once, on first use, and shared by all the mentions)."""

    def __init__(
        self, text: str, case_insensitive: bool, collapse_whitespace: bool, unicode_normalize: bool
    ) -> None:
        self.text = text
        self.unicode_normalize = unicode_normalize
        self.views: dict[tuple[bool, bool], _View] = {}
        self.strategies: list[tuple[str, bool, bool]] = [("exact", False, False)]
        if case_insensitive:
            self.strategies.append(("casefold", True, False))
        if collapse_whitespace:
            self.strategies.append(("whitespace", False, True))
            if case_insensitive:
                self.strategies.append(("whitespace+casefold", True, True))

    def view(self, fold: bool, collapse: bool) -> _View:
        key = (fold, collapse)
        if key not in self.views:
            self.views[key] = _View(self.text, fold=fold, collapse=collapse)
        return self.views[key]

    def search(self, m: str) -> tuple[str, list[tuple[int, int]]] | None:
        """The first strategy that places ``m``, and its spans."""
        has_space = any(ch.isspace() for ch in m)
        for name, fold, collapse in self.strategies:
            if collapse:
                if not has_space:
                    continue  # without whitespace in the mention, collapsing changes nothing
                needle = " ".join(m.split())
            else:
                needle = m
            if fold:
                needle = fold_case(needle)
            if not fold and not collapse:
                spans = _find_spans(self.text, self.text, needle, _identity)
            else:
                v = self.view(fold, collapse)
                spans = _find_spans(self.text, v.norm, needle, v.to_original)
            if spans:
                return name, spans
        return None

    def find(self, m: str) -> tuple[str, list[tuple[int, int]]] | None:
        """:meth:`search`, then (if allowed) the mention's NFC and NFD forms as a last resort."""
        result = self.search(m)
        if result is None and self.unicode_normalize:
            for form in ("NFC", "NFD"):
                alt = unicodedata.normalize(form, m)
                if alt != m:
                    result = self.search(alt)
                    if result is not None:
                        return "unicode:" + result[0], result[1]
        return result


def align_mentions(
    text: str,
    mentions: Sequence[str],
    label: str,
    *,
    mode: str = "all",
    case_insensitive: bool = True,
    collapse_whitespace: bool = True,
    unicode_normalize: bool = True,
) -> AlignmentResult:
    """Character spans of ``mentions`` in ``text``, each labelled ``label``.

    See the module docstring for the rules; in short: word-boundary aware, exact before
    case-insensitive before whitespace-tolerant before Unicode-normalised, every occurrence
    (``mode="all"``) or the leftmost (``mode="first"``), and whatever cannot be placed is
    returned in ``unfound`` (in input order, as given).
    """
    if mode not in MODES:
        raise ValueError(f"unknown alignment mode {mode!r}; expected one of {MODES}")
    if not isinstance(label, str) or not label.strip():
        raise ValidationError(f"alignment needs a non-empty label, got {label!r}")
    if isinstance(mentions, str):
        raise TypeError("mentions must be a sequence of strings, not a single string")

    searcher = _Searcher(text, case_insensitive, collapse_whitespace, unicode_normalize)
    found: set[tuple[int, int]] = set()
    unfound: list[str] = []
    matched_by: list[tuple[str, str]] = []
    seen: set[str] = set()
    for mention in mentions:
        if not isinstance(mention, str):
            raise TypeError(f"mentions must be strings, got {type(mention).__name__}: {mention!r}")
        m = mention.strip()
        if m in seen:
            continue
        seen.add(m)
        if not m:
            unfound.append(mention)
            continue
        result = searcher.find(m)
        if result is None:
            unfound.append(mention)
            continue
        name, spans = result
        matched_by.append((mention, name))
        found.update(spans[:1] if mode == "first" else spans)

    entities = tuple(Entity(s, e, text[s:e], label) for s, e in sorted(found))
    return AlignmentResult(entities, tuple(unfound), tuple(matched_by))
