"""Core data model shared by every stage: readers, alignment, metrics, students and serving.

An :class:`Entity` is a mention with character offsets into its text; an :class:`Example` is a text
with its entities and, where known, the label set it was annotated for (so that a label without
mentions is a known negative rather than an unknown). Offsets are Python string indices (code
points), end exclusive, so ``text[start:end] == entity.text`` always holds: validation enforces it.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any


class ValidationError(ValueError):
    """An entity or example violates the offset invariants."""


@dataclass(frozen=True, slots=True, order=True)
class Entity:
    """One mention: ``text[start:end]`` of the example, with a label and an optional score."""

    start: int
    end: int
    text: str
    label: str
    score: float | None = field(default=None, compare=False)

    def __post_init__(self) -> None:
        if not isinstance(self.start, int) or not isinstance(self.end, int):
            raise ValidationError(f"entity offsets must be int, got {self.start!r}, {self.end!r}")
        if self.start < 0 or self.end <= self.start:
            raise ValidationError(
                f"entity {self.text!r}: need 0 <= start < end, "
                f"got start={self.start} end={self.end}"
            )
        if not isinstance(self.label, str) or not self.label.strip():
            raise ValidationError(f"entity {self.text!r}: empty label")

    @property
    def span(self) -> tuple[int, int]:
        return (self.start, self.end)

    def key(self) -> tuple[int, int, str]:
        """Identity for strict matching: offsets and label, not score."""
        return (self.start, self.end, self.label)

    def with_score(self, score: float | None) -> Entity:
        return Entity(self.start, self.end, self.text, self.label, score)

    def to_dict(self) -> dict[str, Any]:
        d: dict[str, Any] = {
            "start": self.start,
            "end": self.end,
            "text": self.text,
            "label": self.label,
        }
        if self.score is not None:
            d["score"] = self.score
        return d

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> Entity:
        return cls(int(d["start"]), int(d["end"]), str(d["text"]), str(d["label"]), d.get("score"))


@dataclass(frozen=True, slots=True)
class Example:
    """A text and its entities.

    ``labels`` is the label set the text was annotated (or asked) for; ``None`` means unknown.
    Entities are kept sorted by (start, end, label); duplicates are removed.
    """

    text: str
    entities: tuple[Entity, ...] = ()
    labels: tuple[str, ...] | None = None
    id: str | None = None
    meta: Mapping[str, Any] = field(default_factory=dict, compare=False)

    def __post_init__(self) -> None:
        if not isinstance(self.text, str):
            raise ValidationError(f"example {self.id!r}: text must be str, got {type(self.text)}")
        n = len(self.text)
        for ent in self.entities:
            if ent.end > n:
                raise ValidationError(
                    f"example {self.id!r}: entity {ent.text!r} [{ent.start}:{ent.end}] "
                    f"lies outside the text (length {n})"
                )
            if self.text[ent.start : ent.end] != ent.text:
                raise ValidationError(
                    f"example {self.id!r}: entity [{ent.start}:{ent.end}] says {ent.text!r} "
                    f"but the text there is {self.text[ent.start : ent.end]!r}"
                )
        ents = tuple(sorted(set(self.entities)))
        object.__setattr__(self, "entities", ents)
        if self.labels is not None:
            object.__setattr__(self, "labels", tuple(dict.fromkeys(self.labels)))

    def mentions(self, label: str) -> list[str]:
        """Distinct mention strings of ``label`` in order of first appearance (UniNER answers)."""
        return list(dict.fromkeys(e.text for e in self.entities if e.label == label))

    def label_set(self) -> tuple[str, ...]:
        """The annotated labels if known, else the labels that occur."""
        if self.labels is not None:
            return self.labels
        return tuple(dict.fromkeys(e.label for e in self.entities))

    def to_dict(self) -> dict[str, Any]:
        d: dict[str, Any] = {"text": self.text, "entities": [e.to_dict() for e in self.entities]}
        if self.id is not None:
            d["id"] = self.id
        if self.labels is not None:
            d["labels"] = list(self.labels)
        return d

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> Example:
        return cls(
            text=d["text"],
            entities=tuple(Entity.from_dict(e) for e in d.get("entities", ())),
            labels=tuple(d["labels"]) if d.get("labels") is not None else None,
            id=d.get("id"),
        )


@dataclass(frozen=True, slots=True)
class Query:
    """One UniNER question about a passage: a type and the answer (mention strings).

    ``raw_answer`` keeps the answer text exactly as the file had it (the official metric parses
    the raw string, so parsing must not happen before scoring).
    """

    label: str
    answers: tuple[str, ...]
    raw_answer: str | None = None


@dataclass(frozen=True, slots=True)
class Conversation:
    """A UniNER-style conversation: one passage and its questions.

    The Pile-NER training form has many questions per passage; the test form has exactly one.
    ``dataset`` holds the ``Dataset: {name}`` tag of the supervised template, if present.
    """

    id: str
    text: str
    queries: tuple[Query, ...]
    dataset: str | None = None


def unique_labels(examples: Iterable[Example]) -> list[str]:
    """All labels of a collection, in order of first appearance (annotated label sets first)."""
    seen: dict[str, None] = {}
    for ex in examples:
        for lab in ex.label_set():
            seen.setdefault(lab)
        for ent in ex.entities:
            seen.setdefault(ent.label)
    return list(seen)
