"""Optional extras: a feature whose packages are not installed says so in one line, naming the
extra that installs them.

Why: ``pip install uniner`` carries what extraction, training and the benchmark need; packages
only one feature uses live in an extra of ``pyproject.toml`` (``plot``, ``distill``,
``generative``, ...), so the package installs beside others without dragging them in. A missing
one must read as "pip install 'uniner[EXTRA]'", never as a traceback from deep inside the
feature: :class:`MissingExtra` is what the ``uniner`` command reports as one line.

The lowest layer (nothing of the package is imported here), so every layer can use it.
"""

from __future__ import annotations

import importlib
import sys
from types import ModuleType
from typing import Any

PLOT_EXTRA = "plot"
_warned: set[str] = set()


class MissingExtra(ImportError):
    """An optional package a feature needs is not installed (the message names the extra)."""

    def __init__(self, feature: str, module: str, extra: str) -> None:
        super().__init__(
            f"{feature} needs {module}, which is not installed: pip install 'uniner[{extra}]'",
            name=module,
        )
        self.extra = extra


def require(modules: str | tuple[str, ...], extra: str, feature: str) -> ModuleType:
    """Import ``modules`` (the first is returned) or raise :class:`MissingExtra`."""
    names = (modules,) if isinstance(modules, str) else modules
    loaded = []
    for name in names:
        try:
            loaded.append(importlib.import_module(name))
        except ImportError as exc:
            raise MissingExtra(feature, exc.name or name, extra) from None
    return loaded[0]


def pyplot() -> Any | None:
    """matplotlib's pyplot on the file-only Agg backend, or None without the ``plot`` extra.

    Figures are a side output of a run (the numbers are in its JSON and markdown), so a missing
    matplotlib skips them with one line on stderr, once, instead of failing a finished run.
    """
    try:
        import matplotlib
    except ImportError:
        if PLOT_EXTRA not in _warned:
            _warned.add(PLOT_EXTRA)
            print(
                "note: figures skipped, matplotlib is not installed: pip install 'uniner[plot]'",
                file=sys.stderr,
            )
        return None
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt
