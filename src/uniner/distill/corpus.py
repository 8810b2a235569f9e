"""Corpus in: documents from files, chunked into passages, de-duplicated and sampled.

* **Sources** (:func:`iter_documents`): plain text files, JSON lines (the text under a
  configurable field, dotted paths allowed: ``meta.body``), ``.gz`` variants of both, directories
  (recursively, those suffixes) and glob patterns. Everything streams: a file is read line by
  line, never whole. Text files yield one document per blank-line-separated block
  (``text_unit="paragraph"``), per line, or per file.
* **Chunking** (:func:`chunk_text`): passages of at most ``max_tokens`` tokens of a configurable
  tokenizer (``"whitespace"`` or any transformers tokenizer: a backbone name, folder or hub id),
  cut on sentence boundaries (pysbd's) where possible; a single over-long sentence is cut
  between tokens.
* **De-duplication** (:class:`Deduplicator`): exact (case- and whitespace-insensitive hash) and
  near-duplicate (datasketch's MinHash over word 5-shingles with LSH banding; a pair is a
  duplicate when the estimated Jaccard similarity reaches ``near_threshold``). The first
  occurrence is kept.
* **Sampling** (:func:`sample_passages`): a seeded reservoir sample of N passages from the
  stream, returned in stream order, so the same corpus, seed and N give the same passages and ids.
"""

from __future__ import annotations

import functools
import glob
import hashlib
import random
import re
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from uniner.data.errors import DataFormatError
from uniner.data.guard import refuse_zero_shot_path
from uniner.data.readers._common import iter_json_lines, open_text
from uniner.distill.runner import Passage
from uniner.extras import require

TEXT_SUFFIXES = (".txt", ".text", ".md")
JSONL_SUFFIXES = (".jsonl", ".ndjson")
TEXT_UNITS = ("paragraph", "line", "file")


@dataclass(frozen=True, slots=True)
class Document:
    id: str
    text: str


def _base_suffix(path: Path) -> str:
    name = path.name.lower()
    if name.endswith(".gz"):
        name = name[:-3]
    return Path(name).suffix


def expand_sources(sources: Iterable[str | Path]) -> list[Path]:
    """Files named by paths, directories (recursive) and globs, in a stable order."""
    out: list[Path] = []
    for src in sources:
        s = str(src)
        if any(ch in s for ch in "*?["):
            matches = sorted(Path(p) for p in glob.glob(s, recursive=True))
            if not matches:
                raise FileNotFoundError(f"corpus pattern {s!r} matches no file")
            out += [m for m in matches if m.is_file()]
            continue
        p = Path(s)
        if p.is_dir():
            out += sorted(
                f
                for f in p.rglob("*")
                if f.is_file() and _base_suffix(f) in TEXT_SUFFIXES + JSONL_SUFFIXES
            )
        elif p.is_file():
            out.append(p)
        else:
            raise FileNotFoundError(f"corpus source {s!r} does not exist")
    found = list(dict.fromkeys(out))
    for f in found:  # a teacher's annotations of a zero-shot test text would be training data
        refuse_zero_shot_path(f, what=f"corpus file {f}")
    return found


def _get_field(rec: object, dotted: str) -> object:
    cur = rec
    for part in dotted.split("."):
        if not isinstance(cur, dict) or part not in cur:
            return None
        cur = cur[part]
    return cur


def _iter_jsonl(path: Path, text_field: str, id_field: str | None) -> Iterator[Document]:
    # lenient decoding: raw corpora carry stray bytes, which must not stop a long run
    for line_no, rec in iter_json_lines(path, allow_empty=True, errors="replace"):
        text = _get_field(rec, text_field)
        if not isinstance(text, str):
            raise DataFormatError(
                path,
                f"no string field {text_field!r}",
                line=line_no,
                expected=f'{{"{text_field}": "<text>", ...}} '
                "(set the text field with --text-field)",
            )
        rid = _get_field(rec, id_field) if id_field else None
        yield Document(str(rid) if rid is not None else f"{path.name}:{line_no}", text)


def _iter_text(path: Path, unit: str) -> Iterator[Document]:
    with open_text(path, errors="replace") as fh:
        if unit == "file":
            yield Document(path.name, fh.read())
            return
        block: list[str] = []
        start = 1
        for line_no, line in enumerate(fh, 1):
            if unit == "line":
                if line.strip():
                    yield Document(f"{path.name}:{line_no}", line.rstrip("\n"))
                continue
            if line.strip():
                if not block:
                    start = line_no
                block.append(line.rstrip("\n"))
            elif block:
                yield Document(f"{path.name}:{start}", "\n".join(block))
                block = []
        if block:
            yield Document(f"{path.name}:{start}", "\n".join(block))


def iter_documents(
    sources: Iterable[str | Path],
    *,
    text_field: str = "text",
    id_field: str | None = None,
    text_unit: str = "paragraph",
) -> Iterator[Document]:
    """Stream documents from every source (see the module docstring)."""
    if text_unit not in TEXT_UNITS:
        raise ValueError(f"text_unit must be one of {TEXT_UNITS}, got {text_unit!r}")
    for path in expand_sources(sources):
        suffix = _base_suffix(path)
        if suffix in JSONL_SUFFIXES:
            yield from _iter_jsonl(path, text_field, id_field)
        else:
            yield from _iter_text(path, text_unit)


# --- chunking ---------------------------------------------------------------------------------


@functools.cache
def _segmenter() -> Any:
    """pysbd's English segmenter, built once (it compiles many patterns); without cleaning, so
    the sentences are the text's own characters."""
    pysbd = require("pysbd", "distill", "sentence splitting of a corpus")
    return pysbd.Segmenter(language="en", clean=False, char_span=True)


# where a block of text ends for sure: blank lines, and a line break before a list item
_BLOCK_END = re.compile(r"\n[ \t]*\n\s*|\n(?=[ \t]*[-*•][ \t])")


def split_sentences(text: str) -> list[str]:
    """Sentences (with their trailing whitespace kept, so joining gives the text back).

    pysbd (the Golden Rules segmenter: "Dr. Smith", "U.S. Army", quotes) finds where sentences
    start, block by block: paragraphs and list items are cut here, and pysbd sees each block
    with its line breaks as spaces (same length), so hard-wrapped lines do not end sentences
    and its abbreviation pass, quadratic in the length it is given, sees one paragraph at a
    time. Only the starts come from pysbd; the pieces are cut from ``text`` itself, so offsets
    are exact whatever pysbd does with whitespace.
    """
    if not text:
        return []
    starts = {0}
    begin = 0
    for m in _BLOCK_END.finditer(text):
        starts |= _sentence_starts(text, begin, m.start())
        starts.add(m.end())
        begin = m.end()
    starts |= _sentence_starts(text, begin, len(text))
    cuts = sorted(c for c in starts if c < len(text))
    pieces = [text[a:b] for a, b in zip(cuts, [*cuts[1:], len(text)], strict=True)]
    return _merge_blank(pieces)


def _sentence_starts(text: str, begin: int, end: int) -> set[int]:
    """Offsets in ``text`` where pysbd starts a sentence inside ``text[begin:end]``."""
    block = text[begin:end].replace("\n", " ")
    lead = len(block) - len(block.lstrip())  # leading spaces stay with the first sentence
    if lead == len(block):
        return set()
    spans = _segmenter().segment(block)
    return {begin + sp.start for sp in spans if lead < sp.start < len(block)}


def _merge_blank(pieces: list[str]) -> list[str]:
    """Whitespace-only pieces (blank lines) joined to the sentence before them."""
    out: list[str] = []
    for p in pieces:
        if out and not p.strip():
            out[-1] += p
        elif p:
            out.append(p)
    return out


TokenCounter = Callable[[str], int]


def whitespace_count(text: str) -> int:
    return len(text.split())


def make_token_counter(tokenizer: str = "whitespace") -> TokenCounter:
    """``"whitespace"`` or a transformers tokenizer (backbone name, folder or hub id)."""
    if tokenizer == "whitespace":
        return whitespace_count
    from transformers import AutoTokenizer

    from uniner.backbones import resolve_backbone

    tok = AutoTokenizer.from_pretrained(resolve_backbone(tokenizer))

    def count(text: str) -> int:
        return len(tok(text, add_special_tokens=False)["input_ids"])

    return count


def _split_long(sentence: str, count: TokenCounter, max_tokens: int) -> list[str]:
    """Cut an over-long sentence between words, each piece within the limit."""
    words = re.findall(r"\S+\s*", sentence)
    pieces: list[str] = []
    cur = ""
    for w in words:
        if cur and count(cur + w) > max_tokens:
            pieces.append(cur)
            cur = ""
        if not cur and count(w) > max_tokens:  # one "word" longer than the limit: hard cut
            step = max(1, len(w) * max_tokens // max(1, count(w)))
            while count(w) > max_tokens:
                pieces.append(w[:step])
                w = w[step:]
        cur += w
    if cur:
        pieces.append(cur)
    return pieces


def chunk_text(
    text: str, count: TokenCounter = whitespace_count, max_tokens: int = 256
) -> list[str]:
    """Passages of at most ``max_tokens`` tokens, packing whole sentences greedily."""
    if count(text) <= max_tokens:  # what packing gives anyway, without splitting sentences
        return [text.strip()] if text.strip() else []
    chunks: list[str] = []
    cur = ""
    for sent in split_sentences(text):
        if count(sent) > max_tokens:
            if cur.strip():
                chunks.append(cur)
            cur = ""
            chunks.extend(_split_long(sent, count, max_tokens))
            continue
        if cur and count(cur + sent) > max_tokens:
            chunks.append(cur)
            cur = ""
        cur += sent
    if cur.strip():
        chunks.append(cur)
    return [c.strip() for c in chunks if c.strip()]


def iter_passages(
    documents: Iterable[Document],
    count: TokenCounter = whitespace_count,
    max_tokens: int = 256,
    min_tokens: int = 1,
) -> Iterator[Passage]:
    """Chunks of every document, with ids ``<doc id>#<chunk>`` (one chunk: the doc id)."""
    for doc in documents:
        chunks = [c for c in chunk_text(doc.text, count, max_tokens) if count(c) >= min_tokens]
        for k, c in enumerate(chunks):
            yield Passage(doc.id if len(chunks) == 1 else f"{doc.id}#{k}", c)


# --- de-duplication ---------------------------------------------------------------------------


def _normalise(text: str) -> str:
    return " ".join(text.lower().split())


class Deduplicator:
    """Exact and MinHash-LSH near-duplicate detection over a stream (first occurrence wins).

    datasketch's MinHash (its ``affine32`` permutations, seeded) over word ``shingle``-grams and
    its LSH index with ``bands`` bands find candidates; a candidate is a duplicate when the
    estimated Jaccard similarity reaches ``near_threshold``.
    """

    def __init__(
        self,
        near_threshold: float | None = 0.8,
        num_perm: int = 64,
        bands: int = 16,
        shingle: int = 5,
        seed: int = 1,
    ) -> None:
        if near_threshold is not None and not 0 < near_threshold <= 1:
            raise ValueError("near_threshold must be in (0, 1]")
        if num_perm % bands:
            raise ValueError("num_perm must be a multiple of bands")
        self.near_threshold = near_threshold
        self.shingle = shingle
        self.num_perm = num_perm
        self.seed = seed
        self.exact: set[bytes] = set()
        self.dropped = {"exact": 0, "near": 0}
        self.signatures: list[Any] = []  # hash values of every kept text, by LSH key
        self._lsh: Any = None
        self._permutations: Any = None
        if near_threshold is not None:
            datasketch = require("datasketch", "distill", "near-duplicate filtering")
            template = datasketch.MinHash(num_perm=num_perm, seed=seed, scheme="affine32")
            self._permutations = template.permutations  # shared: made once, not per text
            self._lsh = datasketch.MinHashLSH(
                threshold=near_threshold, num_perm=num_perm, params=(bands, num_perm // bands)
            )

    def signature(self, text: str) -> Any:
        """The MinHash of ``text``'s word shingles (case and spacing ignored)."""
        from datasketch import MinHash  # type: ignore[import-untyped]

        words = _normalise(text).split()
        n = self.shingle
        grams = {" ".join(words[i : i + n]) for i in range(max(1, len(words) - n + 1))}
        sig = MinHash(
            num_perm=self.num_perm,
            seed=self.seed,
            permutations=self._permutations,
            scheme="affine32",
        )
        sig.update_batch(g.encode() for g in sorted(grams))
        return sig

    def is_duplicate(self, text: str) -> bool:
        """Whether ``text`` repeats an earlier one; remembers it when it does not."""
        key = hashlib.blake2b(_normalise(text).encode(), digest_size=16).digest()
        if key in self.exact:
            self.dropped["exact"] += 1
            return True
        self.exact.add(key)
        threshold = self.near_threshold
        if self._lsh is None or threshold is None:  # the index exists only with a threshold
            return False
        sig = self.signature(text)
        for c in self._lsh.query(sig):
            if float(np.mean(self.signatures[c] == sig.hashvalues)) >= threshold:
                self.dropped["near"] += 1
                return True
        self._lsh.insert(len(self.signatures), sig)
        self.signatures.append(sig.hashvalues)
        return False


def dedup(passages: Iterable[Passage], deduper: Deduplicator) -> Iterator[Passage]:
    for p in passages:
        if not deduper.is_duplicate(p.text):
            yield p


def sample_passages(passages: Iterable[Passage], n: int | None, seed: int = 0) -> list[Passage]:
    """A seeded reservoir sample of ``n`` passages (all when ``n`` is None), in stream order."""
    if n is None:
        return list(passages)
    rng = random.Random(seed)
    reservoir: list[tuple[int, Passage]] = []
    for i, p in enumerate(passages):
        if i < n:
            reservoir.append((i, p))
        else:
            j = rng.randint(0, i)
            if j < n:
                reservoir[j] = (i, p)
    reservoir.sort(key=lambda x: x[0])
    return [p for _, p in reservoir]
