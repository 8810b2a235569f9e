"""Benchmark outputs: JSON, CSV, a markdown table beside the paper's rows, and a PNG chart.

People compare a run with the paper first, so the markdown table puts our official-metric F1 in
the same columns as the paper's figures, and adds our strict and partial offset F1 below.
"""

from __future__ import annotations

import csv
import json
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from uniner.benchmark.runner import DatasetResult
from uniner.evaluation.errors import ErrorBreakdown
from uniner.extras import pyplot

METRICS = ("official", "strict", "partial")


def _pct(x: float | None) -> str:
    return "-" if x is None else f"{100 * x:.1f}"


def _avg(values: Sequence[float]) -> float | None:
    return sum(values) / len(values) if values else None


def write_json(
    results: Sequence[DatasetResult], path: Path, meta: Mapping[str, Any] | None = None
) -> None:
    payload = {"meta": dict(meta or {}), "results": [r.to_dict() for r in results]}
    path.write_text(json.dumps(payload, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")


def write_csv(results: Sequence[DatasetResult], path: Path) -> None:
    with path.open("w", newline="", encoding="utf-8") as fh:
        w = csv.writer(fh)
        w.writerow(
            ["dataset", "split", "passages", "queries"]
            + [f"{m}_{k}" for m in (*METRICS, "span_only") for k in ("p", "r", "f1")]
            + ["seconds"]
        )
        for r in results:
            row: list[object] = [r.dataset, r.split, r.n_passages, r.n_queries]
            for m in (*METRICS, "span_only"):
                c = getattr(r, m)
                row += [f"{c.precision:.6f}", f"{c.recall:.6f}", f"{c.f1:.6f}"]
            row.append(f"{r.seconds:.3f}")
            w.writerow(row)


def markdown_table(
    results: Sequence[DatasetResult],
    name: str,
    paper_rows: Mapping[str, Mapping[str, float]],
    display: Mapping[str, str] | None = None,
) -> str:
    """One column per data set plus the average; paper rows (F1 in percent) then ours.

    ``paper_rows`` maps a model name to {dataset name: F1 in percent}; data sets a row lacks show
    '-', and its average is taken only when it has every column (otherwise '-').
    """
    display = display or {}
    names = [r.dataset for r in results]
    header = "| model | " + " | ".join(display.get(n, n) for n in names) + " | Avg |"
    lines = [header, "|" + "---|" * (len(names) + 2)]
    for model, scores in paper_rows.items():
        vals = [scores.get(n) for n in names]
        have = [v for v in vals if v is not None]
        avg = _avg(have) if len(have) == len(vals) else None
        cells = ["-" if v is None else f"{v:.1f}" for v in vals]
        lines.append(
            f"| {model} (paper) | "
            + " | ".join(cells)
            + f" | {'-' if avg is None else f'{avg:.1f}'} |"
        )
    for metric in METRICS:
        vals_f = [getattr(r, metric).f1 for r in results]
        cells = [_pct(v) for v in vals_f]
        lines.append(
            f"| **{name}** ({metric}) | " + " | ".join(cells) + f" | {_pct(_avg(vals_f))} |"
        )
    return "\n".join(lines) + "\n"


def domain_table(results: Sequence[DatasetResult], domains: Mapping[str, str]) -> str:
    """Average F1 per domain (official, strict, partial), over the data sets that ran."""
    by_domain: dict[str, list[DatasetResult]] = {}
    for r in results:
        by_domain.setdefault(domains.get(r.dataset, "other"), []).append(r)
    lines = ["| domain | data sets | official | strict | partial |", "|---|---|---|---|---|"]
    for dom, rs in by_domain.items():
        cells = [_pct(_avg([getattr(r, m).f1 for r in rs])) for m in METRICS]
        lines.append(f"| {dom} | {len(rs)} | " + " | ".join(cells) + " |")
    return "\n".join(lines) + "\n"


def bar_chart(
    results: Sequence[DatasetResult],
    path: Path,
    name: str,
    reference: Mapping[str, float] | None = None,
    reference_name: str = "UniNER-7B (paper)",
    display: Mapping[str, str] | None = None,
) -> None:
    """Grouped bars per data set: our official and strict F1, and a paper reference if given."""
    plt = pyplot()
    if plt is None:
        return

    display = display or {}
    labels = [display.get(r.dataset, r.dataset) for r in results]
    series: list[tuple[str, list[float]]] = [
        (f"{name} official", [100 * r.official.f1 for r in results]),
        (f"{name} strict", [100 * r.strict.f1 for r in results]),
    ]
    if reference:
        series.append((reference_name, [reference.get(r.dataset, 0.0) for r in results]))
    width = 0.8 / len(series)
    fig, ax = plt.subplots(figsize=(max(6.0, 1.1 * len(results) + 2), 4.2))
    for k, (label, vals) in enumerate(series):
        xs = [i + (k - (len(series) - 1) / 2) * width for i in range(len(results))]
        ax.bar(xs, vals, width, label=label)
    ax.set_xticks(range(len(results)))
    ax.set_xticklabels(labels, rotation=30, ha="right")
    ax.set_ylabel("F1 (%)")
    ax.set_ylim(0, 100)
    ax.set_title(f"{name}: F1 per data set")
    ax.legend(fontsize=8)
    ax.grid(axis="y", alpha=0.3)
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)


ERROR_COLUMNS = ("wrong_label", "boundary", "boundary_label", "spurious")


def errors_table(results: Sequence[DatasetResult], display: Mapping[str, str] | None = None) -> str:
    """Where the mentions go wrong, per data set (:mod:`uniner.evaluation.errors`).

    Prediction classes as shares of all predictions, missed as a share of gold mentions, and the
    most frequent confused label pair (gold -> predicted, on the same span).
    """
    display = display or {}
    head = (
        "| data set | predictions | correct | wrong label | boundary (longer/shorter/shifted) "
        "| boundary + label | spurious | gold | missed | most confused (gold -> predicted) |"
    )
    lines = [head, "|" + "---|" * 10]
    for r in results:
        e = r.errors
        n = e.n_predictions

        def share(k: str, e: ErrorBreakdown = e, n: int = n) -> str:
            return f"{100 * e.predictions.get(k, 0) / n:.1f}%" if n else "-"

        kinds = "/".join(str(e.boundary.get(k, 0)) for k in ("longer", "shorter", "shifted"))
        top = e.confusions.most_common(1)
        conf = f"{top[0][0][0]} -> {top[0][0][1]} ({top[0][1]})" if top else "-"
        missed = f"{100 * e.missed / e.gold:.1f}%" if e.gold else "-"
        lines.append(
            f"| {display.get(r.dataset, r.dataset)} | {n} | {share('correct')} "
            f"| {share('wrong_label')} | {share('boundary')} ({kinds}) | {share('boundary_label')} "
            f"| {share('spurious')} | {e.gold} | {missed} | {conf} |"
        )
    return "\n".join(lines) + "\n"


def errors_chart(
    results: Sequence[DatasetResult],
    path: Path,
    name: str,
    display: Mapping[str, str] | None = None,
) -> None:
    """Stacked bars per data set: the classes of the predictions, and the missed gold share."""
    plt = pyplot()
    if plt is None:
        return

    display = display or {}
    labels = [display.get(r.dataset, r.dataset) for r in results]
    fig, (ax, ax_m) = plt.subplots(
        1, 2, figsize=(max(8.0, 1.3 * len(results) + 4), 4.4), width_ratios=[3, 1]
    )
    bottom = [0.0] * len(results)
    for cls in ("correct", *ERROR_COLUMNS):
        vals = [
            100 * r.errors.predictions.get(cls, 0) / max(1, r.errors.n_predictions) for r in results
        ]
        ax.bar(range(len(results)), vals, 0.7, bottom=bottom, label=cls.replace("_", " "))
        bottom = [b + v for b, v in zip(bottom, vals, strict=True)]
    ax.set_xticks(range(len(results)))
    ax.set_xticklabels(labels, rotation=30, ha="right")
    ax.set_ylabel("share of predictions (%)")
    ax.set_ylim(0, 100)
    ax.set_title(f"{name}: what each prediction is")
    ax.legend(fontsize=7, loc="lower right")
    missed = [100 * r.errors.missed / max(1, r.errors.gold) for r in results]
    ax_m.bar(range(len(results)), missed, 0.7, color="tab:gray")
    ax_m.set_xticks(range(len(results)))
    ax_m.set_xticklabels(labels, rotation=30, ha="right")
    ax_m.set_ylim(0, 100)
    ax_m.set_title("gold mentions missed (%)")
    for a in (ax, ax_m):
        a.grid(axis="y", alpha=0.3)
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)
