"""The ``uniner`` command. Each sub-command lives in its own module and registers itself here."""

from __future__ import annotations

from typing import Annotated

import typer

from uniner.cli.errors import UninerGroup

app = typer.Typer(
    name="uniner",
    cls=UninerGroup,  # every sub-command's expected failures: one line, exit 1 or 2
    help="Open NER by targeted distillation: data, benchmark, models.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
)


def _print_version(value: bool) -> None:
    """The package version and each shipped model's name and version (from its config.json)."""
    if not value:
        return
    import json

    from uniner import __version__
    from uniner.models import MODEL_ALIASES, shipped_models

    typer.echo(f"uniner {__version__}")
    for name, folder in sorted(shipped_models().items()):
        cfg = json.loads((folder / "config.json").read_text(encoding="utf-8"))
        aliases = ", ".join(a for a, target in MODEL_ALIASES.items() if target == name)
        typer.echo(f"{name} {cfg.get('version', '?')}" + (f" ({aliases})" if aliases else ""))
    raise typer.Exit()


@app.callback()
def _options(
    version: Annotated[
        bool,
        typer.Option(
            "--version", callback=_print_version, is_eager=True, help="print versions and exit"
        ),
    ] = False,
) -> None:
    """Open NER by targeted distillation: data, benchmark, models."""


def _register() -> None:
    # Imported for their side effect of adding commands to ``app``.
    from uniner.cli import (  # noqa: F401
        ablate_cmd,
        backbone_cmd,
        bench_cmd,
        data_cmd,
        distill_cmd,
        extract_cmd,
        instruct_cmd,
        serve_cmd,
        train_cmd,
    )


def main() -> None:
    _register()
    app()
