"""What a shorter inference window costs on long texts (issue 22).

    python bench/window_speed.py --windows 192/32,64/16 --labels 3 13 --rounds 2

Why: the dev suite chose the window a long text is read in (``bench/select_decoding_dev.py
--windows``); a shorter window reads a passage in more encoder inputs, each with its own copy of
the label prefix. Sentences shorter than the window are read once whatever it is, so the cost
is measured where it falls: the held-out Pile-NER passages of the dev suite (about 200 words
each). One process, the windows interleaved round by round (so machine load hits all alike);
passages per second, and each window's rate as a ratio of the first window's.
"""

from __future__ import annotations

import argparse
import statistics
import time
from collections.abc import Sequence
from pathlib import Path

from select_decoding_dev import parse_windows
from uniner import load
from uniner.benchmark.devsuite import PILE_NER_HELDOUT, load_dev_set


def rate(model, texts: Sequence[str], labels: Sequence[str]) -> float:  # type: ignore[no-untyped-def]
    """Passages per second of one call over ``texts``."""
    start = time.perf_counter()
    model.extract_batch(list(texts), list(labels))
    return len(texts) / (time.perf_counter() - start)


def main(argv: Sequence[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--model", default="uniner-span-mpnet")
    ap.add_argument("--windows", default="192/32,64/16")
    ap.add_argument("--labels", type=int, nargs="+", default=[3, 13])
    ap.add_argument("--rounds", type=int, default=2)
    ap.add_argument("--out", type=Path, default=None, help="also write the table here")
    args = ap.parse_args(argv)
    model = load(args.model)
    dev = load_dev_set(PILE_NER_HELDOUT)
    texts = [ex.text for ex in dev.examples]
    windows = parse_windows(args.windows, model)
    rates: dict[tuple[int, tuple[int, int]], list[float]] = {}
    model.extract_batch(texts[:2], list(dev.labels[:3]))  # warm-up
    for _ in range(args.rounds):
        for n in args.labels:
            for win in windows:
                model.with_windows(*win)
                rates.setdefault((n, win), []).append(rate(model, texts, dev.labels[:n]))
    words = statistics.mean(len(t.split()) for t in texts)
    lines = [
        f"{len(texts)} held-out Pile-NER passages ({words:.0f} words on average), "
        f"median of {args.rounds} rounds, passages/s (ratio to {windows[0][0]}/{windows[0][1]}):",
        "",
        "| types asked | " + " | ".join(f"window {w}/{o}" for w, o in windows) + " |",
        "|---:|" + "---:|" * len(windows),
    ]
    for n in args.labels:
        base = statistics.median(rates[(n, windows[0])])
        cells = []
        for win in windows:
            r = statistics.median(rates[(n, win)])
            cells.append(f"{r:.2f} ({r / base:.2f}x)")
        lines.append(f"| {n} | " + " | ".join(cells) + " |")
    table = "\n".join(lines)
    print(table)
    if args.out is not None:
        args.out.parent.mkdir(parents=True, exist_ok=True)
        args.out.write_text(table + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()
