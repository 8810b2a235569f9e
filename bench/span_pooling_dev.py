"""Does a span's score over all asked types decide better than its best type's? (issue 22)

    python bench/span_pooling_dev.py --model uniner-span-mpnet --out runs/span-pooling

Why: on the dev suite the default scores 4.8 points lower when a call asks all of a set's types
than when it asks one. If sibling types split a mention's score (asked "writer", "poet" and
"journalist", none reaching the threshold), pooling the span's scores across types before the
threshold would bring the missed mentions back; if the competing types mark uncertain spans
instead, a margin between the best and second-best type would drop wrong ones. Label-free
either way, so a candidate for released decoding, chosen on the dev suite only.

The model runs once over the dev suite keeping every (span, type) above ``--floor`` (decoding
``all``, multi-label, calibration off); each rule then gives every span one score and its best
type, and spans are kept greedily (flat) at each policy's threshold (calibrated by the number
of types asked, as ``select_decoding_dev.py``). Rules: ``max`` (the released decoding), ``sum``,
``noisy-or`` (1 - prod(1 - p)), ``margin-A`` (best - A x second) and ``ratio-A``
(best x (1 - second)^A). One-type calls are the same under every rule. Writes
``pooling.json`` and ``pooling.md``.
"""

from __future__ import annotations

import argparse
import functools
import json
import math
from collections.abc import Callable, Sequence
from pathlib import Path

from select_decoding_dev import REFERENCE_TYPES, Policy, SweepExtractor
from uniner import load
from uniner.benchmark.devsuite import run_dev_suite
from uniner.data.types import Entity
from uniner.students.span.decoding import Span, decode

Rule = Callable[[list[float]], float]  # a span's scores, best first -> its one score


def _second(s: list[float]) -> float:
    return s[1] if len(s) > 1 else 0.0


def _margin(s: list[float], a: float) -> float:
    return s[0] - a * _second(s)


def _ratio(s: list[float], a: float) -> float:
    return s[0] * (1 - _second(s)) ** a


RULES: dict[str, Rule] = {
    "max": lambda s: s[0],
    "sum": lambda s: min(0.999, sum(s)),
    "noisy-or": lambda s: 1.0 - math.prod(1.0 - p for p in s),
    **{f"margin-{a:g}": functools.partial(_margin, a=a) for a in (0.25, 0.5)},
    **{f"ratio-{a:g}": functools.partial(_ratio, a=a) for a in (0.25, 0.5)},
}
POLICIES = tuple(Policy(t, slope=s) for t in (0.5, 0.6, 0.65, 0.7) for s in (0.25, 0.5))


def pooled(entities: Sequence[Entity], rule: Rule) -> list[Span]:
    """One candidate per span: its best type, scored by ``rule`` over all its types' scores."""
    by_span: dict[tuple[int, int], list[Entity]] = {}
    for e in entities:
        by_span.setdefault((e.start, e.end), []).append(e)
    out = []
    for (start, end), group in by_span.items():
        group.sort(key=lambda e: (-(e.score or 0.0), e.label))
        out.append(Span(start, end, group[0].label, rule([e.score or 0.0 for e in group])))
    return out


class PoolingExtractor(SweepExtractor):
    """The sweep's one model run per distinct call, every (span, type) above the floor kept
    (decoding ``all``, multi-label); each call is then decoded by the current rule and policy
    (character offsets stand in for words: flat decoding needs only their order)."""

    def __init__(self, model, floor: float) -> None:  # type: ignore[no-untyped-def]
        candidates = model.decoding.replace(mode="all", multi_label=True, min_labels=0)
        super().__init__(model, candidates, floor)
        self.rule: Rule = RULES["max"]

    def select(self, key: tuple[str, tuple[str, ...]]) -> list[Entity]:
        text, labels = key
        limit = self.policy(len(labels))
        spans = [s for s in pooled(self.cache[key], self.rule) if s.score >= limit]
        kept = decode(spans)
        return [Entity(s.start, s.end, text[s.start : s.end], s.label, s.score) for s in kept]


def main(argv: Sequence[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--model", default="uniner-span-mpnet")
    ap.add_argument("--out", type=Path, default=Path("runs/span-pooling"))
    ap.add_argument("--floor", type=float, default=0.1)
    args = ap.parse_args(argv)
    ext = PoolingExtractor(load(args.model), args.floor)
    rows = []
    for i, (name, rule) in enumerate(RULES.items()):
        for pol in POLICIES:
            ext.rule, ext.policy = rule, pol.threshold_for
            res = run_dev_suite(ext, progress=i == 0 and pol is POLICIES[0])  # type: ignore[arg-type]
            shape = {k: round(100 * v, 1) for k, v in res.by("shape").items()}
            rows.append(
                {
                    "rule": name,
                    "policy": pol.label(),
                    "summary": round(100 * res.summary, 2),
                    **shape,
                }
            )
            print(rows[-1], flush=True)
    best = {r: max((x for x in rows if x["rule"] == r), key=lambda x: x["summary"]) for r in RULES}
    lines = [
        f"### Span pooling rules for {args.model} on the dev suite (floor {args.floor}, "
        f"calibration reference {REFERENCE_TYPES} types; best policy per rule)\n",
        "| rule | best policy | summary | 1 type | 3 types | all types |",
        "|---|---|---|---|---|---|",
    ]
    for r, b in best.items():
        lines.append(f"| {r} | {b['policy']} | {b['summary']} | {b['1']} | {b['3']} | {b['all']} |")
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / "pooling.json").write_text(json.dumps(rows, indent=1), encoding="utf-8")
    (args.out / "pooling.md").write_text("\n".join(lines) + "\n", encoding="utf-8")
    print("\n".join(lines))


if __name__ == "__main__":
    main()
