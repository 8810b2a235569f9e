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
from typing import Any

from uniner.data.errors import DataFormatError

PathLike = str | Path
CHUNK = 1 << 20  # characters read at a time when streaming a JSON list


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


class _Cursor:
    """A growing window over a text file with line accounting, for incremental JSON decoding."""

    def __init__(self, path: PathLike) -> None:
        self.path = path
        self.fh = open(path, encoding="utf-8-sig")  # noqa: SIM115 (closed in close())
        self.buf = ""
        self.pos = 0  # index into buf
        self.line = 1  # line number of buf[pos]
        self.offset = 0  # character offset in the file of buf[0]
        self.eof = False

    def close(self) -> None:
        self.fh.close()

    def fill(self) -> bool:
        """Read another chunk; False at end of file. Drops what was consumed to bound memory."""
        if self.eof:
            return False
        try:
            chunk = self.fh.read(CHUNK)
        except UnicodeDecodeError as exc:
            line = bad_utf8_line(self.path) or self.line
            raise DataFormatError(self.path, f"not valid UTF-8 ({exc.reason})", line=line) from exc
        if not chunk:
            self.eof = True
            return False
        if self.pos > CHUNK:
            self.offset += self.pos
            self.buf = self.buf[self.pos :]
            self.pos = 0
        self.buf += chunk
        return True

    def advance(self, to: int) -> None:
        self.line += self.buf.count("\n", self.pos, to)
        self.pos = to

    def skip_ws(self) -> str:
        """Skip whitespace; return the next character or "" at end of file."""
        while True:
            n = len(self.buf)
            p = self.pos
            while p < n and self.buf[p] in " \t\r\n":
                p += 1
            self.advance(p)
            if p < n:
                return self.buf[p]
            if not self.fill():
                return ""

    def where(self) -> str:
        return f"character {self.offset + self.pos}"

    def error(self, message: str, expected: str | None = None) -> DataFormatError:
        return DataFormatError(
            self.path, f"{message} at {self.where()}", line=self.line, expected=expected
        )


def iter_json_array(path: PathLike) -> Iterator[tuple[int, Any]]:
    """Stream the elements of a top-level JSON list as ``(line, element)``, one at a time.

    Memory stays bounded by the largest element (plus a chunk), and errors carry the line and
    character offset where the bad element starts.
    """
    decoder = json.JSONDecoder()
    cur = _Cursor(path)
    try:
        first = cur.skip_ws()
        if first == "":
            raise DataFormatError(path, "file is empty", expected="a JSON list")
        if first != "[":
            raise cur.error(f"found {first!r}", expected="a JSON list starting with '['")
        cur.advance(cur.pos + 1)
        index = 0
        while True:
            ch = cur.skip_ws()
            if ch == "":
                raise cur.error("truncated JSON list", expected="an element or ']'")
            if ch == "]" and index == 0:
                cur.advance(cur.pos + 1)
                break
            while True:
                try:
                    value, end = decoder.raw_decode(cur.buf, cur.pos)
                except json.JSONDecodeError as exc:
                    if cur.fill():
                        continue
                    # at end of file: a list that is never closed was cut off
                    rest = cur.buf.rstrip()
                    at_end = exc.pos >= len(rest) or not rest.endswith("]")
                    what = "truncated JSON" if at_end else "malformed JSON"
                    err_line = cur.line + cur.buf.count("\n", cur.pos, exc.pos)
                    raise DataFormatError(
                        path,
                        f"{what} in element {index} ({exc.msg}, character {cur.offset + exc.pos})",
                        line=err_line,
                        expected="a complete JSON value",
                    ) from exc
                except (ValueError, RecursionError) as exc:
                    raise too_big(path, exc, cur.line) from exc
                if end >= len(cur.buf) and cur.fill():
                    continue  # a number might go on in the next chunk
                break
            yield cur.line, value
            cur.advance(end)
            index += 1
            ch = cur.skip_ws()
            if ch == ",":
                cur.advance(cur.pos + 1)
                continue
            if ch == "]":
                cur.advance(cur.pos + 1)
                break
            if ch == "":
                raise cur.error("truncated JSON list", expected="',' or ']'")
            raise cur.error(f"found {ch!r} after element {index - 1}", expected="',' or ']'")
        if cur.skip_ws() != "":
            raise cur.error("extra data after the JSON list", expected="end of file")
    finally:
        cur.close()


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


def is_json_int(value: Any) -> bool:
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
