"""Turn a trained model folder into a named, versioned release inside the package.

    python -m uniner.students.span.release --source runs/span-mpnet-gpu/best \\
        --dest src/uniner/models/uniner-span-mpnet --name uniner-span-mpnet --version 0.1.0 \\
        --threshold 0.6 --multi-label [--min-labels 8 --context-labels "concept,date,..."
        --max-context 3] [--few-types 3 --few-type-threshold 0.75]
        [--generic-labels person --specific-min-score 0.05 --broad-labels organization,location
        --specific-min-types 5]
    python -m uniner.students.span.release --source F --dest D --name N --version V \
        --decoding runs/select-dev/selection.json

``--decoding FILE`` takes the whole decoding from a JSON file instead of the single options:
a model config's keys (``DecodingConfig.to_json``), or ``bench/select_decoding_dev.py``'s
``selection.json``, whose ``off.best_decoding`` is the policy the dev suite chose and
``off.best_window`` (when the selection tried windows) the inference window, written into the
model's ``window_words`` / ``window_overlap``.

Copies the weights, and writes name, version and the default decoding (threshold and whether a
span may carry several labels, chosen on dev data with ``bench/select_decoding.py``, never on a
test split) into ``config.json``, which ``SpanExtractor.load`` reads; with ``--min-labels``, a call
asking fewer types is padded with the ``--context-labels`` (answers dropped; see
``SpanExtractor.with_context``), at most ``--max-context`` of them per call, chosen with
``bench/single_type_queries.py`` on dev; with ``--few-types N``, a call asking at most N types
that gives no threshold uses ``--few-type-threshold`` (``few_types_threshold`` in the config;
``SpanExtractor.threshold_for``), chosen with the same script; with ``--generic-labels``, a
confident mention of one of them also gets the more specific asked type the model gives at
least ``--specific-min-score`` other than the ``--broad-labels``, in calls asking at least
``--specific-min-types`` types (``prefer_specific`` in the config;
``uniner.students.span.decoding.prefer_specific``), chosen on dev data. The model card
(``README.md`` of the folder) is written by hand: it carries the measured scores.
"""

from __future__ import annotations

import argparse
import json
import shutil
from collections.abc import Sequence
from pathlib import Path

from uniner.inference.decoding import DecodingConfig, DecodingError
from uniner.students.span.config import model_config_from_dict
from uniner.students.span.io import CONFIG_NAME, DECODING_KEYS, WEIGHTS_NAME, read_config


def release(
    source: Path,
    dest: Path,
    name: str,
    version: str,
    threshold: float = 0.5,
    multi_label: bool = False,
    min_labels: int = 0,
    context_labels: Sequence[str] = (),
    max_context: int | None = None,
    few_types: int = 0,
    few_type_threshold: float | None = None,
    generic_labels: Sequence[str] = (),
    specific_min_score: float = 0.05,
    broad_labels: Sequence[str] = (),
    specific_min_types: int = 2,
    *,
    decoding: DecodingConfig | None = None,
    window: tuple[int, int] | None = None,
) -> Path:
    """Copy ``source`` to ``dest`` as release ``name`` ``version`` decoding with ``decoding``
    (or the single settings, for the command line and older callers); ``window`` (words,
    overlap) replaces the model's inference window when given."""
    if decoding is None:
        decoding = DecodingConfig(
            threshold=threshold,
            multi_label=multi_label,
            min_labels=min_labels,
            context_labels=tuple(context_labels),
            max_context=max_context,
            few_types=few_types,
            few_type_threshold=few_type_threshold,
            generic_labels=tuple(generic_labels),
            specific_min_score=specific_min_score,
            broad_labels=tuple(broad_labels),
            specific_min_types=specific_min_types,
        )
    check_release(decoding)
    cfg = read_config(source)
    if window is not None:
        words, overlap = window
        cfg["model"] = {**cfg["model"], "window_words": words, "window_overlap": overlap}
        model_config_from_dict(cfg["model"])  # validates before anything is written
    dest.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(source / WEIGHTS_NAME, dest / WEIGHTS_NAME)
    for key in DECODING_KEYS:  # this release's choices replace any inherited ones
        cfg.pop(key, None)
    cfg.update({"name": name, "version": version})
    cfg.update(decoding.to_json())
    (dest / CONFIG_NAME).write_text(json.dumps(cfg, indent=2, ensure_ascii=False) + "\n")
    return dest


def check_release(d: DecodingConfig) -> None:
    """Rules a release must keep beyond each field's own (which ``DecodingConfig`` checks):
    settings that only act together are given together."""
    if d.generic_labels and d.specific_min_score > d.threshold:
        raise DecodingError(
            f"specific_min_score {d.specific_min_score} is above the threshold {d.threshold}"
        )
    if (d.few_types > 0) != (d.few_type_threshold is not None):
        raise DecodingError(
            "few_types (>= 1) and few_type_threshold go together, got "
            f"{d.few_types} and {d.few_type_threshold}"
        )
    if d.min_labels > 0 and len(d.context_labels) < d.min_labels - 1:
        raise DecodingError(
            f"min_labels {d.min_labels} needs at least {d.min_labels - 1} context labels "
            f"(a call may ask a single type), got {len(d.context_labels)}"
        )
    if d.max_context is not None and (d.max_context < 1 or not d.min_labels):
        raise DecodingError(f"max_context needs min_labels and must be >= 1, got {d.max_context}")
    if d.broad_labels and not d.generic_labels:
        raise DecodingError("broad_labels only act with generic_labels")


def read_decoding(path: Path) -> DecodingConfig:
    """The decoding in ``path``: decoding keys, or a dev selection's chosen policy."""
    data = json.loads(path.read_text(encoding="utf-8"))
    if isinstance(data, dict) and "off" in data and "best_decoding" in data["off"]:
        data = data["off"]["best_decoding"]
    return DecodingConfig.from_json(data, source=str(path))


def read_window(path: Path) -> tuple[int, int] | None:
    """The inference window a dev selection chose (``off.best_window``), if it chose one."""
    data = json.loads(path.read_text(encoding="utf-8"))
    win = data.get("off", {}).get("best_window") if isinstance(data, dict) else None
    return None if win is None else (int(win["window_words"]), int(win["window_overlap"]))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--source", type=Path, required=True)
    ap.add_argument("--dest", type=Path, required=True)
    ap.add_argument("--name", required=True)
    ap.add_argument("--version", required=True)
    ap.add_argument("--threshold", type=float, default=None, help="required without --decoding")
    ap.add_argument("--decoding", type=Path, default=None, help="decoding JSON (see above)")
    ap.add_argument("--multi-label", action="store_true", help="a span may carry several labels")
    ap.add_argument("--min-labels", type=int, default=0, help="pad calls asking fewer types")
    ap.add_argument("--context-labels", default="", help="comma-separated padding types")
    ap.add_argument("--max-context", type=int, default=None, help="most padding types per call")
    ap.add_argument("--few-types", type=int, default=0, help="calls asking at most N types...")
    ap.add_argument("--few-type-threshold", type=float, default=None, help="...use this threshold")
    ap.add_argument("--generic-labels", default="", help="comma-separated generic types")
    ap.add_argument(
        "--specific-min-score", type=float, default=0.05, help="least score of a specific type"
    )
    ap.add_argument("--broad-labels", default="", help="comma-separated: never the specific type")
    ap.add_argument("--specific-min-types", type=int, default=2, help="fewest types asked")
    a = ap.parse_args()
    if a.decoding is not None:
        decoding, window = read_decoding(a.decoding), read_window(a.decoding)
        print(release(a.source, a.dest, a.name, a.version, decoding=decoding, window=window))
        return
    if a.threshold is None:
        ap.error("--threshold is required without --decoding")
    context = [c.strip() for c in a.context_labels.split(",") if c.strip()]
    generic = [c.strip() for c in a.generic_labels.split(",") if c.strip()]
    broad = [c.strip() for c in a.broad_labels.split(",") if c.strip()]
    print(
        release(
            a.source,
            a.dest,
            a.name,
            a.version,
            a.threshold,
            a.multi_label,
            a.min_labels,
            context,
            a.max_context,
            a.few_types,
            a.few_type_threshold,
            generic,
            a.specific_min_score,
            broad,
            a.specific_min_types,
        )
    )


if __name__ == "__main__":
    main()
