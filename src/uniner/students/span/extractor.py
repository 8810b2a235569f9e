"""``SpanExtractor``: texts and any labels in, entities with character offsets and scores out.

Implements the project's Extractor protocol (``name`` + ``extract_batch``) and GLiNER's method
names. The class wires units that each do one job:

- ``settings``: how it runs (:class:`RuntimeSettings`), argument checks, reading a model folder;
- ``planning``: words, windows of long texts and label passes, as encoder inputs (WorkItem);
- ``scoring``: those inputs of all texts sorted by length, batched with dynamic padding, scored
  by torch or ONNX; candidates above the call's lowest threshold collected per text;
- ``entities``: each text's candidates decoded once (flat or nested) into entities.
"""

from __future__ import annotations

import copy
import dataclasses
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import torch

from uniner.data.types import Entity
from uniner.inference.deadline import Deadline
from uniner.inference.decoding import DecodingConfig
from uniner.students.span.config import SpanModelConfig, resolve_bf16
from uniner.students.span.decoding import Span, merge_duplicates
from uniner.students.span.entities import Extraction, collect_floor, decode_all
from uniner.students.span.features import EncodedText, Featurizer
from uniner.students.span.label_cache import LabelCache
from uniner.students.span.model import SpanModel
from uniner.students.span.planning import Plan, Planner, WorkItem, with_context
from uniner.students.span.scoring import (
    Progress,
    encoder_batch,
    onnx_token_cap,
    score_all,
    span_probabilities,
    torch_logits,
)
from uniner.students.span.settings import (
    DEFAULT_NAME,
    RuntimeSettings,
    SettingField,
    check_labels,
    check_mode,
    check_texts,
    check_threshold,
    load_settings,
    split_settings,
)

# Names other modules, tests and scripts import from here (moved to the units above).
__all__ = [
    "Extraction",
    "Progress",
    "RuntimeSettings",
    "SpanExtractor",
    "WorkItem",
    "check_labels",
    "check_threshold",
]


class SpanExtractor:
    """Inference wrapper around a :class:`SpanModel` (see module docstring)."""

    # The settings live in two frozen values, ``decoding`` (DecodingConfig) and ``runtime``
    # (RuntimeSettings); these attributes read them, and setting one (``m.min_labels = 0``, as
    # the README shows for a single-user model) replaces the value with a validated new one. A
    # call's own settings never touch them.
    threshold = SettingField("decoding")
    multi_label = SettingField("decoding")
    min_labels = SettingField("decoding")
    context_labels = SettingField("decoding")
    max_context = SettingField("decoding")
    few_types = SettingField("decoding")
    few_type_threshold = SettingField("decoding")
    generic_labels = SettingField("decoding")
    specific_min_score = SettingField("decoding")
    broad_labels = SettingField("decoding")
    specific_min_types = SettingField("decoding")
    name = SettingField("runtime")
    batch_size = SettingField("runtime")
    max_batch_tokens = SettingField("runtime")

    def __init__(
        self,
        model: SpanModel,
        tokenizer: Any,
        *,
        runtime: RuntimeSettings | None = None,
        decoding: DecodingConfig | None = None,
        **settings: Any,
    ):
        """``runtime``: how it runs; ``decoding``: the model's decoding defaults (chosen on dev
        data at release and read from ``config.json`` by :meth:`load`). ``settings`` (any
        field of either, e.g. ``batch_size=8, threshold=0.6, min_labels=8``) replace single
        ones of them."""
        runtime_changes, decoding_changes = split_settings(settings)
        run = (runtime or RuntimeSettings()).replace(**runtime_changes)
        self.runtime: RuntimeSettings = (
            run if run.name is not None else run.replace(name=DEFAULT_NAME)
        )
        self.decoding: DecodingConfig = (decoding or DecodingConfig()).replace(**decoding_changes)
        self.model = model
        self.config: SpanModelConfig = model.config
        self.tokenizer = tokenizer
        self.featurizer = Featurizer(
            tokenizer, self.config.max_word_tokens, self.config.max_label_tokens
        )
        self.device = next(model.parameters()).device
        self.bf16 = resolve_bf16(run.bf16, self.device.type)
        self.onnx: Any = None  # an OnnxScorer once use_onnx() is called
        self.torch_released = False  # use_onnx(..., release_torch=True) freed the torch weights
        if run.threads is not None:
            torch.set_num_threads(run.threads)
        self.label_cache: LabelCache | None = None  # separate label encoding only
        if self.config.label_encoding == "separate":
            self.label_cache = LabelCache(model, self.featurizer, run.label_cache_size, self.bf16)
        limit = getattr(model.encoder.config, "max_position_embeddings", self.config.max_length)
        self.planner = Planner(
            self.featurizer,
            self.config,
            min(self.config.max_length, limit),
            separate=self.label_cache is not None,
        )

    @property
    def max_length(self) -> int:
        """Tokens of one encoder input: the model's, capped by the encoder's positions."""
        return self.planner.max_length

    @classmethod
    def load(cls, path: str | Path, *, backbone: str | None = None, **kwargs: Any) -> SpanExtractor:
        """Load a model folder written by :meth:`save` (offline; base weights from the backbone)."""
        from uniner.students.span.io import load_model

        model, tokenizer, cfg = load_model(path, backbone=backbone)
        return cls(model, tokenizer, **load_settings(path, cfg, kwargs))

    def threshold_for(self, n_types: int) -> float:
        """The released threshold of a call that asks ``n_types`` types (few-types rule)."""
        return self.decoding.threshold_for(n_types)

    def fixed_threshold(self, value: float) -> SpanExtractor:
        """Use ``value`` for every call that gives no threshold, whatever it asks (changes this
        extractor: for a single user such as ``uniner bench``, never a shared server model)."""
        self.decoding = self.decoding.override(threshold=check_threshold(value))
        return self

    def with_windows(self, words: int, overlap: int) -> SpanExtractor:
        """Read texts longer than ``words`` words in windows of ``words`` sharing ``overlap``
        (changes this extractor, and what :meth:`save` writes; ValueError unless
        0 <= overlap < words).

        Why a setting: the window decides how much text the asked labels are read against. The
        student trains on pieces of 64 words; read in windows of 192, a passage asked many
        types loses recall (issue 22), so the released window is chosen on the dev suite
        (``bench/select_decoding_dev.py --windows``) like the threshold.
        """
        return self._with_reading(window_words=words, window_overlap=overlap)

    def with_hashtags(self, reading: str) -> SpanExtractor:
        """Read a hashtag's ``#`` as written, or leave it out (``"bare"``: ``#Chicago`` reads as
        ``Chicago``); ``SpanModelConfig.hashtags``. Changes this extractor and what :meth:`save`
        writes; ValueError for another value."""
        return self._with_reading(hashtags=reading)

    def _with_reading(self, **settings: Any) -> SpanExtractor:
        cfg = dataclasses.replace(self.config, **settings)
        self.config = cfg  # the model's own config stays: other extractors may share the model
        self.planner = dataclasses.replace(self.planner, config=cfg)
        return self

    def decoding_config(self) -> dict[str, Any]:
        """This extractor's decoding defaults as ``config.json`` entries."""
        return self.decoding.to_json()

    def save(
        self, path: str | Path, storage: str = "delta-int8", meta: dict[str, Any] | None = None
    ) -> Path:
        """Write the weights and config to ``path``, with the current decoding defaults.

        Why the decoding: a saved copy of a released model must decode as the release does
        (threshold, padding, one type per span), not with the library's bare defaults.
        """
        from uniner.students.span.io import save_model

        self._require_torch_weights("save()")
        meta = {**self.decoding_config(), "name": self.name, **(meta or {})}
        # this extractor's config: its window may differ from the shared model's
        return save_model(self.model, path, storage=storage, meta=meta, config=self.config)

    @classmethod
    def from_pretrained(cls, model_id: str | Path, **kwargs: Any) -> SpanExtractor:
        """GLiNER's and Hugging Face's name for :func:`uniner.load`: a shipped name, a folder
        or a hub id; keyword arguments as for ``load``."""
        from uniner.models import resolve_model

        return cls.load(resolve_model(model_id), **kwargs)

    def save_pretrained(self, save_directory: str | Path, storage: str = "delta-int8") -> Path:
        """GLiNER's and Hugging Face's name for :meth:`save`."""
        return self.save(save_directory, storage=storage)

    def use_onnx(
        self, path: str | Path | None, threads: int | None = None, release_torch: bool = False
    ) -> SpanExtractor:
        """Score with an exported ONNX graph (see :mod:`.onnx_runtime`); ``None`` goes back.

        ``release_torch`` frees the torch weights the graph makes redundant (about 330 MB of a
        1.2 GB process for mpnet-base): for a server or a batch job that only runs the graph.
        After that the extractor can neither go back to torch nor be saved.
        """
        from uniner.students.span.onnx_runtime import OnnxScorer

        if path is None:
            self._require_torch_weights("use_onnx(None)")
            self.onnx = None
            if self.label_cache is not None:
                self.label_cache.use_graph(None)
            return self
        self.onnx = OnnxScorer(path, threads or torch.get_num_threads())
        if self.label_cache is not None:  # label names through the export's label graph
            self.label_cache.use_graph(self.onnx)
        if release_torch:
            with torch.no_grad():
                for param in self.model.parameters():
                    param.data = torch.empty(0, dtype=param.dtype, device=param.device)
            self.torch_released = True
        return self

    def _require_torch_weights(self, what: str) -> None:
        if self.torch_released:
            raise RuntimeError(
                f"{what} needs the torch weights, which use_onnx(..., release_torch=True) freed; "
                "load the model again"
            )

    # -- public API ---------------------------------------------------------------------------
    # The Extractor contract (uniner.inference.protocol): ``threshold``, ``flat`` and
    # ``multi_label`` left None take the model's ``decoding``; given, they hold for this call
    # only (a new DecodingConfig, the model's is untouched). ``deadline`` is checked between
    # texts and between encoder batches.

    def extract(
        self,
        text: str,
        labels: Sequence[str],
        threshold: float | None = None,
        flat: bool | None = None,
        multi_label: bool | None = None,
        *,
        deadline: Deadline | None = None,
    ) -> list[Entity]:
        """Entities of one text for the given labels.

        ``multi_label``: the same span may carry several labels (each above the threshold);
        ``None`` takes the model's default (``config.json``, chosen on dev data at release).
        """
        return self.extract_batch([text], labels, threshold, flat, multi_label, deadline=deadline)[
            0
        ]

    def extract_batch(
        self,
        texts: Sequence[str],
        labels: Sequence[str],
        threshold: float | None = None,
        flat: bool | None = None,
        multi_label: bool | None = None,
        *,
        deadline: Deadline | None = None,
    ) -> list[list[Entity]]:
        """Entities of each text, every label drawn from ``labels``."""
        mode = None if flat is None else ("flat" if flat else "nested")
        res = self.extract_detailed(
            texts, labels, threshold, mode=mode, multi_label=multi_label, deadline=deadline
        )
        return [list(r.entities) for r in res]

    # GLiNER's method names, so code written against the gliner library runs unchanged. One
    # difference: ``threshold=None`` (the default) is this model's released threshold, not 0.5.

    def predict_entities(
        self,
        text: str,
        labels: Sequence[str],
        flat_ner: bool = True,
        threshold: float | None = None,
        multi_label: bool | None = None,
    ) -> list[dict[str, Any]]:
        """GLiNER's ``predict_entities``: :meth:`extract` as dicts (start, end, text, label,
        score)."""
        return [e.to_dict() for e in self.extract(text, labels, threshold, flat_ner, multi_label)]

    def inference(
        self,
        texts: str | Sequence[str],
        labels: Sequence[str],
        flat_ner: bool = True,
        threshold: float | None = None,
        multi_label: bool | None = None,
        batch_size: int | None = None,
    ) -> list[list[dict[str, Any]]]:
        """GLiNER's ``inference`` (and ``batch_predict_entities``): one dict list per text.

        ``batch_size`` (encoder inputs per forward pass) applies to this call only.
        """
        texts = [texts] if isinstance(texts, str) else list(texts)
        runner = self
        if batch_size is not None and batch_size != self.batch_size:
            if batch_size < 1:
                raise ValueError(f"batch_size must be >= 1, got {batch_size}")
            runner = copy.copy(self)  # shares the model; no shared state is changed
            runner.batch_size = batch_size
        res = runner.extract_batch(texts, labels, threshold, flat_ner, multi_label)
        return [[e.to_dict() for e in ents] for ents in res]

    batch_predict_entities = inference

    def call_decoding(
        self,
        threshold: float | None = None,
        mode: str | None = None,
        multi_label: bool | None = None,
        decoding: DecodingConfig | None = None,
    ) -> DecodingConfig:
        """The settings of one call: ``decoding`` (default: the model's) with the given ones."""
        cfg = (decoding or self.decoding).override(threshold=threshold, multi_label=multi_label)
        return cfg if mode is None or mode == cfg.mode else cfg.replace(mode=mode)

    def extract_detailed(
        self,
        texts: Sequence[str],
        labels: Sequence[str],
        threshold: float | None = None,
        mode: str | None = None,
        multi_label: bool | None = None,
        *,
        decoding: DecodingConfig | None = None,
        deadline: Deadline | None = None,
        progress: Progress | None = None,
    ) -> list[Extraction]:
        """Like :meth:`extract_batch`, also saying how each text was read."""
        check_texts(texts)
        labs = check_labels(labels)
        return self.extract_each(
            texts,
            [labs] * len(texts),
            threshold,
            mode,
            multi_label,
            decoding=decoding,
            deadline=deadline,
            progress=progress,
        )

    def extract_each(
        self,
        texts: Sequence[str],
        label_lists: Sequence[Sequence[str]],
        threshold: float | None = None,
        mode: str | None = None,
        multi_label: bool | None = None,
        *,
        decoding: DecodingConfig | None = None,
        deadline: Deadline | None = None,
        progress: Progress | None = None,
    ) -> list[Extraction]:
        """Each text with its own labels, all in one length-sorted batch stream (evaluation,
        the server). ``decoding`` replaces the model's settings for this call (e.g.
        ``m.decoding.replace(generic_labels=())``); ``threshold``, ``mode`` and
        ``multi_label`` then replace single ones of it. ``progress(done, total)`` is called
        after each encoder batch (inputs done of all: windows x label passes)."""
        check_texts(texts, label_lists)
        if threshold is not None:
            threshold = check_threshold(threshold)
        check_mode(mode)
        cfg = self.call_decoding(threshold, mode, multi_label, decoding)
        plan = self.planner.plan(texts, label_lists, cfg, deadline)
        candidates = self._score_all(plan, cfg, deadline, progress)
        return decode_all(texts, plan, candidates, cfg)

    def candidates(
        self, texts: Sequence[str], label_lists: Sequence[Sequence[str]], floor: float
    ) -> tuple[Plan, list[list[Span]]]:
        """How each text is read (its plan, with the thresholds of the model's decoding) and
        every (span, type) scoring at least ``floor`` in it, once each (overlapping windows
        merged): for probes that inspect or combine scores before :func:`decode_all`
        (``bench/order_ensemble.py``, ``bench/sibling_errors.py``)."""
        cfg = self.call_decoding()
        plan = self.planner.plan(texts, label_lists, cfg, None)
        found = self._score_all(plan, cfg, None, floor=floor)
        return plan, [merge_duplicates(c) for c in found]

    def _score_all(
        self,
        plan: Plan,
        cfg: DecodingConfig,
        deadline: Deadline | None,
        progress: Progress | None = None,
        floor: float | None = None,
    ) -> list[list[Span]]:
        """Candidate spans of every text (score >= ``floor``, default the call's lowest
        threshold), scored by :meth:`score_items` (which test doubles override) in
        length-sorted batches; encoder layers check the deadline on torch."""
        n_labels = max((len(w.labels) for w in plan.work), default=0)
        return score_all(
            plan.work,
            plan.encs,
            self.score_items,
            batch_size=self.batch_size,
            max_batch_tokens=self.batch_token_cap(n_labels),
            floor=collect_floor(plan, cfg) if floor is None else floor,
            deadline=deadline,
            progress=progress,
            watch=self.model if self.onnx is None else None,
        )

    def batch_token_cap(self, n_labels: int) -> int | None:
        """``max_batch_tokens`` as set, else the ONNX graph's measured cap for passes asking
        ``n_labels`` types (``scoring.onnx_token_cap``); none on torch."""
        if self.max_batch_tokens is not None:
            return int(self.max_batch_tokens)
        return onnx_token_cap(n_labels) if self.onnx is not None else None

    def with_context(
        self, labels: tuple[str, ...], decoding: DecodingConfig | None = None
    ) -> tuple[str, ...]:
        """The asked labels, padded with context labels up to ``min_labels``, at most
        ``max_context`` of them (:class:`DecodingConfig`; default: the model's)."""
        return with_context(labels, decoding or self.decoding)

    def label_groups(self, labels: Sequence[str]) -> list[tuple[str, ...]]:
        """Labels packed in order into groups that fit one input's label budget (one group
        when labels are encoded apart from the text: they take no room in its input)."""
        return self.planner.label_groups(labels)

    def prefix_tokens(self, labels: Sequence[str]) -> int:
        """Tokens before the text in an input: [CLS] alone when labels are encoded apart."""
        return self.planner.prefix_tokens(labels)

    # -- scoring --------------------------------------------------------------------------------

    @torch.inference_mode()
    def score_items(self, items: Sequence[WorkItem], encs: Sequence[EncodedText]) -> torch.Tensor:
        """Probabilities ``[B, W, K, L]`` for a batch of inputs; invalid pairs are -1."""
        batch = encoder_batch(items, encs, self.featurizer, self.label_cache, self.device)
        if self.onnx is not None:
            logits = self.onnx(batch)
        else:
            logits = torch_logits(self.model, batch, self.device, self.bf16)
        return span_probabilities(self.model, batch, logits)
