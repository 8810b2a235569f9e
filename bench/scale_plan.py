"""The arithmetic of the 50M-passage plan in docs/scale.md, from the simulation's results.

Kept apart from ``bench/scale_sim.py`` (which produces those results) so that the assumptions
(the corpus, the price, the availability, the target duration) sit in one short file.
"""

from __future__ import annotations

import math

CORPUS = 50_000_000
# Llama-3.1-8B-Instruct FP8 on vLLM, one H100: Red Hat's MLPerf Inference v5.1 Server result
OUTPUT_TOKENS_PER_S = 5103.0
PRICE_PER_GPU_HOUR = 2.99  # on-demand H100, the price docs/scale.md cites
TARGET_HOURS = 24
AVAILABILITY = 0.95  # assumed share of time an endpoint serves (docs/scale.md says why)


def lost_endpoint_seconds(events: list[dict], end: float) -> float:
    """Endpoint-seconds the events took away before ``end``: freeze to thaw, kill to restart."""
    lost, since = 0.0, {}
    for e in events:
        key, at = e["endpoint"], min(e["second"], end)
        if e["event"] in ("freeze", "kill"):
            since[key] = at
        elif key in since:
            lost += at - since.pop(key)
    return lost + sum(end - t for t in since.values())


def predicted_goodput(base_s: float, events: list[dict], end: float, endpoints: int) -> float:
    """If an outage costs its endpoint-seconds and nothing more, the run needs the baseline's
    endpoint-seconds plus the lost ones: ``base / (base + lost / endpoints)``."""
    return base_s / (base_s + lost_endpoint_seconds(events, end) / endpoints)


def project(tokens: dict, sim: dict, base: dict, check: dict) -> dict:
    """The 50M plan's numbers: the published per-GPU rate over our tokens per passage, derated
    by the slot time that failed attempts took in the simulation (a stall holds its slot for a
    whole timeout) and by an assumed availability; the simulation checks that an outage costs
    about its own endpoint-seconds (measured goodput against the one they predict)."""
    out_mean, in_mean = tokens["output_tokens"]["mean"], tokens["input_tokens"]["mean"]
    per_endpoint = OUTPUT_TOKENS_PER_S / out_mean
    eps = sim["pool"]["endpoints"]
    attempts_per_answer = sum(e["sent"] for e in eps) / max(1, sum(e["ok"] for e in eps))
    # per-request errors only: outages are the availability's part, so the slot time of the
    # endpoints the events hit (a frozen one's timeouts) is left out here
    hit = {e["endpoint"] for e in sim["events"]}
    clean = [e for e in eps if e["name"] not in hit]
    answered = sum(e["answer_seconds"] for e in clean)
    slot_overhead = (answered + sum(e["failed_seconds"] for e in clean)) / answered
    t95 = sim["reached"]["0.95"]
    predicted = predicted_goodput(base["reached"]["0.95"], sim["events"], t95, len(eps))
    rate = per_endpoint / slot_overhead * AVAILABILITY
    gpu_hours = CORPUS / rate / 3600
    endpoints = math.ceil(gpu_hours / TARGET_HOURS)
    cpu_ms = 1000 * sim["client_cpu_s"] / max(1, sim["stats"]["asked"])
    fleet_rate = endpoints * rate
    return {
        "passages": CORPUS,
        "passages_per_s_per_endpoint": round(per_endpoint, 1),
        "attempts_per_answer": round(attempts_per_answer, 4),
        "slot_time_overhead": round(slot_overhead, 4),
        "availability": AVAILABILITY,
        "goodput_measured": round(base["seconds"] / sim["seconds"], 3),
        "goodput_to_95_percent": round(base["reached"]["0.95"] / sim["reached"]["0.95"], 3),
        "goodput_to_95_percent_predicted": round(predicted, 3),
        "passages_per_s_per_endpoint_derated": round(rate, 1),
        "gpu_hours": round(gpu_hours),
        "target_hours": TARGET_HOURS,
        "endpoints": endpoints,
        "wall_hours": round(CORPUS / fleet_rate / 3600, 1),
        "price_per_gpu_hour": PRICE_PER_GPU_HOUR,
        "cost_usd": round(gpu_hours * PRICE_PER_GPU_HOUR),
        "tokens_in": round(CORPUS * in_mean),
        "tokens_out": round(CORPUS * out_mean),
        "client_cpu_ms_per_answer": round(cpu_ms, 2),
        "client_cores": math.ceil(fleet_rate * cpu_ms / 1000 / 0.7),  # at 70% of a core each
        "store_gb": round(CORPUS * check["store_bytes_per_passage"] / 1e9),
        "annotations_gb": round(CORPUS * check["annotation_bytes_per_passage"] / 1e9),
    }


def plan_table(plan: dict) -> list[str]:
    """The plan's figures as a markdown table."""
    return [
        "| 50M plan | value |",
        "|---|---:|",
        f"| passages/s per endpoint (published rate / answer tokens) | "
        f"{plan['passages_per_s_per_endpoint']:.1f} |",
        f"| after failed attempts ({plan['slot_time_overhead'] - 1:.1%} more slot time on the "
        "endpoints no event hit) and "
        f"{plan['availability']:.0%} availability | "
        f"{plan['passages_per_s_per_endpoint_derated']:.1f} |",
        f"| GPU-hours | {plan['gpu_hours']:,} |",
        f"| endpoints for {plan['target_hours']} h | {plan['endpoints']} "
        f"({plan['wall_hours']} h) |",
        f"| cost at ${plan['price_per_gpu_hour']}/GPU-hour | ${plan['cost_usd']:,} |",
        f"| tokens in / out | {plan['tokens_in'] / 1e9:.1f} B / {plan['tokens_out'] / 1e9:.1f} B |",
        f"| client cores (at 70% each) | {plan['client_cores']} |",
        f"| store / annotations | {plan['store_gb']} GB / {plan['annotations_gb']} GB |",
    ]
