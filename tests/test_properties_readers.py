"""Property-based tests of every reader: whatever bytes a file holds, reading it either yields
examples whose offsets point at the text they claim, or raises the documented
:class:`DataFormatError` (file, line, what was expected). Never a KeyError, a TypeError, a
RecursionError or a bare ValueError from deep inside a reader.

Inputs: random bytes, random text with lone surrogates (written as the invalid UTF-8 they
become), near-valid records of each format with random values in their fields, then cut short,
padded with huge numbers or nested too deep. Each property runs a bounded number of examples.
"""

from __future__ import annotations

import itertools
import json
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from uniner.data.errors import DataFormatError
from uniner.data.readers import FORMATS, detect_format, read_examples, read_records
from uniner.data.types import Example

SETTINGS = settings(
    max_examples=60,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
EXTENSIONS = ["", ".txt", ".json", ".jsonl", ".conll", ".conllu", ".tsv", ".bio", ".md"]

# --- file names -------------------------------------------------------------------------------

_names = itertools.count()


@pytest.fixture(scope="module")
def folder(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One folder for the module: hypothesis runs many examples per test, each gets a new name."""
    return tmp_path_factory.mktemp("fuzz")


def put(folder: Path, data: bytes, ext: str) -> Path:
    path = folder / f"f{next(_names)}{ext}"
    path.write_bytes(data)
    return path


# --- checks -----------------------------------------------------------------------------------


def check_example(ex: Example) -> None:
    """The invariants every reader promises for what it yields."""
    assert isinstance(ex, Example) and isinstance(ex.text, str)
    for e in ex.entities:
        assert 0 <= e.start < e.end <= len(ex.text)
        assert ex.text[e.start : e.end] == e.text
        assert isinstance(e.label, str) and e.label.strip()
    tokens = ex.meta.get("tokens")
    if tokens is not None:  # column and GLiNER files: the text is the tokens joined by spaces
        assert ex.text == " ".join(tokens)


def read_all(path: Path, fmt: str) -> None:
    """Every record and, where the format has them, every example; only DataFormatError."""
    spec = FORMATS[fmt]
    try:
        list(read_records(path, fmt))
    except DataFormatError as err:
        assert err.path == str(path)
    if spec.examples is None:
        return
    try:
        for ex in read_examples(path, fmt):
            check_example(ex)
    except DataFormatError as err:
        assert err.path == str(path)


def detect_and_read(path: Path) -> None:
    try:
        fmt = detect_format(path)
    except DataFormatError as err:
        assert err.path == str(path)
        return
    assert fmt in FORMATS
    read_all(path, fmt)


# --- strategies -------------------------------------------------------------------------------

# Any code point, lone surrogates included (JSON can carry them as \ud800 escapes).
any_text = st.text(st.characters(codec=None), max_size=12)
small_int = st.integers(-3, 40)
json_scalar = (
    st.none()
    | st.booleans()
    | small_int
    | st.integers()
    | st.floats(allow_nan=True, allow_infinity=True)
    | any_text
)
KEYS = [
    "text", "entities", "spans", "label", "labels", "start", "end", "type", "name", "pos",
    "sentence", "tokenized_text", "ner", "conversations", "from", "value", "id", "tagName",
    "input", "output", "instruction", "doc_question_pairID", "doc_tag_pairID", "gpt_answer",
    "named_entity", "sentences_as_example", "target_words_in_it", "occurrences_count",
]  # fmt: skip
json_value = st.recursive(
    json_scalar,
    lambda inner: (
        st.lists(inner, max_size=4)
        | st.dictionaries(st.sampled_from(KEYS) | any_text, inner, max_size=4)
    ),
    max_leaves=12,
)
label = st.sampled_from(["person", "B-x", " ", "", "a b", "\ud800", "🎉"]) | any_text
words = st.lists(st.sampled_from(["Ann", "Bo", "Paris", "a", "", " ", "\t", "é"]) | any_text)


def _offsets_record(draw: st.DrawFn) -> dict[str, Any]:
    text = draw(st.sampled_from(["Ann met Bo in Paris.", "", "x"]) | any_text)
    span = st.fixed_dictionaries(
        {"start": small_int | json_scalar, "end": small_int | json_scalar, "label": label},
        optional={"text": any_text, "type": label},
    ) | st.tuples(small_int, small_int, label).map(list)
    key = draw(st.sampled_from(["entities", "spans", "label"]))
    rec: dict[str, Any] = {"text": text, key: draw(st.lists(span, max_size=4) | json_value)}
    if draw(st.booleans()):
        rec["labels"] = draw(st.lists(label, max_size=3) | json_value)
    return rec


def _gliner_record(draw: st.DrawFn) -> dict[str, Any]:
    span = st.tuples(small_int, small_int, label).map(list) | json_value
    return {
        "tokenized_text": draw(words | json_value),
        "ner": draw(st.lists(span, max_size=4) | json_value),
    }


def _instructuie_record(draw: st.DrawFn) -> dict[str, Any]:
    ent = (
        st.fixed_dictionaries(
            {"name": any_text, "type": label, "pos": st.lists(small_int, max_size=3) | json_value}
        )
        | json_value
    )
    sentence = draw(st.sampled_from(["Ann met Bo.", ""]) | any_text)
    return {"sentence": sentence, "entities": draw(st.lists(ent, max_size=4) | json_value)}


def _conversation_record(draw: st.DrawFn) -> dict[str, Any]:
    passage = draw(any_text)
    values = st.sampled_from(
        [
            f"Text: {passage}",
            f"Dataset: d\nText: {passage}",
            "I've read this text.",
            "What describes person in the text?",
            "What describes  in the text?",
            '["Ann", "Bo"]',
            "[]",
            "[1]",
            "not json",
        ]
    ) | st.lists(any_text, max_size=3).map(json.dumps)
    turn = (
        st.fixed_dictionaries(
            {"from": st.sampled_from(["human", "gpt", "user", "assistant", "x"]), "value": values}
        )
        | json_value
    )
    rec = {"conversations": draw(st.lists(turn, max_size=6) | json_value)}
    if draw(st.booleans()):
        rec["id"] = draw(json_scalar)
    return rec


def _slimer_record(draw: st.DrawFn) -> dict[str, Any]:
    output = st.lists(any_text, max_size=3).map(json.dumps) | st.lists(any_text) | json_value
    return {
        "doc_question_pairID": draw(st.sampled_from(["d1:0", "d1:1", "d2:0"]) | json_scalar),
        "tagName": draw(label),
        "input": draw(st.sampled_from(["Ann met Bo.", "Ann"]) | json_scalar),
        "instruction": draw(any_text | json_scalar),
        "output": draw(output),
    }


RECORDS = {
    "offsets": _offsets_record,
    "gliner-json": _gliner_record,
    "instructuie": _instructuie_record,
    "uniner-conversation": _conversation_record,
    "slimer-jsonl": _slimer_record,
}


@st.composite
def json_file(draw: st.DrawFn, fmt: str) -> bytes:
    """Near-valid records of ``fmt`` (or random JSON), as a JSON list or JSON lines, possibly
    with lone surrogates written raw, cut short, or given a huge number or deep nesting."""
    make = RECORDS[fmt]
    records = draw(st.lists(st.composite(make)() | json_value, max_size=4))
    ascii_only = draw(st.booleans())
    if draw(st.booleans()):
        text = json.dumps(records, ensure_ascii=ascii_only)
    else:
        text = "\n".join(json.dumps(r, ensure_ascii=ascii_only) for r in records)
    data = text.encode("utf-8", "surrogatepass")  # a raw lone surrogate is invalid UTF-8
    return draw(damage(data))


@st.composite
def damage(draw: st.DrawFn, data: bytes) -> bytes:
    how = draw(st.sampled_from(["none", "none", "cut", "insert", "huge", "deep", "blank lines"]))
    at = draw(st.integers(0, len(data)))
    if how == "cut":
        return data[:at]
    if how == "insert":
        return data[:at] + draw(st.binary(min_size=1, max_size=8)) + data[at:]
    if how == "huge":  # past Python's 4,300-digit limit for int(), and past a float's range
        return data[:at] + draw(st.sampled_from([b"9" * 5000, b"1e999", b"-1e999"])) + data[at:]
    if how == "deep":
        return b"[" * 100_000 + data + b"]" * 100_000
    if how == "blank lines":
        return data[:at] + b"\n\n \n" + data[at:]
    return data


@st.composite
def column_file(draw: st.DrawFn) -> bytes:
    """Token/tag lines in any of the three layouts, with bad tags, comments, DOCSTART, blank
    lines and odd whitespace among them."""
    tag = st.sampled_from(["O", "B-PER", "I-PER", "B-LOC", "I-LOC", "B-", "I- ", "X-PER", "B-a b"])
    token = st.sampled_from(["Ann", "Bo", "#", "-DOCSTART-", "é", "a b", ""]) | any_text.filter(
        lambda t: "\n" not in t and "\r" not in t
    )
    index = st.integers(0, 9).map(str) | st.sampled_from(["x", ""])
    line = st.one_of(
        st.tuples(token, tag).map("\t".join),
        st.tuples(token, tag).map(" ".join),
        st.tuples(tag, token).map("\t".join),
        st.tuples(index, token, tag).map("\t".join),
        st.tuples(token, st.just("NN"), tag).map("\t".join),
        st.sampled_from(["", " ", "# id abc\tdomain=en", "# sent_id = 3", "-DOCSTART- O", "#"]),
        token,
    )
    lines = draw(st.lists(line, max_size=12))
    end = draw(st.sampled_from(["\n", "\r\n", "\r"]))
    data = end.join(lines).encode("utf-8", "surrogatepass")
    return draw(damage(data))


# --- properties -------------------------------------------------------------------------------


@SETTINGS
@given(data=st.binary(max_size=300), ext=st.sampled_from(EXTENSIONS))
def test_random_bytes_detect_and_read_or_say_why(folder: Path, data: bytes, ext: str) -> None:
    detect_and_read(put(folder, data, ext))


@SETTINGS
@given(data=st.binary(max_size=200), fmt=st.sampled_from(sorted(FORMATS)))
def test_random_bytes_in_every_named_format(folder: Path, data: bytes, fmt: str) -> None:
    read_all(put(folder, data, ".txt"), fmt)


@SETTINGS
@given(text=st.text(st.characters(codec=None), max_size=200), fmt=st.sampled_from(sorted(FORMATS)))
def test_random_text_with_surrogates_in_every_format(folder: Path, text: str, fmt: str) -> None:
    read_all(put(folder, text.encode("utf-8", "surrogatepass"), ".json"), fmt)


@SETTINGS
@given(data=column_file(), layout=st.sampled_from(["bio", "bio-tag-first", "conllu"]))
def test_column_files(folder: Path, data: bytes, layout: str) -> None:
    path = put(folder, data, ".txt")
    read_all(path, layout)
    detect_and_read(path)


@pytest.mark.parametrize("fmt", sorted(RECORDS))
@SETTINGS
@given(data=st.data(), ext=st.sampled_from([".json", ".jsonl"]))
def test_json_records(folder: Path, fmt: str, data: st.DataObject, ext: str) -> None:
    path = put(folder, data.draw(json_file(fmt)), ext)
    read_all(path, fmt)
    detect_and_read(path)


@SETTINGS
@given(value=json_value, damaged=st.data())
def test_json_documents_of_the_side_files(folder: Path, value: Any, damaged: st.DataObject) -> None:
    """Label lists, SLIMER definitions and type-sentence files are whole JSON documents."""
    shapes = [
        value,
        {"person": value},
        {"person": {"named_entity": value, "gpt_answer": value, "sentences_as_example": value}},
        {"person": [{"sentence": value, "target_words_in_it": value}]},
        {"": [{"sentence": "Ann", "target_words_in_it": ["Ann"]}]},
    ]
    for doc in shapes:
        raw = json.dumps(doc).encode()
        path = put(folder, damaged.draw(damage(raw)), ".json")
        for fmt in ("label-list", "slimer-definitions", "type-sentences"):
            read_all(path, fmt)


# --- what the properties found (kept as plain regressions) ------------------------------------


@pytest.mark.parametrize(
    ("content", "line"),
    [
        ('{"text": "a", "entities": []}\n{"text": "b", "n": ' + "9" * 5000 + "}", 2),
        ('[{"text": "a", "entities": []},\n' + "[" * 100_000 + "]" * 100_000 + "]", 2),
    ],
    ids=["integer past 4300 digits", "nesting past the recursion limit"],
)
def test_json_too_large_to_decode_is_a_format_error(
    tmp_path: Path, content: str, line: int
) -> None:
    path = tmp_path / "a.jsonl"
    path.write_text(content, encoding="utf-8")
    with pytest.raises(DataFormatError, match="too large to decode") as info:
        list(read_examples(path, "offsets"))
    assert info.value.line == line


def test_an_empty_type_name_in_type_sentences_is_a_format_error(tmp_path: Path) -> None:
    path = tmp_path / "s.json"
    path.write_text(json.dumps({" ": [{"sentence": "Ann", "target_words_in_it": ["Ann"]}]}))
    with pytest.raises(DataFormatError, match="empty type name"):
        list(read_examples(path, "type-sentences"))
