"""Server machinery over real sockets: micro-batching, worker thread, timeouts, overload,
internal errors, API key, graceful shutdown. A fake extractor (capitalised words) makes batch
sizes and timing deterministic; one test mixes label sets against the real model.
"""

from __future__ import annotations

import asyncio
import threading
import time

import pytest

from conftest import require

httpx = require("httpx", "dev")
require("fastapi", "serve")
require("uvicorn", "serve")

from tests.doubles.serving import CapitalsExtractor, shared_model  # noqa: E402
from uniner.serving.server import ServerThread  # noqa: E402
from uniner.serving.settings import ServeSettings  # noqa: E402

ANN = {"text": "Ann", "labels": ["p"]}
NAMES = [f"Name{chr(97 + i % 26)}x{'y' * (i // 26)}" for i in range(40)]


async def _fire(url: str, payloads: list[dict], headers: dict | None = None) -> list:
    limits = httpx.Limits(max_connections=64)
    async with httpx.AsyncClient(base_url=url, timeout=30, limits=limits) as c:
        return await asyncio.gather(
            *(c.post("/v1/extract", json=p, headers=headers) for p in payloads)
        )


def fire(url: str, payloads: list[dict], headers: dict | None = None) -> list:
    return asyncio.run(_fire(url, payloads, headers))


def one_name_payloads(n: int) -> list[dict]:
    return [
        {"text": f"Then {NAMES[i].capitalize()} arrived.", "labels": ["person"]} for i in range(n)
    ]


def test_concurrent_requests_share_bounded_model_calls():
    ext = CapitalsExtractor(delay_s=0.05)
    s = ServeSettings(batch_max_texts=8, batch_max_wait_ms=30)
    with ServerThread(ext, s) as srv:
        payloads = one_name_payloads(24)
        resps = fire(srv.url, payloads)
        sizes = list(srv.app.state.batcher.batch_sizes)
    assert all(r.status_code == 200 for r in resps)
    # each caller gets the entities of its own text, not a neighbour's
    for p, r in zip(payloads, resps, strict=True):
        ents = r.json()["results"][0]["entities"]
        assert [e["text"] for e in ents] == [
            w for w in p["text"].rstrip(".").split() if w[0].isupper()
        ]
    assert sum(sizes) == 24
    assert max(sizes) <= 8  # bounded batch
    assert len(sizes) < 24 and max(sizes) > 1  # requests were batched together
    assert ext.calls == sizes  # one model call per batch (same labels)
    assert ext.threads and all(t.startswith("uniner-model") for t in ext.threads)


def test_without_micro_batching_every_request_is_its_own_call():
    ext = CapitalsExtractor(delay_s=0.01)
    s = ServeSettings(micro_batching=False)
    with ServerThread(ext, s) as srv:
        resps = fire(srv.url, one_name_payloads(12))
        sizes = list(srv.app.state.batcher.batch_sizes)
    assert all(r.status_code == 200 for r in resps)
    assert sizes == [1] * 12


def test_event_loop_stays_free_while_the_model_works():
    """/health answers while the only worker is held inside a model call (no clock involved)."""
    ext = CapitalsExtractor(gate=threading.Event())
    with ServerThread(ext, ServeSettings(request_timeout_s=300)) as srv:
        done: list = []
        t = threading.Thread(
            target=lambda: done.append(httpx.post(srv.url + "/v1/extract", json=ANN, timeout=300))
        )
        t.start()
        try:
            assert ext.started.wait(60)
            health = httpx.get(srv.url + "/health", timeout=60)
            answered_while_busy = not done
        finally:
            ext.gate.set()
            t.join()
    assert health.status_code == 200
    assert answered_while_busy
    assert done[0].status_code == 200


def test_request_timeout_gives_504_and_server_recovers():
    ext = CapitalsExtractor(delay_s=1.0)
    with ServerThread(ext, ServeSettings(request_timeout_s=0.3)) as srv:
        resp = httpx.post(srv.url + "/v1/extract", json=ANN, timeout=30)
        assert resp.status_code == 504
        assert resp.json()["error"]["code"] == "timeout"
        ext.delay_s = 0.0
        time.sleep(1.0)  # the timed-out call finishes in the worker
        ok = httpx.post(srv.url + "/v1/extract", json={"text": "Bob", "labels": ["p"]}, timeout=30)
    assert ok.status_code == 200
    assert ok.json()["results"][0]["entities"][0]["text"] == "Bob"


def test_full_queue_gives_503():
    ext = CapitalsExtractor(delay_s=0.5)
    s = ServeSettings(max_queue_texts=2, micro_batching=False)
    with ServerThread(ext, s) as srv:
        resps = fire(srv.url, one_name_payloads(8))
    codes = [r.status_code for r in resps]
    assert 503 in codes and 200 in codes
    for r in resps:
        if r.status_code == 503:
            assert r.json()["error"]["code"] == "overloaded"
            assert r.headers["retry-after"] == "1"


def test_internal_error_hides_the_traceback():
    with ServerThread(CapitalsExtractor(fail=True), ServeSettings()) as srv:
        resp = httpx.post(srv.url + "/v1/extract", json=ANN, timeout=30)
    assert resp.status_code == 500
    assert resp.json()["error"]["code"] == "internal_error"
    assert "secret internal detail" not in resp.text
    assert "Traceback" not in resp.text and "RuntimeError" not in resp.text


def test_api_key_required_on_v1_only():
    s = ServeSettings(api_key="s3cret-ключ")
    payload = {"text": "Ann met Bob", "labels": ["person"]}
    with ServerThread(CapitalsExtractor(), s) as srv, httpx.Client(base_url=srv.url) as c:
        missing = c.post("/v1/extract", json=payload)
        wrong = c.post("/v1/extract", json=payload, headers={"X-API-Key": "s3cret"})
        malformed_unauth = c.post("/v1/extract", content=b"{", headers={"X-API-Key": "no"})
        models_unauth = c.get("/v1/models")
        right = c.post("/v1/extract", json=payload, headers={"X-API-Key": "s3cret-ключ".encode()})
        health = c.get("/health")
        page = c.get("/")
    for r in (missing, wrong, malformed_unauth, models_unauth):
        assert r.status_code == 401
        assert r.json()["error"] == {
            "code": "unauthorized",
            "message": "missing or wrong API key (send it in the X-API-Key header)",
            "field": "X-API-Key",
            "limit": None,
        }
    assert right.status_code == 200
    assert [e["text"] for e in right.json()["results"][0]["entities"]] == ["Ann", "Bob"]
    assert health.status_code == 200 and page.status_code == 200


def test_graceful_shutdown_finishes_requests_in_flight():
    ext = CapitalsExtractor(delay_s=1.5)
    srv = ServerThread(ext, ServeSettings(graceful_timeout_s=20)).start()
    out: list = []
    t = threading.Thread(
        target=lambda: out.append(
            httpx.post(
                srv.url + "/v1/extract", json={"text": "Ann and Bob", "labels": ["p"]}, timeout=30
            )
        )
    )
    t.start()
    assert ext.started.wait(10)
    srv.stop()  # what SIGTERM does: stop accepting, finish in-flight requests, then exit
    t.join(10)
    assert out and out[0].status_code == 200
    assert [e["text"] for e in out[0].json()["results"][0]["entities"]] == ["Ann", "Bob"]
    with pytest.raises(httpx.ConnectError):
        httpx.get(srv.url + "/health", timeout=2)


def test_mixed_label_sets_batched_against_real_model():
    """Requests with different labels share model calls and still get their own answers."""
    model = shared_model()
    reqs = [
        ("Alan Turing was born in London.", ["person", "city"]),
        ("Marie Curie discovered polonium.", ["person", "chemical element"]),
        ("The Eiffel Tower is in Paris.", ["landmark", "city", "country"]),
        ("Python was created by Guido van Rossum.", ["programming language", "person"]),
    ] * 3
    s = ServeSettings(batch_max_texts=16, batch_max_wait_ms=50)
    with ServerThread(model, s) as srv:
        resps = fire(srv.url, [{"text": t, "labels": labs} for t, labs in reqs])
        sizes = list(srv.app.state.batcher.batch_sizes)
    assert max(sizes) > 1
    for (text, labs), r in zip(reqs, resps, strict=True):
        assert r.status_code == 200
        want = [(e.start, e.end, e.label) for e in model.extract(text, labs)]
        got = [(e["start"], e["end"], e["label"]) for e in r.json()["results"][0]["entities"]]
        assert got == want
