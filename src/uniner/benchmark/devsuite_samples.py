"""The development suite read on several samples, and their mean (``uniner bench --suite dev
--samples N``).

Why: one sample of the suite (seed 0) moved a model's 1-type vs all-type gap by 1.6 points
against another sample (BENCHMARKS.md, "The soup's weight"), while release rules read
differences of a few tenths. Each seed draws other passages of the same dev splits, other type
orders and other informal rewrites, so the spread across seeds is the suite's own sampling
noise, and the mean over seeds is the reading to decide on when a difference is under a point.
Each sample is a full suite run written to ``OUT/seed-K/``; ``samples.json`` and ``samples.md``
hold the per-seed figures (official F1), their mean and their range (max - min).
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from uniner.benchmark.devsuite import run_dev_suite
from uniner.benchmark.devsuite_report import summary_dict
from uniner.inference.protocol import Extractor

#: The per-seed figures averaged (official F1): the summary and the means by axis.
AXES = ("by_shape", "by_variant", "by_set")


def shape_gaps(by_shape: Mapping[str, float]) -> dict[str, float]:
    """How far each few-type shape is above the all-type calls (the issue's measure)."""
    return {sh: by_shape[sh] - by_shape["all"] for sh in by_shape if sh != "all"}


def sample_figures(official: Mapping[str, Any]) -> dict[str, Any]:
    """One sample's figures: a summary_dict's official part, with the shape gaps added."""
    out = {"summary": official["summary"], **{a: dict(official[a]) for a in AXES}}
    return out | {"gaps": shape_gaps(official["by_shape"])}


def _combine(values: Sequence[Any], how: str) -> Any:
    """Mean or range of numbers, or of dicts of numbers key by key (keys of the first)."""
    if isinstance(values[0], Mapping):
        return _combine_maps(values, how)
    nums = [float(v) for v in values]
    return sum(nums) / len(nums) if how == "mean" else max(nums) - min(nums)


def _combine_maps(values: Sequence[Mapping[str, Any]], how: str) -> dict[str, Any]:
    """:func:`_combine` of dicts: key by key (keys of the first)."""
    return {k: _combine([v[k] for v in values], how) for k in values[0]}


@dataclass(frozen=True)
class DevSamplesResult:
    """Per-seed figures (:func:`sample_figures`), their mean and range, and files written."""

    seeds: tuple[int, ...]
    samples: tuple[dict[str, Any], ...]
    files: tuple[Path, ...] = ()

    @property
    def mean(self) -> dict[str, Any]:
        return _combine_maps(self.samples, "mean")

    @property
    def spread(self) -> dict[str, Any]:
        return _combine_maps(self.samples, "range")

    @property
    def markdown(self) -> str:
        shapes = list(self.samples[0]["by_shape"])
        gaps = list(self.samples[0]["gaps"])
        variants = list(self.samples[0]["by_variant"])
        head = ["seed", "summary", *shapes, *(f"gap {g} vs all" for g in gaps), *variants]
        lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
        rows = [*zip(map(str, self.seeds), self.samples, strict=True)]
        rows += [("**mean**", self.mean), ("range", self.spread)]
        for label, s in rows:
            nums = [s["summary"], *(s["by_shape"][k] for k in shapes)]
            nums += [*(s["gaps"][g] for g in gaps), *(s["by_variant"][v] for v in variants)]
            lines.append(f"| {label} | " + " | ".join(f"{100 * x:.2f}" for x in nums) + " |")
        title = f"Dev suite on {len(self.seeds)} samples (official F1)"
        return f"### {title}\n\n" + "\n".join(lines) + "\n"


def run_dev_samples(
    extractor: Extractor,
    seeds: Sequence[int],
    out: Path | None = None,
    meta: Mapping[str, Any] | None = None,
    **suite_options: Any,
) -> DevSamplesResult:
    """Run the suite once per seed (``run_dev_suite``'s other options apply to each) and
    write ``OUT/seed-K/`` for each plus ``samples.json`` and ``samples.md``."""
    if not seeds or len(set(seeds)) != len(seeds):
        raise ValueError(f"seeds must be distinct and at least one, got {list(seeds)}")
    samples = []
    for seed in seeds:
        folder = out / f"seed-{seed}" if out is not None else None
        r = run_dev_suite(extractor, seed=seed, out=folder, meta=meta, **suite_options)
        samples.append(sample_figures(summary_dict(r)["official"]))
    result = DevSamplesResult(tuple(seeds), tuple(samples))
    if out is None:
        return result
    out.mkdir(parents=True, exist_ok=True)
    payload = {
        "meta": {"seeds": list(seeds), **dict(meta or {})},
        "mean": result.mean,
        "range": result.spread,
        "samples": [{"seed": s, **f} for s, f in zip(seeds, samples, strict=True)],
    }
    files = (out / "samples.json", out / "samples.md")
    files[0].write_text(json.dumps(payload, indent=2) + "\n", encoding="utf-8")
    files[1].write_text(result.markdown, encoding="utf-8")
    return replace(result, files=files)
