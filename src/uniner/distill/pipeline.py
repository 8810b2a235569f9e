"""The distillation pipeline: corpus -> annotate -> report -> instruct, for one
:class:`~uniner.distill.settings.DistillSettings`.

Why here and not in the command: the steps are the product (a notebook, a scheduler or the Ray
engine runs the same thing), the command only parses options and prints. Everything lands in
``settings.out``: ``passages.jsonl`` (the sampled passages), ``annotations.jsonl`` (one record
per passage), ``store.sqlite`` (every request and answer; a re-run asks nothing again, a killed
run resumes), ``report.{json,md}``, ``type_frequency.png`` and, with ``instruct``,
``instruct.json``.

What a caller sees while it runs goes through two hooks: ``log`` (a line of news: the passage
count, a warning, where the instruction data went) and a :class:`Progress` (a bar over passages).
Errors: :class:`~uniner.distill.settings.DistillSettingsError` for a setting (one line naming it),
:class:`~uniner.distill.teachers.FatalTeacherError` when the teacher refuses the job.
"""

from __future__ import annotations

import asyncio
import json
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

from uniner.distill.prompts import PromptTemplate
from uniner.distill.runner import Passage, RunStats, run_distillation
from uniner.distill.settings import DistillSettings, DistillSettingsError

PASSAGES = "passages.jsonl"
ANNOTATIONS = "annotations.jsonl"
STORE = "store.sqlite"
INSTRUCT = "instruct.json"

Log = Callable[[str], None]
#: Annotates passage shards elsewhere: (passages, settings, make_teacher, template, out,
#: on_progress) -> the run's stats (``uniner.scale.ray_distill.annotate_on_ray``).
ShardEngine = Callable[..., RunStats]


class Progress(Protocol):
    """A view of the annotate step: ``start(total)``, ``update`` per finished passage, ``close``."""

    def start(self, total: int) -> None: ...

    def update(self, stats: RunStats, done: int) -> None: ...

    def close(self) -> None: ...


class NoProgress:
    """The default :class:`Progress`: shows nothing."""

    def start(self, total: int) -> None:
        pass

    def update(self, stats: RunStats, done: int) -> None:
        pass

    def close(self) -> None:
        pass


@dataclass(frozen=True)
class DistillResult:
    """What a run produced: the report (``report.json``'s content) and where things are."""

    out_dir: Path
    report: dict[str, Any]
    report_paths: dict[str, Path]
    run: dict[str, Any] | None  # this run's counts (None with report_only)
    instruct_conversations: int | None = None  # None: no instruction data built

    @property
    def endpoints(self) -> dict[str, Any] | None:
        """The teacher pool's per-endpoint report, when several endpoints served the run."""
        return (self.run or {}).get("endpoints") or None


def run(
    settings: DistillSettings,
    *,
    log: Log | None = None,
    progress: Progress | None = None,
    clock: Callable[[], float] = time.monotonic,
    shard_engine: ShardEngine | None = None,
) -> DistillResult:
    """The whole pipeline (see the module docstring); ``report_only`` rebuilds the report from
    what ``settings.out`` holds and asks nothing. ``shard_engine`` annotates passage shards
    elsewhere (``engine = "ray"``: ``uniner.scale.ray_distill.annotate_on_ray``, which the CLI
    passes; this layer never imports the layers above it)."""
    say = log or logging.getLogger(__name__).info
    if settings.out is None:
        raise DistillSettingsError("out", "out: an output folder is required (--out)")
    out_dir = settings.out
    out_dir.mkdir(parents=True, exist_ok=True)
    info = None
    if not settings.report_only:
        info = annotate_corpus(
            settings, out_dir, say, progress or NoProgress(), clock, shard_engine
        )
    ann = out_dir / ANNOTATIONS
    if not ann.exists():
        raise DistillSettingsError(
            "report_only", f"{ann} does not exist: run without --report-only first"
        )
    from uniner.distill.report import report_for, write_report

    rep = report_for(ann, out_dir / STORE, settings.pricing, info)
    paths = write_report(rep, out_dir)
    n = build_instruct(settings, ann, out_dir / INSTRUCT, say) if settings.instruct else None
    return DistillResult(out_dir, rep, paths, info, n)


def annotate_corpus(
    settings: DistillSettings,
    out_dir: Path,
    log: Log,
    progress: Progress,
    clock: Callable[[], float] = time.monotonic,
    shard_engine: ShardEngine | None = None,
) -> dict[str, Any]:
    """Corpus -> passages -> the teacher's annotations; the run's counts for the report."""
    if not settings.inputs:
        raise DistillSettingsError(
            "inputs", "inputs: give corpus inputs (arguments or 'inputs' in --config)"
        )
    template = resolve_template(settings)
    teacher = make_teacher(settings)  # endpoint settings checked before the corpus is read
    t0 = clock()
    passages, dropped = read_passages(settings)
    write_passages(passages, out_dir / PASSAGES)
    log(
        f"{len(passages):,} passages ({dropped['exact']:,} exact and {dropped['near']:,} near "
        f"duplicates removed) in {clock() - t0:.1f} s"
    )
    progress.start(len(passages))
    try:
        stats, endpoints = annotate(
            settings, passages, teacher, template, out_dir, progress, shard_engine
        )
    finally:
        progress.close()
    info: dict[str, Any] = {
        **stats.to_dict(),
        "dedup_dropped": dropped,
        "teacher": settings.teacher,
        "model": settings.model,
        "template": template.id,
    }
    if endpoints:
        info["endpoints"] = endpoints
    if stats.failed:
        log(
            f"warning: {stats.failed} passages failed (kept in the store; re-run the same "
            "command to retry them)"
        )
    return info


def resolve_template(settings: DistillSettings) -> PromptTemplate:
    from uniner.distill.prompts import get_template

    try:
        return get_template(settings.template)
    except KeyError as exc:
        raise DistillSettingsError("template", f"template: {exc.args[0]}") from None


def make_teacher(settings: DistillSettings) -> Any:
    """The teacher the settings name (a module-level function: Ray shard tasks call it too)."""
    if settings.teacher == "local":
        from uniner.distill.teachers.local import LocalTeacher

        return LocalTeacher(settings.model, max_new_tokens=settings.max_new_tokens)
    from uniner.distill.teachers.pool import TeacherPool

    return TeacherPool(
        settings.teacher_endpoints(),
        settings.model,
        api_key_env=settings.api_key_env or None,
        temperature=settings.temperature,
        max_tokens=settings.max_new_tokens,
        timeout=settings.timeout,
        max_retries=settings.max_retries,
    )


def read_passages(settings: DistillSettings) -> tuple[list[Passage], dict[str, int]]:
    """The corpus as passages: read, cut to ``max_tokens``, de-duplicated, sampled; and how
    many duplicates were dropped (``{"exact": n, "near": m}``)."""
    from uniner.distill.corpus import (
        Deduplicator,
        dedup,
        iter_documents,
        iter_passages,
        make_token_counter,
        sample_passages,
    )

    s = settings
    docs = iter_documents(
        list(s.inputs), text_field=s.text_field, id_field=s.id_field, text_unit=s.text_unit
    )
    stream = iter_passages(docs, make_token_counter(s.tokenizer), s.max_tokens)
    deduper = None
    if s.dedup:
        deduper = Deduplicator(near_threshold=s.near_dup or None)
        stream = dedup(stream, deduper)
    passages = sample_passages(stream, s.sample, s.seed)
    return passages, (deduper.dropped if deduper else {"exact": 0, "near": 0})


def write_passages(passages: list[Passage], path: Path) -> None:
    with open(path, "w", encoding="utf-8") as fh:
        for p in passages:
            fh.write(json.dumps({"id": p.id, "text": p.text}, ensure_ascii=False) + "\n")


def annotate(
    settings: DistillSettings,
    passages: list[Passage],
    teacher: Any,
    template: PromptTemplate,
    out_dir: Path,
    progress: Progress,
    shard_engine: ShardEngine | None = None,
) -> tuple[RunStats, dict[str, Any]]:
    """Every passage through the teacher, in this process or (``engine="ray"``) as shards on
    Ray; the stats and the teacher pool's per-endpoint report (empty when there is none)."""
    if settings.engine == "ray":  # the same runner, per shard of passages, on Ray
        if shard_engine is None:
            raise DistillSettingsError(
                "engine",
                "engine: 'ray' needs run(..., shard_engine=uniner.scale.ray_distill."
                "annotate_on_ray) (the CLI passes it)",
            )
        asyncio.run(teacher.aclose())  # each shard task makes its own teacher
        stats = shard_engine(passages, settings, make_teacher, template, out_dir, progress.update)
        return stats, {}
    return asyncio.run(_annotate_here(settings, passages, teacher, template, out_dir, progress))


async def _annotate_here(
    settings: DistillSettings,
    passages: list[Passage],
    teacher: Any,
    template: PromptTemplate,
    out_dir: Path,
    progress: Progress,
) -> tuple[RunStats, dict[str, Any]]:
    from uniner.distill.store import Store

    pool_report: dict[str, Any] = {}
    try:
        with Store(out_dir / STORE) as store:
            stats = await run_distillation(
                passages,
                teacher,
                template,
                store,
                out_dir / ANNOTATIONS,
                concurrency=getattr(teacher, "capacity", settings.concurrency),
                rpm=settings.rpm,
                tpm=settings.tpm,
                progress=progress.update,
            )
    finally:
        if hasattr(teacher, "report"):
            pool_report.update(teacher.report())
        await teacher.aclose()
    return stats, pool_report


def build_instruct(settings: DistillSettings, ann: Path, path: Path, log: Log) -> int:
    """Instruction data (the released Pile-NER-type layout) from the parseable annotations;
    the number of conversations written."""
    from uniner.data.types import Example
    from uniner.distill.output import read_annotations
    from uniner.instruct import BuildConfig, build_records, from_example, write_records

    passages = []
    for i, rec in enumerate(read_annotations(ann)):
        if rec.get("teacher", {}).get("parse") == "unparseable":
            continue
        passages.append(from_example(Example.from_dict(rec), i))
    config = BuildConfig(
        negatives=settings.negatives, n_negatives=settings.n_negatives, seed=settings.seed
    )
    n = write_records(build_records(passages, config), path)
    log(f"instruction data: {n:,} conversations -> {path}")
    return n


__all__ = [
    "DistillResult",
    "DistillSettings",
    "NoProgress",
    "Progress",
    "annotate_corpus",
    "build_instruct",
    "make_teacher",
    "run",
]
