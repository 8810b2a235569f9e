"""End to end with the local SmolLM2 teacher: real passages in, annotations, report and
instruction data out. A 135M model annotates badly; what is tested is the path: every passage
answered once with real token counts, every answer parsed or counted as a failure, and the
instruction data built from exactly the parseable ones."""

from __future__ import annotations

import json
import sqlite3

import pytest
from typer.testing import CliRunner

from uniner.backbones import fetch
from uniner.cli import _register, app
from uniner.data.readers import read_conversations
from uniner.paths import data_dir

FALLBACK = [
    "Marie Curie was born in Warsaw and later worked at the University of Paris.",
    "Apple released the first iPhone in 2007, and Steve Jobs presented it in San Francisco.",
    "The Amazon River flows through Brazil, Peru and Colombia before reaching the Atlantic.",
]


def _passages() -> list[str]:
    """Three plain sentences, plus one short Pile-NER passage when the shared data is here."""
    root = data_dir()
    src = (
        None
        if root is None
        else (
            root / "pile-ner" / "slimer" / "5pos_5neg_perNE_top391NEs_FalseDef" / "validation.jsonl"
        )
    )
    if src is None or not src.is_file():
        return list(FALLBACK)
    with open(src, encoding="utf-8") as fh:
        for line in fh:
            text = json.loads(line)["input"].strip()
            if len(text.split()) < 60:  # a short one: generation runs on CPU
                return [*FALLBACK, text]
    return list(FALLBACK)


@pytest.mark.slow
def test_local_smollm2_teacher_end_to_end(tmp_path, one_torch_thread):
    fetch("smollm2-135m-instruct")  # once per machine: cached afterwards
    passages = _passages()
    corpus = tmp_path / "corpus.jsonl"
    corpus.write_text("".join(json.dumps({"text": p}) + "\n" for p in passages))
    out = tmp_path / "run"
    _register()
    args = [
        str(corpus),
        "--out",
        str(out),
        "--teacher",
        "local",
        "--model",
        "smollm2-135m-instruct",
        "--template",
        "pile-ner-type-1shot",
        "--max-new-tokens",
        "48",
        "--concurrency",
        "1",
        "--instruct",
        "--negatives",
        "frequency",
        "--n-negatives",
        "1",
    ]
    res = CliRunner().invoke(app, ["distill", *args], catch_exceptions=False)
    assert res.exit_code == 0, res.output

    records = [json.loads(line) for line in (out / "annotations.jsonl").read_text().splitlines()]
    assert sorted(r["text"] for r in records) == sorted(passages)
    db = sqlite3.connect(out / "store.sqlite")
    rows = db.execute(
        "SELECT teacher, model, prompt_tokens, completion_tokens, response "
        "FROM answers WHERE status='done'"
    ).fetchall()
    db.close()
    assert len(rows) == len(passages)
    for teacher, model, tin, tout, response in rows:
        assert (teacher, model) == ("local-transformers", "smollm2-135m-instruct")
        assert tin > 40 and 0 < tout <= 48 and isinstance(response, str)

    rep = json.loads((out / "report.json").read_text())
    assert rep["passages"] == len(passages)
    assert sum(rep["parse"].values()) == len(passages)
    assert rep["tokens_in"] == sum(r[2] for r in rows)

    usable = [r for r in records if r["teacher"]["parse"] != "unparseable"]
    assert usable  # with one demonstration SmolLM2 answers in the format
    convs = list(read_conversations(out / "instruct.json"))
    assert len(convs) == len(usable)
    assert {c.text for c in convs} == {r["text"] for r in usable}
    for c in convs:
        rec = next(r for r in usable if r["text"] == c.text)
        kept_types = {label for _, label in rec["teacher"]["kept"]}
        asked_pos = {q.label for q in c.queries if q.answers}
        assert asked_pos == {e["label"] for e in rec["entities"]} <= kept_types

    res = CliRunner().invoke(app, ["distill", *args], catch_exceptions=False)
    assert res.exit_code == 0  # re-run: everything from the store, no generation
    assert json.loads((out / "report.json").read_text())["run"]["asked"] == 0
