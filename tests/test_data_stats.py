"""Statistics of the data files: small hand-written files, the CLI, and the real shared data.

The expected numbers of the shared data are the README's tables, transcribed here once (the
README is not parsed at run time). The shared-data test reads every file with the readers, so
it also proves that every data file loads.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

import uniner.cli.data_cmd  # noqa: F401 (registers ``uniner data``)
from uniner.cli import app
from uniner.data.readers import read_examples
from uniner.data.readers.bio import iter_tagged_sentences, tag_spans
from uniner.data.stats import FileStats, expand_paths, file_stats, iter_data_files

# ---------------------------------------------------------------------------------------------
# README tables (shared/data/README.md), by kind of file.

# path: (sentences, tokens, mentions, types)
COLUMN_FILES = {
    "zero-shot/raw/crossner/ai/train.txt": (100, 3782, 532, 14),
    "zero-shot/raw/crossner/ai/dev.txt": (350, 10919, 1549, 14),
    "zero-shot/raw/crossner/ai/test.txt": (431, 12991, 1809, 14),
    "zero-shot/raw/crossner/literature/train.txt": (100, 3782, 541, 12),
    "zero-shot/raw/crossner/literature/dev.txt": (400, 14503, 2130, 12),
    "zero-shot/raw/crossner/literature/test.txt": (416, 16157, 2266, 12),
    "zero-shot/raw/crossner/music/train.txt": (100, 3909, 648, 13),
    "zero-shot/raw/crossner/music/dev.txt": (380, 15591, 2679, 13),
    "zero-shot/raw/crossner/music/test.txt": (465, 19605, 3336, 13),
    "zero-shot/raw/crossner/politics/train.txt": (200, 8384, 1304, 9),
    "zero-shot/raw/crossner/politics/dev.txt": (541, 24624, 3482, 9),
    "zero-shot/raw/crossner/politics/test.txt": (651, 27585, 4209, 9),
    "zero-shot/raw/crossner/science/train.txt": (200, 7100, 1075, 17),
    "zero-shot/raw/crossner/science/dev.txt": (450, 16139, 2538, 17),
    "zero-shot/raw/crossner/science/test.txt": (543, 19487, 3089, 17),
    "zero-shot/raw/mit/movie/train.txt": (9775, 99491, 21295, 12),
    "zero-shot/raw/mit/movie/test.txt": (2443, 24686, 5339, 12),
    "zero-shot/raw/mit/restaurant/train.txt": (7660, 70525, 15363, 8),
    "zero-shot/raw/mit/restaurant/test.txt": (1521, 14256, 3151, 8),
    "supervised/conll2003/train.txt": (14041, 203621, 23429, 4),
    "supervised/conll2003/dev.txt": (3250, 51362, 5938, 4),
    "supervised/conll2003/test.txt": (3453, 46435, 5628, 4),
    "supervised/biomed/AnatEM-IOB/train.tsv": (5861, 153823, 6946, 1),
    "supervised/biomed/AnatEM-IOB/devel.tsv": (2118, 58785, 2139, 1),
    "supervised/biomed/AnatEM-IOB/test.tsv": (3830, 99976, 4616, 1),
    "supervised/biomed/BC2GM-IOB/train.tsv": (12574, 355405, 15197, 1),
    "supervised/biomed/BC2GM-IOB/devel.tsv": (2519, 71042, 3061, 1),
    "supervised/biomed/BC2GM-IOB/test.tsv": (5038, 143465, 6325, 1),
    "supervised/biomed/BC5CDR-IOB/train.tsv": (4560, 118170, 9385, 2),
    "supervised/biomed/BC5CDR-IOB/devel.tsv": (4581, 117453, 9593, 2),
    "supervised/biomed/BC5CDR-IOB/test.tsv": (4797, 124750, 9809, 2),
    "supervised/biomed/BioNLP09-IOB/train.tsv": (7462, 227742, 9296, 1),
    "supervised/biomed/BioNLP09-IOB/devel.tsv": (1448, 44185, 2078, 1),
    "supervised/biomed/BioNLP09-IOB/test.tsv": (2446, 74624, 3589, 1),
    "supervised/biomed/BioNLP11EPI-IOB/train.tsv": (5698, 161576, 7586, 1),
    "supervised/biomed/BioNLP11EPI-IOB/devel.tsv": (1955, 54760, 2495, 1),
    "supervised/biomed/BioNLP11EPI-IOB/test.tsv": (4122, 116105, 5730, 1),
    "supervised/biomed/BioNLP11ID-IOB/train.tsv": (2496, 81856, 5674, 4),
    "supervised/biomed/BioNLP11ID-IOB/devel.tsv": (721, 22917, 1598, 4),
    "supervised/biomed/BioNLP11ID-IOB/test.tsv": (1961, 61643, 3810, 4),
    "supervised/biomed/BioNLP13CG-IOB/train.tsv": (3033, 83467, 10826, 16),
    "supervised/biomed/BioNLP13CG-IOB/devel.tsv": (1003, 27599, 3616, 16),
    "supervised/biomed/BioNLP13CG-IOB/test.tsv": (1906, 52771, 6881, 16),
    "supervised/biomed/BioNLP13GE-IOB/train.tsv": (2449, 75068, 3566, 1),
    "supervised/biomed/BioNLP13GE-IOB/devel.tsv": (2737, 81071, 4132, 1),
    "supervised/biomed/BioNLP13GE-IOB/test.tsv": (3391, 104643, 4359, 1),
    "supervised/biomed/BioNLP13PC-IOB/train.tsv": (2499, 69244, 7853, 4),
    "supervised/biomed/BioNLP13PC-IOB/devel.tsv": (857, 23646, 2734, 4),
    "supervised/biomed/BioNLP13PC-IOB/test.tsv": (1695, 46196, 5306, 4),
    "supervised/biomed/CRAFT-IOB/train.tsv": (10875, 278226, 29026, 6),
    "supervised/biomed/CRAFT-IOB/devel.tsv": (3730, 100166, 9727, 6),
    "supervised/biomed/CRAFT-IOB/test.tsv": (7425, 196904, 18881, 6),
    "supervised/biomed/Ex-PTM-IOB/train.tsv": (1377, 39888, 1787, 1),
    "supervised/biomed/Ex-PTM-IOB/devel.tsv": (437, 12664, 603, 1),
    "supervised/biomed/Ex-PTM-IOB/test.tsv": (1839, 53020, 2308, 1),
    "supervised/biomed/NCBI-disease-IOB/train.tsv": (5424, 135701, 5134, 1),
    "supervised/biomed/NCBI-disease-IOB/devel.tsv": (923, 23969, 787, 1),
    "supervised/biomed/NCBI-disease-IOB/test.tsv": (940, 24497, 960, 1),
    "supervised/biomed/linnaeus-IOB/train.tsv": (11935, 280960, 2119, 1),
    "supervised/biomed/linnaeus-IOB/devel.tsv": (4078, 93815, 711, 1),
    "supervised/biomed/linnaeus-IOB/test.tsv": (7142, 164653, 1433, 1),
    "supervised/biomed/JNLPBA/devel.tsv": (1739, 47461, 4551, 5),
    "supervised/biomed/JNLPBA/test.tsv": (3856, 101039, 8662, 5),
    "supervised/wikineural/en/val.conllu": (11590, 267839, 19621, 4),
    "supervised/wikineural/en/test.conllu": (11597, 267155, 19675, 4),
    "supervised/wikiann/en/train.conllu": (20000, 160394, 27931, 3),
    "supervised/wikiann/en/val.conllu": (10000, 80536, 14146, 3),
    "supervised/wikiann/en/test.conllu": (10000, 80326, 13958, 3),
    "supervised/multiconer2-en/en-train90.conll": (15099, 226906, 22921, 33),
    "supervised/multiconer2-en/en-train10.conll": (1679, 26105, 2528, 29),
    "supervised/multiconer2-en/en-dev.conll": (871, 13323, 1296, 33),
    "pile-ner/slimer/GNER_wDeG/391xALL_BIO/dev.txt": (2217, 461127, 30978, 368),
    "pile-ner/slimer/GNER_wDeG/391x100pos_100neg_BIO/dev.txt": (1515, 317450, 11291, 369),
    "pile-ner/slimer/GNER_wDeG/391x50pos_50neg_BIO/dev.txt": (1275, 269024, 8013, 369),
}

# path: (sentences, mentions, types)
RECORD_FILES = {
    "zero-shot/instructuie/CrossNER_AI/train.json": (100, 531, 14),
    "zero-shot/instructuie/CrossNER_AI/dev.json": (350, 1546, 14),
    "zero-shot/instructuie/CrossNER_AI/test.json": (431, 1804, 14),
    "zero-shot/instructuie/CrossNER_literature/train.json": (100, 541, 12),
    "zero-shot/instructuie/CrossNER_literature/dev.json": (400, 2125, 12),
    "zero-shot/instructuie/CrossNER_literature/test.json": (416, 2263, 12),
    "zero-shot/instructuie/CrossNER_music/train.json": (100, 648, 13),
    "zero-shot/instructuie/CrossNER_music/dev.json": (380, 2679, 13),
    "zero-shot/instructuie/CrossNER_music/test.json": (465, 3334, 13),
    "zero-shot/instructuie/CrossNER_politics/train.json": (199, 1297, 9),
    "zero-shot/instructuie/CrossNER_politics/dev.json": (540, 3472, 9),
    "zero-shot/instructuie/CrossNER_politics/test.json": (650, 4200, 9),
    "zero-shot/instructuie/CrossNER_science/train.json": (200, 1074, 17),
    "zero-shot/instructuie/CrossNER_science/dev.json": (450, 2537, 17),
    "zero-shot/instructuie/CrossNER_science/test.json": (543, 3088, 17),
    "zero-shot/instructuie/mit-movie/train.json": (9774, 21294, 12),
    "zero-shot/instructuie/mit-movie/dev.json": (2442, 5338, 12),
    "zero-shot/instructuie/mit-movie/test.json": (2442, 5338, 12),
    "zero-shot/instructuie/mit-restaurant/train.json": (7659, 15363, 8),
    "zero-shot/instructuie/mit-restaurant/dev.json": (1520, 3150, 8),
    "zero-shot/instructuie/mit-restaurant/test.json": (1520, 3150, 8),
    "supervised/instructuie/conll2003/train.json": (14041, 23499, 4),
    "supervised/instructuie/conll2003/dev.json": (3250, 5942, 4),
    "supervised/instructuie/conll2003/test.json": (3453, 5648, 4),
    "pile-ner/gliner/sample_data.json": (64, 236, 144),
}

# path: (passages, queries, non-empty queries, mentions, types)
QUERY_FILES = {
    "zero-shot/uniner/CrossNER_AI.json": (431, 5603, 786, 1624, 13),
    "zero-shot/uniner/CrossNER_literature.json": (416, 4576, 1141, 2025, 11),
    "zero-shot/uniner/CrossNER_music.json": (465, 5580, 1111, 3163, 12),
    "zero-shot/uniner/CrossNER_politics.json": (650, 5200, 1416, 3943, 8),
    "zero-shot/uniner/CrossNER_science.json": (543, 8688, 941, 2568, 16),
    "zero-shot/uniner/mit-restaurant.json": (1520, 12160, 3026, 3150, 8),
    "pile-ner/slimer/5pos_5neg_perNE_top391NEs_FalseDef/validation.jsonl": (
        882,
        1320,
        717,
        1582,
        384,
    ),
    "pile-ner/slimer/5pos_5neg_perNE_top391NEs_TrueDef/validation.jsonl": (
        880,
        1317,
        715,
        1576,
        383,
    ),
}

# path: number of types (label lists and definition files)
TYPE_FILES = {
    "zero-shot/instructuie/CrossNER_AI/labels.json": 14,
    "zero-shot/instructuie/CrossNER_literature/labels.json": 12,
    "zero-shot/instructuie/CrossNER_music/labels.json": 13,
    "zero-shot/instructuie/CrossNER_politics/labels.json": 9,
    "zero-shot/instructuie/CrossNER_science/labels.json": 17,
    "zero-shot/instructuie/mit-movie/labels.json": 12,
    "zero-shot/instructuie/mit-restaurant/labels.json": 8,
    "supervised/instructuie/conll2003/labels.json": 4,
    "pile-ner/slimer/top_391_NamedEntities.json": 391,
    "pile-ner/slimer/GNER_wDeG/label.txt": 391,
    "pile-ner/slimer/questions/all_423_NE_definitions.json": 423,
    "pile-ner/slimer/questions/top391NEs_definitions.json": 391,
    "pile-ner/slimer/questions/ne_types_list.json": 455,
}

# path: lines
TEXT_FILES = {
    "supervised/biomed/BioNLP11ID-IOB/LICENSE": 90,
    "supervised/biomed/BioNLP11ID-IOB/README": 15,
    "supervised/biomed/BioNLP13CG-IOB/LICENSE": 40,
    "supervised/biomed/BioNLP13CG-IOB/README": 15,
    "supervised/biomed/BioNLP13PC-IOB/LICENSE": 43,
    "supervised/biomed/BioNLP13PC-IOB/README": 13,
}

# path: (snippets, distinct snippets, target words, types)
TYPE_SENTENCE_FILES = {
    "pile-ner/slimer/questions/sentences_per_ne_type.json": (1364, 1345, 1733, 455),
}

COLUMN_FORMAT = {"mit": "bio-tag-first", "wikiann": "conllu", "wikineural": "conllu"}


def _column_format(rel: str) -> str:
    return next((f for key, f in COLUMN_FORMAT.items() if f"/{key}/" in rel), "bio")


def _expected(rel: str) -> dict[str, object]:
    """The README's numbers for one file, as :class:`FileStats` fields."""
    if rel in COLUMN_FILES:
        n, tokens, mentions, types = COLUMN_FILES[rel]
        return {
            "format": _column_format(rel),
            "count": n,
            "tokens": tokens,
            "mentions": mentions,
            "types": types,
        }
    if rel in RECORD_FILES:
        n, mentions, types = RECORD_FILES[rel]
        fmt = "gliner-json" if "gliner" in rel else "instructuie"
        return {"format": fmt, "count": n, "mentions": mentions, "types": types}
    if rel in QUERY_FILES:
        n, queries, nonempty, mentions, types = QUERY_FILES[rel]
        fmt = "slimer-jsonl" if rel.endswith(".jsonl") else "uniner-conversation"
        return {
            "format": fmt,
            "count": n,
            "queries": queries,
            "nonempty": nonempty,
            "mentions": mentions,
            "types": types,
        }
    if rel in TYPE_FILES:
        fmt = "slimer-definitions" if "definitions" in rel else "label-list"
        return {"format": fmt, "count": TYPE_FILES[rel], "types": TYPE_FILES[rel]}
    if rel in TYPE_SENTENCE_FILES:
        n, distinct, mentions, types = TYPE_SENTENCE_FILES[rel]
        return {
            "format": "type-sentences",
            "count": n,
            "distinct": distinct,
            "mentions": mentions,
            "types": types,
        }
    return {"format": "text", "count": TEXT_FILES[rel]}


ALL_FILES = {
    **COLUMN_FILES,
    **RECORD_FILES,
    **QUERY_FILES,
    **TYPE_FILES,
    **TYPE_SENTENCE_FILES,
    **TEXT_FILES,
}


@pytest.mark.shared_data
@pytest.mark.slow
def test_every_shared_data_file_loads_and_matches_the_readme(shared_data: Path) -> None:
    files = {p.relative_to(shared_data).as_posix(): p for p in iter_data_files(shared_data)}
    assert set(files) == set(ALL_FILES), "data files and README tables differ"
    mismatches = []
    for rel, path in sorted(files.items()):
        got = file_stats(path).to_dict()
        for key, want in _expected(rel).items():
            if got[key] != want:
                mismatches.append(f"{rel}: {key} = {got[key]!r}, README says {want!r}")
    assert not mismatches, "\n".join(mismatches)


@pytest.mark.shared_data
def test_every_answer_of_the_query_files_aligns_to_the_passage(shared_data: Path) -> None:
    """UniNER/SLIMER answers are strings: as examples every one of them is found in its text."""
    for rel, (passages, *_rest) in QUERY_FILES.items():
        examples = list(read_examples(shared_data / rel))
        assert len(examples) == passages, rel
        assert all(not ex.meta.get("unfound") for ex in examples), rel
    rel = next(iter(TYPE_SENTENCE_FILES))
    assert all(not ex.meta.get("unfound") for ex in read_examples(shared_data / rel))


@pytest.mark.shared_data
def test_i_tags_that_start_mentions_are_counted(shared_data: Path) -> None:
    """README: 391xALL has 156 I- tags starting a mention, wikineural has some too."""
    path = shared_data / "pile-ner/slimer/GNER_wDeG/391xALL_BIO/dev.txt"
    starts = sum(
        sent.tags[s].startswith("I-")
        for sent in iter_tagged_sentences(path)
        for s, _, _ in tag_spans(sent.tags)
    )
    assert starts == 156


def test_readme_tables_were_transcribed_completely() -> None:
    # 127 file rows in the README: 6 UniNER + 29 InstructUIE + 15 CrossNER + 4 MIT + 3 CoNLL
    # + 4 CoNLL InstructUIE + 39 biomed + 6 LICENSE/README + 2 JNLPBA + 5 wiki
    # + 3 MultiCoNER II + 11 SLIMER + 1 GLiNER.
    assert len(ALL_FILES) == 127
    assert len(set(ALL_FILES)) == sum(
        map(
            len,
            (COLUMN_FILES, RECORD_FILES, QUERY_FILES, TYPE_FILES, TYPE_SENTENCE_FILES, TEXT_FILES),
        )
    )


# ---------------------------------------------------------------------------------------------
# Small hand-written files.


def _write(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path


BIO = "-DOCSTART-\tO\n\nEU\tB-ORG\nrejects\tO\nGerman\tB-MISC\n\nPeter\tI-PER\nBlackburn\tI-PER\n"
TEST_FORM = [
    {
        "id": f"t_{i}",
        "conversations": [
            {"from": "human", "value": f"Text: {text}"},
            {"from": "gpt", "value": "I've read this text."},
            {"from": "human", "value": f"What describes {label} in the text?"},
            {"from": "gpt", "value": json.dumps(answer)},
        ],
    }
    for i, (text, label, answer) in enumerate(
        [
            ("Paris is in France .", "location", ["Paris", "France"]),
            ("Paris is in France .", "person", []),
            ("Bob met Bob .", "location", []),
            ("Bob met Bob .", "person", ["Bob", "Bob"]),
        ]
    )
]


def test_stats_of_a_column_file(tmp_path: Path) -> None:
    s = file_stats(_write(tmp_path / "a.txt", BIO))
    assert (s.format, s.count, s.tokens, s.mentions, s.types) == ("bio", 2, 5, 3, 3)
    assert s.queries is None


def test_stats_of_conversations_count_passages_queries_and_raw_answers(tmp_path: Path) -> None:
    s = file_stats(_write(tmp_path / "t.json", json.dumps(TEST_FORM)))
    assert s.format == "uniner-conversation"
    assert (s.count, s.queries, s.nonempty, s.mentions, s.types) == (2, 4, 2, 4, 2)


def test_stats_of_instructuie_and_labels(tmp_path: Path) -> None:
    rec = {
        "sentence": "Bob lives in Paris",
        "entities": [
            {"name": "Bob", "type": "person", "pos": [0, 3]},
            {"name": "Paris", "type": "location", "pos": [13, 18]},
        ],
    }
    s = file_stats(_write(tmp_path / "i.json", json.dumps([rec, rec])))
    assert (s.format, s.count, s.mentions, s.types) == ("instructuie", 2, 4, 2)
    s = file_stats(_write(tmp_path / "labels.json", '["person", "location"]'))
    assert (s.format, s.count, s.types) == ("label-list", 2, 2)


def test_iter_data_files_skips_the_directory_readme_and_hidden_files(tmp_path: Path) -> None:
    _write(tmp_path / "README.md", "# data\n")
    _write(tmp_path / "SHA256SUMS", "x\n")
    _write(tmp_path / ".hidden", "x\n")
    _write(tmp_path / "sub" / "README", "kept: a corpus README\n")
    _write(tmp_path / "sub" / "a.txt", BIO)
    assert [p.relative_to(tmp_path).as_posix() for p in iter_data_files(tmp_path)] == [
        "sub/README",
        "sub/a.txt",
    ]
    assert expand_paths([tmp_path / "sub", tmp_path / "README.md"])[-1].name == "README.md"


def test_filestats_to_dict_is_json_ready() -> None:
    d = FileStats("x", "bio", "sentences", 1, tokens=2).to_dict()
    assert json.loads(json.dumps(d))["tokens"] == 2


runner = CliRunner()


def test_cli_stats_json(tmp_path: Path) -> None:
    bio = _write(tmp_path / "a.txt", BIO)
    conv = _write(tmp_path / "t.json", json.dumps(TEST_FORM))
    result = runner.invoke(app, ["data", "stats", "--json", str(bio), str(conv)])
    assert result.exit_code == 0, result.output
    out = json.loads(result.output)
    assert out["errors"] == []
    by_format = {row["format"]: row for row in out["files"]}
    assert by_format["bio"]["tokens"] == 5
    assert by_format["uniner-conversation"]["queries"] == 4


def test_cli_stats_table_and_directory_argument(tmp_path: Path) -> None:
    _write(tmp_path / "d" / "a.txt", BIO)
    result = runner.invoke(app, ["data", "stats", str(tmp_path / "d")])
    assert result.exit_code == 0, result.output
    assert "bio" in result.output and "2 sentences" in result.output


def test_cli_stats_reports_a_bad_file_and_exits_1(tmp_path: Path) -> None:
    bad = _write(tmp_path / "bad.txt", "EU\tB-ORG\nrejects\tX-PER\n")
    result = runner.invoke(app, ["data", "stats", "--json", str(bad)])
    assert result.exit_code == 1
    err = json.loads(result.output)["errors"][0]
    assert "bad.txt" in err["error"] and "line 2" in err["error"] and "X-PER" in err["error"]


def test_cli_stats_forced_format(tmp_path: Path) -> None:
    f = _write(tmp_path / "mit.txt", "O\twhat\nB-ACTOR\tbruce\nI-ACTOR\twillis\n")
    result = runner.invoke(app, ["data", "stats", "--json", "-f", "bio-tag-first", str(f)])
    assert result.exit_code == 0, result.output
    assert json.loads(result.output)["files"][0]["mentions"] == 1
