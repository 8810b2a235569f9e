"""Load test of ``uniner serve`` on 127.0.0.1: latency percentiles and throughput, with and
without micro-batching (not part of CI).

    python bench/load_test.py --requests 2000 --concurrency 32 [--threads 2] [--write]

For each mode it starts the real server as its own process (``uniner serve`` with the shipped
default model), waits for /health, sends a warm-up, then ``--requests`` POST /v1/extract calls
from ``--concurrency`` concurrent clients, one sentence each with 5 to 15 entity types. Both
servers stay up and the modes alternate over ``--rounds`` slices of the requests (on a shared
machine, load from other jobs then falls on both modes alike). The
sentences are CrossNER and MIT *test* sentences (InstructUIE copies under ../shared/data): used
for speed only, never scored. Labels: the sentence's data-set types first (minus CrossNER's
'else'), then types of the other sets, shuffled with a fixed seed. Any non-200 answer or
transport error counts as an error. Prints a markdown table; ``--write`` appends it with the
command, machine and date to BENCHMARKS.md; raw numbers go to runs/load-test.json.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import math
import os
import platform
import random
import shlex
import signal
import statistics
import subprocess
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

import httpx
from tqdm import tqdm

from uniner.paths import REPO_ROOT, data_dir
from uniner.serving.server import free_port

SETS = (
    "CrossNER_AI",
    "CrossNER_literature",
    "CrossNER_music",
    "CrossNER_politics",
    "CrossNER_science",
    "mit-movie",
    "mit-restaurant",
)


def workload(n: int, seed: int) -> list[dict]:
    """``n`` request bodies: a test sentence and 5-15 labels each (seeded)."""
    root = data_dir(required=True) / "zero-shot" / "instructuie"
    per_set: dict[str, tuple[list[str], list[str]]] = {}
    for name in SETS:
        sents = [r["sentence"] for r in json.loads((root / name / "test.json").read_text())]
        labels = [
            lab for lab in json.loads((root / name / "labels.json").read_text()) if lab != "else"
        ]
        per_set[name] = (sents, labels)
    pool = sorted({lab for _, labs in per_set.values() for lab in labs})
    rng = random.Random(seed)
    out = []
    for _ in range(n):
        name = rng.choice(SETS)
        sents, own = per_set[name]
        k = rng.randint(5, 15)
        labels = rng.sample(own, min(k, len(own)))
        others = [lab for lab in pool if lab not in labels]
        labels += rng.sample(others, k - len(labels))
        rng.shuffle(labels)
        out.append({"text": rng.choice(sents), "labels": labels})
    return out


def start_server(port: int, batching: bool, threads: int | None, log: Path) -> subprocess.Popen:
    cmd = [
        sys.executable,
        "-c",
        "from uniner.cli import main; main()",
        "serve",
        "--port",
        str(port),
        "--log-level",
        "warning",
        "--timeout",
        "120",
        "--micro-batching" if batching else "--no-micro-batching",
    ]
    if threads:
        cmd += ["--threads", str(threads)]
    proc = subprocess.Popen(cmd, stdout=log.open("w"), stderr=subprocess.STDOUT)
    return wait_for_health(proc, f"http://127.0.0.1:{port}", log, 300)


def wait_for_health(
    proc: subprocess.Popen, url: str, log: Path, seconds: float
) -> subprocess.Popen:
    """``proc`` once ``url``/health answers 200; an error if it exits or ``seconds`` pass."""
    deadline = time.monotonic() + seconds
    while True:
        if proc.poll() is not None:
            raise RuntimeError(f"server exited during startup; see {log}")
        try:
            if httpx.get(url + "/health", timeout=2).status_code == 200:
                return proc
        except httpx.TransportError:
            pass
        if time.monotonic() > deadline:
            proc.kill()
            raise TimeoutError(f"server did not start in {seconds:g} s")
        time.sleep(0.5)


async def drive(url: str, bodies: list[dict], concurrency: int, desc: str) -> dict:
    latencies: list[float] = []
    errors: list[str] = []
    it = iter(bodies)
    bar = tqdm(total=len(bodies), desc=desc, unit="req", mininterval=5)
    limits = httpx.Limits(max_connections=concurrency, max_keepalive_connections=concurrency)

    async def worker(client: httpx.AsyncClient) -> None:
        for body in it:
            t0 = time.perf_counter()
            try:
                r = await client.post("/v1/extract", json=body)
                if r.status_code != 200:
                    errors.append(f"{r.status_code}: {r.text[:200]}")
                else:
                    ents = r.json()["results"][0]["entities"]  # a full, parsable answer
                    if not isinstance(ents, list):
                        errors.append(f"bad answer: {r.text[:200]}")
            except Exception as exc:
                errors.append(f"{type(exc).__name__}: {exc}")
            latencies.append(time.perf_counter() - t0)
            bar.update()

    async with httpx.AsyncClient(base_url=url, timeout=300, limits=limits) as client:
        h0 = (await client.get("/health")).json()
        t0 = time.perf_counter()
        await asyncio.gather(*(worker(client) for _ in range(concurrency)))
        wall = time.perf_counter() - t0
        h1 = (await client.get("/health")).json()
    bar.close()
    return {
        "latencies": latencies,
        "errors": errors,
        "wall_s": wall,
        "model_calls": h1["batches"] - h0["batches"],
        "texts": h1["texts_done"] - h0["texts_done"],
        "loadavg_1m": os.getloadavg()[0],
    }


def summarise(parts: list[dict], batching: bool) -> dict:
    """Rounds of one mode pooled: percentiles over every request, throughput over summed wall."""
    lat = sorted(x for p in parts for x in p["latencies"])
    errors = [e for p in parts for e in p["errors"]]
    wall = sum(p["wall_s"] for p in parts)
    calls = sum(p["model_calls"] for p in parts)

    def pct(q: float) -> float:  # nearest-rank percentile, ms
        return lat[max(0, math.ceil(q / 100 * len(lat)) - 1)] * 1000

    return {
        "micro_batching": batching,
        "requests": len(lat),
        "errors": len(errors),
        "error_samples": errors[:5],
        "wall_s": wall,
        "throughput_rps": len(lat) / wall,
        "round_throughputs_rps": [len(p["latencies"]) / p["wall_s"] for p in parts],
        "p50_ms": pct(50),
        "p95_ms": pct(95),
        "p99_ms": pct(99),
        "mean_ms": statistics.fmean(lat) * 1000,
        "model_calls": calls,
        "texts_per_call": sum(p["texts"] for p in parts) / max(1, calls),
        "loadavg_1m_after_rounds": [round(p["loadavg_1m"], 2) for p in parts],
    }


def run_all(modes: tuple[bool, ...], args: argparse.Namespace, bodies: list[dict]) -> list[dict]:
    """Both servers up at once; the modes alternate round by round over disjoint request slices,
    so load from other jobs on a shared machine falls on both modes alike."""
    procs: dict[bool, subprocess.Popen] = {}
    urls: dict[bool, str] = {}
    parts: dict[bool, list[dict]] = {m: [] for m in modes}
    try:
        for m in modes:
            port = free_port()
            log = REPO_ROOT / "runs" / f"load-test-server-{'batched' if m else 'single'}.log"
            log.parent.mkdir(parents=True, exist_ok=True)
            procs[m] = start_server(port, m, args.threads, log)
            urls[m] = f"http://127.0.0.1:{port}"
            asyncio.run(drive(urls[m], bodies[: args.warmup], args.concurrency, "warm-up"))
        work = bodies[args.warmup :]
        size = math.ceil(len(work) / args.rounds)
        for r in range(args.rounds):
            chunk = work[r * size : (r + 1) * size]
            order = modes if r % 2 == 0 else tuple(reversed(modes))
            for m in order:
                name = f"round {r + 1}/{args.rounds} batching {'on' if m else 'off'}"
                parts[m].append(asyncio.run(drive(urls[m], chunk, args.concurrency, name)))
    finally:
        for proc in procs.values():
            proc.send_signal(signal.SIGTERM)
            try:
                proc.wait(60)
            except subprocess.TimeoutExpired:
                proc.kill()
    return [summarise(parts[m], m) for m in modes]


def table(results: list[dict], concurrency: int) -> str:
    rows = [
        "| micro-batching | requests | concurrency | errors | throughput (req/s) | p50 (ms) "
        "| p95 (ms) | p99 (ms) | texts per model call |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    for r in results:
        rows.append(
            f"| {'on' if r['micro_batching'] else 'off'} | {r['requests']} | {concurrency} "
            f"| {r['errors']} | {r['throughput_rps']:.1f} | {r['p50_ms']:.0f} | {r['p95_ms']:.0f} "
            f"| {r['p99_ms']:.0f} | {r['texts_per_call']:.1f} |"
        )
    return "\n".join(rows)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--requests", type=int, default=2000)
    ap.add_argument("--concurrency", type=int, default=32)
    ap.add_argument("--warmup", type=int, default=64)
    ap.add_argument("--threads", type=int, default=None, help="server torch threads")
    ap.add_argument("--modes", choices=("both", "on", "off"), default="both")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--rounds", type=int, default=4, help="alternations between the modes")
    ap.add_argument("--write", action="store_true", help="append the results to BENCHMARKS.md")
    ap.add_argument("--note", default="", help="a line about the machine added to BENCHMARKS.md")
    args = ap.parse_args()

    load_before = os.getloadavg()[0]
    bodies = workload(args.requests + args.warmup, args.seed)
    n_labels = [len(b["labels"]) for b in bodies[args.warmup :]]
    modes = {"both": (True, False), "on": (True,), "off": (False,)}[args.modes]
    results = run_all(modes, args, bodies)
    md = table(results, args.concurrency)
    print(md)
    for r in results:
        if r["errors"]:
            print(f"errors ({'on' if r['micro_batching'] else 'off'}):", r["error_samples"])

    out = REPO_ROOT / "runs" / "load-test.json"
    meta = {
        "date": datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC"),
        "machine": f"{platform.processor() or platform.machine()}, {os.cpu_count()} CPUs",
        "command": shlex.join(["python", "bench/load_test.py", *sys.argv[1:]]),
        "loadavg_1m_before": round(load_before, 2),
        "labels_per_request": [min(n_labels), statistics.fmean(n_labels), max(n_labels)],
    }
    out.write_text(json.dumps({**meta, "results": results}, indent=2))
    print(f"wrote {out}")
    if args.write:
        text = (
            f"\n## Serving under load ({meta['date']})\n\n"
            f"`{meta['command']}`: the real `uniner serve` process (shipped default model) on "
            f"127.0.0.1, {args.requests} POST /v1/extract requests after {args.warmup} warm-up "
            f"ones, {args.concurrency} concurrent clients in the same machine, one CrossNER/MIT "
            f"test sentence per request (speed only, never scored) with {min(n_labels)}-"
            f"{max(n_labels)} labels (mean {meta['labels_per_request'][1]:.1f}). Latency is per "
            f"request as the client sees it, queueing included. Both servers run at once and the "
            f"modes alternate in {args.rounds} rounds over disjoint slices of the requests, so "
            f"other load falls on both alike. Machine: {meta['machine']}; 1-minute load average "
            f"{meta['loadavg_1m_before']} before the run and "
            f"{', '.join(str(x) for r in results for x in r['loadavg_1m_after_rounds'])} after "
            f"each round (other jobs shared the CPU)."
            f"{(' ' + args.note) if args.note else ''}\n\n{md}\n"
        )
        with (REPO_ROOT / "BENCHMARKS.md").open("a", encoding="utf-8") as fh:
            fh.write(text)
        print("appended to BENCHMARKS.md")


if __name__ == "__main__":
    main()
