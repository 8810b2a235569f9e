"""Self-distillation, part one: the pool of texts and the teacher's scores of it (issue 23).

The default span model (the teacher) scores every candidate span of every piece of every text we
may train on, for a rich label set per piece; :mod:`.selfdistill_store` keeps the scores once and
:mod:`.selfdistill_train` trains a small student on them (soft targets). Why: the earlier MiniLM
students learned from hard labels of 5% of Pile-NER and stalled; the teacher's probabilities say
for every span and type how much of it there is, including the types the annotators never asked.

* **Pool** (:func:`default_pool_sources`): the training part of Pile-NER (never the dev suite's
  held-out passages) and the train splits of the supervised sets (MultiCoNER II included), never
  a zero-shot set (CrossNER, MIT) nor a dev or test split. Examples are put in one seeded order
  (:func:`pool_order`) that mixes the sources, so the first N pieces of the store are a fair
  sample of the whole: the pool-size curve and ``--max-pieces`` rely on it.
* **Pieces**: cut exactly as the span trainer cuts (:func:`uniner.students.span.data.cut_pieces`),
  with the teacher's tokenizer and the teacher's input budget.
* **Labels** (:func:`ask_labels`): the example's own types (its data set's label set, or for
  Pile-NER the passage's types) plus ``extra_types`` drawn from the Pile-NER type frequencies
  (:meth:`LabelSampler.draw`), shuffled; seeded by the piece's place in the pool.
* **Scoring** (:func:`score_pieces`): the teacher's own batching (label groups of
  :meth:`SpanExtractor.label_groups`, :meth:`SpanExtractor.score_items`) on inputs sorted by
  length; only (span, label) pairs at or above ``floor`` are kept.

Everything is a function of the settings and the piece's place in the pool, so a resumed run
writes the same shards as an uninterrupted one.
"""

from __future__ import annotations

import dataclasses
import hashlib
import itertools
import json
import logging
import time
from collections import Counter
from collections.abc import Callable, Collection, Iterable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
from tqdm.auto import tqdm  # type: ignore[import-untyped]

from uniner.data.hierarchy import TypeHierarchy
from uniner.data.types import Example
from uniner.students.span.data import Piece, cut_pieces
from uniner.students.span.extractor import SpanExtractor, WorkItem
from uniner.students.span.sampling import LabelSampler
from uniner.students.span.selfdistill_store import MAX_LABELS, ScoreStore, StoredPiece, quantise
from uniner.students.span.windowing import Window

log = logging.getLogger(__name__)

PILE_NER = "pile-ner"
SUPERVISED = "supervised"


@dataclass(frozen=True)
class PoolSettings:
    """What decides the store's content (recorded in its manifest; a rerun must match)."""

    max_words: int = 64  # pieces as the span trainer cuts them (data.max_words)
    keep_empty: float = 0.3  # share of pieces without a gold mention that is kept
    extra_types: int = 8  # labels drawn from the Pile-NER type frequencies, per piece
    # of those, up to this many are instead the parents and children of the piece's own types in
    # ``hierarchy`` (a TypeHierarchy JSON file): the teacher then shows which of "person" and
    # "writer" to answer, which frequency draws seldom ask together
    relatives: int = 0
    hierarchy: str | None = None
    floor: float = 0.02  # scores below this are stored as 0
    informal: float = 0.0  # share of examples rewritten informally before cutting
    mix: float = 0.5  # source weight ~ size ** mix in the pool order (1: by size, 0: even)
    seed: int = 13
    shard_pieces: int = 1024

    def __post_init__(self) -> None:
        if not 1 / 255 <= self.floor <= 1.0:
            raise ValueError(f"floor must be in [1/255, 1], got {self.floor}")
        if not 0 <= self.extra_types < MAX_LABELS:
            raise ValueError(f"extra_types must be in [0, {MAX_LABELS}), got {self.extra_types}")
        for key in ("keep_empty", "informal", "mix"):
            if not 0.0 <= getattr(self, key) <= 1.0:
                raise ValueError(f"{key} must be in [0, 1], got {getattr(self, key)}")
        if not 0 <= self.relatives <= self.extra_types:
            raise ValueError(f"relatives must be in [0, extra_types], got {self.relatives}")
        if self.relatives and not self.hierarchy:
            raise ValueError("relatives needs a type hierarchy file (--hierarchy FILE)")
        if self.max_words < 1 or self.shard_pieces < 1:
            raise ValueError("max_words and shard_pieces must be >= 1")


@dataclass(frozen=True)
class PoolSource:
    """Examples of one training source: ``pile-ner`` (its training part) or a registered set."""

    name: str
    split: str
    examples: Sequence[Example]


def default_pool_sources(
    data_dir: Path | None = None,
    names: Sequence[str] | None = None,
    exclude_texts: Collection[str] = (),
) -> list[PoolSource]:
    """Every text we may distil on: Pile-NER's training part and the supervised train splits.

    ``names`` keeps some: ``pile-ner``, ``supervised`` (all supervised sets) or set names.
    Zero-shot sets are refused whatever is asked (``trainable_specs`` already leaves them out;
    the shared guard checks again). ``exclude_texts`` (:func:`fold_text` forms) are left out:
    the CLI passes every text of the dev suite, because some train splits repeat dev sentences
    word for word (11 of MultiCoNER II's 871 English dev sentences are in its train split).
    """
    from uniner.data.catalog import trainable_specs
    from uniner.data.guard import refuse_zero_shot_dataset
    from uniner.data.sources import pile_ner_examples
    from uniner.data.splits import load_split

    specs = trainable_specs(data_dir)
    wanted = set(names) if names is not None else {PILE_NER, SUPERVISED}
    unknown = wanted - {PILE_NER, SUPERVISED} - {s.name for s in specs}
    if unknown:
        known = ", ".join([PILE_NER, SUPERVISED, *(s.name for s in specs)])
        raise ValueError(f"unknown pool source(s) {sorted(unknown)}; known: {known}")
    out: list[PoolSource] = []
    if PILE_NER in wanted:
        out.append(PoolSource(PILE_NER, "train", tuple(pile_ner_examples(data_dir, "train"))))
    for spec in specs:
        if SUPERVISED in wanted or spec.name in wanted:
            refuse_zero_shot_dataset(spec, what="the self-distillation pool")
            out.append(PoolSource(spec.name, "train", load_split(spec, "train", data_dir).examples))
    if not exclude_texts:
        return out
    return [
        dataclasses.replace(
            s, examples=tuple(x for x in s.examples if fold_text(x.text) not in exclude_texts)
        )
        for s in out
    ]


def fold_text(text: str) -> str:
    """A text case- and space-folded, to find the same sentence written twice."""
    return " ".join(text.casefold().split())


def type_frequencies(examples: Iterable[Example]) -> Counter[str]:
    """In how many examples each type has a mention (the Pile-NER type distribution)."""
    freq: Counter[str] = Counter()
    for ex in examples:
        freq.update({e.label for e in ex.entities})
    return freq


def pool_order(sizes: Sequence[int], mix: float, seed: int) -> list[tuple[int, int]]:
    """(source, example) pairs: each source shuffled, then merged so that any prefix holds
    about ``size ** mix`` examples of each source per unit (keys ``(k + 0.5) / size ** mix``).

    Why not one shuffle of everything: the biomedical sets would fill most of a small pool;
    ``mix = 0.5`` gives a 20,000-sentence set about 3 times the share of a 2,000-passage one
    rather than 10 times, while the whole pool still holds every example.
    """
    keys: list[tuple[float, int, int]] = []
    for s, n in enumerate(sizes):
        perm = np.random.default_rng([seed, s]).permutation(n).tolist()
        weight = float(n) ** mix if n else 1.0
        keys += [((k + 0.5) / weight, s, i) for k, i in enumerate(perm)]
    keys.sort()
    return [(s, i) for _, s, i in keys]


def relatives_of(own: Sequence[str], hierarchy: TypeHierarchy) -> list[str]:
    """The direct parents and children of ``own`` types that are not among them, sorted."""
    near = {r for t in own for r in (*hierarchy.parents(t), *hierarchy.children(t))}
    return sorted(near - set(own))


def ask_labels(
    example: Example,
    sampler: LabelSampler,
    extra: int,
    rng: np.random.Generator,
    hierarchy: TypeHierarchy | None = None,
    relatives: int = 0,
) -> tuple[tuple[str, ...], tuple[int, ...]]:
    """A piece's labels in asking order, and the indices of its own types among them: its own
    types, up to ``relatives`` of their hierarchy relatives, and drawn types up to ``extra``."""
    own = list(dict.fromkeys([*(example.labels or ()), *(e.label for e in example.entities)]))
    own = own[: MAX_LABELS - extra]
    near: list[str] = []
    if hierarchy is not None and relatives > 0:
        pool = relatives_of(own, hierarchy)
        near = [pool[i] for i in rng.permutation(len(pool))[:relatives].tolist()]
    labels = own + near + sampler.draw(extra - len(near), set(own) | set(near), rng)
    perm = rng.permutation(len(labels)).tolist()
    asked = tuple(labels[i] for i in perm)
    n_own = len(own)
    return asked, tuple(sorted(j for j, i in enumerate(perm) if i < n_own))


@dataclass(frozen=True)
class PoolPiece:
    """A piece of the pool at its place: ``(pos, index)`` is its example's position in the pool
    order and its index among that example's pieces."""

    source: str
    pos: int
    index: int
    piece: Piece
    labels: tuple[str, ...]
    own: tuple[int, ...]


def pool_pieces(
    sources: Sequence[PoolSource],
    order: Sequence[tuple[int, int]],
    start: tuple[int, int],
    teacher: SpanExtractor,
    settings: PoolSettings,
    sampler: LabelSampler,
    hierarchy: TypeHierarchy | None = None,
) -> Iterator[PoolPiece]:
    """The pool's pieces from cursor ``start`` on (cut with the teacher's tokenizer); the
    relatives of ``settings.relatives`` come from ``hierarchy``."""
    cfg = teacher.config
    max_tokens = teacher.max_length - cfg.max_prefix_tokens - 1
    pos0, skip = start
    for pos in range(pos0, len(order)):
        s, i = order[pos]
        ex = sources[s].examples[i]
        pieces = cut_pieces(
            [ex],
            teacher.featurizer,
            settings.max_words,
            cfg.max_width,
            max_tokens,
            settings.keep_empty,
            [settings.seed, pos],
            settings.informal,
        )
        for j, pc in enumerate(pieces):
            if pos == pos0 and j < skip:
                continue
            rng = np.random.default_rng([settings.seed, pos, j, 1])
            labels, own = ask_labels(
                pc.example, sampler, settings.extra_types, rng, hierarchy, settings.relatives
            )
            yield PoolPiece(sources[s].name, pos, j, pc, labels, own)


def score_pieces(
    teacher: SpanExtractor,
    asks: Sequence[tuple[Piece, Sequence[str]]],
    floor: float,
    on_done: Callable[[int], None] | None = None,
) -> list[tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]]:
    """(start, k, label, prob as uint8) of every scored pair >= ``floor``, per piece, sorted.

    All (piece, label group) inputs are sorted by length and read ``teacher.batch_size`` at a
    time; ``on_done(n)`` is told when ``n`` more pieces have all their inputs scored.
    """
    encs = [pc.enc for pc, _ in asks]
    work: list[tuple[WorkItem, int]] = []
    for ti, (pc, labels) in enumerate(asks):
        n_tok = sum(len(t) for t in pc.enc.tokens[pc.start : pc.end])
        chars = pc.enc.offsets[pc.start][0], pc.enc.offsets[pc.end - 1][1]
        win = Window(0, pc.start, pc.end, *chars)
        offset = 0
        for group in teacher.label_groups(labels):
            size = teacher.featurizer.prefix_length(group) + n_tok + 1
            work.append((WorkItem(ti, win, group, size), offset))
            offset += len(group)
    left = Counter(item.text_index for item, _ in work)
    work.sort(key=lambda w: w[0].n_tokens)
    found: list[list[tuple[np.ndarray, ...]]] = [[] for _ in asks]
    for b in range(0, len(work), teacher.batch_size):
        chunk = work[b : b + teacher.batch_size]
        probs = teacher.score_items([item for item, _ in chunk], encs).numpy()
        finished = 0
        for row, (item, offset) in zip(probs, chunk, strict=True):
            sub = row[: item.window.num_words, :, : len(item.labels)]
            i, k, lab = np.nonzero(sub >= floor)
            found[item.text_index].append((i, k, lab + offset, sub[i, k, lab]))
            left[item.text_index] -= 1
            finished += left[item.text_index] == 0
        if on_done is not None and finished:
            on_done(finished)
    return [_merge(parts) for parts in found]


def _merge(
    parts: Sequence[tuple[np.ndarray, ...]],
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    if not parts:
        empty = np.zeros(0, dtype=np.int64)
        return empty, empty, empty, np.zeros(0, dtype=np.uint8)
    start, k, lab, p = (np.concatenate(x) for x in zip(*parts, strict=True))
    order = np.lexsort((lab, k, start))
    return start[order], k[order], lab[order], quantise(p[order])


def stored(pp: PoolPiece, scores: tuple[np.ndarray, ...]) -> StoredPiece:
    """The record of a scored pool piece."""
    index = {lab: j for j, lab in enumerate(pp.labels)}
    gold = tuple((s, e, index[lab]) for s, e, lab in pp.piece.spans if lab in index)
    ex_id = pp.piece.example.id or str(pp.pos)
    start, k, label, prob = scores
    return StoredPiece(
        source=pp.source,
        id=f"{pp.source}:{ex_id}#{pp.index}",
        words=tuple(pp.piece.words()),
        labels=pp.labels,
        own=pp.own,
        gold=gold,
        start=start,
        k=k,
        label=label,
        prob=prob,
    )


def store_settings(
    settings: PoolSettings,
    teacher_id: str,
    sources: Sequence[PoolSource],
    type_freq: Counter[str],
    hierarchy: TypeHierarchy | None = None,
) -> dict[str, Any]:
    """The manifest's settings: the pool settings, the teacher and what the pool is made of
    (the type frequencies and the hierarchy by content, so a rerun with others is refused)."""
    freq = json.dumps(sorted(type_freq.items()), ensure_ascii=False).encode("utf-8")
    out = {
        **dataclasses.asdict(settings),
        "teacher": teacher_id,
        "sources": [[s.name, s.split, len(s.examples)] for s in sources],
        "type_frequencies_sha256": hashlib.sha256(freq).hexdigest(),
    }
    if hierarchy is not None:
        out["hierarchy_sha256"] = hashlib.sha256(hierarchy.to_json().encode("utf-8")).hexdigest()
    return out


def build_scores(
    teacher: SpanExtractor,
    sources: Sequence[PoolSource],
    out: str | Path,
    settings: PoolSettings,
    type_freq: Counter[str],
    *,
    max_pieces: int | None = None,
    teacher_id: str = "",
    progress: bool = True,
) -> dict[str, Any]:
    """Score the pool into the store at ``out`` (continuing it if it exists); its manifest.

    Stops when the pool is exhausted (``complete``) or ``max_pieces`` are stored; a later call
    with a larger ``max_pieces`` continues from there.
    """
    order = pool_order([len(s.examples) for s in sources], settings.mix, settings.seed)
    hierarchy = TypeHierarchy.load(settings.hierarchy) if settings.hierarchy else None
    manifest = store_settings(settings, teacher_id, sources, type_freq, hierarchy)
    store = ScoreStore.open(out, manifest)
    sampler = LabelSampler(type_freq or Counter())
    stream = pool_pieces(sources, order, store.cursor, teacher, settings, sampler, hierarchy)
    bar = tqdm(total=max_pieces, initial=store.pieces, unit="piece", disable=not progress)
    complete = False
    while max_pieces is None or store.pieces < max_pieces:
        room = settings.shard_pieces if max_pieces is None else max_pieces - store.pieces
        batch = list(itertools.islice(stream, min(settings.shard_pieces, room)))
        if not batch:
            complete = True
            break
        t0 = time.perf_counter()
        scores = score_pieces(
            teacher, [(pp.piece, pp.labels) for pp in batch], settings.floor, bar.update
        )
        end = (batch[-1].pos, batch[-1].index + 1)
        extra = {"seconds": round(time.perf_counter() - t0, 2)}
        records = [stored(pp, sc) for pp, sc in zip(batch, scores, strict=True)]
        store.write_shard(records, end, extra)
        if max_pieces is None:  # an estimate of the pool's size, for the ETA
            bar.total = round(store.pieces * len(order) / max(end[0] + 1, 1))
            bar.refresh()
    bar.close()
    store.finish(complete or bool(store.manifest["complete"]))
    return store.manifest


def teacher_id(teacher_ref: str, runtime: str = "torch") -> str:
    """How the manifest names a teacher: the reference, its released version, the runtime
    (an int8 ONNX teacher scores slightly differently, so a store never mixes the two)."""
    from uniner.models import resolve_model
    from uniner.students.span.io import read_config

    version = read_config(resolve_model(teacher_ref)).get("version")
    return " ".join(str(x) for x in (teacher_ref, version, runtime) if x)


def score_training_pool(
    teacher: SpanExtractor,
    name: str,
    out: str | Path,
    settings: PoolSettings,
    *,
    max_pieces: int | None = None,
    sources: Sequence[str] | None = None,
    exclude_texts: Collection[str] = (),
    data_dir: Path | None = None,
) -> dict[str, Any]:
    """``uniner distill-scores``: the pool from the shared data, scored by a loaded teacher
    (``name``: :func:`teacher_id`)."""
    from uniner.data.sources import pile_ner_examples

    pool = default_pool_sources(data_dir, sources, exclude_texts)
    freq = type_frequencies(pile_ner_examples(data_dir, "train"))
    log.info("pool: %s", ", ".join(f"{s.name} {len(s.examples)}" for s in pool))
    return build_scores(teacher, pool, out, settings, freq, max_pieces=max_pieces, teacher_id=name)
