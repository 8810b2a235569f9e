"""Training data sources of the span student: the zero-shot guard and conversation files."""

from __future__ import annotations

import json

import pytest

from uniner.students.span.config import DataSource
from uniner.students.span.train import load_sources


def test_a_source_names_exactly_one_origin():
    with pytest.raises(ValueError, match="exactly one"):
        DataSource()
    with pytest.raises(ValueError, match="exactly one"):
        DataSource(path="a.json", dataset="conllpp")


def test_zero_shot_sets_are_refused_for_training(shared_data):
    for name in ("CrossNER_AI", "mit-movie"):
        with pytest.raises(ValueError, match="zero-shot"):
            load_sources([DataSource(dataset=name, split="dev")])
    dev = load_sources(
        [DataSource(dataset="CrossNER_AI", split="dev", sample=5)], for_training=False
    )
    assert len(dev) == 5 and "misc" not in dev[0].labels and "else" not in dev[0].labels


def test_sample_is_seeded(shared_data):
    src = [DataSource(dataset="conllpp", sample=20)]
    a, b = load_sources(src, seed=1), load_sources(src, seed=1)
    assert [e.text for e in a] == [e.text for e in b]
    assert [e.text for e in a] != [e.text for e in load_sources(src, seed=2)]


def test_conversation_files_are_training_data(tmp_path):
    """The Pile-NER conversation form (what distillation writes) trains the span student."""
    conv = [
        {
            "id": "0",
            "conversations": [
                {"from": "human", "value": "Text: Marie Curie worked in Paris and Warsaw."},
                {"from": "gpt", "value": "I've read this text."},
                {"from": "human", "value": "What describes person in the text?"},
                {"from": "gpt", "value": '["Marie Curie"]'},
                {"from": "human", "value": "What describes city in the text?"},
                {"from": "gpt", "value": '["Paris", "Warsaw"]'},
                {"from": "human", "value": "What describes disease in the text?"},
                {"from": "gpt", "value": "[]"},
            ],
        }
    ]
    p = tmp_path / "distilled.json"
    p.write_text(json.dumps(conv))
    (ex,) = load_sources([DataSource(path=str(p))])
    assert [(e.text, e.label) for e in ex.entities] == [
        ("Marie Curie", "person"),
        ("Paris", "city"),
        ("Warsaw", "city"),
    ]
    assert set(ex.labels) == {"person", "city", "disease"}  # the negative type is kept
