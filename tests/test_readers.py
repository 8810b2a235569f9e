"""Readers on small hand-written files: every format and the variants the shipped data uses."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from uniner.data.readers import (
    FORMATS,
    _common,
    conversation_to_example,
    detect_format,
    group_by_passage,
    group_test_conversations,
    read_conversations,
    read_examples,
    read_labels,
    read_records,
)
from uniner.data.readers.bio import iter_tagged_sentences, tag_spans
from uniner.data.readers.conversation import split_passage_turn
from uniner.data.readers.slimer import parse_gpt_answer, read_definitions
from uniner.data.readers.typelists import read_type_sentences
from uniner.data.types import Conversation, Query


def write(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path


def spans(ex) -> list[tuple[str, str]]:
    """(text, label) of the entities, checking the offsets on the way."""
    for e in ex.entities:
        assert ex.text[e.start : e.end] == e.text
    return [(e.text, e.label) for e in ex.entities]


# --------------------------------------------------------------------------------- columns


def test_bio_basic_offsets_ids_and_tokens(tmp_path: Path) -> None:
    f = write(
        tmp_path / "train.txt",
        "EU\tB-ORG\nrejects\tO\nGerman\tB-MISC\ncall\tO\n\nPeter\tB-PER\nBlackburn\tI-PER\n\n",
    )
    assert detect_format(f) == "bio"
    exs = list(read_examples(f))
    assert [ex.text for ex in exs] == ["EU rejects German call", "Peter Blackburn"]
    assert spans(exs[0]) == [("EU", "ORG"), ("German", "MISC")]
    assert [(e.start, e.end) for e in exs[0].entities] == [(0, 2), (11, 17)]
    assert spans(exs[1]) == [("Peter Blackburn", "PER")]
    assert [ex.id for ex in exs] == ["train.txt:0", "train.txt:1"]
    assert exs[0].labels is None
    assert exs[1].meta["tokens"] == ("Peter", "Blackburn")
    assert exs[1].meta["line"] == 6


def test_docstart_lines_and_blocks_are_skipped(tmp_path: Path) -> None:
    f = write(
        tmp_path / "jnlpba.tsv",
        "-DOCSTART-\tO\n\nIL-2\tB-protein\ngene\tO\n\n-DOCSTART-\tO\n\n\nT\tB-cell_type\ncells\tI-cell_type\n"
        "-DOCSTART-\tO\nhere\tO\n",
    )
    exs = list(read_examples(f))
    # a DOCSTART line inside a block is skipped without splitting it (README convention)
    assert [ex.text for ex in exs] == ["IL-2 gene", "T cells here"]
    assert spans(exs[1]) == [("T cells", "cell_type")]


def test_docstart_in_space_separated_conll_and_single_column(tmp_path: Path) -> None:
    f = write(tmp_path / "c.txt", "-DOCSTART- -X- -X- O\n\nEU NNP B-NP B-ORG\nsays VBZ B-VP O\n")
    assert detect_format(f) == "bio"
    (ex,) = read_examples(f)
    assert ex.text == "EU says" and spans(ex) == [("EU", "ORG")]
    g = write(tmp_path / "d.txt", "-DOCSTART-\n\nEU\tB-ORG\n")
    assert [ex.text for ex in read_examples(g, format="bio")] == ["EU"]


def test_no_trailing_blank_line_and_crlf_and_blank_runs(tmp_path: Path) -> None:
    f = tmp_path / "crlf.txt"
    f.write_bytes(b"a\tO\r\nb\tB-X\r\n\r\n  \r\n\r\nc\tB-Y\r\nd\tI-Y")
    exs = list(read_examples(f))
    assert [ex.text for ex in exs] == ["a b", "c d"]
    assert spans(exs[1]) == [("c d", "Y")]


def test_space_separated_columns(tmp_path: Path) -> None:
    f = write(tmp_path / "s.bio", "New B-LOC\nYork I-LOC\nis O\n")
    (ex,) = read_examples(f)
    assert spans(ex) == [("New York", "LOC")]


def test_tag_first_mit_layout(tmp_path: Path) -> None:
    f = write(
        tmp_path / "mit.txt", "O\twhat\nO\tmovies\nB-ACTOR\tbruce\nI-ACTOR\twillis\n\nO\tshow"
    )
    assert detect_format(f) == "bio-tag-first"
    exs = list(read_examples(f))
    assert exs[0].text == "what movies bruce willis"
    assert spans(exs[0]) == [("bruce willis", "ACTOR")]
    assert exs[1].text == "show"


def test_conllu_layout(tmp_path: Path) -> None:
    f = write(tmp_path / "val.conllu", "0\tHer\tO\n1\tvisit\tO\n2\tto\tO\n3\tTuvalu\tB-LOC\n\n")
    assert detect_format(f) == "conllu"
    (ex,) = read_examples(f)
    assert ex.text == "Her visit to Tuvalu" and spans(ex) == [("Tuvalu", "LOC")]


def test_i_tag_starting_a_mention_iob1(tmp_path: Path) -> None:
    text = "0\tA\tI-PER\n1\tB\tI-PER\n2\tand\tO\n3\tC\tI-LOC\n4\tD\tB-LOC\n5\tE\tI-ORG\n"
    (ex,) = read_examples(write(tmp_path / "w.conllu", text))
    assert spans(ex) == [("A B", "PER"), ("C", "LOC"), ("D", "LOC"), ("E", "ORG")]


def test_tag_spans_rules() -> None:
    assert tag_spans(["B-X", "I-X", "B-X", "O", "I-X", "I-Y", "I-Y"]) == [
        (0, 2, "X"),
        (2, 3, "X"),
        (4, 5, "X"),
        (5, 7, "Y"),
    ]
    assert tag_spans(["B-X", "I-Y"]) == [(0, 1, "X"), (1, 2, "Y")]
    assert tag_spans([]) == []


def test_types_with_spaces_are_kept_raw(tmp_path: Path) -> None:
    f = write(
        tmp_path / "gner.txt",
        "End\tB-field of study\nof\tI-field of study\nlife\tO\nkids\tB-Age group\n",
    )
    assert detect_format(f) == "bio"
    (ex,) = read_examples(f)
    assert spans(ex) == [("End of", "field of study"), ("kids", "Age group")]


def test_tagged_sentence_records(tmp_path: Path) -> None:
    f = write(tmp_path / "a.txt", "x\tO\n\ny\tB-A\n")
    sents = list(read_records(f))
    assert [s.tokens for s in sents] == [("x",), ("y",)]
    assert sents[1].tags == ("B-A",) and sents[1].line == 3
    assert list(iter_tagged_sentences(f, "bio")) == sents
    with pytest.raises(ValueError, match="unknown column layout"):
        list(iter_tagged_sentences(f, "nope"))


# ---------------------------------------------------------------------------- InstructUIE


INSTRUCTUIE = [
    {
        "sentence": "EU rejects German call .",
        "entities": [
            {"name": "German", "type": "else", "pos": [11, 17]},
            {"name": "EU", "type": "organization", "pos": [0, 2]},
        ],
    },
    {"sentence": "Nothing here .", "entities": []},
]


def test_instructuie(tmp_path: Path) -> None:
    f = write(tmp_path / "test.json", json.dumps(INSTRUCTUIE, indent=1))
    assert detect_format(f) == "instructuie"
    exs = list(read_examples(f))
    assert spans(exs[0]) == [("EU", "organization"), ("German", "else")]
    assert exs[1].entities == () and exs[1].id == "test.json:1"
    assert exs[1].meta["line"] > exs[0].meta["line"]


def test_instructuie_as_json_lines(tmp_path: Path) -> None:
    f = write(tmp_path / "t.jsonl", "\n".join(json.dumps(r) for r in INSTRUCTUIE) + "\n")
    assert detect_format(f) == "instructuie"
    assert [ex.meta["line"] for ex in read_examples(f)] == [1, 2]


def test_instructuie_mismatch_policies_and_duplicates(tmp_path: Path) -> None:
    rec = {
        "sentence": "Paris and Rome",
        "entities": [
            {"name": "paris", "type": "city", "pos": [0, 5]},
            {"name": "Rome", "type": "city", "pos": [10, 14]},
            {"name": "Rome", "type": "city", "pos": [10, 14]},
        ],
    }
    f = write(tmp_path / "m.json", json.dumps([rec]))
    (ex,) = read_examples(f, on_mismatch="trust-pos")
    assert spans(ex) == [("Paris", "city"), ("Rome", "city")]
    assert ex.meta["name_mismatches"] == 1 and ex.meta["duplicate_entities"] == 1
    (ex,) = read_examples(f, on_mismatch="skip")
    assert spans(ex) == [("Rome", "city")] and ex.meta["skipped_entities"] == 1
    with pytest.raises(ValueError, match="on_mismatch"):
        list(read_examples(f, on_mismatch="maybe"))


# ---------------------------------------------------------------------- UniNER conversations


def turns(text: str, *qa: tuple[str, str]) -> list[dict[str, str]]:
    out = [{"from": "human", "value": text}, {"from": "gpt", "value": "I've read this text."}]
    for q, a in qa:
        out += [
            {"from": "human", "value": f"What describes {q} in the text?"},
            {"from": "gpt", "value": a},
        ]
    return out


def test_training_form_many_questions(tmp_path: Path) -> None:
    rec = {
        "id": "ner_0",
        "conversations": turns(
            "Text: Juho Haapoja was a Finnish boxer .",
            ("person", '["Juho Haapoja"]'),
            ("nationality", '["Finnish"]'),
            ("sport", "[]"),
        ),
    }
    f = write(tmp_path / "pile.json", json.dumps([rec]))
    assert detect_format(f) == "uniner-conversation"
    (conv,) = read_conversations(f)
    assert conv.id == "ner_0" and conv.dataset is None
    assert conv.text == "Juho Haapoja was a Finnish boxer ."
    assert [q.label for q in conv.queries] == ["person", "nationality", "sport"]
    assert conv.queries[0] == Query("person", ("Juho Haapoja",), '["Juho Haapoja"]')
    ex, unfound = conversation_to_example(conv, align=False)
    assert ex.labels == ("person", "nationality", "sport") and ex.entities == ()
    assert ex.meta["answers"]["sport"] == () and unfound == ()


def test_supervised_template_dataset_line() -> None:
    assert split_passage_turn("Dataset: conll2003 \nText: EU rejects") == (
        "conll2003",
        "EU rejects",
    )
    assert split_passage_turn("Text: x") == (None, "x")
    assert split_passage_turn("Text:x") == (None, "x")
    assert split_passage_turn("Dataset: y") is None
    assert split_passage_turn("EU rejects") is None


def test_test_form_grouping_and_raw_answer(tmp_path: Path) -> None:
    recs = []
    plan = [
        ("A met B .", "person", '["A", "B"]'),
        ("A met B .", "location", "[]"),
        ("A met B .", "person", '["A"]'),  # same text again, type asked again: a new passage
        ("C .", "person", '[ "C" ]'),
    ]
    for i, (text, label, answer) in enumerate(plan):
        conv = turns(f"Dataset: demo\nText: {text}", (label, answer))
        recs.append({"id": f"demo_{i}", "conversations": conv})
    f = write(tmp_path / "demo.json", json.dumps(recs))
    raw = list(read_conversations(f))
    assert len(raw) == 4 and raw[3].queries[0].raw_answer == '[ "C" ]'
    assert raw[0].dataset == "demo"
    grouped = list(read_conversations(f, group=True))
    assert [(c.id, len(c.queries)) for c in grouped] == [
        ("demo_0", 2),
        ("demo_2", 1),
        ("demo_3", 1),
    ]
    assert list(group_test_conversations(raw)) == grouped
    exs = list(read_examples(f, align=False))
    assert len(exs) == 3 and exs[0].labels == ("person", "location")


def test_group_test_conversations_passes_training_records_through() -> None:
    multi = Conversation("m", "t", (Query("a", ()), Query("b", ())))
    one = Conversation("o", "t", (Query("c", ()),))
    assert list(group_test_conversations([one, multi, one])) == [one, multi, one]


def test_conversation_to_example_aligns_answers() -> None:
    conv = Conversation(
        "x",
        "Paris is not paris , and Rome is far .",
        (
            Query("city", ("Paris", "Rome", "Atlantis")),
            Query("person", ()),
        ),
    )
    ex, unfound = conversation_to_example(conv)
    assert ex.labels == ("city", "person")
    assert ("Rome", "city") in spans(ex) and ("Paris", "city") in spans(ex)
    assert unfound == (("city", "Atlantis"),)
    assert ex.meta["unfound"] == unfound


# --------------------------------------------------------------------------------- SLIMER


def slimer_line(pair: str, tag: str, text: str, out: str) -> str:
    rec = {"doc_question_pairID": pair, "tagName": tag, "input": text, "instruction": "Extract"}
    rec["output"] = out
    return json.dumps(rec)


def test_slimer_jsonl(tmp_path: Path) -> None:
    lines = [
        slimer_line("7:1", "court", "Sharp v. McKelvey, Superior Court .", '["Superior Court"]'),
        slimer_line("9:1", "name", "map-stream", '["map-stream"]'),
        slimer_line("7:2", "person", "Sharp v. McKelvey, Superior Court .", "[]"),
    ]
    f = write(tmp_path / "validation.jsonl", "\n".join(lines) + "\n")
    assert detect_format(f) == "slimer-jsonl"
    queries = list(read_records(f))
    assert queries[0].doc_id == "7" and queries[0].answers == ("Superior Court",)
    assert queries[2].line == 3
    convs = list(read_conversations(f))
    assert [c.id for c in convs] == ["7:1", "9:1", "7:2"]
    grouped = list(read_conversations(f, group=True))
    assert [(c.id, [q.label for q in c.queries]) for c in grouped] == [
        ("7", ["court", "person"]),
        ("9", ["name"]),
    ]
    assert group_by_passage(convs) == grouped
    exs = list(read_examples(f, align=False))
    assert exs[0].labels == ("court", "person")


# --------------------------------------------------------------------------------- GLiNER


def test_gliner_inclusive_token_spans(tmp_path: Path) -> None:
    data = [
        {"tokenized_text": ["State", "University", "Press", ",", "1997"], "ner": [[0, 2, "Pub"]]},
        {"tokenized_text": ["A", "message", "from", "Kasia"], "ner": [[3, 3, "Person"]]},
    ]
    f = write(tmp_path / "sample_data.json", json.dumps(data))
    assert detect_format(f) == "gliner-json"
    exs = list(read_examples(f))
    assert spans(exs[0]) == [("State University Press", "Pub")]
    assert spans(exs[1]) == [("Kasia", "Person")]
    assert exs[1].meta["tokens"][3] == "Kasia"


# ------------------------------------------------------------------- type lists and friends


def test_label_lists_json_and_txt(tmp_path: Path) -> None:
    j = write(tmp_path / "labels.json", '["algorithm", "program language", "else"]')
    t = write(tmp_path / "label.txt", "person\nmedical condition\nfield of study\n\n")
    assert detect_format(j) == detect_format(t) == "label-list"
    assert read_labels(j) == ["algorithm", "program language", "else"]
    assert list(read_records(t)) == ["person", "medical condition", "field of study"]
    with pytest.raises(ValueError, match="holds no examples"):
        read_examples(j)


def test_definitions_complete_and_truncated(tmp_path: Path) -> None:
    ok = json.dumps({"Definition": "'person' is a human.", "Guidelines": "Skip 'mothers'."})
    cut = '{"Definition": "\'event\' is a happening.", "Guidelines": "Avoid labeling \\"vag'
    data = {
        "person": {
            "named_entity": "person",
            "sentences_as_example": [{"sentence": "Ken came.", "entities": ["Ken"]}],
            "gpt_answer": ok,
            "finish_reason": "stop",
        },
        "event": {"named_entity": "event", "gpt_answer": cut, "finish_reason": "length"},
    }
    f = write(tmp_path / "top391NEs_definitions.json", json.dumps(data, indent=4))
    assert detect_format(f) == "slimer-definitions"
    person, event = read_definitions(f)
    assert person.complete and person.definition == "'person' is a human."
    assert person.examples == (("Ken came.", ("Ken",)),)
    assert not event.complete and event.definition == "'event' is a happening."
    assert event.guidelines == 'Avoid labeling "vag'
    assert parse_gpt_answer("nothing") == (None, None, False)


def test_type_sentences(tmp_path: Path) -> None:
    data = {
        "person": [
            {"sentence": "Ken came.", "target_words_in_it": ["Ken"], "occurrences_count": 1},
            {
                "sentence": "Ann and Bo.",
                "target_words_in_it": ["Ann", "Bo"],
                "occurrences_count": 2,
            },
        ],
        "city": [],
    }
    f = write(tmp_path / "sentences_per_ne_type.json", json.dumps(data, indent=2))
    assert detect_format(f) == "type-sentences"
    snippets = list(read_type_sentences(f))
    assert [(s.label, s.targets) for s in snippets] == [
        ("person", ("Ken",)),
        ("person", ("Ann", "Bo")),
    ]
    exs = list(read_examples(f, align=False))
    assert exs[1].labels == ("person",) and exs[1].entities == ()


def test_type_sentences_aligned(tmp_path: Path) -> None:
    data = {"person": [{"sentence": "Ann and Bo.", "target_words_in_it": ["Ann", "Bo"]}]}
    f = write(tmp_path / "s.json", json.dumps(data))
    (ex,) = read_examples(f, format="type-sentences")
    assert spans(ex) == [("Ann", "person"), ("Bo", "person")]


def test_plain_text_files(tmp_path: Path) -> None:
    f = write(tmp_path / "LICENSE", "Some licence.\nSecond line, longer than a label would be.\n")
    assert detect_format(f) == "text"
    assert len(list(read_records(f))) == 2


# ------------------------------------------------------------------------ registry and JSON


def test_registry_names_and_explicit_format(tmp_path: Path) -> None:
    assert {
        "bio",
        "bio-tag-first",
        "conllu",
        "instructuie",
        "uniner-conversation",
        "slimer-jsonl",
        "gliner-json",
        "label-list",
        "slimer-definitions",
        "type-sentences",
        "text",
    } <= set(FORMATS)
    f = write(tmp_path / "x.data", "O\tword\nB-X\tthing\n")
    (ex,) = read_examples(f, format="bio-tag-first")
    assert spans(ex) == [("thing", "X")]
    assert next(FORMATS["bio-tag-first"](f)).tokens == ("word", "thing")
    with pytest.raises(ValueError, match="unknown format"):
        read_examples(f, format="xml")
    with pytest.raises(ValueError, match="holds no conversations"):
        read_conversations(f, format="bio")
    with pytest.raises(FileNotFoundError):
        detect_format(tmp_path / "missing.txt")


def test_json_list_streams_across_chunks_with_line_numbers(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(_common, "CHUNK", 7)  # force many refills, mid-token and mid-string
    recs = [{"sentence": f"word{i} ünïcode", "entities": [], "n": 12345 + i} for i in range(20)]
    text = "[\n" + ",\n".join(json.dumps(r) for r in recs) + "\n]\n"
    f = write(tmp_path / "big.json", text)
    got = list(_common.iter_json_array(f))
    assert [v for _, v in got] == recs
    assert [line for line, _ in got] == list(range(2, 22))
    assert list(_common.iter_json_array(write(tmp_path / "e.json", " [ ] "))) == []
    assert [v for _, v in _common.iter_json_array(write(tmp_path / "n.json", "[1,22,333]"))] == [
        1,
        22,
        333,
    ]
