"""Score generated answers in the UniNER format without running a model.

A predictions file is a JSON list or JSON Lines of records, each with an ``id`` and the raw
generated text under ``prediction`` (also accepted: ``pred``, ``output``). The gold answer is the
last turn of the record's own ``conversations`` (the UniNER test file with a prediction added to
each record), or comes from a separate UniNER test file joined by ``id``. Raw text is scored, so
the official parser's behaviour (anchored bracket match, JSON only) applies as in the paper.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from uniner.data.errors import DataFormatError
from uniner.data.readers._common import iter_json_records
from uniner.evaluation.official import score_official

PREDICTION_KEYS = ("prediction", "pred", "output")


def _load_records(path: Path) -> list[dict[str, Any]]:
    records = [rec for _, rec in iter_json_records(path)]  # a JSON list or JSON Lines
    for k, rec in enumerate(records):
        if not isinstance(rec, dict):
            raise DataFormatError(path, f"record {k} is {type(rec).__name__}", expected="object")
    return records


def _gold_of(rec: dict[str, Any]) -> str | None:
    conv = rec.get("conversations")
    if isinstance(conv, list) and conv and isinstance(conv[-1], dict):
        value = conv[-1].get("value")
        return value if isinstance(value, str) else None
    return None


def score_predictions_file(path: Path, gold_path: Path | None = None) -> dict[str, Any]:
    """Official P/R/F1 of a predictions file; every record must find a prediction and a gold."""
    records = _load_records(path)
    gold_by_id: dict[str, str] = {}
    if gold_path is not None:
        for rec in _load_records(gold_path):
            g = _gold_of(rec)
            if g is None or "id" not in rec:
                raise DataFormatError(gold_path, f"record {rec.get('id')!r} has no gold answer")
            gold_by_id[str(rec["id"])] = g
    preds: list[str] = []
    golds: list[str] = []
    for k, rec in enumerate(records):
        pred = next((rec[key] for key in PREDICTION_KEYS if key in rec), None)
        if not isinstance(pred, str):
            raise DataFormatError(
                path,
                f"record {k} (id {rec.get('id')!r}) has no prediction",
                expected=f"a string under one of {', '.join(PREDICTION_KEYS)}",
            )
        gold = gold_by_id.get(str(rec.get("id"))) if gold_path is not None else _gold_of(rec)
        if gold is None:
            raise DataFormatError(
                path,
                f"record {k} (id {rec.get('id')!r}) has no gold answer",
                expected="a 'conversations' list ending in the gold turn, or --gold with its id",
            )
        preds.append(pred)
        golds.append(gold)
    counts = score_official(preds, golds)
    return {"file": str(path), "queries": len(preds), **counts.to_dict()}
