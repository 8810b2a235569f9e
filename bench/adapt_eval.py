"""Score a domain-adapted span model against the model it started from, on held-out dev data.

    python bench/adapt_eval.py --config configs/adapt-mpnet-jnlpba.toml \\
        --models uniner-span-mpnet,runs/adapt-mpnet-jnlpba/best --thresholds 0.5,0.6,0.7 \\
        --crossner --out runs/adapt-eval.json

The held-out part is the run config's ``[data] dev`` (all of it: ``dev_limit`` only shortens the
evaluations during training). Each model is scored there at its own released decoding and at
each ``--thresholds`` value, official UniNER F1 and strict offset F1, every text asked all the
held-out labels (the benchmark's protocol). ``--crossner`` adds the five CrossNER dev splits
asked all their types, at each model's own decoding: what the adaptation costs on other domains.
Dev data only: the threshold chosen here is what a release of the adapted model records, and
its test split is scored afterwards, once (``uniner bench``).
"""

from __future__ import annotations

import argparse
import json
import time

from select_threshold import DEV_SETS  # a sibling script (bench/ is on sys.path)
from uniner import load
from uniner.benchmark.loaders import load_split
from uniner.benchmark.runner import score_split
from uniner.data.sources import load_sources
from uniner.data.types import Example
from uniner.students.span.config import load_run_config


def scores(model, name: str, labels: list[str], examples: list[Example], threshold) -> dict:
    """Official and strict F1 (percent) of ``model`` on ``examples`` asked ``labels``."""
    t = time.monotonic()
    res = model.extract_each([ex.text for ex in examples], [labels] * len(examples), threshold)
    preds = [list(r.entities) for r in res]
    out = score_split(name, "dev", labels, examples, preds)
    return {
        "official": round(100 * out.official.f1, 2),
        "strict": round(100 * out.strict.f1, 2),
        "seconds": round(time.monotonic() - t, 1),
    }


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--config", required=True, help="the adaptation run's config")
    ap.add_argument("--models", required=True, help="comma-separated names or folders")
    ap.add_argument("--thresholds", default="", help="comma-separated, besides the model's own")
    ap.add_argument("--crossner", action="store_true", help="also the five CrossNER dev splits")
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--out", default=None)
    args = ap.parse_args()
    run = load_run_config(args.config)
    held = load_sources(run.data.dev, seed=run.train.seed, use="scoring")
    labels = list(dict.fromkeys(lab for ex in held for lab in ex.label_set()))
    thresholds = [float(t) for t in args.thresholds.split(",") if t]
    crossner = [load_split(n, "dev") for n in DEV_SETS] if args.crossner else []
    table: dict[str, dict] = {}
    for ref in args.models.split(","):
        model = load(ref, threads=args.threads)
        row: dict[str, dict] = {"own": scores(model, "held-out", labels, held, None)}
        for thr in thresholds:
            row[str(thr)] = scores(model, "held-out", labels, held, thr)
        for d in crossner:
            row[d.dataset] = scores(model, d.dataset, list(d.labels), list(d.examples), None)
        if crossner:
            row["crossner-avg"] = {
                k: round(sum(row[d.dataset][k] for d in crossner) / len(crossner), 2)
                for k in ("official", "strict")
            }
        table[ref] = row
        print(ref, json.dumps(row), flush=True)
    result = {"held_out": len(held), "labels": labels, "models": table}
    if args.out:
        with open(args.out, "w", encoding="utf-8") as f:
            json.dump(result, f, indent=1)


if __name__ == "__main__":
    main()
