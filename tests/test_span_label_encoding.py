"""Separate label encoding (``label_encoding = "separate"``) on tiny random models: the joint
training batch and the cached inference path agree, the cache encodes a label set once, results
do not depend on the cache or on label order, saving keeps the option, training runs, and joint
models compute exactly what they did before the option existed."""

from __future__ import annotations

import dataclasses
import json
import math
import os
from pathlib import Path

import pytest

os.environ.setdefault("HF_HUB_OFFLINE", "1")
import torch

from tests.doubles.span import toy_examples
from uniner.students.span.backbones import load_encoder, load_tokenizer
from uniner.students.span.config import (
    DataConfig,
    RunConfig,
    SpanModelConfig,
    TrainConfig,
    model_config_from_dict,
)
from uniner.students.span.extractor import SpanExtractor, WorkItem
from uniner.students.span.model import SpanModel
from uniner.students.span.windowing import Window

TEXTS = [
    "Alice Smith lives in Paris .",
    "In New York , Bob met Carol Jones from London yesterday .",
    "the weather was fine",
]
LABELS = ["person", "city", "date", "big number"]

pytestmark = pytest.mark.usefixtures("one_torch_thread")


def make(backbone: Path, encoding: str = "separate", seed: int = 0, **kw: object) -> SpanExtractor:
    torch.manual_seed(seed)
    cfg = SpanModelConfig(
        backbone=str(backbone), hidden_dim=16, max_width=4, label_encoding=encoding
    )
    model = SpanModel(cfg, load_encoder(str(backbone)))
    with torch.no_grad():  # a bias that lets random scores cross a threshold
        model.bias.fill_(0.0)
    model.eval()
    return SpanExtractor(model, load_tokenizer(str(backbone)), name="tiny", **kw)  # type: ignore[arg-type]


def scores(ext: SpanExtractor, labels: list[str]) -> torch.Tensor:
    """``[B, W, K, L]`` probabilities of TEXTS, one input per text."""
    encs = [ext.featurizer.encode_text(t) for t in TEXTS]
    items = [
        WorkItem(i, Window(0, 0, len(e), e.offsets[0][0], e.offsets[-1][1]), tuple(labels), 0)
        for i, e in enumerate(encs)
    ]
    return ext.score_items(items, encs)


def joint_batch(ext: SpanExtractor, label_sets: list[list[str]]) -> dict[str, torch.Tensor]:
    """What the trainer gives the model: ``labels [SEP] text`` inputs (data.collate_train)."""
    fz = ext.featurizer
    encs = [fz.encode_text(t) for t in TEXTS]
    feats = [fz.build(labs, e.tokens, e.shapes) for labs, e in zip(label_sets, encs, strict=True)]
    return fz.collate(feats)


def entities(ext: SpanExtractor, labels: list[str]) -> list[list[tuple]]:
    res = ext.extract_batch(TEXTS, labels, threshold=0.5, multi_label=True)
    return [sorted((e.start, e.end, e.label, round(e.score, 5)) for e in ents) for ents in res]


def test_config_key_defaults_to_joint_and_is_checked() -> None:
    assert model_config_from_dict({"backbone": "x"}).label_encoding == "joint"  # older configs
    assert model_config_from_dict({"label_encoding": "separate"}).label_encoding == "separate"
    with pytest.raises(ValueError, match="label_encoding must be one of"):
        SpanModelConfig(label_encoding="bi")


def test_joint_batch_forward_equals_the_cached_text_only_path(backbone: Path) -> None:
    """Training (joint batch, split in the model) and inference (text alone, cached label
    vectors) compute the same logits, also with label sets of different sizes per input."""
    assert_training_and_serving_agree(make(backbone))


def assert_training_and_serving_agree(ext: SpanExtractor) -> None:
    """The model's probabilities on the trainer's joint batch equal the extractor's on
    text-only inputs with cached label vectors, for label sets of three sizes."""
    sets = [LABELS, ["city", "person"], ["date"]]
    with torch.no_grad():
        trained = torch.sigmoid(ext.model(**joint_batch(ext, sets)))
    encs = [ext.featurizer.encode_text(t) for t in TEXTS]
    items = [
        WorkItem(i, Window(0, 0, len(e), e.offsets[0][0], e.offsets[-1][1]), tuple(s), 0)
        for i, (e, s) in enumerate(zip(encs, sets, strict=True))
    ]
    served = ext.score_items(items, encs)
    valid = served >= 0
    assert valid.sum() > 0
    torch.testing.assert_close(trained[valid], served[valid], atol=1e-5, rtol=1e-4)


def test_labels_are_encoded_once_per_label_set(backbone: Path) -> None:
    ext = make(backbone)
    calls: list[int] = []
    encode = ext.model.encode_labels

    def counted(ids: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
        calls.append(ids.shape[0])
        return encode(ids, mask)

    ext.model.encode_labels = counted  # type: ignore[method-assign]
    first = entities(ext, LABELS)
    for _ in range(3):
        assert entities(ext, LABELS) == first
    ext.extract_batch(TEXTS[:1], LABELS)
    assert calls == [len(LABELS)]  # one pass over the 4 names, then only cache hits
    assert ext.label_cache is not None and ext.label_cache.hits >= 4
    ext.extract_batch(TEXTS, ["city", "person"])
    assert calls == [len(LABELS), 2]


def test_lru_keeps_the_most_recent_label_sets(backbone: Path) -> None:
    ext = make(backbone, label_cache_size=2)
    cache = ext.label_cache
    assert cache is not None
    for labels in (["person"], ["city"], ["person"], ["date"], ["city"]):
        ext.extract(TEXTS[0], labels)
    # person, city: 2 passes; person: hit; date evicts city; city again evicts person
    assert cache.encoder_calls == 4 and len(cache) == 2


def test_results_are_the_same_with_and_without_cache(backbone: Path) -> None:
    cached = make(backbone)
    uncached = make(backbone, label_cache_size=0)
    want = entities(cached, LABELS)
    assert any(want)
    assert entities(cached, LABELS) == want  # served from the cache
    assert entities(uncached, LABELS) == want
    assert entities(uncached, LABELS) == want
    assert uncached.label_cache is not None and len(uncached.label_cache) == 0
    assert uncached.label_cache.encoder_calls == 2  # one per call


def test_results_do_not_depend_on_label_order(backbone: Path) -> None:
    ext = make(backbone)
    order = [2, 0, 3, 1]
    shuffled = [LABELS[i] for i in order]
    a, b = scores(ext, LABELS), scores(ext, shuffled)
    torch.testing.assert_close(a[..., order], b, atol=1e-6, rtol=0)
    assert entities(ext, LABELS) == entities(ext, shuffled)


def test_many_labels_take_one_pass_and_the_whole_input(backbone: Path) -> None:
    many = [f"type {chr(97 + i % 26)}{i}" for i in range(60)]
    sep, joint = make(backbone), make(backbone, encoding="joint")
    assert sep.extract_detailed(TEXTS, many)[1].label_passes == 1
    assert joint.extract_detailed(TEXTS, many)[1].label_passes > 1


def test_save_and_load_round_trip(backbone: Path, tmp_path: Path) -> None:
    ext = make(backbone)
    ext.save(tmp_path / "m", storage="full")
    back = SpanExtractor.load(tmp_path / "m")
    assert back.config.label_encoding == "separate" and back.label_cache is not None
    torch.testing.assert_close(scores(back, LABELS), scores(ext, LABELS))
    ext.save(tmp_path / "d", storage="delta-int8")  # base weights from the backbone folder
    assert SpanExtractor.load(tmp_path / "d").config.label_encoding == "separate"


def reference_joint_logits(model: SpanModel, batch: dict[str, torch.Tensor]) -> torch.Tensor:
    """The joint forward as written before ``label_encoding`` existed (copied verbatim)."""
    embeds = model.encoder.get_input_embeddings()(batch["input_ids"])
    embeds = embeds + model.shape_emb(batch["shape_ids"]).to(embeds.dtype)
    hidden = model.encoder(inputs_embeds=embeds, attention_mask=batch["attention_mask"])[0]
    hidden = hidden.float()
    b, _, h = hidden.shape
    d, k = model.config.hidden_dim, model.config.max_width
    csum = torch.cat([hidden.new_zeros(b, 1, h), hidden.cumsum(dim=1)], dim=1)
    starts, ends = batch["label_bounds"][..., 0], batch["label_bounds"][..., 1]
    idx = lambda pos: pos[..., None].expand(-1, -1, h)  # noqa: E731
    lab_sum = csum.gather(1, idx(ends)) - csum.gather(1, idx(starts))
    lab_len = (ends - starts).clamp(min=1).unsqueeze(-1).to(hidden.dtype)
    labels = model.label_mlp(lab_sum / lab_len)
    words = model.dropout(hidden.gather(1, idx(batch["word_pos"])))
    w = words.shape[1]
    start, end = model.start_proj(words), model.end_proj(words)
    end = torch.cat([end, end.new_zeros(b, k, d)], dim=1)
    end = end[:, torch.arange(w)[:, None] + torch.arange(k)[None, :]]
    spans = model.span_mlp(start[:, :, None, :] + end + model.width_emb.weight[None, None])
    return torch.einsum("bwkd,bld->bwkl", spans, labels) / math.sqrt(d) + model.bias


def test_joint_models_are_unchanged(backbone: Path, tmp_path: Path) -> None:
    ext = make(backbone, encoding="joint")
    assert ext.label_cache is None
    batch = joint_batch(ext, [LABELS, ["city"], ["date", "person"]])
    with torch.no_grad():
        assert torch.equal(ext.model(**batch), reference_joint_logits(ext.model, batch))
    # a config.json written before the key existed loads as joint
    ext.save(tmp_path / "old", storage="full")
    cfg_path = tmp_path / "old" / "config.json"
    saved = json.loads(cfg_path.read_text())
    assert saved["model"].pop("label_encoding") == "joint"
    cfg_path.write_text(json.dumps(saved))
    back = SpanExtractor.load(tmp_path / "old")
    assert back.config.label_encoding == "joint" and back.label_cache is None
    assert torch.equal(scores(back, LABELS), scores(ext, LABELS))


def test_a_separate_model_trains(backbone: Path, tmp_path: Path) -> None:
    """The unchanged trainer drives a separate model through its forward; the loss falls."""
    from uniner.students.span.train import train

    cfg = RunConfig(
        model=SpanModelConfig(
            backbone=str(backbone), hidden_dim=16, max_width=4, label_encoding="separate"
        ),
        data=DataConfig(max_words=24, min_labels=2, max_labels=3, min_negatives=1),
        train=TrainConfig(
            output_dir=str(tmp_path / "run"),
            max_steps=30,
            batch_size=8,
            warmup_steps=3,
            lr_encoder=1e-3,
            lr_head=1e-2,
            checkpoint_every=0,
            log_every=3,
            save_storage="full",
        ),
    )
    res = train(cfg, toy_examples(48), progress=False)
    losses = [v for _, v in res.state.losses]
    assert sum(losses[-3:]) / 3 < 0.6 * sum(losses[:3]) / 3
    back = SpanExtractor.load(res.output_dir / "model")
    assert dataclasses.asdict(back.config)["label_encoding"] == "separate"
    found = back.extract("Bob lives in Rome .", ["person", "city"], threshold=0.3)
    assert {e.label for e in found} <= {"person", "city"}


def test_onnx_export_of_a_separate_model(backbone: Path, tmp_path: Path) -> None:
    """Text graph + label graph: the fp32 graphs give torch's scores on other shapes, int8 stays
    close, and with the torch weights released the label graph encodes each label set once."""
    from conftest import require

    require("onnxruntime", "onnx")
    from uniner.students.span.onnx_runtime import FP32_NAME, LABELS_INT8_NAME, export

    ext = make(backbone)
    ref = scores(ext, LABELS)
    path = export(ext, tmp_path, int8=True)
    assert (tmp_path / LABELS_INT8_NAME).is_file()
    ext.use_onnx(tmp_path / FP32_NAME)
    torch.testing.assert_close(scores(ext, LABELS), ref, atol=1e-4, rtol=1e-3)
    ext.use_onnx(path, release_torch=True)
    assert (scores(ext, LABELS) - ref).abs().max() < 0.05  # label vectors from the int8 graph
    cache = ext.label_cache
    assert cache is not None
    calls = cache.encoder_calls
    assert entities(ext, LABELS) == entities(ext, LABELS) and cache.encoder_calls == calls
    joint = make(backbone, encoding="joint")
    export(joint, tmp_path / "joint", int8=False)
    with pytest.raises(ValueError, match="joint-encoding model"):
        ext.use_onnx(tmp_path / "joint" / FP32_NAME)
