"""ONNX export of the span student: the graph gives the torch logits, int8 stays close."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import torch

from conftest import require
from uniner.students.span.backbones import load_encoder, load_tokenizer
from uniner.students.span.config import SpanModelConfig
from uniner.students.span.extractor import SpanExtractor
from uniner.students.span.model import SpanModel
from uniner.students.span.onnx_runtime import FP32_NAME, INT8_NAME, export

require("onnxruntime", "onnx")  # uniner imports it lazily, the tests need it

pytestmark = pytest.mark.usefixtures("one_torch_thread")

TEXTS = [
    "Alice Smith flew from Paris to New York on Monday .",
    "Bob .",
    "The University of Oxford hired Grace Hopper , who wrote COBOL compilers in 1959 .",
]
LABELS = ["person", "city", "organization", "programming language"]


def trained_looking(backbone: Path) -> SpanExtractor:
    torch.manual_seed(3)
    cfg = SpanModelConfig(backbone=str(backbone), hidden_dim=16, max_width=5)
    model = SpanModel(cfg, load_encoder(str(backbone)))
    with torch.no_grad():
        for p in model.parameters():
            p.add_(torch.randn_like(p) * 0.05)  # shape embedding and head away from their init
    return SpanExtractor(model, load_tokenizer(str(backbone)), threshold=0.0)


def test_onnx_graph_matches_torch_on_other_shapes(backbone: Path, tmp_path: Path) -> None:
    ext = trained_looking(backbone)
    ref = ext.extract_batch(TEXTS, LABELS, multi_label=True)
    path = export(ext, tmp_path, int8=True)
    assert path.name == INT8_NAME and (tmp_path / FP32_NAME).is_file()
    # batch, length, word and label counts all differ from the export's example batch
    ext.use_onnx(tmp_path / FP32_NAME)
    got = ext.extract_batch(TEXTS, LABELS, multi_label=True)
    assert [[(e.start, e.end, e.label) for e in r] for r in got] == [
        [(e.start, e.end, e.label) for e in r] for r in ref
    ]
    diff = max(
        abs(a.score - b.score)
        for r, g in zip(ref, got, strict=True)
        for a, b in zip(r, g, strict=True)
    )
    assert diff < 1e-4
    ext.use_onnx(path)  # int8 weights: close, not identical
    q = ext.extract_batch(TEXTS, LABELS, multi_label=True)
    qd = [
        abs(a.score - b.score)
        for r, g in zip(ref, q, strict=True)
        for a, b in zip(r, g, strict=True)
    ]
    assert len(qd) == sum(len(r) for r in ref) and sum(qd) / len(qd) < 0.05
    assert path.stat().st_size < (tmp_path / FP32_NAME).stat().st_size
    ext.use_onnx(None)
    assert ext.extract_batch(TEXTS, LABELS, multi_label=True) == ref


def test_export_is_quiet(backbone: Path, tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    """Tracing and quantisation warnings mean nothing to a user of ``--runtime onnx``."""
    import warnings

    with warnings.catch_warnings(record=True) as seen:
        warnings.simplefilter("always")
        export(trained_looking(backbone), tmp_path)
    assert not seen and "pre-processing" not in caplog.text


def test_missing_onnx_file(backbone: Path, tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError, match="no ONNX model"):
        trained_looking(backbone).use_onnx(tmp_path / "nope.onnx")


def _weight_matmuls(path: Path) -> tuple[set[str], set[str]]:
    """(float MatMuls with a weight initializer, integer MatMuls) of a graph."""
    import onnx

    graph = onnx.load(str(path)).graph
    inits = {i.name for i in graph.initializer}
    fp = {n.name for n in graph.node if n.op_type == "MatMul" and any(x in inits for x in n.input)}
    q = {n.name for n in graph.node if n.op_type in ("MatMulInteger", "DynamicQuantizeMatMul")}
    return fp, q


def test_int8_recipes_keep_the_named_matmuls_in_fp32(backbone: Path, tmp_path: Path) -> None:
    from uniner.students.span.onnx_runtime import fp32_matmuls, quantize_int8

    ext = trained_looking(backbone)
    mixed = export(ext, tmp_path / "mixed")  # the default recipe
    keep = set(fp32_matmuls(tmp_path / "mixed" / FP32_NAME))
    ffn_out = {n for n in keep if "/output/dense/" in n and "/attention/" not in n}
    assert ffn_out and any("/encoder/" not in n for n in keep)  # FFN outputs and the head
    assert not any("/attention/" in n or "/intermediate/" in n for n in keep)
    fp, q = _weight_matmuls(mixed)
    assert fp == keep and q  # exactly those stay fp32, the rest run as integer MatMuls
    every = quantize_int8(tmp_path / "mixed" / FP32_NAME, tmp_path / "all.onnx", "all")
    fp_all, q_all = _weight_matmuls(every)
    assert not fp_all and len(q_all) > len(q)
    with pytest.raises(ValueError, match="int8_recipe must be one of"):
        export(ext, tmp_path / "bad", int8_recipe="fp8")


def test_ensure_export_reuses_only_an_export_of_the_same_weights(
    backbone: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from uniner.students.span.onnx_runtime import STAMP_NAME, ensure_export, fingerprint

    monkeypatch.setenv("UNINER_ONNX_CACHE", str(tmp_path / "cache"))
    ext = trained_looking(backbone)
    exports: list[Path] = []
    first = ensure_export(ext, on_export=exports.append)
    assert first.name == INT8_NAME and first.parent.parent == tmp_path / "cache"
    assert exports == [first.parent] and fingerprint(ext)[:16] in first.parent.name
    assert not (first.parent / FP32_NAME).exists()  # only the graph that runs stays cached
    mtime = first.stat().st_mtime_ns
    assert ensure_export(ext, on_export=exports.append) == first  # cached: no second export
    assert len(exports) == 1 and first.stat().st_mtime_ns == mtime

    # other weights: another folder under the cache, the first export untouched
    with torch.no_grad():
        ext.model.bias.add_(1.0)  # a 0-dim tensor: hashed too
    second = ensure_export(ext, on_export=exports.append)
    assert second.parent != first.parent and len(exports) == 2

    # an explicit folder holding another model's export, or a killed export, is exported over
    mine = tmp_path / "mine"
    ensure_export(trained_looking(backbone), mine)
    got = ensure_export(ext, mine, on_export=exports.append)
    assert len(exports) == 3
    assert json.loads((mine / STAMP_NAME).read_text())["fingerprint"] == fingerprint(ext)
    (mine / STAMP_NAME).unlink()
    assert ensure_export(ext, mine, on_export=exports.append) == got and len(exports) == 4
    # fp32 only is a different export of the same weights; the int8 graph of before goes
    assert ensure_export(ext, mine, int8=False).name == FP32_NAME
    assert sorted(f.name for f in mine.iterdir()) == [STAMP_NAME, FP32_NAME]
    assert [f.name for f in tmp_path.iterdir() if f.name.startswith(".")] == []  # no temp folder


def test_release_torch_keeps_the_graph_scores_and_refuses_torch_uses(
    backbone: Path, tmp_path: Path
) -> None:
    from uniner.students.span.onnx_runtime import fingerprint

    ext = trained_looking(backbone)
    path = export(ext, tmp_path)
    ext.use_onnx(path)
    before = ext.extract_batch(TEXTS, LABELS, multi_label=True)
    n_params = sum(p.numel() for p in ext.model.parameters())
    ext.use_onnx(path, release_torch=True)
    assert ext.torch_released and n_params > 0
    assert sum(p.numel() for p in ext.model.parameters()) == 0
    assert ext.extract_batch(TEXTS, LABELS, multi_label=True) == before
    for refused in (
        lambda: ext.use_onnx(None),
        lambda: ext.save(tmp_path / "saved"),
        lambda: fingerprint(ext),
    ):
        with pytest.raises(RuntimeError, match="release_torch=True"):
            refused()
    assert not (tmp_path / "saved").exists()
