"""``uniner instruct build``: instruction data from annotations, conversation files or
supervised data sets, in the released Pile-NER-type layout.

Inputs: a ``uniner distill`` ``annotations.jsonl`` (unparseable answers skipped), any
conversation file (Pile-NER-type, UniNER test files, SLIMER jsonl: answers kept as they are, known
negatives kept), or any supervised format ``uniner data stats`` reads (BIO, CoNLL-U, InstructUIE,
GLiNER...), with ``--label-map`` turning tags into natural-language types (PER -> person).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from uniner.cli import app
from uniner.cli.errors import RUNTIME, UserError

if TYPE_CHECKING:
    from uniner.instruct import Annotated as AnnotatedPassage

instruct_app = typer.Typer(help="Instruction data for the students.", no_args_is_help=True)
app.add_typer(instruct_app, name="instruct")


def _load_annotated(
    path: Path, label_map: dict[str, str], dataset: str | None
) -> list[AnnotatedPassage]:
    from uniner.data.readers import detect_format, read_conversations, read_examples
    from uniner.data.readers.conversation import group_by_passage
    from uniner.data.types import Example
    from uniner.distill.output import read_annotations
    from uniner.instruct import from_conversation, from_example

    if path.suffix == ".jsonl":
        from uniner.data.readers._common import iter_json_lines

        first: object = next((rec for _, rec in iter_json_lines(path, allow_empty=True)), {})
        if isinstance(first, dict) and "teacher" in first and "entities" in first:
            return [
                from_example(Example.from_dict(r), i, label_map, dataset)
                for i, r in enumerate(read_annotations(path))
                if r["teacher"].get("parse") != "unparseable"
            ]
    fmt = detect_format(path)
    if fmt in ("uniner-conversation", "slimer-jsonl"):
        convs = group_by_passage(read_conversations(path))
        return [from_conversation(c) for c in convs]
    return [from_example(ex, i, label_map, dataset) for i, ex in enumerate(read_examples(path))]


@instruct_app.command("build")
def build(
    inputs: Annotated[list[Path], typer.Argument(help="annotation, conversation or data files")],
    out: Annotated[Path, typer.Option("--out", "-o", help="output JSON file")],
    negatives: Annotated[str, typer.Option(help="none | uniform | frequency")] = "frequency",
    n_negatives: Annotated[int, typer.Option(help="sampled negatives per passage")] = 2,
    seed: Annotated[int, typer.Option(help="negative sampling and question order")] = 0,
    shuffle: Annotated[bool, typer.Option("--shuffle/--no-shuffle")] = True,
    variant: Annotated[str, typer.Option(help="type | all-in-one | definition")] = "type",
    dataset: Annotated[
        str | None, typer.Option(help="supervised template: 'Dataset: NAME' before the text")
    ] = None,
    label_map: Annotated[
        Path | None, typer.Option(help="JSON object tag -> natural-language type")
    ] = None,
    definitions: Annotated[
        Path | None, typer.Option(help="JSON object type -> definition (variant 'definition')")
    ] = None,
) -> None:
    """Write INPUTS as conversations: one question per type, negatives, seeded order."""
    from uniner.data.errors import DataFormatError
    from uniner.data.guard import refuse_zero_shot_path
    from uniner.data.readers._common import load_json_object
    from uniner.instruct import BuildConfig, build_records, type_frequencies, write_records

    try:
        cfg = BuildConfig(
            negatives=negatives,
            n_negatives=n_negatives,
            seed=seed,
            shuffle=shuffle,
            variant=variant,
            dataset=dataset,
        )
    except ValueError as exc:
        raise typer.BadParameter(str(exc)) from None
    for path in inputs:  # instruction data is training data: never CrossNER/MIT
        refuse_zero_shot_path(path, what=str(path))
    if not out.parent.is_dir():  # refused before the inputs are read, not after
        raise UserError(f"{out}: folder {out.parent} does not exist (--out)", RUNTIME)
    if out.is_dir():
        raise UserError(f"{out}: is a folder; --out takes a file name", RUNTIME)
    lm = load_json_object(label_map, "an object tag -> type") if label_map else {}
    defs = None
    if definitions:
        raw = load_json_object(definitions, "an object type -> definition")
        defs = {k: (v if isinstance(v, str) else json.dumps(v)) for k, v in raw.items()}
    passages = []
    try:
        for path in inputs:
            passages += _load_annotated(path, lm, dataset)
    except (DataFormatError, ValueError) as exc:
        raise UserError(str(exc), RUNTIME) from None
    n = write_records(build_records(passages, cfg, definitions=defs), out)
    freq = type_frequencies(passages)
    typer.echo(
        f"{n:,} conversations, {len(freq):,} types, "
        f"{sum(len(p.answers) for p in passages):,} positive questions -> {out}"
    )
