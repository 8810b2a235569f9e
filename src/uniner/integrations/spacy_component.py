"""The ``uniner`` spaCy pipeline component: open-type entities into ``doc.ents`` or ``doc.spans``.

``nlp.add_pipe("uniner", config={"labels": ["person", "disease"]})`` works without importing
uniner: the factory is registered under the ``spacy_factories`` entry point, and importing this
module registers it too. The model reads the raw ``doc.text``, so its character offsets have to be
mapped onto spaCy's tokens, which need not agree with the model's words. ``alignment_mode`` says
how (the modes of ``Doc.char_span``):

- ``"contract"`` (default): the span shrinks to the tokens lying wholly inside it; an entity that
  covers no whole token is dropped. Never adds characters the model did not mark.
- ``"expand"``: the span grows to every token it touches (``"Acme"`` inside ``"Acmecorp"`` becomes
  ``"Acmecorp"``). Never loses a mention; may add characters.
- ``"strict"``: only entities whose offsets fall on token boundaries are kept.

``runtime="onnx"`` runs the model's int8 ONNX graph (exported once per model into the ONNX cache,
about a minute for the default): about 1.5x faster on a CPU at the same dev F1.

``mode="flat"`` writes ``doc.ents`` (spaCy allows no overlap there: after alignment the
higher-scoring of two overlapping spans wins); ``mode="nested"`` writes every entity, overlapping
or not, to ``doc.spans[spans_key]`` with the scores in ``doc.spans[spans_key].attrs["scores"]``.
Every written span's score is ``span._.uniner_score``; entities that could not be aligned are
counted in ``doc.user_data["uniner_unaligned"]``.

The component calls its extractor only through the Extractor contract
(:mod:`uniner.inference.protocol`: ``extract_batch(texts, labels, threshold=, flat=,
multi_label=)``), so any extractor works when built in Python, e.g.
``UninerComponent(nlp, "uniner", extractor=Gazetteer(...), labels=[...])``: the generative
student or a baseline, whose scores are None. The shared model is never changed.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Iterator, Sequence
from typing import TYPE_CHECKING, Any

from spacy.language import Language
from spacy.tokens import Doc, Span
from spacy.util import minibatch

from uniner.integrations.models import RUNTIMES, load_shared
from uniner.models import DEFAULT_MODEL

if TYPE_CHECKING:
    from uniner.data.types import Entity
    from uniner.inference.protocol import Extractor

log = logging.getLogger(__name__)

ALIGNMENT_MODES = ("strict", "contract", "expand")
MODES = ("flat", "nested")
SCORES_KEY = "uniner_scores"
UNALIGNED_KEY = "uniner_unaligned"


def _score_key(span: Span) -> str:
    # a string key keeps doc.user_data serialisable (DocBin, pickling)
    return f"{span.start_char}:{span.end_char}:{span.label_}"


def _score_getter(span: Span) -> float | None:
    score: float | None = span.doc.user_data.get(SCORES_KEY, {}).get(_score_key(span))
    return score


if not Span.has_extension("uniner_score"):
    Span.set_extension("uniner_score", getter=_score_getter)


class UninerComponent:
    """Runs a uniner extractor over docs and writes the aligned spans (see module docstring)."""

    def __init__(
        self,
        nlp: Language | None,
        name: str,
        *,
        extractor: Extractor,
        labels: Sequence[str],
        threshold: float | None = None,
        mode: str = "flat",
        spans_key: str = "uniner",
        multi_label: bool | None = None,
        alignment_mode: str = "contract",
        overwrite_ents: bool = True,
        label_map: dict[str, str] | None = None,
        batch_size: int = 32,
    ):
        labels = [str(lab) for lab in labels] if labels else []
        if not labels or any(not lab.strip() for lab in labels):
            raise ValueError(
                f"[components.{name}] labels: give at least one non-empty entity type, "
                'e.g. config={"labels": ["person", "organization"]}'
            )
        if mode not in MODES:
            raise ValueError(f"[components.{name}] mode must be one of {MODES}, got {mode!r}")
        if alignment_mode not in ALIGNMENT_MODES:
            raise ValueError(
                f"[components.{name}] alignment_mode must be one of {ALIGNMENT_MODES}, "
                f"got {alignment_mode!r}"
            )
        if threshold is not None and not 0.0 <= float(threshold) <= 1.0:
            raise ValueError(f"[components.{name}] threshold must be in [0, 1], got {threshold}")
        if batch_size < 1:
            raise ValueError(f"[components.{name}] batch_size must be >= 1, got {batch_size}")
        self.name = name
        self.extractor = extractor
        self.labels = list(dict.fromkeys(labels))
        self.threshold = threshold
        self.mode = mode
        self.spans_key = spans_key
        # doc.ents cannot hold one span twice with two labels
        self.multi_label = False if mode == "flat" else multi_label
        self.alignment_mode = alignment_mode
        self.overwrite_ents = overwrite_ents
        self.label_map = dict(label_map or {})
        self.batch_size = batch_size

    # -- spaCy's component protocol -----------------------------------------------------------

    def __call__(self, doc: Doc) -> Doc:
        return self._set(doc, self._extract([doc.text])[0])

    def pipe(self, stream: Iterable[Doc], batch_size: int | None = None) -> Iterator[Doc]:
        """Docs in order, one model call per batch of ``batch_size`` docs."""
        for batch in minibatch(stream, size=batch_size or self.batch_size):  # type: ignore[no-untyped-call]
            docs = list(batch)
            for doc, ents in zip(docs, self._extract([d.text for d in docs]), strict=True):
                yield self._set(doc, ents)

    # -- internals ----------------------------------------------------------------------------

    def _extract(self, texts: list[str]) -> list[list[Entity]]:
        # the contract's keywords; None leaves a setting to the model's own decoding
        kwargs: dict[str, Any] = {"threshold": self.threshold, "flat": self.mode == "flat"}
        if self.multi_label is not None:
            kwargs["multi_label"] = self.multi_label
        return self.extractor.extract_batch(texts, self.labels, **kwargs)

    def _align(self, doc: Doc, entities: Sequence[Entity]) -> list[tuple[Span, float | None]]:
        out: list[tuple[Span, float | None]] = []
        unaligned = 0
        for ent in entities:
            label = self.label_map.get(ent.label, ent.label)
            span = doc.char_span(
                ent.start, ent.end, label=label, alignment_mode=self.alignment_mode
            )
            if span is None or len(span) == 0:
                unaligned += 1
                continue
            out.append((span, ent.score))
        doc.user_data[UNALIGNED_KEY] = doc.user_data.get(UNALIGNED_KEY, 0) + unaligned
        if unaligned:
            log.debug("%d entities did not align to tokens (%s)", unaligned, self.alignment_mode)
        return out

    def _set(self, doc: Doc, entities: Sequence[Entity]) -> Doc:
        aligned = self._align(doc, entities)
        scores = doc.user_data.setdefault(SCORES_KEY, {})
        if self.mode == "nested":
            seen: set[tuple[int, int, str]] = set()
            spans, span_scores = [], []
            for span, score in sorted(aligned, key=lambda p: (p[0].start, -p[0].end)):
                key = (span.start, span.end, span.label_)
                if key in seen:  # two entities may align to the same tokens
                    continue
                seen.add(key)
                spans.append(span)
                span_scores.append(score)
                scores[_score_key(span)] = score
            doc.spans[self.spans_key] = spans
            doc.spans[self.spans_key].attrs["scores"] = span_scores
            return doc

        taken: set[int] = set()
        if not self.overwrite_ents:
            for ent in doc.ents:
                taken.update(range(ent.start, ent.end))
        chosen: list[Span] = []
        # best first; alignment can make spans that did not overlap as characters overlap
        for span, score in sorted(aligned, key=lambda p: -(p[1] if p[1] is not None else 0.0)):
            tokens = set(range(span.start, span.end))
            if tokens & taken:
                continue
            taken |= tokens
            chosen.append(span)
            scores[_score_key(span)] = score
        chosen.sort(key=lambda s: s.start)
        if self.overwrite_ents:
            doc.set_ents(chosen, default="outside")
        else:
            doc.set_ents(chosen, default="unmodified")
        return doc


@Language.factory(
    "uniner",
    default_config={
        "labels": [],
        "model": DEFAULT_MODEL,
        "threshold": None,
        "mode": "flat",
        "spans_key": "uniner",
        "multi_label": None,
        "alignment_mode": "contract",
        "overwrite_ents": True,
        "label_map": {},
        "batch_size": 32,
        "runtime": "torch",
    },
    assigns=["doc.ents", "doc.spans"],
)
def make_uniner(
    nlp: Language,
    name: str,
    labels: list[str],
    model: str,
    threshold: float | None,
    mode: str,
    spans_key: str,
    multi_label: bool | None,
    alignment_mode: str,
    overwrite_ents: bool,
    label_map: dict[str, str],
    batch_size: int,
    runtime: str,
) -> UninerComponent:
    """Factory behind ``nlp.add_pipe("uniner", config={...})``; loads ``model`` once per name."""
    if not labels:  # checked before the model loads, with the same message as the component
        raise ValueError(
            f"[components.{name}] labels: give at least one non-empty entity type, "
            'e.g. config={"labels": ["person", "organization"]}'
        )
    if runtime not in RUNTIMES:
        raise ValueError(f"[components.{name}] runtime must be one of {RUNTIMES}, got {runtime!r}")
    return UninerComponent(
        nlp,
        name,
        extractor=load_shared(model, runtime),
        labels=labels,
        threshold=threshold,
        mode=mode,
        spans_key=spans_key,
        multi_label=multi_label,
        alignment_mode=alignment_mode,
        overwrite_ents=overwrite_ents,
        label_map=label_map,
        batch_size=batch_size,
    )
