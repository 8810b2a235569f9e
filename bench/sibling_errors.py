"""Right span, wrong type: how did the gold type score where a call answered another type?

    python bench/sibling_errors.py --model uniner-span-mpnet --out runs/sibling-errors \\
        [--set MultiCoNER2] [--shape all] [--variant cased]

Why: most of the dev suite's all-type deficit is type choice among close types asked together
(MultiCoNER II: about 60% of the spurious answers of its all-type cell are gold mentions given a
sibling type). Whether decoding or training can fix that depends on what the model scored the
gold type: a close second calls for a type-choice signal, a score near zero for knowledge the
model lacks (or a disputable gold label). For each answer on a gold mention with another type,
this records the answer's score, the gold type's score on the same span and its rank among the
asked types. Dev-suite data only; never CrossNER or MIT. Writes ``errors.json`` and
``errors.md``.
"""

from __future__ import annotations

import argparse
import json
from collections import Counter
from collections.abc import Sequence
from pathlib import Path

from uniner import load
from uniner.benchmark import devsuite
from uniner.students.span.entities import decode_all


def wrong_type_rows(model, cell: devsuite.Cell, floor: float = 0.01) -> list[dict]:
    """One row per answer on a gold mention's exact span with a type other than the gold one."""
    texts = [ex.text for ex in cell.examples]
    plan, cands = model.candidates(texts, list(cell.asked), floor)
    rows = []
    answers = decode_all(texts, plan, cands, model.call_decoding())
    for i, (ex, res) in enumerate(zip(cell.examples, answers, strict=True)):
        gold = {(e.start, e.end): e.label for e in ex.entities}
        starts = {o[0]: k for k, o in enumerate(plan.encs[i].offsets)}
        ends = {o[1]: k + 1 for k, o in enumerate(plan.encs[i].offsets)}
        for e in res.entities:
            want = gold.get((e.start, e.end))
            if want is None or want == e.label:
                continue
            span = (starts[e.start], ends[e.end])
            scores = {s.label: s.score for s in cands[i] if (s.start, s.end) == span}
            ranked = sorted(scores, key=lambda lab: -scores[lab])
            rows.append(
                dict(
                    text=e.text, gold=want, answer=e.label, answer_score=scores.get(e.label, 0.0),
                    gold_score=scores.get(want, 0.0), threshold=plan.thresholds[i],
                    gold_rank=ranked.index(want) + 1 if want in ranked else None,
                )
            )  # fmt: skip
    return rows


def summary(rows: Sequence[dict]) -> str:
    """Markdown: how the gold type ranked and scored, then the commonest pairs."""
    n = len(rows)
    ranks = Counter(
        r["gold_rank"] if r["gold_rank"] in (2, 3) else "4+ or below floor" for r in rows
    )
    above = sum(r["gold_score"] >= r["threshold"] for r in rows)
    low = sum(r["gold_score"] < 0.1 for r in rows)
    pairs = Counter((r["gold"], r["answer"]) for r in rows).most_common(10)
    lines = [
        f"{n} answers on a gold mention with another type. Gold type ranked 2nd: {ranks[2]}, "
        f"3rd: {ranks[3]}, lower: {ranks['4+ or below floor']}; gold score at or above the "
        f"call's threshold: {above}; below 0.1: {low}.",
        "",
        "| gold | answered | count |",
        "|---|---|---:|",
        *(f"| {g} | {a} | {c} |" for (g, a), c in pairs),
    ]
    return "\n".join(lines)


def main(argv: Sequence[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--model", default="uniner-span-mpnet")
    ap.add_argument("--out", type=Path, default=Path("runs/sibling-errors"))
    ap.add_argument("--set", default="MultiCoNER2")
    ap.add_argument("--shape", default="all")
    ap.add_argument("--variant", default="cased")
    args = ap.parse_args(argv)
    cells = devsuite.build_cells(devsuite.load_dev_set(args.set))
    cell = next(c for c in cells if c.shape == args.shape and c.variant == args.variant)
    rows = wrong_type_rows(load(args.model), cell)
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / "errors.json").write_text(json.dumps(rows, indent=1), encoding="utf-8")
    (args.out / "errors.md").write_text(summary(rows) + "\n", encoding="utf-8")
    print(summary(rows))


if __name__ == "__main__":
    main()
