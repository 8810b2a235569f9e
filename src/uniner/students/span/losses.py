"""The loss of one training batch, for the trainer and for the scripts that measure it.

One place for what a step minimises, so ``bench/type_choice_scale.py`` measures the trainer's
own losses rather than a copy of them that could drift.
"""

from __future__ import annotations

from collections.abc import Sequence

import torch

from uniner.data.hierarchy import TypeHierarchy
from uniner.students.span.config import SpanModelConfig, TrainConfig, resolve_bf16
from uniner.students.span.data import TrainItem, collate_train
from uniner.students.span.features import Featurizer
from uniner.students.span.model import SpanModel, pair_mask, span_loss, type_choice_loss
from uniner.students.span.selfdistill_train import SoftTargets
from uniner.students.span.shape_twins import Twin, shape_consistency_loss, with_twins

__all__ = ["batch_losses"]


def batch_losses(
    model: SpanModel,
    featurizer: Featurizer,
    items: Sequence[TrainItem],
    entries: Sequence[tuple[int, list[str]]],
    mcfg: SpanModelConfig,
    tcfg: TrainConfig,
    caseless: Sequence[bool],
    hierarchy: TypeHierarchy | None = None,
    soft: SoftTargets | None = None,
    with_choice: bool = True,
    twins: Sequence[Twin] = (),
) -> tuple[torch.Tensor, torch.Tensor | None]:
    """One batch's main loss (BCE on gold labels, or the soft loss on a teacher-score store)
    and its type-choice term, unweighted (None unless ``with_choice``): what a step minimises,
    and what ``bench/type_choice_scale.py`` measures, from one place. ``twins`` add rows (the
    pieces asked a few of their types, shape_twins.py), supervised like the others, and their
    consistency term, weighted by ``train.shape_consistency_weight``, to the main loss."""
    first_twin = len(entries)
    if twins:
        if soft is not None:
            raise ValueError("shape twins need gold labels, not a teacher-score store")
        entries, caseless = with_twins(entries, caseless, twins)
    batch = soft.collate(featurizer, entries, mcfg.max_width, caseless) if soft else collate_train(
        featurizer, [items[i] for i, _ in entries], [labs for _, labs in entries], mcfg.max_width,
        caseless, hierarchy,
    )  # fmt: skip
    device = next(model.parameters()).device
    batch = {k: v.to(device) for k, v in batch.items()}
    given: dict[str, torch.Tensor] = {
        k: batch.pop(k) for k in ("targets", "soft", "own") if k in batch
    }
    bf16 = resolve_bf16(tcfg.bf16, device.type)
    with torch.autocast(device.type, dtype=torch.bfloat16, enabled=bf16):
        logits = model(**batch)
    mask = pair_mask(model, batch)
    loss = soft.loss(logits, given, mask, tcfg.pos_weight) if soft else span_loss(
        logits, given["targets"], mask, tcfg.loss, tcfg.pos_weight, tcfg.focal_gamma,
        tcfg.focal_alpha,
    )  # fmt: skip
    if twins and tcfg.shape_consistency_weight:
        consistency = shape_consistency_loss(logits, mask, twins, first_twin)
        loss = loss + tcfg.shape_consistency_weight * consistency
    if not with_choice:
        return loss, None
    choice = soft.choice_loss(logits, given, mask) if soft else type_choice_loss(
        logits, given["targets"], mask
    )  # fmt: skip
    return loss, choice
