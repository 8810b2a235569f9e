"""Shape twins: a training piece asked again with a few of its types, and a term that keeps a
(span, type) score the same whichever other types the call asks.

Why (issue 22): the dev suite asks each passage 1 type, 3 types and all its types. Read by
v0.10.1, a gold mention's score under its own type falls when the other types are asked too
(median 0.93 asked alone, 0.72 asked with MultiCoNER II's 33 types; 0.76 / 0.67 on held-out
Pile-NER passages), so one threshold cannot serve both call shapes and all-type calls lose
recall. The per-pair BCE never compares the two readings of one piece; a twin does: the same
words asked 1 to 3 of the source's types, supervised like any piece, plus the mean squared
difference of the two probabilities over every shared (span, type) pair. Gradients reach both
readings, so neither shape is the target: the model learns scores that do not depend on the
company a type keeps. The mean runs over all shared pairs, easy negatives included, so the term
weighs a pair about as the BCE does (a first run averaged only pairs either reading scored above
0.1: at weight 1.0 that term outweighed the BCE by orders of magnitude, and pushing every score
under 0.1 escaped it: recall 0.21 on the trainer's dev sample after 200 steps). Draws are a
function of (seed, epoch, batch), so a resumed run sees the same twins.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import torch

from uniner.students.span.data import TrainItem

__all__ = ["Twin", "draw_twins", "shape_consistency_loss", "with_twins"]

MIN_SOURCE_LABELS = 4  # a source asked fewer types is already a few-type call
MAX_TWIN_LABELS = 3  # the dev suite's few-type shapes: 1 and 3 types


@dataclass(frozen=True, slots=True)
class Twin:
    """One extra row of a batch: row ``source``'s piece asked ``labels`` (a subset of its
    labels, in its order) at positions ``index`` of the source's label list."""

    source: int
    labels: tuple[str, ...]
    index: tuple[int, ...]


def _subset(labels: Sequence[str], present: set[str], rng: np.random.Generator) -> tuple[int, ...]:
    """Positions of 1 to 3 of ``labels``; half the time one of them is a type the piece holds
    (when it holds any), as a user asking about their own text mostly asks what is there."""
    k = int(rng.integers(1, min(MAX_TWIN_LABELS, len(labels) - 1) + 1))
    chosen: list[int] = []
    held = [i for i, lab in enumerate(labels) if lab in present]
    if held and rng.random() < 0.5:
        chosen.append(int(rng.choice(held)))
    rest = [i for i in range(len(labels)) if i not in chosen]
    chosen += [int(i) for i in rng.choice(rest, size=k - len(chosen), replace=False)]
    return tuple(sorted(chosen))


def draw_twins(
    entries: Sequence[tuple[int, Sequence[str]]],
    items: Sequence[TrainItem],
    share: float,
    seed: int,
    epoch: int,
    batch: int,
) -> list[Twin]:
    """Twins for a ``share`` of a batch's rows asked at least four types (seeded by
    ``(seed, epoch, batch)``)."""
    if share <= 0.0:
        return []
    rng = np.random.default_rng([seed, epoch, batch, 11])
    twins = []
    for row, (item_index, labels) in enumerate(entries):
        if len(labels) < MIN_SOURCE_LABELS or rng.random() >= share:
            continue
        present = {lab for _, _, lab in items[item_index].spans}
        index = _subset(labels, present, rng)
        twins.append(Twin(row, tuple(labels[i] for i in index), index))
    return twins


def with_twins(
    entries: Sequence[tuple[int, list[str]]],
    caseless: Sequence[bool],
    twins: Sequence[Twin],
) -> tuple[list[tuple[int, list[str]]], list[bool]]:
    """The batch's rows followed by one row per twin (its source's piece and casing)."""
    rows = list(entries) + [(entries[t.source][0], list(t.labels)) for t in twins]
    flags = list(caseless) + [caseless[t.source] for t in twins]
    return rows, flags


def shape_consistency_loss(
    logits: torch.Tensor, mask: torch.Tensor, twins: Sequence[Twin], first_twin_row: int
) -> torch.Tensor:
    """Mean squared difference between a source's and its twin's probabilities over their
    shared (span, type) pairs; ``logits`` and ``mask`` are ``[B, W, K, L]`` with the twins'
    rows from ``first_twin_row`` on, in ``twins``' order."""
    diffs = []
    for j, twin in enumerate(twins):
        index = torch.tensor(twin.index, device=logits.device)
        row = first_twin_row + j
        full = logits[twin.source].index_select(-1, index).float().sigmoid()
        few = logits[row][..., : len(twin.index)].float().sigmoid()
        valid = mask[twin.source].index_select(-1, index) & mask[row][..., : len(twin.index)]
        diffs.append((full - few)[valid])
    every = torch.cat(diffs) if diffs else logits.new_zeros(0)
    if every.numel() == 0:
        return logits.sum() * 0.0
    return (every**2).mean()
