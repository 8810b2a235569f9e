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
