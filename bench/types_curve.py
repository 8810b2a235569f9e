"""F1 by the number of types a call asks, 1 to 20, on dev-suite sets with many types.

    python bench/types_curve.py --model uniner-span-mpnet --out runs/types-curve \\
        [--policy 0.6] [--policy 0.6:1:0.8] [--policy 0.6@0.75]

Why: users ask one to five types per call, the benchmark asks all of a set's types, and a
model trained on many types per input scores higher when asked few. The dev suite's shapes (1, 3,
all) show the ends; this shows the whole curve, on the suite's sets with the most types
(MultiCoNER II's 33 and held-out Pile-NER's open types; never CrossNER or MIT), as written, for
several decoding policies from one model pass (``select_decoding_dev.SweepExtractor``: exact).

A policy is ``T`` (one threshold), ``T:K:T2`` (``T2`` for calls of at most ``K`` types) or
``T@S`` (threshold ``T`` on scores calibrated with slope ``S``; ``DecodingConfig.type_slope``).
``--policy released`` is the model's own decoding. Writes ``curve.json``, ``curve.md`` and
``curve.png`` (F1 against types asked, a line per policy).
"""

from __future__ import annotations

import argparse
import json
from collections.abc import Sequence
from dataclasses import replace
from pathlib import Path

from select_decoding_dev import REFERENCE_TYPES, Policy, SweepExtractor
from uniner import load
from uniner.benchmark.devsuite import DEV_SUITE, PILE_NER_HELDOUT, run_dev_suite
from uniner.inference.decoding import DecodingConfig

COUNTS = ("1", "2", "3", "5", "8", "13", "20")
SETS = ("MultiCoNER2", PILE_NER_HELDOUT)


def parse_policy(text: str, released: DecodingConfig) -> Policy:
    """A policy from its command-line form (see the module docstring)."""
    if text == "released":
        if released.type_slope and released.reference_types != REFERENCE_TYPES:
            raise SystemExit(f"error: --policy released: reference_types is not {REFERENCE_TYPES}")
        few = (released.few_types, released.few_type_threshold) if released.few_types else (0, None)
        return Policy(released.threshold, few[0], few[1], released.type_slope)
    try:
        if "@" in text:
            thr, slope = text.split("@")
            return Policy(float(thr), slope=float(slope))
        if ":" in text:
            thr, few, low = text.split(":")
            return Policy(float(thr), int(few), float(low))
        return Policy(float(text))
    except ValueError:
        raise SystemExit(f"error: --policy {text!r}: expected T, T:K:T2 or T@S") from None


def plot(rows: dict[str, dict[str, float]], path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(6.5, 4))
    for label, by_n in rows.items():
        xs = [int(n) for n in by_n]
        ax.plot(xs, [100 * v for v in by_n.values()], marker="o", label=label)
    ax.set_xscale("log")
    ax.set_xticks([int(n) for n in COUNTS], labels=list(COUNTS))
    ax.set_xlabel("types asked per call")
    ax.set_ylabel("official F1 (dev suite sets, as written)")
    ax.set_title("F1 by number of types asked: " + ", ".join(SETS))
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)


def main(argv: Sequence[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--model", default="uniner-span-mpnet")
    ap.add_argument("--out", type=Path, default=Path("runs/types-curve"))
    ap.add_argument("--policy", action="append", default=None, help="repeatable; see above")
    ap.add_argument("--floor", type=float, default=0.15)
    ap.add_argument("--max-passages", type=int, default=None)
    args = ap.parse_args(argv)
    model = load(args.model)
    pols = [parse_policy(p, model.decoding) for p in (args.policy or ["released"])]
    for pol in pols:
        low = min(pol.threshold_for(int(n)) for n in COUNTS)
        if low < args.floor:
            raise SystemExit(f"error: --policy {pol.label()} cuts at {low:.3f}, below --floor")
    spec = replace(DEV_SUITE, sets=SETS, shapes=COUNTS, variants=("cased",))
    sweeper = SweepExtractor(model, model.decoding.replace(min_labels=0), args.floor)
    rows: dict[str, dict[str, float]] = {}
    for i, pol in enumerate(pols):
        sweeper.policy = pol.threshold_for
        res = run_dev_suite(sweeper, max_passages=args.max_passages, spec=spec, progress=i == 0)
        rows[pol.label()] = res.by("shape")
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / "curve.json").write_text(
        json.dumps({"model": args.model, "sets": SETS, "f1_by_types": rows}, indent=2),
        encoding="utf-8",
    )
    head = "| policy | " + " | ".join(COUNTS) + " | spread |"
    lines = [head, "|---" * (len(COUNTS) + 2) + "|"]
    for label, by_n in rows.items():
        vals = [100 * by_n[n] for n in COUNTS]
        cells = " | ".join(f"{v:.1f}" for v in vals)
        lines.append(f"| {label} | {cells} | {max(vals) - min(vals):.1f} |")
    (args.out / "curve.md").write_text("\n".join(lines) + "\n", encoding="utf-8")
    plot(rows, args.out / "curve.png")
    print("\n".join(lines))
    print(f"wrote {args.out / 'curve.md'} and curve.png")


if __name__ == "__main__":
    main()
