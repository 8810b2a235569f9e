"""ONNX export of a span model, optional int8 dynamic quantisation, and an onnxruntime scorer.

Why: on a CPU the encoder is nearly all of the cost, and onnxruntime's int8 kernels can run it
faster than torch fp32. Whether that holds *at equal F1* is measured in
``bench/span_onnx.py`` (BENCHMARKS.md), not assumed.

    from uniner import load
    from uniner.students.span.onnx_runtime import export
    m = load()
    path = export(m, "runs/onnx/uniner-span-mpnet")   # model.onnx + model.int8.onnx
    m.use_onnx(path)                                                 # same API, onnxruntime inside
    m.use_onnx(ensure_export(m))   # or: export once into a cache, reuse while the weights match

The exported graph takes the featurizer's padded batch (``input_ids``, ``attention_mask``,
``shape_ids``, ``word_pos``, ``label_bounds``, ``label_mask``) with dynamic batch, length, word
and label axes and returns the logits ``[batch, words, width, labels]``; masking, sigmoid and
decoding stay in Python, shared with the torch path. Needs the ``onnx`` extra
(``onnxruntime``, ``onnx``).

int8 recipes (``int8_recipe``), measured on the default mpnet model in BENCHMARKS.md:

- ``"mixed"`` (default): dynamic int8 with one scale per output channel and 7-bit weights
  (``reduce_range``: this CPU class, AVX2 without VNNI, saturates with 8-bit weights), keeping
  each block's feed-forward output projection and the small span head in fp32. Those projections
  carry the activation outliers of transformer blocks; quantising them is what broke mpnet.
  Same dev F1 as torch on mpnet (47.1), -0.2 on MiniLM.
- ``"all"``: every weight MatMul per tensor, 8-bit: smallest and fastest graph, -0.45 dev F1 on
  MiniLM, -22 on mpnet.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import logging
import os
import re
import shutil
import warnings
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypedDict

import torch

if TYPE_CHECKING:
    from uniner.students.span.model import SpanModel

log = logging.getLogger(__name__)

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
# separate label encoding (config label_encoding): the graph above takes the text and label
# vectors; this one makes the vectors from label names (LabelCache calls it once per label set)
TEXT_INPUTS = ("input_ids", "attention_mask", "shape_ids", "word_pos", "label_vectors")
LABEL_INPUTS = ("label_ids", "label_attention")
LABELS_FP32_NAME = "labels.onnx"
LABELS_INT8_NAME = "labels.int8.onnx"
_TEXT_AXES = {
    **{k: v for k, v in _AXES.items() if k in (*TEXT_INPUTS, "logits")},
    "label_vectors": {0: "batch", 1: "labels"},
}
_LABEL_AXES = {
    "label_ids": {0: "names", 1: "tokens"},
    "label_attention": {0: "names", 1: "tokens"},
    "vectors": {0: "names"},
}
INT8_RECIPES = ("mixed", "all")
GRAPH_NAMES = (FP32_NAME, INT8_NAME, LABELS_FP32_NAME, LABELS_INT8_NAME)
STAMP_NAME = "export.json"  # what was exported from which weights; written last
CACHE_ENV = "UNINER_ONNX_CACHE"
# a block's feed-forward output projection (BERT and MPNet names), not the attention output
_FFN_OUT = re.compile(r"/layer\.\d+/output/dense/")
#: (module, example inputs, input names + output name, dynamic axes, file) of one graph
_Graph = tuple[
    torch.nn.Module, tuple[torch.Tensor, ...], tuple[str, ...], dict[str, dict[int, str]], Path
]


class _Stamp(TypedDict):
    """``export.json``: what a folder's graphs were exported from, and how."""

    fingerprint: str
    model: str | None
    file: str
    int8_recipe: str | None
    opset: int


class _Forward(torch.nn.Module):
    """The model's forward with the inputs the graph needs, in a fixed order."""

    def __init__(self, model: SpanModel):
        super().__init__()
        self.model = model

    def forward(
        self,
        input_ids: torch.Tensor,
        attention_mask: torch.Tensor,
        shape_ids: torch.Tensor,
        word_pos: torch.Tensor,
        label_bounds: torch.Tensor,
        label_mask: torch.Tensor,
    ) -> torch.Tensor:
        word_mask = torch.ones_like(word_pos, dtype=torch.bool)  # unused by the logits
        logits: torch.Tensor = self.model(
            input_ids, attention_mask, shape_ids, word_pos, word_mask, label_bounds, label_mask
        )
        return logits


class _TextForward(torch.nn.Module):
    """A separate-encoding model's forward on text and given label vectors."""

    def __init__(self, model: SpanModel):
        super().__init__()
        self.model = model

    def forward(
        self,
        input_ids: torch.Tensor,
        attention_mask: torch.Tensor,
        shape_ids: torch.Tensor,
        word_pos: torch.Tensor,
        label_vectors: torch.Tensor,
    ) -> torch.Tensor:
        hidden = self.model.encode(input_ids, attention_mask, shape_ids)
        return self.model.score(self.model.spans(hidden, word_pos), label_vectors)


class _LabelForward(torch.nn.Module):
    """A separate-encoding model's label encoder: the ``[CLS] name [SEP]`` rows of one label
    set to their vectors (read together where the model has a label context layer)."""

    def __init__(self, model: SpanModel):
        super().__init__()
        self.model = model

    def forward(self, label_ids: torch.Tensor, label_attention: torch.Tensor) -> torch.Tensor:
        return self.model.encode_label_set(label_ids, label_attention)


def _require_onnxruntime() -> Any:
    try:
        import onnxruntime  # type: ignore[import-untyped]
    except ImportError as err:  # pragma: no cover - depends on the environment
        raise ImportError(
            "ONNX export/inference needs onnxruntime: pip install 'uniner[onnx]'"
        ) from err
    return onnxruntime


def export(
    extractor: Any,
    out_dir: str | Path,
    int8: bool = True,
    opset: int = 18,
    int8_recipe: str = "mixed",
) -> Path:
    """Write ``model.onnx`` (fp32) and, with ``int8``, ``model.int8.onnx``; returns the one to use.

    ``extractor`` is a :class:`~uniner.students.span.extractor.SpanExtractor` (its featurizer
    builds the example batch that traces the graph). ``int8_recipe`` is one of
    :data:`INT8_RECIPES` (module docstring).
    """
    if int8:  # before the export, which takes a minute on a base-size encoder
        _check_recipe(int8_recipe)
    return _export(extractor, Path(out_dir), _stamp(extractor, int8, int8_recipe, opset))


def _export(extractor: Any, out: Path, stamp: _Stamp) -> Path:
    """Export as ``stamp`` says (:func:`_stamp`), then write the stamp: a killed export has none."""
    _require_onnxruntime()
    recipe, opset = stamp["int8_recipe"], stamp["opset"]
    out.mkdir(parents=True, exist_ok=True)
    (out / STAMP_NAME).unlink(missing_ok=True)  # from here on the folder is not what it said
    model = extractor.model
    was_training = model.training
    model.eval()
    try:
        for module, args, names, axes, path in _graphs(extractor, out):
            with torch.no_grad(), warnings.catch_warnings():
                # tracing warns about every advanced-indexing op and data-dependent branch of
                # the encoder; the graph's logits are checked against torch's in the tests
                warnings.simplefilter("ignore")
                torch.onnx.export(
                    module,
                    args,
                    str(path),
                    input_names=list(names[:-1]),
                    output_names=[names[-1]],
                    dynamic_axes=axes,
                    opset_version=opset,
                    dynamo=False,  # the TorchScript exporter handles the dynamic axes above
                )
    finally:
        model.train(was_training)
    if recipe is not None:
        quantize_int8(out / FP32_NAME, out / INT8_NAME, recipe)
        if (out / LABELS_FP32_NAME).is_file():
            quantize_int8(out / LABELS_FP32_NAME, out / LABELS_INT8_NAME, recipe)
    (out / STAMP_NAME).write_text(json.dumps(stamp, indent=2) + "\n", encoding="utf-8")
    return out / stamp["file"]


def _graphs(extractor: Any, out: Path) -> list[_Graph]:
    """(module, example inputs, input names + output name, dynamic axes, file) of each graph:
    the joint forward, or a separate model's text graph and label graph."""
    fz = extractor.featurizer
    enc = fz.encode_text("Ada Lovelace wrote the first program in London .")
    model = extractor.model
    if model.config.label_encoding == "joint":
        feats = [
            fz.build(["person", "city"], enc.tokens, enc.shapes),
            fz.build(["person"], enc.tokens[:3], enc.shapes[:3]),
        ]
        batch = fz.collate(feats)
        args = tuple(batch[k] for k in INPUTS)
        return [(_Forward(model), args, (*INPUTS, "logits"), _AXES, out / FP32_NAME)]
    from uniner.students.span.label_cache import LabelCache

    text = [fz.build((), enc.tokens, enc.shapes), fz.build((), enc.tokens[:3], enc.shapes[:3])]
    batch = fz.collate(text)
    vectors = torch.randn(2, 3, model.config.hidden_dim)
    text_args = (*(batch[k] for k in TEXT_INPUTS[:-1]), vectors)
    names = LabelCache(model, fz).token_batch(["person", "programming language"])
    return [
        (_TextForward(model), text_args, (*TEXT_INPUTS, "logits"), _TEXT_AXES, out / FP32_NAME),
        (
            _LabelForward(model),
            (names["ids"], names["mask"]),
            (*LABEL_INPUTS, "vectors"),
            _LABEL_AXES,
            out / LABELS_FP32_NAME,
        ),
    ]


def default_cache_dir() -> Path:
    """``$UNINER_ONNX_CACHE`` if set, else ``~/.cache/uniner/onnx``."""
    env = os.environ.get(CACHE_ENV)
    return Path(env) if env else Path.home() / ".cache" / "uniner" / "onnx"


def fingerprint(extractor: Any) -> str:
    """SHA-256 of the model's config and every tensor: an export is reused only for these weights.

    Hashing the weights (about a second for mpnet-base) rather than trusting a name or version
    means a retrained or edited model never runs on a stale graph.
    """
    if getattr(extractor, "torch_released", False):
        raise RuntimeError("the torch weights were released (use_onnx(..., release_torch=True))")
    model = extractor.model
    h = hashlib.sha256()
    config = dataclasses.asdict(model.config)
    if config.get("label_encoding") == "joint":  # the default: exports made before the key exist
        del config["label_encoding"]
    h.update(json.dumps(config, sort_keys=True, default=str).encode())
    for name, tensor in sorted(model.state_dict().items()):
        h.update(name.encode())
        h.update(str(tensor.dtype).encode())
        h.update(str(tuple(tensor.shape)).encode())
        h.update(tensor.detach().cpu().contiguous().reshape(-1).view(torch.uint8).numpy().tobytes())
    return h.hexdigest()


def _stamp(extractor: Any, int8: bool, recipe: str, opset: int) -> _Stamp:
    return {
        "fingerprint": fingerprint(extractor),
        "model": getattr(extractor, "name", None),
        "file": INT8_NAME if int8 else FP32_NAME,
        "int8_recipe": recipe if int8 else None,
        "opset": opset,
    }


def ensure_export(
    extractor: Any,
    out_dir: str | Path | None = None,
    int8: bool = True,
    int8_recipe: str = "mixed",
    opset: int = 18,
    on_export: Callable[[Path], None] | None = None,
    keep_fp32: bool = False,
) -> Path:
    """The ONNX graph of these weights: reused from ``out_dir`` if its stamp matches, else exported.

    ``out_dir`` defaults to a folder per model and fingerprint under :func:`default_cache_dir`,
    so the minute-long export happens once per model and machine. A folder whose stamp names other
    weights or another recipe is exported over. ``on_export(folder)`` is called before an
    export, so a command line can say why it is busy. The fp32 graph (about 440 MB for
    mpnet-base) is deleted after quantising unless ``keep_fp32``.
    """
    if int8:
        _check_recipe(int8_recipe)
    want = _stamp(extractor, int8, int8_recipe, opset)
    if out_dir is None:
        name = re.sub(r"[^A-Za-z0-9._-]+", "_", str(want["model"] or "model"))
        out_dir = default_cache_dir() / f"{name}-{want['fingerprint'][:16]}"
    out = Path(out_dir)
    if out.exists() and not out.is_dir():
        raise NotADirectoryError(f"{out} is a file; the ONNX export goes into a folder")
    try:
        have = json.loads((out / STAMP_NAME).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        have = None
    if have == want and (out / want["file"]).is_file():
        return out / want["file"]
    if have is not None:
        log.info("%s holds an export of other weights or settings; exporting again", out)
    if on_export is not None:
        on_export(out)
    # Export into a private folder, then move the files in with the stamp last: two processes
    # exporting the same weights at once (workers of one server) never mix half-written files.
    tmp = out.parent / f".{out.name}.tmp-{os.getpid()}"
    shutil.rmtree(tmp, ignore_errors=True)
    try:
        _export(extractor, tmp, want)
        if int8 and not keep_fp32:
            (tmp / FP32_NAME).unlink()
            (tmp / LABELS_FP32_NAME).unlink(missing_ok=True)
        out.mkdir(parents=True, exist_ok=True)
        (out / STAMP_NAME).unlink(missing_ok=True)
        for name in GRAPH_NAMES:  # a graph this export did not write is stale
            if (tmp / name).exists():
                os.replace(tmp / name, out / name)
            else:
                (out / name).unlink(missing_ok=True)
        os.replace(tmp / STAMP_NAME, out / STAMP_NAME)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return out / want["file"]


def switch_to_onnx(
    extractor: Any,
    out_dir: str | Path | None = None,
    on_export: Callable[[Path], None] | None = None,
) -> Any:
    """Run ``extractor`` on its cached (or newly exported) int8 graph alone, torch weights freed:
    what ``--runtime onnx`` and the spaCy component's ``runtime = "onnx"`` both mean."""
    path = ensure_export(extractor, out_dir, on_export=on_export)
    return extractor.use_onnx(path, release_torch=True)


def _check_recipe(recipe: str) -> None:
    if recipe not in INT8_RECIPES:
        raise ValueError(f"int8_recipe must be one of {INT8_RECIPES}, got {recipe!r}")


def fp32_matmuls(path: str | Path) -> list[str]:
    """The MatMul nodes the ``"mixed"`` recipe keeps in fp32: feed-forward outputs and the head."""
    import onnx

    graph = onnx.load(str(path), load_external_data=False).graph
    return [
        n.name
        for n in graph.node
        if n.op_type == "MatMul" and (_FFN_OUT.search(n.name) or "/encoder/" not in n.name)
    ]


def quantize_int8(fp32_path: str | Path, int8_path: str | Path, recipe: str = "mixed") -> Path:
    """Dynamic int8 quantisation of an exported graph with one of :data:`INT8_RECIPES`."""
    from onnxruntime.quantization import (  # type: ignore[import-untyped]
        QuantType,
        quantize_dynamic,
    )

    _check_recipe(recipe)
    kwargs: dict[str, Any] = {}  # "all": every weight MatMul, per tensor
    if recipe == "mixed":
        keep = fp32_matmuls(fp32_path)
        if not any(_FFN_OUT.search(n) for n in keep):
            raise ValueError(
                f"{fp32_path}: no feed-forward output projection (*/layer.N/output/dense/*) found; "
                "use int8_recipe='all' for this encoder"
            )
        kwargs = {"per_channel": True, "reduce_range": True, "nodes_to_exclude": keep}
    root = logging.getLogger()
    root.addFilter(_no_preprocessing_advice)
    try:
        quantize_dynamic(str(fp32_path), str(int8_path), weight_type=QuantType.QInt8, **kwargs)
    finally:
        root.removeFilter(_no_preprocessing_advice)
    return Path(int8_path)


def _no_preprocessing_advice(record: logging.LogRecord) -> bool:
    """onnxruntime advises shape-inference pre-processing on every call; for dynamic int8
    MatMuls it changes nothing, so the advice is dropped (other warnings still show)."""
    return not str(record.msg).startswith("Please consider to run pre-processing")


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
        missing = set(self.inputs) - set(INPUTS) - set(TEXT_INPUTS)
        if missing:
            raise ValueError(f"{path}: unexpected graph inputs {sorted(missing)}")
        # a separate-encoding export: the label graph beside the text graph, same precision
        self.labels_session: Any = None
        if "label_vectors" in self.inputs:
            int8 = path.name == INT8_NAME
            labels = path.with_name(LABELS_INT8_NAME if int8 else LABELS_FP32_NAME)
            if not labels.is_file():
                raise FileNotFoundError(f"{path} takes label vectors but {labels} is missing")
            self.labels_session = ort.InferenceSession(
                str(labels), sess_options=opts, providers=["CPUExecutionProvider"]
            )

    def encode_labels(self, batch: dict[str, torch.Tensor]) -> torch.Tensor:
        """Label vectors ``[N, d]`` of ``[CLS] name [SEP]`` rows (``LabelCache.token_batch``)."""
        if self.labels_session is None:
            raise ValueError(f"{self.path} is a joint-encoding graph: it has no label encoder")
        feed = {"label_ids": batch["ids"].numpy(), "label_attention": batch["mask"].numpy()}
        return torch.from_numpy(self.labels_session.run(["vectors"], feed)[0])

    def __call__(self, batch: dict[str, torch.Tensor]) -> torch.Tensor:
        feed = {name: batch[name].cpu().numpy() for name in self.inputs}
        return torch.from_numpy(self.session.run(["logits"], feed)[0])
