"""The teacher-score store of self-distillation: sharded, compact, resumable.

A folder holds ``manifest.json`` and shards ``shard-NNNNN.jsonl`` + ``shard-NNNNN.safetensors``.
A JSONL line is one piece: its source, id, words, the labels it was asked (in asking order), the
indices of its own types among them and its gold mentions ``[start, end, label index]`` (words,
end exclusive). The safetensors file holds every (span, label) the teacher scored at or above the
store's ``floor``: ``start`` (uint16, word), ``k`` (uint8, width - 1), ``label`` (uint8, index
into the piece's labels) and ``prob`` (uint8, ``round(255 * p)``), the pieces' entries one after
another as ``ptr`` (int64, ``n + 1`` offsets) says. Everything below the floor reads as 0.

Why this shape: a piece asks ~10 labels of ~700 spans, so dense scores would be ~7,000 floats; the
teacher gives nearly all of them ~0, and 5 bytes for each of the few above the floor keep a piece
at a few hundred bytes. Words rather than token ids, because the student has its own tokenizer.
One uint8 step (1/255) is far below the gaps between the decision thresholds that matter (0.5 to
0.8). Shards are written whole (temporary names, then renamed) before the manifest records them,
so a killed run loses at most the shard it was scoring and a rerun continues from the manifest.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
from safetensors.numpy import load_file, save_file

FORMAT = "uniner-teacher-scores"
FORMAT_VERSION = 1
MANIFEST = "manifest.json"
MAX_LABELS = 255  # label indices are uint8
ARRAYS = ("start", "k", "label", "prob")


class StoreError(ValueError):
    """A folder that is not a score store, or one written with other settings."""


@dataclass(frozen=True, slots=True)
class StoredPiece:
    """One piece of the pool with the teacher's scores of it (arrays share their length)."""

    source: str
    id: str
    words: tuple[str, ...]
    labels: tuple[str, ...]
    own: tuple[int, ...]  # indices of the piece's own types (gold exists for them)
    gold: tuple[tuple[int, int, int], ...]  # (start, end, label index), words, end exclusive
    start: np.ndarray
    k: np.ndarray
    label: np.ndarray
    prob: np.ndarray  # uint8; probability = prob / 255

    def record(self) -> dict[str, Any]:
        return {
            "source": self.source,
            "id": self.id,
            "words": list(self.words),
            "labels": list(self.labels),
            "own": list(self.own),
            "gold": [list(g) for g in self.gold],
        }

    def probabilities(self) -> np.ndarray:
        return self.prob.astype(np.float32) / 255.0


def quantise(p: np.ndarray) -> np.ndarray:
    """Probabilities in [0, 1] to uint8 steps of 1/255."""
    return np.clip(np.rint(np.asarray(p, dtype=np.float64) * 255.0), 0, 255).astype(np.uint8)


@dataclass
class ScoreStore:
    """A store folder being written (see the module docstring)."""

    root: Path
    manifest: dict[str, Any] = field(default_factory=dict)

    @classmethod
    def open(cls, root: str | Path, settings: Mapping[str, Any]) -> ScoreStore:
        """Create the folder, or reopen it to continue: its settings must equal ``settings``."""
        path = Path(root)
        mpath = path / MANIFEST
        if mpath.is_file():
            manifest = read_manifest(path)
            if manifest["settings"] != json.loads(json.dumps(settings)):
                diff = sorted(
                    k
                    for k in set(manifest["settings"]) | set(settings)
                    if manifest["settings"].get(k) != settings.get(k)
                )
                raise StoreError(
                    f"{mpath}: written with other settings ({', '.join(diff)}); "
                    "use a new folder or the same settings to continue"
                )
        else:
            path.mkdir(parents=True, exist_ok=True)
            manifest = {
                "format": FORMAT,
                "format_version": FORMAT_VERSION,
                "settings": dict(settings),
                "shards": [],
                "pieces": 0,
                "entries": 0,
                "complete": False,
            }
        for tmp in path.glob(".tmp-*"):  # a shard a killed run was writing
            tmp.unlink()
        store = cls(path, manifest)
        store._write_manifest()
        return store

    @property
    def cursor(self) -> tuple[int, int]:
        """(position in the pool order, pieces of that example already stored)."""
        shards = self.manifest["shards"]
        return tuple(shards[-1]["end"]) if shards else (0, 0)

    @property
    def pieces(self) -> int:
        return int(self.manifest["pieces"])

    def write_shard(
        self, pieces: Sequence[StoredPiece], end: tuple[int, int], extra: Mapping[str, Any]
    ) -> None:
        """Append one shard (whole, then recorded) that ends at pool cursor ``end``."""
        name = f"shard-{len(self.manifest['shards']):05d}"
        lines = "".join(json.dumps(p.record(), ensure_ascii=False) + "\n" for p in pieces)
        counts = np.array([len(p.prob) for p in pieces], dtype=np.int64)
        arrays = {"ptr": np.concatenate([[0], np.cumsum(counts)]).astype(np.int64)}
        for key, dtype in zip(ARRAYS, (np.uint16, np.uint8, np.uint8, np.uint8), strict=True):
            parts = [getattr(p, key).astype(dtype) for p in pieces]
            arrays[key] = np.concatenate(parts) if parts else np.zeros(0, dtype=dtype)
        tmp_j, tmp_s = self.root / f".tmp-{name}.jsonl", self.root / f".tmp-{name}.safetensors"
        tmp_j.write_text(lines, encoding="utf-8")
        save_file(arrays, str(tmp_s))
        os.replace(tmp_j, self.root / f"{name}.jsonl")
        os.replace(tmp_s, self.root / f"{name}.safetensors")
        entries = int(counts.sum())
        self.manifest["shards"].append(
            {"name": name, "pieces": len(pieces), "entries": entries, "end": list(end), **extra}
        )
        self.manifest["pieces"] += len(pieces)
        self.manifest["entries"] += entries
        self._write_manifest()

    def finish(self, complete: bool) -> None:
        self.manifest["complete"] = complete
        self._write_manifest()

    def _write_manifest(self) -> None:
        tmp = self.root / f".tmp-{MANIFEST}"
        tmp.write_text(json.dumps(self.manifest, indent=1, ensure_ascii=False) + "\n")
        os.replace(tmp, self.root / MANIFEST)


def read_manifest(root: str | Path) -> dict[str, Any]:
    """The manifest of a store folder, checked to be one."""
    path = Path(root) / MANIFEST
    if not path.is_file():
        raise StoreError(f"{root}: no {MANIFEST}; not a teacher-score folder")
    try:
        manifest: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
    except json.JSONDecodeError as err:
        raise StoreError(f"{path}: line {err.lineno}: not JSON ({err.msg})") from None
    if manifest.get("format") != FORMAT:
        raise StoreError(f"{path}: format is {manifest.get('format')!r}, expected {FORMAT!r}")
    if manifest.get("format_version", 0) > FORMAT_VERSION:
        raise StoreError(f"{path}: format version {manifest['format_version']} is too new")
    return manifest


def read_store(root: str | Path, max_pieces: int | None = None) -> Iterator[StoredPiece]:
    """The stored pieces in pool order (the first ``max_pieces`` of them)."""
    root = Path(root)
    manifest = read_manifest(root)
    left = manifest["pieces"] if max_pieces is None else max_pieces
    for shard in manifest["shards"]:
        if left <= 0:
            return
        yield from _read_shard(root, shard["name"], left)
        left -= shard["pieces"]


def _read_shard(root: Path, name: str, limit: int) -> Iterator[StoredPiece]:
    arrays = load_file(str(root / f"{name}.safetensors"))
    ptr = arrays["ptr"]
    path = root / f"{name}.jsonl"
    with path.open(encoding="utf-8") as fh:
        for i, line in enumerate(fh):
            if i >= limit:
                return
            try:
                rec = json.loads(line)
                a, b = int(ptr[i]), int(ptr[i + 1])
                yield StoredPiece(
                    source=rec["source"],
                    id=rec["id"],
                    words=tuple(rec["words"]),
                    labels=tuple(rec["labels"]),
                    own=tuple(rec["own"]),
                    gold=tuple((int(s), int(e), int(j)) for s, e, j in rec["gold"]),
                    **{key: arrays[key][a:b] for key in ARRAYS},
                )
            except (json.JSONDecodeError, KeyError, IndexError, ValueError) as err:
                raise StoreError(f"{path}: line {i + 1}: bad piece record ({err})") from None
