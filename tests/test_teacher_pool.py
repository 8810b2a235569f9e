"""Many teacher endpoints (``TeacherPool``) against scripted servers on 127.0.0.1: one of three
killed mid-run (every passage annotated once, output equal to a single-endpoint run record for
record, only the killed endpoint's in-flight requests asked twice), a stalling endpoint failed
over, per-endpoint counts in the report and on the CLI, and endpoint settings checked with one
error line naming the field. No timing is asserted: the kill waits on the request logs."""

from __future__ import annotations

import asyncio
import json
import sqlite3
from collections import Counter

import pytest
from typer.testing import CliRunner

from conftest import require
from uniner.cli import _register, app
from uniner.distill.output import read_annotations
from uniner.distill.prompts import get_template
from uniner.distill.runner import Passage, run_distillation
from uniner.distill.store import Store
from uniner.distill.teachers.endpoints import EndpointConfigError, parse_endpoints
from uniner.distill.teachers.openai import OpenAITeacher
from uniner.distill.teachers.pool import TeacherPool

require("tests.doubles.teacher_server", "serve")  # the scripted teacher: FastAPI, uvicorn
from tests.doubles.teacher_server import ScriptedServer, sha, tuples_answer  # noqa: E402

TEMPLATE = get_template("pile-ner-type")
N = 24
TEXTS = [f"Report {i}: Marie Curie visited Paris in {1900 + i}." for i in range(N)]
SCRIPT = {
    "models": ["teacher-1"],
    "by_hash": {
        sha(t): [
            {
                "content": tuples_answer(
                    [("Marie Curie", "person"), ("Paris", "city"), (str(1900 + i), "year")]
                )
            }
        ]
        for i, t in enumerate(TEXTS)
    },
}
PASSAGES = [Passage(f"p{i}", t) for i, t in enumerate(TEXTS)]


def _pool(servers, **kw) -> TeacherPool:
    eps = parse_endpoints([f"{s.base_url},concurrency=2,name=ep{i}" for i, s in enumerate(servers)])
    opts = {"api_key_env": None, "timeout": 10.0, "probe_backoff": 0.05, "max_retries": 4}
    return TeacherPool(eps, "teacher-1", **{**opts, **kw})


async def _distill(teacher, tmp_path, name, during=None):
    """Run the real runner; ``during(out_path)`` runs beside it (e.g. kills an endpoint)."""
    try:
        with Store(tmp_path / f"{name}.sqlite") as store:
            job = run_distillation(
                PASSAGES,
                teacher,
                TEMPLATE,
                store,
                tmp_path / f"{name}.jsonl",
                concurrency=getattr(teacher, "capacity", 4),
            )
            if during is None:
                return await job
            stats, _ = await asyncio.gather(job, during(tmp_path / f"{name}.jsonl"))
            return stats
    finally:
        if hasattr(teacher, "report"):
            teacher.last_report = teacher.report()
        await teacher.aclose()


def _records(path):
    recs = list(read_annotations(path))
    assert len(recs) == len({r["id"] for r in recs})  # no passage written twice
    return {r["id"]: r for r in recs}


async def _wait_for(cond, what: str, limit: float = 120.0) -> None:
    """Poll a condition on the event loop; the limit only bounds a broken run."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + limit
    while not cond():
        assert loop.time() < deadline, f"never happened: {what}"
        await asyncio.sleep(0.01)


def test_one_of_three_endpoints_killed_mid_run(tmp_path):
    with ScriptedServer(SCRIPT) as single:
        asyncio.run(
            _distill(OpenAITeacher(single.base_url, "teacher-1", api_key_env=None), tmp_path, "one")
        )
    reference = _records(tmp_path / "one.jsonl")
    assert len(reference) == N

    hanging = {**SCRIPT, "latency": 3600}  # ep1 holds what it gets until it is killed
    a, b, c = ScriptedServer(SCRIPT), ScriptedServer(hanging), ScriptedServer(SCRIPT)
    for s in (a, b, c):
        s.start()
    pool = _pool([a, b, c])

    async def kill_b(out):
        await _wait_for(lambda: len(b.requests) == 2, "ep1 holds two requests")
        await _wait_for(lambda: out.exists() and len(out.read_bytes().splitlines()) >= 4, "4 done")
        await asyncio.to_thread(b.stop)  # mid-run: ep1's two requests are in flight

    try:
        stats = asyncio.run(_distill(pool, tmp_path, "pool", during=kill_b))
    finally:
        a.stop()
        c.stop()
    got = _records(tmp_path / "pool.jsonl")
    assert got == reference  # record for record
    assert stats.asked == N and stats.failed == 0

    # the request logs: A and C answered every passage exactly once between them; the two
    # that were in flight on the killed B are the only passages asked twice
    on_b = Counter(r["hash"] for r in b.requests)
    answered = Counter(r["hash"] for r in a.requests + c.requests)
    assert set(answered) == {sha(t) for t in TEXTS} and set(answered.values()) == {1}
    assert len(on_b) == 2 and set(on_b.values()) == {1}
    db = sqlite3.connect(tmp_path / "pool.sqlite")
    assert db.execute("SELECT COUNT(*) FROM answers WHERE status='done'").fetchone()[0] == N
    db.close()

    rep = {e["name"]: e for e in pool.last_report["endpoints"]}
    assert rep["ep1"]["ok"] == 0 and rep["ep1"]["error_total"] == 2
    assert rep["ep1"]["failed_over"] == 2 and rep["ep1"]["state"] == "down"
    assert rep["ep1"]["down_events"] == 1
    assert rep["ep0"]["ok"] + rep["ep2"]["ok"] == N
    assert rep["ep0"]["ok"] == len(a.requests) and rep["ep2"]["ok"] == len(c.requests)
    assert pool.last_report["failovers"] == 2
    assert rep["ep0"]["latency_s"]["p50"] is not None and rep["ep1"]["latency_s"]["p50"] is None


def test_a_stalling_endpoint_is_failed_over(tmp_path):
    stalling = {**SCRIPT, "latency": 3600}
    with ScriptedServer(SCRIPT) as good, ScriptedServer(stalling) as slow:
        # a short per-request timeout is the stall detector; the long probe backoff keeps the
        # stalled endpoint out for the rest of this run, so the counts are exact
        pool = _pool([good, slow], timeout=0.5, probe_backoff=600)
        stats = asyncio.run(_distill(pool, tmp_path, "stall"))
    assert stats.asked == N and stats.failed == 0
    assert set(_records(tmp_path / "stall.jsonl")) == {p.id for p in PASSAGES}
    rep = {e["name"]: e for e in pool.last_report["endpoints"]}
    assert rep["ep1"]["sent"] == 2 and rep["ep1"]["errors"] == {"timeout": 2}
    assert rep["ep1"]["failed_over"] == 2 and rep["ep1"]["ok"] == 0
    assert rep["ep1"]["failed_seconds"] > 0 and rep["ep1"]["answer_seconds"] == 0
    assert rep["ep0"]["ok"] == N and rep["ep0"]["error_total"] == 0
    assert len(good.requests) == N  # the stalled ones were asked once more, here


def test_bad_answers_in_a_row_take_an_endpoint_down_until_a_probe(tmp_path):
    """Every passage's first two answers are 503s: three in a row mark the endpoint down, its
    probe reopens it (one request at a time until one answers) and every passage is answered."""
    first_503 = {h: [{"status": 503}] * 2 + acts for h, acts in SCRIPT["by_hash"].items()}
    with ScriptedServer({**SCRIPT, "by_hash": first_503}) as only:
        pool = _pool([only])
        stats = asyncio.run(_distill(pool, tmp_path, "back"))
    assert stats.asked == N and stats.failed == 0
    (ep,) = pool.last_report["endpoints"]
    assert ep["errors"] == {"http_503": 2 * N} and ep["ok"] == N and ep["sent"] == 3 * N
    assert ep["down_events"] >= 1 and ep["probes"] >= ep["down_events"]
    assert ep["state"] == "up" and ep["failed_over"] == 0  # one endpoint: nowhere else to go


def test_one_bad_answer_does_not_take_an_endpoint_down(tmp_path):
    one_503 = dict(SCRIPT["by_hash"])
    one_503[sha(TEXTS[3])] = [{"status": 503}, *one_503[sha(TEXTS[3])]]
    with ScriptedServer({**SCRIPT, "by_hash": one_503}) as only:
        pool = _pool([only], probe_backoff=600)  # were it marked down, the run would hang
        stats = asyncio.run(_distill(pool, tmp_path, "one"))
    assert stats.asked == N and stats.failed == 0
    (ep,) = pool.last_report["endpoints"]
    assert ep["errors"] == {"http_503": 1} and ep["down_events"] == 0 and ep["probes"] == 0
    assert ep["sent"] == N + 1 and ep["ok"] == N


def test_a_misconfigured_endpoint_is_skipped_and_all_bad_stops(tmp_path):
    from uniner.distill.teachers import FatalTeacherError

    other = {**SCRIPT, "models": ["another-model"]}
    with (
        ScriptedServer(SCRIPT) as good,
        ScriptedServer(other) as wrong,
        ScriptedServer(other) as wrong2,
    ):
        pool = _pool([wrong, good])
        stats = asyncio.run(_distill(pool, tmp_path, "skip"))
        assert stats.asked == N and len(wrong.requests) == 0
        rep = {e["name"]: e for e in pool.last_report["endpoints"]}
        assert rep["ep0"]["state"] == "disabled" and "not served" in rep["ep0"]["last_error"]
        with pytest.raises(FatalTeacherError, match=r"no usable teacher endpoint.*ep0.*ep1"):
            asyncio.run(_distill(_pool([wrong, wrong2]), tmp_path, "x"))
        assert wrong.requests == wrong2.requests == []


def test_endpoint_settings_are_checked():
    (ep,) = parse_endpoints(["http://gpu1:8000/v1/,concurrency=64,rpm=600,tpm=1e6"])
    assert (ep.url, ep.concurrency, ep.rpm, ep.tpm, ep.label) == (
        "http://gpu1:8000/v1",
        64,
        600.0,
        1e6,
        "gpu1:8000",
    )
    (ep,) = parse_endpoints([{"url": "https://api.example.com/v1", "name": "hosted"}], "x", 3)
    assert ep.concurrency == 3 and ep.label == "hosted"
    bad = {
        "endpoints[0].concurrency: must be a whole number >= 1, got '0'": [
            "http://a/v1,concurrency=0"
        ],
        "endpoints[1].rpm: must be a number > 0, got -5": [
            {"url": "http://a/v1"},
            {"url": "http://b/v1", "rpm": -5},
        ],
        "endpoints[0].url: must be an http(s):// URL, got 'gpu1:8000'": ["gpu1:8000"],
        "endpoints[0].speed: unknown field": [{"url": "http://a/v1", "speed": 3}],
        "endpoints[1].url: http://a/v1 is given twice": ["http://a/v1", "http://a/v1/"],
        "endpoints[0]: expected key=value after the URL": ["http://a/v1,64"],
        "endpoints: must be a non-empty list": [],
    }
    for message, items in bad.items():
        with pytest.raises(EndpointConfigError) as exc:
            parse_endpoints(items)
        assert str(exc.value).startswith(message), str(exc.value)


def _invoke(args):
    _register()
    return CliRunner().invoke(app, ["distill", *args], catch_exceptions=False)


def test_cli_many_endpoints_and_bad_settings(tmp_path):
    corpus = tmp_path / "corpus.jsonl"
    corpus.write_text("".join(json.dumps({"text": t}) + "\n" for t in TEXTS[:6]))
    out = tmp_path / "run"
    with ScriptedServer(SCRIPT) as a, ScriptedServer(SCRIPT) as b:
        urls = [f"{a.base_url},concurrency=2,name=left", f"{b.base_url},name=right"]
        args = [str(corpus), "--out", str(out), "--model", "teacher-1", "--api-key-env", ""]
        res = _invoke(
            [*args, "--concurrency", "1", *(x for u in urls for x in ("--teacher-url", u))]
        )
        assert res.exit_code == 0, res.output
        assert len(a.requests) + len(b.requests) == 6
    assert "| left | up |" in res.output and "| right | up |" in res.output
    pool = json.loads((out / "report.json").read_text())["run"]["endpoints"]
    rows = {e["name"]: e for e in pool["endpoints"]}
    assert rows["left"]["concurrency"] == 2 and rows["right"]["concurrency"] == 1
    assert rows["left"]["ok"] + rows["right"]["ok"] == 6
    assert "## Teacher endpoints" in (out / "report.md").read_text()

    res = _invoke([*args, "--teacher-url", "http://127.0.0.1:9/v1,rpm=fast"])
    assert res.exit_code == 2
    lines = [x for x in res.output.splitlines() if x.strip()]
    assert len(lines) == 1 and "endpoints[0].rpm: must be a number > 0, got 'fast'" in lines[0]
    cfg = tmp_path / "d.toml"
    cfg.write_text('[[endpoints]]\nurl = "http://127.0.0.1:9/v1"\n[[endpoints]]\nurl = "x"\n')
    res = _invoke([str(corpus), "--out", str(out), "--config", str(cfg)])
    assert res.exit_code == 2 and "endpoints[1].url: must be an http(s):// URL" in res.output


def test_every_endpoint_down_too_long_stops_with_one_message(tmp_path):
    from uniner.distill.teachers import FatalTeacherError

    with ScriptedServer(SCRIPT) as gone:
        url = gone.base_url
    eps = parse_endpoints([f"{url},name=gone"])
    pool = TeacherPool(eps, "teacher-1", api_key_env=None, probe_backoff=600, down_timeout=0.2)
    with pytest.raises(FatalTeacherError, match=r"down for over 0.2 s \(gone: probe failed"):
        asyncio.run(_distill(pool, tmp_path, "gone"))
    assert pool.last_report["endpoints"][0]["state"] == "down"
