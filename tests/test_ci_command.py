"""CI runs what the README says, and installs what the lock file pins.

``.ci/run`` ends with the README's test command, verbatim, so "the README's test command passes"
and "CI passes" are one claim. ``constraints.txt`` (written by ``scripts/lock.sh``) must pin every
requirement that command installs, at a version inside ``pyproject.toml``'s range: a dependency
added or re-ranged without rerunning the script fails here, not on a fresh machine.
"""

from __future__ import annotations

import re
import tomllib
from pathlib import Path

from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

ROOT = Path(__file__).resolve().parents[1]


def readme_test_command() -> str:
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    found = re.search(r"Set up and run the tests[^\n]*\n\n```bash\n([^\n]+)\n```", text)
    assert found, "the README's test command block was not found"
    return found.group(1)


def ci_command() -> str:
    lines = (ROOT / ".ci" / "run").read_text(encoding="utf-8").splitlines()
    return [ln for ln in lines if ln.strip() and not ln.lstrip().startswith("#")][-1]


def test_ci_runs_the_readme_test_command_verbatim() -> None:
    command = readme_test_command()
    assert ci_command() == command
    # what the command promises: the locked install, lint, format, types, then the tests
    assert command.startswith("pip install -c constraints.txt -e '.[")
    for step in ("ruff check .", "ruff format --check .", "python -m mypy", "python -m pytest"):
        assert step in command, step


def installed_requirements(extras: list[str]) -> list[Requirement]:
    """The requirements ``pip install -e '.[extras]'`` installs, self-references expanded."""
    project = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    optional = project["optional-dependencies"]
    out = [Requirement(r) for r in project["dependencies"]]
    todo, seen = list(extras), set()
    while todo:
        extra = todo.pop()
        if extra in seen:
            continue
        seen.add(extra)
        for raw in optional[extra]:
            req = Requirement(raw)
            if canonicalize_name(req.name) == "uniner":
                todo += sorted(req.extras)
            else:
                out.append(req)
    return out


def test_constraints_pin_every_requirement_within_its_range() -> None:
    extras = re.search(r"-e '\.\[([^\]]+)\]'", readme_test_command())
    assert extras
    pinned: dict[str, str] = {}
    for line in (ROOT / "constraints.txt").read_text(encoding="utf-8").splitlines():
        if line.strip() and not line.startswith("#"):
            name, _, version = line.partition("==")
            assert version, f"constraints.txt: {line!r} is not an exact pin"
            pinned[canonicalize_name(name)] = version.strip()
    stale = []
    for req in installed_requirements(extras.group(1).split(",")):
        if req.marker is not None and not req.marker.evaluate():
            continue  # not for this platform
        version = pinned.get(canonicalize_name(req.name))
        if version is None or not req.specifier.contains(version, prereleases=True):
            stale.append(f"{req} (constraints.txt: {version})")
    assert not stale, f"rerun scripts/lock.sh: {stale}"
