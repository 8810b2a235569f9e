"""A feature whose optional extra is missing says which extra to install, in one line: the
``uniner`` command reports it without a traceback, and figures are skipped with one note."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

from uniner.cli import _register, app
from uniner.extras import MissingExtra, pyplot, require


def test_require_names_the_extra_and_the_missing_module() -> None:
    assert require(("json", "csv"), "plot", "figures").__name__ == "json"
    with pytest.raises(MissingExtra) as info:
        require(("json", "uniner_no_such_module"), "distill", "uniner distill")
    msg = str(info.value)
    assert msg == (
        "uniner distill needs uniner_no_such_module, which is not installed: "
        "pip install 'uniner[distill]'"
    )
    assert info.value.name == "uniner_no_such_module" and info.value.extra == "distill"


def test_distill_without_its_extra_is_one_line(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setattr("uniner.cli.distill_cmd.DISTILL_MODULES", ("uniner_no_such_module",))
    _register()
    corpus = tmp_path / "c.txt"
    corpus.write_text("Some text.\n", encoding="utf-8")
    res = CliRunner().invoke(app, ["distill", str(corpus), "--out", str(tmp_path / "o")])
    assert res.exit_code == 1, res.output
    lines = [line for line in res.stderr.splitlines() if line.strip()]
    assert lines == [
        "error: uniner distill needs uniner_no_such_module, which is not installed: "
        "pip install 'uniner[distill]'"
    ]
    assert not (tmp_path / "o").exists()  # checked before anything is written


def test_figures_are_skipped_with_one_note_without_matplotlib(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from uniner.benchmark.report import bar_chart

    monkeypatch.setitem(sys.modules, "matplotlib", None)  # import matplotlib -> ImportError
    monkeypatch.setattr("uniner.extras._warned", set())
    assert pyplot() is None
    bar_chart([], tmp_path / "f.png", "m")
    assert not (tmp_path / "f.png").exists()
    err = capsys.readouterr().err.splitlines()
    assert err == ["note: figures skipped, matplotlib is not installed: pip install 'uniner[plot]'"]
