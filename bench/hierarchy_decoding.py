"""Answer an asked subtype instead of its parent: a mined type hierarchy applied at decoding.

    python bench/hierarchy_decoding.py --model uniner-span-mpnet --out runs/hierarchy-decoding

Why: on the dev suite a span model's all-type calls trail its 1-type calls, and in MultiCoNER II
most of it is a gold mention answered with a close type, "person" for an artist, politician or
scientist 17 times of 63 (``bench/sibling_errors.py``). The data already say which types are
kinds of which (``bench/figures/hierarchy.json``, mined from the training mix, never CrossNER
or MIT). The rule probed: on a span whose best asked type has an asked descendant in that
hierarchy scoring at least ``max(min_score, ratio x best)``, answer the best such descendant at
the parent's score (so the span keeps its place in flat decoding). It would put label names
(the hierarchy's) into decoding, so it ships only if it clearly pays; it did not (BENCHMARKS.md,
"The development suite, version 2").

The model runs once over the dev suite keeping every (span, type) above ``--floor``
(``select_decoding_dev.SweepExtractor``); each rule then re-decodes those candidates at the
model's released threshold (calibrated by the number of types asked), flat. Writes
``rules.json`` and ``rules.md``.
"""

from __future__ import annotations

import argparse
import json
from collections.abc import Sequence
from pathlib import Path

from select_decoding_dev import SweepExtractor
from uniner import load
from uniner.benchmark.devsuite import DevSuiteResult, run_dev_suite
from uniner.data.hierarchy import TypeHierarchy
from uniner.data.types import Entity
from uniner.students.span.decoding import Span, decode

REPO = Path(__file__).resolve().parents[1]
#: (min_score, ratio) pairs probed; None is the released decoding
RULES: tuple[tuple[float, float] | None, ...] = (
    None, (0.02, 0.0), (0.1, 0.0), (0.2, 0.0), (0.3, 0.0), (0.4, 0.0), (0.02, 0.25), (0.02, 0.5),
)  # fmt: skip


def prefer_descendants(
    spans: Sequence[Span], hierarchy: TypeHierarchy, min_score: float, ratio: float = 0.0
) -> list[Span]:
    """Per word span, its best type replaced by its best asked descendant scoring at least
    ``max(min_score, ratio x best)``, lifted to the best type's score; other spans unchanged."""
    groups: dict[tuple[int, int], list[Span]] = {}
    for sp in spans:
        groups.setdefault((sp.start, sp.end), []).append(sp)
    out: list[Span] = []
    for group in groups.values():
        best = max(group, key=lambda s: (s.score, s.label))
        floor = max(min_score, ratio * best.score)
        below = [
            s for s in group if s.score >= floor and best.label in hierarchy.ancestors(s.label)
        ]
        if not below:
            out += group
            continue
        pick = max(below, key=lambda s: (s.score, s.label))
        out += [pick._replace(score=best.score) if s is pick else s for s in group if s is not best]
    return out


class RuleProbe(SweepExtractor):
    """The sweep's one model run per distinct call, every (span, type) above the floor kept
    (decoding ``all``, multi-label, calibration off); each call is then re-decoded under
    ``rule`` at the released decoding's threshold for its number of types (character offsets
    stand in for words: flat decoding needs only their order, as in ``span_pooling_dev.py``)."""

    def __init__(self, model, hierarchy: TypeHierarchy, floor: float) -> None:  # type: ignore[no-untyped-def]
        released = model.call_decoding()
        candidates = released.replace(mode="all", multi_label=True, min_labels=0)
        super().__init__(model, candidates, floor)
        self.policy = released.raw_threshold
        self.hierarchy = hierarchy
        self.rule: tuple[float, float] | None = None

    def select(self, key: tuple[str, tuple[str, ...]]) -> list[Entity]:
        text, labels = key
        spans = [Span(e.start, e.end, e.label, e.score or 0.0) for e in self.cache[key]]
        if self.rule is not None:
            spans = prefer_descendants(spans, self.hierarchy, *self.rule)
        limit = self.policy(len(labels))
        kept = decode([s for s in spans if s.score >= limit])
        return [Entity(s.start, s.end, text[s.start : s.end], s.label, s.score) for s in kept]


def row(rule: tuple[float, float] | None, res: DevSuiteResult) -> dict[str, object]:
    pct = {k: round(100 * v, 1) for k, v in res.by("shape").items()}
    by_set = {k: round(100 * v, 1) for k, v in res.by("dataset").items()}
    summary = round(100 * res.summary, 2)
    return {"rule": rule, "summary": summary, "by_shape": pct, "by_dataset": by_set}


def table(rows: Sequence[dict]) -> str:
    """Markdown: one line per rule, the summary, the shapes and MultiCoNER II."""
    lines = [
        "| descendant kept at | summary | 1 type | 3 types | all | MultiCoNER II |",
        "|---|---|---|---|---|---|",
    ]
    for r in rows:
        rule = r["rule"]
        name = "released decoding" if rule is None else f"max({rule[0]}, {rule[1]} x best)"
        s, multiconer = r["by_shape"], r["by_dataset"].get("MultiCoNER2", "-")
        cells = [name, r["summary"], s["1"], s["3"], s["all"], multiconer]
        lines.append("| " + " | ".join(str(c) for c in cells) + " |")
    return "\n".join(lines)


def main(argv: Sequence[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--model", default="uniner-span-mpnet")
    ap.add_argument("--hierarchy", type=Path, default=REPO / "bench/figures/hierarchy.json")
    ap.add_argument("--floor", type=float, default=0.02)
    ap.add_argument("--out", type=Path, default=Path("runs/hierarchy-decoding"))
    args = ap.parse_args(argv)
    probe = RuleProbe(load(args.model), TypeHierarchy.load(args.hierarchy), args.floor)
    rows = []
    for i, rule in enumerate(RULES):
        probe.rule = rule
        rows.append(row(rule, run_dev_suite(probe, progress=i == 0)))
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / "rules.json").write_text(json.dumps(rows, indent=1), encoding="utf-8")
    (args.out / "rules.md").write_text(table(rows) + "\n", encoding="utf-8")
    print(table(rows))


if __name__ == "__main__":
    main()
