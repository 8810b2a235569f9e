"""Orchestration behind ``uniner bench``: resolve the extractor and data sets, run, report."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from uniner.benchmark import paper
from uniner.benchmark.loaders import load_split
from uniner.benchmark.registry import DatasetSpec, get, suite
from uniner.benchmark.report import (
    bar_chart,
    domain_table,
    errors_chart,
    errors_table,
    markdown_table,
    write_csv,
    write_json,
)
from uniner.benchmark.runner import DatasetResult, evaluate_split
from uniner.inference.protocol import Extractor


@dataclass(frozen=True)
class BenchSummary:
    results: tuple[DatasetResult, ...]
    markdown: str
    files: tuple[Path, ...]
    errors_markdown: str = ""


def resolve_extractor(name: str) -> Extractor:
    """``gazetteer``, ``spacy``, a shipped model name, a model folder or a hub id (span or
    generative student: see :func:`uniner.students.generative.extractor.is_generative`)."""
    if name == "gazetteer":
        from uniner.baselines.gazetteer import default_gazetteer

        return default_gazetteer()
    if name in ("spacy", "spacy-sm"):
        from uniner.baselines.spacy_ner import SpacyExtractor

        return SpacyExtractor()
    from uniner.students.generative.extractor import GenerativeExtractor, is_generative

    if is_generative(name):  # a generative student folder/adapter, causal LM or UniNER hub id
        return GenerativeExtractor.load(name)
    from uniner.api import load

    try:
        return load(name)
    except FileNotFoundError as exc:
        raise ValueError(
            f"unknown extractor {name!r}: use gazetteer, spacy, a shipped model name or a model "
            f"folder ({exc})"
        ) from exc


def resolve_datasets(names: Sequence[str] | None, suite_name: str, split: str) -> list[DatasetSpec]:
    specs = [get(n) for n in names] if names else list(suite(suite_name))
    missing = [s.name for s in specs if split not in s.splits() or not s.present()]
    if names and missing:
        raise FileNotFoundError(f"no {split} files here for: {', '.join(missing)}")
    return [s for s in specs if s.name not in missing]


def paper_rows_for(specs: Sequence[DatasetSpec]) -> dict[str, dict[str, float]]:
    """The section 4 rows when every data set is a zero-shot column, else the Fig. 9 rows."""
    col_of = {v: k for k, v in paper.ZERO_SHOT_DATASETS.items()}
    if all(s.name in col_of for s in specs):
        return {
            model: {s.name: row[col_of[s.name]] for s in specs}
            for model, row in paper.ZERO_SHOT_TABLE.items()
        }
    rows: dict[str, dict[str, float]] = {"ChatGPT": {}, "UniNER-7B": {}, "UniNER-7B w/ sup": {}}
    for s in specs:
        fig = paper.figures(s.name)
        if fig is not None:
            rows["ChatGPT"][s.name] = fig.chatgpt
            rows["UniNER-7B"][s.name] = fig.uniner_7b
            rows["UniNER-7B w/ sup"][s.name] = fig.uniner_7b_sup
    return rows


def run_bench(
    extractor_name: str,
    names: Sequence[str] | None = None,
    suite: str = "zero-shot",
    split: str = "test",
    max_queries: int | None = None,
    seed: int = 0,
    batch_size: int = 32,
    out: Path = Path("runs/bench"),
    meta: Mapping[str, Any] | None = None,
    extractor: Extractor | None = None,
    progress: bool = True,
    max_passages: int | None = None,
    save_predictions: bool = False,
) -> BenchSummary:
    """Run and score every data set; write JSON, CSV, markdown tables and PNG charts to ``out``.

    ``save_predictions`` also writes ``out/predictions/<data set>.<split>.jsonl`` (see
    :mod:`uniner.benchmark.dump`).
    """
    specs = resolve_datasets(names, suite, split)
    if not specs:
        raise FileNotFoundError(f"no data set of suite {suite!r} has a {split} split here")
    ext = extractor if extractor is not None else resolve_extractor(extractor_name)
    results = []
    for spec in specs:
        data = load_split(spec, split)
        results.append(
            evaluate_split(
                ext,
                spec.name,
                split,
                data.labels,
                data.examples,
                max_queries=max_queries,
                seed=seed,
                batch_size=batch_size,
                progress=progress,
                max_passages=max_passages,
                save_to=(
                    out / "predictions" / f"{spec.name}.{split}.jsonl" if save_predictions else None
                ),
            )
        )
    meta_all = {
        "extractor": ext.name,
        "split": split,
        "max_queries": max_queries,
        "max_passages": max_passages,
        "seed": seed,
        **(meta or {}),
    }
    return write_outputs(results, specs, ext.name, split, meta_all, out)


def write_outputs(
    results: list[DatasetResult],
    specs: Sequence[DatasetSpec],
    name: str,
    split: str,
    meta: dict[str, Any],
    out: Path,
) -> BenchSummary:
    """Write the run's tables and charts to ``out``: results.json and .csv, table.md beside
    the paper's rows, f1.png, and errors.md and errors.png (where the extractor goes wrong)."""
    out.mkdir(parents=True, exist_ok=True)
    display = {v: k for k, v in paper.ZERO_SHOT_DATASETS.items()}
    rows = paper_rows_for(specs)
    md = f"### {name} on {split} ({', '.join(s.name for s in specs)})\n\n"
    md += markdown_table(results, name, rows, display)
    md += "\nPer-domain averages:\n\n" + domain_table(results, {s.name: s.domain for s in specs})
    files = (
        out / "results.json",
        out / "results.csv",
        out / "table.md",
        out / "f1.png",
        out / "errors.md",
        out / "errors.png",
    )
    write_json(results, files[0], meta)
    write_csv(results, files[1])
    files[2].write_text(md, encoding="utf-8")
    reference = rows.get("UniNER-7B")
    bar_chart(results, files[3], name, reference=reference, display=display)
    errors_md = f"### Where {name} goes wrong ({split}, offsets)\n\n"
    errors_md += errors_table(results, display)
    files[4].write_text(errors_md, encoding="utf-8")
    errors_chart(results, files[5], name, display=display)
    return BenchSummary(tuple(results), md, files, errors_md)
