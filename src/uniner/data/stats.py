"""Per-file statistics computed with the readers, following the conventions of the data README.

* column files: blank-line separated blocks are sentences (``-DOCSTART-`` lines skipped), tokens
  are token lines, a mention starts at ``B-X`` or at ``I-X`` not preceded by ``B-X``/``I-X``;
* InstructUIE / GLiNER: records are sentences, every listed entity is a mention;
* UniNER conversations: consecutive one-question records of the same passage are one passage;
  mentions are the answer strings as listed (not deduplicated), types the asked types;
* SLIMER jsonl: passages are distinct passage texts, each line a (passage, type) query;
* label lists and definitions: the number of types; text files: lines.

Types are always the number of distinct labels among the mentions (or asked, for queries).
The CLI only renders these numbers; tests compare them with the README tables.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Iterator
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from uniner.data.readers import FORMATS, detect_format, read_conversations, read_examples
from uniner.data.readers._common import PathLike
from uniner.data.readers.bio import read_bio
from uniner.data.readers.slimer import read_definitions
from uniner.data.readers.typelists import read_labels, read_text_lines, read_type_sentences
from uniner.data.types import Conversation, Example

#: Files at the top of the data directory that describe it rather than hold data.
NOT_DATA = frozenset({"README.md", "SHA256SUMS"})


@dataclass(frozen=True, slots=True)
class FileStats:
    """The README's numbers for one file; fields that do not apply to the format are None."""

    path: str
    format: str
    unit: str
    count: int
    queries: int | None = None
    nonempty: int | None = None
    tokens: int | None = None
    mentions: int | None = None
    types: int | None = None
    distinct: int | None = None
    note: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def _columns(path: PathLike, fmt: str) -> FileStats:
    """Through the example reader, so every offset of the file is validated on the way."""
    sentences = tokens = mentions = 0
    types: set[str] = set()
    for ex in read_bio(path, layout=fmt):
        sentences += 1
        tokens += len(ex.meta["tokens"])
        mentions += len(ex.entities)
        types.update(e.label for e in ex.entities)
    return FileStats(
        str(path), fmt, "sentences", sentences, tokens=tokens, mentions=mentions, types=len(types)
    )


def _examples(path: PathLike, fmt: str, examples: Iterable[Example]) -> FileStats:
    count = mentions = 0
    types: set[str] = set()
    for ex in examples:
        count += 1
        mentions += len(ex.entities) + int(ex.meta.get("duplicate_entities", 0))
        types.update(e.label for e in ex.entities)
    return FileStats(str(path), fmt, "sentences", count, mentions=mentions, types=len(types))


def _queries(
    path: PathLike, fmt: str, convs: Iterable[Conversation], *, distinct_texts: bool
) -> FileStats:
    """Passages are conversations, or distinct passage texts when queries are scattered."""
    count = queries = nonempty = mentions = 0
    types: set[str] = set()
    texts: set[str] = set()
    for conv in convs:
        count += 1
        texts.add(conv.text)
        for q in conv.queries:
            queries += 1
            nonempty += bool(q.answers)
            mentions += len(q.answers)
            types.add(q.label)
    return FileStats(
        str(path),
        fmt,
        "passages",
        len(texts) if distinct_texts else count,
        queries=queries,
        nonempty=nonempty,
        mentions=mentions,
        types=len(types),
    )


def file_stats(path: PathLike, format: str | None = None) -> FileStats:
    """Compute the README's numbers for one data file (format detected unless given)."""
    fmt = format or detect_format(path)
    if fmt not in FORMATS:
        raise ValueError(f"unknown format {fmt!r}; known: {', '.join(FORMATS)}")
    if fmt in ("bio", "bio-tag-first", "conllu"):
        return _columns(path, fmt)
    if fmt in ("instructuie", "gliner-json"):
        return _examples(path, fmt, read_examples(path, fmt))
    if fmt == "uniner-conversation":
        return _queries(path, fmt, read_conversations(path, fmt, group=True), distinct_texts=False)
    if fmt == "slimer-jsonl":
        return _queries(path, fmt, read_conversations(path, fmt), distinct_texts=True)
    if fmt == "label-list":
        labels = read_labels(path)
        return FileStats(str(path), fmt, "labels", len(labels), types=len(set(labels)))
    if fmt == "slimer-definitions":
        defs = list(read_definitions(path))
        incomplete = sum(not d.complete for d in defs)
        note = f"{incomplete} truncated GPT answers" if incomplete else None
        return FileStats(
            str(path), fmt, "types", len(defs), types=len({d.label for d in defs}), note=note
        )
    if fmt == "type-sentences":
        snippets = list(read_type_sentences(path))
        return FileStats(
            str(path),
            fmt,
            "sentences",
            len(snippets),
            mentions=sum(len(s.targets) for s in snippets),
            types=len({s.label for s in snippets}),
            distinct=len({s.sentence for s in snippets}),
        )
    if fmt == "text":
        return FileStats(str(path), fmt, "lines", sum(1 for _ in read_text_lines(path)))
    raise ValueError(f"no statistics for format {fmt!r}")  # pragma: no cover


def iter_data_files(root: PathLike) -> Iterator[Path]:
    """Every data file under ``root`` in sorted order, without the directory's own README and
    checksum list and without hidden files."""
    base = Path(root)
    found: list[Path] = []
    for dirpath, dirnames, filenames in os.walk(base):
        dirnames[:] = [d for d in dirnames if not d.startswith(".")]
        for name in filenames:
            p = Path(dirpath) / name
            if name.startswith(".") or (p.parent == base and name in NOT_DATA):
                continue
            found.append(p)
    return iter(sorted(found))


def expand_paths(paths: Iterable[PathLike]) -> list[Path]:
    """Files as given, and the data files under any directory given."""
    out: list[Path] = []
    for p in map(Path, paths):
        out.extend(iter_data_files(p) if p.is_dir() else [p])
    return out


__all__ = ["NOT_DATA", "FileStats", "expand_paths", "file_stats", "iter_data_files"]
