"""Derive UniNER's processed test files from the InstructUIE copies.

The UniNER release ships its zero-shot test sets as one record per (passage, type) query:
``{"id": "<Name>_<n>", "conversations": [human "Text: ...", gpt "I've read this text.",
human "What describes <type> in the text?", gpt "<JSON list>"]}``. Its ``mit-movie.json`` is
missing from the snapshot, so we rebuild it from the InstructUIE split, and check the recipe on
the six files that do exist (:func:`compare_with_official`).

What the official files do, found by comparing them with the InstructUIE files:

* passages are the InstructUIE sentences, in file order; 'else' is dropped, labels renamed;
* every passage is asked every type, but the question order is shuffled per passage (with an
  unknown seed), so a derived file only reproduces the official bytes when it is given the
  official per-passage orders (:func:`official_question_orders`);
* an answer lists *every* mention of the type in order of appearance, duplicates kept
  (``["UK", "UK"]``), as ``json.dumps`` with ``ensure_ascii=True``;
* the file is ``json.dumps(records)``: default separators, ASCII with ``\\uXXXX`` escapes, no
  indentation and no trailing newline.

Run as ``python -m uniner.benchmark.derive --dataset mit-movie --out PATH``.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from uniner.benchmark.loaders import load_split
from uniner.benchmark.registry import DatasetSpec, get
from uniner.data.readers import read_conversations
from uniner.data.types import Example

ACK = "I've read this text."


def question(label: str) -> str:
    """The UniNER question for one type."""
    return f"What describes {label} in the text?"


def mentions_in_order(example: Example, label: str, distinct: bool = False) -> list[str]:
    """Mentions of ``label`` by offset; duplicates kept unless ``distinct`` (official: kept)."""
    found = [e.text for e in example.entities if e.label == label]  # entities are offset-sorted
    return list(dict.fromkeys(found)) if distinct else found


def uniner_records(
    examples: Sequence[Example],
    name: str,
    labels: Sequence[str],
    question_orders: Sequence[Sequence[str]] | None = None,
    distinct: bool = False,
) -> list[dict[str, Any]]:
    """One UniNER test record per (passage, type), ids ``<name>_<n>`` counted over records.

    ``question_orders`` gives one order per passage (each a permutation of ``labels``);
    without it every passage uses ``labels``.
    """
    if question_orders is not None and len(question_orders) != len(examples):
        raise ValueError(
            f"{name}: {len(question_orders)} question orders for {len(examples)} passages"
        )
    records: list[dict[str, Any]] = []
    for k, ex in enumerate(examples):
        order = list(labels) if question_orders is None else list(question_orders[k])
        if sorted(order) != sorted(labels):
            raise ValueError(f"{name}: passage {k} order {order} is not a permutation of {labels}")
        for lab in order:
            answer = json.dumps(mentions_in_order(ex, lab, distinct))
            records.append(
                {
                    "id": f"{name}_{len(records)}",
                    "conversations": [
                        {"from": "human", "value": f"Text: {ex.text}"},
                        {"from": "gpt", "value": ACK},
                        {"from": "human", "value": question(lab)},
                        {"from": "gpt", "value": answer},
                    ],
                }
            )
    return records


def dumps_uniner(records: Sequence[dict[str, Any]]) -> str:
    """Serialise records exactly as the official files are written (see module docstring)."""
    return json.dumps(list(records))


def official_queries(path: str | Path) -> list[tuple[str, str, tuple[str, ...], str]]:
    """``(passage, type, answers, raw answer)`` of every query of an official file, in order."""
    out: list[tuple[str, str, tuple[str, ...], str]] = []
    for conv in read_conversations(path, format="uniner-conversation"):
        for q in conv.queries:
            raw = q.raw_answer if q.raw_answer is not None else json.dumps(list(q.answers))
            out.append((conv.text, q.label, tuple(q.answers), raw))
    return out


def official_question_orders(path: str | Path, n_types: int) -> list[tuple[str, ...]]:
    """Per-passage question order of an official file (its queries come in blocks of
    ``n_types`` per passage)."""
    queries = official_queries(path)
    if len(queries) % n_types:
        raise ValueError(f"{path}: {len(queries)} queries is not a multiple of {n_types} types")
    orders = []
    for k in range(0, len(queries), n_types):
        block = queries[k : k + n_types]
        if len({q[0] for q in block}) != 1:
            raise ValueError(f"{path}: queries {k}..{k + n_types - 1} mix passages")
        orders.append(tuple(q[1] for q in block))
    return orders


def derive_uniner_test(
    dataset: str | DatasetSpec,
    data_dir: str | Path | None = None,
    split: str = "test",
    question_orders: Sequence[Sequence[str]] | None = None,
) -> list[dict[str, Any]]:
    """The UniNER test records of a zero-shot data set, from its InstructUIE split."""
    spec = get(dataset)
    bench = load_split(spec, split, data_dir, source="instructuie")
    return uniner_records(bench.examples, spec.name, bench.labels, question_orders)


def write_uniner_test(
    dataset: str | DatasetSpec, out: str | Path, data_dir: str | Path | None = None
) -> Path:
    """Write the derived test file (UTF-8, which is plain ASCII here) and return its path."""
    out = Path(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(dumps_uniner(derive_uniner_test(dataset, data_dir)), encoding="utf-8")
    return out


@dataclass
class DerivationCheck:
    """How a derived file compares with the official one, counted per passage and per query."""

    dataset: str
    passages_derived: int
    passages_official: int
    sentence_mismatches: int = 0
    question_set_mismatches: int = 0
    answer_set_mismatches: int = 0
    answer_list_mismatches: int = 0
    byte_identical_with_official_orders: bool = False
    examples: list[str] = field(default_factory=list)

    @property
    def sets_match(self) -> bool:
        """Same passages in the same order, same questions and same answer sets."""
        return (
            self.passages_derived == self.passages_official
            and self.sentence_mismatches == 0
            and self.question_set_mismatches == 0
            and self.answer_set_mismatches == 0
        )


def compare_with_official(
    dataset: str | DatasetSpec, data_dir: str | Path | None = None, max_examples: int = 5
) -> DerivationCheck:
    """Derive a data set's test file and compare it with the official UniNER file."""
    spec = get(dataset)
    official_path = spec.uniner_test_path(data_dir)
    if official_path is None:
        raise FileNotFoundError(f"{spec.name}: the UniNER release has no test file here")
    n = len(spec.labels)
    official = official_queries(official_path)
    off_passages = [official[k : k + n] for k in range(0, len(official), n)]
    bench = load_split(spec, "test", data_dir, source="instructuie")
    check = DerivationCheck(spec.name, len(bench.examples), len(off_passages))
    for k, (ex, block) in enumerate(zip(bench.examples, off_passages, strict=False)):
        if {q[0] for q in block} != {ex.text}:
            check.sentence_mismatches += 1
            check.examples.append(f"passage {k}: text differs")
            continue
        if {q[1] for q in block} != set(spec.labels) or len(block) != n:
            check.question_set_mismatches += 1
            check.examples.append(f"passage {k}: types {sorted(q[1] for q in block)}")
        for _text, lab, answers, _raw in block:
            ours = mentions_in_order(ex, lab)
            if set(ours) != set(answers):
                check.answer_set_mismatches += 1
                check.examples.append(f"passage {k} {lab!r}: ours {ours} official {list(answers)}")
            if ours != list(answers):
                check.answer_list_mismatches += 1
    del check.examples[max_examples:]
    if check.sets_match:
        orders = official_question_orders(official_path, n)
        derived = dumps_uniner(uniner_records(bench.examples, spec.name, spec.labels, orders))
        check.byte_identical_with_official_orders = (
            derived.encode("utf-8") == official_path.read_bytes()
        )
    return check


def main(argv: Sequence[str] | None = None) -> int:
    """``python -m uniner.benchmark.derive --dataset mit-movie --out PATH [--check]``."""
    parser = argparse.ArgumentParser(
        prog="python -m uniner.benchmark.derive",
        description="Derive a UniNER-format test file from the InstructUIE copy of a data set.",
    )
    parser.add_argument("--dataset", default="mit-movie", help="registry name (default mit-movie)")
    parser.add_argument("--out", type=Path, help="where to write the derived JSON file")
    parser.add_argument("--data-dir", type=Path, default=None, help="shared data directory")
    parser.add_argument(
        "--check", action="store_true", help="compare with the official file where one exists"
    )
    args = parser.parse_args(argv)
    spec = get(args.dataset)
    if not spec.zero_shot or "instructuie" not in spec.files:
        parser.error(f"{spec.name} is not a zero-shot set with an InstructUIE copy")
    if args.out is None and not args.check:
        parser.error("give --out PATH (and/or --check)")
    if args.out is not None:
        path = write_uniner_test(spec, args.out, args.data_dir)
        n = len(json.loads(path.read_text(encoding="utf-8")))
        print(
            f"wrote {path}: {n} queries ({n // len(spec.labels)} passages x "
            f"{len(spec.labels)} types)"
        )
    if args.check:
        if spec.uniner_test is None:
            print(f"{spec.name}: no official UniNER file to compare with", file=sys.stderr)
            return 1
        print(json.dumps(compare_with_official(spec, args.data_dir).__dict__, indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
