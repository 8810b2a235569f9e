"""Does reading a many-type call in several label orders and averaging its scores help?

    python bench/order_ensemble.py --model uniner-span-mpnet --out runs/order-ensemble \\
        [--sets MultiCoNER2 Pile-NER-heldout BioNLP13CG] [--orders 4] [--variant cased]

Why: a joint model's answer to a many-type call moves with the order its types are listed in
(``bench/label_order.py``: MultiCoNER II's all-type cell by ~7 points over six orders). Averaging
each (span, type) probability over ``k`` orders (as asked, reversed, seeded shuffles) is a
test-time ensemble that would remove that dependence at ``k`` times the cost; this measures
whether it also lifts the answer. For each set's 3-type and all-type cells of the dev suite it
reports official F1 of the ensemble of the first ``k`` orders and of order ``k`` alone. Every
candidate above ``--floor`` is kept per order (a pair below it counts as 0 in the mean), then
the model's released decoding applies to the averaged scores. Dev-suite data only; never
CrossNER or MIT. Writes ``ensemble.json`` and ``ensemble.md``.
"""

from __future__ import annotations

import argparse
import json
import random
from collections import defaultdict
from collections.abc import Sequence
from pathlib import Path

from uniner import load
from uniner.benchmark import devsuite
from uniner.students.span.decoding import Span
from uniner.students.span.entities import decode_all


def order(n: int, j: int) -> list[int]:
    """Order ``j`` of ``n`` types: 0 as asked, 1 reversed, then seeded shuffles."""
    idx = list(range(n))
    if j == 1:
        return idx[::-1]
    if j > 1:
        random.Random(f"order-ensemble/{j}").shuffle(idx)
    return idx


def average(per_order: Sequence[list[list[Span]]]) -> list[list[Span]]:
    """Each text's candidates with their scores averaged over the orders (absent: 0)."""
    k = len(per_order)
    out = []
    for ti in range(len(per_order[0])):
        acc: dict[tuple[int, int, str], float] = defaultdict(float)
        for cands in per_order:
            for sp in cands[ti]:
                acc[(sp.start, sp.end, sp.label)] += sp.score / k
        out.append([Span(s, e, lab, v) for (s, e, lab), v in acc.items()])
    return out


def cell_scores(model, cell: devsuite.Cell, k: int, floor: float) -> dict[str, float]:
    """Official F1 of ``cell`` read by the ensembles of 1..k orders and by each order alone."""
    cfg = model.call_decoding()
    texts = [ex.text for ex in cell.examples]
    reads = [
        model.candidates(
            texts, [[labs[i] for i in order(len(labs), j)] for labs in cell.asked], floor
        )
        for j in range(k)
    ]
    plan = reads[0][0]  # thresholds and words are the same in every order
    per_order = [found for _, found in reads]

    def f1(cands: list[list[Span]]) -> float:
        res = decode_all(texts, plan, cands, cfg)
        preds = {
            (ex.text, labs): list(r.entities)
            for ex, labs, r in zip(cell.examples, cell.asked, res, strict=True)
        }
        return devsuite.score_cell(cell, preds).official.f1

    out = {f"order {j + 1}": f1(per_order[j]) for j in range(k)}
    out.update({f"mean of {j}": f1(average(per_order[:j])) for j in range(2, k + 1)})
    return out


def main(argv: Sequence[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--model", default="uniner-span-mpnet")
    ap.add_argument("--out", type=Path, default=Path("runs/order-ensemble"))
    ap.add_argument("--sets", nargs="+", default=["MultiCoNER2", "Pile-NER-heldout", "BioNLP13CG"])
    ap.add_argument("--orders", type=int, default=4)
    ap.add_argument("--variant", default="cased")
    ap.add_argument("--floor", type=float, default=0.02)
    args = ap.parse_args(argv)
    model = load(args.model)
    rows = []
    for name in args.sets:
        for cell in devsuite.build_cells(devsuite.load_dev_set(name)):
            if cell.variant == args.variant and cell.shape != "1":
                f1 = cell_scores(model, cell, args.orders, args.floor)
                rows.append(dict(set=name, shape=cell.shape, f1=f1))
                print(name, cell.shape, {k: round(100 * v, 1) for k, v in f1.items()}, flush=True)
    names = list(rows[0]["f1"]) if rows else []
    lines = ["| set | shape | " + " | ".join(names) + " |", "|---|---|" + "---:|" * len(names)]
    lines += [
        f"| {r['set']} | {r['shape']} | "
        + " | ".join(f"{100 * r['f1'][n]:.1f}" for n in names)
        + " |"
        for r in rows
    ]
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / "ensemble.json").write_text(json.dumps(rows, indent=1), encoding="utf-8")
    (args.out / "ensemble.md").write_text("\n".join(lines) + "\n", encoding="utf-8")
    print("\n".join(lines))


if __name__ == "__main__":
    main()
