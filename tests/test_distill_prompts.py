"""Teacher templates: the shipped ones are the paper's prompts verbatim; user files validated."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from uniner.data.errors import DataFormatError
from uniner.distill.prompts import builtin_templates, get_template

REFERENCE = Path(__file__).resolve().parents[1].parent / "shared" / "reference" / "uniner-paper.md"
SYSTEM = "You are a helpful information extraction system."
TYPE_PROMPT = (
    "Given a passage, your task is to extract all entities and identify their entity types. "
    'The output should be in a list of tuples of the following format: [("entity 1", "type of '
    'entity 1"), ... ].'
)


def test_type_prompt_verbatim():
    t = get_template("pile-ner-type")
    msgs = t.messages("Marie Curie was born in Warsaw.")
    assert msgs == [
        {"role": "system", "content": SYSTEM},
        {"role": "user", "content": TYPE_PROMPT + "\n\nPassage: Marie Curie was born in Warsaw."},
    ]
    if REFERENCE.is_file():  # and it is the sentence quoted in the reference
        assert f"`{TYPE_PROMPT}`" in REFERENCE.read_text(encoding="utf-8")
        assert f"`{SYSTEM}`" in REFERENCE.read_text(encoding="utf-8")


def test_definition_prompt_differs_only_in_task_phrase():
    t = get_template("pile-ner-definition@1")
    assert t.variant == "definition" and t.system == SYSTEM
    expected = TYPE_PROMPT.replace(
        "extract all entities and identify their entity types",
        "extract all entities and concepts, and define their type using a short sentence",
    )
    assert t.user == expected + "\n\nPassage: {passage}"
    assert t.digest != get_template("pile-ner-type").digest


def test_user_template_file(tmp_path):
    p = tmp_path / "mine.json"
    p.write_text(json.dumps({"name": "mine", "version": 3, "user": "List entities: {passage}"}))
    t = get_template(p)
    assert t.id == "mine@3" and t.messages("x") == [{"role": "user", "content": "List entities: x"}]
    bad = tmp_path / "bad.json"
    bad.write_text(json.dumps({"name": "bad", "version": 1, "user": "no placeholder"}))
    with pytest.raises(DataFormatError, match=r"bad\.json.*\{passage\}"):
        get_template(bad)
    with pytest.raises(KeyError, match="pile-ner-type"):
        get_template("nope")
    assert {"pile-ner-type", "pile-ner-definition"} <= set(builtin_templates())


def test_one_shot_template_sends_a_demonstration_first():
    t = get_template("pile-ner-type-1shot")
    msgs = t.messages("Ada Lovelace lived in London.")
    assert [m["role"] for m in msgs] == ["system", "user", "assistant", "user"]
    assert msgs[1]["content"].startswith(TYPE_PROMPT) and "Barack Obama" in msgs[1]["content"]
    assert msgs[2]["content"].startswith('[("Barack Obama", "person")')
    assert msgs[3]["content"] == TYPE_PROMPT + "\n\nPassage: Ada Lovelace lived in London."
    assert t.digest != get_template("pile-ner-type").digest
