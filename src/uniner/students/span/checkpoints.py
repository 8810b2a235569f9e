"""The span trainer's checkpoints: trainable weights, optimizer, RNG and trainer state.

Why apart from the trainer: a checkpoint's files are read by resuming runs, the ablation
runner and tests; their layout is one small contract, kept in one place. Only our own files
are read back (safetensors, and the optimizer state with ``weights_only=True``).
"""

from __future__ import annotations

import dataclasses
import json
import shutil
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import torch
from safetensors.torch import load_file, save_file

from uniner.students.span.model import SpanModel

CHECKPOINTS = "checkpoints"


@dataclass
class TrainState:
    """Where a run is: steps, epoch position, time spent, losses and evaluations."""

    step: int = 0
    epoch: int = 0
    batch_in_epoch: int = 0
    elapsed: float = 0.0
    best_f1: float | None = None
    best_step: int | None = None
    losses: list[tuple[int, float]] = field(default_factory=list)
    pending: list[float] = field(default_factory=list)  # losses since the last log entry
    evals: list[dict[str, Any]] = field(default_factory=list)


def _trainable(model: SpanModel) -> dict[str, torch.Tensor]:
    return {
        n: p.detach().cpu().contiguous() for n, p in model.named_parameters() if p.requires_grad
    }


def save_checkpoint(
    output_dir: Path,
    model: SpanModel,
    optimizer: torch.optim.Optimizer,
    state: TrainState,
    keep: int,
) -> Path:
    """``checkpoints/step-XXXXXXXX/``: trainable weights, optimizer, RNG and trainer state."""
    root = output_dir / CHECKPOINTS
    final = root / f"step-{state.step:08d}"
    tmp = root / f".tmp-{state.step:08d}"
    shutil.rmtree(tmp, ignore_errors=True)
    tmp.mkdir(parents=True)
    save_file(_trainable(model), str(tmp / "trainable.safetensors"))
    rng = {"torch": torch.get_rng_state()}
    if torch.cuda.is_available():
        rng["cuda"] = torch.cuda.get_rng_state()
    save_file(rng, str(tmp / "rng.safetensors"))
    torch.save(optimizer.state_dict(), tmp / "optimizer.pt")
    (tmp / "trainer_state.json").write_text(json.dumps(dataclasses.asdict(state), indent=1))
    shutil.rmtree(final, ignore_errors=True)
    tmp.rename(final)
    for old in sorted(root.glob("step-*"))[:-keep] if keep > 0 else []:
        shutil.rmtree(old, ignore_errors=True)
    return final


def latest_checkpoint(output_dir: Path) -> Path | None:
    found = sorted((output_dir / CHECKPOINTS).glob("step-*"))
    return found[-1] if found else None


def load_checkpoint(path: Path, model: SpanModel, optimizer: torch.optim.Optimizer) -> TrainState:
    """Restore a checkpoint written by :func:`save_checkpoint` (our own files only)."""
    weights = load_file(str(path / "trainable.safetensors"))
    expected = set(_trainable(model))
    if set(weights) != expected:
        raise ValueError(
            f"checkpoint {path} does not match the model: "
            f"missing {sorted(expected - set(weights))[:5]}, "
            f"extra {sorted(set(weights) - expected)[:5]}"
        )
    model.load_state_dict(weights, strict=False)  # copies onto the model's device
    # load_state_dict moves the moments onto the parameters' device itself
    optimizer.load_state_dict(
        torch.load(path / "optimizer.pt", weights_only=True, map_location="cpu")
    )
    rng = load_file(str(path / "rng.safetensors"))
    torch.set_rng_state(rng["torch"])
    if "cuda" in rng and torch.cuda.is_available():
        torch.cuda.set_rng_state(rng["cuda"])
    raw = json.loads((path / "trainer_state.json").read_text())
    raw["losses"] = [tuple(x) for x in raw.get("losses", [])]
    return TrainState(**raw)
