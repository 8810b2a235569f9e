"""Malformed input: every error names the file, the line and what was expected."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from uniner.data.errors import DataFormatError
from uniner.data.readers import detect_format, read_conversations, read_examples, read_records


def write(path: Path, text: str) -> Path:
    path.write_text(text, encoding="utf-8")
    return path


def error_of(path: Path, format: str | None = None, reader=read_examples) -> DataFormatError:
    with pytest.raises(DataFormatError) as info:
        list(reader(path, format))
    return info.value


def check(err: DataFormatError, path: Path, line: int | None, *fragments: str) -> None:
    """The message names the file, the line (when known), the problem and the expectation."""
    msg = str(err)
    assert err.path == str(path) and str(path) in msg
    if line is not None:
        assert err.line == line and f"line {line}" in msg
    assert err.expected and f"(expected {err.expected})" in msg
    told = f"{err.detail} (expected {err.expected})"  # without the path, which could match
    for frag in fragments:
        assert frag in told, f"{frag!r} not in {msg!r}"


# ------------------------------------------------------------------------------ empty files

EMPTY_CASES = [
    ("a.txt", "bio"),
    ("a.txt", "bio-tag-first"),
    ("a.conllu", "conllu"),
    ("a.json", "instructuie"),
    ("a.json", "uniner-conversation"),
    ("a.jsonl", "slimer-jsonl"),
    ("a.json", "gliner-json"),
    ("labels.json", "label-list"),
    ("d.json", "slimer-definitions"),
    ("s.json", "type-sentences"),
    ("LICENSE", "text"),
]


@pytest.mark.parametrize("name,fmt", EMPTY_CASES)
@pytest.mark.parametrize("content", ["", "  \n\n"])
def test_empty_file(tmp_path: Path, name: str, fmt: str, content: str) -> None:
    f = write(tmp_path / name, content)
    check(error_of(f, fmt, read_records), f, None, "file is empty")
    with pytest.raises(DataFormatError, match="file is empty"):
        detect_format(f)


# ---------------------------------------------------------------------------------- columns


def test_bad_bio_tag(tmp_path: Path) -> None:
    f = write(tmp_path / "bad.txt", "EU\tB-ORG\nrejects\tO\nPeter\tX-PER\n")
    check(error_of(f), f, 3, "bad tag 'X-PER'", "B-<type>")


@pytest.mark.parametrize("tag", ["B-", "b-PER", "O-", "BI-X", "PER", "B-  "])
def test_other_bad_tags(tmp_path: Path, tag: str) -> None:
    f = write(tmp_path / "bad.txt", f"EU\tB-ORG\n\nx\t{tag}\n")
    check(error_of(f, "bio"), f, 3, "bad tag")


def test_missing_column(tmp_path: Path) -> None:
    f = write(tmp_path / "m.txt", "EU\tB-ORG\nrejects\n")
    check(error_of(f, "bio"), f, 2, "missing column", "token<TAB>tag")
    g = write(tmp_path / "t.txt", "EU\tB-ORG\nrejects\t\n")
    check(error_of(g, "bio"), g, 2, "missing column")
    h = write(tmp_path / "c.conllu", "0\tEU\tB-ORG\n1\trejects\n")
    check(error_of(h, "conllu"), h, 2, "missing column", "index<TAB>token<TAB>tag")
    k = write(tmp_path / "mit.txt", "O\twhat\nB-ACTOR\n")
    check(error_of(k, "bio-tag-first"), k, 2, "missing column", "tag<TAB>token")


def test_empty_token_and_bad_index(tmp_path: Path) -> None:
    f = write(tmp_path / "e.txt", "EU\tB-ORG\n \tO\n")
    check(error_of(f, "bio"), f, 2, "empty token")
    g = write(tmp_path / "i.conllu", "0\tEU\tB-ORG\nx\trejects\tO\n")
    check(error_of(g, "conllu"), g, 2, "bad token index 'x'", "integer index")


def test_bad_tag_in_tag_first_file(tmp_path: Path) -> None:
    f = write(tmp_path / "mit.txt", "O\twhat\nB-ACTOR\tbruce\n\nS-ACTOR\twillis\n")
    check(error_of(f, "bio-tag-first"), f, 4, "bad tag 'S-ACTOR'")


def test_invalid_utf8(tmp_path: Path) -> None:
    f = tmp_path / "latin1.txt"
    f.write_bytes("caf\u00e9\tO\n".encode("latin-1"))
    check_msg = str(error_of(f, "bio"))
    assert "not valid UTF-8" in check_msg and str(f) in check_msg


# ------------------------------------------------------------------------------------- JSON


def test_truncated_json_list(tmp_path: Path) -> None:
    full = json.dumps([{"sentence": "a b", "entities": []}] * 3, indent=1)
    f = write(tmp_path / "cut.json", full[: len(full) // 2])
    err = error_of(f, "instructuie")
    check(err, f, None, "truncated")
    assert err.line is not None and err.line > 1


def test_truncated_json_list_between_elements(tmp_path: Path) -> None:
    f = write(tmp_path / "cut.json", '[{"sentence": "a", "entities": []},\n')
    check(error_of(f, "instructuie"), f, 2, "truncated JSON list")
    g = write(tmp_path / "cut2.json", '[{"sentence": "a", "entities": []}\n')
    check(error_of(g, "instructuie"), g, 2, "truncated JSON list", "',' or ']'")


def test_malformed_json_reports_its_line(tmp_path: Path) -> None:
    text = '[\n{"sentence": "a", "entities": []},\n{"sentence": "b", "entities": [}\n]\n'
    f = write(tmp_path / "bad.json", text)
    check(error_of(f, "instructuie"), f, 3, "malformed JSON in element 1")
    g = write(tmp_path / "sep.json", '[{"sentence": "a", "entities": []}\n;{}]')
    check(error_of(g, "instructuie"), g, 2, "malformed JSON list after 1 element", "',' or ']'")


def test_malformed_json_lines_report_their_line(tmp_path: Path) -> None:
    good = json.dumps({"sentence": "a", "entities": []})
    f = write(tmp_path / "bad.jsonl", f"{good}\n{good}\n{{oops\n")
    check(error_of(f, "instructuie"), f, 3)


def test_malformed_small_json_document(tmp_path: Path) -> None:
    f = write(tmp_path / "labels.json", '[\n"a",\n"b"\n')
    check(error_of(f, "label-list", read_records), f, 4, "truncated JSON")
    g = write(tmp_path / "defs.json", '{\n"person": {"gpt_answer": "x"},\n"event": \n}')
    check(error_of(g, "slimer-definitions", read_records), g, 4)


def test_json_of_unknown_shape_cannot_be_detected(tmp_path: Path) -> None:
    f = write(tmp_path / "odd.json", '[{"text": "a"}]')
    with pytest.raises(DataFormatError, match="unknown JSON record shape"):
        detect_format(f)
    g = write(tmp_path / "empty.json", "[]")
    with pytest.raises(DataFormatError, match="empty JSON list"):
        detect_format(g)


# ------------------------------------------------------------------------------ InstructUIE


def instructuie(tmp_path: Path, *entities: dict, sentence: str = "Bob lives in Paris") -> Path:
    rec = {"sentence": sentence, "entities": list(entities)}
    ok = {"sentence": "fine", "entities": []}
    return write(tmp_path / "iu.json", "[\n" + json.dumps(ok) + ",\n" + json.dumps(rec) + "\n]")


def test_instructuie_pos_outside_sentence(tmp_path: Path) -> None:
    f = instructuie(tmp_path, {"name": "Paris", "type": "city", "pos": [13, 40]})
    check(error_of(f), f, 3, "record 1, entity 0", "outside the sentence", "len(sentence)")
    g = instructuie(tmp_path, {"name": "Paris", "type": "city", "pos": [5, 5]})
    check(error_of(g), g, 3, "outside the sentence")


def test_instructuie_name_does_not_match_slice(tmp_path: Path) -> None:
    f = instructuie(tmp_path, {"name": "Paris", "type": "city", "pos": [12, 17]})
    check(error_of(f), f, 3, "name 'Paris' does not match", "' Pari'", "sentence[start:end]")


def test_instructuie_bad_shapes(tmp_path: Path) -> None:
    f = instructuie(tmp_path, {"name": "Bob", "type": "person", "pos": [0]})
    check(error_of(f), f, 3, "bad pos [0]")
    g = instructuie(tmp_path, {"name": "Bob", "pos": [0, 3]})
    check(error_of(g), g, 3, "missing key 'type'")
    h = write(tmp_path / "h.json", '[{"entities": []}]')
    check(error_of(h, "instructuie"), h, 1, "missing key 'sentence'")
    k = write(tmp_path / "k.json", '[["not", "an", "object"]]')
    check(error_of(k, "instructuie"), k, 1, "not an object")
    m = write(tmp_path / "m.json", '[{"sentence": "x", "entities": {}}]')
    check(error_of(m, "instructuie"), m, 1, "key 'entities' is a dict")


# ---------------------------------------------------------------------------- conversations


def conv_file(tmp_path: Path, turns: list) -> Path:
    return write(tmp_path / "c.json", json.dumps([{"id": "c_0", "conversations": turns}]))


def test_conversation_errors(tmp_path: Path) -> None:
    ack = {"from": "gpt", "value": "I've read this text."}
    text = {"from": "human", "value": "Text: a b"}
    q = {"from": "human", "value": "What describes person in the text?"}
    cases = [
        ([{"from": "human", "value": "a b"}, ack], "does not start with 'Text:'"),
        ([text, ack, q], "has 3 turns"),
        ([text, ack, {"from": "human", "value": "Who is there?"}, ack], "question"),
        ([text, ack, q, {"from": "gpt", "value": "a b"}], "a JSON list of strings"),
        ([text, ack, q, {"from": "gpt", "value": "[1, 2]"}], "a JSON list of strings"),
        ([text, text], "turn 1 is from 'human'"),
        ([text, "oops"], "turn 1 is not a {from, value} object"),
    ]
    for turns, fragment in cases:
        f = conv_file(tmp_path, turns)
        check(error_of(f, "uniner-conversation", read_conversations), f, 1, fragment)


def test_conversation_missing_key(tmp_path: Path) -> None:
    f = write(tmp_path / "c.json", '[{"id": "x"}]')
    check(error_of(f, "uniner-conversation", read_conversations), f, 1, "'conversations'")


# --------------------------------------------------------------------------- SLIMER, GLiNER


def test_slimer_bad_output_and_missing_key(tmp_path: Path) -> None:
    rec = {"doc_question_pairID": "1:1", "tagName": "x", "input": "t", "instruction": "i"}
    f = write(
        tmp_path / "v.jsonl",
        json.dumps({**rec, "output": "[]"}) + "\n" + json.dumps({**rec, "output": "not json"}),
    )
    check(error_of(f, "slimer-jsonl", read_records), f, 2, "bad output", "JSON list of strings")
    g = write(tmp_path / "w.jsonl", json.dumps({"tagName": "x", "output": "[]"}))
    check(error_of(g, "slimer-jsonl", read_records), g, 1, "missing key 'doc_question_pairID'")


def test_gliner_span_errors(tmp_path: Path) -> None:
    f = write(
        tmp_path / "g.json", json.dumps([{"tokenized_text": ["a", "b"], "ner": [[1, 2, "X"]]}])
    )
    check(error_of(f, "gliner-json"), f, 1, "record 0, span 0", "outside the sentence")
    g = write(tmp_path / "h.json", json.dumps([{"tokenized_text": ["a"], "ner": [[0, "X"]]}]))
    check(error_of(g, "gliner-json"), g, 1, "bad span")


# ------------------------------------------------------------------------------ side files


def test_label_and_side_file_errors(tmp_path: Path) -> None:
    f = write(tmp_path / "labels.json", '["a", 3]')
    check(error_of(f, "label-list", read_records), f, None, "element 1 is 3")
    g = write(tmp_path / "label.txt", "a\nb\tc\n")
    check(error_of(g, "label-list", read_records), g, 2, "tab in label")
    h = write(tmp_path / "d.json", '["not", "a", "dict"]')
    check(error_of(h, "slimer-definitions", read_records), h, 1, "top level is a list")
    k = write(tmp_path / "s.json", '{"person": [{"sentence": 3}]}')
    check(error_of(k, "type-sentences", read_records), k, None, "item 0 is malformed")


# ------------------------------------------------------------------------------ line streams


def test_json_lines_stream_gzip_empty_and_lenient(tmp_path: Path) -> None:
    import gzip

    from uniner.data.readers._common import iter_json_lines

    gz = tmp_path / "a.jsonl.gz"
    with gzip.open(gz, "wt", encoding="utf-8") as fh:
        fh.write('{"x": 1}\n\n{"x": 2}\n')
    assert list(iter_json_lines(gz)) == [(1, {"x": 1}), (3, {"x": 2})]
    empty = write(tmp_path / "e.jsonl", "  \n")
    with pytest.raises(DataFormatError, match="file is empty"):
        list(iter_json_lines(empty))
    assert list(iter_json_lines(empty, allow_empty=True)) == []
    bad = tmp_path / "b.jsonl"
    bad.write_bytes(b'{"x": "a\xffb"}\n')
    with pytest.raises(DataFormatError, match="not valid UTF-8"):
        list(iter_json_lines(bad))
    assert list(iter_json_lines(bad, errors="replace")) == [(1, {"x": "a\ufffdb"})]
    broken = write(tmp_path / "c.jsonl", '{"x": 1}\n{"x": \n')
    with pytest.raises(DataFormatError) as err:
        list(iter_json_lines(broken))
    assert err.value.line == 2


def test_json_list_elements_start_lines_and_refusals(tmp_path: Path) -> None:
    """Each element's line is where it starts, also in an indented list; what the streaming
    parser refuses is a format error on the right line."""
    from uniner.data.readers._common import iter_json_array

    f = write(tmp_path / "ind.json", json.dumps([{"a": 1}, [2, 3], "s"], indent=2))
    assert list(iter_json_array(f)) == [(2, {"a": 1}), (5, [2, 3]), (9, "s")]
    # yajl's reading of a lone high surrogate escape: "?", the text's length kept
    lone = write(tmp_path / "lone.json", '["x\\ud800y"]')
    assert list(iter_json_array(lone)) == [(1, "x?y")]
    cases = [
        ("[1]\n x", 2, "extra data after the JSON list", "end of file"),
        ("[1,\n 99999999999999999999]", 2, "too large to decode", "64"),
        ("[0,\n" + "[" * 600 + "]" * 600 + "]", 2, "too large to decode", "nesting"),
        ('[\n"a",\n"\\udfff"]', 3, "\\u escape", "an element"),
        ('[\n"a", NaN]', 2, "malformed JSON list after 1 element", "',' or ']'"),
    ]
    for text, line, *fragments in cases:
        g = write(tmp_path / "bad.json", text)
        with pytest.raises(DataFormatError) as info:
            list(iter_json_array(g))
        check(info.value, g, line, *fragments)
