"""SLIMER's Pile-NER files: the per-(passage, type) ``validation.jsonl`` and the type definitions.

``validation.jsonl`` has one query per line: ``{doc_question_pairID: "<doc id>:<n>", tagName,
input (passage), instruction, output (JSON list of strings, as a string)}``; the queries of one
passage are scattered over the file, so examples group them by passage (buffering the file).

The ``*_definitions.json`` files map a type to SLIMER's GPT-written definition record. Their
``gpt_answer`` is a JSON string with ``Definition`` and ``Guidelines``, but in
``all_423_NE_definitions.json`` 89 of 423 answers were cut off by the generation length limit
(``finish_reason: "length"``) and are not valid JSON: the reader recovers what is there and marks
the record ``complete=False`` rather than failing, since the file is shipped that way.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from dataclasses import dataclass

from uniner.data.errors import DataFormatError
from uniner.data.readers._common import (
    PathLike,
    iter_json_records,
    load_json_object,
    require_key,
    require_mapping,
)
from uniner.data.readers.conversation import (
    conversation_to_example,
    group_by_passage,
    parse_answer,
)
from uniner.data.types import Conversation, Example, Query

RECORD = (
    '{"doc_question_pairID": "<doc>:<n>", "tagName": str, "input": str, "instruction": str, '
    '"output": "<JSON list of strings>"}'
)
DEFINITION = '{"<type>": {"named_entity": str, "gpt_answer": str, "sentences_as_example": [...]}}'


@dataclass(frozen=True, slots=True)
class SlimerQuery:
    """One line of a SLIMER validation file."""

    pair_id: str
    label: str
    text: str
    instruction: str
    answers: tuple[str, ...]
    raw_answer: str
    line: int

    @property
    def doc_id(self) -> str:
        return self.pair_id.split(":")[0]

    def to_conversation(self) -> Conversation:
        """A one-question conversation, like a record of the UniNER test form."""
        return Conversation(
            self.pair_id, self.text, (Query(self.label, self.answers, self.raw_answer),)
        )


def read_slimer_queries(path: PathLike) -> Iterator[SlimerQuery]:
    """Stream and validate the lines of a SLIMER ``validation.jsonl``."""
    for index, (line, raw) in enumerate(iter_json_records(path)):
        rec = require_mapping(path, raw, line, RECORD, what=f"record {index}")
        id_key = "doc_tag_pairID" if "doc_tag_pairID" in rec else "doc_question_pairID"
        pair_id = require_key(path, rec, id_key, str, line, RECORD)  # LLaMA3 copies: doc_tag_
        label = require_key(path, rec, "tagName", str, line, RECORD)
        text = require_key(path, rec, "input", str, line, RECORD)
        instruction = require_key(path, rec, "instruction", str, line, RECORD)
        output = rec.get("output")
        if isinstance(output, list) and all(isinstance(o, str) for o in output):
            answers: tuple[str, ...] | None = tuple(output)
            output = json.dumps(output)
        else:
            answers = parse_answer(output) if isinstance(output, str) else None
        if answers is None:
            raise DataFormatError(
                path,
                f"record {index}: bad output {str(output)[:80]!r}",
                line=line,
                expected="output = a JSON list of strings",
            )
        if not label.strip():
            raise DataFormatError(
                path, f"record {index}: empty tagName", line=line, expected=RECORD
            )
        yield SlimerQuery(pair_id, label, text, instruction, answers, str(output), line)


def read_slimer_conversations(path: PathLike) -> Iterator[Conversation]:
    """One single-question :class:`Conversation` per line (group with ``group_by_passage``)."""
    for q in read_slimer_queries(path):
        yield q.to_conversation()


def read_slimer_examples(path: PathLike, *, align: bool = True) -> Iterator[Example]:
    """One example per passage with all its queried types as labels (answers aligned)."""
    for conv in group_by_passage(read_slimer_conversations(path)):
        yield conversation_to_example(conv, align=align)[0]


@dataclass(frozen=True, slots=True)
class TypeDefinition:
    """SLIMER's definition and annotation guidelines for one entity type."""

    label: str
    definition: str | None
    guidelines: str | None
    examples: tuple[tuple[str, tuple[str, ...]], ...]
    raw_answer: str
    complete: bool


_FIELD_RE = {
    key: re.compile(rf'"{key}"\s*:\s*"((?:[^"\\]|\\.)*)("?)', re.DOTALL)
    for key in ("Definition", "Guidelines")
}


def _unescape(value: str) -> str:
    """Decode JSON string escapes, tolerating a dangling backslash at a cut-off end."""
    for candidate in (value, value.rstrip("\\")):
        try:
            decoded: str = json.loads(f'"{candidate}"')  # a JSON string literal
            return decoded
        except json.JSONDecodeError:
            continue
    return value


def parse_gpt_answer(raw: str) -> tuple[str | None, str | None, bool]:
    """``(definition, guidelines, complete)`` from a possibly truncated GPT JSON answer."""
    try:
        value = json.loads(raw)
    except json.JSONDecodeError:
        value = None
    if isinstance(value, dict):
        d, g = value.get("Definition"), value.get("Guidelines")
        return (d if isinstance(d, str) else None, g if isinstance(g, str) else None, True)
    found: dict[str, str | None] = {}
    for key, rx in _FIELD_RE.items():
        m = rx.search(raw)
        found[key] = _unescape(m.group(1)) if m else None
    return found["Definition"], found["Guidelines"], False


def read_definitions(path: PathLike) -> Iterator[TypeDefinition]:
    """The type definitions of a SLIMER ``*_definitions.json`` (a small JSON object)."""
    data = load_json_object(path, DEFINITION)
    for key, rec in data.items():
        if not isinstance(rec, dict):
            raise DataFormatError(path, f"entry {key!r} is not an object", expected=DEFINITION)
        raw = rec.get("gpt_answer")
        if not isinstance(raw, str):
            raise DataFormatError(
                path, f"entry {key!r}: missing gpt_answer string", expected=DEFINITION
            )
        examples = []
        for ex in rec.get("sentences_as_example") or ():
            if isinstance(ex, dict) and isinstance(ex.get("sentence"), str):
                ents = tuple(e for e in ex.get("entities") or () if isinstance(e, str))
                examples.append((ex["sentence"], ents))
        definition, guidelines, complete = parse_gpt_answer(raw)
        label = rec.get("named_entity", key)
        yield TypeDefinition(str(label), definition, guidelines, tuple(examples), raw, complete)
