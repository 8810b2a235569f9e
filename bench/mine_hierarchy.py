"""Mine the type hierarchy of the default training mix and write it for inspection.

The mix is a run config's training sources (default ``configs/span-mpnet-few.toml``) plus the
MultiCoNER II training split when that data set is registered (its 33 fine-grained types are
where most specific-under-general pairs come from). CrossNER and MIT are never read: the
training sources refuse them (``load_sources``).

    python bench/mine_hierarchy.py [--config C] [--min-support N] [--min-share S] [--out P]

writes ``P`` (JSON, :meth:`TypeHierarchy.to_json`, usable as ``data.hierarchy = "P"``) and
``P`` with ``.md``: counts and the top edges by support.
"""

from __future__ import annotations

import argparse
import logging
import time
from collections.abc import Sequence
from pathlib import Path

from uniner.data.hierarchy import MIN_SHARE, MIN_SUPPORT, TypeHierarchy, mine_hierarchy
from uniner.data.types import Example

REPO = Path(__file__).resolve().parents[1]
EXTRA_DATASETS = ("MultiCoNER2",)

log = logging.getLogger("mine_hierarchy")


def training_mix(config: Path, seed: int | None = None) -> tuple[list[Example], list[str]]:
    """The config's training examples plus the extra data sets that are registered."""
    from uniner.data.sources import load_sources
    from uniner.students.span.config import load_run_config

    run = load_run_config(config)
    examples = load_sources(run.data.train, seed=run.train.seed if seed is None else seed)
    notes = [f"{config.name}: {len(examples)} examples"]
    for name in EXTRA_DATASETS:
        try:
            from uniner.benchmark.loaders import load_split
            from uniner.benchmark.registry import get

            spec = get(name)
            extra = [ex for split in _train_splits(spec) for ex in load_split(spec, split).examples]
        except (KeyError, FileNotFoundError, ValueError) as err:
            notes.append(f"{name}: not used ({err})")
            continue
        examples += extra
        notes.append(f"{name}: {len(extra)} examples")
    return examples, notes


def _train_splits(spec) -> list[str]:  # type: ignore[no-untyped-def]
    """Every split of ``spec`` whose name starts with 'train' (MultiCoNER has two parts)."""
    return sorted(s for s in spec.splits() if s.startswith("train"))


def markdown(h: TypeHierarchy, notes: Sequence[str], top: int, args: argparse.Namespace) -> str:
    lines = [
        "# Type hierarchy mined from the training mix",
        "",
        f"min_support = {args.min_support}, min_share = {args.min_share}; "
        f"{len(h.types)} types in {len(h)} edges "
        f"({sum(1 for t in h.types if not h.parents(t))} roots).",
        "",
        *[f"- {n}" for n in notes],
        "",
        "| parent (mentions/strings) | child (mentions/strings) | shared strings | share |",
        "|---|---|---:|---:|",
    ]
    for e in h.edges[:top]:
        pm, ps = h.types[e.parent]
        cm, cs = h.types[e.child]
        lines.append(
            f"| {e.parent} ({pm}/{ps}) | {e.child} ({cm}/{cs}) | {e.support} | {e.share:.2f} |"
        )
    return "\n".join(lines) + "\n"


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--config", type=Path, default=REPO / "configs" / "span-mpnet-few.toml")
    parser.add_argument("--min-support", type=int, default=MIN_SUPPORT)
    parser.add_argument("--min-share", type=float, default=MIN_SHARE)
    parser.add_argument("--top", type=int, default=60)
    parser.add_argument("--out", type=Path, default=REPO / "bench" / "figures" / "hierarchy.json")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(message)s")
    t = time.monotonic()
    examples, notes = training_mix(args.config)
    log.info("loaded %d examples in %.0f s", len(examples), time.monotonic() - t)
    h = mine_hierarchy(examples, min_support=args.min_support, min_share=args.min_share)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(h.to_json() + "\n", encoding="utf-8")
    md = markdown(h, notes, args.top, args)
    args.out.with_suffix(".md").write_text(md, encoding="utf-8")
    print(md)


if __name__ == "__main__":
    main()
