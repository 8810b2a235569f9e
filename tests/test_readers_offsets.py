"""The offsets format: uniner extract's output (and Prodigy / doccano span lists) as data."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from uniner.data.errors import DataFormatError
from uniner.data.readers import detect_format, read_examples

TEXT = "Marie Curie worked in Paris."


def write(tmp_path: Path, *records: object, name: str = "data.jsonl") -> Path:
    p = tmp_path / name
    p.write_text("".join(json.dumps(r) + "\n" for r in records), encoding="utf-8")
    return p


def test_extract_output_reads_back_as_examples(tmp_path: Path) -> None:
    """A line as ``uniner extract -o`` writes it (id, score, windowed) is an example."""
    rec = {
        "id": "doc-7",
        "text": TEXT,
        "entities": [
            {"start": 22, "end": 27, "text": "Paris", "label": "city", "score": 0.9},
            {"start": 0, "end": 11, "text": "Marie Curie", "label": "person", "score": 0.99},
        ],
        "windowed": False,
    }
    p = write(tmp_path, rec, {"text": "Nothing here.", "entities": [], "labels": ["city"]})
    assert detect_format(p) == "offsets"
    first, second = read_examples(p)
    assert first.id == "doc-7" and first.labels is None
    assert [(e.start, e.end, e.text, e.label) for e in first.entities] == [
        (0, 11, "Marie Curie", "person"),
        (22, 27, "Paris", "city"),
    ]
    assert second.entities == () and second.labels == ("city",)  # a negative-only record
    assert second.id == "data.jsonl:1"


def test_prodigy_and_doccano_span_lists(tmp_path: Path) -> None:
    prodigy = {"text": TEXT, "spans": [{"start": 22, "end": 27, "label": "city"}]}
    doccano = {"text": TEXT, "label": [[0, 11, "person"]]}
    typed = {"text": TEXT, "entities": [{"start": 0, "end": 5, "type": "name"}]}
    a, b, c = read_examples(write(tmp_path, prodigy, doccano, typed))
    assert [(e.text, e.label) for e in a.entities] == [("Paris", "city")]
    assert [(e.text, e.label) for e in b.entities] == [("Marie Curie", "person")]
    assert [(e.text, e.label) for e in c.entities] == [("Marie", "name")]


def test_a_json_list_of_records_is_read_too(tmp_path: Path) -> None:
    p = tmp_path / "data.json"
    p.write_text(json.dumps([{"text": TEXT, "entities": [[22, 27, "city"]]}]))
    assert detect_format(p) == "offsets"
    (ex,) = read_examples(p)
    assert ex.entities[0].text == "Paris"


@pytest.mark.parametrize(
    ("span", "message"),
    [
        ({"start": 22, "end": 27, "text": "Pari", "label": "city"}, "says 'Pari'"),
        ({"start": 22, "end": 99, "label": "city"}, r"\[22, 99\) lie outside the text"),
        ({"start": 5, "end": 5, "label": "city"}, r"\[5, 5\) lie outside"),
        ({"start": "22", "end": 27, "label": "city"}, "must be integers"),
        ({"start": 22, "end": 27, "label": " "}, "missing or empty label"),
        ({"start": 22, "end": 27}, "missing or empty label"),
        ([22, 27], "bad span"),
    ],
)
def test_bad_spans_name_the_line_and_the_span(tmp_path: Path, span: object, message: str) -> None:
    good = {"text": TEXT, "entities": []}
    p = write(
        tmp_path, good, {"text": TEXT, "entities": [{"start": 0, "end": 5, "label": "a"}, span]}
    )
    with pytest.raises(DataFormatError, match=message) as info:
        list(read_examples(p))
    assert info.value.line == 2 and "record 1, span 1" in str(info.value)
    assert str(p) in str(info.value)


def test_bad_records(tmp_path: Path) -> None:
    no_spans = write(
        tmp_path, {"text": TEXT, "entities": []}, {"text": TEXT, "tags": []}, name="a.jsonl"
    )
    with pytest.raises(DataFormatError, match="record 1 has no span list") as info:
        list(read_examples(no_spans, format="offsets"))
    assert info.value.line == 2
    stray = write(
        tmp_path,
        {"text": TEXT, "entities": [[22, 27, "city"]], "labels": ["person"]},
        name="b.jsonl",
    )
    with pytest.raises(DataFormatError, match=r"\['city'\] are not in its labels"):
        list(read_examples(stray))
    # an explicit empty label set cannot hold a span's label either
    empty_set = write(
        tmp_path, {"text": TEXT, "entities": [[22, 27, "city"]], "labels": []}, name="e.jsonl"
    )
    with pytest.raises(DataFormatError, match=r"\['city'\] are not in its labels \[\]"):
        list(read_examples(empty_set))
    bad_labels = write(tmp_path, {"text": TEXT, "entities": [], "labels": "city"}, name="c.jsonl")
    with pytest.raises(DataFormatError, match="labels must be a list"):
        list(read_examples(bad_labels))
    not_text = write(tmp_path, {"text": 3, "entities": []}, name="d.jsonl")
    with pytest.raises(DataFormatError, match="key 'text' is a int"):
        list(read_examples(not_text))
