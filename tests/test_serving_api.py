"""The HTTP API over real sockets: the real server (uvicorn) with the shipped default model.

Every configurable limit, malformed JSON and the error shape are exercised over HTTP.
"""

from __future__ import annotations

import json

import pytest

from conftest import require

httpx = require("httpx", "dev")
require("fastapi", "serve")
require("uvicorn", "serve")

from tests.doubles.serving import shared_model  # noqa: E402
from uniner.models import DEFAULT_MODEL  # noqa: E402
from uniner.serving.server import ServerThread  # noqa: E402
from uniner.serving.settings import ServeSettings  # noqa: E402

LIMITS = ServeSettings(
    max_text_chars=300,
    max_labels=4,
    max_label_chars=20,
    max_texts=3,
    max_body_bytes=4_000,
    request_timeout_s=60,
)
TEXT = "Marie Curie discovered polonium at the University of Paris."
LABELS = ["person", "chemical element", "university"]


@pytest.fixture(scope="module")
def server():
    with ServerThread(shared_model(), LIMITS) as srv:
        yield srv


@pytest.fixture(scope="module")
def client(server):
    with httpx.Client(base_url=server.url, timeout=60) as c:
        yield c


def assert_error(resp, status: int, code: str, field: str | None):
    assert resp.status_code == status, resp.text
    assert resp.headers["content-type"].startswith("application/json")
    err = resp.json()["error"]
    assert err["code"] == code
    assert err["field"] == field
    assert "Traceback" not in resp.text
    return err


def test_extract_one_text_real_model(client):
    resp = client.post("/v1/extract", json={"text": TEXT, "labels": LABELS})
    assert resp.status_code == 200, resp.text
    body = resp.json()
    assert body["model"] == DEFAULT_MODEL
    # the model's released threshold for a call asking this many types
    assert body["threshold"] == pytest.approx(shared_model().threshold_for(len(LABELS)))
    (result,) = body["results"]
    got = {(e["text"], e["label"]) for e in result["entities"]}
    assert ("Marie Curie", "person") in got
    assert ("University of Paris", "university") in got
    for e in result["entities"]:
        assert TEXT[e["start"] : e["end"]] == e["text"]
        assert 0.0 <= e["score"] <= 1.0
    # same answer as the library call
    direct = shared_model().extract(TEXT, LABELS)
    assert [(e.start, e.end, e.label) for e in direct] == [
        (e["start"], e["end"], e["label"]) for e in result["entities"]
    ]


def test_extract_batch_keeps_order_and_threshold(client):
    texts = [TEXT, "Nothing to see here.", "Alan Turing was born in London."]
    resp = client.post(
        "/v1/extract", json={"texts": texts, "labels": ["person", "city"], "threshold": 0.3}
    )
    assert resp.status_code == 200, resp.text
    results = resp.json()["results"]
    assert len(results) == 3
    assert resp.json()["threshold"] == 0.3
    assert "Alan Turing" in {e["text"] for e in results[2]["entities"]}
    for text, res in zip(texts, results, strict=True):
        for e in res["entities"]:
            assert text[e["start"] : e["end"]] == e["text"]
            assert e["score"] >= 0.3
    # a higher threshold never adds entities
    strict = client.post(
        "/v1/extract", json={"texts": texts, "labels": ["person", "city"], "threshold": 0.99}
    ).json()["results"]
    assert sum(len(r["entities"]) for r in strict) <= sum(len(r["entities"]) for r in results)


def test_nested_and_multi_label_options_reach_the_model(client):
    text = "The University of Paris is in Paris."
    labels = ["university", "city"]
    req = {"text": text, "labels": labels, "flat": False, "multi_label": True, "threshold": 0.2}
    body = client.post("/v1/extract", json=req).json()
    assert body["flat"] is False and body["multi_label"] is True
    direct = shared_model().extract(text, labels, threshold=0.2, flat=False, multi_label=True)
    assert sorted((e.start, e.end, e.label) for e in direct) == sorted(
        (e["start"], e["end"], e["label"]) for e in body["results"][0]["entities"]
    )


def test_models_health_openapi_docs(client):
    models = client.get("/v1/models").json()
    assert models["models"][0]["name"] == DEFAULT_MODEL
    assert models["limits"]["max_texts"] == 3
    assert models["limits"]["api_key_required"] is False
    health = client.get("/health").json()
    assert health["status"] == "ok" and health["model"] == DEFAULT_MODEL
    schema = client.get("/openapi.json").json()
    assert "/v1/extract" in schema["paths"]
    assert "ExtractRequest" in schema["components"]["schemas"]
    assert client.get("/docs").status_code == 200


# -- every limit ------------------------------------------------------------------------------


def test_text_too_long_single_and_in_batch(client):
    long = "word " * 61  # 305 chars > 300
    err = assert_error(
        client.post("/v1/extract", json={"text": long, "labels": ["x"]}),
        413,
        "text_too_long",
        "text",
    )
    assert err["limit"] == 300
    assert_error(
        client.post("/v1/extract", json={"texts": ["ok", long], "labels": ["x"]}),
        413,
        "text_too_long",
        "texts[1]",
    )


def test_too_many_texts(client):
    err = assert_error(
        client.post("/v1/extract", json={"texts": ["a", "b", "c", "d"], "labels": ["x"]}),
        413,
        "too_many_texts",
        "texts",
    )
    assert err["limit"] == 3


def test_labels_limits(client):
    err = assert_error(
        client.post("/v1/extract", json={"text": "a", "labels": ["a", "b", "c", "d", "e"]}),
        422,
        "too_many_labels",
        "labels",
    )
    assert err["limit"] == 4
    assert_error(
        client.post("/v1/extract", json={"text": "a", "labels": ["ok", "x" * 21]}),
        422,
        "label_too_long",
        "labels[1]",
    )
    assert_error(
        client.post("/v1/extract", json={"text": "a", "labels": ["ok", "  "]}),
        422,
        "blank_label",
        "labels[1]",
    )
    assert_error(
        client.post("/v1/extract", json={"text": "a", "labels": []}), 422, "no_labels", "labels"
    )


def test_body_too_large_declared_and_streamed(client):
    big = json.dumps({"text": "a" * 5_000, "labels": ["x"]}).encode()
    err = assert_error(
        client.post("/v1/extract", content=big, headers={"content-type": "application/json"}),
        413,
        "body_too_large",
        "body",
    )
    assert err["limit"] == 4_000

    def chunks():  # no Content-Length: counted while streaming
        for i in range(0, len(big), 512):
            yield big[i : i + 512]

    resp = client.post(
        "/v1/extract", content=chunks(), headers={"content-type": "application/json"}
    )
    assert "content-length" not in resp.request.headers
    assert_error(resp, 413, "body_too_large", "body")


def test_malformed_json_body(client):
    resp = client.post(
        "/v1/extract",
        content=b'{"text": "a", "labels": ["x"',
        headers={"content-type": "application/json"},
    )
    err = assert_error(resp, 422, "malformed_json", "body")
    assert "not valid JSON" in err["message"]


@pytest.mark.parametrize(
    ("payload", "field"),
    [
        ({"text": "a", "texts": ["b"], "labels": ["x"]}, "body"),
        ({"labels": ["x"]}, "body"),
        ({"text": "a"}, "labels"),
        ({"text": "a", "labels": ["x"], "threshold": 1.5}, "threshold"),
        ({"text": 5, "labels": ["x"]}, "text"),
        ({"texts": ["a", 7], "labels": ["x"]}, "texts[1]"),
        ({"text": "a", "labels": ["x"], "colour": "red"}, "colour"),
        ([1, 2], "body"),
    ],
)
def test_schema_violations_name_the_field(client, payload, field):
    err = assert_error(client.post("/v1/extract", json=payload), 422, "invalid_request", field)
    assert err["message"]


def test_empty_batch_and_unknown_route(client):
    assert_error(
        client.post("/v1/extract", json={"texts": [], "labels": ["x"]}),
        422,
        "empty_batch",
        "texts",
    )
    assert_error(client.get("/v2/nothing"), 404, "not_found", None)
    assert_error(client.get("/v1/extract"), 405, "method_not_allowed", None)


def test_web_page_and_assets_are_local(client):
    page = client.get("/")
    assert page.status_code == 200 and "text/html" in page.headers["content-type"]
    for asset in ("/static/app.js", "/static/style.css"):
        assert client.get(asset).status_code == 200
    js, css = client.get("/static/app.js").text, client.get("/static/style.css").text
    for text in (page.text, js, css):
        assert "http://" not in text.replace("http://localhost", "")
        assert "https://" not in text
