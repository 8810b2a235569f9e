"""Official F1 when each type is asked alone, UniNER's one question per type, on CrossNER *dev*.

    python bench/single_type_queries.py --model uniner-span-mpnet --min-labels 0,8

Why: the span student reads all asked types in one input and was trained on 8 to 12 per input.
Asked a single type, it may tag the nearest proper noun with it; ``min_labels`` pads such inputs
with context labels whose answers are dropped (``SpanExtractor.with_context``). This measures that
setting where it matters (one type per call) on seeded dev sentences, never on a test split.
``--context-labels`` overrides the model's own list (``config.json``) to compare candidates.
"""

from __future__ import annotations

import argparse
import json
import random
import time

from select_threshold import DEV_SETS  # a sibling script (bench/ is on sys.path)
from uniner import load
from uniner.benchmark.loaders import load_split
from uniner.evaluation.official import answer_string, official_prf


def score(model, sets: dict, min_labels: int) -> dict:
    model.min_labels = min_labels
    per_set = {}
    for name, (examples, labels) in sets.items():
        texts = [ex.text for ex in examples for _ in labels]
        asked = [[lab] for _ in examples for lab in labels]
        res = model.extract_each(texts, asked)
        preds = [answer_string([e.text for e in r.entities]) for r in res]
        golds = [
            answer_string([e.text for e in ex.entities if e.label == lab])
            for ex in examples
            for lab in labels
        ]
        per_set[name] = round(100 * official_prf(preds, golds).f1, 1)
    return {"official": round(sum(per_set.values()) / len(per_set), 2), "per_set": per_set}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--model", default=None, help="model name or folder (default: the default)")
    ap.add_argument("--min-labels", default="0,8", help="settings to compare, comma-separated")
    ap.add_argument("--context-labels", default=None, help="comma-separated; default: the model's")
    ap.add_argument("--per-set", type=int, default=40, help="seeded dev sentences per set")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--out", default=None, help="write the results as JSON here")
    a = ap.parse_args()
    model = load(a.model, threads=a.threads)
    if a.context_labels is not None:
        model.context_labels = tuple(c.strip() for c in a.context_labels.split(",") if c.strip())
    sets = {}
    for name in DEV_SETS:
        d = load_split(name, "dev")
        exs = list(d.examples)
        keep = sorted(random.Random(a.seed).sample(range(len(exs)), min(a.per_set, len(exs))))
        sets[name] = ([exs[i] for i in keep], list(d.labels))
    out = {"model": model.name, "context_labels": list(model.context_labels), "runs": {}}
    for k in (int(x) for x in a.min_labels.split(",")):
        t0 = time.perf_counter()
        out["runs"][str(k)] = {**score(model, sets, k), "seconds": round(time.perf_counter() - t0)}
        print(k, json.dumps(out["runs"][str(k)]), flush=True)
    if a.out:
        with open(a.out, "w", encoding="utf-8") as f:
            json.dump(out, f, indent=1)


if __name__ == "__main__":
    main()
