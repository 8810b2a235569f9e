"""``uniner ablate NAME``: run a registered ablation (configs/ablations/NAME.toml) and write its
table; ``uniner ablate --list`` shows the registry. See :mod:`uniner.benchmark.ablation_run`."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from uniner.cli import app
from uniner.cli.errors import USAGE, UserError

if TYPE_CHECKING:
    from uniner.benchmark.ablations import Ablation


def _seeds(value: str | None) -> tuple[int, ...] | None:
    if value is None:
        return None
    try:
        seeds = tuple(int(s) for s in value.split(",") if s.strip())
    except ValueError:
        raise typer.BadParameter(f"{value!r}: a comma-separated list of integers") from None
    if not seeds:
        raise typer.BadParameter("give at least one seed", param_hint="--seeds")
    return seeds


def _list() -> None:
    from uniner.benchmark.ablations import registry

    for name, ab in registry().items():
        status = "blocked: " + ab.blocked if ab.blocked else "needs GPU" if ab.needs_gpu else "ok"
        parts = (
            ab.budget.steps and f"{ab.budget.steps} steps",
            ab.budget.seconds and f"{ab.budget.seconds:g} s",
        )
        budget = " or ".join(p for p in parts if p)
        typer.echo(
            f"{name:<20} {ab.origin:<5} {ab.student:<10} arms {', '.join(ab.arm_names)}; "
            f"varies {', '.join(ab.varies)}; {budget} x {len(ab.seeds) or 1} seed(s); {status}"
        )


def _named_ablation(name: str | None, out: Path) -> Ablation:
    """The ablation NAME names, or one error line (usage: no name, --out a file, unknown)."""
    from uniner.benchmark.ablations import AblationError, get_ablation

    try:
        if name is None:
            raise UserError("give an ablation NAME, or --list", USAGE)
        if out.exists() and not out.is_dir():
            raise UserError(f"{out}: is a file; --out takes a folder", USAGE)
        return get_ablation(name)
    except KeyError as exc:
        raise UserError(str(exc.args[0]), USAGE) from None
    except AblationError as exc:  # a malformed registry file: names the file and field
        raise UserError(str(exc)) from None


_REUSE_HELP = (
    "copy the scores of an identical finished run of another ablation under --out "
    "(e.g. the shared baseline) instead of training it again"
)


@app.command("ablate")
def ablate(
    name: Annotated[
        str | None, typer.Argument(help="a registered ablation (see --list) or its .toml file")
    ] = None,
    budget_seconds: Annotated[
        float | None, typer.Option(min=1.0, help="training seconds per run (replaces the file's)")
    ] = None,
    budget_steps: Annotated[
        int | None, typer.Option(min=1, help="training steps per run (replaces the file's)")
    ] = None,
    seeds: Annotated[
        str | None, typer.Option(help="comma-separated seeds, e.g. 0,1 (default: the file's)")
    ] = None,
    out: Annotated[Path, typer.Option(help="folder of every ablation's runs")] = Path(
        "runs/ablations"
    ),
    save_predictions: Annotated[
        bool,
        typer.Option(
            help="keep every scored passage (dev suite and zero-shot) for rescoring with "
            "uniner bench --predictions"
        ),
    ] = False,
    list_: Annotated[bool, typer.Option("--list", help="list the registered ablations")] = False,
    allow_cpu: Annotated[
        bool, typer.Option(help="run an ablation marked 'needs GPU' on the CPU anyway")
    ] = False,
    reuse: Annotated[bool, typer.Option(help=_REUSE_HELP)] = True,
    progress: Annotated[bool, typer.Option(help="progress bars")] = True,
) -> None:
    """Train every arm of an ablation (finished runs are skipped), score each on the dev suite
    and the 7 zero-shot sets, and write OUT/NAME/table.md and table.json."""
    import logging

    from uniner.benchmark.ablation_run import AblateOptions, run_ablation
    from uniner.benchmark.ablations import AblationError

    if list_:
        _list()
        return
    ab = _named_ablation(name, out)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(message)s")
    opts = AblateOptions(
        out=out,
        seeds=_seeds(seeds),
        budget_seconds=budget_seconds,
        budget_steps=budget_steps,
        save_predictions=save_predictions,
        progress=progress,
        allow_cpu=allow_cpu,
        reuse=reuse,
    )
    try:
        table, files = run_ablation(ab, opts)
    except AblationError as exc:
        raise UserError(str(exc)) from None
    from uniner.benchmark.ablation_report import markdown

    typer.echo(markdown(table))
    typer.echo(f"wrote {', '.join(str(p) for p in files)}")
