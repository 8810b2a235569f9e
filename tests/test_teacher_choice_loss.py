"""The type-choice term under self-distillation: the teacher's ranking of the asked types is the
target (``selfdistill_train.teacher_choice_loss``), and a run on a score store learns it faster."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

os.environ.setdefault("HF_HUB_OFFLINE", "1")
import torch

from tests.doubles.span import FirstWordScorer, tiny_span_parts
from tests.test_selfdistill import FREQ, SETTINGS, sources, student_run
from uniner.students.span.selfdistill_train import teacher_choice_loss

pytestmark = pytest.mark.usefixtures("one_torch_thread")


def _pairs(student: list[float], teacher: list[float], labels: int = 3):
    """``[1, 1, 1, L]`` student logits and teacher probabilities, the first ``labels`` asked."""
    x = torch.tensor(student)[None, None, None, :]
    p = torch.tensor(teacher)[None, None, None, :]
    mask = torch.zeros(1, 1, 1, x.shape[-1], dtype=torch.bool)
    mask[..., :labels] = True
    return x, p, mask


def test_agreeing_with_a_sure_teacher_costs_little_and_flipping_its_choice_costs_much() -> None:
    teacher = [0.95, 0.3, 0.02]  # writer over person, sure
    agree = teacher_choice_loss(*_pairs([3.0, -1.0, -4.0], teacher))
    flipped = teacher_choice_loss(*_pairs([-1.0, 3.0, -4.0], teacher))
    assert float(agree) < 0.2 < 2.0 < float(flipped)


def test_spans_the_teacher_reads_as_nothing_and_one_type_calls_add_nothing() -> None:
    assert float(teacher_choice_loss(*_pairs([4.0, 0.0, 0.0], [0.4, 0.3, 0.1]))) == 0.0
    assert float(teacher_choice_loss(*_pairs([4.0, 0.0, 0.0], [0.9, 0.3, 0.1], labels=1))) == 0.0
    # an unasked label neither competes (student) nor counts as the teacher's choice (teacher)
    x, p, mask = _pairs([2.0, 0.0, 50.0], [0.9, 0.1, 0.99], labels=2)
    loss = teacher_choice_loss(x, p, mask)
    assert torch.isfinite(loss) and float(loss) < 0.3


def test_a_teacher_tie_pulls_the_tied_types_together_not_apart() -> None:
    x, p, mask = _pairs([2.0, 0.0, -3.0], [0.9, 0.9, 0.05])
    x.requires_grad_(True)
    teacher_choice_loss(x, p, mask).backward()
    g = x.grad[0, 0, 0]  # type: ignore[index]
    assert g[0] > 0 > g[1]  # the one the student put on top comes down, the other goes up
    assert abs(float(g[0] + g[1])) < 0.05  # and the unasked-for third barely moves


class RankingTeacher(FirstWordScorer):
    """Sure of "person" on each first word, less of "city", and reads nothing else there."""

    def first_word_score(self, label: str) -> float:
        return {"person": 0.9, "city": 0.6}.get(label, 0.05)


def choice_loss_on_store(model, tokenizer, run) -> float:  # type: ignore[no-untyped-def]
    """:func:`teacher_choice_loss` of a student over every stored piece, all its labels asked."""
    from uniner.students.span.features import Featurizer
    from uniner.students.span.model import pair_mask
    from uniner.students.span.selfdistill_train import SoftTargets

    feat = Featurizer(tokenizer, run.model.max_word_tokens, run.model.max_label_tokens)
    soft = SoftTargets.load(run.data, feat, run.model, 10**6)
    entries = [(i, list(it.known_labels or ())) for i, it in enumerate(soft.items)]
    batch = soft.collate(feat, entries, run.model.max_width)
    given = {k: batch.pop(k) for k in ("soft", "targets", "own")}
    model.eval()
    with torch.no_grad():
        logits = model(**batch)
    return float(teacher_choice_loss(logits, given["soft"], pair_mask(model, batch)))


def test_a_run_on_teacher_scores_learns_the_teachers_ranking_faster_with_the_term(
    tmp_path: Path, backbone: Path
) -> None:
    from uniner.students.span.selfdistill import build_scores
    from uniner.students.span.train import train

    model, tok = tiny_span_parts(tmp_path / "teacher")
    teacher = RankingTeacher(model, tok, batch_size=4)
    build_scores(teacher, sources(), tmp_path / "s", SETTINGS, FREQ, progress=False)
    runs = {}
    for name, weight in (("plain", 0.0), ("choice", 1.0)):
        run = student_run(tmp_path / "s", tmp_path / name, backbone, 24)
        run.train.type_choice_weight = weight
        res = train(run, [], progress=False)
        assert all(map(torch.isfinite, map(torch.tensor, [v for _, v in res.state.losses])))
        runs[name] = choice_loss_on_store(res.model, res.tokenizer, run)
    assert runs["choice"] < 0.8 * runs["plain"]
