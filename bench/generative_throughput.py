"""Throughput of the generative student with and without prefix reuse, and of the span default.

    python bench/generative_throughput.py --model runs/generative-smollm2/model \
        [--passages 24] [--threads 2] [--batch-questions 64]

One process, one machine, the same passages: the first N sentences of CrossNER-AI test, each
asked its 13 types (one question per (passage, type), as UniNER does). Reports questions/s and
passages/s for the generative student with the passage prefix's KV cache reused across types and
without (every prompt encoded whole), checks that both give identical answers, and times the
shipped span model (``uniner.load()``) on the same passages. Prints a markdown table and writes
``runs/generative-throughput.json``.
"""

from __future__ import annotations

import argparse
import json
import platform
import time
from datetime import UTC, datetime
from pathlib import Path

import torch

from uniner import load
from uniner.benchmark.loaders import load_split
from uniner.students.generative.extractor import GenerativeExtractor


def timed(fn):
    t = time.perf_counter()
    out = fn()
    return out, time.perf_counter() - t


def time_generative(
    model: str, batch_questions: int, texts: list[str], labels: list[str]
) -> tuple[list[dict], dict[bool, object]]:
    """The generative student with and without prefix reuse: one row each, and their answers."""
    n_q = len(texts) * len(labels)
    rows = []
    answers = {}
    for reuse in (True, False):
        ext = GenerativeExtractor(model, prefix_reuse=reuse, batch_questions=batch_questions)
        ext.generate(texts[:1], labels)  # load and warm up
        ext.engine.stats.__init__()
        got, secs = timed(lambda e=ext: e.generate(texts, labels))
        answers[reuse] = got
        st = ext.engine.stats
        rows.append(
            {
                "model": f"generative {model}, prefix reuse {'on' if reuse else 'off'}",
                "seconds": round(secs, 2),
                "questions_per_s": round(n_q / secs, 2),
                "passages_per_s": round(len(texts) / secs, 3),
                "prompt_tokens_encoded": st.prefix_tokens + st.suffix_tokens,
                "generated_tokens": st.generated_tokens,
            }
        )
    return rows, answers


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--model", default="runs/generative-smollm2/model")
    ap.add_argument("--passages", type=int, default=24)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--batch-questions", type=int, default=64)
    ap.add_argument("--out", default="runs/generative-throughput.json")
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    split = load_split("CrossNER_AI", "test")
    labels = list(split.labels)
    texts = [ex.text for ex in split.examples[: args.passages]]
    n_q = len(texts) * len(labels)

    rows, answers = time_generative(args.model, args.batch_questions, texts, labels)
    span = load()
    span.extract_batch(texts[:1], labels)
    _, secs = timed(lambda: span.extract_batch(texts, labels))
    rows.append(
        {
            "model": f"span {span.name} (default)",
            "seconds": round(secs, 2),
            "questions_per_s": round(n_q / secs, 2),
            "passages_per_s": round(len(texts) / secs, 3),
        }
    )
    result = {
        "date": datetime.now(UTC).isoformat(timespec="seconds"),
        "machine": f"{platform.processor() or platform.machine()}, torch threads {args.threads}",
        "data": f"CrossNER_AI test, first {len(texts)} sentences x {len(labels)} types",
        "identical_answers_with_and_without_reuse": answers[True] == answers[False],
        "speedup_prefix_reuse": round(rows[1]["seconds"] / rows[0]["seconds"], 2),
        "rows": rows,
    }
    Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    Path(args.out).write_text(json.dumps(result, indent=2), encoding="utf-8")
    print("| model | questions/s | passages/s | seconds |")
    print("|---|---|---|---|")
    for r in rows:
        print(f"| {r['model']} | {r['questions_per_s']} | {r['passages_per_s']} | {r['seconds']} |")
    print(json.dumps({k: v for k, v in result.items() if k != "rows"}, indent=2))


if __name__ == "__main__":
    main()
