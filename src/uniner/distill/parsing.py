"""Parse a teacher's list-of-tuples answer in every shape LLMs actually produce.

The paper's prompt asks for ``[("entity 1", "type of entity 1"), ... ]``. What comes back varies:
Python tuple syntax, JSON lists of pairs (or of ``{"entity": .., "type": ..}`` objects), single or
backslash-escaped quotes, prose before and after, Markdown code fences, one tuple per line without
the brackets, and answers cut off by the token limit. Parsing is layered, strict first:

1. the text inside the first code fence, if any, else the whole text;
2. the outermost ``[...]`` read as JSON, then as a Python literal (also after un-escaping ``\\"``);
3. a tolerant scanner that collects every *complete* ``(str, str)`` / ``[str, str]`` pair, so
   a truncated answer still yields the tuples that were finished before the cut.

Nothing is dropped silently: the result says which layer succeeded (``status``) and how many pair
candidates were malformed, and an answer that yields nothing and is not an explicit empty answer
is ``unparseable``; the caller keeps and counts it.
"""

from __future__ import annotations

import ast
import json
import re
from dataclasses import dataclass, field

OK = "ok"  # a well-formed list, read whole
SALVAGED = "salvaged"  # pairs recovered by the tolerant scanner (truncated or malformed list)
EMPTY = "empty"  # an explicit empty answer: "[]", "None", "no entities"
UNPARSEABLE = "unparseable"
STATUSES = (OK, SALVAGED, EMPTY, UNPARSEABLE)

_FENCE = re.compile(r"```[\w+-]*[ \t]*\n?(.*?)(?:```|\Z)", re.DOTALL)
_EMPTY_WORDS = re.compile(
    r"^\W*(none|no entities( found)?|there are no entities[^\n]*|n/?a|nothing|empty)\W*$",
    re.IGNORECASE,
)
_ENTITY_KEYS = ("entity", "name", "mention", "text", "span", "entity_name")
_TYPE_KEYS = ("type", "entity_type", "label", "category", "definition", "type_of_entity")


@dataclass(frozen=True, slots=True)
class ParseResult:
    """Pairs ``(mention, type)`` in answer order, how they were obtained, and what was odd."""

    pairs: tuple[tuple[str, str], ...]
    status: str
    malformed: int = 0  # pair-like items that were not two strings
    notes: tuple[str, ...] = field(default=())

    @property
    def ok(self) -> bool:
        return self.status in (OK, SALVAGED, EMPTY)


def _fenced(text: str) -> str:
    """The body of the first code fence that looks like an answer, else the text itself."""
    for m in _FENCE.finditer(text):
        body = m.group(1)
        if "(" in body or "[" in body:
            return body
    return text


def _outer_list(text: str) -> str | None:
    start = text.find("[")
    end = text.rfind("]")
    if start == -1 or end <= start:
        return None
    return text[start : end + 1]


def _as_pairs(value: object) -> tuple[list[tuple[str, str]], int] | None:
    """Pairs from a decoded list; None when the value is not a list at all."""
    if isinstance(value, tuple) and len(value) == 2 and all(isinstance(v, str) for v in value):
        value = [value]  # a single bare tuple
    if not isinstance(value, (list, tuple)):
        return None
    pairs: list[tuple[str, str]] = []
    bad = 0
    for item in value:
        if isinstance(item, (list, tuple)) and len(item) == 2:
            a, b = item
            if isinstance(a, str) and isinstance(b, str):
                pairs.append((a, b))
                continue
        elif isinstance(item, dict):
            ent = next((item[k] for k in _ENTITY_KEYS if isinstance(item.get(k), str)), None)
            typ = next((item[k] for k in _TYPE_KEYS if isinstance(item.get(k), str)), None)
            if ent is not None and typ is not None:
                pairs.append((ent, typ))
                continue
        bad += 1
    return pairs, bad


def _literal(chunk: str) -> object:
    """The chunk as JSON, else as a Python literal, else None.

    JSON first: where a chunk is both, JSON's reading is the right one (``"\\ud83d\\ude00"`` is
    one emoji in JSON but two lone surrogates to Python, ``"\\/"`` is ``/``); Python tuples and
    single quotes are not JSON and fall through to ``ast.literal_eval``.
    """
    try:
        return json.loads(chunk)
    except (ValueError, RecursionError):
        pass
    try:
        return ast.literal_eval(chunk)
    except (ValueError, SyntaxError, MemoryError, RecursionError, TypeError):
        return None


def _read_quoted(s: str, i: int) -> tuple[str, int] | None:
    """A quoted string starting at ``s[i]`` (``'`` or ``"``), tolerant of inner apostrophes.

    The closing quote is the first same quote that is followed (after spaces) by ``,``, ``)``
    or ``]``, so ``'O'Reilly'`` reads as ``O'Reilly``. Backslash escapes are honoured.
    Returns the string and the index after the closing quote, or None if it never closes.
    """
    q = s[i]
    j = i + 1
    out: list[str] = []
    n = len(s)
    while j < n:
        ch = s[j]
        if ch == "\\" and j + 1 < n:
            nxt = s[j + 1]
            out.append({"n": "\n", "t": "\t"}.get(nxt, nxt))
            j += 2
            continue
        if ch == q:
            k = j + 1
            while k < n and s[k] in " \t":
                k += 1
            if k >= n or s[k] in ",)]}\n":
                return "".join(out), j + 1
        out.append(ch)
        j += 1
    return None


def _scan_pairs(s: str) -> tuple[list[tuple[str, str]], int]:
    """Every complete ``(q1, q2)`` or ``[q1, q2]`` in ``s``; count openers that went wrong."""
    pairs: list[tuple[str, str]] = []
    bad = 0
    i, n = 0, len(s)
    while i < n:
        ch = s[i]
        if ch not in "([":
            i += 1
            continue
        close = ")" if ch == "(" else "]"
        j = i + 1
        while j < n and s[j].isspace():
            j += 1
        if j >= n or s[j] not in "'\"":
            i += 1  # an outer list bracket, or not a pair
            continue
        first = _read_quoted(s, j)
        if first is None:
            break  # truncated inside the first string: nothing complete follows
        a, j = first
        while j < n and s[j].isspace():
            j += 1
        if j >= n:
            break
        if s[j] != ",":
            bad += 1
            i = j
            continue
        j += 1
        while j < n and s[j].isspace():
            j += 1
        if j >= n:
            break
        if s[j] not in "'\"":
            bad += 1
            i = j
            continue
        second = _read_quoted(s, j)
        if second is None:
            break
        b, j = second
        while j < n and s[j].isspace():
            j += 1
        if j < n and s[j] == close:
            pairs.append((a, b))
            i = j + 1
        elif j >= n:
            break  # cut before the closing bracket: incomplete, not salvaged
        else:
            bad += 1  # three-element tuple or stray text
            depth_end = s.find(close, j)
            i = depth_end + 1 if depth_end != -1 else n
    return pairs, bad


def _unescape(s: str) -> str:
    return s.replace('\\"', '"').replace("\\'", "'")


def parse_teacher_output(text: object) -> ParseResult:
    """Pairs ``(mention, type)`` from a teacher answer; see the module docstring for the rules.

    Anything but a string (a ``None`` content from an API, say) is ``unparseable``.
    """
    if not isinstance(text, str):
        return ParseResult((), UNPARSEABLE, notes=("not a string",))
    body = _fenced(text).strip()
    notes: list[str] = []
    if body != text.strip():
        notes.append("code fence")
    for candidate, note in ((body, None), (_unescape(body), "escaped quotes")):
        chunk = _outer_list(candidate)
        if chunk is None:
            continue
        value = _literal(chunk)
        got = _as_pairs(value) if value is not None else None
        if got is None:
            continue
        pairs, bad = got
        if note:
            notes.append(note)
        if chunk != candidate:
            notes.append("surrounding prose")
        if not pairs and bad == 0:
            return ParseResult((), EMPTY, 0, tuple(notes))
        if pairs:
            return ParseResult(tuple(pairs), OK, bad, tuple(notes))
    pairs, bad = _scan_pairs(body)
    if not pairs and '\\"' in body:
        pairs, bad = _scan_pairs(_unescape(body))
        if pairs:
            notes.append("escaped quotes")
    if pairs:
        return ParseResult(tuple(pairs), SALVAGED, bad, tuple(notes))
    if _EMPTY_WORDS.match(body) or re.fullmatch(r"\[\s*\]", body):
        return ParseResult((), EMPTY, bad, tuple(notes))
    return ParseResult((), UNPARSEABLE, bad, tuple(notes))
