"""The configurable limits of one request, checked after the schema parsed it.

Size limits (text length, texts per request; the body size is checked in
:mod:`uniner.serving.bodylimit`) answer 413 Payload Too Large; limits on what the request asks
for (number and length of labels, blank labels or an empty batch) answer 422. Each error names
the field, e.g. ``texts[3]``, so a client can tell which input to shorten. Text that is not a
sequence of Unicode scalar values (a lone surrogate, which JSON's ``\ud800`` escapes can carry)
answers 422 before the model runs: it cannot be encoded in the response. The estimated cost
(:mod:`uniner.serving.admission`) over ``max_request_cost`` answers 413.
"""

from __future__ import annotations

import re

from uniner.serving.admission import request_cost
from uniner.serving.errors import ApiError
from uniner.serving.schemas import ExtractRequest
from uniner.serving.settings import ServeSettings

_SURROGATE = re.compile("[\ud800-\udfff]")


def check_unicode(value: str, field: str) -> None:
    """422 naming ``field`` if ``value`` holds a lone surrogate (not a Unicode scalar value)."""
    bad = _SURROGATE.search(value)
    if bad is not None:
        raise ApiError(
            422,
            "invalid_unicode",
            f"{field} holds a lone surrogate (U+{ord(bad.group()):04X}) at character "
            f"{bad.start()}: text must be valid Unicode (scalar values only)",
            field=field,
        )


def check_cost(texts: list[str], labels: list[str], s: ServeSettings) -> int:
    """The request's estimated cost, or 413 when it is over ``max_request_cost``."""
    cost = request_cost(texts, labels)
    if s.max_request_cost is not None and cost > s.max_request_cost:
        raise ApiError(
            413,
            "request_too_costly",
            f"this request's estimated work ({cost:,} units: characters x labels) is over the "
            f"limit of {s.max_request_cost:,}; send fewer or shorter texts, or fewer labels",
            field="body",
            limit=s.max_request_cost,
        )
    return cost


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
        check_unicode(t, "text" if single else f"texts[{i}]")
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
        check_unicode(lab, f"labels[{i}]")
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
