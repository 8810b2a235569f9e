"""``uniner bench``: run an extractor over benchmark data sets, or score a predictions file."""

from __future__ import annotations

import json
import platform
import sys
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.console import Console

from uniner.cli import app
from uniner.cli.errors import USAGE, UserError, backbone_errors
from uniner.cli.runtime import OnnxDirOption, Runtime, RuntimeOption, apply_runtime, check_runtime

if TYPE_CHECKING:
    from uniner.inference.protocol import Extractor

console = Console()


ExtractorOpt = Annotated[
    str, typer.Option("--extractor", "-e", help="gazetteer, spacy, a model name or folder")
]
SuiteOpt = Annotated[
    str,
    typer.Option(
        help="zero-shot (the 7 CrossNER/MIT sets), present, all, or dev (the development "
        "suite: dev sets outside CrossNER/MIT in 3 call shapes and 3 variants)"
    ),
]
DatasetOpt = Annotated[
    list[str] | None, typer.Option("--dataset", "-d", help="data set name (repeatable)")
]
SplitOpt = Annotated[str, typer.Option(help="train, dev or test")]
MaxQueriesOpt = Annotated[
    int | None, typer.Option(min=1, help="seeded cap on (passage, type) pairs per data set")
]
MaxPassagesOpt = Annotated[
    int | None,
    typer.Option(
        min=1,
        help="seeded cap on passages per data set, each asked all its types (dev suite: "
        "passages before its top-up to enough gold mentions per set)",
    ),
]
SeedOpt = Annotated[int, typer.Option(help="seed of the query or passage sample")]
SamplesOpt = Annotated[
    int,
    typer.Option(
        min=1,
        help="dev suite: read it on this many samples (seeds SEED, SEED+1, ...) and report "
        "their mean and range (OUT/samples.md; each sample under OUT/seed-K)",
    ),
]
BatchSizeOpt = Annotated[int, typer.Option(min=1, help="texts per extractor call")]
OutOpt = Annotated[Path, typer.Option(help="folder for JSON, CSV, markdown and PNG")]
PredictionsOpt = Annotated[
    Path | None,
    typer.Option(
        help="score a predictions file instead of running a model: UniNER-format "
        "generations, or a file written by --save-predictions (rescored as the run did)"
    ),
]
GoldOpt = Annotated[
    Path | None, typer.Option(help="UniNER test file with the gold answers, joined by id")
]
ThresholdOpt = Annotated[
    float | None,
    typer.Option(
        min=0.0,
        max=1.0,
        help="score threshold for every call (span models; default: the model's released one)",
    ),
]
SavePredictionsOpt = Annotated[
    bool,
    typer.Option(
        help="also write every scored passage with gold and predicted entities "
        "(OUT/predictions/<data set>.<split>.jsonl) for error analysis and re-scoring",
    ),
]


@app.command("bench")
def bench(
    extractor: ExtractorOpt = "gazetteer",
    suite: SuiteOpt = "zero-shot",
    dataset: DatasetOpt = None,
    split: SplitOpt = "test",
    max_queries: MaxQueriesOpt = None,
    max_passages: MaxPassagesOpt = None,
    seed: SeedOpt = 0,
    samples: SamplesOpt = 1,
    batch_size: BatchSizeOpt = 32,
    out: OutOpt = Path("runs/bench"),
    predictions: PredictionsOpt = None,
    gold: GoldOpt = None,
    threshold: ThresholdOpt = None,
    save_predictions: SavePredictionsOpt = False,
    runtime: RuntimeOption = Runtime.torch,
    onnx_dir: OnnxDirOption = None,
) -> None:
    """Run EXTRACTOR over the benchmark and print the table beside the paper's rows."""
    if predictions is not None:
        _score_predictions(predictions, gold)
        return
    from uniner.benchmark.bench import resolve_extractor, run_bench

    check_runtime(runtime, onnx_dir)
    _check_sampling(suite, split, max_queries, max_passages, samples)
    _check_bench_args(dataset, suite, split, out)  # before any model loads
    _check_extractor(extractor)
    with backbone_errors():  # a model extractor may need its backbone fetched first
        model = _configured_model(extractor, threshold, runtime, onnx_dir)
        if suite == "dev":
            seeds = list(range(seed, seed + samples))
            _dev_suite(model or resolve_extractor(extractor), dataset, max_passages, seeds, out)
            return
        meta = {"python": platform.python_version(), "runtime": runtime.value}
        summary = run_bench(
            extractor_name=extractor,
            extractor=model,
            names=dataset or None,
            suite=suite,
            split=split,
            max_queries=max_queries,
            max_passages=max_passages,
            seed=seed,
            batch_size=batch_size,
            out=out,
            save_predictions=save_predictions,
            meta={**_run_meta(), **meta, "threshold": threshold},
        )
    typer.echo(summary.markdown)
    typer.echo(summary.errors_markdown)
    console.print(f"[green]wrote[/green] {', '.join(str(p) for p in summary.files)}")


def _check_sampling(
    suite: str, split: str, max_queries: int | None, max_passages: int | None, samples: int = 1
) -> None:
    """Option combinations that cannot run (exit 2)."""
    if samples > 1 and suite != "dev":
        raise typer.BadParameter("--samples reads the dev suite: add --suite dev")
    if max_queries is not None and max_passages is not None:
        raise typer.BadParameter("give --max-queries or --max-passages, not both")
    if suite == "dev" and max_queries is not None:
        raise typer.BadParameter("the dev suite samples passages: use --max-passages")
    if split not in ("train", "dev", "test"):
        raise typer.BadParameter(f"split must be train, dev or test, got {split!r}")


def _configured_model(
    extractor: str, threshold: float | None, runtime: Runtime, onnx_dir: Path | None
) -> Extractor | None:
    """The extractor loaded here when an option changes it (a fixed threshold, the ONNX
    runtime); None otherwise, and the runner loads it by name."""
    from uniner.benchmark.bench import resolve_extractor

    model: Extractor | None = None
    if threshold is not None:  # a fixed threshold replaces the model's released decoding
        model = resolve_extractor(extractor)
        if not hasattr(model, "fixed_threshold"):
            raise typer.BadParameter(
                f"{extractor} has no score threshold to set; only span-student models do",
                param_hint="--threshold",
            )
        model.fixed_threshold(threshold)
    if runtime is Runtime.onnx:  # only the span student has a graph to export
        model = model or resolve_extractor(extractor)
        if not hasattr(model, "use_onnx"):
            raise typer.BadParameter(
                f"{extractor} has no ONNX runtime; only span-student models do",
                param_hint="--runtime",
            )
        apply_runtime(model, runtime, onnx_dir)
    return model


def _run_meta() -> dict[str, str]:
    """What every bench output records about its run: the command, the date and the machine."""
    return {
        "command": " ".join(["uniner", *sys.argv[1:]]),
        "date": datetime.now(UTC).isoformat(timespec="seconds"),
        "machine": f"{platform.machine()} {platform.processor() or ''}".strip(),
    }


def _dev_suite(
    model: Extractor, sets: list[str] | None, max_passages: int | None, seeds: list[int], out: Path
) -> None:
    """``--suite dev``: the development suite (:mod:`uniner.benchmark.devsuite`); ``--dataset``
    picks some of its sets, ``--split`` does not apply (dev splits only). More than one seed
    (``--samples``) reads it once per seed and reports the mean
    (:mod:`uniner.benchmark.devsuite_samples`)."""
    from uniner.benchmark.devsuite import DevSuiteDataError, DevSuiteResult, run_dev_suite
    from uniner.benchmark.devsuite_samples import DevSamplesResult, run_dev_samples

    if max_passages is not None and max_passages <= 0:
        raise typer.BadParameter(
            f"must be positive, got {max_passages}", param_hint="--max-passages"
        )
    names, meta = sets or None, _run_meta()
    try:
        result: DevSuiteResult | DevSamplesResult = (
            run_dev_samples(model, seeds, out=out, sets=names, max_passages=max_passages, meta=meta)
            if len(seeds) > 1
            else run_dev_suite(
                model, seed=seeds[0], out=out, sets=names, max_passages=max_passages, meta=meta
            )
        )
    except DevSuiteDataError as exc:
        raise typer.BadParameter(str(exc), param_hint="--dataset") from None
    typer.echo(result.markdown)
    console.print(f"[green]wrote[/green] {', '.join(str(p) for p in result.files)}")


def _check_bench_args(names: list[str] | None, suite_name: str, split: str, out: Path) -> None:
    """Unknown data set or suite names and an --out that is a file (exit 2), and data sets
    without files here (exit 1), refused before a model loads and the sets run, not after."""
    from uniner.benchmark.bench import resolve_datasets

    if suite_name != "dev":  # the dev suite checks its own sets (_dev_suite)
        try:
            specs = resolve_datasets(names or None, suite_name, split)
        except KeyError as exc:
            raise UserError(str(exc.args[0]), USAGE) from None
        if not specs:
            raise UserError(f"no data set of suite {suite_name!r} has a {split} split here")
    if out.exists() and not out.is_dir():
        raise UserError(f"{out}: is a file; --out takes a folder", USAGE)


def _check_extractor(name: str) -> None:
    """A name that can name no extractor is a usage error (exit 2), said before anything loads;
    hub ids are left to the load, which says why it could not fetch them."""
    if name in ("gazetteer", "spacy", "spacy-sm") or ("/" in name and not Path(name).exists()):
        return
    from uniner.models import MODEL_ALIASES, shipped_models
    from uniner.students.generative.extractor import is_generative

    if name in shipped_models() or name in MODEL_ALIASES or is_generative(name):
        return
    if (Path(name) / "config.json").is_file():
        return
    raise UserError(
        f"unknown extractor {name!r}: use gazetteer, spacy, a model folder or a shipped model "
        f"({', '.join(shipped_models()) or 'none installed'})",
        USAGE,
    )


def _score_predictions(path: Path, gold: Path | None) -> None:
    from uniner.benchmark.dump import rescore
    from uniner.benchmark.predictions import score_predictions_file

    if _is_saved_predictions(path):  # --save-predictions output: gold and entities per passage
        if gold is not None:
            raise UserError(f"{path} holds its own gold; --gold is for UniNER generations", USAGE)
        console.print_json(json.dumps({"file": str(path), **rescore(path).to_dict()}))
        return
    result = score_predictions_file(path, gold)
    console.print_json(json.dumps(result))


def _is_saved_predictions(path: Path) -> bool:
    """Whether the file's first record is a passage of ``--save-predictions`` (text, gold and
    predicted entities) rather than a UniNER generation (id and prediction)."""
    from uniner.data.readers._common import iter_json_records

    for _, rec in iter_json_records(path):
        return isinstance(rec, dict) and {"text", "gold", "predicted"} <= rec.keys()
    return False
