"""ONNX export of a span model, optional int8 dynamic quantisation, and an onnxruntime scorer.

Why: on a CPU the encoder is nearly all of the cost, and onnxruntime's int8 kernels can run it
faster than torch fp32. Whether that holds *at equal F1* is measured in
``bench/span_onnx.py`` (BENCHMARKS.md), not assumed.

    from uniner import load
    from uniner.students.span.onnx_runtime import export
    m = load()
    path = export(m, "runs/onnx/uniner-span-mpnet", int8=True)   # model.onnx + model.int8.onnx
    m.use_onnx(path)                                                 # same API, onnxruntime inside

The exported graph takes the featurizer's padded batch (``input_ids``, ``attention_mask``,
``shape_ids``, ``word_pos``, ``label_bounds``, ``label_mask``) with dynamic batch, length, word
and label axes and returns the logits ``[batch, words, width, labels]``; masking, sigmoid and
decoding stay in Python, shared with the torch path. Needs the ``onnx`` extra
(``onnxruntime``, ``onnx``).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import torch

INPUTS = ("input_ids", "attention_mask", "shape_ids", "word_pos", "label_bounds", "label_mask")
_AXES = {
    "input_ids": {0: "batch", 1: "tokens"},
    "attention_mask": {0: "batch", 1: "tokens"},
    "shape_ids": {0: "batch", 1: "tokens"},
    "word_pos": {0: "batch", 1: "words"},
    "label_bounds": {0: "batch", 1: "labels"},
    "label_mask": {0: "batch", 1: "labels"},
    "logits": {0: "batch", 1: "words", 3: "labels"},
}
FP32_NAME = "model.onnx"
INT8_NAME = "model.int8.onnx"


class _Forward(torch.nn.Module):
    """The model's forward with the inputs the graph needs, in a fixed order."""

    def __init__(self, model: torch.nn.Module):
        super().__init__()
        self.model = model

    def forward(self, input_ids, attention_mask, shape_ids, word_pos, label_bounds, label_mask):  # type: ignore[no-untyped-def]
        word_mask = torch.ones_like(word_pos, dtype=torch.bool)  # unused by the logits
        return self.model(
            input_ids, attention_mask, shape_ids, word_pos, word_mask, label_bounds, label_mask
        )


def _require_onnxruntime() -> Any:
    try:
        import onnxruntime
    except ImportError as err:  # pragma: no cover - depends on the environment
        raise ImportError(
            "ONNX export/inference needs onnxruntime: pip install 'uniner[onnx]'"
        ) from err
    return onnxruntime


def export(extractor: Any, out_dir: str | Path, int8: bool = True, opset: int = 18) -> Path:
    """Write ``model.onnx`` (fp32) and, with ``int8``, ``model.int8.onnx``; returns the one to use.

    ``extractor`` is a :class:`~uniner.students.span.extractor.SpanExtractor` (its featurizer
    builds the example batch that traces the graph).
    """
    _require_onnxruntime()
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    fz = extractor.featurizer
    enc = fz.encode_text("Ada Lovelace wrote the first program in London .")
    feats = [
        fz.build(["person", "city"], enc.tokens, enc.shapes),
        fz.build(["person"], enc.tokens[:3], enc.shapes[:3]),
    ]
    batch = fz.collate(feats)
    model = extractor.model
    was_training = model.training
    model.eval()
    try:
        with torch.no_grad():
            torch.onnx.export(
                _Forward(model),
                tuple(batch[k] for k in INPUTS),
                str(out / FP32_NAME),
                input_names=list(INPUTS),
                output_names=["logits"],
                dynamic_axes=_AXES,
                opset_version=opset,
                dynamo=False,  # the TorchScript exporter handles the dynamic axes above
            )
    finally:
        model.train(was_training)
    if not int8:
        return out / FP32_NAME
    from onnxruntime.quantization import QuantType, quantize_dynamic

    quantize_dynamic(str(out / FP32_NAME), str(out / INT8_NAME), weight_type=QuantType.QInt8)
    return out / INT8_NAME


class OnnxScorer:
    """Runs an exported graph on a featurizer batch; returns logits as a torch tensor."""

    def __init__(self, path: str | Path, threads: int | None = None):
        ort = _require_onnxruntime()
        path = Path(path)
        if not path.is_file():
            raise FileNotFoundError(f"no ONNX model at {path}")
        opts = ort.SessionOptions()
        if threads:
            opts.intra_op_num_threads = threads
            opts.inter_op_num_threads = 1
        self.path = path
        self.session = ort.InferenceSession(
            str(path), sess_options=opts, providers=["CPUExecutionProvider"]
        )
        self.inputs = [i.name for i in self.session.get_inputs()]
        missing = set(self.inputs) - set(INPUTS)
        if missing:
            raise ValueError(f"{path}: unexpected graph inputs {sorted(missing)}")

    def __call__(self, batch: dict[str, torch.Tensor]) -> torch.Tensor:
        feed = {name: batch[name].cpu().numpy() for name in self.inputs}
        return torch.from_numpy(self.session.run(["logits"], feed)[0])
