"""DistillSettings: one frozen, checked value for a distillation run, whether it comes from the
command line, a TOML config or both; a bad field is one line naming it (and where it came from)."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest
import typer
from typer.testing import CliRunner

from uniner.cli import _register, app
from uniner.distill.settings import (
    DistillSettings,
    DistillSettingsError,
    load_settings,
)

CONFIGS = Path(__file__).resolve().parents[1] / "configs"


def _capture(monkeypatch: pytest.MonkeyPatch) -> list[DistillSettings]:
    """Make ``uniner distill`` stop right after it built its settings, and keep them."""
    seen: list[DistillSettings] = []

    def fake_run(settings: DistillSettings, **_: object) -> None:
        seen.append(settings)
        raise typer.Exit(0)

    monkeypatch.setattr("uniner.distill.pipeline.run", fake_run)
    _register()
    return seen


def test_defaults_are_the_fields_own_and_options_are_typed() -> None:
    s = load_settings(
        None,
        {"inputs": ["a.jsonl", Path("b.txt")], "out": "run", "rpm": 3000, "max_tokens": None},
    )
    assert s.inputs == ("a.jsonl", "b.txt") and s.out == Path("run")
    assert s.rpm == 3000.0 and isinstance(s.rpm, float)
    assert s.max_tokens == DistillSettings().max_tokens == 256  # None: not given
    assert s.endpoints == () and s.engine == "local"
    with pytest.raises(dataclasses.FrozenInstanceError):
        s.seed = 3  # type: ignore[misc]
    assert s.replace(seed=3).seed == 3 and s.seed == 0


def test_toml_paths_are_relative_to_the_file_and_options_override_it(tmp_path: Path) -> None:
    cfg = tmp_path / "cfg" / "d.toml"
    cfg.parent.mkdir()
    cfg.write_text(
        'inputs = ["corpus/*.txt", "/abs/x.jsonl"]\nout = "../runs/x"\nsample = 20\n'
        'teacher = "local"\nmodel = "m"\ninstruct = true\n[[endpoints]]\nurl = "http://h:1/v1"\n'
    )
    s = load_settings(cfg, {"sample": 5, "inputs": []})
    assert s.inputs == (str(cfg.parent / "corpus/*.txt"), "/abs/x.jsonl")
    assert s.out == cfg.parent / "../runs/x"
    assert s.sample == 5  # the option wins; an empty list means "not given"
    assert s.teacher == "local" and s.instruct is True
    assert s.endpoints == ({"url": "http://h:1/v1"},)


@pytest.mark.parametrize("path", sorted(CONFIGS.glob("distill-*.toml")), ids=lambda p: p.name)
def test_shipped_configs_load_and_name_a_known_template(path: Path) -> None:
    from uniner.distill.pipeline import resolve_template

    s = load_settings(path)
    assert s.out is not None and s.out.is_relative_to(CONFIGS) and s.inputs
    assert resolve_template(s).id


def test_cli_and_toml_give_equal_settings(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    seen = _capture(monkeypatch)
    corpus, out = tmp_path / "c.jsonl", tmp_path / "run"
    cfg = tmp_path / "d.toml"
    cfg.write_text(
        f'inputs = ["{corpus}"]\nout = "{out}"\ntext_field = "body"\nmax_tokens = 128\n'
        "dedup = false\nnear_dup = 0.5\nrpm = 60\nprice_in = 1\ninstruct = true\n"
        'negatives = "uniform"\nengine = "ray"\nshard_size = 7\n'
        'endpoints = ["http://a:1/v1,concurrency=2", "http://b:1/v1"]\n'
    )
    options = [
        str(corpus), "--out", str(out), "--text-field", "body", "--max-tokens", "128",
        "--no-dedup", "--near-dup", "0.5", "--rpm", "60", "--price-in", "1", "--instruct",
        "--negatives", "uniform", "--engine", "ray", "--shard-size", "7",
        "--teacher-url", "http://a:1/v1,concurrency=2", "--teacher-url", "http://b:1/v1",
    ]  # fmt: skip
    for args in (options, ["--config", str(cfg)]):
        res = CliRunner().invoke(app, ["distill", *args])
        assert res.exit_code == 0, res.output
    from_cli, from_toml = seen
    assert from_cli == from_toml
    assert from_cli != DistillSettings(inputs=(str(corpus),), out=out)  # the options did count
    assert from_cli.engine == "ray" and type(from_cli.engine) is str


@pytest.mark.parametrize(
    ("key", "toml", "option", "problem"),
    [
        ("max_tokens", "max_tokens = 0", ["--max-tokens", "0"], "must be >= 1, got 0"),
        ("teacher", 'teacher = "gpt"', ["--teacher", "gpt"], "must be one of openai, local"),
        ("near_dup", "near_dup = 1.5", ["--near-dup", "1.5"], "must be between 0 and 1"),
        ("base_url", 'base_url = "localhost"', ["--base-url", "localhost"], "http(s):// URL"),
    ],
)
def test_a_bad_field_is_one_line_naming_it_and_its_source(
    tmp_path: Path, key: str, toml: str, option: list[str], problem: str
) -> None:
    cfg = tmp_path / "d.toml"
    cfg.write_text(toml + "\n")
    with pytest.raises(DistillSettingsError) as info:
        load_settings(cfg)
    assert info.value.field == key and str(info.value).startswith(f"{cfg}: {key}: ")
    assert problem in str(info.value) and "\n" not in str(info.value)

    _register()
    out = tmp_path / "run"
    res = CliRunner().invoke(app, ["distill", "x.txt", "--out", str(out), *option])
    assert res.exit_code == 2, res.output
    lines = [line for line in res.stderr.splitlines() if line.strip()]
    assert len(lines) == 1 and lines[0].startswith(f"error: {option[0]}: {key}: ")
    assert problem in lines[0]
    assert not out.exists()  # checked before anything is written


def test_wrong_types_and_unknown_keys_are_refused(tmp_path: Path) -> None:
    for bad, message in [
        ({"dedup": "yes"}, "dedup: must be true or false, got 'yes'"),
        ({"sample": 2.5}, "sample: must be an integer, got 2.5"),
        ({"inputs": "a.txt"}, "inputs: must be a list, got 'a.txt'"),
        ({"rpm": -1}, "rpm: must be >= 0, got -1"),
    ]:
        with pytest.raises(DistillSettingsError, match="^" + message.replace("(", r"\(")):
            DistillSettings(**bad)  # type: ignore[arg-type]
    cfg = tmp_path / "d.toml"
    cfg.write_text('modle = "x"\n')
    with pytest.raises(DistillSettingsError, match="unknown keys \\['modle'\\]") as info:
        load_settings(cfg)
    assert info.value.field == "config"


def test_run_checks_what_a_run_needs(tmp_path: Path) -> None:
    from uniner.distill.pipeline import run

    with pytest.raises(DistillSettingsError, match=r"^out: an output folder is required"):
        run(DistillSettings(inputs=("x.txt",)))
    with pytest.raises(DistillSettingsError, match=r"^inputs: give corpus inputs"):
        run(DistillSettings(out=tmp_path / "a"))
    with pytest.raises(DistillSettingsError, match=r"^template: "):
        run(DistillSettings(inputs=("x.txt",), out=tmp_path / "b", template="no-such"))
    with pytest.raises(DistillSettingsError, match="does not exist: run without --report-only"):
        run(DistillSettings(out=tmp_path / "c", report_only=True))


def test_ray_shards_split_the_limits_of_the_same_settings() -> None:
    from uniner.scale.ray_distill import _split_limits

    s = DistillSettings(concurrency=8, rpm=600, tpm=None, shard_size=10)
    part = _split_limits(s, 3)
    assert isinstance(part, DistillSettings)
    assert (part.concurrency, part.rpm, part.tpm, part.shard_size) == (2, 200.0, None, 10)
