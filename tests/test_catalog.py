"""The data-set catalog file and its loader (uniner.data.catalog)."""

from __future__ import annotations

from collections.abc import Mapping

from uniner.data.catalog import catalog
from uniner.data.datasets import DatasetSpec, FileSet


def _plain(value: object) -> object:
    """A comparable form that keeps mapping order (the first file set is the default)."""
    if isinstance(value, (DatasetSpec, FileSet)):
        return {k: _plain(getattr(value, k)) for k in value.__dataclass_fields__}
    if isinstance(value, Mapping):
        return [(k, _plain(v)) for k, v in value.items()]
    if isinstance(value, (tuple, list)):
        return [_plain(v) for v in value]
    return value


def test_the_file_holds_exactly_the_old_python_catalog():
    from uniner.benchmark import catalog as old

    new = catalog()
    assert [s.name for s in new.specs] == [s.name for s in old.SPECS]
    for a, b in zip(old.SPECS, new.specs, strict=True):
        assert _plain(a) == _plain(b), a.name
    assert dict(new.aliases) == old.ALIASES
