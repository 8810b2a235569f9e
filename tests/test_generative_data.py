"""Loss mask token by token, truncation policy (windows, packing), negatives, bad input."""

from __future__ import annotations

import itertools
import json
import random

import pytest

from tests.doubles.generative import make_tiny_tokenizer
from uniner.data.types import Conversation, Entity, Example, Query
from uniner.students.generative.data import (
    IGNORE_INDEX,
    PrepStats,
    collate,
    conversation_sequences,
    encode_segments,
    example_conversation,
    label_frequencies,
    word_windows,
)
from uniner.students.generative.template import IE_AS_QA

TEXT = "Alan Turing was born in London."


@pytest.fixture(scope="module")
def tok():
    return make_tiny_tokenizer()


def _n_tokens(tok, s: str) -> int:
    return len(tok(s, add_special_tokens=True)["input_ids"])


@pytest.mark.parametrize("eos", ["</s>", "<|im_end|>"])
def test_label_mask_token_by_token(eos: str) -> None:
    tok = make_tiny_tokenizer(eos=eos)
    t = IE_AS_QA.for_tokenizer(tok)
    qas = [("person", '["Alan Turing"]'), ("city", '["London"]')]
    full = t.render(TEXT, qas)
    enc = encode_segments(tok, t.segments(TEXT, qas))
    assert enc.input_ids == tok(full)["input_ids"]  # tokenised as a whole, like inference
    # expected targets, found independently: token counts of the string up to each boundary
    answers = [" I've read this text." + eos, ' ["Alan Turing"]' + eos, ' ["London"]' + eos]
    expected = [IGNORE_INDEX] * len(enc.input_ids)
    pos = 0
    for ans in answers:
        start = full.index(ans, pos)
        end = start + len(ans)
        a, b = _n_tokens(tok, full[:start]), _n_tokens(tok, full[:end])
        for i in range(a, b):
            expected[i] = enc.input_ids[i]
        pos = end
    assert enc.labels == expected
    # and the targets decode back to exactly the assistant turns
    runs, cur = [], []
    for tid, lab in zip(enc.input_ids, enc.labels, strict=True):
        if lab == IGNORE_INDEX:
            if cur:
                runs.append(cur)
                cur = []
        else:
            assert lab == tid
            cur.append(tid)
    runs.append(cur)
    assert [tok.decode(r) for r in runs] == answers
    # the prompt of the last question is a token prefix of the training sequence
    prompt_ids = tok(t.prompt(TEXT, "person"))["input_ids"]
    first_q = t.render(TEXT, [("person", '["Alan Turing"]')])
    assert tok(first_q)["input_ids"][: len(prompt_ids)] == prompt_ids


def test_collate_pads_right_and_masks_padding(tok) -> None:
    a = encode_segments(tok, IE_AS_QA.segments(TEXT, [("city", '["London"]')]))
    b = encode_segments(tok, IE_AS_QA.segments("Hi.", [("city", "[]")]))
    batch = collate([a, b], pad_id=tok.pad_token_id)
    n = len(b.input_ids)
    assert batch["input_ids"].shape == (2, len(a.input_ids))
    assert batch["attention_mask"][1, :n].all() and not batch["attention_mask"][1, n:].any()
    assert (batch["labels"][1, n:] == IGNORE_INDEX).all()
    assert batch["labels"][0].tolist() == a.labels


def test_questions_are_packed_not_truncated(tok) -> None:
    labels = [f"type{i}" for i in range(12)]
    conv = Conversation("c", TEXT, tuple(Query(lab, (), "[]") for lab in labels))
    stats = PrepStats()
    seqs = conversation_sequences(conv, IE_AS_QA, tok, 160, random.Random(0), stats)
    assert len(seqs) > 1 and all(len(s.input_ids) <= 160 for s in seqs)
    asked = []
    for s in seqs:
        text = tok.decode(s.input_ids)
        assert "Text: " + TEXT in text  # every sequence repeats the passage header
        asked += [lab for lab in labels if f"describes {lab} in" in text]
    assert sorted(asked) == sorted(labels) and stats.questions == 12
    assert stats.dropped_long_pairs == 0


def test_long_passage_is_windowed_with_answers_rederived(tok) -> None:
    sentences = [f"Alan Turing met person{i} in London." for i in range(40)]
    text = " ".join(sentences)
    conv = Conversation(
        "long", text, (Query("city", ("London",), '["London"]'), Query("date", (), "[]"))
    )
    stats = PrepStats()
    seqs = conversation_sequences(conv, IE_AS_QA, tok, 200, random.Random(0), stats)
    assert stats.windowed_passages == 1 and stats.windows >= 2
    assert all(len(s.input_ids) <= 200 for s in seqs)
    decoded = [tok.decode(s.input_ids) for s in seqs]
    city = [d for d in decoded if "describes city in" in d]
    assert len(city) == stats.windows  # each window asked once, answered from its own text
    assert all('describes city in the text? ASSISTANT: ["London"]' in d for d in city)
    assert stats.dropped_unfound == 0


def test_all_in_one_asks_every_type_in_one_question(tok) -> None:
    conv = Conversation(
        "a",
        TEXT,
        (
            Query("city", ("London",), '["London"]'),
            Query("person", ("Alan Turing",), '["Alan Turing"]'),
            Query("date", (), "[]"),
        ),
    )
    stats = PrepStats()
    seqs = conversation_sequences(
        conv, IE_AS_QA, tok, 200, random.Random(0), stats, shuffle=False, all_in_one=True
    )
    assert len(seqs) == 1 and stats.questions == 1 and stats.split_all_in_one == 0
    text = tok.decode(seqs[0].input_ids)
    assert text.count("What describes") == 1
    assert (
        'USER: What describes city, person, date in the text? ASSISTANT: [["London", "city"], '
        '["Alan Turing", "person"]]'
    ) in text


def test_an_all_in_one_question_too_long_is_split_over_halves_of_the_types(tok) -> None:
    labels = [f"type{i}" for i in range(12)]
    conv = Conversation(
        "c", TEXT, tuple(Query(lab, ("Alan Turing",), '["Alan Turing"]') for lab in labels)
    )
    stats = PrepStats()
    seqs = conversation_sequences(
        conv, IE_AS_QA, tok, 160, random.Random(0), stats, all_in_one=True
    )
    assert stats.split_all_in_one >= 1 and stats.dropped_long_pairs == 0
    assert all(len(s.input_ids) <= 160 for s in seqs)
    asked = []
    for s in seqs:
        text = tok.decode(s.input_ids)
        for q in text.split("What describes ")[1:]:
            asked += q.split(" in the text?")[0].split(", ")
            assert q.count('"Alan Turing"') == q.split(" in the text?")[0].count("type")
    assert sorted(asked) == sorted(labels)  # every type asked exactly once


def test_an_all_in_one_window_too_long_is_halved_with_answers_rederived(tok) -> None:
    text = " ".join(f"Alan Turing met friend{i} in London." for i in range(8))
    people = tuple(f"friend{i}" for i in range(8))
    conv = Conversation(
        "h",
        text,
        (Query("person", people, json.dumps(list(people))), Query("city", ("London",), None)),
    )
    stats = PrepStats()
    seqs = conversation_sequences(
        conv, IE_AS_QA, tok, 300, random.Random(0), stats, shuffle=False, all_in_one=True
    )
    assert stats.windowed_passages == 0  # the text alone fits: the answer made it too long
    assert stats.all_in_one_halved == 1 and len(seqs) == 2 and stats.split_all_in_one == 0
    answered = []
    for s in seqs:
        assert len(s.input_ids) <= 300
        text_part, answer = tok.decode(s.input_ids).split("person, city in the text? ASSISTANT: ")
        pairs = json.loads(answer.removesuffix("</s>"))
        answered += [m for m, t in pairs if t == "person"]
        assert all(f" {m}" in text_part for m, _ in pairs)  # each half answers from its text
    assert sorted(answered) == sorted(people) and stats.dropped_cut_mentions == 0


def test_word_windows_cover_text_and_fit(tok) -> None:
    text = " ".join(f"word{i}" for i in range(100))
    spans = word_windows(tok, text, 20, overlap_words=2)
    assert spans[0][0] == 0 and spans[-1][1] == len(text)
    for a, b in spans:
        assert len(tok(text[a:b], add_special_tokens=False)["input_ids"]) <= 20
    for (_, b0), (a1, _) in itertools.pairwise(spans):
        assert a1 < b0  # overlapping windows


def test_unfound_answers_are_counted_when_windowing(tok) -> None:
    text = " ".join(["Alan Turing met Ada in London."] * 30)
    conv = Conversation("u", text, (Query("city", ("Atlantis",), '["Atlantis"]'),))
    stats = PrepStats()
    conversation_sequences(conv, IE_AS_QA, tok, 200, random.Random(0), stats)
    assert stats.dropped_unfound == 1 and any("Atlantis" in n for n in stats.examples)


def test_empty_question_list_is_an_error(tok) -> None:
    with pytest.raises(ValueError, match="no question"):
        conversation_sequences(
            Conversation("e", TEXT, ()), IE_AS_QA, tok, 128, random.Random(0), PrepStats()
        )


def test_max_length_too_small_is_an_error(tok) -> None:
    conv = Conversation("e", TEXT, (Query("city", (), "[]"),))
    with pytest.raises(ValueError, match="leaves no room"):
        conversation_sequences(conv, IE_AS_QA, tok, 30, random.Random(0), PrepStats())


def test_frequency_negatives() -> None:
    ex = Example(TEXT, (Entity(0, 11, "Alan Turing", "person"),))
    other = Example("Paris.", (Entity(0, 5, "Paris", "city"),))
    freq = label_frequencies([ex, other, Example("Oslo.", (Entity(0, 4, "Oslo", "city"),))])
    conv = example_conversation(ex, freq, negatives=1, rng=random.Random(0))
    assert [(q.label, q.answers) for q in conv.queries] == [
        ("person", ("Alan Turing",)),
        ("city", ()),
    ]
    assert json.loads(conv.queries[0].raw_answer) == ["Alan Turing"]
