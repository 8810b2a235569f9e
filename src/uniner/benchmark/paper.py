"""The paper's published numbers, in one place, so every report compares against the same figures.

All values are F1 in percent (UniNER protocol: string-set micro-F1, 'else'/misc-like types
removed) as transcribed in ``shared/reference/uniner-paper.md`` (sections 2, 4 and 5). Names of
data sets are the catalog names (``uniner/data/catalog.toml``); the paper's figure labels
that differ (``MAPA-en-fine``) are mapped here once.
"""

from __future__ import annotations

from dataclasses import dataclass
from types import MappingProxyType
from typing import Final

ZERO_SHOT_COLUMNS: Final = (
    "Movie",
    "Restaurant",
    "AI",
    "Literature",
    "Music",
    "Politics",
    "Science",
)
"""Column order of the paper's zero-shot table (section 4)."""

ZERO_SHOT_DATASETS: Final = MappingProxyType(
    {
        "Movie": "mit-movie",
        "Restaurant": "mit-restaurant",
        "AI": "CrossNER_AI",
        "Literature": "CrossNER_literature",
        "Music": "CrossNER_music",
        "Politics": "CrossNER_politics",
        "Science": "CrossNER_science",
    }
)
"""Paper column -> registry name."""

_ROWS: dict[str, tuple[float, ...]] = {
    # model: (Movie, Restaurant, AI, Literature, Music, Politics, Science, Avg)
    "ChatGPT": (5.3, 32.8, 52.4, 39.8, 66.6, 68.5, 67.0, 47.5),
    "UniNER-7B": (42.4, 31.7, 53.5, 59.4, 65.0, 60.8, 61.1, 53.4),
    "UniNER-13B": (48.7, 36.2, 54.2, 60.9, 64.5, 61.4, 63.5, 55.6),
    "UniNER-7B sup. only (no Pile)": (54.2, 16.0, 62.3, 67.4, 69.0, 64.5, 66.9, 57.2),
    "UniNER-7B Pile + supervised": (61.2, 35.2, 62.9, 64.9, 70.6, 66.9, 70.8, 61.8),
    "GLiNER-L 0.3B (GNER re-eval)": (57.2, 42.8, 60.6, 68.4, 69.5, 74.8, 69.4, 63.2),
    "GNER-T5-base 0.25B": (54.5, 41.4, 56.8, 58.7, 72.3, 64.5, 68.0, 59.5),
    "GNER-T5-xxl 11B": (62.5, 51.0, 68.2, 68.7, 81.2, 75.1, 76.7, 69.1),
}

ZERO_SHOT_TABLE: Final = MappingProxyType(
    {
        model: MappingProxyType(dict(zip((*ZERO_SHOT_COLUMNS, "Avg"), row, strict=True)))
        for model, row in _ROWS.items()
    }
)
"""model -> {column or "Avg" -> F1}, every row of the section 4 table, in the paper's order."""

GLINER_OWN_AVG: Final = MappingProxyType({"GLiNER-S": 52.7, "GLiNER-M": 55.4, "GLiNER-L": 60.9})
"""GLiNER's own averages on the 7 sets; NOT comparable: GLiNER's paper keeps 'else'."""

PARTIAL_MATCH_AVG: Final = MappingProxyType(
    {"ChatGPT": 50.9, "UniNER-7B": 56.7, "UniNER-7B w/ sup": 64.8}
)
"""Table 5: average over the 7 zero-shot sets with partial match (word overlap = 0.5 credit)."""

BENCHMARK_AVG: Final = MappingProxyType({"ChatGPT": 34.9, "UniNER-7B": 41.7, "UniNER-13B": 43.4})
"""Zero-shot average "over all 43 sets" as the paper states it (see catalog on the count)."""

PAPER_BENCHMARK_SIZE: Final = 43
"""The number of data sets the paper claims; the reference's per-domain list names 49."""

NEGATIVE_SAMPLING_ABLATION: Final = MappingProxyType(
    {"none": 31.5, "uniform": 47.7, "frequency": 53.4}
)
"""Section 2: average F1 on the 7 zero-shot sets by negative-sampling strategy."""

VARIANT_DELTAS_43: Final = MappingProxyType({"all-in-one": -3.3, "definition-based": -11.8})
"""Section 2: change of the 43-set average F1 against the type-based, one-query-per-type model."""


@dataclass(frozen=True, slots=True)
class DatasetFigures:
    """Zero-shot F1 of one data set: ChatGPT, UniNER-7B, and UniNER-7B with supervised data."""

    chatgpt: float
    uniner_7b: float
    uniner_7b_sup: float
    origin: str


_FIG9: dict[str, tuple[float, float, float]] = {
    "conllpp": (52.5, 72.2, 96.0),
    "WikiNeural": (57.7, 69.2, 93.6),
    "MultiNERD": (58.1, 59.3, 93.5),
    "WikiANN": (52.0, 55.4, 85.3),
    "Ontonotes": (29.7, 27.8, 88.1),
    "ACE05": (26.6, 36.9, 86.6),
    "ACE04": (26.7, 37.2, 86.5),
    "PolyglotNER": (33.6, 41.8, 65.0),
    "FewNERD-coarse": (55.6, 57.5, 78.9),
    "FewNERD-fine": (48.7, 41.3, 68.9),
    "TASTEset": (63.7, 36.6, 91.8),
    "bc5cdr": (52.4, 67.0, 90.4),
    "ncbi": (42.1, 60.4, 87.1),
    "AnatEM": (30.7, 25.1, 88.9),
    "BioRED": (38.1, 49.9, 88.9),
    "bc4chemd": (35.5, 47.9, 88.8),
    "bc2gm": (40.2, 46.2, 82.5),
    "GENIA": (41.6, 54.1, 79.6),
    "JNLPBA": (16.2, 53.0, 75.6),
    "Broad Tweet Corpus": (61.8, 67.9, 81.0),
    "HarveyNER": (11.6, 18.3, 72.7),
    "TweetNER7": (40.1, 42.7, 66.1),
    "FabNER": (15.3, 24.8, 81.2),
    "SOFC": (39.4, 39.1, 83.1),
    "SciERC": (12.3, 26.4, 66.0),
    "SciREX": (15.7, 29.3, 69.5),
    "SoMeSci": (1.1, 1.1, 80.1),
    "DEAL": (26.6, 35.2, 78.0),
    "WLP": (13.0, 42.0, 77.5),
    "Stackoverflow-NER": (10.6, 26.7, 64.0),
    "FindVehicle": (10.5, 22.2, 98.1),
    "FiNER-ord": (51.8, 57.7, 84.9),
    "E-NER": (22.4, 14.4, 93.4),
    "MAPA-fine": (7.8, 16.4, 85.4),  # the figure says "MAPA-en-fine"
    "MAPA-coarse": (15.6, 28.0, 75.1),  # "MAPA-en-coarse"
}


def _per_dataset() -> dict[str, DatasetFigures]:
    out = {
        name: DatasetFigures(*fig, origin="Fig. 9 (section 5 of the reference)")
        for name, fig in _FIG9.items()
    }
    # The 7 zero-shot sets come from the section 4 table; "w/ sup" is its Pile + supervised row.
    for col, name in ZERO_SHOT_DATASETS.items():
        out[name] = DatasetFigures(
            ZERO_SHOT_TABLE["ChatGPT"][col],
            ZERO_SHOT_TABLE["UniNER-7B"][col],
            ZERO_SHOT_TABLE["UniNER-7B Pile + supervised"][col],
            origin="section 4 table",
        )
    return out


PER_DATASET: Final = MappingProxyType(_per_dataset())
"""Registry name -> paper figures; the 7 clinical sets have none (the paper gives none)."""


def figures(name: str) -> DatasetFigures | None:
    """The paper's figures for a data set, or ``None`` where the paper gives none."""
    return PER_DATASET.get(name)


def zero_shot_row(model: str) -> dict[str, float]:
    """One row of the section 4 table as ``{column: F1}`` (columns in paper order, then Avg)."""
    try:
        return dict(ZERO_SHOT_TABLE[model])
    except KeyError:
        raise KeyError(f"no such row {model!r}; rows: {', '.join(ZERO_SHOT_TABLE)}") from None
