"""Training sequences for the generative student: conversations -> token ids and a loss mask.

Loss mask. The loss is on assistant turns only: the acknowledgement ``I've read this text.``
and every answer, each with its end-of-turn (paper, section 2). The conversation is rendered as
one string by :mod:`.template` and tokenised *as a whole* (as inference tokenises the prompt),
and a token is a target when its characters lie in an assistant piece, found from the fast
tokenizer's offsets. The official code tokenises the pieces one by one instead, which gives
token boundaries inference never sees. A token that straddles a prompt/answer boundary is left
out of the loss and counted in :class:`PrepStats` (none do with the LLaMA or SmolLM2 tokenizers).

Truncation policy (never a silent cut):

1. A passage whose tokens do not fit ``max_length`` with room for one question and answer is
   split into consecutive word windows that do; each window is asked the same types, with the
   answers re-derived from the aligned mention offsets. Answers that cannot be found in the text
   (``unfound``) and mentions cut by a window edge are dropped and counted.
2. The questions of a passage are packed into sequences of at most ``max_length`` tokens; when
   the next question-answer pair does not fit, a new sequence starts with the same passage
   header. So every answer is trained on, at the cost of re-reading the passage.
3. A single pair too long even for an otherwise empty sequence is dropped and counted.

All-in-one questions (``model.questions = "all-in-one"``, the paper's variant): a passage or
window is asked one question naming all its types (:func:`uniner.instruct.builder.all_in_one`).
Its answer grows with the passage's mentions, so a window whose question and answer do not fit
is halved (word windows, answers re-derived as in 1.) while it holds at least
:data:`MIN_ALL_IN_ONE_TOKENS` x 2 tokens; a pair that still does not fit is split into two
all-in-one questions over halves of the types. Both are counted.

Question order is shuffled after the acknowledgement, as the official training does.
"""

from __future__ import annotations

import bisect
import json
import random
from collections import Counter
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from uniner.data.align import align_mentions
from uniner.data.types import Conversation, Example, Query
from uniner.data.words import word_spans
from uniner.instruct.builder import all_in_one
from uniner.students.generative.template import Segment, Template

IGNORE_INDEX = -100
MIN_ALL_IN_ONE_TOKENS = 24
"""Smallest passage window (tokens) that halving makes for an all-in-one question to fit."""


@dataclass
class PrepStats:
    """What preparation did to the data; written next to the trained model."""

    conversations: int = 0
    sequences: int = 0
    questions: int = 0
    target_tokens: int = 0
    tokens: int = 0
    windowed_passages: int = 0
    windows: int = 0
    examples: list[str] = field(default_factory=list)  # a few notes on drops, for the log
    dropped_unfound: int = 0
    """Answer mentions the aligner could not find in the passage (left out of the target)."""
    dropped_cut_mentions: int = 0
    """Mentions no window holds whole (a passage read in windows cut them at an edge)."""
    dropped_long_pairs: int = 0
    """Question-answer pairs longer than ``max_length`` even alone (not trained on)."""
    straddling_tokens: int = 0
    """Tokens that overlap an answer piece only in part (not made targets)."""
    all_in_one_halved: int = 0
    """Windows halved because their all-in-one question and answer did not fit."""
    split_all_in_one: int = 0
    """All-in-one questions still too long for ``max_length``, split into two all-in-one
    questions over halves of the types."""

    def note(self, msg: str) -> None:
        if len(self.examples) < 20:
            self.examples.append(msg)


@dataclass(frozen=True)
class Encoded:
    input_ids: list[int]
    labels: list[int]


def encode_segments(
    tokenizer: Any, segments: Sequence[Segment], stats: PrepStats | None = None
) -> Encoded:
    """Token ids of the joined segments and labels: the id on target tokens, -100 elsewhere."""
    if not getattr(tokenizer, "is_fast", False):
        raise TypeError("the generative student needs a fast tokenizer (tokenizer.json)")
    text = "".join(s.text for s in segments)
    ranges: list[tuple[int, int]] = []
    pos = 0
    for s in segments:
        if s.target:
            ranges.append((pos, pos + len(s.text)))
        pos += len(s.text)
    enc = tokenizer(text, add_special_tokens=True, return_offsets_mapping=True)
    ids: list[int] = list(enc["input_ids"])
    labels: list[int] = []
    for tid, (a, b) in zip(ids, enc["offset_mapping"], strict=True):
        target = False
        if b > a:
            for ra, rb in ranges:
                if a < rb and b > ra:  # overlaps a target piece
                    if a >= ra and b <= rb:
                        target = True
                    elif stats is not None:
                        stats.straddling_tokens += 1
                    break
        labels.append(tid if target else IGNORE_INDEX)
    return Encoded(ids, labels)


def answer_text(query: Query) -> str:
    """The answer as the file wrote it (official data), else ``json.dumps`` of the mentions."""
    return query.raw_answer if query.raw_answer is not None else json.dumps(list(query.answers))


# ----------------------------------------------------------------------------- examples -> QA


def label_frequencies(examples: Iterable[Example]) -> Counter[str]:
    """Mentions per type over a whole data set: the negative-sampling distribution."""
    freq: Counter[str] = Counter()
    for ex in examples:
        freq.update(e.label for e in ex.entities)
    return freq


def example_conversation(
    ex: Example,
    freq: Counter[str],
    negatives: int,
    rng: random.Random,
    dataset: str | None = None,
) -> Conversation:
    """One conversation per passage: a question per type present (answer: its mentions in
    order of appearance), the passage's known empty types, and ``negatives`` absent types
    sampled with probability proportional to their frequency (the paper's best variant)."""
    queries: list[Query] = []
    asked = set()
    for label in ex.label_set():
        mentions = tuple(ex.mentions(label))
        queries.append(Query(label, mentions, json.dumps(list(mentions))))
        asked.add(label)
    if negatives > 0 and freq:
        pool = [lab for lab in freq if lab not in asked]
        weights = [freq[lab] for lab in pool]
        chosen: list[str] = []
        while pool and len(chosen) < negatives:
            k = rng.choices(range(len(pool)), weights=weights)[0]
            chosen.append(pool.pop(k))
            weights.pop(k)
        queries += [Query(lab, (), "[]") for lab in chosen]
    return Conversation(ex.id or "", ex.text, tuple(queries), dataset)


# ----------------------------------------------------------------------------- windows


def token_ends(tokenizer: Any, text: str) -> tuple[list[int], list[int]]:
    """Start and end character of every token of ``text`` (no special tokens)."""
    enc = tokenizer(text, add_special_tokens=False, return_offsets_mapping=True)
    offs = [(a, b) for a, b in enc["offset_mapping"] if b > a]
    return [a for a, _ in offs], [b for _, b in offs]


def word_windows(
    tokenizer: Any, text: str, max_tokens: int, overlap_words: int = 0
) -> list[tuple[int, int]]:
    """Character ranges of consecutive word windows whose tokens number at most ``max_tokens``.

    Windows start and end on word boundaries (:func:`uniner.data.words.word_spans`); a single
    word longer than ``max_tokens`` becomes a window of its own (its tokens are then cut by
    the caller's budget check). ``overlap_words`` words are repeated between windows.
    """
    if max_tokens < 1:
        raise ValueError(f"max_tokens must be >= 1, got {max_tokens}")
    words = word_spans(text)
    if not words:
        return [(0, len(text))]
    starts, ends = token_ends(tokenizer, text)
    if len(starts) <= max_tokens:
        return [(0, len(text))]

    def n_tokens(a: int, b: int) -> int:  # tokens overlapping chars [a, b)
        lo = bisect.bisect_right(ends, a)
        hi = bisect.bisect_left(starts, b)
        return max(0, hi - lo)

    out: list[tuple[int, int]] = []
    i = 0
    while i < len(words):
        j = i + 1
        while j < len(words) and n_tokens(words[i][0], words[j][1]) <= max_tokens:
            j += 1
        out.append((words[i][0], words[j - 1][1]))
        if j >= len(words):
            break
        i = max(i + 1, j - overlap_words)
    return out


def window_conversation(
    conv: Conversation, spans: Sequence[tuple[int, int]], stats: PrepStats
) -> list[Conversation]:
    """Split a conversation into one per character window, answers re-derived from offsets."""
    located: list[tuple[Query, list[tuple[int, int]]]] = []
    for q in conv.queries:
        if not q.answers:
            located.append((q, []))
            continue
        res = align_mentions(conv.text, list(q.answers), q.label)
        if res.unfound:
            stats.dropped_unfound += len(res.unfound)
            stats.note(f"{conv.id}: unfound {q.label}: {list(res.unfound)[:3]}")
        located.append((q, [(e.start, e.end) for e in res.entities]))
    out = []
    covered: set[tuple[int, int]] = set()
    for k, (a, b) in enumerate(spans):
        queries = []
        for q, occ in located:
            inside = sorted((s, e) for s, e in occ if s >= a and e <= b)
            covered.update(inside)
            mentions = list(dict.fromkeys(conv.text[s:e] for s, e in inside))
            queries.append(Query(q.label, tuple(mentions), json.dumps(mentions)))
        out.append(Conversation(f"{conv.id}#w{k}", conv.text[a:b], tuple(queries), conv.dataset))
    cut = sum(1 for _, occ in located for sp in occ if sp not in covered)
    if cut:
        stats.dropped_cut_mentions += cut
        stats.note(f"{conv.id}: {cut} mention(s) cut by window edges")
    return out


# ----------------------------------------------------------------------------- sequences


def conversation_sequences(
    conv: Conversation,
    template: Template,
    tokenizer: Any,
    max_length: int,
    rng: random.Random,
    stats: PrepStats,
    shuffle: bool = True,
    min_answer_room: int = 32,
    all_in_one: bool = False,
) -> list[Encoded]:
    """Token sequences of one conversation under the truncation policy of the module doc;
    ``all_in_one``: its questions asked as one (see :func:`all_in_one_pairs`)."""
    if not conv.queries:
        raise ValueError(f"conversation {conv.id!r} has no question: nothing to learn from")
    stats.conversations += 1
    header_len = len(encode_segments(tokenizer, template.header("", conv.dataset)).input_ids)
    budget = max_length - header_len - min_answer_room
    if budget < 1:
        raise ValueError(
            f"max_length={max_length} leaves no room for a passage: the template alone takes "
            f"{header_len} tokens and min_answer_room is {min_answer_room}"
        )
    n_text = len(token_ends(tokenizer, conv.text)[0])
    convs = [conv]
    if n_text > budget:
        spans = word_windows(tokenizer, conv.text, budget)
        convs = window_conversation(conv, spans, stats)
        stats.windowed_passages += 1
        stats.windows += len(convs)
    if all_in_one:
        convs = [
            w for c in convs for w in all_in_one_windows(c, template, tokenizer, max_length, stats)
        ]
    out: list[Encoded] = []
    for c in convs:
        out += _pack(c, template, tokenizer, max_length, rng, stats, shuffle, all_in_one)
    return out


def all_in_one_windows(
    conv: Conversation, template: Template, tokenizer: Any, max_length: int, stats: PrepStats
) -> list[Conversation]:
    """``conv``, or its word-window halves (recursively) when its all-in-one question and
    answer do not fit ``max_length``; windows stop halving at :data:`MIN_ALL_IN_ONE_TOKENS`."""
    pair = all_in_one([(q.label, q.answers) for q in conv.queries])
    segments = template.segments(conv.text, [pair], conv.dataset)
    if len(encode_segments(tokenizer, segments).input_ids) <= max_length:
        return [conv]
    n_text = len(token_ends(tokenizer, conv.text)[0])
    if n_text < 2 * MIN_ALL_IN_ONE_TOKENS:
        return [conv]
    spans = word_windows(tokenizer, conv.text, (n_text + 1) // 2)
    if len(spans) < 2:
        return [conv]
    stats.all_in_one_halved += 1
    halves = window_conversation(conv, spans, stats)
    return [
        w for h in halves for w in all_in_one_windows(h, template, tokenizer, max_length, stats)
    ]


def all_in_one_pairs(
    queries: Sequence[Query], fits: Callable[[tuple[str, str]], bool], stats: PrepStats
) -> list[tuple[str, str]]:
    """The queries as one all-in-one (types, answer) pair, in their order; a pair that does not
    ``fit`` is split over two halves of the types, recursively, and the splits counted (a single
    type too long is left to the caller's long-pair check)."""

    def split(group: Sequence[Query]) -> list[tuple[str, str]]:
        pair = all_in_one([(q.label, q.answers) for q in group])
        if len(group) == 1 or fits(pair):
            return [pair]
        stats.split_all_in_one += 1
        mid = len(group) // 2
        return split(group[:mid]) + split(group[mid:])

    return split(queries) if queries else []


def _pack(
    conv: Conversation,
    template: Template,
    tokenizer: Any,
    max_length: int,
    rng: random.Random,
    stats: PrepStats,
    shuffle: bool,
    all_in_one: bool = False,
) -> list[Encoded]:
    queries = list(conv.queries)
    if shuffle:
        rng.shuffle(queries)
    header = template.header(conv.text, conv.dataset)
    header_len = len(encode_segments(tokenizer, header).input_ids)

    def pair_len(p: tuple[str, str]) -> int:
        return len(
            tokenizer("".join(s.text for s in template.qa(*p)), add_special_tokens=False)[
                "input_ids"
            ]
        )

    if all_in_one:
        pairs = all_in_one_pairs(queries, lambda p: header_len + pair_len(p) <= max_length, stats)
    else:
        pairs = [(q.label, answer_text(q)) for q in queries]
    groups: list[list[tuple[str, str]]] = []
    cur: list[tuple[str, str]] = []
    used = header_len
    for p in pairs:
        n = pair_len(p)
        if header_len + n > max_length:
            stats.dropped_long_pairs += 1
            stats.note(f"{conv.id}: question {p[0]!r} does not fit max_length={max_length}")
            continue
        if used + n > max_length and cur:
            groups.append(cur)
            cur, used = [], header_len
        cur.append(p)
        used += n
    if cur:
        groups.append(cur)
    return _encode_groups(conv, groups, template, tokenizer, max_length, stats)


def _encode_groups(
    conv: Conversation,
    groups: list[list[tuple[str, str]]],
    template: Template,
    tokenizer: Any,
    max_length: int,
    stats: PrepStats,
) -> list[Encoded]:
    """One sequence per group of (question, answer) pairs; a group that tokenises longer than
    estimated (token merges at pair boundaries) gives its last pair to a group of its own."""
    out: list[Encoded] = []
    while groups:
        g = groups.pop(0)
        segs = template.segments(conv.text, g, conv.dataset)
        enc = encode_segments(tokenizer, segs, stats)
        if len(enc.input_ids) > max_length and len(g) > 1:
            groups.insert(0, [g[-1]])
            groups.insert(0, g[:-1])
            continue
        if len(enc.input_ids) > max_length:
            stats.dropped_long_pairs += 1
            continue
        out.append(enc)
        stats.sequences += 1
        stats.questions += len(g)
        stats.tokens += len(enc.input_ids)
        stats.target_tokens += sum(1 for t in enc.labels if t != IGNORE_INDEX)
    return out


def collate(batch: Sequence[Encoded | dict[str, Any]], pad_id: int) -> dict[str, Any]:
    """Right-padded tensors: ``input_ids``, ``attention_mask``, ``labels`` (-100 on padding)."""
    import torch

    items = [b if isinstance(b, Encoded) else Encoded(b["input_ids"], b["labels"]) for b in batch]
    n = max(len(b.input_ids) for b in items)
    ids = torch.full((len(items), n), pad_id, dtype=torch.long)
    labels = torch.full((len(items), n), IGNORE_INDEX, dtype=torch.long)
    mask = torch.zeros((len(items), n), dtype=torch.long)
    for i, b in enumerate(items):
        k = len(b.input_ids)
        ids[i, :k] = torch.tensor(b.input_ids)
        labels[i, :k] = torch.tensor(b.labels)
        mask[i, :k] = 1
    return {"input_ids": ids, "attention_mask": mask, "labels": labels}
