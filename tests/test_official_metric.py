"""The official UniNER string metric, quirk by quirk, and the partial-match variant."""

from __future__ import annotations

import json
import math

import pytest

from uniner.evaluation import (
    OFFICIAL_EPSILON,
    Counts,
    answer_string,
    normalize_answer,
    official_prf,
    parse_answer,
    score_official,
    score_official_partial,
)

# (prediction, gold, parsed prediction, parsed gold): twelve cases, each exercising one rule.
CASES: list[tuple[str, str, list[object], list[object]]] = [
    (
        '["Barack Obama", "the United States"]',
        '["Barack Obama", "United States"]',
        ["barack obama", "united states"],
        ["barack obama", "united states"],
    ),
    # re.match is anchored: text before the list means no match, hence "[]".
    ('Sure! ["Paris"]', '["Paris"]', [], ["paris"]),
    # The non-greedy match stops at the first "]": '["a [b]' is not JSON.
    ('["a [b] c", "d"]', '["a [b] c", "d"]', [], []),
    ("[]", "[]", [], []),
    # Normalisation makes all three "x"; de-duplication keeps one.
    ('["X", "X", "x."]', '["X"]', ["x"], ["x"]),
    # Truncated generation: no closing "]" at all.
    ('["New York", "Bos', '["New York", "Boston"]', [], ["new york", "boston"]),
    # Python-style single quotes are not JSON.
    ("['single quotes']", '["single quotes"]', [], ["single quotes"]),
    ('["U.S.", "U.K."]', '["US", "UK", "EU"]', ["us", "uk"], ["us", "uk", "eu"]),
    # Only the first list counts.
    ('["Apple"] and more text ["Google"]', '["Apple", "Google"]', ["apple"], ["apple", "google"]),
    # Leading whitespace defeats the anchored match.
    ('  ["leading space"]', '["leading space"]', [], ["leading space"]),
    # Articles are removed (replaced by a space, then whitespace is squashed).
    ('["An apple a day"]', '["apple day"]', ["apple day"], ["apple day"]),
    # normalize_answer(1) raises; the whole answer becomes [].
    ("[1, 2]", '["1"]', [], ["1"]),
]


@pytest.mark.parametrize(("pred", "gold", "pred_items", "gold_items"), CASES)
def test_each_case_parses_as_the_official_script(
    pred: str, gold: str, pred_items: list[object], gold_items: list[object]
) -> None:
    assert parse_answer(pred) == pred_items
    assert parse_answer(gold) == gold_items


def test_twelve_cases_together() -> None:
    preds = [c[0] for c in CASES]
    golds = [c[1] for c in CASES]
    counts = score_official(preds, golds)
    assert counts == Counts(7, 7, 15)
    prf = official_prf(preds, golds)
    assert round(prf.precision, 6) == 1.0
    assert round(prf.recall, 6) == round(7 / 15, 6)
    assert round(prf.f1, 6) == 0.636364
    # Exact ratios agree with the script's 1e-10-smoothed ones to ~1e-10.
    assert counts.precision == 1.0 and counts.recall == 7 / 15
    assert math.isclose(counts.f1, 14 / 22)
    assert abs(counts.f1 - prf.f1) < 1e-9


def test_official_smoothing_formula_bit_for_bit() -> None:
    """official_prf is literally the script's arithmetic."""
    n_correct, n_pred, n_gold = 3, 4, 7
    prec = n_correct / (n_pred + 1e-10)
    recall = n_correct / (n_gold + 1e-10)
    f1 = 2 * prec * recall / (prec + recall + 1e-10)
    got = Counts(n_correct, n_pred, n_gold).prf(OFFICIAL_EPSILON)
    assert (got.precision, got.recall, got.f1) == (prec, recall, f1)


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("The Beatles", "beatles"),
        ("  A   Tale of Two  Cities ", "tale of two cities"),
        ("the-art", "theart"),  # punctuation goes first, so no article is left to remove
        ("Ann an Anne", "ann anne"),  # whole-word articles only
        ("Ça va", "ça va"),
        ("“quoted”", "“quoted”"),  # only ASCII punctuation is removed
        ("AT&T, Inc.", "att inc"),
        ("", ""),
    ],
)
def test_normalize_answer(raw: str, expected: str) -> None:
    assert normalize_answer(raw) == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ('["x", "y"]\nmore', ["x", "y"]),
        ('["a", "b"]', ["", "b"]),  # "a" is an article: it normalises to the empty string
        ('["x",\n"y"]', []),  # "." does not cross newlines in the official regex
        ('[["Paris", "LOC"], ["Rome", "LOC"]]', []),  # stops at the first "]": not JSON
        ('[["Paris", "LOC"]', []),  # truncated outer list: the match '[["Paris", "LOC"]' fails
        ('[{"a": 1}]', []),  # dicts have no .lower()
        ("[null]", []),
        ("[true]", []),
        ("", []),
        ("no list at all", []),
        ('["Acad\\u00e9mie fran\\u00e7aise"]', ["académie française"]),
        ('["the"]', [""]),  # normalises to the empty string and still counts
    ],
)
def test_parse_answer_edge_cases(text: str, expected: list[object]) -> None:
    assert parse_answer(text) == expected


@pytest.mark.parametrize("text", ['[["Paris", "LOC"]]', "[[]]", '[["a"], "b"]', '["a", ["b"]]'])
def test_nested_lists_never_survive_the_regex(text: str) -> None:
    # The script turns list items into tuples, but the non-greedy "[...]" always ends at the
    # inner list's "]", so the outer list is cut open and json.loads fails: any answer with a
    # nested list scores as empty. The tuple branch is kept for fidelity; it is unreachable.
    assert parse_answer(text) == []


def test_answer_string_round_trip() -> None:
    mentions = ["Barack Obama", "Académie française", 'say "hi"']
    s = answer_string(mentions)
    assert s == json.dumps(mentions)
    assert "\\u00e9" in s  # ensure_ascii, as the released UniNER files
    assert json.loads(s) == mentions
    assert parse_answer(s) == ["barack obama", "académie française", "say hi"]
    assert answer_string([]) == "[]"


def test_mismatched_lengths_raise() -> None:
    with pytest.raises(ValueError, match="2 predictions but 1 gold"):
        score_official(["[]", "[]"], ["[]"])
    with pytest.raises(ValueError, match="aligned"):
        score_official_partial(["[]"], [])


def test_string_instead_of_list_rejected() -> None:
    with pytest.raises(TypeError):
        score_official('["a"]', '["a"]')


def test_empty_inputs_give_zero() -> None:
    c = score_official([], [])
    assert c == Counts(0, 0, 0)
    assert (c.precision, c.recall, c.f1) == (0.0, 0.0, 0.0)
    assert official_prf([], []).f1 == 0.0
    assert score_official(["[]"], ["[]"]).f1 == 0.0


def test_duplicate_gold_counted_once() -> None:
    # Gold is de-duplicated too, so a repeated gold string is one gold item.
    assert score_official(['["A"]'], ['["a", "A", "the a"]']) == Counts(1, 1, 1)


# --- partial match ----------------------------------------------------------------------------


def test_partial_match_arithmetic() -> None:
    # pred: exact "paris"; "new york city" shares "york" with gold "new york"; "london" nothing.
    # gold: "paris", "new york", "berlin".  correct = 1 + 0.5 = 1.5, predicted 3, gold 3.
    c = score_official_partial(
        ['["Paris", "New York City", "London"]'], ['["Paris", "New York", "Berlin"]']
    )
    assert c == Counts(1.5, 3, 3)
    assert c.precision == 0.5 and c.recall == 0.5
    strict = score_official(
        ['["Paris", "New York City", "London"]'], ['["Paris", "New York", "Berlin"]']
    )
    assert strict == Counts(1, 3, 3)


def test_partial_each_gold_used_once_and_exact_first() -> None:
    # Both predictions share "bank" with the single gold: only one pair is allowed.
    assert score_official_partial(['["Bank of America", "bank"]'], ['["Bank of England"]']) == (
        Counts(0.5, 2, 1)
    )
    # "bank" is exact, so the gold is taken by the exact match; "bank of england" gets nothing.
    assert score_official_partial(['["Bank of England", "bank"]'], ['["bank"]']) == Counts(1, 2, 1)


def test_partial_uses_a_maximum_matching_not_list_order() -> None:
    # "york" overlaps both golds, "new jersey" only "new york". Greedy in list order would pair
    # "york" with "new york" and leave "new jersey" unpaired (0.5); the maximum pairing gets 1.0.
    golds = ['["New York", "York Minster"]']
    for pred in ('["York", "New Jersey"]', '["New Jersey", "York"]'):
        assert score_official_partial([pred], golds) == Counts(1.0, 2, 2)


def test_partial_articles_and_punctuation_are_not_shared_words() -> None:
    # "The Who" -> "who"; "The Doors" -> "doors": only "the" in common, which is removed.
    assert score_official_partial(['["The Who"]'], ['["The Doors"]']) == Counts(0, 1, 1)


def test_partial_never_below_strict() -> None:
    preds = [c[0] for c in CASES]
    golds = [c[1] for c in CASES]
    assert score_official_partial(preds, golds) == score_official(preds, golds)  # no overlaps
    assert score_official_partial(preds, golds).f1 >= score_official(preds, golds).f1
