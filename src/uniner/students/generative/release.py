"""Turn a LoRA run's ``model`` folder into a named, versioned release inside the package.

    python -m uniner.students.generative.release --source runs/gen-smollm2-v1/model \\
        --dest src/uniner/models/uniner-gen-smollm2-lora --name uniner-gen-smollm2-lora \\
        --version 0.1.0

Only the adapter is shipped (a few MB): the base model comes from ``uniner backbone fetch``, and
the tokenizer is the base's own (training never changes it), so it is left out. peft's
auto-generated card is left out too: it records the local cache path of the base. The model
card (``README.md``) is written by hand, because it carries the measured scores.
"""

from __future__ import annotations

import argparse
import json
import shutil
from pathlib import Path

from uniner.students.generative.train import META_FILE

ADAPTER_FILES = ("adapter_config.json", "adapter_model.safetensors")


def release(
    source: Path, dest: Path, name: str, version: str, *, require_portable_base: bool = True
) -> Path:
    """Copy the adapter and its metadata to ``dest``, recording ``name`` and ``version``.

    ``require_portable_base=False`` lets a base given as a local folder through (tests only: a
    shipped release must load on a machine where that folder does not exist).
    """
    missing = [f for f in (*ADAPTER_FILES, META_FILE) if not (source / f).is_file()]
    if missing:
        raise FileNotFoundError(f"{source} is not a LoRA run's model folder: no {missing}")
    meta = json.loads((source / META_FILE).read_text(encoding="utf-8"))
    base = meta.get("base", "")
    if require_portable_base and Path(base).is_absolute():
        raise ValueError(
            f"{source / META_FILE}: base {base!r} is a local path; a release must name its base "
            "portably (a `uniner backbone list` name or a hub id)"
        )
    dest.mkdir(parents=True, exist_ok=True)
    for f in ADAPTER_FILES:
        shutil.copyfile(source / f, dest / f)
    meta.update({"name": name, "version": version})
    (dest / META_FILE).write_text(json.dumps(meta, indent=2) + "\n", encoding="utf-8")
    return dest


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--source", type=Path, required=True)
    ap.add_argument("--dest", type=Path, required=True)
    ap.add_argument("--name", required=True)
    ap.add_argument("--version", required=True)
    a = ap.parse_args()
    print(release(a.source, a.dest, a.name, a.version))


if __name__ == "__main__":
    main()
