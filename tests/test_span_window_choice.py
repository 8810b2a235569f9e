"""The inference window as a released choice (issue 22): ``SpanExtractor.with_windows`` changes
how long texts are read and what ``save`` writes, ``bench/select_decoding_dev.py --windows``
sweeps it, and ``release --decoding selection.json`` writes the chosen window."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from tests.doubles.span import FirstWordScorer, tiny_span_parts
from uniner.inference.decoding import DecodingConfig
from uniner.students.span.extractor import SpanExtractor
from uniner.students.span.release import read_decoding, read_window, release

os.environ.setdefault("HF_HUB_OFFLINE", "1")

LONG = " ".join(f"w{i}" for i in range(100))


@pytest.fixture(scope="module")
def parts(tmp_path_factory: pytest.TempPathFactory):
    return tiny_span_parts(tmp_path_factory.mktemp("bb-window-choice"), max_width=4)


def _windows(ext: SpanExtractor) -> list[tuple[int, int]]:
    doc = ext.extract_detailed([LONG], ["thing"])[0]
    return [(w.word_start, w.word_end) for w in doc.windows]


def test_with_windows_changes_how_a_long_text_is_read(parts) -> None:
    ext = FirstWordScorer(*parts)
    assert _windows(ext) == [(0, 100)]  # 192 words by default: one window
    ext.with_windows(40, 10)
    assert _windows(ext) == [(0, 40), (30, 70), (60, 100)]
    assert ext.config.window_words == 40
    assert FirstWordScorer(*parts).config.window_words == 192  # the shared model is not changed


@pytest.mark.parametrize(("words", "overlap"), [(40, 40), (0, 0), (40, -1)])
def test_with_windows_refuses_an_overlap_not_below_the_window(parts, words, overlap) -> None:
    ext = FirstWordScorer(*parts)
    with pytest.raises(ValueError, match="window_overlap"):
        ext.with_windows(words, overlap)
    assert _windows(ext) == [(0, 100)]  # unchanged


def test_a_saved_model_keeps_its_window(parts, tmp_path: Path) -> None:
    FirstWordScorer(*parts).with_windows(40, 10).save(tmp_path / "m")
    loaded = SpanExtractor.load(tmp_path / "m")
    assert (loaded.config.window_words, loaded.config.window_overlap) == (40, 10)
    assert _windows(loaded) == [(0, 40), (30, 70), (60, 100)]


def test_release_writes_the_window_a_dev_selection_chose(parts, tmp_path: Path) -> None:
    src = tmp_path / "src"
    FirstWordScorer(*parts).save(src)
    sel = tmp_path / "selection.json"
    chosen = {"threshold": 0.7, "calibration": {"type_slope": 0.25}}
    window = {"window_words": 64, "window_overlap": 16}
    sel.write_text(json.dumps({"off": {"best_decoding": chosen, "best_window": window}}))
    assert read_window(sel) == (64, 16)
    dest = release(
        src, tmp_path / "rel", "m", "1.0.1", decoding=read_decoding(sel), window=read_window(sel)
    )
    loaded = SpanExtractor.load(dest)
    assert (loaded.config.window_words, loaded.config.window_overlap) == (64, 16)
    assert loaded.decoding.threshold == 0.7
    # a selection made before windows were swept keeps the source's window
    sel.write_text(json.dumps({"off": {"best_decoding": chosen}}))
    assert read_window(sel) is None
    kept = release(src, tmp_path / "rel2", "m", "1.0.1", decoding=read_decoding(sel), window=None)
    assert SpanExtractor.load(kept).config.window_words == 192


def test_release_refuses_a_bad_window_before_writing(parts, tmp_path: Path) -> None:
    src = tmp_path / "src"
    FirstWordScorer(*parts).save(src)
    dest = tmp_path / "rel"
    with pytest.raises(ValueError, match="window_overlap"):
        release(src, dest, "m", "1.0.1", decoding=DecodingConfig(threshold=0.6), window=(16, 16))
    assert not dest.exists()


def test_dev_selection_parses_windows_and_defaults_to_the_models(parts, bench_script) -> None:
    sel = bench_script("select_decoding_dev")
    ext = FirstWordScorer(*parts)
    assert sel.parse_windows(None, ext) == [(192, 32)]
    assert sel.parse_windows("192/32,64/16,96", ext) == [(192, 32), (64, 16), (96, 0)]


def test_dev_selection_picks_the_best_window_and_policy(parts, bench_script, monkeypatch) -> None:
    """``select_padding`` runs the sweep once per window and reports the best pair; the dev
    suite is replaced by a scorer that prefers the 64-word window, so the choice is checkable."""
    from types import SimpleNamespace

    sel = bench_script("select_decoding_dev")
    ext = FirstWordScorer(*parts)

    def fake_sweep(sweeper, max_passages, seed):  # type: ignore[no-untyped-def]
        good = sweeper.model.config.window_words == 64
        res = SimpleNamespace(
            summary=0.6 if good else 0.5,
            by=lambda axis: {"x": 0.5},
            paired_shapes=("1",),
            shape_cost=lambda shape: 0.01,
        )
        return [(sel.Policy(0.7), res), (sel.Policy(0.6, slope=0.25), res)]

    monkeypatch.setattr(sel, "sweep", fake_sweep)
    args = SimpleNamespace(floor=0.3, max_passages=None, seed=None)
    entry, rows = sel.select_padding(ext, ext.decoding, "off", [(192, 32), (64, 16)], args)
    assert entry["best_window"] == {"window_words": 64, "window_overlap": 16}
    assert entry["best"]["summary"] == 60.0
    assert set(entry["best_per_window"]) == {"192/32", "64/16"}
    assert any(r.startswith("| 64/16 |") for r in rows)
    assert entry["best"]["shape_cost"] == {"1": 1.0}  # the paired cost, in points
    assert any("| 1.0 / - |" in r for r in rows)


def test_window_speed_reports_each_window_against_the_first(
    parts, bench_script, monkeypatch, tmp_path: Path
) -> None:
    """bench/window_speed.py on a tiny model and two long texts: one row per label count, the
    first window's ratio 1.00x, and the model left reading in the last window swept."""
    from types import SimpleNamespace

    bench_script("select_decoding_dev")  # imported by name, as when run from bench/
    speed = bench_script("window_speed")
    ext = FirstWordScorer(*parts)
    dev = SimpleNamespace(
        examples=[SimpleNamespace(text=LONG)] * 2, labels=("thing", "place", "person")
    )
    monkeypatch.setattr(speed, "load", lambda name: ext)
    monkeypatch.setattr(speed, "load_dev_set", lambda name: dev)
    out = tmp_path / "speed.md"
    speed.main(
        ["--windows", "192/32,40/10", "--labels", "1", "3", "--rounds", "1", "--out", str(out)]
    )
    rows = [r for r in out.read_text().splitlines() if r.startswith(("| 1 |", "| 3 |"))]
    assert len(rows) == 2 and all("(1.00x)" in r.split("|")[2] for r in rows)
    assert ext.config.window_words == 40
