"""Instruction data: annotations (distilled, Pile-NER files or supervised sets) to the
conversation format the students train on. See :mod:`uniner.instruct.builder`."""

from uniner.instruct.builder import (
    Annotated,
    BuildConfig,
    NegativeSampler,
    TypeCounts,
    build_records,
    conversation_record,
    count_types,
    dumps_records,
    from_conversation,
    from_example,
    type_frequencies,
    write_records,
)

__all__ = [
    "Annotated",
    "BuildConfig",
    "NegativeSampler",
    "TypeCounts",
    "build_records",
    "conversation_record",
    "count_types",
    "dumps_records",
    "from_conversation",
    "from_example",
    "type_frequencies",
    "write_records",
]
