"""Turn a trained model folder into a named, versioned release inside the package.

    python -m uniner.students.span.release --source runs/uniner-span-minilm/model \\
        --dest src/uniner/models/uniner-span-minilm --name uniner-span-minilm --version 0.1.0 \\
        --threshold 0.5 --multi-label

Copies the weights, and writes name, version and the default decoding (threshold and whether a
span may carry several labels, chosen on dev data with ``bench/select_decoding.py``, never on a
test split) into ``config.json``, which ``SpanExtractor.load`` reads. The model card
(``README.md`` of the folder) is written by hand: it carries the measured scores.
"""

from __future__ import annotations

import argparse
import json
import shutil
from pathlib import Path

from uniner.students.span.io import CONFIG_NAME, WEIGHTS_NAME, read_config


def release(
    source: Path, dest: Path, name: str, version: str, threshold: float, multi_label: bool = False
) -> Path:
    if not 0.0 <= threshold <= 1.0:
        raise ValueError(f"threshold must be in [0, 1], got {threshold}")
    cfg = read_config(source)
    dest.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(source / WEIGHTS_NAME, dest / WEIGHTS_NAME)
    cfg.update(
        {"name": name, "version": version, "threshold": threshold, "multi_label": multi_label}
    )
    (dest / CONFIG_NAME).write_text(json.dumps(cfg, indent=2, ensure_ascii=False) + "\n")
    return dest


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--source", type=Path, required=True)
    ap.add_argument("--dest", type=Path, required=True)
    ap.add_argument("--name", required=True)
    ap.add_argument("--version", required=True)
    ap.add_argument("--threshold", type=float, required=True)
    ap.add_argument("--multi-label", action="store_true", help="a span may carry several labels")
    a = ap.parse_args()
    print(release(a.source, a.dest, a.name, a.version, a.threshold, a.multi_label))


if __name__ == "__main__":
    main()
