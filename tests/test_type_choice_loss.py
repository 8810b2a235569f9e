"""The type-choice term: a cross-entropy over the asked types on spans with one gold type."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

os.environ.setdefault("HF_HUB_OFFLINE", "1")
import torch

from tests.doubles.span import toy_examples
from tests.test_span_train import run_config
from uniner.students.span.config import TrainConfig
from uniner.students.span.model import type_choice_loss
from uniner.students.span.train import train

pytestmark = pytest.mark.usefixtures("one_torch_thread")


def _pairs(logits: list[list[float]], targets: list[list[float]], labels: int = 3):
    """``[1, S, 1, L]`` logits/targets for S spans and a ``[1, 1, 1, L]`` mask of ``labels``."""
    x = torch.tensor(logits)[None, :, None, :]
    y = torch.tensor(targets)[None, :, None, :]
    mask = torch.zeros(1, 1, 1, x.shape[-1], dtype=torch.bool)
    mask[..., :labels] = True
    return x, y, mask


def test_loss_is_low_when_the_gold_type_wins_and_high_when_a_close_type_does() -> None:
    right = type_choice_loss(*_pairs([[4.0, 1.0, -3.0]], [[1.0, 0.0, 0.0]]))
    wrong = type_choice_loss(*_pairs([[1.0, 4.0, -3.0]], [[1.0, 0.0, 0.0]]))
    assert float(right) < 0.1 < 2.0 < float(wrong)


def test_only_spans_with_one_gold_type_among_several_asked_count() -> None:
    for logits, targets, labels in (
        ([[1.0, 4.0, 0.0]], [[0.0, 0.0, 0.0]], 3),  # no gold type: the BCE's business
        ([[1.0, 4.0, 0.0]], [[1.0, 1.0, 0.0]], 3),  # two gold types: no single answer
        ([[1.0, 4.0, 0.0]], [[1.0, 0.0, 0.0]], 1),  # one type asked: nothing to choose from
    ):
        loss = type_choice_loss(*_pairs(logits, targets, labels))
        assert float(loss) == 0.0
    # a padded (unasked) label never competes, however high its logit
    x, y, mask = _pairs([[2.0, 0.0, 50.0]], [[1.0, 0.0, 0.0]], labels=2)
    assert float(type_choice_loss(x, y, mask)) < 0.2


def test_gradient_raises_the_gold_type_and_lowers_the_close_one() -> None:
    x, y, mask = _pairs([[1.0, 1.0, 1.0]], [[0.0, 1.0, 0.0]])
    x.requires_grad_(True)
    type_choice_loss(x, y, mask).backward()
    g = x.grad[0, 0, 0]  # type: ignore[index]
    assert g[1] < 0 < g[0] and g[2] > 0


def test_negative_weight_is_refused() -> None:
    with pytest.raises(ValueError, match="type_choice_weight"):
        TrainConfig(max_steps=1, type_choice_weight=-0.5)


def test_training_with_the_term_changes_the_run_and_still_learns(
    backbone: Path, tmp_path: Path
) -> None:
    data = toy_examples(48)
    plain = train(run_config(backbone, tmp_path / "a", max_steps=16), data, progress=False)
    cfg = run_config(backbone, tmp_path / "b", max_steps=16, type_choice_weight=1.0)
    chosen = train(cfg, data, progress=False)
    losses = [v for _, v in chosen.state.losses]
    assert losses != [v for _, v in plain.state.losses]
    assert all(map(torch.isfinite, map(torch.tensor, losses)))
    assert sum(losses[-2:]) < sum(losses[:2])
