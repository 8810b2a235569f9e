"""Strict span F1 on a dev set: the selection signal during training.

Strict micro-F1 from :mod:`uniner.evaluation.offsets` (one implementation of the metric); the
official UniNER metric and the benchmark runner live in ``uniner.evaluation``/``uniner.benchmark``.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from uniner.data.types import Entity, Example, unique_labels
from uniner.evaluation.offsets import score_offsets


def strict_prf(
    gold: Sequence[Sequence[Entity]], pred: Sequence[Sequence[Entity]]
) -> dict[str, float]:
    """Micro precision/recall/F1 over exact (start, end, label) matches (the offset metric)."""
    c = score_offsets(gold, pred).strict
    return {
        "precision": c.precision,
        "recall": c.recall,
        "f1": c.f1,
        "tp": int(c.correct),
        "gold": c.gold,
        "pred": c.predicted,
    }


def evaluate(
    extractor: Any,
    examples: Sequence[Example],
    labels: str = "example",
    threshold: float = 0.5,
) -> dict[str, float]:
    """Strict scores of ``extractor`` on ``examples``.

    ``labels="example"`` asks each text its own label set (``Example.label_set()``); ``"union"``
    asks every text all labels of the set (the zero-shot benchmark's protocol).
    """
    if labels not in ("example", "union"):
        raise ValueError(f"labels must be 'example' or 'union', got {labels!r}")
    union = list(unique_labels(examples))
    keep = [i for i, ex in enumerate(examples) if labels == "union" or ex.label_set()]
    label_lists = [union if labels == "union" else list(examples[i].label_set()) for i in keep]
    pred: list[list[Entity]] = [[] for _ in examples]
    if keep and (union or labels == "example"):
        texts = [examples[i].text for i in keep]
        if hasattr(extractor, "extract_each"):
            res = [list(r.entities) for r in extractor.extract_each(texts, label_lists, threshold)]
        else:
            res = [
                extractor.extract_batch([t], labs, threshold)[0]
                for t, labs in zip(texts, label_lists, strict=True)
            ]
        for i, ents in zip(keep, res, strict=True):
            pred[i] = ents
    return strict_prf([ex.entities for ex in examples], pred)
