"""The distillation report: what the teacher returned and what it cost.

Counts passages, mentions (kept (mention, type) answers, the paper's unit, and the aligned spans),
distinct types, the frequency bands of the paper's Table 1 (types ranked by mentions: top 1%,
1-10%, 10-100%, each with its share of all mentions), parse outcomes (failures included), filtered
pairs by reason, hallucinated mentions, tokens in and out and the cost at the configured prices.
Written as JSON (for machines), markdown (for people) and a PNG of the type frequency
distribution (rank-frequency on log axes, bands marked, and the 20 most frequent types).
"""

from __future__ import annotations

import json
import math
from collections import Counter
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from uniner.distill.output import read_annotations
from uniner.distill.runner import Pricing
from uniner.distill.store import Store, text_hash
from uniner.extras import pyplot

BANDS = (("top 1%", 0.0, 0.01), ("1-10%", 0.01, 0.10), ("10-100%", 0.10, 1.0))


def frequency_bands(type_counts: Counter[str]) -> list[dict[str, Any]]:
    """The paper's Table 1 bands over types ranked by mention count."""
    ranked = type_counts.most_common()
    n = len(ranked)
    total = sum(type_counts.values()) or 1
    rows = []
    for name, lo, hi in BANDS:
        a, b = math.ceil(lo * n), math.ceil(hi * n)
        part = ranked[a:b]
        mentions = sum(c for _, c in part)
        rows.append(
            {
                "band": name,
                "types": len(part),
                "mentions": mentions,
                "share": round(mentions / total, 4),
                "examples": [t for t, _ in part[:8]],
            }
        )
    return rows


def build_report(
    records: Iterable[dict[str, Any]],
    *,
    store: Store | None = None,
    pricing: Pricing | None = None,
    run: dict[str, Any] | None = None,
) -> dict[str, Any]:
    pricing = pricing or Pricing()
    types: Counter[str] = Counter()
    parse: Counter[str] = Counter()
    dropped: Counter[str] = Counter()
    finish: Counter[str] = Counter()
    passages = with_entities = spans = pairs = malformed = 0
    hashes: set[str] = set()
    for rec in records:
        passages += 1
        hashes.add(text_hash(rec["text"]))
        t = rec.get("teacher", {})
        parse[t.get("parse", "unknown")] += 1
        malformed += int(t.get("malformed", 0))
        dropped.update(t.get("dropped", {}))
        finish[str(t.get("finish_reason"))] += 1
        kept = t.get("kept", [])
        pairs += len(kept)
        types.update(label for _, label in kept)
        spans += len(rec.get("entities", []))
        with_entities += bool(rec.get("entities"))
    tokens_in = tokens_out = 0
    if store is not None:
        for ans in store.iter_done():
            if ans.passage_hash in hashes:
                tokens_in += ans.prompt_tokens
                tokens_out += ans.completion_tokens
    elif run:
        tokens_in, tokens_out = run.get("prompt_tokens", 0), run.get("completion_tokens", 0)
    return {
        "passages": passages,
        "passages_with_entities": with_entities,
        "mentions": pairs,
        "aligned_spans": spans,
        "distinct_types": len(types),
        "bands": frequency_bands(types),
        "top_types": types.most_common(30),
        "parse": dict(parse),
        "parse_failures": parse.get("unparseable", 0),
        "malformed_items": malformed,
        "filtered": dict(sorted(dropped.items())),
        "filtered_total": sum(v for k, v in dropped.items() if k != "duplicate"),
        "hallucinated": dropped.get("hallucinated", 0),
        "finish_reasons": dict(finish),
        "tokens_in": tokens_in,
        "tokens_out": tokens_out,
        "cost": round(pricing.cost(tokens_in, tokens_out), 6),
        "pricing_per_million": {"input": pricing.input_per_m, "output": pricing.output_per_m},
        "run": run or {},
        "_type_counts": types,
    }


def to_markdown(rep: dict[str, Any]) -> str:
    lines = [
        "# Distillation report",
        "",
        "| | |",
        "|---|---|",
        f"| passages | {rep['passages']:,} ({rep['passages_with_entities']:,} with entities) |",
        f"| mentions (kept answers) | {rep['mentions']:,} |",
        f"| aligned spans | {rep['aligned_spans']:,} |",
        f"| distinct types | {rep['distinct_types']:,} |",
        f"| parse failures | {rep['parse_failures']:,} |",
        f"| filtered (excl. duplicates) | {rep['filtered_total']:,} |",
        f"| hallucinated mentions | {rep['hallucinated']:,} |",
        f"| tokens in / out | {rep['tokens_in']:,} / {rep['tokens_out']:,} |",
        f"| cost | {rep['cost']:.4f} |",
        "",
        "## Type frequency bands (paper Table 1)",
        "",
        "| band | types | mentions | share | most frequent |",
        "|---|---:|---:|---:|---|",
    ]
    for b in rep["bands"]:
        lines.append(
            f"| {b['band']} | {b['types']:,} | {b['mentions']:,} | "
            f"{100 * b['share']:.1f}% | {', '.join(b['examples'])} |"
        )
    lines += ["", "## Parse outcomes", "", "| outcome | passages |", "|---|---:|"]
    lines += [f"| {k} | {v:,} |" for k, v in sorted(rep["parse"].items())]
    lines += ["", "## Filtered by reason", "", "| reason | pairs |", "|---|---:|"]
    lines += [f"| {k} | {v:,} |" for k, v in rep["filtered"].items()] or ["| (none) | 0 |"]
    if rep["run"]:
        r = rep["run"]
        lines += [
            "",
            "## Run",
            "",
            f"asked {r.get('asked', 0):,}, from cache {r.get('cached', 0):,}, "
            f"failed {r.get('failed', 0):,}, {r.get('seconds', 0):.1f} s",
        ]
        if r.get("endpoints"):
            lines += ["", "## Teacher endpoints", "", *endpoint_table(r["endpoints"])]
    return "\n".join(lines) + "\n"


def endpoint_table(pool: dict[str, Any]) -> list[str]:
    """Per-endpoint throughput, latency and errors (``TeacherPool.report()``) as markdown; the
    CLI prints the same table at the end of a run."""
    lines = [
        "| endpoint | state | answers | answers/s | p50 s | p95 s | p99 s | errors | "
        "failed over | down s |",
        "|---|---|---:|---:|---:|---:|---:|---|---:|---:|",
    ]
    for e in pool["endpoints"]:
        lat = e["latency_s"]
        errs = ", ".join(f"{k} {v}" for k, v in sorted(e["errors"].items())) or "0"
        cells = [f"{lat[q]:.3f}" if lat[q] is not None else "-" for q in ("p50", "p95", "p99")]
        lines.append(
            f"| {e['name']} | {e['state']} | {e['ok']:,} | {e['answers_per_s']:.2f} | "
            f"{' | '.join(cells)} | {errs} | {e['failed_over']:,} | {e['down_seconds']:.1f} |"
        )
    lines.append(f"\n{pool['failovers']:,} requests failed over in {pool['seconds']:.1f} s")
    return lines


def plot(rep: dict[str, Any], path: Path) -> None:
    plt = pyplot()
    if plt is None:
        return

    counts: Counter[str] = rep["_type_counts"]
    ranked = [c for _, c in counts.most_common()]
    fig, (ax1, ax2) = plt.subplots(1, 2, figsize=(12, 4.5))
    if ranked:
        ax1.loglog(range(1, len(ranked) + 1), ranked, marker=".", linestyle="none")
        n = len(ranked)
        for _, lo, _hi in BANDS[1:]:
            ax1.axvline(max(1, math.ceil(lo * n)) + 0.5, color="grey", linestyle="--")
        top = counts.most_common(20)
        ax2.barh([t for t, _ in reversed(top)], [c for _, c in reversed(top)])
    ax1.set_xlabel("type rank")
    ax1.set_ylabel("mentions")
    ax1.set_title(f"{rep['distinct_types']:,} types, {rep['mentions']:,} mentions")
    ax2.set_title("20 most frequent types")
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)


def write_report(rep: dict[str, Any], out_dir: str | Path) -> dict[str, Path]:
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    paths = {
        "json": out / "report.json",
        "md": out / "report.md",
        "png": out / "type_frequency.png",
    }
    public = {k: v for k, v in rep.items() if not k.startswith("_")}
    paths["json"].write_text(json.dumps(public, indent=2) + "\n", encoding="utf-8")
    paths["md"].write_text(to_markdown(rep), encoding="utf-8")
    plot(rep, paths["png"])
    return paths


def report_for(
    annotations: str | Path,
    store_path: str | Path | None,
    pricing: Pricing,
    run: dict[str, Any] | None = None,
) -> dict[str, Any]:
    store = Store(store_path) if store_path and Path(store_path).exists() else None
    try:
        return build_report(read_annotations(annotations), store=store, pricing=pricing, run=run)
    finally:
        if store is not None:
            store.close()
