"""The package's layers, read from its source (``ast``, nothing imported): lower layers never
import upper ones, the data layer imports nothing above it, and the two students are independent.

The order that holds (issue 26), lowest first:

0. ``paths``, ``backbones``, ``models``: where things are (data, backbone wheels, model folders);
   ``extras``: what a missing optional extra reports; ``errors``: the one-line error type;
1. ``data``: formats, readers, the data-set catalog, training sources and the zero-shot guard;
2. ``evaluation`` (metrics), ``inference`` (the extractor protocol, decoding settings and
   deadlines that every extractor implements, hence below the students), ``instruct``,
   ``distill`` (teachers and corpora: they write data);
3. ``students.span``, ``students.generative``, ``baselines``: extractors and their training;
4. ``api`` and the package root (``uniner.load``): loading a model for use;
5. ``integrations`` (spaCy, model adapters);
6. ``benchmark`` (runs any extractor on the catalogued data), ``serving``;
7. ``cli`` and ``scale`` (``uniner extract --ray``: a command's back end, which shares the
   command's input checks and error type through ``inference.records`` and ``errors``; only its
   typer glue, ``scale/cli.py``, imports ``cli``).

The project guide writes the order as "data < evaluation/benchmark, students < inference <
serving < cli"; its "inference" is this order's 4-5 (loading and wrapping a model), while the
``uniner.inference`` package is the protocol students implement. Every import counts, also one
inside a function or under ``TYPE_CHECKING``: a lazy import is still a dependency.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

import uniner

PACKAGE = Path(uniner.__file__).resolve().parent

LAYERS: dict[str, int] = {
    "paths": 0,
    "backbones": 0,
    "models": 0,
    "extras": 0,  # MissingExtra: the one line naming the extra a feature needs
    "errors": 0,  # UserError and the exit codes: raised by the CLI and the Ray back end alike
    "data": 1,
    "evaluation": 2,
    "inference": 2,
    "instruct": 2,
    "distill": 2,
    "students.span": 3,
    "students.generative": 3,
    "baselines": 3,
    "api": 4,
    "": 4,  # the package root: ``from uniner import load``
    "integrations": 5,
    "benchmark": 6,
    "serving": 6,
    "cli": 7,
    "scale": 7,
}


def _unit(module: str) -> str | None:
    """The layer unit of a dotted module under ``uniner`` (``uniner.students.span.x`` ->
    ``students.span``); ``None`` for a module outside the package."""
    parts = module.split(".")
    if parts[0] != "uniner":
        return None
    rest = parts[1:]
    if rest[:1] == ["students"] and len(rest) > 1:
        return ".".join(rest[:2])
    if rest and rest[0] in LAYERS:
        return rest[0]
    if not rest or rest[0] in ("__version__", "load", "Entity", "Example"):
        return ""  # the root package and the names it re-exports
    return rest[0]  # an unknown package: reported by the test that every unit is placed


def _module_name(path: Path) -> str:
    rel = path.relative_to(PACKAGE.parent).with_suffix("")
    parts = list(rel.parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def _imports(path: Path) -> list[tuple[int, str]]:
    """``(line, module)`` for every import of the file, relative ones made absolute; for
    ``from X import name`` both ``X`` and ``X.name`` (the name may be a submodule)."""
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    here = _module_name(path).split(".")
    if path.name != "__init__.py":
        here = here[:-1]  # the package the module is in
    out: list[tuple[int, str]] = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            out += [(node.lineno, alias.name) for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = here[: len(here) - node.level + 1]
                base = ".".join([*anchor, *([base] if base else [])])
            out.append((node.lineno, base))
            out += [(node.lineno, f"{base}.{alias.name}") for alias in node.names]
    return out


def _edges() -> list[tuple[str, str, str]]:
    """``(from unit, to unit, "file:line")`` for every import between two different units."""
    found: list[tuple[str, str, str]] = []
    for path in sorted(PACKAGE.rglob("*.py")):
        src = _unit(_module_name(path))
        assert src is not None
        for line, module in _imports(path):
            dst = _unit(module)
            if dst is None or dst == src:
                continue
            where = f"{path.relative_to(PACKAGE.parent)}:{line}"
            found.append((src, dst, where))
    return found


@pytest.fixture(scope="module")
def edges() -> list[tuple[str, str, str]]:
    return _edges()


def test_the_walk_sees_the_imports_it_must(edges: list[tuple[str, str, str]]):
    """The walk itself: lazy and relative imports are found (so a pass means something)."""
    pairs = {(a, b) for a, b, _ in edges}
    assert ("cli", "students.span") in pairs  # imported inside a command function
    assert ("benchmark", "data") in pairs and ("students.span", "data") in pairs
    rel = PACKAGE / "data" / "readers" / "__init__.py"
    assert any(m.startswith("uniner.data.readers.") for _, m in _imports(rel))


def test_every_unit_has_a_place_in_the_order(edges: list[tuple[str, str, str]]):
    units = {_unit(_module_name(p)) for p in PACKAGE.rglob("*.py")}
    units |= {b for _, b, _ in edges}
    assert units - set(LAYERS) == set(), "place the new package in LAYERS (and the docstring)"


def test_data_imports_nothing_above_it(edges: list[tuple[str, str, str]]):
    above = ("benchmark", "students.", "serving", "cli", "inference", "evaluation", "scale")
    bad = [e for e in edges if e[0] == "data" and (e[1] + ".").startswith(above)]
    bad += [e for e in edges if e[0] == "data" and e[1] in ("", "api", "integrations")]
    assert bad == []


def test_neither_student_imports_the_other(edges: list[tuple[str, str, str]]):
    students = {"students.span", "students.generative"}
    bad = [e for e in edges if e[0] in students and e[1] in students]
    assert bad == []


def test_lower_layers_never_import_upper_ones(edges: list[tuple[str, str, str]]):
    bad = [
        f"{where}: {src} (layer {LAYERS[src]}) imports {dst or 'uniner'} (layer {LAYERS[dst]})"
        for src, dst, where in edges
        if src in LAYERS and dst in LAYERS and LAYERS[dst] > LAYERS[src]
    ]
    assert bad == []


def test_scale_reaches_the_cli_only_through_its_glue(edges: list[tuple[str, str, str]]):
    """``scale`` (the Ray back end) shares the command's record checks and error type through
    ``inference.records`` and ``errors``; only ``scale/cli.py``, its typer glue, imports the CLI."""
    bad = [w for a, b, w in edges if (a, b) == ("scale", "cli") and "scale/cli.py:" not in w]
    assert bad == []


def test_no_test_doubles_in_the_package():
    """Test doubles live in ``tests/doubles`` (issue 26): the installed package holds no
    ``testing``/``mockserver`` module and imports nothing from the test tree."""
    named = [p for p in PACKAGE.rglob("*.py") if p.stem in ("testing", "mockserver")]
    assert named == []
    from_tests = [
        f"{path.relative_to(PACKAGE.parent)}:{line}: {module}"
        for path in sorted(PACKAGE.rglob("*.py"))
        for line, module in _imports(path)
        if module.split(".")[0] in ("tests", "conftest", "doubles")
    ]
    assert from_tests == []


def test_a_violation_would_be_reported(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    """A data module importing the benchmark (as data/sources.py did before issue 26) fails."""
    fake = tmp_path / "uniner"
    (fake / "data").mkdir(parents=True)
    (fake / "__init__.py").write_text("")
    (fake / "data" / "__init__.py").write_text("")
    (fake / "data" / "leak.py").write_text(
        "def f():\n    from uniner.benchmark.loaders import load_split\n    from ..students.span"
        " import train\n"
    )
    monkeypatch.setitem(globals(), "PACKAGE", fake)  # what _edges() walks
    found = {(a, b, w) for a, b, w in _edges()}
    assert ("data", "benchmark", "uniner/data/leak.py:2") in found
    assert ("data", "students.span", "uniner/data/leak.py:3") in found
