"""``uniner.load`` and ``uniner extract`` on a tiny random model saved to disk."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest
import torch
from typer.testing import CliRunner

os.environ.setdefault("HF_HUB_OFFLINE", "1")

from tests.doubles.span import make_tiny_backbone
from uniner import load
from uniner.cli import _register, app
from uniner.cli.extract_cmd import highlight, read_inputs
from uniner.data.errors import DataFormatError
from uniner.data.types import Entity
from uniner.models import DEFAULT_MODEL, resolve_model, shipped_models
from uniner.students.span.backbones import load_encoder, load_tokenizer
from uniner.students.span.config import SpanModelConfig
from uniner.students.span.extractor import SpanExtractor
from uniner.students.span.model import SpanModel

TEXT = "Alice Smith lives in Paris ."


@pytest.fixture(scope="module")
def model_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    backbone = make_tiny_backbone(tmp_path_factory.mktemp("bb"))
    torch.manual_seed(0)
    cfg = SpanModelConfig(backbone=str(backbone), hidden_dim=16, max_width=4, bias_init=3.0)
    model = SpanModel(cfg, load_encoder(str(backbone)))
    model.eval()
    ext = SpanExtractor(model, load_tokenizer(str(backbone)), name="tiny")
    return ext.save(tmp_path_factory.mktemp("m") / "tiny", storage="full")


def test_load_by_path_gives_entities_with_offsets(model_dir):
    m = load(model_dir, threads=1)
    ents = m.extract(TEXT, ["person", "city"], threshold=0.0)
    assert ents, "bias_init=3 makes every span score high: something must come back"
    for e in ents:
        assert TEXT[e.start : e.end] == e.text and e.label in ("person", "city")
        assert e.score is not None and 0.0 <= e.score <= 1.0


def test_resolve_model_errors_are_clear(tmp_path):
    with pytest.raises(FileNotFoundError, match=r"no config\.json"):
        resolve_model(tmp_path)
    with pytest.raises(FileNotFoundError, match="no model"):
        resolve_model("no-such-model")
    if DEFAULT_MODEL in shipped_models():
        assert resolve_model() == shipped_models()[DEFAULT_MODEL]


def test_aliases_name_shipped_models_and_a_missing_target_is_said(tmp_path, monkeypatch):
    import uniner.models as models

    shipped = shipped_models()
    assert resolve_model("default") == resolve_model(DEFAULT_MODEL) == shipped[DEFAULT_MODEL]
    assert models.MODEL_ALIASES["fast"] == models.FAST_MODEL
    if models.FAST_MODEL in shipped:
        assert resolve_model("fast") == shipped[models.FAST_MODEL]
    monkeypatch.setitem(models.MODEL_ALIASES, "quick", "uniner-not-shipped")
    with pytest.raises(FileNotFoundError, match="'quick' names the model 'uniner-not-shipped'"):
        resolve_model("quick")
    monkeypatch.chdir(tmp_path)  # a folder of that name in the working directory wins
    (tmp_path / "quick").mkdir()
    (tmp_path / "quick" / "config.json").write_text("{}")
    assert resolve_model("quick") == Path("quick")


def test_extract_cli_text_json(model_dir):
    _register()
    res = CliRunner().invoke(
        app, ["extract", TEXT, "-l", "person", "-m", str(model_dir), "--threshold", "0", "--json"]
    )
    assert res.exit_code == 0, res.output
    out = json.loads(res.output)
    assert out["text"] == TEXT
    assert all(TEXT[e["start"] : e["end"]] == e["text"] for e in out["entities"])


def test_extract_cli_decodes_as_the_model_was_released(tmp_path, model_dir):
    """Without --threshold/--multi-label the CLI uses the decoding stored in config.json (as
    ``load().extract`` does), not a hard-coded 0.5 single-label one."""
    _register()
    cfg = json.loads((model_dir / "config.json").read_text())
    released = tmp_path / "released"
    released.mkdir()
    for f in model_dir.iterdir():
        (released / f.name).write_bytes(f.read_bytes())
    labels = ["person", "city", "name"]
    scores = sorted(e.score for e in load(model_dir).extract(TEXT, labels, threshold=0.0))
    cut = scores[len(scores) // 2]  # a threshold that keeps some spans and drops others
    cfg.update(threshold=cut, multi_label=True)
    (released / "config.json").write_text(json.dumps(cfg))

    def cli(*extra: str) -> list[tuple[int, int, str]]:
        args = ["extract", TEXT, "-m", str(released), "--json", *extra]
        res = CliRunner().invoke(app, [*args, *(a for lab in labels for a in ("-l", lab))])
        assert res.exit_code == 0, res.output
        return sorted(
            (e["start"], e["end"], e["label"]) for e in json.loads(res.output)["entities"]
        )

    python = sorted((e.start, e.end, e.label) for e in load(released).extract(TEXT, labels))
    assert cli() == python
    assert len({(s, e) for s, e, _ in python}) < len(python), "multi-label: a span with 2 labels"
    assert cli("--threshold", "0.0", "--no-multi-label") != python
    res = CliRunner().invoke(
        app, ["extract", TEXT, "-l", "x", "-m", str(released), "--threshold", "2"]
    )
    assert res.exit_code != 0 and "threshold" in res.output


def test_extract_cli_needs_labels(model_dir):
    _register()
    res = CliRunner().invoke(app, ["extract", TEXT, "-m", str(model_dir)])
    assert res.exit_code != 0
    assert "label" in res.output


def test_extract_cli_file_round_trip(model_dir, tmp_path):
    _register()
    inp = tmp_path / "in.jsonl"
    inp.write_text(
        json.dumps({"text": TEXT}) + "\n\n" + json.dumps({"text": "Bob", "labels": ["city"]}) + "\n"
    )
    out = tmp_path / "out.jsonl"
    res = CliRunner().invoke(
        app, ["extract", "-i", str(inp), "-o", str(out), "-l", "person", "-m", str(model_dir)]
    )
    assert res.exit_code == 0, res.output
    rows = [json.loads(line) for line in out.read_text().splitlines()]
    assert [r["text"] for r in rows] == [TEXT, "Bob"]
    assert all(e["label"] == "city" for e in rows[1]["entities"])
    assert rows[0]["windowed"] is False
    assert not (tmp_path / "out.jsonl.tmp").exists()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["in.jsonl", "out.jsonl"]  # no leftovers
    # the output is training data as it stands (the offsets reader), entity for entity
    from uniner.data.readers import detect_format, read_examples

    assert detect_format(out) == "offsets"
    back = list(read_examples(out))
    assert [ex.text for ex in back] == [TEXT, "Bob"]
    assert [ex.labels for ex in back] == [("person",), ("city",)]  # the types asked
    for ex, row in zip(back, rows, strict=True):
        want = sorted((e["start"], e["end"], e["text"], e["label"]) for e in row["entities"])
        assert [(e.start, e.end, e.text, e.label) for e in ex.entities] == want
    assert any(ex.entities for ex in back)


def test_read_inputs_names_the_bad_line(tmp_path):
    p = tmp_path / "bad.jsonl"
    p.write_text('{"text": "ok"}\n{"txt": "no text"}\n')
    with pytest.raises(DataFormatError, match="line 2"):
        list(read_inputs(p, ["person"]))
    p.write_text('{"text": "ok"}\n')
    with pytest.raises(DataFormatError, match="no labels"):
        list(read_inputs(p, []))


def test_highlight_marks_each_entity():
    ents = [Entity(0, 11, "Alice Smith", "person"), Entity(21, 26, "Paris", "city")]
    plain = highlight(TEXT, ents, ["person", "city"]).plain
    assert plain == "Alice Smith [person] lives in Paris [city] ."


def test_highlight_tags_a_multi_label_span_once_best_first():
    ents = [
        Entity(0, 11, "Alice Smith", "person", 0.6),
        Entity(0, 11, "Alice Smith", "writer", 0.9),
        Entity(6, 11, "Smith", "person", 0.5),  # nested: table only
    ]
    plain = highlight(TEXT, ents, ["person", "writer"]).plain
    assert plain == "Alice Smith [writer | person] lives in Paris ."


def test_gliner_method_names_give_the_same_entities(model_dir):
    m = load(model_dir, threads=1)
    labels = ["person", "city"]
    want = [e.to_dict() for e in m.extract(TEXT, labels, threshold=0.3)]
    assert want and m.predict_entities(TEXT, labels, threshold=0.3) == want
    assert m.inference(TEXT, labels, threshold=0.3) == [want]
    texts = [TEXT, "Bob met Carol in Rome .", TEXT]
    batch = [[e.to_dict() for e in r] for r in m.extract_batch(texts, labels, threshold=0.3)]
    assert m.batch_predict_entities(texts, labels, threshold=0.3, batch_size=1) == batch
    assert m.batch_size == 16  # the per-call batch size changed nothing shared
    nested = m.predict_entities(TEXT, labels, flat_ner=False, threshold=0.0)
    assert len(nested) > len(m.predict_entities(TEXT, labels, threshold=0.0))
    with pytest.raises(ValueError, match="batch_size"):
        m.inference(texts, labels, batch_size=0)


def test_version_names_the_package_and_the_default_model():
    import uniner

    _register()
    res = CliRunner().invoke(app, ["--version"])
    assert res.exit_code == 0, res.output
    assert res.output.splitlines()[0] == f"uniner {uniner.__version__}"
    if DEFAULT_MODEL in shipped_models():
        assert any(
            line.startswith(DEFAULT_MODEL) and "(default)" in line
            for line in res.output.splitlines()
        )
    assert CliRunner().invoke(app, []).exit_code in (0, 2)  # bare `uniner` still shows the help
    assert "Commands" in CliRunner().invoke(app, []).output


# -- files: other fields kept, resumable, progress by windows (issue 21, items 2 and 3) --------

KILLER = """
import os, signal, sys
from uniner.students.span.extractor import SpanExtractor

real, calls = SpanExtractor.extract_each, []


def dying(self, *args, **kwargs):
    calls.append(1)
    if len(calls) > int(os.environ["KILL_AFTER_CALLS"]):  # after that many batches were written
        os.kill(os.getpid(), signal.SIGKILL)
    return real(self, *args, **kwargs)


SpanExtractor.extract_each = dying
from uniner.cli import main

sys.argv[0] = "uniner"
main()
"""


def _input_file(path: Path, n: int) -> Path:
    names = ["Alice Smith", "Bob Jones", "Carol King", "Dan Brown"]
    cities = ["Paris", "Rome", "Oslo"]
    rows = [
        {
            "text": f"{names[i % 4]} lives in {cities[i % 3]} and met {names[(i + 1) % 4]} .",
            **({"labels": ["person", "city"]} if i % 2 else {}),
            "meta": {"n": i, "tags": ["a", i]},
        }
        for i in range(n)
    ]
    path.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    return path


def _rows(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]


def _count_calls(monkeypatch: pytest.MonkeyPatch, fail_at: int | None = None) -> list[int]:
    """Count SpanExtractor.extract_each calls (one per batch); raise Ctrl-C's exception at
    call ``fail_at``."""
    calls: list[int] = []
    real = SpanExtractor.extract_each

    def counted(self, *args, **kwargs):
        calls.append(len(args[0]))
        if fail_at is not None and len(calls) == fail_at:
            raise KeyboardInterrupt
        return real(self, *args, **kwargs)

    monkeypatch.setattr(SpanExtractor, "extract_each", counted)
    return calls


def test_extract_file_keeps_the_records_other_fields(model_dir, tmp_path):
    _register()
    rec = {
        "id": "doc-7",
        "text": TEXT,
        "labels": ["person"],
        "meta": {"source": "wiki", "n": [1, 2.5, None]},
        "source": "x",
    }
    inp = tmp_path / "in.jsonl"
    inp.write_text(json.dumps(rec) + "\n" + json.dumps({"text": "Bob", "k": 1}) + "\n")
    out = tmp_path / "out.jsonl"
    args = ["extract", "-i", str(inp), "-o", str(out), "-l", "city", "-m", str(model_dir)]
    res = CliRunner().invoke(app, [*args, "--threshold", "0"])
    assert res.exit_code == 0, res.output
    first, second = _rows(out)
    assert {k: first[k] for k in rec} == rec and first["entities"]
    assert second["k"] == 1 and second["id"] == 2 and second["labels"] == ["city"]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["in.jsonl", "out.jsonl"]


def test_extract_file_resumes_after_sigkill_with_no_record_lost_or_doubled(
    model_dir, tmp_path, monkeypatch
):
    _register()
    inp = _input_file(tmp_path / "in.jsonl", 7)
    args = ["extract", "-i", str(inp), "-l", "person", "-m", str(model_dir)]
    args += ["--batch-size", "2", "--threads", "1", "--threshold", "0.3"]
    ref = tmp_path / "ref.jsonl"
    assert CliRunner().invoke(app, [*args, "-o", str(ref)]).exit_code == 0
    out = tmp_path / "out.jsonl"
    partial, sidecar = tmp_path / "out.jsonl.partial", tmp_path / "out.jsonl.partial.json"
    env = {**os.environ, "KILL_AFTER_CALLS": "2"}
    proc = subprocess.run(
        [sys.executable, "-c", KILLER, *args, "-o", str(out)],
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert proc.returncode == -signal.SIGKILL, proc.stderr[-2000:]
    assert not out.exists() and sidecar.is_file()
    assert _rows(partial) == _rows(ref)[:4]  # two batches written, each durable
    with partial.open("a", encoding="utf-8") as fh:
        fh.write('{"id": 5, "text": "a write cut short by the ki')  # a torn last line
    calls = _count_calls(monkeypatch)
    res = CliRunner().invoke(app, [*args, "-o", str(out)])
    assert res.exit_code == 0, res.output
    assert "resuming" in res.stderr and "4 of 7" in res.stderr
    assert calls == [2, 1]  # records 5-6 and 7: nothing done twice
    assert _rows(out) == _rows(ref)  # record for record, the uninterrupted run's output
    assert not partial.exists() and not sidecar.exists()


def test_extract_file_after_ctrl_c_other_arguments_start_over(model_dir, tmp_path, monkeypatch):
    _register()
    inp = _input_file(tmp_path / "in.jsonl", 5)
    args = ["extract", "-i", str(inp), "-l", "person", "-m", str(model_dir), "--batch-size", "2"]
    out = tmp_path / "out.jsonl"
    _count_calls(monkeypatch, fail_at=2)
    res = CliRunner().invoke(app, [*args, "-o", str(out), "--threshold", "0.3"])
    assert res.exit_code == 130 and "rerun the same command" in res.stderr, res.output
    assert len(_rows(tmp_path / "out.jsonl.partial")) == 2 and not out.exists()
    monkeypatch.undo()
    calls = _count_calls(monkeypatch)
    res = CliRunner().invoke(app, [*args, "-o", str(out), "--threshold", "0.9"])
    assert res.exit_code == 0, res.output
    assert "starting over" in res.stderr and "threshold" in res.stderr
    assert sum(calls) == 5
    ref = tmp_path / "ref.jsonl"
    assert CliRunner().invoke(app, [*args, "-o", str(ref), "--threshold", "0.9"]).exit_code == 0
    assert _rows(out) == _rows(ref)


def test_a_long_text_shows_progress_by_windows(model_dir):
    _register()
    long = " ".join([TEXT] * 150)  # 900 words: several windows, one model pass each
    res = CliRunner().invoke(
        app, ["extract", long, "-l", "person", "-m", str(model_dir), "--batch-size", "1"]
    )
    assert res.exit_code == 0, res.output
    assert "windows:" in res.stderr and "overlapping windows" in res.stdout
    short = CliRunner().invoke(app, ["extract", TEXT, "-l", "person", "-m", str(model_dir)])
    assert short.exit_code == 0 and "windows:" not in short.stderr
