"""``uniner distill`` end to end against the scripted server: outputs, report, instruction data,
caching on a re-run, --report-only, config files, clear stop; and the Pile-NER passages here."""

from __future__ import annotations

import json

import pytest
from typer.testing import CliRunner

from conftest import require
from uniner.cli import _register, app
from uniner.data.readers import read_conversations, read_examples

require("tests.doubles.teacher_server", "serve")  # the scripted teacher: FastAPI, uvicorn
from tests.doubles.teacher_server import (  # noqa: E402
    ScriptedServer,
    script_from_examples,
    sha,
    tuples_answer,
)

DOCS = [
    "Marie Curie worked in Paris. She won the Nobel Prize in 1903.",
    "Alan Turing was born in London. He studied at King's College, Cambridge.",
    "Marie Curie worked in Paris. She won the Nobel Prize in 1903.",  # exact duplicate
    "Tesla builds cars in Berlin and Shanghai.",
]
ANSWERS = {
    DOCS[0]: [
        ("Marie Curie", "person"),
        ("Paris", "city"),
        ("Nobel Prize", "award"),
        ("1903", "date"),
    ],
    DOCS[1]: [
        ("Alan Turing", "person"),
        ("London", "city"),
        ("King's College", "college"),
        ("Cambridge", "city"),
    ],
    DOCS[3]: [("Tesla", "company"), ("Berlin", "city"), ("Shanghai", "city")],
}


@pytest.fixture
def corpus(tmp_path):
    p = tmp_path / "corpus.jsonl"
    p.write_text("".join(json.dumps({"body": d}) + "\n" for d in DOCS))
    return p


@pytest.fixture
def server():
    script = {
        "models": ["teacher-x"],
        "by_hash": {sha(t): [{"content": tuples_answer(a)}] for t, a in ANSWERS.items()},
    }
    with ScriptedServer(script) as srv:
        yield srv


def _invoke(args):
    _register()
    return CliRunner().invoke(app, ["distill", *args], catch_exceptions=False)


def test_distill_cli_end_to_end(corpus, server, tmp_path):
    out = tmp_path / "run"
    args = [
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
        "--price-in",
        "1000",
        "--price-out",
        "2000",
        "--instruct",
        "--negatives",
        "uniform",
        "--n-negatives",
        "1",
    ]
    res = _invoke(args)
    assert res.exit_code == 0, res.output
    rep = json.loads((out / "report.json").read_text())
    assert rep["passages"] == 3 and rep["mentions"] == 11 and rep["distinct_types"] == 6
    assert rep["run"]["dedup_dropped"] == {"exact": 1, "near": 0}
    assert rep["parse_failures"] == 0 and rep["hallucinated"] == 0
    assert rep["tokens_in"] > 0 and rep["tokens_out"] > 0
    expected_cost = (rep["tokens_in"] * 1000 + rep["tokens_out"] * 2000) / 1e6
    assert rep["cost"] == pytest.approx(expected_cost)
    assert [b["band"] for b in rep["bands"]] == ["top 1%", "1-10%", "10-100%"]
    assert sum(b["mentions"] for b in rep["bands"]) == 11
    assert rep["bands"][0]["examples"] == ["city"]  # 5 of 11 mentions
    assert (out / "type_frequency.png").read_bytes()[:4] == b"\x89PNG"
    assert "frequency bands" in (out / "report.md").read_text()
    convs = list(read_conversations(out / "instruct.json"))
    assert len(convs) == 3
    turing = next(c for c in convs if c.text == DOCS[1])
    answers = {q.label: q.answers for q in turing.queries}
    assert answers["city"] == ("London", "Cambridge")
    assert sum(1 for q in turing.queries if not q.answers) == 1  # one uniform negative

    asked = len(server.requests)
    res = _invoke(args)  # a re-run pays for nothing
    assert res.exit_code == 0
    assert len(server.requests) == asked == 3
    assert json.loads((out / "report.json").read_text())["run"]["cached"] == 3

    res = _invoke(["--out", str(out), "--report-only"])
    assert res.exit_code == 0 and "3 passages, 11 mentions, 6 types" in res.output


def test_distill_cli_config_file_and_clear_stop(corpus, server, tmp_path):
    cfg = tmp_path / "distill.toml"
    cfg.write_text(
        f'inputs = ["{corpus.name}"]\ntext_field = "body"\n'
        f'base_url = "{server.base_url}"\nmodel = "wrong-model"\napi_key_env = ""\n'
        f'out = "{tmp_path / "cfg-run"}"\n'
    )
    res = _invoke(["--config", str(cfg)])
    assert res.exit_code == 3
    assert "'wrong-model' is not served" in res.output
    res = _invoke(["--config", str(cfg), "--model", "teacher-x"])  # flags override the file
    assert res.exit_code == 0, res.output
    assert json.loads((tmp_path / "cfg-run" / "report.json").read_text())["passages"] == 3
    bad = tmp_path / "bad.toml"
    bad.write_text('modle = "x"\n')
    res = CliRunner().invoke(app, ["distill", "--config", str(bad)])
    assert res.exit_code != 0 and "unknown keys" in res.output


@pytest.mark.shared_data
def test_distill_pile_ner_passages_with_scripted_server(shared_data, tmp_path):
    src = (
        shared_data
        / "pile-ner"
        / "slimer"
        / "5pos_5neg_perNE_top391NEs_FalseDef"
        / "validation.jsonl"
    )
    gold = list(read_examples(src))
    script = script_from_examples(gold, noise=0.2, seed=1, models=["gpt-3.5-turbo-0301"])
    out = tmp_path / "pile"
    with ScriptedServer(script) as srv:
        res = _invoke(
            [
                str(src),
                "--text-field",
                "input",
                "--out",
                str(out),
                "--base-url",
                srv.base_url,
                "--model",
                "gpt-3.5-turbo-0301",
                "--api-key-env",
                "",
                "--concurrency",
                "16",
                "--price-in",
                "1.5",
                "--price-out",
                "2",
            ]
        )
        assert res.exit_code == 0, res.output
        asked = len({r["hash"] for r in srv.requests})
    rep = json.loads((out / "report.json").read_text())
    assert rep["passages"] == 882 == asked  # the README's passage count, each asked once
    assert rep["run"]["dedup_dropped"]["exact"] == 1320 - 882  # one line per (passage, type)
    assert rep["parse_failures"] > 0 and rep["hallucinated"] > 0  # the noisy shapes are counted
    assert rep["filtered"]["else_type"] > 0
    assert rep["distinct_types"] > 300
    assert rep["cost"] > 0
