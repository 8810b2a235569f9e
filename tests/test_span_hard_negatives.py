"""Training with a type hierarchy: stand-in and hard-negative targets, parent sampling, informal
augmentation, and a tiny end-to-end run."""

from __future__ import annotations

import os
from collections import Counter
from pathlib import Path

import numpy as np
import pytest
import torch

os.environ.setdefault("HF_HUB_OFFLINE", "1")

from tests.doubles.span import TOY_PEOPLE, toy_examples
from uniner.data.hierarchy import Edge, TypeHierarchy
from uniner.data.types import Entity, Example
from uniner.students.span.backbones import load_tokenizer
from uniner.students.span.config import (
    DataConfig,
    RunConfig,
    SpanModelConfig,
    TrainConfig,
    dump_run_config,
    load_run_config,
)
from uniner.students.span.data import (
    PrepStats,
    TrainItem,
    collate_train,
    informal_share,
    prepare_items,
    resolve_hierarchy,
    target_labels,
)
from uniner.students.span.features import Featurizer
from uniner.students.span.sampling import LabelSampler
from uniner.students.span.train import train

pytestmark = pytest.mark.usefixtures("one_torch_thread")

# person -> writer -> poet, person -> politician
H = TypeHierarchy((Edge("person", "writer"), Edge("writer", "poet"), Edge("person", "politician")))


def item(*spans: tuple[int, int, str], known: tuple[str, ...] | None = None) -> TrainItem:
    return TrainItem(tuple((5,) for _ in range(4)), (1,) * 4, tuple(spans), known, 4)


def test_target_rule() -> None:
    assert target_labels("writer", ["person", "writer"], H) == ["writer"]  # hard negative
    assert target_labels("writer", ["person"], H) == ["person"]  # the general type stands in
    assert target_labels("writer", ["writer"], H) == ["writer"]
    assert target_labels("writer", ["city"], H) == []
    assert target_labels("poet", ["person", "writer", "city"], H) == ["writer"]
    assert target_labels("poet", ["city", "person"], H) == ["person"]
    assert target_labels("writer", ["politician", "person"], H) == ["person"]  # a sibling is no
    assert target_labels("person", ["person", "writer"], H) == ["person"]  # no kind of a writer
    # without a hierarchy: today's rule, the gold label only
    assert target_labels("writer", ["person"], None) == []
    assert target_labels("writer", ["person", "writer"], None) == ["writer"]


def test_collate_targets_with_the_hierarchy(backbone: Path) -> None:
    fz = Featurizer(load_tokenizer(str(backbone)))
    it = item((0, 1, "writer"), (2, 3, "person"))
    asked = [["person", "writer"], ["person"], ["writer"]]
    t = collate_train(fz, [it] * 3, asked, max_width=2, hierarchy=H)["targets"]
    # both asked: the writer is a writer (not a person), the plain person a person
    assert t[0, 0, 0].tolist() == [0.0, 1.0] and t[0, 2, 0].tolist() == [1.0, 0.0]
    # person alone: both mentions are persons
    assert t[1, 0, 0, 0] == 1 and t[1, 2, 0, 0] == 1 and t[1].sum() == 2
    # writer alone: only the writer
    assert t[2, 0, 0, 0] == 1 and t[2].sum() == 1
    plain = collate_train(fz, [it] * 3, asked, max_width=2)["targets"]
    assert plain[1, 0, 0, 0] == 0  # without it, the writer was a false negative for "person"


def frequencies() -> Counter[str]:
    freq = Counter({f"type {i}": 10 + i for i in range(30)})
    freq.update({"person": 50, "writer": 20, "city": 40})
    return freq


def test_sampler_unchanged_without_hard_negatives() -> None:
    it = item((0, 1, "writer"), (2, 3, "city"))
    before = LabelSampler(frequencies(), 4, 6, 2, few_share=0.3)
    after = LabelSampler(frequencies(), 4, 6, 2, few_share=0.3, hierarchy=H, hard_share=0.0)
    a, b = np.random.default_rng(7), np.random.default_rng(7)
    assert [before.sample(it, a) for _ in range(100)] == [after.sample(it, b) for _ in range(100)]


def test_sampler_asks_parents_at_share_one() -> None:
    it = item((0, 1, "writer"), (2, 3, "city"))
    sampler = LabelSampler(frequencies(), 4, 6, 2, few_share=0.3, hierarchy=H, hard_share=1.0)
    rng = np.random.default_rng(0)
    draws = [sampler.sample(it, rng) for _ in range(400)]
    assert all(len(d) == len(set(d)) <= 6 for d in draws)
    assert all("person" in d for d in draws)  # the parent is always asked
    pairs = sum("writer" in d for d in draws)
    assert 120 < pairs < 280  # both together about half the time, the parent alone otherwise
    assert any(d == ["person"] or set(d) == {"person", "city"} for d in draws)  # few + stand-in
    # a piece without a mention that has a parent is asked as before
    plain = item((2, 3, "city"))
    ref = LabelSampler(frequencies(), 4, 6, 2, few_share=0.3)
    a, b = np.random.default_rng(3), np.random.default_rng(3)
    for _ in range(50):
        got = sampler.sample(plain, a)
        want = ref.sample(plain, b)
        b.random()  # the hard-negative draw
        assert got == want
    with pytest.raises(ValueError, match="hierarchy"):
        LabelSampler(frequencies(), 4, 6, 2, hard_share=0.5)
    with pytest.raises(ValueError, match="hard_share"):
        LabelSampler(frequencies(), 4, 6, 2, hierarchy=H, hard_share=2.0)


def test_sampler_stand_in_drops_types_between() -> None:
    """A poet asked 'person' in place of its type asks neither 'poet' nor 'writer'."""
    it = item((0, 1, "poet"))
    sampler = LabelSampler(Counter({"poet": 5, "writer": 9}), 3, 3, 1, hierarchy=H, hard_share=1.0)
    draws = [sampler.sample(it, np.random.default_rng(s)) for s in range(200)]
    stand_in = [d for d in draws if "poet" not in d]
    assert stand_in and all("writer" in d and "person" not in d for d in stand_in)
    assert all(len(d) <= 3 for d in draws)  # the budget holds: negatives make room


def test_informal_share_keeps_offsets(backbone: Path) -> None:
    exs = toy_examples(60)
    stats = PrepStats()
    out = list(informal_share(exs, 0.5, seed=0, stats=stats))
    changed = [(a, b) for a, b in zip(exs, out, strict=True) if a.text != b.text]
    assert 15 < len(changed) == stats.informal < 45
    for a, b in changed:
        assert [e.label for e in a.entities] == [e.label for e in b.entities]
        assert all(b.text[e.start : e.end] == e.text for e in b.entities)
        assert [e.text.lower() for e in a.entities] == [e.text.lower() for e in b.entities]
    again = list(informal_share(exs, 0.5, seed=0, stats=PrepStats()))
    assert [x.text for x in again] == [x.text for x in out]  # seeded
    fz = Featurizer(load_tokenizer(str(backbone)))
    base, _ = prepare_items(exs, fz, 24, 4, 400, keep_empty=1.0, seed=0)
    same, _ = prepare_items(exs, fz, 24, 4, 400, keep_empty=1.0, seed=0, informal=0.0)
    assert base == same
    aug, st = prepare_items(exs, fz, 24, 4, 400, keep_empty=1.0, seed=0, informal=0.5)
    assert st.informal == stats.informal and st.mentions == sum(len(x.entities) for x in exs)
    assert aug != base


def test_informal_share_tags_mentions_only_when_asked(backbone: Path) -> None:
    """``tag_mentions`` writes one-word mentions as hashtags in the rewritten examples; 0 (the
    default, every release's training) gives exactly the old rewrites."""
    exs = toy_examples(60)

    def tagged(out: list) -> int:
        return sum(1 for x in out for e in x.entities if e.start and x.text[e.start - 1] == "#")

    plain = list(informal_share(exs, 1.0, seed=0, stats=PrepStats()))
    zero = list(informal_share(exs, 1.0, seed=0, stats=PrepStats(), tag_mentions=0.0))
    assert [x.text for x in zero] == [x.text for x in plain] and tagged(plain) == 0
    some = list(informal_share(exs, 1.0, seed=0, stats=PrepStats(), tag_mentions=0.5))
    assert tagged(some) > 0
    assert all(x.text[e.start : e.end] == e.text for x in some for e in x.entities)
    fz = Featurizer(load_tokenizer(str(backbone)))
    a, _ = prepare_items(exs, fz, 24, 4, 400, 1.0, 0, informal=1.0)
    b, _ = prepare_items(exs, fz, 24, 4, 400, 1.0, 0, informal=1.0, tag_mentions=0.5)
    assert a != b
    with pytest.raises(ValueError, match=r"informal_tag_mentions needs data\.informal"):
        DataConfig(informal_tag_mentions=0.5)


def test_config_keys_round_trip(tmp_path: Path) -> None:
    cfg = RunConfig(
        data=DataConfig(
            hierarchy="mine",
            hierarchy_min_support=4,
            hierarchy_min_share=0.25,
            hard_negative_share=0.3,
            informal=0.2,
        ),
        train=TrainConfig(max_steps=3),
    )
    p = tmp_path / "run.toml"
    p.write_text(dump_run_config(cfg))
    assert load_run_config(p) == cfg
    assert DataConfig().hierarchy is None and DataConfig().hard_negative_share == 0.0
    with pytest.raises(ValueError, match=r"needs data\.hierarchy"):
        DataConfig(hard_negative_share=0.2)
    with pytest.raises(ValueError, match=r"data\.informal"):
        DataConfig(informal=-0.1)
    # a hierarchy file written by bench/mine_hierarchy.py
    h = tmp_path / "h.json"
    h.write_text(H.to_json())
    assert resolve_hierarchy(str(h), [], 1, 0.5) == H
    assert resolve_hierarchy(None, [], 1, 0.5) is None


WRITERS = TOY_PEOPLE[:3]


def writer_examples(n: int) -> list[Example]:
    """The toy sentences, every other one's person labelled 'writer' instead when the name is
    one of three writers (a writer is always also called a person somewhere)."""
    out = []
    for i, ex in enumerate(toy_examples(n)):
        if i % 2 == 0:
            ents = tuple(
                Entity(e.start, e.end, e.text, "writer" if e.text in WRITERS else e.label)
                for e in ex.entities
            )
            ex = Example(ex.text, ents, labels=None, id=ex.id)
        out.append(ex)
    return out


def hierarchy_run(backbone: Path, out: Path, steps: int) -> RunConfig:
    return RunConfig(
        model=SpanModelConfig(backbone=str(backbone), hidden_dim=16, max_width=4),
        data=DataConfig(
            max_words=24,
            min_labels=2,
            max_labels=4,
            min_negatives=1,
            hierarchy="mine",
            hierarchy_min_support=2,
            hard_negative_share=0.5,
            informal=0.3,
        ),
        train=TrainConfig(
            output_dir=str(out),
            max_steps=steps,
            batch_size=8,
            warmup_steps=2,
            checkpoint_every=0,
            log_every=2,
            save_storage="full",
        ),
    )


def test_training_with_the_hierarchy(backbone: Path, tmp_path: Path) -> None:
    cfg = hierarchy_run(backbone, tmp_path / "run", 6)
    res = train(cfg, writer_examples(48), progress=False)
    assert res.state.step == 6 and res.stats.informal > 0
    assert (res.output_dir / "model" / "model.safetensors").is_file()
    mined = TypeHierarchy.load(res.output_dir / "hierarchy.json")
    assert mined.parents("writer") == ("person",)
    assert load_run_config(res.output_dir / "run.toml") == cfg


def test_resume_is_exact_with_the_hierarchy(backbone: Path, tmp_path: Path) -> None:
    """Mining, parent sampling and the informal rewrite are seeded: a resumed run matches."""
    data = writer_examples(32)
    full = train(hierarchy_run(backbone, tmp_path / "a", 8), data, progress=False)
    cfg = hierarchy_run(backbone, tmp_path / "b", 8)
    train(cfg, data, stop_at_step=3, progress=False)
    resumed = train(cfg, data, progress=False)
    a = dict(full.model.named_parameters())
    assert all(torch.equal(p, a[n]) for n, p in resumed.model.named_parameters())


def test_negative_sampling_modes() -> None:
    """data.negatives (the paper's Table 4 arms): "none" asks only the types present,
    "uniform" draws absent types regardless of frequency, "frequency" (default) by frequency."""
    it = item((0, 1, "writer"), (2, 3, "city"))
    none = LabelSampler(frequencies(), 4, 6, 2, negatives="none")
    rng = np.random.default_rng(0)
    assert all(sorted(none.sample(it, rng)) == ["city", "writer"] for _ in range(50))
    uniform = LabelSampler(frequencies(), 4, 6, 2, negatives="uniform")
    assert np.allclose(uniform.probs, 1.0 / len(uniform.labels))
    freq = LabelSampler(frequencies(), 4, 6, 2)
    assert freq.probs.max() > 2 * freq.probs.min()
    draws = [uniform.sample(it, rng) for _ in range(200)]
    assert all({"writer", "city"} <= set(d) and 4 <= len(d) <= 6 for d in draws)
    with pytest.raises(ValueError, match="negatives"):
        LabelSampler(frequencies(), 4, 6, 2, negatives="random")
