"""Is the ONNX int8 span student faster on this CPU at equal F1? torch fp32 vs ONNX fp32 vs int8.

    python bench/span_onnx.py [--model uniner-span-mpnet] [--threads 2] \
        [--int8-recipe mixed|all] [--runtimes "torch fp32,onnx int8"]

One process, one model: the development suite's summary F1 (``uniner bench --suite dev``; official
metric, the model's own decoding; ``--dev-passages`` per set, never CrossNER or MIT data, since
the int8 recipe is chosen on it; records before 2026-12-06 used the CrossNER dev sets) and
sentences per second on CrossNER-AI test (431 sentences, 13 labels) at
batch 1, 8 and 32, each runtime timed twice in alternation so background load hits all alike.
Writes ``runs/bench-onnx/result.json`` and prints a markdown table.
"""

from __future__ import annotations

import argparse
import json
import platform
from datetime import UTC, datetime
from pathlib import Path

import torch

# sibling scripts (run as `python bench/...`, so bench/ is on sys.path)
from span_throughput import time_model
from uniner import load
from uniner.benchmark.devsuite import run_dev_suite
from uniner.benchmark.loaders import load_split
from uniner.students.span.onnx_runtime import FP32_NAME, export


def parse_args() -> argparse.Namespace:
    ap = argparse.ArgumentParser()
    ap.add_argument("--model", default=None)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--out", default="runs/bench-onnx")
    ap.add_argument("--int8-recipe", default="mixed", help="mixed or all (onnx_runtime module)")
    ap.add_argument(
        "--runtimes",
        default="torch fp32,onnx fp32,onnx int8",
        help="comma-separated subset to measure (torch fp32 always included: the baseline)",
    )
    ap.add_argument("--dev-passages", type=int, default=None, help="dev-suite passages per set")
    return ap.parse_args()


def print_table(rows: dict[str, dict]) -> None:
    base = rows["torch fp32"]["sent_s"]
    head = "| runtime | dev suite (official F1) | dev suite (strict) | sent/s b1 | b8 | b32 |"
    print(head + " x torch (b8) |")
    print("|---|---|---|---|---|---|---|")
    for name, r in rows.items():
        s = r["sent_s"]
        print(
            f"| {name} | {r['dev_official']:.1f} | {r['dev_strict']:.1f} | {s[1]:.1f} | "
            f"{s[8]:.1f} | {s[32]:.1f} | {s[8] / base[8]:.2f} |"
        )


def main() -> None:
    args = parse_args()
    wanted = {"torch fp32", *(r.strip() for r in args.runtimes.split(","))}
    torch.set_num_threads(args.threads)
    out = Path(args.out)
    m = load(args.model, threads=args.threads)
    int8 = export(m, out / "onnx", int8=True, int8_recipe=args.int8_recipe)
    every = {"torch fp32": None, "onnx fp32": out / "onnx" / FP32_NAME, "onnx int8": int8}
    runtimes = {k: v for k, v in every.items() if k in wanted}
    ai = load_split("CrossNER_AI", "test")
    texts, labels = ai.texts, list(ai.labels)
    rows: dict[str, dict] = {}
    for name, path in runtimes.items():
        m.use_onnx(path, threads=args.threads)
        dev = run_dev_suite(m, max_passages=args.dev_passages, progress=False)
        rows[name] = {
            "dev_official": 100 * dev.summary,
            "dev_strict": 100 * dev.mean("strict"),
            "sent_s": {1: [], 8: [], 32: []},
        }
        print(name, rows[name]["dev_official"], flush=True)
    for _ in range(2):
        for batch in (1, 8, 32):
            for name, path in runtimes.items():
                m.use_onnx(path, threads=args.threads)
                time_model(m, texts[:16], labels, batch)  # warm-up
                rows[name]["sent_s"][batch].append(time_model(m, texts, labels, batch))
    for row in rows.values():
        row["sent_s"] = {b: max(v) for b, v in row["sent_s"].items()}
    result = {
        "date": datetime.now(UTC).isoformat(timespec="seconds"),
        "machine": f"{platform.machine()}, {args.threads} threads, torch {torch.__version__}",
        "model": m.name,
        "int8_recipe": args.int8_recipe,
        "dev": "development suite"
        + (f", {args.dev_passages} passages a set" if args.dev_passages else ""),
        "sizes_mb": {
            p.name: round(p.stat().st_size / 2**20, 1) for p in (out / "onnx").glob("*.onnx")
        },
        "rows": rows,
    }
    out.mkdir(parents=True, exist_ok=True)
    (out / "result.json").write_text(json.dumps(result, indent=1))
    print_table(rows)


if __name__ == "__main__":
    main()
