"""What a registered data set is: :class:`DatasetSpec` and its files, :class:`FileSet`.

A spec says everything needed to load a data set the way the paper scores it: where its files
are under the shared data directory and in which format, how raw labels become the natural
language types that UniNER is asked about (``PER`` -> ``person``), which labels are dropped
('else'/misc-like, as the paper does), and whether it is a zero-shot test set that nothing may
train on. The specs themselves are data (``catalog.toml``, read by :mod:`uniner.data.catalog`);
these types live in the data layer because training (:mod:`uniner.data.sources`) needs them as
much as the benchmark does, and the data layer imports nothing above it.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from types import MappingProxyType
from typing import TypeVar

from uniner.paths import data_dir as _default_data_dir

K = TypeVar("K")
V = TypeVar("V")

DOMAINS: tuple[str, ...] = (
    "General",
    "Biomed",
    "Clinics",
    "STEM",
    "Programming",
    "Social media",
    "Law",
    "Finance",
    "Transportation",
)
"""The paper's 9 domains, in its order."""

SPLITS: tuple[str, ...] = ("train", "dev", "test")

FORMATS: tuple[str, ...] = ("bio", "bio-tag-first", "conllu", "instructuie")
"""Formats of :func:`uniner.data.readers.read_examples` that the catalog uses."""


def _frozen(d: Mapping[K, V]) -> Mapping[K, V]:
    return d if isinstance(d, MappingProxyType) else MappingProxyType(dict(d))


@dataclass(frozen=True, slots=True)
class FileSet:
    """One copy of a data set's files: relative paths per split, their format, and the sentence
    counts the data README gives (so a loader can check it read what was shipped).

    A split is one file, or a tuple of files read in order when its source cut it in parts
    (MultiCoNER II's train split ships as train90 + train10); ``sentences`` is then the total.
    """

    format: str
    paths: Mapping[str, str | tuple[str, ...]] = field(hash=False)
    sentences: Mapping[str, int] = field(hash=False, default_factory=dict)
    origin: str = ""
    note: str = ""

    def __post_init__(self) -> None:
        if self.format not in FORMATS:
            raise ValueError(f"unknown format {self.format!r}; known: {', '.join(FORMATS)}")
        bad = [s for s in self.paths if s not in SPLITS]
        if bad:
            raise ValueError(f"unknown split(s) {bad}; splits are {SPLITS}")
        empty = [s for s, p in self.paths.items() if not isinstance(p, str) and not p]
        if empty:
            raise ValueError(f"split(s) {empty} list no file")
        object.__setattr__(self, "paths", _frozen(self.paths))
        object.__setattr__(self, "sentences", _frozen(self.sentences))

    @property
    def splits(self) -> tuple[str, ...]:
        return tuple(s for s in SPLITS if s in self.paths)

    def files(self, split: str) -> tuple[str, ...]:
        """The relative paths of one split, in reading order (one for most data sets)."""
        p = self.paths[split]
        return (p,) if isinstance(p, str) else tuple(p)


@dataclass(frozen=True, slots=True)
class DatasetSpec:
    """A data set of the benchmark (or an extra training set), as the paper uses it.

    ``label_map`` maps every raw label found in any registered file to its natural-language
    name; ``dropped`` lists raw labels removed before scoring. ``labels`` is the fixed question
    order (natural names). ``files`` maps a source name ("instructuie", "raw", ...) to a
    :class:`FileSet`; the first one is the default. ``paper_sizes`` are Table 6's
    train/dev/test sizes, which may differ from the files here (see ``notes``). ``zero_shot``
    marks the CrossNER/MIT test sets: :func:`uniner.data.guard.refuse_zero_shot_dataset` keeps
    every split of them out of training.
    """

    name: str
    domain: str
    n_types: int
    label_map: Mapping[str, str] = field(hash=False, default_factory=dict)
    dropped: tuple[str, ...] = ()
    labels: tuple[str, ...] = ()
    paper_sizes: Mapping[str, int] = field(hash=False, default_factory=dict)
    source: str = "not present here"
    licence: str = "not present here"
    files: Mapping[str, FileSet] = field(hash=False, default_factory=dict)
    uniner_test: str | None = None
    in_benchmark: bool = True
    zero_shot: bool = False
    paper_column: str | None = None
    notes: str = ""

    def __post_init__(self) -> None:
        if self.domain not in DOMAINS:
            raise ValueError(f"{self.name}: unknown domain {self.domain!r}")
        object.__setattr__(self, "label_map", _frozen(self.label_map))
        object.__setattr__(self, "paper_sizes", _frozen(self.paper_sizes))
        object.__setattr__(self, "files", _frozen(self.files))
        overlap = set(self.label_map) & set(self.dropped)
        if overlap:
            raise ValueError(f"{self.name}: labels both mapped and dropped: {sorted(overlap)}")
        if not self.labels and self.label_map:
            object.__setattr__(self, "labels", tuple(dict.fromkeys(self.label_map.values())))
        missing = set(self.label_map.values()) - set(self.labels)
        if missing:
            raise ValueError(f"{self.name}: mapped labels missing from labels: {sorted(missing)}")

    # -- files ---------------------------------------------------------------------------------
    @property
    def default_source(self) -> str | None:
        return next(iter(self.files), None)

    def fileset(self, source: str | None = None) -> FileSet:
        """The files of ``source`` (default: the first registered one)."""
        key = source or self.default_source
        if key is None or key not in self.files:
            known = ", ".join(self.files) or "none"
            raise KeyError(f"{self.name}: no files for source {key!r} (sources here: {known})")
        return self.files[key]

    def splits(self, source: str | None = None) -> tuple[str, ...]:
        """Splits with a registered file (empty when the data set is not shipped)."""
        return self.fileset(source).splits if self.files else ()

    def path(
        self, split: str, data_dir: str | Path | None = None, source: str | None = None
    ) -> Path:
        """Absolute path of one split's file under the shared data directory (a split of
        several files raises ValueError: use :meth:`paths`)."""
        found = self.paths(split, data_dir, source)
        if len(found) != 1:
            raise ValueError(f"{self.name}: the {split!r} split is {len(found)} files; use paths()")
        return found[0]

    def paths(
        self, split: str, data_dir: str | Path | None = None, source: str | None = None
    ) -> tuple[Path, ...]:
        """Absolute paths of one split's files, in reading order."""
        fs = self.fileset(source)
        if split not in fs.paths:
            raise KeyError(
                f"{self.name}: no {split!r} split in source {source or self.default_source!r} "
                f"(splits: {', '.join(fs.splits) or 'none'})"
            )
        root = resolve_data_dir(data_dir)
        return tuple(root / rel for rel in fs.files(split))

    def uniner_test_path(self, data_dir: str | Path | None = None) -> Path | None:
        """The official UniNER processed test file, where the release has one."""
        return None if self.uniner_test is None else resolve_data_dir(data_dir) / self.uniner_test

    def present(self, data_dir: str | Path | None = None, source: str | None = None) -> bool:
        """Whether every registered file of ``source`` exists (False when none is registered)."""
        if not self.files:
            return False
        try:
            root = resolve_data_dir(data_dir)
        except FileNotFoundError:
            return False
        fs = self.fileset(source)
        return bool(fs.paths) and all((root / p).is_file() for s in fs.splits for p in fs.files(s))

    # -- labels --------------------------------------------------------------------------------
    def natural(self, raw: str) -> str | None:
        """Natural-language name of a raw label; ``None`` if it is dropped; KeyError if unknown
        (an unmapped label is a catalog bug and must not be scored silently)."""
        if raw in self.dropped:
            return None
        try:
            return self.label_map[raw]
        except KeyError:
            raise KeyError(
                f"{self.name}: raw label {raw!r} has no natural-language name and is not "
                f"dropped; add it to the catalog"
            ) from None

    def __hash__(self) -> int:
        return hash(self.name)


def resolve_data_dir(data_dir: str | Path | None) -> Path:
    """``data_dir`` as a Path, or the shared data directory (FileNotFoundError when absent)."""
    if data_dir is not None:
        return Path(data_dir)
    found = _default_data_dir(required=True)
    assert found is not None
    return found
