"""From a teacher's raw answer to an annotation record: parse, filter, align.

Kept separate from the runner so that the same function turns stored answers into records on a
resume, and so re-filtering with other settings never needs the teacher again.
"""

from __future__ import annotations

from typing import Any

from uniner.distill.filtering import FilterConfig, filter_pairs
from uniner.distill.parsing import UNPARSEABLE, parse_teacher_output


def annotation_record(
    pid: str,
    text: str,
    response: str,
    *,
    filter_config: FilterConfig,
    finish_reason: str | None = None,
) -> dict[str, Any]:
    """``{"id", "text", "entities", "teacher": {...}}``: entities as ``Entity.to_dict``."""
    parsed = parse_teacher_output(response)
    filtered = filter_pairs(text, parsed.pairs, filter_config)
    record: dict[str, Any] = {
        "id": pid,
        "text": text,
        "entities": [e.to_dict() for e in filtered.entities],
        "teacher": {
            "parse": parsed.status,
            "pairs": len(parsed.pairs),
            "malformed": parsed.malformed,
            "kept": [list(p) for p in filtered.kept],
            "dropped": dict(filtered.dropped),
            "hallucinated": [list(p) for p in filtered.hallucinated],
            "finish_reason": finish_reason,
        },
    }
    if parsed.status == UNPARSEABLE:
        record["teacher"]["raw"] = response  # kept, so it can be inspected and counted
    return record
