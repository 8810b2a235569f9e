"""``uniner data``: inspect data files. ``uniner data stats`` checks them against the README.

The numbers come from :mod:`uniner.data.stats`; this module only renders them (a rich table,
or JSON with ``--json``). A file that fails to load is reported with the reader's message
(file, line, what was expected) and makes the command exit with status 1.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.markup import escape
from rich.table import Table

from uniner.cli import app
from uniner.cli.errors import RUNTIME, UserError, one_line
from uniner.data.errors import DataFormatError
from uniner.data.stats import FileStats, expand_paths, file_stats, iter_data_files
from uniner.paths import data_dir

data_app = typer.Typer(help="Inspect the data files: formats and counts.", no_args_is_help=True)
app.add_typer(data_app, name="data")


def _cell(value: int | None) -> str:
    return "-" if value is None else f"{value:,}"


def _count(s: FileStats) -> str:
    text = f"{s.count:,} {s.unit}"
    if s.distinct is not None:
        text += f" ({s.distinct:,} distinct)"
    return text


def _queries(s: FileStats) -> str:
    if s.queries is None:
        return "-"
    return f"{s.queries:,} ({_cell(s.nonempty)} non-empty)"


def _relative(path: Path, root: Path | None) -> str:
    if root is not None:
        try:
            return str(path.resolve().relative_to(root))
        except ValueError:
            pass
    return str(path)


@data_app.command("stats")
def stats(
    paths: Annotated[
        list[Path] | None,
        typer.Argument(help="files or folders (default: every file of the shared data dir)"),
    ] = None,
    format: Annotated[
        str | None, typer.Option("--format", "-f", help="force a format instead of detecting it")
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="machine-readable output")] = False,
) -> None:
    """Format, count, tokens, mentions and types per file, as the data README counts them."""
    root, files = _files(paths)
    results: list[FileStats] = []
    errors: list[tuple[str, str]] = []
    for f in files:
        try:
            results.append(file_stats(f, format))
        except (DataFormatError, FileNotFoundError, ValueError) as exc:
            errors.append((_relative(f, root), str(exc)))
    if as_json:
        _print_json(results, errors, root)
    else:
        _print_table(results, errors, root)
    if errors:
        raise typer.Exit(1)


def _files(paths: list[Path] | None) -> tuple[Path | None, list[Path]]:
    """The data root (paths are shown relative to it) and the files to read: those named, or
    every file of the shared data folder (exit 2 when there is none)."""
    if paths:
        files = expand_paths(paths)
        if not files:
            raise UserError(f"no data files in {', '.join(map(str, paths))}", RUNTIME)
        return data_dir(), files
    try:
        root = data_dir(required=True)
    except FileNotFoundError as exc:
        typer.echo(str(exc), err=True)
        raise typer.Exit(2) from exc
    assert root is not None
    return root, list(iter_data_files(root))


def _print_json(results: list[FileStats], errors: list[tuple[str, str]], root: Path | None) -> None:
    rows = []
    for s in results:
        row = s.to_dict()
        row["path"] = _relative(Path(s.path), root)
        rows.append(row)
    out = {"files": rows, "errors": [{"path": p, "error": e} for p, e in errors]}
    typer.echo(json.dumps(out, indent=2, ensure_ascii=False))


def _print_table(
    results: list[FileStats], errors: list[tuple[str, str]], root: Path | None
) -> None:
    """A rich table on stdout, then one ``error:`` line per failed file on stderr."""
    console = Console()
    if not console.is_terminal:  # piped to a file or a log: no reason to fold at 80 columns
        console = Console(width=max(console.width, 200))
    table = Table(title="data files", show_lines=False)
    table.add_column("file", overflow="fold", min_width=24)
    table.add_column("format", no_wrap=True)
    for name in ("count", "queries", "tokens", "mentions", "types"):
        table.add_column(name, justify="right")
    table.add_column("note", overflow="fold")
    for s in results:
        table.add_row(
            escape(_relative(Path(s.path), root)),
            s.format,
            _count(s),
            _queries(s),
            _cell(s.tokens),
            _cell(s.mentions),
            _cell(s.types),
            escape(s.note or ""),
        )
    if results:  # every file failed: the error lines alone say it
        console.print(table)
    for p, e in errors:  # one line each on stderr; the reader's message names the file
        typer.echo(f"error: {one_line(e if e.startswith(p) else f'{p}: {e}')}", err=True)
