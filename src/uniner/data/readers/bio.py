"""Column (CoNLL-style) readers: token/tag per line, blank line between sentences.

Three layouts share one parser: ``bio`` (token<TAB>tag, or whitespace separated when a line has
no TAB; extra middle columns are ignored), ``bio-tag-first`` (tag<TAB>token, the MIT files) and
``conllu`` (index<TAB>token<TAB>tag, the WikiANN/WikiNEuRal files). Lines whose column is
``-DOCSTART-`` are skipped (they are document markers, not tokens).

Comment lines: a line starting with ``#`` before the first token of a sentence is a comment when
it does not read as a token line with a valid tag (so a ``#`` token tagged ``O`` stays a token).
MultiCoNER II writes ``# id <uuid><TAB>domain=en`` there, CoNLL-U ``# sent_id = <id>``; that id is
kept as ``Example.meta["sent_id"]``. It is not the example id: ids are ``<file>:<index>``, unique
in a file, whereas MultiCoNER's train90 file repeats 8 of its uuids.

Spans follow the README's counting convention, which also accepts IOB1: a mention starts at
``B-X``, or at ``I-X`` not preceded by ``B-X``/``I-X`` of the same type. Labels are kept raw.
The example text is the tokens joined by one space, so offsets are computed from that join.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

from uniner.data.errors import DataFormatError
from uniner.data.readers._common import PathLike, iter_lines, join_tokens
from uniner.data.types import Entity, Example

DOCSTART = "-DOCSTART-"
TAG_EXPECTED = "a tag O, B-<type> or I-<type>"
# ``# id <x>`` (MultiCoNER) or ``# sent_id = <x>`` (CoNLL-U): the sentence's own id.
SENT_ID = re.compile(r"#\s*(?:sent_)?id\s*(?:=\s*|\s)(\S+)")


@dataclass(frozen=True, slots=True)
class Layout:
    """Where the token and the tag are in a line (column indexes; -1 is the last column)."""

    name: str
    token_col: int
    tag_col: int
    index_col: int | None
    min_cols: int
    expected: str


LAYOUTS: dict[str, Layout] = {
    "bio": Layout("bio", 0, -1, None, 2, "token<TAB>tag"),
    "bio-tag-first": Layout("bio-tag-first", 1, 0, None, 2, "tag<TAB>token"),
    "conllu": Layout("conllu", 1, -1, 0, 3, "index<TAB>token<TAB>tag"),
}


@dataclass(frozen=True, slots=True)
class TaggedSentence:
    """One block of a column file: its tokens, their raw tags, the line of its first token and
    the id its ``# id`` comment gives (None without one)."""

    tokens: tuple[str, ...]
    tags: tuple[str, ...]
    line: int
    sent_id: str | None = None


def split_columns(line: str) -> list[str]:
    """Split on TAB when there is one (types may contain spaces), else on any whitespace."""
    if "\t" in line:
        return [c.strip() for c in line.split("\t")]
    return line.split()


def is_tag(value: str) -> bool:
    """True for ``O``, ``B-<type>`` or ``I-<type>`` with a non-blank type."""
    if value == "O":
        return True
    return len(value) > 2 and value[1] == "-" and value[0] in "BI" and bool(value[2:].strip())


def _comment(cols: list[str], lay: Layout) -> bool:
    """Whether a ``#`` line before a sentence is a comment: it is not a well-formed token line."""
    if len(cols) < lay.min_cols:
        return True
    return not (cols[lay.token_col].strip() and is_tag(cols[lay.tag_col].strip()))


def _new_tag(path: PathLike, n: int, line: str, cols: list[str], tag: str, lay: Layout) -> bool:
    """Check a tag not seen before in this file: False for a ``-DOCSTART-`` line (skipped),
    True for a valid tag; a missing or malformed one raises :class:`DataFormatError`."""
    if DOCSTART in (c.strip() for c in cols):
        return False
    if not tag:
        raise DataFormatError(path, f"missing column in {line!r}", line=n, expected=lay.expected)
    if not is_tag(tag):
        raise DataFormatError(path, f"bad tag {tag!r}", line=n, expected=TAG_EXPECTED)
    return True


def iter_tagged_sentences(path: PathLike, layout: str = "bio") -> Iterator[TaggedSentence]:
    """Stream the sentences (blank-line separated blocks) of a column file.

    Raises :class:`DataFormatError` for a missing column, an empty token, a bad index (conllu)
    or a tag that is not O/B-/I-. ``#`` comment lines before a sentence are skipped (see the
    module docstring).
    """
    try:
        lay = LAYOUTS[layout]
    except KeyError:
        raise ValueError(f"unknown column layout {layout!r}; known: {sorted(LAYOUTS)}") from None
    tokens: list[str] = []
    tags: list[str] = []
    first_line = 0
    tok_i, tag_i, min_cols, idx_i = lay.token_col, lay.tag_col, lay.min_cols, lay.index_col
    good_tags: set[str] = set()  # tags already validated: the hot loop only does a lookup
    sent_id: str | None = None
    for n, line in iter_lines(path):
        if not line or line.isspace():
            if tokens:
                yield TaggedSentence(tuple(tokens), tuple(tags), first_line, sent_id)
                tokens, tags = [], []
            sent_id = None
            continue
        cols = line.split("\t") if "\t" in line else line.split()
        if not tokens and line[0] == "#" and _comment(cols, lay):
            found = SENT_ID.match(line)
            sent_id = found.group(1) if found else sent_id
            continue
        if len(cols) < min_cols:
            if DOCSTART in line:
                continue
            raise DataFormatError(
                path, f"missing column in {line!r}", line=n, expected=lay.expected
            )
        token, tag = cols[tok_i].strip(), cols[tag_i].strip()
        if token == DOCSTART:
            continue
        if tag not in good_tags:  # a tag's first sight only: the hot loop stays a lookup
            if not _new_tag(path, n, line, cols, tag, lay):
                continue  # a -DOCSTART- line
            good_tags.add(tag)
        if not token:
            raise DataFormatError(path, "empty token", line=n, expected=lay.expected)
        if idx_i is not None and not cols[idx_i].strip().isdigit():
            raise DataFormatError(
                path,
                f"bad token index {cols[idx_i]!r}",
                line=n,
                expected=f"an integer index ({lay.expected})",
            )
        if not tokens:
            first_line = n
        tokens.append(token)
        tags.append(tag)
    if tokens:  # no trailing blank line
        yield TaggedSentence(tuple(tokens), tuple(tags), first_line, sent_id)


def tag_spans(tags: Sequence[str]) -> list[tuple[int, int, str]]:
    """Token spans ``(start, end_exclusive, label)`` of a tag sequence (IOB1 and IOB2).

    ``I-X`` continues only a mention of the same type X; otherwise it starts one.
    """
    spans: list[tuple[int, int, str]] = []
    start = -1
    label = ""
    for i, tag in enumerate(tags):
        if tag == "O":
            if start >= 0:
                spans.append((start, i, label))
                start = -1
            continue
        prefix, typ = tag[0], tag[2:]
        if prefix == "I" and start >= 0 and typ == label:
            continue
        if start >= 0:
            spans.append((start, i, label))
        start, label = i, typ
    if start >= 0:
        spans.append((start, len(tags), label))
    return spans


def sentence_to_example(sentence: TaggedSentence, example_id: str | None = None) -> Example:
    """Join tokens with single spaces and turn tag spans into character-offset entities."""
    tokens = sentence.tokens
    text, starts = join_tokens(tokens)
    entities = []
    for s, e, label in tag_spans(sentence.tags):
        cs = starts[s]
        ce = starts[e - 1] + len(tokens[e - 1])
        entities.append(Entity(cs, ce, text[cs:ce], label))
    meta: dict[str, object] = {"tokens": tokens, "line": sentence.line}
    if sentence.sent_id is not None:
        meta["sent_id"] = sentence.sent_id
    return Example(text=text, entities=tuple(entities), id=example_id, meta=meta)


def read_bio(path: PathLike, *, layout: str = "bio") -> Iterator[Example]:
    """Examples of a column file; ids are ``<file name>:<sentence index from 0>``."""
    name = Path(path).name
    for i, sent in enumerate(iter_tagged_sentences(path, layout)):
        yield sentence_to_example(sent, f"{name}:{i}")


def read_bio_tag_first(path: PathLike) -> Iterator[Example]:
    """Examples of a tag<TAB>token file (MIT Movie/Restaurant raw)."""
    return read_bio(path, layout="bio-tag-first")


def read_conllu(path: PathLike) -> Iterator[Example]:
    """Examples of an index<TAB>token<TAB>tag file (WikiANN/WikiNEuRal)."""
    return read_bio(path, layout="conllu")
