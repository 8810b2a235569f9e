"""The test suite's own guard: a missing optional dependency or data folder skips on a developer
machine and fails under CI, so a broken install can never pass CI by skipping."""

from __future__ import annotations

import pytest

from conftest import require, skip_or_fail

ABSENT = "uniner_no_such_module_for_the_test"


def test_require_returns_the_module_when_installed() -> None:
    assert require("json", "dev").dumps([1]) == "[1]"


def test_require_skips_with_the_extra_named_when_ci_is_unset(monkeypatch) -> None:
    monkeypatch.delenv("CI", raising=False)
    with pytest.raises(pytest.skip.Exception, match=r"pip install -e '\.\[onnx\]'"):
        require(ABSENT, "onnx")


def test_require_fails_under_ci(monkeypatch) -> None:
    monkeypatch.setenv("CI", "true")
    with pytest.raises(pytest.fail.Exception, match=f"CI is set but {ABSENT} is not importable"):
        require(ABSENT, "onnx")


def test_skip_or_fail_follows_ci(monkeypatch) -> None:
    monkeypatch.setenv("CI", "1")
    with pytest.raises(pytest.fail.Exception, match="no data"):
        skip_or_fail("no data")
    monkeypatch.delenv("CI")
    with pytest.raises(pytest.skip.Exception, match="no data"):
        skip_or_fail("no data")
