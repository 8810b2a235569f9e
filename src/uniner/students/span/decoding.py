"""From span scores to a consistent set of mentions.

Pure functions over numpy arrays and small tuples (no torch), so the rules can be tested on
hand-made score matrices. A score array has shape ``[num_start_words, max_width, num_labels]``:
entry ``[i, k, l]`` is the probability that words ``i .. i+k`` (inclusive) are a mention of label
``l``. Spans are returned in word coordinates with an exclusive end.

Modes:

- ``flat``: no two kept spans overlap (highest score first, greedy).
- ``nested``: spans may nest (one inside another) but never cross partially.
- ``all``: every span above the threshold is kept.

``multi_label`` lets the *same* span carry several labels; without it a span keeps its best label.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Sequence
from typing import Literal, NamedTuple

import numpy as np

from uniner.inference.decoding import MODES

Mode = Literal["flat", "nested", "all"]
__all__ = ["MODES", "Mode", "Span", "decode", "prefer_specific", "spans_from_scores"]


class Span(NamedTuple):
    """A scored candidate: words ``start`` to ``end`` (exclusive) with a label."""

    start: int
    end: int
    label: str
    score: float


def spans_from_scores(
    scores: np.ndarray,
    labels: Sequence[str],
    threshold: float,
    num_words: int | None = None,
    offset: int = 0,
) -> list[Span]:
    """Candidates with ``score >= threshold``; spans past ``num_words`` are ignored.

    ``offset`` is added to word indices (a window's first word in its document).
    """
    arr = np.asarray(scores, dtype=np.float32)
    if arr.ndim != 3:
        raise ValueError(f"scores must have shape [words, widths, labels], got {arr.shape}")
    if arr.shape[2] != len(labels):
        raise ValueError(f"scores have {arr.shape[2]} labels but {len(labels)} names were given")
    n = arr.shape[0] if num_words is None else num_words
    starts, widths, labs = np.nonzero(arr >= threshold)
    out: list[Span] = []
    for i, k, lab in zip(starts.tolist(), widths.tolist(), labs.tolist(), strict=True):
        if i + k < n:
            out.append(Span(i + offset, i + k + 1 + offset, labels[lab], float(arr[i, k, lab])))
    return out


def merge_duplicates(spans: Iterable[Span]) -> list[Span]:
    """One candidate per (start, end, label), keeping the highest score (overlapping windows)."""
    best: dict[tuple[int, int, str], Span] = {}
    for sp in spans:
        key = (sp.start, sp.end, sp.label)
        cur = best.get(key)
        if cur is None or sp.score > cur.score:
            best[key] = sp
    return list(best.values())


def prefer_specific(
    spans: Iterable[Span],
    generic: Collection[str],
    threshold: float,
    min_score: float,
    keep_generic: bool = True,
    broad: Collection[str] = (),
) -> list[Span]:
    """A confident mention of a generic type also gets the more specific asked type it shows.

    Asked "person" and "musical artist", the model scores a singer high as a person and often
    below the threshold as a musical artist, while data annotated for both (CrossNER, and most
    ontologies) want the specific type. On a span where a ``generic`` label scores at least
    ``threshold``, the best other label scoring at least ``min_score`` is lifted to the higher
    of the two scores (the confidence that the span is a mention). With ``keep_generic`` the
    generic labels stay (multi-label output: "person" and "musical artist"); without it they are
    dropped (one label per span: the specific one). Spans without a confident generic label are
    unchanged. ``broad`` labels (say "organization", "location") are never taken as the more
    specific type, so a classic person / organization / location call is left as it is. The
    model itself says which types are related: on confident "person" spans, the asked types that
    score above a small ``min_score`` are nearly always person subtypes (measured on dev data in
    BENCHMARKS.md), so no type hierarchy is needed.
    """
    if not 0.0 <= min_score <= threshold:
        raise ValueError(f"min_score must be in [0, threshold={threshold}], got {min_score}")
    by_span: dict[tuple[int, int], list[Span]] = {}
    for sp in merge_duplicates(spans):
        by_span.setdefault((sp.start, sp.end), []).append(sp)
    out: list[Span] = []
    for group in by_span.values():
        gen = [sp for sp in group if sp.label in generic and sp.score >= threshold]
        other = [
            sp
            for sp in group
            if sp.label not in generic and sp.label not in broad and sp.score >= min_score
        ]
        if not gen or not other:
            out += group
            continue
        best = max(other, key=lambda sp: (sp.score, sp.label))
        lifted = best._replace(score=max(best.score, max(sp.score for sp in gen)))
        out += [
            lifted if sp is best else sp for sp in group if keep_generic or sp.label not in generic
        ]
    return out


def _crosses(a0: int, a1: int, b0: int, b1: int) -> bool:
    """Partial overlap: they share words but neither contains the other."""
    return (a0 < b0 < a1 < b1) or (b0 < a0 < b1 < a1)


def decode(spans: Iterable[Span], mode: Mode = "flat", multi_label: bool = False) -> list[Span]:
    """Greedy selection, highest score first; result sorted by (start, end, label).

    Ties are broken by position then label so the result never depends on input order.
    """
    if mode not in MODES:
        raise ValueError(f"mode must be one of {MODES}, got {mode!r}")
    cands = sorted(merge_duplicates(spans), key=lambda s: (-s.score, s.start, s.end, s.label))
    if mode == "all" and multi_label:
        return sorted(cands, key=lambda s: (s.start, s.end, s.label))
    max_len = max((s.end - s.start for s in cands), default=0)
    kept: list[Span] = []
    by_start: dict[int, list[Span]] = {}
    for sp in cands:
        ok = True
        # Any kept span that shares a word with sp starts in [sp.start - max_len + 1, sp.end).
        for st in range(max(0, sp.start - max_len + 1), sp.end):
            for other in by_start.get(st, ()):
                if other.end <= sp.start:
                    continue
                same = other.start == sp.start and other.end == sp.end
                if same:
                    ok = multi_label
                elif mode == "flat":
                    ok = False
                elif mode == "nested":
                    ok = not _crosses(sp.start, sp.end, other.start, other.end)
                if not ok:
                    break
            if not ok:
                break
        if ok:
            kept.append(sp)
            by_start.setdefault(sp.start, []).append(sp)
    return sorted(kept, key=lambda s: (s.start, s.end, s.label))


def decode_scores(
    scores: np.ndarray,
    labels: Sequence[str],
    threshold: float = 0.5,
    mode: Mode = "flat",
    multi_label: bool = False,
    num_words: int | None = None,
) -> list[Span]:
    """Threshold then :func:`decode`: the whole path for one window."""
    return decode(spans_from_scores(scores, labels, threshold, num_words), mode, multi_label)
