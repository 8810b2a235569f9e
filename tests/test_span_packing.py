"""Word packing shared by training pieces and inference windows, pinned on fixed texts.

The expected pieces and windows were produced by the two separate loops that ``pack_words``
replaced (``data._cuts`` and ``plan_windows`` before the change), so any drift in what training
or inference reads shows up here.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from uniner.data.types import Entity, Example
from uniner.students.span.backbones import load_tokenizer
from uniner.students.span.data import PrepStats, cut_pieces
from uniner.students.span.features import Featurizer
from uniner.students.span.packing import fit_end, pack_words
from uniner.students.span.windowing import plan_windows


@pytest.fixture(scope="module")
def featurizer(backbone: Path) -> Featurizer:
    return Featurizer(load_tokenizer(str(backbone)))


def _example(text: str, mentions: list[tuple[str, str]]) -> Example:
    ents = []
    for mention, label in mentions:
        start = text.index(mention)
        ents.append(Entity(start, start + len(mention), mention, label))
    return Example(text, tuple(ents))


_SENT = "Alice Smith met Bob in New York . "
_AT_LIMIT = "alice met bob in paris and rome ."  # 8 words, 8 tokens
_LONG = "Supercalifragilisticexpialidocious"  # 16 word pieces in the tiny vocabulary

# name: (examples, max_words, max_width, max_tokens, pieces (start, end, spans), stats
# (pieces, cut, too_wide, mentions))
PIECE_CASES = {
    "empty": ([_example("", [])], 8, 4, 400, [], (0, 0, 0, 0)),
    "sentences": (
        [_example(_SENT * 3, [("Alice Smith", "person"), ("New York", "city")])],
        10,
        4,
        400,
        [(0, 8, ((0, 2, "person"), (5, 7, "city"))), (8, 16, ()), (16, 24, ())],
        (3, 0, 0, 2),
    ),
    "mention_across_budget": (  # the 6-word budget ends inside "new york": cut before it
        [_example("alice smith met bob in new york lives in paris", [("new york", "city")])],
        6,
        4,
        400,
        [(0, 5, ()), (5, 10, ((0, 2, "city"),))],
        (2, 0, 0, 1),
    ),
    "mention_wider_than_piece": (  # no boundary outside the mention: it is cut (counted)
        [_example("met alice bob carol dave eve frank in paris", [("alice bob carol dave", "p")])],
        3,
        6,
        400,
        [(0, 1, ()), (1, 4, ()), (4, 7, ()), (7, 9, ())],
        (4, 2, 0, 1),
    ),
    "long_word": (  # a word over max_tokens still makes a piece of its own
        [_example(f"Alice met {_LONG} in Paris .", [("Paris", "city")])],
        8,
        4,
        10,
        [(0, 2, ()), (2, 3, ()), (3, 6, ((1, 2, "city"),))],
        (3, 0, 0, 1),
    ),
    "exactly_at_limit": (
        [_example(_AT_LIMIT, [("rome", "city")]), _example(_AT_LIMIT + " x", [])],
        8,
        4,
        400,
        [(0, 8, ((6, 7, "city"),)), (0, 8, ()), (8, 9, ())],
        (3, 0, 0, 1),
    ),
    "token_budget": (
        [_example("alice met Bartholomew in Rome . bob met eve .", [("Bartholomew", "person")])],
        20,
        4,
        12,
        [(0, 2, ()), (2, 4, ((0, 1, "person"),)), (4, 10, ())],
        (3, 0, 0, 1),
    ),
}


@pytest.mark.parametrize("name", sorted(PIECE_CASES))
def test_training_pieces_pinned(featurizer: Featurizer, name: str) -> None:
    examples, max_words, max_width, max_tokens, expected, counts = PIECE_CASES[name]
    stats = PrepStats()
    pieces = cut_pieces(examples, featurizer, max_words, max_width, max_tokens, 1.0, 0, 0.0, stats)
    assert [(p.start, p.end, p.spans) for p in pieces] == expected
    assert (stats.pieces, stats.cut, stats.too_wide, stats.mentions) == counts


# name: (text, max_words, max_tokens, overlap, windows (word_start, word_end, char_start, char_end))
WINDOW_CASES = {
    "empty": ("", 8, 12, 3, []),
    "one_window": ("alice met bob in paris .", 8, 12, 3, [(0, 6, 0, 24)]),
    "exactly_at_limit": (_AT_LIMIT, 8, 12, 3, [(0, 8, 0, 33)]),
    "overlap": (
        " ".join(["alice met bob in paris ."] * 5),
        8,
        12,
        3,
        [
            (0, 8, 0, 34),
            (5, 13, 23, 55),
            (10, 18, 42, 74),
            (15, 23, 64, 97),
            (20, 28, 85, 116),
            (25, 30, 106, 124),
        ],
    ),
    "long_word": (f"alice met {_LONG} in paris and rome .", 8, 40, 2, [(0, 8, 0, 64)]),
    "token_budget_shrinks_overlap": (  # 11-token words: windows advance one word at a time
        "alice Bartholomew met Bartholomew in paris and Bartholomew .",
        8,
        12,
        2,
        [
            (0, 2, 0, 17),
            (1, 3, 6, 21),
            (2, 4, 18, 33),
            (3, 5, 22, 36),
            (4, 7, 34, 46),
            (5, 7, 37, 46),
            (6, 8, 43, 58),
            (7, 9, 47, 60),
        ],
    ),
}


@pytest.mark.parametrize("name", sorted(WINDOW_CASES))
def test_inference_windows_pinned(featurizer: Featurizer, name: str) -> None:
    text, max_words, max_tokens, overlap, expected = WINDOW_CASES[name]
    enc = featurizer.encode_text(text)
    wins = plan_windows(enc.offsets, enc.token_counts(), max_words, max_tokens, overlap)
    assert [(w.word_start, w.word_end, w.char_start, w.char_end) for w in wins] == expected
    assert [w.index for w in wins] == list(range(len(wins)))


def test_inference_refuses_a_word_over_the_token_budget(featurizer: Featurizer) -> None:
    enc = featurizer.encode_text(f"alice met {_LONG} .")
    with pytest.raises(ValueError, match="max_tokens=10"):
        plan_windows(enc.offsets, enc.token_counts(), 8, 10, 2)


def test_pack_words_budgets_and_choice() -> None:
    counts = [1, 2, 3, 1, 5, 1]
    assert fit_end(counts, 0, max_words=10, max_tokens=6) == 3
    assert fit_end(counts, 4, max_words=10, max_tokens=4) == 5  # one oversized word alone
    assert fit_end(counts, 0, max_words=2, max_tokens=100) == 2
    assert pack_words(counts, 10, 6) == [(0, 3), (3, 5), (5, 6)]
    assert pack_words(counts, 3, 100, overlap=1) == [(0, 3), (2, 5), (4, 6)]
    assert pack_words(counts, 3, 100, choose_end=lambda s, lim: s + 1) == [
        (0, 1),
        (1, 2),
        (2, 3),
        (3, 6),
    ]
    assert pack_words([], 3, 10) == []
    with pytest.raises(ValueError, match="choose_end"):
        pack_words(counts, 3, 100, choose_end=lambda s, lim: lim + 1)
