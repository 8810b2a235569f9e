"""How a model turns scores into entities: one typed, frozen value, read and written once.

Why one value: the decoding settings a model is released with (chosen on dev data) used to
travel as eleven positional arguments through the extractor, its saving, its release and the
server, and callers changed them by setting attributes on a model that a server shares between
requests. A frozen :class:`DecodingConfig` is validated once when made; a call that wants other
settings makes a new value (:meth:`DecodingConfig.override` or :func:`dataclasses.replace`)
and never changes the model's.

JSON form (the keys of a span model's ``config.json``; settings that are off are left out)::

    {"threshold": 0.6, "multi_label": false, "mode": "nested",
     "min_labels": 8, "context_labels": [...], "max_context_labels": 3,
     "few_types_threshold": {"max_types": 4, "threshold": 0.75},
     "calibration": {"type_slope": 0.5, "reference_types": 8},
     "prefer_specific": {"generic": ["person"], "min_score": 0.05,
                         "broad": ["organization"], "min_types": 5}}

This module imports nothing from the rest of the package, so every extractor (students,
baselines) can use it without depending on the layers above it.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

#: Decoding modes: ``flat`` (no overlap), ``nested`` (nesting, no crossing), ``all`` (every span).
MODES: tuple[str, ...] = ("flat", "nested", "all")

#: The JSON keys of a decoding configuration (a release replaces all of them at once).
JSON_KEYS: tuple[str, ...] = (
    "threshold",
    "multi_label",
    "mode",
    "min_labels",
    "context_labels",
    "max_context_labels",
    "few_types_threshold",
    "prefer_specific",
    "calibration",
)


class DecodingError(ValueError):
    """A decoding setting is invalid; the message names the field (and the file, if any)."""


def _fail(field: str, rule: str, value: Any) -> DecodingError:
    return DecodingError(f"{field} must be {rule}, got {value!r}")


def _number(field: str, value: Any, lo: float = 0.0, hi: float = 1.0) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise _fail(field, f"a number in [{lo:g}, {hi:g}]", value)
    out = float(value)
    if not (lo <= out <= hi) or math.isnan(out):
        raise _fail(field, f"a number in [{lo:g}, {hi:g}]", value)
    return out


def _count(field: str, value: Any, least: int) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise _fail(field, f"an integer >= {least}", value)
    if value < least:
        raise _fail(field, f"an integer >= {least}", value)
    return int(value)


def _logit(p: float) -> float:
    p = min(max(p, 1e-6), 1.0 - 1e-6)
    return math.log(p / (1.0 - p))


def _sigmoid(x: float) -> float:
    return 1.0 / (1.0 + math.exp(-x)) if x >= 0 else math.exp(x) / (1.0 + math.exp(x))


def _labels(field: str, value: Any) -> tuple[str, ...]:
    if isinstance(value, str) or not isinstance(value, Sequence):
        raise _fail(field, "a list of non-empty label strings", value)
    for lab in value:
        if not isinstance(lab, str) or not lab.strip():
            raise _fail(field, "a list of non-empty label strings", value)
    return tuple(dict.fromkeys(value))


@dataclass(frozen=True, slots=True)
class DecodingConfig:
    """Every setting between a model's scores and its entities (see module docstring).

    Extractors use what applies to them: a gazetteer has no scores, so only the labels asked
    matter to it; the generative student answers per label and ignores thresholds too.
    """

    #: Least score of a kept entity.
    threshold: float = 0.5
    #: A span may carry several labels (each above the threshold).
    multi_label: bool = False
    #: ``flat`` (no overlapping entities), ``nested`` or ``all``.
    mode: str = "flat"
    #: A call asking fewer types is padded with ``context_labels`` (their answers dropped): a
    #: model trained on many types per input over-reads a lone type.
    min_labels: int = 0
    context_labels: tuple[str, ...] = ()
    #: At most this many context labels per call (None: as many as ``min_labels`` needs).
    max_context: int | None = None
    #: A call asking at most ``few_types`` types uses ``few_type_threshold`` (scores run higher
    #: with few types in the input); 0 / None: off.
    few_types: int = 0
    few_type_threshold: float | None = None
    #: A confident mention of a generic type ("person") also gets the more specific asked type
    #: the model gives at least ``specific_min_score``, never a ``broad_labels`` one, in calls
    #: asking at least ``specific_min_types`` types. Empty ``generic_labels``: off.
    generic_labels: tuple[str, ...] = ()
    specific_min_score: float = 0.05
    broad_labels: tuple[str, ...] = ()
    specific_min_types: int = 2
    #: Score calibration by the number of types a call asks: a model trained on many types per
    #: input scores higher when asked few, so a call of ``n`` types has its scores moved by
    #: ``type_slope * ln(n / reference_types)`` in logit space. Reported scores are the moved
    #: ones, and one threshold then means the same for calls of 1 or 20 types (the caller's
    #: own threshold included, unlike the few-types rule). 0: off.
    type_slope: float = 0.0
    reference_types: int = 8

    def __post_init__(self) -> None:
        """Validate and normalise every field; the first bad one raises, naming itself."""
        put = object.__setattr__
        put(self, "threshold", _number("threshold", self.threshold))
        if not isinstance(self.multi_label, bool):
            raise _fail("multi_label", "true or false", self.multi_label)
        if self.mode not in MODES:
            raise _fail("mode", f"one of {', '.join(MODES)}", self.mode)
        put(self, "min_labels", _count("min_labels", self.min_labels, 0))
        put(self, "context_labels", _labels("context_labels", self.context_labels))
        if self.max_context is not None:
            put(self, "max_context", _count("max_context", self.max_context, 0))
        put(self, "few_types", _count("few_types", self.few_types, 0))
        if self.few_type_threshold is not None:
            put(
                self,
                "few_type_threshold",
                _number("few_type_threshold", self.few_type_threshold),
            )
        put(self, "generic_labels", _labels("generic_labels", self.generic_labels))
        put(self, "specific_min_score", _number("specific_min_score", self.specific_min_score))
        put(self, "broad_labels", _labels("broad_labels", self.broad_labels))
        put(self, "specific_min_types", _count("specific_min_types", self.specific_min_types, 2))
        put(self, "type_slope", _number("type_slope", self.type_slope, -5.0, 5.0))
        put(self, "reference_types", _count("reference_types", self.reference_types, 1))

    # -- use ------------------------------------------------------------------------------------

    @property
    def flat(self) -> bool:
        return self.mode == "flat"

    def threshold_for(self, n_types: int) -> float:
        """The threshold of a call that asks ``n_types`` types (the few-types rule)."""
        if self.few_type_threshold is not None and n_types <= self.few_types:
            return self.few_type_threshold
        return self.threshold

    def score_shift(self, n_types: int) -> float:
        """The logit shift of every score in a call asking ``n_types`` types (calibration)."""
        if not self.type_slope or n_types < 1:
            return 0.0
        return self.type_slope * math.log(n_types / self.reference_types)

    def calibrated(self, score: float, n_types: int) -> float:
        """``score`` (the model's probability) as reported for a call of ``n_types`` types."""
        shift = self.score_shift(n_types)
        return _sigmoid(_logit(score) + shift) if shift else score

    def raw_threshold(self, n_types: int) -> float:
        """The least *model* probability kept in a call of ``n_types`` types: the threshold
        (few-types rule included) taken back through the calibration."""
        thr = self.threshold_for(n_types)
        shift = self.score_shift(n_types)
        if not shift or thr <= 0.0 or thr >= 1.0:
            return thr
        return _sigmoid(_logit(thr) - shift)

    def replace(self, **changes: Any) -> DecodingConfig:
        """A new value with ``changes`` (validated); this one is unchanged."""
        return dataclasses.replace(self, **changes)

    def override(
        self,
        threshold: float | None = None,
        flat: bool | None = None,
        multi_label: bool | None = None,
    ) -> DecodingConfig:
        """The settings of one call: ``None`` keeps the model's; a given ``threshold`` holds for
        any number of types (it replaces the few-types rule; the calibration stays, so it is
        read on the calibrated scores); ``flat=False`` is ``nested``."""
        changes: dict[str, Any] = {}
        if threshold is not None:
            changes.update(threshold=threshold, few_types=0, few_type_threshold=None)
        if flat is not None:
            changes["mode"] = "flat" if flat else "nested"
        if multi_label is not None:
            changes["multi_label"] = multi_label
        return dataclasses.replace(self, **changes) if changes else self

    # -- JSON -----------------------------------------------------------------------------------

    def to_json(self) -> dict[str, Any]:
        """The JSON entries (:data:`JSON_KEYS`); settings that are off are left out."""
        out: dict[str, Any] = {"threshold": self.threshold, "multi_label": self.multi_label}
        if self.mode != "flat":
            out["mode"] = self.mode
        if self.min_labels:
            out.update(min_labels=self.min_labels, context_labels=list(self.context_labels))
        if self.max_context is not None:
            out["max_context_labels"] = self.max_context
        if self.few_type_threshold is not None:
            out["few_types_threshold"] = {
                "max_types": self.few_types,
                "threshold": self.few_type_threshold,
            }
        if self.generic_labels:
            out["prefer_specific"] = {
                "generic": list(self.generic_labels),
                "min_score": self.specific_min_score,
                "broad": list(self.broad_labels),
                "min_types": self.specific_min_types,
            }
        if self.type_slope:
            out["calibration"] = {
                "type_slope": self.type_slope,
                "reference_types": self.reference_types,
            }
        return out

    @classmethod
    def from_json(
        cls, data: Mapping[str, Any], source: str | None = None, base: DecodingConfig | None = None
    ) -> DecodingConfig:
        """The settings in ``data`` (other keys are ignored) over ``base`` (default: the
        library's defaults). A bad value raises :class:`DecodingError` naming ``source`` and
        the key, e.g. ``model/config.json: few_types_threshold.threshold must be ...``."""
        try:
            return cls._from_json(data, base or cls())
        except DecodingError as err:
            raise DecodingError(f"{source}: {err}" if source else str(err)) from None

    @classmethod
    def _from_json(cls, data: Mapping[str, Any], base: DecodingConfig) -> DecodingConfig:
        if not isinstance(data, Mapping):
            raise _fail("decoding configuration", "a JSON object", data)
        c: dict[str, Any] = {}
        for key in ("threshold", "multi_label", "mode", "min_labels", "context_labels"):
            if data.get(key) is not None:
                c[key] = data[key]
        if data.get("max_context_labels") is not None:
            c["max_context"] = _count("max_context_labels", data["max_context_labels"], 0)
        few = data.get("few_types_threshold")
        if few is not None:
            if not isinstance(few, Mapping) or set(few) != {"max_types", "threshold"}:
                raise _fail("few_types_threshold", '{"max_types": N, "threshold": T}', few)
            c["few_types"] = _count("few_types_threshold.max_types", few["max_types"], 1)
            c["few_type_threshold"] = _number("few_types_threshold.threshold", few["threshold"])
        specific = data.get("prefer_specific")
        if specific is not None:
            shape = '{"generic": [labels], "min_score": S, "broad": [labels], "min_types": N}'
            if not isinstance(specific, Mapping) or not {"generic", "min_score"} <= set(specific):
                raise _fail("prefer_specific", shape, specific)
            if set(specific) - {"generic", "min_score", "broad", "min_types"}:
                raise _fail("prefer_specific", shape, specific)
            c["generic_labels"] = _labels("prefer_specific.generic", specific["generic"])
            c["specific_min_score"] = _number("prefer_specific.min_score", specific["min_score"])
            c["broad_labels"] = _labels("prefer_specific.broad", specific.get("broad", ()))
            c["specific_min_types"] = _count(
                "prefer_specific.min_types", specific.get("min_types", 2), 2
            )
        c.update(_calibration_json(data.get("calibration")))
        return dataclasses.replace(base, **c)


def _calibration_json(value: Any) -> dict[str, Any]:
    """The fields of a ``calibration`` JSON entry (None: none), each checked by name."""
    if value is None:
        return {}
    shape = '{"type_slope": A, "reference_types": N}'
    if not isinstance(value, Mapping) or "type_slope" not in value:
        raise _fail("calibration", shape, value)
    if set(value) - {"type_slope", "reference_types"}:
        raise _fail("calibration", shape, value)
    out = {"type_slope": _number("calibration.type_slope", value["type_slope"], -5.0, 5.0)}
    if value.get("reference_types") is not None:
        out["reference_types"] = _count("calibration.reference_types", value["reference_types"], 1)
    return out
