"""``uniner train --config FILE [--set key=value ...]``: train a student from a run config.

The config decides which student: a generative config (``[model] base = ...``, or
``kind = "generative"``) goes to :mod:`uniner.students.generative.train`; a span config
(``[model] backbone = ...``) to :mod:`uniner.students.span.train`. ``--set section.key=value``
overrides a field of the file (values are TOML literals: ``--set train.max_steps=10``,
``--set model.lora=false``, ``--set train.output_dir=runs/x``).

``uniner distill-scores --out DIR`` scores the self-distillation pool with the default model
(:mod:`uniner.students.span.selfdistill`) for a span run with ``data.teacher_scores = "DIR"``.
"""

from __future__ import annotations

import json
import tempfile
import tomllib
from pathlib import Path
from typing import Annotated, Any

import typer

from uniner.cli import app
from uniner.cli.errors import RUNTIME, USAGE, UserError
from uniner.cli.runtime import OnnxDirOption, Runtime, RuntimeOption, apply_runtime, check_runtime


def config_kind(raw: dict[str, Any]) -> str:
    """``generative`` or ``span``, from the parsed config."""
    kind = raw.get("kind")
    if isinstance(kind, str) and kind in ("generative", "span"):
        return kind
    if kind is not None:
        raise typer.BadParameter(f"kind = {kind!r}: expected 'generative' or 'span'")
    model = raw.get("model", {})
    if "base" in model:
        return "generative"
    if "backbone" in model or "model" not in raw:
        return "span"
    raise typer.BadParameter("cannot tell the student: [model] has neither 'base' nor 'backbone'")


@app.command("train")
def train(
    config: Annotated[Path, typer.Option("--config", "-c", help="run config (TOML)")],
    set_: Annotated[
        list[str] | None,
        typer.Option("--set", help="override a field: section.key=value (repeatable)"),
    ] = None,
    stop_at_step: Annotated[
        int | None, typer.Option(help="save and stop at this step (resume later)")
    ] = None,
    no_resume: Annotated[bool, typer.Option("--no-resume", help="ignore checkpoints")] = False,
) -> None:
    """Train a student (generative or span) from a run config; reruns resume."""
    import logging

    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(message)s")
    if not config.is_file():
        raise typer.BadParameter(f"no config file {config}")
    kind, run = _load_run(config, list(set_ or []))
    if kind == "generative":
        _train_generative(run, stop_at_step, no_resume)
    else:
        _train_span(run, stop_at_step, no_resume)


def _load_run(config: Path, overrides: list[str]) -> tuple[str, Any]:
    """The student's kind and its parsed run config. A config that does not parse or names
    unknown fields is one line (exit 1), said before any training starts."""
    try:
        raw = tomllib.loads(config.read_text(encoding="utf-8"))
        kind = config_kind(raw)
        if kind == "generative":
            from uniner.students.generative.config import load_config

            return kind, load_config(config, overrides)
        from uniner.students.generative.config import apply_overrides
        from uniner.students.span.config import RunConfig

        merged = RunConfig.from_dict(apply_overrides(raw, overrides))
        if merged.data.teacher_scores is not None:  # self-distillation: checked up front
            from uniner.students.span.selfdistill_train import check_data_config

            check_data_config(merged.data)
        return kind, merged
    except (ValueError, KeyError, TypeError) as exc:  # TOMLDecodeError is a ValueError
        raise UserError(f"{config}: {exc}", RUNTIME) from None


def _train_generative(run: Any, stop_at_step: int | None, no_resume: bool) -> None:
    from uniner.students.generative.train import train as gen_train

    res = gen_train(run, stop_at_step=stop_at_step, resume=not no_resume)
    result = {"global_step": res.global_step, "complete": res.complete, "model": str(res.model_dir)}
    typer.echo(json.dumps(result))


def _train_span(merged: Any, stop_at_step: int | None, no_resume: bool) -> None:
    """The span trainer's own entry point, on the merged config written to a temporary file."""
    from uniner.students.span.config import dump_run_config
    from uniner.students.span.train import main as span_main

    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "run.toml"
        path.write_text(dump_run_config(merged), encoding="utf-8")
        argv = ["--config", str(path)]
        if stop_at_step is not None:
            argv += ["--stop-at-step", str(stop_at_step)]
        if no_resume:
            argv.append("--no-resume")
        span_main(argv)


StoreOpt = Annotated[Path, typer.Option("--out", "-o", help="store folder (reruns continue it)")]
TeacherOpt = Annotated[str, typer.Option(help="teacher model: shipped name or folder")]
SourceOpt = Annotated[
    list[str] | None,
    typer.Option(help="pool part: pile-ner, supervised or a set name (repeatable; all)"),
]


RelativesOpt = Annotated[
    int, typer.Option(min=0, help="of those, hierarchy relatives of its own types instead")
]
HierarchyOpt = Annotated[
    Path | None, typer.Option(help="type hierarchy JSON (bench/mine_hierarchy.py)")
]


def _pool_settings(hierarchy: Path | None, **options: Any) -> Any:
    """The pool's ``PoolSettings`` from the command's options; a bad value is a usage error."""
    from uniner.students.span.selfdistill import PoolSettings

    try:
        path = str(hierarchy) if hierarchy else None
        return PoolSettings(max_words=64, hierarchy=path, **options)
    except ValueError as exc:
        raise UserError(str(exc), USAGE) from None


@app.command("distill-scores")
def distill_scores(
    out: StoreOpt,
    teacher: TeacherOpt = "uniner-span-mpnet",
    max_pieces: Annotated[int | None, typer.Option(min=1, help="stop at this many pieces")] = None,
    source: SourceOpt = None,
    extra_types: Annotated[int, typer.Option(min=0, help="Pile-NER types drawn per piece")] = 8,
    relatives: RelativesOpt = 0,
    hierarchy: HierarchyOpt = None,
    floor: Annotated[float, typer.Option(help="scores below this are stored as 0")] = 0.02,
    keep_empty: Annotated[float, typer.Option(help="share of mention-less pieces kept")] = 0.3,
    informal: Annotated[float, typer.Option(help="share of examples rewritten informally")] = 0.0,
    mix: Annotated[float, typer.Option(help="source weight ~ size**mix in the pool order")] = 0.5,
    seed: int = 13,
    shard_pieces: Annotated[int, typer.Option(min=1, help="pieces per shard")] = 1024,
    batch_size: Annotated[int, typer.Option(min=1, help="teacher inputs per batch")] = 16,
    threads: Annotated[int | None, typer.Option(min=1, help="torch threads")] = None,
    runtime: RuntimeOption = Runtime.torch,
    onnx_dir: OnnxDirOption = None,
    device: Annotated[str, typer.Option(help="torch teacher on cpu, cuda or auto")] = "auto",
) -> None:
    """Score the self-distillation pool with a teacher, once (issue 23); reruns continue.

    The pool is Pile-NER's training part and the supervised train splits, never CrossNER/MIT
    or dev data. A span run config trains a student on it: data.teacher_scores = "OUT".
    """
    import logging

    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(message)s")
    from uniner.students.span.selfdistill import score_training_pool, teacher_id
    from uniner.students.span.selfdistill_store import StoreError

    check_runtime(runtime, onnx_dir)
    settings = _pool_settings(
        hierarchy,
        keep_empty=keep_empty,
        extra_types=extra_types,
        relatives=relatives,
        floor=floor,
        informal=informal,
        mix=mix,
        seed=seed,
        shard_pieces=shard_pieces,
    )
    try:
        name = teacher_id(teacher, runtime.value)
        model = _teacher(teacher, threads, batch_size, runtime, onnx_dir, device)
        manifest = score_training_pool(
            model,
            name,
            out,
            settings,
            max_pieces=max_pieces,
            sources=source or None,
            exclude_texts=dev_suite_texts(),
        )
    except (StoreError, ValueError) as exc:
        raise UserError(str(exc), RUNTIME) from None
    summary = {k: manifest[k] for k in ("pieces", "entries", "complete")}
    typer.echo(json.dumps({**summary, "shards": len(manifest["shards"]), "out": str(out)}))


def _teacher(
    teacher: str,
    threads: int | None,
    batch_size: int,
    runtime: Runtime,
    onnx_dir: Path | None,
    device: str,
) -> Any:
    """The teacher model on its runtime; a torch teacher moves to a lent GPU when there is
    one (it scores the pool in minutes)."""
    from uniner import load
    from uniner.students.span.config import resolve_device

    model = load(teacher, threads=threads, batch_size=batch_size)
    model = apply_runtime(model, runtime, onnx_dir)
    on = resolve_device(device)
    if runtime is Runtime.torch and on != "cpu":
        import torch

        model.model.to(on)
        model.device = torch.device(on)
    return model


def dev_suite_texts(data_dir: Path | None = None) -> set[str]:
    """Every text the dev suite may ask (its sets' dev splits and the held-out Pile-NER part),
    folded (``selfdistill.fold_text``): the self-distillation pool leaves them out."""
    from uniner.benchmark.devsuite import DEV_SUITE, PILE_NER_HELDOUT
    from uniner.benchmark.loaders import load_split
    from uniner.benchmark.registry import get
    from uniner.data.sources import pile_ner_examples
    from uniner.students.span.selfdistill import fold_text

    texts = {fold_text(ex.text) for ex in pile_ner_examples(data_dir, "heldout")}
    for name in DEV_SUITE.sets:
        spec = None if name == PILE_NER_HELDOUT else get(name)
        if spec is not None and DEV_SUITE.split in spec.splits() and spec.present(data_dir):
            split = load_split(spec, DEV_SUITE.split, data_dir)
            texts |= {fold_text(ex.text) for ex in split.examples}
    return texts
