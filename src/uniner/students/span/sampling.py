"""Which labels each training piece is asked: positives, certain negatives, sampled negatives.

Kept apart from :mod:`uniner.students.span.data` (which cuts the pieces and builds the batches)
because the sampler is where the training recipe's choices live: frequency-sampled negatives
(the UniNER paper's finding), closed label sets for supervised data, few-type calls, the
hierarchy's hard negatives, and the label prefix's token budget.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterable, Sequence
from typing import TYPE_CHECKING

import numpy as np

from uniner.data.hierarchy import TypeHierarchy

if TYPE_CHECKING:
    from uniner.students.span.data import TrainItem

#: How absent types are drawn as negatives: by frequency (the paper's best), uniformly, or
#: not at all (each piece asked only the types it mentions; pieces without one are dropped).
NEGATIVES = ("frequency", "uniform", "none")


def label_frequencies(items: Iterable[TrainItem]) -> Counter[str]:
    """In how many pieces each label has a mention (the distribution negatives are drawn from)."""
    freq: Counter[str] = Counter()
    for it in items:
        freq.update({lab for _, _, lab in it.spans})
    return freq


class LabelSampler:
    """Per piece: positives, then known negatives, then frequency-sampled negatives; shuffled.

    A piece with a known label set (a supervised data set) is, with ``closed_sets``, asked only
    its own data set's labels: its annotators never marked anything else, so a label drawn from
    another corpus ("country" on a CoNLL sentence whose countries are "location") would be a
    false negative that teaches the model to reject specific types, the UniNER benchmark's
    most common error. Pieces without a known set (Pile-NER) get frequency-sampled negatives,
    up to ``open_max_labels`` labels in all: a closed set can then be asked whole (33 types)
    while an open piece is not buried in sampled negatives (the v0.7.0 candidate asked every
    piece up to 33 types and lost 4 points on held-out Pile-NER).
    """

    def __init__(
        self,
        frequencies: Counter[str],
        min_labels: int = 8,
        max_labels: int = 12,
        min_negatives: int = 2,
        closed_sets: bool = False,
        few_share: float = 0.0,
        few_max: int = 3,
        hierarchy: TypeHierarchy | None = None,
        hard_share: float = 0.0,
        negatives: str = "frequency",
        prefix_budget: tuple[int, Callable[[Sequence[str]], int]] | None = None,
        open_max_labels: int | None = None,
        whole_share: float = 0.0,
    ):
        if negatives not in NEGATIVES:
            raise ValueError(f"negatives must be one of {NEGATIVES}, got {negatives!r}")
        if not 1 <= min_labels <= max_labels:
            raise ValueError(f"need 1 <= min_labels <= max_labels, got {min_labels}, {max_labels}")
        if open_max_labels is not None and not min_labels <= open_max_labels:
            raise ValueError(f"need min_labels <= open_max_labels, got {open_max_labels}")
        shares = {"few_share": few_share, "whole_share": whole_share, "hard_share": hard_share}
        for name, share in shares.items():
            if not 0.0 <= share <= 1.0:
                raise ValueError(f"{name} must be in [0, 1], got {share}")
        if few_max < 1:
            raise ValueError(f"few_max must be >= 1, got {few_max}")
        if hard_share > 0.0 and hierarchy is None:
            raise ValueError("hard_share needs a type hierarchy")
        self.labels = sorted(frequencies)
        counts = np.array([frequencies[lab] for lab in self.labels], dtype=np.float64)
        self.probs = counts / counts.sum() if counts.size else counts
        if negatives == "uniform" and counts.size:  # the paper's middle arm (Table 4)
            self.probs = np.full(counts.size, 1.0 / counts.size)
        self.negatives = negatives
        self.min_labels = min_labels
        self.max_labels = max_labels
        self.min_negatives = min_negatives
        self.closed_sets = closed_sets
        self.few_share = few_share
        self.few_max = few_max
        self.hierarchy = hierarchy
        self.hard_share = hard_share
        self.prefix_budget = prefix_budget
        self.open_max = min(open_max_labels or max_labels, max_labels)
        self.whole_share = whole_share

    def sample(self, item: TrainItem, rng: np.random.Generator) -> list[str]:
        """The labels to ask of ``item``; with ``few_share``, sometimes only a few of them.

        Why the few: users ask one to three types at a time ("-l person -l disease"), while
        the full list is 8 to 12. A model that only ever saw long lists over-reads a lone type
        (tags the nearest name with it). A share of inputs asked a random subset of 1 to
        ``few_max`` of the labels teaches the short call; a mention whose type is not asked is
        simply not a target (``collate_train`` builds targets for the asked labels only).
        """
        chosen = self._full(item, rng)
        if self.few_share > 0.0 and rng.random() < self.few_share:
            k = min(int(rng.integers(1, self.few_max + 1)), len(chosen))
            keep = rng.choice(len(chosen), size=k, replace=False)
            chosen = [chosen[i] for i in keep.tolist()]
        if self.hard_share > 0.0 and rng.random() < self.hard_share:
            chosen = self._with_parent(item, chosen, rng)
        return self._fit(item, chosen)

    def _fit(self, item: TrainItem, chosen: list[str]) -> list[str]:
        """``chosen`` cut to the label prefix's token budget (``prefix_budget``: tokens and
        the tokens a list of labels takes, ``Featurizer.prefix_length``), so that a piece cut
        for that budget still fits its input.

        Why: the budget sets aside fewer tokens per label than the longest name may take, so
        that a piece asked 33 short type names keeps its words; the rare call whose names are
        long loses its last absent types first (a missing negative costs little; a missing
        positive costs a target), and keeps at least one label.
        """
        if self.prefix_budget is None:
            return chosen
        budget, prefix_length = self.prefix_budget
        if prefix_length(chosen) <= budget:
            return chosen
        mentioned = {lab for _, _, lab in item.spans}
        out = list(chosen)
        for drop_mentioned in (False, True):
            for i in range(len(out) - 1, -1, -1):
                if len(out) == 1 or prefix_length(out) <= budget:
                    return out
                if (out[i] in mentioned) == drop_mentioned:
                    del out[i]
        return out

    def _with_parent(
        self, item: TrainItem, chosen: list[str], rng: np.random.Generator
    ) -> list[str]:
        """``chosen`` with the general type of one of the piece's mentions asked too, or instead.

        Why: the model must learn which of "person" and "writer" to answer when both are asked
        (half of these pieces ask the mention's type and its parent together: the specific
        type is the target, the parent a hard negative) and that the general type still holds
        when the specific one is not asked (the other half ask the parent in place of the
        type: the parent is the target). One mention type per piece; within ``max_labels``,
        making room by dropping sampled negatives (never a type that has a mention here).
        """
        assert self.hierarchy is not None
        h = self.hierarchy
        kinds = sorted({lab for _, _, lab in item.spans if h.parents(lab)})
        if not kinds:
            return chosen
        child = kinds[int(rng.integers(len(kinds)))]
        parents = h.parents(child)
        parent = parents[int(rng.integers(len(parents)))]
        out = list(chosen)
        if rng.random() < 0.5:  # both: the specific type is the answer
            need = [x for x in (child, parent) if x not in out]
        else:  # the parent stands in: drop the child and any type between the two
            between = {child} | {a for a in h.ancestors(child) if parent in h.ancestors(a)}
            out = [x for x in out if x not in between]
            need = [] if parent in out else [parent]
        mentioned = {lab for _, _, lab in item.spans}
        spare = [x for x in out if x not in mentioned]
        overflow = len(out) + len(need) - self.max_labels
        if overflow > len(spare):
            return chosen
        if overflow > 0:
            drop = set(spare[len(spare) - overflow :])
            out = [x for x in out if x not in drop]
        out += need
        order = rng.permutation(len(out)).tolist()
        return [out[i] for i in order]

    def _full(self, item: TrainItem, rng: np.random.Generator) -> list[str]:
        positives = sorted({lab for _, _, lab in item.spans})
        if len(positives) > self.max_labels:
            keep = rng.choice(len(positives), size=self.max_labels, replace=False)
            positives = [positives[i] for i in sorted(keep.tolist())]
        if self.negatives == "none":  # only the types present (the paper's first arm)
            order = rng.permutation(len(positives)).tolist()
            return [positives[i] for i in order]
        most = self.max_labels if item.known_labels else self.open_max
        total = self._total(item, most, rng)
        n_neg = min(max(total - len(positives), self.min_negatives), most - len(positives))
        chosen = list(positives)
        taken = set(chosen)
        if n_neg > 0 and item.known_labels:
            known = [lab for lab in item.known_labels if lab not in taken]
            if known:
                pick = rng.permutation(len(known))[:n_neg].tolist()
                chosen += [known[i] for i in pick]
                taken.update(chosen)
        if self.closed_sets and item.known_labels:
            order = rng.permutation(len(chosen)).tolist()
            return [chosen[i] for i in order]
        chosen += self.draw(len(positives) + n_neg - len(chosen), taken, rng)
        order = rng.permutation(len(chosen)).tolist()
        return [chosen[i] for i in order]

    def _total(self, item: TrainItem, most: int, rng: np.random.Generator) -> int:
        """How many labels to ask of a piece: uniform in [min_labels, most], or, for a share
        ``whole_share`` of the pieces with a known label set, ``most`` (its whole set, up to
        ``max_labels``).

        Why: users and benchmarks ask a closed set whole ("all its types": MultiCoNER II's 33),
        while a uniform count asks it whole about once in 30 pieces; a model that rarely sees
        every sibling type asked at once has not learnt to choose among them (v0.9.0 answers
        MultiCoNER II 73 F1 asked 3 types, 50 asked all 33). No extra draw when the share is 0,
        so earlier configs sample as before.
        """
        if item.known_labels and self.whole_share > 0.0 and rng.random() < self.whole_share:
            return most
        return int(rng.integers(self.min_labels, most + 1))

    def draw(self, need: int, taken: set[str], rng: np.random.Generator) -> list[str]:
        """Up to ``need`` labels not in ``taken``, drawn by frequency (added to ``taken``)."""
        out: list[str] = []
        tries = 0
        while need > 0 and len(self.labels) > len(taken) and tries < 8:
            draw = rng.choice(len(self.labels), size=need * 2 + 4, p=self.probs)
            for i in draw.tolist():
                lab = self.labels[i]
                if lab not in taken:
                    out.append(lab)
                    taken.add(lab)
                    need -= 1
                    if need == 0:
                        break
            tries += 1
        return out
