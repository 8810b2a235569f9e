"""GLiNER training JSON: ``[{"tokenized_text": [tokens], "ner": [[start, end, type], ...]}]``.

``start``/``end`` are token indexes with ``end`` INCLUSIVE (GLiNER's convention). The example text
is the tokens joined by one space (as for the column formats); the tokens are kept in
``meta["tokens"]`` so token-level models can use them directly.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

from uniner.data.errors import DataFormatError
from uniner.data.readers._common import (
    PathLike,
    is_json_int,
    iter_json_records,
    join_tokens,
    require_key,
    require_mapping,
)
from uniner.data.types import Entity, Example

RECORD = '{"tokenized_text": [str, ...], "ner": [[start_tok, end_tok_inclusive, type], ...]}'


def read_gliner(path: PathLike) -> Iterator[Example]:
    """Stream the examples of a GLiNER JSON file; ids are ``<file name>:<record index>``."""
    name = Path(path).name
    for index, (line, raw) in enumerate(iter_json_records(path)):
        rec = require_mapping(path, raw, line, RECORD, what=f"record {index}")
        tokens = require_key(path, rec, "tokenized_text", list, line, RECORD)
        spans = require_key(path, rec, "ner", list, line, RECORD)
        if not all(isinstance(t, str) for t in tokens):
            raise DataFormatError(
                path, f"record {index}: a token is not a string", line=line, expected=RECORD
            )
        text, starts = join_tokens(tokens)
        entities = [
            _entity(path, line, index, k, span, tokens, starts, text)
            for k, span in enumerate(spans)
        ]
        meta: dict[str, Any] = {"tokens": tuple(tokens), "line": line}
        duplicates = len(entities) - len(set(entities))
        if duplicates:
            meta["duplicate_entities"] = duplicates
        yield Example(text, tuple(entities), id=f"{name}:{index}", meta=meta)


def _entity(
    path: PathLike,
    line: int,
    index: int,
    k: int,
    span: Any,
    tokens: list[str],
    starts: list[int],
    text: str,
) -> Entity:
    """Validate ``[start, end_inclusive, type]`` and convert it to character offsets."""
    where = f"record {index}, span {k}"
    ok = (
        isinstance(span, list)
        and len(span) == 3
        and all(is_json_int(v) for v in span[:2])
        and isinstance(span[2], str)
        and span[2].strip() != ""
    )
    if not ok:
        raise DataFormatError(
            path,
            f"{where}: bad span {span!r}",
            line=line,
            expected="[start_tok, end_tok_inclusive, type]",
        )
    s, e, label = span
    if not 0 <= s <= e < len(tokens):
        raise DataFormatError(
            path,
            f"{where}: tokens {s}..{e} outside the sentence ({len(tokens)} tokens)",
            line=line,
            expected="0 <= start <= end < number of tokens",
        )
    cs, ce = starts[s], starts[e] + len(tokens[e])
    if cs >= ce:
        raise DataFormatError(
            path,
            f"{where}: span covers only empty tokens",
            line=line,
            expected="a span with some text",
        )
    return Entity(cs, ce, text[cs:ce], label)
