"""The one zero-shot guard (uniner.data.guard): CrossNER/MIT are never training data, whether
named as a data set (any split, any alias) or reached by a path (direct, relative with ``..``,
or through a symlink), for both students' loaders and on the ``uniner train`` command line.

No shared data is needed: a fake data directory (``UNINER_DATA_DIR``) holds a zero-shot folder
with a small readable file, and every refusal must happen before any file is read.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest
from typer.testing import CliRunner

from uniner.data.catalog import zero_shot_specs
from uniner.data.errors import ZeroShotDataError
from uniner.data.sources import DataSource, check_training_sources, load_sources

RECORD = {"text": "Alan Turing was born in London .", "entities": []}
ZERO_SHOT_NAMES = [s.name for s in zero_shot_specs()]


@pytest.fixture
def data_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A shared-data directory whose zero-shot folder holds one readable JSONL file."""
    root = tmp_path / "data"
    test_file = root / "zero-shot" / "instructuie" / "CrossNER_AI" / "dev.jsonl"
    test_file.parent.mkdir(parents=True)
    test_file.write_text(json.dumps(RECORD) + "\n", encoding="utf-8")
    monkeypatch.setenv("UNINER_DATA_DIR", str(root))
    return root


def _zero_shot_file(data_dir: Path) -> Path:
    return data_dir / "zero-shot" / "instructuie" / "CrossNER_AI" / "dev.jsonl"


def _ways_to_reach(data_dir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The same zero-shot file by direct path, with ``..``, relative, and through symlinks."""
    target = _zero_shot_file(data_dir)
    mine = tmp_path / "mine"
    mine.mkdir()
    (mine / "train.jsonl").symlink_to(target)  # a symlinked file
    (mine / "all").symlink_to(data_dir / "zero-shot", target_is_directory=True)  # a folder
    monkeypatch.chdir(mine)
    return [
        str(target),
        str(mine / ".." / "data" / "zero-shot" / "instructuie" / "CrossNER_AI" / "dev.jsonl"),
        os.path.join("..", "data", "zero-shot", "instructuie", "CrossNER_AI", "dev.jsonl"),
        str(mine / "train.jsonl"),
        "train.jsonl",
        str(mine / "all" / "instructuie" / "CrossNER_AI" / "dev.jsonl"),
        str(mine / "all" / "instructuie" / ".." / "instructuie" / "CrossNER_AI" / "dev.jsonl"),
    ]


@pytest.mark.parametrize("name", [*ZERO_SHOT_NAMES, "CrossNER AI", "MIT Movie", "Restaurant"])
@pytest.mark.parametrize("split", ["train", "dev", "test"])
def test_every_zero_shot_set_is_refused_by_name_in_every_split(name: str, split: str):
    with pytest.raises(ZeroShotDataError) as err:
        load_sources([DataSource(dataset=name, split=split)])
    message = str(err.value)
    assert f"training source dataset = {name!r} (split {split!r})" in message
    assert "zero-shot test set" in message and "\n" not in message


def test_the_guard_covers_the_catalogs_seven_sets():
    crossner = ("AI", "literature", "music", "politics", "science")
    expected = {f"CrossNER_{d}" for d in crossner} | {"mit-movie", "mit-restaurant"}
    assert set(ZERO_SHOT_NAMES) == expected and len(ZERO_SHOT_NAMES) == 7


def test_a_zero_shot_file_is_refused_by_any_path(
    data_dir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
):
    for path in _ways_to_reach(data_dir, tmp_path, monkeypatch):
        with pytest.raises(ZeroShotDataError) as err:
            load_sources([DataSource(path=path)])
        message = str(err.value)
        assert message.startswith(f"training source path = {path!r}: "), message
        assert str(_zero_shot_file(data_dir).resolve()) in message  # where it really is


def test_the_same_records_outside_the_zero_shot_folder_are_read(data_dir: Path, tmp_path: Path):
    """The guard refuses by origin, not by content: a file of one's own is training data."""
    own = tmp_path / "own.jsonl"
    own.write_text(_zero_shot_file(data_dir).read_text(encoding="utf-8"), encoding="utf-8")
    (ex,) = load_sources([DataSource(path=str(own))])
    assert ex.text == RECORD["text"]
    near = data_dir / "zero-shot-notes" / "x.jsonl"  # a sibling whose name merely starts alike
    near.parent.mkdir()
    near.write_text(json.dumps(RECORD) + "\n", encoding="utf-8")
    assert len(load_sources([DataSource(path=str(near))])) == 1


def test_held_out_sources_may_be_zero_shot_data(data_dir: Path):
    """``use="scoring"`` (data a tool only scores, nothing chosen by it) is not training data."""
    held = load_sources([DataSource(path=str(_zero_shot_file(data_dir)))], use="scoring")
    assert [ex.text for ex in held] == [RECORD["text"]]


def test_selection_sources_may_not_be_zero_shot_data(data_dir: Path):
    """A run's dev data picks its ``best`` checkpoint: CrossNER/MIT may not be it, by path or
    by name, and the message says what the source was for."""
    for src in (DataSource(path=str(_zero_shot_file(data_dir))), DataSource(dataset="mit-movie")):
        with pytest.raises(ZeroShotDataError, match=r"^dev source .* cannot choose a checkpoint"):
            load_sources([src], use="selection")


def test_every_source_is_checked_before_any_is_read(data_dir: Path, tmp_path: Path):
    missing = tmp_path / "not-there.jsonl"  # would fail to read if reading came first
    with pytest.raises(ZeroShotDataError, match="mit-movie"):
        check_training_sources([DataSource(path=str(missing)), DataSource(dataset="mit-movie")])


def test_named_corpora_pass_the_guard():
    check_training_sources([DataSource(source="pile-ner"), DataSource(source="supervised")])
    with pytest.raises(ValueError, match="unknown training source 'crossner'"):
        DataSource(source="crossner")


# --------------------------------------------------------------------------- the two students


def test_the_span_trainer_refuses_before_loading_anything(
    data_dir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
):
    """``python -m uniner.students.span.train``: the sources are read (and refused) before
    any model; the name it trains with is the data layer's loader."""
    import uniner.data.sources
    from uniner.students.span import train as span_train

    assert span_train.load_sources is uniner.data.sources.load_sources
    monkeypatch.setattr(span_train, "train", _no_training)
    for path in _ways_to_reach(data_dir, tmp_path, monkeypatch):
        cfg = _span_config(tmp_path, f"[{{ path = {json.dumps(path)} }}]")
        with pytest.raises(ZeroShotDataError, match="zero-shot test data"):
            span_train.main(["--config", str(cfg)])
    cfg = _span_config(tmp_path, '[{ dataset = "CrossNER_music", split = "dev" }]')
    with pytest.raises(ZeroShotDataError, match="CrossNER_music is a zero-shot test set"):
        span_train.main(["--config", str(cfg)])
    cfg = _span_config(tmp_path, '[{ source = "pile-ner" }]', dev='[{ dataset = "CrossNER_AI" }]')
    with pytest.raises(ZeroShotDataError, match=r"dev source .*CrossNER_AI.* choose a checkpoint"):
        span_train.main(["--config", str(cfg)])


def test_the_generative_trainer_refuses_by_name_and_by_path(
    data_dir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
):
    from uniner.students.generative.config import config_from_dict
    from uniner.students.generative.train import load_conversations, train

    ways = _ways_to_reach(data_dir, tmp_path, monkeypatch)
    sources = [{"path": p} for p in ways] + [
        {"dataset": name, "split": split} for name in ZERO_SHOT_NAMES for split in ("dev", "test")
    ]
    for src in sources:
        run = config_from_dict(
            {"model": {"base": str(tmp_path / "no-model")}, "data": {"train": [src]}}
        )
        with pytest.raises(ZeroShotDataError):
            load_conversations(run)
        with pytest.raises(ZeroShotDataError):  # before the (absent) base model is looked for
            train(run)
    assert not (tmp_path / "runs").exists()


def test_uniner_train_reports_one_line_naming_the_source(data_dir: Path, tmp_path: Path):
    from uniner.cli import _register, app

    _register()
    bad = str(_zero_shot_file(data_dir))
    cfg = _span_config(tmp_path, f"[{{ path = {json.dumps(bad)} }}]")
    res = CliRunner().invoke(app, ["train", "--config", str(cfg)])
    assert res.exit_code == 1 and "Traceback" not in res.output
    lines = [line for line in res.stderr.splitlines() if line.startswith("error: ")]
    assert len(lines) == 1 and f"training source path = {bad!r}" in lines[0], res.stderr
    assert "zero-shot test data" in lines[0]


def test_other_builders_of_training_data_refuse_too(
    data_dir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
):
    """A distillation corpus (its annotations become training data), ``uniner instruct build``
    inputs and the self-distillation pool go through the same guard."""
    from uniner.cli import _register, app
    from uniner.distill.corpus import expand_sources

    ways = _ways_to_reach(data_dir, tmp_path, monkeypatch)
    for path in ways:
        with pytest.raises(ZeroShotDataError, match="corpus file"):
            expand_sources([path])
    with pytest.raises(ZeroShotDataError):  # a folder that holds one
        expand_sources([str(data_dir)])
    _register()
    res = CliRunner().invoke(app, ["instruct", "build", ways[3], "-o", str(tmp_path / "i.json")])
    assert res.exit_code == 1 and "Traceback" not in res.output
    assert res.stderr.startswith("error: ") and "zero-shot test data" in res.stderr
    assert not (tmp_path / "i.json").exists()


def test_the_self_distillation_pool_refuses_a_zero_shot_set(monkeypatch: pytest.MonkeyPatch):
    """Even if the catalog's list of trainable sets were wrong, the pool refuses the set."""
    import uniner.data.catalog
    from uniner.data.catalog import get
    from uniner.students.span.selfdistill import default_pool_sources

    monkeypatch.setattr(
        uniner.data.catalog, "trainable_specs", lambda data_dir=None: (get("CrossNER AI"),)
    )
    with pytest.raises(ZeroShotDataError, match="CrossNER_AI"):
        default_pool_sources(names=["supervised"])


def _span_config(tmp_path: Path, train: str, dev: str = "[]") -> Path:
    cfg = tmp_path / "span.toml"
    cfg.write_text(
        f'[model]\nbackbone = "minilm-l6"\n[data]\ntrain = {train}\ndev = {dev}\n'
        f'[train]\noutput_dir = "{tmp_path / "runs"}"\nmax_steps = 1\n',
        encoding="utf-8",
    )
    return cfg


def _no_training(*args: object, **kwargs: object) -> None:
    raise AssertionError("training started although the data was zero-shot test data")
