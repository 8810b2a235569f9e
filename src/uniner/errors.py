"""The error every command back end raises for an expected failure, and its two exit codes.

Why here, at the bottom of the package: the ``uniner`` CLI reports a :class:`UserError` as one
line on stderr (:mod:`uniner.cli.errors`), and the back ends that run a command's work outside
the CLI module (:mod:`uniner.scale`, the Ray engine) raise the same error so that both engines
fail with the same line and exit code. A lower layer that imported the CLI to get them would
depend on the top of the package; this module depends on nothing.
"""

from __future__ import annotations

USAGE = 2  # the command line is wrong: an option value, a missing argument
RUNTIME = 1  # the input, the disk or the network is: a missing file, a malformed record


class UserError(Exception):
    """An expected failure a command reports as one line (``code``: :data:`USAGE` or
    :data:`RUNTIME`)."""

    def __init__(self, message: str, code: int = RUNTIME) -> None:
        super().__init__(message)
        self.code = code
