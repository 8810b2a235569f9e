"""``uniner backbone``: list the offline backbones and materialise one into the cache.

``fetch`` is a command of its own because it is slow once (download + dequantisation) and
instant afterwards: running it ahead of training or distillation keeps those jobs' logs clean,
and CI can warm its cache with it.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table

from uniner.backbones import fetch, get_spec, list_backbones, read_manifest, verify
from uniner.cli import app

backbone_app = typer.Typer(help="Offline backbones: list and fetch.", no_args_is_help=True)
app.add_typer(backbone_app, name="backbone")

CacheOpt = Annotated[
    Path | None,
    typer.Option(
        "--cache-dir", help="cache folder (default: $UNINER_CACHE or ~/.cache/uniner/backbones)"
    ),
]


@backbone_app.command("list")
def list_cmd(
    cache_dir: CacheOpt = None,
    as_json: Annotated[bool, typer.Option("--json", help="print JSON")] = False,
) -> None:
    """Every registered backbone, where it comes from and whether it is available here."""
    rows = list_backbones(cache_dir)
    if as_json:
        typer.echo(json.dumps(rows, indent=2))
        return
    table = Table("name", "kind", "source", "licence", "available", "path")
    for r in rows:
        table.add_row(
            r["name"],
            r["kind"],
            r["source"],
            r["licence"],
            "yes" if r["available"] else "no",
            r["path"] or "-",
        )
    Console().print(table)


@backbone_app.command("fetch")
def fetch_cmd(
    name: Annotated[str, typer.Argument(help="registered backbone name")],
    cache_dir: CacheOpt = None,
    force: Annotated[bool, typer.Option("--force", help="rebuild even if cached")] = False,
    check: Annotated[bool, typer.Option("--verify", help="re-check file checksums")] = False,
) -> None:
    """Materialise NAME into the cache and print its folder."""
    try:
        get_spec(name)
    except KeyError as exc:
        typer.echo(f"error: {exc.args[0]}", err=True)
        raise typer.Exit(2) from None
    err = Console(stderr=True)
    with err.status(f"fetching {name} (first time: download + dequantise, about a minute)"):
        path = fetch(name, cache_dir, force=force)
    if check and read_manifest(path) is not None:
        bad = verify(path)
        if bad:
            typer.echo(f"error: {path}: checksum mismatch for {', '.join(bad)}", err=True)
            raise typer.Exit(1)
    typer.echo(str(path))
