"""Shape twins: pieces asked again with a few of their types, and the term that keeps a shared
(span, type) pair's score the same in both readings (students/span/shape_twins.py)."""

from __future__ import annotations

import dataclasses
import os
from pathlib import Path

import pytest

os.environ.setdefault("HF_HUB_OFFLINE", "1")
import torch

from tests.doubles.span import toy_examples
from tests.test_span_train import run_config
from uniner.data.types import Entity, Example
from uniner.students.span.config import RunConfig, TrainConfig
from uniner.students.span.data import TrainItem
from uniner.students.span.shape_twins import (
    Twin,
    draw_twins,
    shape_consistency_loss,
    with_twins,
)
from uniner.students.span.train import train

pytestmark = pytest.mark.usefixtures("one_torch_thread")

LABELS = ["person", "city", "date", "company", "river", "film"]


def _item(*labels: str) -> TrainItem:
    spans = tuple((i, i + 1, lab) for i, lab in enumerate(labels))
    return TrainItem(
        tokens=((1,),) * 4, shapes=(0,) * 4, spans=spans, known_labels=None, n_tokens=4
    )


def _entries(n: int) -> list[tuple[int, list[str]]]:
    """Rows asking 6, 3, 6, 3, ... types; item 0 holds a person and a city, item 1 nothing."""
    return [(i % 2, LABELS if i % 2 == 0 else LABELS[:3]) for i in range(n)]


ITEMS = [_item("person", "city"), _item()]


def test_twins_ask_one_to_three_of_their_sources_types_in_order() -> None:
    twins = draw_twins(_entries(40), ITEMS, share=1.0, seed=3, epoch=0, batch=0)
    assert len(twins) == 20  # every row asked >= 4 types, none of those asked 3
    sizes = set()
    for twin in twins:
        source_labels = _entries(40)[twin.source][1]
        assert len(source_labels) >= 4 and 1 <= len(twin.labels) <= 3
        assert list(twin.index) == sorted(twin.index)
        assert twin.labels == tuple(source_labels[i] for i in twin.index)
        sizes.add(len(twin.labels))
    assert sizes == {1, 2, 3}
    held = sum(bool({"person", "city"} & set(t.labels)) for t in twins)
    assert held > len(twins) / 2  # half the time a held type is drawn first, else by chance


def test_twins_are_seeded_by_seed_epoch_and_batch() -> None:
    entries = _entries(40)
    first = draw_twins(entries, ITEMS, 0.5, seed=3, epoch=1, batch=7)
    assert first == draw_twins(entries, ITEMS, 0.5, seed=3, epoch=1, batch=7)
    assert 0 < len(first) < 20
    others = [draw_twins(entries, ITEMS, 0.5, 3, 1, b) for b in range(8, 12)]
    assert any(o != first for o in others)
    assert draw_twins(entries, ITEMS, 0.0, 3, 1, 7) == []


def test_twin_rows_follow_the_batch_with_their_sources_piece_and_casing() -> None:
    entries = _entries(4)
    twins = [Twin(2, ("city",), (1,)), Twin(0, ("person", "film"), (0, 5))]
    rows, flags = with_twins(entries, [False, True, True, False], twins)
    assert rows[:4] == entries and rows[4:] == [(0, ["city"]), (0, ["person", "film"])]
    assert flags == [False, True, True, False, True, False]


def _logits(source: list[float], twin: list[float]) -> tuple[torch.Tensor, torch.Tensor]:
    """``[2, 1, 1, 3]`` logits (row 0 the source asking 3 types, row 1 a twin asking its
    types 0 and 2) and their validity mask."""
    x = torch.full((2, 1, 1, 3), -20.0)
    x[0, 0, 0] = torch.tensor(source)
    x[1, 0, 0, :2] = torch.tensor(twin)
    mask = torch.ones(2, 1, 1, 3, dtype=torch.bool)
    mask[1, ..., 2] = False  # the twin asks two types
    return x, mask


TWIN = [Twin(0, ("a", "c"), (0, 2))]


def test_consistency_is_zero_when_both_readings_agree_and_grows_with_the_gap() -> None:
    same = shape_consistency_loss(*_logits([2.0, 5.0, -1.0], [2.0, -1.0]), TWIN, 1)
    near = shape_consistency_loss(*_logits([2.0, 5.0, -1.0], [1.5, -1.0]), TWIN, 1)
    far = shape_consistency_loss(*_logits([2.0, 5.0, -1.0], [-1.0, -1.0]), TWIN, 1)
    assert float(same) == 0.0 < float(near) < float(far)
    # type 1 is not shared (the twin does not ask it): its score never counts
    other = shape_consistency_loss(*_logits([2.0, -9.0, -1.0], [2.0, -1.0]), TWIN, 1)
    assert float(other) == 0.0


def test_every_shared_pair_counts_so_easy_negatives_dilute_the_mean() -> None:
    # the term weighs a pair as the per-pair BCE does: agreeing easy negatives lower the mean
    one_gap = shape_consistency_loss(*_logits([0.0, 0.0, -20.0], [-20.0, -20.0]), TWIN, 1)
    assert abs(float(one_gap) - 0.25 / 2) < 1e-6  # (0.5 - 0)^2 over the two shared pairs


def test_gradient_pulls_the_two_readings_together() -> None:
    x, mask = _logits([3.0, 0.0, -1.0], [-1.0, -1.0])
    x.requires_grad_(True)
    shape_consistency_loss(x, mask, TWIN, 1).backward()
    assert x.grad is not None
    assert x.grad[0, 0, 0, 0] > 0 > x.grad[1, 0, 0, 0]  # source down, twin up
    assert x.grad[0, 0, 0, 1] == 0  # a type only the source asks is left alone


def test_settings_are_validated() -> None:
    with pytest.raises(ValueError, match="shape_twin_share"):
        TrainConfig(max_steps=1, shape_twin_share=1.5)
    with pytest.raises(ValueError, match="shape_consistency_weight"):
        TrainConfig(max_steps=1, shape_consistency_weight=-1.0)


def _many_types(n: int) -> list[Example]:
    """Toy sentences whose mentions carry five types, so pieces are asked four or more."""
    rename = [{}, {"person": "writer"}, {"city": "town"}, {"person": "singer", "city": "port"}]
    out = []
    for i, ex in enumerate(toy_examples(n)):
        names = rename[i % len(rename)]
        ents = tuple(dataclasses.replace(e, label=names.get(e.label, e.label)) for e in ex.entities)
        out.append(Example(text=ex.text, entities=ents))
    assert all(isinstance(e, Entity) for ex in out for e in ex.entities)
    return out


def _twin_config(backbone: Path, out: Path, **kw: object) -> RunConfig:
    cfg = run_config(backbone, out, **kw)
    cfg.data = dataclasses.replace(cfg.data, min_labels=4, max_labels=5)
    return cfg


def test_training_with_twins_changes_the_run_learns_and_resumes_exactly(
    backbone: Path, tmp_path: Path
) -> None:
    data = _many_types(48)
    plain = train(_twin_config(backbone, tmp_path / "a", max_steps=12), data, progress=False)
    kw = dict(max_steps=12, shape_twin_share=1.0, shape_consistency_weight=1.0)
    full = train(_twin_config(backbone, tmp_path / "b", **kw), data, progress=False)
    losses = [v for _, v in full.state.losses]
    assert losses != [v for _, v in plain.state.losses]
    assert all(map(torch.isfinite, map(torch.tensor, losses)))
    assert sum(losses[-2:]) < sum(losses[:2])
    cfg = _twin_config(backbone, tmp_path / "c", **kw)
    train(cfg, data, stop_at_step=5, progress=False)
    resumed = train(cfg, data, progress=False)  # the same twins are drawn after the resume
    reference = dict(full.model.named_parameters())
    for name, p in resumed.model.named_parameters():
        assert torch.equal(p, reference[name]), name


def test_twins_refuse_a_teacher_score_store() -> None:
    from uniner.students.span.config import DataConfig
    from uniner.students.span.losses import batch_losses

    with pytest.raises(ValueError, match="teacher_scores"):
        RunConfig(
            data=DataConfig(teacher_scores="runs/store"),
            train=TrainConfig(max_steps=1, shape_twin_share=0.5),
        )

    tcfg = TrainConfig(max_steps=1, shape_twin_share=1.0, shape_consistency_weight=1.0)
    with pytest.raises(ValueError, match="gold labels"):
        batch_losses(
            None, None, [], [(0, LABELS)], None, tcfg, [False],  # type: ignore[arg-type]
            soft=object(), twins=TWIN,  # type: ignore[arg-type]
        )  # fmt: skip
