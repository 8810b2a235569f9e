"""``uniner distill``: corpus + teacher -> annotations, report and (optionally) instruction data.

Settings come from a TOML file (``--config``, keys named like the options with underscores;
relative ``inputs`` and ``out`` are relative to the file) and are overridden by the options given
on the command line. Everything lands in ``--out``:
``annotations.jsonl`` (one record per passage), ``store.sqlite`` (every request and answer; a
re-run with the same settings asks nothing again, a killed run resumes), ``passages.jsonl`` (the
sampled passages), ``report.{json,md}``, ``type_frequency.png`` and, with ``--instruct``,
``instruct.json`` in the released Pile-NER-type layout.

Several teacher endpoints serving the same model: repeat ``--teacher-url URL[,concurrency=N,
rpm=R,tpm=T,name=S]`` or give ``[[endpoints]]`` tables in the config (see
:mod:`uniner.distill.teachers.endpoints`); the run then fails over between them and ends with a
per-endpoint table (also in ``report.json`` under ``run.endpoints`` and in ``report.md``).
"""

from __future__ import annotations

import asyncio
import json
import sys
import time
import tomllib
from pathlib import Path
from typing import Annotated, Any

import typer
from tqdm import tqdm

from uniner.cli import app
from uniner.distill import EXTRA_MODULES as DISTILL_MODULES
from uniner.extras import require
from uniner.scale.options import AddressOption, DistillEngineOption, ShardSizeOption

DEFAULTS: dict[str, Any] = {
    "inputs": [],
    "text_field": "text",
    "id_field": None,
    "text_unit": "paragraph",
    "max_tokens": 256,
    "tokenizer": "whitespace",
    "sample": None,
    "seed": 0,
    "dedup": True,
    "near_dup": 0.8,
    "teacher": "openai",
    "base_url": "https://api.openai.com/v1",
    "endpoints": [],  # several base URLs (strings or tables); replaces base_url when given
    "model": "gpt-3.5-turbo",
    "api_key_env": "OPENAI_API_KEY",
    "template": "pile-ner-type",
    "temperature": 0.0,
    "max_new_tokens": 1024,
    "timeout": 60.0,
    "max_retries": 6,
    "concurrency": 8,
    "rpm": None,
    "tpm": None,
    "price_in": 0.0,
    "price_out": 0.0,
    "instruct": False,
    "negatives": "frequency",
    "n_negatives": 2,
    "out": None,
    "report_only": False,
    "engine": "local",  # or "ray": shards of passages on Ray (uniner.scale.ray_distill)
    "address": None,
    "shard_size": 1000,
}


def _settings(config: Path | None, given: dict[str, Any]) -> dict[str, Any]:
    s = dict(DEFAULTS)
    if config is not None:
        try:
            data = tomllib.loads(config.read_text(encoding="utf-8"))
        except (OSError, tomllib.TOMLDecodeError) as exc:
            raise typer.BadParameter(f"{config}: {exc}", param_hint="--config") from None
        unknown = set(data) - set(DEFAULTS)
        if unknown:
            raise typer.BadParameter(
                f"{config}: unknown keys {sorted(unknown)}; known: {sorted(DEFAULTS)}",
                param_hint="--config",
            )
        base = config.parent
        if "inputs" in data:  # relative paths in the file are relative to the file
            data["inputs"] = [
                str(p) if Path(p).is_absolute() else str(base / p) for p in data["inputs"]
            ]
        if data.get("out") and not Path(data["out"]).is_absolute():
            data["out"] = str(base / data["out"])
        s.update(data)
    s.update({k: v for k, v in given.items() if v is not None and v != []})
    return s


def _passages(s: dict[str, Any]):
    from uniner.distill.corpus import (
        Deduplicator,
        dedup,
        iter_documents,
        iter_passages,
        make_token_counter,
        sample_passages,
    )

    docs = iter_documents(
        s["inputs"], text_field=s["text_field"], id_field=s["id_field"], text_unit=s["text_unit"]
    )
    stream = iter_passages(docs, make_token_counter(s["tokenizer"]), s["max_tokens"])
    deduper = None
    if s["dedup"]:
        deduper = Deduplicator(near_threshold=s["near_dup"] or None)
        stream = dedup(stream, deduper)
    passages = sample_passages(stream, s["sample"], s["seed"])
    return passages, (deduper.dropped if deduper else {"exact": 0, "near": 0})


def _teacher(s: dict[str, Any]):
    if s["teacher"] == "openai":
        from uniner.distill.teachers.endpoints import EndpointConfigError, parse_endpoints
        from uniner.distill.teachers.pool import TeacherPool

        try:
            eps = parse_endpoints(s["endpoints"] or [s["base_url"]], "endpoints", s["concurrency"])
        except EndpointConfigError as exc:
            raise typer.BadParameter(str(exc), param_hint="--teacher-url/endpoints") from None
        return TeacherPool(
            eps,
            s["model"],
            api_key_env=s["api_key_env"] or None,
            temperature=s["temperature"],
            max_tokens=s["max_new_tokens"],
            timeout=s["timeout"],
            max_retries=s["max_retries"],
        )
    if s["teacher"] == "local":
        from uniner.distill.teachers.local import LocalTeacher

        return LocalTeacher(s["model"], max_new_tokens=s["max_new_tokens"])
    raise typer.BadParameter(
        f"teacher must be 'openai' or 'local', got {s['teacher']!r}", param_hint="--teacher"
    )


@app.command("distill")
def distill(
    inputs: Annotated[
        list[str] | None,
        typer.Argument(help="corpus files, folders or globs (.txt/.md paragraphs, .jsonl, .gz)"),
    ] = None,
    out: Annotated[Path | None, typer.Option("--out", "-o", help="output folder")] = None,
    config: Annotated[Path | None, typer.Option("--config", "-c", help="TOML settings")] = None,
    text_field: Annotated[str | None, typer.Option(help="JSONL text field (dotted)")] = None,
    id_field: Annotated[str | None, typer.Option(help="JSONL id field (dotted)")] = None,
    text_unit: Annotated[str | None, typer.Option(help="text files: paragraph|line|file")] = None,
    max_tokens: Annotated[
        int | None, typer.Option(min=1, help="passage length limit (tokens)")
    ] = None,
    tokenizer: Annotated[
        str | None, typer.Option(help="'whitespace' or a backbone name/folder/hub id")
    ] = None,
    sample: Annotated[int | None, typer.Option(min=1, help="sample N passages (seeded)")] = None,
    seed: Annotated[int | None, typer.Option(help="sampling and shuffling seed")] = None,
    dedup: Annotated[bool | None, typer.Option("--dedup/--no-dedup")] = None,
    near_dup: Annotated[float | None, typer.Option(help="near-duplicate Jaccard (0=off)")] = None,
    teacher: Annotated[str | None, typer.Option(help="openai | local")] = None,
    base_url: Annotated[str | None, typer.Option(help="OpenAI-compatible base URL")] = None,
    endpoints: Annotated[
        list[str] | None,
        typer.Option(
            "--teacher-url",
            help="a teacher endpoint, URL[,concurrency=N,rpm=R,tpm=T,name=S]; repeat for "
            "several (replaces --base-url; --concurrency is then the per-endpoint default)",
        ),
    ] = None,
    model: Annotated[str | None, typer.Option(help="teacher model (or local backbone)")] = None,
    api_key_env: Annotated[
        str | None, typer.Option(help="environment variable holding the API key")
    ] = None,
    template: Annotated[
        str | None, typer.Option(help="pile-ner-type | pile-ner-definition | a template .json")
    ] = None,
    temperature: Annotated[float | None, typer.Option()] = None,
    max_new_tokens: Annotated[int | None, typer.Option(min=1, help="answer length limit")] = None,
    timeout: Annotated[float | None, typer.Option(help="seconds per request")] = None,
    max_retries: Annotated[int | None, typer.Option(min=0)] = None,
    concurrency: Annotated[int | None, typer.Option(min=1, help="requests in flight")] = None,
    rpm: Annotated[float | None, typer.Option(help="requests per minute limit")] = None,
    tpm: Annotated[float | None, typer.Option(help="tokens per minute limit")] = None,
    price_in: Annotated[float | None, typer.Option(help="price per 1M input tokens")] = None,
    price_out: Annotated[float | None, typer.Option(help="price per 1M output tokens")] = None,
    instruct: Annotated[
        bool | None, typer.Option("--instruct/--no-instruct", help="also build instruct.json")
    ] = None,
    negatives: Annotated[str | None, typer.Option(help="none | uniform | frequency")] = None,
    n_negatives: Annotated[
        int | None, typer.Option(min=0, help="sampled negatives per passage")
    ] = None,
    report_only: Annotated[
        bool | None,
        typer.Option("--report-only", help="rebuild the report from --out, ask nothing"),
    ] = None,
    engine: DistillEngineOption = None,
    address: AddressOption = None,
    shard_size: ShardSizeOption = None,
) -> None:
    """Annotate a corpus with a teacher LLM (resumable), report, build instruction data."""
    given = {k: v for k, v in locals().items() if k != "config"}
    require(DISTILL_MODULES, "distill", "uniner distill")
    s = _settings(config, given)
    if not s["out"]:
        raise typer.BadParameter("an output folder is required", param_hint="--out")
    out_dir = Path(s["out"])
    out_dir.mkdir(parents=True, exist_ok=True)
    from uniner.distill.prompts import get_template
    from uniner.distill.report import report_for, write_report
    from uniner.distill.runner import Pricing, run_distillation
    from uniner.distill.store import Store
    from uniner.distill.teachers import FatalTeacherError

    pricing = Pricing(s["price_in"], s["price_out"])
    ann, store_path = out_dir / "annotations.jsonl", out_dir / "store.sqlite"
    run_info: dict[str, Any] | None = None
    if not s["report_only"]:
        if not s["inputs"]:
            raise typer.BadParameter("give corpus inputs (arguments or 'inputs' in --config)")
        try:
            tmpl = get_template(s["template"])
        except KeyError as exc:
            raise typer.BadParameter(exc.args[0], param_hint="--template") from None
        teach = _teacher(s)  # endpoint settings checked before the corpus is read
        t0 = time.monotonic()
        passages, dropped = _passages(s)
        with open(out_dir / "passages.jsonl", "w", encoding="utf-8") as fh:
            for p in passages:
                fh.write(json.dumps({"id": p.id, "text": p.text}, ensure_ascii=False) + "\n")
        typer.echo(
            f"{len(passages):,} passages ({dropped['exact']:,} exact and "
            f"{dropped['near']:,} near duplicates removed) in "
            f"{time.monotonic() - t0:.1f} s",
            err=True,
        )
        bar = tqdm(
            total=len(passages), unit="passage", dynamic_ncols=True, file=sys.stderr, desc="distill"
        )

        def progress(stats, done):
            bar.update(done - bar.n)
            cost = pricing.cost(stats.prompt_tokens, stats.completion_tokens)
            bar.set_postfix(
                cost=f"{cost:.4f}",
                asked=stats.asked,
                cached=stats.cached,
                failed=stats.failed,
                refresh=False,
            )

        pool_report: dict[str, Any] = {}

        async def go():
            try:
                with Store(store_path) as store:
                    return await run_distillation(
                        passages,
                        teach,
                        tmpl,
                        store,
                        ann,
                        concurrency=getattr(teach, "capacity", s["concurrency"]),
                        rpm=s["rpm"],
                        tpm=s["tpm"],
                        progress=progress,
                    )
            finally:
                if hasattr(teach, "report"):
                    pool_report.update(teach.report())
                await teach.aclose()

        try:
            if s["engine"] == "ray":  # the same runner, per shard of passages, on Ray
                from uniner.scale.ray_distill import annotate_on_ray

                asyncio.run(teach.aclose())  # each shard task makes its own teacher
                stats = annotate_on_ray(passages, s, _teacher, tmpl, out_dir, progress)
            else:
                stats = asyncio.run(go())
        except FatalTeacherError as exc:
            bar.close()
            typer.echo(f"error: {exc}", err=True)
            raise typer.Exit(3) from None
        bar.close()
        run_info = {
            **stats.to_dict(),
            "dedup_dropped": dropped,
            "teacher": s["teacher"],
            "model": s["model"],
            "template": tmpl.id,
        }
        if pool_report:
            run_info["endpoints"] = pool_report
        if stats.failed:
            typer.echo(
                f"warning: {stats.failed} passages failed (kept in the store; re-run "
                "the same command to retry them)",
                err=True,
            )
    if not ann.exists():
        raise typer.BadParameter(f"{ann} does not exist: run without --report-only first")
    rep = report_for(ann, store_path, pricing, run_info)
    paths = write_report(rep, out_dir)
    if s["instruct"]:
        from uniner.data.types import Example
        from uniner.distill.output import read_annotations
        from uniner.instruct import BuildConfig, build_records, from_example, write_records

        passages_ann = []
        for i, rec in enumerate(read_annotations(ann)):
            if rec.get("teacher", {}).get("parse") == "unparseable":
                continue
            passages_ann.append(from_example(Example.from_dict(rec), i))
        n = write_records(
            build_records(
                passages_ann,
                BuildConfig(negatives=s["negatives"], n_negatives=s["n_negatives"], seed=s["seed"]),
            ),
            out_dir / "instruct.json",
        )
        typer.echo(
            f"instruction data: {n:,} conversations -> {out_dir / 'instruct.json'}", err=True
        )
    typer.echo(
        f"{rep['passages']:,} passages, {rep['mentions']:,} mentions, "
        f"{rep['distinct_types']:,} types, {rep['parse_failures']:,} parse failures, "
        f"{rep['hallucinated']:,} hallucinated, tokens {rep['tokens_in']:,}/{rep['tokens_out']:,},"
        f" cost {rep['cost']:.4f}"
    )
    if run_info and run_info.get("endpoints"):
        from uniner.distill.report import endpoint_table

        typer.echo("\n".join(endpoint_table(run_info["endpoints"])))
    typer.echo(f"report: {paths['md']}")
