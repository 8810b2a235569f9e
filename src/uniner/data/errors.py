"""Errors that point at the offending place in a file, so a user can fix the input."""

from __future__ import annotations

from pathlib import Path


class DataFormatError(ValueError):
    """A data file does not have the expected shape.

    The message always names the file, the line (1-based, when the format is line-oriented or the
    JSON decoder knows it) and what was expected there.
    """

    def __init__(
        self,
        path: str | Path,
        message: str,
        *,
        line: int | None = None,
        expected: str | None = None,
    ) -> None:
        self.path = str(path)
        self.line = line
        self.expected = expected
        self.detail = message
        where = self.path if line is None else f"{self.path}, line {line}"
        text = f"{where}: {message}"
        if expected:
            text += f" (expected {expected})"
        super().__init__(text)


class ZeroShotDataError(ValueError):
    """Training data that is, or is read from, a zero-shot test set (CrossNER, MIT).

    A model reported as zero-shot must never have seen them, in any split; the message names
    the offending source so the config line can be found. Raised by :mod:`uniner.data.guard`.
    """
