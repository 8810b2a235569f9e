"""Pack a span-student run for a lent GPU machine that takes 64 MiB of files per call.

    python bench/gpu/pack.py --config configs/span-mpnet-gpu.toml --out .gpu --part-mb 44

Writes into ``--out`` (keep it out of git: ``echo /.gpu/ >> .git/info/exclude``):
``w1..wN/part``: the backbone's weights as fp16 safetensors bytes cut into parts (one part per
call; each call's command copies its part to /tmp/keep, since carried paths do not survive the
next call), ``w1/meta``: the backbone's config and tokenizer files, and ``data.tgz``: exactly
the data files the run config reads (found by tracing the loaders), relative to the data root,
and with ``--test-suite zero-shot`` the 7 zero-shot test splits (to score the gliner peer there:
``bench/gpu/peer.py``).
``bench/gpu/run.py`` on the GPU machine rebuilds both and trains. Why fp16: mpnet-base is 438 MB
in fp32; fp16 halves the calls, and the delta saved there is re-fingerprinted against the fp32
base here (``bench/gpu/unpack.py``).
"""

from __future__ import annotations

import argparse
import builtins
import os
import shutil
import tarfile
from pathlib import Path


def traced_data_files(config: str, test_suite: str | None = None) -> list[Path]:
    """Every file under the data root that loading the run config's sources opens, plus the
    test splits of ``test_suite`` (the gliner peer is scored on the GPU machine)."""
    from uniner.data.sources import load_sources
    from uniner.paths import data_dir
    from uniner.students.span.config import load_run_config

    root = data_dir(required=True)
    opened: set[Path] = set()
    real_open = builtins.open

    def spy(file, *a, **k):  # type: ignore[no-untyped-def]
        if isinstance(file, (str, os.PathLike)):
            opened.add(Path(file).resolve())
        return real_open(file, *a, **k)

    builtins.open = spy
    try:
        run = load_run_config(config)
        load_sources(run.data.train, seed=run.train.seed)
        load_sources(run.data.dev, seed=run.train.seed, use="selection")
        if test_suite:
            from uniner.benchmark.loaders import load_split
            from uniner.benchmark.registry import suite

            for spec in suite(test_suite):
                load_split(spec, "test")
    finally:
        builtins.open = real_open
    return sorted(p for p in opened if p.is_relative_to(root) and p.is_file())


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--config", required=True)
    ap.add_argument("--out", default=".gpu")
    ap.add_argument("--part-mb", type=float, default=44.0)
    ap.add_argument(
        "--test-suite",
        default=None,
        help="also pack this suite's test splits (zero-shot: for the gliner peer)",
    )
    a = ap.parse_args()
    import torch
    from safetensors.torch import load_file, save

    from uniner.backbones import resolve_backbone
    from uniner.paths import data_dir
    from uniner.students.span.config import load_run_config

    out = Path(a.out)
    out.mkdir(parents=True, exist_ok=True)
    folder = Path(resolve_backbone(load_run_config(a.config).model.backbone))
    weights = load_file(str(folder / "model.safetensors"))
    blob = save({k: v.to(torch.float16).contiguous() for k, v in weights.items()})
    size = int(a.part_mb * 1e6)
    for i in range(0, len(blob), size):
        d = out / f"w{i // size + 1}"
        d.mkdir(exist_ok=True)
        (d / "part").write_bytes(blob[i : i + size])
    meta = out / "w1" / "meta"
    meta.mkdir(exist_ok=True)
    for f in folder.iterdir():
        if f.is_file() and f.name != "model.safetensors":
            shutil.copy(f, meta / f.name)
    root = data_dir(required=True)
    files = traced_data_files(a.config, a.test_suite)
    with tarfile.open(out / "data.tgz", "w:gz") as tf:
        for f in files:
            tf.add(f, arcname=str(f.relative_to(root)))
    print(
        f"{len(blob) / 1e6:.1f} MB of fp16 weights in {-(-len(blob) // size)} parts; "
        f"{len(files)} data files, {(out / 'data.tgz').stat().st_size / 1e6:.1f} MB packed"
    )


if __name__ == "__main__":
    main()
