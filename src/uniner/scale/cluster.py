"""Joining or starting Ray, and sizing the actor pool to the cores it has."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from uniner.errors import RUNTIME, USAGE, UserError

# default threads per actor: a guess (this 2-core machine cannot measure it), so that a large
# node runs several encoders rather than one that scales poorly over many threads
DEFAULT_MAX_THREADS = 4


def require_ray() -> Any:
    """The ``ray`` module, or one line saying how to install it."""
    try:
        import ray
        import ray.data
    except ImportError as exc:
        raise UserError(
            f"--engine ray needs Ray ({exc.name} is not installed): pip install 'uniner[ray]'",
            USAGE,
        ) from None
    return ray


@contextmanager
def ray_session(address: str | None) -> Iterator[Any]:
    """Ray joined at ``address`` or started locally on this machine's cores; an already
    initialised Ray (a test session, a notebook) is used as it is and left running."""
    ray = require_ray()
    started = False
    if not ray.is_initialized():
        try:
            ray.init(
                address=address,
                include_dashboard=False,
                logging_level=logging.WARNING,
                configure_logging=True,
            )
        except (ConnectionError, RuntimeError, ValueError) as exc:
            where = address or "a local cluster"
            raise UserError(f"cannot start or join Ray at {where}: {exc}", RUNTIME) from None
        started = True
    logging.getLogger("ray.data").setLevel(logging.WARNING)  # not a line per dataset run
    logging.getLogger("ray.data._internal.progress").setLevel(logging.ERROR)  # bars: ours
    ctx = ray.data.DataContext.get_current()
    ctx.enable_progress_bars = False  # the command draws its own bar, over records
    ctx.verbose_stats_logs = False
    try:
        yield ray
    finally:
        if started:
            ray.shutdown()


def cluster_cpus(ray: Any) -> int:
    return max(1, int(ray.cluster_resources().get("CPU", 1)))


def plan_actors(cpus: int, actors: int | None, threads: int | None) -> tuple[int, int]:
    """``(actors, threads per actor)`` so that actors x threads fits the cluster's CPUs: each
    actor reserves its threads as Ray CPUs, so an over-asked pool would wait forever."""
    if actors is not None and threads is not None:
        if actors * threads > cpus:
            raise UserError(
                f"--actors {actors} x --threads-per-actor {threads} = {actors * threads} "
                f"threads, more than the cluster's {cpus} CPUs",
                USAGE,
            )
        return actors, threads
    if actors is not None:
        if actors > cpus:
            raise UserError(f"--actors {actors} is more than the cluster's {cpus} CPUs", USAGE)
        return actors, max(1, cpus // actors)
    if threads is not None:
        if threads > cpus:
            raise UserError(
                f"--threads-per-actor {threads} is more than the cluster's {cpus} CPUs", USAGE
            )
        return max(1, cpus // threads), threads
    threads = min(cpus, DEFAULT_MAX_THREADS)
    return max(1, cpus // threads), threads
