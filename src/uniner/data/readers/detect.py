"""Format detection by extension and by sniffing the head of a file.

JSON files are classified by the keys of their first record (read with the streaming decoder,
so only the head is parsed). Column files are classified by which column looks like O/B-/I- tags
in most of the first lines: the last column (``bio``), the first (``bio-tag-first``), or the last
with an integer first column (``conllu``); ``#`` comment lines (MultiCoNER's ``# id``) are left
out of that vote. Anything else is a label list (short lines, ``.txt``) or plain text.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from itertools import islice
from pathlib import Path

from uniner.data.errors import DataFormatError
from uniner.data.readers._common import PathLike, first_char, iter_json_array, iter_lines
from uniner.data.readers.bio import DOCSTART, is_tag, split_columns

JSON_EXTS = frozenset({".json", ".jsonl", ".ndjson"})
COLUMN_EXTS = frozenset({".txt", ".tsv", ".bio", ".iob", ".iob2", ".conll", ".conllu"})
SNIFF_LINES = 200
HEAD_CHARS = 65536
MAX_LABEL_CHARS = 100
# Looser than a valid tag, so that a file with a few bad tags (``X-PER``) is still recognised as
# a column file and the reader can point at the bad line.
TAG_SHAPE = re.compile(r"O|[A-Z]-\S.*")


def _tag_shaped(value: str) -> bool:
    return is_tag(value) or TAG_SHAPE.fullmatch(value) is not None


def classify_record(record: object) -> str | None:
    """The format whose records look like ``record`` (by its keys), or None."""
    if isinstance(record, str):
        return "label-list"
    if not isinstance(record, Mapping):
        return None
    keys = set(record)
    if "conversations" in keys:
        return "uniner-conversation"
    if {"sentence", "entities"} <= keys:
        return "instructuie"
    if {"tokenized_text", "ner"} <= keys:
        return "gliner-json"
    if {"tagName", "input", "output"} <= keys:
        return "slimer-jsonl"
    if "text" in keys and keys & {"entities", "spans", "label"}:
        return "offsets"
    return None


def _head(path: Path) -> str:
    with open(path, encoding="utf-8-sig", errors="replace") as fh:
        return fh.read(HEAD_CHARS)


def _sniff_json(path: Path, ch: str) -> str:
    if ch == "[":
        first = next(iter_json_array(path), None)
        if first is None:
            raise DataFormatError(
                path,
                "empty JSON list: cannot tell its format",
                expected="at least one record, or an explicit format",
            )
        _, record = first
        fmt = classify_record(record)
    else:
        head = _head(path)
        if '"gpt_answer"' in head or '"named_entity"' in head:
            return "slimer-definitions"
        if '"target_words_in_it"' in head:
            return "type-sentences"
        try:
            record = json.loads(head.split("\n", 1)[0])
        except (ValueError, RecursionError):  # malformed, or a huge number or deep nesting
            record = None
        fmt = classify_record(record)
    if fmt is None:
        raise DataFormatError(
            path,
            "unknown JSON record shape",
            line=1,
            expected="records of a known format (see uniner.data.readers.FORMATS)",
        )
    return fmt


def _sniff_columns(path: Path) -> str:
    raw = [line for _, line in islice((x for x in iter_lines(path) if x[1].strip()), SNIFF_LINES)]
    rows = [cols for cols in map(split_columns, raw) if DOCSTART not in cols]
    # A comment's last column is never tag-shaped; a "#" token with its tag still votes.
    rows = [r for r in rows if not (r[0].startswith("#") and not _tag_shaped(r[-1]))]
    multi = [r for r in rows if len(r) >= 2]
    if rows and len(multi) * 2 > len(rows):
        half = len(multi) / 2
        last = [r[-1] for r in multi]
        first = [r[0] for r in multi]
        last_ok = sum(map(_tag_shaped, last)) > half
        first_ok = sum(map(_tag_shaped, first)) > half
        if last_ok and sum(len(r) >= 3 and r[0].isdigit() for r in multi) > half:
            return "conllu"
        if last_ok and first_ok:  # e.g. an all-O block: the column with more B-/I- wins
            in_first = sum(t != "O" and is_tag(t) for t in first)
            in_last = sum(t != "O" and is_tag(t) for t in last)
            return "bio-tag-first" if in_first > in_last else "bio"
        if last_ok:
            return "bio"
        if first_ok:
            return "bio-tag-first"
    short = all("\t" not in line and len(line.strip()) <= MAX_LABEL_CHARS for line in raw)
    if path.suffix.lower() in COLUMN_EXTS and raw and short:
        return "label-list"
    return "text"


def detect_format(path: PathLike) -> str:
    """Name of the format of ``path`` (a key of ``FORMATS``).

    Raises FileNotFoundError for a missing file and :class:`DataFormatError` for an empty file
    or a JSON file whose records match no known format.
    """
    p = Path(path)
    if not p.is_file():
        raise FileNotFoundError(f"no such data file: {p}")
    ch = first_char(p)
    if ch == "":
        raise DataFormatError(p, "file is empty", expected="a data file with content")
    ext = p.suffix.lower()
    if ext in JSON_EXTS or (ext not in COLUMN_EXTS and ch in "[{"):
        return _sniff_json(p, ch)
    return _sniff_columns(p)
