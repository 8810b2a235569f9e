"""``uniner extract --engine ray`` on a local 2-CPU Ray: record for record the single-process
CLI's output, shard commits that survive an aborted driver and a killed worker, clear errors."""

from __future__ import annotations

import json
import os
import signal
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest
import torch
from typer.testing import CliRunner

from conftest import require

require("ray", "ray")
require("pyarrow", "ray")

import pyarrow as pa  # noqa: E402
import pyarrow.parquet as pq  # noqa: E402

from uniner.cli import _register, app  # noqa: E402
from uniner.cli.errors import UserError  # noqa: E402
from uniner.scale.cluster import plan_actors  # noqa: E402
from uniner.scale.ray_extract import ExtractorSpec, run_ray_extract  # noqa: E402
from uniner.scale.shards import MANIFEST, find_shards, output_names, read_output  # noqa: E402
from uniner.students.span.backbones import load_encoder, load_tokenizer  # noqa: E402
from uniner.students.span.config import SpanModelConfig  # noqa: E402
from uniner.students.span.extractor import SpanExtractor  # noqa: E402
from uniner.students.span.model import SpanModel  # noqa: E402

WORDS = [
    "Alice",
    "Smith",
    "lives",
    "in",
    "Paris",
    ".",
    "Bob",
    "met",
    "Carol",
    "Jones",
    "in",
    "London",
    "and",
    "Rome",
]
LABELS = ["person", "city"]


def _texts(n: int, seed: int) -> list[str]:
    import random

    rng = random.Random(seed)
    return [" ".join(rng.choices(WORDS, k=rng.randint(3, 14))) for _ in range(n)]


@pytest.fixture(scope="module")
def model_dir(tmp_path_factory: pytest.TempPathFactory, backbone: Path) -> Path:
    torch.manual_seed(0)
    cfg = SpanModelConfig(backbone=str(backbone), hidden_dim=16, max_width=4, bias_init=1.0)
    ext = SpanExtractor(
        SpanModel(cfg, load_encoder(str(backbone))).eval(),
        load_tokenizer(str(backbone)),
        name="tiny",
    )
    return ext.save(tmp_path_factory.mktemp("m") / "tiny", storage="full")


@pytest.fixture(scope="module")
def shards(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Two JSONL shards (extra fields, own labels, a blank line) and one Parquet shard."""
    root = tmp_path_factory.mktemp("shards")
    a = [{"text": t, "source": "a"} for t in _texts(21, 1)]
    a[3]["labels"] = ["city"]
    (root / "a.jsonl").write_text(
        "".join(json.dumps(r) + "\n" for r in a[:10])
        + "\n"
        + "".join(json.dumps(r) + "\n" for r in a[10:])
    )
    (root / "sub").mkdir()
    (root / "sub" / "b.jsonl").write_text(
        "".join(json.dumps({"text": t}) + "\n" for t in _texts(6, 2))
    )
    rows = [{"text": t, "labels": LABELS, "id": i + 1} for i, t in enumerate(_texts(9, 3))]
    pq.write_table(pa.Table.from_pylist(rows), root / "c.parquet")
    (root / "c.as.jsonl.ref").write_text("".join(json.dumps(r) + "\n" for r in rows))
    return root


def _cli(*args: str):
    _register()
    return CliRunner().invoke(app, ["extract", *args])


@pytest.fixture(scope="module")
def reference(shards: Path, model_dir: Path, tmp_path_factory) -> dict[str, list[dict]]:
    """Each shard through the single-process ``uniner extract -i`` (one thread, batch 4)."""
    out = tmp_path_factory.mktemp("ref")
    ref = {}
    for name, src in [("a", "a.jsonl"), ("sub__b", "sub/b.jsonl"), ("c", "c.as.jsonl.ref")]:
        copy = out / f"{name}.jsonl"
        copy.write_bytes((shards / src).read_bytes())
        res = _cli(
            "-i",
            str(copy),
            "-o",
            str(out / f"{name}.out.jsonl"),
            "-l",
            "person",
            "-l",
            "city",
            "-m",
            str(model_dir),
            "--batch-size",
            "4",
            "--threads",
            "1",
        )
        assert res.exit_code == 0, res.output
        ref[name] = read_output(out / f"{name}.out.jsonl")
    return ref


def _ray_args(shards: Path, out: Path, model_dir: Path, *extra: str) -> list[str]:
    return [
        "--engine",
        "ray",
        "-i",
        str(shards),
        "-o",
        str(out),
        "-l",
        "person",
        "-l",
        "city",
        "-m",
        str(model_dir),
        "--batch-size",
        "4",
        *extra,
    ]


def _outputs(out: Path) -> dict[str, list[dict]]:
    return {
        p.stem: read_output(p) for p in sorted(out.iterdir()) if p.suffix in (".jsonl", ".parquet")
    }


def test_shards_found_named_apart_and_never_read_from_the_output(tmp_path):
    for d in ("a", "b", "out"):
        (tmp_path / d).mkdir()
        (tmp_path / d / "x.jsonl").write_text('{"text": "Bob"}\n')
    (tmp_path / "a" / "notes.md").write_text("not a shard")
    found = find_shards(tmp_path, tmp_path / "out")
    assert [p.relative_to(tmp_path).as_posix() for p in found] == ["a/x.jsonl", "b/x.jsonl"]
    assert output_names(found) == ["a__x", "b__x"]
    assert find_shards(str(tmp_path / "*" / "x.jsonl"), tmp_path / "out") == found


def test_plan_actors_fits_the_cores():
    assert plan_actors(2, None, None) == (1, 2)
    assert plan_actors(16, None, None) == (4, 4)
    assert plan_actors(8, 2, None) == (2, 4) and plan_actors(8, None, 3) == (2, 3)
    with pytest.raises(UserError, match="more than the cluster's 2 CPUs"):
        plan_actors(2, 2, 2)


def test_ray_extract_equals_the_single_process_cli(
    ray_local, shards, model_dir, reference, tmp_path
):
    res = _cli(
        *_ray_args(shards, tmp_path / "out", model_dir, "--actors", "2", "--threads-per-actor", "1")
    )
    assert res.exit_code == 0, res.output
    got = _outputs(tmp_path / "out")
    assert sorted(got) == ["a", "c", "sub__b"]  # a Parquet shard stays Parquet
    assert (tmp_path / "out" / "c.parquet").exists()
    assert got == reference, "every record, field and score as the single-process CLI writes"
    assert sum(len(r["entities"]) for rows in got.values() for r in rows) > 0
    manifest = json.loads((tmp_path / "out" / MANIFEST).read_text())
    assert manifest["records"] == 36 and len(manifest["shards"]) == 3


@dataclass(frozen=True)
class KillOnce(ExtractorSpec):
    """Kills its own worker process the first time any actor extracts (a crashed worker)."""

    flag: str = ""

    def build(self):
        rows = super().build()

        def dying(chunk):
            try:
                os.close(os.open(self.flag, os.O_CREAT | os.O_EXCL))
            except FileExistsError:
                return rows(chunk)
            os.kill(os.getpid(), signal.SIGKILL)

        return dying


def _spec(model_dir: Path, cls=ExtractorSpec, **kw) -> ExtractorSpec:
    return cls(model=str(model_dir), threads=1, batch_size=4, **kw)


SETTINGS = {
    "labels": LABELS,
    "model": "tiny",
    "threshold": None,
    "nested": False,
    "multi_label": None,
    "runtime": "torch",
}


def test_crash_and_rerun_lose_and_repeat_nothing(ray_local, shards, model_dir, reference, tmp_path):
    """The driver dies after two commits; one of them lost its marker (killed between rename
    and marker), a half-written shard is left behind; the rerun's worker is killed mid-part."""
    import ray.cloudpickle

    out = tmp_path / "out"
    committed: list[str] = []

    def abort_after_two(name: str) -> None:
        committed.append(name)
        if len(committed) == 2:
            raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        run_ray_extract(
            shards,
            out,
            LABELS,
            SETTINGS,
            _spec(model_dir),
            actors=1,
            output_format="jsonl",
            on_commit=abort_after_two,
        )
    assert not (out / MANIFEST).exists()
    (out / "_done" / f"{committed[0]}.json").unlink()
    (out / f".{committed[0]}.jsonl.tmp-999").write_text('{"torn": ')
    ray.cloudpickle.register_pickle_by_value(sys.modules[__name__])
    flag = tmp_path / "killed"
    redone: list[str] = []
    summary = run_ray_extract(
        shards,
        out,
        LABELS,
        SETTINGS,
        _spec(model_dir, KillOnce, flag=str(flag)),
        actors=1,
        output_format="jsonl",
        on_commit=redone.append,
    )
    assert flag.exists(), "a worker was killed mid-run"
    assert summary.skipped == 1 and sorted(redone) == sorted({"a", "c", "sub__b"} - {committed[1]})
    assert _outputs(out) == reference and not list(out.glob(".*tmp*"))
    assert json.loads((out / MANIFEST).read_text())["records"] == 36


def test_a_bad_record_is_one_line_naming_file_and_line(ray_local, model_dir, tmp_path):
    src = tmp_path / "in"
    src.mkdir()
    (src / "ok.jsonl").write_text('{"text": "Bob"}\n')
    (src / "bad.jsonl").write_text('{"text": "Bob"}\n\n{"text": "x", "labels": [" "]}\n')
    res = _cli(*_ray_args(src, tmp_path / "out", model_dir))
    assert res.exit_code == 1
    assert "bad.jsonl, line 3: labels[0] is blank" in res.output and "Traceback" not in res.output
    (src / "bad.jsonl").unlink()
    pq.write_table(pa.Table.from_pylist([{"text": "Bob"}, {"text": None}]), src / "p.parquet")
    res = _cli(*_ray_args(src, tmp_path / "out", model_dir))
    assert res.exit_code == 1 and "p.parquet: row 2: no 'text' string" in res.output
    res = _cli(*_ray_args(tmp_path / "nothing-*.jsonl", tmp_path / "out", model_dir))
    assert res.exit_code == 1 and "no input shards" in res.output
    res = _cli("--engine", "ray", "Bob", "-l", "person")
    assert res.exit_code == 2 and "--input DIR_OR_GLOB" in res.output
