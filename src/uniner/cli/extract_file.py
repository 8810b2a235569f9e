"""``uniner extract -i FILE``: records checked up front, written as they finish, resumable.

Why this shape:

* Every record is checked in one streaming pass before any model loads, so a blank label or a
  lone surrogate in record 5 is reported (file, line, field) before records 1-4 cost anything,
  and a long job never dies at the end on a record it could have refused at the start. The
  checks are :mod:`uniner.inference.records`, the ones the Ray engine makes too.
* Finished records go to ``OUT.partial`` batch by batch (flushed and fsynced), beside a sidecar
  ``OUT.partial.json`` holding the job's arguments. A rerun with the same arguments drops a torn
  last line and skips the records already written, so an interrupted job (Ctrl-C, SIGKILL, a
  reboot) loses at most one batch of work and never duplicates a record; different arguments
  start over and say why. The finished file is renamed to ``OUT`` in one atomic step.
* Output records are the input records with ``id``, ``labels`` (the types asked), ``entities``
  and the model's extra fields set: anything else the input carries (metadata, sources) goes
  through unchanged.
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

import typer

from uniner.errors import RUNTIME, USAGE, UserError
from uniner.inference.records import open_locked, read_inputs  # shared with the Ray engine

SIDECAR_VERSION = 1
Rows = Callable[[list[dict[str, Any]]], list[dict[str, Any]]]


def check_input(path: Path) -> None:
    """A readable file, else one line: a missing path, a folder, no permission."""
    if not path.exists():
        raise UserError(f"{path}: no such file (-i/--input)", RUNTIME)
    if path.is_dir():
        raise UserError(f"{path}: is a folder, not a file (-i/--input)", RUNTIME)
    with open(path, "rb"):  # PermissionError etc. are reported by the uniner group
        pass


def _same_file(a: Path, b: Path) -> bool:
    """The same file however spelled: relative or absolute, through symlinks or hard links."""
    if os.path.realpath(a) == os.path.realpath(b):
        return True
    try:
        return a.exists() and b.exists() and os.path.samefile(a, b)
    except OSError:
        return False


def output_paths(input: Path, output: Path | None) -> tuple[Path, Path, Path]:
    """``(out, partial, sidecar)``, each checked: never the input, in an existing folder, not
    a folder itself. Refused up front so a long job never fails at its end."""
    out = output if output is not None else input.with_suffix(".entities.jsonl")
    partial = out.with_name(out.name + ".partial")
    sidecar = out.with_name(out.name + ".partial.json")
    for p in (out, partial, sidecar):
        if _same_file(p, input):
            raise UserError(f"{out}: is the input file; give another -o/--output", USAGE)
    if out.is_dir():
        raise UserError(f"{out}: is a folder; -o/--output takes a file name", RUNTIME)
    parent = out.parent
    if not parent.is_dir():
        raise UserError(f"{out}: folder {parent} does not exist (-o/--output)", RUNTIME)
    if not os.access(parent, os.W_OK):
        raise UserError(f"{out}: folder {parent} is not writable (-o/--output)", RUNTIME)
    return out, partial, sidecar


def job_key(input: Path, total: int, settings: dict[str, Any]) -> dict[str, Any]:
    """What makes two runs the same job: the input file as it is now, its record count, and
    every setting that changes the output. Batch size and threads are not in it: they change
    speed, not results."""
    st = input.stat()
    return {
        "version": SIDECAR_VERSION,
        "input": str(input.resolve()),
        "size": st.st_size,
        "mtime_ns": st.st_mtime_ns,
        "records": total,
        **settings,
    }


def _complete_lines(partial: Path) -> int:
    """Lines of ``partial`` that were written whole; a torn last line (killed mid-write) is cut
    off the file."""
    lines, keep, pos = 0, 0, 0
    with open(partial, "rb+") as fh:
        while chunk := fh.read(1 << 20):  # streamed: outputs can be large
            lines += chunk.count(b"\n")
            last = chunk.rfind(b"\n")
            if last >= 0:
                keep = pos + last + 1
            pos += len(chunk)
        if keep < pos:
            fh.truncate(keep)
    return lines


def _read_sidecar(sidecar: Path) -> dict[str, Any] | None:
    try:
        value = json.loads(sidecar.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return value if isinstance(value, dict) else None


def resume_point(partial: Path, sidecar: Path, key: dict[str, Any]) -> tuple[int, str | None]:
    """Records already written for this job (0 to start over) and, when a partial output is
    there but cannot be continued, the reason it is started over."""
    if not partial.exists():
        return 0, None
    old = _read_sidecar(sidecar)
    if old is None:
        return 0, f"{partial} has no readable {sidecar.name}"
    changed = sorted(k for k in key.keys() | old.keys() if old.get(k) != key.get(k))
    if changed:
        return 0, f"{partial} was started with other arguments or input ({', '.join(changed)})"
    done = _complete_lines(partial)
    if done > key["records"]:
        return 0, f"{partial} has more lines ({done}) than the input has records"
    return done, None


@dataclass
class FileJob:
    """A checked extraction job: where it reads and writes and how far it already got."""

    input: Path
    out: Path
    partial: Path
    sidecar: Path
    labels: list[str]
    total: int
    done: int
    fh: IO[bytes]


def plan_job(
    input: Path, output: Path | None, labels: list[str], settings: dict[str, Any]
) -> FileJob:
    """Everything that can be checked before a model loads: the input is readable and every
    record is valid (one streaming pass), the output can be written; then the resume point,
    and the partial output opened for appending."""
    check_input(input)
    out, partial, sidecar = output_paths(input, output)
    total = sum(1 for _ in read_inputs(input, labels))
    key = job_key(input, total, settings)
    existed = partial.exists()
    fh = open_locked(partial)
    done, why = resume_point(partial, sidecar, key) if existed else (0, None)
    if why:
        typer.echo(f"starting over: {why}", err=True)
    elif done:
        typer.echo(f"resuming {out}: {done} of {total} records already written", err=True)
    if done == 0:  # empty the partial output first: a sidecar never describes older lines
        fh.truncate(0)
        tmp = sidecar.with_name(sidecar.name + ".tmp")
        tmp.write_text(json.dumps(key, ensure_ascii=False), encoding="utf-8")
        tmp.replace(sidecar)
    return FileJob(input, out, partial, sidecar, labels, total, done, fh)


def _batches(job: FileJob, batch_size: int) -> Iterator[list[dict[str, Any]]]:
    """The records still to do, in batches; the first ``job.done`` were written before."""
    chunk: list[dict[str, Any]] = []
    for i, rec in enumerate(read_inputs(job.input, job.labels)):
        if i < job.done:
            continue
        chunk.append(rec)
        if len(chunk) == batch_size:
            yield chunk
            chunk = []
    if chunk:
        yield chunk


def _write(fh: IO[bytes], rows: list[dict[str, Any]]) -> None:
    """Append whole lines in one write, then make them durable: a kill leaves at most a torn
    last line, which the next run cuts off."""
    fh.write(b"".join((json.dumps(r, ensure_ascii=False) + "\n").encode("utf-8") for r in rows))
    fh.flush()
    os.fsync(fh.fileno())


def _finish(job: FileJob) -> None:
    """Publish the output atomically, then forget the job."""
    job.fh.close()
    job.partial.replace(job.out)
    job.sidecar.unlink(missing_ok=True)
    try:  # make the rename itself durable
        fd = os.open(job.out.parent, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)
    except OSError:
        pass


def run_job(job: FileJob, batch_size: int, rows_for: Rows) -> None:
    """Extract the remaining records batch by batch, appending each finished batch.

    Each output row is the input record (all its fields) with what ``rows_for`` gives for it
    (entities, and for the span student whether it was windowed) set on top.
    """
    from tqdm.auto import tqdm  # type: ignore[import-untyped]

    bar = tqdm(total=job.total, initial=job.done, unit="text")
    try:
        for chunk in _batches(job, batch_size):
            rows = [{**rec, **extra} for rec, extra in zip(chunk, rows_for(chunk), strict=True)]
            _write(job.fh, rows)
            job.done += len(rows)
            bar.update(len(rows))
    except KeyboardInterrupt:
        bar.close()
        job.fh.close()
        typer.echo(
            f"interrupted: {job.done} of {job.total} records are in {job.partial}; "
            "rerun the same command to continue",
            err=True,
        )
        raise typer.Exit(130) from None
    bar.close()
    _finish(job)
