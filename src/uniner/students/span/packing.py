"""Packing whole words into runs that fit the encoder: one loop for training and inference.

Why one function: training pieces (:func:`uniner.students.span.data.cut_pieces`) and inference
windows (:func:`uniner.students.span.windowing.plan_windows`) must agree on what fits in
``max_words`` words and ``max_tokens`` tokens; two copies of the loop could drift apart, and a
model would then be read at inference on runs of a shape it never saw in training. The callers
differ only in where a run may end (training prefers a sentence end outside any mention) and in
how far the next run starts back (inference windows overlap, training pieces do not).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

#: Chooses a run's end: given the run's start and the furthest end that fits (``start <
#: limit < n``), an end in ``start + 1 .. limit``.
ChooseEnd = Callable[[int, int], int]


def fit_end(counts: Sequence[int], start: int, max_words: int, max_tokens: int) -> int:
    """The furthest end (exclusive) of a run of whole words from ``start`` within both budgets.

    At least ``start + 1``: a single word longer than ``max_tokens`` still makes a run of its
    own (inference refuses such a word before planning; training keeps it whole).
    """
    end, used = start, 0
    n = len(counts)
    while end < n and end - start < max_words and used + counts[end] <= max_tokens:
        used += counts[end]
        end += 1
    return max(end, start + 1)


def pack_words(
    counts: Sequence[int],
    max_words: int,
    max_tokens: int,
    overlap: int = 0,
    choose_end: ChooseEnd | None = None,
) -> list[tuple[int, int]]:
    """Runs ``(start, end)`` (end exclusive) covering all ``len(counts)`` words in order.

    Each run is packed greedily up to the budgets (:func:`fit_end`); ``choose_end`` may end it
    earlier (not called for the last run, which takes every remaining word). The next run starts
    ``overlap`` words before the previous end, but always at least one word after the previous
    start. No words, no runs.
    """
    n = len(counts)
    runs: list[tuple[int, int]] = []
    start = 0
    while start < n:
        limit = fit_end(counts, start, max_words, max_tokens)
        end = limit if limit >= n or choose_end is None else choose_end(start, limit)
        if not start < end <= limit:
            raise ValueError(f"choose_end gave {end}, outside {start + 1}..{limit}")
        runs.append((start, end))
        if end >= n:
            break
        start = max(end - overlap, start + 1)
    return runs
