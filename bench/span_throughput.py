"""Throughput and memory of the span student on CrossNER-AI test (431 sentences, 13 labels).

    python bench/span_throughput.py [--model uniner-span-mpnet] [--threads 2]

In the same process, as the baseline: the model's bare encoder over "labels [SEP] sentence"
(the one-pass ceiling of ``../shared/reference/measurements.md``), so the ratio holds across
machines. A model with a generic-type rule (``prefer_specific``; CrossNER-AI asks "person" and
12 more types, so it acts) is also timed with the rule off, which shows what the rule costs.
Prints a markdown table and writes ``runs/bench-throughput.json``.
"""

from __future__ import annotations

import argparse
import json
import platform
import resource
import time
from datetime import UTC, datetime
from pathlib import Path

import torch

from uniner import load
from uniner.benchmark.loaders import load_split


def peak_rss_mib() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def time_model(m, texts: list[str], labels: list[str], batch: int) -> float:
    m.batch_size = batch
    t = time.perf_counter()
    for i in range(0, len(texts), batch):
        m.extract_batch(texts[i : i + batch], labels)
    return len(texts) / (time.perf_counter() - t)


def time_encoder(m, texts: list[str], labels: list[str], batch: int) -> float:
    tok, enc = m.tokenizer, m.model.encoder
    prefix = " [SEP] ".join(labels)
    order = sorted(texts, key=len)
    t = time.perf_counter()
    with torch.inference_mode():
        for i in range(0, len(order), batch):
            x = tok(
                [prefix] * len(order[i : i + batch]),
                order[i : i + batch],
                padding=True,
                truncation=True,
                return_tensors="pt",
            )
            enc(**x)
    return len(texts) / (time.perf_counter() - t)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--model", default=None)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--out", default="runs/bench-throughput.json")
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    data = load_split("CrossNER_AI", "test")
    texts, labels = data.texts, list(data.labels)
    rss0 = peak_rss_mib()
    m = load(args.model, threads=args.threads)
    time_model(m, texts[:16], labels, 8)  # warm-up
    rows = []
    generic = tuple(getattr(m, "generic_labels", ()))
    for batch in (1, 8, 32):
        ours = time_model(m, texts, labels, batch)
        row = {"batch": batch, "model_sent_s": ours}
        if generic:
            m.generic_labels = ()
            row["rule_off_sent_s"] = time_model(m, texts, labels, batch)
            m.generic_labels = generic
        base = time_encoder(m, texts, labels, batch)
        rows.append({**row, "encoder_sent_s": base, "ratio": ours / base})
    result = {
        "date": datetime.now(UTC).isoformat(timespec="seconds"),
        "machine": f"{platform.machine()}, {torch.get_num_threads()} threads, "
        f"torch {torch.__version__}",
        "model": m.name,
        "sentences": len(texts),
        "labels": len(labels),
        "peak_rss_mib": peak_rss_mib(),
        "rss_before_load_mib": rss0,
        "rows": rows,
    }
    Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    Path(args.out).write_text(json.dumps(result, indent=2))
    off = "rule_off_sent_s" in rows[0]
    print(
        "| batch | span student (sent/s) |"
        + (" generic-type rule off (sent/s) |" if off else "")
        + " bare encoder, same input (sent/s) | ratio |"
    )
    print("|---|---|" + ("---|" if off else "") + "---|---|")
    for r in rows:
        rule_off = f" {r['rule_off_sent_s']:.1f} |" if off else ""
        print(
            f"| {r['batch']} | {r['model_sent_s']:.1f} |{rule_off} {r['encoder_sent_s']:.1f} | "
            f"{r['ratio']:.2f} |"
        )
    print(f"peak RSS {result['peak_rss_mib']:.0f} MiB")


if __name__ == "__main__":
    main()
