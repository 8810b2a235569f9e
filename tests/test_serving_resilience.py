"""A server that degrades, not dies: deadlines inside the work, admission by cost, /health,
shutdown with work in flight, connection timeouts, and text that is not valid Unicode.

No wall-clock assertions: request deadlines run on an injected fake clock that the model's own
steps advance; process and socket tests only poll with generous timeouts.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import textwrap
import threading
import time
from pathlib import Path

import pytest

from conftest import require

httpx = require("httpx", "dev")
require("fastapi", "serve")
require("uvicorn", "serve")

from tests.doubles import child_env  # noqa: E402
from tests.doubles.serving import CapitalsExtractor  # noqa: E402
from tests.doubles.span import tiny_span_parts  # noqa: E402
from uniner.serving.server import ServerThread, free_port  # noqa: E402
from uniner.serving.settings import ServeSettings  # noqa: E402
from uniner.students.span.extractor import SpanExtractor  # noqa: E402

os.environ.setdefault("HF_HUB_OFFLINE", "1")


class FakeClock:
    def __init__(self) -> None:
        self.now = 0.0
        self._lock = threading.Lock()

    def __call__(self) -> float:
        with self._lock:
            return self.now

    def advance(self, seconds: float) -> None:
        with self._lock:
            self.now += seconds


class TimedSpan(SpanExtractor):
    """The real span extractor (tiny random model); each encoder batch takes 1 fake second."""

    clock: FakeClock
    batch_times: list[float]

    def score_items(self, items, encs):  # type: ignore[no-untyped-def]
        self.batch_times.append(self.clock())
        self.clock.advance(1.0)
        return super().score_items(items, encs)


@pytest.fixture(scope="module")
def parts(tmp_path_factory: pytest.TempPathFactory):
    return tiny_span_parts(tmp_path_factory.mktemp("bb-resilience"))


def test_a_maximal_request_times_out_and_frees_the_worker(parts) -> None:
    clock = FakeClock()
    ext = TimedSpan(*parts, batch_size=16)
    ext.clock, ext.batch_times = clock, []
    s = ServeSettings(request_timeout_s=20.0, max_request_cost=None)  # the default size limits
    sentence = "alice smith lives in new york and met bob in paris on monday . "
    text = (sentence * 300)[:15_000]
    labels = [f"type {i}" for i in range(s.max_labels)]
    maximal = {"texts": [text] * s.max_texts, "labels": labels}  # about 1 MB, the limits' top
    with ServerThread(ext, s, clock=clock) as srv, httpx.Client(base_url=srv.url) as c:
        resp = c.post("/v1/extract", json=maximal, timeout=120)
        assert resp.status_code == 504, resp.text
        assert resp.json()["error"]["code"] == "timeout"
        poll(lambda: c.get("/health").json()["worker"] == "idle")
        _, end, deadline = srv.app.state.batcher.state.last_run
        after = [t for t in ext.batch_times if t >= deadline]
        ext.batch_times.clear()
        ok = c.post("/v1/extract", json={"text": "alice lives in oslo .", "labels": ["person"]})
        health = c.get("/health").json()
    assert deadline == pytest.approx(20.0)
    assert end - deadline <= 2.0  # fake seconds: the worker was free within 2 s of the deadline
    assert len(after) <= 1  # at most the batch that was running when the deadline passed
    assert ok.status_code == 200 and len(ext.batch_times) == 1
    assert health["timeouts"] == 1 and "DeadlineExceeded" in health["last_error"]
    assert health["status"] == "ok" and health["worker"] == "idle"


def test_a_request_whose_deadline_passed_in_the_queue_never_runs() -> None:
    ext = CapitalsExtractor(delay_s=0.6)
    s = ServeSettings(request_timeout_s=0.3, micro_batching=False)
    with ServerThread(ext, s) as srv:
        resps = fire(srv.url, [{"text": f"Name{i}", "labels": ["p"]} for i in range(4)])
        poll(lambda: httpx.get(srv.url + "/health").json()["worker"] == "idle")
    assert [r.status_code for r in resps] == [504] * 4
    assert len(ext.calls) < 4  # the later ones expired while waiting


def test_over_budget_gets_503_with_retry_after_and_a_costly_request_413() -> None:
    """One request holds the worker (on a gate, not a clock); two more of the same cost find
    the queue's budget spent and get 503, never reaching the model."""
    ext = CapitalsExtractor(gate=threading.Event())
    s = ServeSettings(max_request_cost=1_000, max_queue_cost=1_000, request_timeout_s=300)
    text = "Ann " * 200  # cost (800 + 64) * 9 // 8 = 972
    payload = {"text": text, "labels": ["p"]}
    with ServerThread(ext, s) as srv, httpx.Client(base_url=srv.url, timeout=300) as c:
        costly = c.post("/v1/extract", json={"text": text + "x" * 200, "labels": ["p"]})
        first: list = []
        t = threading.Thread(target=lambda: first.append(c.post("/v1/extract", json=payload)))
        t.start()
        try:
            assert ext.started.wait(60)
            refused = [c.post("/v1/extract", json=payload) for _ in range(2)]
        finally:
            ext.gate.set()
            t.join()
    resps = [*first, *refused]
    assert costly.status_code == 413
    err = costly.json()["error"]
    assert (err["code"], err["field"], err["limit"]) == ("request_too_costly", "body", 1_000)
    codes = sorted(r.status_code for r in resps)
    assert codes[0] == 200 and codes[-1] == 503
    for r in resps:
        if r.status_code == 503:
            assert r.json()["error"]["code"] == "overloaded"
            assert int(r.headers["retry-after"]) >= 1
    assert sum(ext.calls) == codes.count(200)  # refused requests never reached the model


def test_work_that_would_outlast_its_timeout_is_refused_with_the_measured_wait() -> None:
    from uniner.serving.batcher import MicroBatcher, QueueFull

    b = MicroBatcher(CapitalsExtractor(), admit_within_s=30.0, max_queue_cost=10**9)
    b.throughput.rate = 100.0  # cost units per second, as measured
    b._admit(1, 5_000)  # an idle worker takes any request
    b.state.running_cost = 1_000  # 10 s of work ahead and 10 s of its own: in time
    b._admit(1, 1_000)
    b.state.running_cost = 2_000  # 20 + 10 s: over the 22.5 s (3/4 of the timeout) it may wait
    with pytest.raises(QueueFull, match="about 30 s") as err:
        b._admit(1, 1_000)
    assert err.value.retry_after == 20


def test_a_small_request_never_shares_a_large_ones_model_call() -> None:
    class Recording(CapitalsExtractor):
        def extract_batch(self, texts, labels, **kw):  # type: ignore[no-untyped-def]
            self.lengths.append(sorted(len(t) for t in texts))
            return super().extract_batch(texts, labels, **kw)

    ext = Recording(delay_s=0.3)
    ext.lengths = []
    s = ServeSettings(max_request_cost=None, batch_max_wait_ms=300)
    big = {"text": "Ann " * 5_000, "labels": ["p"]}  # cost over SMALL_BATCH_COST
    small = [{"text": f"Name{i} came", "labels": ["p"]} for i in range(4)]
    with ServerThread(ext, s) as srv:
        resps = fire(srv.url, [big, *small])
    assert all(r.status_code == 200 for r in resps)
    assert [20_000] in ext.lengths  # alone in its call
    assert max(len(c) for c in ext.lengths) > 1  # the small ones were still batched


def test_small_requests_go_before_a_second_large_one() -> None:
    """After a large batch the waiting small requests go first, then the next large one: small
    requests never wait behind two large ones in a row."""

    release = threading.Event()

    class Recording(CapitalsExtractor):
        def extract_batch(self, texts, labels, **kw):  # type: ignore[no-untyped-def]
            self.lengths.append(sorted(len(t) for t in texts))
            self.started.set()
            release.wait(60)  # the first call holds the worker until the queue is set up
            return super().extract_batch(texts, labels, **kw)

    ext = Recording()
    ext.lengths = []
    s = ServeSettings(max_request_cost=None)
    big = {"text": "Ann " * 5_000, "labels": ["p"]}
    small = {"text": "Bob came", "labels": ["p"]}
    out: list = []

    def send(payload: dict) -> None:
        out.append(httpx.post(srv.url + "/v1/extract", json=payload, timeout=60))

    with ServerThread(ext, s) as srv:
        queued = lambda n: httpx.get(srv.url + "/health").json()["queue_texts"] == n  # noqa: E731
        threads = [threading.Thread(target=send, args=(big,))]
        threads[0].start()
        assert ext.started.wait(10)  # the first large request runs
        for i, payload in enumerate([big, small, small, small]):  # queued in this order
            threads.append(threading.Thread(target=send, args=(payload,)))
            threads[-1].start()
            poll(lambda i=i: queued(i + 1))
        release.set()
        for t in threads:
            t.join()
    assert all(r.status_code == 200 for r in out)
    assert ext.lengths == [[20_000], [8, 8, 8], [20_000]]


@pytest.mark.parametrize(
    ("payload", "field"),
    [
        (b'{"text": "Ann \\ud800 Bob", "labels": ["person"]}', "text"),
        (b'{"texts": ["ok", "x\\udfff"], "labels": ["person"]}', "texts[1]"),
        (b'{"text": "Ann", "labels": ["person", "\\ud83d"]}', "labels[1]"),
    ],
)
def test_lone_surrogates_get_422_before_the_model_runs(payload: bytes, field: str) -> None:
    ext = CapitalsExtractor()
    with ServerThread(ext, ServeSettings()) as srv:
        resp = httpx.post(
            srv.url + "/v1/extract",
            content=payload,
            headers={"content-type": "application/json"},
            timeout=30,
        )
    assert resp.status_code == 422, resp.text
    err = resp.json()["error"]
    assert (err["code"], err["field"]) == ("invalid_unicode", field)
    assert "surrogate" in err["message"]
    assert ext.calls == []


def test_health_reports_a_busy_worker_and_the_last_error() -> None:
    ext = CapitalsExtractor(delay_s=1.5)
    with ServerThread(ext, ServeSettings()) as srv, httpx.Client(base_url=srv.url) as c:
        t = threading.Thread(
            target=lambda: c.post("/v1/extract", json={"text": "Ann", "labels": ["p"]}, timeout=30)
        )
        t.start()
        assert ext.started.wait(10)
        busy = c.get("/health").json()
        t.join()
        ext.fail, ext.delay_s = True, 0.0
        failed = c.post("/v1/extract", json={"text": "Ann", "labels": ["p"]}, timeout=30)
        after = c.get("/health").json()
    assert busy["worker"] == "busy" and busy["in_flight"] == 1 and busy["busy_s"] is not None
    assert busy["queue_cost"] > 0 and busy["status"] == "ok"
    assert failed.status_code == 500
    assert after["worker"] == "idle" and after["last_error"].startswith("RuntimeError")
    assert after["queue_cost"] == 0


def test_headers_that_never_finish_are_closed_and_a_slow_body_gets_408() -> None:
    s = ServeSettings(header_timeout_s=0.5, body_timeout_s=0.5)
    with ServerThread(CapitalsExtractor(), s) as srv:
        with socket.create_connection((srv.host, srv.port), timeout=30) as sock:
            sock.sendall(b"POST /v1/extract HTTP/1.1\r\nHost: x\r\n")  # no blank line, ever
            assert sock.recv(1024) == b""  # closed by the server (30 s socket timeout)
        with socket.create_connection((srv.host, srv.port), timeout=30) as sock:
            sock.sendall(
                b"POST /v1/extract HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
                b"Content-Length: 100\r\n\r\n" + b'{"text": "Ann",'
            )
            reply = recv_all(sock)
        ok = httpx.post(srv.url + "/v1/extract", json={"text": "Ann", "labels": ["p"]}, timeout=30)
    assert reply.startswith(b"HTTP/1.1 408"), reply[:200]
    assert b'"body_timeout"' in reply
    assert ok.status_code == 200


SERVER_SCRIPT = textwrap.dedent(
    """
    import sys
    from uniner.serving.server import serve
    from uniner.serving.settings import ServeSettings
    from tests.doubles.serving import CapitalsExtractor

    # one model step of 10 minutes that never checks its deadline: the worst case for shutdown
    ext = CapitalsExtractor(delay_s=600, step_s=600)
    settings = ServeSettings(graceful_timeout_s=1.0, request_timeout_s=600)
    serve(ext, settings, port=int(sys.argv[1]), log_level="info")
    """
)


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGINT])
def test_a_signal_exits_after_the_graceful_timeout_with_a_request_in_flight(
    sig: int, tmp_path: Path
) -> None:
    port = free_port()
    script = tmp_path / "serve.py"
    script.write_text(SERVER_SCRIPT, encoding="utf-8")
    log = (tmp_path / "server.log").open("w+")
    cmd = [sys.executable, str(script), str(port)]
    proc = subprocess.Popen(cmd, stdout=log, stderr=log, env=child_env())
    url = f"http://127.0.0.1:{port}"
    try:
        poll(lambda: _health(url, proc) is not None, timeout=120)
        out: list = []

        def post() -> None:
            try:
                out.append(httpx.post(url + "/v1/extract", json={"text": "Ann", "labels": ["p"]}))
            except httpx.TransportError as exc:
                out.append(exc)

        threading.Thread(target=post, daemon=True).start()
        poll(lambda: (_health(url, proc) or {}).get("worker") == "busy", timeout=60)
        proc.send_signal(sig)
        code = proc.wait(timeout=60)  # generous: the graceful timeout is 1 s
        poll(lambda: bool(out), timeout=30)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
        log.close()
    text = (tmp_path / "server.log").read_text(encoding="utf-8")
    assert code in (0, -sig, 128 + sig, 1), text
    assert "timeout graceful shutdown exceeded" in text and "Finished server process" in text
    # the request in flight got an answer or a closed connection, never a hang
    assert isinstance(out[0], httpx.TransportError) or out[0].status_code in (500, 503, 504)


# -- helpers ------------------------------------------------------------------------------------


def poll(cond, timeout: float = 60.0, every: float = 0.05) -> None:
    end = time.monotonic() + timeout
    while not cond():
        assert time.monotonic() < end, "condition not met in time"
        time.sleep(every)


def _health(url: str, proc: subprocess.Popen) -> dict | None:
    assert proc.poll() is None, "the server exited"
    try:
        return httpx.get(url + "/health", timeout=5).json()
    except httpx.TransportError:
        return None


def fire(url: str, payloads: list[dict]) -> list:
    out: list = [None] * len(payloads)

    def one(i: int) -> None:
        out[i] = httpx.post(url + "/v1/extract", json=payloads[i], timeout=60)

    threads = [threading.Thread(target=one, args=(i,)) for i in range(len(payloads))]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return out


def recv_all(sock: socket.socket) -> bytes:
    data = b""
    while chunk := sock.recv(4096):
        data += chunk
    return data
