"""Join a GPU run's returned best model and re-fingerprint its delta against the fp32 base here.

    python bench/gpu/unpack.py /work/.device/N runs/span-mpnet-gpu/best

The GPU machine trained on the fp16-rounded base (``bench/gpu/pack.py``), so the delta's
fingerprint there differs from the fp32 base's; the stored delta is kept as is (the difference is
at most one fp16 rounding per weight) and only the fingerprint is recomputed. The training
metadata of the final model (name, data, steps) is merged in; the evaluation that made it the
best is kept under ``best_eval``.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

EVAL_KEYS = ("step", "precision", "recall", "f1", "tp", "gold", "pred", "seconds")


def main() -> None:
    src, dest = Path(sys.argv[1]), Path(sys.argv[2])
    from uniner.students.span.backbones import load_encoder
    from uniner.students.span.io import fingerprint

    dest.mkdir(parents=True, exist_ok=True)
    parts = sorted(src.glob("best-weights.part*"), key=lambda p: int(p.name.rsplit("part", 1)[1]))
    if not parts:
        raise SystemExit(f"{src}: no best-weights.part* files")
    (dest / "model.safetensors").write_bytes(b"".join(p.read_bytes() for p in parts))
    cfg = json.loads((src / "best-config.json").read_text(encoding="utf-8"))
    final_path = src / "final-config.json"
    final = json.loads(final_path.read_text(encoding="utf-8")) if final_path.exists() else {}
    base = load_encoder(cfg["model"]["backbone"]).state_dict()
    cfg["device_base_fingerprint"] = cfg["base_fingerprint"]
    cfg["base_fingerprint"] = fingerprint(base, cfg["delta_tensors"])
    cfg["best_eval"] = {k: cfg.pop(k) for k in EVAL_KEYS if k in cfg}
    for key in ("name", "training"):
        if key in final:
            cfg[key] = final[key]
    (dest / "config.json").write_text(json.dumps(cfg, indent=2, ensure_ascii=False) + "\n")
    print(dest, cfg["best_eval"])


if __name__ == "__main__":
    main()
