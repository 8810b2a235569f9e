"""``uniner distill --engine ray``: the annotate step as a Ray Data pipeline over passage shards.

The passages (read, chunked, de-duplicated and sampled by the driver exactly as the local
command does) are cut into shards of ``shard_size``. Each shard is one Ray task that runs the
local runner itself (:func:`uniner.distill.runner.run_distillation`: the same prompts, parsing,
filtering and answer keys) against its own SQLite store and annotations file under
``OUT/shards/NNNNN/``. So the per-passage exactly-once guarantee is the local one, shard by
shard: an answer is committed to the shard's store before it counts, and a retried task (a
killed worker) or a rerun finds it there instead of asking again.

Around that:

* Before the shards run, each shard store is seeded with the answers ``OUT/store.sqlite``
  already holds for its passages (any teacher; the runner only reuses an exact answer key), so
  a finished corpus rerun pays for nothing, as the local command.
* On completion every shard store is merged into ``OUT/store.sqlite`` (a done answer is never
  replaced by a failure; attempts are copied once), ``OUT/annotations.jsonl`` is rewritten in
  passage order (temporary file, rename), and the shards are removed. A driver killed before
  that leaves ``OUT/shards``: the next run merges it first, whatever its shard size was.
* Several shards run at once, so ``--concurrency``, ``--rpm`` and ``--tpm`` are split evenly
  between the shards in flight; per-endpoint limits of ``--teacher-url`` hold per shard task.
"""

from __future__ import annotations

import asyncio
import json
import os
import shutil
import time
from collections import Counter
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from uniner.distill.prompts import PromptTemplate
from uniner.distill.runner import Passage, RunStats
from uniner.distill.settings import DistillSettings
from uniner.scale.cluster import cluster_cpus, ray_session
from uniner.scale.stores import merge_store, seed_store

SHARDS = "shards"
TeacherFactory = Callable[[DistillSettings], Any]
Progress = Callable[[RunStats, int], None]


def annotate_on_ray(
    passages: Sequence[Passage],
    settings: DistillSettings,
    make_teacher: TeacherFactory,
    template: PromptTemplate,
    out_dir: Path,
    progress: Progress | None = None,
    *,
    clock: Callable[[], float] = time.monotonic,
) -> RunStats:
    """Annotate every passage once on Ray; ``OUT/store.sqlite`` and ``OUT/annotations.jsonl``
    end as the local runner leaves them. ``make_teacher(settings)`` builds a shard's teacher
    inside its task (it must be picklable: a module-level function)."""
    from uniner.distill.teachers.base import FatalTeacherError

    _check_unique(passages)
    started = clock()
    main, root = out_dir / "store.sqlite", out_dir / SHARDS
    _merge_shards(root, main)  # what a killed earlier run left
    size = settings.shard_size
    dirs = [
        _prepare(root / f"{i:05d}", passages[a : a + size], main)
        for i, a in enumerate(range(0, len(passages), size))
    ]
    results: list[dict[str, Any]] = []
    with ray_session(settings.address) as ray:
        k = max(1, min(len(dirs), cluster_cpus(ray)))
        task_settings = _split_limits(settings, k)
        if dirs:
            ds = ray.data.from_items([{"dir": str(d)} for d in dirs], override_num_blocks=len(dirs))
            ds = ds.map(
                annotate_shard,
                fn_args=(task_settings, make_teacher, template),
                compute=ray.data.TaskPoolStrategy(size=k),
                num_cpus=1,
            )
            stats = RunStats()
            for row in ds.iter_rows():
                results.append(row)
                _add(stats, json.loads(row["stats"] or "{}"))
                if progress is not None:
                    progress(stats, stats.passages)
    stats = RunStats()
    for row in results:
        _add(stats, json.loads(row["stats"] or "{}"))
    _merge_shards(root, main, passages, out_dir / "annotations.jsonl")
    stats.seconds = clock() - started
    fatal = [r["fatal"] for r in results if r["fatal"]]
    if fatal:
        raise FatalTeacherError(fatal[0])
    return stats


def annotate_shard(
    row: dict[str, Any],
    settings: DistillSettings,
    make_teacher: TeacherFactory,
    template: PromptTemplate,
) -> dict[str, Any]:
    """One shard through the local runner, on its own store (a Ray Data ``map`` function).
    A fatal teacher error comes back as text: exceptions would arrive wrapped by Ray."""
    from uniner.distill.runner import run_distillation
    from uniner.distill.store import Store
    from uniner.distill.teachers.base import FatalTeacherError

    shard = Path(row["dir"])
    with open(shard / "passages.jsonl", encoding="utf-8") as fh:
        passages = [Passage(**json.loads(line)) for line in fh]
    teacher = make_teacher(settings)
    pool: dict[str, Any] = {}

    async def go() -> RunStats:
        try:
            with Store(shard / "store.sqlite") as store:
                return await run_distillation(
                    passages,
                    teacher,
                    template,
                    store,
                    shard / "annotations.jsonl",
                    concurrency=getattr(teacher, "capacity", settings.concurrency),
                    rpm=settings.rpm,
                    tpm=settings.tpm,
                )
        finally:
            if hasattr(teacher, "report"):
                pool.update(teacher.report())
            await teacher.aclose()

    try:
        stats = asyncio.run(go())
    except FatalTeacherError as exc:
        return {"dir": str(shard), "stats": "", "fatal": str(exc), "endpoints": json.dumps(pool)}
    body = json.dumps(stats.to_dict())
    return {"dir": str(shard), "stats": body, "fatal": "", "endpoints": json.dumps(pool)}


def _check_unique(passages: Sequence[Passage]) -> None:
    """As the local runner: a passage id twice would be one answer for two passages."""
    seen: set[str] = set()
    for p in passages:
        if p.id in seen:
            raise ValueError(f"passage id {p.id!r} occurs twice in the input")
        seen.add(p.id)


def _prepare(shard: Path, passages: Sequence[Passage], main: Path) -> Path:
    """A shard folder: its passages and a store seeded with the answers already known."""
    shard.mkdir(parents=True, exist_ok=True)
    tmp = shard / "passages.jsonl.tmp"
    with open(tmp, "w", encoding="utf-8") as fh:
        for p in passages:
            fh.write(json.dumps({"id": p.id, "text": p.text}, ensure_ascii=False) + "\n")
    os.replace(tmp, shard / "passages.jsonl")
    seed_store(shard / "store.sqlite", main, [p.hash for p in passages])
    return shard


def _split_limits(settings: DistillSettings, k: int) -> DistillSettings:
    """Each of ``k`` shards in flight gets 1/k of the run's concurrency and rate limits."""
    return settings.replace(
        concurrency=max(1, settings.concurrency // k),
        rpm=settings.rpm / k if settings.rpm else settings.rpm,
        tpm=settings.tpm / k if settings.tpm else settings.tpm,
    )


def _add(total: RunStats, part: dict[str, Any]) -> None:
    for key, value in part.items():
        if key == "seconds":
            continue
        if isinstance(value, dict):
            getattr(total, key).update(Counter(value))
        else:
            setattr(total, key, getattr(total, key) + value)


def _merge_shards(
    root: Path,
    main: Path,
    passages: Sequence[Passage] | None = None,
    annotations: Path | None = None,
) -> None:
    """Every shard store into ``main``; with ``passages``, the shards' annotations into one
    file in passage order; then the shards are removed (merging twice changes nothing)."""
    if not root.is_dir():
        return
    shards = sorted(d for d in root.iterdir() if (d / "store.sqlite").exists())
    for shard in shards:
        merge_store(main, shard / "store.sqlite")
    if passages is not None and annotations is not None:
        _write_annotations(shards, passages, annotations)
    shutil.rmtree(root)


def _write_annotations(shards: list[Path], passages: Sequence[Passage], path: Path) -> None:
    from uniner.distill.output import read_annotations

    by_id: dict[str, dict[str, Any]] = {}
    for shard in shards:
        if (shard / "annotations.jsonl").exists():
            by_id.update((r["id"], r) for r in read_annotations(shard / "annotations.jsonl"))
    tmp = path.with_name(path.name + ".tmp")
    with open(tmp, "w", encoding="utf-8") as fh:
        for p in passages:
            if p.id in by_id:
                fh.write(json.dumps(by_id[p.id], ensure_ascii=False) + "\n")
        fh.flush()
        os.fsync(fh.fileno())
    os.replace(tmp, path)
