"""Training data by configuration: :class:`DataSource` entries read into examples, behind the
zero-shot guard.

Every trainer (the span and generative students, the gazetteer baseline, tools that prepare
training data) reads its data through here, so the rule that CrossNER and MIT are never
trained on (:mod:`uniner.data.guard`) holds in one place. The named corpora are the paper's
"Pile + supervised" setting: the Pile-NER annotations at hand plus the training splits of the
supervised sets.
"""

from __future__ import annotations

import hashlib
import random
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from uniner.data.catalog import trainable_specs
from uniner.data.guard import GuardedUse, refuse_zero_shot_dataset, refuse_zero_shot_path
from uniner.data.readers import read_examples
from uniner.data.splits import load_split
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

#: What sources are read for (see :func:`load_sources`): the guarded uses, or scoring only.
SourceUse = Literal[GuardedUse, "scoring"]


@dataclass
class DataSource:
    """Where examples come from: exactly one of ``path``, ``dataset`` or ``source``.

    * ``path`` (+ ``format``): any file the foundation readers understand, e.g. a UniNER
      conversation file written by ``uniner distill`` (answers are aligned to offsets);
    * ``dataset`` (+ ``split``): a catalogued data set, relabelled to natural-language types;
    * ``source``: a named training corpus of this module ("pile-ner", "supervised").

    ``skip`` drops the first examples, so one file can give a training part and a held-out
    part (``limit = N`` for one, ``skip = N`` for the other); then ``limit`` keeps the first of
    the rest and ``sample`` a seeded random subset of that many.
    """

    path: str | None = None
    format: str = "auto"
    dataset: str | None = None
    split: str = "train"
    source: str | None = None
    limit: int | None = None
    sample: int | None = None
    skip: int = 0

    def __post_init__(self) -> None:
        for key in ("limit", "sample", "skip"):
            value = getattr(self, key)
            if value is not None and (
                isinstance(value, bool) or not isinstance(value, int) or value < 0
            ):
                raise ValueError(f"a data source's {key} must be an integer >= 0, got {value!r}")
        given = [k for k in ("path", "dataset", "source") if getattr(self, k) is not None]
        if len(given) != 1:
            raise ValueError(
                f"a data source needs exactly one of path, dataset, source; got {given or 'none'}"
            )
        if self.source is not None and self.source not in SOURCES:
            raise ValueError(f"unknown training source {self.source!r}; known: {SOURCES}")

    def describe(self) -> str:
        """The entry as a config line would name it (for messages)."""
        if self.dataset is not None:
            return f"dataset = {self.dataset!r} (split {self.split!r})"
        if self.source is not None:
            return f"source = {self.source!r}"
        return f"path = {self.path!r}"


def check_training_sources(
    sources: Iterable[DataSource],
    data_dir: str | Path | None = None,
    use: GuardedUse = "training",
) -> None:
    """Refuse (ZeroShotDataError) any source that is, or reads, zero-shot test data.

    Called before anything is read, so a bad entry fails in a second, not after an hour of
    loading; ``load_sources`` calls it, and a trainer that reads some entries itself (the
    generative student's conversation files) calls it first. ``use`` is ``"training"`` or
    ``"selection"`` (a run's dev data, which picks its ``best`` checkpoint).
    """
    for src in sources:
        if src.dataset is not None:
            refuse_zero_shot_dataset(src.dataset, what=src.describe(), use=use)
        elif src.path is not None:
            refuse_zero_shot_path(src.path, data_dir, what=src.describe(), use=use)


def load_sources(
    sources: Sequence[DataSource], seed: int = 0, use: SourceUse = "training"
) -> list[Example]:
    """Examples of the configured sources (see :class:`DataSource`), in order.

    Sources for ``"training"`` may never be zero-shot test data (CrossNER, MIT), whatever the
    split, by name or by path: a model reported as zero-shot must not see them; nor may those
    for ``"selection"`` (a run's dev data: it picks the checkpoint a release is cut from).
    Sources read for ``"scoring"`` only (held-out data nothing is chosen by) may be.
    """
    if use != "scoring":
        check_training_sources(sources, use=use)
    out: list[Example] = []
    for src in sources:
        if src.dataset is not None:
            exs = list(load_split(src.dataset, src.split).examples)
        elif src.source is not None:
            exs = list(training_examples((src.source,)))
        else:
            assert src.path is not None
            exs = list(read_examples(src.path, format=None if src.format == "auto" else src.format))
        exs = exs[src.skip :]
        if src.limit is not None:
            exs = exs[: src.limit]
        if src.sample is not None and src.sample < len(exs):
            keep = sorted(random.Random(seed).sample(range(len(exs)), src.sample))
            exs = [exs[i] for i in keep]
        out += exs
    return out


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
    for spec in trainable_specs(data_dir):
        refuse_zero_shot_dataset(spec, what="source = 'supervised'")  # already excluded
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
