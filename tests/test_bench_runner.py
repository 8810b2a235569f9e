"""The benchmark runner, reports and predictions-file scoring on small hand-made data."""

import csv
import json

import pytest

from uniner.benchmark.predictions import score_predictions_file
from uniner.benchmark.report import bar_chart, markdown_table, write_csv, write_json
from uniner.benchmark.runner import (
    answer_for,
    evaluate_split,
    sample_passages,
    sample_queries,
    score_split,
)
from uniner.data.errors import DataFormatError
from uniner.data.types import Entity, Example

TEXTS = ["Alan Turing worked in Manchester .", "Python was made by Guido van Rossum ."]
EXAMPLES = [
    Example(
        TEXTS[0],
        (Entity(0, 11, "Alan Turing", "person"), Entity(22, 32, "Manchester", "location")),
    ),
    Example(
        TEXTS[1],
        (
            Entity(0, 6, "Python", "programming language"),
            Entity(19, 35, "Guido van Rossum", "person"),
        ),
    ),
]
LABELS = ["person", "location", "programming language"]


class Oracle:
    """Answers with the gold entities, optionally dropping a label or mangling one span."""

    name = "oracle"

    def __init__(self, drop_label=None, shift_first=False):
        self.by_text = {ex.text: list(ex.entities) for ex in EXAMPLES}
        self.drop_label = drop_label
        self.shift_first = shift_first
        self.calls = []

    def extract_batch(self, texts, labels):
        self.calls.append(list(texts))
        out = []
        for t in texts:
            ents = [e for e in self.by_text[t] if e.label != self.drop_label]
            if self.shift_first and ents:
                e = ents[0]
                ents[0] = Entity(e.start, e.start + 4, t[e.start : e.start + 4], e.label)
            out.append(ents)
        return out


def test_gold_predictions_score_one_on_every_metric():
    r = evaluate_split(Oracle(), "toy", "test", LABELS, EXAMPLES, progress=False)
    assert r.n_queries == 6 and r.n_passages == 2
    for c in (r.official, r.strict, r.partial, r.span_only):
        assert c.f1 == pytest.approx(1.0)


def test_missing_label_lowers_recall_not_precision():
    r = evaluate_split(Oracle(drop_label="person"), "toy", "test", LABELS, EXAMPLES, progress=False)
    assert r.official.precision == pytest.approx(1.0)
    assert r.official.recall == pytest.approx(2 / 4)
    assert r.strict.recall == pytest.approx(2 / 4)
    assert r.per_type["person"]["strict"]["f1"] == 0.0


def test_truncated_span_is_partial_not_strict():
    # "Alan Turing" -> "Alan" and "Python" -> "Pyth": strict misses, partial half credit each.
    r = evaluate_split(Oracle(shift_first=True), "toy", "test", LABELS, EXAMPLES, progress=False)
    assert r.strict.correct == 2
    assert r.partial.correct == pytest.approx(3.0)
    assert r.official.correct == 2


def test_query_sample_is_seeded_and_capped():
    a = sample_queries(100, LABELS, 50, seed=1)
    assert a == sample_queries(100, LABELS, 50, seed=1)
    assert a != sample_queries(100, LABELS, 50, seed=2)
    assert len(a) == 50
    assert [i for i, _ in a] == sorted(i for i, _ in a)
    assert len(sample_queries(3, LABELS, None)) == 9
    with pytest.raises(ValueError):
        sample_queries(100, LABELS, 0)


def test_sampled_run_reads_only_sampled_passages():
    oracle = Oracle()
    r = evaluate_split(
        oracle, "toy", "test", LABELS, EXAMPLES, max_queries=2, seed=0, progress=False
    )
    assert r.n_queries == 2
    read = [t for call in oracle.calls for t in call]
    assert len(read) == r.n_passages <= 2


def test_passage_sample_asks_every_type_of_fewer_passages():
    a = sample_passages(100, LABELS, 7, seed=1)
    assert a == sample_passages(100, LABELS, 7, seed=1)
    assert a != sample_passages(100, LABELS, 7, seed=2)
    passages = sorted({i for i, _ in a})
    assert len(passages) == 7 and len(a) == 7 * len(LABELS)
    assert a == [(i, lab) for i in passages for lab in LABELS]
    assert len(sample_passages(3, LABELS, 10)) == 9  # fewer passages than the cap: all of them
    with pytest.raises(ValueError, match="max_passages"):
        sample_passages(100, LABELS, 0)


def test_passage_sampled_run_scores_all_types_of_the_sampled_passage():
    oracle = Oracle(drop_label="location")
    r = evaluate_split(
        oracle, "toy", "test", LABELS, EXAMPLES, max_passages=1, seed=0, progress=False
    )
    assert r.n_passages == 1 and r.n_queries == len(LABELS)
    read = [t for call in oracle.calls for t in call]
    assert len(read) == 1
    with pytest.raises(ValueError, match="not both"):
        evaluate_split(
            oracle, "toy", "test", LABELS, EXAMPLES, max_queries=2, max_passages=1, progress=False
        )


def test_answer_string_order_and_dedup():
    ents = [
        Entity(10, 14, "Rome", "city"),
        Entity(0, 5, "Paris", "city"),
        Entity(20, 25, "Paris", "city"),
    ]
    assert answer_for(ents, "city") == '["Paris", "Rome"]'
    assert answer_for(ents, "person") == "[]"


def test_length_mismatch_is_an_error():
    with pytest.raises(ValueError, match="predictions"):
        score_split("toy", "test", LABELS, EXAMPLES, [[]])


def test_reports_are_written(tmp_path):
    r = evaluate_split(Oracle(drop_label="person"), "toy", "test", LABELS, EXAMPLES, progress=False)
    write_json([r], tmp_path / "r.json", {"command": "x"})
    write_csv([r], tmp_path / "r.csv")
    bar_chart([r], tmp_path / "r.png", "oracle", reference={"toy": 50.0})
    data = json.loads((tmp_path / "r.json").read_text())
    assert data["results"][0]["official"]["recall"] == pytest.approx(0.5)
    rows = list(csv.DictReader((tmp_path / "r.csv").open()))
    assert float(rows[0]["strict_f1"]) == pytest.approx(r.strict.f1)
    assert (tmp_path / "r.png").read_bytes()[:4] == b"\x89PNG"
    md = markdown_table([r], "oracle", {"UniNER-7B": {"toy": 40.0}})
    assert "| UniNER-7B (paper) | 40.0 | 40.0 |" in md
    assert f"| **oracle** (official) | {100 * r.official.f1:.1f}" in md


def test_predictions_file_scores_raw_generations(tmp_path):
    recs = [
        {
            "id": "a",
            "conversations": [{"from": "gpt", "value": '["Paris"]'}],
            "prediction": '["paris"]',
        },
        {
            "id": "b",
            "conversations": [{"from": "gpt", "value": '["Rome"]'}],
            "prediction": 'Sure! ["Rome"]',
        },
    ]
    p = tmp_path / "preds.json"
    p.write_text(json.dumps(recs))
    res = score_predictions_file(p)
    assert res["queries"] == 2 and res["correct"] == 1 and res["gold"] == 2
    # JSONL joined with a separate gold file by id
    jl = tmp_path / "preds.jsonl"
    jl.write_text('{"id": "b", "pred": "[\\"Rome\\"]"}\n')
    gold = tmp_path / "gold.json"
    gold.write_text(json.dumps([{k: v for k, v in r.items() if k != "prediction"} for r in recs]))
    assert score_predictions_file(jl, gold)["f1"] == pytest.approx(1.0)


def test_predictions_file_errors_name_the_record(tmp_path):
    p = tmp_path / "bad.json"
    p.write_text(json.dumps([{"id": "x", "conversations": [{"value": "[]"}]}]))
    with pytest.raises(DataFormatError, match=r"record 0 .*no prediction"):
        score_predictions_file(p)
    p.write_text("")
    with pytest.raises(DataFormatError, match="empty"):
        score_predictions_file(p)
    p.write_text('{"id": 1, "prediction": "[]"}\n{"id": 2,')
    with pytest.raises(DataFormatError, match="line 2"):
        score_predictions_file(p)
