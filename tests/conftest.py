"""Shared fixtures. Tests that need ../shared/data skip when it is absent, and fail under CI."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

from uniner.paths import data_dir


@pytest.fixture(scope="session")
def shared_data() -> Path:
    found = data_dir()
    if found is None:
        if os.environ.get("CI"):
            pytest.fail("CI is set but ../shared/data was not found (set UNINER_DATA_DIR)")
        pytest.skip("../shared/data not present on this machine (set UNINER_DATA_DIR)")
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
        spec.loader.exec_module(mod)
        return mod

    return load


@pytest.fixture(scope="session")
def backbone(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A tiny random-init BERT folder (model + WordPiece tokenizer), shared by the span tests."""
    from uniner.students.span.testing import make_tiny_backbone

    return make_tiny_backbone(tmp_path_factory.mktemp("tiny-backbone"))


CHROMIUM_CANDIDATES = ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable")


def _need_browser(what: str) -> None:
    msg = f"{what} (install Debian's chromium: apt-get install -y chromium; pip install playwright)"
    if os.environ.get("CI"):
        pytest.fail(f"CI is set but {msg}")
    pytest.skip(msg)


@pytest.fixture(scope="session")
def browser():
    """Headless Chromium from the system (``$UNINER_CHROMIUM`` or PATH) driven by Playwright.

    Never ``playwright install``: no browser downloads. Skips when either is missing, unless
    ``CI`` is set: then the browser tests fail.
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
