"""MultiCoNER II: its CoNLL variant in the column reader, its registry entry, and its two
training files as one training source."""

from __future__ import annotations

import tomllib
from pathlib import Path

import pytest

from uniner.benchmark import multiconer
from uniner.benchmark.loaders import load_split
from uniner.benchmark.registry import DatasetSpec, FileSet, get, suite
from uniner.data.errors import DataFormatError
from uniner.data.readers import detect_format, read_examples, read_records
from uniner.data.sources import DataSource, load_sources
from uniner.data.stats import file_stats

# The layout of the shipped files: a blank first line, "# id <uuid>\tdomain=en", then
# "token _ _ TAG" lines; "#" as a token (tagged) must stay a token.
SAMPLE = (
    "\n"
    "# id 5239d808-f300-46ea-aa3b-5093040213a3\tdomain=en\n"
    "eli _ _ B-OtherPER\n"
    "lilly _ _ I-OtherPER\n"
    "founder _ _ O\n"
    "of _ _ O\n"
    "eli _ _ B-PublicCorp\n"
    "lilly _ _ I-PublicCorp\n"
    "\n"
    "\n"
    "# id d7d47dfc-7e5d-48e8-9390-019a3e9476c1\tdomain=en\n"
    "# _ _ O\n"
    "paris _ _ B-HumanSettlement\n"
    "station _ _ B-Station\n"
    "\n"
    "# id no-tokens-follow\tdomain=en\n"
    "\n"
    "plain _ _ O\n"
)

# README (shared/data/README.md, multiconer2-en): sentences, tokens, mentions, types.
TRAIN90 = (15099, 226906, 22921, 33)
TRAIN10 = (1679, 26105, 2528, 29)
DEV = (871, 13323, 1296, 33)
CODES = (
    *("Artist", "Politician", "Scientist", "Athlete", "Cleric", "SportsManager", "OtherPER"),
    *("WrittenWork", "MusicalWork", "VisualWork", "ArtWork", "Software"),
    *("MusicalGRP", "SportsGRP", "PublicCorp", "PrivateCorp", "ORG"),
    *("CarManufacturer", "AerospaceManufacturer"),
    *("HumanSettlement", "Facility", "Station", "OtherLOC"),
    *("Vehicle", "Food", "Drink", "Clothing", "OtherPROD"),
    *("Disease", "Symptom", "Medication/Vaccine", "MedicalProcedure", "AnatomicalStructure"),
)


def write(path: Path, text: str) -> Path:
    path.write_text(text, encoding="utf-8")
    return path


# ------------------------------------------------------------------------------------ reader


def test_reader_keeps_ids_skips_comments_and_finds_mentions(tmp_path: Path) -> None:
    f = write(tmp_path / "en-dev.conll", SAMPLE)
    assert detect_format(f) == "bio"
    exs = list(read_examples(f))
    assert [ex.text for ex in exs] == [
        "eli lilly founder of eli lilly",
        "# paris station",
        "plain",
    ]
    assert [ex.id for ex in exs] == ["en-dev.conll:0", "en-dev.conll:1", "en-dev.conll:2"]
    assert [ex.meta.get("sent_id") for ex in exs] == [
        "5239d808-f300-46ea-aa3b-5093040213a3",
        "d7d47dfc-7e5d-48e8-9390-019a3e9476c1",
        None,  # the id of an empty sentence does not leak into the next one
    ]
    assert [(e.text, e.label) for e in exs[0].entities] == [
        ("eli lilly", "OtherPER"),
        ("eli lilly", "PublicCorp"),
    ]
    assert [(e.start, e.end) for e in exs[0].entities] == [(0, 9), (21, 30)]
    assert [(e.text, e.label) for e in exs[1].entities] == [
        ("paris", "HumanSettlement"),
        ("station", "Station"),
    ]
    assert [ex.meta["line"] for ex in exs] == [3, 12, 18]
    sents = list(read_records(f))
    assert sents[1].tokens[0] == "#" and sents[1].sent_id == exs[1].meta["sent_id"]
    s = file_stats(f)
    assert (s.format, s.count, s.tokens, s.mentions, s.types) == ("bio", 3, 10, 4, 4)


def test_detection_holds_when_comments_are_many(tmp_path: Path) -> None:
    """One-token sentences: as many comment lines as token lines must not make it plain text."""
    text = "".join(f"# id {i}\tdomain=en\nw{i} _ _ B-Food\n\n" for i in range(50))
    f = write(tmp_path / "short.conll", text)
    assert detect_format(f) == "bio"
    assert len(list(read_examples(f))) == 50


def test_conllu_sent_id_comments(tmp_path: Path) -> None:
    f = write(
        tmp_path / "a.conllu", "# sent_id = s1\n# text = Her Tuvalu\n0\tHer\tO\n1\tTuvalu\tB-LOC\n"
    )
    assert detect_format(f) == "conllu"
    (ex,) = read_examples(f)
    assert ex.meta["sent_id"] == "s1" and ex.text == "Her Tuvalu"


def test_a_comment_inside_a_sentence_is_still_an_error(tmp_path: Path) -> None:
    f = write(tmp_path / "bad.conll", "# id a\tdomain=en\neli _ _ O\n# id b\tdomain=en\n")
    with pytest.raises(DataFormatError, match="line 3") as err:
        list(read_examples(f, format="bio"))
    assert "domain=en" in str(err.value)


# ---------------------------------------------------------------------------------- registry


def test_every_code_has_a_distinct_natural_name() -> None:
    spec = get("MultiCoNER2")
    assert sorted(spec.label_map) == sorted(CODES) and len(CODES) == 33
    assert len(set(spec.labels)) == len(spec.labels) == spec.n_types == 33
    assert all(name == name.lower() and name.strip() == name for name in spec.labels)
    assert spec.natural("OtherPER") == "person"
    assert spec.natural("HumanSettlement") == "city or country"
    assert spec.natural("Medication/Vaccine") == "medication"
    assert get("multiconer2-en") is spec and get("MultiCoNER II") is spec
    assert (spec.domain, spec.in_benchmark, spec.zero_shot) == ("General", False, False)
    assert "CC BY 4.0" in spec.licence and "OMGarad/MultiCoNER-2" in spec.source
    assert spec in suite("extra")


def test_parents_name_the_residual_codes() -> None:
    spec = get("MultiCoNER2")
    residual = {spec.natural(c) for c in ("OtherPER", "ORG", "OtherLOC", "OtherPROD")}
    assert set(multiconer.PARENTS.values()) == residual
    assert set(multiconer.PARENTS) <= set(spec.labels) - residual
    assert multiconer.PARENTS["artist"] == "person"
    assert multiconer.PARENTS["public company"] == "organization"
    assert "OtherPER" in spec.notes and "person" in spec.notes


def test_a_split_of_two_files_is_read_in_order(tmp_path: Path) -> None:
    write(tmp_path / "a.conll", "# id x\tdomain=en\neli _ _ B-Food\n")
    write(tmp_path / "b.conll", "tea _ _ B-Drink\n\ncake _ _ B-Food\n")
    spec = DatasetSpec(
        name="toy",
        domain="General",
        n_types=2,
        label_map={"Food": "food", "Drink": "drink"},
        files={"x": FileSet("bio", {"train": ("a.conll", "b.conll"), "dev": "b.conll"})},
    )
    split = load_split(spec, "train", tmp_path)
    assert [ex.text for ex in split] == ["eli", "tea", "cake"]
    assert [ex.id for ex in split] == ["toy/train/0", "toy/train/1", "toy/train/2"]
    assert split.path == f"{tmp_path / 'a.conll'} + {tmp_path / 'b.conll'}"
    assert spec.path("dev", tmp_path) == tmp_path / "b.conll"
    with pytest.raises(ValueError, match="2 files"):
        spec.path("train", tmp_path)
    assert spec.present(tmp_path)
    (tmp_path / "a.conll").unlink()
    assert not spec.present(tmp_path)
    with pytest.raises(FileNotFoundError, match=r"a\.conll"):
        load_split(spec, "train", tmp_path)
    with pytest.raises(ValueError, match="list no file"):
        FileSet("bio", {"train": ()})


@pytest.mark.shared_data
def test_train_and_dev_load_with_the_readme_counts(shared_data: Path) -> None:
    spec = get("MultiCoNER2")
    assert spec in suite("supervised-train", shared_data)
    dev = load_split(get("MultiCoNER2"), "dev", shared_data)
    assert len(dev) == spec.fileset().sentences["dev"] == DEV[0]
    assert sum(len(ex.entities) for ex in dev) == DEV[2]
    assert len({e.label for ex in dev for e in ex.entities}) == DEV[3]
    assert dev.labels == spec.labels and all(ex.labels == spec.labels for ex in dev)
    train = load_split(spec, "train", shared_data)
    assert len(train) == spec.fileset().sentences["train"] == TRAIN90[0] + TRAIN10[0]
    assert sum(len(ex.meta["tokens"]) for ex in train) == TRAIN90[1] + TRAIN10[1]
    assert sum(len(ex.entities) for ex in train) == TRAIN90[2] + TRAIN10[2]
    assert {e.label for ex in train for e in ex.entities} == set(spec.labels)
    assert train.examples[0].meta["sent_id"] == "309f5b26-951e-472b-948e-47632249862b"
    assert train.examples[TRAIN90[0]].meta["sent_id"] == "85cfedc2-6dca-4744-adcd-4db06640f7a7"


@pytest.mark.shared_data
def test_a_dataset_training_source_reads_both_train_files(shared_data: Path) -> None:
    """``{ dataset = "MultiCoNER2" }`` in a run config trains on train90 and train10."""
    raw = tomllib.loads(
        'train = [{ dataset = "MultiCoNER2" }, { dataset = "MultiCoNER2", sample = 400 }]'
    )
    whole, sampled = (DataSource(**src) for src in raw["train"])
    exs = load_sources([whole])
    assert len(exs) == TRAIN90[0] + TRAIN10[0]
    sent_ids = {ex.meta["sent_id"] for ex in exs}
    assert "309f5b26-951e-472b-948e-47632249862b" in sent_ids  # train90's first
    assert "85cfedc2-6dca-4744-adcd-4db06640f7a7" in sent_ids  # train10's first
    picked = [int(ex.id.rsplit("/", 1)[1]) for ex in load_sources([sampled], seed=0)]
    assert len(picked) == 400
    assert any(i < TRAIN90[0] for i in picked) and any(i >= TRAIN90[0] for i in picked)
