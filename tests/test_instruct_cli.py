"""``uniner instruct build`` from a supervised BIO file with a label map, from distilled
annotations, and from a conversation file (type counts kept)."""

from __future__ import annotations

import json

import pytest
from typer.testing import CliRunner

from uniner.cli import _register, app
from uniner.data.readers import read_conversations
from uniner.instruct import count_types


def _run(args):
    _register()
    return CliRunner().invoke(app, ["instruct", "build", *args], catch_exceptions=False)


def test_supervised_bio_with_label_map_and_dataset(tmp_path):
    bio = tmp_path / "train.txt"
    bio.write_text(
        "Alan\tB-PER\nTuring\tI-PER\nvisited\tO\nParis\tB-LOC\n.\tO\n\n"
        "Google\tB-ORG\nhired\tO\nAda\tB-PER\n.\tO\n"
    )
    lm = tmp_path / "map.json"
    lm.write_text(json.dumps({"PER": "person", "LOC": "location", "ORG": "organization"}))
    out = tmp_path / "sup.json"
    res = _run(
        [
            str(bio),
            "--out",
            str(out),
            "--label-map",
            str(lm),
            "--dataset",
            "toy",
            "--negatives",
            "none",
            "--no-shuffle",
        ]
    )
    assert res.exit_code == 0, res.output
    convs = list(read_conversations(out))
    assert [c.dataset for c in convs] == ["toy", "toy"]
    assert [(q.label, q.answers) for q in convs[0].queries] == [
        ("person", ("Alan Turing",)),
        ("location", ("Paris",)),
    ]
    assert out.read_text().startswith('[{"id": ')


def test_from_annotations_skips_unparseable(tmp_path):
    ann = tmp_path / "annotations.jsonl"
    recs = [
        {
            "id": "a",
            "text": "Paris is nice.",
            "entities": [{"start": 0, "end": 5, "text": "Paris", "label": "city"}],
            "teacher": {"parse": "ok", "kept": [["Paris", "city"]]},
        },
        {"id": "b", "text": "Hmm.", "entities": [], "teacher": {"parse": "unparseable"}},
    ]
    ann.write_text("".join(json.dumps(r) + "\n" for r in recs))
    out = tmp_path / "i.json"
    res = _run([str(ann), "--out", str(out), "--negatives", "none"])
    assert res.exit_code == 0 and "1 conversations" in res.output
    (conv,) = read_conversations(out)
    assert conv.id == "a" and conv.queries[0].answers == ("Paris",)
    assert _run([str(ann), "--out", str(out), "--negatives", "sometimes"]).exit_code != 0


@pytest.mark.shared_data
def test_from_pile_ner_conversations_keeps_type_counts(shared_data, tmp_path):
    src = (
        shared_data
        / "pile-ner"
        / "slimer"
        / "5pos_5neg_perNE_top391NEs_TrueDef"
        / "validation.jsonl"
    )
    out = tmp_path / "pile.json"
    res = _run([str(src), "--out", str(out), "--negatives", "none"])
    assert res.exit_code == 0, res.output
    before, after = count_types(read_conversations(src)), count_types(read_conversations(out))
    assert after.positive == before.positive and after.mentions == before.mentions
    assert sum(after.mentions.values()) == 1576  # the data README's count for this file
