"""A span extractor's settings: how it runs, the checks on a call's arguments, and reading both
from a model folder.

Why apart from the extractor: an extractor is made from two frozen values, :class:`RuntimeSettings`
(how it runs: name, batch size, threads, bf16, label cache) and
:class:`~uniner.inference.decoding.DecodingConfig` (how scores become entities). Callers keep
passing single fields as keywords (``SpanExtractor.load(path, batch_size=8, threshold=0.6)``);
:func:`split_settings` sorts them into the two values, so the constructor takes two grouped
settings instead of a parameter per field.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from uniner.inference.decoding import MODES, DecodingConfig
from uniner.students.span.label_cache import DEFAULT_SIZE as DEFAULT_CACHE_SIZE

#: The name of an extractor made without one (a loaded model takes its folder's).
DEFAULT_NAME = "uniner-span"


@dataclass(frozen=True, slots=True)
class RuntimeSettings:
    """How an extractor runs (what it outputs is its ``DecodingConfig``).

    ``name``: reported by the Extractor protocol; None: the model folder's name when loaded,
    else :data:`DEFAULT_NAME`. ``batch_size``: encoder inputs per forward pass. ``threads``:
    torch's CPU threads, set when the extractor is made (None: unchanged). ``bf16``: True,
    False or ``"auto"`` (bf16 autocast where the device supports it). ``label_cache_size``:
    label sets whose vectors a separate-encoding model keeps (label_cache.py).
    ``max_batch_tokens``: padded tokens per forward pass at most (a batch of long inputs takes
    fewer than ``batch_size``); None: ``scoring.onnx_token_cap`` on an ONNX graph, no cap on
    torch.
    """

    name: str | None = None
    batch_size: int = 16
    threads: int | None = None
    bf16: bool | str = False
    label_cache_size: int = DEFAULT_CACHE_SIZE
    max_batch_tokens: int | None = None

    def __post_init__(self) -> None:
        if self.max_batch_tokens is not None and self.max_batch_tokens < 1:
            raise ValueError(f"max_batch_tokens must be >= 1, got {self.max_batch_tokens}")

    def replace(self, **changes: Any) -> RuntimeSettings:
        return dataclasses.replace(self, **changes)


RUNTIME_FIELDS = frozenset(f.name for f in dataclasses.fields(RuntimeSettings))
DECODING_FIELDS = frozenset(f.name for f in dataclasses.fields(DecodingConfig))


def split_settings(settings: dict[str, Any]) -> tuple[dict[str, Any], dict[str, Any]]:
    """Keyword settings as (runtime fields, decoding fields); a TypeError names unknown ones."""
    unknown = set(settings) - RUNTIME_FIELDS - DECODING_FIELDS
    if unknown:
        names = ", ".join(sorted(unknown))
        raise TypeError(
            f"unknown setting(s): {names} (not a RuntimeSettings or DecodingConfig field)"
        )
    runtime = {k: v for k, v in settings.items() if k in RUNTIME_FIELDS}
    decoding = {k: v for k, v in settings.items() if k in DECODING_FIELDS}
    return runtime, decoding


class SettingField:
    """An attribute that reads ``obj.<holder>.<name>``; setting it replaces ``obj.<holder>``
    with a new value (validated by the holder's ``replace``).

    Why: the settings live in frozen values that a call never changes, yet a single user may
    still write ``m.min_labels = 0`` or ``m.batch_size = 64`` (README, bench scripts).
    """

    def __init__(self, holder: str) -> None:
        self.holder = holder

    def __set_name__(self, owner: type, name: str) -> None:
        self.name = name

    def __get__(self, obj: Any, owner: type | None = None) -> Any:
        if obj is None:
            return self
        return getattr(getattr(obj, self.holder), self.name)

    def __set__(self, obj: Any, value: Any) -> None:
        setattr(obj, self.holder, getattr(obj, self.holder).replace(**{self.name: value}))


def load_settings(
    path: str | Path, config: dict[str, Any], kwargs: dict[str, Any]
) -> dict[str, Any]:
    """The keyword arguments of an extractor loaded from the folder ``path`` whose
    ``config.json`` holds ``config``: the caller's, with the folder's name and its released
    decoding (chosen on dev data) where the caller gives none; keyword settings replace
    single fields of it."""
    from uniner.students.span.io import CONFIG_NAME

    out = dict(kwargs)
    runtime = out.get("runtime")
    if runtime is None or runtime.name is None:
        out.setdefault("name", config.get("name") or Path(path).name)
    if out.get("decoding") is None:
        source = str(Path(path) / CONFIG_NAME)
        out["decoding"] = DecodingConfig.from_json(config, source=source)
    return out


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


def check_threshold(value: float, what: str = "threshold") -> float:
    """``value`` as a float, or a ValueError naming ``what`` when it is outside [0, 1]."""
    value = float(value)
    if not 0.0 <= value <= 1.0:
        raise ValueError(f"{what} must be in [0, 1], got {value}")
    return value


def check_texts(texts: Sequence[str], label_lists: Sequence[Sequence[str]] | None = None) -> None:
    """A list of strings (one label list each, when given), or a TypeError/ValueError."""
    if isinstance(texts, str):
        raise TypeError("texts must be a list of strings; use extract() for a single text")
    if label_lists is not None and len(texts) != len(label_lists):
        raise ValueError(f"{len(texts)} texts but {len(label_lists)} label lists")
    for t in texts:
        if not isinstance(t, str):
            raise TypeError(f"texts must be strings, got {type(t).__name__}")


def check_mode(mode: str | None) -> None:
    """None (the model's mode) or one of :data:`~uniner.inference.decoding.MODES`."""
    if mode is not None and mode not in MODES:
        raise ValueError(f"mode must be one of {MODES}, got {mode!r}")
