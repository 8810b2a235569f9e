"""Build conversation-style instruction data (the paper's §2) from annotations.

Sources: distilled annotations (``Example`` objects with entities), an existing Pile-NER-type
conversation file, or a supervised data set whose labels are natural-language words. Every
source is first turned into an :class:`Annotated` passage (text, answers per positive type in
order of first appearance, known negative types), then rendered:

* one question ``What describes {type} in the text?`` per positive type, answered with the JSON
  list of its de-duplicated mentions in order of appearance;
* negative types (answered ``[]``): the passage's *known* negatives (types it was annotated for
  but has no mention of: supervised label sets, negatives already in a conversation file) and, by
  ``negatives``, sampled ones: ``none``, ``uniform`` over all types, or ``frequency``
  (probability proportional to the number of passages where the type is positive, as the paper);
  sampled negatives never include a type that is positive in the passage;
* question order shuffled with a seed (per passage, derived from the seed and the passage index,
  so the output does not depend on how many random draws earlier passages took);
* ``variant="all-in-one"``: a single question listing every type, answered with a JSON list of
  ``[mention, type]`` pairs (this form is for training only: the conversation reader expects
  lists of strings); ``variant="definition"``: each type is asked by its definition sentence
  from ``definitions`` (types without one are asked by name);
* ``dataset``: the supervised template, ``Dataset: {name}`` on a line before ``Text:``.

Records are ``{"id", "conversations": [{"from", "value"}, ...]}`` and :func:`write_records` writes
them exactly as the released UniNER files are laid out (``json.dumps`` defaults: ASCII escapes,
``", "``/``": "`` separators, one line, no trailing newline), so a file read and written back is
byte-identical.
"""

from __future__ import annotations

import bisect
import json
import os
import random
import tempfile
from collections import Counter
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from uniner.data.types import Conversation, Example

ACK = "I've read this text."
QUESTION = "What describes {type} in the text?"
NEGATIVES = ("none", "uniform", "frequency")
VARIANTS = ("type", "all-in-one", "definition")


@dataclass(frozen=True, slots=True)
class Annotated:
    """A passage with its answers per positive type and its known negative types."""

    id: str
    text: str
    answers: tuple[tuple[str, tuple[str, ...]], ...]
    negatives: tuple[str, ...] = ()
    dataset: str | None = None

    @property
    def positive_types(self) -> tuple[str, ...]:
        return tuple(t for t, _ in self.answers)


@dataclass(frozen=True, slots=True)
class BuildConfig:
    negatives: str = "frequency"
    n_negatives: int = 2  # sampled per passage, on top of known negatives
    keep_known_negatives: bool = True
    shuffle: bool = True
    seed: int = 0
    variant: str = "type"
    dataset: str | None = None  # overrides each passage's own dataset name when set

    def __post_init__(self) -> None:
        if self.negatives not in NEGATIVES:
            raise ValueError(f"negatives must be one of {NEGATIVES}, got {self.negatives!r}")
        if self.variant not in VARIANTS:
            raise ValueError(f"variant must be one of {VARIANTS}, got {self.variant!r}")
        if self.n_negatives < 0:
            raise ValueError("n_negatives must be >= 0")


def from_example(
    ex: Example,
    index: int = 0,
    label_map: Mapping[str, str] | None = None,
    dataset: str | None = None,
) -> Annotated:
    """Answers from an example's entities (mentions in order of first appearance)."""
    lm = label_map or {}
    answers: dict[str, list[str]] = {}
    for ent in ex.entities:  # sorted by start: order of appearance
        label = lm.get(ent.label, ent.label)
        bucket = answers.setdefault(label, [])
        if ent.text not in bucket:
            bucket.append(ent.text)
    negatives: list[str] = []
    for lab in ex.labels or ():
        label = lm.get(lab, lab)
        if label not in answers and label not in negatives:
            negatives.append(label)
    return Annotated(
        ex.id if ex.id is not None else str(index),
        ex.text,
        tuple((t, tuple(m)) for t, m in answers.items()),
        tuple(negatives),
        dataset if dataset is not None else ex.meta.get("dataset") if ex.meta else None,
    )


def from_conversation(conv: Conversation) -> Annotated:
    """Answers as a conversation file has them (order and strings kept)."""
    answers: dict[str, list[str]] = {}
    negatives: list[str] = []
    for q in conv.queries:
        if q.answers:
            bucket = answers.setdefault(q.label, [])
            bucket.extend(a for a in q.answers if a not in bucket)
        elif q.label not in negatives:
            negatives.append(q.label)
    negatives = [n for n in negatives if n not in answers]
    return Annotated(
        conv.id,
        conv.text,
        tuple((t, tuple(m)) for t, m in answers.items()),
        tuple(negatives),
        conv.dataset,
    )


def type_frequencies(passages: Iterable[Annotated]) -> Counter[str]:
    """Number of passages in which each type is positive."""
    freq: Counter[str] = Counter()
    for p in passages:
        freq.update(p.positive_types)
    return freq


class NegativeSampler:
    """Draws negative types for a passage: uniform or proportional to frequency, no repeats,
    never a type that is positive (or already a known negative) in the passage."""

    def __init__(self, freq: Mapping[str, int], strategy: str) -> None:
        self.types = sorted(freq)  # sorted: the draw does not depend on input order of types
        weights = [freq[t] if strategy == "frequency" else 1 for t in self.types]
        self.weight = dict(zip(self.types, weights, strict=True))
        self.cum: list[int] = []
        total = 0
        for w in weights:
            total += w
            self.cum.append(total)
        self.total = total

    def sample(self, rng: random.Random, k: int, exclude: set[str]) -> list[str]:
        available = len(self.types) - len(exclude & set(self.types))
        k = min(k, available)
        chosen: list[str] = []
        taken = set(exclude)
        tries = 0
        while len(chosen) < k and tries < 50 * (k + 1):
            tries += 1
            t = self.types[bisect.bisect_right(self.cum, rng.random() * self.total)]
            if t not in taken:
                taken.add(t)
                chosen.append(t)
        if len(chosen) < k:  # very skewed weights: finish deterministically by weight order
            rest = sorted((t for t in self.types if t not in taken), key=lambda t: -self.weight[t])
            chosen.extend(rest[: k - len(chosen)])
        return chosen


def _first_turn(text: str, dataset: str | None) -> str:
    return f"Dataset: {dataset}\nText: {text}" if dataset else f"Text: {text}"


def all_in_one(questions: Sequence[tuple[str, Sequence[str]]]) -> tuple[str, str]:
    """The paper's all-in-one variant of a passage's questions: the type names joined with
    ``", "`` (asked as one question) and the answer, a JSON list of ``[mention, type]`` pairs
    grouped by type in asking order. The one definition of that form, for the instruction files
    and the generative student alike."""
    names = ", ".join(t for t, _ in questions)
    pairs = [[m, t] for t, ms in questions for m in ms]
    return names, json.dumps(pairs)


def render(
    p: Annotated,
    questions: Sequence[tuple[str, tuple[str, ...]]],
    cfg: BuildConfig,
    definitions: Mapping[str, str] | None = None,
) -> dict[str, Any]:
    """One record in the released layout (key order ``id``, ``conversations``)."""
    dataset = cfg.dataset if cfg.dataset is not None else p.dataset
    turns = [
        {"from": "human", "value": _first_turn(p.text, dataset)},
        {"from": "gpt", "value": ACK},
    ]
    if cfg.variant == "all-in-one":
        names, answer = all_in_one(questions)
        turns += [
            {"from": "human", "value": QUESTION.format(type=names)},
            {"from": "gpt", "value": answer},
        ]
    else:
        defs = definitions or {}
        for t, ms in questions:
            asked = defs.get(t, t) if cfg.variant == "definition" else t
            turns += [
                {"from": "human", "value": QUESTION.format(type=asked)},
                {"from": "gpt", "value": json.dumps(list(ms))},
            ]
    return {"id": p.id, "conversations": turns}


def build_records(
    passages: Sequence[Annotated],
    config: BuildConfig | None = None,
    *,
    definitions: Mapping[str, str] | None = None,
    freq: Mapping[str, int] | None = None,
) -> Iterator[dict[str, Any]]:
    """Instruction records for ``passages`` (a sequence: frequencies need a first pass)."""
    cfg = config or BuildConfig()
    sampler = None
    if cfg.negatives != "none" and cfg.n_negatives > 0:
        sampler = NegativeSampler(
            freq if freq is not None else type_frequencies(passages), cfg.negatives
        )
    for index, p in enumerate(passages):
        rng = random.Random(f"{cfg.seed}:{index}")
        questions: list[tuple[str, tuple[str, ...]]] = list(p.answers)
        known = list(p.negatives) if cfg.keep_known_negatives else []
        questions += [(t, ()) for t in known]
        if sampler is not None:
            exclude = set(p.positive_types) | set(known)
            questions += [(t, ()) for t in sampler.sample(rng, cfg.n_negatives, exclude)]
        if cfg.shuffle:
            rng.shuffle(questions)
        yield render(p, questions, cfg, definitions)


def dumps_records(records: Iterable[Mapping[str, Any]]) -> Iterator[str]:
    """Chunks of ``json.dumps(list(records))``, streamed (same bytes, no whole-list copy)."""
    yield "["
    for i, rec in enumerate(records):
        yield (", " if i else "") + json.dumps(rec)
    yield "]"


def write_records(records: Iterable[Mapping[str, Any]], path: str | Path) -> int:
    """Write records atomically (temp file + rename) in the released layout; return the count."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    n = 0

    def counted() -> Iterator[Mapping[str, Any]]:
        nonlocal n
        for r in records:
            n += 1
            yield r

    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            for chunk in dumps_records(counted()):
                fh.write(chunk)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return n


def conversation_record(conv: Conversation) -> dict[str, Any]:
    """A :class:`Conversation` back in the file layout, answers exactly as read (raw strings)."""
    turns = [
        {"from": "human", "value": _first_turn(conv.text, conv.dataset)},
        {"from": "gpt", "value": ACK},
    ]
    for q in conv.queries:
        raw = q.raw_answer if q.raw_answer is not None else json.dumps(list(q.answers))
        turns += [
            {"from": "human", "value": QUESTION.format(type=q.label)},
            {"from": "gpt", "value": raw},
        ]
    return {"id": conv.id, "conversations": turns}


@dataclass
class TypeCounts:
    """Per type: passages where it is positive, distinct mentions, and negative questions."""

    positive: Counter[str] = field(default_factory=Counter)
    mentions: Counter[str] = field(default_factory=Counter)
    negative: Counter[str] = field(default_factory=Counter)

    def add(self, label: str, answers: Sequence[str]) -> None:
        if answers:
            self.positive[label] += 1
            self.mentions[label] += len(dict.fromkeys(answers))
        else:
            self.negative[label] += 1


def count_types(conversations: Iterable[Conversation]) -> TypeCounts:
    counts = TypeCounts()
    for conv in conversations:
        for q in conv.queries:
            counts.add(q.label, q.answers)
    return counts
