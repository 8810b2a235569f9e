"""The label context layer (``label_context = true``, separate encoding only) on tiny random
models: a label's scores depend on the other labels asked (and not on their order), training
and the cached inference path agree, a separate model continued with the layer starts with
exactly its old scores, and saving, ONNX export and training keep the layer."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch

from tests.doubles.span import toy_examples
from tests.test_span_label_encoding import (
    LABELS,
    assert_training_and_serving_agree,
    scores,
)
from uniner.students.span.backbones import load_encoder, load_tokenizer
from uniner.students.span.config import (
    DataConfig,
    RunConfig,
    SpanModelConfig,
    TrainConfig,
    model_config_from_dict,
)
from uniner.students.span.extractor import SpanExtractor
from uniner.students.span.model import SpanModel

pytestmark = pytest.mark.usefixtures("one_torch_thread")


def make(backbone: Path, context: bool = True, seed: int = 0) -> SpanExtractor:
    """A tiny separate model; with ``context`` its layer is randomised (not the identity it
    starts as), so that the tests can see it act."""
    torch.manual_seed(seed)
    cfg = SpanModelConfig(
        backbone=str(backbone), hidden_dim=16, max_width=4, label_encoding="separate",
        label_context=context,
    )  # fmt: skip
    model = SpanModel(cfg, load_encoder(str(backbone)))
    with torch.no_grad():
        model.bias.fill_(0.0)
        if model.label_context is not None:
            torch.nn.init.normal_(model.label_context.out.weight, std=0.5)
    model.eval()
    return SpanExtractor(model, load_tokenizer(str(backbone)), name="tiny")  # type: ignore[arg-type]


def test_config_needs_separate_encoding_and_defaults_off() -> None:
    assert model_config_from_dict({"label_encoding": "separate"}).label_context is False
    with pytest.raises(ValueError, match="label_context needs label_encoding = 'separate'"):
        SpanModelConfig(label_context=True)


def test_a_labels_scores_depend_on_the_other_labels_asked(backbone: Path) -> None:
    ext, plain = make(backbone), make(backbone, context=False)
    alone, together = scores(ext, ["person"]), scores(ext, ["person", "city"])
    valid = alone >= 0
    assert (alone[valid] - together[..., :1][valid]).abs().max() > 1e-3
    # without the layer a label's scores are its own, whatever else is asked
    p_alone, p_together = scores(plain, ["person"]), scores(plain, ["person", "city"])
    torch.testing.assert_close(p_alone, p_together[..., :1], atol=1e-6, rtol=0)


def test_results_do_not_depend_on_label_order(backbone: Path) -> None:
    ext = make(backbone)
    order = [2, 0, 3, 1]
    torch.testing.assert_close(
        scores(ext, LABELS)[..., order], scores(ext, [LABELS[i] for i in order]),
        atol=1e-6, rtol=0,
    )  # fmt: skip


def test_training_batch_and_cached_inference_agree(backbone: Path) -> None:
    """The trainer's joint batch (split in the model, label sets of different sizes, padded)
    and the extractor's text-only inputs with cached, contextualised vectors give one answer."""
    assert_training_and_serving_agree(make(backbone))


def test_continuing_a_separate_model_with_the_layer_starts_from_its_scores(
    backbone: Path, tmp_path: Path
) -> None:
    from uniner.students.span.train import init_weights

    old = make(backbone, context=False)
    old.save(tmp_path / "old", storage="full")
    cfg = SpanModelConfig(
        backbone=str(backbone), hidden_dim=16, max_width=4, label_encoding="separate",
        label_context=True,
    )  # fmt: skip
    model = SpanModel(cfg, load_encoder(str(backbone)))
    init_weights(model, tmp_path / "old", cfg)
    model.eval()
    new = SpanExtractor(model, load_tokenizer(str(backbone)), name="tiny")
    torch.testing.assert_close(scores(new, LABELS), scores(old, LABELS), atol=1e-6, rtol=0)
    make(backbone).save(tmp_path / "ctx", storage="full")  # the reverse drops a trained layer
    plain = SpanModel(old.model.config, load_encoder(str(backbone)))
    with pytest.raises(ValueError, match=r"unexpected \['label_context"):
        init_weights(plain, tmp_path / "ctx", old.model.config)


def test_save_load_and_onnx_keep_the_layer(backbone: Path, tmp_path: Path) -> None:
    from conftest import require

    ext = make(backbone)
    ref = scores(ext, LABELS)
    ext.save(tmp_path / "m", storage="delta-int8")
    back = SpanExtractor.load(tmp_path / "m")
    assert back.config.label_context and back.model.label_context is not None
    torch.testing.assert_close(scores(back, LABELS), ref, atol=1e-5, rtol=1e-4)
    require("onnxruntime", "onnx")
    from uniner.students.span.onnx_runtime import FP32_NAME, export

    export(ext, tmp_path / "onnx", int8=False)
    ext.use_onnx(tmp_path / "onnx" / FP32_NAME)
    torch.testing.assert_close(scores(ext, LABELS), ref, atol=1e-4, rtol=1e-3)
    torch.testing.assert_close(
        scores(ext, ["city", "person"]), scores(back, ["city", "person"]), atol=1e-4, rtol=1e-3
    )


def test_the_layer_trains(backbone: Path, tmp_path: Path) -> None:
    from uniner.students.span.train import train

    cfg = RunConfig(
        model=SpanModelConfig(
            backbone=str(backbone), hidden_dim=16, max_width=4, label_encoding="separate",
            label_context=True,
        ),
        data=DataConfig(max_words=24, min_labels=2, max_labels=3, min_negatives=1),
        train=TrainConfig(
            output_dir=str(tmp_path / "run"), max_steps=12, batch_size=8, warmup_steps=2,
            lr_encoder=1e-3, lr_head=1e-2, checkpoint_every=0, log_every=3, save_storage="full",
        ),
    )  # fmt: skip
    res = train(cfg, toy_examples(32), progress=False)
    back = SpanExtractor.load(res.output_dir / "model")
    assert back.model.label_context is not None
    assert back.model.label_context.out.weight.abs().sum() > 0  # moved from its zero start
