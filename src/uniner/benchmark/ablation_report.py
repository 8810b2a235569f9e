"""The table of an ablation: our arms beside the paper's, effect directions, seed spread.

For each arm, the mean over seeds of two numbers (official F1, percent): the average over the 7
zero-shot sets (the paper's measure; its figures are on these sets) and the dev-suite summary
(where this project makes its choices). Each arm other than the baseline gets its change
against the baseline, the paper's change where the paper gives one, whether the two point the
same way, and whether the change is larger than the seed spread: the spread of an arm is the
range (max - min) of its per-seed values, and a change no larger than the larger spread of
the two arms is reported as within seed noise rather than as an effect. With one seed the
spread is unknown and the table says so.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from uniner.benchmark.ablations import Ablation, Budget
from uniner.benchmark.paper import ZERO_SHOT_DATASETS

METRICS = {"zero_shot": "zero-shot avg (7 sets)", "dev": "dev suite"}


def _value(result: dict[str, Any], metric: str) -> float:
    value: float = result["zero_shot"]["avg"] if metric == "zero_shot" else result["dev"]["summary"]
    return value


def _stats(values: Sequence[float]) -> dict[str, Any]:
    n = len(values)
    return {
        "mean": sum(values) / n if n else None,
        "spread": (max(values) - min(values)) if n > 1 else None,
        "values": list(values),
    }


def _sign(x: float) -> int:
    return (x > 0) - (x < 0)


def _effect(arm: dict[str, Any], base: dict[str, Any], paper_delta: float | None) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for metric in METRICS:
        a, b = arm[metric], base[metric]
        if a["mean"] is None or b["mean"] is None:
            continue
        delta = a["mean"] - b["mean"]
        spreads = [s for s in (a["spread"], b["spread"]) if s is not None]
        noise = max(spreads) if len(spreads) == 2 else None
        out[metric] = {
            "delta": delta,
            "noise": noise,
            "beyond_noise": None if noise is None else abs(delta) > noise,
        }
    zs = out.get("zero_shot")
    if zs is not None and paper_delta is not None and paper_delta != 0:
        zs["paper_delta"] = paper_delta
        # no change at all points nowhere: neither agreeing nor disagreeing
        zs["agrees"] = None if zs["delta"] == 0 else _sign(zs["delta"]) == _sign(paper_delta)
    return out


def _dev_cells(runs: Sequence[dict[str, Any]]) -> dict[str, float]:
    """Mean dev-suite F1 by call shape (1, 3, all types asked) and text variant (cased, lower,
    informal): what the few-label and casing/informal ablations act on, hidden in the summary."""
    cells: dict[str, float] = {}
    for part, prefix in (("by_shape", "types "), ("by_variant", "")):
        names = runs[0]["dev"].get(part, {}) if runs else {}
        for name in names:
            values = [r["dev"][part][name] for r in runs if name in r["dev"].get(part, {})]
            cells[prefix + name] = _stats(values)["mean"]
    return cells


def build_table(
    ab: Ablation, results: Sequence[dict[str, Any]], budget: Budget, seeds: Sequence[int]
) -> dict[str, Any]:
    """The JSON table from the runs' ``result.json`` contents."""
    arms = []
    base_paper = ab.arm(ab.baseline).paper
    for arm in ab.arms:
        mine = [r for r in results if r["arm"] == arm.name]
        row: dict[str, Any] = {
            "arm": arm.name,
            "change": change_text(arm),
            "paper": arm.paper,
            "seeds": [r["seed"] for r in mine],
            "steps": [r.get("train", {}).get("steps") for r in mine],
            "reused_from": [r["reused_from"] for r in mine if r.get("reused_from")],
            "zero_shot_sets": {
                name: _stats([r["zero_shot"]["sets"][name] for r in mine])["mean"]
                for name in (mine[0]["zero_shot"]["sets"] if mine else {})
            },
            "dev_cells": _dev_cells(mine),
        }
        for metric in METRICS:
            row[metric] = _stats([_value(r, metric) for r in mine])
        row["paper_delta"] = arm.paper_delta
        is_base = arm.name == ab.baseline
        missing = row["paper_delta"] is None
        if not is_base and missing and arm.paper is not None and base_paper is not None:
            row["paper_delta"] = arm.paper - base_paper
        arms.append(row)
    base_row = next(a for a in arms if a["arm"] == ab.baseline)
    for row in arms:
        if row["arm"] != ab.baseline:
            row["effect"] = _effect(row, base_row, row["paper_delta"])
    return {
        "ablation": ab.name,
        "title": ab.title,
        "origin": ab.origin,
        "student": ab.student,
        "base": ab.base,
        "common": {"set": dict(ab.common_set), "unset": list(ab.common_unset)},
        "varies": list(ab.varies),
        "baseline": ab.baseline,
        "paper_source": ab.paper_source,
        "budget": {"seconds": budget.seconds, "steps": budget.steps},
        "seeds": list(seeds),
        "eval": {
            "threshold": ab.eval.threshold,
            "zero_shot_passages": ab.eval.zero_shot_passages,
            "dev_passages": ab.eval.dev_passages,
            "dev_sets": list(ab.eval.dev_sets) or "all",
        },
        "arms": arms,
    }


def change_text(arm: Any) -> str:
    parts = [f"{k} = {json.dumps(v)}" for k, v in arm.set.items() if k != "data.train"]
    if "data.train" in arm.set:
        parts.append("data.train = " + ", ".join(_source(s) for s in arm.set["data.train"]))
    parts += [f"prep.{k} = {json.dumps(v)}" for k, v in arm.prep.items()]
    if arm.without:
        parts.append("without " + ", ".join(arm.without))
    return "; ".join(parts) or "(base)"


def _source(s: Any) -> str:
    if isinstance(s, dict):
        return str(s.get("source") or s.get("dataset") or s.get("path"))
    return str(s)


def _fmt(stats: dict[str, Any]) -> str:
    if stats["mean"] is None:
        return "not run"
    if stats["spread"] is None:
        return f"{stats['mean']:.1f}"
    return f"{stats['mean']:.1f} ± {stats['spread'] / 2:.1f}"


def _delta(effect: dict[str, Any] | None, metric: str) -> str:
    e = (effect or {}).get(metric)
    return "" if e is None else f"{e['delta']:+.1f}"


def _noise(e: dict[str, Any] | None) -> str:
    if e is None:
        return ""
    if e["noise"] is None:
        return "spread unknown (1 seed)"
    return "beyond seed spread" if e["beyond_noise"] else "within seed spread"


def _direction(e: dict[str, Any] | None) -> str:
    if e is None or "agrees" not in e:
        return "no paper figure"
    if e["agrees"] is None:
        return "no change"
    return "agrees" if e["agrees"] else "disagrees"


def markdown(table: dict[str, Any]) -> str:
    """The table as markdown: the arms, then each arm's zero-shot sets."""
    b = table["budget"]
    budget = " and ".join(
        x for x in (b["seconds"] and f"{b['seconds']:g} s", b["steps"] and f"{b['steps']} steps")
        if x
    )  # fmt: skip
    ev = table["eval"]
    common = table["common"]
    changes = ", ".join(f"{k} = {json.dumps(v)}" for k, v in common["set"].items())
    dev_sets = "all sets" if ev["dev_sets"] == "all" else ", ".join(ev["dev_sets"])
    lines = [
        f"### Ablation `{table['ablation']}`: {table['title']}",
        "",
        f"Base `{table['base']}`"
        + (f" with {changes}" if changes else "")
        + (f", without {', '.join(common['unset'])}" if common["unset"] else "")
        + f"; varies {', '.join(table['varies'])}; baseline arm `{table['baseline']}`. "
        f"Budget {budget} per run; seeds {', '.join(map(str, table['seeds']))}. Scored at "
        f"threshold {ev['threshold']}, {ev['zero_shot_passages'] or 'all'} passages per "
        f"zero-shot set, {ev['dev_passages']} per dev-suite set ({dev_sets}; suite version 1). "
        "F1 is official, in percent, mean ± half the seed range.",
        "",
        "| arm | change | steps | zero-shot avg | Δ | paper | paper Δ | direction | vs seeds "
        "| dev suite | Δ dev | vs seeds |",
        "|---|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for row in table["arms"]:
        eff = row.get("effect")
        zs, dev = (eff or {}).get("zero_shot"), (eff or {}).get("dev")
        paper = "" if row["paper"] is None else f"{row['paper']:.1f}"
        pdelta = "" if row["paper_delta"] is None else f"{row['paper_delta']:+.1f}"
        steps = ", ".join(str(s) for s in row["steps"] if s is not None)
        base = row["arm"] == table["baseline"]
        lines.append(
            f"| {row['arm']}{' (baseline)' if base else ''} | {row['change']} | {steps} "
            f"| {_fmt(row['zero_shot'])} | {_delta(eff, 'zero_shot')} | {paper} | {pdelta} "
            f"| {'' if base else _direction(zs)} | {_noise(zs)} "
            f"| {_fmt(row['dev'])} | {_delta(eff, 'dev')} | {_noise(dev)} |"
        )
    reused = [f"`{row['arm']}` = `{src}`" for row in table["arms"]
              for src in row.get("reused_from", [])]  # fmt: skip
    if reused:
        lines += [
            "",
            "Runs identical to one of another ablation, reused: " + "; ".join(reused) + ".",
        ]
    display = {v: k for k, v in ZERO_SHOT_DATASETS.items()}
    sets = list(table["arms"][0]["zero_shot_sets"]) if table["arms"] else []
    if sets:
        lines += [
            "",
            "| arm | " + " | ".join(display.get(s, s) for s in sets) + " |",
            "|---|" + "---|" * len(sets),
        ]
        for row in table["arms"]:
            vals = [row["zero_shot_sets"].get(s) for s in sets]
            lines.append(f"| {row['arm']} | {_cells(vals)} |")
    return "\n".join(lines + _dev_cells_lines(table["arms"])) + "\n"


def _cells(values: Sequence[float | None]) -> str:
    """Table cells of percentages, blank where an arm has no figure."""
    return " | ".join("" if v is None else f"{v:.1f}" for v in values)


def _dev_cells_lines(arms: Sequence[dict[str, Any]]) -> list[str]:
    """The dev suite by call shape and text variant, one row per arm (runs scored before the
    report kept these cells have none)."""
    names = list(arms[0].get("dev_cells", {})) if arms else []
    if not names:
        return []
    lines = ["", "| arm (dev suite) | " + " | ".join(names) + " |", "|---|" + "---|" * len(names)]
    for row in arms:
        vals = [row.get("dev_cells", {}).get(n) for n in names]
        lines.append(f"| {row['arm']} | {_cells(vals)} |")
    return lines


def write_table(table: dict[str, Any], folder: Path) -> list[Path]:
    """``table.json`` and ``table.md`` in the ablation's folder."""
    folder.mkdir(parents=True, exist_ok=True)
    js, md = folder / "table.json", folder / "table.md"
    js.write_text(json.dumps(table, indent=1, ensure_ascii=False) + "\n", encoding="utf-8")
    md.write_text(markdown(table), encoding="utf-8")
    return [md, js]
