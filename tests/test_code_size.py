"""Size rules of the package (issue 26): no function over 60 lines, no module over 500.

Why a test: a long function does several jobs and a long module holds several rooms; both are
where a newcomer gets lost. The walk counts ``end_lineno - lineno + 1`` of every function and
method (decorators excluded, docstring included) and every module's lines.

Two ways out, both visible in review:
- a function that is clearer whole says why in its docstring, with a line starting
  ``Why one function:``;
- :data:`ALLOWED` lists what is still over, each with a one-line reason. An entry that is no
  longer over the limit fails the test, so the list can only shrink.
"""

from __future__ import annotations

import ast
from pathlib import Path

PACKAGE = Path(__file__).resolve().parents[1] / "src" / "uniner"
MAX_FUNCTION = 60
MAX_MODULE = 500
WHY_MARK = "Why one function:"

ALLOWED: dict[str, str] = {
    # modules: path relative to src/uniner
    # functions: path::qualified name
}


def _functions(tree: ast.AST, prefix: str = "") -> list[tuple[str, ast.AST]]:
    """Every function and method with its qualified name (``Class.method``, ``f.inner``)."""
    found = []
    for node in ast.iter_child_nodes(tree):
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            name = f"{prefix}{node.name}"
            if not isinstance(node, ast.ClassDef):
                found.append((name, node))
            found.extend(_functions(node, f"{name}."))
        else:
            found.extend(_functions(node, prefix))
    return found


def oversized(root: Path) -> dict[str, int]:
    """``{key: lines}`` of each module and function over its limit below ``root``."""
    over: dict[str, int] = {}
    for path in sorted(root.rglob("*.py")):
        rel = path.relative_to(root).as_posix()
        source = path.read_text(encoding="utf-8")
        if (n := len(source.splitlines())) > MAX_MODULE:
            over[rel] = n
        for name, node in _functions(ast.parse(source)):
            n = node.end_lineno - node.lineno + 1  # type: ignore[attr-defined]
            doc = ast.get_docstring(node) or ""  # type: ignore[arg-type]
            if n > MAX_FUNCTION and WHY_MARK not in doc:
                over[f"{rel}::{name}"] = n
    return over


def test_no_function_or_module_over_the_limits_unless_listed():
    over = oversized(PACKAGE)
    new = {k: n for k, n in over.items() if k not in ALLOWED}
    assert not new, (
        f"over {MAX_FUNCTION} lines (function) or {MAX_MODULE} (module): {new}; split it, or say "
        f"'{WHY_MARK} ...' in the function's docstring"
    )


def test_the_allow_list_only_holds_what_is_still_over():
    """A split entry must leave the list, so it can only shrink."""
    over = oversized(PACKAGE)
    stale = sorted(k for k in ALLOWED if k not in over)
    assert not stale, f"no longer over the limits, remove from ALLOWED: {stale}"


def test_the_walk_finds_long_functions_methods_and_modules(tmp_path: Path):
    body = "\n".join(f"    x{i} = {i}" for i in range(MAX_FUNCTION))
    method = "\n".join(f"    {line}" for line in body.splitlines())
    source = (
        f"def long():\n{body}\n\nclass C:\n    def m(self):\n{method}\n\ndef short():\n    pass\n"
    )
    (tmp_path / "a.py").write_text(source, encoding="utf-8")
    (tmp_path / "b.py").write_text("x = 1\n" * (MAX_MODULE + 1), encoding="utf-8")
    why = f'def whole():\n    """{WHY_MARK} one state machine."""\n{body}\n'
    (tmp_path / "c.py").write_text(why, encoding="utf-8")
    assert oversized(tmp_path) == {
        "a.py::long": MAX_FUNCTION + 1,
        "a.py::C.m": MAX_FUNCTION + 1,
        "b.py": MAX_MODULE + 1,
    }
