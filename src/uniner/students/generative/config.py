"""Run configuration of the generative student: one TOML file, overridable from the CLI.

Sections ``[model]``, ``[data]``, ``[train]`` (see ``configs/generative-*.toml``). Unknown keys
are errors, so a typo never silently falls back to a default. ``--set train.max_steps=10``
style overrides are applied to the parsed file before validation (values are TOML literals;
a bare word is taken as a string). The resolved config is written into the run folder.
"""

from __future__ import annotations

import dataclasses
import json
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from uniner.data.sources import DataSource

KIND = "generative"
QUESTION_STYLES = ("type-wise", "all-in-one")


@dataclass
class GenModelConfig:
    # a backbone name of ``uniner backbone list`` (fetched offline), a model folder, or a hub id
    base: str = "smollm2-135m-instruct"
    template: str = "ie_as_qa"  # or "ie_as_qa_paragraph" (the official training wording)
    lora: bool = True
    lora_r: int = 16
    lora_alpha: int = 32
    lora_dropout: float = 0.05
    lora_targets: list[str] | str = "all-linear"
    # adapt only the top N decoder layers: the backward pass then stops there (about 2x cheaper
    # steps on a CPU); None adapts every layer
    lora_top_layers: int | None = None
    gradient_checkpointing: bool = False
    # continue from a saved LoRA adapter (a previous run's ``model`` folder) instead of a fresh
    # one: its rank, targets and layers are used and the lora_* fields above are ignored
    init_adapter: str | None = None
    # "type-wise": one question per type (UniNER's recipe); "all-in-one": one question listing
    # every type, answered with [mention, type] pairs (the paper's variant, -3.3 F1 over its 43
    # sets). Training data and inference both follow it (it is saved with the model).
    questions: str = "type-wise"

    def __post_init__(self) -> None:
        from uniner.students.generative.template import TEMPLATES

        if self.init_adapter is not None and not self.lora:
            raise ValueError("model.init_adapter needs model.lora = true")

        if self.questions not in QUESTION_STYLES:
            raise ValueError(f"model.questions must be one of {list(QUESTION_STYLES)}")
        if self.template not in TEMPLATES:
            raise ValueError(f"model.template must be one of {sorted(TEMPLATES)}")


@dataclass
class GenDataConfig:
    train: list[DataSource] = field(default_factory=list)
    max_length: int = 384  # tokens per training sequence (see data.py for the policy)
    negatives: int = 2  # frequency-sampled absent types per passage (example sources only)
    min_answer_room: int = 32  # tokens kept free for a question when windowing a passage
    shuffle_questions: bool = True
    limit: int | None = None  # keep the first N conversations (after a seeded shuffle)
    # the supervised template: 'Dataset: {name}' before 'Text:' for `dataset` sources (the
    # paper's Pile + supervised run); zero-shot inference omits it
    dataset_tag: bool = False

    def __post_init__(self) -> None:
        self.train = [s if isinstance(s, DataSource) else DataSource(**s) for s in self.train]
        if self.max_length < 32:
            raise ValueError(f"data.max_length must be >= 32, got {self.max_length}")


@dataclass
class GenTrainConfig:
    output_dir: str = "runs/generative"
    seed: int = 42
    batch_size: int = 8
    grad_accum: int = 1
    lr: float = 2e-5
    scheduler: str = "cosine"
    warmup: float = 0.04  # a ratio of the steps when < 1, else a number of steps
    weight_decay: float = 0.0
    epochs: float = 3.0
    max_steps: int | None = None  # overrides epochs
    max_seconds: float | None = None  # wall budget: save and stop (resume continues)
    bf16: bool | str = "auto"  # "auto": bf16 on a GPU, fp32 on the CPU
    device: str = "auto"  # "cpu", "cuda" or "auto"
    threads: int | None = None
    logging_steps: int = 10
    save_steps: int = 100
    save_total_limit: int = 2
    grad_clip: float = 1.0

    def __post_init__(self) -> None:
        if self.bf16 not in (True, False, "auto"):
            raise ValueError(f"train.bf16 must be true, false or 'auto', got {self.bf16!r}")
        if self.batch_size < 1 or self.grad_accum < 1:
            raise ValueError("train.batch_size and train.grad_accum must be >= 1")


@dataclass
class GenRunConfig:
    model: GenModelConfig = field(default_factory=GenModelConfig)
    data: GenDataConfig = field(default_factory=GenDataConfig)
    train: GenTrainConfig = field(default_factory=GenTrainConfig)
    kind: str = KIND


def parse_override(item: str) -> tuple[list[str], Any]:
    """``section.key=value`` -> (["section", "key"], value parsed as a TOML literal)."""
    key, sep, raw = item.partition("=")
    if not sep or not key.strip():
        raise ValueError(f"override {item!r} is not key=value (e.g. train.max_steps=10)")
    try:
        value = tomllib.loads(f"v = {raw}")["v"]
    except tomllib.TOMLDecodeError:
        value = raw
    return key.strip().split("."), value


def apply_overrides(raw: dict[str, Any], overrides: list[str]) -> dict[str, Any]:
    for item in overrides:
        path, value = parse_override(item)
        node = raw
        for part in path[:-1]:
            node = node.setdefault(part, {})
            if not isinstance(node, dict):
                raise ValueError(f"override {item!r}: {part!r} is not a section")
        node[path[-1]] = value
    return raw


def _build(kind: type, values: dict[str, Any], where: str) -> Any:
    names = {f.name for f in dataclasses.fields(kind)}
    unknown = sorted(set(values) - names)
    if unknown:
        raise ValueError(f"unknown key(s) in [{where}]: {', '.join(unknown)}")
    return kind(**values)


def config_from_dict(raw: dict[str, Any]) -> GenRunConfig:
    unknown = sorted(set(raw) - {"model", "data", "train", "kind"})
    if unknown:
        raise ValueError(f"unknown section(s): {', '.join(unknown)}")
    if raw.get("kind", KIND) != KIND:
        raise ValueError(f"not a generative config (kind = {raw.get('kind')!r})")
    return GenRunConfig(
        model=_build(GenModelConfig, dict(raw.get("model", {})), "model"),
        data=_build(GenDataConfig, dict(raw.get("data", {})), "data"),
        train=_build(GenTrainConfig, dict(raw.get("train", {})), "train"),
    )


def load_config(path: str | Path, overrides: list[str] | None = None) -> GenRunConfig:
    with open(path, "rb") as fh:
        raw = tomllib.load(fh)
    try:
        return config_from_dict(apply_overrides(raw, overrides or []))
    except (TypeError, ValueError) as exc:
        raise ValueError(f"{path}: {exc}") from exc


def dump_config(cfg: GenRunConfig) -> str:
    """The resolved config as JSON (exact, and readable by :func:`config_from_dict`)."""
    d = dataclasses.asdict(cfg)
    d["data"]["train"] = [
        {k: v for k, v in s.items() if v is not None and (k != "format" or v != "auto")}
        for s in d["data"]["train"]
    ]
    return json.dumps(d, indent=2)
