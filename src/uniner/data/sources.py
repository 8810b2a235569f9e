"""The training corpora of the default models, by name, from the shared data directory.

The paper's "Pile + supervised" setting: the Pile-NER annotations at hand plus the training
splits of the supervised sets. CrossNER and MIT are excluded from every source of every split:
they are the zero-shot test, and a zero-shot model must never see them. Everything that trains a
default model (the gazetteer baseline, the span student) reads its data through here, so the
exclusion is enforced in one place.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

from uniner.data.readers import read_examples
from uniner.data.types import Example
from uniner.paths import data_dir as _data_dir

#: The most complete Pile-NER piece here: every mention of SLIMER's 391 kept types.
PILE_NER_BIO = "pile-ner/slimer/GNER_wDeG/391xALL_BIO/dev.txt"

SOURCES = ("pile-ner", "supervised")


def pile_ner_examples(data_dir: Path | None = None) -> Iterator[Example]:
    """Pile-NER passages with their (already natural-language) types."""
    root = data_dir or _data_dir(required=True)
    assert root is not None
    yield from read_examples(root / PILE_NER_BIO, format="bio")


def supervised_train_examples(data_dir: Path | None = None) -> Iterator[Example]:
    """Training splits of the supervised sets, labels renamed to natural language."""
    from uniner.benchmark.loaders import load_split
    from uniner.benchmark.registry import suite

    for spec in suite("supervised-train", data_dir):
        if spec.zero_shot:  # defence in depth: the suite already excludes them
            raise AssertionError(f"{spec.name} is a zero-shot set and must not be trained on")
        yield from load_split(spec, "train", data_dir).examples


def training_examples(
    sources: tuple[str, ...] = SOURCES, data_dir: Path | None = None
) -> Iterator[Example]:
    """Examples of the named sources, in order."""
    unknown = [s for s in sources if s not in SOURCES]
    if unknown:
        raise ValueError(f"unknown training source(s) {unknown}; known: {', '.join(SOURCES)}")
    if "pile-ner" in sources:
        yield from pile_ner_examples(data_dir)
    if "supervised" in sources:
        yield from supervised_train_examples(data_dir)
