"""How a student's dev-suite F1 grows with the size of the teacher-score pool (issue 23).

    python bench/fast_pool_curve.py --scores runs/distill-scores-mpnet \\
        --sizes 1000 4000 16000 --max-steps 1500 --out runs/fast-pool-curve

For each size N, the student of ``--config`` (default ``configs/span-minilm-fast.toml``) is
trained on the first N pieces of the store (``data.teacher_max_pieces``: the store's order mixes
its sources, so any prefix is a fair sample) for the same fixed number of steps, so only the pool
changes; it is then scored on the development suite (``run_dev_suite``; CrossNER/MIT never) with
the teacher's released decoding (its thresholds: the soft targets are the teacher's
probabilities). Writes ``curve.json``, ``curve.md`` and ``curve.png`` under ``--out``; each size's
run lives in ``--out/nN`` and a rerun reuses finished sizes (and resumes a stopped training).
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from uniner.students.span.config import RunConfig, load_run_config

Evaluate = Callable[[Path], dict[str, Any]]


def size_run(base: RunConfig, scores: str, size: int, steps: int, out: Path) -> RunConfig:
    """``base`` trained on the first ``size`` pieces for ``steps`` steps, no in-run evals."""
    data = dataclasses.replace(base.data, teacher_scores=scores, teacher_max_pieces=size, dev=[])
    train = dataclasses.replace(
        base.train,
        output_dir=str(out / f"n{size}"),
        max_steps=steps,
        max_seconds=None,
        eval_every=None,
    )
    return dataclasses.replace(base, data=data, train=train)


def dev_suite_evaluator(
    decoding_from: str, max_passages: int | None, threads: int | None, zero_shot: bool = False
) -> Evaluate:
    """Loads a trained model with ``decoding_from``'s released decoding; runs the dev suite, and
    with ``zero_shot`` the 7 zero-shot sets too (reported only: nothing is chosen on them)."""

    def run(model_dir: Path) -> dict[str, Any]:
        from uniner.benchmark.devsuite import run_dev_suite
        from uniner.inference.decoding import DecodingConfig
        from uniner.models import resolve_model
        from uniner.students.span.extractor import SpanExtractor
        from uniner.students.span.io import read_config

        decoding = DecodingConfig.from_json(read_config(resolve_model(decoding_from)))
        m = SpanExtractor.load(model_dir, decoding=decoding, threads=threads)
        res = run_dev_suite(m, max_passages=max_passages, out=model_dir.parent / "dev")
        row = {"summary": res.summary, "by_shape": res.by("shape"), "by_set": res.by("dataset")}
        if zero_shot:
            from uniner.benchmark.bench import run_bench

            zs = run_bench(m.name, extractor=m, out=model_dir.parent / "zero-shot")
            row["zero_shot"] = sum(r.official.f1 for r in zs.results) / len(zs.results)
        return row

    return run


def curve(
    base: RunConfig,
    scores: str,
    sizes: Sequence[int],
    steps: int,
    out: Path,
    evaluate: Evaluate,
    progress: bool = True,
) -> list[dict[str, Any]]:
    """Train and score one student per pool size; a size already scored is read back."""
    from uniner.students.span.train import train

    rows = []
    for size in sizes:
        result = out / f"n{size}" / "result.json"
        if result.is_file():
            rows.append(json.loads(result.read_text()))
            continue
        t0 = time.perf_counter()
        res = train(size_run(base, scores, size, steps, out), [], progress=progress)
        seconds = time.perf_counter() - t0
        row = {"size": size, "pieces": res.stats.pieces, "steps": res.state.step}
        row.update(train_seconds=round(seconds, 1), **evaluate(res.output_dir / "model"))
        result.write_text(json.dumps(row, indent=1) + "\n")
        rows.append(row)
    return rows


def write_report(rows: Sequence[dict[str, Any]], out: Path, meta: dict[str, Any]) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    (out / "curve.json").write_text(json.dumps({"meta": meta, "rows": list(rows)}, indent=1))
    lines = [
        f"Pool-size curve: {meta['config']} on {meta['scores']}, {meta['steps']} steps each",
        "",
        "| pool pieces | steps | dev-suite summary (official F1) | zero-shot average (reported) |",
        "|---:|---:|---:|---:|",
    ]
    lines += [
        f"| {r['pieces']:,} | {r['steps']} | {100 * r['summary']:.1f} | "
        + (f"{100 * r['zero_shot']:.1f} |" if "zero_shot" in r else "- |")
        for r in rows
    ]
    (out / "curve.md").write_text("\n".join(lines) + "\n")
    fig, ax = plt.subplots(figsize=(6, 4))
    pieces = [r["pieces"] for r in rows]
    ax.plot(pieces, [100 * r["summary"] for r in rows], marker="o", label="dev-suite summary")
    scored = [r for r in rows if "zero_shot" in r]
    if scored:
        zs = [100 * r["zero_shot"] for r in scored]
        ax.plot([r["pieces"] for r in scored], zs, marker="s", label="zero-shot (reported)")
        ax.legend()
    ax.set_xscale("log")
    ax.set_xlabel("distilled pieces (log scale)")
    ax.set_ylabel("official F1")
    ax.set_title(f"Student F1 against pool size ({meta['steps']} steps each)")
    ax.grid(alpha=0.3)
    fig.tight_layout()
    fig.savefig(out / "curve.png", dpi=120)
    plt.close(fig)


def main(argv: Sequence[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--scores", required=True, help="store folder of uniner distill-scores")
    ap.add_argument("--config", default="configs/span-minilm-fast.toml")
    ap.add_argument("--sizes", type=int, nargs="+", default=[1000, 4000, 16000])
    ap.add_argument("--max-steps", type=int, default=1500, help="the same for every size")
    ap.add_argument("--out", default="runs/fast-pool-curve")
    ap.add_argument("--decoding-from", default="uniner-span-mpnet")
    ap.add_argument("--dev-passages", type=int, help="dev suite passages per set (default: its)")
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument(
        "--zero-shot", action="store_true", help="also score the 7 zero-shot sets (reported only)"
    )
    args = ap.parse_args(argv)
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    base = load_run_config(args.config)
    base.train = dataclasses.replace(base.train, threads=args.threads)
    evaluate = dev_suite_evaluator(
        args.decoding_from, args.dev_passages, args.threads, args.zero_shot
    )
    rows = curve(base, args.scores, sorted(args.sizes), args.max_steps, out, evaluate)
    meta = {k: v for k, v in vars(args).items()}
    meta["steps"] = args.max_steps
    write_report(rows, out, meta)
    print((out / "curve.md").read_text())


if __name__ == "__main__":
    main()
