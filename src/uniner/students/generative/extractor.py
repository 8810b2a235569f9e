"""``GenerativeExtractor``: a generative student behind the :class:`Extractor` protocol.

Loads, by reference: a run's model folder (``uniner-generative.json`` + a LoRA adapter or a full
model), a shipped adapter under ``uniner/models/``, a backbone name of ``uniner backbone list``
(a plain causal LM asked with the official template), any causal LM folder, or a hub id
(``Universal-NER/UniNER-7B-type`` resolves to the official template without any download:
:meth:`prompts` works before, and without, loading weights).

Answers are parsed as the official evaluation reads them and aligned to character offsets with
:func:`uniner.data.align.align_mentions` (every occurrence). Strings that cannot be found in the
passage are kept in :attr:`GenerativeExtractor.unfound` and counted in :attr:`counts`, never
dropped silently; unreadable answers are counted too.
"""

from __future__ import annotations

import functools
import json
import logging
from collections.abc import Sequence
from pathlib import Path
from typing import Any, TypedDict

from uniner.data.align import align_mentions
from uniner.data.types import Entity
from uniner.inference.deadline import Deadline, check
from uniner.instruct.builder import all_in_one
from uniner.students.generative.inference import GenerativeEngine, parse_generation, parse_pairs
from uniner.students.generative.template import (
    IE_AS_QA,
    Template,
    get_template,
    template_for_model,
)
from uniner.students.generative.train import META_FILE, resolve_base

log = logging.getLogger(__name__)

PREFIX = "generative:"


def _models_dir() -> Path:
    from uniner.models import MODELS_DIR

    return MODELS_DIR


def _local(ref: str) -> Path | None:
    p = Path(ref)
    if p.is_dir():
        return p
    shipped = _models_dir() / ref
    if (shipped / META_FILE).is_file():
        return shipped
    return None


def is_generative(ref: str) -> bool:
    """Whether ``ref`` names a generative model (so ``uniner bench`` routes it here)."""
    if ref.startswith(PREFIX) or template_for_model(ref) is not None:
        return True
    p = _local(ref)
    if p is not None:
        if (p / META_FILE).is_file() or (p / "adapter_config.json").is_file():
            return True
        cfg = p / "config.json"
        if cfg.is_file():
            archs = json.loads(cfg.read_text(encoding="utf-8")).get("architectures") or []
            return any(a.endswith("ForCausalLM") for a in archs)
        return False
    try:
        from uniner.backbones import get_spec

        return bool(getattr(get_spec(ref), "causal_lm", False))
    except Exception:
        return False


class EngineOptions(TypedDict):
    """The :class:`GenerativeEngine` settings of an extractor (its constructor's arguments)."""

    prefix_reuse: bool
    max_new_tokens: int
    batch_questions: int
    max_context: int | None


class GenerativeExtractor:
    """Entities from a generative student: a question per (text, label), or one per text for
    a model trained all-in-one."""

    def __init__(
        self,
        ref: str,
        *,
        template: Template | None = None,
        dataset: str | None = None,
        device: str = "auto",
        threads: int | None = None,
        prefix_reuse: bool = True,
        max_new_tokens: int = 256,
        batch_questions: int = 64,
        max_context: int | None = None,
        name: str | None = None,
        backend: str = "transformers",
    ) -> None:
        if backend not in ("transformers", "vllm"):
            raise ValueError(f"backend must be 'transformers' or 'vllm', got {backend!r}")
        self.backend = backend
        self.ref = ref[len(PREFIX) :] if ref.startswith(PREFIX) else ref
        path = Path(self.ref)
        # a run's model folder is "<run>/model": name it after the run
        self.name = name or (path.parent.name if path.name == "model" else path.name) or self.ref
        self.dataset = dataset
        self.device = device
        self.threads = threads
        self.options: EngineOptions = {
            "prefix_reuse": prefix_reuse,
            "max_new_tokens": max_new_tokens,
            "batch_questions": batch_questions,
            "max_context": max_context,
        }
        self._template = template
        self._engine: GenerativeEngine | None = None
        self.unfound: list[tuple[str, str]] = []  # (label, string) not found in its passage
        self.counts = {"questions": 0, "unparseable": 0, "mentions": 0, "unfound": 0, "unasked": 0}

    @classmethod
    def load(cls, ref: str, **kwargs: Any) -> GenerativeExtractor:
        """Resolve ``ref`` now (weights are read on first use)."""
        ext = cls(ref, **kwargs)
        ext.template  # noqa: B018 - resolves the template early: bad references fail here
        return ext

    # ------------------------------------------------------------------ prompts (no weights)

    @property
    def meta(self) -> dict[str, Any]:
        p = _local(self.ref)
        if p is not None and (p / META_FILE).is_file():
            meta: dict[str, Any] = json.loads((p / META_FILE).read_text(encoding="utf-8"))
            return meta
        return {}

    @property
    def template(self) -> Template:
        if self._template is None:
            known = template_for_model(self.ref)
            if known is not None:
                self._template = known
            elif self.meta:
                self._template = get_template(self.meta["template"], eot=self.meta["eot"])
            else:  # a plain causal LM: the official template with its tokenizer's end-of-turn
                self._template = IE_AS_QA.for_tokenizer(self._tokenizer_only())
        return self._template

    def _tokenizer_only(self) -> Any:
        from transformers import AutoTokenizer

        p = _local(self.ref)
        return AutoTokenizer.from_pretrained(str(p) if p is not None else resolve_base(self.ref))

    @functools.cached_property
    def questions(self) -> str:
        """How the model was trained to be asked: ``type-wise`` (a question per type, UniNER's
        recipe and every model without a record) or ``all-in-one`` (one question naming all).
        Read once: it is consulted for every answer."""
        return str(self.meta.get("questions", "type-wise"))

    def asked(self, labels: Sequence[str]) -> list[str]:
        """What goes into the question slot of each prompt: the labels, or all of them joined
        as :func:`uniner.instruct.builder.all_in_one` joins them for training."""
        if self.questions == "all-in-one":
            return [all_in_one([(lab, ()) for lab in labels])[0]]
        return list(labels)

    def prompts(self, text: str, labels: Sequence[str]) -> list[str]:
        """The exact prompt strings this model is asked for ``text`` (needs no weights)."""
        return [self.template.prompt(text, q, self.dataset) for q in self.asked(labels)]

    # ------------------------------------------------------------------ model

    @property
    def engine(self) -> GenerativeEngine:
        if self._engine is None and self.backend == "vllm":
            from uniner.students.generative.vllm_backend import VllmEngine, merge_adapter

            p = _local(self.ref)
            path = str(p) if p is not None else resolve_base(self.ref)
            if p is not None and (p / "adapter_config.json").is_file():
                path = str(merge_adapter(p, p.parent / (p.name + "-merged")))
            opts = self.options
            self._engine = VllmEngine(
                path,
                self.template,
                max_new_tokens=opts["max_new_tokens"],
                max_context=opts["max_context"],
            )
        if self._engine is None:
            model, tok = self._load_model()
            self._engine = GenerativeEngine(model, tok, self.template, **self.options)
        return self._engine

    def _load_model(self) -> tuple[Any, Any]:
        import torch
        from transformers import AutoModelForCausalLM, AutoTokenizer

        if self.threads:
            torch.set_num_threads(self.threads)
        gpu = torch.cuda.is_available() if self.device == "auto" else self.device != "cpu"
        dtype = torch.bfloat16 if gpu else torch.float32
        p = _local(self.ref)
        meta = self.meta
        if p is not None and (p / "adapter_config.json").is_file():
            from peft import PeftModel

            base = (
                meta.get("base")
                or json.loads((p / "adapter_config.json").read_text(encoding="utf-8"))[
                    "base_model_name_or_path"
                ]
            )
            base_path = resolve_base(base)
            model: torch.nn.Module = AutoModelForCausalLM.from_pretrained(base_path, dtype=dtype)
            model = PeftModel.from_pretrained(model, str(p)).merge_and_unload()
            # a shipped adapter may leave the (unchanged) tokenizer to its base
            has_tok = (p / "tokenizer.json").is_file()
            tok = AutoTokenizer.from_pretrained(str(p) if has_tok else base_path)
        else:
            src = str(p) if p is not None else resolve_base(self.ref)
            model = AutoModelForCausalLM.from_pretrained(src, dtype=dtype)
            tok = AutoTokenizer.from_pretrained(src)
        if tok.pad_token is None:
            tok.pad_token = tok.eos_token
        model.eval()
        if gpu:
            model.to("cuda")
        return model, tok

    # ------------------------------------------------------------------ extraction

    def generate(self, texts: Sequence[str], labels: Sequence[str]) -> list[list[str]]:
        """Raw answers ``[text][label]`` (texts must fit the context; see :meth:`extract_batch`)."""
        return self.engine.answer(texts, labels, self.dataset)

    def extract(
        self, text: str, labels: Sequence[str], *, deadline: Deadline | None = None
    ) -> list[Entity]:
        return self.extract_batch([text], labels, deadline=deadline)[0]

    def extract_batch(
        self,
        texts: Sequence[str],
        labels: Sequence[str],
        *,
        threshold: float | None = None,
        flat: bool | None = None,
        multi_label: bool | None = None,
        deadline: Deadline | None = None,
    ) -> list[list[Entity]]:
        """Entities of each text; long texts are windowed and their entities merged.

        The Extractor contract's decoding keywords do not apply here and are ignored: answers
        carry no scores (``threshold``), and every mention the model names is returned, nested
        or overlapping ones and one span under several labels included (``flat``,
        ``multi_label``). ``deadline`` is checked between texts and between generation chunks.
        """
        del threshold, flat, multi_label  # accepted for the contract; see the docstring
        labels = list(dict.fromkeys(labels))
        if not labels:
            raise ValueError("no entity type given: pass at least one label")
        if isinstance(texts, str):
            raise TypeError("texts must be a sequence of strings, not one string")
        eng = self.engine
        asked = self.asked(labels)
        pieces: list[tuple[int, int, str]] = []  # (text index, char offset, window text)
        for i, text in enumerate(texts):
            check(deadline, "while windowing the texts")
            if not text.strip():
                continue
            spans = eng.windows(text, asked, self.dataset)
            if len(spans) > 1:
                eng.stats.windows += len(spans)
            pieces += [(i, a, text[a:b]) for a, b in spans]
        answers = self._answer([w for _, _, w in pieces], asked, deadline)
        found: list[set[Entity]] = [set() for _ in texts]
        for (i, offset, window), row in zip(pieces, answers, strict=True):
            for question, raw in zip(asked, row, strict=True):
                for label, mentions in self._read(question, raw, labels):
                    res = align_mentions(window, mentions, label)
                    self.counts["mentions"] += len(mentions)
                    self.counts["unfound"] += len(res.unfound)
                    self.unfound += [(label, m) for m in res.unfound]
                    for e in res.entities:
                        found[i].add(Entity(e.start + offset, e.end + offset, e.text, label))
        return [sorted(f) for f in found]

    def _read(self, question: str, raw: str, labels: Sequence[str]) -> list[tuple[str, list[str]]]:
        """``(label, mentions)`` of one answer, non-empty lists only; unreadable answers and
        all-in-one pairs naming a type that was not asked are counted, not kept."""
        self.counts["questions"] += 1
        if self.questions != "all-in-one":
            mentions = parse_generation(raw)
            if mentions is None:
                self.counts["unparseable"] += 1
            return [(question, mentions)] if mentions else []
        pairs = parse_pairs(raw)
        if pairs is None:
            self.counts["unparseable"] += 1
            return []
        by_label: dict[str, list[str]] = {}
        for mention, label in pairs:
            if label in labels:
                by_label.setdefault(label, []).append(mention)
            else:
                self.counts["unasked"] += 1
        return [(lab, list(dict.fromkeys(ms))) for lab, ms in by_label.items()]

    def _answer(
        self, windows: list[str], labels: list[str], deadline: Deadline | None
    ) -> list[list[str]]:
        """The engine's answers; with a deadline, in chunks of the engine's batch size so a
        call past it stops between chunks (without one, one call: vLLM batches it all)."""
        if not windows:
            return []
        if deadline is None:
            return self.engine.answer(windows, labels, self.dataset)
        step = max(1, int(self.options["batch_questions"] or 1) // len(labels))
        out: list[list[str]] = []
        for start in range(0, len(windows), step):
            check(deadline, f"after {start} of {len(windows)} passages")
            out += self.engine.answer(windows[start : start + step], labels, self.dataset)
        return out

    def report(self) -> dict[str, Any]:
        """Counts of questions, unreadable answers and strings not found in their passage."""
        return {**self.counts, "unfound_examples": self.unfound[:20]}
