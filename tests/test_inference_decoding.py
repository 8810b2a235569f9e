"""The extractor contract's decoding value: validated once, JSON round trip, per-call overrides
that leave a shared model unchanged, and the old attributes kept for a single-user model."""

from __future__ import annotations

import dataclasses
import json
import os
from pathlib import Path

import pytest

from tests.doubles.span import FirstWordScorer, tiny_span_parts
from uniner.inference import Deadline, DeadlineExceeded, DecodingConfig, DecodingError
from uniner.models import DEFAULT_MODEL, MODELS_DIR
from uniner.students.span.extractor import SpanExtractor

os.environ.setdefault("HF_HUB_OFFLINE", "1")

FULL = DecodingConfig(
    threshold=0.6,
    multi_label=True,
    mode="nested",
    min_labels=3,
    context_labels=("date", "concept"),
    max_context=2,
    few_types=2,
    few_type_threshold=0.75,
    generic_labels=("person",),
    specific_min_score=0.05,
    broad_labels=("location",),
    specific_min_types=3,
)


@pytest.fixture(scope="module")
def parts(tmp_path_factory: pytest.TempPathFactory):
    return tiny_span_parts(tmp_path_factory.mktemp("bb-decoding"))


def test_json_round_trip_and_off_settings_left_out() -> None:
    assert DecodingConfig.from_json(FULL.to_json()) == FULL
    assert DecodingConfig().to_json() == {"threshold": 0.5, "multi_label": False}
    # JSON through text too, other keys of a config.json ignored
    text = json.dumps({"format": "uniner-span", **FULL.to_json()})
    assert DecodingConfig.from_json(json.loads(text)) == FULL


def test_the_shipped_default_reads_as_released() -> None:
    cfg = json.loads((MODELS_DIR / DEFAULT_MODEL / "config.json").read_text(encoding="utf-8"))
    d = DecodingConfig.from_json(cfg)
    assert d.threshold == cfg["threshold"] and d.min_labels == cfg.get("min_labels", 0)
    few = cfg.get("few_types_threshold")
    assert d.threshold_for(1) == (few["threshold"] if few else cfg["threshold"])
    unset = DecodingConfig()
    calibration = {"type_slope": 0.0, "reference_types": unset.reference_types}
    calibration.update(cfg.get("calibration", {}))
    assert d.type_slope == calibration["type_slope"]
    assert d.score_shift(calibration["reference_types"]) == 0.0
    assert d.generic_labels == tuple(cfg.get("prefer_specific", {}).get("generic", ()))
    written = d.to_json()
    for key, value in written.items():
        assert cfg[key] == value, key


def test_the_shipped_decoding_holds_no_label_names() -> None:
    """Issue 22: the released decoding works for any label names, so it names none (no
    padding list, no generic/broad type rule); what stays is numbers chosen on the dev suite."""
    cfg = json.loads((MODELS_DIR / DEFAULT_MODEL / "config.json").read_text(encoding="utf-8"))
    d = DecodingConfig.from_json(cfg)
    assert d.context_labels == () and d.min_labels == 0
    assert d.generic_labels == () and d.broad_labels == ()
    assert not {"context_labels", "prefer_specific"} & set(cfg)


@pytest.mark.parametrize(
    ("data", "field"),
    [
        ({"threshold": 1.5}, "threshold"),
        ({"threshold": "0.6"}, "threshold"),
        ({"threshold": True}, "threshold"),
        ({"multi_label": "yes"}, "multi_label"),
        ({"mode": "overlapping"}, "mode"),
        ({"min_labels": -1}, "min_labels"),
        ({"min_labels": 2.5}, "min_labels"),
        ({"min_labels": 3, "context_labels": "date"}, "context_labels"),
        ({"min_labels": 3, "context_labels": ["date", " "]}, "context_labels"),
        ({"max_context_labels": -2}, "max_context_labels"),
        ({"few_types_threshold": {"max_types": 3}}, "few_types_threshold"),
        ({"few_types_threshold": {"max_types": 0, "threshold": 0.7}}, "max_types"),
        ({"few_types_threshold": {"max_types": 3, "threshold": 7}}, "few_types_threshold.thr"),
        ({"prefer_specific": {"generic": ["person"]}}, "prefer_specific"),
        ({"prefer_specific": {"generic": "person", "min_score": 0.1}}, "prefer_specific.generic"),
        ({"prefer_specific": {"generic": ["p"], "min_score": 0.1, "min_types": 1}}, "min_types"),
        ({"prefer_specific": {"generic": ["p"], "min_score": 0.1, "extra": 1}}, "prefer_specific"),
    ],
)
def test_invalid_json_names_the_file_and_field(data, field) -> None:
    with pytest.raises(DecodingError) as err:
        DecodingConfig.from_json(data, source="m/config.json")
    msg = str(err.value)
    assert msg.startswith("m/config.json: ") and field in msg
    assert "\n" not in msg


def test_override_makes_a_new_value() -> None:
    call = FULL.override(threshold=0.3, flat=True, multi_label=False)
    assert (call.threshold, call.mode, call.multi_label) == (0.3, "flat", False)
    assert call.threshold_for(1) == 0.3  # a caller's threshold holds for any number of types
    assert FULL.threshold_for(1) == 0.75 and FULL.mode == "nested"  # unchanged
    assert FULL.override() is FULL
    with pytest.raises(dataclasses.FrozenInstanceError):
        FULL.threshold = 0.1  # type: ignore[misc]
    with pytest.raises(DecodingError, match="threshold"):
        FULL.override(threshold=2.0)


def test_a_call_never_changes_the_shared_model(parts) -> None:
    ext = FirstWordScorer(*parts, decoding=FULL)
    before = ext.decoding
    res = ext.extract_each(["Oslo is cold ."], [["city"]], threshold=0.2, multi_label=False)
    assert res[0].threshold == 0.2
    ext.extract("Oslo is cold .", ["city"], flat=True)
    assert ext.decoding is before
    # a whole other decoding for one call (bench scripts: the person rule off)
    off = ext.decoding.replace(generic_labels=())
    ext.extract_each(["Ada wrote ."], [["person", "writer", "a"]], decoding=off)
    assert ext.generic_labels == ("person",)


def test_old_attributes_still_work_for_a_single_user_model(parts) -> None:
    ext = SpanExtractor(*parts, threshold=0.6, min_labels=3, context_labels=("date", "x"))
    assert (ext.threshold, ext.min_labels, ext.decoding.context_labels) == (0.6, 3, ("date", "x"))
    old = ext.decoding
    ext.min_labels = 0  # README: asks without padding
    ext.generic_labels = ()
    assert ext.decoding.min_labels == 0 and old.min_labels == 3  # a new value, old one intact
    with pytest.raises(DecodingError, match="threshold"):
        ext.threshold = 1.5
    assert ext.threshold == 0.6
    with pytest.raises(TypeError, match="thresold"):
        SpanExtractor(*parts, thresold=0.5)


def test_saved_model_round_trips_its_decoding(parts, tmp_path: Path) -> None:
    ext = SpanExtractor(*parts, decoding=FULL, name="m")
    loaded = SpanExtractor.load(ext.save(tmp_path / "m", storage="full"))
    assert loaded.decoding == FULL
    # keyword settings at load replace single released ones
    assert SpanExtractor.load(tmp_path / "m", threshold=0.4).decoding == FULL.replace(threshold=0.4)


def test_invalid_decoding_in_config_json_is_one_clear_error(parts, tmp_path: Path) -> None:
    folder = SpanExtractor(*parts).save(tmp_path / "bad", storage="full")
    cfg = json.loads((folder / "config.json").read_text(encoding="utf-8"))
    cfg["prefer_specific"] = {"generic": ["person"], "min_score": 3}
    (folder / "config.json").write_text(json.dumps(cfg), encoding="utf-8")
    with pytest.raises(ValueError) as err:
        SpanExtractor.load(folder)
    assert str(err.value) == (
        f"{folder / 'config.json'}: prefer_specific.min_score must be a number in [0, 1], got 3"
    )


def test_deadline_with_a_fake_clock() -> None:
    now = [100.0]
    d = Deadline.after(5.0, clock=lambda: now[0])
    d.check()
    assert d.remaining() == 5.0 and not d.expired()
    now[0] = 105.0
    with pytest.raises(DeadlineExceeded, match=r"passed 0\.000 s ago at step 3"):
        d.check("at step 3")
    assert Deadline.latest([d, Deadline.after(9.0, clock=lambda: now[0])]).at == 114.0
    assert Deadline.latest([d, None]) is None


def test_the_span_extractor_stops_between_batches_at_its_deadline(parts) -> None:
    now = [0.0]

    class Slow(SpanExtractor):
        batches = 0

        def score_items(self, items, encs):  # type: ignore[no-untyped-def]
            Slow.batches += 1
            now[0] += 1.0  # each encoder batch takes one (fake) second
            return super().score_items(items, encs)

    ext = Slow(*parts, batch_size=2)
    texts = [" ".join(["alice lives in paris ."] * 80)] * 4  # several windows each
    deadline = Deadline.after(3.5, clock=lambda: now[0])
    with pytest.raises(DeadlineExceeded):
        ext.extract_batch(texts, ["person", "city"], deadline=deadline)
    assert Slow.batches == 4  # the check before batch 5 saw 4.0 >= 3.5
    Slow.batches = 0
    ext.extract_batch(texts, ["person", "city"])  # without a deadline it runs to the end
    assert Slow.batches > 4


def test_a_deadline_is_also_checked_between_encoder_layers(parts) -> None:
    """One batch of long inputs can take many seconds on a CPU: the check inside the encoder
    stops the call before its next layer, not after the whole batch."""
    import itertools

    ticks = itertools.count()  # every clock read is one tick later
    ext = SpanExtractor(*parts)
    deadline = Deadline.after(3, clock=lambda: next(ticks))  # read 0: due at tick 3
    # tick 1: reading the text; tick 2: before the batch; tick 3: before the encoder's layer 1
    with pytest.raises(DeadlineExceeded, match="inside the encoder"):
        ext.extract_batch(["alice lives in paris ."], ["person"], deadline=deadline)
    assert ext.extract("alice lives in paris .", ["person"]) is not None  # no deadline: runs
