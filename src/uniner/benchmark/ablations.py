"""The registry of named ablations (issue 25): sets of training runs that differ in one thing.

One TOML file per ablation in ``configs/ablations/`` names a **base** run config (a file of
``configs/``), the **common** changes every arm makes to it (what the budget needs, e.g. a
MiniLM backbone instead of a release to continue from), the **varies** key(s), and its **arms**:
each arm changes only keys listed in ``varies``. Everything that makes runs comparable is the
same for every arm and fixed here: seed(s), data, budget (``[budget]``: seconds and/or steps)
and evaluation (``[eval]``: threshold and sample sizes). :mod:`uniner.benchmark.ablation_run`
trains and evaluates the arms; :mod:`uniner.benchmark.ablation_report` writes the table.

Keys are dotted config paths (``data.few_labels``) or ``prep.*``: data-side options that no
trainer key expresses, applied to the training examples by the runner
(:mod:`uniner.data.relabel`): ``prep.label_text = "definition"`` (SLIMER's definitions as
label text) and ``prep.dataset_tag = true`` (the supervised template's ``Dataset:`` line). An
arm's ``without = [names]`` drops those data sets from ``data.train`` (its key is
``data.train``).

An arm that sets a key the student's config does not have yet (``data.negatives`` for the span
student's negative-sampling modes) makes the ablation **blocked**: listed with the missing
key(s), refused by the runner with one clear line, and built as soon as the key exists.
"""

from __future__ import annotations

import builtins
import copy
import dataclasses
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from uniner.paths import REPO_ROOT

ABLATIONS_DIR = REPO_ROOT / "configs" / "ablations"

#: Data-side options (``prep.*``) and their values in the base (no change to the examples).
PREP_DEFAULTS: Mapping[str, Any] = {"label_text": "name", "dataset_tag": False}
LABEL_TEXTS = ("name", "definition")

#: Keys every run sets for itself (where it writes, which seed, the budget, no in-run dev
#: evaluation): not part of what an arm changes.
RUN_KEYS = frozenset(
    {
        "train.output_dir",
        "train.seed",
        "train.max_seconds",
        "train.max_steps",
        "train.eval_every",
        "train.epochs",
    }
)


class AblationError(ValueError):
    """A registry file that cannot be used: names the file and the field."""


@dataclass(frozen=True)
class Arm:
    """One arm: its changes to the effective base, and the paper's figure for it if any."""

    name: str
    set: Mapping[str, Any] = field(default_factory=dict)
    without: tuple[str, ...] = ()
    prep: Mapping[str, Any] = field(default_factory=dict)
    paper: float | None = None  # the paper's 7-set average F1 for this arm
    paper_delta: float | None = None  # the paper's change against the baseline arm
    note: str = ""

    def stated_keys(self) -> builtins.set[str]:  # `set` here is the field above
        """The dotted keys this arm states it changes."""
        out = set(self.set) | {f"prep.{k}" for k in self.prep}
        if self.without:
            out.add("data.train")
        return out


@dataclass(frozen=True)
class Budget:
    seconds: float | None = None
    steps: int | None = None

    def __post_init__(self) -> None:
        if self.seconds is None and self.steps is None:
            raise ValueError("a budget needs seconds and/or steps")
        if self.seconds is not None and self.seconds <= 0:
            raise ValueError(f"budget seconds must be > 0, got {self.seconds}")
        if self.steps is not None and self.steps <= 0:
            raise ValueError(f"budget steps must be > 0, got {self.steps}")


@dataclass(frozen=True)
class EvalPlan:
    """How every arm is scored: one fixed threshold, seeded samples of both suites."""

    threshold: float = 0.5
    zero_shot_passages: int | None = 100  # per zero-shot set; None: every passage
    dev_passages: int = 20  # per dev-suite set (its seeded sample)
    dev_sets: tuple[str, ...] = ()  # empty: the whole dev suite
    batch_size: int = 32


@dataclass(frozen=True)
class Ablation:
    name: str
    title: str
    origin: str  # "paper" or "ours"
    student: str  # "span" or "generative"
    base: str  # a config file, relative to the repository root
    varies: tuple[str, ...]
    baseline: str
    arms: tuple[Arm, ...]
    budget: Budget
    eval: EvalPlan = EvalPlan()
    seeds: tuple[int, ...] = ()  # empty: the base config's seed
    common_set: Mapping[str, Any] = field(default_factory=dict)
    common_unset: tuple[str, ...] = ()
    needs_gpu: bool = False
    paper_source: str = ""
    note: str = ""
    path: Path | None = None

    def arm(self, name: str) -> Arm:
        for a in self.arms:
            if a.name == name:
                return a
        raise KeyError(f"ablation {self.name} has no arm {name!r}: {', '.join(self.arm_names)}")

    @property
    def arm_names(self) -> tuple[str, ...]:
        return tuple(a.name for a in self.arms)

    def missing_keys(self) -> list[str]:
        """Keys the arms set that the student's config does not have (the ablation is blocked)."""
        known = config_keys(self.student)
        wanted = set().union(*(a.set for a in self.arms), self.common_set)
        return sorted(k for k in wanted if k not in known)

    @property
    def blocked(self) -> str | None:
        missing = self.missing_keys()
        if not missing:
            return None
        return (
            f"ablation {self.name}: the {self.student} trainer has no "
            f"{', '.join(missing)} option yet ({self.note or 'see the ablation file'})"
        )


# -- reading ---------------------------------------------------------------------------------


def _fail(path: Path, msg: str) -> AblationError:
    return AblationError(f"{path}: {msg}")


def _arm(path: Path, raw: Any, k: int) -> Arm:
    if not isinstance(raw, dict) or not isinstance(raw.get("name"), str):
        raise _fail(path, f"arm[{k}] needs a table with a name")
    known = {"name", "set", "without", "prep", "paper", "paper_delta", "note"}
    extra = sorted(set(raw) - known)
    if extra:
        raise _fail(path, f"arm[{k}] ({raw['name']}): unknown field(s) {', '.join(extra)}")
    prep = dict(raw.get("prep", {}))
    for key, value in prep.items():
        if key not in PREP_DEFAULTS:
            raise _fail(path, f"arm {raw['name']}: unknown prep.{key} ({', '.join(PREP_DEFAULTS)})")
        if key == "label_text" and value not in LABEL_TEXTS:
            raise _fail(path, f"arm {raw['name']}: prep.label_text must be one of {LABEL_TEXTS}")
    return Arm(
        name=raw["name"],
        set=dict(raw.get("set", {})),
        without=tuple(raw.get("without", ())),
        prep=prep,
        paper=raw.get("paper"),
        paper_delta=raw.get("paper_delta"),
        note=raw.get("note", ""),
    )


def read_ablation(path: str | Path) -> Ablation:
    """One registry file; a malformed one raises :class:`AblationError` naming file and field."""
    p = Path(path)
    try:
        raw = tomllib.loads(p.read_text(encoding="utf-8"))
    except (OSError, tomllib.TOMLDecodeError) as exc:
        raise _fail(p, str(exc)) from None
    for key in ("title", "base", "varies", "baseline", "arm", "budget"):
        if key not in raw:
            raise _fail(p, f"missing field {key!r}")
    arms = tuple(_arm(p, a, k) for k, a in enumerate(raw["arm"]))
    common = raw.get("common", {})
    ev = dict(raw.get("eval", {}))
    if "dev_sets" in ev:
        ev["dev_sets"] = tuple(ev["dev_sets"])
    try:
        ab = Ablation(
            name=raw.get("name", p.stem),
            title=raw["title"],
            origin=raw.get("origin", "ours"),
            student=raw.get("student", "span"),
            base=raw["base"],
            varies=tuple(raw["varies"]),
            baseline=raw["baseline"],
            arms=arms,
            budget=Budget(**raw["budget"]),
            eval=EvalPlan(**ev),
            seeds=tuple(raw.get("seeds", ())),
            common_set=dict(common.get("set", {})),
            common_unset=tuple(common.get("unset", ())),
            needs_gpu=bool(raw.get("needs_gpu", False)),
            paper_source=raw.get("paper_source", ""),
            note=raw.get("note", ""),
            path=p,
        )
    except (TypeError, ValueError) as exc:
        raise _fail(p, str(exc)) from None
    _check(ab, p)
    return ab


def _check(ab: Ablation, p: Path) -> None:
    if ab.student not in ("span", "generative"):
        raise _fail(p, f"student must be span or generative, got {ab.student!r}")
    if ab.origin not in ("paper", "ours"):
        raise _fail(p, f"origin must be paper or ours, got {ab.origin!r}")
    if len(set(ab.arm_names)) != len(ab.arms) or len(ab.arms) < 2:
        raise _fail(p, "an ablation needs at least two arms with distinct names")
    if ab.baseline not in ab.arm_names:
        raise _fail(p, f"baseline {ab.baseline!r} is not an arm ({', '.join(ab.arm_names)})")
    for a in ab.arms:
        stray = sorted(a.stated_keys() - set(ab.varies))
        if stray:
            raise _fail(p, f"arm {a.name} changes {', '.join(stray)}, not in varies")
        if a.prep and ab.student != "span":
            raise _fail(p, f"arm {a.name}: prep options are for the span student")


def registry(folder: Path = ABLATIONS_DIR) -> dict[str, Ablation]:
    """Every ablation of ``folder`` (``configs/ablations``), by name."""
    out: dict[str, Ablation] = {}
    for path in sorted(folder.glob("*.toml")):
        ab = read_ablation(path)
        if ab.name in out:
            raise _fail(path, f"ablation name {ab.name!r} is also used by {out[ab.name].path}")
        out[ab.name] = ab
    return out


def get_ablation(name: str, folder: Path = ABLATIONS_DIR) -> Ablation:
    """A registered ablation by name, or a registry file given by its path."""
    if name.endswith(".toml") and Path(name).is_file():
        return read_ablation(name)
    found = registry(folder)
    if name not in found:
        raise KeyError(f"no ablation {name!r}; registered: {', '.join(found) or 'none'}")
    return found[name]


# -- building arm configs --------------------------------------------------------------------


def config_keys(student: str) -> set[str]:
    """Every dotted key of the student's run config (``model.backbone``, ``data.train``...)."""
    if student == "span":
        from uniner.students.span.config import DataConfig, SpanModelConfig, TrainConfig

        sections = {"model": SpanModelConfig, "data": DataConfig, "train": TrainConfig}
    else:
        from uniner.students.generative.config import GenDataConfig, GenModelConfig, GenTrainConfig

        sections = {"model": GenModelConfig, "data": GenDataConfig, "train": GenTrainConfig}
    return {f"{s}.{f.name}" for s, kind in sections.items() for f in dataclasses.fields(kind)}


def _put(raw: dict[str, Any], dotted: str, value: Any) -> None:
    section, _, key = dotted.partition(".")
    raw.setdefault(section, {})[key] = copy.deepcopy(value)


def _resolve_paths(raw: dict[str, Any], root: Path) -> None:
    """Relative data and hierarchy paths are relative to the repository root (where the
    configs are written to be run from), so arms run the same from any directory."""
    data = raw.get("data", {})
    for src in data.get("train", []):
        if isinstance(src, dict) and src.get("path") and not Path(src["path"]).is_absolute():
            src["path"] = str((root / src["path"]).resolve())
    h = data.get("hierarchy")
    if isinstance(h, str) and h != "mine" and not Path(h).is_absolute():
        data["hierarchy"] = str((root / h).resolve())


def base_raw(ab: Ablation, root: Path = REPO_ROOT) -> dict[str, Any]:
    """The effective base: the base file with the ablation's common changes (a raw dict)."""
    base = Path(ab.base) if Path(ab.base).is_absolute() else root / ab.base
    try:
        raw = tomllib.loads(base.read_text(encoding="utf-8"))
    except (OSError, tomllib.TOMLDecodeError) as exc:
        raise AblationError(f"{ab.path}: base {ab.base}: {exc}") from None
    for dotted, value in ab.common_set.items():
        _put(raw, dotted, value)
    for dotted in ab.common_unset:
        section, _, key = dotted.partition(".")
        raw.get(section, {}).pop(key, None)
    _resolve_paths(raw, root)
    return raw


def arm_raw(ab: Ablation, arm: Arm, root: Path = REPO_ROOT) -> dict[str, Any]:
    """The arm's run config as a raw dict: the effective base with the arm's changes."""
    raw = base_raw(ab, root)
    for dotted, value in arm.set.items():
        _put(raw, dotted, value)
    if arm.without:
        train = raw.get("data", {}).get("train", [])
        names = {s.get("dataset") for s in train if isinstance(s, dict)}
        unknown = sorted(set(arm.without) - names)
        if unknown:
            raise AblationError(
                f"{ab.path}: arm {arm.name}: without {', '.join(unknown)}: not a data.train "
                "dataset of the base"
            )
        raw["data"]["train"] = [
            s for s in train if not (isinstance(s, dict) and s.get("dataset") in arm.without)
        ]
    return raw


def prep_of(arm: Arm) -> dict[str, Any]:
    """The arm's data-side options, every option present (defaults filled in)."""
    return {**PREP_DEFAULTS, **arm.prep}


def build_config(ab: Ablation, raw: Mapping[str, Any]) -> Any:
    """A validated run config of the ablation's student from a raw dict (ValueError if not)."""
    if ab.student == "span":
        from uniner.students.span.config import RunConfig

        return RunConfig.from_dict(copy.deepcopy(dict(raw)))
    from uniner.students.generative.config import config_from_dict

    return config_from_dict(copy.deepcopy(dict(raw)))


def flatten(cfg: Any) -> dict[str, Any]:
    """A run config as ``{"section.key": value}`` (lists compared whole)."""
    out = {}
    for section, values in dataclasses.asdict(cfg).items():
        if isinstance(values, dict):
            out.update({f"{section}.{k}": v for k, v in values.items()})
        else:
            out[section] = values
    return out


def changed_keys(ab: Ablation, arm: Arm, root: Path = REPO_ROOT) -> set[str]:
    """The keys in which the arm's built config (and prep) differs from the effective base's."""
    base = flatten(build_config(ab, base_raw(ab, root)))
    mine = flatten(build_config(ab, arm_raw(ab, arm, root)))
    keys = {k for k in base.keys() | mine.keys() if base.get(k) != mine.get(k)}
    prep = prep_of(arm)
    return keys | {f"prep.{k}" for k, v in prep.items() if v != PREP_DEFAULTS[k]}
