"""The configurable limits of one request, checked after the schema parsed it.

Size limits (text length, texts per request; the body size is checked in
:mod:`uniner.serving.bodylimit`) answer 413 Payload Too Large; limits on what the request asks
for (number and length of labels, blank labels or an empty batch) answer 422. Each error names
the field, e.g. ``texts[3]``, so a client can tell which input to shorten.
"""

from __future__ import annotations

from uniner.serving.errors import ApiError
from uniner.serving.schemas import ExtractRequest
from uniner.serving.settings import ServeSettings


def check_request(req: ExtractRequest, s: ServeSettings) -> tuple[list[str], list[str]]:
    """The request's texts and de-duplicated labels, or an :class:`ApiError` naming the field."""
    single = req.text is not None
    texts = req.all_texts()
    if not single and not texts:
        raise ApiError(422, "empty_batch", "'texts' must contain at least one text", field="texts")
    if len(texts) > s.max_texts:
        raise ApiError(
            413,
            "too_many_texts",
            f"{len(texts)} texts in one request; the limit is {s.max_texts}",
            field="texts",
            limit=s.max_texts,
        )
    for i, t in enumerate(texts):
        if len(t) > s.max_text_chars:
            raise ApiError(
                413,
                "text_too_long",
                f"text of {len(t)} characters; the limit is {s.max_text_chars}",
                field="text" if single else f"texts[{i}]",
                limit=s.max_text_chars,
            )
    labels = req.labels
    if not labels:
        raise ApiError(
            422, "no_labels", "'labels' must name at least one entity type", field="labels"
        )
    if len(labels) > s.max_labels:
        raise ApiError(
            422,
            "too_many_labels",
            f"{len(labels)} labels in one request; the limit is {s.max_labels}",
            field="labels",
            limit=s.max_labels,
        )
    for i, lab in enumerate(labels):
        if not lab.strip():
            raise ApiError(
                422,
                "blank_label",
                "labels must not be empty or whitespace only",
                field=f"labels[{i}]",
            )
        if len(lab) > s.max_label_chars:
            raise ApiError(
                422,
                "label_too_long",
                f"label of {len(lab)} characters; the limit is {s.max_label_chars}",
                field=f"labels[{i}]",
                limit=s.max_label_chars,
            )
    return texts, list(dict.fromkeys(labels))
