"""Instruction-tune a causal LM on UniNER conversations with the transformers ``Trainer``.

``uniner train --config configs/generative-smollm2.toml [--set train.max_steps=50 ...]`` or
:func:`train` from Python. Any causal LM folder or hub id works, or a backbone name of
``uniner backbone list`` (materialised offline, e.g. ``smollm2-135m-instruct``).

* Loss on assistant tokens only and the truncation policy: :mod:`.data`.
* Full fine-tuning or LoRA (``model.lora``, via peft); fp32 on the CPU, bf16 on a GPU
  (``train.bf16 = "auto"``); gradient checkpointing (``model.gradient_checkpointing``).
* Seeded: model init (LoRA), data order, negative sampling and question order all derive from
  ``train.seed``. Checkpoints (optimizer, scheduler, RNG states) go to
  ``<output_dir>/checkpoints`` and a rerun resumes from the latest one. ``train.max_seconds``
  is a wall budget *per invocation*: the run saves a checkpoint and stops; run it again to
  continue (the schedule is fixed by ``max_steps``/``epochs``, so resuming changes nothing).
* Multi-GPU: launch the same command with ``accelerate launch --config_file
  configs/accelerate/fsdp.yaml -m uniner.students.generative.train --config ...`` (or
  ``deepspeed-zero2.yaml``); the Trainer picks the distributed setup up from the launcher.
* The model is written to ``<output_dir>/model``: a LoRA adapter (``adapter_model.safetensors``)
  or a full model, the tokenizer, and ``uniner-generative.json`` (base, template, end-of-turn),
  which is what :class:`.extractor.GenerativeExtractor` loads.
"""

from __future__ import annotations

import argparse
import json
import logging
import math
import random
import time
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from uniner.data.sources import check_training_sources, load_sources
from uniner.data.types import Conversation
from uniner.students.generative.config import GenRunConfig, dump_config, load_config
from uniner.students.generative.data import (
    Encoded,
    PrepStats,
    collate,
    conversation_sequences,
    example_conversation,
    label_frequencies,
)
from uniner.students.generative.template import Template, get_template

log = logging.getLogger(__name__)

META_FILE = "uniner-generative.json"
CHECKPOINTS = "checkpoints"


@dataclass
class TrainResult:
    output_dir: Path
    model_dir: Path
    global_step: int
    complete: bool
    stats: PrepStats
    log_history: list[dict[str, Any]]


def resolve_base(ref: str) -> str:
    """A local folder for ``ref``: an existing folder, a fetched backbone, else the hub id."""
    if Path(ref).is_dir():
        return str(ref)
    try:
        from uniner.backbones import fetch, get_spec
    except ImportError:  # pragma: no cover - the backbones module ships with the package
        return ref
    try:
        get_spec(ref)
    except (KeyError, ValueError):
        return ref  # not a registered backbone: a hub id
    return str(fetch(ref))


def load_tokenizer(path: str) -> Any:
    from transformers import AutoTokenizer

    tok = AutoTokenizer.from_pretrained(path)
    if not tok.is_fast:
        raise TypeError(f"{path}: the generative student needs a fast tokenizer (tokenizer.json)")
    if tok.pad_token is None:
        tok.pad_token = tok.eos_token  # padding is masked out of attention and loss anyway
    return tok


# ----------------------------------------------------------------------------- data


def load_conversations(run: GenRunConfig) -> list[Conversation]:
    """Conversations of every configured source; example sources get sampled negatives.

    Conversation files (``path`` of a conversation format, e.g. ``uniner distill`` output or the
    UniNER/SLIMER files) are used as written, queries of a passage merged. ``dataset`` and
    ``source`` entries go through the shared loader. Every entry passes the zero-shot guard
    (:func:`uniner.data.sources.check_training_sources`) before anything is read.
    """
    from uniner.data.readers import FORMATS, detect_format, read_conversations

    if not run.data.train:
        raise ValueError("data.train lists no source")
    check_training_sources(run.data.train)
    seed = run.train.seed
    rng = random.Random(seed)
    convs: list[Conversation] = []
    for src in run.data.train:
        if src.path is not None:
            path = Path(src.path)
            fmt = detect_format(path) if src.format == "auto" else src.format
            if FORMATS[fmt].conversations is not None:
                got = list(read_conversations(path, fmt, group=True))
                if src.limit is not None:
                    got = got[: src.limit]
                if src.sample is not None and src.sample < len(got):
                    keep = sorted(random.Random(seed).sample(range(len(got)), src.sample))
                    got = [got[i] for i in keep]
                convs += got
                continue
        examples = load_sources([src], seed=seed)
        freq = label_frequencies(examples)
        tag = src.dataset if run.data.dataset_tag else None
        convs += [
            example_conversation(ex, freq, run.data.negatives, rng, dataset=tag)
            for ex in examples
            if ex.label_set()
        ]
    rng.shuffle(convs)
    if run.data.limit is not None:
        convs = convs[: run.data.limit]
    return convs


def prepare(
    convs: Sequence[Conversation], template: Template, tokenizer: Any, run: GenRunConfig
) -> tuple[list[Encoded], PrepStats]:
    from tqdm.auto import tqdm  # type: ignore[import-untyped]

    stats = PrepStats()
    rng = random.Random(run.train.seed)
    out: list[Encoded] = []
    for conv in tqdm(convs, desc="tokenise", unit="conv", mininterval=2.0):
        if not conv.queries:
            continue
        out += conversation_sequences(
            conv,
            template,
            tokenizer,
            run.data.max_length,
            rng,
            stats,
            shuffle=run.data.shuffle_questions,
            min_answer_room=run.data.min_answer_room,
            all_in_one=run.model.questions == "all-in-one",
        )
    if not out:
        raise ValueError("no training sequence: every source was empty")
    return out, stats


# ----------------------------------------------------------------------------- model


def use_gpu(run: GenRunConfig) -> bool:
    import torch

    if run.train.device == "cpu":
        return False
    if run.train.device.startswith("cuda"):
        return True
    return torch.cuda.is_available()


def _checked_adapter(path: str, base: str) -> Path:
    """The adapter folder to continue from, refused unless it was trained on ``base``."""
    folder = Path(path)
    cfg_file = folder / "adapter_config.json"
    if not cfg_file.is_file():
        raise FileNotFoundError(
            f"model.init_adapter: {folder} has no adapter_config.json (expected the 'model' "
            "folder of a LoRA run)"
        )
    trained_on = json.loads(cfg_file.read_text(encoding="utf-8")).get("base_model_name_or_path")
    if trained_on not in (None, base):
        raise ValueError(
            f"model.init_adapter: {folder} was trained on base {trained_on!r}, "
            f"this run's model.base is {base!r}"
        )
    return folder


def load_model(run: GenRunConfig, base_path: str, gpu: bool) -> Any:
    import torch
    from transformers import AutoModelForCausalLM

    bf16 = gpu if run.train.bf16 == "auto" else bool(run.train.bf16)
    dtype = torch.bfloat16 if (bf16 and gpu) else torch.float32
    model = AutoModelForCausalLM.from_pretrained(base_path, dtype=dtype)
    model.config.use_cache = False
    if run.model.gradient_checkpointing:
        model.gradient_checkpointing_enable(  # type: ignore[no-untyped-call]
            gradient_checkpointing_kwargs={"use_reentrant": False}
        )
        model.enable_input_require_grads()  # type: ignore[no-untyped-call]
    if run.model.lora:
        try:
            from peft import LoraConfig, PeftModel, get_peft_model
        except ImportError as exc:
            raise ImportError("LoRA needs peft: pip install 'uniner[generative]'") from exc
        if run.model.init_adapter is not None:
            adapter = _checked_adapter(run.model.init_adapter, run.model.base)
            peft_model = PeftModel.from_pretrained(model, str(adapter), is_trainable=True)
            # the saved config names the base portably; point it at the local folder while
            # training so that peft's checkpoint saving never looks the name up on a hub
            # (write_model records the portable name again)
            for cfg in peft_model.peft_config.values():
                cfg.base_model_name_or_path = base_path
            return peft_model
        layers = None
        if run.model.lora_top_layers is not None:
            n = model.config.num_hidden_layers
            layers = list(range(max(0, n - run.model.lora_top_layers), n))
        lora = LoraConfig(
            layers_to_transform=layers,
            r=run.model.lora_r,
            lora_alpha=run.model.lora_alpha,
            lora_dropout=run.model.lora_dropout,
            target_modules=run.model.lora_targets,
            task_type="CAUSAL_LM",
        )
        return get_peft_model(model, lora)
    return model


# ----------------------------------------------------------------------------- training


def _budget_callback(max_seconds: float | None, stop_at_step: int | None) -> Any:
    from transformers import TrainerCallback

    class Budget(TrainerCallback):
        """Save and stop at a wall-clock budget or a given step (the run resumes later)."""

        t0 = 0.0

        def on_train_begin(self, args, state, control, **kw):  # type: ignore[no-untyped-def]
            self.t0 = time.monotonic()

        def on_step_end(self, args, state, control, **kw):  # type: ignore[no-untyped-def]
            over = max_seconds is not None and time.monotonic() - self.t0 >= max_seconds
            if over or (stop_at_step is not None and state.global_step >= stop_at_step):
                control.should_save = True
                control.should_training_stop = True
            return control

    return Budget()


def training_args(run: GenRunConfig, out: Path, gpu: bool) -> Any:
    from transformers import TrainingArguments

    t = run.train
    bf16 = gpu if t.bf16 == "auto" else bool(t.bf16)
    return TrainingArguments(
        output_dir=str(out / CHECKPOINTS),
        per_device_train_batch_size=t.batch_size,
        gradient_accumulation_steps=t.grad_accum,
        learning_rate=t.lr,
        lr_scheduler_type=t.scheduler,
        warmup_steps=t.warmup,
        weight_decay=t.weight_decay,
        num_train_epochs=t.epochs,
        max_steps=t.max_steps if t.max_steps is not None else -1,
        max_grad_norm=t.grad_clip,
        bf16=bf16 and gpu,
        use_cpu=not gpu,
        logging_steps=t.logging_steps,
        save_strategy="steps",
        save_steps=t.save_steps,
        save_total_limit=t.save_total_limit,
        seed=t.seed,
        data_seed=t.seed,
        report_to=[],
        remove_unused_columns=False,
        dataloader_num_workers=0,
        disable_tqdm=False,
    )


def write_model(
    model: Any,
    tokenizer: Any,
    run: GenRunConfig,
    template: Template,
    model_dir: Path,
    meta: dict[str, Any],
) -> None:
    """Save the adapter (LoRA) or the full model, the tokenizer and ``uniner-generative.json``."""
    model_dir.mkdir(parents=True, exist_ok=True)
    model.save_pretrained(str(model_dir))
    tokenizer.save_pretrained(str(model_dir))
    adapter_cfg = model_dir / "adapter_config.json"
    if adapter_cfg.is_file():  # record the base by its portable name, never a local path
        cfg = json.loads(adapter_cfg.read_text(encoding="utf-8"))
        cfg["base_model_name_or_path"] = run.model.base
        adapter_cfg.write_text(json.dumps(cfg, indent=2), encoding="utf-8")
    info = {
        "kind": "generative",
        "base": run.model.base,
        "adapter": bool(run.model.lora),
        "template": template.name,
        "eot": template.eot,
        "questions": run.model.questions,
        "max_length": run.data.max_length,
        **meta,
    }
    (model_dir / META_FILE).write_text(json.dumps(info, indent=2), encoding="utf-8")


def train(
    run: GenRunConfig,
    conversations: Sequence[Conversation] | None = None,
    stop_at_step: int | None = None,
    resume: bool = True,
) -> TrainResult:
    """Train (or resume) the run; conversations default to the configured sources."""
    if conversations is None:  # zero-shot test data is refused before any folder or model
        check_training_sources(run.data.train)
    import torch
    from transformers import Trainer, set_seed

    if run.train.threads:
        torch.set_num_threads(run.train.threads)
    out = Path(run.train.output_dir)
    out.mkdir(parents=True, exist_ok=True)
    (out / "run.json").write_text(dump_config(run), encoding="utf-8")
    set_seed(run.train.seed)
    base_path = resolve_base(run.model.base)
    tokenizer = load_tokenizer(base_path)
    template = get_template(run.model.template).for_tokenizer(tokenizer)
    convs = list(conversations) if conversations is not None else load_conversations(run)
    seqs, stats = prepare(convs, template, tokenizer, run)
    (out / "prep.json").write_text(json.dumps(asdict(stats), indent=2), encoding="utf-8")
    log.info("prepared %d sequences from %d conversations", len(seqs), stats.conversations)
    gpu = use_gpu(run)
    set_seed(run.train.seed)
    model = load_model(run, base_path, gpu)
    args = training_args(run, out, gpu)
    trainer = Trainer(
        model=model,
        args=args,
        train_dataset=[{"input_ids": s.input_ids, "labels": s.labels} for s in seqs],
        data_collator=lambda b: collate(b, tokenizer.pad_token_id),
        callbacks=[_budget_callback(run.train.max_seconds, stop_at_step)],
    )
    t0 = time.monotonic()
    last = _last_checkpoint(out, resume)
    state = _finished_state(Path(last), run) if last is not None else None
    if last is not None and state is not None:
        _restore_weights(trainer.model, Path(last))
    else:
        trainer.train(resume_from_checkpoint=last)
        state = trainer.state
    complete = state.global_step >= state.max_steps
    meta = {
        "global_step": state.global_step,
        "max_steps": state.max_steps,
        "complete": complete,
        "seconds_this_invocation": round(time.monotonic() - t0, 1),
        "sequences": len(seqs),
        "seed": run.train.seed,
    }
    model_dir = out / "model"
    write_model(trainer.model, tokenizer, run, template, model_dir, meta)
    with open(out / "log.jsonl", "a", encoding="utf-8") as fh:
        for rec in state.log_history:
            fh.write(json.dumps(rec) + "\n")
    return TrainResult(out, model_dir, state.global_step, complete, stats, state.log_history)


def _finished_state(checkpoint: Path, run: GenRunConfig) -> Any:
    """The state saved with ``checkpoint`` if it is already the run's last step, else None.
    Why it matters: resumed from a checkpoint that stopped mid-epoch at ``max_steps``, the
    Trainer takes one step more (301 of 300, the step that made a finished ablation arm answer
    differently when it was rerun), so a finished run is restored rather than resumed."""
    from transformers import TrainerState

    state = TrainerState.load_from_json(str(checkpoint / "trainer_state.json"))
    wanted = run.train.max_steps
    if wanted is None:  # an epoch schedule: the same one if its epochs are (steps follow the data)
        same = state.num_train_epochs == math.ceil(run.train.epochs)
    else:
        same = wanted == state.max_steps
    finished = same and state.max_steps > 0 and state.global_step >= state.max_steps
    return state if finished else None


def _restore_weights(model: Any, checkpoint: Path) -> None:
    """Load a finished run's weights (adapter or full model) from its last checkpoint."""
    from safetensors.torch import load_file

    adapter = checkpoint / "adapter_model.safetensors"
    if adapter.is_file():
        from peft import set_peft_model_state_dict

        set_peft_model_state_dict(model, load_file(str(adapter)))
    else:
        missing = model.load_state_dict(
            load_file(str(checkpoint / "model.safetensors")), strict=False
        ).missing_keys
        tied = set(getattr(model, "_tied_weights_keys", None) or ())
        if set(missing) - tied:
            raise RuntimeError(f"{checkpoint}: weights missing for {sorted(missing)[:3]}")
    log.info("%s ends the run's schedule: restored, nothing left to train", checkpoint)


def _last_checkpoint(out: Path, resume: bool) -> str | None:
    """The run's newest checkpoint to resume from (None: start afresh)."""
    from transformers.trainer_utils import get_last_checkpoint

    ckpt_dir = out / CHECKPOINTS
    last: str | None = None
    if resume and ckpt_dir.is_dir():
        last = get_last_checkpoint(str(ckpt_dir))  # type: ignore[no-untyped-call]
    if last:
        log.info("resuming from %s", last)
    return last


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description="Train the uniner generative student.")
    parser.add_argument("--config", required=True)
    parser.add_argument("--set", action="append", default=[], metavar="KEY=VALUE")
    parser.add_argument("--stop-at-step", type=int)
    parser.add_argument("--no-resume", action="store_true")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(message)s")
    run = load_config(args.config, args.set)
    res = train(run, stop_at_step=args.stop_at_step, resume=not args.no_resume)
    print(
        json.dumps(
            {"global_step": res.global_step, "complete": res.complete, "model": str(res.model_dir)}
        )
    )


if __name__ == "__main__":
    main()
