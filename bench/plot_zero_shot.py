"""Official zero-shot F1 per CrossNER/MIT set, several models side by side, as one bar chart.

    python bench/plot_zero_shot.py \\
        --row "uniner-span-mpnet v0.2.0=runs/bench-zs-v020/results.json" \\
        --row "gliner recipe, equal terms=runs/peer-cpu/test.json" --paper UniNER-7B \\
        --out bench/figures/zero-shot-peer.png

A ``--row`` file is either ``uniner bench``'s ``results.json`` or ``bench/gliner_peer.py eval``'s
JSON; ``--paper`` adds a row of the paper's table (``uniner.benchmark.paper``). The figures
plotted are written beside the PNG as JSON, so the chart can be checked against BENCHMARKS.md.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from uniner.benchmark import paper


def official_by_column(path: Path) -> dict[str, float]:
    """Column name (Movie, ..., Science) -> official F1 in percent, from either JSON form."""
    data = json.loads(path.read_text(encoding="utf-8"))
    if "results" in data:  # uniner bench
        by_set = {r["dataset"]: 100 * r["official"]["f1"] for r in data["results"]}
    elif "per_set" in data:  # bench/gliner_peer.py eval
        by_set = {k: v["official"] for k, v in data["per_set"].items()}
    else:
        raise ValueError(f"{path}: neither a uniner bench results.json nor a gliner peer eval")
    missing = [c for c, d in paper.ZERO_SHOT_DATASETS.items() if d not in by_set]
    if missing:
        raise ValueError(f"{path}: no scores for {', '.join(missing)}")
    return {c: by_set[paper.ZERO_SHOT_DATASETS[c]] for c in paper.ZERO_SHOT_COLUMNS}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--row", action="append", default=[], help="LABEL=JSON (repeat)")
    ap.add_argument("--paper", action="append", default=[], help="a row of the paper's table")
    ap.add_argument("--out", required=True, help="PNG to write")
    a = ap.parse_args()
    rows: dict[str, dict[str, float]] = {}
    for spec in a.row:
        label, sep, path = spec.partition("=")
        if not sep:
            raise SystemExit(f"--row {spec!r}: expected LABEL=JSON")
        rows[label] = official_by_column(Path(path))
    for name in a.paper:
        if name not in paper.ZERO_SHOT_TABLE:
            raise SystemExit(f"--paper {name!r}: rows are {', '.join(paper.ZERO_SHOT_TABLE)}")
        rows[f"{name} (paper)"] = {
            c: paper.ZERO_SHOT_TABLE[name][c] for c in paper.ZERO_SHOT_COLUMNS
        }
    if not rows:
        raise SystemExit("give at least one --row or --paper")
    for r in rows.values():
        r["Avg"] = sum(r[c] for c in paper.ZERO_SHOT_COLUMNS) / len(paper.ZERO_SHOT_COLUMNS)

    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    cols = [*paper.ZERO_SHOT_COLUMNS, "Avg"]
    width = 0.8 / len(rows)
    fig, ax = plt.subplots(figsize=(10, 4.2))
    for i, (label, r) in enumerate(rows.items()):
        xs = [j + (i - (len(rows) - 1) / 2) * width for j in range(len(cols))]
        ax.bar(xs, [r[c] for c in cols], width, label=f"{label} ({r['Avg']:.1f})")
    ax.set_xticks(range(len(cols)), cols)
    ax.set_ylabel("official F1 (%)")
    ax.set_title("Zero-shot F1 on CrossNER / MIT test")
    ax.legend(fontsize=8, loc="upper left")
    ax.grid(axis="y", alpha=0.3)
    fig.tight_layout()
    out = Path(a.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(out, dpi=120)
    out.with_suffix(".json").write_text(json.dumps(rows, indent=1) + "\n", encoding="utf-8")
    print(out)


if __name__ == "__main__":
    main()
