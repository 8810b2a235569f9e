"""Records per second of ``uniner extract --engine ray`` (1 and 2 actors) against the
single-process ``uniner extract -i`` on the same input (issue 24; not part of CI).

    python bench/ray_throughput.py --records 256 --shards 8 [--model M] [--rounds 2]

Every run is the real command as its own process, timed end to end (Python start, Ray start,
model load, extraction, commits), so the ratios are what a user sees. The input is the first
``--records`` CoNLL-2003 test sentences of at least 5 words (../shared/data; used for speed
only), each asked person, location and organization, cut into ``--shards`` JSONL shards with
explicit ids; the CLI reads the same records as one file. Extra runs separate fixed and per-shard
costs: one record (start-up: Ray, actors, model load) and all records in one shard, so
``(time with S shards - time with 1 shard) / (S - 1)`` is the overhead of one more shard. The
modes alternate over ``--rounds``, each round starting one mode later (load from other jobs
then falls on all alike), and medians are reported. Prints a markdown table (BENCHMARKS.md
carries it with command, machine and date); raw numbers go to runs/ray-throughput.json. The Ray
outputs are checked to equal the CLI's, record for record.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shlex
import shutil
import statistics
import subprocess
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

from uniner.paths import REPO_ROOT, data_dir

LABELS = ["person", "location", "organization"]


def sentences(n: int) -> list[str]:
    from uniner.data.readers import read_examples

    root = data_dir()
    if root is None:
        sys.exit("../shared/data was not found (the CoNLL-2003 test sentences are read there)")
    out = []
    for ex in read_examples(root / "supervised" / "conll2003" / "test.txt"):
        if len(ex.text.split()) >= 5:
            out.append(ex.text)
        if len(out) == n:
            return out
    sys.exit(f"only {len(out)} sentences of 5+ words found")


def write_inputs(work: Path, texts: list[str], shards: int) -> dict[str, Path]:
    """The same records four ways: one file (CLI), S shards, one shard, one record."""
    recs = [{"id": i, "text": t, "labels": LABELS} for i, t in enumerate(texts)]
    paths = {k: work / k for k in ("sharded", "one_shard", "one_record")}
    for p in paths.values():
        p.mkdir(parents=True)
    per = -(-len(recs) // shards)
    for k in range(shards):
        _jsonl(paths["sharded"] / f"part-{k:03d}.jsonl", recs[k * per : (k + 1) * per])
    _jsonl(paths["one_shard"] / "all.jsonl", recs)
    _jsonl(paths["one_record"] / "one.jsonl", recs[:1])
    paths["file"] = work / "all.jsonl"
    _jsonl(paths["file"], recs)
    paths["file_one"] = work / "one.jsonl"
    _jsonl(paths["file_one"], recs[:1])
    return paths


def _jsonl(path: Path, recs: list[dict]) -> None:
    path.write_text("".join(json.dumps(r) + "\n" for r in recs), encoding="utf-8")


def timed(cmd: list[str]) -> float:
    t0 = time.monotonic()
    res = subprocess.run(
        cmd, capture_output=True, text=True, env={**os.environ, "UNINER_OFFLINE": "1"}
    )
    wall = time.monotonic() - t0
    if res.returncode != 0:
        sys.exit(f"{shlex.join(cmd)} failed:\n{res.stderr[-3000:]}")
    return wall


def commands(paths: dict[str, Path], work: Path, args: argparse.Namespace) -> dict[str, list[str]]:
    base = ["uniner", "extract", *(a for lab in LABELS for a in ("-l", lab))]
    base += ["--batch-size", str(args.batch_size)] + (["-m", args.model] if args.model else [])
    cpus = os.cpu_count() or 1

    def ray(src: str, actors: int) -> list[str]:
        out = work / "out" / f"{src}-{actors}"
        return [
            *base,
            "--engine",
            "ray",
            "-i",
            str(paths[src]),
            "-o",
            str(out),
            "--actors",
            str(actors),
            "--threads-per-actor",
            str(max(1, cpus // actors)),
        ]

    return {
        "cli": [
            *base,
            "-i",
            str(paths["file"]),
            "-o",
            str(work / "out" / "cli.jsonl"),
            "--threads",
            str(cpus),
        ],
        "cli_one_record": [
            *base,
            "-i",
            str(paths["file_one"]),
            "-o",
            str(work / "out" / "cli-one.jsonl"),
            "--threads",
            str(cpus),
        ],
        "ray_1_actor": ray("sharded", 1),
        "ray_2_actors": ray("sharded", 2),
        "ray_1_actor_one_shard": ray("one_shard", 1),
        "ray_1_actor_one_record": ray("one_record", 1),
    }


def check_outputs(work: Path, n: int) -> bool:
    """Every Ray output holds the CLI's records, each once, field for field (scores too)."""
    from uniner.scale.shards import read_output

    cli = {r["id"]: r for r in read_output(work / "out" / "cli.jsonl")}
    for name in ("sharded-1", "sharded-2", "one_shard-1"):
        rows = [r for p in sorted((work / "out" / name).glob("*.jsonl")) for r in read_output(p)]
        if len(rows) != n or {r["id"]: r for r in rows} != cli:
            return False
    return True


def summarise(walls: dict[str, list[float]], n: int, shards: int) -> dict[str, float]:
    med = {k: statistics.median(v) for k, v in walls.items()}
    rate = {k: n / med[k] for k in ("cli", "ray_1_actor", "ray_2_actors")}
    steady = {  # start-up left out: (n - 1) records in (time for n - time for one)
        "cli": (n - 1) / max(1e-9, med["cli"] - med["cli_one_record"]),
        "ray_1_actor": (n - 1) / max(1e-9, med["ray_1_actor"] - med["ray_1_actor_one_record"]),
    }
    return {
        **{f"wall_s_{k}": round(v, 2) for k, v in med.items()},
        **{f"records_per_s_{k}": round(v, 2) for k, v in rate.items()},
        "ratio_ray_1_actor_to_cli": round(rate["ray_1_actor"] / rate["cli"], 3),
        "ratio_ray_2_actors_to_cli": round(rate["ray_2_actors"] / rate["cli"], 3),
        "ratio_ray_2_to_1_actors": round(rate["ray_2_actors"] / rate["ray_1_actor"], 3),
        "steady_records_per_s_cli": round(steady["cli"], 2),
        "steady_records_per_s_ray_1_actor": round(steady["ray_1_actor"], 2),
        "startup_s_cli": round(med["cli_one_record"], 2),
        "startup_s_ray": round(med["ray_1_actor_one_record"], 2),
        "overhead_s_per_shard": round(
            (med["ray_1_actor"] - med["ray_1_actor_one_shard"]) / max(1, shards - 1), 3
        ),
    }


def table(s: dict[str, float], n: int, shards: int) -> str:
    rows = [
        ("single-process CLI", s["wall_s_cli"], s["records_per_s_cli"], 1.0),
        (
            "Ray, 1 actor",
            s["wall_s_ray_1_actor"],
            s["records_per_s_ray_1_actor"],
            s["ratio_ray_1_actor_to_cli"],
        ),
        (
            "Ray, 2 actors",
            s["wall_s_ray_2_actors"],
            s["records_per_s_ray_2_actors"],
            s["ratio_ray_2_actors_to_cli"],
        ),
    ]
    lines = [
        f"| {n} records, {shards} shards | wall s | records/s | ratio to CLI |",
        "|---|---:|---:|---:|",
    ]
    lines += [f"| {a} | {b:.1f} | {c:.2f} | {d:.2f} |" for a, b, c, d in rows]
    lines.append(
        f"\nStart-up (one record): CLI {s['startup_s_cli']:.1f} s, Ray {s['startup_s_ray']:.1f} s; "
        f"without it, records/s: CLI {s['steady_records_per_s_cli']:.2f}, Ray 1 actor "
        f"{s['steady_records_per_s_ray_1_actor']:.2f}. Overhead of one more shard: "
        f"{s['overhead_s_per_shard']:.2f} s ({shards} shards vs 1 shard, 1 actor)."
    )
    return "\n".join(lines)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--records", type=int, default=256)
    ap.add_argument("--shards", type=int, default=8)
    ap.add_argument("--model", default=None, help="[default: the shipped default model]")
    ap.add_argument("--batch-size", type=int, default=16)
    ap.add_argument("--rounds", type=int, default=1)
    ap.add_argument("--work", type=Path, default=REPO_ROOT / "runs" / "ray-throughput")
    args = ap.parse_args()
    shutil.rmtree(args.work, ignore_errors=True)
    paths = write_inputs(args.work, sentences(args.records), args.shards)
    (args.work / "out").mkdir()
    cmds = commands(paths, args.work, args)
    walls: dict[str, list[float]] = {k: [] for k in cmds}
    load = [os.getloadavg()[0]]
    names = list(cmds)
    for r in range(args.rounds):
        for name in names[r % len(names) :] + names[: r % len(names)]:  # each round rotated
            cmd = cmds[name]
            target = Path(cmd[cmd.index("-o") + 1])  # a rerun must redo the work, not resume
            shutil.rmtree(target) if target.is_dir() else target.unlink(missing_ok=True)
            walls[name].append(timed(cmd))
            print(f"round {r + 1} {name}: {walls[name][-1]:.1f} s", file=sys.stderr)
    load.append(os.getloadavg()[0])
    s = summarise(walls, args.records, args.shards)
    ok = check_outputs(args.work, args.records)
    text = table(s, args.records, args.shards)
    print(text)
    print(
        f"Ray outputs equal the CLI's record for record: {ok}; "
        f"load average {load[0]:.1f} -> {load[1]:.1f}"
    )
    meta = {
        "command": "python " + shlex.join(["bench/ray_throughput.py", *sys.argv[1:]]),
        "date": datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC"),
        "machine": f"{platform.machine()}, {os.cpu_count()} CPUs, {platform.python_version()}",
        "model": args.model or "the shipped default (uniner-span-mpnet)",
        "load_average_before_after": load,
        "outputs_complete": ok,
        "walls": walls,
        **s,
    }
    out = REPO_ROOT / "runs" / "ray-throughput.json"
    out.write_text(json.dumps(meta, indent=1))


if __name__ == "__main__":
    main()
