"""The development suite: where checkpoints, thresholds, decoding and training mixes are chosen.

What it asks (sets, shapes, variants, seeds) is in :mod:`uniner.benchmark.devsuite_data` (its
names are re-exported here); this module runs an extractor on those cells and scores them:

* **Scores**: the official UniNER metric and the offset metrics of ``uniner bench``
  (:func:`uniner.benchmark.runner.score_split`) per (set, shape, variant) cell, gold being the
  gold mentions of the asked types. The **summary** is the mean official F1 over all cells
  (every set, shape and variant weighs the same); means per shape, variant and set beside it.
* **Paired scores**: the 1- and 3-type cells draw their types by frequency, so they hold mostly
  frequent types, while an all-type cell holds every type, rare and hard ones too; their means
  differ by the types as well as by the call. Each few-type cell is therefore scored a second
  time on the all-type call's answers, restricted to the cell's own asked types
  (:attr:`DevSuiteResult.paired`, no extra model time): the same types and gold, read in a call
  asking all of them. Both sides keep only the (passage, type) pairs the all-type call asked
  (:attr:`DevSuiteResult.paired_own`): held-out Pile-NER's all-type call asks a passage's present
  types plus three absent ones, so an absent type of a few-type call may be missing from it.
  Own minus paired is what asking the other types costs.

From a script, one loaded model under several decoding settings (the data is prepared once)::

    from uniner import load
    from uniner.benchmark.devsuite import run_dev_suite

    m = load()
    for t in (0.5, 0.6, 0.7):
        m.fixed_threshold(t)  # changes m: every call now uses t
        r = run_dev_suite(m, progress=False)
        print(t, r.summary, r.by("shape"), r.by("variant"))
"""

from __future__ import annotations

import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from tqdm.auto import tqdm  # type: ignore[import-untyped]

from uniner.benchmark.devsuite_data import (
    DEV_SUITE,
    DEV_SUITE_V1,
    PILE_NER_HELDOUT,
    SHAPES,
    Cell,
    DevSet,
    DevSuiteDataError,
    DevSuiteSpec,
    asked_types,
    build_cells,
    listing_order,
    load_dev_set,
    pick_types,
    prepare,
)
from uniner.benchmark.runner import DatasetResult, score_split
from uniner.data.types import Entity
from uniner.inference.protocol import Extractor

__all__ = [
    "DEV_SUITE",
    "DEV_SUITE_V1",
    "PILE_NER_HELDOUT",
    "SHAPES",
    "Cell",
    "CellResult",
    "DevSet",
    "DevSuiteDataError",
    "DevSuiteResult",
    "DevSuiteSpec",
    "asked_types",
    "build_cells",
    "call_each",
    "evaluate_cells",
    "listing_order",
    "load_dev_set",
    "paired_results",
    "pick_types",
    "predict_set",
    "prepare",
    "run_dev_suite",
    "score_cell",
]


@dataclass(frozen=True)
class CellResult:
    dataset: str
    shape: str
    variant: str
    result: DatasetResult


@dataclass(frozen=True)
class DevSuiteResult:
    """Scores of one run. F1 values are fractions in [0, 1]; tables show percent."""

    cells: tuple[CellResult, ...]
    sets: tuple[str, ...]
    skipped: tuple[str, ...]
    spec: DevSuiteSpec
    seconds: float
    extractor: str
    markdown: str = ""
    files: tuple[Path, ...] = ()
    set_seconds: Mapping[str, float] = field(default_factory=dict)
    #: Few-type cells scored on the all-type call's answers, and on their own calls' answers,
    #: both on the pairs the all-type call asked (see the module docstring).
    paired: tuple[CellResult, ...] = ()
    paired_own: tuple[CellResult, ...] = ()

    def f1(self, dataset: str, shape: str, variant: str, metric: str = "official") -> float:
        for c in self.cells:
            if (c.dataset, c.shape, c.variant) == (dataset, shape, variant):
                f1: float = getattr(c.result, metric).f1
                return f1
        raise KeyError(f"no cell {dataset}/{shape}/{variant}")

    def mean(self, metric: str = "official", pool: str = "cells", **where: str) -> float:
        """Mean F1 over the cells matching ``where`` (dataset=, shape=, variant=); ``pool``:
        "cells", or the few-type cells' "paired" or "paired_own" scores."""
        if pool not in ("cells", "paired", "paired_own"):
            raise ValueError(f"pool must be cells, paired or paired_own, got {pool!r}")
        vals = [
            getattr(c.result, metric).f1
            for c in getattr(self, pool)
            if all(getattr(c, k) == v for k, v in where.items())
        ]
        return sum(vals) / len(vals) if vals else float("nan")

    @property
    def paired_shapes(self) -> tuple[str, ...]:
        """The shapes with paired scores, in the suite's order."""
        return tuple(sh for sh in self.spec.shapes if any(c.shape == sh for c in self.paired))

    def shape_cost(self, shape: str, metric: str = "official", **where: str) -> float:
        """Mean F1 of ``shape``'s cells minus their paired scores, on the same pairs: what
        reading them in a call asking all types costs (negative: the all-type call does better)."""
        own = self.mean(metric, "paired_own", shape=shape, **where)
        return own - self.mean(metric, "paired", shape=shape, **where)

    @property
    def summary(self) -> float:
        """The suite's one number: mean official F1 over every (set, shape, variant) cell."""
        return self.mean()

    def by(self, axis: str, metric: str = "official") -> dict[str, float]:
        """Mean F1 per value of ``axis`` ("shape", "variant" or "dataset")."""
        keys = {"shape": self.spec.shapes, "variant": self.spec.variants, "dataset": self.sets}
        return {k: self.mean(metric, **{axis: k}) for k in keys[axis]}


# -- running ---------------------------------------------------------------------------------


def call_each(
    extractor: Extractor, texts: list[str], asked: list[tuple[str, ...]]
) -> list[list[Entity]]:
    """Each text with its own types: in one stream where the extractor can (span students),
    else grouped by type list through the :class:`Extractor` protocol."""
    each = getattr(extractor, "extract_each", None)
    if each is not None:
        return [list(r.entities) for r in each(texts, asked)]
    out: list[list[Entity]] = [[] for _ in texts]
    groups: dict[tuple[str, ...], list[int]] = {}
    for i, labs in enumerate(asked):
        groups.setdefault(labs, []).append(i)
    for labs, idx in groups.items():
        got = extractor.extract_batch([texts[i] for i in idx], list(labs))
        for i, ents in zip(idx, got, strict=True):
            out[i] = list(ents)
    return out


def predict_set(
    extractor: Extractor,
    cells: Sequence[Cell],
    batch_size: int = 32,
    progress: bool = True,
) -> dict[tuple[str, tuple[str, ...]], list[Entity]]:
    """Predictions for every distinct (text, asked types) call of one set's cells."""
    calls = list(
        dict.fromkeys(
            (ex.text, labs) for c in cells for ex, labs in zip(c.examples, c.asked, strict=True)
        )
    )
    calls.sort(key=lambda c: len(c[0]))  # similar lengths batch with little padding
    preds: dict[tuple[str, tuple[str, ...]], list[Entity]] = {}
    chunk = max(1, 4 * batch_size)
    desc = f"{cells[0].dataset}/dev" if cells else "dev"
    with tqdm(total=len(calls), desc=desc, unit="call", disable=not progress) as bar:
        for s in range(0, len(calls), chunk):
            part = calls[s : s + chunk]
            got = call_each(extractor, [t for t, _ in part], [labs for _, labs in part])
            if len(got) != len(part):
                raise ValueError(f"{extractor.name!r} returned {len(got)} results for {len(part)}")
            preds.update(zip(part, got, strict=True))
            bar.update(len(part))
    return preds


def score_cell(
    cell: Cell,
    preds: Mapping[tuple[str, tuple[str, ...]], list[Entity]],
    calls: Sequence[tuple[str, ...]] | None = None,
    name: str = "",
) -> DatasetResult:
    """Official and offset scores of one cell; gold is restricted to the asked types.

    ``calls``: the calls whose answers are scored, one per passage (default: the cell's own),
    keeping only the answers of the types the cell asks."""
    predictions = [
        [e for e in preds[(ex.text, call)] if e.label in labs]
        for ex, labs, call in zip(cell.examples, cell.asked, calls or cell.asked, strict=True)
    ]
    name = name or f"{cell.dataset}/{cell.shape}/{cell.variant}"
    return score_split(name, "dev", (), cell.examples, predictions, cell.pairs())


def paired_results(
    cells: Sequence[Cell], preds: Mapping[tuple[str, tuple[str, ...]], list[Entity]]
) -> tuple[list[CellResult], list[CellResult]]:
    """Every few-type cell of one set scored on the all-type call's answers, and on its own,
    both on the (passage, type) pairs the all-type call asked (none without an all shape)."""
    whole = {c.variant: c for c in cells if c.shape == "all"}
    paired, own = [], []
    for c in cells:
        if c.shape == "all" or c.variant not in whole:
            continue
        every = whole[c.variant].asked
        kept = tuple(
            tuple(t for t in labs if t in call) for labs, call in zip(c.asked, every, strict=True)
        )
        covered = replace(c, asked=kept)
        key = (c.dataset, c.shape, c.variant)
        read_in_all = score_cell(covered, preds, every, "/".join(key) + "/paired")
        paired.append(CellResult(*key, read_in_all))
        own.append(CellResult(*key, score_cell(covered, preds, c.asked)))
    return paired, own


def run_dev_suite(
    extractor: Extractor,
    sets: Sequence[str] | None = None,
    max_passages: int | None = None,
    seed: int | None = None,
    out: Path | None = None,
    batch_size: int = 32,
    progress: bool = True,
    data_dir: Path | None = None,
    spec: DevSuiteSpec = DEV_SUITE,
    meta: Mapping[str, Any] | None = None,
) -> DevSuiteResult:
    """Run ``extractor`` (already loaded; its current decoding settings apply) on the suite.

    ``sets``, ``max_passages`` and ``seed`` replace those of ``spec``; named ``sets`` must be
    present, while a default-suite set without files here is skipped and listed in
    ``skipped``. Data preparation is cached, so calling again with other decoding settings
    costs only the model's time. ``out`` writes table.md, results.csv, results.json and
    dev_suite.png there (:mod:`uniner.benchmark.devsuite_report`). ``batch_size``: calls are
    handed to the extractor ``4 * batch_size`` at a time (a span student batches its forward
    passes by its own ``batch_size``); ``meta`` is added to results.json.
    """
    changes: dict[str, Any] = {}
    if sets is not None:
        changes["sets"] = tuple(sets)
    if max_passages is not None:
        if max_passages <= 0:
            raise ValueError(f"max_passages must be positive, got {max_passages}")
        changes["max_passages"] = max_passages
    if seed is not None:
        changes["seed"] = seed
    spec = replace(spec, **changes)
    per_set, skipped = prepare(spec, data_dir, strict=sets is not None)
    if not per_set:
        raise DevSuiteDataError("no set of the dev suite has its files here")
    result = evaluate_cells(extractor, per_set, spec, skipped, batch_size, progress)
    if out is not None:
        from uniner.benchmark.devsuite_report import write_outputs

        result = replace(result, files=write_outputs(result, out, meta))
    return result


def evaluate_cells(
    extractor: Extractor,
    per_set: Sequence[Sequence[Cell]],
    spec: DevSuiteSpec = DEV_SUITE,
    skipped: Sequence[str] = (),
    batch_size: int = 32,
    progress: bool = True,
) -> DevSuiteResult:
    """Run and score prepared cells (one sequence per set, as :func:`build_cells` makes)."""
    from uniner.benchmark.devsuite_report import markdown

    t0 = time.perf_counter()
    cells, paired, paired_own, set_seconds = [], [], [], {}
    for set_cells in per_set:
        t_set = time.perf_counter()
        preds = predict_set(extractor, set_cells, batch_size, progress)
        set_seconds[set_cells[0].dataset] = time.perf_counter() - t_set
        cells += [
            CellResult(c.dataset, c.shape, c.variant, score_cell(c, preds)) for c in set_cells
        ]
        read_in_all, read_alone = paired_results(set_cells, preds)
        paired += read_in_all
        paired_own += read_alone
    result = DevSuiteResult(
        cells=tuple(cells),
        sets=tuple(s[0].dataset for s in per_set),
        skipped=tuple(skipped),
        spec=spec,
        seconds=time.perf_counter() - t0,
        extractor=getattr(extractor, "name", type(extractor).__name__),
        set_seconds=set_seconds,
        paired=tuple(paired),
        paired_own=tuple(paired_own),
    )
    return replace(result, markdown=markdown(result))
