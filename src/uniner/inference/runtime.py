"""The runtimes the span student can run on: torch, or its int8 ONNX graph.

Why a module of its own below the CLI: ``--runtime`` is an option of several commands
(:mod:`uniner.cli.runtime`) and a field of the Ray engine's actor spec
(:mod:`uniner.scale.ray_extract`), which must accept exactly the same values; one enum here is
that list, and importing it costs neither the CLI nor torch.
"""

from __future__ import annotations

from enum import StrEnum


class Runtime(StrEnum):
    torch = "torch"
    onnx = "onnx"
