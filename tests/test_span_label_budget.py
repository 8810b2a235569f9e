"""The label prefix's token budget (``data.label_reserve_tokens``): many short labels per piece
without cutting its words, and never an input longer than the model reads."""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import numpy as np
import pytest

from tests.doubles.span import toy_examples
from uniner.students.span.backbones import load_tokenizer
from uniner.students.span.config import DataConfig
from uniner.students.span.data import TrainItem, epoch_plan, prepare_items
from uniner.students.span.features import Featurizer
from uniner.students.span.sampling import LabelSampler, label_frequencies

LENGTHS = {"person": 1, "city": 1, "long absent type name": 6, "short": 1, "medium type": 3}


def encode(label: str) -> tuple[int, ...]:
    return (0,) * LENGTHS.get(label, 2)


def item(*spans: tuple[int, int, str], known: tuple[str, ...] | None = None) -> TrainItem:
    return TrainItem(tuple((5,) for _ in range(4)), (1,) * 4, tuple(spans), known, 4)


def prefix(labels: list[str]) -> int:
    return 1 + sum(len(encode(lab)) + 1 for lab in labels)


def test_default_budget_is_every_label_at_its_longest() -> None:
    assert DataConfig(max_labels=20).label_prefix_budget(16) == 1 + 20 * 17
    assert DataConfig(max_labels=33, label_reserve_tokens=6).label_prefix_budget(16) == 199
    with pytest.raises(ValueError, match="label_reserve_tokens"):
        DataConfig(label_reserve_tokens=1)


def test_fit_drops_absent_types_from_the_end_first() -> None:
    sampler = LabelSampler(Counter(), prefix_budget=(12, prefix))
    it = item((0, 1, "person"), (2, 3, "city"))
    asked = ["person", "long absent type name", "city", "short", "medium type"]
    out = sampler._fit(it, asked)
    # 18 tokens asked: "medium type" and "short" go (absent, last), the rest fits in 12
    assert out == ["person", "long absent type name", "city"]
    assert prefix(out) <= 12
    tighter = LabelSampler(Counter(), prefix_budget=(6, prefix))._fit(it, asked)
    assert tighter == ["person", "city"]  # every absent type before a mentioned one


def test_fit_keeps_one_label_and_leaves_fitting_calls_alone() -> None:
    it = item((0, 1, "person"), (2, 3, "city"))
    tight = LabelSampler(Counter(), prefix_budget=(3, prefix))
    assert tight._fit(it, ["person", "city", "short"]) == ["person"]
    roomy = LabelSampler(Counter(), prefix_budget=(100, prefix))
    assert roomy._fit(it, ["city", "short"]) == ["city", "short"]


def test_no_budget_draws_as_before() -> None:
    freq = Counter({f"type {i}": 10 + i for i in range(30)})
    it = item((0, 1, "type 3"))
    plain = LabelSampler(freq, 4, 20, 2)
    budgeted = LabelSampler(freq, 4, 20, 2, prefix_budget=(10_000, prefix))
    a, b = np.random.default_rng(3), np.random.default_rng(3)
    assert [plain.sample(it, a) for _ in range(50)] == [budgeted.sample(it, b) for _ in range(50)]


def test_every_training_input_fits_the_model(backbone: Path) -> None:
    """Pieces cut for a small reserve, asked many labels: the sampler's cut keeps each input
    within ``max_length`` although labels may be longer than the reserve."""
    max_length, max_labels = 64, 12
    data = DataConfig(max_labels=max_labels, min_labels=max_labels, label_reserve_tokens=3)
    featurizer = Featurizer(load_tokenizer(str(backbone)), 16, 16)
    budget = data.label_prefix_budget(16)
    items, _ = prepare_items(
        toy_examples(40), featurizer, 24, 4, max_length - budget - 1, 0.3, 0, 0.0
    )
    freq = label_frequencies(items)
    freq.update({f"a rather long absent type name number {i}": 1 for i in range(40)})
    sampler = LabelSampler(
        freq, max_labels, max_labels, 2, prefix_budget=(budget, featurizer.prefix_length)
    )
    lengths = [
        len(featurizer.build(labs, items[i].tokens, items[i].shapes).input_ids)
        for batch in epoch_plan(items, sampler, 8, seed=0, epoch=0)
        for i, labs in batch
    ]
    assert max(lengths) <= max_length
    unbudgeted = LabelSampler(freq, max_labels, max_labels, 2)
    over = [
        len(featurizer.build(labs, items[i].tokens, items[i].shapes).input_ids)
        for batch in epoch_plan(items, unbudgeted, 8, seed=0, epoch=0)
        for i, labs in batch
    ]
    assert max(over) > max_length  # the cut was needed: the test can fail


def test_open_pieces_keep_their_own_maximum() -> None:
    """Closed sets asked up to ``max_labels``, open pieces up to ``open_max_labels``."""
    freq = Counter({f"type {i}": 10 + i for i in range(60)})
    known = tuple(f"type {i}" for i in range(40))
    closed_it, open_it = item((0, 1, "type 3"), known=known), item((0, 1, "type 3"))
    sampler = LabelSampler(freq, 4, 33, 2, closed_sets=True, open_max_labels=12)
    rng = np.random.default_rng(0)
    closed = [len(sampler.sample(closed_it, rng)) for _ in range(300)]
    opened = [len(sampler.sample(open_it, rng)) for _ in range(300)]
    assert max(closed) == 33 and max(opened) == 12 and min(opened) >= 4
    plain = LabelSampler(freq, 4, 33, 2, closed_sets=True)
    assert max(len(plain.sample(open_it, rng)) for _ in range(300)) > 12
    with pytest.raises(ValueError, match="open_max_labels"):
        DataConfig(min_labels=4, max_labels=20, open_max_labels=30)


def test_whole_set_share_asks_a_closed_set_whole() -> None:
    """With ``whole_share``, about that share of closed pieces is asked every label of its set
    (a uniform count asks 33 of 33 about once in 30); open pieces are untouched, and a share of
    0 samples exactly as before (no extra draw)."""
    freq = Counter({f"type {i}": 10 + i for i in range(60)})
    known = tuple(f"type {i}" for i in range(33))
    closed_it, open_it = item((0, 1, "type 3"), known=known), item((0, 1, "type 3"))
    whole = LabelSampler(freq, 4, 33, 2, closed_sets=True, open_max_labels=12, whole_share=0.6)
    rng = np.random.default_rng(0)
    asked = [whole.sample(closed_it, rng) for _ in range(500)]
    share = sum(sorted(a) == sorted(known) for a in asked) / len(asked)
    assert 0.5 < share < 0.7
    assert max(len(whole.sample(open_it, rng)) for _ in range(300)) == 12
    plain = LabelSampler(freq, 4, 33, 2, closed_sets=True, open_max_labels=12)
    zero = LabelSampler(freq, 4, 33, 2, closed_sets=True, open_max_labels=12, whole_share=0.0)
    r1, r2 = np.random.default_rng(3), np.random.default_rng(3)
    assert [plain.sample(closed_it, r1) for _ in range(50)] == [
        zero.sample(closed_it, r2) for _ in range(50)
    ]
    assert sum(len(plain.sample(closed_it, rng)) == 33 for _ in range(500)) < 60
    with pytest.raises(ValueError, match="whole_set_share"):
        DataConfig(whole_set_share=1.5)
