"""Turn a trained model folder into a named, versioned release inside the package.

    python -m uniner.students.span.release --source runs/uniner-span-minilm/model \\
        --dest src/uniner/models/uniner-span-minilm --name uniner-span-minilm --version 0.1.0 \\
        --threshold 0.4

Copies the weights, and writes name, version and the default threshold (chosen on dev data,
never on a test split) into ``config.json``, which ``SpanExtractor.load`` reads. The model card
(``README.md`` of the folder) is written by hand: it carries the measured scores.
"""

from __future__ import annotations

import argparse
import json
import shutil
from pathlib import Path

from uniner.students.span.io import CONFIG_NAME, WEIGHTS_NAME, read_config


def release(source: Path, dest: Path, name: str, version: str, threshold: float) -> Path:
    if not 0.0 <= threshold <= 1.0:
        raise ValueError(f"threshold must be in [0, 1], got {threshold}")
    cfg = read_config(source)
    dest.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(source / WEIGHTS_NAME, dest / WEIGHTS_NAME)
    cfg.update({"name": name, "version": version, "threshold": threshold})
    (dest / CONFIG_NAME).write_text(json.dumps(cfg, indent=2, ensure_ascii=False) + "\n")
    return dest


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--source", type=Path, required=True)
    ap.add_argument("--dest", type=Path, required=True)
    ap.add_argument("--name", required=True)
    ap.add_argument("--version", required=True)
    ap.add_argument("--threshold", type=float, required=True)
    a = ap.parse_args()
    print(release(a.source, a.dest, a.name, a.version, a.threshold))


if __name__ == "__main__":
    main()
