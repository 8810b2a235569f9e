"""How large the type-choice term is beside the BCE, in loss and gradient, on a model's batches.

    python bench/type_choice_scale.py --config configs/span-mpnet-v0.6.toml [--batches 4]
    python bench/type_choice_scale.py --config configs/span-minilm-fast-v0.2.toml  (a score store)

Why: ``train.type_choice_weight`` adds a cross-entropy over the asked types on spans with one
gold type (``model.type_choice_loss``) to a mean BCE over every (span, type) pair. The two are
averaged over very different counts (a few gold spans against ~10^5 pairs), so their gradients
differ by orders of magnitude and a weight must be set from the measured ratio, not guessed.
This builds the config's training pieces (its ``init_from`` weights, its seed, no CrossNER or
MIT data: the training mix only), takes the first batches of its first epoch and prints, per
batch, both losses and the norms of their gradients over the trainable parameters.
"""

from __future__ import annotations

import argparse
import dataclasses
import tempfile
from pathlib import Path

import torch

from uniner.data.sources import load_sources
from uniner.students.span import train as span_train
from uniner.students.span.config import load_run_config
from uniner.students.span.data import epoch_plan
from uniner.students.span.features import Featurizer
from uniner.students.span.losses import batch_losses


def grad_norm(loss: torch.Tensor, params: list[torch.nn.Parameter]) -> float:
    """The L2 norm of ``loss``'s gradient over ``params`` (the graph is kept for the next)."""
    grads = torch.autograd.grad(loss, params, retain_graph=True, allow_unused=True)
    return float(torch.sqrt(sum((g.float() ** 2).sum() for g in grads if g is not None)))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--config", type=Path, required=True)
    ap.add_argument("--batches", type=int, default=4)
    ap.add_argument("--threads", type=int, default=2)
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    run = load_run_config(args.config)
    mcfg, tcfg = run.model, run.train
    model, tokenizer = span_train.build_model(mcfg, tcfg.seed)
    if tcfg.init_from:
        span_train.init_weights(model, tcfg.init_from, mcfg)
    featurizer = Featurizer(tokenizer, mcfg.max_word_tokens, mcfg.max_label_tokens)
    with tempfile.TemporaryDirectory() as tmp:  # _prepare_data writes the mined hierarchy
        run = dataclasses.replace(run, train=dataclasses.replace(tcfg, output_dir=tmp))
        examples = load_sources(run.data.train, seed=tcfg.seed)
        data = span_train._prepare_data(run, examples, featurizer, Path(tmp))
    plan = epoch_plan(data.items, data.sampler, tcfg.batch_size, tcfg.seed, 0)
    params = [p for p in model.parameters() if p.requires_grad]
    print("batch  bce     |grad bce|  choice  |grad choice|")
    for b, entries in enumerate(plan[: args.batches]):
        bce, choice = batch_losses(
            model, featurizer, data.items, entries, mcfg, tcfg, [False] * len(entries),
            data.hierarchy, data.soft,
        )  # fmt: skip
        assert choice is not None
        print(
            f"{b:<6} {float(bce.detach()):.4f}  {grad_norm(bce, params):<10.4f} "
            f"{float(choice.detach()):.4f}  {grad_norm(choice, params):.4f}"
        )


if __name__ == "__main__":
    main()
