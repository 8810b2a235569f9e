"""Type inventories and other small side files.

* label lists: ``labels.json`` / ``top_391_NamedEntities.json`` / ``ne_types_list.json`` (a JSON
  list of strings) and ``label.txt`` (one label per line);
* ``sentences_per_ne_type.json``: SLIMER's example snippets per type,
  ``{type: [{sentence, target_words_in_it: [str], occurrences_count}]}``; only the keyed type is
  labelled in each snippet, so its examples carry ``labels=(type,)``;
* plain text (the corpora's LICENSE/README files), read as lines so every file can be loaded.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

from uniner.data.errors import DataFormatError
from uniner.data.readers._common import (
    PathLike,
    first_char,
    iter_lines,
    load_json,
    load_json_object,
)
from uniner.data.types import Entity, Example

TYPE_SENTENCES = (
    '{"<type>": [{"sentence": str, "target_words_in_it": [str], "occurrences_count": int}]}'
)


def read_labels(path: PathLike) -> list[str]:
    """The labels of a JSON list of strings, or of a text file with one label per line.

    Labels are kept raw (order and spelling); blank lines of a text file are skipped.
    """
    if first_char(path) == "[":
        data = load_json(path)
        if not isinstance(data, list):  # pragma: no cover - first char was '['
            raise DataFormatError(path, "not a JSON list", expected="a JSON list of strings")
        for i, label in enumerate(data):
            if not isinstance(label, str) or not label.strip():
                raise DataFormatError(
                    path, f"element {i} is {label!r}", expected="a JSON list of non-empty strings"
                )
        return list(data)
    labels = []
    for n, line in iter_lines(path):
        label = line.strip()
        if not label:
            continue
        if "\t" in label:
            raise DataFormatError(
                path, f"tab in label {label!r}", line=n, expected="one label per line"
            )
        labels.append(label)
    return labels


@dataclass(frozen=True, slots=True)
class TypeSentence:
    """One example snippet of ``sentences_per_ne_type.json``: the words of ``label`` in it."""

    label: str
    sentence: str
    targets: tuple[str, ...]
    occurrences: int


def read_type_sentences(path: PathLike) -> Iterator[TypeSentence]:
    """Stream the snippets of ``sentences_per_ne_type.json`` (a small JSON object)."""
    data = load_json_object(path, TYPE_SENTENCES)
    for label, items in data.items():
        if not label.strip():  # its examples would carry an empty label
            raise DataFormatError(path, f"empty type name {label!r}", expected=TYPE_SENTENCES)
        if not isinstance(items, list):
            raise DataFormatError(path, f"type {label!r} is not a list", expected=TYPE_SENTENCES)
        for i, item in enumerate(items):
            ok = (
                isinstance(item, dict)
                and isinstance(item.get("sentence"), str)
                and isinstance(item.get("target_words_in_it"), list)
                and all(isinstance(t, str) for t in item["target_words_in_it"])
            )
            if not ok:
                raise DataFormatError(
                    path, f"type {label!r}, item {i} is malformed", expected=TYPE_SENTENCES
                )
            count = item.get("occurrences_count")
            yield TypeSentence(
                label,
                item["sentence"],
                tuple(item["target_words_in_it"]),
                count if isinstance(count, int) else len(item["target_words_in_it"]),
            )


def read_type_sentence_examples(path: PathLike, *, align: bool = True) -> Iterator[Example]:
    """Snippets as examples labelled for their one type; target words located by alignment."""
    for i, ts in enumerate(read_type_sentences(path)):
        entities: tuple[Entity, ...] = ()
        meta: dict[str, object] = {"targets": ts.targets}
        if align and ts.targets:
            from uniner.data.align import align_mentions  # lazy: optional dependency

            result = align_mentions(ts.sentence, list(dict.fromkeys(ts.targets)), ts.label)
            entities = result.entities
            if result.unfound:
                meta["unfound"] = tuple((ts.label, m) for m in result.unfound)
        yield Example(ts.sentence, entities, (ts.label,), f"{ts.label}:{i}", meta)


def read_text_lines(path: PathLike) -> Iterator[str]:
    """Lines of a plain text file (LICENSE/README), without line endings."""
    for _, line in iter_lines(path):
        yield line
