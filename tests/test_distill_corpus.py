"""Corpus in: sources stream, chunks respect the token limit on sentence boundaries, duplicates
(exact and near) go, and sampling is seeded and stable."""

from __future__ import annotations

import gzip
import json
import random

import pytest

from uniner.data.errors import DataFormatError
from uniner.distill.corpus import (
    Deduplicator,
    chunk_text,
    dedup,
    iter_documents,
    iter_passages,
    sample_passages,
    split_sentences,
)
from uniner.distill.runner import Passage


def test_sources_text_jsonl_gz_dirs_globs(tmp_path):
    (tmp_path / "d" / "sub").mkdir(parents=True)
    (tmp_path / "d" / "a.txt").write_text("First para line one.\nline two.\n\n\nSecond para.\n")
    (tmp_path / "d" / "sub" / "b.jsonl").write_text(
        json.dumps({"meta": {"body": "Nested text."}, "uid": 7})
        + "\n\n"
        + json.dumps({"meta": {"body": "More."}, "uid": 8})
        + "\n"
    )
    with gzip.open(tmp_path / "c.jsonl.gz", "wt") as fh:
        fh.write(json.dumps({"meta": {"body": "Zipped."}}) + "\n")
    (tmp_path / "d" / "skip.bin").write_bytes(b"\0\1")
    docs = list(
        iter_documents(
            [tmp_path / "d", str(tmp_path / "*.gz")], text_field="meta.body", id_field="uid"
        )
    )
    assert [(d.id, d.text) for d in docs] == [
        ("a.txt:1", "First para line one.\nline two."),
        ("a.txt:5", "Second para."),
        ("7", "Nested text."),
        ("8", "More."),
        ("c.jsonl.gz:1", "Zipped."),
    ]
    lines = list(iter_documents([tmp_path / "d" / "a.txt"], text_unit="line"))
    assert [d.text for d in lines] == ["First para line one.", "line two.", "Second para."]
    with pytest.raises(FileNotFoundError):
        list(iter_documents([str(tmp_path / "nothing*.txt")]))


def test_jsonl_streams_and_names_bad_line(tmp_path):
    p = tmp_path / "x.jsonl"
    p.write_text('{"text": "ok one"}\n{"text": "ok two"}\n{"body": "no text"}\n')
    it = iter_documents([p])
    assert next(it).text == "ok one"  # yielded before the bad line is read: streamed
    assert next(it).text == "ok two"
    with pytest.raises(DataFormatError, match=r"x\.jsonl, line 3.*'text'"):
        next(it)


def test_sentences_and_chunks():
    text = (
        'Dr. Smith went to Washington. He met the U.S. Army there! "Great," he said. '
        "Then he left.\n\nA new paragraph starts here."
    )
    assert split_sentences(text)[:2] == [
        "Dr. Smith went to Washington. ",
        "He met the U.S. Army there! ",
    ]
    assert "".join(split_sentences(text)) == text
    chunks = chunk_text(text, max_tokens=8)
    assert chunks == [
        "Dr. Smith went to Washington.",
        "He met the U.S. Army there!",
        '"Great," he said. Then he left.',
        "A new paragraph starts here.",
    ]


def test_sentence_offsets_are_exact():
    """Pieces are cut from the text itself: joined they give it back, character for character,
    and each starts where a sentence, a paragraph or a list item starts. Hard-wrapped lines do
    not end a sentence."""
    text = (
        "  Émile Zola wrote\nmany novels.  He died in 1902!\tThe end?\r\n"
        "\n \n"
        "Items:\n- first thing\n* second thing 🎉\n\n"
        "Mr. Ünver met Prof. Li at 3 p.m. yesterday. They talked."
    )
    pieces = split_sentences(text)
    assert "".join(pieces) == text and all(p.strip() for p in pieces[1:])
    starts = [sum(map(len, pieces[:i])) for i in range(len(pieces))]
    firsts = [text[s : s + 8] for s in starts]
    assert firsts == [
        "  Émile ",
        "He died ",
        "The end?",
        "Items:\n-",
        "- first ",
        "* second",
        "Mr. Ünve",
        "They tal",
    ]
    rng = random.Random(5)
    alphabet = ["Dr.", "U.S.", "word", "x", ".", "!", "?", "\n", "\n\n", " ", "  ", "- ", "é", '"']
    for _ in range(200):
        t = "".join(rng.choice(alphabet) + rng.choice(["", " "]) for _ in range(rng.randint(0, 40)))
        got = split_sentences(t)
        assert "".join(got) == t and all(got)


def test_chunks_respect_limit_with_any_counter():
    rng = random.Random(0)
    words = ["alpha", "beta", "gamma", "delta", "epsilon", "zeta"]
    sents = [
        " ".join(rng.choice(words) for _ in range(rng.randint(3, 40))).capitalize() + "."
        for _ in range(60)
    ]
    sents.append(" ".join(["long"] * 700) + ".")  # one sentence over the limit
    text = " ".join(sents)
    for counter, limit in ((lambda s: len(s.split()), 64), (len, 300)):
        chunks = chunk_text(text, counter, limit)
        assert all(counter(c) <= limit for c in chunks)
        assert " ".join(chunks).split() == text.split()  # nothing lost or reordered
        # chunks end on a sentence end, except the pieces of the one over-long sentence
        assert all(c.endswith(".") or c.split()[-1] == "long" for c in chunks)
        assert sum(c.split()[-1] == "long" for c in chunks) >= 2


def test_passage_ids_from_documents():
    from uniner.distill.corpus import Document

    docs = [Document("d1", "Short one."), Document("d2", "One two three. Four five six.")]
    ps = list(iter_passages(docs, max_tokens=3))
    assert [(p.id, p.text) for p in ps] == [
        ("d1", "Short one."),
        ("d2#0", "One two three."),
        ("d2#1", "Four five six."),
    ]


def _long_text(seed: int, n: int = 200) -> str:
    rng = random.Random(seed)
    return " ".join(f"w{rng.randint(0, 5000)}" for _ in range(n))


def test_dedup_exact_and_near():
    base = _long_text(1)
    words = base.split()
    near = " ".join([*words[:100], "CHANGED", *words[101:]])
    ps = [
        Passage("a", base),
        Passage("b", "  " + base.upper() + " "),
        Passage("c", near),
        Passage("d", _long_text(2)),
        Passage("e", _long_text(3)),
    ]
    d = Deduplicator(near_threshold=0.8)
    kept = [p.id for p in dedup(ps, d)]
    assert kept == ["a", "d", "e"]
    assert d.dropped == {"exact": 1, "near": 1}
    d2 = Deduplicator(near_threshold=None)
    assert [p.id for p in dedup(ps, d2)] == ["a", "c", "d", "e"]


def test_dedup_keeps_distinct_texts_and_is_seeded():
    """Texts sharing half their words are not near-duplicates at 0.8; signatures depend only on
    the seed and the text's words (case and spacing ignored)."""
    words = _long_text(7).split()
    half = " ".join([*words[:100], *_long_text(8).split()[:100]])
    d = Deduplicator(near_threshold=0.8)
    assert [p.id for p in dedup([Passage("a", " ".join(words)), Passage("b", half)], d)] == [
        "a",
        "b",
    ]
    assert d.dropped == {"exact": 0, "near": 0}
    text = _long_text(9)
    sig = Deduplicator(seed=3).signature(text).hashvalues
    assert (sig == Deduplicator(seed=3).signature(f"  {text.upper()} ").hashvalues).all()
    assert not (sig == Deduplicator(seed=4).signature(text).hashvalues).all()
    assert not (sig == Deduplicator(seed=3).signature(_long_text(10)).hashvalues).all()


def test_sampling_seeded_stable_and_uniformish():
    ps = [Passage(str(i), f"text {i}") for i in range(1000)]
    a = sample_passages(iter(ps), 50, seed=3)
    assert a == sample_passages(iter(ps), 50, seed=3)
    assert a != sample_passages(iter(ps), 50, seed=4)
    assert len(a) == 50 and [int(p.id) for p in a] == sorted(int(p.id) for p in a)
    assert sample_passages(iter(ps[:10]), 50) == ps[:10]
    hits = sum(int(p.id) < 500 for s in range(40) for p in sample_passages(iter(ps), 20, seed=s))
    assert 300 < hits < 500  # about half of 800 draws fall in the first half
