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
import subprocess
import sys
import time
from pathlib import Path

from run import ROOT, prepare  # bench/gpu/run.py, a sibling (the script's folder is on sys.path)

KEEP = Path(os.environ.get("PEER_KEEP", "/tmp/keep/peer"))


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


def main() -> None:
    if len(sys.argv) != 3 or sys.argv[1] not in {"train", "eval"}:
        raise SystemExit("usage: peer.py train|eval RUN_CONFIG")
    step, config = sys.argv[1], sys.argv[2]
    out = Path(os.environ.get("OUT", "/tmp/peer-out"))
    out.mkdir(parents=True, exist_ok=True)
    t0 = time.time()
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
