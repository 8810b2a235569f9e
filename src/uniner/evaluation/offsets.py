"""Offset-based NER metrics: strict, partial and span-only micro P/R/F1 with a per-type breakdown.

The official UniNER metric (:mod:`uniner.evaluation.official`) compares normalised *strings*
per query, so it cannot tell two occurrences of a name apart and forgives boundary slips that
normalisation hides. Models in this package return character offsets, and these metrics score
those directly:

``strict``
    A prediction is correct iff a gold entity of the same example has the same start, end and
    label. This is the usual CoNLL-style entity micro F1.
``partial``
    Strict matches score 1. Each remaining prediction may then be paired with a remaining gold
    entity of the same label that it overlaps *by at least one word*, for 0.5 (the paper's
    Table 5 rule, transferred to offsets). Each gold and each prediction is used at most once,
    exact matches are taken first, and the largest pairing is chosen (maximum bipartite
    matching) so the score does not depend on list order.
``span_only``
    Strict on (start, end) with the label ignored: a diagnostic separating boundary errors
    from typing errors (span_only high but strict low means the spans are right and the labels
    wrong).

Word overlap. With ``texts``, two spans overlap by a word iff their character ranges intersect
and the intersection contains at least one word character (a letter, digit, underscore or
combining mark): "New York" and "York City" overlap through "York", but "U.S." and ". Army"
(sharing only the ".") do not, and neither do adjacent spans. Without ``texts`` any non-empty
intersection of the character ranges counts, which differs only for punctuation/space-only
intersections.

Entities are de-duplicated per example before counting (two predictions with the same start,
end and label count once; for ``span_only`` two labels on one span count as one span).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

from uniner.data.align import is_word_char
from uniner.data.types import Entity
from uniner.evaluation.counts import PRF, Aggregate, Counts, aggregate, maximum_matching
from uniner.evaluation.official import PARTIAL_CREDIT

MetricName = Literal["strict", "partial", "span_only"]
METRICS: tuple[MetricName, ...] = ("strict", "partial", "span_only")


@dataclass(frozen=True, slots=True)
class TypeScores:
    """Strict and partial counts of one entity type (span-only has no type by definition)."""

    strict: Counts = field(default_factory=Counts)
    partial: Counts = field(default_factory=Counts)

    def __add__(self, other: TypeScores) -> TypeScores:
        return TypeScores(self.strict + other.strict, self.partial + other.partial)

    def to_dict(self) -> dict[str, Any]:
        return {"strict": self.strict.to_dict(), "partial": self.partial.to_dict()}


@dataclass(frozen=True, slots=True)
class OffsetReport:
    """Micro counts of one evaluation; reports add (``a + b``) to pool examples.

    Per-type counts sum exactly to ``strict`` and ``partial``, because a match in either mode
    requires equal labels.
    """

    strict: Counts = field(default_factory=Counts)
    partial: Counts = field(default_factory=Counts)
    span_only: Counts = field(default_factory=Counts)
    per_type: dict[str, TypeScores] = field(default_factory=dict)
    n_examples: int = 0

    def __add__(self, other: OffsetReport) -> OffsetReport:
        per = dict(self.per_type)
        for label, scores in other.per_type.items():
            per[label] = per.get(label, TypeScores()) + scores
        return OffsetReport(
            self.strict + other.strict,
            self.partial + other.partial,
            self.span_only + other.span_only,
            dict(sorted(per.items())),
            self.n_examples + other.n_examples,
        )

    def metric(self, name: MetricName) -> Counts:
        """The counts of ``"strict"``, ``"partial"`` or ``"span_only"``."""
        if name not in METRICS:
            raise ValueError(f"unknown metric {name!r}; expected one of {METRICS}")
        counts: Counts = getattr(self, name)
        return counts

    def type_macro(self, name: Literal["strict", "partial"] = "strict") -> PRF:
        """Mean over entity types of each type's P/R/F1 (rare types weigh as much as common)."""
        if name not in ("strict", "partial"):
            raise ValueError(f"per-type scores exist for 'strict' and 'partial', not {name!r}")
        per = {label: getattr(scores, name) for label, scores in self.per_type.items()}
        return aggregate(per).macro

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready: counts and P/R/F1 per metric and per type."""
        return {
            "n_examples": self.n_examples,
            "strict": self.strict.to_dict(),
            "partial": self.partial.to_dict(),
            "span_only": self.span_only.to_dict(),
            "per_type": {label: s.to_dict() for label, s in self.per_type.items()},
        }


def _has_word_char(s: str) -> bool:
    return any(is_word_char(ch) for ch in s)


def word_overlap(a: Entity, b: Entity, text: str | None = None) -> bool:
    """Whether two spans share a word character (any shared character without ``text``)."""
    lo, hi = max(a.start, b.start), min(a.end, b.end)
    if lo >= hi:
        return False
    return text is None or _has_word_char(text[lo:hi])


def _check_entities(ents: Iterable[Entity], text: str | None, where: str) -> list[Entity]:
    out: list[Entity] = []
    for ent in ents:
        if not isinstance(ent, Entity):
            raise TypeError(f"{where}: expected Entity, got {type(ent).__name__}")
        if text is not None:
            if ent.end > len(text):
                raise ValueError(
                    f"{where}: entity {ent.text!r} [{ent.start}:{ent.end}] lies outside the text "
                    f"(length {len(text)})"
                )
            if text[ent.start : ent.end] != ent.text:
                raise ValueError(
                    f"{where}: entity [{ent.start}:{ent.end}] says {ent.text!r} but the text "
                    f"there is {text[ent.start : ent.end]!r}"
                )
        out.append(ent)
    # De-duplicate on (start, end, label), keeping the first occurrence.
    first: dict[tuple[int, int, str], Entity] = {}
    for ent in out:
        first.setdefault(ent.key(), ent)
    return list(first.values())


def _partial_pairs(preds: list[Entity], golds: list[Entity], text: str | None) -> int:
    """How many (prediction, gold) pairs overlapping by a word can be formed, one-to-one."""
    return maximum_matching(
        len(preds), len(golds), lambda i, j: word_overlap(preds[i], golds[j], text)
    )


def _score_one(
    golds: list[Entity], preds: list[Entity], text: str | None, acc: _Accumulator
) -> None:
    gold_keys = {e.key() for e in golds}
    pred_keys = {e.key() for e in preds}
    by_label: dict[str, tuple[list[Entity], list[Entity]]] = {}
    for e in golds:
        by_label.setdefault(e.label, ([], []))[0].append(e)
    for e in preds:
        by_label.setdefault(e.label, ([], []))[1].append(e)
    for label, (g, p) in by_label.items():
        exact = sum(1 for e in p if e.key() in gold_keys)
        rest_p = [e for e in p if e.key() not in gold_keys]
        rest_g = [e for e in g if e.key() not in pred_keys]
        paired = _partial_pairs(rest_p, rest_g, text) if rest_p and rest_g else 0
        row = acc.per_type.setdefault(label, [0, 0, 0, 0])
        row[0] += exact
        row[1] += paired
        row[2] += len(p)
        row[3] += len(g)
    gold_spans = {e.span for e in golds}
    pred_spans = {e.span for e in preds}
    acc.spans[0] += len(gold_spans & pred_spans)
    acc.spans[1] += len(pred_spans)
    acc.spans[2] += len(gold_spans)


@dataclass
class _Accumulator:
    """Plain integer tallies while scanning (building frozen reports per example is slow)."""

    per_type: dict[str, list[int]] = field(default_factory=dict)  # exact, paired, pred, gold
    spans: list[int] = field(default_factory=lambda: [0, 0, 0])  # correct, pred, gold

    def report(self, n_examples: int) -> OffsetReport:
        per_type = {
            label: TypeScores(
                strict=Counts(exact, n_pred, n_gold),
                partial=Counts(exact + PARTIAL_CREDIT * paired, n_pred, n_gold),
            )
            for label, (exact, paired, n_pred, n_gold) in sorted(self.per_type.items())
        }
        return OffsetReport(
            strict=Counts.total([t.strict for t in per_type.values()]),
            partial=Counts.total([t.partial for t in per_type.values()]),
            span_only=Counts(float(self.spans[0]), self.spans[1], self.spans[2]),
            per_type=per_type,
            n_examples=n_examples,
        )


def score_offsets(
    golds: Sequence[Sequence[Entity]],
    preds: Sequence[Sequence[Entity]],
    texts: Sequence[str] | None = None,
) -> OffsetReport:
    """Score predicted entities against gold entities, example by example.

    ``golds[i]`` and ``preds[i]`` are the entities of the i-th example; ``texts[i]``, when
    given, is its text, used to decide word overlap for partial matching and to check that
    every entity's offsets really point at its text. Mismatched lengths raise ``ValueError``
    (a silent ``zip`` would score a truncated or shifted evaluation). Empty input gives all
    zeros, never a division error.
    """
    if len(golds) != len(preds):
        raise ValueError(
            f"golds has {len(golds)} examples but preds has {len(preds)}: they must be aligned "
            "one to one"
        )
    if texts is not None:
        if isinstance(texts, str):
            raise TypeError("texts must be a sequence of strings (one per example), not a string")
        if len(texts) != len(golds):
            raise ValueError(f"texts has {len(texts)} entries but there are {len(golds)} examples")
    acc = _Accumulator()
    for i, (g, p) in enumerate(zip(golds, preds, strict=True)):
        text = texts[i] if texts is not None else None
        _score_one(
            _check_entities(g, text, f"example {i} gold"),
            _check_entities(p, text, f"example {i} prediction"),
            text,
            acc,
        )
    return acc.report(len(golds))


def aggregate_reports(reports: Mapping[str, OffsetReport]) -> dict[MetricName, Aggregate]:
    """Per-data-set results pooled two ways, for each metric: micro (all counts summed) and
    macro (mean of per-data-set P/R/F1, the paper's cross-data-set "Avg").

    ``aggregate_reports(r)["strict"].macro.f1`` is the number comparable to the paper's averages.
    """
    return {
        name: aggregate({ds: rep.metric(name) for ds, rep in reports.items()}) for name in METRICS
    }


def aggregate_to_dict(reports: Mapping[str, OffsetReport]) -> dict[str, Any]:
    """:func:`aggregate_reports` in JSON-ready form, with each data set's full report."""
    agg = aggregate_reports(reports)
    return {
        "datasets": {ds: rep.to_dict() for ds, rep in reports.items()},
        **{
            name: {"micro": a.micro.to_dict(), "macro": a.macro.to_dict()}
            for name, a in agg.items()
        },
    }
