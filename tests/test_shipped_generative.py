"""End to end on the shipped generative student: the LoRA adapter in ``uniner.models`` on the
real SmolLM2-135M-Instruct base, fetched offline from its PyPI wheel."""

from __future__ import annotations

import json
import os

import pytest

from conftest import require

os.environ.setdefault("HF_HUB_OFFLINE", "1")

from uniner.models import MODELS_DIR

NAME = "uniner-gen-smollm2-lora"
FOLDER = MODELS_DIR / NAME


def test_adapter_is_shipped_small_with_card_and_version():
    meta = json.loads((FOLDER / "uniner-generative.json").read_text(encoding="utf-8"))
    adapter = json.loads((FOLDER / "adapter_config.json").read_text(encoding="utf-8"))
    assert (FOLDER / "adapter_model.safetensors").stat().st_size < 15 * 2**20
    # the base is named portably (fetched offline), never as a path of the training machine
    assert meta["base"] == adapter["base_model_name_or_path"] == "smollm2-135m-instruct"
    assert meta["template"] == "ie_as_qa" and meta["name"] == NAME
    card = (FOLDER / "README.md").read_text(encoding="utf-8")
    assert f"# {NAME} v{meta['version']}" in card


@pytest.mark.slow
def test_shipped_adapter_answers_the_official_prompt_with_offsets():
    require("peft", "generative")
    from uniner.students.generative.extractor import GenerativeExtractor

    ext = GenerativeExtractor.load(NAME, threads=1)
    text = "Protesters clashed with the police in countries like Canada, Mexico or Greece."
    assert ext.prompts(text, ["country"])[0].endswith(
        "USER: What describes country in the text? ASSISTANT:"
    )
    ents = ext.extract(text, ["country", "programming language"])
    found = {(e.text, e.label) for e in ents}
    assert ("Canada", "country") in found and ("Greece", "country") in found
    assert all(text[e.start : e.end] == e.text for e in ents)
    assert not any(e.label == "programming language" for e in ents)
