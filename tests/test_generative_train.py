"""Training the generative student on a tiny random LLaMA: one step, resume, LoRA, overrides."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import torch
from safetensors.torch import load_file

from conftest import require
from tests.doubles.generative import make_tiny_causal_lm
from uniner.data.types import Conversation, Query
from uniner.students.generative.config import config_from_dict, load_config
from uniner.students.generative.train import train

CONVS = [
    Conversation(
        "a",
        "Alan Turing was born in London.",
        (
            Query("person", ("Alan Turing",), '["Alan Turing"]'),
            Query("city", ("London",), '["London"]'),
        ),
    ),
    Conversation(
        "b",
        "Marie Curie worked in Paris.",
        (Query("person", ("Marie Curie",), '["Marie Curie"]'), Query("date", (), "[]")),
    ),
]


@pytest.fixture(scope="module")
def tiny(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return make_tiny_causal_lm(tmp_path_factory.mktemp("tiny-lm"))


def _run(tiny: Path, out: Path, **train_kw):
    raw = {
        "model": {"base": str(tiny), "lora": False},
        "data": {"max_length": 128},
        "train": {
            "output_dir": str(out),
            "batch_size": 2,
            "lr": 1e-3,
            "warmup": 0,
            "max_steps": 4,
            "save_steps": 2,
            "logging_steps": 1,
            "threads": 1,
            "seed": 7,
            **train_kw,
        },
    }
    return config_from_dict(raw)


def _weights(model_dir: Path) -> dict[str, torch.Tensor]:
    name = (
        "adapter_model.safetensors"
        if (model_dir / "adapter_model.safetensors").exists()
        else ("model.safetensors")
    )
    return load_file(str(model_dir / name))


def test_one_training_step_updates_weights_and_writes_the_model(tiny: Path, tmp_path: Path) -> None:
    before = load_file(str(tiny / "model.safetensors"))
    res = train(_run(tiny, tmp_path / "run", max_steps=1), CONVS)
    assert res.global_step == 1 and res.complete
    losses = [r["loss"] for r in res.log_history if "loss" in r]
    assert losses and all(0 < x < 20 for x in losses)
    after = _weights(res.model_dir)
    changed = [k for k in before if not torch.equal(before[k], after[k])]
    assert changed, "one optimiser step must change the weights"
    meta = (res.model_dir / "uniner-generative.json").read_text()
    assert '"template": "ie_as_qa"' in meta and '"eot": "</s>"' in meta
    assert res.stats.questions == 4 and res.stats.straddling_tokens == 0


def test_resume_from_checkpoint_matches_an_uninterrupted_run(tiny: Path, tmp_path: Path) -> None:
    straight = train(_run(tiny, tmp_path / "straight"), CONVS)
    first = train(_run(tiny, tmp_path / "paused"), CONVS, stop_at_step=2)
    assert first.global_step == 2 and not first.complete
    assert (tmp_path / "paused" / "checkpoints" / "checkpoint-2").is_dir()
    resumed = train(_run(tiny, tmp_path / "paused"), CONVS)
    assert resumed.global_step == 4 and resumed.complete
    a, b = _weights(straight.model_dir), _weights(resumed.model_dir)
    assert a.keys() == b.keys()
    for k in a:
        torch.testing.assert_close(a[k], b[k], rtol=1e-5, atol=1e-6)


def test_lora_run_saves_an_adapter_naming_its_base(tiny: Path, tmp_path: Path) -> None:
    require("peft", "generative")
    cfg = _run(tiny, tmp_path / "lora", max_steps=2)
    cfg.model.lora = True
    cfg.model.lora_r = 4
    res = train(cfg, CONVS)
    files = {p.name for p in res.model_dir.iterdir()}
    assert "adapter_model.safetensors" in files and "model.safetensors" not in files
    adapter = json.loads((res.model_dir / "adapter_config.json").read_text())
    meta = json.loads((res.model_dir / "uniner-generative.json").read_text())
    assert adapter["base_model_name_or_path"] == meta["base"] == cfg.model.base
    assert meta["adapter"] is True
    # the adapter folder loads on top of its base and answers with the saved template
    from uniner.students.generative.extractor import GenerativeExtractor, is_generative

    assert is_generative(str(res.model_dir))
    ext = GenerativeExtractor.load(str(res.model_dir), max_new_tokens=4)
    assert ext.template.eot == "</s>"
    assert len(ext.generate(["Alan Turing was born in London."], ["person"])[0]) == 1


def test_a_run_continues_from_a_saved_adapter(tiny: Path, tmp_path: Path) -> None:
    require("peft", "generative")
    from uniner.students.generative.train import load_model

    first_cfg = _run(tiny, tmp_path / "first", max_steps=2)
    first_cfg.model.lora, first_cfg.model.lora_r = True, 4
    first = train(first_cfg, CONVS)
    saved = _weights(first.model_dir)

    cont = _run(tiny, tmp_path / "second", max_steps=1)
    cont.model.lora, cont.model.init_adapter = True, str(first.model_dir)
    model = load_model(cont, str(tiny), gpu=False)
    loaded = {k: v for k, v in model.state_dict().items() if "lora_" in k}
    assert len(loaded) == len(saved) > 0
    for k, v in saved.items():  # peft drops the adapter name when saving
        match = [lk for lk in loaded if lk.replace(".default", "") == k]
        assert len(match) == 1 and torch.equal(loaded[match[0]], v)
    assert any(p.requires_grad for n, p in model.named_parameters() if "lora_" in n)
    second = train(cont, CONVS)
    after = _weights(second.model_dir)
    assert after.keys() == saved.keys()
    assert any(not torch.equal(after[k], saved[k]) for k in saved), "training must move it"

    wrong = _run(tiny, tmp_path / "wrong", max_steps=1)
    wrong.model.lora, wrong.model.init_adapter = True, str(tmp_path / "first")
    with pytest.raises(FileNotFoundError, match=r"adapter_config\.json"):
        load_model(wrong, str(tiny), gpu=False)
    with pytest.raises(ValueError, match=r"needs model\.lora"):
        config_from_dict({"model": {"lora": False, "init_adapter": "x"}})


def test_a_released_adapter_answers_as_its_run_without_tokenizer_files(
    tiny: Path, tmp_path: Path
) -> None:
    require("peft", "generative")
    from uniner.students.generative.extractor import GenerativeExtractor
    from uniner.students.generative.release import release

    cfg = _run(tiny, tmp_path / "run", max_steps=2)
    cfg.model.lora, cfg.model.lora_r = True, 4
    res = train(cfg, CONVS)
    with pytest.raises(ValueError, match="local path"):
        release(res.model_dir, tmp_path / "refused", "tiny-gen", "0.0.1")
    dest = release(
        res.model_dir, tmp_path / "shipped", "tiny-gen", "0.0.1", require_portable_base=False
    )
    assert sorted(p.name for p in dest.iterdir()) == [
        "adapter_config.json",
        "adapter_model.safetensors",
        "uniner-generative.json",
    ]
    meta = json.loads((dest / "uniner-generative.json").read_text())
    assert (meta["name"], meta["version"], meta["template"]) == ("tiny-gen", "0.0.1", "ie_as_qa")
    texts, labels = ["Alan Turing was born in London."], ["person", "city"]
    a = GenerativeExtractor.load(str(res.model_dir), max_new_tokens=6).generate(texts, labels)
    b = GenerativeExtractor.load(str(dest), max_new_tokens=6).generate(texts, labels)
    assert a == b
    with pytest.raises(FileNotFoundError, match="LoRA run"):
        release(tmp_path / "run", tmp_path / "x", "x", "0")


def test_config_file_and_overrides(tmp_path: Path) -> None:
    p = tmp_path / "run.toml"
    p.write_text(
        '[model]\nbase = "x"\n[data]\ntrain = [{ source = "pile-ner" }]\n[train]\nmax_steps = 5\n',
        encoding="utf-8",
    )
    cfg = load_config(p, ["train.max_steps=9", "model.lora=false", "train.output_dir=runs/y"])
    assert cfg.train.max_steps == 9 and cfg.model.lora is False
    assert cfg.train.output_dir == "runs/y" and cfg.data.train[0].source == "pile-ner"
    with pytest.raises(ValueError, match="unknown key"):
        load_config(p, ["train.max_step=9"])
    with pytest.raises(ValueError, match="key=value"):
        load_config(p, ["train.max_steps"])


def test_an_all_in_one_run_asks_one_question_per_passage_and_is_served_so(
    tiny: Path, tmp_path: Path
) -> None:
    from uniner.students.generative.extractor import GenerativeExtractor

    cfg = _run(tiny, tmp_path / "aio", max_steps=1)
    cfg.model.questions = "all-in-one"
    res = train(cfg, CONVS)
    assert res.stats.questions == len(CONVS)  # each passage's types asked together
    meta = json.loads((res.model_dir / "uniner-generative.json").read_text())
    assert meta["questions"] == "all-in-one"
    ext = GenerativeExtractor(str(res.model_dir))
    (prompt,) = ext.prompts("Marie Curie was born in Warsaw.", ["person", "city"])
    assert prompt.endswith("USER: What describes person, city in the text? ASSISTANT:")


def test_question_style_is_checked() -> None:
    with pytest.raises(ValueError, match=r"model\.questions must be one of"):
        config_from_dict({"model": {"questions": "all-at-once"}})


@pytest.mark.parametrize("lora", [False, True])
def test_a_finished_run_rerun_trains_no_further(tiny: Path, tmp_path: Path, lora: bool) -> None:
    """Resumed from its final checkpoint saved mid-epoch, the Trainer took one more step (301
    of 300); a rerun of a finished run must leave its model as it was, and a
    run whose model was lost after its last checkpoint gets it back from that checkpoint."""
    if lora:
        require("peft", "generative")
    cfg = _run(tiny, tmp_path / "run", max_steps=3, save_steps=3, batch_size=1)  # mid-epoch
    cfg.model.lora, cfg.model.lora_r = lora, 4
    done = train(cfg, CONVS)
    saved = _weights(done.model_dir)
    again = train(cfg, CONVS)
    assert again.global_step == 3 and again.complete
    assert sorted(p.name for p in (tmp_path / "run" / "checkpoints").iterdir()) == ["checkpoint-3"]
    for k, v in _weights(again.model_dir).items():
        assert torch.equal(v, saved[k]), k
    for f in done.model_dir.iterdir():
        f.unlink()
    restored = train(cfg, CONVS)
    assert restored.global_step == 3 and restored.complete
    assert _weights(restored.model_dir).keys() == saved.keys()
    for k, v in _weights(restored.model_dir).items():
        assert torch.equal(v, saved[k]), k


def test_an_epoch_run_rerun_with_more_epochs_trains_on(tiny: Path, tmp_path: Path) -> None:
    """A finished epoch schedule is restored on a rerun; asked more epochs, it trains on."""
    cfg = _run(tiny, tmp_path / "run", max_steps=None, epochs=1.0, batch_size=1)
    first = train(cfg, CONVS)
    assert first.complete and first.global_step > 0
    assert train(cfg, CONVS).global_step == first.global_step
    longer = _run(tiny, tmp_path / "run", max_steps=None, epochs=2.0, batch_size=1)
    assert train(longer, CONVS).global_step == 2 * first.global_step
