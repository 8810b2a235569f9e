"""``uniner distill --engine ray`` against the scripted teacher server on a local 2-CPU Ray:
the local runner's annotations, report and instruction data; each passage asked once across
reruns, failures, a crashed run's leftover shards and a worker killed with a request in flight."""

from __future__ import annotations

import asyncio
import functools
import json
import os
import signal
import sys
from collections import Counter

import pytest
from typer.testing import CliRunner

from conftest import require

require("ray", "ray")
require("tests.doubles.teacher_server", "serve")  # the scripted teacher: FastAPI, uvicorn

from tests.doubles.teacher_server import ScriptedServer, sha, tuples_answer  # noqa: E402
from uniner.cli import _register, app  # noqa: E402
from uniner.distill.prompts import get_template  # noqa: E402
from uniner.distill.runner import Passage, run_distillation  # noqa: E402
from uniner.distill.store import Store  # noqa: E402
from uniner.distill.teachers.openai import OpenAITeacher  # noqa: E402

DOCS = [
    "Marie Curie worked in Paris. She won the Nobel Prize in 1903.",
    "Alan Turing was born in London. He studied at King's College, Cambridge.",
    "Tesla builds cars in Berlin and Shanghai.",
    "Ada Lovelace wrote notes on the Analytical Engine in London.",
    "The Danube flows through Vienna and Budapest.",
]
ANSWERS = {
    DOCS[0]: [("Marie Curie", "person"), ("Paris", "city"), ("Nobel Prize", "award")],
    DOCS[1]: [("Alan Turing", "person"), ("London", "city"), ("King's College", "college")],
    DOCS[2]: [("Tesla", "company"), ("Berlin", "city"), ("Shanghai", "city")],
    DOCS[3]: [("Ada Lovelace", "person"), ("Analytical Engine", "machine")],
}


@pytest.fixture
def corpus(tmp_path):
    p = tmp_path / "corpus.jsonl"
    p.write_text("".join(json.dumps({"body": d}) + "\n" for d in DOCS))
    return p


@pytest.fixture
def server():
    """DOCS[4] gets a 500 on its 1st and 3rd request (a failed passage, asked again next run),
    and an answer with one malformed item otherwise."""
    river = {"content": '[("Danube", "river"), ("Vienna", "city"), ("Budapest")]'}
    script = {
        "models": ["teacher-x"],
        "by_hash": {
            **{sha(t): [{"content": tuples_answer(a)}] for t, a in ANSWERS.items()},
            sha(DOCS[4]): [{"status": 500}, river, {"status": 500}, river],
        },
    }
    with ScriptedServer(script) as srv:
        yield srv


def _distill(corpus, server, out, *extra: str):
    _register()
    args = [
        "distill",
        str(corpus),
        "--text-field",
        "body",
        "--out",
        str(out),
        "--base-url",
        server.base_url,
        "--model",
        "teacher-x",
        "--api-key-env",
        "",
        "--max-retries",
        "0",
        "--instruct",
        "--negatives",
        "uniform",
        "--n-negatives",
        "1",
        *extra,
    ]
    return CliRunner().invoke(app, args, catch_exceptions=False)


def _outputs(out):
    rep = json.loads((out / "report.json").read_text())
    rep.pop("run")
    return (out / "annotations.jsonl").read_text(), (out / "instruct.json").read_text(), rep


def test_ray_distill_equals_the_local_runner_and_asks_once(ray_local, corpus, server, tmp_path):
    local = _distill(corpus, server, tmp_path / "local", "--concurrency", "1")
    assert local.exit_code == 0, local.output
    local = _distill(corpus, server, tmp_path / "local", "--concurrency", "1")  # retry the 500
    assert local.exit_code == 0 and len(server.requests) == 6  # 4 + 1 failure + 1
    asked = len(server.requests)

    ray = _distill(corpus, server, tmp_path / "ray", "--engine", "ray", "--shard-size", "2")
    assert ray.exit_code == 0, ray.output
    assert "1 passages failed" in ray.output and not (tmp_path / "ray" / "shards").exists()
    ray = _distill(corpus, server, tmp_path / "ray", "--engine", "ray", "--shard-size", "3")
    assert ray.exit_code == 0, ray.output
    assert len(server.requests) - asked == 6, "each passage asked once, the failed one again"
    assert _outputs(tmp_path / "ray") == _outputs(tmp_path / "local")
    rep = json.loads((tmp_path / "ray" / "report.json").read_text())
    assert rep["passages"] == 5 and rep["run"]["cached"] == 4 and rep["run"]["asked"] == 1

    again = _distill(corpus, server, tmp_path / "ray", "--engine", "ray", "--shard-size", "2")
    assert again.exit_code == 0 and len(server.requests) - asked == 6, "a rerun pays for nothing"
    assert _outputs(tmp_path / "ray") == _outputs(tmp_path / "local")


def test_a_crashed_runs_shards_are_merged_not_asked_again(ray_local, corpus, server, tmp_path):
    """A driver killed mid-run leaves OUT/shards with answers only in their stores: the next
    run (another shard size) merges them first and asks only for the rest."""
    out = tmp_path / "ray"
    leftover = out / "shards" / "00001"
    leftover.mkdir(parents=True)
    teacher = OpenAITeacher(server.base_url, "teacher-x", api_key_env=None, max_retries=0)

    async def crashed_shard():
        try:
            with Store(leftover / "store.sqlite") as store:
                await run_distillation(
                    [Passage("x", DOCS[1])],
                    teacher,
                    get_template("pile-ner-type"),
                    store,
                    leftover / "annotations.jsonl",
                )
        finally:
            await teacher.aclose()

    asyncio.run(crashed_shard())
    assert len(server.requests) == 1
    res = _distill(corpus, server, out, "--engine", "ray", "--shard-size", "4")
    assert res.exit_code == 0, res.output
    asked = [r["hash"] for r in server.requests[1:]]
    assert sha(DOCS[1]) not in asked and sorted(set(asked)) == sorted(
        sha(d) for d in DOCS if d != DOCS[1]
    )
    recs = [json.loads(line) for line in (out / "annotations.jsonl").read_text().splitlines()]
    assert [r["text"] for r in recs] == DOCS[:4]  # passage order; DOCS[4] failed


def killing_teacher(settings, kill_flag):
    """The command's teacher, but the first answer of the run kills its worker process before
    it reaches the store (a worker dying with a request in flight)."""
    from uniner.distill.pipeline import make_teacher

    teacher = make_teacher(settings)
    complete = teacher.complete

    async def dying(messages):
        answer = await complete(messages)
        try:
            os.close(os.open(kill_flag, os.O_CREAT | os.O_EXCL))
        except FileExistsError:
            return answer
        os.kill(os.getpid(), signal.SIGKILL)

    teacher.complete = dying
    return teacher


def test_a_killed_worker_loses_only_its_request_in_flight(ray_local, server, tmp_path):
    import ray.cloudpickle

    from uniner.distill.settings import DistillSettings
    from uniner.scale.ray_distill import annotate_on_ray

    ray.cloudpickle.register_pickle_by_value(sys.modules[__name__])
    flag = tmp_path / "killed"
    settings = DistillSettings(
        base_url=server.base_url,
        model="teacher-x",
        api_key_env="",
        max_retries=0,
        concurrency=1,
        shard_size=5,
    )
    make_teacher = functools.partial(killing_teacher, kill_flag=str(flag))
    passages = [Passage(str(i), d) for i, d in enumerate(DOCS[:4])]
    stats = annotate_on_ray(
        passages, settings, make_teacher, get_template("pile-ner-type"), tmp_path
    )
    assert flag.exists(), "a worker was killed mid-run"
    asked = Counter(r["hash"] for r in server.requests)
    assert sorted(asked.values()) == [1, 1, 1, 2], "only the answer lost in flight is asked again"
    recs = [json.loads(line) for line in (tmp_path / "annotations.jsonl").read_text().splitlines()]
    assert [r["text"] for r in recs] == DOCS[:4] and stats.failed == 0
    with Store(tmp_path / "store.sqlite") as store:
        assert store.counts() == {"done": 4}
