"""A weight average ("model soup") of span models fine-tuned from one parent.

    python -m uniner.students.span.soup --model runs/a/model --model runs/b/model \
        [--weights 0.5,0.5] --out runs/soup/model

Why: a continuation of a model often trades one ability for another (the v0.6.0 candidate, v0.5.0
continued with the type-choice term, answered fewer parent types but lost 0.1 on the dev suite);
averaging the weights of models that share a parent (Wortsman et al. 2022, "Model soups") often
keeps most of both at no inference cost. The result is an ordinary model folder, judged like
any candidate on the dev suite. Only models of one architecture and backbone can be averaged;
anything else is refused in one line.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import torch

from uniner.students.span.config import READING_SETTINGS
from uniner.students.span.io import load_model, save_model

__all__ = ["PROVENANCE", "SoupError", "average_models", "main", "part_provenance"]


# config.json keys that save_model writes itself (format, architecture, weight storage)
_WRITTEN_BY_SAVE = frozenset(
    ("format", "format_version", "model", "storage", "delta_tensors", "base_fingerprint")
)

# config.json keys that say where one model's weights came from: a soup's weights come from
# several models, so these move from the soup's top level into each part's entry
PROVENANCE = ("name", "version", "adapted_from", "training", "soup")


class SoupError(ValueError):
    """The models cannot be averaged (another architecture, bad weights)."""


def _weights(n: int, weights: Sequence[float] | None) -> list[float]:
    if weights is None:
        return [1.0 / n] * n
    if len(weights) != n or any(w < 0 for w in weights) or sum(weights) <= 0:
        raise SoupError(f"--weights needs {n} non-negative numbers with a positive sum")
    total = float(sum(weights))
    return [w / total for w in weights]


def average_models(
    paths: Sequence[str | Path], out: str | Path, weights: Sequence[float] | None = None
) -> Path:
    """Average the weights of the span models at ``paths`` into a model folder at ``out``; its
    ``config.json`` is the first model's (decoding included) without its training provenance,
    plus a ``soup`` entry: the weights and, per part, its path and provenance (see
    :func:`part_provenance`), so a soup of soups still says which runs it holds."""
    if len(paths) < 2:
        raise SoupError("a soup needs at least two models")
    share = _weights(len(paths), weights)
    first, _, meta = load_model(paths[0])
    total = {k: v.float() * share[0] for k, v in first.state_dict().items()}
    parts = [part_provenance(paths[0], meta)]
    for path, w in zip(paths[1:], share[1:], strict=True):
        model, _, cfg = load_model(path)
        parts.append(part_provenance(path, cfg))
        if _architecture(cfg) != _architecture(meta):
            raise SoupError(f"{path}: another architecture than {paths[0]} (config.json 'model')")
        for k, v in model.state_dict().items():
            total[k] += v.float() * w
    state = first.state_dict()
    first.load_state_dict({k: total[k].to(state[k].dtype) for k in state})
    moved = (_WRITTEN_BY_SAVE | set(PROVENANCE)) - {"name"}  # the name stays until a release
    keep = {k: v for k, v in meta.items() if k not in moved}
    keep["soup"] = {"models": [str(p) for p in paths], "weights": share, "parts": parts}
    return save_model(first, out, meta["storage"], keep)


def _architecture(config: dict[str, Any]) -> dict[str, Any]:
    """A config's ``model`` block without its reading settings (windows, passes): a released
    model and a training run's output differ there and still share weights' meaning; the soup
    reads as its first part does."""
    return {k: v for k, v in config["model"].items() if k not in READING_SETTINGS}


def part_provenance(path: str | Path, config: dict[str, Any]) -> dict[str, Any]:
    """One part's entry in a soup's ``config.json``: its path and the keys of its own config
    that say where its weights came from (name, version, what it was adapted from, its training
    record, and its own ``soup`` entry when it is itself a soup)."""
    return {"path": str(path), **{k: config[k] for k in PROVENANCE if k in config}}


def main(argv: Sequence[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--model", action="append", required=True, help="a model folder (repeat)")
    ap.add_argument("--weights", help="comma-separated, one per --model (default: equal)")
    ap.add_argument("--out", required=True, help="the new model folder")
    args = ap.parse_args(argv)
    try:
        weights = [float(w) for w in args.weights.split(",")] if args.weights else None
    except ValueError:
        sys.exit(f"error: --weights {args.weights!r}: not comma-separated numbers")
    try:
        with torch.no_grad():
            out = average_models(args.model, args.out, weights)
    except (SoupError, FileNotFoundError) as exc:
        sys.exit(f"error: {exc}")
    print(f"wrote {out}")


if __name__ == "__main__":
    main()
