"""``uniner extract``: entities of a text (highlighted) or of a whole file (JSON Lines)."""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.table import Table
from rich.text import Text

from uniner.cli import app
from uniner.cli.errors import USAGE, UserError
from uniner.cli.extract_file import FileJob, plan_job, run_job
from uniner.cli.runtime import OnnxDirOption, Runtime, RuntimeOption, apply_runtime, check_runtime
from uniner.data.types import Entity
from uniner.inference.records import (
    check_labels,
    model_identity,
    read_inputs,
    span_rows,
    unicode_problem,
)
from uniner.scale.options import (
    ActorsOption,
    AddressOption,
    Engine,
    EngineOption,
    OutputFormatOption,
    ThreadsPerActorOption,
)

__all__ = ["extract", "highlight", "read_inputs", "span_rows"]

console = Console()
PALETTE = ("cyan", "magenta", "green", "yellow", "blue", "red", "bright_cyan", "bright_magenta")


def highlight(text: str, entities: Sequence[Entity], labels: Sequence[str]) -> Text:
    """The text with each entity coloured by label and tagged ``[label]`` after it.

    A span with several labels (multi-label decoding) is tagged once, best label first:
    ``Tolkien [writer | person]``.
    """
    colour = {lab: PALETTE[i % len(PALETTE)] for i, lab in enumerate(labels)}
    by_span: dict[tuple[int, int], list[Entity]] = {}
    for ent in entities:
        by_span.setdefault((ent.start, ent.end), []).append(ent)
    out = Text()
    pos = 0
    for (start, end), group in sorted(by_span.items(), key=lambda kv: (kv[0][0], -kv[0][1])):
        if start < pos:  # nested/overlapping: listed in the table, not inline
            continue
        group.sort(key=lambda e: -(e.score or 0.0))
        out.append(text[pos:start])
        out.append(text[start:end], style=f"bold {colour.get(group[0].label, 'white')}")
        out.append(" [")
        for i, ent in enumerate(group):
            out.append((" | " if i else "") + ent.label, style=colour.get(ent.label, "white"))
        out.append("]")
        pos = end
    out.append(text[pos:])
    return out


@app.command("extract")
def extract(
    text: Annotated[str | None, typer.Argument(help="text to analyse")] = None,
    label: Annotated[
        list[str] | None, typer.Option("--label", "-l", help="entity type (repeatable)")
    ] = None,
    model: Annotated[
        str | None, typer.Option("--model", "-m", help="shipped name, folder or hub id")
    ] = None,
    threshold: Annotated[
        float | None,
        typer.Option(
            min=0.0, max=1.0, help="minimum score [default: the model's, chosen at release]"
        ),
    ] = None,
    nested: Annotated[bool, typer.Option(help="allow nested entities")] = False,
    multi_label: Annotated[
        bool | None,
        typer.Option(help="several labels per span [default: the model's release setting]"),
    ] = None,
    input: Annotated[Path | None, typer.Option("--input", "-i", help=".jsonl or .txt")] = None,
    output: Annotated[
        Path | None,
        typer.Option("--output", "-o", help="JSON Lines out; a rerun continues an interrupted one"),
    ] = None,
    batch_size: Annotated[int, typer.Option(min=1, help="texts per model call")] = 16,
    threads: Annotated[int | None, typer.Option(min=1, help="CPU threads")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="print JSON instead")] = False,
    runtime: RuntimeOption = Runtime.torch,
    onnx_dir: OnnxDirOption = None,
    engine: EngineOption = Engine.local,
    address: AddressOption = None,
    actors: ActorsOption = None,
    threads_per_actor: ThreadsPerActorOption = None,
    output_format: OutputFormatOption = None,
) -> None:
    """Find entities of the given types in TEXT, or in every record of --input."""
    labels = _check_arguments(text, label, input, output)
    check_runtime(runtime, onnx_dir)
    generative = _generative(model, runtime)
    if engine is Engine.ray:  # shards in a folder or glob, on Ray (uniner.scale)
        from uniner.scale.cli import extract_with_ray

        extract_with_ray(locals())
        return
    job = _file_job(input, output, labels, model, threshold, nested, multi_label, runtime)
    if generative:
        assert model is not None
        _extract_generative(model, text, labels, job, threads, as_json)
        return
    from uniner.api import load

    extractor = apply_runtime(
        load(model, threads=threads, batch_size=batch_size), runtime, onnx_dir
    )
    call = _SpanCall(labels, threshold, "nested" if nested else "flat", multi_label)
    if job is not None:
        _extract_file(extractor, job, batch_size, call)
    else:
        assert text is not None
        _extract_text(extractor, text, call, as_json)


def _file_job(
    input: Path | None,
    output: Path | None,
    labels: list[str],
    model: str | None,
    threshold: float | None,
    nested: bool,
    multi_label: bool | None,
    runtime: Runtime,
) -> FileJob | None:
    """The --input job, every record checked before the (slow) model load (None for a TEXT);
    its settings go in the sidecar that lets a rerun continue."""
    if input is None:
        return None
    settings = {
        "labels": labels,
        "model": model_identity(model),
        "threshold": threshold,
        "nested": nested,
        "multi_label": multi_label,
        "runtime": runtime.value,
    }
    return plan_job(input, output, labels, settings)


def _generative(model: str | None, runtime: Runtime) -> bool:
    """Whether ``model`` is a generative student (torch only: another runtime is refused)."""
    generative = model is not None and _is_generative(model)
    if generative and runtime is not Runtime.torch:
        raise typer.BadParameter(
            "the generative student runs on torch only", param_hint="--runtime"
        )
    return generative


@dataclass(frozen=True)
class _SpanCall:
    """What one ``uniner extract`` asks the span student, for a text or for every record."""

    labels: list[str]
    threshold: float | None
    mode: str
    multi_label: bool | None


def _extract_file(extractor: Any, job: FileJob, batch_size: int, call: _SpanCall) -> None:
    def rows(chunk: list[dict[str, Any]]) -> list[dict[str, Any]]:
        with WindowProgress(extractor.batch_size) as progress:
            return span_rows(
                extractor, chunk, call.threshold, call.mode, call.multi_label, progress
            )

    run_job(job, batch_size, rows)
    console.print(f"[green]wrote[/green] {job.out} ({job.total} texts)")


def _extract_text(extractor: Any, text: str, call: _SpanCall, as_json: bool) -> None:
    with WindowProgress(extractor.batch_size) as progress:
        res = extractor.extract_each(
            [text], [call.labels], call.threshold, call.mode, call.multi_label, progress=progress
        )
    ents = list(res[0].entities)
    # the threshold this call used: the caller's, or the model's for this many types
    shown = _print_entities(
        text, ents, call.labels, as_json, scores=True, threshold=res[0].threshold
    )
    if shown and res[0].windowed:
        console.print(f"[dim]read in {len(res[0].windows)} overlapping windows[/dim]")


def _check_arguments(
    text: str | None, label: list[str] | None, input: Path | None, output: Path | None
) -> list[str]:
    """The -l labels, once the command line is known to make sense (else exit 2, one line)."""
    labels = list(label or [])
    if input is None and text is None:
        raise typer.BadParameter("give a TEXT argument or --input FILE")
    if input is not None and text is not None:
        raise typer.BadParameter("give a TEXT argument or --input FILE, not both")
    if input is None and output is not None:
        raise typer.BadParameter("--output needs --input FILE", param_hint="--output")
    if input is None and not labels:
        raise typer.BadParameter("give at least one label with -l, e.g. -l person -l disease")

    def bad(message: str) -> UserError:
        return UserError(message, USAGE)

    check_labels(labels, bad, lambda i: f"-l/--label number {i + 1}")
    if text is not None and (problem := unicode_problem(text)):
        raise UserError(f"TEXT {problem}", USAGE)
    return labels


class WindowProgress:
    """A progress bar over encoder inputs (windows x label passes) for a call that needs more
    than one model pass: a long text otherwise sits behind a record bar that does not move."""

    def __init__(self, per_pass: int) -> None:
        self.per_pass = per_pass
        self.bar: Any = None

    def __call__(self, done: int, total: int) -> None:
        if self.bar is None:
            if total <= self.per_pass:
                return
            from tqdm.auto import tqdm  # type: ignore[import-untyped]

            self.bar = tqdm(total=total, unit="window", leave=False, desc="windows")
        self.bar.update(done - self.bar.n)

    def __enter__(self) -> WindowProgress:
        return self

    def __exit__(self, *exc: object) -> None:
        if self.bar is not None:
            self.bar.close()


def _is_generative(model: str) -> bool:
    from uniner.students.generative.extractor import is_generative

    return is_generative(model)


def _extract_generative(
    model: str,
    text: str | None,
    labels: list[str],
    job: FileJob | None,
    threads: int | None,
    as_json: bool,
) -> None:
    """The generative student answers one question per type; it has no scores or thresholds."""
    from uniner.students.generative.extractor import GenerativeExtractor

    ext = GenerativeExtractor.load(model, threads=threads)
    if job is None:
        assert text is not None
        _print_entities(text, ext.extract(text, labels), labels, as_json, scores=False)
    else:

        def generative_rows(chunk: list[dict[str, Any]]) -> list[dict[str, Any]]:
            # one record at a time: records may ask different types
            return [
                {"entities": [e.to_dict() for e in ext.extract(r["text"], r["labels"])]}
                for r in chunk
            ]

        run_job(job, 1, generative_rows)
        console.print(f"[green]wrote[/green] {job.out} ({job.total} texts)")
    if ext.unfound:
        console.print(f"[yellow]{len(ext.unfound)} answer string(s) not found in the text[/yellow]")


def _print_entities(
    text: str,
    ents: list[Any],
    labels: list[str],
    as_json: bool,
    scores: bool,
    threshold: float | None = None,
) -> bool:
    """Print entities as JSON or as highlighted text and a table; False when JSON was printed."""
    if as_json:
        typer.echo(json.dumps({"text": text, "entities": [e.to_dict() for e in ents]}))
        return False
    console.print(highlight(text, ents, labels))
    cut = None if threshold is None else f"threshold {threshold:.2f}"
    table = Table("start", "end", "text", "label", *(["score"] if scores else []), caption=cut)
    for e in ents:
        cells = [str(e.start), str(e.end), e.text, e.label]
        table.add_row(*cells, *([f"{e.score or 0:.3f}"] if scores else []))
    empty = f"no entities above the {cut or 'threshold'}" if scores else "no entities found"
    console.print(table if ents else f"[dim]{empty}[/dim]")
    return True
