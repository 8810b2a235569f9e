"""Instruction-data builder: questions, negatives, seeded order, variants, the released layout
(byte round trip of an official file) and type counts preserved on the Pile-NER files here."""

from __future__ import annotations

import json
from collections import Counter

import pytest

from uniner.data.readers import read_conversations, read_examples
from uniner.data.readers.conversation import group_by_passage
from uniner.data.types import Entity, Example
from uniner.instruct import (
    Annotated,
    BuildConfig,
    NegativeSampler,
    build_records,
    conversation_record,
    count_types,
    dumps_records,
    from_conversation,
    from_example,
    write_records,
)

TEXT = "Paris is in France. Paris hosts UNESCO; France borders Spain."


def _example() -> Example:
    ents = []
    for word, label in [
        ("Paris", "city"),
        ("France", "country"),
        ("UNESCO", "organization"),
        ("Spain", "country"),
    ]:
        start = 0
        while (i := TEXT.find(word, start)) != -1:
            ents.append(Entity(i, i + len(word), word, label))
            start = i + 1
    return Example(TEXT, tuple(ents), labels=("city", "country", "organization", "person"), id="p0")


def _questions(rec):
    turns = rec["conversations"]
    return [(turns[k]["value"], turns[k + 1]["value"]) for k in range(2, len(turns), 2)]


def test_positive_questions_dedup_in_order_and_known_negative():
    p = from_example(_example())
    assert p.answers == (
        ("city", ("Paris",)),
        ("country", ("France", "Spain")),
        ("organization", ("UNESCO",)),
    )
    assert p.negatives == ("person",)
    rec = next(build_records([p], BuildConfig(negatives="none", shuffle=False)))
    assert rec["id"] == "p0"
    assert rec["conversations"][:2] == [
        {"from": "human", "value": "Text: " + TEXT},
        {"from": "gpt", "value": "I've read this text."},
    ]
    assert _questions(rec) == [
        ("What describes city in the text?", '["Paris"]'),
        ("What describes country in the text?", '["France", "Spain"]'),
        ("What describes organization in the text?", '["UNESCO"]'),
        ("What describes person in the text?", "[]"),
    ]


def _corpus(n=400):
    """Passages whose type frequencies are known: 'common' in 90%, 'rare' in 10%, etc."""
    out = []
    for i in range(n):
        types = [f"t{i % 5}"]
        types.append("common" if i % 10 else "rare")
        out.append(Annotated(str(i), f"passage {i}", tuple((t, ("x",)) for t in types)))
    return out


def test_negative_strategies():
    passages = _corpus()
    none = list(build_records(passages, BuildConfig(negatives="none", n_negatives=3)))
    assert all(len(_questions(r)) == 2 for r in none)
    for strategy in ("uniform", "frequency"):
        recs = list(build_records(passages, BuildConfig(negatives=strategy, n_negatives=2)))
        for p, r in zip(passages, recs, strict=True):
            qs = _questions(r)
            negs = [q for q, a in qs if a == "[]"]
            assert len(negs) == 2 and len(set(negs)) == 2
            pos = {f"What describes {t} in the text?" for t in p.positive_types}
            assert not pos & set(negs)  # a positive type is never sampled as negative


def test_frequency_sampling_is_proportional():
    freq = {"a": 800, "b": 150, "c": 50}
    import random

    rng = random.Random(1)
    s_freq, s_uni = NegativeSampler(freq, "frequency"), NegativeSampler(freq, "uniform")
    f = Counter(s_freq.sample(rng, 1, set())[0] for _ in range(4000))
    u = Counter(s_uni.sample(rng, 1, set())[0] for _ in range(4000))
    assert 0.76 < f["a"] / 4000 < 0.84 and 0.03 < f["c"] / 4000 < 0.07
    assert all(0.28 < u[t] / 4000 < 0.39 for t in freq)
    # excluded types never come back, k is capped by what is available
    assert s_freq.sample(rng, 5, {"a"}) in (["b", "c"], ["c", "b"])


def test_seeded_shuffle():
    passages = _corpus(50)
    cfg = BuildConfig(negatives="frequency", n_negatives=3, seed=7)
    a = list(build_records(passages, cfg))
    b = list(build_records(passages, cfg))
    c = list(build_records(passages, BuildConfig(negatives="frequency", n_negatives=3, seed=8)))
    assert a == b and a != c
    orders = {tuple(q for q, _ in _questions(r)) for r in a}
    assert len(orders) > 10  # shuffled, not one fixed order
    # the acknowledgement pair always stays first
    assert all(r["conversations"][1]["value"] == "I've read this text." for r in a)


def test_variants_and_dataset_template():
    p = from_example(_example())
    cfg = BuildConfig(negatives="none", shuffle=False, variant="all-in-one", dataset="CoNLL")
    rec = next(build_records([p], cfg))
    assert rec["conversations"][0]["value"] == "Dataset: CoNLL\nText: " + TEXT
    ((q, a),) = _questions(rec)
    assert q == "What describes city, country, organization, person in the text?"
    assert json.loads(a) == [
        ["Paris", "city"],
        ["France", "country"],
        ["Spain", "country"],
        ["UNESCO", "organization"],
    ]
    defs = {"city": "a large human settlement"}
    cfg = BuildConfig(negatives="none", shuffle=False, variant="definition")
    rec = next(build_records([p], cfg, definitions=defs))
    assert _questions(rec)[0] == (
        "What describes a large human settlement in the text?",
        '["Paris"]',
    )
    assert _questions(rec)[1][0] == "What describes country in the text?"


def test_written_file_reads_back(tmp_path):
    p = from_example(_example())
    out = tmp_path / "train.json"
    n = write_records(build_records([p], BuildConfig(dataset="geo", seed=3)), out)
    assert n == 1
    raw = out.read_bytes()
    assert raw == json.dumps(json.loads(raw)).encode()  # the released layout
    (conv,) = read_conversations(out)
    assert conv.dataset == "geo" and conv.text == TEXT
    got = {q.label: q.answers for q in conv.queries if q.answers}
    assert got == {"city": ("Paris",), "country": ("France", "Spain"), "organization": ("UNESCO",)}


def test_config_validation():
    with pytest.raises(ValueError, match="negatives"):
        BuildConfig(negatives="random")
    with pytest.raises(ValueError, match="variant"):
        BuildConfig(variant="fancy")


@pytest.mark.shared_data
def test_official_file_round_trips_byte_for_byte(shared_data):
    path = shared_data / "zero-shot" / "uniner" / "CrossNER_AI.json"
    convs = read_conversations(path)
    assert "".join(dumps_records(conversation_record(c) for c in convs)).encode() == (
        path.read_bytes()
    )


@pytest.mark.shared_data
def test_pile_ner_slimer_type_counts_preserved(shared_data, tmp_path):
    path = (
        shared_data
        / "pile-ner"
        / "slimer"
        / "5pos_5neg_perNE_top391NEs_FalseDef"
        / "validation.jsonl"
    )
    convs = list(read_conversations(path))
    expected = count_types(convs)  # the file's own per-type counts
    assert sum(expected.mentions.values()) == 1582  # as the data README counts them
    assert sum(expected.positive.values()) == 717
    passages = [from_conversation(c) for c in group_by_passage(convs)]
    assert len(passages) == 882
    out = tmp_path / "pile.json"
    write_records(build_records(passages, BuildConfig(negatives="none", seed=1)), out)
    got = count_types(read_conversations(out))
    assert got.positive == expected.positive
    assert got.mentions == expected.mentions
    assert got.negative == expected.negative


@pytest.mark.shared_data
def test_pile_ner_bio_type_counts_preserved(shared_data, tmp_path):
    path = shared_data / "pile-ner" / "slimer" / "GNER_wDeG" / "391xALL_BIO" / "dev.txt"
    examples = list(read_examples(path))
    assert len(examples) == 2217
    positive, mentions = Counter(), Counter()
    for ex in examples:  # counted from the file's examples, independently of the builder
        for label in {e.label for e in ex.entities}:
            positive[label] += 1
            mentions[label] += len({e.text for e in ex.entities if e.label == label})
    assert len(positive) == 368
    passages = [from_example(ex, i) for i, ex in enumerate(examples)]
    out = tmp_path / "pile-bio.json"
    n = write_records(
        build_records(passages, BuildConfig(negatives="frequency", n_negatives=2)), out
    )
    assert n == 2217
    got = count_types(read_conversations(out))
    assert got.positive == positive and got.mentions == mentions
    assert sum(got.negative.values()) == 2 * 2217
