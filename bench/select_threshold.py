"""Choose a span model's decision threshold on the CrossNER *dev* splits (never on test).

Superseded (issue 22): this reads CrossNER dev, which the zero-shot rule now forbids for any
choice (threshold, rule, label list, checkpoint). It stays to reproduce the v0.1.x/v0.2.0
records; choose with ``bench/select_decoding_dev.py`` on the dev suite instead.

    python bench/select_threshold.py --model runs/uniner-span-minilm/model

Scores each threshold with the official UniNER metric and the strict offset metric, averaged
over the five CrossNER dev sets (MIT has no dev split of its own), and prints the best.
"""

from __future__ import annotations

import argparse
import json

from uniner import load
from uniner.benchmark.loaders import load_split
from uniner.benchmark.runner import evaluate_split

DEV_SETS = (
    "CrossNER_AI",
    "CrossNER_literature",
    "CrossNER_music",
    "CrossNER_politics",
    "CrossNER_science",
)


class AtThreshold:
    def __init__(self, model, threshold: float):
        self.model, self.threshold, self.name = model, threshold, f"{model.name}@{threshold}"

    def extract_batch(self, texts, labels):
        return self.model.extract_batch(texts, labels, threshold=self.threshold)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--model", required=True)
    ap.add_argument("--thresholds", default="0.3,0.4,0.5,0.6")
    ap.add_argument("--threads", type=int, default=2)
    args = ap.parse_args()
    model = load(args.model, threads=args.threads)
    data = [load_split(n, "dev") for n in DEV_SETS]
    table = {}
    for thr in (float(t) for t in args.thresholds.split(",")):
        ext = AtThreshold(model, thr)
        res = [
            evaluate_split(ext, d.dataset, "dev", d.labels, d.examples, progress=False)
            for d in data
        ]
        table[thr] = {
            "official": sum(r.official.f1 for r in res) / len(res),
            "strict": sum(r.strict.f1 for r in res) / len(res),
            "per_set": {r.dataset: round(100 * r.official.f1, 1) for r in res},
        }
        print(thr, json.dumps(table[thr]), flush=True)
    best = max(table, key=lambda t: table[t]["official"])
    print(json.dumps({"best_threshold": best, **table[best]}))


if __name__ == "__main__":
    main()
