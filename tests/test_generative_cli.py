"""``uniner train``: dispatch on the config, overrides, conversation files, bad input."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from typer.testing import CliRunner

from tests.doubles.generative import make_tiny_causal_lm
from uniner.cli import _register, app
from uniner.cli.train_cmd import config_kind


def _record(text: str, qas: list[tuple[str, str]]) -> dict:
    turns = [
        {"from": "human", "value": f"Text: {text}"},
        {"from": "gpt", "value": "I've read this text."},
    ]
    for label, answer in qas:
        turns += [
            {"from": "human", "value": f"What describes {label} in the text?"},
            {"from": "gpt", "value": answer},
        ]
    return {"id": text[:8], "conversations": turns}


@pytest.fixture(scope="module")
def tiny(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return make_tiny_causal_lm(tmp_path_factory.mktemp("tiny-lm-cli"))


def _config(tmp_path: Path, tiny: Path, data: Path) -> Path:
    cfg = tmp_path / "gen.toml"
    cfg.write_text(
        f'kind = "generative"\n[model]\nbase = "{tiny}"\nlora = false\n'
        f'[data]\ntrain = [{{ path = "{data}" }}]\nmax_length = 128\n'
        f'[train]\noutput_dir = "{tmp_path / "run"}"\nmax_steps = 50\nbatch_size = 2\n'
        "threads = 1\nsave_steps = 1\n",
        encoding="utf-8",
    )
    return cfg


def test_config_kind_dispatch() -> None:
    assert config_kind({"model": {"base": "x"}}) == "generative"
    assert config_kind({"kind": "generative", "model": {}}) == "generative"
    assert config_kind({"model": {"backbone": "minilm-l6"}}) == "span"


def test_uniner_train_on_a_conversation_file_with_overrides(tmp_path: Path, tiny: Path) -> None:
    data = tmp_path / "convs.json"
    data.write_text(
        json.dumps(
            [
                _record("Alan Turing was born in London.", [("person", '["Alan Turing"]')]),
                _record("Marie Curie worked in Paris.", [("city", '["Paris"]'), ("date", "[]")]),
            ]
        ),
        encoding="utf-8",
    )
    _register()
    res = CliRunner().invoke(
        app,
        ["train", "--config", str(_config(tmp_path, tiny, data)), "--set", "train.max_steps=2"],
    )
    assert res.exit_code == 0, res.output
    found = re.search(r'\{"global_step".*?\}', res.output)  # stderr bars share the stream
    assert found is not None, res.output[-2000:]
    out = json.loads(found.group())
    assert out["global_step"] == 2 and out["complete"] is True
    run = json.loads((tmp_path / "run" / "run.json").read_text())
    assert run["train"]["max_steps"] == 2  # the override, not the file's 50
    prep = json.loads((tmp_path / "run" / "prep.json").read_text())
    assert prep["questions"] == 3 and prep["conversations"] == 2


def test_missing_answer_turn_is_a_clear_error(tmp_path: Path, tiny: Path) -> None:
    rec = _record("Alan Turing was born in London.", [("person", '["Alan Turing"]')])
    rec["conversations"].pop()  # the last answer turn is missing
    data = tmp_path / "bad.json"
    data.write_text(json.dumps([rec]), encoding="utf-8")
    _register()
    res = CliRunner().invoke(app, ["train", "--config", str(_config(tmp_path, tiny, data))])
    assert res.exit_code == 1  # one line naming the file, no traceback (the uniner group)
    assert "bad.json" in res.stderr and "3 turns" in res.stderr and "Traceback" not in res.output


def test_zero_shot_files_are_refused(tmp_path: Path, tiny: Path, shared_data: Path) -> None:
    from uniner.students.generative.config import load_config
    from uniner.students.generative.train import load_conversations

    data = shared_data / "zero-shot" / "uniner" / "CrossNER_AI.json"
    run = load_config(_config(tmp_path, tiny, data))
    with pytest.raises(ValueError, match="zero-shot"):
        load_conversations(run)
    run.data.train[0].path = None
    run.data.train[0].dataset = "CrossNER_AI"
    with pytest.raises(ValueError, match="zero-shot"):
        load_conversations(run)


def test_uniner_extract_routes_a_generative_model_and_aligns_its_answers(
    tmp_path: Path, tiny: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from uniner.students.generative.extractor import GenerativeExtractor

    answers = {"person": '["Alan Turing", "Bob"]', "city": '["London"]', "date": "[]"}

    def fake_generate(self, texts, labels):  # the model is a random tiny LM: fix its answers
        return [[answers[lab] for lab in labels] for _ in texts]

    class Engine:
        def __init__(self):
            self.stats = type("S", (), {"windows": 0})()

        def windows(self, text, labels, dataset):
            return [(0, len(text))]

        def answer(self, texts, labels, dataset):
            return fake_generate(None, texts, labels)

    _register()
    monkeypatch.setattr(GenerativeExtractor, "engine", property(lambda self: Engine()))
    text = "Alan Turing was born in London."
    res = CliRunner().invoke(
        app, ["extract", text, "-m", str(tiny), "-l", "person", "-l", "city", "--json"]
    )
    assert res.exit_code == 0, res.output
    ents = json.loads(res.output.strip().splitlines()[-2])["entities"]
    got = sorted((e["start"], e["end"], e["text"], e["label"]) for e in ents)
    assert got == [(0, 11, "Alan Turing", "person"), (24, 30, "London", "city")]
    assert "not found" in res.output  # "Bob" is reported, not silently dropped
    inp = tmp_path / "in.jsonl"
    inp.write_text(json.dumps({"id": "a", "text": text, "labels": ["city", "date"]}) + "\n")
    res = CliRunner().invoke(app, ["extract", "-i", str(inp), "-m", str(tiny), "-l", "person"])
    assert res.exit_code == 0, res.output
    row = json.loads((tmp_path / "in.entities.jsonl").read_text())
    assert [(e["text"], e["label"]) for e in row["entities"]] == [("London", "city")]
