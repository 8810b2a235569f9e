"""``uniner serve`` as a real process: API key from the environment, limits from flags, and
SIGTERM while a request is in flight (the request still gets its answer, then a clean exit)."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time

import pytest

from conftest import require

httpx = require("httpx", "dev")
require("fastapi", "serve")
require("uvicorn", "serve")

from uniner.serving.server import free_port  # noqa: E402

pytestmark = pytest.mark.slow


def test_uniner_serve_process_key_limits_and_sigterm(tmp_path):
    port = free_port()
    env = {**os.environ, "UNINER_TEST_KEY": "k-123"}
    log = (tmp_path / "server.log").open("w+")
    cmd = [
        sys.executable,
        "-c",
        "from uniner.cli import main; main()",
        "serve",
        "--port",
        str(port),
        "--api-key-env",
        "UNINER_TEST_KEY",
        "--max-labels",
        "3",
        "--max-texts",
        "40",
        "--threads",
        "1",
        # the slow request below must finish, however loaded the machine: the deadlines are
        # tested on a fake clock elsewhere (test_serving_resilience.py), not in wall seconds here
        "--timeout",
        "600",
        "--graceful-timeout",
        "600",
    ]
    proc = subprocess.Popen(cmd, env=env, stdout=log, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}"
    key = {"X-API-Key": "k-123"}
    try:
        deadline = time.monotonic() + 600  # a bound for a stuck start, not a speed assumption
        while True:
            assert proc.poll() is None, f"server exited: {(tmp_path / 'server.log').read_text()}"
            try:
                if httpx.get(url + "/health", timeout=2).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            assert time.monotonic() < deadline, "server did not come up"
            time.sleep(0.3)

        ok = httpx.post(
            url + "/v1/extract",
            headers=key,
            timeout=600,
            json={"text": "Alan Turing was born in London.", "labels": ["person", "city"]},
        )
        assert ok.status_code == 200
        assert ("Alan Turing", "person") in {
            (e["text"], e["label"]) for e in ok.json()["results"][0]["entities"]
        }
        assert (
            httpx.post(
                url + "/v1/extract", timeout=120, json={"text": "a", "labels": ["x"]}
            ).status_code
            == 401
        )
        too_many = httpx.post(
            url + "/v1/extract",
            headers=key,
            timeout=120,
            json={"text": "a", "labels": ["a", "b", "c", "d"]},
        )
        assert too_many.status_code == 422
        assert too_many.json()["error"]["limit"] == 3

        # a slow request (40 long texts on one thread), then SIGTERM while it runs
        sentence = "Ada Lovelace worked with Charles Babbage in London on the engine. "
        texts = [sentence * 12 for _ in range(40)]
        out: list = []
        t = threading.Thread(
            target=lambda: out.append(
                httpx.post(
                    url + "/v1/extract",
                    headers=key,
                    timeout=900,
                    json={"texts": texts, "labels": ["person", "city"]},
                )
            )
        )
        t.start()
        deadline = time.monotonic() + 300
        while httpx.get(url + "/health", timeout=120).json()["in_flight"] == 0 and not out:
            assert time.monotonic() < deadline
            time.sleep(0.02)
        assert not out, "the request finished before SIGTERM; make it slower"
        proc.send_signal(signal.SIGTERM)
        t.join(900)
        assert out and out[0].status_code == 200, out and out[0].text
        assert len(out[0].json()["results"]) == 40
        # uvicorn re-raises the signal after its graceful shutdown: the exit is "by SIGTERM"
        assert proc.wait(300) in (0, -signal.SIGTERM)
        log.flush()
        text = (tmp_path / "server.log").read_text()
        assert "Finished server process" in text and "Traceback" not in text
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
        log.close()
