"""Running an ablation: train every (arm, seed), score it on the dev suite and the 7 zero-shot
sets, keep its predictions, and write the table (``uniner ablate NAME``).

Layout under ``out/NAME/``: ``ARM/seed-S/`` holds ``arm.json`` (the run's resolved config, data
options, budget and evaluation: what makes it this run), ``train/`` (the trainer's folder, with
checkpoints, so an interrupted run resumes), ``dev/`` and ``zero-shot/`` (the usual reports,
and ``predictions/`` with ``--save-predictions``) and ``result.json`` once scored. A run with a
``result.json`` is skipped on a rerun; a folder holding a run of another configuration is an
error rather than silently reused. A run whose configuration, seed, budget and evaluation are
those of a finished run of another ablation under the same ``out`` (every ablation's baseline
arm is the same v0.3.0 recipe) is not trained again: its scores and predictions are copied and
its ``result.json`` names the run it came from (``--no-reuse`` trains it anyway).
``table.md`` and ``table.json`` beside the arms are rewritten from every finished run each time.

Every arm is scored the same way: the model's threshold fixed to ``eval.threshold`` (span
students), the dev suite on a seeded sample (:func:`uniner.benchmark.devsuite.run_dev_suite`)
and a seeded sample of passages of each zero-shot set (:func:`uniner.benchmark.bench.run_bench`).
"""

from __future__ import annotations

import dataclasses
import json
import logging
import os
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from tqdm.auto import tqdm  # type: ignore[import-untyped]

from uniner.benchmark.ablations import (
    Ablation,
    AblationError,
    Arm,
    Budget,
    arm_raw,
    build_config,
    prep_of,
)
from uniner.data.types import Entity, Example
from uniner.paths import REPO_ROOT

if TYPE_CHECKING:
    from uniner.benchmark.devsuite import DevSuiteResult

log = logging.getLogger(__name__)

RESULT = "result.json"
FINGERPRINT = "arm.json"

#: A recorded extractor's answers by (text, asked types).
Calls = dict[tuple[str, tuple[str, ...]], list[Entity]]


@dataclass(frozen=True)
class AblateOptions:
    """What one ``uniner ablate`` call changes (everything else is the registry file's)."""

    out: Path = Path("runs/ablations")
    seeds: tuple[int, ...] | None = None
    budget_seconds: float | None = None
    budget_steps: int | None = None
    save_predictions: bool = False
    progress: bool = True
    allow_cpu: bool = False  # run an ablation marked needs_gpu without a GPU
    reuse: bool = True  # copy an identical finished run of another ablation instead of training
    root: Path = REPO_ROOT


@dataclass(frozen=True)
class PlannedRun:
    arm: Arm
    seed: int
    folder: Path


def budget_of(ab: Ablation, opts: AblateOptions) -> Budget:
    """The registry's budget with the command line's replacements."""
    seconds = opts.budget_seconds if opts.budget_seconds is not None else ab.budget.seconds
    steps = opts.budget_steps if opts.budget_steps is not None else ab.budget.steps
    return Budget(seconds=seconds, steps=steps)


def seeds_of(ab: Ablation, opts: AblateOptions) -> tuple[int, ...]:
    """``--seeds``, else the registry's, else the base config's own seed."""
    if opts.seeds:
        return opts.seeds
    if ab.seeds:
        return ab.seeds
    raw = arm_raw(ab, ab.arm(ab.baseline), opts.root)
    return (int(raw.get("train", {}).get("seed", 0)),)


def plan(ab: Ablation, opts: AblateOptions) -> list[PlannedRun]:
    """Every (arm, seed) run: every arm of the first seed, then of the next, so an ablation
    stopped part way has comparable runs of all its arms."""
    root = opts.out / ab.name
    return [
        PlannedRun(arm, seed, root / arm.name / f"seed-{seed}")
        for seed in seeds_of(ab, opts)
        for arm in ab.arms
    ]


def run_raw(ab: Ablation, run: PlannedRun, budget: Budget, root: Path) -> dict[str, Any]:
    """The run's config: the arm's, with its folder, seed and budget, and no in-run dev eval."""
    raw = arm_raw(ab, run.arm, root)
    train = raw.setdefault("train", {})
    train["output_dir"] = str(run.folder / "train")
    train["seed"] = run.seed
    for key, value in (("max_seconds", budget.seconds), ("max_steps", budget.steps)):
        if value is None:
            train.pop(key, None)
        else:
            train[key] = value
    if ab.student == "span":
        train["eval_every"] = 0
    return raw


def fingerprint(
    ab: Ablation, run: PlannedRun, raw: dict[str, Any], root: Path = REPO_ROOT
) -> dict[str, Any]:
    """What makes a run folder this run (compared on reruns), with the config's data and
    hierarchy paths relative to the repository root: the same run from another checkout (a
    second seed added from a fresh clone) is recognised, not refused."""
    return {
        "ablation": ab.name,
        "arm": run.arm.name,
        "seed": run.seed,
        "student": ab.student,
        "config": _portable(raw, root),
        "prep": prep_of(run.arm),
        "eval": dataclasses.asdict(ab.eval),
    }


def _portable(raw: dict[str, Any], root: Path) -> dict[str, Any]:
    """A copy of ``raw`` whose absolute data and hierarchy paths are relative to ``root``."""
    out: dict[str, Any] = json.loads(json.dumps(raw))
    data = out.get("data", {})
    for src in data.get("train", []):
        if isinstance(src, dict) and isinstance(src.get("path"), str):
            src["path"] = _relative(src["path"], root)
    if isinstance(data.get("hierarchy"), str) and data["hierarchy"] != "mine":
        data["hierarchy"] = _relative(data["hierarchy"], root)
    return out


def _relative(path: str, root: Path) -> str:
    return os.path.relpath(path, root.resolve()) if Path(path).is_absolute() else path


def _same(old: Any, new: Any) -> bool:
    """Equal values, where an absolute path in an older ``arm.json`` (written before paths were
    stored relative to the root) matches the relative one that ends it."""
    if isinstance(old, dict) and isinstance(new, dict):
        return old.keys() == new.keys() and all(_same(old[k], new[k]) for k in old)
    if isinstance(old, list) and isinstance(new, list):
        return len(old) == len(new) and all(map(_same, old, new))
    if isinstance(old, str) and isinstance(new, str) and old != new and Path(old).is_absolute():
        tail = [part for part in Path(new).parts if part not in ("..", ".")]
        return bool(tail) and list(Path(old).parts[-len(tail) :]) == tail
    return bool(old == new)


def _dotted(fp: dict[str, Any]) -> dict[str, Any]:
    out = {f"{s}.{k}": v for s, d in fp.get("config", {}).items() if isinstance(d, dict)
           for k, v in d.items()}  # fmt: skip
    return {**out, **{k: v for k, v in fp.items() if k != "config"}}


def _check_folder(folder: Path, fp: dict[str, Any]) -> None:
    path = folder / FINGERPRINT
    if path.is_file():
        old = _dotted(json.loads(path.read_text(encoding="utf-8")))
        new = _dotted(json.loads(json.dumps(fp)))
        differ = sorted(k for k in old.keys() | new.keys() if not _same(old.get(k), new.get(k)))
        if differ:
            raise AblationError(
                f"{folder} holds a run of another configuration (differs in "
                f"{', '.join(differ)}); use another --out or remove that folder"
            )
        return
    folder.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(fp, indent=1, ensure_ascii=False) + "\n", encoding="utf-8")


#: Fingerprint keys that name a run rather than define it: two runs equal in everything else
#: are the same experiment, whichever ablation and arm asked for them.
_NAMING_KEYS = ("ablation", "arm", "train.output_dir")


def _defining(fp: dict[str, Any]) -> dict[str, Any]:
    flat = _dotted(json.loads(json.dumps(fp)))
    return {k: v for k, v in flat.items() if k not in _NAMING_KEYS}


def find_identical_run(out: Path, folder: Path, fp: dict[str, Any]) -> Path | None:
    """A finished run folder under ``out`` (any ablation, any arm) that trained and scored
    exactly what ``fp`` asks for, or None: the first in sorted order, so reruns pick the same."""
    want = _defining(fp)
    own = folder.resolve()
    for path in sorted(out.glob(f"*/*/seed-*/{FINGERPRINT}")):
        other = path.parent
        if other.resolve() == own or not (other / RESULT).is_file():
            continue
        try:
            have = _defining(json.loads(path.read_text(encoding="utf-8")))
        except (OSError, json.JSONDecodeError):
            continue
        if have.keys() == want.keys() and all(_same(have[k], want[k]) for k in want):
            return other
    return None


def _write_result(folder: Path, result: dict[str, Any]) -> None:
    """``folder/result.json``, written whole or not at all (its presence marks a finished run)."""
    tmp = folder / (RESULT + ".tmp")
    tmp.write_text(json.dumps(result, indent=1) + "\n", encoding="utf-8")
    tmp.replace(folder / RESULT)


def reuse_run(twin: Path, ab: Ablation, run: PlannedRun, out: Path) -> dict[str, Any]:
    """Copy ``twin``'s scores and predictions into ``run.folder`` and write its result, named
    for this ablation and arm and pointing at where it came from (the trained model stays
    there)."""
    import shutil

    for part in ("dev", "zero-shot"):
        if (twin / part).is_dir():
            shutil.copytree(twin / part, run.folder / part, dirs_exist_ok=True)
    result: dict[str, Any] = json.loads((twin / RESULT).read_text(encoding="utf-8"))
    source = result.get("reused_from") or os.path.relpath(twin, out)
    result.update(ablation=ab.name, arm=run.arm.name, reused_from=source)
    _write_result(run.folder, result)
    log.info("%s/%s seed %d: the same run as %s, reused", ab.name, run.arm.name, run.seed, source)
    return result


# -- training ---------------------------------------------------------------------------------


def training_examples(
    cfg: Any, prep: dict[str, Any], data_dir: Path | None = None
) -> list[Example]:
    """The span run's training examples with the arm's data-side options applied.

    Sources are read one at a time (each seeded as
    :func:`uniner.data.sources.load_sources` seeds it, so the examples are those of the config)
    so that the dataset tag knows each one's data set.
    """
    from uniner.data.relabel import SLIMER_DEFINITIONS, definition_labels, relabel, tag_dataset
    from uniner.data.sources import load_sources
    from uniner.paths import data_dir as find_data

    out: list[Example] = []
    for src in cfg.data.train:
        exs = load_sources([src], seed=cfg.train.seed)
        if prep["dataset_tag"] and src.dataset is not None:
            exs = list(tag_dataset(exs, src.dataset))
        out += exs
    if prep["label_text"] == "definition":
        root = data_dir or find_data(required=True)
        assert root is not None
        out = list(relabel(out, definition_labels(root / SLIMER_DEFINITIONS)))
    return out


def train_run(ab: Ablation, cfg: Any, prep: dict[str, Any], progress: bool) -> Path:
    """Train (or resume, or find finished) the run; the saved model's folder."""
    out = Path(cfg.train.output_dir)
    if ab.student == "generative":
        from uniner.students.generative.train import train as gen_train

        res = gen_train(cfg, resume=True)
        if not res.complete:
            raise AblationError(f"{out}: training stopped before its budget; rerun to resume")
        return Path(res.model_dir)
    model_dir = out / "model"
    if (model_dir / "config.json").is_file():  # train() saves the model only when finished
        return model_dir
    from uniner.students.span.train import train

    train(cfg, training_examples(cfg, prep), None, progress=progress)
    return model_dir


def train_facts(ab: Ablation, cfg: Any) -> dict[str, Any]:
    """Steps and seconds the run actually had (time budgets give each arm its own count; a
    generative run's seconds are those of its last invocation, as its model records them)."""
    out = Path(cfg.train.output_dir)
    if ab.student == "generative":
        from uniner.students.generative.train import META_FILE

        meta = out / "model" / META_FILE
        if meta.is_file():
            m = json.loads(meta.read_text(encoding="utf-8"))
            return {"steps": m.get("global_step"), "seconds": m.get("seconds_this_invocation")}
        return {}
    state = out / "trainer_state.json"
    if state.is_file():
        s = json.loads(state.read_text(encoding="utf-8"))
        return {"steps": s.get("step"), "seconds": round(float(s.get("elapsed", 0.0)), 1)}
    return {}


# -- evaluation -------------------------------------------------------------------------------


class Recorder:
    """An extractor that remembers its answers by (text, asked types), so the dev suite's
    predictions can be written without running the model twice."""

    def __init__(self, inner: Any):
        self.inner = inner
        self.calls: Calls = {}
        if hasattr(inner, "extract_each"):
            self.extract_each = self._each

    def __getattr__(self, name: str) -> Any:
        return getattr(self.inner, name)

    def _each(self, texts: Sequence[str], asked: Sequence[Sequence[str]], **kw: Any) -> Any:
        got = self.inner.extract_each(texts, asked, **kw)
        for text, labs, r in zip(texts, asked, got, strict=True):
            self.calls[(text, tuple(labs))] = list(r.entities)
        return got

    def extract_batch(self, texts: Sequence[str], labels: Sequence[str], **kw: Any) -> Any:
        got = self.inner.extract_batch(texts, labels, **kw)
        for text, ents in zip(texts, got, strict=True):
            self.calls[(text, tuple(labels))] = list(ents)
        return got


def write_dev_predictions(
    result: DevSuiteResult, calls: Calls, folder: Path, strict: bool
) -> list[Path]:
    """One predictions file per dev-suite cell, in ``uniner bench --save-predictions`` format
    (:func:`uniner.benchmark.dump.rescore` gives back the cell's scores). ``strict`` as the
    suite's run had it, so its cached preparation is reused rather than read again."""
    from uniner.benchmark.devsuite import prepare
    from uniner.benchmark.dump import write_predictions

    per_set, _ = prepare(result.spec, None, strict=strict)
    paths = []
    for cells in per_set:
        for c in cells:
            if c.dataset not in result.sets:
                continue
            preds = [calls[(ex.text, labs)] for ex, labs in zip(c.examples, c.asked, strict=True)]
            name = f"{c.dataset}.{c.shape}.{c.variant}.jsonl".replace("/", "_")
            label = f"{c.dataset}/{c.shape}/{c.variant}"
            paths.append(
                write_predictions(folder / name, label, "dev", c.examples, preds, c.pairs())
            )
    return paths


def evaluate_model(
    model: Any, ab: Ablation, folder: Path, save_predictions: bool, progress: bool
) -> dict[str, Any]:
    """Dev-suite and zero-shot scores of one trained arm (F1 in percent)."""
    from uniner.benchmark.bench import run_bench
    from uniner.benchmark.devsuite import DEV_SUITE_V1, run_dev_suite

    plan_ = ab.eval
    if hasattr(model, "fixed_threshold"):
        model.fixed_threshold(plan_.threshold)
    rec = Recorder(model)
    dev = run_dev_suite(
        rec,
        sets=plan_.dev_sets or None,
        max_passages=plan_.dev_passages,
        spec=DEV_SUITE_V1,  # arms of one table share a suite; dev_passages is the budget
        out=folder / "dev",
        batch_size=plan_.batch_size,
        progress=progress,
    )
    if save_predictions:
        write_dev_predictions(dev, rec.calls, folder / "dev" / "predictions", bool(plan_.dev_sets))
    zs = run_bench(
        folder.parent.name,
        extractor=model,
        suite="zero-shot",
        split="test",
        max_passages=plan_.zero_shot_passages,
        batch_size=plan_.batch_size,
        out=folder / "zero-shot",
        save_predictions=save_predictions,
        progress=progress,
    )
    sets = {r.dataset: 100 * r.official.f1 for r in zs.results}

    def pct(d: dict[str, float]) -> dict[str, float]:
        return {k: 100 * v for k, v in d.items()}

    return {
        "dev": {
            "summary": 100 * dev.summary,
            "by_set": pct(dev.by("dataset")),
            "by_shape": pct(dev.by("shape")),
            "by_variant": pct(dev.by("variant")),
            "seconds": round(dev.seconds, 1),
        },
        "zero_shot": {
            "avg": sum(sets.values()) / len(sets),
            "sets": sets,
            "passages": {r.dataset: r.n_passages for r in zs.results},
        },
    }


def load_trained(ab: Ablation, model_dir: Path) -> Any:
    if ab.student == "generative":
        from uniner.students.generative.extractor import GenerativeExtractor

        return GenerativeExtractor.load(str(model_dir))
    from uniner.api import load

    return load(model_dir)


def run_one(ab: Ablation, run: PlannedRun, opts: AblateOptions, budget: Budget) -> dict[str, Any]:
    """Train and score one (arm, seed), or read its result when it is already done."""
    raw = run_raw(ab, run, budget, opts.root)
    fp = fingerprint(ab, run, raw, opts.root)
    _check_folder(run.folder, fp)
    done = run.folder / RESULT
    if done.is_file():
        log.info("%s/%s seed %d: done before, skipped", ab.name, run.arm.name, run.seed)
        result: dict[str, Any] = json.loads(done.read_text(encoding="utf-8"))
        return result
    twin = find_identical_run(opts.out, run.folder, fp) if opts.reuse else None
    if twin is not None:
        return reuse_run(twin, ab, run, opts.out)
    try:
        cfg = build_config(ab, raw)
    except (TypeError, ValueError) as exc:
        raise AblationError(f"{ab.path}: arm {run.arm.name}: {exc}") from None
    model_dir = train_run(ab, cfg, fp["prep"], opts.progress)
    model = load_trained(ab, model_dir)
    scores = evaluate_model(model, ab, run.folder, opts.save_predictions, opts.progress)
    result = {
        "ablation": ab.name,
        "arm": run.arm.name,
        "seed": run.seed,
        "train": train_facts(ab, cfg),
        **scores,
        "predictions": opts.save_predictions,
    }
    _write_result(run.folder, result)
    return result


def check_runnable(ab: Ablation, opts: AblateOptions) -> None:
    """Blocked ablations and GPU-only ones without a GPU are refused before anything runs."""
    if ab.blocked:
        raise AblationError(ab.blocked)
    if ab.needs_gpu and not opts.allow_cpu:
        import torch

        if not torch.cuda.is_available():
            raise AblationError(
                f"ablation {ab.name} needs a GPU (its budget: {ab.budget}); none is visible here"
            )


def run_ablation(ab: Ablation, opts: AblateOptions) -> tuple[dict[str, Any], list[Path]]:
    """Every run of ``ab`` (finished ones skipped); the table and the files written."""
    from uniner.benchmark.ablation_report import build_table, write_table

    check_runnable(ab, opts)
    budget = budget_of(ab, opts)
    runs = plan(ab, opts)
    finished = sum((r.folder / RESULT).is_file() for r in runs)
    results = []
    with tqdm(
        total=len(runs), initial=finished, desc=f"ablate {ab.name}", unit="run",
        disable=not opts.progress, position=0,
    ) as bar:  # fmt: skip
        for run in runs:
            was_done = (run.folder / RESULT).is_file()
            bar.set_postfix(arm=run.arm.name, seed=run.seed)
            results.append(run_one(ab, run, opts, budget))
            if not was_done:
                bar.update(1)
    table = build_table(ab, results, budget, seeds_of(ab, opts))
    return table, write_table(table, opts.out / ab.name)
