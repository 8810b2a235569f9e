"""Texts with character-offset spans, one JSON object per line (or a JSON list of them).

``{"text": str, "entities": [{"start": int, "end": int, "label": str}, ...], "labels": [str]}``

This is what ``uniner extract -o`` writes (extra keys such as ``score`` or ``id`` are ignored),
so a file of model output, corrected by hand, is training data again. The span lists of the
usual annotation tools are read too: Prodigy's ``"spans"`` (objects with ``start``, ``end``,
``label``) and doccano's ``"label"`` (``[[start, end, label], ...]``); objects may say ``type``
for ``label``. ``end`` is exclusive. An entity's ``text``, when given, must equal the text at
its offsets: a mismatch means the offsets count something else (bytes, tokens, another
version of the text), and the reader stops at that line rather than train on shifted spans.
``labels`` (optional) is the label set the text was annotated for, so a type with no mention
counts as a negative; without it the types that occur are the set.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

from uniner.data.errors import DataFormatError
from uniner.data.readers._common import (
    PathLike,
    is_json_int,
    iter_json_records,
    require_key,
    require_mapping,
)
from uniner.data.types import Entity, Example

RECORD = '{"text": str, "entities": [{"start": int, "end": int, "label": str}], "labels": [str]}'
SPAN_KEYS = ("entities", "spans", "label")  # uniner / spaCy-like, Prodigy, doccano
ENTITY = '{"start": int, "end": int, "label": str} or [start, end, label]'


def read_offsets(path: PathLike) -> Iterator[Example]:
    """Stream the examples of an offsets file; ids are the record's ``id`` or ``<file>:<n>``."""
    name = Path(path).name
    for index, (line, raw) in enumerate(iter_json_records(path)):
        rec = require_mapping(path, raw, line, RECORD, what=f"record {index}")
        text = require_key(path, rec, "text", str, line, RECORD)
        key = next((k for k in SPAN_KEYS if k in rec), None)
        if key is None:
            raise DataFormatError(
                path,
                f"record {index} has no span list (one of {', '.join(SPAN_KEYS)})",
                line=line,
                expected=RECORD,
            )
        spans = require_key(path, rec, key, list, line, RECORD)
        entities = tuple(_entity(path, line, index, k, s, text) for k, s in enumerate(spans))
        labels = _labels(path, line, index, rec.get("labels"))
        stray = sorted({e.label for e in entities} - set(labels or ()))
        if labels is not None and stray:
            raise DataFormatError(
                path,
                f"record {index}: span label(s) {stray} are not in its labels {list(labels)}",
                line=line,
                expected="every span's label among the record's labels",
            )
        ident = rec.get("id")
        yield Example(
            text,
            entities,
            labels=labels,
            id=str(ident) if ident is not None else f"{name}:{index}",
            meta={"line": line},
        )


def _entity(path: PathLike, line: int, index: int, k: int, span: Any, text: str) -> Entity:
    """One span as an Entity, or a DataFormatError naming the record and the span."""
    where = f"record {index}, span {k}"
    if isinstance(span, Mapping):
        start, end = span.get("start"), span.get("end")
        label = span.get("label", span.get("type"))
        given = span.get("text")
    elif isinstance(span, list) and len(span) == 3:
        (start, end, label), given = span, None
    else:
        raise DataFormatError(path, f"{where}: bad span {span!r}", line=line, expected=ENTITY)
    if not (is_json_int(start) and is_json_int(end)):
        raise DataFormatError(
            path, f"{where}: start and end must be integers, got {start!r}, {end!r}", line=line
        )
    if not isinstance(label, str) or not label.strip():
        raise DataFormatError(path, f"{where}: missing or empty label", line=line, expected=ENTITY)
    if not 0 <= start < end <= len(text):
        raise DataFormatError(
            path,
            f"{where}: offsets [{start}, {end}) lie outside the text (length {len(text)})",
            line=line,
            expected="0 <= start < end <= len(text), end exclusive",
        )
    found = text[start:end]
    if given is not None and given != found:
        raise DataFormatError(
            path,
            f"{where}: says {given!r} but the text at [{start}, {end}) is {found!r}",
            line=line,
            expected="character offsets into the record's text",
        )
    return Entity(start, end, found, label)


def _labels(path: PathLike, line: int, index: int, value: Any) -> tuple[str, ...] | None:
    if value is None:
        return None
    if not isinstance(value, list) or not all(isinstance(v, str) and v.strip() for v in value):
        raise DataFormatError(
            path,
            f"record {index}: labels must be a list of non-empty strings, got {value!r}",
            line=line,
            expected=RECORD,
        )
    return tuple(value)
