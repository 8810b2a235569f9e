"""Plot held-out F1 against training steps for adaptation runs, beside the model they started from.

    python bench/adapt_curve.py --config configs/adapt-mpnet-jnlpba.toml \\
        --run "1,239 sentences=runs/adapt-mpnet-jnlpba" --run "300=runs/adapt-300" \\
        --out bench/figures/adapt-jnlpba.png

Each run's ``trainer_state.json`` holds the strict F1 of its evaluations during training (the
first ``dev_limit`` texts of the config's ``[data] dev``, at ``eval_threshold``, every text asked
all held-out labels). The starting model (``[train] init_from``) is scored here the same way, with
the same plain extractor the trainer uses, so the dashed line is directly comparable.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt

from uniner.data.sources import load_sources
from uniner.models import resolve_model
from uniner.students.span.config import load_run_config
from uniner.students.span.evaluate import evaluate
from uniner.students.span.extractor import SpanExtractor
from uniner.students.span.io import load_model


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--config", required=True)
    ap.add_argument("--run", action="append", required=True, help="LABEL=OUTPUT_DIR (repeat)")
    ap.add_argument("--out", required=True, help="PNG to write (a JSON of the points beside it)")
    ap.add_argument("--threads", type=int, default=2)
    args = ap.parse_args()
    cfg = load_run_config(args.config)
    dev = load_sources(cfg.data.dev, seed=cfg.train.seed, use="scoring")
    dev = dev[: cfg.data.dev_limit] if cfg.data.dev_limit is not None else dev
    model, tok, _ = load_model(resolve_model(cfg.train.init_from))
    parent = SpanExtractor(model, tok, threads=args.threads)  # what the trainer's evals use
    base = evaluate(parent, dev, labels=cfg.data.dev_labels, threshold=cfg.train.eval_threshold)
    points = {"start": {"model": cfg.train.init_from, "f1": base["f1"]}, "runs": {}}
    fig, ax = plt.subplots(figsize=(7, 4.2))
    for spec in args.run:
        label, _, folder = spec.partition("=")
        evals = json.loads((Path(folder) / "trainer_state.json").read_text())["evals"]
        steps = [0] + [e["step"] for e in evals]
        f1 = [100 * base["f1"]] + [100 * e["f1"] for e in evals]
        points["runs"][label] = list(zip(steps, f1, strict=True))
        ax.plot(steps, f1, marker="o", ms=3, label=label)
    ax.axhline(100 * base["f1"], ls="--", c="grey", label=f"{cfg.train.init_from} (start)")
    ax.set_xlabel("training step (batch of 16 pieces)")
    ax.set_ylabel(f"strict F1, held-out ({len(dev)} texts)")
    ax.set_title("Adapting the default model on a 2-core CPU")
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8)
    fig.tight_layout()
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(out, dpi=110)
    out.with_suffix(".json").write_text(json.dumps(points, indent=1))
    print(json.dumps(points["start"]), out)


if __name__ == "__main__":
    main()
