"""Does a many-type call's answer depend on the order its types are asked in?

    python bench/label_order.py --model uniner-span-mpnet --out runs/label-order \\
        [--sets MultiCoNER2 BioNLP13CG] [--orders 6] [--per-pass 32 33] [--packing even greedy]

Why: a joint model reads at most ``max_labels_per_pass`` types per encoder pass. A 33-type
MultiCoNER II call read as 32 + 1 put its last type in a pass of its own, where it scores as in a
one-type call and takes spans from its siblings: the answer then hung on which type the user
happened to list last. This reads each set's all-type calls of the dev suite (as written, the
suite's passages) in several orders (as asked, reversed, seeded shuffles) under each pass
setting (labels per pass x packing: ``greedy`` = full passes then the rest, the old planner;
``even`` = as few passes, of even sizes, the current one) and reports official F1 per order,
its mean and its spread (max - min). Dev-suite data only; never CrossNER or MIT.
Writes ``order.json`` and ``order.md``.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import random
import statistics
from collections.abc import Iterator, Sequence
from pathlib import Path

from uniner import load
from uniner.benchmark import devsuite
from uniner.students.span.planning import Planner, sorted_by_name


def orders(n: int, k: int) -> dict[str, list[int]]:
    """``k`` index orders of ``n`` types: as asked, reversed, then seeded shuffles."""
    out = {"asked": list(range(n)), "reversed": list(range(n))[::-1]}
    for i in range(max(0, k - 2)):
        idx = list(range(n))
        random.Random(f"label-order/{i}").shuffle(idx)
        out[f"shuffle {i + 1}"] = idx
    return dict(list(out.items())[:k])


def reorder(labs: tuple[str, ...], name: str, idx: list[int]) -> tuple[str, ...]:
    """One call's types in order ``name``: "sorted" by name, else by the index order ``idx``
    (indices past the call's own types skipped: held-out Pile-NER's calls differ in length)."""
    if name == "sorted":
        return sorted_by_name(labs)
    return tuple(labs[i] for i in idx if i < len(labs))


@contextlib.contextmanager
def packing(kind: str) -> Iterator[None]:
    """The planner's packing for the duration: ``even`` (its own) or ``greedy`` (the old one)."""
    if kind not in ("even", "greedy"):
        raise SystemExit(f"error: --packing {kind!r}: expected even or greedy")
    own = Planner.label_groups
    if kind == "greedy":
        Planner.label_groups = lambda self, labels: self._pack(labels)  # type: ignore[method-assign]
    try:
        yield
    finally:
        Planner.label_groups = own  # type: ignore[method-assign]


def order_scores(model, cell: devsuite.Cell, k: int, with_sorted: bool = False) -> dict[str, float]:
    """Official F1 of one cell's calls with their types in each of ``k`` orders (and sorted by
    name with ``with_sorted``; the model's own ``label_order`` applies after, keep it "asked")."""
    texts = [ex.text for ex in cell.examples]
    out = {}
    named = orders(max(len(a) for a in cell.asked), k)
    if with_sorted:
        named["sorted"] = []
    for name, idx in named.items():
        asked = [reorder(labs, name, idx) for labs in cell.asked]
        got = devsuite.call_each(model, texts, asked)
        preds = {
            (ex.text, labs): g for ex, labs, g in zip(cell.examples, cell.asked, got, strict=True)
        }
        out[name] = devsuite.score_cell(cell, preds).official.f1
    return out


def table(rows: list[dict]) -> str:
    """Markdown: a row per (set, pass setting); ``types`` and ``passes`` are a call's most."""
    names = list(rows[0]["f1"]) if rows else []
    head = (
        "| set | types | per pass | packing | passes | " + " | ".join(names) + " | mean | spread |"
    )
    lines = [head, "|" + "---|" * 5 + "---:|" * (len(names) + 2)]
    for r in rows:
        f1 = [100 * r["f1"][n] for n in names]
        lines.append(
            f"| {r['set']} | {r['types']} | {r['per_pass']} | {r['packing']} | {r['passes']} | "
            + " | ".join(f"{v:.1f}" for v in f1)
            + f" | {statistics.fmean(f1):.1f} | {max(f1) - min(f1):.1f} |"
        )
    return "\n".join(lines)


def main(argv: Sequence[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--model", default="uniner-span-mpnet")
    ap.add_argument("--out", type=Path, default=Path("runs/label-order"))
    ap.add_argument("--sets", nargs="+", default=["MultiCoNER2", "BioNLP13CG"])
    ap.add_argument("--orders", type=int, default=6)
    ap.add_argument("--per-pass", type=int, nargs="+", default=[32, 33])
    ap.add_argument("--packing", nargs="+", default=["greedy", "even"])
    ap.add_argument("--variant", default="cased")
    ap.add_argument("--sorted", action="store_true", help="add the order sorted by name")
    args = ap.parse_args(argv)
    model = load(args.model)
    model.config.label_order = "asked"  # the orders below are the ones read
    rows = []
    for name in args.sets:
        ds = devsuite.load_dev_set(name)
        cell = next(
            c for c in devsuite.build_cells(ds) if c.shape == "all" and c.variant == args.variant
        )
        for per_pass in args.per_pass:
            model.config.max_labels_per_pass = per_pass
            for kind in args.packing:
                with packing(kind):
                    passes = max(len(model.label_groups(labs)) for labs in cell.asked)
                    f1 = order_scores(model, cell, args.orders, args.sorted)
                rows.append(
                    dict(
                        set=name,
                        types=max(len(labs) for labs in cell.asked),
                        per_pass=per_pass,
                        packing=kind,
                        passes=passes,
                        f1=f1,
                    )
                )
                print(table(rows[-1:]).splitlines()[-1], flush=True)
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / "order.json").write_text(json.dumps(rows, indent=1), encoding="utf-8")
    (args.out / "order.md").write_text(table(rows) + "\n", encoding="utf-8")
    print(table(rows))


if __name__ == "__main__":
    main()
