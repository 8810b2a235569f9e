"""Shared helpers for the readers: UTF-8 line streaming, JSON streaming and error translation.

Every reader reports malformed input as :class:`DataFormatError` with the file, the 1-based line
and what was expected, so these helpers keep track of line numbers even inside JSON lists (which
are often written on one single line: then the message also gives the character offset).
"""

from __future__ import annotations

import gzip
import io
import json
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any, TypeGuard

import ijson

from uniner.data.errors import DataFormatError

PathLike = str | Path
CHUNK = 1 << 16  # at most this many characters go to the JSON parser at a time


def open_text(path: PathLike, errors: str = "strict") -> io.TextIOBase:
    """Open a UTF-8 text file for reading, gzip-compressed when its name ends in ``.gz``."""
    if str(path).lower().endswith(".gz"):
        return io.TextIOWrapper(gzip.open(path, "rb"), encoding="utf-8-sig", errors=errors)
    return open(path, encoding="utf-8-sig", errors=errors)


def iter_lines(
    path: PathLike, *, allow_empty: bool = False, errors: str = "strict"
) -> Iterator[tuple[int, str]]:
    """Yield ``(line_number, line)`` without the line ending; empty file -> "file is empty".

    Decoding errors become :class:`DataFormatError` (the data is documented as UTF-8);
    ``errors="replace"`` reads raw corpora leniently instead. ``.gz`` files are decompressed.
    ``allow_empty`` is for streams where an empty file simply means no records (corpora,
    resumable outputs).
    """
    if not allow_empty and first_char(path) == "":
        raise DataFormatError(path, "file is empty", expected="at least one record")
    n = 0
    try:
        with open_text(path, errors) as fh:
            for n, raw in enumerate(fh, 1):
                yield n, raw.rstrip("\r\n")
    except UnicodeDecodeError as exc:
        line = bad_utf8_line(path) or n + 1
        raise DataFormatError(path, f"not valid UTF-8 ({exc.reason})", line=line) from exc


def bad_utf8_line(path: PathLike) -> int | None:
    """The 1-based line holding the first byte that is not UTF-8, found by decoding line by line.

    Text streams decode ahead in chunks, so where the decoder fails says nothing about the line;
    this second pass runs only on that error, to name the right one.
    """
    gz = str(path).lower().endswith(".gz")
    with gzip.open(path, "rb") if gz else open(path, "rb") as fh:
        for n, raw in enumerate(fh, 1):
            try:
                raw.decode("utf-8")
            except UnicodeDecodeError:
                return n
    return None


def read_text(path: PathLike) -> str:
    """Whole file as text; raises "file is empty" for a blank file."""
    try:
        with open(path, encoding="utf-8-sig") as fh:
            text = fh.read()
    except UnicodeDecodeError as exc:
        raise DataFormatError(path, f"not valid UTF-8 ({exc.reason})") from exc
    if not text.strip():
        raise DataFormatError(path, "file is empty", expected="a JSON document")
    return text


def json_error(path: PathLike, exc: json.JSONDecodeError, *, base_line: int = 1) -> DataFormatError:
    """Translate a decoder error (whose ``lineno`` is relative to the decoded text) to the file."""
    line = base_line + exc.lineno - 1
    msg = exc.msg
    doc = exc.doc.rstrip()
    if exc.pos >= len(doc) or doc[-1:] not in ("]", "}"):  # the document was cut off
        msg = f"truncated JSON ({msg})"
    return DataFormatError(
        path, f"{msg} at column {exc.colno}", line=line, expected="well-formed, complete JSON"
    )


def too_big(path: PathLike, exc: Exception, line: int | None) -> DataFormatError:
    """What the decoder refuses beyond syntax: an integer longer than Python converts (4,300
    digits, a ValueError) or nesting deeper than the recursion limit (a RecursionError)."""
    return DataFormatError(
        path,
        f"JSON value too large to decode ({type(exc).__name__}: {str(exc)[:80]})",
        line=line,
        expected="numbers of at most 4,300 digits and nesting of a few hundred levels",
    )


def load_json(path: PathLike) -> Any:
    """Parse a whole (small) JSON document, reporting syntax errors with their line."""
    text = read_text(path)
    try:
        return json.loads(text)
    except json.JSONDecodeError as exc:
        raise json_error(path, exc) from exc
    except (ValueError, RecursionError) as exc:
        raise too_big(path, exc, None) from exc


def load_json_object(path: PathLike, expected: str) -> dict[str, Any]:
    """A whole (small) JSON document whose top level must be an object."""
    data = load_json(path)
    if not isinstance(data, dict):
        raise DataFormatError(
            path, f"top level is a {type(data).__name__}", line=1, expected=expected
        )
    return data


class _LineChunks:
    """A binary file object for ijson that hands out at most one line (and at most ``CHUNK``
    characters) per read, so that every parse event comes from a known line.

    ijson reports no positions; feeding it line by line is how an element's first line and an
    error's line are known. Decoding happens here (UTF-8, a BOM skipped), so a bad byte is
    reported with its line rather than as a parser error.
    """

    def __init__(self, path: PathLike) -> None:
        self.path = path
        self.fh = open(path, encoding="utf-8-sig")  # noqa: SIM115 (closed in close())
        self.line = 1  # line of the chunk handed out last
        self.ends_line = False  # whether that chunk ended its line
        self.eof = False

    def read(self, size: int = -1) -> bytes:
        if size == 0:  # ijson probes the stream's type with read(0)
            return b""
        try:
            chunk = self.fh.readline(CHUNK)
        except UnicodeDecodeError as exc:
            line = bad_utf8_line(self.path) or self.line
            raise DataFormatError(self.path, f"not valid UTF-8 ({exc.reason})", line=line) from exc
        self.line += self.ends_line
        self.ends_line = chunk.endswith("\n")
        self.eof = not chunk
        return chunk.encode("utf-8")

    def close(self) -> None:
        self.fh.close()


MAX_DEPTH = 500  # nesting refused beyond this (the readers walk records recursively)
_OPEN = ("start_map", "start_array")
_CLOSE = ("end_map", "end_array")


def _list_too_big(path: PathLike, reason: str, line: int) -> DataFormatError:
    """What the streaming parser refuses beyond syntax (its limits are not the stdlib's)."""
    return DataFormatError(
        path,
        f"JSON value too large to decode ({reason})",
        line=line,
        expected=f"64-bit integers, finite numbers, at most {MAX_DEPTH} levels of nesting",
    )


class _ListState:
    """Where the parse of a top-level JSON list stands, for error messages: elements complete,
    nesting depth, whether the list has closed."""

    def __init__(self, source: _LineChunks) -> None:
        self.source = source
        self.done = 0
        self.depth = 0
        self.closed = False

    def elements(self, events: Iterator[tuple[str, Any]]) -> Iterator[tuple[int, Any]]:
        """``(first line, value)`` of each element, built from ijson's basic events."""
        builder: ijson.ObjectBuilder | None = None
        start = 0
        for kind, value in events:
            if kind in _OPEN:
                self.depth += 1
                if self.depth > MAX_DEPTH:
                    reason = f"nesting deeper than {MAX_DEPTH} levels"
                    raise _list_too_big(self.source.path, reason, self.source.line)
            elif kind in _CLOSE:
                self.depth -= 1
                self.closed = self.depth == 0
            if self.depth == 0 or (self.depth == 1 and kind in _OPEN):
                continue  # the list's own brackets
            if builder is None:
                builder, start = ijson.ObjectBuilder(), self.source.line
            builder.event(kind, value)
            if self.depth == 1:  # a scalar element, or a container element just closed
                self.done += 1
                yield start, builder.value
                builder = None

    def error(self, exc: Exception) -> DataFormatError:
        """The parser's complaint as a format error naming the line and the element."""
        path, line = self.source.path, self.source.line
        reason = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        if "overflow" in reason:  # a number past 64-bit integers or a double's range
            return _list_too_big(path, reason, line)
        if isinstance(exc, UnicodeError):  # a \u escape naming a lone low surrogate
            reason = f"invalid \\u escape: {reason}"
        if self.closed:
            what = f"extra data after the JSON list ({reason})"
            return DataFormatError(path, what, line=line, expected="end of file")
        truncated = self.source.eof
        if self.depth <= 1:
            what = "truncated JSON list" if truncated else "malformed JSON list"
            return DataFormatError(
                path,
                f"{what} after {self.done} element(s) ({reason})",
                line=line,
                expected="an element, ',' or ']'",
            )
        what = "truncated JSON" if truncated else "malformed JSON"
        return DataFormatError(
            path,
            f"{what} in element {self.done} ({reason})",
            line=line,
            expected="a complete JSON value",
        )


def iter_json_array(path: PathLike) -> Iterator[tuple[int, Any]]:
    """Stream the elements of a top-level JSON list as ``(line, element)``, one at a time.

    ijson parses (its basic events: no per-event key paths, which grow with the nesting);
    memory stays bounded by the largest element plus a chunk. The line is where the element
    starts; errors carry the line where the parser stopped and the element it was in. Numbers
    past 64-bit integers or a double's range, NaN/Infinity and a ``\\u`` escape of a lone low
    surrogate are refused, and one of a lone high surrogate reads as "?" (ijson's yajl backend;
    the stdlib decoder accepts all of them, and none is a valid record value here).
    """
    first = first_char(path)
    if first == "":
        raise DataFormatError(path, "file is empty", expected="a JSON list")
    if first != "[":
        raise DataFormatError(path, f"found {first!r}", expected="a JSON list starting with '['")
    source = _LineChunks(path)
    state = _ListState(source)
    try:
        yield from state.elements(ijson.basic_parse(source, use_float=True))
    except DataFormatError:
        raise
    except (ijson.JSONError, ValueError) as exc:
        raise state.error(exc) from exc
    finally:
        source.close()


def iter_json_lines(
    path: PathLike, *, allow_empty: bool = False, errors: str = "strict"
) -> Iterator[tuple[int, Any]]:
    """Stream a JSON-lines file as ``(line, value)``; blank lines are skipped (see iter_lines)."""
    for n, line in iter_lines(path, allow_empty=allow_empty, errors=errors):
        if not line.strip():
            continue
        try:
            value = json.loads(line)
        except json.JSONDecodeError as exc:
            raise json_error(path, exc, base_line=n) from exc
        except (ValueError, RecursionError) as exc:
            raise too_big(path, exc, n) from exc
        yield n, value


def first_char(path: PathLike) -> str:
    """First non-whitespace character of a file ("" if none), reading only its head."""
    with open_text(path, errors="replace") as fh:
        while True:
            chunk = fh.read(4096)
            if not chunk:
                return ""
            stripped = chunk.lstrip()
            if stripped:
                return stripped[0]


def iter_json_records(path: PathLike) -> Iterator[tuple[int, Any]]:
    """Records of a JSON list or of a JSON-lines file (decided by the first character)."""
    ch = first_char(path)
    if ch == "":
        raise DataFormatError(path, "file is empty", expected="a JSON list or JSON lines")
    if ch == "[":
        return iter_json_array(path)
    return iter_json_lines(path)


def is_json_int(value: Any) -> TypeGuard[int]:
    """An integer as JSON has it: ``true``/``false`` decode to bool, a subclass of int, and
    must not pass as offsets or counts."""
    return isinstance(value, int) and not isinstance(value, bool)


def require_mapping(
    path: PathLike, value: Any, line: int, expected: str, what: str = "record"
) -> Mapping[str, Any]:
    """Check a decoded record is a JSON object, else raise with the record's line."""
    if not isinstance(value, Mapping):
        raise DataFormatError(
            path, f"{what} is a {type(value).__name__}, not an object", line=line, expected=expected
        )
    return value


def require_key(
    path: PathLike,
    record: Mapping[str, Any],
    key: str,
    typ: type | tuple[type, ...],
    line: int,
    expected: str,
) -> Any:
    """``record[key]`` if present and of type ``typ``, else a DataFormatError naming the key."""
    if key not in record:
        raise DataFormatError(path, f"missing key {key!r}", line=line, expected=expected)
    value = record[key]
    if not isinstance(value, typ) or isinstance(value, bool):
        raise DataFormatError(
            path, f"key {key!r} is a {type(value).__name__}", line=line, expected=expected
        )
    return value


def join_tokens(tokens: list[str] | tuple[str, ...]) -> tuple[str, list[int]]:
    """Tokens joined by single spaces, and each token's character start in that text.

    Column and pre-tokenised formats have no original text; this join is the text every reader
    of them produces, so offsets agree across formats.
    """
    starts: list[int] = []
    pos = 0
    for tok in tokens:
        starts.append(pos)
        pos += len(tok) + 1
    return " ".join(tokens), starts
