"""InstructUIE / IE-INSTRUCTIONS NER files: a JSON list of
``{"sentence": str, "entities": [{"name": str, "type": str, "pos": [start, end]}]}``.

``pos`` are character offsets (end exclusive) into ``sentence``. Every entity of the shipped files
(GLiNER's ``training`` branch copies) was checked: all offsets lie inside the sentence and every
``name`` equals ``sentence[start:end]``, so the default policy is strict (``on_mismatch="error"``).
For other copies, ``on_mismatch="trust-pos"`` keeps the slice at ``pos`` and ``"skip"`` drops the
entity; either way the number of such entities is recorded in ``Example.meta`` so it is visible.
Offsets outside the sentence are always an error. Duplicate entities (same span and type) are
merged by :class:`Example`; how many were merged is kept in ``meta["duplicate_entities"]``.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any, Literal

from uniner.data.errors import DataFormatError
from uniner.data.readers._common import (
    PathLike,
    is_json_int,
    iter_json_records,
    require_key,
    require_mapping,
)
from uniner.data.types import Entity, Example

RECORD = '{"sentence": str, "entities": [{"name", "type", "pos": [start, end]}]}'
ENTITY = '{"name": str, "type": str, "pos": [start, end]}'
Mismatch = Literal["error", "trust-pos", "skip"]


def _entity(
    path: PathLike, line: int, index: int, sentence: str, ent: Any, k: int, on_mismatch: Mismatch
) -> tuple[Entity | None, str | None]:
    """One validated entity, or ``(None, reason)`` when the policy drops or repairs it."""
    where = f"record {index}, entity {k}"
    if not isinstance(ent, dict):
        raise DataFormatError(path, f"{where} is not an object", line=line, expected=ENTITY)
    name = require_key(path, ent, "name", str, line, f"{where}: {ENTITY}")
    typ = require_key(path, ent, "type", str, line, f"{where}: {ENTITY}")
    pos = require_key(path, ent, "pos", list, line, f"{where}: {ENTITY}")
    if len(pos) != 2 or not all(is_json_int(p) for p in pos):
        raise DataFormatError(
            path, f"{where}: bad pos {pos!r}", line=line, expected="pos = [start, end] integers"
        )
    if not typ.strip():
        raise DataFormatError(path, f"{where}: empty type", line=line, expected=ENTITY)
    start, end = pos
    if not 0 <= start < end <= len(sentence):
        raise DataFormatError(
            path,
            f"{where} ({name!r}): pos {pos} lies outside the sentence (length {len(sentence)})",
            line=line,
            expected="0 <= start < end <= len(sentence)",
        )
    found = sentence[start:end]
    if found != name:
        if on_mismatch == "error":
            raise DataFormatError(
                path,
                f"{where}: name {name!r} does not match the sentence at pos {pos} ({found!r})",
                line=line,
                expected="name == sentence[start:end]",
            )
        if on_mismatch == "skip":
            return None, "skipped"
        return Entity(start, end, found, typ), "mismatch"
    return Entity(start, end, name, typ), None


def read_instructuie(path: PathLike, *, on_mismatch: Mismatch = "error") -> Iterator[Example]:
    """Stream the examples of an InstructUIE NER file (JSON list or JSON lines).

    Ids are ``<file name>:<record index from 0>``; ``labels`` stays ``None`` because a record only
    lists the types it has (the label set lives in ``labels.json``).
    """
    if on_mismatch not in ("error", "trust-pos", "skip"):
        raise ValueError(f"on_mismatch must be 'error', 'trust-pos' or 'skip', not {on_mismatch!r}")
    name = Path(path).name
    for index, (line, raw) in enumerate(iter_json_records(path)):
        rec = require_mapping(path, raw, line, RECORD, what=f"record {index}")
        sentence = require_key(path, rec, "sentence", str, line, RECORD)
        ents = require_key(path, rec, "entities", list, line, RECORD)
        entities: list[Entity] = []
        mismatches = skipped = 0
        for k, ent in enumerate(ents):
            entity, why = _entity(path, line, index, sentence, ent, k, on_mismatch)
            if why == "mismatch":
                mismatches += 1
            elif why == "skipped":
                skipped += 1
            if entity is not None:
                entities.append(entity)
        meta: dict[str, Any] = {"line": line}
        duplicates = len(entities) - len(set(entities))
        if duplicates:
            meta["duplicate_entities"] = duplicates
        if mismatches:
            meta["name_mismatches"] = mismatches
        if skipped:
            meta["skipped_entities"] = skipped
        yield Example(text=sentence, entities=tuple(entities), id=f"{name}:{index}", meta=meta)
