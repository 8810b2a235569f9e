"""The ``uniner`` command. Each sub-command lives in its own module and registers itself here."""

from __future__ import annotations

import typer

app = typer.Typer(
    name="uniner",
    help="Open NER by targeted distillation: data, benchmark, models.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
)


def _register() -> None:
    # Imported for their side effect of adding commands to ``app``.
    from uniner.cli import (  # noqa: F401
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
