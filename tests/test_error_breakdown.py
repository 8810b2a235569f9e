"""Error classes of predictions (uniner.evaluation.errors) and the saved benchmark predictions."""

import json

import pytest

from uniner.benchmark.dump import read_predictions, rescore
from uniner.benchmark.report import errors_chart, errors_table
from uniner.benchmark.runner import evaluate_split
from uniner.data.errors import DataFormatError
from uniner.data.types import Entity, Example
from uniner.evaluation.errors import classify, classify_example

TEXT = "Ada Lovelace met Charles Babbage in London , England , in 1833 ."


def ent(text, label, occurrence=0):
    start = -1
    for _ in range(occurrence + 1):
        start = TEXT.index(text, start + 1)
    return Entity(start, start + len(text), text, label)


GOLD = [
    ent("Ada Lovelace", "person"),
    ent("Charles Babbage", "person"),
    ent("London", "city"),
    ent("England", "country"),
    ent("1833", "year"),
]


def test_each_prediction_gets_one_class_and_missed_gold_is_counted():
    preds = [
        ent("Ada Lovelace", "person"),  # correct
        ent("London", "country"),  # same span, other label
        ent("Charles", "person"),  # inside a gold span of the same label
        ent("England , in", "country"),  # contains the gold span
        ent("met Charles Babbage", "writer"),  # overlaps a gold span of another label only
        ent("in", "city", 1),  # overlaps nothing
    ]
    out, classes = classify_example(GOLD, preds, TEXT)
    by_text = {e.text: c for e, c in classes}
    assert by_text == {
        "Ada Lovelace": "correct",
        "London": "wrong_label",
        "Charles": "boundary",
        "England , in": "boundary",
        "met Charles Babbage": "boundary_label",
        "in": "spurious",
    }
    assert out.boundary == {"shorter": 1, "longer": 1}
    assert out.confusions == {("city", "country"): 1}
    assert out.gold == 5 and out.missed == 1  # only "1833" has no overlapping prediction
    assert out.n_predictions == 6


def test_duplicates_count_once_and_punctuation_is_no_overlap():
    text = "U.S. Army units"
    gold = [Entity(0, 4, "U.S.", "country")]
    pred = [Entity(3, 9, ". Army", "country"), Entity(3, 9, ". Army", "country")]
    out, _ = classify_example(gold, pred, text)
    assert out.predictions == {"spurious": 1}  # they share only "."
    assert out.missed == 1
    # without the text any shared character counts as overlap
    assert classify_example(gold, pred)[0].predictions == {"boundary": 1}


def test_breakdowns_pool_over_examples_and_check_lengths():
    total = classify([GOLD, GOLD], [GOLD, []], [TEXT, TEXT])
    assert total.predictions == {"correct": 5}
    assert total.gold == 10 and total.missed == 5
    with pytest.raises(ValueError, match="2 gold lists for 1"):
        classify([GOLD, GOLD], [GOLD])


class Fixed:
    name = "fixed"

    def __init__(self, preds):
        self.preds = preds

    def extract_batch(self, texts, labels):
        return [self.preds if t == TEXT else [] for t in texts]


def test_saved_predictions_rescore_to_the_same_result_and_tables_render(tmp_path):
    examples = [Example(TEXT, tuple(GOLD)), Example("Nothing to see .", ())]
    labels = ["person", "city", "country", "year"]
    preds = [ent("Ada Lovelace", "person"), ent("London", "country"), ent("1833", "year")]
    path = tmp_path / "p.jsonl"
    # a seeded sample of queries: only the sampled types are saved and re-scored
    r = evaluate_split(
        Fixed(preds), "toy", "dev", labels, examples, max_queries=5, progress=False, save_to=path
    )
    again = rescore(path)
    assert again.to_dict() | {"seconds": 0} == r.to_dict() | {"seconds": 0}
    records = read_predictions(path)
    assert sum(len(x.labels) for x in records) == 5
    full = evaluate_split(Fixed(preds), "toy", "dev", labels, examples, progress=False)
    assert full.errors.predictions == {"correct": 2, "wrong_label": 1}
    assert full.errors.missed == 2  # Charles Babbage and England; London was found, mislabelled
    table = errors_table([full])
    assert "| toy | 3 | 66.7% | 33.3% |" in table and "city -> country (1)" in table
    errors_chart([full], tmp_path / "e.png", "fixed")
    assert (tmp_path / "e.png").read_bytes()[:4] == b"\x89PNG"


def test_malformed_predictions_file_names_the_line_and_field(tmp_path):
    good = {"dataset": "toy", "split": "dev", "index": 0, "text": "Ada", "labels": ["person"]}
    path = tmp_path / "bad.jsonl"
    lines = [
        good | {"gold": [], "predicted": []},
        good | {"gold": [], "predicted": [{"start": 0, "end": 3, "text": "Bob", "label": "x"}]},
    ]
    path.write_text("\n".join(json.dumps(x) for x in lines) + "\n")
    with pytest.raises(DataFormatError, match=r"bad.jsonl, line 2: predicted\[0\] says 'Bob'"):
        read_predictions(path)
    path.write_text(json.dumps(good | {"gold": []}) + "\n")
    with pytest.raises(DataFormatError, match=r"line 1.*predicted"):
        read_predictions(path)
    path.write_text(json.dumps(good | {"gold": [{"start": 0}], "predicted": []}) + "\n")
    with pytest.raises(DataFormatError, match=r"gold\[0\] is not a valid entity"):
        read_predictions(path)
