"""The 50M-passage plan's simulation (docs/scale.md): scripted vLLM-like endpoints with realistic
latency and error rates, scaled down in time, driven by the real multi-endpoint client.

    python bench/scale_sim.py [--passages 4000] [--endpoints 4] [--scale 4] [--in-flight 8]

1. Tokens per passage from our own prompt (``pile-ner-type``, the paper's, through
   ``PromptTemplate.messages``) on the Pile-NER passages in ../shared/data, counted with a
   chat tokenizer (SmolLM2's; Llama-3's larger vocabulary gives somewhat fewer), and the answer
   the teacher would give (the passage's (mention, type) pairs in the prompt's output format).
2. ``--endpoints`` scripted OpenAI-compatible servers, each its own process
   (``tests/doubles/teacher_server.py``). A request's latency is a vLLM endpoint's at
   ``REAL["concurrency"]`` requests in flight: time to first token plus the answer's tokens at
   the per-sequence decode rate that the published per-GPU output rate implies, times a
   lognormal jitter, all divided by ``--scale`` (timeouts, Retry-After and probe backoff too).
   Each simulated endpoint holds ``--in-flight`` requests instead of 128, so it answers
   ``scale * in_flight / 128`` times a real endpoint's requests per second (a quarter by
   default): a shared 2-core machine cannot drive four full-rate endpoints, and the client must
   not be the bottleneck of a run that measures failure handling.
3. Errors (:data:`ERRORS`, independent per request and endpoint) and endpoint events at fixed
   points of progress (so they land mid-run on any machine): one endpoint frozen (SIGSTOP: a
   hung GPU worker that still holds its sockets) at 20% for two per-request timeouts, one
   killed (SIGKILL) at 40% and restarted at 70%. The same corpus is first run with neither
   errors nor events (the baseline), so the failures' cost is read on the same machine at the
   same moment rather than against an ideal that a shared CPU cannot reach.
4. The real runner (``run_distillation``: store, parsing, filtering, output) over
   ``TeacherPool``; checks every passage answered once; works out the plan
   (``bench/scale_plan.py``: corpus size, price, availability); writes
   ``bench/figures/scale-sim.json`` and the block between the sim markers of ``docs/scale.md``
   (``--render-only`` redoes the plan and the block from that JSON).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import math
import os
import platform
import random
import resource
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

from scale_plan import OUTPUT_TOKENS_PER_S, plan_table, project
from uniner.distill.prompts import get_template
from uniner.distill.runner import Passage, run_distillation
from uniner.distill.store import Store
from uniner.distill.teachers.endpoints import parse_endpoints
from uniner.distill.teachers.pool import TeacherPool

ROOT = Path(__file__).resolve().parents[1]
TEACHER_SERVER = ROOT / "tests" / "doubles" / "teacher_server.py"  # a test double, not in uniner
sys.path.insert(0, str(ROOT))

from tests.doubles.teacher_server import sha, tuples_answer  # noqa: E402

OUT_JSON = ROOT / "bench" / "figures" / "scale-sim.json"
DOC = ROOT / "docs" / "scale.md"
BEGIN, END = "<!-- scale-sim:begin -->", "<!-- scale-sim:end -->"
TOKENIZER = "smollm2-135m-instruct"

# One real endpoint: Llama-3.1-8B-Instruct (FP8) under vLLM on one H100 (see scale_plan.py)
REAL = {
    "gpu": "NVIDIA H100 80GB",
    "teacher": "Llama-3.1-8B-Instruct (FP8) on vLLM",
    "output_tokens_per_s": OUTPUT_TOKENS_PER_S,
    "concurrency": 128,  # requests in flight per endpoint
    "ttft_s": 0.3,  # queueing + prefill of a ~400-token prompt at that load
    "jitter_sigma": 0.25,  # lognormal spread of a request's latency around its expectation
    "timeout_s": 60.0,  # the client's per-request timeout (stall detector)
    "retry_after_s": 1.0,  # a 429's Retry-After
    "probe_backoff_s": 1.0,  # the pool's defaults: first probe after 1 s, at most every 10 s
    "probe_backoff_max_s": 10.0,
}
MILESTONES = (0.5, 0.9, 0.95, 1.0)  # fractions of the passages whose finishing time is kept
ERRORS = {"http_503": 0.005, "http_429": 0.002, "stall": 0.001}  # per request, per endpoint
EVENTS = (  # (fraction of passages done, action, endpoint index); a freeze lasts FREEZE_TIMEOUTS
    (0.2, "freeze", 1),
    (0.4, "kill", 2),
    (0.7, "restart", 2),
)
FREEZE_TIMEOUTS = 2.0  # a frozen endpoint stays frozen this many per-request timeouts


def _summary(values: list[float]) -> dict[str, float]:
    qs = statistics.quantiles(values, n=100, method="inclusive")
    return {
        "mean": round(statistics.fmean(values), 1),
        "p50": round(qs[49], 1),
        "p95": round(qs[94], 1),
        "max": round(max(values), 1),
    }


def measure_tokens() -> dict:
    """Prompt and answer tokens of every Pile-NER passage here, with our prompt template."""
    from transformers import AutoTokenizer

    from uniner.backbones import resolve_backbone
    from uniner.data.sources import pile_ner_examples

    tok = AutoTokenizer.from_pretrained(resolve_backbone(TOKENIZER))
    tmpl = get_template("pile-ner-type")
    rows = []
    for ex in pile_ner_examples(None):
        pairs = list(dict.fromkeys((e.text, e.label) for e in ex.entities))
        text = tok.apply_chat_template(
            tmpl.messages(ex.text), tokenize=False, add_generation_prompt=True
        )
        prompt = tok(text, add_special_tokens=False)["input_ids"]
        answer = tok(tuples_answer(pairs), add_special_tokens=False)["input_ids"]
        rows.append((ex.text, pairs, len(prompt), len(answer) + 1))  # + end of turn
    return {
        "tokenizer": TOKENIZER,
        "template": tmpl.id,
        "passages": len(rows),
        "input_tokens": _summary([r[2] for r in rows]),
        "output_tokens": _summary([r[3] for r in rows]),
        "pairs_per_passage": round(statistics.fmean(len(r[1]) for r in rows), 2),
        "_rows": rows,
    }


def _latency(out_tokens: int, scale: float, rng: random.Random) -> float:
    """One request's simulated seconds (see the module docstring)."""
    per_seq = REAL["output_tokens_per_s"] / REAL["concurrency"]
    real = (REAL["ttft_s"] + out_tokens / per_seq) * rng.lognormvariate(0, REAL["jitter_sigma"])
    return real / scale


def _actions(
    answer: str, delay: float, scale: float, rng: random.Random, errors: bool
) -> list[dict]:
    """The scripted answer, after the errors this request draws (drawn even when ``errors`` is
    off, so that the baseline and the failure run get the same latencies)."""
    draws = {kind: rng.random() < p for kind, p in ERRORS.items()}
    acts: list[dict] = []
    if errors and draws["http_503"]:
        acts.append({"status": 503, "delay": delay / 2})
    if errors and draws["http_429"]:
        acts.append({"status": 429, "retry_after": round(REAL["retry_after_s"] / scale, 4)})
    if errors and draws["stall"]:
        acts.append({"hang": 3600})
    return [*acts, {"delay": round(delay, 4), "content": answer}]


def build_corpus(rows: list, n: int) -> tuple[list[Passage], list[tuple[str, int]]]:
    """``n`` distinct passages cycling through the Pile-NER ones (a copy number in front)."""
    passages, answers = [], []
    for i in range(n):
        text, pairs, _, out = rows[i % len(rows)]
        passages.append(Passage(f"p{i}", f"[{i}] {text}" if i >= len(rows) else text))
        answers.append((tuples_answer(pairs), out))
    return passages, answers


def write_scripts(passages, answers, args, d: Path, errors: bool) -> list[Path]:
    paths = []
    for e in range(args.endpoints):
        rng = random.Random(f"{args.seed}-{e}")
        by_hash = {
            sha(p.text): _actions(ans, _latency(out, args.scale, rng), args.scale, rng, errors)
            for p, (ans, out) in zip(passages, answers, strict=True)
        }
        path = d / f"endpoint{e}.json"
        path.write_text(json.dumps({"models": ["teacher"], "by_hash": by_hash}))
        paths.append(path)
    return paths


class Server:
    """One scripted endpoint in its own process; killed, frozen and restarted on its port."""

    def __init__(self, script: Path, d: Path, index: int) -> None:
        self.script, self.d, self.index = script, d, index
        self.port: int | None = None
        self.proc: subprocess.Popen | None = None

    def start(self) -> Server:
        port_file = self.d / f"port{self.index}"
        port_file.unlink(missing_ok=True)
        cmd = [sys.executable, str(TEACHER_SERVER), "--script", str(self.script)]
        cmd += ["--port-file", str(port_file), "--port", str(self.port or 0)]
        self.proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL)
        deadline = time.time() + 60
        while not port_file.exists():
            if time.time() > deadline or self.proc.poll() is not None:
                raise RuntimeError(f"scripted endpoint {self.index} did not start")
            time.sleep(0.05)
        self.port = int(port_file.read_text())
        return self

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/v1"

    def signal(self, sig: int) -> None:
        assert self.proc is not None
        self.proc.send_signal(sig)
        if sig == signal.SIGKILL:
            self.proc.wait()

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGCONT)
            self.proc.kill()
            self.proc.wait()


def _apply(event: str, server: Server, freeze_s: float, record) -> None:
    if event == "freeze":  # thawed by a timer, so the stall outlasts the client's timeout
        server.signal(signal.SIGSTOP)
        thaw = lambda: (server.signal(signal.SIGCONT), record("thaw", server.index))  # noqa: E731
        asyncio.get_running_loop().call_later(freeze_s, thaw)
    elif event == "kill":
        server.signal(signal.SIGKILL)
    else:
        server.start()


async def simulate(passages, servers: list[Server], args, d: Path, events: bool) -> dict:
    """The real runner over a TeacherPool; endpoint events fire at fixed points of progress."""
    scale, conc = args.scale, args.in_flight
    eps = parse_endpoints([f"{s.url},concurrency={conc},name=ep{s.index}" for s in servers])
    pool = TeacherPool(
        eps,
        "teacher",
        api_key_env=None,
        timeout=REAL["timeout_s"] / scale,
        probe_backoff=REAL["probe_backoff_s"] / scale,
        probe_backoff_max=REAL["probe_backoff_max_s"] / scale,
        down_timeout=3600,
    )
    pending, fired = list(EVENTS) if events else [], []
    t0 = time.perf_counter()
    n = len(passages)

    def record(event: str, idx: int) -> None:
        second = round(time.perf_counter() - t0, 2)
        fired.append({"event": event, "endpoint": f"ep{idx}", "second": second})

    marks = list(MILESTONES)
    reached: dict[str, float] = {}

    def progress(_stats, done: int) -> None:
        while marks and done >= marks[0] * n:
            reached[f"{marks.pop(0):g}"] = round(time.perf_counter() - t0, 2)
        while pending and done >= pending[0][0] * n:
            _, event, idx = pending.pop(0)
            record(event, idx)
            fired[-1]["done"] = done
            _apply(event, servers[idx], FREEZE_TIMEOUTS * REAL["timeout_s"] / scale, record)

    cpu0 = resource.getrusage(resource.RUSAGE_SELF)
    try:
        with Store(d / "store.sqlite") as store:
            stats = await run_distillation(
                passages, pool, get_template("pile-ner-type"), store, d / "annotations.jsonl",
                concurrency=pool.capacity, progress=progress,
            )  # fmt: skip
    finally:
        report = pool.report()
        await pool.aclose()
    cpu1 = resource.getrusage(resource.RUSAGE_SELF)
    cpu = (cpu1.ru_utime - cpu0.ru_utime) + (cpu1.ru_stime - cpu0.ru_stime)
    return {
        "seconds": round(time.perf_counter() - t0, 2), "stats": stats.to_dict(),
        "pool": report, "events": fired, "client_cpu_s": round(cpu, 2), "reached": reached,
        "per_endpoint_concurrency": conc,
    }  # fmt: skip


def check_exactly_once(passages, d: Path) -> dict:
    ids = [json.loads(line)["id"] for line in (d / "annotations.jsonl").open()]
    want = {p.id for p in passages}
    return {
        "records": len(ids),
        "duplicates": len(ids) - len(set(ids)),
        "missing": len(want - set(ids)),
        "store_bytes_per_passage": round((d / "store.sqlite").stat().st_size / len(passages)),
        "annotation_bytes_per_passage": round(
            (d / "annotations.jsonl").stat().st_size / len(passages)
        ),
    }


def ideal_rate(answers, scale: float, endpoints: int, conc: int) -> float:
    """Answers/s with no error and no event: Little's law on the mean scripted latency."""
    per_seq = REAL["output_tokens_per_s"] / REAL["concurrency"]
    jitter = math.exp(REAL["jitter_sigma"] ** 2 / 2)  # a lognormal's mean
    mean = statistics.fmean((REAL["ttft_s"] + out / per_seq) * jitter for _, out in answers)
    return endpoints * conc / (mean / scale)


def _fmt_endpoints(pool: dict, scale: float) -> list[str]:
    lines = [
        "| endpoint | answers | attempts | errors | failed over | down (sim s) | "
        "p50 / p95 / p99 latency, real-time s |",
        "|---|---:|---:|---|---:|---:|---|",
    ]
    for e in pool["endpoints"]:
        lat = e["latency_s"]
        real = " / ".join(f"{lat[q] * scale:.1f}" for q in ("p50", "p95", "p99"))
        errs = ", ".join(f"{k} {v}" for k, v in sorted(e["errors"].items())) or "0"
        lines.append(
            f"| {e['name']} | {e['ok']:,} | {e['sent']:,} | {errs} | {e['failed_over']} | "
            f"{e['down_seconds']:.1f} | {real} |"
        )
    return lines


def render(res: dict) -> str:
    t, sim, chk, plan, a = res["tokens"], res["sim"], res["check"], res["plan"], res["args"]
    rate = sim["stats"]["asked"] / sim["seconds"]
    base = res["baseline"]
    base_rate = base["stats"]["asked"] / base["seconds"]
    lines = [
        BEGIN,
        f"Generated by `python bench/scale_sim.py --passages {a['passages']} --endpoints "
        f"{a['endpoints']} --scale {a['scale']:g} --in-flight {a['in_flight']}` on "
        f"{res['date']} ({res['machine']}); "
        "JSON: `bench/figures/scale-sim.json`.",
        "",
        f"Tokens per passage ({t['passages']:,} Pile-NER passages, template `{t['template']}`, "
        f"tokenizer {t['tokenizer']}): prompt mean {t['input_tokens']['mean']:.0f} "
        f"(p95 {t['input_tokens']['p95']:.0f}), answer mean {t['output_tokens']['mean']:.0f} "
        f"(p95 {t['output_tokens']['p95']:.0f}, max {t['output_tokens']['max']:.0f}); "
        f"{t['pairs_per_passage']} (mention, type) pairs per passage.",
        "",
        f"Simulation: {a['passages']:,} passages, {a['endpoints']} endpoints x "
        f"{sim['per_endpoint_concurrency']} in flight, time / {a['scale']:g}. Baseline (no "
        f"errors, no events; mean of a run before and one after): {base['seconds']:.1f} s, "
        f"{base_rate:.1f} answers/s (Little's-law "
        f"ideal {res['ideal']:.1f}). With the errors and events: {sim['seconds']:.1f} s, "
        f"{rate:.1f} answers/s: {plan['goodput_measured']:.1%} of the baseline's rate over the "
        f"whole run and {plan['goodput_to_95_percent']:.1%} up to 95% of the passages (the "
        "last 5% wait on stragglers: a stalled request holds its passage for a full timeout), "
        "where the endpoint-seconds the events took by then predict "
        f"{plan['goodput_to_95_percent_predicted']:.1%}; "
        f"{plan['attempts_per_answer']:.3f} attempts per answer; on the endpoints no event "
        f"hit, failed attempts took {plan['slot_time_overhead'] - 1:.1%} more slot time than "
        "the answers; "
        f"{sim['pool']['failovers']} requests failed over; {chk['records']:,} records, "
        f"{chk['duplicates']} duplicates, {chk['missing']} missing, {sim['stats']['failed']} "
        f"failed passages; client CPU {plan['client_cpu_ms_per_answer']:.2f} ms per answer.",
        "",
        "Events (simulated seconds): "
        + "; ".join(
            f"{e['event']} {e['endpoint']} at {e['second']:.1f} s"
            + (f" ({e['done']:,} done)" if "done" in e else "")
            for e in sim["events"]
        )
        + ".",
        "",
        *_fmt_endpoints(sim["pool"], a["scale"]),
        "",
        *plan_table(plan),
        END,
    ]
    return "\n".join(lines)


def write_doc(block: str) -> None:
    text = DOC.read_text(encoding="utf-8") if DOC.exists() else f"{BEGIN}\n{END}\n"
    head, _, rest = text.partition(BEGIN)
    _, _, tail = rest.partition(END)
    DOC.write_text(head + block + tail, encoding="utf-8")


def run_once(passages, answers, args, d: Path, failures: bool) -> tuple[dict, dict]:
    """One simulated run in ``d`` (with or without the errors and events); its check."""
    d.mkdir()
    scripts = write_scripts(passages, answers, args, d, errors=failures)
    servers = [Server(s, d, i).start() for i, s in enumerate(scripts)]
    try:
        sim = asyncio.run(simulate(passages, servers, args, d, events=failures))
    finally:
        for s in servers:
            s.stop()
    return sim, check_exactly_once(passages, d)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--passages", type=int, default=4000)
    ap.add_argument("--endpoints", type=int, default=4)
    ap.add_argument("--scale", type=float, default=4.0, help="time divisor")
    ap.add_argument("--in-flight", type=int, default=8, help="requests in flight per endpoint")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--no-write", action="store_true", help="print only")
    ap.add_argument(
        "--render-only", action="store_true", help="redo the plan and text from the JSON"
    )
    args = ap.parse_args()
    if args.render_only:
        res = json.loads(OUT_JSON.read_text())
        res["plan"] = project(res["tokens"], res["sim"], res["baseline"], res["check"])
        _write(res, args.no_write)
        return
    tokens = measure_tokens()
    passages, answers = build_corpus(tokens.pop("_rows"), args.passages)
    loads = [os.getloadavg()[0]]
    with tempfile.TemporaryDirectory() as tmp:  # baseline before and after: the CPU is shared
        base, _ = run_once(passages, answers, args, Path(tmp) / "baseline", failures=False)
        loads.append(os.getloadavg()[0])
        sim, check = run_once(passages, answers, args, Path(tmp) / "failures", failures=True)
        loads.append(os.getloadavg()[0])
        base2, _ = run_once(passages, answers, args, Path(tmp) / "baseline2", failures=False)
        loads.append(os.getloadavg()[0])
    base["seconds_runs"] = [base["seconds"], base2["seconds"]]
    base["seconds"] = round(statistics.fmean(base["seconds_runs"]), 2)
    base["reached"] = {
        k: round((v + base2["reached"][k]) / 2, 2) for k, v in base["reached"].items()
    }
    ideal = ideal_rate(answers, args.scale, args.endpoints, sim["per_endpoint_concurrency"])
    res = {
        "date": datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC"),
        "machine": f"{platform.machine()}, {os.cpu_count()} CPUs, 1-minute load average "
        + "/".join(f"{x:.1f}" for x in loads)
        + " before/between/after the runs",
        "args": vars(args), "real": REAL, "errors": ERRORS, "tokens": tokens,
        "baseline": base, "sim": sim, "ideal": round(ideal, 1), "check": check,
    }  # fmt: skip
    res["plan"] = project(tokens, sim, base, check)
    _write(res, args.no_write)


def _write(res: dict, dry: bool) -> None:
    block = render(res)
    print(block)
    if not dry:
        OUT_JSON.write_text(json.dumps(res, indent=2) + "\n")
        write_doc(block)


if __name__ == "__main__":
    main()
