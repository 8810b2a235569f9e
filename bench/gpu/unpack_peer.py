"""Join the gliner peer that ``bench/gpu/peer.py`` handed back in parts into a folder here.

    python bench/gpu/unpack_peer.py configs/span-mpnet-gpu.toml runs/peer-gpu-parts runs/peer-gpu

``runs/peer-gpu-parts`` holds what the calls returned (``meta.tgz`` and ``peer.partNN``); the
weights travelled in fp16 and are written back in fp32 (the CPU continuation trains in fp32).
The saved config names the backbone by the GPU machine's path; it is pointed at this machine's
copy of the run config's backbone, which GLiNER reads for the encoder's config.
"""

from __future__ import annotations

import json
import sys
import tarfile
from pathlib import Path


def main() -> None:
    config, src, dest = sys.argv[1], Path(sys.argv[2]), Path(sys.argv[3])
    from safetensors.torch import load, save_file

    from uniner.backbones import resolve_backbone
    from uniner.students.span.config import load_run_config

    parts = sorted(src.glob("peer.part*"))
    numbers = [int(p.name.removeprefix("peer.part")) for p in parts]
    if not parts or numbers != list(range(len(parts))):
        raise SystemExit(f"{src}: parts missing or out of order: {[p.name for p in parts]}")
    weights = load(b"".join(p.read_bytes() for p in parts))
    dest.mkdir(parents=True, exist_ok=True)
    save_file(
        {k: v.float().contiguous() for k, v in weights.items()},
        str(dest / "model.safetensors"),
        metadata={"format": "pt"},
    )
    with tarfile.open(src / "meta.tgz") as tf:
        tf.extractall(dest, filter="data")
    cfg_path = dest / "gliner_config.json"
    cfg = json.loads(cfg_path.read_text(encoding="utf-8"))
    cfg["device_model_name"] = cfg.get("model_name")
    cfg["model_name"] = str(resolve_backbone(load_run_config(config).model.backbone))
    cfg_path.write_text(json.dumps(cfg, indent=2) + "\n", encoding="utf-8")
    print(dest, f"{len(weights)} tensors from {len(parts)} parts")


if __name__ == "__main__":
    main()
