"""The data-set catalog: ``catalog.toml`` (shipped in this package) read into frozen specs.

Why a data file: the catalog is a table (names, domains, label maps, file paths, sentence
counts, licences), and a table edited as code invites code (helpers, f-strings, shared dicts)
that hides what an entry holds. Each entry of the file is complete as written; the only
indirection is ``licence_ref``, a key of the file's ``[licences]`` table for the licence texts
many entries share. Unknown keys and wrong value types are errors naming the entry, so a typo
never falls back to a default.

Look-ups here are what training and data tooling need (by name or alias, the zero-shot sets,
the sets one may train on); the benchmark's named suites, in the paper's order, are
:func:`uniner.benchmark.registry.suite`.
"""

from __future__ import annotations

import functools
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from types import MappingProxyType
from typing import Any

from uniner.data.datasets import DatasetSpec, FileSet
from uniner.data.errors import DataFormatError

CATALOG_FILE = "catalog.toml"

_SPEC_KEYS: dict[str, type] = {
    "name": str,
    "domain": str,
    "n_types": int,
    "labels": list,
    "dropped": list,
    "paper_sizes": dict,
    "in_benchmark": bool,
    "zero_shot": bool,
    "paper_column": str,
    "uniner_test": str,
    "source": str,
    "licence": str,
    "licence_ref": str,
    "notes": str,
    "label_map": dict,
    "files": list,
}
_FILE_KEYS: dict[str, type] = {
    "source": str,
    "format": str,
    "sentences": dict,
    "origin": str,
    "note": str,
    "paths": dict,
}
_TOP_KEYS = {"licences", "aliases", "dataset"}


@dataclass(frozen=True, slots=True)
class Catalog:
    """Every registered data set in file order, and the other spellings of their names."""

    specs: tuple[DatasetSpec, ...]
    aliases: Mapping[str, str] = field(hash=False, default_factory=dict)

    def __post_init__(self) -> None:
        names = [s.name for s in self.specs]
        dup = sorted({n for n in names if names.count(n) > 1})
        if dup:
            raise ValueError(f"duplicate data set name(s) {dup}")
        unknown = sorted(n for n in self.aliases.values() if n not in names)
        if unknown:
            raise ValueError(f"aliases name unknown data set(s) {unknown}")
        object.__setattr__(self, "aliases", MappingProxyType(dict(self.aliases)))


def _check(entry: dict[str, Any], schema: dict[str, type], where: str, origin: str) -> None:
    for key, value in entry.items():
        want = schema.get(key)
        if want is None:
            known = ", ".join(schema)
            raise DataFormatError(origin, f"{where}: unknown key {key!r}", expected=known)
        bad_bool = isinstance(value, bool) and want is not bool
        if bad_bool or not isinstance(value, want):
            raise DataFormatError(origin, f"{where}: {key} = {value!r}", expected=want.__name__)


def _items(values: Any, want: type, where: str, origin: str) -> None:
    """Every item of a list (or value of a table) is a ``want`` (no bool for int)."""
    for v in values.values() if isinstance(values, dict) else values:
        if isinstance(v, bool) is not (want is bool) or not isinstance(v, want):
            raise DataFormatError(origin, f"{where}: {v!r}", expected=want.__name__)


def _fileset(entry: dict[str, Any], where: str, origin: str) -> tuple[str, FileSet]:
    _check(entry, _FILE_KEYS, where, origin)
    missing = [k for k in ("source", "format", "paths") if k not in entry]
    if missing:
        raise DataFormatError(origin, f"{where}: missing {', '.join(missing)}")
    _items(entry.get("sentences", {}), int, f"{where}, sentences", origin)
    for split, p in entry["paths"].items():
        _items([p] if isinstance(p, str) else p, str, f"{where}, paths.{split}", origin)
    kw = {k: v for k, v in entry.items() if k != "source"}
    kw["paths"] = {s: p if isinstance(p, str) else tuple(p) for s, p in kw["paths"].items()}
    try:
        return entry["source"], FileSet(**kw)
    except ValueError as exc:
        raise DataFormatError(origin, f"{where}: {exc}") from None


def _spec(entry: dict[str, Any], licences: Mapping[str, str], origin: str) -> DatasetSpec:
    where = f"data set {entry.get('name', '?')!r}"
    _check(entry, _SPEC_KEYS, where, origin)
    for key, want in (("labels", str), ("dropped", str), ("label_map", str), ("paper_sizes", int)):
        _items(entry.get(key, ()), want, f"{where}, {key}", origin)
    kw = dict(entry)
    for key in ("labels", "dropped"):
        if key in kw:
            kw[key] = tuple(kw[key])
    ref = kw.pop("licence_ref", None)
    if ref is not None:
        if "licence" in kw or ref not in licences:
            raise DataFormatError(
                origin, f"{where}: licence_ref {ref!r}", expected=f"one of {sorted(licences)}"
            )
        kw["licence"] = licences[ref]
    files = [_fileset(f, f"{where}, files[{i}]", origin) for i, f in enumerate(kw.pop("files", []))]
    kw["files"] = dict(files)
    try:
        return DatasetSpec(**kw)
    except (TypeError, ValueError) as exc:  # a missing name/domain/n_types, a bad domain
        raise DataFormatError(origin, f"{where}: {exc}") from None


def parse_catalog(text: str, origin: str = CATALOG_FILE) -> Catalog:
    """A :class:`Catalog` from the text of a catalog file (``origin`` names it in errors)."""
    try:
        raw = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise DataFormatError(origin, str(exc)) from None
    unknown = sorted(set(raw) - _TOP_KEYS)
    if unknown:
        raise DataFormatError(origin, f"unknown top-level key(s) {unknown}")
    licences = raw.get("licences", {})
    specs = tuple(_spec(entry, licences, origin) for entry in raw.get("dataset", []))
    try:
        return Catalog(specs, raw.get("aliases", {}))
    except ValueError as exc:
        raise DataFormatError(origin, str(exc)) from None


def catalog_text() -> str:
    """The shipped catalog file's text, found as package data (works from a wheel or a zip)."""
    return resources.files("uniner.data").joinpath(CATALOG_FILE).read_text(encoding="utf-8")


@functools.cache
def catalog() -> Catalog:
    """The shipped catalog, read once."""
    return parse_catalog(catalog_text())


@functools.cache
def _by_name() -> dict[str, DatasetSpec]:
    return {s.name: s for s in catalog().specs}


def _key(name: str) -> str:
    return "".join(ch for ch in name.lower() if ch.isalnum())


@functools.cache
def _aliases() -> dict[str, str]:
    out = {_key(n): n for n in _by_name()}
    for alias, name in catalog().aliases.items():
        out.setdefault(_key(alias), name)
    return out


def get(name: str | DatasetSpec) -> DatasetSpec:
    """A spec by name, ignoring case and punctuation (``CrossNER AI``, ``ncbi-disease``)."""
    if isinstance(name, DatasetSpec):
        return name
    found = _aliases().get(_key(name))
    if found is None:
        raise KeyError(f"unknown data set {name!r}; known: {', '.join(_by_name())}")
    return _by_name()[found]


def all_specs(include_extra: bool = True) -> tuple[DatasetSpec, ...]:
    """Every registered spec in catalog order; ``include_extra=False`` keeps the benchmark."""
    return tuple(s for s in catalog().specs if include_extra or s.in_benchmark)


def benchmark_specs() -> tuple[DatasetSpec, ...]:
    """The data sets the paper lists for its benchmark, in the paper's domain order."""
    return all_specs(include_extra=False)


def extra_specs() -> tuple[DatasetSpec, ...]:
    """Registered sets outside the benchmark (extra training sets)."""
    return tuple(s for s in catalog().specs if not s.in_benchmark)


def zero_shot_specs() -> tuple[DatasetSpec, ...]:
    """The CrossNER/MIT test sets (catalog order): no split of them is ever trained on."""
    return tuple(s for s in catalog().specs if s.zero_shot)


def present_specs(data_dir: str | Path | None = None) -> tuple[DatasetSpec, ...]:
    """Benchmark sets whose default files exist under ``data_dir`` (or the shared data)."""
    return tuple(s for s in benchmark_specs() if s.present(data_dir))


def trainable_specs(data_dir: str | Path | None = None) -> tuple[DatasetSpec, ...]:
    """Sets with a present train split that a zero-shot model may train on: never a zero-shot
    (CrossNER/MIT) set, of any split. Includes the extra (e.g. biomedical) sets."""
    return tuple(
        s
        for s in all_specs()
        if not s.zero_shot and s.files and "train" in s.splits() and s.present(data_dir)
    )
