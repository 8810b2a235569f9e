"""Read one split of a catalogued data set, relabelled to natural-language types.

Every example comes back with natural-language labels (``PER`` -> ``person``), with dropped
labels ('else', misc) removed, and with ``Example.labels`` set to the data set's full type set,
because UniNER asks every type of every passage: a type without mentions is a known negative.
A raw label that the catalog neither maps nor drops is an error, never silently scored or
trained on. Training (:mod:`uniner.data.sources`) and the benchmark read splits the same way,
through here.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from uniner.data.catalog import get
from uniner.data.datasets import DatasetSpec
from uniner.data.readers import read_examples
from uniner.data.types import Entity, Example


@dataclass(frozen=True, slots=True)
class DatasetSplit:
    """One split of one data set, relabelled; ``labels`` is the question order."""

    dataset: str
    split: str
    labels: tuple[str, ...]
    examples: tuple[Example, ...]
    source: str = ""
    path: str = ""

    def __len__(self) -> int:
        return len(self.examples)

    def __iter__(self) -> Iterator[Example]:
        return iter(self.examples)

    @property
    def texts(self) -> list[str]:
        return [ex.text for ex in self.examples]

    @property
    def n_queries(self) -> int:
        """(passage, type) pairs: every passage is asked every type."""
        return len(self.examples) * len(self.labels)


def relabel(example: Example, spec: DatasetSpec, example_id: str | None = None) -> Example:
    """The example with natural labels, dropped labels removed, and the spec's label set."""
    entities: list[Entity] = []
    for ent in example.entities:
        name = spec.natural(ent.label)
        if name is not None:
            entities.append(Entity(ent.start, ent.end, ent.text, name, ent.score))
    return Example(
        text=example.text,
        entities=tuple(entities),
        labels=spec.labels,
        id=example_id if example_id is not None else example.id,
        meta=example.meta,
    )


def load_split(
    name_or_spec: str | DatasetSpec,
    split: str = "test",
    data_dir: str | Path | None = None,
    source: str | None = None,
) -> DatasetSplit:
    """Read one split with the shared readers and relabel it (see module docstring).

    ``source`` picks a registered copy ("instructuie", "raw", ...); the default is the one the
    benchmark uses (the InstructUIE files for the zero-shot sets: they carry character offsets
    and already lack the last raw sentence, as the UniNER files do). A split of several files
    is read file after file. Ids are ``<name>/<split>/<index>``.
    """
    spec = get(name_or_spec)
    if not spec.files:
        raise FileNotFoundError(f"{spec.name}: not present here ({spec.notes or 'no files'})")
    fs = spec.fileset(source)
    paths = spec.paths(split, data_dir, source)
    for path in paths:
        if not path.is_file():
            raise FileNotFoundError(f"{spec.name}/{split}: {path} does not exist")
    raw = (ex for path in paths for ex in read_examples(path, format=fs.format))
    examples = tuple(relabel(ex, spec, f"{spec.name}/{split}/{i}") for i, ex in enumerate(raw))
    return DatasetSplit(
        dataset=spec.name,
        split=split,
        labels=spec.labels,
        examples=examples,
        source=source or spec.default_source or "",
        path=" + ".join(map(str, paths)),
    )
