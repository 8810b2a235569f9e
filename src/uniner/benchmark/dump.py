"""The predictions behind a benchmark score, kept for error analysis and re-scoring.

``uniner bench --save-predictions`` writes one JSON Lines file per data set: one line per scored
passage with its text, the types scored there, and the gold and predicted entities (offsets,
label, score). :func:`rescore` turns such a file back into the same scores the run reported,
so a table can be checked, or re-cut (other metrics, other types) without running the model
again.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from uniner.benchmark.runner import DatasetResult, score_split
from uniner.data.errors import DataFormatError
from uniner.data.readers._common import iter_json_records, require_key, require_mapping
from uniner.data.types import Entity, Example, ValidationError


@dataclass(frozen=True)
class PassagePrediction:
    """One scored passage: the types asked there, and what was expected and found."""

    dataset: str
    split: str
    index: int
    text: str
    labels: tuple[str, ...]
    gold: tuple[Entity, ...]
    predicted: tuple[Entity, ...]

    def to_dict(self) -> dict[str, Any]:
        return {
            "dataset": self.dataset,
            "split": self.split,
            "index": self.index,
            "text": self.text,
            "labels": list(self.labels),
            "gold": [e.to_dict() for e in self.gold],
            "predicted": [e.to_dict() for e in self.predicted],
        }


def write_predictions(
    path: Path,
    dataset: str,
    split: str,
    examples: Sequence[Example],
    predictions: Sequence[Sequence[Entity]],
    pairs: Sequence[tuple[int, str]],
) -> Path:
    """Write the passages that ``pairs`` score, in passage order, with the types scored on each."""
    chosen: dict[int, list[str]] = {}
    for i, lab in pairs:
        chosen.setdefault(i, []).append(lab)
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", encoding="utf-8") as fh:
        for i in sorted(chosen):
            rec = PassagePrediction(
                dataset=dataset,
                split=split,
                index=i,
                text=examples[i].text,
                labels=tuple(chosen[i]),
                gold=tuple(e for e in examples[i].entities if e.label in chosen[i]),
                predicted=tuple(predictions[i]),
            )
            fh.write(json.dumps(rec.to_dict(), ensure_ascii=False) + "\n")
    return path


def _entities(path: Path, rec: Any, key: str, line: int) -> tuple[Entity, ...]:
    items = require_key(path, rec, key, list, line, expected=f"a list of entities under {key!r}")
    out = []
    for k, item in enumerate(items):
        obj = require_mapping(path, item, line, "an entity object")
        try:
            ent = Entity.from_dict(obj)
        except (KeyError, TypeError, ValueError, ValidationError) as exc:
            raise DataFormatError(
                path,
                f"{key}[{k}] is not a valid entity: {exc}",
                line=line,
                expected="start, end, text and label",
            ) from exc
        if rec["text"][ent.start : ent.end] != ent.text:
            raise DataFormatError(
                path,
                f"{key}[{k}] says {ent.text!r} at [{ent.start}:{ent.end}] but the text there is "
                f"{rec['text'][ent.start : ent.end]!r}",
                line=line,
            )
        out.append(ent)
    return tuple(out)


def read_predictions(path: Path) -> list[PassagePrediction]:
    """The records of a predictions file; a malformed one names the file, line and field."""
    out = []
    for line, raw in iter_json_records(path):
        rec = require_mapping(path, raw, line, "a passage object")
        expected = "a predictions line from uniner bench --save-predictions"
        text = require_key(path, rec, "text", str, line, expected)
        labels = require_key(path, rec, "labels", list, line, expected)
        out.append(
            PassagePrediction(
                dataset=str(rec.get("dataset", "")),
                split=str(rec.get("split", "")),
                index=int(require_key(path, rec, "index", int, line, expected)),
                text=text,
                labels=tuple(str(x) for x in labels),
                gold=_entities(path, rec, "gold", line),
                predicted=_entities(path, rec, "predicted", line),
            )
        )
    return out


def rescore(path: Path) -> DatasetResult:
    """The scores of a predictions file, exactly as the run that wrote it reported them."""
    records = read_predictions(path)
    if not records:
        raise DataFormatError(path, "no passages", expected="at least one predictions line")
    labels = list(dict.fromkeys(lab for r in records for lab in r.labels))
    examples = [Example(text=r.text, entities=r.gold) for r in records]
    pairs = [(k, lab) for k, r in enumerate(records) for lab in r.labels]
    return score_split(
        records[0].dataset,
        records[0].split,
        labels,
        examples,
        [list(r.predicted) for r in records],
        pairs,
    )
