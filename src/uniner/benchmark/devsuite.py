"""The development suite: where checkpoints, thresholds, decoding and training mixes are chosen.

The 7 zero-shot sets (CrossNER, MIT) are the benchmark and are used for reporting only. Choices
are made here instead, on dev data from outside their domains, asked the way users ask:

* **Sets** (:data:`DEV_SUITE`): a held-out part of the Pile-NER passages (never trained on from
  v0.3.0; see :data:`uniner.data.sources.PILE_NER_HELDOUT_PERCENT`), MultiCoNER II English dev,
  CoNLL++ dev, WikiANN dev, WikiNeural dev and three biomedical dev splits (bc5cdr: chemicals
  and diseases; JNLPBA: five molecular-biology types, no train split; BioNLP13CG: 16 cancer
  genetics types). ``max_passages`` passages of each (of Pile-NER's long passages half as
  many), a seeded sample.
* **Shapes**: each passage is asked 1 type, 3 types, or all its types. For the 1- and 3-type
  shapes each slot takes, with probability ``present_share``, a type present in the passage
  (while any is left), otherwise an absent one, drawn with weight 1 + the number of the
  split's passages mentioning it (absent types a user might plausibly ask, not the rarest).
  A set with fewer types than the shape asks is asked all of them. "All its types" is the
  set's label set; Pile-NER has open types and no label set, so there it is the passage's
  present types plus ``pile_negatives`` absent ones drawn by the same weights. Asked types are
  listed in the set's order (registry order; Pile-NER: most frequent first).
* **Variants** (:data:`uniner.data.augment.VARIANTS`): as written, lower-cased, and informal
  (:func:`uniner.data.augment.informalize`), the same passages and asked types in each.
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

Every choice is seeded from ``seed``, the set's name, the shape or variant and the passage's
own text, so a run repeats exactly, one set's draws do not depend on which other sets run, and
a passage is asked the same whatever else is sampled.

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

import functools
import hashlib
import logging
import random
import time
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from tqdm.auto import tqdm

from uniner.benchmark.runner import DatasetResult, score_split
from uniner.data.augment import VARIANTS, apply_variant
from uniner.data.types import Entity, Example
from uniner.inference.protocol import Extractor

log = logging.getLogger(__name__)

PILE_NER_HELDOUT = "Pile-NER-heldout"
"""The suite's name for the held-out Pile-NER passages (not a registry data set)."""


class DevSuiteDataError(ValueError):
    """A set asked for cannot be part of the suite: unknown, absent here, or a zero-shot set."""


SHAPES: tuple[str, ...] = ("1", "3", "all")
"""Call shapes: asked types per call (``all``: the set's types)."""


@dataclass(frozen=True)
class DevSuiteSpec:
    """What the development suite runs: one source of truth (see the module docstring)."""

    sets: tuple[str, ...] = (
        PILE_NER_HELDOUT,
        "MultiCoNER2",
        "conllpp",
        "WikiANN",
        "WikiNeural",
        "bc5cdr",
        "JNLPBA",
        "BioNLP13CG",
    )
    split: str = "dev"
    max_passages: int = 60
    seed: int = 0
    shapes: tuple[str, ...] = SHAPES
    variants: tuple[str, ...] = VARIANTS
    present_share: float = 0.5
    pile_negatives: int = 3
    pile_passage_share: float = 0.5

    def passages_of(self, name: str) -> int:
        """Passages sampled from a set: ``max_passages``, and for Pile-NER (passages of about
        five sentences with about 14 mentions each, most of the suite's time) ``pile_passage_share``
        of that: still several hundred gold mentions per cell."""
        if name == PILE_NER_HELDOUT:
            return max(1, round(self.max_passages * self.pile_passage_share))
        return self.max_passages


DEV_SUITE = DevSuiteSpec()


@dataclass(frozen=True)
class DevSet:
    """One set of the suite: its types in asking order and its sampled passages (as written)."""

    name: str
    labels: tuple[str, ...]
    examples: tuple[Example, ...]
    weights: Mapping[str, int] = field(default_factory=dict)


@dataclass(frozen=True)
class Cell:
    """The calls of one (set, shape, variant): a text and its asked types per passage."""

    dataset: str
    shape: str
    variant: str
    examples: tuple[Example, ...]
    asked: tuple[tuple[str, ...], ...]

    def pairs(self) -> list[tuple[int, str]]:
        return [(i, lab) for i, labs in enumerate(self.asked) for lab in labs]


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
                return getattr(c.result, metric).f1
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


# -- data ------------------------------------------------------------------------------------


def _sample(examples: Sequence[Example], n: int, rng: random.Random) -> tuple[Example, ...]:
    usable = [ex for ex in examples if ex.text.strip()]
    if len(usable) > n:
        keep = sorted(rng.sample(range(len(usable)), n))
        usable = [usable[k] for k in keep]
    return tuple(usable)


def _weights(examples: Sequence[Example]) -> Counter[str]:
    """Passages mentioning each type."""
    return Counter(lab for ex in examples for lab in {e.label for e in ex.entities})


def load_dev_set(name: str, spec: DevSuiteSpec = DEV_SUITE, data_dir: Path | None = None) -> DevSet:
    """One set's sampled passages and types; FileNotFoundError when its files are absent."""
    rng = random.Random(f"{spec.seed}/{name}/passages")
    if name == PILE_NER_HELDOUT:
        from uniner.data.sources import pile_ner_examples

        every = list(pile_ner_examples(data_dir, part="heldout"))
        weights = _weights(every)
        labels = tuple(sorted(weights, key=lambda k: (-weights[k], k)))
        return DevSet(name, labels, _sample(every, spec.passages_of(name), rng), dict(weights))
    from uniner.benchmark.loaders import load_split
    from uniner.benchmark.registry import get

    reg = get(name)
    if reg.zero_shot:
        raise DevSuiteDataError(f"{reg.name} is a zero-shot benchmark set, never in the dev suite")
    if spec.split not in reg.splits() or not reg.present(data_dir):
        raise FileNotFoundError(f"{reg.name}: no {spec.split} split here")
    data = load_split(reg, spec.split, data_dir)
    examples = _sample(data.examples, spec.passages_of(reg.name), rng)
    return DevSet(reg.name, data.labels, examples, dict(_weights(data.examples)))


def _draw(pool: list[str], weights: Mapping[str, int], rng: random.Random) -> str:
    pick = rng.choices(pool, weights=[1 + weights.get(t, 0) for t in pool])[0]
    pool.remove(pick)
    return pick


def pick_types(
    present: Sequence[str],
    absent: Sequence[str],
    k: int,
    weights: Mapping[str, int],
    rng: random.Random,
    present_share: float = DEV_SUITE.present_share,
) -> set[str]:
    """``k`` types: each slot present with probability ``present_share`` while any is left."""
    pres, absn, out = list(present), list(absent), set()
    for _ in range(min(k, len(pres) + len(absn))):
        use_present = bool(pres) and (not absn or rng.random() < present_share)
        out.add(_draw(pres if use_present else absn, weights, rng))
    return out


def asked_types(
    ds: DevSet, example: Example, shape: str, rng: random.Random, spec: DevSuiteSpec = DEV_SUITE
) -> tuple[str, ...]:
    """The types one call of ``shape`` asks about ``example``, in the set's order."""
    present = [t for t in ds.labels if any(e.label == t for e in example.entities)]
    absent = [t for t in ds.labels if t not in present]
    if shape == "all":
        chosen = set(ds.labels)
        if ds.name == PILE_NER_HELDOUT:
            chosen = set(present) | pick_types([], absent, spec.pile_negatives, ds.weights, rng)
    else:
        chosen = pick_types(present, absent, int(shape), ds.weights, rng, spec.present_share)
    return tuple(t for t in ds.labels if t in chosen)


def _key(example: Example) -> str:
    """A passage's own seed key (its text's hash): its draws stay the same whatever else is
    sampled, so raising ``max_passages`` keeps the calls of the passages already in."""
    return hashlib.sha1(example.text.encode("utf-8")).hexdigest()[:16]


def build_cells(ds: DevSet, spec: DevSuiteSpec = DEV_SUITE) -> list[Cell]:
    """Every (shape, variant) cell of one set: the same passages and asked types per shape."""
    variants: dict[str, tuple[Example, ...]] = {}
    for v in spec.variants:
        variants[v] = tuple(
            apply_variant(ex, v, random.Random(f"{spec.seed}/{ds.name}/{v}/{_key(ex)}"))
            for ex in ds.examples
        )
    cells = []
    for shape in spec.shapes:
        asked = tuple(
            asked_types(
                ds, ex, shape, random.Random(f"{spec.seed}/{ds.name}/{shape}/{_key(ex)}"), spec
            )
            for ex in ds.examples
        )
        cells += [Cell(ds.name, shape, v, variants[v], asked) for v in spec.variants]
    return cells


@functools.lru_cache(maxsize=8)
def prepare(
    spec: DevSuiteSpec = DEV_SUITE, data_dir: Path | None = None, strict: bool = False
) -> tuple[tuple[tuple[Cell, ...], ...], tuple[str, ...]]:
    """The cells of every set (cached: many decoding settings reuse one preparation), and the
    sets skipped because their files are absent (an error when ``strict``)."""
    per_set, skipped = [], []
    for name in spec.sets:
        try:
            ds = load_dev_set(name, spec, data_dir)
        except (FileNotFoundError, KeyError) as exc:
            if strict:
                raise DevSuiteDataError(f"dev suite set {name}: {exc}") from exc
            log.warning("dev suite: %s skipped (%s)", name, exc)
            skipped.append(name)
            continue
        per_set.append(tuple(build_cells(ds, spec)))
    return tuple(per_set), tuple(skipped)


# -- running ---------------------------------------------------------------------------------


def _call(
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
            got = _call(extractor, [t for t, _ in part], [labs for _, labs in part])
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
