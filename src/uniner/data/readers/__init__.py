"""Readers for every data format the project ships, behind one small API.

>>> fmt = detect_format(path)                 # e.g. "bio", "instructuie", "uniner-conversation"
>>> for ex in read_examples(path): ...        # Example objects with character offsets
>>> for conv in read_conversations(path): ... # UniNER-style conversations (raw answers kept)
>>> for rec in read_records(path): ...        # the format's own typed records (labels, ...)

``FORMATS`` maps each format name to a :class:`Format` describing its readers, so a format can be
named explicitly (``read_examples(path, format="bio-tag-first")``) when sniffing is not wanted.
Malformed input raises :class:`uniner.data.errors.DataFormatError` naming file, line and what was
expected. Line-oriented formats stream; JSON lists are decoded one element at a time.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from functools import partial
from typing import Any

from uniner.data.readers._common import PathLike
from uniner.data.readers.bio import iter_tagged_sentences, read_bio
from uniner.data.readers.conversation import (
    conversation_to_example,
    group_by_passage,
    group_test_conversations,
    read_uniner_conversations,
    read_uniner_examples,
)
from uniner.data.readers.detect import detect_format
from uniner.data.readers.gliner import read_gliner
from uniner.data.readers.instructuie import read_instructuie
from uniner.data.readers.offsets import read_offsets
from uniner.data.readers.slimer import (
    read_definitions,
    read_slimer_conversations,
    read_slimer_examples,
    read_slimer_queries,
)
from uniner.data.readers.typelists import (
    read_labels,
    read_text_lines,
    read_type_sentence_examples,
    read_type_sentences,
)
from uniner.data.types import Conversation, Example

__all__ = [
    "FORMATS",
    "Format",
    "conversation_to_example",
    "detect_format",
    "group_by_passage",
    "group_test_conversations",
    "read_conversations",
    "read_examples",
    "read_labels",
    "read_records",
]


@dataclass(frozen=True, slots=True)
class Format:
    """A data format: what its records are and which readers it supports.

    ``records`` yields the format's own typed records; ``examples`` and ``conversations`` are
    ``None`` when the format holds no such thing (a label list has no examples).
    """

    name: str
    summary: str
    records: Callable[..., Iterable[Any]]
    examples: Callable[..., Iterator[Example]] | None = None
    conversations: Callable[..., Iterator[Conversation]] | None = None

    def __call__(self, path: PathLike, **options: Any) -> Iterator[Any]:
        """Calling a format reads its records."""
        return iter(self.records(path, **options))


def _columns(layout: str) -> Format:
    summaries = {
        "bio": "token<TAB>tag per line (or whitespace separated), blank line between sentences",
        "bio-tag-first": "tag<TAB>token per line (MIT Movie/Restaurant raw files)",
        "conllu": "index<TAB>token<TAB>tag per line (WikiANN/WikiNEuRal .conllu)",
    }
    return Format(
        layout,
        summaries[layout],
        records=partial(iter_tagged_sentences, layout=layout),
        examples=partial(read_bio, layout=layout),
    )


FORMATS: dict[str, Format] = {
    f.name: f
    for f in (
        _columns("bio"),
        _columns("bio-tag-first"),
        _columns("conllu"),
        Format(
            "instructuie",
            "JSON list of {sentence, entities: [{name, type, pos: [start, end]}]}",
            records=read_instructuie,
            examples=read_instructuie,
        ),
        Format(
            "uniner-conversation",
            "JSON list of {id, conversations: [{from, value}, ...]} (UniNER train/test form)",
            records=read_uniner_conversations,
            examples=read_uniner_examples,
            conversations=read_uniner_conversations,
        ),
        Format(
            "slimer-jsonl",
            "SLIMER validation.jsonl: one (passage, type) query per line",
            records=read_slimer_queries,
            examples=read_slimer_examples,
            conversations=read_slimer_conversations,
        ),
        Format(
            "gliner-json",
            "JSON list of {tokenized_text, ner: [[start_tok, end_tok_inclusive, type]]}",
            records=read_gliner,
            examples=read_gliner,
        ),
        Format(
            "offsets",
            "JSON lines {text, entities: [{start, end, label}], labels?} (uniner extract's "
            "output; Prodigy spans, doccano label)",
            records=read_offsets,
            examples=read_offsets,
        ),
        Format("label-list", "JSON list of type names, or one per line", records=read_labels),
        Format(
            "slimer-definitions",
            "SLIMER type definitions {type: {named_entity, gpt_answer, ...}}",
            records=read_definitions,
        ),
        Format(
            "type-sentences",
            "SLIMER sentences_per_ne_type.json {type: [{sentence, target_words_in_it}]}",
            records=read_type_sentences,
            examples=read_type_sentence_examples,
        ),
        Format("text", "plain text (LICENSE/README files)", records=read_text_lines),
    )
}


def get_format(path: PathLike, format: str | None = None) -> Format:
    """The named format, or the detected one when ``format`` is None."""
    name = format if format is not None else detect_format(path)
    try:
        return FORMATS[name]
    except KeyError:
        raise ValueError(f"unknown format {name!r}; known: {', '.join(FORMATS)}") from None


def read_records(path: PathLike, format: str | None = None, **options: Any) -> Iterator[Any]:
    """The format's own records (sentences, queries, labels, definitions, lines...)."""
    return get_format(path, format)(path, **options)


def read_examples(path: PathLike, format: str | None = None, **options: Any) -> Iterator[Example]:
    """Examples with character-offset entities; ``options`` go to the format's reader.

    Conversation formats align their answers (``align=False`` skips it). Detection and unknown
    format errors are raised at once; file errors while iterating.
    """
    spec = get_format(path, format)
    if spec.examples is None:
        raise ValueError(
            f"{path}: format {spec.name!r} holds no examples; use read_records() instead"
        )
    return spec.examples(path, **options)


def read_conversations(
    path: PathLike, format: str | None = None, *, group: bool = False
) -> Iterator[Conversation]:
    """UniNER-style conversations of a conversation format.

    With ``group`` the one-question records are merged per passage (consecutive records for
    the UniNER test form, all records of a passage for SLIMER's scattered queries).
    """
    spec = get_format(path, format)
    if spec.conversations is None:
        raise ValueError(f"{path}: format {spec.name!r} holds no conversations")
    convs = spec.conversations(path)
    if not group:
        return convs
    if spec.name == "slimer-jsonl":
        return iter(group_by_passage(convs))
    return group_test_conversations(convs)
