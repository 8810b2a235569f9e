"""How many padded tokens one forward pass should take: sentences/s against ``max_batch_tokens``.

    python bench/batch_tokens.py [--models minilm-separate-onnx-int8 uniner-mpnet-onnx-int8]
        [--caps 0 32 64 96 128 192 256 512] [--calls 8 32] [--labels 13] [--rounds 2]

A user's call of 8 or 32 CrossNER-AI test sentences (13 labels unless ``--labels`` says 1, 50 or
200: Pile-NER's most frequent types after CrossNER-AI's; the seeded shuffle of
``speed_compare.py``) is scored in length-sorted batches of at most ``batch_size`` = the call's
size, and at most ``cap`` padded tokens (inputs x the longest; cap 0: no cap, the behaviour
before the setting existed). All caps of a model run in one process, interleaved over
``--rounds`` (each cell keeps its best round), so the ratios against "no cap" hold even on a
shared CPU. The models are built as in ``speed_compare.py`` (MiniLM-L6 with a random head: speed
does not depend on trained values). Prints a table and writes ``bench/figures/batch_tokens.json``;
``scoring.onnx_token_cap`` (the ONNX default: a base plus a share per type) is chosen from it.
"""

from __future__ import annotations

import argparse
import json
import platform
import sys
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

from speed_compare import FIGURES, label_sets, sentences, uniner_runner


def rate(m: Any, texts: list[str], labels: list[str], call: int, cap: int) -> float:
    """Sentences/s of consecutive calls of ``call`` texts with the given cap (0: none)."""
    m.batch_size = call
    m.max_batch_tokens = cap or 10**9
    start = time.perf_counter()
    for i in range(0, len(texts), call):
        m.extract_batch(texts[i : i + call], labels)
    return len(texts) / (time.perf_counter() - start)


def sweep(name: str, args: argparse.Namespace) -> dict[str, Any]:
    import torch

    torch.set_num_threads(args.threads)
    run, info = uniner_runner(name, args.threads)
    m = run.extractor  # type: ignore[attr-defined]
    texts, labels = sentences(args.sentences), label_sets()[args.labels]
    m.extract_batch(texts[:2], labels)  # warm-up (and a separate model's label cache)
    best: dict[tuple[int, int], float] = {}
    for _ in range(args.rounds):
        for call in args.calls:
            for cap in args.caps:
                r = rate(m, texts, labels, call, cap)
                best[(call, cap)] = max(best.get((call, cap), 0.0), r)
                print(f"{name}: call {call}, cap {cap or 'none'}: {r:.1f} sent/s", file=sys.stderr)
    cells = [{"call": c, "cap": k, "sent_s": round(v, 1)} for (c, k), v in sorted(best.items())]
    return {"name": name, **info, "cells": cells}


def table(results: list[dict[str, Any]], caps: list[int], calls: list[int]) -> str:
    head = "| model | call | " + " | ".join(f"cap {c or 'none'}" for c in caps) + " |"
    lines = [head, "|---|---:|" + "---:|" * len(caps)]
    for r in results:
        cell = {(c["call"], c["cap"]): c["sent_s"] for c in r["cells"]}
        for call in calls:
            base = cell[(call, 0)] if 0 in caps else None
            vals = []
            for cap in caps:
                v = cell[(call, cap)]
                vals.append(f"{v:.1f}" + (f" ({v / base:.2f}x)" if base and cap else ""))
            lines.append(f"| {r['name']} | {call} | " + " | ".join(vals) + " |")
    return "\n".join(lines)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--models", nargs="+", default=["minilm-separate-onnx-int8"])
    ap.add_argument("--caps", nargs="+", type=int, default=[0, 32, 64, 96, 128, 192, 256, 512])
    ap.add_argument("--calls", nargs="+", type=int, default=[8, 32])
    ap.add_argument("--sentences", type=int, default=192)
    ap.add_argument("--labels", type=int, default=13, choices=(1, 13, 50, 200))
    ap.add_argument("--rounds", type=int, default=2)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--out", type=Path, default=FIGURES / "batch_tokens.json")
    args = ap.parse_args()
    started = datetime.now(UTC).isoformat(timespec="seconds")
    results = [sweep(name, args) for name in args.models]
    args.out.parent.mkdir(parents=True, exist_ok=True)
    meta = {"started": started, "machine": platform.processor() or platform.machine()}
    meta.update(threads=args.threads, labels=args.labels)
    args.out.write_text(json.dumps({**meta, "results": results}, indent=1))
    print(table(results, args.caps, args.calls))


if __name__ == "__main__":
    main()
