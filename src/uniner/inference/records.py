"""Input records of a corpus extraction, their checks, and the fields the span student adds.

Why here and not in the CLI: ``uniner extract -i`` (:mod:`uniner.cli.extract_file`) and its Ray
engine (:mod:`uniner.scale`) must read, check and answer records exactly alike, so that a bad
record is the same one line naming the file and line in both, and the two engines write equal
output records. The Ray engine is not the CLI, and a module below both keeps one definition
without either reaching into the other.

A record is ``{"text": ..., "labels": [...]}`` (``labels`` may come from the command's ``-l``
options instead) with any other fields, which go to the output unchanged; a plain text file gives
one record per non-blank line.
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import IO, Any

from uniner.data.errors import DataFormatError
from uniner.data.readers._common import iter_json_lines, iter_lines
from uniner.errors import RUNTIME, UserError

JSONL_SUFFIXES = (".jsonl", ".json", ".ndjson")
RECORD = '{"text": ..., "labels": [...]}'


def unicode_problem(value: str) -> str | None:
    """Why ``value`` cannot be written as UTF-8 (a lone surrogate, from a JSON ``\\ud800``
    escape or an undecodable command-line byte), or None when it can."""
    try:
        value.encode("utf-8")
    except UnicodeEncodeError as exc:
        return f"holds a lone surrogate {value[exc.start]!r} at character {exc.start}"
    return None


def check_labels(
    labels: Sequence[Any],
    where: Callable[[str], Exception],
    name: Callable[[int], str] = "labels[{}]".format,
) -> list[str]:
    """The labels if each is a non-blank, writable string; else ``where(message)`` is raised,
    the message naming the label by ``name(index)``."""
    for i, lab in enumerate(labels):
        if not isinstance(lab, str):
            raise where(f"{name(i)} is a {type(lab).__name__}, not a string")
        if not lab.strip():
            raise where(f"{name(i)} is blank ({lab!r})")
        problem = unicode_problem(lab)
        if problem:
            raise where(f"{name(i)} {problem}")
    return list(labels)


def check_record(path: Path, n: int, rec: Any, default_labels: Sequence[str]) -> dict[str, Any]:
    """One input record made complete (``labels``, ``id``) or a DataFormatError naming line n."""

    def bad(message: str) -> DataFormatError:
        return DataFormatError(path, message, line=n, expected=RECORD)

    if not isinstance(rec, dict) or not isinstance(rec.get("text"), str):
        raise bad("no 'text' string")
    problem = unicode_problem(rec["text"])
    if problem:
        raise bad(f"'text' {problem}")
    labels = rec.get("labels") or list(default_labels)
    if not labels:
        raise DataFormatError(
            path, "no labels", line=n, expected="'labels' in the record or -l options"
        )
    if not isinstance(labels, list):
        raise bad(f"'labels' is a {type(labels).__name__}, not a list")
    rec["labels"] = check_labels(labels, bad)
    rec.setdefault("id", n)
    try:  # any other field goes to the output as it is: it must be writable too
        json.dumps(rec, ensure_ascii=False).encode("utf-8")
    except UnicodeEncodeError:
        raise bad("a field holds a lone surrogate (not valid Unicode)") from None
    return rec


def read_inputs(path: Path, default_labels: Sequence[str]) -> Iterator[dict[str, Any]]:
    """Records of a .jsonl file ({"text", optional "labels", "id", any other field}) or the
    non-blank lines of a text file, each checked (see :func:`check_record`)."""
    rows: Iterator[tuple[int, Any]]
    if path.suffix in JSONL_SUFFIXES:
        rows = iter_json_lines(path, allow_empty=True)
    else:
        rows = ((n, {"text": t}) for n, t in iter_lines(path, allow_empty=True) if t.strip())
    for n, rec in rows:
        yield check_record(path, n, rec, default_labels)


def open_locked(partial: Path) -> IO[bytes]:
    """``partial`` opened for appending and locked: two runs writing one output at once would
    interleave their lines, so the second is refused."""
    fh = open(partial, "ab")  # noqa: SIM115 (closed by the caller)
    try:
        import fcntl
    except ImportError:  # not POSIX: no advisory locks
        return fh
    try:
        fcntl.flock(fh.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        fh.close()
        raise UserError(f"{partial}: another uniner extract is writing it now", RUNTIME) from None
    return fh


def model_identity(model: str | None) -> str | None:
    """The model as a resume key: a local folder by its absolute path, else the name given."""
    if model is not None and os.path.isdir(model):
        return os.path.realpath(model)
    return model


def span_rows(
    extractor: Any,
    chunk: list[dict[str, Any]],
    threshold: float | None,
    mode: str,
    multi_label: bool | None,
    progress: Any = None,
) -> list[dict[str, Any]]:
    """The fields the span student adds to each input record: one definition for every engine
    (this process, or the actors of ``--engine ray``), so their outputs are the same."""
    res = extractor.extract_each(
        [r["text"] for r in chunk],
        [r["labels"] for r in chunk],
        threshold,
        mode,
        multi_label,
        progress=progress,
    )
    return [{"entities": [e.to_dict() for e in r.entities], "windowed": r.windowed} for r in res]
