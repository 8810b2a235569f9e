"""Test doubles: tiny random-init models, hand-scored extractors, fake serving extractors and a
scripted OpenAI-compatible teacher server.

They live with the tests, not in the installed package (issue 26): a user of ``uniner`` never
needs them, and code under ``src/`` must never import them (``tests/test_architecture.py``).
Tests import them as ``tests.doubles.<module>`` (``pythonpath = ["."]`` in pyproject's pytest
section); bench scripts put the repository root on ``sys.path`` first.

- :mod:`tests.doubles.span`: a tiny BERT backbone, toy examples, ``FirstWordScorer``;
- :mod:`tests.doubles.generative`: a tiny causal LM and byte-level tokenizer;
- :mod:`tests.doubles.serving`: the shared default model and ``CapitalsExtractor``;
- :mod:`tests.doubles.teacher_server`: the scripted teacher, a FastAPI app under uvicorn (the
  serve extra); also a script, for dry runs and benches:
  ``python tests/doubles/teacher_server.py --help``.
"""

from __future__ import annotations

import os
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[2]


def child_env(env: dict[str, str] | None = None) -> dict[str, str]:
    """``os.environ`` (or ``env``) with the repository root first on ``PYTHONPATH``: a child
    Python that a test starts from a script file (a server in its own process) does not get
    pytest's ``pythonpath``, and must import ``tests.doubles`` just as the test does."""
    base = dict(os.environ if env is None else env)
    base["PYTHONPATH"] = os.pathsep.join(p for p in (str(REPO_ROOT), base.get("PYTHONPATH")) if p)
    return base
