"""Distillation throughput against a local OpenAI-compatible server with a fixed latency.

    python bench/distill_throughput.py [--latency 0.2] [--levels 1 8 32] [--seconds 5]

Starts the scripted server (``tests/doubles/teacher_server.py``) as a separate process, so
server work does not share this process's interpreter, with every answer delayed by
``--latency``; then runs the real pipeline (HTTP client, store commits, parsing, filtering,
alignment, output appends) at each concurrency level over enough passages for about
``--seconds`` of ideal run time. The ceiling is concurrency / latency annotations per second;
the target is 90% of it. Prints a markdown table and writes ``runs/bench-distill.json``.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import platform
import resource
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

from uniner.distill.prompts import get_template
from uniner.distill.runner import Passage, run_distillation
from uniner.distill.store import Store
from uniner.distill.teachers.openai import OpenAITeacher

ROOT = Path(__file__).resolve().parents[1]
TEACHER_SERVER = ROOT / "tests" / "doubles" / "teacher_server.py"  # a test double, not in uniner
sys.path.insert(0, str(ROOT))

from tests.doubles.teacher_server import tuples_answer  # noqa: E402

ANSWER = tuples_answer(
    [("Ada Lovelace", "person"), ("London", "city"), ("Analytical Engine", "machine")]
)


def start_server(latency: float, workdir: Path) -> tuple[subprocess.Popen, str]:
    script = workdir / "script.json"
    script.write_text(
        json.dumps({"models": ["bench"], "latency": latency, "default": [{"content": ANSWER}]})
    )
    port_file = workdir / "port"
    proc = subprocess.Popen(
        [
            sys.executable,
            str(TEACHER_SERVER),
            "--script",
            str(script),
            "--port-file",
            str(port_file),
        ],
        stdout=subprocess.DEVNULL,
    )
    deadline = time.time() + 30
    while not port_file.exists():
        if time.time() > deadline or proc.poll() is not None:
            raise RuntimeError("scripted server did not start")
        time.sleep(0.05)
    return proc, f"http://127.0.0.1:{port_file.read_text()}/v1"


async def one_level(base_url: str, concurrency: int, n: int, workdir: Path) -> dict:
    passages = [
        Passage(
            f"c{concurrency}-{i}",
            f"In {1800 + i}, Ada Lovelace (run {concurrency}) wrote in London about "
            f"the Analytical Engine.",
        )
        for i in range(n)
    ]
    teacher = OpenAITeacher(
        base_url, "bench", api_key_env=None, timeout=30, max_connections=max(8, concurrency)
    )
    try:
        with Store(workdir / f"c{concurrency}.sqlite") as store:
            r0 = resource.getrusage(resource.RUSAGE_SELF)
            t0 = time.perf_counter()
            stats = await run_distillation(
                passages,
                teacher,
                get_template("pile-ner-type"),
                store,
                workdir / f"c{concurrency}.jsonl",
                concurrency=concurrency,
            )
            seconds = time.perf_counter() - t0
            r1 = resource.getrusage(resource.RUSAGE_SELF)
    finally:
        await teacher.aclose()
    cpu = r1.ru_utime - r0.ru_utime + r1.ru_stime - r0.ru_stime
    return {
        "concurrency": concurrency,
        "passages": n,
        "seconds": round(seconds, 3),
        "annotated": stats.asked,
        "failed": stats.failed,
        "client_cpu_ms_per_annotation": round(1000 * cpu / max(1, stats.asked), 2),
    }


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--latency", type=float, default=0.2)
    ap.add_argument("--levels", type=int, nargs="+", default=[1, 8, 32])
    ap.add_argument("--seconds", type=float, default=5.0, help="ideal run time per level")
    ap.add_argument("--out", type=Path, default=Path("runs/bench-distill.json"))
    args = ap.parse_args()
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        proc, base = start_server(args.latency, work)
        try:
            for c in args.levels:
                n = max(c, round(args.seconds * c / args.latency))
                r = asyncio.run(one_level(base, c, n, work))
                r["per_second"] = round(r["annotated"] / r["seconds"], 2)
                r["ceiling"] = round(c / args.latency, 2)
                r["of_ceiling"] = round(r["per_second"] / r["ceiling"], 3)
                rows.append(r)
                print(json.dumps(r), flush=True)
        finally:
            proc.terminate()
            proc.wait()
    result = {
        "date": datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC"),
        "machine": f"{platform.machine()}, {os.cpu_count()} CPUs, Python "
        f"{platform.python_version()}",
        "load_average_1m": round(os.getloadavg()[0], 2),
        "latency_s": args.latency,
        "command": "python bench/distill_throughput.py " + " ".join(sys.argv[1:]),
        "rows": rows,
    }
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(result, indent=2) + "\n")
    print(
        f"\n{result['date']}; {result['machine']}; load average "
        f"{result['load_average_1m']}; latency {args.latency * 1000:.0f} ms\n"
    )
    print(
        "| concurrency | passages | seconds | annotations/s | ceiling c/latency | of ceiling "
        "| client CPU ms/annotation |"
    )
    print("|---:|---:|---:|---:|---:|---:|---:|")
    for r in rows:
        print(
            f"| {r['concurrency']} | {r['passages']} | {r['seconds']:.2f} | "
            f"{r['per_second']:.1f} | {r['ceiling']:.0f} | {100 * r['of_ceiling']:.1f}% "
            f"| {r['client_cpu_ms_per_annotation']:.2f} |"
        )


if __name__ == "__main__":
    main()
