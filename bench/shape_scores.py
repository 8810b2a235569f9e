"""How a gold mention's score moves with the other types a call asks (issue 22).

    python bench/shape_scores.py --models uniner-span-mpnet runs/stage-v0.12 --out D

Why: on the dev suite a call asking all of a passage's types trails one asking a single type,
and part of it is the score itself: the same mention under the same type scores lower when
more types are asked beside it, so one threshold cannot serve both shapes. This reads every
gold mention of the dev suite's sets with more than three types (cased text, its passage as
the suite's all-types cell asks it) twice: asked its own type alone, and asked with all the
types of the cell. Per model and set: the medians of the two scores, their mean absolute
difference, and the share of gold mentions at or above the model's own thresholds (its
single-type threshold alone, its many-type one among all), i.e. the recall each shape can reach.
"""

from __future__ import annotations

import argparse
import dataclasses
import statistics
from collections.abc import Sequence
from pathlib import Path

from uniner import load
from uniner.benchmark.devsuite import DEV_SUITE, build_cells, load_dev_set

SETS = ("MultiCoNER2", "Pile-NER-heldout", "BioNLP13CG")
FLOOR = 0.01  # the lowest score read back; a mention scored below it counts as 0


def _score(entities, gold) -> float:  # type: ignore[no-untyped-def]
    """The score the call gave the gold span under the gold type (0 when not returned)."""
    hits = [
        e.score for e in entities if (e.start, e.end, e.label) == (gold.start, gold.end, gold.label)
    ]
    return max(hits, default=0.0)


def gold_scores(model, set_name: str) -> list[tuple[float, float, int]]:  # type: ignore[no-untyped-def]
    """(asked alone, asked with all the cell's types, how many those are) of every gold
    mention of a set."""
    spec = dataclasses.replace(DEV_SUITE, shapes=("all",), variants=("cased",))
    cell = build_cells(load_dev_set(set_name, spec), spec)[0]
    texts, asked, golds = [], [], []
    for ti, (ex, labels) in enumerate(zip(cell.examples, cell.asked, strict=True)):
        texts.append(ex.text)
        asked.append(labels)
        golds += [(ti, g) for g in ex.entities if g.label in labels]
    every = dict(threshold=FLOOR, mode="all", multi_label=True)
    among = model.extract_each(texts, asked, **every)
    alone = model.extract_each(
        [texts[t] for t, _ in golds], [(g.label,) for _, g in golds], **every
    )
    return [
        (_score(one.entities, g), _score(among[t].entities, g), len(asked[t]))
        for (t, g), one in zip(golds, alone, strict=True)
    ]


def row(name: str, set_name: str, pairs: Sequence[tuple[float, float, int]], model) -> str:  # type: ignore[no-untyped-def]
    """One table row: medians, mean absolute shift, and the recall each shape can reach at
    the model's own thresholds (for a call of that many types)."""
    one, many = [a for a, _, _ in pairs], [b for _, b, _ in pairs]
    t_one, t_many = model.threshold_for(1), model.threshold_for(max(n for *_, n in pairs))
    shift = statistics.mean(abs(a - b) for a, b, _ in pairs)
    reach_one = sum(a >= t_one for a in one) / len(one)
    reach_many = sum(b >= model.threshold_for(n) for _, b, n in pairs) / len(many)
    return (
        f"| {name} | {set_name} | {len(pairs)} | {statistics.median(one):.2f} | "
        f"{statistics.median(many):.2f} | {shift:.2f} | {100 * reach_one:.0f}% ({t_one:.2f}) | "
        f"{100 * reach_many:.0f}% ({t_many:.2f}) |"
    )


def main(argv: Sequence[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--models", nargs="+", default=["uniner-span-mpnet"])
    ap.add_argument("--sets", nargs="+", default=list(SETS))
    ap.add_argument("--out", type=Path, default=None, help="also write table.md here")
    args = ap.parse_args(argv)
    lines = [
        "| model | set | gold mentions | median, asked alone | median, asked among all | "
        "mean abs. shift | at or above threshold, alone | among all |",
        "|---|---|---:|---:|---:|---:|---:|---:|",
    ]
    for name in args.models:
        model = load(name)
        for set_name in args.sets:
            lines.append(row(name, set_name, gold_scores(model, set_name), model))
            print(lines[-1], flush=True)
    if args.out is not None:
        args.out.mkdir(parents=True, exist_ok=True)
        (args.out / "table.md").write_text("\n".join(lines) + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()
