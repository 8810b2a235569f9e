"""Score calibration by the number of types a call asks (``calibration`` in a model's config):
scores move by ``type_slope * ln(n / reference_types)`` in logit space, one threshold reads the
moved scores for any number of types, and a caller's own threshold keeps the calibration."""

from __future__ import annotations

import math
import os
from pathlib import Path

import pytest

from tests.doubles.span import FirstWordScorer, tiny_span_parts
from uniner.inference import DecodingConfig, DecodingError

os.environ.setdefault("HF_HUB_OFFLINE", "1")

CAL = DecodingConfig(threshold=0.6, multi_label=True, type_slope=0.5, reference_types=4)


@pytest.fixture(scope="module")
def parts(tmp_path_factory: pytest.TempPathFactory):
    return tiny_span_parts(tmp_path_factory.mktemp("bb-calibration"))


def test_json_round_trip_and_off_by_default() -> None:
    assert CAL.to_json()["calibration"] == {"type_slope": 0.5, "reference_types": 4}
    assert DecodingConfig.from_json(CAL.to_json()) == CAL
    assert "calibration" not in DecodingConfig().to_json()
    assert DecodingConfig().calibrated(0.7, 1) == 0.7


@pytest.mark.parametrize(
    ("entry", "field"),
    [
        ({"type_slope": "big"}, "calibration.type_slope"),
        ({"type_slope": 9.0}, "calibration.type_slope"),
        ({"reference_types": 8}, "calibration"),
        ({"type_slope": 0.5, "reference_types": 0}, "calibration.reference_types"),
        ({"type_slope": 0.5, "slope": 1}, "calibration"),
        ([0.5], "calibration"),
    ],
)
def test_bad_calibration_names_its_field(entry, field) -> None:
    with pytest.raises(DecodingError, match=rf"m/config.json: {field}"):
        DecodingConfig.from_json({"calibration": entry}, source="m/config.json")


def test_shift_is_zero_at_the_reference_and_grows_with_the_log_of_types() -> None:
    assert CAL.score_shift(4) == 0.0
    assert CAL.score_shift(1) == pytest.approx(0.5 * math.log(1 / 4))
    assert CAL.score_shift(16) == pytest.approx(-CAL.score_shift(1))
    # fewer types asked: the same model score reads lower
    assert CAL.calibrated(0.7, 1) < CAL.calibrated(0.7, 4) == 0.7 < CAL.calibrated(0.7, 16)


@pytest.mark.parametrize("n_types", [1, 2, 3, 4, 7, 20])
def test_raw_threshold_is_the_calibrated_threshold_taken_back(n_types: int) -> None:
    raw = CAL.raw_threshold(n_types)
    assert CAL.calibrated(raw, n_types) == pytest.approx(CAL.threshold)
    # a model score above the raw threshold is above the threshold once calibrated
    assert CAL.calibrated(raw + 1e-3, n_types) > CAL.threshold


def test_a_callers_threshold_keeps_the_calibration() -> None:
    call = CAL.override(threshold=0.5)
    assert call.type_slope == CAL.type_slope and call.threshold_for(1) == 0.5
    assert call.raw_threshold(1) > 0.5 > call.raw_threshold(20)


def test_extractor_reports_calibrated_scores_and_keeps_by_them(parts) -> None:
    """The oracle scores the first word 0.7 for every asked label: asked alone (one type, four
    below the reference) that reads 0.7 moved down by 0.5 * ln 4 = 0.69 in logits -> 0.54, below
    0.6; asked with seven others it reads higher and is kept."""
    ext = FirstWordScorer(*parts, decoding=CAL)
    text = "Oslo is cold."
    assert ext.extract(text, ["city"]) == []
    many = ["city", "place", "town", "capital", "port", "area", "region", "site"]
    res = ext.extract_each([text, text], [["city"], many])
    assert [len(r.entities) for r in res] == [0, len(many)]
    assert [r.threshold for r in res] == [0.6, 0.6]  # one threshold for every call
    scores = [e.score for e in res[1].entities]
    assert scores == [pytest.approx(CAL.calibrated(0.7, len(many)))] * len(many)
    # the caller's threshold is read on the calibrated scores too
    low = ext.extract(text, ["city"], threshold=0.5)
    assert [e.label for e in low] == ["city"]
    assert low[0].score == pytest.approx(CAL.calibrated(0.7, 1))


def test_dev_selection_sweeps_calibrated_policies_exactly(bench_script) -> None:
    """bench/select_decoding_dev.py: a calibrated policy is the released decoding it names, and
    is swept only where its cut stays above the floor the model was run at (exactness)."""
    sel = bench_script("select_decoding_dev")
    floor = 0.3
    pols = [p for p in sel.policies(floor) if p.slope]
    assert pols, "no calibrated policy swept"
    for pol in pols:
        assert min(pol.threshold_for(n) for n in range(1, 41)) >= floor
        released = DecodingConfig.from_json(pol.decoding().to_json())
        assert released.type_slope == pol.slope and released.threshold == pol.many
        assert released.raw_threshold(3) == pytest.approx(pol.threshold_for(3))
    plain = sel.Policy(0.6, few=1, few_threshold=0.8)
    assert [plain.threshold_for(n) for n in (1, 2)] == [0.8, 0.6]


def test_dev_selection_sweeps_raw_scores_whatever_the_model_was_released_with(
    parts, bench_script
) -> None:
    """A model whose config already holds a calibration (one continued from a calibrated
    release) is swept on its raw scores: each policy keeps what the released policy keeps.
    The oracle scores 0.7; swept on scores the model had already moved, "0.60" would drop the
    one-type call that the released 0.60 keeps."""
    sel = bench_script("select_decoding_dev")
    ext = FirstWordScorer(*parts, decoding=CAL)
    sweeper = sel.SweepExtractor(ext, ext.decoding, 0.3)
    text = "Oslo is cold."
    calls = [["city"], ["city", "place", "town", "capital", "port", "area", "region", "site"]]
    policies = (sel.Policy(0.6), sel.Policy(0.6, slope=0.5), sel.Policy(0.65, 1, 0.75))
    kept = []
    for pol in policies:
        sweeper.policy = pol.threshold_for
        swept = sweeper.extract_each([text, text], calls)
        released = FirstWordScorer(*parts, decoding=pol.decoding().replace(multi_label=True))
        got = released.extract_each([text, text], calls)
        kept.append([len(r.entities) for r in swept])
        assert kept[-1] == [len(r.entities) for r in got], pol.label()
    assert kept == [[1, 8], [0, 8], [0, 8]]


def test_types_curve_reads_policies_and_plots(bench_script, tmp_path: Path, monkeypatch) -> None:
    """bench/types_curve.py: the command-line policies, the released decoding among them."""
    monkeypatch.syspath_prepend(str(Path(__file__).resolve().parents[1] / "bench"))
    curve = bench_script("types_curve")
    released = DecodingConfig(threshold=0.6, few_types=1, few_type_threshold=0.8)
    assert curve.parse_policy("released", released).threshold_for(1) == 0.8
    assert curve.parse_policy("0.6:1:0.8", released) == curve.parse_policy("released", released)
    cal = curve.parse_policy("0.55@0.5", released)
    assert cal.decoding().type_slope == 0.5 and cal.threshold_for(8) == pytest.approx(0.55)
    with pytest.raises(SystemExit, match="expected T"):
        curve.parse_policy("high", released)
    rows = {"0.60": {n: 0.5 for n in curve.COUNTS}}
    curve.plot(rows, tmp_path / "curve.png")
    assert (tmp_path / "curve.png").stat().st_size > 0


def test_release_takes_a_dev_selection(parts, tmp_path: Path) -> None:
    """``release --decoding selection.json`` writes the chosen calibrated policy, and load reads
    it back; an inherited few-types rule is replaced, not kept."""
    import json

    from uniner.students.span.extractor import SpanExtractor
    from uniner.students.span.release import read_decoding, release

    src = tmp_path / "src"
    FirstWordScorer(*parts, threshold=0.6, few_types=1, few_type_threshold=0.8).save(src)
    chosen = {"threshold": 0.55, "multi_label": False, **{"calibration": {"type_slope": 0.5}}}
    sel = tmp_path / "selection.json"
    sel.write_text(json.dumps({"off": {"best_decoding": chosen}}), encoding="utf-8")
    dest = release(src, tmp_path / "rel", "m", "0.3.1", decoding=read_decoding(sel))
    cfg = json.loads((dest / "config.json").read_text(encoding="utf-8"))
    assert cfg["calibration"] == {"type_slope": 0.5, "reference_types": 8}
    assert "few_types_threshold" not in cfg and cfg["version"] == "0.3.1"
    loaded = SpanExtractor.load(dest).decoding
    assert (loaded.threshold, loaded.type_slope, loaded.few_type_threshold) == (0.55, 0.5, None)
    sel.write_text(json.dumps({"calibration": {"type_slope": 99}}), encoding="utf-8")
    with pytest.raises(DecodingError, match=r"selection\.json: calibration\.type_slope"):
        read_decoding(sel)


def test_span_pooling_rules_score_one_span_from_all_its_types(bench_script) -> None:
    """bench/span_pooling_dev.py: every rule gives a span one score and its best type; a span
    asked one type keeps its score under every rule (one-type calls are the baseline's)."""
    from uniner.data.types import Entity

    bench_script("select_decoding_dev")  # imported by name, as when run from bench/
    pool = bench_script("span_pooling_dev")
    two = [Entity(0, 4, "Oslo", "town", 0.3), Entity(0, 4, "Oslo", "city", 0.6)]
    one = [Entity(0, 4, "Oslo", "city", 0.6)]
    want = {
        "max": 0.6,
        "sum": 0.9,
        "noisy-or": 0.72,
        "margin-0.5": 0.45,
        "ratio-0.5": 0.6 * 0.7**0.5,
    }
    for name, rule in pool.RULES.items():
        (span,) = pool.pooled(two, rule)
        assert span.label == "city" and (span.start, span.end) == (0, 4)
        if name in want:
            assert span.score == pytest.approx(want[name])
        assert pool.pooled(one, rule)[0].score == pytest.approx(0.6)
