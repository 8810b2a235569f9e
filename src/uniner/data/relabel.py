"""Training-data variants of the paper's ablations that the span trainer has no key for.

Two transforms of :class:`~uniner.data.types.Example` streams, applied before training:

* :func:`relabel`: each type replaced by another label text, here SLIMER's definition of the type
  (:func:`definition_labels`), the span-student analogue of the paper's definition-based data
  (queries that describe the type in a sentence instead of naming it). Types without a
  definition keep their name, as the instruction builder's ``definition`` variant does.
* :func:`tag_dataset`: the supervised template's ``Dataset: {name}`` line put before the text
  (the paper's dataset-specific template; the span student reads it as part of the passage,
  offsets shifted), so the model can tell which corpus's annotation conventions apply. At
  zero-shot inference the line is omitted, as in the paper.

Why here and not in the trainer: both are pure functions of the examples, so the trainer stays
unchanged and any training run can use them (``uniner ablate`` applies them per arm).
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from dataclasses import replace
from pathlib import Path

from uniner.data.types import Entity, Example

#: SLIMER's definitions of the 391 most frequent Pile-NER types, under the shared data folder.
SLIMER_DEFINITIONS = "pile-ner/slimer/questions/top391NEs_definitions.json"


def definition_labels(path: str | Path) -> dict[str, str]:
    """Type name -> its SLIMER definition sentence (types without a readable one are left out)."""
    from uniner.data.readers.slimer import read_definitions

    out: dict[str, str] = {}
    for d in read_definitions(path):
        text = " ".join((d.definition or "").split())
        if text:
            out[d.label] = text
    return out


def relabel(examples: Iterable[Example], labels: Mapping[str, str]) -> Iterator[Example]:
    """``examples`` with every label ``L`` (mentions and annotated label sets) read as
    ``labels.get(L, L)``; offsets and texts unchanged."""
    for ex in examples:
        ents = tuple(
            Entity(e.start, e.end, e.text, labels.get(e.label, e.label), e.score)
            for e in ex.entities
        )
        known = None if ex.labels is None else tuple(labels.get(x, x) for x in ex.labels)
        yield replace(ex, entities=ents, labels=known)


def dataset_prefix(name: str) -> str:
    """The line the supervised template puts before the passage (instruct builder's wording)."""
    return f"Dataset: {name}\n"


def tag_dataset(examples: Iterable[Example], name: str) -> Iterator[Example]:
    """``examples`` with :func:`dataset_prefix` before each text and mention offsets shifted."""
    prefix = dataset_prefix(name)
    n = len(prefix)
    for ex in examples:
        ents = tuple(Entity(e.start + n, e.end + n, e.text, e.label, e.score) for e in ex.entities)
        yield replace(ex, text=prefix + ex.text, entities=ents)
