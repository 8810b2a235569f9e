"""Shared fixtures. Tests that need ../shared/data skip when it is absent, and fail under CI."""

from __future__ import annotations

import os
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
def backbone(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A tiny random-init BERT folder (model + WordPiece tokenizer), shared by the span tests."""
    from uniner.students.span.testing import make_tiny_backbone

    return make_tiny_backbone(tmp_path_factory.mktemp("tiny-backbone"))
