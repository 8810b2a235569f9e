"""Input shards and the output folder of ``uniner extract --engine ray``.

Why this shape:

* A shard's records are read and checked by the very function ``uniner extract -i`` uses
  (:func:`uniner.inference.records.read_inputs`), so a bad record gives the same one line naming
  the file and line, and output records equal the single-process ones field for field. Parquet
  shards go through the same record check, their rows numbered from 1.
* Each output shard is committed on its own and atomically: written to a hidden temporary file,
  fsynced, renamed into place, then a done marker (``_done/NAME.json``) holding the job key is
  renamed in beside it. A shard is finished only when its marker matches the current job (input
  file size and mtime, every setting that changes the output) and the output has the size the
  marker recorded; anything else is redone whole. So a crash at any moment loses at most the
  shards in flight, and no record is ever written twice or left out.
* ``_manifest.json`` appears only when every shard is finished: its presence means complete.
"""

from __future__ import annotations

import glob
import json
import os
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from itertools import islice
from pathlib import Path
from typing import Any

from uniner.data.errors import DataFormatError
from uniner.errors import RUNTIME, USAGE, UserError
from uniner.inference.records import JSONL_SUFFIXES, check_record, open_locked, read_inputs

PARQUET_SUFFIXES = (".parquet",)
INPUT_SUFFIXES = (*JSONL_SUFFIXES, ".txt", *PARQUET_SUFFIXES)
FORMATS = ("jsonl", "parquet")
DONE_DIR = "_done"
MANIFEST = "_manifest.json"
LOCK = ".uniner-extract.lock"
KEY_VERSION = 1


def find_shards(spec: str | Path, output: Path) -> list[Path]:
    """The input shards named by a folder (searched recursively), a glob or one file, sorted;
    files inside ``output`` are never inputs. None found is one clear error."""
    s = str(spec)
    if any(ch in s for ch in "*?["):
        found = [Path(p) for p in glob.glob(s, recursive=True)]
    elif Path(s).is_dir():
        found = [p for p in Path(s).rglob("*") if p.suffix.lower() in INPUT_SUFFIXES]
    elif Path(s).exists():
        found = [Path(s)]
    else:
        raise UserError(f"{s}: no such folder, file or glob match (-i/--input)", RUNTIME)
    out = os.path.realpath(output)
    shards = sorted(
        p
        for p in found
        if p.is_file()
        and not os.path.realpath(p).startswith(out + os.sep)
        and p.suffix.lower() in INPUT_SUFFIXES
    )
    if not shards:
        kinds = ", ".join(INPUT_SUFFIXES)
        raise UserError(f"{s}: no input shards ({kinds}) found (-i/--input)", RUNTIME)
    return shards


def output_names(shards: Sequence[Path]) -> list[str]:
    """A distinct output name per shard: its path below the shards' common folder, folders
    joined by ``__`` (``a/part-0.jsonl`` and ``b/part-0.jsonl`` must not collide)."""
    if len(shards) == 1:
        return [shards[0].stem]
    base = Path(os.path.commonpath([os.path.realpath(p.parent) for p in shards]))
    names = [
        "__".join(Path(os.path.realpath(p)).relative_to(base).with_suffix("").parts) for p in shards
    ]
    if len(set(names)) != len(names):
        dup = next(n for n in names if names.count(n) > 1)
        raise UserError(f"two input shards would both be written as {dup!r}", USAGE)
    return names


def is_parquet(path: Path) -> bool:
    return path.suffix.lower() in PARQUET_SUFFIXES


def iter_records(path: Path, labels: Sequence[str]) -> Iterator[dict[str, Any]]:
    """The checked records of one shard, as ``uniner extract -i`` reads them."""
    if not is_parquet(path):
        yield from read_inputs(path, labels)
        return
    import pyarrow.parquet as pq  # type: ignore[import-untyped]

    n = 0
    for batch in pq.ParquetFile(path).iter_batches(batch_size=1024):
        for rec in batch.to_pylist():
            n += 1
            try:
                yield check_record(path, n, rec, labels)
            except DataFormatError as exc:  # a Parquet file has rows, not lines
                detail, expected = f"row {n}: {exc.detail}", exc.expected
                raise DataFormatError(path, detail, expected=expected) from None


def count_records(path: Path, labels: Sequence[str]) -> int | str:
    """The number of records of a shard, every one checked; or the one-line error (a string,
    so it crosses a Ray task boundary as it is)."""
    try:
        return sum(1 for _ in iter_records(path, labels))
    except DataFormatError as exc:
        return str(exc)
    except OSError as exc:
        return f"{path}: {exc.strerror or exc}"


def read_part(path: Path, labels: Sequence[str], start: int, stop: int) -> list[dict[str, Any]]:
    """Records ``start`` to ``stop`` (0-based, stop excluded) of a shard checked before."""
    return list(islice(iter_records(path, labels), start, stop))


def part_bounds(records: int, rows_per_part: int) -> list[tuple[int, int]]:
    """``[start, stop)`` ranges covering a shard: the units of work handed to the actors."""
    return [(s, min(s + rows_per_part, records)) for s in range(0, records, rows_per_part)]


def job_key(path: Path, fmt: str, settings: dict[str, Any]) -> dict[str, Any]:
    """What makes a finished output shard reusable: the input file as it is now and every
    setting that changes the output (speed settings are not in it)."""
    st = path.stat()
    return {
        "version": KEY_VERSION,
        "input": os.path.realpath(path),
        "size": st.st_size,
        "mtime_ns": st.st_mtime_ns,
        "format": fmt,
        **settings,
    }


@dataclass
class OutputDir:
    """The output folder: locked for one run at a time, committing shards atomically."""

    root: Path

    def __post_init__(self) -> None:
        if self.root.exists() and not self.root.is_dir():
            raise UserError(f"{self.root}: is a file; -o/--output takes a folder", RUNTIME)
        (self.root / DONE_DIR).mkdir(parents=True, exist_ok=True)
        self._lock = open_locked(self.root / LOCK)
        for stale in [*self.root.glob(".*.tmp-*"), *(self.root / DONE_DIR).glob(".*.tmp-*")]:
            stale.unlink(missing_ok=True)  # a killed run's half-written shard

    def close(self) -> None:
        self._lock.close()

    def path_of(self, name: str, fmt: str) -> Path:
        return self.root / f"{name}.{fmt}"

    def is_done(self, name: str, key: dict[str, Any]) -> bool:
        """Committed by a run of this very job, and its output untouched since."""
        try:
            marker = json.loads((self.root / DONE_DIR / f"{name}.json").read_text("utf-8"))
            out = self.path_of(name, key["format"])
            return bool(marker["key"] == key and out.stat().st_size == marker["bytes"])
        except (OSError, ValueError, KeyError, TypeError):
            return False

    def commit(self, name: str, key: dict[str, Any], rows: list[dict[str, Any]]) -> Path:
        """Write one shard (temporary file, fsync, rename), then its done marker likewise."""
        fmt = key["format"]
        out = self.path_of(name, fmt)
        tmp = self.root / f".{out.name}.tmp-{os.getpid()}"
        (_write_parquet if fmt == "parquet" else _write_jsonl)(tmp, rows, name)
        _durable_replace(tmp, out)
        marker = {"key": key, "records": len(rows), "bytes": out.stat().st_size}
        done = self.root / DONE_DIR / f"{name}.json"
        tmp = done.with_name(f".{done.name}.tmp-{os.getpid()}")
        tmp.write_text(json.dumps(marker, ensure_ascii=False), encoding="utf-8")
        _durable_replace(tmp, done)
        return out

    def clear_manifest(self) -> None:
        (self.root / MANIFEST).unlink(missing_ok=True)

    def write_manifest(self, entries: list[dict[str, Any]], settings: dict[str, Any]) -> Path:
        """Written last, only when every shard is committed: its presence means complete."""
        path = self.root / MANIFEST
        body = {
            "records": sum(e["records"] for e in entries),
            "settings": settings,
            "shards": entries,
        }
        tmp = path.with_name(f".{path.name}.tmp-{os.getpid()}")
        tmp.write_text(json.dumps(body, ensure_ascii=False, indent=1), encoding="utf-8")
        _durable_replace(tmp, path)
        return path

    def records_of(self, name: str) -> int:
        marker = json.loads((self.root / DONE_DIR / f"{name}.json").read_text("utf-8"))
        return int(marker["records"])


def _write_jsonl(path: Path, rows: list[dict[str, Any]], name: str) -> None:
    """Lines exactly as ``uniner extract -o`` writes them."""
    with open(path, "wb") as fh:
        fh.write(b"".join((json.dumps(r, ensure_ascii=False) + "\n").encode() for r in rows))
        fh.flush()
        os.fsync(fh.fileno())


def _write_parquet(path: Path, rows: list[dict[str, Any]], name: str) -> None:
    """One column per field any record has (missing ones null); a field whose values mix
    types cannot be a Parquet column, which is said in one line."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    fields = list(dict.fromkeys(k for r in rows for k in r)) or ["text", "labels", "entities"]
    try:
        table = pa.table({f: [r.get(f) for r in rows] for f in fields})
    except (pa.ArrowInvalid, pa.ArrowTypeError) as exc:
        raise UserError(
            f"{name}: the records cannot be one Parquet table ({exc}); use --output-format jsonl",
            RUNTIME,
        ) from None
    pq.write_table(table, path)
    with open(path, "rb+") as fh:
        os.fsync(fh.fileno())


def _durable_replace(tmp: Path, final: Path) -> None:
    """Rename into place and make the rename itself survive a power cut."""
    os.replace(tmp, final)
    try:
        fd = os.open(final.parent, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)
    except OSError:
        pass


def read_output(path: Path) -> list[dict[str, Any]]:
    """The records of one output shard (JSONL or Parquet), for tests and checks."""
    if is_parquet(path):
        import pyarrow.parquet as pq

        rows: list[dict[str, Any]] = pq.read_table(path).to_pylist()
        return rows
    with open(path, encoding="utf-8") as fh:
        return [json.loads(line) for line in fh if line.strip()]
