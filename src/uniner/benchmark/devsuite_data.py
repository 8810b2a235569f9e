"""The development suite's data: its sets, passages, call shapes and variants, as cells to run.

The 7 zero-shot sets (CrossNER, MIT) are the benchmark and are used for reporting only. Choices
are made here instead, on dev data from outside their domains, asked the way users ask:

* **Sets** (:data:`DEV_SUITE`): a held-out part of the Pile-NER passages (never trained on from
  v0.3.0; see :data:`uniner.data.sources.PILE_NER_HELDOUT_PERCENT`), MultiCoNER II English dev,
  CoNLL++ dev, WikiANN dev, WikiNeural dev and three biomedical dev splits (bc5cdr: chemicals
  and diseases; JNLPBA: five molecular-biology types, no train split; BioNLP13CG: 16 cancer
  genetics types). ``max_passages`` passages of each (of Pile-NER's long passages half as
  many), a seeded sample, then topped up (suite version 2) with more passages of the same
  split, in a seeded order, until the set's passages hold ``min_mentions`` gold mentions or
  ``top_up`` times as many passages: 60 sentences of a sentence-level set held 68 to 213
  mentions, where one error moves a cell by about a point (MultiCoNER II: 82 mentions over
  33 types).
* **Shapes**: each passage is asked 1 type, 3 types, or all its types. For the 1- and 3-type
  shapes each slot takes, with probability ``present_share``, a type present in the passage
  (while any is left), otherwise an absent one, drawn with weight 1 + the number of the
  split's passages mentioning it (absent types a user might plausibly ask, not the rarest).
  A set with fewer types than the shape asks is asked all of them. "All its types" is the
  set's label set; Pile-NER has open types and no label set, so there it is the passage's
  present types plus ``pile_negatives`` absent ones drawn by the same weights. Asked types are
  listed in an order of the passage's own (suite version 2, ``type_order = "shuffled"``: a
  seeded permutation of the set's types per passage, the same for each shape and variant), since
  a joint model's answer to a many-type call moves with the order its types are listed in
  (``bench/label_order.py``: MultiCoNER II's all-type cell by ~7 points over six orders) and
  users list types in no set order; version 1 listed them in the set's order (registry order;
  Pile-NER: most frequent first), one fixed order whose luck every all-type cell shared.
* **Variants** (:data:`uniner.data.augment.VARIANTS`): as written, lower-cased, and informal
  (:func:`uniner.data.augment.informalize`), the same passages and asked types in each.

Every choice is seeded from ``seed``, the set's name, the shape or variant and the passage's
own text, so a run repeats exactly, one set's draws do not depend on which other sets run, and
a passage is asked the same whatever else is sampled.
"""

from __future__ import annotations

import functools
import hashlib
import logging
import random
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from uniner.data.augment import VARIANTS, apply_variant
from uniner.data.types import Example

log = logging.getLogger(__name__)

PILE_NER_HELDOUT = "Pile-NER-heldout"
"""The suite's name for the held-out Pile-NER passages (not a registry data set)."""


class DevSuiteDataError(ValueError):
    """A set asked for cannot be part of the suite: unknown, absent here, or a zero-shot set."""


SHAPES: tuple[str, ...] = ("1", "3", "all")
"""Call shapes: asked types per call (``all``: the set's types)."""

TYPE_ORDERS: tuple[str, ...] = ("shuffled", "set")
"""How a call lists its types: a seeded order per passage (version 2), or the set's (version 1)."""


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
    min_mentions: int = 200
    top_up: int = 4
    type_order: str = "shuffled"

    def __post_init__(self) -> None:
        if self.type_order not in TYPE_ORDERS:
            raise ValueError(f"type_order must be one of {TYPE_ORDERS}, got {self.type_order!r}")
        if self.top_up < 1 or self.min_mentions < 0:
            raise ValueError("top_up must be >= 1 and min_mentions >= 0")

    @property
    def version(self) -> int:
        """1: the set's type order and no top-up (``min_mentions = 0``); 2: anything else
        (the default: each passage's own order, sets topped up)."""
        return 1 if self.type_order == "set" and self.min_mentions == 0 else 2

    def passages_of(self, name: str) -> int:
        """Passages sampled from a set: ``max_passages``, and for Pile-NER (passages of about
        five sentences with about 14 mentions each, most of the suite's time) ``pile_passage_share``
        of that: still several hundred gold mentions per cell."""
        if name == PILE_NER_HELDOUT:
            return max(1, round(self.max_passages * self.pile_passage_share))
        return self.max_passages


DEV_SUITE = DevSuiteSpec()

DEV_SUITE_V1 = DevSuiteSpec(type_order="set", min_mentions=0)
"""Version 1 of the suite (the set's type order, no top-up): figures before 2026-12-07, and the
ablation tables, whose arms (resumed across runs) must share one suite and whose
``dev_passages`` is a budget."""


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


# -- data ------------------------------------------------------------------------------------


def _sample(
    examples: Sequence[Example], n: int, rng: random.Random, min_mentions: int = 0, most: int = 0
) -> tuple[Example, ...]:
    """``n`` seeded passages, then more (in a second seeded order, so the first ``n`` stay those
    of a run without top-up) until they hold ``min_mentions`` gold mentions or number ``most``."""
    usable = [ex for ex in examples if ex.text.strip()]
    if len(usable) <= n:
        return tuple(usable)
    keep = sorted(rng.sample(range(len(usable)), n))
    mentions = sum(len(usable[k].entities) for k in keep)
    if mentions < min_mentions and most > n:
        taken = set(keep)
        rest = [k for k in range(len(usable)) if k not in taken]
        random.Random(rng.getrandbits(64)).shuffle(rest)
        for k in rest:
            if mentions >= min_mentions or len(keep) >= most:
                break
            keep.append(k)
            mentions += len(usable[k].entities)
        keep.sort()
    return tuple(usable[k] for k in keep)


def _draw_passages(
    examples: Sequence[Example], name: str, spec: DevSuiteSpec, rng: random.Random
) -> tuple[Example, ...]:
    n = spec.passages_of(name)
    return _sample(examples, n, rng, spec.min_mentions, spec.top_up * n)


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
        return DevSet(name, labels, _draw_passages(every, name, spec, rng), dict(weights))
    from uniner.benchmark.loaders import load_split
    from uniner.benchmark.registry import get

    reg = get(name)
    if reg.zero_shot:
        raise DevSuiteDataError(f"{reg.name} is a zero-shot benchmark set, never in the dev suite")
    if spec.split not in reg.splits() or not reg.present(data_dir):
        raise FileNotFoundError(f"{reg.name}: no {spec.split} split here")
    data = load_split(reg, spec.split, data_dir)
    examples = _draw_passages(data.examples, reg.name, spec, rng)
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


def listing_order(ds: DevSet, example: Example, spec: DevSuiteSpec = DEV_SUITE) -> dict[str, int]:
    """Each type's place when a call about ``example`` lists it: the set's order (version 1), or
    a permutation seeded by the passage alone, so each shape and variant lists the types it
    shares in one order and a call asked in two cells is read once."""
    labels = list(ds.labels)
    if spec.type_order == "shuffled":
        random.Random(f"{spec.seed}/{ds.name}/order/{_key(example)}").shuffle(labels)
    return {t: i for i, t in enumerate(labels)}


def asked_types(
    ds: DevSet, example: Example, shape: str, rng: random.Random, spec: DevSuiteSpec = DEV_SUITE
) -> tuple[str, ...]:
    """The types one call of ``shape`` asks about ``example``, in :func:`listing_order`."""
    present = [t for t in ds.labels if any(e.label == t for e in example.entities)]
    absent = [t for t in ds.labels if t not in present]
    if shape == "all":
        chosen = set(ds.labels)
        if ds.name == PILE_NER_HELDOUT:
            chosen = set(present) | pick_types([], absent, spec.pile_negatives, ds.weights, rng)
    else:
        chosen = pick_types(present, absent, int(shape), ds.weights, rng, spec.present_share)
    return tuple(sorted(chosen, key=listing_order(ds, example, spec).__getitem__))


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
