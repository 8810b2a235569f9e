"""Choose a span model's decoding (threshold, flat/nested, multi-label) on CrossNER *dev*.

Superseded (issue 22): this reads CrossNER dev, which the zero-shot rule now forbids for any
choice (threshold, rule, label list, checkpoint). It stays to reproduce the v0.1.x/v0.2.0
records; choose with ``bench/select_decoding_dev.py`` on the dev suite instead.

    python bench/select_decoding.py --model runs/uniner-span-minilm/model

The model runs once per dev set, keeping every candidate above the lowest threshold; each
decoding is then applied to those candidates and scored with the official UniNER metric and the
strict offset metric, averaged over the five CrossNER dev sets (MIT has no dev split). Never run
this on a test split: the choice it prints is what a release records in its config.

``--lowercase`` scores the same dev sets with every text lowercased (offsets kept), a dev view of
caseless input such as the MIT queries, which have no dev split of their own.

A model with a ``prefer_specific`` rule (generic types such as "person" that also take the more
specific asked type the model sees in a span) is scored with and without it (``/specific`` and
``/plain`` in the table); candidates are then kept down to the rule's ``min_score``.
"""

from __future__ import annotations

import argparse
import dataclasses
import itertools
import json

# a sibling script (run as `python bench/...`, so bench/ is on sys.path)
from select_threshold import DEV_SETS
from uniner import load
from uniner.benchmark.loaders import load_split
from uniner.benchmark.runner import sample_queries, score_split
from uniner.data.types import Entity, Example
from uniner.students.span.decoding import Span, decode, prefer_specific


@dataclasses.dataclass(frozen=True)
class Rule:
    """A model's prefer_specific settings (restricted to a data set's asked labels when used)."""

    generic: frozenset[str]
    min_score: float
    broad: frozenset[str]


def redecode(
    cands: list[Entity], threshold: float, mode: str, multi: bool, rule: Rule | None = None
) -> list[Entity]:
    """Apply one decoding to candidates given in character offsets (overlap rules are the same)."""
    spans = [Span(e.start, e.end, e.label, e.score) for e in cands]
    if rule is not None and rule.generic:
        floor = min(rule.min_score, threshold)
        spans = prefer_specific(spans, rule.generic, threshold, floor, multi, rule.broad)
    spans = [s for s in spans if s.score >= threshold]
    text_of = {(e.start, e.end): e.text for e in cands}
    kept = decode(spans, mode, multi)  # type: ignore[arg-type]
    return [Entity(s.start, s.end, text_of[(s.start, s.end)], s.label, s.score) for s in kept]


def lower_keep_offsets(text: str) -> str:
    """Lowercase each character whose lowercase is one character (so offsets stay valid)."""
    return "".join(lo if len(lo := c.lower()) == 1 else c for c in text)


def lowercased(ex: Example) -> Example:
    """The example as caseless text, its gold mentions lowercased the same way."""
    ents = tuple(dataclasses.replace(e, text=lower_keep_offsets(e.text)) for e in ex.entities)
    return dataclasses.replace(ex, text=lower_keep_offsets(ex.text), entities=ents)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--model", required=True)
    ap.add_argument("--thresholds", default="0.3,0.4,0.5,0.6")
    ap.add_argument("--modes", default="flat,nested")
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--out", default=None, help="write the table as JSON here")
    ap.add_argument("--lowercase", action="store_true", help="score the dev texts lowercased")
    args = ap.parse_args()
    thresholds = [float(t) for t in args.thresholds.split(",")]
    model = load(args.model, threads=args.threads)
    generic = getattr(model, "generic_labels", ())
    floor = min(thresholds)
    if generic:  # collect without the rule, down to its floor; redecode applies it
        floor = min(floor, model.specific_min_score)
        rule_all = Rule(frozenset(generic), model.specific_min_score, frozenset(model.broad_labels))
        model.generic_labels = ()
    data = [load_split(n, "dev") for n in DEV_SETS]
    if args.lowercase:
        data = [dataclasses.replace(d, examples=tuple(map(lowercased, d.examples))) for d in data]
    cands = []
    for d in data:
        ents = model.extract_each(
            [ex.text for ex in d.examples],
            [d.labels] * len(d.examples),
            threshold=floor,
            mode="all",
            multi_label=True,
        )
        cands.append([list(r.entities) for r in ents])
        print(f"scored {d.dataset}", flush=True)
    table = {}
    variants = ("plain", "specific") if generic else ("plain",)
    grid = itertools.product(thresholds, args.modes.split(","), (False, True), variants)
    for thr, mode, multi, variant in grid:
        res = []
        for d, cs in zip(data, cands, strict=True):
            rule = None
            if variant == "specific":  # the rule's labels that this data set asks
                asked = frozenset(d.labels)
                rule = Rule(rule_all.generic & asked, rule_all.min_score, rule_all.broad & asked)
            preds = [redecode(c, thr, mode, multi, rule) for c in cs]
            pairs = sample_queries(len(d.examples), d.labels, None, 0)
            res.append(score_split(d.dataset, "dev", d.labels, d.examples, preds, pairs, 0.0))
        key = f"{thr}/{mode}/{'multi' if multi else 'single'}"
        if generic:
            key += f"/{variant}"
        table[key] = {
            "official": round(100 * sum(r.official.f1 for r in res) / len(res), 2),
            "strict": round(100 * sum(r.strict.f1 for r in res) / len(res), 2),
            "per_set": {r.dataset: round(100 * r.official.f1, 1) for r in res},
        }
        print(key, json.dumps(table[key]), flush=True)
    best = max(table, key=lambda k: table[k]["official"])
    print(json.dumps({"best": best, **table[best]}))
    if args.out:
        with open(args.out, "w", encoding="utf-8") as f:
            json.dump(table, f, indent=1)


if __name__ == "__main__":
    main()
