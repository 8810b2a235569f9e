"""Run an extractor over benchmark splits and score it with every metric we report.

Each (passage, type) pair is one UniNER query. A span extractor answers all types of a passage at
once; its entities become the UniNER answer strings (distinct mentions in order of appearance,
serialised as a JSON list) so that the official metric scores it exactly like a generative model,
while the offset metrics score the entities themselves. ``max_queries`` caps the number of
(passage, type) pairs per data set with a seeded sample, as the paper's 200,000 cap does: the model
still reads the sampled passages with all types, and only the sampled pairs are scored.
"""

from __future__ import annotations

import json
import random
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from tqdm.auto import tqdm  # type: ignore[import-untyped]

from uniner.data.types import Entity, Example
from uniner.evaluation.counts import Counts
from uniner.evaluation.errors import ErrorBreakdown, classify
from uniner.evaluation.official import score_official
from uniner.evaluation.offsets import score_offsets
from uniner.inference.protocol import Extractor


@dataclass(frozen=True)
class DatasetResult:
    """All scores of one extractor on one split of one data set."""

    dataset: str
    split: str
    n_passages: int
    n_queries: int
    official: Counts
    strict: Counts
    partial: Counts
    span_only: Counts
    per_type: dict[str, dict[str, Any]] = field(default_factory=dict)
    seconds: float = 0.0
    errors: ErrorBreakdown = field(default_factory=ErrorBreakdown)

    def to_dict(self) -> dict[str, Any]:
        def prf(c: Counts) -> dict[str, float]:
            return {"precision": c.precision, "recall": c.recall, "f1": c.f1}

        return {
            "dataset": self.dataset,
            "split": self.split,
            "n_passages": self.n_passages,
            "n_queries": self.n_queries,
            "official": prf(self.official),
            "strict": prf(self.strict),
            "partial": prf(self.partial),
            "span_only": prf(self.span_only),
            "per_type": self.per_type,
            "errors": self.errors.to_dict(),
            "seconds": round(self.seconds, 3),
        }


def sample_queries(
    n_passages: int, labels: Sequence[str], max_queries: int | None, seed: int = 0
) -> list[tuple[int, str]]:
    """The (passage index, label) pairs to score, all of them or a seeded sample kept in order."""
    pairs = [(i, lab) for i in range(n_passages) for lab in labels]
    if max_queries is None or len(pairs) <= max_queries:
        return pairs
    if max_queries <= 0:
        raise ValueError(f"max_queries must be positive, got {max_queries}")
    keep = sorted(random.Random(seed).sample(range(len(pairs)), max_queries))
    return [pairs[k] for k in keep]


def sample_passages(
    n_passages: int, labels: Sequence[str], max_passages: int | None, seed: int = 0
) -> list[tuple[int, str]]:
    """Every (passage, label) pair of a seeded sample of passages, in order.

    The cheap sample for models that ask one question per type (the generative student): its
    passage prefix is encoded once and reused for all of that passage's types, so asking every
    type of fewer passages costs far less than a query sample spread over many passages.
    """
    if max_passages is not None and max_passages <= 0:
        raise ValueError(f"max_passages must be positive, got {max_passages}")
    idx = list(range(n_passages))
    if max_passages is not None and n_passages > max_passages:
        idx = sorted(random.Random(seed).sample(idx, max_passages))
    return [(i, lab) for i in idx for lab in labels]


def answer_for(entities: Sequence[Entity], label: str) -> str:
    """The UniNER answer string for one type: distinct mentions in order of appearance."""
    ordered = sorted((e for e in entities if e.label == label), key=lambda e: (e.start, e.end))
    return json.dumps(list(dict.fromkeys(e.text for e in ordered)))


def score_split(
    dataset: str,
    split: str,
    labels: Sequence[str],
    examples: Sequence[Example],
    predictions: Sequence[Sequence[Entity]],
    pairs: Sequence[tuple[int, str]] | None = None,
    seconds: float = 0.0,
) -> DatasetResult:
    """Score predictions (one entity list per example) with the official and offset metrics."""
    if len(predictions) != len(examples):
        raise ValueError(f"{dataset}: {len(predictions)} predictions for {len(examples)} examples")
    if pairs is None:
        pairs = [(i, lab) for i in range(len(examples)) for lab in labels]
    gold_answers = [answer_for(examples[i].entities, lab) for i, lab in pairs]
    pred_answers = [answer_for(predictions[i], lab) for i, lab in pairs]
    official = score_official(pred_answers, gold_answers)

    chosen: dict[int, set[str]] = {}
    for i, lab in pairs:
        chosen.setdefault(i, set()).add(lab)
    idx = sorted(chosen)
    golds = [[e for e in examples[i].entities if e.label in chosen[i]] for i in idx]
    preds = [[e for e in predictions[i] if e.label in chosen[i]] for i in idx]
    texts = [examples[i].text for i in idx]
    report = score_offsets(golds, preds, texts=texts)
    per_type = {lab: ts.to_dict() for lab, ts in report.per_type.items()}
    return DatasetResult(
        dataset=dataset,
        split=split,
        n_passages=len(idx),
        n_queries=len(pairs),
        official=official,
        strict=report.strict,
        partial=report.partial,
        span_only=report.span_only,
        per_type=per_type,
        seconds=seconds,
        errors=classify(golds, preds, texts),
    )


def run_extractor(
    extractor: Extractor,
    texts: Sequence[str],
    labels: Sequence[str],
    batch_size: int = 32,
    desc: str = "extract",
    progress: bool = True,
) -> list[list[Entity]]:
    """Call the extractor in batches with a progress bar (rate and ETA)."""
    out: list[list[Entity]] = []
    with tqdm(total=len(texts), desc=desc, unit="text", disable=not progress) as bar:
        for start in range(0, len(texts), batch_size):
            chunk = list(texts[start : start + batch_size])
            result = extractor.extract_batch(chunk, list(labels))
            if len(result) != len(chunk):
                raise ValueError(
                    f"extractor {extractor.name!r} returned {len(result)} results "
                    f"for {len(chunk)} texts"
                )
            out.extend(list(r) for r in result)
            bar.update(len(chunk))
    return out


def evaluate_split(
    extractor: Extractor,
    dataset: str,
    split: str,
    labels: Sequence[str],
    examples: Sequence[Example],
    max_queries: int | None = None,
    seed: int = 0,
    batch_size: int = 32,
    progress: bool = True,
    max_passages: int | None = None,
    save_to: Path | None = None,
) -> DatasetResult:
    """Run ``extractor`` on the (sampled) passages of one split and score it.

    ``max_queries`` samples (passage, type) pairs; ``max_passages`` samples passages and scores
    all their types. At most one of them may be given. ``save_to`` writes every scored passage
    with its gold and predicted entities as JSON Lines (:mod:`uniner.benchmark.dump`).
    """
    if max_queries is not None and max_passages is not None:
        raise ValueError("give max_queries or max_passages, not both")
    if max_passages is not None:
        pairs = sample_passages(len(examples), labels, max_passages, seed)
    else:
        pairs = sample_queries(len(examples), labels, max_queries, seed)
    needed = sorted({i for i, _ in pairs})
    t0 = time.perf_counter()
    preds_needed = run_extractor(
        extractor,
        [examples[i].text for i in needed],
        labels,
        batch_size=batch_size,
        desc=f"{dataset}/{split}",
        progress=progress,
    )
    seconds = time.perf_counter() - t0
    preds: list[list[Entity]] = [[] for _ in examples]
    for i, p in zip(needed, preds_needed, strict=True):
        preds[i] = p
    if save_to is not None:
        from uniner.benchmark.dump import write_predictions

        write_predictions(save_to, dataset, split, examples, preds, pairs)
    return score_split(dataset, split, labels, examples, preds, pairs, seconds)
