"""Metrics: the official UniNER string metric (and its partial-match variant) and offset metrics.

``official`` reproduces the published numbers; ``offsets`` scores character spans directly;
``counts`` holds the shared, summable counts and the micro/macro aggregation.
"""

from uniner.evaluation.counts import PRF, Aggregate, Counts, aggregate, maximum_matching
from uniner.evaluation.official import (
    OFFICIAL_EPSILON,
    PARTIAL_CREDIT,
    answer_string,
    normalize_answer,
    official_prf,
    parse_answer,
    partial_counts,
    score_official,
    score_official_partial,
)
from uniner.evaluation.offsets import (
    METRICS,
    OffsetReport,
    TypeScores,
    aggregate_reports,
    aggregate_to_dict,
    score_offsets,
)

__all__ = [
    "METRICS",
    "OFFICIAL_EPSILON",
    "PARTIAL_CREDIT",
    "PRF",
    "Aggregate",
    "Counts",
    "OffsetReport",
    "TypeScores",
    "aggregate",
    "aggregate_reports",
    "aggregate_to_dict",
    "answer_string",
    "maximum_matching",
    "normalize_answer",
    "official_prf",
    "parse_answer",
    "partial_counts",
    "score_official",
    "score_official_partial",
    "score_offsets",
]
