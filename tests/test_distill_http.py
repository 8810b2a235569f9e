"""The real HTTP teacher and the runner against a scripted OpenAI-compatible server on 127.0.0.1:
well-formed and malformed answers, 429 with Retry-After, 500s, timeouts, slow answers, clear
stops, caching, and a SIGKILL mid-run followed by a resume (the request log is the proof)."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import sqlite3
import subprocess
import sys
import textwrap
import time
from collections import Counter

import pytest

from conftest import require
from uniner.distill.output import AnnotationWriter, read_annotations
from uniner.distill.prompts import get_template
from uniner.distill.runner import Passage, run_distillation
from uniner.distill.store import Store
from uniner.distill.teachers import FatalTeacherError
from uniner.distill.teachers.openai import OpenAITeacher, retry_after_seconds

require("tests.doubles.teacher_server", "serve")  # the scripted teacher: FastAPI, uvicorn
from tests.doubles.teacher_server import ScriptedServer, sha, tuples_answer  # noqa: E402

KEY = "sk-test-secret-123456"
TEMPLATE = get_template("pile-ner-type")

P = {
    "ok": "Marie Curie worked in Paris with Pierre Curie.",
    "single": "Alan Turing studied at Princeton University.",
    "fence": "The Nile flows through Egypt and Sudan.",
    "trunc": "Google and Microsoft compete with Amazon in Seattle.",
    "r429": "Ada Lovelace wrote about the Analytical Engine.",
    "r500": "Tesla opened a factory in Berlin.",
    "timeout": "NASA launched Voyager 1 in 1977.",
    "slow": "Mozart was born in Salzburg.",
    "json": "Python was created by Guido van Rossum.",
    "escaped": "The Louvre is in Paris.",
    "prose": "Einstein worked at the Patent Office in Bern.",
    "junk": "Nothing to see here today.",
    "halluc": "Barack Obama visited Kenya.",
}

SCRIPT = {
    "models": ["teacher-1"],
    "api_key": KEY,
    "by_hash": {
        sha(P["ok"]): [
            {
                "content": tuples_answer(
                    [("Marie Curie", "person"), ("Paris", "city"), ("Pierre Curie", "person")]
                )
            }
        ],
        sha(P["single"]): [
            {"content": "[('Alan Turing', 'person'), ('Princeton University', 'university')]"}
        ],
        sha(P["fence"]): [
            {
                "content": '```python\n[("Nile", "river"), ("Egypt", "country"),\n'
                ' ("Sudan", "country")]\n```'
            }
        ],
        sha(P["trunc"]): [
            {
                "content": '[("Google", "company"), ("Microsoft", "company"), '
                '("Amazon", "company"), ("Seat',
                "finish_reason": "length",
            }
        ],
        sha(P["r429"]): [
            {"status": 429, "retry_after": 0.6},
            {
                "content": tuples_answer(
                    [("Ada Lovelace", "person"), ("Analytical Engine", "machine")]
                )
            },
        ],
        sha(P["r500"]): [
            {"status": 500},
            {"status": 503},
            {"content": tuples_answer([("Tesla", "company"), ("Berlin", "city")])},
        ],
        sha(P["timeout"]): [
            {"hang": 120},  # far past the client's timeout: cancelled when the server stops
            {
                "content": tuples_answer(
                    [("NASA", "organization"), ("Voyager 1", "spacecraft"), ("1977", "date")]
                )
            },
        ],
        sha(P["slow"]): [
            {"delay": 0.4, "content": tuples_answer([("Mozart", "person"), ("Salzburg", "city")])}
        ],
        sha(P["json"]): [
            {"content": '[["Python", "programming language"], ["Guido van Rossum", "person"]]'}
        ],
        sha(P["escaped"]): [
            {"content": '[(\\"The Louvre\\", \\"museum\\"), (\\"Paris\\", \\"city\\")]'}
        ],
        sha(P["prose"]): [
            {
                "content": 'Here are the entities I found:\n[("Einstein", "person"), '
                '("Patent Office", "organization"), ("Bern", "city")]\n'
                "I hope this helps!"
            }
        ],
        sha(P["junk"]): [{"content": "Sorry, I can't find anything useful here."}],
        sha(P["halluc"]): [
            {
                "content": tuples_answer(
                    [
                        ("Barack Obama", "person"),
                        ("Kenya", "country"),
                        ("Michelle Obama", "person"),
                        ("Kenya", "NONE"),
                    ]
                )
            }
        ],
    },
}

EXPECTED = {
    "ok": [("Marie Curie", "person"), ("Paris", "city"), ("Pierre Curie", "person")],
    "single": [("Alan Turing", "person"), ("Princeton University", "university")],
    "fence": [("Nile", "river"), ("Egypt", "country"), ("Sudan", "country")],
    "trunc": [("Google", "company"), ("Microsoft", "company"), ("Amazon", "company")],
    "r429": [("Ada Lovelace", "person"), ("Analytical Engine", "machine")],
    "r500": [("Tesla", "company"), ("Berlin", "city")],
    "timeout": [("NASA", "organization"), ("Voyager 1", "spacecraft"), ("1977", "date")],
    "slow": [("Mozart", "person"), ("Salzburg", "city")],
    "json": [("Python", "programming language"), ("Guido van Rossum", "person")],
    "escaped": [("The Louvre", "museum"), ("Paris", "city")],
    "prose": [("Einstein", "person"), ("Patent Office", "organization"), ("Bern", "city")],
    "junk": [],
    "halluc": [("Barack Obama", "person"), ("Kenya", "country")],
}


def _teacher(server: ScriptedServer, **kw) -> OpenAITeacher:
    opts = {
        "api_key_env": "UNINER_TEST_TEACHER_KEY",
        # generous for a loopback answer on a loaded machine; the "timeout" passage hangs 120 s
        "timeout": 6.0,
        "backoff_base": 0.05,
        "backoff_max": 0.5,
        "max_retries": 4,
    }
    opts.update(kw)
    return OpenAITeacher(server.base_url, opts.pop("model", "teacher-1"), **opts)


def _run(server, tmp_path, passages, name="out", **kw):
    async def go():
        teacher = _teacher(server, **kw.pop("teacher_kw", {}))
        try:
            with Store(tmp_path / f"{name}.sqlite") as store:
                return await run_distillation(
                    passages, teacher, TEMPLATE, store, tmp_path / f"{name}.jsonl", **kw
                )
        finally:
            await teacher.aclose()

    return asyncio.run(go())


@pytest.fixture
def server(tmp_path, monkeypatch):
    monkeypatch.setenv("UNINER_TEST_TEACHER_KEY", KEY)
    with ScriptedServer(SCRIPT, tmp_path / "requests.jsonl") as srv:
        yield srv


def test_scripted_run_gives_exact_annotations(server, tmp_path):
    passages = [Passage(name, text) for name, text in P.items()]
    stats = _run(server, tmp_path, passages, concurrency=4)
    recs = {r["id"]: r for r in read_annotations(tmp_path / "out.jsonl")}
    assert set(recs) == set(P)
    for name, expected in EXPECTED.items():
        got = [(e["text"], e["label"]) for e in recs[name]["entities"]]
        # entities come back in text order, each mention at every occurrence
        want = sorted(((P[name].index(m), m, t) for m, t in expected), key=lambda x: x[0])
        assert got == [(m, t) for _, m, t in want], name
        for e in recs[name]["entities"]:
            assert P[name][e["start"] : e["end"]] == e["text"]
    assert recs["junk"]["teacher"]["parse"] == "unparseable"
    assert recs["junk"]["teacher"]["raw"].startswith("Sorry")
    assert recs["trunc"]["teacher"]["parse"] == "salvaged"
    assert recs["trunc"]["teacher"]["finish_reason"] == "length"
    assert recs["halluc"]["teacher"]["hallucinated"] == [["Michelle Obama", "person"]]
    assert recs["halluc"]["teacher"]["dropped"] == {"hallucinated": 1, "else_type": 1}
    assert stats.asked == len(P) and stats.failed == 0
    assert stats.parse["unparseable"] == 1 and stats.parse["salvaged"] == 1

    # the request log: retried passages were asked exactly as scripted
    log = [json.loads(line) for line in (tmp_path / "requests.jsonl").read_text().splitlines()]
    per = Counter(e["hash"] for e in log)
    assert per[sha(P["r429"])] == 2 and per[sha(P["r500"])] == 3
    assert per[sha(P["timeout"])] == 2 and per[sha(P["ok"])] == 1
    assert len(log) == len(P) + 1 + 2 + 1
    t429 = sorted(e["t"] for e in log if e["hash"] == sha(P["r429"]))
    assert t429[1] - t429[0] >= 0.55  # Retry-After: 0.6 honoured (not the 0.05 s backoff)

    # every attempt is in the store; the key is nowhere
    db = sqlite3.connect(tmp_path / "out.sqlite")
    assert db.execute("SELECT COUNT(*) FROM answers WHERE status='done'").fetchone()[0] == len(P)
    statuses = Counter(r[0] for r in db.execute("SELECT http_status FROM attempts"))
    assert statuses[429] == 1 and statuses[500] == 1 and statuses[503] == 1
    assert statuses[None] == 1  # the timeout
    db.close()
    for f in tmp_path.iterdir():
        assert KEY.encode() not in f.read_bytes(), f.name

    # a second run asks nothing and leaves the output as it was
    before = (tmp_path / "out.jsonl").read_bytes()
    again = _run(server, tmp_path, passages, concurrency=4)
    assert again.cached == len(P) and again.asked == 0
    assert len((tmp_path / "requests.jsonl").read_text().splitlines()) == len(log)
    assert (tmp_path / "out.jsonl").read_bytes() == before


def test_clear_stops(server, tmp_path, monkeypatch):
    passages = [Passage("ok", P["ok"])]
    with pytest.raises(FatalTeacherError, match=r"'gpt-nope' is not served.*teacher-1"):
        _run(server, tmp_path, passages, teacher_kw={"model": "gpt-nope"})
    with pytest.raises(FatalTeacherError, match="404") as exc:
        _run(server, tmp_path, passages, teacher_kw={"model": "gpt-nope", "check_model": False})
    assert "gpt-nope" in str(exc.value)
    monkeypatch.setenv("UNINER_TEST_TEACHER_KEY", "sk-wrong-key-999")
    with pytest.raises(FatalTeacherError, match=r"401.*\$UNINER_TEST_TEACHER_KEY") as exc:
        _run(server, tmp_path, passages)
    assert "sk-wrong-key-999" not in str(exc.value)
    assert server.requests == [] or all(r["model"] != "teacher-1" for r in server.requests)


def test_exhausted_retries_fail_the_passage_then_resume(tmp_path, monkeypatch):
    monkeypatch.delenv("UNINER_TEST_TEACHER_KEY", raising=False)
    script = {"models": ["teacher-1"], "by_hash": {sha(P["ok"]): [{"status": 500}]}}
    passages = [Passage("ok", P["ok"]), Passage("slow", P["slow"])]
    with ScriptedServer(script) as srv:
        stats = _run(srv, tmp_path, passages, teacher_kw={"max_retries": 2})
        assert stats.failed == 1 and stats.asked == 1
        assert [r["id"] for r in read_annotations(tmp_path / "out.jsonl")] == ["slow"]
        assert sum(1 for r in srv.requests if r["hash"] == sha(P["ok"])) == 3
        srv.script["by_hash"][sha(P["ok"])] = [{"content": '[("Paris", "city")]'}]
        stats = _run(srv, tmp_path, passages)
        assert stats.asked == 1 and stats.cached == 1
    ids = sorted(r["id"] for r in read_annotations(tmp_path / "out.jsonl"))
    assert ids == ["ok", "slow"]


def test_retry_after_parsing():
    import httpx

    assert retry_after_seconds(httpx.Headers({"Retry-After": "2.5"})) == 2.5
    assert retry_after_seconds(httpx.Headers({"retry-after-ms": "150"})) == 0.15
    date = "Wed, 21 Oct 2015 07:28:05 GMT"
    now = 1445412480.0  # 5 s before that date
    assert retry_after_seconds(httpx.Headers({"Retry-After": date}), now=now) == 5.0
    assert retry_after_seconds(httpx.Headers({})) is None


def test_writer_recovers_a_torn_line(tmp_path):
    path = tmp_path / "a.jsonl"
    path.write_text('{"id": "a", "text": "x"}\n{"id": "b", "text": "y"}\n{"id": "c", "te')
    w = AnnotationWriter(path)
    assert w.ids == {"a", "b"} and w.recovered_bytes == len('{"id": "c", "te')
    assert not w.write({"id": "a", "text": "x"})
    assert w.write({"id": "c", "text": "z"})
    w.close()
    assert [r["id"] for r in read_annotations(path)] == ["a", "b", "c"]


JOB = textwrap.dedent("""
    import asyncio, sys
    from uniner.distill.prompts import get_template
    from uniner.distill.runner import Passage, run_distillation
    from uniner.distill.store import Store
    from uniner.distill.teachers.openai import OpenAITeacher
    base, workdir, n = sys.argv[1], sys.argv[2], int(sys.argv[3])
    passages = [Passage(f"p{i}", f"Passage number {i} mentions Paris.") for i in range(n)]
    async def main():
        t = OpenAITeacher(base, "teacher-1", api_key_env=None, timeout=600)
        with Store(workdir + "/job.sqlite") as store:
            await run_distillation(passages, t, get_template("pile-ner-type"), store,
                                   workdir + "/job.jsonl", concurrency=4)
        await t.aclose()
    asyncio.run(main())
""")


@pytest.mark.slow
def test_sigkill_midway_then_resume(tmp_path):
    n, conc, answered = 40, 4, 12
    answer = [{"content": '[("Paris", "city")]'}]
    script = {"models": ["teacher-1"], "latency": 0.05, "default": answer}
    # the first run gets answers for passages 0-11 only; later ones hang until the kill, so the
    # kill lands midway however slow or fast the machine is (no race against the clock)
    first_run = {
        **script,
        "by_hash": {
            sha(f"Passage number {i} mentions Paris."): [{"hang": 3600}] for i in range(answered, n)
        },
    }
    job = tmp_path / "job.py"
    job.write_text(JOB)
    out = tmp_path / "job.jsonl"
    with ScriptedServer(first_run, tmp_path / "requests.jsonl") as srv:
        env = {**os.environ, "PYTHONUNBUFFERED": "1"}
        proc = subprocess.Popen(
            [sys.executable, str(job), srv.base_url, str(tmp_path), str(n)], env=env
        )
        deadline = time.monotonic() + 600  # a bound for a stuck job, not a speed assumption
        while not (out.exists() and len(out.read_bytes().splitlines()) >= answered):
            assert proc.poll() is None and time.monotonic() < deadline, "the job never got going"
            time.sleep(0.05)
        while len(srv.requests) < answered + conc:  # every slot now waits on a hanging passage
            assert time.monotonic() < deadline
            time.sleep(0.05)
        proc.send_signal(signal.SIGKILL)
        proc.wait()
        assert proc.returncode == -signal.SIGKILL
        asked_before = len(srv.requests)
        db = sqlite3.connect(tmp_path / "job.sqlite")
        done_at_kill = {
            r[0] for r in db.execute("SELECT passage_hash FROM answers WHERE status='done'")
        }
        db.close()
        assert len(done_at_kill) == answered  # killed midway
        in_flight = asked_before - len(done_at_kill)
        assert in_flight == conc

        srv.script = script  # the rerun gets every answer
        proc = subprocess.run(
            [sys.executable, str(job), srv.base_url, str(tmp_path), str(n)], env=env, timeout=600
        )
        assert proc.returncode == 0
        log = list(srv.requests)

    ids = [json.loads(line)["id"] for line in out.read_text().splitlines()]
    assert sorted(ids) == sorted(f"p{i}" for i in range(n))  # each exactly once, none missing
    per = Counter(e["hash"] for e in log)
    assert set(per) == {sha(f"Passage number {i} mentions Paris.") for i in range(n)}
    asked_twice = {h for h, c in per.items() if c > 1}
    assert all(c <= 2 for c in per.values())
    assert len(asked_twice) == in_flight <= conc  # only what was in flight at the kill
    assert not asked_twice & done_at_kill  # nothing answered before the kill was paid again
    assert len(log) == n + in_flight
