"""``--runtime torch|onnx`` and ``--onnx-dir`` for the commands that run the span student.

Why a CLI switch: the int8 ONNX graph runs the default model at about twice torch's speed on a
CPU at the same dev F1 (BENCHMARKS.md), but exporting it takes about a minute, so it is opt-in and
cached (:func:`uniner.students.span.onnx_runtime.ensure_export`).
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer

from uniner.inference.runtime import Runtime

__all__ = ["OnnxDirOption", "Runtime", "RuntimeOption", "apply_runtime", "check_runtime"]

RuntimeOption = Annotated[
    Runtime,
    typer.Option(
        help="torch, or onnx: int8 onnxruntime, exported once per model (about a minute) and cached"
    ),
]
OnnxDirOption = Annotated[
    Path | None,
    typer.Option(help="folder of the ONNX export [default: ~/.cache/uniner/onnx/MODEL-HASH]"),
]


def check_runtime(runtime: Runtime, onnx_dir: Path | None) -> None:
    """Refuse before any model loads: ``--onnx-dir`` alone, or onnx without onnxruntime."""
    if onnx_dir is not None and runtime is not Runtime.onnx:
        raise typer.BadParameter("--onnx-dir needs --runtime onnx", param_hint="--onnx-dir")
    if runtime is Runtime.onnx:
        try:
            import onnx  # noqa: F401
            import onnxruntime  # type: ignore[import-untyped]  # noqa: F401
        except ImportError as exc:
            raise typer.BadParameter(
                f"{exc.name} is not installed; install it with: pip install 'uniner[onnx]'",
                param_hint="--runtime",
            ) from exc


def apply_runtime(extractor: Any, runtime: Runtime, onnx_dir: Path | None) -> Any:
    """Switch a loaded span extractor to the cached (or newly exported) int8 graph if asked."""
    if runtime is not Runtime.onnx:
        return extractor
    from uniner.students.span.onnx_runtime import switch_to_onnx

    def announce(folder: Path) -> None:
        typer.echo(
            f"exporting to ONNX int8 in {folder} (once per model; about a minute) ...", err=True
        )

    try:
        return switch_to_onnx(extractor, onnx_dir, on_export=announce)
    except NotADirectoryError as exc:
        raise typer.BadParameter(str(exc), param_hint="--onnx-dir") from exc
