"""Training on a tiny random BERT: data pieces, label sampling, loss falls, exact resume, config."""

from __future__ import annotations

import dataclasses
import os
from collections import Counter
from pathlib import Path

import pytest

os.environ.setdefault("HF_HUB_OFFLINE", "1")
import torch

from tests.doubles.span import toy_examples
from uniner.data.types import Entity, Example
from uniner.students.span.backbones import load_tokenizer
from uniner.students.span.config import (
    DataConfig,
    DataSource,
    RunConfig,
    SpanModelConfig,
    TrainConfig,
    dump_run_config,
    load_run_config,
)
from uniner.students.span.data import (
    TrainItem,
    caseless_flags,
    collate_train,
    epoch_plan,
    prepare_items,
)
from uniner.students.span.features import Featurizer
from uniner.students.span.io import read_config
from uniner.students.span.sampling import LabelSampler, label_frequencies
from uniner.students.span.train import latest_checkpoint, lr_factor, train

REPO = Path(__file__).resolve().parents[1]


pytestmark = pytest.mark.usefixtures("one_torch_thread")


def run_config(backbone: Path, out: Path, **train_kw: object) -> RunConfig:
    kw: dict = dict(
        output_dir=str(out),
        max_steps=40,
        batch_size=8,
        warmup_steps=4,
        lr_encoder=1e-3,
        lr_head=1e-2,
        checkpoint_every=0,
        log_every=4,
        save_storage="full",
    )
    kw.update(train_kw)
    return RunConfig(
        model=SpanModelConfig(backbone=str(backbone), hidden_dim=16, max_width=4),
        data=DataConfig(max_words=24, min_labels=2, max_labels=3, min_negatives=1),
        train=TrainConfig(**kw),
    )


def test_run_config_round_trip(tmp_path: Path) -> None:
    cfg = RunConfig(
        data=DataConfig(train=[DataSource("a/b.json", "pile-ner", limit=10)]),
        train=TrainConfig(max_seconds=60.0, bf16=True),
    )
    p = tmp_path / "run.toml"
    p.write_text(dump_run_config(cfg))
    assert load_run_config(p) == cfg
    p.write_text(dump_run_config(cfg) + "\n[extra]\nx = 1\n")
    with pytest.raises(ValueError, match="unknown config sections"):
        load_run_config(p)
    p.write_text("[train]\nmax_steps = 5\nlearning_rate = 1\n")
    with pytest.raises(ValueError, match="learning_rate"):
        load_run_config(p)
    p.write_text("[train]\nbatch_size = 4\n")
    with pytest.raises(ValueError, match="max_steps"):
        load_run_config(p)
    shipped = load_run_config(REPO / "configs" / "span-minilm.toml")
    assert shipped.model.backbone == "minilm-l6" and shipped.train.bf16 == "auto"


def test_pieces_never_cut_mentions(backbone: Path) -> None:
    fz = Featurizer(load_tokenizer(str(backbone)))
    sent = "Alice Smith met Bob in New York . "
    text = sent * 6
    ents = []
    for i in range(6):
        base = i * len(sent)
        for s, e, lab in [(0, 11, "person"), (16, 19, "person"), (23, 31, "city")]:
            ents.append(Entity(base + s, base + e, text[base + s : base + e], lab))
    ex = Example(text, tuple(ents), labels=("person", "city", "date"))
    items, stats = prepare_items([ex], fz, 20, 4, 400, keep_empty=0.0, seed=0)
    assert [len(it.tokens) for it in items] == [16, 16, 16]  # two 8-word sentences per piece
    assert stats.mentions == 18 and stats.cut == 0 and stats.pieces == 3
    assert items[0].spans == (
        (0, 2, "person"),
        (3, 4, "person"),
        (5, 7, "city"),
        (8, 10, "person"),
        (11, 12, "person"),
        (13, 15, "city"),
    )
    # a sentence longer than max_words is split between words, not inside a mention
    items, stats = prepare_items([ex], fz, 7, 4, 400, keep_empty=0.0, seed=0)
    assert stats.cut == 0 and stats.pieces + stats.empty_dropped > 6
    assert all(len(it.tokens) <= 7 for it in items)
    # too wide for max_width=1
    _, stats = prepare_items([ex], fz, 20, 1, 400, keep_empty=1.0, seed=0)
    assert stats.too_wide == 12


def test_label_sampler_positives_and_frequency_negatives() -> None:
    item = TrainItem(((1,),) * 3, (1,) * 3, ((0, 1, "person"),), ("person", "city"), 3)
    freq = Counter({"person": 50, "org": 1000, "city": 1, "gene": 1})
    sampler = LabelSampler(freq, min_labels=3, max_labels=3, min_negatives=1)
    rng = __import__("numpy").random.default_rng(0)
    draws = [sampler.sample(item, rng) for _ in range(300)]
    assert all(len(d) == 3 == len(set(d)) and "person" in d for d in draws)
    assert all("city" in d for d in draws)  # a known negative is asked first
    third = Counter(lab for d in draws for lab in d if lab not in ("person", "city"))
    assert third["org"] > 250  # proportional to frequency
    firsts = Counter(d[0] for d in draws)
    assert len(firsts) == 3  # shuffled


def test_label_sampler_closed_sets_ask_only_their_own_labels() -> None:
    known = ("location", "organization", "person")
    supervised = TrainItem(((1,),) * 3, (1,) * 3, ((0, 1, "person"),), known, 3)
    pile = TrainItem(((1,),) * 3, (1,) * 3, ((0, 1, "person"),), None, 3)
    freq = Counter({"person": 50, "country": 1000, "city": 500, "location": 5})
    freq.update({f"type {i}": 20 for i in range(20)})
    rng = __import__("numpy").random.default_rng(0)
    closed = LabelSampler(freq, min_labels=5, max_labels=6, min_negatives=1, closed_sets=True)
    draws = [closed.sample(supervised, rng) for _ in range(100)]
    assert all(sorted(d) == list(known) for d in draws)  # never "country" on a CoNLL sentence
    assert len({tuple(d) for d in draws}) > 1  # still shuffled
    # open-type pieces still get frequency negatives; the old behaviour stays available
    assert any("country" in closed.sample(pile, rng) for _ in range(20))
    opened = LabelSampler(freq, min_labels=5, max_labels=6, min_negatives=1)
    assert all(len(opened.sample(supervised, rng)) >= 5 for _ in range(20))


def test_label_sampler_few_labels_share() -> None:
    """A share of inputs is asked 1..few_max of its labels; the rest are asked as before."""
    np = __import__("numpy")
    item = TrainItem(((1,),) * 3, (1,) * 3, ((0, 1, "person"), (2, 3, "city")), None, 3)
    freq = Counter({f"type {i}": 10 + i for i in range(30)})
    freq.update({"person": 50, "city": 40})
    full = LabelSampler(freq, min_labels=8, max_labels=10, min_negatives=2)
    same = LabelSampler(freq, min_labels=8, max_labels=10, min_negatives=2, few_share=0.0)
    a, b = np.random.default_rng(5), np.random.default_rng(5)
    assert [full.sample(item, a) for _ in range(50)] == [same.sample(item, b) for _ in range(50)]

    always = LabelSampler(freq, 8, 10, 2, few_share=1.0, few_max=3)
    rng = np.random.default_rng(0)
    draws = [always.sample(item, rng) for _ in range(400)]
    assert all(1 <= len(d) <= 3 and len(set(d)) == len(d) for d in draws)
    assert {len(d) for d in draws} == {1, 2, 3}
    with_pos = sum(bool({"person", "city"} & set(d)) for d in draws)
    assert 0.2 * len(draws) < with_pos < 0.8 * len(draws)  # positives and pure negatives both
    assert any(d == ["person"] for d in draws) and any(
        len(d) == 1 and "person" not in d for d in draws
    )

    half = LabelSampler(freq, 8, 10, 2, few_share=0.5, few_max=2)
    short = sum(len(half.sample(item, rng)) <= 2 for _ in range(400))
    assert 150 < short < 250
    with pytest.raises(ValueError, match="few_share"):
        LabelSampler(freq, 8, 10, 2, few_share=1.5)
    with pytest.raises(ValueError, match="few_max"):
        LabelSampler(freq, 8, 10, 2, few_max=0)
    with pytest.raises(ValueError, match="few_labels"):
        DataConfig(few_labels=-0.1)
    with pytest.raises(ValueError, match="few_labels_max"):
        DataConfig(few_labels_max=0)


def test_few_labels_targets_only_the_asked_types(backbone: Path) -> None:
    """A mention whose type is not asked is no target: it is not a negative either."""
    fz = Featurizer(load_tokenizer(str(backbone)))
    item = TrainItem(
        tuple((5,) for _ in range(4)), (1,) * 4, ((0, 1, "person"), (2, 3, "city")), None, 4
    )
    batch = collate_train(fz, [item, item], [["city"], ["person", "city"]], max_width=2)
    t = batch["targets"]
    assert t.shape[-1] == 2
    assert t[0, 2, 0, 0] == 1 and t[0].sum() == 1  # only the asked city
    assert t[1, 0, 0, 0] == 1 and t[1, 2, 0, 1] == 1 and t[1].sum() == 2


def test_epoch_plan_is_seeded_and_complete(backbone: Path) -> None:
    fz = Featurizer(load_tokenizer(str(backbone)))
    items, _ = prepare_items(toy_examples(50), fz, 24, 4, 400, 1.0, seed=0)
    sampler = LabelSampler(label_frequencies(items), 2, 3, 1)
    a = epoch_plan(items, sampler, 8, seed=3, epoch=0)
    assert a == epoch_plan(items, sampler, 8, seed=3, epoch=0)
    assert a != epoch_plan(items, sampler, 8, seed=3, epoch=1)
    assert sorted(i for batch in a for i, _ in batch) == list(range(len(items)))
    batch = collate_train(fz, [items[i] for i, _ in a[0]], [labs for _, labs in a[0]], 4)
    assert batch["targets"].shape[:3] == (len(a[0]), batch["word_mask"].shape[1], 4)
    assert batch["targets"].sum() > 0


def test_caseless_flags_and_collate(backbone: Path) -> None:
    assert caseless_flags(6, 0.0, 1, 0, 0) == [False] * 6
    assert caseless_flags(6, 1.0, 1, 0, 0) == [True] * 6
    flags = caseless_flags(400, 0.3, seed=1, epoch=2, batch=5)
    assert flags == caseless_flags(400, 0.3, seed=1, epoch=2, batch=5)  # resume sees the same
    assert flags != caseless_flags(400, 0.3, seed=1, epoch=2, batch=6)
    assert 80 < sum(flags) < 160
    fz = Featurizer(load_tokenizer(str(backbone)))
    ex = Example("NASA and Apple met in Rome .", (Entity(0, 4, "NASA", "org"),))
    items, _ = prepare_items([ex], fz, 24, 4, 400, 1.0, seed=0)
    cased = collate_train(fz, items * 2, [["org"], ["org"]], 4, [False, True])
    ids = cased["input_ids"]
    assert torch.equal(ids[0], ids[1])  # the uncased backbone reads the same tokens
    shapes = cased["shape_ids"]
    assert {int(v) for v in shapes[0]} >= {2, 3}  # capitalised, allcaps
    assert not {int(v) for v in shapes[1]} & {2, 3, 4}  # shown lowercased
    assert torch.equal(cased["targets"][0], cased["targets"][1])
    with pytest.raises(ValueError, match="lowercase"):
        DataConfig(lowercase=1.5)


def test_lr_schedule() -> None:
    t = TrainConfig(max_steps=100, warmup_steps=10)
    assert lr_factor(0, 0, t) == pytest.approx(0.1)
    assert lr_factor(9, 0, t) == pytest.approx(1.0)
    assert lr_factor(55, 0, t) == pytest.approx(0.5)
    assert lr_factor(100, 0, t) == 0.0
    t = TrainConfig(max_seconds=100.0, warmup_steps=0)
    assert lr_factor(1000, 75.0, t) == pytest.approx(0.25)


def test_loss_falls_and_model_is_saved(backbone: Path, tmp_path: Path) -> None:
    calls: list[int] = []

    def eval_fn(extractor) -> dict:  # type: ignore[no-untyped-def]
        calls.append(1)
        ents = extractor.extract("Bob lives in Rome .", ["person", "city"])
        return {"f1": float(len(ents))}

    cfg = run_config(backbone, tmp_path / "run", eval_every=20)
    res = train(cfg, toy_examples(64), eval_fn=eval_fn, progress=False)
    losses = [v for _, v in res.state.losses]
    assert res.state.step == 40 and len(losses) == 10
    assert sum(losses[-3:]) / 3 < 0.6 * sum(losses[:3]) / 3
    assert len(calls) == 2 and res.state.best_step in (20, 40)
    for sub in ("model", "best"):
        assert (res.output_dir / sub / "model.safetensors").is_file()
    best = read_config(res.output_dir / "best")  # a release from best/ keeps the training facts
    assert best["training"]["steps"] == best["step"] == res.state.best_step
    assert best["training"]["pieces"] == res.stats.pieces and best["f1"] == res.state.best_f1
    assert (res.output_dir / "run.toml").is_file()
    assert latest_checkpoint(res.output_dir) is not None


def test_resume_is_exact(backbone: Path, tmp_path: Path) -> None:
    data = toy_examples(40)

    def caseless(cfg: RunConfig) -> RunConfig:  # resume must also replay the lowercase flags
        cfg.data = dataclasses.replace(cfg.data, lowercase=0.5)
        return cfg

    full = train(caseless(run_config(backbone, tmp_path / "a", max_steps=12)), data, progress=False)
    cfg = caseless(run_config(backbone, tmp_path / "b", max_steps=12))
    half = train(cfg, data, stop_at_step=5, progress=False)
    assert half.state.step == 5 and not (tmp_path / "b" / "model").exists()
    resumed = train(cfg, data, progress=False)
    assert resumed.state.step == 12 and resumed.state.epoch == full.state.epoch
    a = dict(full.model.named_parameters())
    for name, p in resumed.model.named_parameters():
        assert torch.equal(p, a[name]), name
    assert [x for x in resumed.state.losses if x[0] > 5] == [
        x for x in full.state.losses if x[0] > 5
    ]
    cased = train(run_config(backbone, tmp_path / "c", max_steps=12), data, progress=False)
    assert cased.state.losses != full.state.losses  # the augmentation changes what is trained


def test_init_from_continues_a_saved_model(backbone: Path, tmp_path: Path) -> None:
    data = toy_examples(40)
    first = train(run_config(backbone, tmp_path / "a", max_steps=8), data, progress=False)
    cfg = run_config(backbone, tmp_path / "b", max_steps=1, lr_encoder=0.0, lr_head=0.0)
    cfg.train = dataclasses.replace(cfg.train, init_from=str(tmp_path / "a" / "model"))
    second = train(cfg, data, progress=False)
    a = dict(first.model.named_parameters())
    for name, p in second.model.named_parameters():  # zero learning rate: weights carried over
        assert torch.allclose(p, a[name]), name
    wider = run_config(backbone, tmp_path / "c", max_steps=1)
    wider.model = dataclasses.replace(wider.model, max_width=5)
    wider.train = dataclasses.replace(wider.train, init_from=str(tmp_path / "a" / "model"))
    with pytest.raises(ValueError, match="max_width"):
        train(wider, data, progress=False)


def test_init_from_takes_a_shipped_model_name(
    backbone: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """``init_from = "uniner-span-mpnet"`` adapts the installed default (resolved like load())."""
    import uniner.models

    data = toy_examples(40)
    first = train(run_config(backbone, tmp_path / "a", max_steps=8), data, progress=False)
    shipped = {"tiny-shipped": tmp_path / "a" / "model"}
    monkeypatch.setattr(uniner.models, "shipped_models", lambda: shipped)
    cfg = run_config(backbone, tmp_path / "b", max_steps=1, lr_encoder=0.0, lr_head=0.0)
    cfg.train = dataclasses.replace(cfg.train, init_from="tiny-shipped")
    second = train(cfg, data, progress=False)
    a = dict(first.model.named_parameters())
    assert all(torch.allclose(p, a[n]) for n, p in second.model.named_parameters())
    cfg.train = dataclasses.replace(
        cfg.train, init_from="no-such-model", output_dir=str(tmp_path / "c")
    )
    with pytest.raises(FileNotFoundError, match="no model 'no-such-model'"):
        train(cfg, data, progress=False)


def test_a_model_trained_from_a_release_decodes_like_it(backbone: Path, tmp_path: Path) -> None:
    """Adapting a release keeps its threshold and rules (and records the parent) until the
    adapted model is released with choices of its own."""
    from uniner.students.span.extractor import SpanExtractor
    from uniner.students.span.release import release

    data = toy_examples(40)
    train(run_config(backbone, tmp_path / "a", max_steps=4), data, progress=False)
    parent = release(
        tmp_path / "a" / "model", tmp_path / "rel", "tiny", "1.2.3", threshold=0.7,
        few_types=2, few_type_threshold=0.8, generic_labels=["person"],
    )  # fmt: skip
    cfg = run_config(backbone, tmp_path / "b", max_steps=4, eval_every=2)
    cfg.train = dataclasses.replace(cfg.train, init_from=str(parent))
    train(cfg, data, dev_examples=data[:4], progress=False)
    for folder in ("model", "best"):
        saved = read_config(tmp_path / "b" / folder)
        assert saved["threshold"] == 0.7 and saved["prefer_specific"]["generic"] == ["person"]
        assert saved["adapted_from"] == {
            "init_from": str(parent),
            "name": "tiny",
            "version": "1.2.3",
        }
    m = SpanExtractor.load(tmp_path / "b" / "model")
    assert m.threshold_for(5) == 0.7 and m.threshold_for(2) == 0.8
    again = release(tmp_path / "b" / "model", tmp_path / "rel2", "tiny-bio", "0.1.0", threshold=0.5)
    cfg2 = read_config(again)
    assert cfg2["threshold"] == 0.5 and "few_types_threshold" not in cfg2
    assert "prefer_specific" not in cfg2 and cfg2["adapted_from"]["name"] == "tiny"
    fresh = run_config(backbone, tmp_path / "c", max_steps=2)
    train(fresh, data, progress=False)
    assert "threshold" not in read_config(tmp_path / "c" / "model")  # nothing to inherit


def test_time_budget_stops(backbone: Path, tmp_path: Path) -> None:
    ticks = iter(range(100))  # a clock that moves 0.5 s per reading: one reading per step
    cfg = run_config(backbone, tmp_path / "t", max_steps=None, max_seconds=1.5)
    res = train(cfg, toy_examples(16), progress=False, clock=lambda: 0.5 * next(ticks))
    assert res.state.step == 3 and res.state.elapsed == 1.5
    assert (tmp_path / "t" / "model" / "config.json").is_file()


def test_empty_training_set(backbone: Path, tmp_path: Path) -> None:
    cfg = dataclasses.replace(run_config(backbone, tmp_path / "e"))
    with pytest.raises(ValueError, match="no training pieces"):
        train(cfg, [Example("")], progress=False)
