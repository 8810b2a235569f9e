"""Strict span F1 on a dev set: the selection signal during training.

Kept here (small and dependency-free) so training does not wait on the benchmark package; the
official UniNER metric and the benchmark runner live in ``uniner.evaluation``/``uniner.benchmark``.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from uniner.data.types import Entity, Example, unique_labels


def strict_prf(gold: Sequence[Sequence[Entity]], pred: Sequence[Sequence[Entity]]) -> dict:
    """Micro precision/recall/F1 over exact (start, end, label) matches."""
    tp = n_gold = n_pred = 0
    for g, p in zip(gold, pred, strict=True):
        gk = {e.key() for e in g}
        pk = {e.key() for e in p}
        tp += len(gk & pk)
        n_gold += len(gk)
        n_pred += len(pk)
    prec = tp / n_pred if n_pred else 0.0
    rec = tp / n_gold if n_gold else 0.0
    f1 = 2 * prec * rec / (prec + rec) if prec + rec else 0.0
    return {"precision": prec, "recall": rec, "f1": f1, "tp": tp, "gold": n_gold, "pred": n_pred}


def evaluate(
    extractor: Any,
    examples: Sequence[Example],
    labels: str = "example",
    threshold: float = 0.5,
) -> dict:
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
