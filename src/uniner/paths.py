"""Where the shared data lives.

Order: the ``UNINER_DATA_DIR`` environment variable; then ``../shared/data`` beside the repository
root (the layout of a development checkout and of CI); then ``../shared/data`` relative to the
current directory. Returns ``None`` when nothing is found, so callers can skip or explain.
"""

from __future__ import annotations

import os
from pathlib import Path

ENV_VAR = "UNINER_DATA_DIR"
REPO_ROOT = Path(__file__).resolve().parents[2]


def data_dir(required: bool = False) -> Path | None:
    candidates: list[Path] = []
    env = os.environ.get(ENV_VAR)
    if env:
        candidates.append(Path(env))
    candidates += [REPO_ROOT.parent / "shared" / "data", Path.cwd().parent / "shared" / "data"]
    for cand in candidates:
        if cand.is_dir():
            return cand.resolve()
    if required:
        raise FileNotFoundError(
            f"shared data not found; set {ENV_VAR} or place it at ../shared/data "
            f"(looked in: {', '.join(str(c) for c in candidates)})"
        )
    return None
