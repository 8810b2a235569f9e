"""Self-distillation, part two: training the span student on a teacher-score store.

With ``[data] teacher_scores = "DIR"`` the span trainer reads its pieces from a store written by
``uniner distill-scores`` (:mod:`.selfdistill`) instead of ``data.train``. Each piece is re-read
with the student's tokenizer; each step asks it a subset of the labels the teacher was asked (the
trainer's :class:`LabelSampler` with the stored labels as a closed set, so the few-type share
applies too), and the loss is

    soft_weight * BCE(student, teacher probability)   over every valid (span, asked label)
    + (1 - soft_weight) * BCE(student, gold, pos_weight)   over the piece's own types only

Why plain BCE for the soft part: its minimum is the teacher's probability itself, so the student
learns the teacher's scale and the teacher's dev-chosen thresholds carry over; a positive weight
would inflate it. Why gold on own types only: the types drawn from the Pile-NER distribution were
never annotated on the piece, so "no gold mention" says nothing about them; the teacher does.

With ``train.type_choice_weight`` the trainer adds :func:`teacher_choice_loss`, the type-choice
term of gold-label training (``model.type_choice_loss``) with the teacher's choice for the gold:
each per-pair BCE above asks *whether* a span is each type, one at a time, and a student can
match every probability to within a few points yet flip which type is on top (the fast model's
"writer" read as "person"); the term asks *which* type, as the teacher ranks them.
"""

from __future__ import annotations

import logging
import zlib
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import torch
import torch.nn.functional as F

from uniner.students.span.config import DataConfig, SpanModelConfig
from uniner.students.span.data import PrepStats, TrainItem, collate_train
from uniner.students.span.features import Featurizer
from uniner.students.span.model import span_loss
from uniner.students.span.sampling import LabelSampler
from uniner.students.span.selfdistill_store import StoredPiece, read_manifest, read_store
from uniner.students.span.words import word_shape

log = logging.getLogger(__name__)


@dataclass
class SoftTargets:
    """The store's pieces as training items (parallel to ``pieces``) and how to batch them."""

    items: list[TrainItem]
    pieces: list[StoredPiece]
    stats: PrepStats
    soft_weight: float = 1.0
    too_long: int = 0  # pieces longer than the student's input budget, left out

    @classmethod
    def load(
        cls, dcfg: DataConfig, featurizer: Featurizer, mcfg: SpanModelConfig, max_tokens: int
    ) -> SoftTargets:
        """Read ``dcfg.teacher_scores`` (its first ``teacher_max_pieces``) for this student."""
        check_data_config(dcfg)
        assert dcfg.teacher_scores is not None
        out = cls([], [], PrepStats(), dcfg.soft_weight)
        for sp in read_store(dcfg.teacher_scores, dcfg.teacher_max_pieces):
            tokens = tuple(featurizer.encode_words(sp.words))
            n_tokens = sum(len(t) for t in tokens)
            if n_tokens > max_tokens:
                out.too_long += 1
                continue
            spans = tuple((s, e, sp.labels[j]) for s, e, j in sp.gold if e - s <= mcfg.max_width)
            out.items.append(
                TrainItem(
                    tokens=tokens,
                    shapes=tuple(word_shape(w) for w in sp.words),
                    spans=spans,
                    known_labels=sp.labels,
                    n_tokens=n_tokens,
                )
            )
            out.pieces.append(sp)
            out.stats.pieces += 1
            out.stats.mentions += len(spans)
        if out.too_long:
            log.warning("%d stored pieces exceed the student's input budget", out.too_long)
        if dcfg.teacher_source_weights:
            out.reweight(dcfg.teacher_source_weights)
        return out

    def reweight(self, weights: dict[str, float]) -> None:
        """Use each piece ``weights[source]`` times per pass (``"*"``: sources not named; 1.0
        without it): ``floor(w)`` copies, and one more for the share ``w - floor(w)`` of the
        source's pieces, picked by a hash of the piece id so a rerun picks the same ones."""
        sources = Counter(sp.source for sp in self.pieces)
        unknown = sorted(set(weights) - set(sources) - {"*"})
        if unknown:
            raise ValueError(
                f"data.teacher_source_weights names sources the store lacks: {', '.join(unknown)}"
                f" (its sources: {', '.join(sorted(sources))})"
            )
        items: list[TrainItem] = []
        pieces: list[StoredPiece] = []
        for item, sp in zip(self.items, self.pieces, strict=True):
            weight = weights.get(sp.source, weights.get("*", 1.0))
            copies = int(weight) + (_unit_hash(sp.id) < weight - int(weight))
            items.extend([item] * copies)
            pieces.extend([sp] * copies)
        if not items:
            raise ValueError("data.teacher_source_weights leaves no training pieces")
        self.items, self.pieces = items, pieces
        self.stats.pieces = len(items)
        self.stats.mentions = sum(len(item.spans) for item in items)
        log.info("pieces per source after weighting: %s", dict(Counter(p.source for p in pieces)))

    def sampler(self, dcfg: DataConfig) -> LabelSampler:
        """The trainer's sampler over each piece's stored labels (a closed set)."""
        return LabelSampler(
            Counter(),
            dcfg.min_labels,
            dcfg.max_labels,
            dcfg.min_negatives,
            closed_sets=True,
            few_share=dcfg.few_labels,
            few_max=dcfg.few_labels_max,
            whole_share=dcfg.whole_set_share,
        )

    def collate(
        self,
        featurizer: Featurizer,
        entries: Sequence[tuple[int, list[str]]],
        max_width: int,
        caseless: Sequence[bool] | None = None,
    ) -> dict[str, torch.Tensor]:
        """:func:`collate_train`'s batch plus ``soft`` (teacher probabilities, ``[B, W, K, L]``)
        and ``own`` (``[B, L]``: the asked label is one of the piece's own types)."""
        idx = [i for i, _ in entries]
        asked = [labs for _, labs in entries]
        batch = collate_train(featurizer, [self.items[i] for i in idx], asked, max_width, caseless)
        soft = torch.zeros_like(batch["targets"])
        own = torch.zeros(batch["label_mask"].shape, dtype=torch.bool)
        for b, (i, labs) in enumerate(zip(idx, asked, strict=True)):
            sp = self.pieces[i]
            where = {lab: j for j, lab in enumerate(labs)}
            pos = np.array([where.get(lab, -1) for lab in sp.labels], dtype=np.int64)
            col = pos[sp.label.astype(np.int64)] if len(sp.label) else pos[:0]
            keep = (col >= 0) & (sp.k.astype(np.int64) < max_width)
            soft[
                b,
                torch.from_numpy(sp.start[keep].astype(np.int64)),
                torch.from_numpy(sp.k[keep].astype(np.int64)),
                torch.from_numpy(col[keep]),
            ] = torch.from_numpy(sp.probabilities()[keep])
            for j in sp.own:
                if pos[j] >= 0:
                    own[b, pos[j]] = True
        batch["soft"] = soft
        batch["own"] = own
        return batch

    def loss(
        self,
        logits: torch.Tensor,
        batch: dict[str, torch.Tensor],
        mask: torch.Tensor,
        pos_weight: float,
    ) -> torch.Tensor:
        return soft_loss(logits, batch, mask, self.soft_weight, pos_weight)

    def choice_loss(
        self, logits: torch.Tensor, batch: dict[str, torch.Tensor], mask: torch.Tensor
    ) -> torch.Tensor:
        return teacher_choice_loss(logits, batch["soft"], mask)


def _unit_hash(text: str) -> float:
    """A number in [0, 1) fixed by ``text`` (the same in every process, unlike ``hash``)."""
    return zlib.crc32(text.encode("utf-8")) / 2**32


CHOICE_MIN_PROB = 0.5  # a span counts as a mention for the type choice from this teacher score
_PROB_EPS = 1e-4  # teacher probabilities are clamped before their logits are taken
_MASKED = -1e4  # an unasked label's logit: finite, so a zero target times it is zero, not NaN


def teacher_choice_loss(
    logits: torch.Tensor,
    teacher: torch.Tensor,
    mask: torch.Tensor,
    min_prob: float = CHOICE_MIN_PROB,
) -> torch.Tensor:
    """Cross-entropy over the asked types towards the teacher's choice among them.

    On each span that the teacher reads as a mention of some asked type (its highest probability
    is at least ``min_prob``) and where at least two types are asked, the target is the softmax
    of the teacher's logits over the asked types: a sharp choice (writer 0.95, person 0.3) is
    taught as one, a near tie (0.9 against 0.88) as a tie, so the student is never pushed harder
    than the teacher is sure. Spans the teacher reads as nothing add nothing (the BCE's business).
    """
    mask = mask.expand_as(logits)
    probs = teacher.float().masked_fill(~mask, 0.0)
    chosen = (probs.amax(-1) >= min_prob) & (mask.sum(-1) >= 2)
    if not bool(chosen.any()):
        return logits.sum() * 0.0
    asked = mask[chosen]
    target = torch.logit(probs[chosen].clamp(_PROB_EPS, 1 - _PROB_EPS))
    target = target.masked_fill(~asked, _MASKED).softmax(-1)
    x = logits.float()[chosen].masked_fill(~asked, _MASKED)
    return F.cross_entropy(x, target)


def soft_loss(
    logits: torch.Tensor,
    batch: dict[str, torch.Tensor],
    mask: torch.Tensor,
    soft_weight: float,
    pos_weight: float,
) -> torch.Tensor:
    """The mixed loss of the module docstring; ``mask`` is :func:`pair_mask`'s."""
    valid = mask.expand_as(logits)
    x = logits[valid]
    if x.numel() == 0:
        return logits.sum() * 0.0
    loss = soft_weight * F.binary_cross_entropy_with_logits(x, batch["soft"][valid])
    if soft_weight < 1.0:
        own = valid & batch["own"][:, None, None, :]
        loss = loss + (1.0 - soft_weight) * span_loss(
            logits, batch["targets"], own, "bce", pos_weight
        )
    return loss


def check_data_config(dcfg: DataConfig) -> None:
    """The data settings that cannot apply to stored pieces are refused, not ignored, and the
    store must be one (:class:`StoreError`, a ValueError, names the folder)."""
    if dcfg.teacher_scores is not None:
        read_manifest(dcfg.teacher_scores)
    if dcfg.train:
        raise ValueError("data.teacher_scores replaces data.train: give one of them")
    if dcfg.informal > 0.0:
        raise ValueError("data.informal rewrites text before scoring: set it for the pool")
    if dcfg.hierarchy is not None:
        raise ValueError("data.hierarchy does not apply to teacher scores (the teacher decides)")
