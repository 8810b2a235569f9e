"""The benchmark's view of the data-set catalog: named suites, the zero-shot ones in the paper's
column order.

The specs and their look-ups are data knowledge and live in the data layer
(:mod:`uniner.data.catalog`, reading ``uniner/data/catalog.toml``; the types in
:mod:`uniner.data.datasets`); they are re-exported here so benchmark code has one place to
import from. What this module adds is benchmark knowledge: which sets form which suite, and the
paper's order of the zero-shot columns (:mod:`uniner.benchmark.paper`).
"""

from __future__ import annotations

from pathlib import Path

from uniner.data.catalog import (
    all_specs,
    benchmark_specs,
    extra_specs,
    get,
    present_specs,
    trainable_specs,
    zero_shot_specs,
)
from uniner.data.datasets import DOMAINS, FORMATS, SPLITS, DatasetSpec, FileSet

__all__ = [
    "DOMAINS",
    "FORMATS",
    "SPLITS",
    "SUITES",
    "DatasetSpec",
    "FileSet",
    "all_specs",
    "benchmark_specs",
    "get",
    "suite",
]

SUITES: tuple[str, ...] = ("zero-shot", "all", "present", "supervised-train", "extra")


def suite(name: str, data_dir: str | Path | None = None) -> tuple[DatasetSpec, ...]:
    """Named groups of specs.

    * ``zero-shot``: the 7 CrossNER/MIT sets, in the paper's column order.
    * ``all``: every benchmark data set (shipped or not).
    * ``present``: benchmark data sets whose default files exist (``data_dir`` or the default).
    * ``supervised-train``: sets with a train split the default model may train on; never a
      zero-shot (CrossNER/MIT) set, of any split. Includes the extra biomedical sets.
    * ``extra``: registered sets that are not in the benchmark.
    """
    from uniner.benchmark.paper import ZERO_SHOT_COLUMNS, ZERO_SHOT_DATASETS

    if name == "zero-shot":
        ordered = tuple(get(ZERO_SHOT_DATASETS[col]) for col in ZERO_SHOT_COLUMNS)
        if set(ordered) != set(zero_shot_specs()):  # the paper and the catalog must agree
            raise AssertionError("the paper's zero-shot columns and the catalog's differ")
        return ordered
    if name == "all":
        return benchmark_specs()
    if name == "present":
        return present_specs(data_dir)
    if name == "supervised-train":
        return trainable_specs(data_dir)
    if name == "extra":
        return extra_specs()
    raise KeyError(f"unknown suite {name!r}; suites: {', '.join(SUITES)}")
