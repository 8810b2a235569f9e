"""``uniner extract --engine ray``: a Ray Data actor pool over input shards.

The pipeline: every shard not already finished is counted and checked by a Ray task (before any
model loads: a bad record stops the job with the same line ``uniner extract -i`` prints), cut
into parts of whole model batches, and the parts go through ``map_batches`` to a fixed pool of
actors, each holding one extractor (torch or int8 ONNX) with its own threads. Each actor reads
its part from the shard itself (only part coordinates travel) and returns finished output lines;
the driver collects them per shard and commits a shard the moment its last record arrives
(:class:`uniner.scale.shards.OutputDir`). A dead actor is restarted and its part retried by Ray;
a dead driver is a rerun that skips the committed shards.

Why parts are whole batches of the single-process CLI (``batch_size`` records, counted from
the shard's start): the encoder then sees the same padded batches as ``uniner extract -i`` on
that shard, so the records come out equal to its, scores included.
"""

from __future__ import annotations

import json
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from uniner.errors import RUNTIME, UserError
from uniner.inference.records import span_rows
from uniner.inference.runtime import Runtime
from uniner.scale.cluster import cluster_cpus, plan_actors, ray_session
from uniner.scale.shards import (
    OutputDir,
    count_records,
    find_shards,
    is_parquet,
    job_key,
    output_names,
    part_bounds,
    read_part,
)

PART_BATCHES = 4  # model batches per unit of work: small enough to spread, large to amortise
Rows = Callable[[list[dict[str, Any]]], list[dict[str, Any]]]


@dataclass(frozen=True)
class ExtractorSpec:
    """What an actor needs to build its extractor: small and picklable, sent once per actor."""

    model: str | None
    threads: int
    batch_size: int
    runtime: str = "torch"
    onnx_dir: str | None = None
    threshold: float | None = None
    nested: bool = False
    multi_label: bool | None = None

    def __post_init__(self) -> None:
        Runtime(self.runtime)  # a ValueError for anything ``--runtime`` does not offer

    def build(self) -> Rows:
        """The function from records to their extra output fields, as the CLI computes them
        (:func:`uniner.inference.records.span_rows`, on the runtime ``--runtime`` asked for)."""
        from uniner.api import load

        ext = load(self.model, threads=self.threads, batch_size=self.batch_size)
        if self.runtime == Runtime.onnx:  # found cached: the driver exported it (_prepare_onnx)
            from uniner.students.span.onnx_runtime import switch_to_onnx

            ext = switch_to_onnx(ext, self.onnx_dir, on_export=_announce_export)
        mode = "nested" if self.nested else "flat"
        return lambda chunk: span_rows(ext, chunk, self.threshold, mode, self.multi_label)


class PartWorker:
    """One actor of the pool: reads a part of a shard and extracts it batch by batch."""

    def __init__(self, spec: ExtractorSpec, labels: list[str]) -> None:
        self.rows_for = spec.build()
        self.batch_size = spec.batch_size
        self.labels = labels

    def __call__(self, batch: dict[str, Any]) -> dict[str, list[Any]]:
        out: dict[str, list[Any]] = {"shard": [], "row": [], "line": []}
        for path, shard, start, stop in zip(
            batch["path"], batch["shard"], batch["start"], batch["stop"], strict=True
        ):
            recs = read_part(Path(str(path)), self.labels, int(start), int(stop))
            for i in range(0, len(recs), self.batch_size):
                chunk = recs[i : i + self.batch_size]
                extra = self.rows_for(chunk)
                for j, (rec, more) in enumerate(zip(chunk, extra, strict=True)):
                    out["shard"].append(int(shard))
                    out["row"].append(int(start) + i + j)
                    out["line"].append(json.dumps({**rec, **more}, ensure_ascii=False))
        return out


@dataclass
class ShardJob:
    path: Path
    name: str
    key: dict[str, Any]
    records: int = 0
    lines: dict[int, str] = field(default_factory=dict)
    committed: bool = False


@dataclass
class ExtractSummary:
    shards: int
    skipped: int  # finished by an earlier run
    records: int  # extracted by this run
    seconds: float
    actors: int
    threads: int
    manifest: Path | None


def run_ray_extract(
    input: str | Path,
    output: Path,
    labels: list[str],
    settings: dict[str, Any],
    spec: ExtractorSpec,
    *,
    address: str | None = None,
    actors: int | None = None,
    threads: int | None = None,
    output_format: str | None = None,
    on_commit: Callable[[str], None] | None = None,
    clock: Callable[[], float] = time.monotonic,
) -> ExtractSummary:
    """Extract every record of every shard under ``input`` into ``output`` (see the module
    docstring). ``spec.threads`` is replaced by the planned threads per actor; ``on_commit``
    is called with each committed shard's name."""
    shards = find_shards(input, output)
    out = OutputDir(output)
    try:
        with ray_session(address) as ray:
            return _run(
                ray,
                shards,
                out,
                labels,
                settings,
                spec,
                actors,
                threads,
                output_format,
                on_commit,
                clock,
            )
    finally:
        out.close()


def _plan(
    ray: Any,
    shards: list[Path],
    out: OutputDir,
    labels: list[str],
    settings: dict[str, Any],
    output_format: str | None,
) -> tuple[list[ShardJob], list[dict[str, Any]]]:
    """The shards still to do (counted and checked by Ray tasks) and the finished ones."""
    todo: list[ShardJob] = []
    done: list[dict[str, Any]] = []
    for path, name in zip(shards, output_names(shards), strict=True):
        fmt = output_format or ("parquet" if is_parquet(path) else "jsonl")
        key = job_key(path, fmt, settings)
        if out.is_done(name, key):
            done.append(
                {"input": str(path), "output": f"{name}.{fmt}", "records": out.records_of(name)}
            )
        else:
            todo.append(ShardJob(path, name, key))
    count = ray.remote(num_cpus=1)(count_records)
    counts = ray.get([count.remote(j.path, labels) for j in todo])
    for job, n in zip(todo, counts, strict=True):
        if isinstance(n, str):
            raise UserError(n, RUNTIME)
        job.records = n
    return todo, done


def _run(
    ray: Any,
    shards: list[Path],
    out: OutputDir,
    labels: list[str],
    settings: dict[str, Any],
    spec: ExtractorSpec,
    actors: int | None,
    threads: int | None,
    output_format: str | None,
    on_commit: Callable[[str], None] | None,
    clock: Callable[[], float],
) -> ExtractSummary:
    started = clock()
    n_actors, n_threads = plan_actors(cluster_cpus(ray), actors, threads)
    todo, done = _plan(ray, shards, out, labels, settings, output_format)
    skipped = len(done)
    if todo:
        out.clear_manifest()
    for job in [j for j in todo if j.records == 0]:  # nothing to extract: commit at once
        done.append(_commit(out, job, on_commit))
    todo = [j for j in todo if j.records]
    items = [
        {"path": str(j.path), "shard": i, "start": a, "stop": b}
        for i, j in enumerate(todo)
        for a, b in part_bounds(j.records, spec.batch_size * PART_BATCHES)
    ]
    n_actors = max(1, min(n_actors, len(items)))
    spec = replace(spec, threads=n_threads)
    if items:
        _prepare_onnx(spec)
        done += _stream(ray, items, todo, out, labels, spec, n_actors, on_commit)
    manifest = out.write_manifest(sorted(done, key=lambda e: e["output"]), settings)
    return ExtractSummary(
        shards=len(shards),
        skipped=skipped,
        records=sum(j.records for j in todo),
        seconds=clock() - started,
        actors=n_actors,
        threads=n_threads,
        manifest=manifest,
    )


def _stream(
    ray: Any,
    items: list[dict[str, Any]],
    todo: list[ShardJob],
    out: OutputDir,
    labels: list[str],
    spec: ExtractorSpec,
    actors: int,
    on_commit: Callable[[str], None] | None,
) -> list[dict[str, Any]]:
    """Run the actor pool over the parts; commit each shard as its last record arrives."""
    from tqdm.auto import tqdm  # type: ignore[import-untyped]

    ds = ray.data.from_items(items, override_num_blocks=len(items)).map_batches(
        PartWorker,
        fn_constructor_args=(spec, labels),
        batch_size=1,
        compute=ray.data.ActorPoolStrategy(size=actors),
        num_cpus=spec.threads,
        batch_format="numpy",
    )
    committed: list[dict[str, Any]] = []
    bar = tqdm(total=sum(j.records for j in todo), unit="text", file=sys.stderr)
    batches = ds.iter_batches(batch_size=None, batch_format="numpy")
    try:
        for batch in batches:
            for shard, row, line in zip(batch["shard"], batch["row"], batch["line"], strict=True):
                job = todo[int(shard)]
                if job.committed:  # a retried part's late copy
                    continue
                job.lines[int(row)] = str(line)  # a retried part overwrites, never duplicates
                if len(job.lines) == job.records:
                    committed.append(_commit(out, job, on_commit))
            bar.update(len(batch["row"]))
    finally:
        bar.close()
        close = getattr(batches, "close", None)
        if close is not None:
            close()  # an aborted run stops the pool instead of leaving actors behind
    missing = [j.name for j in todo if not j.committed]
    if missing:
        raise UserError(f"Ray returned incomplete shards: {', '.join(missing)}", RUNTIME)
    return committed


def _commit(
    out: OutputDir, job: ShardJob, on_commit: Callable[[str], None] | None
) -> dict[str, Any]:
    rows = [json.loads(job.lines[i]) for i in range(job.records)]
    path = out.commit(job.name, job.key, rows)
    job.lines.clear()
    job.committed = True
    if on_commit is not None:
        on_commit(job.name)
    return {"input": str(job.path), "output": path.name, "records": len(rows)}


def _prepare_onnx(spec: ExtractorSpec) -> None:
    """Export the ONNX graph once here, so the actors all find it cached instead of each
    exporting it at the same time."""
    if spec.runtime != Runtime.onnx:
        return
    from uniner.api import load
    from uniner.students.span.onnx_runtime import ensure_export

    ensure_export(load(spec.model, threads=spec.threads), spec.onnx_dir, on_export=_announce_export)


def _announce_export(folder: Path) -> None:
    print(
        f"exporting to ONNX int8 in {folder} (once per model; about a minute) ...",
        file=sys.stderr,
    )
