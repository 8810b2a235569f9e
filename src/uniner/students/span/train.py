"""Training loop for the span student: seeded, time- or step-budgeted, exactly resumable.

``python -m uniner.students.span.train --config configs/span-minilm.toml`` trains from a run
config; :func:`train` does the same from Examples in memory (tests, notebooks).

Resuming is exact (same parameters as an uninterrupted run) because every source of randomness is
either a function of (seed, epoch) (data order, label sampling) or saved in the checkpoint (torch
RNG for dropout), and the checkpoint holds the optimizer state, the step and the position in the
epoch. The learning-rate schedule (linear warm-up, then linear decay to zero at ``max_steps``
and/or ``max_seconds``) is a function of the step and the elapsed time, so it needs no state of
its own; a time budget makes the schedule depend on the machine's speed, which is the point.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import logging
import math
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch
from tqdm.auto import tqdm  # type: ignore[import-untyped]

from uniner.data.hierarchy import TypeHierarchy
from uniner.data.sources import check_training_sources, load_sources
from uniner.data.types import Example
from uniner.students.span.backbones import load_encoder, load_tokenizer
from uniner.students.span.checkpoints import (
    TrainState,
    latest_checkpoint,
    load_checkpoint,
    save_checkpoint,
)
from uniner.students.span.config import (
    DataConfig,
    RunConfig,
    SpanModelConfig,
    TrainConfig,
    dump_run_config,
    load_run_config,
    model_config_from_dict,
    resolve_bf16,
    resolve_device,
)
from uniner.students.span.data import (
    PrepStats,
    TrainItem,
    caseless_flags,
    epoch_plan,
    prepare_items,
    resolve_hierarchy,
)
from uniner.students.span.features import Featurizer
from uniner.students.span.losses import batch_losses
from uniner.students.span.model import SpanModel
from uniner.students.span.sampling import LabelSampler, label_frequencies
from uniner.students.span.selfdistill_train import SoftTargets
from uniner.students.span.shape_twins import draw_twins

log = logging.getLogger(__name__)

EvalFn = Callable[[Any], dict[str, Any]]


@dataclass
class TrainResult:
    state: TrainState
    model: SpanModel
    tokenizer: Any
    stats: PrepStats
    output_dir: Path


def build_model(cfg: SpanModelConfig, seed: int) -> tuple[SpanModel, Any]:
    """Pretrained encoder plus a freshly initialised head (seeded)."""
    torch.manual_seed(seed)
    tokenizer = load_tokenizer(cfg.backbone)
    model = SpanModel(cfg, load_encoder(cfg.backbone))
    return model, tokenizer


def init_weights(model: SpanModel, path: str | Path, cfg: SpanModelConfig) -> None:
    """Copy a saved model's weights into ``model`` (same architecture) for continued training.

    ``path`` is a model folder, a shipped model's name (``"uniner-span-mpnet"``: adapting the
    default to a domain) or a hub id, as for :func:`uniner.load`.
    """
    from uniner.models import resolve_model
    from uniner.students.span.io import load_model

    src, _, saved = load_model(resolve_model(path), backbone=cfg.backbone)
    theirs = model_config_from_dict(saved["model"]) if "model" in saved else None
    if theirs is not None:
        for key in ("max_width", "hidden_dim", "shape_embedding"):
            if getattr(theirs, key) != getattr(cfg, key):
                raise ValueError(
                    f"train.init_from {path}: model.{key} is {getattr(theirs, key)!r} there "
                    f"but {getattr(cfg, key)!r} in this run"
                )
    try:
        missing, unexpected = model.load_state_dict(src.state_dict(), strict=False)
    except RuntimeError as err:
        raise ValueError(f"train.init_from {path}: weights do not fit this model: {err}") from err
    # a label context layer added to a separate model starts as the identity (LabelContext)
    added = [m for m in missing if m.startswith("label_context.") and src.label_context is None]
    if set(missing) - set(added) or unexpected:
        raise ValueError(
            f"train.init_from {path}: weights do not fit this model "
            f"(missing {sorted(set(missing) - set(added))[:5]}, unexpected {unexpected[:5]})"
        )


def inherited_decoding(init_from: str | Path | None) -> dict[str, Any]:
    """How the model a run starts from decodes, for the models this run saves.

    A model adapted from a release (``init_from = "uniner-span-mpnet"``) is still an open-type
    model: it keeps the release's threshold, padding of few-type calls and generic-type rule
    until a choice of its own is made on dev data (``bench/adapt_eval.py``, then ``release``).
    ``adapted_from`` records the parent. Empty without ``init_from``.
    """
    if not init_from:
        return {}
    from uniner.models import resolve_model
    from uniner.students.span.io import DECODING_KEYS, read_config

    parent = read_config(resolve_model(init_from))
    out = {k: parent[k] for k in DECODING_KEYS if k in parent}
    out["adapted_from"] = {
        "init_from": str(init_from),
        "name": parent.get("name"),
        "version": parent.get("version"),
    }
    return out


def make_optimizer(model: SpanModel, tcfg: TrainConfig) -> torch.optim.AdamW:
    """AdamW, encoder and new layers at their own rates; no decay on biases, norms, embeddings."""
    groups: dict[tuple[bool, bool], list[torch.nn.Parameter]] = {}
    for name, p in model.named_parameters():
        if not p.requires_grad:
            continue
        is_head = not name.startswith("encoder.")
        decay = p.dim() >= 2 and "emb" not in name.lower() and "norm" not in name.lower()
        groups.setdefault((is_head, decay), []).append(p)
    param_groups = []
    for (is_head, decay), params in sorted(groups.items()):
        lr = tcfg.lr_head if is_head else tcfg.lr_encoder
        param_groups.append(
            {
                "params": params,
                "lr": lr,
                "base_lr": lr,
                "weight_decay": tcfg.weight_decay if decay else 0.0,
            }
        )
    return torch.optim.AdamW(param_groups)


def lr_factor(step: int, elapsed: float, tcfg: TrainConfig) -> float:
    """Warm-up then linear decay to 0 at whichever budget (steps, seconds) runs out first."""
    f = 1.0
    if tcfg.warmup_steps > 0:
        f = min(f, (step + 1) / tcfg.warmup_steps)
    if tcfg.max_steps:
        span = max(tcfg.max_steps - tcfg.warmup_steps, 1)
        f = min(f, (tcfg.max_steps - step) / span)
    if tcfg.max_seconds:
        f = min(f, 1.0 - elapsed / tcfg.max_seconds)
    return max(f, 0.0)


@dataclass
class _TrainData:
    """The training pieces and how each batch asks them (gold or a teacher's stored scores)."""

    items: list[TrainItem]
    stats: PrepStats
    hierarchy: TypeHierarchy | None
    sampler: LabelSampler
    soft: SoftTargets | None


def _prepare_data(
    run: RunConfig, train_examples: Sequence[Example], featurizer: Featurizer, out: Path
) -> _TrainData:
    """Cut the examples into pieces (or read a teacher's scores) and build the label sampler."""
    mcfg, dcfg, tcfg = run.model, run.data, run.train
    prefix_budget = dcfg.label_prefix_budget(mcfg.max_label_tokens)
    max_tokens = max(mcfg.max_length - prefix_budget - 1, mcfg.max_word_tokens)
    soft = SoftTargets.load(dcfg, featurizer, mcfg, max_tokens) if dcfg.teacher_scores else None
    items, stats = (soft.items, soft.stats) if soft else prepare_items(
        train_examples, featurizer, dcfg.max_words, mcfg.max_width, max_tokens,
        0.0 if dcfg.negatives == "none" else dcfg.keep_empty,  # nothing to ask an empty piece
        tcfg.seed, dcfg.informal, dcfg.informal_tag_mentions,
    )  # fmt: skip
    if not items:
        raise ValueError("no training pieces: the training set is empty or has no words")
    log.info("training pieces: %s", stats)
    hierarchy = resolve_hierarchy(
        dcfg.hierarchy, train_examples, dcfg.hierarchy_min_support, dcfg.hierarchy_min_share
    )
    if hierarchy is not None:
        (out / "hierarchy.json").write_text(hierarchy.to_json(), encoding="utf-8")
        log.info("type hierarchy: %d edges", len(hierarchy))
    sampler = soft.sampler(dcfg) if soft else LabelSampler(
        label_frequencies(items), dcfg.min_labels, dcfg.max_labels, dcfg.min_negatives,
        closed_sets=dcfg.closed_label_sets, few_share=dcfg.few_labels,
        few_max=dcfg.few_labels_max, hierarchy=hierarchy, hard_share=dcfg.hard_negative_share,
        negatives=dcfg.negatives, prefix_budget=(prefix_budget, featurizer.prefix_length),
        open_max_labels=dcfg.open_max_labels, whole_share=dcfg.whole_set_share,
    )  # fmt: skip
    return _TrainData(items, stats, hierarchy, sampler, soft)


def _start_state(
    run: RunConfig, model: SpanModel, optimizer: torch.optim.Optimizer, out: Path, resume: bool
) -> TrainState:
    """A resumed run's state from its latest checkpoint, or a fresh one (``init_from``)."""
    ckpt = latest_checkpoint(out) if resume else None
    if ckpt is not None:
        state = load_checkpoint(ckpt, model, optimizer)
        log.info("resumed from %s at step %d", ckpt, state.step)
        return state
    if run.train.init_from:
        init_weights(model, run.train.init_from, run.model)
        log.info("weights initialised from %s", run.train.init_from)
    return TrainState()


def _budget_spent(state: TrainState, tcfg: Any, stop_at_step: int | None = None) -> bool:
    """Whether the run's step or time budget (or this call's ``stop_at_step``) is reached."""
    if tcfg.max_steps is not None and state.step >= tcfg.max_steps:
        return True
    if tcfg.max_seconds is not None and state.elapsed >= tcfg.max_seconds:
        return True
    return stop_at_step is not None and state.step >= stop_at_step


def _plan_for(state: TrainState, plan: list[Any], data: _TrainData, tcfg: Any) -> list[Any]:
    """The current epoch's batches: ``plan``, or the next epoch's once it is used up."""
    if state.batch_in_epoch < len(plan):
        return plan
    state.epoch += 1
    state.batch_in_epoch = 0
    return epoch_plan(data.items, data.sampler, tcfg.batch_size, tcfg.seed, state.epoch)


def _record_loss(state: TrainState, loss: float, every: int) -> None:
    """Keep the loss for the mean logged every ``every`` steps."""
    state.pending.append(loss)
    if state.step % every == 0:
        state.losses.append((state.step, sum(state.pending) / len(state.pending)))
        state.pending = []


def train(
    run: RunConfig,
    train_examples: Sequence[Example],
    dev_examples: Sequence[Example] | None = None,
    *,
    eval_fn: EvalFn | None = None,
    stop_at_step: int | None = None,
    resume: bool = True,
    progress: bool = True,
    clock: Callable[[], float] = time.monotonic,
) -> TrainResult:
    """Train (or continue training) the span student; returns the final state and model.

    ``eval_fn(extractor) -> {"f1": ...}`` overrides the default strict-F1 dev evaluation.
    ``stop_at_step`` ends this call early without changing the schedule (for interruptions).
    ``clock`` measures the ``max_seconds`` budget (injectable, so tests need no real seconds).
    """
    mcfg, dcfg, tcfg = run.model, run.data, run.train
    out = Path(tcfg.output_dir)
    out.mkdir(parents=True, exist_ok=True)
    (out / "run.toml").write_text(dump_run_config(run), encoding="utf-8")
    if tcfg.threads:
        torch.set_num_threads(tcfg.threads)
    model, tokenizer = build_model(mcfg, tcfg.seed)
    model.to(resolve_device(tcfg.device))
    featurizer = Featurizer(tokenizer, mcfg.max_word_tokens, mcfg.max_label_tokens)
    data = _prepare_data(run, train_examples, featurizer, out)
    optimizer = make_optimizer(model, tcfg)
    state = _start_state(run, model, optimizer, out, resume)
    decoding = inherited_decoding(tcfg.init_from)
    if eval_fn is None and dev_examples:
        eval_fn = _default_eval(dev_examples, dcfg.dev_labels, tcfg.eval_threshold)

    model.train()
    t0 = clock() - state.elapsed
    bar = tqdm(total=tcfg.max_steps, initial=state.step, disable=not progress, unit="step")
    bar.smoothing = 0.1
    running: float | None = None
    plan = epoch_plan(data.items, data.sampler, tcfg.batch_size, tcfg.seed, state.epoch)
    while not _budget_spent(state, tcfg, stop_at_step):
        plan = _plan_for(state, plan, data, tcfg)
        loss = _step(
            model, optimizer, featurizer, data.items, plan[state.batch_in_epoch], mcfg, tcfg,
            state, dcfg.lowercase, data.hierarchy, data.soft,
        )  # fmt: skip
        state.step, state.batch_in_epoch = state.step + 1, state.batch_in_epoch + 1
        state.elapsed = clock() - t0
        running = loss if running is None else 0.98 * running + 0.02 * loss
        _record_loss(state, loss, tcfg.log_every)
        bar.update(1)
        bar.set_postfix(loss=f"{running:.4f}", ep=state.epoch, t=f"{state.elapsed:.0f}s")
        if eval_fn is not None and tcfg.eval_every and state.step % tcfg.eval_every == 0:
            meta = _meta(run, state, data.stats, plan, decoding)
            _evaluate(eval_fn, model, tokenizer, state, out, tcfg, meta)
        spent = _budget_spent(state, tcfg, stop_at_step)
        if tcfg.checkpoint_every and state.step % tcfg.checkpoint_every == 0 and not spent:
            save_checkpoint(out, model, optimizer, state, tcfg.keep_checkpoints)
    bar.close()
    _finish(run, model, optimizer, tokenizer, state, eval_fn, decoding, data.stats, plan)
    return TrainResult(state, model, tokenizer, data.stats, out)


def _finish(
    run: RunConfig,
    model: SpanModel,
    optimizer: torch.optim.Optimizer,
    tokenizer: Any,
    state: TrainState,
    eval_fn: EvalFn | None,
    decoding: dict[str, Any],
    stats: PrepStats,
    plan: Sequence[Any],
) -> None:
    """Checkpoint; a run whose budget is spent is also evaluated once more and saved."""
    tcfg = run.train
    out = Path(tcfg.output_dir)
    finished = _budget_spent(state, tcfg)
    last_eval = state.evals[-1]["step"] if state.evals else None
    meta = _meta(run, state, stats, plan, decoding)
    if eval_fn is not None and finished and last_eval != state.step:
        _evaluate(eval_fn, model, tokenizer, state, out, tcfg, meta)
    save_checkpoint(out, model, optimizer, state, tcfg.keep_checkpoints)
    if finished:
        from uniner.students.span.io import save_model

        save_model(model, out / "model", tcfg.save_storage, meta=meta)
    (out / "trainer_state.json").write_text(json.dumps(dataclasses.asdict(state), indent=1))
    model.eval()


def _step(
    model: SpanModel,
    optimizer: torch.optim.Optimizer,
    featurizer: Featurizer,
    items: Sequence[TrainItem],
    entries: Sequence[tuple[int, list[str]]],
    mcfg: SpanModelConfig,
    tcfg: TrainConfig,
    state: TrainState,
    lowercase: float = 0.0,
    hierarchy: TypeHierarchy | None = None,
    soft: SoftTargets | None = None,
) -> float:
    f = lr_factor(state.step, state.elapsed, tcfg)
    for g in optimizer.param_groups:
        g["lr"] = g["base_lr"] * f
    at = (tcfg.seed, state.epoch, state.batch_in_epoch)  # seeds: a resumed run draws the same
    caseless = caseless_flags(len(entries), lowercase, *at)
    twins = draw_twins(entries, items, tcfg.shape_twin_share, *at)
    loss, choice = batch_losses(
        model, featurizer, items, entries, mcfg, tcfg, caseless, hierarchy, soft,
        with_choice=bool(tcfg.type_choice_weight), twins=twins,
    )  # fmt: skip
    if choice is not None:
        loss = loss + tcfg.type_choice_weight * choice
    loss.backward()  # type: ignore[no-untyped-call]
    if tcfg.grad_clip:
        torch.nn.utils.clip_grad_norm_(
            [p for p in model.parameters() if p.requires_grad], tcfg.grad_clip
        )
    optimizer.step()
    optimizer.zero_grad(set_to_none=True)
    value = float(loss.detach())
    if not math.isfinite(value):
        raise FloatingPointError(f"loss is {value} at step {state.step}")
    return value


def _default_eval(dev: Sequence[Example], labels: str, threshold: float) -> EvalFn:
    from uniner.students.span.evaluate import evaluate

    return lambda extractor: evaluate(extractor, dev, labels=labels, threshold=threshold)


def _evaluate(
    eval_fn: EvalFn,
    model: SpanModel,
    tokenizer: Any,
    state: TrainState,
    out: Path,
    tcfg: TrainConfig,
    meta: dict[str, Any],
) -> None:
    """Score the model on the dev data; the best so far is saved to ``best/`` with ``meta``
    (decoding and the training facts, as ``model/`` has them) and the scores."""
    from uniner.students.span.extractor import SpanExtractor
    from uniner.students.span.io import save_model

    t = time.monotonic()
    device = next(model.parameters()).device.type
    metrics = eval_fn(SpanExtractor(model, tokenizer, bf16=resolve_bf16(tcfg.bf16, device)))
    metrics = {"step": state.step, **metrics, "seconds": round(time.monotonic() - t, 1)}
    state.evals.append(metrics)
    log.info("eval at step %d: %s", state.step, metrics)
    f1 = float(metrics.get("f1", 0.0))
    if state.best_f1 is None or f1 > state.best_f1:
        state.best_f1, state.best_step = f1, state.step
        save_model(model, out / "best", tcfg.save_storage, meta={**meta, **metrics})


def _meta(
    run: RunConfig,
    state: TrainState,
    stats: PrepStats,
    plan: Sequence[Any],
    decoding: dict[str, Any],
) -> dict[str, Any]:
    """What a saved model's config.json records beside its weights: the decoding it inherits and
    the training facts (steps, passes over the pieces, seconds, data)."""
    epochs = state.epoch + state.batch_in_epoch / max(len(plan), 1)
    return {
        **decoding,
        "name": Path(run.train.output_dir).name,
        "training": {
            "steps": state.step,
            "epochs": round(epochs, 3),
            "seconds": round(state.elapsed, 1),
            "pieces": stats.pieces,
            "mentions": stats.mentions,
            "data": [dataclasses.asdict(s) for s in run.data.train],
            **_store_facts(run.data),
        },
    }


def _store_facts(dcfg: DataConfig) -> dict[str, Any]:
    """A self-distilled model's score store and how its sources were weighted (else nothing)."""
    if dcfg.teacher_scores is None:
        return {}
    return {
        "teacher_scores": Path(dcfg.teacher_scores).name,
        "teacher_source_weights": dcfg.teacher_source_weights,
    }


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description="Train the uniner span student.")
    parser.add_argument("--config", required=True, help="run config (.toml or .yaml)")
    parser.add_argument("--output-dir")
    parser.add_argument("--max-steps", type=int)
    parser.add_argument("--max-seconds", type=float)
    parser.add_argument("--stop-at-step", type=int, help="pause here; resume later")
    parser.add_argument("--threads", type=int)
    parser.add_argument("--no-resume", action="store_true")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(message)s")
    run = load_run_config(args.config)
    updates = {
        k: v
        for k, v in {
            "output_dir": args.output_dir,
            "max_steps": args.max_steps,
            "max_seconds": args.max_seconds,
            "threads": args.threads,
        }.items()
        if v is not None
    }
    run.train = dataclasses.replace(run.train, **updates)
    check_training_sources(run.data.dev, use="selection")  # before hours of reading data.train
    train_ex = load_sources(run.data.train, seed=run.train.seed)
    dev_ex = load_sources(run.data.dev, seed=run.train.seed, use="selection")
    dev_ex = dev_ex[: run.data.dev_limit]  # a limit of None keeps them all
    res = train(
        run, train_ex, dev_ex or None, stop_at_step=args.stop_at_step, resume=not args.no_resume
    )
    print(
        json.dumps(
            {
                "step": res.state.step,
                "elapsed": round(res.state.elapsed, 1),
                "best_f1": res.state.best_f1,
                "output_dir": str(res.output_dir),
            }
        )
    )


if __name__ == "__main__":
    main()
