"""Self-distillation (issue 23): the pool, the teacher-score store, resuming, soft-target training.

Tiny random-init models throughout: the teacher is a tiny span model whose scores are whatever
its random weights give (its bias starts at sigmoid(-4) ~ 0.018, so with a floor of 0.01 nearly
every pair is stored, which exercises the store fully).
"""

from __future__ import annotations

import dataclasses
import json
from collections import Counter
from pathlib import Path

import numpy as np
import pytest

from tests.doubles.span import TOY_CITIES, tiny_span_parts, toy_examples
from uniner.data.types import Example
from uniner.students.span.config import DataConfig, RunConfig, SpanModelConfig, TrainConfig
from uniner.students.span.extractor import SpanExtractor
from uniner.students.span.selfdistill import (
    PoolSettings,
    PoolSource,
    build_scores,
    pool_order,
)
from uniner.students.span.selfdistill_store import (
    ScoreStore,
    StoredPiece,
    StoreError,
    quantise,
    read_manifest,
    read_store,
)

FREQ = Counter({"person": 10, "city": 8, "date": 5, "number": 4, "type": 4, "weather": 4})
SETTINGS = PoolSettings(extra_types=2, floor=0.01, keep_empty=1.0, shard_pieces=4)


@pytest.fixture(scope="module")
def teacher(tmp_path_factory, one_torch_thread) -> SpanExtractor:
    model, tok = tiny_span_parts(tmp_path_factory.mktemp("teacher"))
    model.eval()
    return SpanExtractor(model, tok, batch_size=4)


def sources() -> list[PoolSource]:
    toy = toy_examples(12, seed=1)
    plain = [Example(ex.text, ex.entities, labels=None, id=ex.id) for ex in toy_examples(6, 2)]
    return [PoolSource("toy-closed", "train", toy), PoolSource("toy-open", "train", plain)]


def piece(i: int, n: int) -> StoredPiece:
    rng = np.random.default_rng(i)
    return StoredPiece(
        source="s",
        id=f"x#{i}",
        words=("Alice", "lives", "in", "Paris", "."),
        labels=("person", "city"),
        own=(0,),
        gold=((0, 1, 0),),
        start=rng.integers(0, 5, n).astype(np.uint16),
        k=rng.integers(0, 4, n).astype(np.uint8),
        label=rng.integers(0, 2, n).astype(np.uint8),
        prob=quantise(rng.random(n)),
    )


def same(a: StoredPiece, b: StoredPiece) -> bool:
    arrays = all(np.array_equal(getattr(a, k), getattr(b, k)) for k in ("start", "k", "label"))
    return a.record() == b.record() and arrays and np.array_equal(a.prob, b.prob)


def test_store_roundtrip_and_settings_check(tmp_path: Path) -> None:
    store = ScoreStore.open(tmp_path, {"floor": 0.01})
    written = [piece(i, n) for i, n in enumerate((3, 0, 7))]
    store.write_shard(written[:2], (1, 0), {})
    store.write_shard(written[2:], (2, 1), {})
    store.finish(True)
    back = list(read_store(tmp_path))
    assert len(back) == 3 and all(same(a, b) for a, b in zip(written, back, strict=True))
    assert [p.id for p in read_store(tmp_path, max_pieces=2)] == ["x#0", "x#1"]
    assert read_manifest(tmp_path)["entries"] == 10
    assert ScoreStore.open(tmp_path, {"floor": 0.01}).cursor == (2, 1)
    with pytest.raises(StoreError, match="other settings \\(floor\\)"):
        ScoreStore.open(tmp_path, {"floor": 0.05})


def test_quantise_steps() -> None:
    q = quantise(np.array([0.0, 0.02, 0.5, 1.0]))
    assert q.dtype == np.uint8 and q.tolist() == [0, 5, 128, 255]


def test_pool_order_mixes_every_example_once() -> None:
    order = pool_order([100, 4], mix=0.5, seed=3)
    assert sorted(order) == [(0, i) for i in range(100)] + [(1, i) for i in range(4)]
    assert order == pool_order([100, 4], mix=0.5, seed=3)
    first = Counter(s for s, _ in order[:24])  # weights 10 : 2, so about 20 : 4
    assert first[1] == 4
    even = Counter(s for s, _ in pool_order([100, 4], mix=0.0, seed=3)[:8])
    assert even == {0: 4, 1: 4}


def test_build_scores_labels_and_gold(tmp_path: Path, teacher: SpanExtractor) -> None:
    manifest = build_scores(teacher, sources(), tmp_path, SETTINGS, FREQ, progress=False)
    pieces = list(read_store(tmp_path))
    assert manifest["complete"] and manifest["pieces"] == len(pieces) == 18
    for p in pieces:
        own = {p.labels[j] for j in p.own}
        assert len(p.labels) == len(own) + 2 and len(set(p.labels)) == len(p.labels)
        if p.source == "toy-closed":
            assert own == {"person", "city", "date"}
        assert {p.labels[j] for _, _, j in p.gold} <= own
        cities = [s for s, e, j in p.gold if p.labels[j] == "city"]
        assert all(p.words[s] in " ".join(TOY_CITIES) for s in cities)
        assert len(p.prob) and p.prob.min() >= 3  # >= floor, quantised
        assert p.start.max() < len(p.words) and p.label.max() < len(p.labels)


class Crash(Exception):
    pass


def test_interrupted_run_resumes_to_the_same_store(
    tmp_path: Path, teacher: SpanExtractor, monkeypatch: pytest.MonkeyPatch
) -> None:
    whole, cut = tmp_path / "whole", tmp_path / "cut"
    build_scores(teacher, sources(), whole, SETTINGS, FREQ, progress=False)
    calls = {"n": 0}
    real = teacher.score_items

    def dies(items, encs):  # type: ignore[no-untyped-def]
        calls["n"] += 1
        if calls["n"] == 4:  # inside the second shard
            raise Crash
        return real(items, encs)

    monkeypatch.setattr(teacher, "score_items", dies)
    with pytest.raises(Crash):
        build_scores(teacher, sources(), cut, SETTINGS, FREQ, progress=False)
    monkeypatch.undo()
    partial = read_manifest(cut)
    assert 0 < len(partial["shards"]) < len(read_manifest(whole)["shards"])
    assert not partial["complete"]
    # what a kill while writing leaves: a half-written file, a shard not yet in the manifest
    following = f"shard-{len(partial['shards']):05d}"
    (cut / f".tmp-{following}.safetensors").write_bytes(b"half")
    (cut / f"{following}.jsonl").write_text("not recorded\n")
    build_scores(teacher, sources(), cut, SETTINGS, FREQ, progress=False)
    a, b = read_manifest(whole), read_manifest(cut)
    for m in (a, b):
        for shard in m["shards"]:
            shard.pop("seconds")
    assert a == b
    for shard in a["shards"]:
        for ext in ("jsonl", "safetensors"):
            name = f"{shard['name']}.{ext}"
            assert (whole / name).read_bytes() == (cut / name).read_bytes()
    assert not list(cut.glob(".tmp-*"))


def test_max_pieces_then_continue_gives_the_same_pieces(
    tmp_path: Path, teacher: SpanExtractor
) -> None:
    build_scores(teacher, sources(), tmp_path / "a", SETTINGS, FREQ, progress=False)
    first = build_scores(
        teacher, sources(), tmp_path / "b", SETTINGS, FREQ, max_pieces=5, progress=False
    )
    assert first["pieces"] == 5 and not first["complete"]
    build_scores(teacher, sources(), tmp_path / "b", SETTINGS, FREQ, progress=False)
    a, b = list(read_store(tmp_path / "a")), list(read_store(tmp_path / "b"))
    assert len(a) == len(b) and all(same(x, y) for x, y in zip(a, b, strict=True))


def student_run(store: Path, out: Path, backbone: Path, steps: int) -> RunConfig:
    return RunConfig(
        model=SpanModelConfig(backbone=str(backbone), hidden_dim=16, max_width=4),
        data=DataConfig(teacher_scores=str(store), min_labels=2, max_labels=5, soft_weight=0.7),
        train=TrainConfig(
            output_dir=str(out),
            max_steps=steps,
            batch_size=4,
            warmup_steps=2,
            lr_encoder=1e-3,
            lr_head=1e-2,
            log_every=5,
            checkpoint_every=0,
            save_storage="full",
            device="cpu",
            bf16=False,
        ),
    )


def excess_loss(model, tokenizer, run: RunConfig) -> float:
    """BCE of the student against the stored probabilities minus their entropy (the KL part):
    0 when the student gives exactly the teacher's probabilities, on every stored label."""
    import torch
    import torch.nn.functional as F

    from uniner.students.span.features import Featurizer
    from uniner.students.span.model import pair_mask
    from uniner.students.span.selfdistill_train import SoftTargets

    feat = Featurizer(tokenizer, run.model.max_word_tokens, run.model.max_label_tokens)
    soft = SoftTargets.load(run.data, feat, run.model, 10**6)
    entries = [(i, list(it.known_labels or ())) for i, it in enumerate(soft.items)]
    batch = soft.collate(feat, entries, run.model.max_width)
    p_all = batch.pop("soft")
    for key in ("targets", "own"):
        batch.pop(key)
    model.eval()
    with torch.no_grad():
        logits = model(**batch)
    valid = pair_mask(model, batch).expand_as(logits)
    p, x = p_all[valid], logits[valid]
    return float(F.binary_cross_entropy_with_logits(x, p) - F.binary_cross_entropy(p, p))


def test_student_learns_soft_targets_and_extracts(tmp_path: Path, backbone: Path) -> None:
    """A teacher set by hand (0.7 for every asked label on each piece's first word, nothing
    elsewhere; a random teacher gives ~sigmoid(bias) everywhere, which the student matches
    at its start): the student's distance to it must shrink, and the student loads and runs."""
    from tests.doubles.span import FirstWordScorer
    from uniner.students.span.train import build_model, train

    model, tok = tiny_span_parts(tmp_path / "teacher")
    teacher = FirstWordScorer(model, tok, batch_size=4)
    build_scores(teacher, sources(), tmp_path / "scores", SETTINGS, FREQ, progress=False)
    assert all(p.prob.tolist() == [178] * len(p.labels) for p in read_store(tmp_path / "scores"))
    run = student_run(tmp_path / "scores", tmp_path / "run", backbone, 40)
    run.data.soft_weight = 1.0
    start = excess_loss(*build_model(run.model, run.train.seed), run)
    res = train(run, [], progress=False)
    assert excess_loss(res.model, res.tokenizer, run) < 0.3 * start
    losses = [v for _, v in res.state.losses]
    assert losses[-1] < 0.7 * losses[0]
    assert res.stats.pieces == 18
    saved = json.loads((tmp_path / "run" / "model" / "config.json").read_text())
    assert saved["training"]["pieces"] == 18 and saved["training"]["teacher_scores"] == "scores"
    m = SpanExtractor.load(tmp_path / "run" / "model")
    ents = m.extract("Alice Smith lives in Paris .", ["person", "city"], threshold=0.0)
    assert ents and all(e.label in ("person", "city") for e in ents)


def test_soft_loss_mixes_teacher_and_own_gold() -> None:
    import torch
    import torch.nn.functional as F

    from uniner.students.span.model import span_loss
    from uniner.students.span.selfdistill_train import soft_loss

    g = torch.Generator().manual_seed(0)
    logits = torch.randn(2, 3, 2, 4, generator=g)
    mask = torch.rand(2, 3, 2, 4, generator=g) > 0.2
    own = torch.tensor([[True, False, True, False], [False, False, False, True]])
    batch = {
        "soft": torch.rand(2, 3, 2, 4, generator=g),
        "targets": (torch.rand(2, 3, 2, 4, generator=g) > 0.8).float(),
        "own": own,
    }
    pure = F.binary_cross_entropy_with_logits(logits[mask], batch["soft"][mask])
    assert torch.isclose(soft_loss(logits, batch, mask, 1.0, 5.0), pure)
    gold = span_loss(logits, batch["targets"], mask & own[:, None, None, :], "bce", 5.0)
    assert torch.isclose(soft_loss(logits, batch, mask, 0.0, 5.0), gold)
    assert torch.isclose(soft_loss(logits, batch, mask, 0.25, 5.0), 0.25 * pure + 0.75 * gold)


def test_teacher_max_pieces_and_refused_settings(
    tmp_path: Path, teacher: SpanExtractor, backbone: Path
) -> None:
    from uniner.students.span.config import DataSource
    from uniner.students.span.train import train

    build_scores(teacher, sources(), tmp_path / "scores", SETTINGS, FREQ, progress=False)
    run = student_run(tmp_path / "scores", tmp_path / "run", backbone, 1)
    run.data.teacher_max_pieces = 7
    assert train(run, [], progress=False).stats.pieces == 7
    first = [sp.source for sp in read_store(tmp_path / "scores", 7)]
    run.data.teacher_source_weights = {"toy-closed": 2.0, "toy-open": 0.0}
    assert train(run, [], progress=False).stats.pieces == 2 * first.count("toy-closed")
    run.data.teacher_source_weights = None
    run.data.train = [DataSource(source="pile-ner")]
    with pytest.raises(ValueError, match=r"replaces data\.train"):
        train(run, [], progress=False)
    with pytest.raises(ValueError, match="soft_weight"):
        DataConfig(soft_weight=1.5)


def test_source_weights_repeat_and_thin_pieces_by_source() -> None:
    from uniner.students.span.data import PrepStats, TrainItem
    from uniner.students.span.selfdistill_train import SoftTargets

    def soft(counts: dict[str, int]) -> SoftTargets:
        pieces = [
            dataclasses.replace(piece(0, 3), source=src, id=f"{src}#{i}")
            for src, n in counts.items()
            for i in range(n)
        ]
        item = TrainItem(tokens=((1,),), shapes=(0,), spans=((0, 1, "person"),),
                         known_labels=("person",), n_tokens=1)  # fmt: skip
        return SoftTargets([item] * len(pieces), pieces, PrepStats(pieces=len(pieces)))

    out = soft({"a": 10, "b": 400, "c": 5})
    out.reweight({"a": 2.0, "*": 0.5})
    kept = Counter(sp.source for sp in out.pieces)
    assert kept["a"] == 20 and 150 < kept["b"] < 250 and kept["c"] <= 5
    assert out.stats.pieces == len(out.items) == len(out.pieces)
    again = soft({"a": 10, "b": 400, "c": 5})
    again.reweight({"a": 2.0, "*": 0.5})
    assert [sp.id for sp in again.pieces] == [sp.id for sp in out.pieces]  # a rerun's choice
    with pytest.raises(ValueError, match="lacks: z"):
        soft({"a": 1}).reweight({"z": 2.0})
    with pytest.raises(ValueError, match="no training pieces"):
        soft({"a": 3}).reweight({"*": 0.0})
    with pytest.raises(ValueError, match=r"teacher_source_weights\['a'\]"):
        DataConfig(teacher_source_weights={"a": -1.0})
    with pytest.raises(ValueError, match="must be a number"):
        DataConfig(teacher_source_weights={"a": "two"})  # type: ignore[dict-item]


def test_pool_curve_trains_each_size_once(
    tmp_path: Path, teacher: SpanExtractor, backbone: Path, bench_script
) -> None:
    mod = bench_script("fast_pool_curve")
    build_scores(teacher, sources(), tmp_path / "scores", SETTINGS, FREQ, progress=False)
    base = student_run(tmp_path / "scores", tmp_path / "unused", backbone, 1)
    calls: list[int] = []

    def fake_eval(model_dir: Path) -> dict:
        pieces = json.loads((model_dir / "config.json").read_text())["training"]["pieces"]
        calls.append(pieces)
        return {"summary": pieces / 100}

    out = tmp_path / "curve"
    args = (base, str(tmp_path / "scores"), [4, 9], 3, out, fake_eval)
    rows = mod.curve(*args, progress=False)
    assert [(r["pieces"], r["steps"], r["summary"]) for r in rows] == [(4, 3, 0.04), (9, 3, 0.09)]
    assert mod.curve(*args, progress=False) == rows and calls == [4, 9]  # reused, not retrained
    mod.write_report(rows, out, {"config": "c", "scores": "s", "steps": 3})
    assert "| 9 | 3 | 9.0 | - |" in (out / "curve.md").read_text()
    assert (out / "curve.png").stat().st_size > 0
    mod.write_report(
        [{**rows[0], "zero_shot": 0.125}], out, {"config": "c", "scores": "s", "steps": 3}
    )
    assert "| 4 | 3 | 4.0 | 12.5 |" in (out / "curve.md").read_text()


def test_train_cli_refuses_a_bad_store_in_one_line(tmp_path: Path) -> None:
    from typer.testing import CliRunner

    from uniner.cli import _register, app

    _register()
    config = Path(__file__).resolve().parents[1] / "configs" / "span-minilm-fast.toml"
    missing = tmp_path / "nowhere"
    res = CliRunner().invoke(
        app, ["train", "--config", str(config), "--set", f'data.teacher_scores="{missing}"']
    )
    assert res.exit_code == 1 and f"{missing}: no manifest.json" in res.stderr
    assert "Traceback" not in res.output


def test_relatives_of_own_types_are_asked_in_place_of_drawn_types() -> None:
    from uniner.data.hierarchy import Edge, TypeHierarchy
    from uniner.data.types import Entity
    from uniner.students.span.sampling import LabelSampler
    from uniner.students.span.selfdistill import ask_labels, relatives_of

    h = TypeHierarchy(
        (Edge("person", "writer"), Edge("person", "politician"), Edge("organization", "band"))
    )
    ex = Example("Ada wrote .", [Entity(0, 3, "Ada", "person")], labels=("person",), id="a")
    assert relatives_of(["person", "writer"], h) == ["politician"]
    sampler = LabelSampler(FREQ)
    asked, own = ask_labels(ex, sampler, 4, np.random.default_rng(0), h, relatives=2)
    assert len(asked) == 5 and len(set(asked)) == 5
    assert {"writer", "politician"} <= set(asked) and "band" not in asked
    assert [asked[i] for i in own] == ["person"]
    # without relatives the draw is what it always was (stores made before stay reproducible)
    plain = ask_labels(ex, sampler, 4, np.random.default_rng(0))
    assert plain == ask_labels(ex, sampler, 4, np.random.default_rng(0), h, relatives=0)
    assert not {"writer", "politician"} <= set(plain[0])


def test_relatives_need_a_hierarchy_and_fit_in_the_extra_types() -> None:
    with pytest.raises(ValueError, match="needs a type hierarchy"):
        PoolSettings(relatives=2)
    with pytest.raises(ValueError, match="relatives must be"):
        PoolSettings(extra_types=2, relatives=3, hierarchy="h.json")


def test_a_relatives_pool_records_its_hierarchy_and_refuses_another(
    tmp_path: Path, teacher: SpanExtractor
) -> None:
    import dataclasses

    from uniner.data.hierarchy import Edge, TypeHierarchy

    path = tmp_path / "h.json"
    path.write_text(TypeHierarchy((Edge("person", "writer"),)).to_json(), encoding="utf-8")
    rel = dataclasses.replace(SETTINGS, relatives=1, hierarchy=str(path))
    store = tmp_path / "scores"
    manifest = build_scores(teacher, sources(), store, rel, FREQ, max_pieces=4, progress=False)
    assert len(manifest["settings"]["hierarchy_sha256"]) == 64
    asked = [lab for sp in read_store(store) for lab in sp.labels]
    assert "writer" in asked  # a relative of the toy data's "person"
    path.write_text(TypeHierarchy((Edge("person", "poet"),)).to_json(), encoding="utf-8")
    with pytest.raises(StoreError):  # same file name, other content: not the same pool
        build_scores(teacher, sources(), store, rel, FREQ, max_pieces=8, progress=False)
