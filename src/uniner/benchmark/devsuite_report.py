"""Outputs of the development suite: a markdown table, CSV, JSON and one heat-map figure.

The table has one row per set and one column per (shape, variant) cell, so the two questions
the suite exists for (does lower-cased or informal text cost points? do few-type calls?) read
along a row; the summary lines give the suite's one number and its means per shape and variant.
"""

from __future__ import annotations

import csv
import json
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from uniner.benchmark.devsuite import PILE_NER_HELDOUT, CellResult, DevSuiteResult
from uniner.benchmark.devsuite_data import DevSuiteSpec
from uniner.extras import pyplot

SHAPE_NAMES = {"1": "1 type", "3": "3 types", "all": "all types"}
METRICS = ("official", "strict", "partial")


def _pct(x: float) -> str:
    return "-" if x != x else f"{100 * x:.1f}"  # nan: no cell


def _columns(r: DevSuiteResult) -> list[tuple[str, str]]:
    return [(s, v) for s in r.spec.shapes for v in r.spec.variants]


def _top_up(s: DevSuiteSpec) -> str:
    if s.min_mentions <= 0:
        return ""
    return f" topped up to {s.min_mentions} mentions or {s.top_up}x the passages"


def markdown(r: DevSuiteResult) -> str:
    """The set x (shape, variant) table of official F1, then the summary by shape and variant."""
    cols = _columns(r)
    s = r.spec
    lines = [
        f"### {r.extractor} on the dev suite, version {s.version} ({len(r.sets)} sets, "
        f"{s.max_passages} passages each{_top_up(s)}, {PILE_NER_HELDOUT} "
        f"{s.passages_of(PILE_NER_HELDOUT)}; types listed in {s.type_order} order; "
        f"seed {s.seed}; official F1)",
        "",
        "| set | passages | " + " | ".join(f"{sh} · {v}" for sh, v in cols) + " | mean |",
        "|---|---:|" + "---:|" * (len(cols) + 1),
    ]
    n_passages = {c.dataset: c.result.n_passages for c in r.cells}
    for name in r.sets:
        cells = [_pct(r.f1(name, sh, v)) for sh, v in cols]
        lines.append(
            f"| {name} | {n_passages[name]} | "
            + " | ".join(cells)
            + f" | {_pct(r.mean(dataset=name))} |"
        )
    means = [_pct(r.mean(shape=sh, variant=v)) for sh, v in cols]
    lines.append("| **mean** | | " + " | ".join(means) + f" | **{_pct(r.summary)}** |")
    lines += [
        "",
        "| | " + " | ".join(s.variants) + " | mean |",
        "|---|" + "---:|" * (len(s.variants) + 1),
    ]
    for sh in s.shapes:
        row = [_pct(r.mean(shape=sh, variant=v)) for v in s.variants]
        lines.append(
            f"| {SHAPE_NAMES.get(sh, sh)} | " + " | ".join(row) + f" | {_pct(r.mean(shape=sh))} |"
        )
    row = [_pct(r.mean(variant=v)) for v in s.variants]
    lines.append("| mean | " + " | ".join(row) + f" | **{_pct(r.summary)}** |")
    lines += [
        "",
        f"Summary (mean official F1 over all {len(r.cells)} set × shape × variant cells): "
        f"**{_pct(r.summary)}**; strict offset F1 {_pct(r.mean('strict'))}, partial "
        f"{_pct(r.mean('partial'))}. {r.seconds:.0f} s of model time.",
    ]
    lines += _paired_lines(r)
    if PILE_NER_HELDOUT in r.sets:
        lines.append(
            f"{PILE_NER_HELDOUT}: held out of training from v0.3.0; models released before it "
            "(v0.2.0 and older) trained on these passages, so their figure there is optimistic."
        )
    if r.skipped:
        lines.append(
            f"Skipped (no files here): {', '.join(r.skipped)}; the summary is not comparable "
            "with a run that has them."
        )
    return "\n".join(lines) + "\n"


def _paired_lines(r: DevSuiteResult) -> list[str]:
    """Few-type cells beside their paired scores (the same types read in the all-type call),
    means over the variants: the call's own cost, apart from which types each shape holds."""
    shapes = r.paired_shapes
    if not shapes:
        return []
    head = " | ".join(f"{SHAPE_NAMES.get(sh, sh)}: own · in all-type call · cost" for sh in shapes)
    lines = [
        "",
        "Call shape on the same types (a few-type cell's types scored on the all-type call's "
        "answers, own = its own calls' answers, both on the pairs the all-type call asked; "
        "means over the variants; cost = own - paired):",
        "",
        f"| set | {head} |",
        "|---|" + "---:|" * len(shapes),
    ]
    for name in [*r.sets, None]:
        where = {"dataset": name} if name else {}
        cols = [
            f"{_pct(r.mean(pool='paired_own', shape=sh, **where))} · "
            f"{_pct(r.mean(pool='paired', shape=sh, **where))}"
            f" · {_signed(r.shape_cost(sh, **where))}"
            for sh in shapes
        ]
        lines.append(f"| {name or '**mean**'} | " + " | ".join(cols) + " |")
    return [*lines, ""]


def _signed(x: float) -> str:
    return "-" if x != x else f"{100 * x:+.1f}"


def _rows(cells: Sequence[CellResult]) -> list[dict[str, Any]]:
    rows = []
    for c in cells:
        res = c.result
        row: dict[str, Any] = {
            "dataset": c.dataset,
            "shape": c.shape,
            "variant": c.variant,
            "passages": res.n_passages,
            "queries": res.n_queries,
        }
        for m in METRICS:
            cnt = getattr(res, m)
            row |= {f"{m}_p": cnt.precision, f"{m}_r": cnt.recall, f"{m}_f1": cnt.f1}
        rows.append(row)
    return rows


def summary_dict(r: DevSuiteResult) -> dict[str, Any]:
    """The suite's one number and its means, per metric."""
    return {
        m: {
            "summary": r.mean(m),
            "by_shape": r.by("shape", m),
            "by_variant": r.by("variant", m),
            "by_set": r.by("dataset", m),
            "paired_by_shape": {sh: r.mean(m, "paired", shape=sh) for sh in r.paired_shapes},
            "paired_own_by_shape": {
                sh: r.mean(m, "paired_own", shape=sh) for sh in r.paired_shapes
            },
            "shape_cost": {sh: r.shape_cost(sh, m) for sh in r.paired_shapes},
        }
        for m in METRICS
    }


def heatmap(r: DevSuiteResult, path: Path) -> None:
    """Official F1 per set (rows, plus the mean) and (shape, variant) column, values written in."""
    plt = pyplot()
    if plt is None:
        return

    cols = _columns(r)
    rows = [*r.sets, "mean"]
    grid = [[100 * r.f1(n, sh, v) for sh, v in cols] for n in r.sets]
    grid.append([100 * r.mean(shape=sh, variant=v) for sh, v in cols])
    fig, ax = plt.subplots(figsize=(1.0 * len(cols) + 3, 0.5 * len(rows) + 2))
    im = ax.imshow(grid, cmap="viridis", vmin=0, vmax=100, aspect="auto")
    for i, line in enumerate(grid):
        for j, val in enumerate(line):
            ax.text(
                j,
                i,
                f"{val:.0f}",
                ha="center",
                va="center",
                fontsize=8,
                color="white" if val < 60 else "black",
            )
    ax.set_xticks(range(len(cols)))
    ax.set_xticklabels([f"{SHAPE_NAMES.get(sh, sh)}\n{v}" for sh, v in cols], fontsize=8)
    ax.set_yticks(range(len(rows)))
    ax.set_yticklabels(rows, fontsize=8)
    ax.axhline(len(r.sets) - 0.5, color="white", linewidth=2)
    ax.set_title(f"{r.extractor}: dev suite official F1 (summary {100 * r.summary:.1f})")
    fig.colorbar(im, ax=ax, fraction=0.03)
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)


def write_outputs(
    r: DevSuiteResult, out: Path, meta: Mapping[str, Any] | None = None
) -> tuple[Path, ...]:
    """table.md, results.csv, results.json and dev_suite.png under ``out``."""
    out.mkdir(parents=True, exist_ok=True)
    files = (out / "table.md", out / "results.csv", out / "results.json", out / "dev_suite.png")
    files[0].write_text(r.markdown, encoding="utf-8")
    rows = _rows(r.cells)
    with files[1].open("w", newline="", encoding="utf-8") as fh:
        w = csv.DictWriter(fh, fieldnames=list(rows[0]))
        w.writeheader()
        w.writerows(rows)
    s = r.spec
    payload = {
        "meta": {
            "extractor": r.extractor,
            "suite": {
                "sets": list(r.sets),
                "skipped": list(r.skipped),
                "split": s.split,
                "version": s.version,
                "max_passages": s.max_passages,
                "min_mentions": s.min_mentions,
                "top_up": s.top_up,
                "type_order": s.type_order,
                "seed": s.seed,
                "shapes": list(s.shapes),
                "variants": list(s.variants),
                "present_share": s.present_share,
                "pile_negatives": s.pile_negatives,
                "pile_passage_share": s.pile_passage_share,
            },
            "seconds": round(r.seconds, 3),
            "set_seconds": {k: round(v, 3) for k, v in r.set_seconds.items()},
            **dict(meta or {}),
        },
        "summary": summary_dict(r),
        "cells": rows,
        "paired_cells": _rows(r.paired),
        "paired_own_cells": _rows(r.paired_own),
    }
    files[2].write_text(json.dumps(payload, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    heatmap(r, files[3])
    return files
