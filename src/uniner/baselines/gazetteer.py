"""A gazetteer extractor: mention strings seen in training data, looked up in new text.

It is the floor a learned model must clear. Built only from the data the default model trains on
(Pile-NER and supervised training splits; never CrossNER or MIT), it answers a requested label
with every known mention of that label, longest match first, without overlaps. Keys are word
tuples (see :mod:`uniner.data.words`), so "U.S." in the text matches "U.S." in the gazetteer
whatever the spacing of the source data.
"""

from __future__ import annotations

import json
from collections import Counter, defaultdict
from collections.abc import Iterable, Sequence
from pathlib import Path

from uniner.data.types import Entity, Example
from uniner.data.words import word_spans, words
from uniner.inference.deadline import Deadline, check

Key = tuple[str, ...]


class Gazetteer:
    """Exact (case-sensitive) word-sequence lookup with label counts per mention."""

    name = "gazetteer"

    def __init__(
        self,
        table: dict[Key, Counter[str]],
        max_words: int = 8,
        min_share: float = 0.0,
        min_count: int = 1,
    ):
        if max_words < 1:
            raise ValueError(f"max_words must be >= 1, got {max_words}")
        self.table = table
        self.max_words = max_words
        self.min_share = min_share
        self.min_count = min_count

    def __len__(self) -> int:
        return len(self.table)

    @classmethod
    def from_examples(cls, examples: Iterable[Example], max_words: int = 8) -> Gazetteer:
        table: dict[Key, Counter[str]] = defaultdict(Counter)
        for ex in examples:
            for ent in ex.entities:
                key = tuple(words(ent.text))
                if 0 < len(key) <= max_words:
                    table[key][ent.label.lower()] += 1
        return cls(dict(table), max_words=max_words)

    def add_mentions(self, mentions: Iterable[tuple[str, str]]) -> None:
        """Add (mention string, label) pairs, e.g. answers of a conversation file."""
        for text, label in mentions:
            key = tuple(words(text))
            if 0 < len(key) <= self.max_words:
                self.table.setdefault(key, Counter())[label.lower()] += 1

    def extract(self, text: str, labels: Sequence[str]) -> list[Entity]:
        wanted = {lab.lower(): lab for lab in labels}
        spans = word_spans(text)
        toks = [text[s:e] for s, e in spans]
        out: list[Entity] = []
        i = 0
        while i < len(toks):
            hit = None
            for n in range(min(self.max_words, len(toks) - i), 0, -1):
                counts = self.table.get(tuple(toks[i : i + n]))
                if not counts:
                    continue
                best = max(
                    (lab for lab in counts if lab in wanted),
                    key=lambda lab: counts[lab],
                    default=None,
                )
                if best is None or counts[best] < max(
                    self.min_count, self.min_share * sum(counts.values())
                ):
                    continue
                hit = (n, best)
                break
            if hit is None:
                i += 1
                continue
            n, lab = hit
            start, end = spans[i][0], spans[i + n - 1][1]
            out.append(Entity(start, end, text[start:end], wanted[lab]))
            i += n
        return out

    def extract_batch(
        self,
        texts: Sequence[str],
        labels: Sequence[str],
        *,
        threshold: float | None = None,
        flat: bool | None = None,
        multi_label: bool | None = None,
        deadline: Deadline | None = None,
    ) -> list[list[Entity]]:
        """The Extractor contract. A lookup has no scores and gives flat, single-label
        entities (longest match first), so ``threshold``, ``flat`` and ``multi_label`` are
        ignored; ``deadline`` is checked between texts."""
        del threshold, flat, multi_label  # accepted for the contract; see the docstring
        out: list[list[Entity]] = []
        for t in texts:
            check(deadline, f"after {len(out)} of {len(texts)} texts")
            out.append(self.extract(t, labels))
        return out

    def save(self, path: Path) -> None:
        rows = [[list(k), dict(v)] for k, v in self.table.items()]
        path.write_text(
            json.dumps({"max_words": self.max_words, "entries": rows}), encoding="utf-8"
        )

    @classmethod
    def load(cls, path: Path) -> Gazetteer:
        data = json.loads(path.read_text(encoding="utf-8"))
        table = {tuple(k): Counter(v) for k, v in data["entries"]}
        return cls(table, max_words=int(data["max_words"]))


def default_gazetteer(data_dir: Path | None = None, max_words: int = 8) -> Gazetteer:
    """The gazetteer of the default model's training data (Pile-NER + supervised train splits).

    Built on the fly (about 15 s here): never from CrossNER or MIT, see :mod:`uniner.data.sources`.
    Every label a mention string was seen with is answered (``min_share=0``): chosen on the
    development suite (``bench/gazetteer_share.py``: 24.8 against 22.6 for answering only a
    mention's majority label, ``min_share=0.5``, which had been chosen on CrossNER dev).
    """
    from uniner.data.sources import training_examples

    return Gazetteer.from_examples(training_examples(data_dir=data_dir), max_words=max_words)
