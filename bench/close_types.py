"""Close types told apart: is a mention given its own type, its parent, a sibling, or nothing?

    python bench/close_types.py --model uniner-span-mpnet --out runs/close-types [--max 300]
    python bench/close_types.py --model uniner-span-mpnet --labels-per-pass 1 --out ...

Why: the dev suite's F1 falls as more types are asked (``bench/types_curve.py``) and the
errors are mostly between close types: "politician" for a writer, "person" for an artist. F1
does not say which way a model errs. This asks each MultiCoNER II dev sentence (never CrossNER
or MIT) the whole family of its mentions' coarse class at once, the general type with its
specific kinds (``uniner.benchmark.multiconer.PARENTS``: person with artist, politician, ...),
and sorts every gold mention of the family by what came back on its exact span:

* ``right``: its own type;
* ``general``: a specific mention answered with the family's general type (too vague);
* ``sibling``: answered with another specific type (confused);
* ``specific``: a general mention (MultiCoNER II's residual, e.g. ``OtherPER``) answered with a
  specific type (over-specific);
* ``missed``: no mention on that span (its boundaries may be off, or it scored too low).

``--labels-per-pass 1`` makes a model that reads the type names with the text (the default)
read each asked type in its own pass, blind to the others, as a model that encodes type names
apart from the text (the fast model) always is: the difference says how much of telling close
types apart comes from seeing the whole call.

Writes ``close_types.json`` and ``close_types.md`` (a row per gold type and a row per family).
"""

from __future__ import annotations

import argparse
import json
import random
from collections import Counter, defaultdict
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from uniner.benchmark.multiconer import PARENTS
from uniner.data.types import Entity, Example

OUTCOMES = ("right", "general", "sibling", "specific", "missed")


def families(parents: Mapping[str, str]) -> dict[str, tuple[str, ...]]:
    """General type -> the family asked together: the general type, then its specific kinds."""
    out: dict[str, list[str]] = defaultdict(list)
    for child, parent in parents.items():
        out[parent].append(child)
    return {parent: (parent, *children) for parent, children in out.items()}


def outcome(gold: Entity, predicted: Sequence[Entity], family: Sequence[str]) -> str:
    """What the model said on ``gold``'s exact span, given the family it was asked (see top)."""
    said = [p.label for p in predicted if (p.start, p.end) == (gold.start, gold.end)]
    if gold.label in said:
        return "right"
    in_family = [lab for lab in said if lab in family]
    if not in_family:
        return "missed"
    general = family[0]
    if gold.label == general:
        return "specific"
    return "general" if general in in_family else "sibling"


def tally(
    calls: Sequence[tuple[Example, tuple[str, ...]]],
    predictions: Sequence[Sequence[Entity]],
) -> dict[str, Counter[str]]:
    """Gold type -> outcome counts over the calls (each a sentence and the family it was asked)."""
    counts: dict[str, Counter[str]] = defaultdict(Counter)
    for (example, family), predicted in zip(calls, predictions, strict=True):
        for gold in example.entities:
            if gold.label in family:
                counts[gold.label][outcome(gold, predicted, family)] += 1
    return dict(counts)


def plan_calls(
    examples: Sequence[Example], fams: Mapping[str, tuple[str, ...]], limit: int, seed: int
) -> list[tuple[Example, tuple[str, ...]]]:
    """Each example asked each family it has a mention of; a seeded sample of ``limit`` calls."""
    calls = [
        (ex, fam)
        for ex in examples
        for fam in fams.values()
        if any(e.label in fam for e in ex.entities)
    ]
    if len(calls) > limit:
        calls = random.Random(seed).sample(calls, limit)
    return calls


def table(counts: Mapping[str, Counter[str]], fams: Mapping[str, tuple[str, ...]]) -> str:
    """Markdown: a row per gold type (shares of its mentions, in %), then a row per family."""
    head = "| gold type | mentions | " + " | ".join(OUTCOMES) + " |"
    lines = [head, "|" + "---|" * (len(OUTCOMES) + 2)]

    def row(name: str, c: Counter[str]) -> str:
        n = sum(c.values())
        shares = " | ".join(f"{100 * c[o] / n:.1f}" if n else "-" for o in OUTCOMES)
        return f"| {name} | {n} | {shares} |"

    for general, fam in fams.items():
        for label in fam:
            if label in counts:
                lines.append(row(label, counts[label]))
        total = sum((counts.get(lab, Counter()) for lab in fam), Counter())
        lines.append(row(f"**{general} family**", total))
    return "\n".join(lines)


def read_types_apart(model: Any, per_pass: int) -> None:
    """Make a joint model read at most ``per_pass`` asked types per encoder pass (its planner
    reads the model's config at each call); a separate-encoding model reads each alone anyway."""
    if per_pass < 1:
        raise ValueError(f"--labels-per-pass must be >= 1, got {per_pass}")
    model.config.max_labels_per_pass = per_pass


def main(argv: Sequence[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--model", default="uniner-span-mpnet")
    ap.add_argument("--out", type=Path, default=Path("runs/close-types"))
    ap.add_argument("--max", type=int, default=600, help="calls (sentence x family), seeded")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument(
        "--labels-per-pass", type=int, help="at most this many types per encoder pass (joint)"
    )
    args = ap.parse_args(argv)
    from uniner import load
    from uniner.data.splits import load_split

    fams = families(PARENTS)
    split = load_split("MultiCoNER2", "dev")
    calls = plan_calls(split.examples, fams, args.max, args.seed)
    model = load(args.model)
    if args.labels_per_pass:
        read_types_apart(model, args.labels_per_pass)
    predictions = [model.extract(ex.text, list(fam)) for ex, fam in calls]
    counts = tally(calls, predictions)
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / "close_types.json").write_text(
        json.dumps(
            {
                "model": args.model,
                "labels_per_pass": args.labels_per_pass,
                "calls": len(calls),
                "counts": counts,
            },
            indent=1,
        )
    )
    per_pass = f", {args.labels_per_pass} type(s) per pass" if args.labels_per_pass else ""
    md = f"### Close types: {args.model} on MultiCoNER II dev ({len(calls)} calls{per_pass})\n\n"
    md += table(counts, fams) + "\n"
    (args.out / "close_types.md").write_text(md)
    print(md)


if __name__ == "__main__":
    main()
