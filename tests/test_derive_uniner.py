"""Deriving UniNER test files from InstructUIE splits, checked against the six official files."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from uniner.benchmark.derive import (
    compare_with_official,
    derive_uniner_test,
    dumps_uniner,
    main,
    official_queries,
    official_question_orders,
)
from uniner.benchmark.loaders import load_split
from uniner.benchmark.registry import get, suite

OFFICIAL = [s.name for s in suite("zero-shot") if s.uniner_test is not None]


def test_six_official_files():
    assert sorted(OFFICIAL) == sorted(
        ["CrossNER_AI", "CrossNER_literature", "CrossNER_music", "CrossNER_politics",
         "CrossNER_science", "mit-restaurant"]
    )  # fmt: skip


@pytest.mark.parametrize("name", OFFICIAL)
def test_derivation_reproduces_the_official_file(shared_data: Path, name: str):
    check = compare_with_official(name, shared_data)
    # Same sentences in the same order, the same questions per sentence, the same answer sets.
    assert check.passages_derived == check.passages_official
    assert check.sentence_mismatches == 0, check.examples
    assert check.question_set_mismatches == 0, check.examples
    assert check.answer_set_mismatches == 0, check.examples
    # Stronger: the answer lists (order and duplicates) agree too, and with the official
    # per-passage question orders the derived file is byte-identical to the official one.
    assert check.answer_list_mismatches == 0
    assert check.byte_identical_with_official_orders


def test_default_order_differs_only_in_question_order(shared_data: Path):
    """Without the official (per-passage shuffled) orders, records differ only in order."""
    spec = get("CrossNER_politics")
    path = spec.uniner_test_path(shared_data)
    assert path is not None
    ours = derive_uniner_test(spec, shared_data)
    theirs = json.loads(path.read_text("utf-8"))
    assert len(ours) == len(theirs) == 650 * 8
    assert [r["id"] for r in ours] == [r["id"] for r in theirs]

    def content(records: list[dict]) -> set[tuple[str, ...]]:
        return {tuple(t["value"] for t in r["conversations"]) for r in records}

    assert content(ours) == content(theirs)
    orders = official_question_orders(path, 8)
    assert orders[0] == spec.labels  # the registry's order is the first passage's
    assert len(set(orders)) > 600  # shuffled per passage: no single order reproduces the file


def test_json_serialisation_matches_the_official_bytes(shared_data: Path):
    path = get("CrossNER_literature").uniner_test_path(shared_data)
    assert path is not None
    raw = path.read_bytes()
    assert dumps_uniner(json.loads(raw)).encode("utf-8") == raw
    assert raw.isascii() and b"\\u00e9" in raw  # non-ASCII written as \uXXXX escapes


def test_mit_movie_file_is_derived(shared_data: Path, tmp_path: Path):
    out = tmp_path / "mit-movie.json"
    assert main(["--dataset", "mit-movie", "--out", str(out), "--data-dir", str(shared_data)]) == 0
    raw = out.read_bytes()
    assert raw.isascii() and not raw.endswith(b"\n")
    records = json.loads(raw)
    spec = get("mit-movie")
    assert len(records) == 2442 * 12
    assert [r["id"] for r in records] == [f"mit-movie_{n}" for n in range(len(records))]
    assert records[0]["conversations"][0]["value"] == (
        "Text: are there any good romantic comedies out right now"
    )
    queries = official_queries(out)
    split = load_split(spec, "test", shared_data)
    for k, ex in enumerate(split.examples):
        block = queries[k * 12 : (k + 1) * 12]
        assert {q[0] for q in block} == {ex.text}
        assert [q[1] for q in block] == list(spec.labels)
        for _text, label, answers, _raw in block:
            assert set(answers) == set(ex.mentions(label))
    # every InstructUIE mention is kept, duplicates included (as in the official files)
    assert sum(len(q[2]) for q in queries) == 5338
