"""On the lent GPU machine: the gliner peer on equal terms with a GPU-trained span student.

Issue 3, item 7: the gliner library's own recipe on the same data, backbone and time budget as
the default model (``configs/span-mpnet-gpu.toml``: 500 s on an H200). Two calls, the second
while the machine is still warm (the trained peer waits in /tmp/keep between them):

    # here, once: the pack (weights in parts, training data and the zero-shot test splits) and
    # the gliner wheel (the device README's 'pip download' line, gliner==0.2.29)
    python bench/gpu/pack.py --config configs/span-mpnet-gpu.toml --out .gpu --part-mb 50 \\
        --test-suite zero-shot
    # calls 1..N-1 carry .gpu/wK:  mkdir -p /tmp/keep && cp -r .gpu/wK /tmp/keep/
    # call N carries the last part, .gpu/data.tgz and .whl:
    python3 -m pip install -q --no-index --no-deps --target /tmp/keep/site .whl/*.whl
    PYTHONPATH=/tmp/keep/site MAXSEC=500 python3 bench/gpu/peer.py train configs/span-mpnet-gpu.toml
    # call N+1 carries nothing:
    PYTHONPATH=/tmp/keep/site python3 bench/gpu/peer.py eval configs/span-mpnet-gpu.toml

``train`` rebuilds the backbone and data (``run.py``'s ``prepare``) and runs
``bench/gliner_peer.py train --schedule time`` (the recipe's warm-up and cosine over the wall-clock
budget, since the step rate there is not known beforehand) into /tmp/keep/peer. ``eval`` scores
/tmp/keep/peer/final on the 7 zero-shot test sets with uniner's official and strict metrics
(``bench/gliner_peer.py eval --no-speed``); speed is measured on the CPU, not here. Each call
writes its summary and log to ``$OUT``.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

from run import ROOT, prepare  # bench/gpu/run.py, a sibling (the script's folder is on sys.path)

KEEP = Path(os.environ.get("PEER_KEEP", "/tmp/keep/peer"))
RET = KEEP.parent / "ret"  # the trained peer in parts, waiting for the fetch calls
PART_BYTES = 16_000_000  # under the 16 MiB a returned file may have
PER_CALL = 4  # 4 parts and the small files stay under the 64 MiB a call hands back


def _run(args: list[str], log: Path) -> None:
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    env["PYTHONPATH"] = os.pathsep.join(p for p in (env.get("PYTHONPATH"), str(ROOT / "src")) if p)
    with open(log, "w", encoding="utf-8") as fh:
        proc = subprocess.Popen(
            args, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, env=env, text=True
        )
        assert proc.stdout is not None
        for line in proc.stdout:  # to the log in $OUT and to the call's output
            fh.write(line)
            sys.stdout.write(line)
    if proc.wait() != 0:
        raise SystemExit(f"{args[2]} failed with exit {proc.returncode}; see {log}")


def pack_back(final: Path, out: Path) -> None:
    """The trained peer as fp16 parts under 16 MiB in RET; the first PER_CALL and the small
    files (``meta.tgz``) go to ``out`` now, the rest with ``peer.py fetch K`` calls.

    A call hands back at most 8 files, 16 MiB each, 64 MiB together; mpnet-base in fp32 would
    take 7 calls, in fp16 4. ``bench/gpu/unpack_peer.py`` joins the parts here in fp32.
    """
    import tarfile

    import torch
    from safetensors.torch import load_file, save

    RET.mkdir(parents=True, exist_ok=True)
    weights = load_file(str(final / "model.safetensors"))
    blob = save({k: v.to(torch.float16).contiguous() for k, v in weights.items()})
    for i in range(0, len(blob), PART_BYTES):
        (RET / f"peer.part{i // PART_BYTES:02d}").write_bytes(blob[i : i + PART_BYTES])
    with tarfile.open(out / "meta.tgz", "w:gz") as tf:
        for f in final.iterdir():
            if f.name != "model.safetensors":
                tf.add(f, arcname=f.name)
    n = -(-len(blob) // PART_BYTES)
    print(f"{len(blob) / 1e6:.1f} MB fp16 in {n} parts; fetch calls: {-(-n // PER_CALL) - 1}")
    fetch(0, out)


def fetch(k: int, out: Path) -> None:
    """Parts ``k*PER_CALL`` .. ``k*PER_CALL+PER_CALL-1`` to ``out`` (and the GPU scores if
    they are ready: ``EVAL_AFTER``)."""
    wait = float(os.environ.get("WAIT_EVAL", "0"))  # the last fetch: seconds to wait for it
    t0 = time.time()
    while wait and not (RET / "peer-eval.json").exists() and time.time() - t0 < wait:
        time.sleep(2)
    parts = sorted(RET.glob("peer.part*"))[k * PER_CALL : (k + 1) * PER_CALL]
    for p in parts:
        shutil.copy(p, out / p.name)
    for name in ("peer-eval.json", "eval.log"):
        if (RET / name).exists() and k > 0:
            shutil.copy(RET / name, out / name)
    print("handed back", [p.name for p in parts], flush=True)


def main() -> None:
    if len(sys.argv) not in {3, 4} or sys.argv[1] not in {"train", "eval", "fetch"}:
        raise SystemExit("usage: peer.py train|eval RUN_CONFIG | peer.py fetch RUN_CONFIG K")
    step, config = sys.argv[1], sys.argv[2]
    out = Path(os.environ.get("OUT", "/tmp/peer-out"))
    out.mkdir(parents=True, exist_ok=True)
    t0 = time.time()
    if step == "fetch":
        fetch(int(sys.argv[3]), out)
        return
    prepare(config)
    script = str(ROOT / "bench" / "gliner_peer.py")
    if step == "train":
        _run(
            [
                sys.executable,
                script,
                "train",
                "--config",
                config,
                "--out",
                str(KEEP),
                "--schedule",
                "time",
                "--max-seconds",
                os.environ.get("MAXSEC", "500"),
            ],
            out / "peer-train.log",
        )
        summary = KEEP / "train_summary.json"
        (out / "peer-train.json").write_text(summary.read_text(encoding="utf-8"))
        pack_back(KEEP / "final", out)
        if os.environ.get("EVAL_AFTER"):  # scored on the GPU while the parts are fetched
            log = open(RET / "eval.log", "w")  # noqa: SIM115 (outlives this process)
            subprocess.Popen(
                [sys.executable, __file__, "eval", config],
                stdout=log,
                stderr=subprocess.STDOUT,
                env={**os.environ, "OUT": str(RET)},
                start_new_session=True,
            )
    else:
        sample = os.environ.get("EVAL_MAX_QUERIES")  # a dry run on a CPU only; never for results
        _run(
            [
                sys.executable,
                script,
                "eval",
                "--model",
                str(KEEP / "final"),
                "--no-speed",
                "--batch-size",
                os.environ.get("EVAL_BATCH", "32"),
                *(["--max-queries", sample] if sample else []),
                "--out",
                str(out / "peer-eval.json"),
            ],
            out / "peer-eval.log",
        )
    print("total", round(time.time() - t0, 1), "s", flush=True)


if __name__ == "__main__":
    main()
