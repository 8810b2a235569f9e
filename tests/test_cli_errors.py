"""User mistakes on the command line get one line on stderr and exit 1 (input, files) or 2
(usage, option values), with no traceback, and before any model loads (issue 21, item 2).

No model is needed: the ``no_model_loads`` fixture makes loading one fail the test, because every
case here must be caught before that.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner, Result

from uniner.cli import _register, app


@pytest.fixture(autouse=True)
def no_model_loads(monkeypatch: pytest.MonkeyPatch) -> list[object]:
    """Loading any model fails the test: these errors must all be found first."""
    loads: list[object] = []

    def refuse(*args: object, **kwargs: object) -> None:
        loads.append(args)
        raise AssertionError("a model was loaded before the input was checked")

    monkeypatch.setattr("uniner.api.load", refuse)
    monkeypatch.setattr(
        "uniner.students.generative.extractor.GenerativeExtractor.load", staticmethod(refuse)
    )
    return loads


def run(*args: str) -> Result:
    _register()
    return CliRunner().invoke(app, list(args))


def one_error(res: Result, code: int, *needles: str) -> str:
    """The single ``error:`` line on stderr (asserted), which names each of ``needles``."""
    assert res.exit_code == code, res.output
    assert res.exception is None or isinstance(res.exception, SystemExit), repr(res.exception)
    assert "Traceback" not in res.output
    assert res.stdout.strip() == "", res.stdout
    lines = [line for line in res.stderr.splitlines() if line.strip()]
    assert len(lines) == 1, res.stderr
    assert lines[0].startswith("error: "), lines[0]
    for needle in needles:
        assert needle in lines[0], (needle, lines[0])
    return lines[0]


def jsonl(path: Path, records: list[object]) -> Path:
    path.write_text("".join(json.dumps(r) + "\n" for r in records), encoding="utf-8")
    return path


def ok_records(n: int) -> list[dict[str, object]]:
    return [{"text": f"Record {i} about Paris.", "labels": ["city"]} for i in range(1, n + 1)]


# -- extract: the input file -------------------------------------------------------------------


def test_missing_input_file(tmp_path):
    one_error(run("extract", "-i", str(tmp_path / "missing.jsonl"), "-l", "person"), 1, "missing")


def test_unreadable_input_a_folder(tmp_path):
    one_error(run("extract", "-i", str(tmp_path), "-l", "person"), 1, str(tmp_path), "folder")


@pytest.mark.skipif(os.geteuid() == 0, reason="root reads a chmod 000 file")
def test_unreadable_input_no_permission(tmp_path):
    p = jsonl(tmp_path / "in.jsonl", ok_records(1))
    p.chmod(0)
    one_error(run("extract", "-i", str(p), "-l", "person"), 1, str(p))


def test_blank_label_option():
    one_error(run("extract", "some text", "-l", ""), 2, "-l/--label number 1", "blank")
    one_error(run("extract", "some text", "-l", "person", "-l", "  "), 2, "number 2", "blank")


def test_blank_label_option_with_an_input_file(tmp_path):
    p = jsonl(tmp_path / "in.jsonl", ok_records(2))
    one_error(run("extract", "-i", str(p), "-l", ""), 2, "-l/--label", "blank")


def test_blank_label_in_record_names_file_and_line(tmp_path):
    recs = ok_records(4)
    recs[2]["labels"] = ["person", " "]
    p = jsonl(tmp_path / "in.jsonl", recs)
    one_error(run("extract", "-i", str(p), "-l", "person"), 1, f"{p}, line 3", "labels[1]", "blank")


def test_labels_of_the_wrong_type_name_the_line(tmp_path):
    recs = ok_records(3)
    recs[1]["labels"] = "person"
    p = jsonl(tmp_path / "in.jsonl", recs)
    one_error(run("extract", "-i", str(p)), 1, f"{p}, line 2", "'labels'")


@pytest.mark.parametrize("n_before", [3, 2000])  # a small file, and one past the read-ahead
def test_invalid_utf8_names_its_line(tmp_path, n_before):
    lines = [json.dumps(r).encode() for r in ok_records(n_before)]
    lines.append(b'{"text": "caf\xe9 in Paris"}')  # Latin-1, not UTF-8
    lines += [json.dumps(r).encode() for r in ok_records(5)]
    p = tmp_path / "in.jsonl"
    p.write_bytes(b"\n".join(lines) + b"\n")
    assert p.stat().st_size > 8192 or n_before == 3
    line = one_error(run("extract", "-i", str(p), "-l", "city"), 1, "not valid UTF-8")
    assert f"{p}, line {n_before + 1}:" in line


def test_invalid_utf8_in_a_text_file_names_its_line(tmp_path):
    p = tmp_path / "in.txt"
    p.write_bytes(b"first text\nsecond text\n\xff\xfe third\n")
    one_error(run("extract", "-i", str(p), "-l", "city"), 1, f"{p}, line 3", "UTF-8")


def test_truncated_json_line_names_file_and_line(tmp_path):
    p = tmp_path / "in.jsonl"
    p.write_text(json.dumps(ok_records(1)[0]) + '\n{"text": "cut off', encoding="utf-8")
    one_error(run("extract", "-i", str(p), "-l", "city"), 1, f"{p}, line 2", "truncated JSON")


@pytest.mark.parametrize(
    ("field", "record", "named"),
    [
        ("text", {"text": "bad \ud800 text", "labels": ["city"]}, "'text'"),
        ("label", {"text": "fine", "labels": ["city", "x\udfffy"]}, "labels[1]"),
        ("other", {"text": "fine", "meta": {"note": "\ud800"}}, "lone surrogate"),
    ],
)
def test_lone_surrogate_in_record_5_is_refused_before_any_work(
    tmp_path, no_model_loads, field, record, named
):
    recs = [*ok_records(4), record, *ok_records(3)]
    p = tmp_path / "in.jsonl"
    # json.dumps escapes it as \ud800: the file itself is valid UTF-8, the decoded string is not
    p.write_text("".join(json.dumps(r) + "\n" for r in recs), encoding="utf-8")
    out = tmp_path / "out.jsonl"
    res = run("extract", "-i", str(p), "-o", str(out), "-l", "city")
    one_error(res, 1, f"{p}, line 5", named, "surrogate")
    assert not no_model_loads
    assert sorted(f.name for f in tmp_path.iterdir()) == ["in.jsonl"]  # no .tmp, no .partial


def test_lone_surrogate_in_the_text_argument(tmp_path):
    one_error(run("extract", "bad \udcff byte", "-l", "city"), 2, "TEXT", "surrogate")


def test_record_without_text_names_the_line(tmp_path):
    p = jsonl(tmp_path / "in.jsonl", [*ok_records(2), {"txt": "typo"}])
    one_error(run("extract", "-i", str(p), "-l", "city"), 1, f"{p}, line 3", "'text'")


# -- extract: the output and the options -------------------------------------------------------


def test_output_in_a_missing_folder(tmp_path):
    p = jsonl(tmp_path / "in.jsonl", ok_records(2))
    out = tmp_path / "nowhere" / "out.jsonl"
    one_error(run("extract", "-i", str(p), "-o", str(out), "-l", "city"), 1, "nowhere", "exist")
    assert not out.parent.exists()


def test_output_naming_an_existing_folder(tmp_path):
    p = jsonl(tmp_path / "in.jsonl", ok_records(2))
    folder = tmp_path / "results"
    folder.mkdir()
    one_error(run("extract", "-i", str(p), "-o", str(folder), "-l", "city"), 1, "folder")
    assert not any(folder.iterdir())


@pytest.mark.parametrize(
    ("option", "value"), [("--batch-size", "0"), ("--threads", "-1"), ("--threshold", "1.5")]
)
def test_bad_option_values_exit_2(tmp_path, option, value):
    p = jsonl(tmp_path / "in.jsonl", ok_records(2))
    one_error(run("extract", "-i", str(p), "-l", "city", option, value), 2, option)
    one_error(run("extract", "a text", "-l", "city", option, value), 2, option)


def _same_file_spellings(tmp_path: Path, p: Path) -> list[str]:
    link = tmp_path / "link.jsonl"
    link.symlink_to(p)
    hard = tmp_path / "hard.jsonl"
    os.link(p, hard)
    (tmp_path / "sub").mkdir()
    return [str(p), "in.jsonl", "./in.jsonl", "sub/../in.jsonl", str(link), "hard.jsonl"]


def test_output_equal_to_input_is_refused_however_spelled(tmp_path, monkeypatch):
    recs = [{**r, "meta": {"keep": True}} for r in ok_records(3)]
    p = jsonl(tmp_path / "in.jsonl", recs)
    before = p.read_bytes()
    monkeypatch.chdir(tmp_path)
    for spelling in _same_file_spellings(tmp_path, p):
        res = run("extract", "-i", "in.jsonl", "-o", spelling, "-l", "city")
        one_error(res, 2, "is the input file")
        assert p.read_bytes() == before, spelling
    # and the other way round: the input named through a link, the output plainly
    one_error(run("extract", "-i", "link.jsonl", "-o", str(p), "-l", "city"), 2, "input file")
    assert p.read_bytes() == before


def test_a_second_run_on_the_same_output_is_refused_while_the_first_writes(tmp_path):
    import fcntl

    p = jsonl(tmp_path / "in.jsonl", ok_records(3))
    partial = tmp_path / "out.jsonl.partial"
    partial.write_text('{"id": 1}\n', encoding="utf-8")
    with open(partial, "ab") as held:
        fcntl.flock(held.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)  # as a running job holds it
        res = run("extract", "-i", str(p), "-o", str(tmp_path / "out.jsonl"), "-l", "city")
        one_error(res, 1, "out.jsonl.partial", "another uniner extract")
    assert partial.read_text(encoding="utf-8") == '{"id": 1}\n'  # left as it was


def test_text_and_input_together_or_output_without_input(tmp_path):
    p = jsonl(tmp_path / "in.jsonl", ok_records(1))
    one_error(run("extract", "a text", "-i", str(p), "-l", "city"), 2, "not both")
    one_error(run("extract", "a text", "-o", str(tmp_path / "o.jsonl"), "-l", "city"), 2, "--input")


def test_unknown_model_is_one_line(tmp_path, monkeypatch):
    monkeypatch.undo()  # the real load, which must fail on the name before reading weights
    one_error(run("extract", "a text", "-l", "city", "-m", str(tmp_path / "none")), 1, "no model")


# -- the other commands ------------------------------------------------------------------------


def test_bench_bad_names_and_values_exit_2_before_loading(tmp_path):
    one_error(run("bench", "-d", "NoSuchSet"), 2, "unknown data set 'NoSuchSet'")
    one_error(run("bench", "--suite", "nosuch"), 2, "unknown suite 'nosuch'")
    one_error(run("bench", "-e", "no-such-model", "-d", "CrossNER_AI"), 2, "no-such-model")
    one_error(run("bench", "--max-queries", "0"), 2, "--max-queries")
    one_error(run("bench", "--batch-size", "0"), 2, "--batch-size")
    a_file = tmp_path / "f"
    a_file.write_text("x")
    one_error(run("bench", "-d", "CrossNER_AI", "--out", str(a_file)), 2, "--out")


def test_bench_data_set_without_files_here_is_said_before_the_model_loads():
    res = run("bench", "-d", "ACE04", "-e", "uniner-span-mpnet", "--threshold", "0.5")
    one_error(res, 1, "ACE04")  # ACE04 ships no files: licensed data


def test_bench_predictions_file_missing(tmp_path):
    one_error(run("bench", "--predictions", str(tmp_path / "p.json")), 1, "p.json")


def test_data_stats_missing_and_bad_files(tmp_path):
    one_error(run("data", "stats", str(tmp_path / "none.txt")), 1, "none.txt")
    bad = tmp_path / "bad.txt"
    bad.write_text("EU\tB-ORG\nrejects\tX-PER\n", encoding="utf-8")
    one_error(run("data", "stats", str(bad)), 1, "bad.txt", "line 2")
    (tmp_path / "empty").mkdir()
    one_error(run("data", "stats", str(tmp_path / "empty")), 1, "no data files")


def test_data_stats_invalid_utf8_inside_a_json_list_names_its_line(tmp_path):
    rec = {"tokenized_text": ["Alice", "lives", "in", "Paris"], "ner": [[0, 0, "person"]]}
    lines = json.dumps([rec] * 400, indent=1).encode().split(b"\n")
    at = [i for i, line in enumerate(lines) if b'"Paris"' in line][150]  # past the read-ahead
    lines[at] = lines[at].replace(b'"Paris"', b'"Par\xe9s"')
    p = tmp_path / "list.json"
    p.write_bytes(b"\n".join(lines))
    one_error(run("data", "stats", str(p)), 1, f"list.json, line {at + 1}:", "UTF-8")


def test_train_config_errors(tmp_path):
    bad = tmp_path / "bad.toml"
    bad.write_text("[train\nx = 1\n", encoding="utf-8")
    one_error(run("train", "-c", str(bad)), 1, "bad.toml")
    unknown = tmp_path / "unknown.toml"
    unknown.write_text("[train]\nno_such_key = 1\n", encoding="utf-8")
    one_error(run("train", "-c", str(unknown)), 1, "unknown.toml", "no_such_key")
    one_error(run("train", "-c", str(tmp_path / "none.toml")), 2, "none.toml")


def test_instruct_build_errors(tmp_path):
    out = tmp_path / "out.json"
    one_error(run("instruct", "build", str(tmp_path / "none.jsonl"), "-o", str(out)), 1, "none")
    src = tmp_path / "in.txt"
    src.write_text("EU\tB-ORG\n", encoding="utf-8")
    lm = tmp_path / "lm.json"
    lm.write_text('{"ORG": ', encoding="utf-8")
    res = run("instruct", "build", str(src), "-o", str(out), "--label-map", str(lm))
    one_error(res, 1, "lm.json, line 1")
    res = run("instruct", "build", str(src), "-o", str(tmp_path / "no" / "o.json"))
    one_error(res, 1, "does not exist")


def test_distill_errors(tmp_path):
    out = str(tmp_path / "run")
    one_error(run("distill", str(tmp_path / "none.txt"), "-o", out), 1, "none.txt")
    one_error(run("distill", str(tmp_path), "-o", out, "--concurrency", "0"), 2, "--concurrency")


def test_backbone_fetch_unknown_name():
    one_error(run("backbone", "fetch", "no-such-backbone"), 2, "no-such-backbone")


# -- the real entry point ----------------------------------------------------------------------


def test_the_uniner_process_prints_one_line_and_no_traceback(tmp_path):
    """Through ``main()`` in a fresh process, as a user runs it (CliRunner bypasses it)."""
    recs = [*ok_records(4), {"text": "x", "labels": ["\ud800"]}]
    p = jsonl(tmp_path / "in.jsonl", recs)
    cases = [
        (["extract", "-i", str(p), "-l", "city"], 1, f"{p}, line 5"),
        (["extract", "-i", str(tmp_path / "none.jsonl"), "-l", "city"], 1, "none.jsonl"),
        (["extract", "text", "-l", "city", "--batch-size", "0"], 2, "--batch-size"),
    ]
    code = "import sys; from uniner.cli import main; sys.argv[0] = 'uniner'; main()"
    for args, want, needle in cases:
        proc = subprocess.run(
            [sys.executable, "-c", code, *args], capture_output=True, text=True, timeout=120
        )
        assert proc.returncode == want, proc.stderr
        assert "Traceback" not in proc.stderr + proc.stdout
        lines = [line for line in proc.stderr.splitlines() if line.strip()]
        assert len(lines) == 1 and needle in lines[0], proc.stderr


@pytest.mark.parametrize(
    "args, needle",
    [
        (["--bogus"], "--bogus"),  # the group's own options are parsed before any sub-command
        (["--bogus", "extract", "x", "-l", "city"], "--bogus"),
        (["--version=3"], "--version"),
        (["no-such-command"], "no-such-command"),
    ],
)
def test_usage_errors_before_any_command_are_one_line(args, needle):
    """``uniner --bogus`` was typer's boxed usage text; it is one line and exit 2 like the rest."""
    line = one_error(run(*args), 2, needle)
    assert "'uniner --help'" in line
    assert "╭" not in line


def test_uniner_alone_still_shows_the_help():
    """No arguments is a request for help (typer's ``no_args_is_help``), not an error line."""
    res = run()
    assert "Usage" in res.output and "error:" not in res.output
