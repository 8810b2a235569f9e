"""Training data sources of the span student: the zero-shot guard and conversation files."""

from __future__ import annotations

import json

import pytest

from uniner.data.sources import DataSource, load_sources


def test_a_source_names_exactly_one_origin():
    with pytest.raises(ValueError, match="exactly one"):
        DataSource()
    with pytest.raises(ValueError, match="exactly one"):
        DataSource(path="a.json", dataset="conllpp")


def test_zero_shot_sets_are_refused_for_training(shared_data):
    for name in ("CrossNER_AI", "mit-movie"):
        with pytest.raises(ValueError, match="zero-shot"):
            load_sources([DataSource(dataset=name, split="dev")])
    with pytest.raises(ValueError, match="cannot choose a checkpoint"):
        load_sources([DataSource(dataset="CrossNER_AI", split="dev")], use="selection")
    dev = load_sources([DataSource(dataset="CrossNER_AI", split="dev", sample=5)], use="scoring")
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


def test_skip_and_limit_cut_one_file_into_disjoint_parts(tmp_path):
    """``limit = N`` for training and ``skip = N`` for the held-out part share no example."""
    lines = [{"text": f"Sentence {i} names Paris .", "entities": []} for i in range(10)]
    p = tmp_path / "mine.jsonl"
    p.write_text("".join(json.dumps(r) + "\n" for r in lines))
    train = load_sources([DataSource(path=str(p), limit=7)])
    held = load_sources([DataSource(path=str(p), skip=7)], use="scoring")
    assert [e.text for e in train] == [r["text"] for r in lines[:7]]
    assert [e.text for e in held] == [r["text"] for r in lines[7:]]
    both = load_sources([DataSource(path=str(p), skip=2, limit=3)])
    assert [e.text for e in both] == [r["text"] for r in lines[2:5]]
    assert load_sources([DataSource(path=str(p), skip=50)]) == []


@pytest.mark.parametrize("key", ["skip", "limit", "sample"])
def test_counts_must_be_non_negative_integers(key):
    for bad in (-1, 2.5, "3", True):
        with pytest.raises(ValueError, match=f"{key} must be an integer >= 0"):
            DataSource(path="a.jsonl", **{key: bad})


def test_the_adaptation_config_holds_out_what_it_does_not_train_on(shared_data):
    """configs/adapt-mpnet-jnlpba.toml: JNLPBA dev cut into 1,239 training and 500 held-out
    sentences, starting from the installed default."""
    from pathlib import Path

    from uniner.models import DEFAULT_MODEL
    from uniner.students.span.config import load_run_config

    run = load_run_config(Path(__file__).resolve().parents[1] / "configs/adapt-mpnet-jnlpba.toml")
    assert run.train.init_from == DEFAULT_MODEL
    train = load_sources(run.data.train, seed=run.train.seed)
    held = load_sources(run.data.dev, seed=run.train.seed, use="scoring")
    assert (len(train), len(held)) == (1239, 500)
    assert not {e.id for e in train} & {e.id for e in held}
    assert set(held[0].labels) == {"DNA", "RNA", "cell line", "cell type", "protein"}
