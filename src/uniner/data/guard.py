"""The one zero-shot guard: nothing that builds training data may read CrossNER or MIT.

The 7 zero-shot sets (``zero_shot = true`` in the catalog) are the benchmark's test of
zero-shot transfer; a model trained on any split of them (dev included) would be reported as
zero-shot while it is not. Training data reaches a trainer three ways, and each is checked here:

* by data-set name (``{ dataset = "CrossNER_AI" }``, aliases included): the catalog's flag;
* by path (``{ path = "..." }``, a corpus or annotation file): the path is resolved (symlinks
  followed, ``..`` removed) and refused when it lies in the shared data's ``zero-shot`` folder
  or is a file the catalog registers for a zero-shot set;
* by named corpus (``{ source = "supervised" }``): built from non-zero-shot sets only, and each
  set is checked by name again as it is read.

Every trainer (span, generative) and every tool that writes training data calls this module;
keep it the only copy, so coverage cannot differ between callers. A copy of a test file under
another name is not detected (only its path is checked).
"""

from __future__ import annotations

import functools
from pathlib import Path
from typing import Literal

from uniner.data.catalog import get, zero_shot_specs
from uniner.data.datasets import DatasetSpec
from uniner.data.errors import ZeroShotDataError
from uniner.paths import data_dir as _default_data_dir

#: The shared data's folder of zero-shot test data (CrossNER, MIT: every copy and split).
ZERO_SHOT_FOLDER = "zero-shot"

#: What a source is for -> (how the message names it, what it may not do). A run's dev data
#: chooses its ``best`` checkpoint, so it is held to the same rule as its training data.
GuardedUse = Literal["training", "selection"]
USES: dict[GuardedUse, tuple[str, str]] = {
    "training": ("training source", "cannot be trained on"),
    "selection": ("dev source", "cannot choose a checkpoint (it is for reporting only)"),
}


def refuse_zero_shot_dataset(
    name: str | DatasetSpec, what: str = "", use: GuardedUse = "training"
) -> DatasetSpec:
    """The spec of ``name``; ZeroShotDataError if it is a zero-shot test set (any split).

    ``what`` names the source in the message (e.g. the config entry); default: the name.
    ``use`` (a key of :data:`USES`) says what the source would have been for.
    """
    spec = get(name)
    if spec.zero_shot:
        role, forbidden = USES[use]
        raise ZeroShotDataError(
            f"{role} {what or spec.name}: {spec.name} is a zero-shot test set "
            f"(CrossNER/MIT, every split) and {forbidden}"
        )
    return spec


def protected_paths(data_dir: str | Path | None = None) -> tuple[Path, ...]:
    """Resolved paths no training data may come from: the ``zero-shot`` folder of the shared
    data (``data_dir`` or the default one, when present) and every file the catalog registers
    for a zero-shot set."""
    root = Path(data_dir) if data_dir is not None else _default_data_dir()
    return () if root is None else _protected_under(root.resolve())


@functools.lru_cache(maxsize=8)
def _protected_under(root: Path) -> tuple[Path, ...]:
    """Cached per data directory: a corpus of thousands of files is checked file by file."""
    out = [(root / ZERO_SHOT_FOLDER).resolve()]
    for spec in zero_shot_specs():
        for fs in spec.files.values():
            out += [(root / rel).resolve() for split in fs.splits for rel in fs.files(split)]
        if spec.uniner_test is not None:
            out.append((root / spec.uniner_test).resolve())
    return tuple(dict.fromkeys(out))


def refuse_zero_shot_path(
    path: str | Path,
    data_dir: str | Path | None = None,
    what: str = "",
    use: GuardedUse = "training",
) -> Path:
    """``path`` resolved; ZeroShotDataError if it is zero-shot test data (see module doc).

    Resolving first means a symlink to a test file, or ``mine/../../shared/data/zero-shot/...``,
    is refused as the file itself is.
    """
    resolved = Path(path).expanduser().resolve()
    role, forbidden = USES[use]
    for protected in protected_paths(data_dir):
        if resolved.is_relative_to(protected):  # a protected file is relative to itself
            raise ZeroShotDataError(
                f"{role} {what or path}: {resolved} is zero-shot test data "
                f"(CrossNER/MIT, under {protected}) and {forbidden}"
            )
    return resolved
