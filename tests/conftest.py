"""Shared fixtures and helpers.

Anything a test needs but a machine may lack (../shared/data, an optional extra, a browser) goes
through :func:`skip_or_fail`: a skip with its reason on a developer machine, a failure when ``CI``
is set, so a broken install or a missing data folder can never turn CI green by skipping.
"""

from __future__ import annotations

import importlib
import os
import shutil
import sys
from pathlib import Path
from types import ModuleType
from typing import NoReturn

import pytest

from uniner.paths import data_dir


def skip_or_fail(reason: str) -> NoReturn:
    """Skips (also at module level) with ``reason``; fails instead when ``CI`` is set."""
    if os.environ.get("CI"):
        pytest.fail(f"CI is set but {reason}", pytrace=False)
    pytest.skip(reason, allow_module_level=True)


def require(module: str, extra: str) -> ModuleType:
    """Imports an optional dependency that the ``extra`` installs, for tests that need it.

    Use instead of ``pytest.importorskip``, which skips even under CI. Our own package's modules
    are imported plainly: a broken uniner must fail, never skip.
    """
    try:
        return importlib.import_module(module)
    except ImportError as exc:
        skip_or_fail(f"{module} is not importable ({exc}); pip install -e '.[{extra}]'")


@pytest.fixture(scope="session")
def shared_data() -> Path:
    found = data_dir()
    if found is None:
        skip_or_fail("../shared/data was not found (place it there or set UNINER_DATA_DIR)")
    return found


@pytest.fixture(scope="module")
def one_torch_thread():
    """Tiny models run faster and steadier on one thread when the CPU is shared."""
    import torch

    old = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(old)


@pytest.fixture(scope="session")
def bench_script():
    """Loads a ``bench/`` script as a module (they are scripts, not package modules)."""
    import importlib.util

    root = Path(__file__).resolve().parents[1]

    def load(name: str):  # type: ignore[no-untyped-def]
        spec = importlib.util.spec_from_file_location(name, root / "bench" / f"{name}.py")
        assert spec and spec.loader
        mod = importlib.util.module_from_spec(spec)
        sys.modules[name] = mod  # dataclasses look their module up while the class is made
        spec.loader.exec_module(mod)
        return mod

    return load


@pytest.fixture(scope="session")
def backbone(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A tiny random-init BERT folder (model + WordPiece tokenizer), shared by the span tests."""
    from tests.doubles.span import make_tiny_backbone

    return make_tiny_backbone(tmp_path_factory.mktemp("tiny-backbone"))


@pytest.fixture(scope="session")
def ray_local():
    """One local Ray with 2 CPUs for every tests/test_ray_*.py: a start costs seconds. The
    ``--engine ray`` code finds it initialised and uses it as it is."""
    ray = require("ray", "ray")
    ray.init(
        num_cpus=2,
        include_dashboard=False,
        object_store_memory=200 * 2**20,
        logging_level="WARNING",
    )
    yield ray
    ray.shutdown()


CHROMIUM_CANDIDATES = ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable")


def _need_browser(what: str) -> NoReturn:
    skip_or_fail(f"{what} (apt-get install -y chromium; pip install -e '.[dev]' for playwright)")


@pytest.fixture(scope="module")
def browser():
    """Headless Chromium from the system (``$UNINER_CHROMIUM`` or PATH) driven by Playwright.

    Never ``playwright install``: no browser downloads. Skips when either is missing, unless
    ``CI`` is set: then the browser tests fail. Module scope: Playwright's sync API keeps an
    event loop running in the main thread while it is open, and a later test that runs its own
    loop there (the scripted teacher server) would fail if it stayed open for the session.
    """
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        _need_browser("playwright is not installed")
    exe = os.environ.get("UNINER_CHROMIUM") or next(
        (p for p in map(shutil.which, CHROMIUM_CANDIDATES) if p), None
    )
    if not exe:
        _need_browser("no Chromium executable found")
    with sync_playwright() as pw:
        b = pw.chromium.launch(executable_path=exe, headless=True)
        yield b
        b.close()
