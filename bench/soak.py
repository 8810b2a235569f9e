"""Soak test of ``uniner serve`` on 127.0.0.1: a mix of small and maximum-size requests at high
concurrency for a fixed time; does the server degrade (503/504) instead of dying?

    python bench/soak.py --seconds 600 --concurrency 32 [--threads 2] [--out runs/soak.json]

Starts the real server as its own process (``uniner serve`` with its defaults and the shipped
default model) on a free loopback port, waits for /health, then keeps ``--concurrency`` clients
busy until ``--seconds`` pass or ``--max-requests`` are sent (it always stops by itself; nothing
leaves the machine). Request kinds, drawn with a fixed seed:

- ``small``: one sentence and 3 labels (most requests);
- ``max``: the largest request the server admits (32 labels, texts filling the per-request cost
  cap read from /v1/models);
- ``over``: the request limits' top (64 texts of 15,000 characters, 32 labels, about 1 MB), which
  admission refuses with 413 before any model work.

Reports p50/p99 latency per kind (answered requests), answers by status and error code, the
server's resident memory (RSS, from /proc) at the start, the peak and the end, /health's states
seen, and whether SIGTERM then stopped it within its graceful timeout. The target: no 5xx other
than the documented 503 (overloaded, with Retry-After) and 504 (timed out, work stopped).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import random
import signal
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path
from urllib.parse import urlparse

import httpx

# a sibling script (run as `python bench/...`, so bench/ is on sys.path)
from load_test import wait_for_health
from uniner.serving.server import free_port

HOST = "127.0.0.1"
SENTENCES = (
    "Marie Curie discovered polonium at the University of Paris in 1898.",
    "Alan Turing was born in London and worked at Bletchley Park during the war.",
    "The Eiffel Tower in Paris was designed by Gustave Eiffel's company.",
    "Guido van Rossum created Python while working at CWI in Amsterdam.",
    "Serena Williams won the Australian Open in Melbourne in 2017.",
    "Insulin was first isolated by Frederick Banting at the University of Toronto.",
    "The Beatles recorded Abbey Road at EMI Studios in London in 1969.",
    "Amazon opened its second headquarters in Arlington, Virginia.",
)
LABELS = (
    "person", "organization", "location", "city", "country", "date", "university",
    "programming language", "chemical element", "event", "award", "product", "disease",
    "protein", "band", "album", "song", "building", "company", "sport", "tournament",
    "scientist", "writer", "politician", "movie", "director", "actor", "genre", "year",
    "field", "algorithm", "metric",
)  # fmt: skip


def rss_kb(pid: int) -> int | None:
    """Resident set size of ``pid`` in kB (Linux /proc), None where unavailable."""
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    except OSError:
        return None
    return None


def start_server(port: int, threads: int | None, log: Path) -> subprocess.Popen:
    cmd = [sys.executable, "-c", "from uniner.cli import main; main()", "serve"]
    cmd += ["--host", HOST, "--port", str(port), "--log-level", "warning"]
    if threads:
        cmd += ["--threads", str(threads)]
    proc = subprocess.Popen(cmd, stdout=log.open("w"), stderr=subprocess.STDOUT)
    return wait_for_health(proc, f"http://{HOST}:{port}", log, 600)


def text_of(chars: int, rng: random.Random) -> str:
    out = ""
    while len(out) < chars:
        out += rng.choice(SENTENCES) + " "
    return out[:chars]


def bodies(limits: dict, rng: random.Random) -> dict[str, dict]:
    """One request body per kind, sized from the server's own limits."""
    n_labels = min(len(LABELS), int(limits["max_labels"]))
    labels = list(LABELS[:n_labels])
    cap = limits.get("max_request_cost") or 250_000
    per_char = (n_labels + 8) / 8  # uniner.serving.admission.request_cost's label factor
    chars = min(int(limits["max_text_chars"]), 4_000)
    n_texts = max(1, min(int(limits["max_texts"]), int(cap / per_char) // (chars + 64)))
    over_chars = min(int(limits["max_text_chars"]), 15_000)
    return {
        "small": {"text": rng.choice(SENTENCES), "labels": ["person", "location", "date"]},
        "max": {"texts": [text_of(chars, rng) for _ in range(n_texts)], "labels": labels},
        "over": {
            "texts": [text_of(over_chars, rng) for _ in range(int(limits["max_texts"]))],
            "labels": labels,
        },
    }


async def drive(url: str, args: argparse.Namespace, kinds: dict[str, dict]) -> dict:
    rng = random.Random(args.seed)
    weights = {"small": args.small_share, "max": args.max_share, "over": args.over_share}
    names, w = list(weights), list(weights.values())
    lat: dict[str, list[float]] = {k: [] for k in names}
    answers: Counter[str] = Counter()
    sent = 0
    end = time.monotonic() + args.seconds
    limits = httpx.Limits(max_connections=args.concurrency, max_keepalive_connections=0)
    timeout = httpx.Timeout(args.client_timeout)

    async def client_loop(client: httpx.AsyncClient) -> None:
        nonlocal sent
        while time.monotonic() < end and sent < args.max_requests:
            sent += 1
            kind = rng.choices(names, w)[0]
            t0 = time.perf_counter()
            try:
                r = await client.post("/v1/extract", json=kinds[kind])
                code = "ok" if r.status_code == 200 else r.json()["error"]["code"]
                key = f"{kind} {r.status_code} {code}"
                if r.status_code == 200:
                    lat[kind].append((time.perf_counter() - t0) * 1000.0)
                elif r.status_code == 503:
                    await asyncio.sleep(min(float(r.headers.get("retry-after", 1)), 5.0))
            except (httpx.TransportError, ValueError, KeyError) as exc:
                key = f"{kind} transport {type(exc).__name__}"
            answers[key] += 1

    async with httpx.AsyncClient(base_url=url, limits=limits, timeout=timeout) as client:
        await asyncio.gather(*(client_loop(client) for _ in range(args.concurrency)))
    return {"latency_ms": lat, "answers": dict(sorted(answers.items())), "sent": sent}


async def watch(url: str, pid: int, stop: asyncio.Event, seen: dict) -> None:
    """Samples /health and RSS every 5 s while the soak runs."""
    async with httpx.AsyncClient(base_url=url, timeout=10) as c:
        while not stop.is_set():
            try:
                h = (await c.get("/health")).json()
                seen["status"][h["status"]] = seen["status"].get(h["status"], 0) + 1
                seen["max_queue_cost"] = max(seen["max_queue_cost"], h["queue_cost"])
                seen["timeouts"] = h["timeouts"]
            except (httpx.TransportError, ValueError):
                seen["status"]["unreachable"] = seen["status"].get("unreachable", 0) + 1
            seen["rss_peak_kb"] = max(seen["rss_peak_kb"], rss_kb(pid) or 0)
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), 5.0)


async def soak(url: str, pid: int, args: argparse.Namespace, kinds: dict[str, dict]) -> dict:
    seen = {"status": {}, "max_queue_cost": 0, "timeouts": 0, "rss_peak_kb": rss_kb(pid) or 0}
    stop = asyncio.Event()
    watcher = asyncio.create_task(watch(url, pid, stop, seen))
    res = await drive(url, args, kinds)
    stop.set()
    await watcher
    return {**res, "health": seen}


def pct(values: list[float], q: float) -> float | None:
    if not values:
        return None
    s = sorted(values)
    return round(s[min(len(s) - 1, max(0, round(q * len(s)) - 1))], 1)


def report(res: dict, args: argparse.Namespace) -> str:
    lines = [
        f"Soak: {args.seconds} s at concurrency {args.concurrency}, {res['sent']} requests "
        f"(shares small/max/over {args.small_share}/{args.max_share}/{args.over_share})",
        "",
        "| kind | texts x chars, labels | answered 200 | p50 ms | p99 ms |",
        "|---|---|---:|---:|---:|",
    ]
    for kind, shape in res["shapes"].items():
        lat = res["latency_ms"][kind]
        lines.append(f"| {kind} | {shape} | {len(lat)} | {pct(lat, 0.5)} | {pct(lat, 0.99)} |")
    lines += ["", "| kind, status, code | count |", "|---|---:|"]
    lines += [f"| {k} | {v} |" for k, v in res["answers"].items()]
    other_5xx = sum(
        v
        for k, v in res["answers"].items()
        if k.split()[1].startswith("5") and k.split()[1] not in ("503", "504")
    )
    transport = sum(v for k, v in res["answers"].items() if k.split()[1] == "transport")
    h = res["health"]
    lines += [
        "",
        f"5xx other than 503/504: {other_5xx}; transport errors: {transport}",
        f"server RSS: start {res['rss_kb']['start'] / 1024:.0f} MB, peak "
        f"{h['rss_peak_kb'] / 1024:.0f} MB, end {res['rss_kb']['end'] / 1024:.0f} MB",
        f"/health states seen (every 5 s): {h['status']}; most queued cost {h['max_queue_cost']};"
        f" timeouts {h['timeouts']}",
        f"SIGTERM: exit code {res['exit_code']} after {res['stop_s']} s",
    ]
    return "\n".join(lines)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--seconds", type=float, default=600.0)
    ap.add_argument("--concurrency", type=int, default=32)
    ap.add_argument("--max-requests", type=int, default=1_000_000)
    ap.add_argument("--threads", type=int, default=None, help="server CPU threads")
    ap.add_argument("--small-share", type=float, default=0.85)
    ap.add_argument("--max-share", type=float, default=0.13)
    ap.add_argument("--over-share", type=float, default=0.02)
    ap.add_argument("--client-timeout", type=float, default=120.0)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--url", help="an already running server on this machine (loopback only)")
    ap.add_argument("--out", type=Path, default=Path("runs/soak.json"))
    args = ap.parse_args()
    if not 0 < args.seconds <= 3_600 or not 1 <= args.concurrency <= 256:
        ap.error("--seconds must be in (0, 3600] and --concurrency in [1, 256]")
    args.out.parent.mkdir(parents=True, exist_ok=True)
    proc = None
    if args.url:
        if urlparse(args.url).hostname not in ("127.0.0.1", "localhost", "::1"):
            ap.error("--url must be a loopback address: this script only loads this machine")
        url, pid = args.url.rstrip("/"), None
    else:
        proc = start_server(free_port(HOST), args.threads, args.out.with_suffix(".server.log"))
        url, pid = f"http://{HOST}:{proc.args[proc.args.index('--port') + 1]}", proc.pid
    try:
        limits = httpx.get(url + "/v1/models", timeout=30).json()["limits"]
        kinds = bodies(limits, random.Random(args.seed))
        httpx.post(url + "/v1/extract", json=kinds["small"], timeout=120)  # warm-up
        start_rss = rss_kb(pid) if pid else None
        res = asyncio.run(soak(url, pid or 0, args, kinds))
        res["rss_kb"] = {"start": start_rss or 0, "end": (rss_kb(pid) if pid else 0) or 0}
    finally:
        res_stop = stop_server(proc)
    res.update(res_stop)
    res["shapes"] = {
        k: f"{len(b.get('texts') or [b.get('text')])} x {len((b.get('texts') or [b['text']])[0])}"
        f", {len(b['labels'])}"
        for k, b in kinds.items()
    }
    res["args"] = {k: (str(v) if isinstance(v, Path) else v) for k, v in vars(args).items()}
    table = report(res, args)
    args.out.write_text(json.dumps({**res, "table": table}, indent=2) + "\n", encoding="utf-8")
    print(table)


def stop_server(proc: subprocess.Popen | None) -> dict:
    """SIGTERM, then the seconds until the process ended (killed after 120 s)."""
    if proc is None:
        return {"exit_code": None, "stop_s": None}
    t0 = time.monotonic()
    proc.send_signal(signal.SIGTERM)
    try:
        code = proc.wait(120)
    except subprocess.TimeoutExpired:
        proc.kill()
        code = proc.wait()
    return {"exit_code": code, "stop_s": round(time.monotonic() - t0, 1)}


if __name__ == "__main__":
    main()
