"""The training corpora of the default models, by name, from the shared data directory.

The paper's "Pile + supervised" setting: the Pile-NER annotations at hand plus the training
splits of the supervised sets. CrossNER and MIT are excluded from every source of every split:
they are the zero-shot test, and a zero-shot model must never see them. Everything that trains a
default model (the gazetteer baseline, the span student) reads its data through here, so the
exclusion is enforced in one place.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from pathlib import Path
from typing import Literal

from uniner.data.readers import read_examples
from uniner.data.types import Example
from uniner.paths import data_dir as _data_dir

#: The most complete Pile-NER piece here: every mention of SLIMER's 391 kept types.
PILE_NER_BIO = "pile-ner/slimer/GNER_wDeG/391xALL_BIO/dev.txt"

SOURCES = ("pile-ner", "supervised")

#: Share (in percent) of the Pile-NER passages held out of training for the development suite
#: (:mod:`uniner.benchmark.devsuite`): those whose SHA-1 of the text falls in the first buckets
#: of 100. A hash of the text, not a position, so the part stays the same if the file is
#: reordered or grows. Models released before v0.3.0 (v0.2.0 and older) trained on all passages.
PILE_NER_HELDOUT_PERCENT = 7

PileNerPart = Literal["train", "heldout", "all"]


def in_pile_ner_heldout(text: str) -> bool:
    """Whether a Pile-NER passage belongs to the held-out part (see PILE_NER_HELDOUT_PERCENT)."""
    bucket = int(hashlib.sha1(text.encode("utf-8")).hexdigest(), 16) % 100
    return bucket < PILE_NER_HELDOUT_PERCENT


def pile_ner_examples(
    data_dir: Path | None = None, part: PileNerPart = "train"
) -> Iterator[Example]:
    """Pile-NER passages with their (already natural-language) types.

    ``part``: ``"train"`` (the default, what training reads) leaves out the held-out passages,
    ``"heldout"`` gives only them, ``"all"`` gives the whole file.
    """
    if part not in ("train", "heldout", "all"):
        raise ValueError(f"part must be train, heldout or all, got {part!r}")
    root = data_dir or _data_dir(required=True)
    assert root is not None
    for ex in read_examples(root / PILE_NER_BIO, format="bio"):
        if part == "all" or in_pile_ner_heldout(ex.text) == (part == "heldout"):
            yield ex


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
