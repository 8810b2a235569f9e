"""Official F1 when each type is asked alone (or a few at a time), on *dev* splits.

Superseded (issue 22): this reads CrossNER dev, which the zero-shot rule now forbids for any
choice (threshold, rule, label list, checkpoint). It stays to reproduce the v0.1.x/v0.2.0
records; choose with ``bench/select_decoding_dev.py`` on the dev suite instead.

    python bench/single_type_queries.py --model uniner-span-mpnet --min-labels 0,8
    python bench/single_type_queries.py --min-labels 0,8 --thresholds 0.3,0.5,0.6,0.7 \\
        --seen-sets AnatEM,ncbi,bc5cdr

Why: the span student reads all asked types in one input and was trained on 8 to 12 per input.
Asked a single type, it may tag the nearest proper noun with it; ``min_labels`` pads such inputs
with context labels whose answers are dropped (``SpanExtractor.with_context``). This measures that
setting where it matters (one type per call) on seeded CrossNER dev sentences, never on a test
split. ``--types-per-call K`` asks each sentence its set's types in seeded groups of K instead
(calls with a few types, e.g. the README's three). ``--context-labels`` overrides the model's own
list (``config.json``) to compare candidates.

``--thresholds`` scores several thresholds from one pass: each call is decoded once at the lowest
and filtered by score, which for flat greedy decoding keeps exactly what decoding at the higher
threshold would keep (a span's fate depends only on higher-scoring spans). ``--seen-sets`` adds
data sets whose types were trained on, asked as ``uniner bench --split dev --max-queries 300
--seed 0`` asks them (one type per query), to show the padding's cost where the model knows the
type.
"""

from __future__ import annotations

import argparse
import json
import random
import time
from collections.abc import Sequence

from select_threshold import DEV_SETS  # a sibling script (bench/ is on sys.path)
from uniner import load
from uniner.benchmark.loaders import load_split
from uniner.benchmark.runner import evaluate_split
from uniner.data.types import Entity
from uniner.evaluation.official import answer_string, official_prf


class Recorder:
    """An extractor that decodes at a low threshold, keeps every answer and replays it filtered."""

    name = "recorder"

    def __init__(self, model, low: float):
        self.model, self.low, self.cut = model, low, low
        self.seen: dict[tuple[str, tuple[str, ...]], list[Entity]] = {}

    def extract_batch(self, texts: Sequence[str], labels: Sequence[str]) -> list[list[Entity]]:
        missing = [t for t in texts if (t, tuple(labels)) not in self.seen]
        if missing:
            for t, ents in zip(
                missing, self.model.extract_batch(missing, labels, self.low), strict=True
            ):
                self.seen[(t, tuple(labels))] = list(ents)
        return [[e for e in self.seen[(t, tuple(labels))] if e.score >= self.cut] for t in texts]


def crossner_f1(
    model, sets: dict, thresholds: list[float], per_call: int = 1, seed: int = 0
) -> dict[float, dict]:
    """Each CrossNER dev sentence asked its set's types ``per_call`` at a time (seeded groups),
    decoded once at the lowest threshold; scored per (sentence, type) query."""
    scored: dict[float, dict] = {t: {} for t in thresholds}
    rng = random.Random(seed)
    for name, (examples, labels) in sets.items():
        texts, asked, owner = [], [], []
        for ex in examples:
            order = rng.sample(labels, len(labels))
            for i in range(0, len(order), per_call):
                texts.append(ex.text)
                asked.append(order[i : i + per_call])
                owner.append(ex)
        res = model.extract_each(texts, asked, min(thresholds))
        golds = [
            answer_string([e.text for e in ex.entities if e.label == lab])
            for ex, group in zip(owner, asked, strict=True)
            for lab in group
        ]
        for t in thresholds:
            preds = [
                answer_string([e.text for e in r.entities if e.label == lab and e.score >= t])
                for r, group in zip(res, asked, strict=True)
                for lab in group
            ]
            scored[t][name] = round(100 * official_prf(preds, golds).f1, 1)
    return {
        t: {"official": round(sum(per.values()) / len(per), 2), "per_set": per}
        for t, per in scored.items()
    }


def seen_f1(model, names: list[str], thresholds: list[float]) -> dict[float, dict]:
    """``uniner bench --split dev --max-queries 300 --seed 0`` on each set, at each threshold."""
    out: dict[float, dict] = {t: {} for t in thresholds}
    for name in names:
        data = load_split(name, "dev")
        rec = Recorder(model, min(thresholds))
        for t in sorted(thresholds):  # the first (lowest) runs the model, the rest replay
            rec.cut = t
            r = evaluate_split(
                rec,
                name,
                "dev",
                data.labels,
                data.examples,
                max_queries=300,
                seed=0,
                progress=False,
            )
            out[t][name] = round(100 * r.official.f1, 1)
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--model", default=None, help="model name or folder (default: the default)")
    ap.add_argument("--min-labels", default="0,8", help="settings to compare, comma-separated")
    ap.add_argument("--context-labels", default=None, help="comma-separated; default: the model's")
    ap.add_argument(
        "--thresholds", default=None, help="comma-separated; default: the model's for K types"
    )
    ap.add_argument("--seen-sets", default="", help="comma-separated data sets with trained types")
    ap.add_argument("--max-context", type=int, default=None, help="most context labels per call")
    ap.add_argument("--types-per-call", type=int, default=1, help="CrossNER types asked per call")
    ap.add_argument("--per-set", type=int, default=40, help="seeded dev sentences per set")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--out", default=None, help="write the results as JSON here")
    a = ap.parse_args()
    model = load(a.model, threads=a.threads)
    if a.max_context is not None:
        model.max_context = a.max_context
    if a.context_labels is not None:
        model.context_labels = tuple(c.strip() for c in a.context_labels.split(",") if c.strip())
    # default: the model's released threshold for calls of this size (threshold_for)
    released = model.threshold_for(a.types_per_call)
    thresholds = sorted(float(x) for x in (a.thresholds.split(",") if a.thresholds else [released]))
    seen_sets = [s.strip() for s in a.seen_sets.split(",") if s.strip()]
    sets = {}
    for name in DEV_SETS:
        d = load_split(name, "dev")
        exs = list(d.examples)
        keep = sorted(random.Random(a.seed).sample(range(len(exs)), min(a.per_set, len(exs))))
        sets[name] = ([exs[i] for i in keep], list(d.labels))
    out = {
        "model": model.name,
        "context_labels": list(model.context_labels),
        "types_per_call": a.types_per_call,
        "max_context": model.max_context,
        "runs": {},
    }
    for k in (int(x) for x in a.min_labels.split(",")):
        model.min_labels = k
        t0 = time.perf_counter()
        cross = crossner_f1(model, sets, thresholds, a.types_per_call, a.seed)
        seen = seen_f1(model, seen_sets, thresholds) if seen_sets else {}
        secs = round(time.perf_counter() - t0)
        for t in thresholds:
            run = {**cross[t], "seconds": secs}
            if seen:
                run["seen"] = seen[t]
                run["seen_official"] = round(sum(seen[t].values()) / len(seen[t]), 2)
            key = str(k) if len(thresholds) == 1 else f"{k}@{t}"
            out["runs"][key] = run
            print(key, json.dumps(run), flush=True)
    if a.out:
        with open(a.out, "w", encoding="utf-8") as f:
            json.dump(out, f, indent=1)


if __name__ == "__main__":
    main()
