"""The ablation registry and ``uniner ablate`` (issue 25).

Every registered ablation's arms build valid configs that differ from the effective base in
exactly the keys they state; the blocked one is refused with its missing key. One ablation runs
end to end on a tiny random-init backbone (3 steps, 2 passages per set), writes its table and
predictions, rescoring the predictions gives the table's figures, and a rerun skips what is done.
"""

from __future__ import annotations

import dataclasses
import json
import math
from pathlib import Path

import pytest
from typer.testing import CliRunner

from uniner.benchmark import ablation_run
from uniner.benchmark.ablation_run import AblateOptions, run_ablation
from uniner.benchmark.ablations import (
    PREP_DEFAULTS,
    AblationError,
    arm_raw,
    base_raw,
    build_config,
    changed_keys,
    flatten,
    prep_of,
    read_ablation,
    registry,
)
from uniner.cli import _register, app
from uniner.data.relabel import definition_labels, relabel, tag_dataset
from uniner.data.types import Entity, Example
from uniner.paths import REPO_ROOT

_register()
REGISTRY = registry()


def _stated_changes(ab, arm) -> set[str]:  # type: ignore[no-untyped-def]
    """The arm's stated keys whose value differs from the effective base's."""
    base = flatten(build_config(ab, base_raw(ab)))
    mine = flatten(build_config(ab, arm_raw(ab, arm)))
    out = {k for k in arm.stated_keys() if k.startswith(("model.", "data.", "train."))}
    out = {k for k in out if base.get(k) != mine.get(k)}
    return out | {f"prep.{k}" for k, v in arm.prep.items() if v != PREP_DEFAULTS[k]}


def test_registry_has_the_issue_ablations() -> None:
    assert {
        "negatives",
        "definitions",
        "dataset-tag",
        "pile-vs-supervised",
        "shape-embedding",
        "few-labels",
        "hard-negatives",
        "casing-informal",
        "data-sources",
        "backbone",
        "gen-negatives",
        "gen-dataset-tag",
        "gen-all-in-one",
        "gen-negatives-cpu",
        "gen-dataset-tag-cpu",
        "gen-all-in-one-cpu",
        "type-choice",
    } <= set(REGISTRY)


def test_the_cpu_all_in_one_baseline_is_the_cpu_negatives_run(tmp_path: Path) -> None:
    """gen-all-in-one-cpu's type-wise arm trains and scores exactly gen-negatives-cpu's
    frequency arm, so a session that ran one reuses it for the other."""
    from uniner.benchmark.ablation_run import PlannedRun, _defining, fingerprint, run_raw

    def defining(name: str, arm: str) -> dict:
        ab = REGISTRY[name]
        run = PlannedRun(ab.arm(arm), ab.seeds[0], tmp_path / name / arm)
        return _defining(fingerprint(ab, run, run_raw(ab, run, ab.budget, REPO_ROOT)))

    assert defining("gen-all-in-one-cpu", "type-wise") == defining("gen-negatives-cpu", "frequency")
    assert defining("gen-all-in-one-cpu", "all-in-one") != defining(
        "gen-negatives-cpu", "frequency"
    )


@pytest.mark.parametrize("name", sorted(n for n, a in REGISTRY.items() if not a.blocked))
def test_arms_differ_from_the_base_in_exactly_their_stated_keys(name: str) -> None:
    ab = REGISTRY[name]
    configs = []
    for arm in ab.arms:
        changed = changed_keys(ab, arm)
        assert changed <= set(ab.varies), (arm.name, changed)
        assert changed == _stated_changes(ab, arm), arm.name
        configs.append((json.dumps(flatten(build_config(ab, arm_raw(ab, arm))), default=str),
                        json.dumps(prep_of(arm))))  # fmt: skip
    assert len(set(configs)) == len(configs), "two arms build the same run"
    assert any(changed_keys(ab, a) for a in ab.arms), "no arm changes anything"


def test_negatives_is_blocked_exactly_while_the_span_trainer_lacks_the_key() -> None:
    from uniner.students.span.config import DataConfig

    has_key = "negatives" in {f.name for f in dataclasses.fields(DataConfig)}
    assert REGISTRY["negatives"].missing_keys() == ([] if has_key else ["data.negatives"])


def test_a_blocked_ablation_is_refused_in_one_line(tmp_path: Path) -> None:
    spec = _write(tmp_path / "blocked.toml", f"""
title = "t"
base = "{REPO_ROOT / 'configs' / 'uniner-span-minilm.toml'}"
varies = ["data.no_such_key"]
baseline = "a"
note = "waits for the trainer"
[budget]
steps = 2
[[arm]]
name = "a"
[[arm]]
name = "b"
set = {{ "data.no_such_key" = 1 }}
""")  # fmt: skip
    ab = read_ablation(spec)
    assert ab.missing_keys() == ["data.no_such_key"]
    with pytest.raises(AblationError, match=r"no data\.no_such_key option yet"):
        ablation_run.check_runnable(ab, AblateOptions())
    res = CliRunner().invoke(app, ["ablate", str(spec), "--out", str(tmp_path / "o")])
    assert res.exit_code == 1
    assert "data.no_such_key" in res.output and "Traceback" not in res.output
    assert len(res.output.strip().splitlines()) == 1
    assert not (tmp_path / "o").exists()  # refused before anything is written


def test_paper_figures_are_the_reference_ones() -> None:
    from uniner.benchmark.paper import NEGATIVE_SAMPLING_ABLATION, VARIANT_DELTAS_43, zero_shot_row

    neg = REGISTRY["negatives"]
    assert {a.name: a.paper for a in neg.arms} == dict(NEGATIVE_SAMPLING_ABLATION)
    assert (
        REGISTRY["definitions"].arm("definitions").paper_delta
        == (VARIANT_DELTAS_43["definition-based"])
    )
    for name in ("gen-all-in-one", "gen-all-in-one-cpu"):
        assert REGISTRY[name].arm("all-in-one").paper_delta == VARIANT_DELTAS_43["all-in-one"]
    pvs = REGISTRY["pile-vs-supervised"]
    assert pvs.arm("pile-only").paper == zero_shot_row("UniNER-7B")["Avg"]
    assert pvs.arm("pile+supervised").paper == zero_shot_row("UniNER-7B Pile + supervised")["Avg"]


def test_gpu_ablations_are_refused_without_a_gpu(monkeypatch: pytest.MonkeyPatch) -> None:
    import torch

    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    with pytest.raises(AblationError, match="needs a GPU"):
        ablation_run.check_runnable(REGISTRY["gen-negatives"], AblateOptions())


def test_list_and_unknown_name() -> None:
    res = CliRunner().invoke(app, ["ablate", "--list"])
    assert res.exit_code == 0
    assert "negatives" in res.output and "needs GPU" in res.output
    assert "300 steps or 2400 s x 2 seed(s); ok" in res.output  # both limits of a CPU budget
    res = CliRunner().invoke(app, ["ablate", "no-such-ablation"])
    assert res.exit_code == 2 and "no ablation 'no-such-ablation'" in res.output


def _write(path: Path, text: str) -> Path:
    path.write_text(text, encoding="utf-8")
    return path


def test_a_malformed_registry_file_names_file_and_field(tmp_path: Path) -> None:
    head = 'title = "t"\nbase = "b.toml"\nvaries = ["data.few_labels"]\nbaseline = "a"\n'
    head += "[budget]\nsteps = 2\n"
    bad = _write(
        tmp_path / "x.toml", head + '[[arm]]\nname = "a"\n[[arm]]\nname = "b"\ncolour = 1\n'
    )
    with pytest.raises(AblationError, match=r"x\.toml: arm\[1\] \(b\): unknown field\(s\) colour"):
        read_ablation(bad)
    stray = head + '[[arm]]\nname = "a"\n[[arm]]\nname = "b"\nset = { "data.informal" = 0.1 }\n'
    with pytest.raises(AblationError, match=r"arm b changes data\.informal, not in varies"):
        read_ablation(_write(tmp_path / "y.toml", stray))
    res = CliRunner().invoke(app, ["ablate", str(bad)])
    assert res.exit_code == 1 and "x.toml: arm[1] (b): unknown field(s) colour" in res.output
    assert len(res.output.strip().splitlines()) == 1


# -- the data-side options ---------------------------------------------------------------------


def test_tag_dataset_shifts_offsets_and_relabel_renames() -> None:
    ents = (Entity(0, 3, "Bob", "person"), Entity(13, 17, "Oslo", "city"))
    ex = Example("Bob lives in Oslo.", ents, labels=("person", "city"))
    (tagged,) = tag_dataset([ex], "conllpp")
    assert tagged.text == "Dataset: conllpp\nBob lives in Oslo."
    assert [tagged.text[e.start : e.end] for e in tagged.entities] == ["Bob", "Oslo"]
    (renamed,) = relabel([ex], {"person": "a human being"})
    assert [e.label for e in renamed.entities] == ["a human being", "city"]
    assert renamed.labels == ("a human being", "city")


def test_definition_labels_read_slimer(tmp_path: Path) -> None:
    answer = json.dumps({"Definition": "'city' denotes  a town.", "Guidelines": "g"})
    rec = {"named_entity": "city", "gpt_answer": answer, "sentences_as_example": []}
    path = _write(tmp_path / "d.json", json.dumps({"city": rec}))
    assert definition_labels(path) == {"city": "'city' denotes a town."}


def test_definition_labels_of_the_shared_file(shared_data: Path) -> None:
    from uniner.data.relabel import SLIMER_DEFINITIONS

    defs = definition_labels(shared_data / SLIMER_DEFINITIONS)
    assert len(defs) == 391 and defs["person"].startswith("'person' signifies")


# -- end to end on a tiny backbone ---------------------------------------------------------------


def _tiny_ablation(tmp: Path, backbone: Path) -> Path:
    from tests.doubles.span import toy_examples

    data = tmp / "train.jsonl"
    data.write_text("".join(json.dumps(e.to_dict()) + "\n" for e in toy_examples(24)))
    base = _write(tmp / "base.toml", f"""
[model]
backbone = "{backbone}"
hidden_dim = 16
max_width = 4
[data]
train = [{{ path = "{data}", format = "offsets" }}]
min_labels = 2
max_labels = 3
[train]
batch_size = 4
warmup_steps = 1
max_steps = 1000
threads = 1
checkpoint_every = 0
log_every = 1
save_storage = "full"
""")  # fmt: skip
    return _write(tmp / "tiny-few.toml", f"""
title = "tiny"
base = "{base}"
varies = ["data.few_labels"]
baseline = "none"
seeds = [5]
[budget]
steps = 3
[eval]
threshold = 0.01
zero_shot_passages = 2
dev_passages = 2
dev_sets = ["conllpp"]
[[arm]]
name = "none"
[[arm]]
name = "half"
set = {{ "data.few_labels" = 0.5 }}
""")  # fmt: skip


@pytest.fixture(scope="module")
def finished(tmp_path_factory: pytest.TempPathFactory, backbone: Path, shared_data: Path,
             one_torch_thread: None) -> tuple[Path, Path]:  # fmt: skip
    tmp = tmp_path_factory.mktemp("ablate")
    spec = _tiny_ablation(tmp, backbone)
    out = tmp / "runs"
    res = CliRunner().invoke(
        app, ["ablate", str(spec), "--out", str(out), "--save-predictions", "--no-progress"]
    )
    assert res.exit_code == 0, res.output
    assert "Ablation `tiny-few`" in res.output
    return spec, out / "tiny-few"


def test_end_to_end_writes_table_results_and_predictions(finished: tuple[Path, Path]) -> None:
    _, folder = finished
    table = json.loads((folder / "table.json").read_text())
    assert [a["arm"] for a in table["arms"]] == ["none", "half"]
    assert table["budget"] == {"seconds": None, "steps": 3}
    for arm in ("none", "half"):
        run = folder / arm / "seed-5"
        result = json.loads((run / "result.json").read_text())
        assert result["train"]["steps"] == 3
        assert len(result["zero_shot"]["sets"]) == 7
        assert len(list((run / "zero-shot" / "predictions").glob("*.test.jsonl"))) == 7
        assert len(list((run / "dev" / "predictions").glob("conllpp.*.jsonl"))) == 9
        suite = json.loads((run / "dev" / "results.json").read_text())["meta"]["suite"]
        assert suite["version"] == 1 and suite["max_passages"] == 2  # the plan's budget, no top-up
        fp = json.loads((run / "arm.json").read_text())
        assert fp["config"]["data"].get("few_labels", 0.0) == (0.5 if arm == "half" else 0.0)
    half = table["arms"][1]
    assert half["effect"]["zero_shot"]["noise"] is None  # one seed: spread unknown
    shapes = json.loads((folder / "half" / "seed-5" / "result.json").read_text())["dev"]
    assert half["dev_cells"]["types 1"] == shapes["by_shape"]["1"]
    assert half["dev_cells"]["informal"] == shapes["by_variant"]["informal"]
    assert (
        "| arm (dev suite) | types 1 | types 3 | types all |" in (folder / "table.md").read_text()
    )
    assert "spread unknown (1 seed)" in (folder / "table.md").read_text()


def test_rescoring_saved_predictions_gives_the_table(finished: tuple[Path, Path]) -> None:
    from uniner.benchmark.dump import rescore

    _, folder = finished
    run = folder / "half" / "seed-5"
    result = json.loads((run / "result.json").read_text())
    table = json.loads((folder / "table.json").read_text())
    sets = result["zero_shot"]["sets"]
    name = max(sets, key=sets.get)
    pred = run / "zero-shot" / "predictions" / f"{name}.test.jsonl"
    res = CliRunner().invoke(app, ["bench", "--predictions", str(pred)])
    assert res.exit_code == 0, res.output
    f1 = 100 * json.loads(res.output)["official"]["f1"]
    assert f1 > 0  # a low threshold: the random model finds some gold, so the check can fail
    assert math.isclose(f1, sets[name], abs_tol=1e-9)
    assert math.isclose(f1, table["arms"][1]["zero_shot_sets"][name], abs_tol=1e-9)
    cells = sorted((run / "dev" / "predictions").glob("*.jsonl"))
    dev = sum(100 * rescore(p).official.f1 for p in cells) / len(cells)
    assert dev > 0
    assert math.isclose(dev, table["arms"][1]["dev"]["mean"], abs_tol=1e-9)


def test_rerun_skips_finished_runs_and_refuses_another_config(
    finished: tuple[Path, Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    spec, folder = finished
    ab = read_ablation(spec)
    opts = AblateOptions(out=folder.parent, progress=False, save_predictions=True)
    before = (folder / "table.json").read_text()

    def boom(*a, **k):  # type: ignore[no-untyped-def]
        raise AssertionError("a finished run was redone")

    monkeypatch.setattr(ablation_run, "train_run", boom)
    monkeypatch.setattr(ablation_run, "evaluate_model", boom)
    run_ablation(ab, opts)
    assert (folder / "table.json").read_text() == before
    with pytest.raises(AblationError, match=r"differs in train\.max_steps"):
        run_ablation(ab, AblateOptions(out=folder.parent, progress=False, budget_steps=4))


def test_an_unscored_run_is_scored_without_training_again(
    finished: tuple[Path, Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    spec, folder = finished
    done = folder / "none" / "seed-5" / "result.json"
    kept = done.read_text()
    done.unlink()
    import uniner.students.span.train as span_train

    def no_training(*a, **k):  # type: ignore[no-untyped-def]
        raise AssertionError("a trained model was trained again")

    monkeypatch.setattr(span_train, "train", no_training)
    run_ablation(read_ablation(spec), AblateOptions(out=folder.parent, progress=False,
                                                    save_predictions=True))  # fmt: skip
    again = json.loads(done.read_text())
    assert again["zero_shot"] == json.loads(kept)["zero_shot"]


def test_a_run_identical_to_another_ablations_is_reused_not_trained(
    finished: tuple[Path, Path], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import shutil

    spec, folder = finished
    out = tmp_path / "runs"
    shutil.copytree(folder, out / "tiny-few")
    other = _write(tmp_path / "tiny-other.toml", spec.read_text().replace(
        'varies = ["data.few_labels"]', 'varies = ["data.informal"]'
    ).replace('"data.few_labels" = 0.5', '"data.informal" = 0.5'))  # fmt: skip
    trained: list[str] = []
    real = ablation_run.train_run

    def spy(ab, cfg, prep, progress):  # type: ignore[no-untyped-def]
        trained.append(Path(cfg.train.output_dir).parent.parent.name)
        return real(ab, cfg, prep, progress)

    monkeypatch.setattr(ablation_run, "train_run", spy)
    opts = AblateOptions(out=out, progress=False, save_predictions=True)
    table, _ = run_ablation(read_ablation(other), opts)
    assert trained == ["half"]  # the informal arm; "none" is tiny-few's baseline run
    source = json.loads((folder / "none" / "seed-5" / "result.json").read_text())
    reused = json.loads((out / "tiny-other" / "none" / "seed-5" / "result.json").read_text())
    assert reused["reused_from"] == str(Path("tiny-few") / "none" / "seed-5")
    assert (reused["ablation"], reused["zero_shot"]) == ("tiny-other", source["zero_shot"])
    preds = out / "tiny-other" / "none" / "seed-5" / "zero-shot" / "predictions"
    assert len(list(preds.glob("*.test.jsonl"))) == 7
    assert table["arms"][0]["reused_from"] == [reused["reused_from"]]
    assert (
        "reused: `none` = `tiny-few/none/seed-5`" in (out / "tiny-other" / "table.md").read_text()
    )
    shutil.rmtree(out / "tiny-other")
    trained.clear()
    run_ablation(read_ablation(other), dataclasses.replace(opts, reuse=False))
    assert trained == ["none", "half"]


def test_table_marks_direction_and_seed_spread() -> None:
    from uniner.benchmark.ablation_report import build_table, markdown
    from uniner.benchmark.ablations import Budget

    ab = REGISTRY["negatives"]  # baseline "frequency" (53.4); none 31.5, uniform 47.7

    def run(arm: str, seed: int, zs: float, dev: float) -> dict:
        sets = {"CrossNER_AI": zs}
        return {"arm": arm, "seed": seed, "zero_shot": {"avg": zs, "sets": sets},
                "dev": {"summary": dev}, "train": {"steps": 10}}  # fmt: skip

    results = [
        run("frequency", 1, 40.0, 50.0), run("frequency", 2, 42.0, 52.0),
        run("none", 1, 30.0, 51.0), run("none", 2, 31.0, 53.0),  # far below: agrees, beyond
        run("uniform", 1, 42.0, 50.0), run("uniform", 2, 42.5, 50.5),  # +1.25 < range 2
    ]  # fmt: skip
    table = build_table(ab, results, Budget(steps=10), (1, 2))
    rows = {a["arm"]: a for a in table["arms"]}
    assert rows["frequency"]["paper_delta"] is None and "effect" not in rows["frequency"]
    none = rows["none"]["effect"]["zero_shot"]
    assert none["delta"] == pytest.approx(-10.5) and none["paper_delta"] == pytest.approx(-21.9)
    assert none["agrees"] is True and none["beyond_noise"] is True
    uni = rows["uniform"]["effect"]["zero_shot"]
    assert uni["agrees"] is False and uni["beyond_noise"] is False and uni["noise"] == 2.0
    assert rows["none"]["effect"]["dev"]["beyond_noise"] is False  # +1.0 against a range of 2
    md = markdown(table)
    none_line = next(x for x in md.splitlines() if x.startswith("| none |"))
    uniform_line = next(x for x in md.splitlines() if x.startswith("| uniform |"))
    assert "agrees | beyond seed spread" in none_line and "30.5 ± 0.5" in none_line
    assert "disagrees | within seed spread" in uniform_line


class _SaysNothing:
    """A stand-in extractor for a trained generative arm (its scoring path is the span one's)."""

    name = "says-nothing"

    def extract_batch(self, texts, labels, **kw):  # type: ignore[no-untyped-def]
        return [[] for _ in texts]


def test_a_generative_ablation_trains_each_arm_on_the_cpu_when_allowed(
    tmp_path: Path, shared_data: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from tests.doubles.generative import make_tiny_causal_lm
    from tests.doubles.span import toy_examples

    lm = make_tiny_causal_lm(tmp_path / "lm")
    data = tmp_path / "train.jsonl"
    data.write_text("".join(json.dumps(e.to_dict()) + "\n" for e in toy_examples(8)))
    base = _write(tmp_path / "gen.toml", f"""
kind = "generative"
[model]
base = "{lm}"
lora = false
[data]
train = [{{ path = "{data}", format = "offsets" }}]
max_length = 128
[train]
batch_size = 2
lr = 1e-3
warmup = 0
save_steps = 1
logging_steps = 1
threads = 1
""")  # fmt: skip
    spec = _write(tmp_path / "gen-neg.toml", f"""
title = "tiny generative"
student = "generative"
needs_gpu = true
base = "{base}"
varies = ["data.negatives"]
baseline = "two"
seeds = [7]
[budget]
steps = 2
[eval]
zero_shot_passages = 1
dev_passages = 1
dev_sets = ["conllpp"]
[[arm]]
name = "none"
set = {{ "data.negatives" = 0 }}
[[arm]]
name = "two"
set = {{ "data.negatives" = 2 }}
""")  # fmt: skip
    trained = []

    def fake_load(ab, model_dir):  # type: ignore[no-untyped-def]
        assert (model_dir / "config.json").is_file()
        trained.append(model_dir)
        return _SaysNothing()

    monkeypatch.setattr(ablation_run, "load_trained", fake_load)
    opts = AblateOptions(out=tmp_path / "runs", progress=False, allow_cpu=True)
    table, _ = run_ablation(read_ablation(spec), opts)
    assert len(trained) == 2 and len(set(trained)) == 2
    assert [a["arm"] for a in table["arms"]] == ["none", "two"]
    run = json.loads((tmp_path / "runs" / "gen-neg" / "none" / "seed-7" / "arm.json").read_text())
    assert run["config"]["data"]["negatives"] == 0 and run["config"]["train"]["max_steps"] == 2
    assert [a["steps"] for a in table["arms"]] == [[2], [2]]  # read from each model's record


def test_a_run_folder_is_recognised_from_another_checkout(tmp_path: Path) -> None:
    """``arm.json`` keeps data and hierarchy paths relative to the repository root, so a second
    seed added from a fresh clone elsewhere reuses the folders; an older ``arm.json`` with the
    absolute paths of another checkout is still recognised, and another file still refused."""
    import shutil

    ab = REGISTRY["type-choice"]
    opts = AblateOptions(out=tmp_path / "out", seeds=(3,))
    run = ablation_run.plan(ab, opts)[0]
    budget = ablation_run.budget_of(ab, opts)
    here = ablation_run.run_raw(ab, run, budget, REPO_ROOT)
    fp = ablation_run.fingerprint(ab, run, here, REPO_ROOT)
    assert fp["config"]["data"]["hierarchy"] == "bench/figures/hierarchy.json"
    clone = tmp_path / "elsewhere" / "uniner"
    shutil.copytree(REPO_ROOT / "configs", clone / "configs")
    there = ablation_run.run_raw(ab, run, budget, clone)
    assert there["data"]["hierarchy"].startswith(str(clone))
    ablation_run._check_folder(run.folder, fp)
    ablation_run._check_folder(run.folder, ablation_run.fingerprint(ab, run, there, clone))
    legacy = {**fp, "config": here}  # absolute paths, as written before
    (run.folder / "arm.json").write_text(json.dumps(legacy), encoding="utf-8")
    ablation_run._check_folder(run.folder, ablation_run.fingerprint(ab, run, there, clone))
    there["data"]["hierarchy"] = str(clone / "bench" / "figures" / "other.json")
    with pytest.raises(AblationError, match=r"differs in data\.hierarchy"):
        ablation_run._check_folder(run.folder, ablation_run.fingerprint(ab, run, there, clone))
