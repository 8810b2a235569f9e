"""Every setting of a distillation run, as one frozen, checked value.

Why one object: the command line, a TOML config (``configs/distill-*.toml``) and the Ray engine
all describe the same run. The field defaults below are the only defaults; a TOML file and the
options only override them, and :func:`load_settings` merges the two (options win). Every value is
checked once, when the object is built, and a bad one is a :class:`DistillSettingsError` whose
single-line message names the field (and the file or option it came from), so a typo or an
out-of-range number stops the run before any corpus is read or any request is paid for.

This module imports nothing from the ``distill`` extra: the command checks the extra first.
"""

from __future__ import annotations

import dataclasses
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from uniner.distill.runner import Pricing
    from uniner.distill.teachers.endpoints import EndpointConfig

TEACHERS = ("openai", "local")
ENGINES = ("local", "ray")


class DistillSettingsError(ValueError):
    """A bad setting; ``str(exc)`` is one line naming it, ``field`` is the setting's name."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(message)
        self.field = field


@dataclass(frozen=True, slots=True)
class DistillSettings:
    """One distillation run (``uniner distill --help`` documents each field's option)."""

    # corpus -> passages
    inputs: tuple[str, ...] = ()  # files, folders or globs
    text_field: str = "text"  # JSONL text field (dotted)
    id_field: str | None = None  # JSONL id field (dotted)
    text_unit: str = "paragraph"  # text files: paragraph | line | file
    max_tokens: int = 256  # passage length limit
    tokenizer: str = "whitespace"  # or a backbone name/folder/hub id
    sample: int | None = None  # sample N passages (seeded); None: all
    seed: int = 0  # sampling, shuffling and negative sampling
    dedup: bool = True
    near_dup: float = 0.8  # near-duplicate Jaccard threshold; 0: exact duplicates only
    # teacher
    teacher: str = "openai"  # openai | local
    base_url: str = "https://api.openai.com/v1"
    endpoints: tuple[Any, ...] = ()  # URL strings or tables; replaces base_url when given
    model: str = "gpt-3.5-turbo"  # teacher model (or local backbone)
    api_key_env: str = "OPENAI_API_KEY"  # "" : no key
    template: str = "pile-ner-type"  # a built-in template or a template .json
    temperature: float = 0.0
    max_new_tokens: int = 1024
    timeout: float = 60.0  # seconds per request
    max_retries: int = 6
    concurrency: int = 8  # requests in flight (per endpoint default with endpoints)
    rpm: float | None = None  # requests per minute; None or 0: no limit
    tpm: float | None = None  # tokens per minute; None or 0: no limit
    price_in: float = 0.0  # USD per 1M input tokens
    price_out: float = 0.0  # USD per 1M output tokens
    # instruction data
    instruct: bool = False
    negatives: str = "frequency"  # none | uniform | frequency
    n_negatives: int = 2
    # run
    out: Path | None = None
    report_only: bool = False
    engine: str = "local"  # or "ray": shards of passages on Ray (uniner.scale.ray_distill)
    address: str | None = None  # --engine ray: the cluster to join
    shard_size: int = 1000  # --engine ray: passages per shard

    def __post_init__(self) -> None:
        for f in dataclasses.fields(self):
            value = _check(f.name, getattr(self, f.name))
            object.__setattr__(self, f.name, value)
        _check_choices(self)
        if self.teacher == "openai":
            self.teacher_endpoints()  # checked now, before any corpus is read

    @property
    def pricing(self) -> Pricing:
        from uniner.distill.runner import Pricing

        return Pricing(self.price_in, self.price_out)

    def teacher_endpoints(self) -> list[EndpointConfig]:
        """``endpoints``, or ``base_url`` alone, as checked endpoint settings (``base_url`` may
        carry options too: ``URL,concurrency=N``)."""
        from uniner.distill.teachers.endpoints import EndpointConfigError, parse_endpoints

        where = "endpoints" if self.endpoints else "base_url"
        try:
            return parse_endpoints(list(self.endpoints) or [self.base_url], where, self.concurrency)
        except EndpointConfigError as exc:
            message = str(exc).replace("base_url[0].url:", "base_url:")
            message = message.replace("base_url[0]", where)
            raise DistillSettingsError(where, message) from None

    def replace(self, **changes: Any) -> DistillSettings:
        """A copy with ``changes``, checked again."""
        return dataclasses.replace(self, **changes)


FIELDS = tuple(f.name for f in dataclasses.fields(DistillSettings))
#: each field's default, read without building (and checking) a DistillSettings: the CLI's help
DEFAULTS: dict[str, Any] = {f.name: f.default for f in dataclasses.fields(DistillSettings)}

# name -> (kind, lowest allowed value or None); kinds: int, float, bool, str, path, strings, any
_RULES: dict[str, tuple[str, float | None]] = {
    "inputs": ("strings", None),
    "text_field": ("str", None),
    "id_field": ("str?", None),
    "text_unit": ("str", None),
    "max_tokens": ("int", 1),
    "tokenizer": ("str", None),
    "sample": ("int?", 1),
    "seed": ("int", None),
    "dedup": ("bool", None),
    "near_dup": ("float", 0),
    "teacher": ("str", None),
    "base_url": ("str", None),
    "endpoints": ("any", None),
    "model": ("str", None),
    "api_key_env": ("str", None),
    "template": ("str", None),
    "temperature": ("float", 0),
    "max_new_tokens": ("int", 1),
    "timeout": ("float", 0),
    "max_retries": ("int", 0),
    "concurrency": ("int", 1),
    "rpm": ("float?", 0),
    "tpm": ("float?", 0),
    "price_in": ("float", 0),
    "price_out": ("float", 0),
    "instruct": ("bool", None),
    "negatives": ("str", None),
    "n_negatives": ("int", 0),
    "out": ("path?", None),
    "report_only": ("bool", None),
    "engine": ("str", None),
    "address": ("str?", None),
    "shard_size": ("int", 1),
}
assert set(_RULES) == set(FIELDS), "every field has a rule"


def _check(name: str, value: Any) -> Any:
    """``value`` in the field's canonical type (ints as floats, lists as tuples), or the error."""
    kind, low = _RULES[name]
    if kind.endswith("?"):
        if value is None:
            return None
        kind = kind[:-1]
    if kind == "bool":
        if not isinstance(value, bool):
            raise _bad(name, f"must be true or false, got {value!r}")
        return value
    if kind in ("int", "float"):
        ok = (int,) if kind == "int" else (int, float)
        if isinstance(value, bool) or not isinstance(value, ok):
            what = "an integer" if kind == "int" else "a number"
            raise _bad(name, f"must be {what}, got {value!r}")
        if low is not None and value < low:
            raise _bad(name, f"must be >= {low}, got {value!r}")
        return value if kind == "int" else float(value)
    if kind == "str":
        if not isinstance(value, str):  # a StrEnum (the --engine option) is a str
            raise _bad(name, f"must be a string, got {value!r}")
        return str(value)
    if kind == "path":
        if not isinstance(value, (str, Path)) or not str(value):
            raise _bad(name, f"must be a folder path, got {value!r}")
        return Path(value)
    if isinstance(value, str) or not isinstance(value, (list, tuple)):
        raise _bad(name, f"must be a list, got {value!r}")
    if kind == "strings" and not all(isinstance(v, (str, Path)) for v in value):
        raise _bad(name, f"must be a list of paths, got {value!r}")
    return tuple(str(v) for v in value) if kind == "strings" else tuple(value)


def _check_choices(s: DistillSettings) -> None:
    from uniner.distill.corpus import TEXT_UNITS  # their owners' lists, imported when checked
    from uniner.instruct.builder import NEGATIVES

    choices = {
        "text_unit": TEXT_UNITS,
        "teacher": TEACHERS,
        "negatives": NEGATIVES,
        "engine": ENGINES,
    }
    for name, allowed in choices.items():
        if getattr(s, name) not in allowed:
            raise _bad(name, f"must be one of {', '.join(allowed)}, got {getattr(s, name)!r}")
    if s.near_dup > 1:
        raise _bad("near_dup", f"must be between 0 and 1, got {s.near_dup!r}")


def _bad(name: str, problem: str) -> DistillSettingsError:
    return DistillSettingsError(name, f"{name}: {problem}")


def read_config(path: Path) -> dict[str, Any]:
    """The settings a TOML file gives, unchecked; relative ``inputs`` and ``out`` are made
    relative to the file (so a config runs the same from any folder)."""
    try:
        data = tomllib.loads(Path(path).read_text(encoding="utf-8"))
    except (OSError, tomllib.TOMLDecodeError) as exc:
        raise DistillSettingsError("config", f"{path}: {exc}") from None
    unknown = set(data) - set(FIELDS)
    if unknown:
        raise DistillSettingsError(
            "config", f"{path}: unknown keys {sorted(unknown)}; known: {sorted(FIELDS)}"
        )
    base = Path(path).parent
    if isinstance(data.get("inputs"), list):
        data["inputs"] = [
            p if not isinstance(p, str) or Path(p).is_absolute() else str(base / p)
            for p in data["inputs"]
        ]
    if isinstance(data.get("out"), str) and data["out"] and not Path(data["out"]).is_absolute():
        data["out"] = str(base / data["out"])
    return data


def load_settings(
    config: Path | None = None, options: Mapping[str, Any] | None = None
) -> DistillSettings:
    """The defaults, then ``config`` (a TOML file), then ``options`` (the command line: a None
    or an empty list means "not given"). A bad value's error names the file or the option."""
    from_file = read_config(config) if config is not None else {}
    given = {k: v for k, v in (options or {}).items() if v is not None and v != []}
    unknown = set(given) - set(FIELDS)
    if unknown:
        raise DistillSettingsError(sorted(unknown)[0], f"unknown settings {sorted(unknown)}")
    try:
        return DistillSettings(**{**from_file, **given})
    except DistillSettingsError as exc:
        if exc.field in given:
            where = f"--{exc.field.replace('_', '-')}"
            if exc.field == "endpoints":
                where = "--teacher-url"
            raise DistillSettingsError(exc.field, f"{where}: {exc}") from None
        if exc.field in from_file:
            raise DistillSettingsError(exc.field, f"{config}: {exc}") from None
        raise


__all__ = [
    "DEFAULTS",
    "FIELDS",
    "DistillSettings",
    "DistillSettingsError",
    "load_settings",
    "read_config",
]
