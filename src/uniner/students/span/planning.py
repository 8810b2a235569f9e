"""How a call reads its texts: words, windows and label passes, as a list of encoder inputs.

Each text is cut into words; a text longer than one encoder input is read in overlapping windows
(windowing.py); a label list longer than one input's label budget is read in several passes
(:meth:`Planner.label_groups`). Every (window, label group) pair is one :class:`WorkItem`; the
scorer sorts them by length across all texts of a call and batches them.
"""

from __future__ import annotations

import itertools
import logging
from collections.abc import Sequence
from dataclasses import dataclass, field

from uniner.inference.deadline import Deadline, check
from uniner.inference.decoding import DecodingConfig
from uniner.students.span.config import SpanModelConfig
from uniner.students.span.features import EncodedText, Featurizer
from uniner.students.span.settings import check_labels
from uniner.students.span.windowing import Window, plan_windows

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class WorkItem:
    """One encoder input: a window of a text with one group of labels."""

    text_index: int
    window: Window
    labels: tuple[str, ...]
    n_tokens: int


@dataclass(slots=True)
class Plan:
    """How one call reads its texts (per text, in order), and the encoder inputs it needs."""

    encs: list[EncodedText] = field(default_factory=list)
    windows: list[tuple[Window, ...]] = field(default_factory=list)
    passes: list[int] = field(default_factory=list)
    asked: list[frozenset[str]] = field(default_factory=list)
    thresholds: list[float] = field(default_factory=list)  # on the model's (raw) scale
    work: list[WorkItem] = field(default_factory=list)


def with_context(labels: tuple[str, ...], cfg: DecodingConfig) -> tuple[str, ...]:
    """The asked labels, padded with ``cfg.context_labels`` up to ``cfg.min_labels``, at most
    ``cfg.max_context`` of them; a context label already asked (whatever its case) is skipped."""
    missing = cfg.min_labels - len(labels)
    if cfg.max_context is not None:
        missing = min(missing, cfg.max_context)
    if missing <= 0 or not cfg.context_labels:
        return labels
    taken = {lab.casefold() for lab in labels}
    extra = [c for c in cfg.context_labels if c.casefold() not in taken][:missing]
    return labels + tuple(extra)


def sorted_by_name(labels: Sequence[str]) -> tuple[str, ...]:
    """Labels by name, case-blind (ties by exact name): ``label_order = "sorted"``."""
    return tuple(sorted(labels, key=lambda lab: (lab.casefold(), lab)))


@dataclass(frozen=True, slots=True)
class Planner:
    """Plans the encoder inputs of a model: its featurizer, its limits, and whether its labels
    are encoded apart from the text (``separate``: a label cache gives their vectors, so they
    take no room in a text's input)."""

    featurizer: Featurizer
    config: SpanModelConfig
    max_length: int  # tokens of one encoder input (the model's, capped by the encoder's)
    separate: bool

    def reading_order(self, labels: tuple[str, ...]) -> tuple[str, ...]:
        """A call's types in the order the model reads them (``config.label_order``)."""
        return sorted_by_name(labels) if self.config.label_order == "sorted" else labels

    def label_groups(self, labels: Sequence[str]) -> list[tuple[str, ...]]:
        """Labels in order, in as few groups as fit one input's label budget, of even sizes (one
        group when labels are encoded apart from the text: they take no room in its input).

        Why even: a label read in a pass of its own scores as in a one-type call (higher, with
        none of its siblings beside it) and takes spans from the types of the other pass, so
        with greedy packing the answer to a 33-type call hung on which type was asked last
        (32 + 1). Even groups (17 + 16) never leave a label alone, which lifts the worst order
        but not the average (``bench/label_order.py``): siblings may still land in different
        passes, so a model reads as many types per pass as it was trained on (``RunConfig``)."""
        if self.separate:
            return [tuple(labels)]
        greedy = self._pack(labels)
        if len(greedy) <= 1:
            return greedy
        q, r = divmod(len(labels), len(greedy))
        bounds = [0]
        for i in range(len(greedy)):
            bounds.append(bounds[-1] + q + (i < r))
        even = [tuple(labels[s:e]) for s, e in itertools.pairwise(bounds)]
        budget = self.config.max_prefix_tokens
        return even if all(self.featurizer.prefix_length(g) <= budget for g in even) else greedy

    def _pack(self, labels: Sequence[str]) -> list[tuple[str, ...]]:
        """Labels packed greedily in order: each group as full as the budget and the count
        allow (the fewest groups)."""
        groups: list[tuple[str, ...]] = []
        cur: list[str] = []
        used = 1
        for lab in labels:
            need = len(self.featurizer.encode_label(lab)) + 1
            full = len(cur) >= self.config.max_labels_per_pass
            if cur and (used + need > self.config.max_prefix_tokens or full):
                groups.append(tuple(cur))
                cur, used = [], 1
            cur.append(lab)
            used += need
        if cur:
            groups.append(tuple(cur))
        return groups

    def prefix_tokens(self, labels: Sequence[str]) -> int:
        """Tokens before the text in an input: [CLS] alone when labels are encoded apart."""
        return 1 if self.separate else self.featurizer.prefix_length(labels)

    def plan(
        self,
        texts: Sequence[str],
        label_lists: Sequence[Sequence[str]],
        cfg: DecodingConfig,
        deadline: Deadline | None,
    ) -> Plan:
        """Words, windows and (window, label group) encoder inputs of every text."""
        group_cache: dict[tuple[str, ...], list[tuple[str, ...]]] = {}
        plan = Plan()
        for ti, text in enumerate(texts):
            check(deadline, "while reading the texts")
            enc = self.featurizer.encode_text(text, self.config.hashtags == "bare")
            plan.encs.append(enc)
            own = tuple(check_labels(label_lists[ti]))
            plan.asked.append(frozenset(own))
            plan.thresholds.append(cfg.raw_threshold(len(own)))  # model scale
            key = self.reading_order(with_context(own, cfg))
            if key not in group_cache:
                group_cache[key] = self.label_groups(key)
            groups = group_cache[key]
            plan.passes.append(len(groups))
            self._add_windows(plan, ti, enc, groups)
        return plan

    def _add_windows(
        self, plan: Plan, ti: int, enc: EncodedText, groups: list[tuple[str, ...]]
    ) -> None:
        """Text ``ti``'s windows, and one encoder input per (window, label group)."""
        if len(enc) == 0:
            plan.windows.append(())
            return
        prefix = [self.prefix_tokens(g) for g in groups]
        counts = enc.token_counts()
        wins = plan_windows(
            enc.offsets,
            counts,
            self.config.window_words,
            self.max_length - max(prefix) - 1,
            self.config.window_overlap,
        )
        if len(wins) > 1:
            log.debug("text %d: %d words read in %d windows", ti, len(enc), len(wins))
        plan.windows.append(tuple(wins))
        for w in wins:
            n_tok = sum(counts[w.word_start : w.word_end])
            plan.work += [
                WorkItem(ti, w, g, p + n_tok + 1) for g, p in zip(groups, prefix, strict=True)
            ]
