"""Choose a span model's released decoding on the development suite, never on CrossNER or MIT.

    python bench/select_decoding_dev.py --model uniner-span-mpnet --out runs/select-dev

Why a separate script: the earlier selections (``select_decoding.py``, ``select_threshold.py``,
``single_type_queries.py``) read CrossNER dev, which the zero-shot rule now forbids for any
choice. This one scores the dev suite (``uniner bench --suite dev``: held-out Pile-NER,
MultiCoNER II, CoNLL++, WikiANN, WikiNeural and biomedical dev splits, each asked 1, 3 and all
of its types, as written, lower-cased and informal) and takes the decoding with the best suite
summary (mean official F1 over every cell).

The model runs once per padding setting ("off", or the model's released context labels, shown
for reference only since that list was chosen on CrossNER dev), keeping every candidate above
``--floor``; each threshold policy is then applied to those candidates. That is exact for
greedy flat decoding: a candidate above a higher threshold is blocked only by a kept candidate
with a higher score, which is above that threshold too. The type rule (``prefer_specific``)
holds label names and is always off here. A policy is either a threshold for calls of more
than ``few`` types and one for calls of at most ``few`` types (``few`` = 0: one threshold for
all), or one threshold read on scores calibrated by the number of types asked (``slope``:
``DecodingConfig.type_slope`` with ``reference_types`` = ``REFERENCE_TYPES``), which a call is
then filtered at through ``DecodingConfig.raw_threshold`` (exact too: one cut per call).
With ``--windows "192/32,64/16"`` the model runs once per inference window too (words read per
encoder input and the words consecutive windows share; ``SpanExtractor.with_windows``) and the
best (window, policy) pair wins: the window decides how much text the asked labels are read
against, and a long passage asked many types loses recall in windows longer than the 64-word
pieces the student trains on (issue 22).
Writes ``selection.json`` and ``selection.md`` (best policy per padding, by shape and variant;
``off.best_window`` is the chosen window, which ``release --decoding`` writes).
"""

from __future__ import annotations

import argparse
import functools
import itertools
import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from types import SimpleNamespace

from uniner import load
from uniner.benchmark.devsuite import DevSuiteResult, run_dev_suite
from uniner.data.types import Entity
from uniner.inference.decoding import DecodingConfig

THRESHOLDS = (0.3, 0.35, 0.4, 0.45, 0.5, 0.55, 0.6, 0.65, 0.7, 0.75, 0.8, 0.85, 0.9)
FEW_TYPES = (0, 1, 3, 4)
SLOPES = (0.25, 0.5, 0.75, 1.0, 1.25, 1.5)
#: The calibration's reference: the fewest types a training input asks outside few-type pieces.
REFERENCE_TYPES = 8


@dataclass(frozen=True)
class Policy:
    """Threshold ``many`` for calls of more than ``few`` types, ``few_threshold`` otherwise."""

    many: float
    few: int = 0
    few_threshold: float | None = None
    slope: float = 0.0

    def decoding(self) -> DecodingConfig:
        """The policy as a model's decoding settings (released as its ``config.json``)."""
        few = {"few_types": self.few, "few_type_threshold": self.few_threshold} if self.few else {}
        cal = {"type_slope": self.slope, "reference_types": REFERENCE_TYPES} if self.slope else {}
        return DecodingConfig(threshold=self.many, **few, **cal)

    def threshold_for(self, n_types: int) -> float:
        """The least model score kept in a call of ``n_types`` types (asked once per text per
        policy: the decoding is made, and validated, once per policy)."""
        return _decoding_of(self).raw_threshold(n_types)

    def label(self) -> str:
        if self.slope:
            return f"{self.many:.2f} calibrated, slope {self.slope:g}"
        if not self.few:
            return f"{self.many:.2f}"
        return f"{self.many:.2f}, <= {self.few} types: {self.few_threshold:.2f}"


class SweepExtractor:
    """Runs the model once per distinct call at a low threshold, then filters per policy.

    The model runs with its own calibration switched off (``type_slope`` 0), so the cached
    scores are the model's probabilities, which every policy's cut (``Policy.threshold_for``,
    a raw threshold) is read against. Why: a model continued from a calibrated release
    inherits that release's calibration in its config; swept on those moved scores, each
    policy was calibrated twice and the winner did not reproduce once released (the v0.10.0
    candidate: 68.66 swept, 67.40 as released).
    """

    def __init__(self, model, decoding: DecodingConfig, floor: float) -> None:  # type: ignore[no-untyped-def]
        self.model = model
        self.name = model.name
        self.decoding = decoding.replace(
            threshold=floor, few_types=0, few_type_threshold=None, generic_labels=(), type_slope=0.0
        )
        self.cache: dict[tuple[str, tuple[str, ...]], list[Entity]] = {}
        self.policy: Callable[[int], float] = lambda n: floor

    def extract_each(
        self, texts: Sequence[str], label_lists: Sequence[Sequence[str]]
    ) -> list[SimpleNamespace]:
        keys = [(t, tuple(labs)) for t, labs in zip(texts, label_lists, strict=True)]
        todo = [k for k in dict.fromkeys(keys) if k not in self.cache]
        if todo:
            got = self.model.extract_each(
                [t for t, _ in todo], [list(labs) for _, labs in todo], decoding=self.decoding
            )
            self.cache.update(zip(todo, (list(r.entities) for r in got), strict=True))
        return [SimpleNamespace(entities=self.select(key)) for key in keys]

    def select(self, key: tuple[str, tuple[str, ...]]) -> list[Entity]:
        """One call's entities under the current policy, from its cached candidates."""
        limit = self.policy(len(key[1]))
        return [e for e in self.cache[key] if e.score is not None and e.score >= limit]


@functools.cache
def _decoding_of(policy: Policy) -> DecodingConfig:
    return policy.decoding()


def policies(floor: float) -> list[Policy]:
    grid = [t for t in THRESHOLDS if t >= floor]
    out = [Policy(t) for t in grid]
    for few, many, low in itertools.product(FEW_TYPES[1:], grid, grid):
        if low != many:
            out.append(Policy(many, few, low))
    for slope, thr in itertools.product(SLOPES, THRESHOLDS):
        pol = Policy(thr, slope=slope)
        if min(pol.threshold_for(n) for n in range(1, 41)) >= floor:  # exact only above floor
            out.append(pol)
    return out


def sweep(
    sweeper: SweepExtractor, max_passages: int | None, seed: int | None
) -> list[tuple[Policy, DevSuiteResult]]:
    """Every policy's dev-suite result; the first call runs the model, the rest re-score."""
    results = []
    for i, pol in enumerate(policies(sweeper.decoding.threshold)):
        sweeper.policy = pol.threshold_for
        res = run_dev_suite(sweeper, max_passages=max_passages, seed=seed, progress=i == 0)
        results.append((pol, res))
    return results


def describe(pol: Policy, res: DevSuiteResult) -> dict[str, object]:
    pct = {k: round(100 * v, 1) for k, v in res.by("shape").items()}
    return {
        "policy": pol.__dict__,
        "summary": round(100 * res.summary, 2),
        "by_shape": pct,
        "shape_cost": {k: round(100 * res.shape_cost(k), 1) for k in res.paired_shapes},
        "by_variant": {k: round(100 * v, 1) for k, v in res.by("variant").items()},
        "by_dataset": {k: round(100 * v, 1) for k, v in res.by("dataset").items()},
    }


Window = tuple[int, int]  # window_words, window_overlap


def parse_windows(spec: str | None, model) -> list[Window]:  # type: ignore[no-untyped-def]
    """``"192/32,64/16"`` as (words, overlap) pairs; the model's own window when not given."""
    if not spec:
        return [(model.config.window_words, model.config.window_overlap)]
    out = []
    for part in spec.split(","):
        words, _, overlap = part.partition("/")
        out.append((int(words), int(overlap or 0)))
    return out


def select_padding(model, released: DecodingConfig, padding: str, windows: Sequence[Window], args):  # type: ignore[no-untyped-def]
    """The best (window, policy) for one padding setting: its report entry and table rows."""
    base = released if padding == "released" else released.replace(min_labels=0)
    results: list[tuple[Window, Policy, DevSuiteResult]] = []
    for win in windows:
        model.with_windows(*win)
        sweeper = SweepExtractor(model, base, args.floor)
        results += [(win, p, r) for p, r in sweep(sweeper, args.max_passages, args.seed)]
    ranked = sorted(results, key=lambda wpr: -wpr[2].summary)
    win0, pol0, res0 = ranked[0]
    calibrated = [wpr for wpr in ranked if wpr[1].slope]
    entry = {
        "best": describe(pol0, res0),
        "best_decoding": pol0.decoding().to_json(),
        "best_window": {"window_words": win0[0], "window_overlap": win0[1]},
        "best_single_threshold": describe(*next(wpr[1:] for wpr in ranked if _single(wpr[1]))),
        "best_calibrated": describe(*calibrated[0][1:]) if calibrated else None,
        "best_per_window": {
            _wlabel(w): describe(*next(x[1:] for x in ranked if x[0] == w)) for w in windows
        },
        "single_thresholds": [
            {**describe(p, r), "window": _wlabel(w)} for w, p, r in results if _single(p)
        ],
    }
    rows = [
        f"padding {padding}:\n",
        "| window | policy | summary | 1 type | 3 types | all | cost 1 / 3 | cased | lower "
        "| informal |",
        "|---|---|---|---|---|---|---|---|---|---|",
    ]
    shown = [*ranked[:5], *calibrated[:5], *[x for x in ranked if _single(x[1])]]
    seen: set[tuple[Window, Policy]] = set()
    for win, pol, res in shown:
        if (win, pol) in seen:
            continue
        seen.add((win, pol))
        d = describe(pol, res)
        s, v, c = d["by_shape"], d["by_variant"], d["shape_cost"]
        rows.append(
            f"| {_wlabel(win)} | {pol.label()} | {d['summary']} | {s.get('1')} | {s.get('3')} | "
            f"{s.get('all')} | {c.get('1', '-')} / {c.get('3', '-')} | {v.get('cased')} | "
            f"{v.get('lower')} | {v.get('informal')} |"
        )
    return entry, [*rows, ""]


def _single(pol: Policy) -> bool:
    return not pol.few and not pol.slope


def _wlabel(win: Window) -> str:
    return f"{win[0]}/{win[1]}"


def main(argv: Sequence[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--model", default="uniner-span-mpnet")
    ap.add_argument("--out", type=Path, default=Path("runs/select-dev"))
    ap.add_argument("--floor", type=float, default=0.3)
    ap.add_argument("--max-passages", type=int, default=None)
    ap.add_argument("--seed", type=int, default=None)
    ap.add_argument("--paddings", default="off,released", help="off and/or released")
    ap.add_argument(
        "--windows",
        default=None,
        help='windows to try, "words/overlap,...": "192/32,64/16" (default: the model\'s own)',
    )
    args = ap.parse_args(argv)
    model = load(args.model)
    released = model.decoding
    windows = parse_windows(args.windows, model)
    report: dict[str, object] = {"model": args.model, "released": released.to_json()}
    lines = [f"### Decoding of {args.model} on the dev suite (summary = mean official F1)\n"]
    for padding in args.paddings.split(","):
        report[padding], rows = select_padding(model, released, padding, windows, args)
        lines += rows
        print("\n".join(rows), flush=True)
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / "selection.json").write_text(json.dumps(report, indent=2), encoding="utf-8")
    (args.out / "selection.md").write_text("\n".join(lines), encoding="utf-8")
    print(f"wrote {args.out / 'selection.md'}")


if __name__ == "__main__":
    main()
