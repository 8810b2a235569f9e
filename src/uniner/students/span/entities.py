"""From a call's candidate spans to each text's entities: character offsets and scores.

Candidates are collected once per call at the lowest score any text of it may decode at
(:func:`collect_floor`); each text then keeps its own asked labels (context labels' answers are
dropped), applies the specific-over-generic rule where it applies, filters at its own threshold
and is decoded once (flat, nested or all; decoding.py). Reported scores are calibrated by the
number of types asked (``DecodingConfig.calibrated``).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from uniner.data.types import Entity
from uniner.inference.decoding import DecodingConfig
from uniner.students.span.decoding import Span, decode, prefer_specific
from uniner.students.span.features import EncodedText
from uniner.students.span.planning import Plan
from uniner.students.span.windowing import Window


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


def folded_asked(asked: frozenset[str], names: Sequence[str]) -> frozenset[str]:
    """The asked labels among ``names``, whatever their case."""
    folded = {n.casefold() for n in names}
    return frozenset(lab for lab in asked if lab.casefold() in folded)


def generic_asked(asked: frozenset[str], cfg: DecodingConfig) -> frozenset[str]:
    """The asked labels that count as generic, if enough types are asked for the rule."""
    if len(asked) < cfg.specific_min_types:
        return frozenset()
    return folded_asked(asked, cfg.generic_labels)


def collect_floor(plan: Plan, cfg: DecodingConfig) -> float:
    """The lowest score any text of the call may keep: its lowest threshold, or
    ``cfg.specific_min_score`` if lower and some text asks a generic type (specific types are
    then read below the threshold, :func:`~.decoding.prefer_specific`)."""
    lowest = min(plan.thresholds, default=0.0)
    if any(generic_asked(a, cfg) for a in plan.asked):
        lowest = min(lowest, cfg.specific_min_score)
    return lowest


def to_entity(text: str, enc: EncodedText, sp: Span, score: float) -> Entity:
    """The entity of word span ``sp`` of ``text``, with character offsets."""
    start = enc.offsets[sp.start][0]
    end = enc.offsets[sp.end - 1][1]
    return Entity(start, end, text[start:end], sp.label, float(score))


def decode_text(
    text: str,
    enc: EncodedText,
    candidates: Sequence[Span],
    asked: frozenset[str],
    threshold: float,
    cfg: DecodingConfig,
) -> tuple[Entity, ...]:
    """The entities of one text from its candidates (collected at the call's floor);
    ``threshold`` is this text's, on the model's scale."""
    # context answers dropped; flat and nested decoding are greedy by score, so
    # filtering first equals decoding at threshold (a span's fate depends on higher ones only)
    own = [s for s in candidates if s.label in asked]
    generic = generic_asked(asked, cfg)
    if generic:
        floor = min(cfg.specific_min_score, threshold)
        broad = folded_asked(asked, cfg.broad_labels)
        own = prefer_specific(own, generic, threshold, floor, cfg.multi_label, broad)
    own = [s for s in own if s.score >= threshold]
    spans = decode(own, mode=cfg.mode, multi_label=cfg.multi_label)  # type: ignore[arg-type]
    n = len(asked)
    return tuple(to_entity(text, enc, sp, cfg.calibrated(sp.score, n)) for sp in spans)


def decode_all(
    texts: Sequence[str],
    plan: Plan,
    candidates: list[list[Span]],
    cfg: DecodingConfig,
) -> list[Extraction]:
    """Each text's :class:`Extraction`, in order."""
    out = []
    for ti, text in enumerate(texts):
        enc = plan.encs[ti]
        asked = plan.asked[ti]
        ents = decode_text(text, enc, candidates[ti], asked, plan.thresholds[ti], cfg)
        thr = cfg.threshold_for(len(asked))  # as the caller reads it (calibrated scores)
        out.append(Extraction(ents, len(enc), plan.windows[ti], plan.passes[ti], thr))
    return out
