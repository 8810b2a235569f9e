"""Training inputs from uniner Examples: short pieces, sampled label lists, length-bucketed batches.

Why this shape: on a 2-core CPU the cost of a step grows with the tokens read, so passages are cut
into sentences packed up to ``max_words`` words (never cutting a mention). Each epoch every piece
is asked its positive labels plus negatives sampled with probability proportional to label
frequency in the training set (the UniNER paper's finding); labels the example was annotated for
but that have no mention are certain negatives and are asked first. Batches group pieces of
similar length so padding stays small. Everything is a function of (seed, epoch), which is what
makes resuming a run exact.

With a type hierarchy (:mod:`uniner.data.hierarchy`) the targets know that a writer is a person
(:func:`target_labels`) and the sampler asks a mention's general type beside or instead of its
specific one (``hard_share``); with ``informal`` a share of the examples is rewritten in
social-media style before it is cut into pieces.
"""

from __future__ import annotations

import bisect
import itertools
import random
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, replace

import numpy as np
import torch

from uniner.data.hierarchy import TypeHierarchy, mine_hierarchy
from uniner.data.types import Example
from uniner.students.span.features import EncodedText, Featurizer
from uniner.students.span.packing import pack_words
from uniner.students.span.sampling import LabelSampler
from uniner.students.span.words import lowercased_shape

SENTENCE_END = {".", "!", "?", "。", "！", "？"}


@dataclass(frozen=True, slots=True)
class TrainItem:
    """A piece of an example: its words and its mentions as word spans (end exclusive)."""

    tokens: tuple[tuple[int, ...], ...]
    shapes: tuple[int, ...]
    spans: tuple[tuple[int, int, str], ...]
    known_labels: tuple[str, ...] | None
    n_tokens: int


@dataclass
class PrepStats:
    examples: int = 0
    pieces: int = 0
    empty_dropped: int = 0
    mentions: int = 0
    too_wide: int = 0
    cut: int = 0
    misaligned: int = 0
    no_words: int = 0
    informal: int = 0  # examples rewritten in informal style


def entity_word_spans(
    enc: EncodedText, example: Example, stats: PrepStats
) -> list[tuple[int, int, str]]:
    """Mentions snapped to the words they touch (``misaligned`` counts boundaries inside words)."""
    starts = [s for s, _ in enc.offsets]
    ends = [e for _, e in enc.offsets]
    out = []
    for ent in example.entities:
        i = bisect.bisect_right(ends, ent.start)  # first word ending after ent.start
        j = bisect.bisect_left(starts, ent.end)  # words before j start before ent.end
        if i >= j:
            stats.no_words += 1
            continue
        if starts[i] != ent.start or ends[j - 1] != ent.end:
            stats.misaligned += 1
        out.append((i, j, ent.label))
    return out


@dataclass(frozen=True, slots=True)
class Piece:
    """A cut of an example: words ``start .. end`` of ``enc`` and its mentions, relative to
    ``start`` (what :func:`prepare_items` turns into a :class:`TrainItem`, and the
    self-distillation pool stores as words)."""

    example: Example
    enc: EncodedText
    start: int
    end: int
    spans: tuple[tuple[int, int, str], ...]

    def words(self) -> list[str]:
        return [self.example.text[s:e] for s, e in self.enc.offsets[self.start : self.end]]


def prepare_items(
    examples: Iterable[Example],
    featurizer: Featurizer,
    max_words: int,
    max_width: int,
    max_tokens: int,
    keep_empty: float,
    seed: int,
    informal: float = 0.0,
    tag_mentions: float = 0.0,
) -> tuple[list[TrainItem], PrepStats]:
    """Cut examples into training pieces (seeded choice of which empty pieces are kept).

    ``informal``: the share of examples rewritten by :func:`uniner.data.augment.informalize`
    first (handles, hashtags, missing capitals and punctuation; mentions keep their words and
    labels). Why: the training text is edited prose, and users also paste chat and posts. The
    choice and the rewriting come from their own seeded stream, so ``informal = 0`` leaves
    every other draw, and the pieces, exactly as they were. ``tag_mentions``: in those, the
    share of one-word mentions written as hashtags (``InformalStyle.tag_mention``), so a
    tagged word can be a name as in real posts (the other markers are never names).
    """
    stats = PrepStats()
    items: list[TrainItem] = []
    for pc in cut_pieces(
        examples, featurizer, max_words, max_width, max_tokens, keep_empty, seed, informal, stats,
        tag_mentions=tag_mentions,
    ):  # fmt: skip
        tokens = pc.enc.tokens[pc.start : pc.end]
        items.append(
            TrainItem(
                tokens=tokens,
                shapes=pc.enc.shapes[pc.start : pc.end],
                spans=pc.spans,
                known_labels=pc.example.labels,
                n_tokens=sum(len(t) for t in tokens),
            )
        )
    return items, stats


def cut_pieces(
    examples: Iterable[Example],
    featurizer: Featurizer,
    max_words: int,
    max_width: int,
    max_tokens: int,
    keep_empty: float,
    seed: int | Sequence[int],
    informal: float = 0.0,
    stats: PrepStats | None = None,
    tag_mentions: float = 0.0,
) -> Iterator[Piece]:
    """The pieces of :func:`prepare_items`, lazily (``stats`` counts as they are cut)."""
    rng = np.random.default_rng(seed)
    stats = stats if stats is not None else PrepStats()
    if informal > 0.0:
        examples = informal_share(examples, informal, seed, stats, tag_mentions)
    for ex in examples:
        stats.examples += 1
        enc = featurizer.encode_text(ex.text)
        n = len(enc)
        if n == 0:
            continue
        spans = entity_word_spans(enc, ex, stats)
        stats.mentions += len(spans)
        is_end = [ex.text[s:e] in SENTENCE_END for s, e in enc.offsets]
        cuts = _cuts(n, enc.token_counts(), is_end, spans, max_words, max_tokens)
        for a, b in itertools.pairwise(cuts):
            piece = []
            for s, e, lab in spans:
                if a <= s and e <= b:
                    if e - s > max_width:
                        stats.too_wide += 1
                    else:
                        piece.append((s - a, e - a, lab))
                elif s < b and e > a:
                    stats.cut += 1
            if not piece and rng.random() >= keep_empty:
                stats.empty_dropped += 1
                continue
            stats.pieces += 1
            yield Piece(ex, enc, a, b, tuple(sorted(set(piece))))


def informal_share(
    examples: Iterable[Example],
    share: float,
    seed: int | Sequence[int],
    stats: PrepStats,
    tag_mentions: float = 0.0,
) -> Iterable[Example]:
    """``examples`` with a seeded ``share`` of them rewritten by ``informalize`` (lazily), a
    ``tag_mentions`` share of their one-word mentions written as hashtags."""
    from uniner.data.augment import DEFAULT_STYLE, informalize

    style = replace(DEFAULT_STYLE, tag_mention=tag_mentions)
    rng = random.Random(f"informal:{seed}")
    for ex in examples:
        if rng.random() < share:
            stats.informal += 1
            yield informalize(ex, rng, style)
        else:
            yield ex


def resolve_hierarchy(
    spec: str | None, examples: Iterable[Example], min_support: int, min_share: float
) -> TypeHierarchy | None:
    """The run's type hierarchy: none, mined from its own training examples, or read from a file.

    ``spec`` is ``None``, ``"mine"`` or the path of a JSON file written by
    ``bench/mine_hierarchy.py`` (:meth:`TypeHierarchy.to_json`).
    """
    if spec is None:
        return None
    if spec == "mine":
        return mine_hierarchy(examples, min_support=min_support, min_share=min_share)
    return TypeHierarchy.load(spec)


def _cuts(
    n: int,
    counts: Sequence[int],
    is_end: Sequence[bool],
    spans: Sequence[tuple[int, int, str]],
    max_words: int,
    max_tokens: int,
) -> list[int]:
    """Piece boundaries: whole sentences packed greedily up to the limits (the packing inference
    windows use, :func:`~uniner.students.span.packing.pack_words`); a boundary inside a mention
    is used only when nothing else fits."""
    inside = [False] * (n + 1)
    for s, e, _ in spans:
        for b in range(s + 1, e):
            inside[b] = True

    def choose_end(start: int, limit: int) -> int:
        for b in range(limit, start, -1):
            if not inside[b] and is_end[b - 1]:
                return b
        return next((b for b in range(limit, start, -1) if not inside[b]), limit)

    runs = pack_words(counts[:n], max_words, max_tokens, choose_end=choose_end)
    return [0] + [end for _, end in runs]


def epoch_plan(
    items: Sequence[TrainItem],
    sampler: LabelSampler,
    batch_size: int,
    seed: int,
    epoch: int,
    pool_batches: int = 50,
) -> list[list[tuple[int, list[str]]]]:
    """Batches of (item index, labels) for one epoch: shuffled, bucketed by length, seeded."""
    rng = np.random.default_rng([seed, epoch])
    perm = rng.permutation(len(items)).tolist()
    pool = batch_size * pool_batches
    batches: list[list[int]] = []
    for p in range(0, len(perm), pool):
        chunk = sorted(perm[p : p + pool], key=lambda i: items[i].n_tokens)
        batches += [chunk[i : i + batch_size] for i in range(0, len(chunk), batch_size)]
    order = rng.permutation(len(batches)).tolist()
    return [[(i, sampler.sample(items[i], rng)) for i in batches[b]] for b in order]


def caseless_flags(n: int, share: float, seed: int, epoch: int, batch: int) -> list[bool]:
    """Which of a batch's ``n`` items to show lowercased: a share of the inputs, seeded.

    Why: the training text is mostly edited, cased prose, so the casing shape becomes a strong
    cue ("capitalised, so a name") and the model misses mentions in caseless text such as search
    queries (MIT Movie/Restaurant) or chat; on CrossNER dev lowercased, v0.3.0 lost 4.8 points of
    official F1. A function of (seed, epoch, batch) so that a resumed run sees the same flags.
    """
    if share <= 0.0:
        return [False] * n
    rng = np.random.default_rng([seed, epoch, batch, 7])
    flags: list[bool] = (rng.random(n) < share).tolist()
    return flags


def target_labels(gold: str, asked: Sequence[str], hierarchy: TypeHierarchy | None) -> list[str]:
    """The asked labels a mention of type ``gold`` is a positive for.

    Without a hierarchy, ``gold`` itself if asked. With one, the most specific asked labels
    on the way up from ``gold``: an asked ancestor ``L`` of ``gold`` is a positive unless
    another asked label lies between them (is ``gold`` or an ancestor of ``gold`` below
    ``L``). For a mention labelled "writer", with person -> writer:

    * "person" and "writer" asked: "writer" 1, "person" 0 (a hard negative: prefer the
      specific type when both are asked);
    * "person" asked alone: "person" 1 (the general type stands in; before, this was a
      false negative that taught the model a writer is not a person);
    * "writer" asked alone: "writer" 1.
    """
    if hierarchy is None:
        return [gold] if gold in asked else []
    chain = hierarchy.ancestors(gold) | {gold}
    hits = [lab for lab in asked if lab in chain]
    return [lab for lab in hits if not any(lab in hierarchy.ancestors(o) for o in hits)]


def collate_train(
    featurizer: Featurizer,
    items: Sequence[TrainItem],
    labels: Sequence[Sequence[str]],
    max_width: int,
    caseless: Sequence[bool] | None = None,
    hierarchy: TypeHierarchy | None = None,
) -> dict[str, torch.Tensor]:
    """Encoder inputs plus multi-hot targets ``[B, W, K, L]`` for the asked labels.

    ``caseless[i]`` shows item ``i`` as if its text were lowercased (see
    :func:`caseless_flags`); ``hierarchy`` decides which asked labels a mention is a target
    for (:func:`target_labels`).
    """
    flags = caseless if caseless is not None else [False] * len(items)
    feats = [
        featurizer.build(
            lab, it.tokens, tuple(map(lowercased_shape, it.shapes)) if low else it.shapes
        )
        for it, lab, low in zip(items, labels, flags, strict=True)
    ]
    batch = featurizer.collate(feats)
    b, w = batch["word_mask"].shape
    n_lab = batch["label_mask"].shape[1]
    targets = torch.zeros((b, w, max_width, n_lab), dtype=torch.float32)
    for bi, (it, labs) in enumerate(zip(items, labels, strict=True)):
        index = {lab: i for i, lab in enumerate(labs)}
        for s, e, lab in it.spans:
            if e - s > max_width:
                continue
            for hit in target_labels(lab, labs, hierarchy):
                targets[bi, s, e - s - 1, index[hit]] = 1.0
    batch["targets"] = targets
    return batch
