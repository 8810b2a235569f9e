"""Smoke run of the span student on the real backbone (not CI): does the loss fall, how fast.

    nice -n 10 python bench/span_smoke.py --seconds 300 --out runs/span-smoke

Trains MiniLM-L6 on the Pile-NER BIO subset (all but the last 100 passages), then reports steps
per second, the loss curve, strict F1 on the 100 held-out passages (each asked its own types) and
on CrossNER-AI *dev* (every sentence asked all dev types), inference speed, and the size of the
saved model. Writes ``smoke.json`` into the output folder.
"""

from __future__ import annotations

import argparse
import json
import logging
import time
from pathlib import Path

from uniner.data.readers import read_examples
from uniner.paths import data_dir
from uniner.students.span.config import (
    DataConfig,
    RunConfig,
    SpanModelConfig,
    TrainConfig,
    resolve_bf16,
)
from uniner.students.span.evaluate import evaluate
from uniner.students.span.extractor import SpanExtractor
from uniner.students.span.train import train


def parse_args() -> argparse.Namespace:
    ap = argparse.ArgumentParser()
    ap.add_argument("--seconds", type=float, default=300.0)
    ap.add_argument("--out", default="runs/span-smoke")
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--batch-size", type=int, default=16)
    ap.add_argument("--bf16", default="auto", choices=["auto", "true", "false"])
    ap.add_argument("--no-shape", action="store_true")
    return ap.parse_args()


def smoke_config(args: argparse.Namespace, bf16: bool | str) -> RunConfig:
    """MiniLM-L6 from its backbone, 8 to 12 types a piece, the time budget of ``--seconds``."""
    return RunConfig(
        model=SpanModelConfig(backbone="minilm-l6", shape_embedding=not args.no_shape),
        data=DataConfig(max_words=64, keep_empty=0.3, min_labels=8, max_labels=12),
        train=TrainConfig(
            output_dir=args.out,
            max_seconds=args.seconds,
            batch_size=args.batch_size,
            lr_encoder=7e-5,
            lr_head=1e-3,
            warmup_steps=100,
            bf16=bf16,
            threads=args.threads,
            checkpoint_every=200,
            log_every=20,
            save_storage="delta-int8",
        ),
    )


def main() -> None:
    args = parse_args()
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(message)s")

    bf16: bool | str = {"true": True, "false": False}.get(args.bf16, "auto")
    root = data_dir(required=True)
    assert root is not None
    pile = list(read_examples(root / "pile-ner/slimer/GNER_wDeG/391xALL_BIO/dev.txt", "bio"))
    train_ex, held_out = pile[:-100], pile[-100:]
    ai_dev = list(read_examples(root / "zero-shot/instructuie/CrossNER_AI/dev.json", "instructuie"))

    run = smoke_config(args, bf16)
    t0 = time.monotonic()
    res = train(run, train_ex, resume=False)
    wall = time.monotonic() - t0
    state = res.state
    ext = SpanExtractor(res.model, res.tokenizer, bf16=bf16, threads=args.threads)

    t = time.monotonic()
    held = evaluate(ext, held_out, labels="example", threshold=0.5)
    held_s = time.monotonic() - t
    t = time.monotonic()
    ai = {thr: evaluate(ext, ai_dev, labels="union", threshold=thr) for thr in (0.5, 0.3)}
    ai_s = (time.monotonic() - t) / 2
    size = (Path(args.out) / "model" / "model.safetensors").stat().st_size

    report = {
        "steps": state.step,
        "train_seconds": round(state.elapsed, 1),
        "wall_seconds_incl_setup": round(wall, 1),
        "steps_per_second": round(state.step / state.elapsed, 3),
        "pieces": res.stats.pieces,
        "epochs": round(state.step * args.batch_size / max(res.stats.pieces, 1), 3),
        "loss_first": state.losses[:5],
        "loss_last": state.losses[-5:],
        "held_out_pile_f1": held,
        "held_out_seconds": round(held_s, 1),
        "crossner_ai_dev": ai,
        "crossner_ai_dev_sentences_per_second": round(len(ai_dev) / ai_s, 1),
        "model_bytes": size,
        "bf16": resolve_bf16(bf16),
        "shape_embedding": not args.no_shape,
    }
    (Path(args.out) / "smoke.json").write_text(json.dumps(report, indent=1))
    print(json.dumps(report, indent=1))


if __name__ == "__main__":
    main()
