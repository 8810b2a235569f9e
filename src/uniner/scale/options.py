"""The command-line options of ``--engine ray`` (shared by ``uniner extract`` and ``uniner
distill``), kept here so the commands only gain one line per option."""

from __future__ import annotations

from enum import StrEnum
from typing import Annotated

import typer


class Engine(StrEnum):
    local = "local"
    ray = "ray"


class OutputFormat(StrEnum):
    jsonl = "jsonl"
    parquet = "parquet"


EngineOption = Annotated[
    Engine,
    typer.Option(
        help="local: this process; ray: Ray Data over shard files "
        "(-i a folder or glob of .jsonl/.parquet shards, -o a folder; pip install 'uniner[ray]')"
    ),
]
AddressOption = Annotated[
    str | None,
    typer.Option(help="--engine ray: join this Ray cluster (auto, or HOST:PORT) [default: local]"),
]
ActorsOption = Annotated[
    int | None,
    typer.Option(min=1, help="--engine ray: extractor actors [default: CPUs / threads per actor]"),
]
ThreadsPerActorOption = Annotated[
    int | None,
    typer.Option(
        min=1, help="--engine ray: CPU threads per actor [default: CPUs / actors, at most 4]"
    ),
]
OutputFormatOption = Annotated[
    OutputFormat | None,
    typer.Option(help="--engine ray: output shard format [default: each input shard's own]"),
]
DistillEngineOption = Annotated[
    Engine | None,
    typer.Option(
        help="local: this process; ray: shards of passages as Ray tasks, each a local run on "
        "its own store, merged on completion [default: local]"
    ),
]
ShardSizeOption = Annotated[
    int | None, typer.Option(min=1, help="--engine ray: passages per shard [default: 1000]")
]
