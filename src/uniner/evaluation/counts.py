"""Shared counting for every metric: correct/predicted/gold counts and the P/R/F1 made from them.

Metrics keep *counts*, not ratios, because micro averages need sums: adding the counts of two
queries, two types or two data sets and then dividing is the micro average, while averaging
ratios is the macro average. Both are needed (the paper reports per-data-set micro F1 and the
macro average of those over data sets), so :class:`Counts` adds, and :func:`aggregate` does both.

``correct`` is a float because partial matching credits 0.5 per partially matched prediction.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any


def _ratio(num: float, den: float, epsilon: float) -> float:
    """``num / (den + epsilon)``, and 0.0 (not an error) when the denominator is zero."""
    den = den + epsilon
    return num / den if den else 0.0


@dataclass(frozen=True, slots=True)
class PRF:
    """Precision, recall and F1 as fractions in [0, 1]."""

    precision: float
    recall: float
    f1: float

    def to_dict(self) -> dict[str, float]:
        return {"precision": self.precision, "recall": self.recall, "f1": self.f1}


@dataclass(frozen=True, slots=True)
class Counts:
    """Match counts of one or more queries/examples; sum them with ``+`` or :meth:`total`.

    The properties divide exactly and give 0.0 for an empty denominator. :meth:`prf` with an
    ``epsilon`` reproduces scripts that add a small constant to every denominator instead (the
    official UniNER script adds 1e-10); the two differ by about 1e-10.
    """

    correct: float = 0.0
    predicted: int = 0
    gold: int = 0

    def __post_init__(self) -> None:
        if self.correct < 0 or self.predicted < 0 or self.gold < 0:
            raise ValueError(f"counts must be non-negative, got {self}")
        if self.correct > min(self.predicted, self.gold):
            raise ValueError(
                f"correct ({self.correct}) cannot exceed predicted ({self.predicted}) "
                f"or gold ({self.gold})"
            )

    def __add__(self, other: object) -> Counts:
        if not isinstance(other, Counts):
            return NotImplemented
        return Counts(
            self.correct + other.correct, self.predicted + other.predicted, self.gold + other.gold
        )

    def __radd__(self, other: object) -> Counts:
        # Lets ``sum(counts_list)`` work: sum starts from the int 0.
        if other == 0:
            return self
        return NotImplemented

    @staticmethod
    def total(items: Sequence[Counts] | Mapping[Any, Counts]) -> Counts:
        """The sum of several counts (an empty collection gives all zeros)."""
        values = items.values() if isinstance(items, Mapping) else items
        out = Counts()
        for c in values:
            out = out + c
        return out

    def prf(self, epsilon: float = 0.0) -> PRF:
        """P/R/F1; ``epsilon`` is added to every denominator (0 gives the exact ratios)."""
        p = _ratio(self.correct, self.predicted, epsilon)
        r = _ratio(self.correct, self.gold, epsilon)
        f = _ratio(2 * p * r, p + r, epsilon)
        return PRF(p, r, f)

    @property
    def precision(self) -> float:
        return self.prf().precision

    @property
    def recall(self) -> float:
        return self.prf().recall

    @property
    def f1(self) -> float:
        return self.prf().f1

    def to_dict(self) -> dict[str, float]:
        return {
            "correct": self.correct,
            "predicted": self.predicted,
            "gold": self.gold,
            **self.prf().to_dict(),
        }


@dataclass(frozen=True, slots=True)
class Aggregate:
    """Results over several data sets: each one's counts, their micro sum, and macro averages.

    ``macro`` averages the per-data-set precision, recall and F1 (each F1 is computed from its
    own counts, then the F1s are averaged: the paper's "Avg" column). Note that the macro F1 is
    therefore *not* the harmonic mean of the macro precision and recall.
    """

    per_dataset: dict[str, Counts]
    micro: Counts
    macro: PRF

    def to_dict(self) -> dict[str, Any]:
        return {
            "per_dataset": {k: v.to_dict() for k, v in self.per_dataset.items()},
            "micro": self.micro.to_dict(),
            "macro": self.macro.to_dict(),
            "n_datasets": len(self.per_dataset),
        }


def aggregate(results: Mapping[str, Counts]) -> Aggregate:
    """Micro (summed counts) and macro (mean of per-data-set scores) over named results.

    An empty mapping gives zeros rather than an error, so a report over nothing still renders.
    """
    per = dict(results)
    n = len(per)
    if n == 0:
        return Aggregate({}, Counts(), PRF(0.0, 0.0, 0.0))
    macro = PRF(
        sum(c.precision for c in per.values()) / n,
        sum(c.recall for c in per.values()) / n,
        sum(c.f1 for c in per.values()) / n,
    )
    return Aggregate(per, Counts.total(per), macro)


def maximum_matching(n_left: int, n_right: int, linked: Callable[[int, int], bool]) -> int:
    """Size of a maximum one-to-one matching between ``n_left`` and ``n_right`` items.

    Used for partial matching: each gold can be credited to at most one prediction and vice
    versa, and a *maximum* matching (rather than greedy first-come pairing) makes the score
    independent of the order in which predictions are listed. Kuhn's augmenting-path algorithm;
    the sets involved are one query's or one example's mentions, so O(V * E) is ample.
    """
    adj = [[j for j in range(n_right) if linked(i, j)] for i in range(n_left)]
    owner: list[int | None] = [None] * n_right
    size = 0
    for root in range(n_left):
        if not adj[root]:
            continue
        # Iterative DFS for an augmenting path (no recursion limit on long documents).
        seen = [False] * n_right
        parent_right: dict[int, int | None] = {}  # left node -> right node that led to it
        stack: list[tuple[int, int]] = [(root, 0)]  # (left node, next adjacency index)
        parent_right[root] = None
        found: int | None = None
        while stack and found is None:
            i, k = stack[-1]
            if k >= len(adj[i]):
                stack.pop()
                continue
            stack[-1] = (i, k + 1)
            j = adj[i][k]
            if seen[j]:
                continue
            seen[j] = True
            prev = owner[j]
            if prev is None:
                found = j
            else:
                parent_right[prev] = j
                stack.append((prev, 0))
        if found is None:
            continue
        # Flip the path: walk back from the free right node along the stack.
        # The stack holds exactly the path root -> ... -> i, each reached through the right
        # node recorded in parent_right; re-assign every right node on it one step back.
        free: int | None = found
        for i, _ in reversed(stack):
            assert free is not None
            owner[free] = i
            free = parent_right[i]
        size += 1
    return size
