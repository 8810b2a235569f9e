"""Names written as hashtags: the dev suite's informal text with half its one-word mentions
tagged (``#Chicago``), read with a hashtag's ``#`` as written and bare.

    python bench/hashtag_probe.py --model uniner-span-mpnet --out runs/hashtag-probe \\
        [--seeds 0 1 2]

Why: the informal-text augmentation inserts hashtags and handles only as non-mentions, so a
model trained on it learns that a tagged word is never a name (v0.16.0 scores "Chicago" 0.98,
"#Chicago" under 0.05), while real posts tag names all the time. The suite's informal variant
never tags a mention, so it cannot see this; the ``tagged`` variant (``uniner.data.augment``,
``TAGGED_STYLE``) can. Each seed runs the suite's sets, shapes and passages on two variants,
``informal`` (the suite's own: what the bare reading must not lose) and ``tagged``, once per
reading (``SpanModelConfig.hashtags``). Dev-suite data only; never CrossNER or MIT. Writes
``probe.json`` and ``probe.md``.
"""

from __future__ import annotations

import argparse
import json
from collections.abc import Sequence
from dataclasses import replace
from pathlib import Path

from uniner import load
from uniner.benchmark.devsuite import run_dev_suite
from uniner.benchmark.devsuite_data import DEV_SUITE
from uniner.students.span.config import HASHTAG_READINGS

VARIANTS = ("informal", "tagged")


def probe(model_ref: str, seeds: Sequence[int]) -> dict[str, dict[str, list[float]]]:
    """Official F1 (0-1) by reading, then variant, one value per seed."""
    spec = replace(DEV_SUITE, variants=VARIANTS)
    model = load(model_ref)
    out: dict[str, dict[str, list[float]]] = {}
    for reading in HASHTAG_READINGS:
        model.with_hashtags(reading)  # a reading setting: the weights stay as loaded
        rows = out.setdefault(reading, {v: [] for v in VARIANTS})
        for seed in seeds:
            by_variant = run_dev_suite(model, seed=seed, spec=spec, progress=False).by("variant")
            for v in VARIANTS:
                rows[v].append(by_variant[v])
    return out


def markdown(model_ref: str, seeds: Sequence[int], res: dict[str, dict[str, list[float]]]) -> str:
    head = "| reading | variant | " + " | ".join(f"seed {s}" for s in seeds) + " | mean |"
    lines = [f"### {model_ref}: names written as hashtags (official F1)", "", head]
    lines.append("|---|---|" + "---:|" * (len(seeds) + 1))
    for reading, rows in res.items():
        for v, vals in rows.items():
            cells = " | ".join(f"{100 * x:.2f}" for x in vals)
            lines.append(f"| {reading} | {v} | {cells} | {100 * sum(vals) / len(vals):.2f} |")
    return "\n".join(lines) + "\n"


def main(argv: Sequence[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--model", default="uniner-span-mpnet")
    ap.add_argument("--out", type=Path, required=True)
    ap.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    a = ap.parse_args(argv)
    res = probe(a.model, a.seeds)
    a.out.mkdir(parents=True, exist_ok=True)
    payload = {"model": a.model, "seeds": a.seeds, "official": res}
    (a.out / "probe.json").write_text(json.dumps(payload, indent=2) + "\n", encoding="utf-8")
    (a.out / "probe.md").write_text(markdown(a.model, a.seeds, res), encoding="utf-8")
    print(markdown(a.model, a.seeds, res))


if __name__ == "__main__":
    main()
