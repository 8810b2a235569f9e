"""UniNER conversation files: ``[{"id", "conversations": [{"from", "value"}, ...]}]``.

Turns are: human ``Text: <passage>`` (optionally preceded by a ``Dataset: <name>`` line, the
supervised template), gpt ``I've read this text.``, then pairs of human
``What describes <type> in the text?`` and gpt ``<JSON list of strings>``. The Pile-NER training
form asks many types per record; the official test files ask one per record, so
:func:`group_test_conversations` merges consecutive records about the same passage (that is how
the README counts passages). The raw answer string is kept in :attr:`Query.raw_answer` because
the official metric parses the raw string itself.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any

from uniner.data.errors import DataFormatError
from uniner.data.readers._common import (
    PathLike,
    iter_json_records,
    require_key,
    require_mapping,
)
from uniner.data.types import Conversation, Entity, Example, Query

RECORD = '{"id": str, "conversations": [{"from": "human"|"gpt", "value": str}, ...]}'
QUESTION_RE = re.compile(r"What describes (.+) in the text\?", re.DOTALL)
HUMAN = frozenset({"human", "user"})
GPT = frozenset({"gpt", "assistant"})


def parse_answer(raw: str) -> tuple[str, ...] | None:
    """The mention strings of a gold answer, or None when it is not a JSON list of strings."""
    try:
        value = json.loads(raw)
    except json.JSONDecodeError:
        return None
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        return None
    return tuple(value)


def split_passage_turn(value: str) -> tuple[str | None, str] | None:
    """``(dataset, text)`` of a first human turn, or None when it lacks the ``Text:`` prefix."""
    dataset = None
    if value.startswith("Dataset:"):
        head, sep, rest = value.partition("\n")
        if not sep:
            return None
        dataset = head[len("Dataset:") :].strip() or None
        value = rest.lstrip(" \n")
    if not value.startswith("Text:"):
        return None
    text = value[len("Text:") :]
    return dataset, text[1:] if text.startswith(" ") else text


def record_to_conversation(path: PathLike, record: Any, line: int, index: int) -> Conversation:
    """Validate one conversation record and turn it into a :class:`Conversation`."""
    rec = require_mapping(path, record, line, RECORD, what=f"record {index}")
    turns = require_key(path, rec, "conversations", list, line, RECORD)
    rid = rec.get("id", f"{Path(path).name}:{index}")
    if not isinstance(rid, str | int) or isinstance(rid, bool):
        raise DataFormatError(path, f"record {index}: bad id {rid!r}", line=line, expected=RECORD)
    where = _Where(path, line, index)
    if len(turns) < 2 or len(turns) % 2:
        raise where.error(
            f"record {index} has {len(turns)} turns",
            "an even number >= 2: text, acknowledgement, then question/answer pairs",
        )
    passage = split_passage_turn(where.turn(turns, 0, HUMAN))
    if passage is None:
        raise where.error(
            f"record {index}: first turn does not start with 'Text:'",
            "'Text: <passage>', optionally after a 'Dataset: <name>' line",
        )
    dataset, text = passage
    where.turn(turns, 1, GPT)
    queries = tuple(where.query(turns, k) for k in range(2, len(turns), 2))
    return Conversation(str(rid), text, queries, dataset)


class _Where:
    """One record's place in its file, for the errors its turns raise."""

    def __init__(self, path: PathLike, line: int, index: int) -> None:
        self.path, self.line, self.index = path, line, index

    def error(self, message: str, expected: str) -> DataFormatError:
        return DataFormatError(self.path, message, line=self.line, expected=expected)

    def turn(self, turns: list[Any], k: int, roles: frozenset[str]) -> str:
        """The text of turn ``k``, which must be a ``{from, value}`` object from ``roles``."""
        t = turns[k]
        if not isinstance(t, dict) or not isinstance(t.get("value"), str):
            raise self.error(
                f"record {self.index}, turn {k} is not a {{from, value}} object",
                '{"from": str, "value": str}',
            )
        if t.get("from") not in roles:
            raise self.error(
                f"record {self.index}, turn {k} is from {t.get('from')!r}",
                f"a turn from {'/'.join(sorted(roles))} (turns alternate human, gpt)",
            )
        value: str = t["value"]  # checked above
        return value

    def query(self, turns: list[Any], k: int) -> Query:
        """The question of turn ``k`` and its answer in turn ``k + 1``."""
        question = self.turn(turns, k, HUMAN)
        m = QUESTION_RE.fullmatch(question.strip())
        if m is None or not m.group(1).strip():
            raise self.error(
                f"record {self.index}, turn {k}: question {question[:80]!r}",
                "'What describes <type> in the text?'",
            )
        raw = self.turn(turns, k + 1, GPT)
        answers = parse_answer(raw)
        if answers is None:
            raise self.error(
                f"record {self.index}, turn {k + 1}: answer {raw[:80]!r}", "a JSON list of strings"
            )
        return Query(m.group(1), answers, raw)


def read_uniner_conversations(path: PathLike) -> Iterator[Conversation]:
    """Stream the records of a UniNER conversation file (JSON list or JSON lines), as written."""
    for index, (line, record) in enumerate(iter_json_records(path)):
        yield record_to_conversation(path, record, line, index)


def group_test_conversations(conversations: Iterable[Conversation]) -> Iterator[Conversation]:
    """Merge consecutive one-question records about the same passage into one conversation.

    A new passage starts when the text or dataset changes, or when a type is asked again (two
    identical passages in a row stay two passages). Records with several questions (training
    form) pass through unchanged. The merged conversation keeps the first record's id.
    """
    current: Conversation | None = None
    asked: set[str] = set()
    for conv in conversations:
        if len(conv.queries) != 1:
            if current is not None:
                yield current
                current = None
            yield conv
            continue
        label = conv.queries[0].label
        if (
            current is not None
            and conv.text == current.text
            and conv.dataset == current.dataset
            and label not in asked
        ):
            current = Conversation(
                current.id, current.text, current.queries + conv.queries, current.dataset
            )
            asked.add(label)
            continue
        if current is not None:
            yield current
        current = conv
        asked = {label}
    if current is not None:
        yield current


def group_by_passage(conversations: Iterable[Conversation]) -> list[Conversation]:
    """Merge all conversations with the same (dataset, text), wherever they are in the input.

    Unlike :func:`group_test_conversations` this buffers everything (for files whose queries of
    one passage are scattered, like SLIMER's). Order is that of first appearance; the id is the
    part of the first id before ``:`` when there is one (SLIMER's ``<doc id>:<n>``).
    """
    merged: dict[tuple[str | None, str], Conversation] = {}
    for conv in conversations:
        key = (conv.dataset, conv.text)
        prev = merged.get(key)
        if prev is None:
            cid = conv.id.split(":")[0]
            merged[key] = Conversation(cid, conv.text, conv.queries, conv.dataset)
        else:
            queries = prev.queries + conv.queries
            merged[key] = Conversation(prev.id, prev.text, queries, prev.dataset)
    return list(merged.values())


def conversation_to_example(
    conv: Conversation, *, align: bool = True
) -> tuple[Example, tuple[tuple[str, str], ...]]:
    """The passage as an :class:`Example` whose labels are all asked types (negatives included).

    With ``align`` every answer string is located in the text (every occurrence, word-boundary
    aware) by :func:`uniner.data.align.align_mentions`; answers that cannot be found are returned
    as ``(label, mention)`` pairs and also kept in ``meta["unfound"]``. Without ``align`` the
    example has no entities and ``meta["answers"]`` maps each label to its answer strings.
    """
    labels = tuple(q.label for q in conv.queries)
    meta: dict[str, Any] = {}
    if conv.dataset is not None:
        meta["dataset"] = conv.dataset
    answers: dict[str, list[str]] = {}
    for q in conv.queries:
        bucket = answers.setdefault(q.label, [])
        for a in q.answers:
            if a not in bucket:
                bucket.append(a)
    if not align:
        meta["answers"] = {k: tuple(v) for k, v in answers.items()}
        return Example(conv.text, (), labels, conv.id, meta), ()
    from uniner.data.align import align_mentions  # lazy: alignment is optional for readers

    entities: list[Entity] = []
    unfound: list[tuple[str, str]] = []
    for label, mentions in answers.items():
        if not mentions:
            continue
        result = align_mentions(conv.text, mentions, label)
        entities.extend(result.entities)
        unfound.extend((label, m) for m in result.unfound)
    if unfound:
        meta["unfound"] = tuple(unfound)
    return Example(conv.text, tuple(entities), labels, conv.id, meta), tuple(unfound)


def read_uniner_examples(
    path: PathLike, *, align: bool = True, group: bool = True
) -> Iterator[Example]:
    """Examples of a conversation file: test-form records grouped by passage, then aligned."""
    convs: Iterable[Conversation] = read_uniner_conversations(path)
    if group:
        convs = group_test_conversations(convs)
    for conv in convs:
        yield conversation_to_example(conv, align=align)[0]
