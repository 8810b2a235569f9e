"""Scoring a call's encoder inputs: length-sorted batches in, candidate spans per text out.

The inputs of all texts and label passes of a call (planning.py) are sorted by length and scored
``batch_size`` at a time (fewer where ``max_batch_tokens`` caps a batch's padded size), by torch
or an exported ONNX graph; every (span, label) pair scoring at
least the call's lowest threshold becomes a candidate :class:`~.decoding.Span` of its text, in
text word positions (windows merged). The deadline is checked between batches and, on torch,
before each encoder layer too.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Sequence
from typing import Any

import torch

from uniner.inference.deadline import Deadline, check
from uniner.students.span.decoding import Span
from uniner.students.span.features import EncodedText, Featurizer
from uniner.students.span.label_cache import LabelCache
from uniner.students.span.model import SpanModel
from uniner.students.span.planning import WorkItem

#: ``progress(done, total)``: encoder inputs scored so far, of all the call needs.
Progress = Callable[[int, int], None]

#: ``score(items, encs)``: probabilities ``[B, W, K, L]`` of a batch, invalid pairs -1
#: (``SpanExtractor.score_items``, which test doubles override).
ScoreFn = Callable[[Sequence[WorkItem], Sequence[EncodedText]], torch.Tensor]

#: Padded tokens per forward pass of an int8 ONNX graph on the CPU unless a caller sets
#: ``max_batch_tokens`` (RuntimeSettings): ``ONNX_BATCH_TOKENS`` plus ``ONNX_TOKENS_PER_LABEL``
#: per type asked, because a pass's span scoring grows with the types while its encoder does
#: not (``bench/batch_tokens.py``: best cap 128 at 13 types, 512 at 200; BENCHMARKS.md).
ONNX_BATCH_TOKENS = 128
ONNX_TOKENS_PER_LABEL = 2


def onnx_token_cap(n_labels: int) -> int:
    """The default padded-token cap of an ONNX pass asking ``n_labels`` types."""
    return ONNX_BATCH_TOKENS + ONNX_TOKENS_PER_LABEL * n_labels


# The deadline of the call running in this thread, checked before each encoder layer too: on a
# CPU one batch of long inputs can take many seconds, so checks between batches alone would let
# a timed-out call hold the worker that long (see watch_layers).
_ACTIVE = threading.local()


def _layer_deadline_hook(module: torch.nn.Module, args: Any) -> None:
    check(getattr(_ACTIVE, "deadline", None), "inside the encoder")


def watch_layers(model: SpanModel) -> None:
    """Check the active deadline before every layer of the encoder's layer stack (once per
    model; added on first use with a deadline, so export and training never see the hooks)."""
    if getattr(model, "_deadline_hooks", False):
        return
    for mod in model.encoder.modules():
        if isinstance(mod, torch.nn.ModuleList) and len(mod) >= 2:
            for layer in mod:
                layer.register_forward_pre_hook(_layer_deadline_hook)
            break
    model._deadline_hooks = True  # type: ignore[assignment]


def encoder_batch(
    items: Sequence[WorkItem],
    encs: Sequence[EncodedText],
    featurizer: Featurizer,
    label_cache: LabelCache | None,
    device: torch.device,
) -> dict[str, torch.Tensor]:
    """The padded model inputs of ``items`` on ``device`` (text-only inputs and cached label
    vectors when the model encodes labels apart)."""
    feats = []
    for it in items:
        enc = encs[it.text_index]
        w = it.window
        feats.append(
            featurizer.build(
                () if label_cache is not None else it.labels,
                enc.tokens[w.word_start : w.word_end],
                enc.shapes[w.word_start : w.word_end],
            )
        )
    batch = {k: v.to(device) for k, v in featurizer.collate(feats).items()}
    if label_cache is not None:  # text-only inputs; label vectors from the cache
        batch.update(label_cache.batch_inputs([it.labels for it in items], device))
    return batch


def torch_logits(
    model: SpanModel, batch: dict[str, torch.Tensor], device: torch.device, bf16: bool
) -> torch.Tensor:
    """The model's logits in eval mode (its training mode is restored after); ``bf16``:
    autocast on ``device``, the model's."""
    was_training = model.training
    model.eval()
    try:
        with torch.autocast(device.type, dtype=torch.bfloat16, enabled=bf16):
            return model(**batch)  # type: ignore[no-any-return]
    finally:
        model.train(was_training)


def span_probabilities(
    model: SpanModel, batch: dict[str, torch.Tensor], logits: torch.Tensor
) -> torch.Tensor:
    """Probabilities ``[B, W, K, L]`` on the CPU; pairs past a text's words or labels are -1."""
    probs = torch.sigmoid(logits.float()).cpu()
    valid = model.span_mask(batch["word_mask"])[..., None] & batch["label_mask"][:, None, None, :]
    return probs.masked_fill(~valid.cpu(), -1.0)


def collect(
    items: Sequence[WorkItem],
    probs: torch.Tensor,
    threshold: float,
    candidates: list[list[Span]],
) -> None:
    """Add each (span, label) of ``probs`` scoring at least ``threshold`` to its text's
    candidates, in text word positions (pairs past the window's words or labels skipped)."""
    hits = (probs >= threshold).nonzero().tolist()
    values = probs[probs >= threshold].tolist()
    for (b, i, k, lab), p in zip(hits, values, strict=True):
        it = items[b]
        if lab >= len(it.labels) or i + k >= it.window.num_words:
            continue
        start = it.window.word_start + i
        candidates[it.text_index].append(Span(start, start + k + 1, it.labels[lab], p))


def length_batches(
    ordered: Sequence[WorkItem], batch_size: int, max_batch_tokens: int | None = None
) -> list[Sequence[WorkItem]]:
    """Consecutive slices of length-sorted inputs: at most ``batch_size`` inputs each, and, with
    ``max_batch_tokens``, at most that many padded tokens (inputs x the longest), except that a
    batch always takes one input.

    Why a token cap: on a CPU an int8 ONNX graph reads 8 short sentences padded to the longest
    of them about 1.5x slower per sentence than in batches of 1-2 (bench/batch_tokens.py and
    BENCHMARKS.md); the cap keeps batches of short inputs wide and long ones narrow."""
    out: list[Sequence[WorkItem]] = []
    start = 0
    for end in range(1, len(ordered) + 1):
        size = end - start
        full = size == batch_size or end == len(ordered)
        if not full and max_batch_tokens is not None:
            full = (size + 1) * ordered[end].n_tokens > max_batch_tokens
        if full:
            out.append(ordered[start:end])
            start = end
    return out


def score_all(
    work: Sequence[WorkItem],
    encs: Sequence[EncodedText],
    score: ScoreFn,
    *,
    batch_size: int,
    max_batch_tokens: int | None = None,
    floor: float,
    deadline: Deadline | None,
    progress: Progress | None = None,
    watch: SpanModel | None = None,
) -> list[list[Span]]:
    """Candidate spans (score >= ``floor``) of every text, scored in length-sorted batches
    (:func:`length_batches`).

    ``watch``: a torch model whose encoder layers check ``deadline`` too (None: only between
    batches, as for an ONNX graph)."""
    candidates: list[list[Span]] = [[] for _ in encs]
    ordered = sorted(work, key=lambda it: it.n_tokens)
    if deadline is not None and watch is not None:
        watch_layers(watch)
    _ACTIVE.deadline = deadline
    try:
        done = 0
        for chunk in length_batches(ordered, batch_size, max_batch_tokens):
            check(deadline, f"after {done} of {len(ordered)} encoder inputs")
            collect(chunk, score(chunk, encs), floor, candidates)
            done += len(chunk)
            if progress is not None:
                progress(done, len(ordered))
    finally:
        _ACTIVE.deadline = None
    return candidates
