"""Configuration of the span student: model hyper-parameters, training data, training run.

A run is described by one TOML (or YAML) file with the sections ``[model]``, ``[data]`` and
``[train]``; unknown keys are errors so that a typo never silently falls back to a default.
The resolved configuration is written next to the run's outputs (``run.toml``).
"""

from __future__ import annotations

import dataclasses
import json
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

from uniner.data.hierarchy import MIN_SHARE, MIN_SUPPORT
from uniner.data.sources import DataSource  # a [data] entry; shared with every trainer

T = TypeVar("T")

LABEL_ENCODINGS = ("joint", "separate")  # SpanModelConfig.label_encoding
LABEL_ORDERS = ("asked", "sorted")  # SpanModelConfig.label_order
HASHTAG_READINGS = ("as_written", "bare")  # SpanModelConfig.hashtags

# SpanModelConfig fields that say how a model reads text (windows, passes, type order), not what
# its weights are: a release may change them, and models differing only here share weights'
# meaning (students.span.soup averages such models)
READING_SETTINGS = (
    "window_words",
    "window_overlap",
    "max_prefix_tokens",
    "max_labels_per_pass",
    "label_order",
    "hashtags",
)


@dataclass
class SpanModelConfig:
    """Everything needed to rebuild the model's shape; saved in the model folder's config.json."""

    backbone: str = "minilm-l6"
    max_width: int = 12  # longest span, in words
    hidden_dim: int = 256  # width of the span and label projections
    dropout: float = 0.1
    shape_embedding: bool = True  # word casing added to the input embeddings (uncased backbones)
    bias_init: float = -4.0  # initial score bias: sigmoid(-4) ~ 0.018, so early outputs are rare
    max_length: int = 512  # encoder tokens per input, label prefix included
    max_word_tokens: int = 16  # sub-tokens kept per word (pathological "words" are cut)
    max_label_tokens: int = 16  # sub-tokens kept per label
    freeze_word_embeddings: bool = True  # faster steps, smaller saved models (see io.py)
    # fine-tune only the top N encoder layers (embeddings and lower layers frozen): no weight
    # gradients below them and a saved delta of N layers only, for base-size backbones on a CPU.
    # None fine-tunes every layer. (A shape embedding still sends its gradient down the stack.)
    train_top_layers: int | None = None
    # inference defaults
    window_words: int = 192
    window_overlap: int = 32
    max_prefix_tokens: int = 160  # label prefix budget per pass; more labels -> more passes
    # most labels per pass (more: several passes of even size); a run raises it to its
    # data.max_labels, so a model reads as many types together as it was trained on
    max_labels_per_pass: int = 32
    # "joint": one encoder pass over "labels [SEP] text", so labels and words attend to each
    # other (every model before this key). "separate": each label name is encoded alone and its
    # vector cached per label set (label_cache.py), the text alone: a call's cost barely grows
    # with the number of types (GLiNER's bi-encoder idea). Absent in a saved config = "joint".
    label_encoding: str = "joint"
    # separate encoding only: one attention layer over the vectors of the labels a call asks
    # (model.LabelContext), so "person" can read that "writer" is asked too, as the joint
    # encoding does. Applied once per label set, cached with its vectors: a call's cost stays
    # that of the text. Starts as the identity (zero output projection), so a separate model
    # continued with it first gives exactly its old scores.
    label_context: bool = False
    # the order a joint model reads a call's types in: "asked" (as the caller lists them) or
    # "sorted" (by name, whatever the caller's order): a type's place in the prefix moves its
    # scores a little, so only "sorted" gives the same answer for the same types in any order
    # (at some cost on many-type calls, measured on the dev suite: BENCHMARKS.md, "Types sorted
    # by name"). Absent in a saved config = "asked".
    label_order: str = "asked"
    # how a hashtag's "#" is read: "as_written" (a word of its own before the tag's word), or
    # "bare": a "#" that starts a word and that a letter or digit follows at once is left out
    # of the model's input (never part of an answer), so "#Chicago" reads as "Chicago". Why:
    # the informal-text augmentation adds hashtags only as non-mentions, and a model trained on
    # it scores a tagged name near 0; but the dev suite's informal text loses with "bare"
    # (BENCHMARKS.md, "Names written as hashtags"). Absent in a saved config = "as_written".
    hashtags: str = "as_written"

    def __post_init__(self) -> None:
        if self.label_order not in LABEL_ORDERS:
            raise ValueError(f"label_order must be one of {LABEL_ORDERS}, got {self.label_order!r}")
        if self.hashtags not in HASHTAG_READINGS:
            raise ValueError(f"hashtags must be one of {HASHTAG_READINGS}, got {self.hashtags!r}")
        if self.label_encoding not in LABEL_ENCODINGS:
            raise ValueError(
                f"label_encoding must be one of {LABEL_ENCODINGS}, got {self.label_encoding!r}"
            )
        if self.label_context and self.label_encoding != "separate":
            raise ValueError(
                "label_context needs label_encoding = 'separate' (joint labels already attend "
                "to each other)"
            )
        if self.max_width < 1:
            raise ValueError(f"max_width must be >= 1, got {self.max_width}")
        if not 0 <= self.window_overlap < self.window_words:
            raise ValueError("window_overlap must be in [0, window_words)")
        if self.max_prefix_tokens + 2 + self.max_word_tokens > self.max_length:
            raise ValueError("max_prefix_tokens leaves no room for text within max_length")
        if self.max_label_tokens + 1 > self.max_prefix_tokens:
            raise ValueError("max_prefix_tokens must hold at least one label")
        if self.max_labels_per_pass < 1:
            raise ValueError(f"max_labels_per_pass must be >= 1, got {self.max_labels_per_pass}")
        if self.train_top_layers is not None and self.train_top_layers < 1:
            raise ValueError(f"train_top_layers must be >= 1 or None, got {self.train_top_layers}")


@dataclass
class DataConfig:
    train: list[DataSource] = field(default_factory=list)
    dev: list[DataSource] = field(default_factory=list)
    max_words: int = 64  # training inputs are sentences packed up to this many words
    keep_empty: float = 0.3  # share of inputs without any mention that is kept
    min_labels: int = 8  # labels asked per input: positives + frequency-sampled negatives
    max_labels: int = 12
    min_negatives: int = 2
    # supervised pieces are asked only their own data set's labels (see sampling.LabelSampler)
    closed_label_sets: bool = False
    # share of training inputs shown as if lowercased (cased shapes -> lower; data.caseless_flags)
    lowercase: float = 0.0
    # most labels asked of a piece without a known label set (Pile-NER; None: max_labels), so
    # closed sets can be asked whole (max_labels 33) while open pieces keep fewer negatives
    open_max_labels: int | None = None
    # tokens set aside per asked label when pieces are cut (None: max_label_tokens + 1, each
    # label at its longest). Smaller keeps pieces whole when many labels are asked (a closed
    # set of 33 types); the sampler then leaves out absent types whose names do not fit
    label_reserve_tokens: int | None = None
    # share of inputs asked only 1 to few_labels_max of their labels (sampling.LabelSampler)
    few_labels: float = 0.0
    few_labels_max: int = 3
    # share of pieces with a known label set asked the whole set (up to max_labels) instead of
    # a uniform number of its labels (sampling.LabelSampler._total)
    whole_set_share: float = 0.0
    # a type hierarchy (uniner.data.hierarchy): None (off), "mine" (mined from this run's
    # training examples at start, written to the run's hierarchy.json) or a JSON file written
    # by bench/mine_hierarchy.py. With one, a mention is also a target for an asked ancestor of
    # its type unless a more specific type of it is asked (data.target_labels)
    hierarchy: str | None = None
    hierarchy_min_support: int = MIN_SUPPORT  # mining thresholds for hierarchy = "mine"
    hierarchy_min_share: float = MIN_SHARE
    # share of inputs asked a mention type's parent too, or instead (sampling.LabelSampler)
    hard_negative_share: float = 0.0
    # how absent types are drawn as negatives: "frequency", "uniform" or "none" (sampling.NEGATIVES)
    negatives: str = "frequency"
    # share of training examples rewritten in informal style (data.prepare_items), and in
    # those the share of one-word mentions written as hashtags (augment.InformalStyle.tag_mention;
    # 0: every hashtag a non-name, what every release so far was trained on)
    informal: float = 0.0
    informal_tag_mentions: float = 0.0
    dev_limit: int | None = 500
    dev_labels: str = "example"  # "example": each text's own label set; "union": all dev labels
    # self-distillation (span/selfdistill_train.py): a folder written by `uniner distill-scores`
    # replaces data.train (its first teacher_max_pieces pieces); the loss is soft_weight x BCE
    # against the teacher's probabilities plus (1 - soft_weight) x BCE against gold labels
    teacher_scores: str | None = None
    teacher_max_pieces: int | None = None
    # how many times each stored piece of a source is used per pass, by source name ("*": every
    # other source; unnamed sources 1.0): a store's mix follows its sources' sizes, and this
    # brings it back to a chosen one (2.0 doubles a source, 0.35 keeps a seeded 35% of it)
    teacher_source_weights: dict[str, float] | None = None
    soft_weight: float = 0.8

    def __post_init__(self) -> None:
        if not 0.0 <= self.lowercase <= 1.0:
            raise ValueError(f"data.lowercase must be in [0, 1], got {self.lowercase}")
        if not 0.0 <= self.few_labels <= 1.0:
            raise ValueError(f"data.few_labels must be in [0, 1], got {self.few_labels}")
        if self.few_labels_max < 1:
            raise ValueError(f"data.few_labels_max must be >= 1, got {self.few_labels_max}")
        for key in (
            "hard_negative_share",
            "whole_set_share",
            "informal",
            "informal_tag_mentions",
            "hierarchy_min_share",
            "soft_weight",
        ):
            if not 0.0 <= getattr(self, key) <= 1.0:
                raise ValueError(f"data.{key} must be in [0, 1], got {getattr(self, key)}")
        if self.informal_tag_mentions and not self.informal:
            raise ValueError("data.informal_tag_mentions needs data.informal > 0")
        if self.negatives not in ("frequency", "uniform", "none"):
            raise ValueError(
                f"data.negatives must be frequency, uniform or none, got {self.negatives!r}"
            )
        if self.hard_negative_share > 0.0 and self.hierarchy is None:
            raise ValueError('data.hard_negative_share needs data.hierarchy ("mine" or a file)')
        for name, weight in (self.teacher_source_weights or {}).items():
            if isinstance(weight, bool) or not isinstance(weight, int | float):
                raise ValueError(f"data.teacher_source_weights[{name!r}] must be a number")
            if not 0.0 <= weight <= 10.0:
                raise ValueError(
                    f"data.teacher_source_weights[{name!r}] must be in [0, 10], got {weight}"
                )
        if self.open_max_labels is not None and not (
            self.min_labels <= self.open_max_labels <= self.max_labels
        ):
            raise ValueError(
                f"data.open_max_labels must be in [min_labels, max_labels]: {self.open_max_labels}"
            )
        if self.label_reserve_tokens is not None and self.label_reserve_tokens < 2:
            raise ValueError(
                f"data.label_reserve_tokens must be >= 2, got {self.label_reserve_tokens}"
            )
        if self.hierarchy_min_support < 1:
            raise ValueError(
                f"data.hierarchy_min_support must be >= 1, got {self.hierarchy_min_support}"
            )

    def label_prefix_budget(self, max_label_tokens: int) -> int:
        """Tokens a training input's label prefix may take: [CLS], then ``max_labels`` names
        with a [SEP] each, at ``label_reserve_tokens`` (or their longest) per name."""
        return 1 + self.max_labels * (self.label_reserve_tokens or max_label_tokens + 1)


@dataclass
class TrainConfig:
    output_dir: str = "runs/span"
    seed: int = 13
    batch_size: int = 16
    lr_encoder: float = 5e-5
    lr_head: float = 1e-3
    weight_decay: float = 0.01
    warmup_steps: int = 100
    max_steps: int | None = None  # the schedule decays to 0 at max_steps and/or max_seconds
    max_seconds: float | None = None
    # bf16 autocast: ~20% faster on CPUs with native bf16 (measurements.md), ~5x SLOWER on AVX2-only
    # CPUs (measured on this session's machine); "auto" turns it on only with avx512_bf16/amx.
    bf16: bool | str = "auto"
    device: str = "auto"  # "cpu", "cuda", "cuda:1", or "auto" (a GPU when one is lent)
    threads: int | None = None
    grad_clip: float = 1.0
    loss: str = "bce"  # "bce" (positives weighted by pos_weight) or "focal"
    pos_weight: float = 5.0
    focal_gamma: float = 2.0
    focal_alpha: float = 0.75
    # weight of a cross-entropy over the asked types on each span with one gold type, added to
    # the loss above: it teaches *which* type (close types apart), the BCE only whether; with
    # data.teacher_scores the teacher's ranking of the asked types is the target
    # (selfdistill_train.teacher_choice_loss)
    type_choice_weight: float = 0.0
    # a share of the pieces asked >= 4 types is asked again with 1 to 3 of them (a "shape
    # twin", shape_twins.py); the weight of the term that keeps the two readings' scores of a
    # shared (span, type) pair equal, so one threshold serves calls of 1 type and of 33
    shape_twin_share: float = 0.0
    shape_consistency_weight: float = 0.0
    checkpoint_every: int = 500
    keep_checkpoints: int = 2
    eval_every: int | None = None
    eval_threshold: float = 0.5
    log_every: int = 10
    save_storage: str = "delta-int8"  # how the final model is written (io.py)
    # a saved model folder whose weights start this run (fresh optimizer and schedule): continued
    # training of a released model; ignored when the run resumes from its own checkpoint
    init_from: str | None = None

    def __post_init__(self) -> None:
        if self.max_steps is None and self.max_seconds is None:
            raise ValueError("set train.max_steps and/or train.max_seconds")
        resolve_bf16(self.bf16)  # validates
        if self.type_choice_weight < 0:
            w = self.type_choice_weight
            raise ValueError(f"train.type_choice_weight must be >= 0, got {w}")
        if not 0.0 <= self.shape_twin_share <= 1.0:
            share = self.shape_twin_share
            raise ValueError(f"train.shape_twin_share must be in [0, 1], got {share}")
        if self.shape_consistency_weight < 0:
            w = self.shape_consistency_weight
            raise ValueError(f"train.shape_consistency_weight must be >= 0, got {w}")
        if self.loss not in ("bce", "focal"):
            raise ValueError(f"train.loss must be 'bce' or 'focal', got {self.loss!r}")


def cpu_has_fast_bf16() -> bool:
    """Whether this CPU computes bf16 natively (Linux flags); without it autocast is emulated."""
    try:
        flags = Path("/proc/cpuinfo").read_text(encoding="utf-8", errors="replace")
    except OSError:
        return False
    return any(f in flags.split() for f in ("avx512_bf16", "amx_bf16"))


def resolve_bf16(value: bool | str, device: str = "cpu") -> bool:
    """``True``/``False`` as given; ``"auto"``: only where the hardware has native bf16."""
    if isinstance(value, bool):
        return value
    if value == "auto":
        if device.startswith("cuda"):
            import torch

            return bool(torch.cuda.is_bf16_supported())
        return cpu_has_fast_bf16()
    raise ValueError(f"bf16 must be true, false or 'auto', got {value!r}")


def resolve_device(value: str) -> str:
    """``"auto"`` is ``"cuda"`` when torch sees a GPU, else ``"cpu"``."""
    if value != "auto":
        return value
    import torch

    return "cuda" if torch.cuda.is_available() else "cpu"


@dataclass
class RunConfig:
    model: SpanModelConfig = field(default_factory=SpanModelConfig)
    data: DataConfig = field(default_factory=DataConfig)
    train: TrainConfig = field(default_factory=lambda: TrainConfig(max_steps=1000))

    def __post_init__(self) -> None:
        if self.train.shape_twin_share and self.data.teacher_scores:
            raise ValueError("train.shape_twin_share needs gold labels: unset data.teacher_scores")
        if self.data.max_labels > self.model.max_labels_per_pass:
            # trained on inputs asking up to max_labels types: read that many in one pass (v0.10
            # trained on 33 but read a 33-type call as 32 + 1, the last type alone)
            self.model.max_labels_per_pass = self.data.max_labels

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> RunConfig:
        unknown = set(d) - {"model", "data", "train"}
        if unknown:
            raise ValueError(f"unknown config sections: {sorted(unknown)}")
        data = dict(d.get("data", {}))
        for key in ("train", "dev"):
            data[key] = [
                _build(DataSource, s) if isinstance(s, dict) else DataSource(str(s))
                for s in data.get(key, [])
            ]
        return cls(
            model=_build(SpanModelConfig, d.get("model", {})),
            data=_build(DataConfig, data),
            train=_build(TrainConfig, d.get("train", {})),
        )


def _build(kind: type[T], values: dict[str, Any]) -> T:
    names = {f.name for f in dataclasses.fields(kind)}  # type: ignore[arg-type]
    unknown = set(values) - names
    if unknown:
        raise ValueError(f"unknown keys for {kind.__name__}: {sorted(unknown)}")
    return kind(**values)


def model_config_from_dict(values: dict[str, Any]) -> SpanModelConfig:
    return _build(SpanModelConfig, values)


def load_run_config(path: str | Path) -> RunConfig:
    """Read a TOML (``.toml``) or YAML (``.yaml``/``.yml``) run configuration."""
    p = Path(path)
    if p.suffix in (".yaml", ".yml"):
        import yaml  # type: ignore[import-untyped]

        raw = yaml.safe_load(p.read_text(encoding="utf-8")) or {}
    elif p.suffix == ".json":
        raw = json.loads(p.read_text(encoding="utf-8"))
    else:
        raw = tomllib.loads(p.read_text(encoding="utf-8"))
    return RunConfig.from_dict(raw)


def _toml_value(v: Any) -> str:
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, int | float):
        return repr(v)
    if isinstance(v, str):
        return json.dumps(v, ensure_ascii=False)
    if isinstance(v, list):
        return "[" + ", ".join(_toml_value(x) for x in v) + "]"
    if isinstance(v, dict):
        items = ", ".join(f"{k} = {_toml_value(x)}" for k, x in v.items() if x is not None)
        return "{ " + items + " }"
    raise TypeError(f"cannot write {type(v).__name__} to TOML")


def dump_run_config(cfg: RunConfig) -> str:
    """TOML text that :func:`load_run_config` reads back to an equal config (None keys omitted)."""
    lines: list[str] = []
    for section, values in cfg.to_dict().items():
        lines.append(f"[{section}]")
        lines += [f"{k} = {_toml_value(v)}" for k, v in values.items() if v is not None]
        lines.append("")
    return "\n".join(lines)
