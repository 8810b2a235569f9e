"""Property-based tests of the HTTP request schema and the request limits.

Whatever a client sends (random JSON, wrong types, huge numbers, NaN, lone surrogates, bytes
that are not UTF-8 or not JSON), :class:`ExtractRequest` either parses it into a request that
keeps its invariants or raises pydantic's ``ValidationError`` (the server's 422); the limits
then either pass texts and labels that are valid Unicode, within the configured sizes, or raise
:class:`ApiError` with a 413/422 naming the field.
"""

from __future__ import annotations

import json
import math
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from conftest import require

pydantic = require("pydantic", "serve")
require("fastapi", "serve")

from uniner.serving.errors import ApiError  # noqa: E402
from uniner.serving.limits import check_request  # noqa: E402
from uniner.serving.schemas import ExtractRequest  # noqa: E402
from uniner.serving.settings import ServeSettings  # noqa: E402

SETTINGS = settings(max_examples=200, deadline=None)
any_text = st.text(st.characters(codec=None), max_size=12)
scalar = (
    st.none()
    | st.booleans()
    | st.integers()
    | st.integers(min_value=10**30)
    | st.floats(allow_nan=True, allow_infinity=True)
    | any_text
)
json_value = st.recursive(
    scalar,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(any_text, inner, max_size=3),
    max_leaves=10,
)
FIELDS = ["text", "texts", "labels", "threshold", "flat", "multi_label"]
field_value = {
    "text": any_text | json_value,
    "texts": st.lists(any_text, max_size=4) | json_value,
    "labels": st.lists(any_text, max_size=4) | json_value,
    "threshold": st.floats(allow_nan=True, allow_infinity=True) | json_value,
    "flat": st.booleans() | json_value,
    "multi_label": st.none() | st.booleans() | json_value,
}


@st.composite
def body(draw: st.DrawFn) -> dict[str, Any]:
    """A request body: some of the real fields with values of any type, maybe a stray key."""
    keys = draw(st.lists(st.sampled_from(FIELDS), unique=True))
    out = {k: draw(field_value[k]) for k in keys}
    if draw(st.integers(0, 4)) == 0:
        out[draw(any_text)] = draw(json_value)
    return out


short_text = st.text(st.characters(codec=None), max_size=24)


@st.composite
def good_body(draw: st.DrawFn) -> dict[str, Any]:
    """A well-typed body: the limits, not the schema, decide about it."""
    out: dict[str, Any] = {"labels": draw(st.lists(st.text(max_size=10) | any_text, max_size=4))}
    if draw(st.booleans()):
        out["text"] = draw(short_text)
    else:
        out["texts"] = draw(st.lists(short_text, max_size=4))
    if draw(st.booleans()):
        out["threshold"] = draw(st.floats(-0.5, 1.5) | st.sampled_from([0, 1, 0.5]))
    if draw(st.booleans()):
        out["flat"] = draw(st.booleans())
    return out


def check_request_model(req: ExtractRequest) -> None:
    """The invariants a parsed request keeps, whatever it was parsed from."""
    assert (req.text is None) != (req.texts is None)
    texts = req.all_texts()
    assert all(isinstance(t, str) for t in texts)
    assert len(texts) == (1 if req.text is not None else len(req.texts or []))
    assert isinstance(req.labels, list) and all(isinstance(lab, str) for lab in req.labels)
    if req.threshold is not None:
        assert math.isfinite(req.threshold) and 0.0 <= req.threshold <= 1.0
    assert isinstance(req.flat, bool) and req.multi_label in (None, True, False)


def parse(obj: Any) -> ExtractRequest | None:
    try:
        req = ExtractRequest.model_validate(obj)
    except pydantic.ValidationError:
        return None
    check_request_model(req)
    return req


def parse_json(raw: bytes) -> None:
    try:
        req = ExtractRequest.model_validate_json(raw)
    except pydantic.ValidationError:
        return
    check_request_model(req)


@SETTINGS
@given(obj=json_value | body() | good_body())
def test_any_json_value_is_a_request_or_a_validation_error(obj: Any) -> None:
    parse(obj)


@SETTINGS
@given(obj=body(), ascii_only=st.booleans())
def test_the_json_text_of_any_body_is_a_request_or_a_validation_error(
    obj: dict[str, Any], ascii_only: bool
) -> None:
    try:
        raw = json.dumps(obj, ensure_ascii=ascii_only).encode("utf-8", "surrogatepass")
    except ValueError:  # a NaN key or the like json cannot write
        return
    parse_json(raw)


@SETTINGS
@given(raw=st.binary(max_size=200))
def test_random_bytes_are_a_validation_error_or_a_request(raw: bytes) -> None:
    parse_json(raw)


LIMITS = ServeSettings(max_text_chars=20, max_labels=3, max_label_chars=8, max_texts=3)


@SETTINGS
@given(obj=good_body() | body())
def test_limits_pass_only_valid_unicode_within_the_sizes(obj: dict[str, Any]) -> None:
    req = parse(obj)
    if req is None:
        return
    try:
        texts, labels = check_request(req, LIMITS)
    except ApiError as err:
        assert err.status in (413, 422) and err.field
        return
    assert 1 <= len(texts) <= LIMITS.max_texts and 1 <= len(labels) <= LIMITS.max_labels
    for s in [*texts, *labels]:
        s.encode("utf-8")  # a lone surrogate would raise here: the limits must refuse it first
    assert all(len(t) <= LIMITS.max_text_chars for t in texts)
    assert all(lab.strip() and len(lab) <= LIMITS.max_label_chars for lab in labels)


@pytest.mark.parametrize(
    ("field", "where"),
    [("text", "text"), ("texts", "texts[1]"), ("labels", "labels[0]")],
)
def test_a_lone_surrogate_is_refused_naming_the_field(field: str, where: str) -> None:
    obj: dict[str, Any] = {"text": "ok", "labels": ["person"]}
    if field == "text":
        obj["text"] = "a\ud800"
    elif field == "texts":
        obj = {"texts": ["ok", "b\udfff"], "labels": ["person"]}
    else:
        obj["labels"] = ["\ud83d"]
    req = ExtractRequest.model_validate(obj)
    with pytest.raises(ApiError) as info:
        check_request(req, LIMITS)
    assert info.value.status == 422 and info.value.field == where
