"""Where a model's mentions go wrong: each prediction and each gold mention in one error class.

F1 says how much is wrong; choosing what to fix (decoding, thresholds, label names, training
data) needs to know *what kind* of wrong. Every distinct prediction of an example falls in
exactly one class, tried in this order:

``correct``
    a gold mention has the same start, end and label;
``wrong_label``
    a gold mention has the same start and end but another label;
``boundary``
    it overlaps a gold mention of the same label by at least one word but the edges differ
    (sub-counted as ``longer``: it contains the gold span, ``shorter``: it lies inside it, or
    ``shifted``);
``boundary_label``
    it overlaps only gold mentions of other labels;
``spurious``
    it overlaps no gold mention.

A gold mention is ``missed`` when no prediction overlaps it at all (any label). Word overlap is
the offset metrics' rule (:mod:`uniner.evaluation.offsets`). The classes follow the SemEval-2013
scheme that ``nervaluate`` reports as counts; here each mention keeps its class, and confused
label pairs are counted, because those are what an error analysis reads.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from uniner.data.types import Entity
from uniner.evaluation.offsets import word_overlap

PRED_CLASSES = ("correct", "wrong_label", "boundary", "boundary_label", "spurious")
BOUNDARY_KINDS = ("longer", "shorter", "shifted")


@dataclass(slots=True)
class ErrorBreakdown:
    """Counts of the prediction classes, missed gold mentions and confused label pairs.

    Breakdowns add (``a + b``) to pool examples or data sets.
    """

    predictions: Counter[str] = field(default_factory=Counter)
    boundary: Counter[str] = field(default_factory=Counter)
    gold: int = 0
    missed: int = 0
    confusions: Counter[tuple[str, str]] = field(default_factory=Counter)  # (gold, predicted)

    def __add__(self, other: ErrorBreakdown) -> ErrorBreakdown:
        return ErrorBreakdown(
            self.predictions + other.predictions,
            self.boundary + other.boundary,
            self.gold + other.gold,
            self.missed + other.missed,
            self.confusions + other.confusions,
        )

    @property
    def n_predictions(self) -> int:
        return sum(self.predictions.values())

    def to_dict(self, top_confusions: int = 10) -> dict[str, Any]:
        return {
            "predictions": {c: self.predictions.get(c, 0) for c in PRED_CLASSES},
            "boundary": {k: self.boundary.get(k, 0) for k in BOUNDARY_KINDS},
            "gold": self.gold,
            "missed": self.missed,
            "confusions": [
                {"gold": g, "predicted": p, "count": n}
                for (g, p), n in self.confusions.most_common(top_confusions)
            ],
        }


def _boundary_kind(pred: Entity, gold: Entity) -> str:
    if pred.start <= gold.start and pred.end >= gold.end:
        return "longer"
    if pred.start >= gold.start and pred.end <= gold.end:
        return "shorter"
    return "shifted"


def classify_example(
    gold: Iterable[Entity], predicted: Iterable[Entity], text: str | None = None
) -> tuple[ErrorBreakdown, list[tuple[Entity, str]]]:
    """The breakdown of one example and the class of each distinct prediction, in span order."""
    golds = sorted(set(gold))
    preds = sorted(set(predicted))
    out = ErrorBreakdown(gold=len(golds))
    gold_keys = {g.key() for g in golds}
    gold_spans: dict[tuple[int, int], list[str]] = {}
    for g in golds:
        gold_spans.setdefault(g.span, []).append(g.label)
    classes: list[tuple[Entity, str]] = []
    for p in preds:
        overlapping = [g for g in golds if word_overlap(p, g, text)]
        same_label = [g for g in overlapping if g.label == p.label]
        if p.key() in gold_keys:
            cls = "correct"
        elif p.span in gold_spans:
            cls = "wrong_label"
            for g_label in gold_spans[p.span]:
                out.confusions[(g_label, p.label)] += 1
        elif same_label:
            cls = "boundary"
            out.boundary[_boundary_kind(p, same_label[0])] += 1
        elif overlapping:
            cls = "boundary_label"
        else:
            cls = "spurious"
        out.predictions[cls] += 1
        classes.append((p, cls))
    out.missed = sum(1 for g in golds if not any(word_overlap(p, g, text) for p in preds))
    return out, classes


def classify(
    golds: Sequence[Iterable[Entity]],
    predictions: Sequence[Iterable[Entity]],
    texts: Sequence[str] | None = None,
) -> ErrorBreakdown:
    """The pooled breakdown of parallel lists of gold and predicted entities."""
    if len(golds) != len(predictions):
        raise ValueError(f"{len(golds)} gold lists for {len(predictions)} prediction lists")
    if texts is not None and len(texts) != len(golds):
        raise ValueError(f"{len(texts)} texts for {len(golds)} examples")
    total = ErrorBreakdown()
    for k, (g, p) in enumerate(zip(golds, predictions, strict=True)):
        total = total + classify_example(g, p, texts[k] if texts is not None else None)[0]
    return total
