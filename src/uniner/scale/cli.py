"""What ``uniner extract --engine ray`` does with its arguments: checked here, so the command
itself only gains its options and one branch."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import typer

from uniner.errors import USAGE, UserError
from uniner.inference.records import model_identity


def extract_with_ray(args: dict[str, Any]) -> None:
    """Run ``uniner extract`` on Ray; ``args`` are the command's arguments by name (its
    ``locals()``), with ``labels`` already checked."""
    from uniner.scale.ray_extract import ExtractorSpec, run_ray_extract

    if args["text"] is not None or args["input"] is None or args["output"] is None:
        raise UserError(
            "--engine ray reads shard files: give --input DIR_OR_GLOB and --output DIR", USAGE
        )
    if args["generative"]:
        raise UserError("--engine ray runs the span student only, not a generative model", USAGE)
    from uniner.models import resolve_model

    resolve_model(args["model"])  # a wrong -m is one line here, not an error in every actor
    runtime = args["runtime"].value
    settings = {  # the same job settings as the single-process resume key
        "labels": args["labels"],
        "model": model_identity(args["model"]),
        "threshold": args["threshold"],
        "nested": args["nested"],
        "multi_label": args["multi_label"],
        "runtime": runtime,
    }
    spec = ExtractorSpec(
        model=args["model"],
        threads=1,  # replaced by the planned threads per actor
        batch_size=args["batch_size"],
        runtime=runtime,
        onnx_dir=str(args["onnx_dir"]) if args["onnx_dir"] else None,
        threshold=args["threshold"],
        nested=args["nested"],
        multi_label=args["multi_label"],
    )
    fmt = args["output_format"]
    summary = run_ray_extract(
        str(args["input"]),
        Path(args["output"]),
        args["labels"],
        settings,
        spec,
        address=args["address"],
        actors=args["actors"],
        threads=args["threads_per_actor"],
        output_format=fmt.value if fmt is not None else None,
    )
    typer.echo(
        f"wrote {summary.records} texts in {summary.shards - summary.skipped} shards to "
        f"{args['output']} ({summary.skipped} finished before; {summary.actors} actors x "
        f"{summary.threads} threads, {summary.seconds:.1f} s)",
        err=True,
    )
