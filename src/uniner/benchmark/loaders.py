"""Load a catalogued data set split the way the paper scores it, and its gold answers.

Reading and relabelling a split is data knowledge (:mod:`uniner.data.splits`, shared with
training); it is re-exported here for benchmark code. What the benchmark adds is the official
gold answer of a (passage, type) query.
"""

from __future__ import annotations

import json

from uniner.data.splits import DatasetSplit, load_split, relabel
from uniner.data.types import Example

BenchSplit = DatasetSplit
"""The benchmark's name for a relabelled split (:class:`uniner.data.splits.DatasetSplit`)."""

__all__ = ["BenchSplit", "gold_answer", "gold_queries", "load_split", "relabel"]


def gold_answer(example: Example, label: str) -> str:
    """UniNER gold answer: ``json.dumps`` of the distinct mentions in order of appearance.

    ``ensure_ascii`` stays on, as in the released UniNER test files.
    """
    return json.dumps(example.mentions(label))


def gold_queries(split: DatasetSplit) -> list[tuple[str, str, str]]:
    """``(passage text, type, gold answer)`` for every passage and every type, in question order."""
    return [(ex.text, lab, gold_answer(ex, lab)) for ex in split.examples for lab in split.labels]
