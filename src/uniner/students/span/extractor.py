"""``SpanExtractor``: texts and any labels in, entities with character offsets and scores out.

Implements the project's Extractor protocol (``name`` + ``extract_batch``). Each text is cut into
words; texts longer than one encoder input are read in overlapping windows; label lists longer
than one input's label budget are read in several passes. All (text window, label group) inputs
of a call are sorted by length and batched with dynamic padding; candidates above the threshold
from every window and pass are merged per text, then decoded once (flat or nested).
"""

from __future__ import annotations

import copy
import logging
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import torch

from uniner.data.types import Entity
from uniner.inference.deadline import Deadline, check
from uniner.inference.decoding import MODES, DecodingConfig
from uniner.students.span.config import SpanModelConfig, resolve_bf16
from uniner.students.span.decoding import Span, decode, prefer_specific
from uniner.students.span.features import EncodedText, Featurizer
from uniner.students.span.label_cache import DEFAULT_SIZE as DEFAULT_CACHE_SIZE
from uniner.students.span.label_cache import LabelCache
from uniner.students.span.model import SpanModel
from uniner.students.span.windowing import Window, plan_windows

log = logging.getLogger(__name__)

#: ``progress(done, total)``: encoder inputs scored so far, of all the call needs.
Progress = Callable[[int, int], None]

# The deadline of the call running in this thread, checked before each encoder layer too: on a
# CPU one batch of long inputs can take many seconds, so checks between batches alone would let
# a timed-out call hold the worker that long (see _watch_layers).
_ACTIVE = threading.local()


def _layer_deadline_hook(module: torch.nn.Module, args: Any) -> None:
    check(getattr(_ACTIVE, "deadline", None), "inside the encoder")


def _watch_layers(model: SpanModel) -> None:
    """Check the active deadline before every layer of the encoder's layer stack (once per
    model; added on first use with a deadline, so export and training never see the hooks)."""
    if getattr(model, "_deadline_hooks", False):
        return
    for mod in model.encoder.modules():
        if isinstance(mod, torch.nn.ModuleList) and len(mod) >= 2:
            for layer in mod:
                layer.register_forward_pre_hook(_layer_deadline_hook)
            break
    model._deadline_hooks = True  # type: ignore[assignment]


@dataclass(frozen=True, slots=True)
class Extraction:
    """The entities of one text and how the text was read (windows, label passes)."""

    entities: tuple[Entity, ...]
    num_words: int
    windows: tuple[Window, ...]
    label_passes: int
    threshold: float  # what the entities were decoded at (the caller's, or threshold_for)

    @property
    def windowed(self) -> bool:
        """True when the text did not fit one encoder input and was read in windows."""
        return len(self.windows) > 1


@dataclass(frozen=True, slots=True)
class WorkItem:
    """One encoder input: a window of a text with one group of labels."""

    text_index: int
    window: Window
    labels: tuple[str, ...]
    n_tokens: int


@dataclass(slots=True)
class _Plan:
    """How one call reads its texts (built by ``_plan``, used by scoring and decoding)."""

    encs: list[EncodedText] = field(default_factory=list)
    windows: list[tuple[Window, ...]] = field(default_factory=list)
    passes: list[int] = field(default_factory=list)
    asked: list[frozenset[str]] = field(default_factory=list)
    thresholds: list[float] = field(default_factory=list)
    work: list[WorkItem] = field(default_factory=list)
    generic: list[frozenset[str]] = field(default_factory=list)


class _DecodingField:
    """An attribute that reads ``obj.decoding.<name>``; setting it replaces ``obj.decoding``
    with a validated copy (backward compatibility: ``m.min_labels = 0``)."""

    def __set_name__(self, owner: type, name: str) -> None:
        self.name = name

    def __get__(self, obj: Any, owner: type | None = None) -> Any:
        if obj is None:
            return self
        return getattr(obj.decoding, self.name)

    def __set__(self, obj: Any, value: Any) -> None:
        obj.decoding = obj.decoding.replace(**{self.name: value})


def check_labels(labels: Sequence[str] | str) -> list[str]:
    """Validated, de-duplicated labels (a single string is taken as one label)."""
    if isinstance(labels, str):
        labels = [labels]
    if labels is None or len(labels) == 0:
        raise ValueError(
            "labels must be a non-empty list of entity types, e.g. ['person', 'location']"
        )
    out: list[str] = []
    for lab in labels:
        if not isinstance(lab, str):
            raise TypeError(f"labels must be strings, got {type(lab).__name__}: {lab!r}")
        if not lab.strip():
            raise ValueError("labels must not be empty or whitespace only")
        out.append(lab)
    return list(dict.fromkeys(out))


class SpanExtractor:
    """Inference wrapper around a :class:`SpanModel` (see module docstring)."""

    # The decoding settings live in one frozen value, ``decoding``; these attributes read it,
    # and setting one (``m.min_labels = 0``, as the README shows for a single-user model)
    # replaces ``decoding`` with a validated new value. A call's own settings never touch it.
    threshold = _DecodingField()
    multi_label = _DecodingField()
    min_labels = _DecodingField()
    context_labels = _DecodingField()
    max_context = _DecodingField()
    few_types = _DecodingField()
    few_type_threshold = _DecodingField()
    generic_labels = _DecodingField()
    specific_min_score = _DecodingField()
    broad_labels = _DecodingField()
    specific_min_types = _DecodingField()

    def __init__(
        self,
        model: SpanModel,
        tokenizer: Any,
        *,
        name: str = "uniner-span",
        batch_size: int = 16,
        threads: int | None = None,
        bf16: bool | str = False,
        decoding: DecodingConfig | None = None,
        label_cache_size: int = DEFAULT_CACHE_SIZE,
        **settings: Any,
    ):
        """``decoding``: the model's decoding defaults (chosen on dev data at release and read
        from ``config.json`` by :meth:`load`); ``settings`` (any :class:`DecodingConfig` field,
        e.g. ``threshold=0.6, min_labels=8``) replace single ones of them. ``label_cache_size``:
        label sets whose vectors a separate-encoding model keeps (label_cache.py)."""
        self.model = model
        self.config: SpanModelConfig = model.config
        self.tokenizer = tokenizer
        self.featurizer = Featurizer(
            tokenizer, self.config.max_word_tokens, self.config.max_label_tokens
        )
        self.name = name
        self.batch_size = batch_size
        self.device = next(model.parameters()).device
        self.bf16 = resolve_bf16(bf16, self.device.type)
        unknown = set(settings) - set(DecodingConfig.__dataclass_fields__)
        if unknown:
            raise TypeError(f"unknown decoding setting(s): {', '.join(sorted(unknown))}")
        self.decoding: DecodingConfig = (decoding or DecodingConfig()).replace(**settings)
        self.onnx: Any = None  # an OnnxScorer once use_onnx() is called
        self.torch_released = False  # use_onnx(..., release_torch=True) freed the torch weights
        limit = getattr(model.encoder.config, "max_position_embeddings", self.config.max_length)
        self.max_length = min(self.config.max_length, limit)
        if threads is not None:
            torch.set_num_threads(threads)
        self.label_cache: LabelCache | None = None  # separate label encoding only
        if self.config.label_encoding == "separate":
            self.label_cache = LabelCache(model, self.featurizer, label_cache_size, self.bf16)

    @classmethod
    def load(cls, path: str | Path, *, backbone: str | None = None, **kwargs: Any) -> SpanExtractor:
        """Load a model folder written by :meth:`save` (offline; base weights from the backbone)."""
        from uniner.students.span.io import CONFIG_NAME, load_model

        model, tokenizer, cfg = load_model(path, backbone=backbone)
        kwargs.setdefault("name", cfg.get("name") or Path(path).name)
        if kwargs.get("decoding") is None:  # released on dev data; keyword settings replace it
            source = str(Path(path) / CONFIG_NAME)
            kwargs["decoding"] = DecodingConfig.from_json(cfg, source=source)
        return cls(model, tokenizer, **kwargs)

    def threshold_for(self, n_types: int) -> float:
        """The released threshold of a call that asks ``n_types`` types (few-types rule)."""
        return self.decoding.threshold_for(n_types)

    def fixed_threshold(self, value: float) -> SpanExtractor:
        """Use ``value`` for every call that gives no threshold, whatever it asks (changes this
        extractor: for a single user such as ``uniner bench``, never a shared server model)."""
        self.decoding = self.decoding.override(threshold=check_threshold(value))
        return self

    def decoding_config(self) -> dict[str, Any]:
        """This extractor's decoding defaults as ``config.json`` entries."""
        return self.decoding.to_json()

    def save(self, path: str | Path, storage: str = "delta-int8", meta: dict | None = None) -> Path:
        """Write the weights and config to ``path``, with the current decoding defaults.

        Why the decoding: a saved copy of a released model must decode as the release does
        (threshold, padding, one type per span), not with the library's bare defaults.
        """
        from uniner.students.span.io import save_model

        self._require_torch_weights("save()")
        meta = {**self.decoding_config(), "name": self.name, **(meta or {})}
        return save_model(self.model, path, storage=storage, meta=meta)

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
        if isinstance(texts, str):
            raise TypeError("texts must be a list of strings; use extract() for a single text")
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
        if isinstance(texts, str):
            raise TypeError("texts must be a list of strings; use extract() for a single text")
        if len(texts) != len(label_lists):
            raise ValueError(f"{len(texts)} texts but {len(label_lists)} label lists")
        for t in texts:
            if not isinstance(t, str):
                raise TypeError(f"texts must be strings, got {type(t).__name__}")
        if threshold is not None:
            threshold = check_threshold(threshold)
        if mode is not None and mode not in MODES:
            raise ValueError(f"mode must be one of {MODES}, got {mode!r}")
        cfg = self.call_decoding(threshold, mode, multi_label, decoding)
        plan = self._plan(texts, label_lists, cfg, deadline)
        candidates = self._score_all(plan, cfg, deadline, progress)
        return self._decode_all(texts, plan, candidates, cfg)

    def _plan(
        self,
        texts: Sequence[str],
        label_lists: Sequence[Sequence[str]],
        cfg: DecodingConfig,
        deadline: Deadline | None,
    ) -> _Plan:
        """Words, windows and (window, label group) encoder inputs of every text."""
        group_cache: dict[tuple[str, ...], list[tuple[str, ...]]] = {}
        plan = _Plan()
        for ti, text in enumerate(texts):
            check(deadline, "while reading the texts")
            enc = self.featurizer.encode_text(text)
            plan.encs.append(enc)
            own = tuple(check_labels(label_lists[ti]))
            plan.asked.append(frozenset(own))
            plan.thresholds.append(cfg.raw_threshold(len(own)))  # model scale
            key = self.with_context(own, cfg)
            if key not in group_cache:
                group_cache[key] = self.label_groups(key)
            groups = group_cache[key]
            plan.passes.append(len(groups))
            if len(enc) == 0:
                plan.windows.append(())
                continue
            prefix = [self.prefix_tokens(g) for g in groups]
            counts = enc.token_counts()
            wins = plan_windows(
                enc.offsets,
                counts,
                self.config.window_words,
                self.max_length - max(prefix) - 1,
                self.config.window_overlap,
            )
            if len(wins) > 1:
                log.debug("text %d: %d words read in %d windows", ti, len(enc), len(wins))
            plan.windows.append(tuple(wins))
            for w in wins:
                n_tok = sum(counts[w.word_start : w.word_end])
                plan.work += [
                    WorkItem(ti, w, g, p + n_tok + 1) for g, p in zip(groups, prefix, strict=True)
                ]
        return plan

    def _score_all(
        self,
        plan: _Plan,
        cfg: DecodingConfig,
        deadline: Deadline | None,
        progress: Progress | None = None,
    ) -> list[list[Span]]:
        """Candidate spans of every text, scored in length-sorted batches."""
        candidates: list[list[Span]] = [[] for _ in plan.encs]
        work = sorted(plan.work, key=lambda it: it.n_tokens)
        lowest = min(plan.thresholds, default=0.0)
        plan.generic = [self._generic_asked(a, cfg) for a in plan.asked]
        if any(plan.generic):  # specific types are read below the threshold (prefer_specific)
            lowest = min(lowest, cfg.specific_min_score)
        if deadline is not None and self.onnx is None:
            _watch_layers(self.model)
        _ACTIVE.deadline = deadline
        try:
            for b in range(0, len(work), self.batch_size):
                check(deadline, f"after {b} of {len(work)} encoder inputs")
                chunk = work[b : b + self.batch_size]
                probs = self.score_items(chunk, plan.encs)
                self._collect(chunk, probs, lowest, candidates)
                if progress is not None:
                    progress(b + len(chunk), len(work))
        finally:
            _ACTIVE.deadline = None
        return candidates

    def _decode_all(
        self,
        texts: Sequence[str],
        plan: _Plan,
        candidates: list[list[Span]],
        cfg: DecodingConfig,
    ) -> list[Extraction]:
        out = []
        for ti, text in enumerate(texts):
            enc = plan.encs[ti]
            thr = plan.thresholds[ti]  # collected at the lowest; decoding sees only this text's
            # context answers dropped; flat and nested decoding are greedy by score, so
            # filtering first equals decoding at thr (a span's fate depends on higher ones only)
            own = [s for s in candidates[ti] if s.label in plan.asked[ti]]
            if plan.generic[ti]:
                floor = min(cfg.specific_min_score, thr)
                broad = self._folded_asked(plan.asked[ti], cfg.broad_labels)
                own = prefer_specific(own, plan.generic[ti], thr, floor, cfg.multi_label, broad)
            own = [s for s in own if s.score >= thr]
            spans = decode(own, mode=cfg.mode, multi_label=cfg.multi_label)  # type: ignore[arg-type]
            n = len(plan.asked[ti])
            ents = tuple(self._entity(text, enc, sp, cfg.calibrated(sp.score, n)) for sp in spans)
            thr = cfg.threshold_for(n)  # as the caller reads it (calibrated scores)
            out.append(Extraction(ents, len(enc), plan.windows[ti], plan.passes[ti], thr))
        return out

    def _generic_asked(self, asked: frozenset[str], cfg: DecodingConfig) -> frozenset[str]:
        """The asked labels that count as generic, if enough types are asked for the rule."""
        if len(asked) < cfg.specific_min_types:
            return frozenset()
        return self._folded_asked(asked, cfg.generic_labels)

    @staticmethod
    def _folded_asked(asked: frozenset[str], names: Sequence[str]) -> frozenset[str]:
        """The asked labels among ``names``, whatever their case."""
        folded = {n.casefold() for n in names}
        return frozenset(lab for lab in asked if lab.casefold() in folded)

    def with_context(
        self, labels: tuple[str, ...], decoding: DecodingConfig | None = None
    ) -> tuple[str, ...]:
        """The asked labels, padded with context labels up to ``min_labels``, at most
        ``max_context`` of them (:class:`DecodingConfig`; default: the model's)."""
        cfg = decoding or self.decoding
        missing = cfg.min_labels - len(labels)
        if cfg.max_context is not None:
            missing = min(missing, cfg.max_context)
        if missing <= 0 or not cfg.context_labels:
            return labels
        taken = {lab.casefold() for lab in labels}
        extra = [c for c in cfg.context_labels if c.casefold() not in taken][:missing]
        return labels + tuple(extra)

    def label_groups(self, labels: Sequence[str]) -> list[tuple[str, ...]]:
        """Labels packed in order into groups that fit one input's label budget (one group
        when labels are encoded apart from the text: they take no room in its input)."""
        if self.label_cache is not None:
            return [tuple(labels)]
        groups: list[tuple[str, ...]] = []
        cur: list[str] = []
        used = 1
        for lab in labels:
            need = len(self.featurizer.encode_label(lab)) + 1
            too_many = len(cur) >= self.config.max_labels_per_pass
            if cur and (used + need > self.config.max_prefix_tokens or too_many):
                groups.append(tuple(cur))
                cur, used = [], 1
            cur.append(lab)
            used += need
        if cur:
            groups.append(tuple(cur))
        return groups

    # -- scoring --------------------------------------------------------------------------------

    @torch.inference_mode()
    def score_items(self, items: Sequence[WorkItem], encs: Sequence[EncodedText]) -> torch.Tensor:
        """Probabilities ``[B, W, K, L]`` for a batch of inputs; invalid pairs are -1."""
        feats = []
        for it in items:
            enc = encs[it.text_index]
            w = it.window
            feats.append(
                self.featurizer.build(
                    () if self.label_cache is not None else it.labels,
                    enc.tokens[w.word_start : w.word_end],
                    enc.shapes[w.word_start : w.word_end],
                )
            )
        batch = {k: v.to(self.device) for k, v in self.featurizer.collate(feats).items()}
        if self.label_cache is not None:  # text-only inputs; label vectors from the cache
            batch.update(self.label_cache.batch_inputs([it.labels for it in items], self.device))
        if self.onnx is not None:
            logits = self.onnx(batch)
        else:
            was_training = self.model.training
            self.model.eval()
            try:
                with torch.autocast(self.device.type, dtype=torch.bfloat16, enabled=self.bf16):
                    logits = self.model(**batch)
            finally:
                self.model.train(was_training)
        probs = torch.sigmoid(logits.float()).cpu()
        valid = (
            self.model.span_mask(batch["word_mask"])[..., None]
            & batch["label_mask"][:, None, None, :]
        )
        return probs.masked_fill(~valid.cpu(), -1.0)

    def prefix_tokens(self, labels: Sequence[str]) -> int:
        """Tokens before the text in an input: [CLS] alone when labels are encoded apart."""
        return 1 if self.label_cache is not None else self.featurizer.prefix_length(labels)

    @staticmethod
    def _collect(
        items: Sequence[WorkItem],
        probs: torch.Tensor,
        threshold: float,
        candidates: list[list[Span]],
    ) -> None:
        hits = (probs >= threshold).nonzero().tolist()
        values = probs[probs >= threshold].tolist()
        for (b, i, k, lab), p in zip(hits, values, strict=True):
            it = items[b]
            if lab >= len(it.labels) or i + k >= it.window.num_words:
                continue
            start = it.window.word_start + i
            candidates[it.text_index].append(Span(start, start + k + 1, it.labels[lab], p))

    @staticmethod
    def _entity(text: str, enc: EncodedText, sp: Span, score: float) -> Entity:
        start = enc.offsets[sp.start][0]
        end = enc.offsets[sp.end - 1][1]
        return Entity(start, end, text[start:end], sp.label, float(score))


def check_threshold(value: float, what: str = "threshold") -> float:
    """``value`` as a float, or a ValueError naming ``what`` when it is outside [0, 1]."""
    value = float(value)
    if not 0.0 <= value <= 1.0:
        raise ValueError(f"{what} must be in [0, 1], got {value}")
    return value
