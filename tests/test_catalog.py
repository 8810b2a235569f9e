"""The data-set catalog file and its loader (uniner.data.catalog).

The file replaced a Python table (``uniner.benchmark.catalog``, removed in the commit after
cb5732b, whose test compared every field of every entry, in order, with the old table); these
tests pin key entries and the loader's refusals.
"""

from __future__ import annotations

from collections import Counter
from importlib import resources

import pytest

from uniner.data.catalog import CATALOG_FILE, catalog, get, parse_catalog, zero_shot_specs
from uniner.data.errors import DataFormatError

ZERO_SHOT = {
    "CrossNER_AI",
    "CrossNER_literature",
    "CrossNER_music",
    "CrossNER_politics",
    "CrossNER_science",
    "mit-movie",
    "mit-restaurant",
}


def test_the_file_is_package_data_found_through_importlib_resources():
    """Found as a resource of ``uniner.data`` (what a wheel install sees), not by a path
    relative to the source tree."""
    res = resources.files("uniner.data").joinpath(CATALOG_FILE)
    assert res.is_file()
    assert len(parse_catalog(res.read_text(encoding="utf-8")).specs) == len(catalog().specs)


def test_counts_by_domain_and_extra_sets():
    specs = catalog().specs
    bench = Counter(s.domain for s in specs if s.in_benchmark)
    assert bench == {
        "General": 16,
        "Biomed": 8,
        "Clinics": 7,
        "STEM": 7,
        "Programming": 1,
        "Social media": 5,
        "Law": 3,
        "Finance": 1,
        "Transportation": 1,
    }
    assert len(specs) == 59  # 49 benchmark sets + 9 extra biomedical sets + MultiCoNER II
    assert {s.name for s in zero_shot_specs()} == ZERO_SHOT


def test_a_zero_shot_entry_in_full():
    ai = get("CrossNER AI")
    assert (ai.name, ai.domain, ai.n_types, ai.paper_column) == ("CrossNER_AI", "General", 13, "AI")
    assert ai.zero_shot and ai.in_benchmark and ai.dropped == ("misc", "else")
    assert ai.labels[:3] == ("organization", "university", "location") and len(ai.labels) == 13
    assert ai.natural("programlang") == "program language"
    assert ai.natural("organisation") == "organization" and ai.natural("misc") is None
    assert list(ai.files) == ["instructuie", "raw"] and ai.default_source == "instructuie"
    iu = ai.fileset()
    assert (iu.format, iu.paths["test"], iu.sentences["test"]) == (
        "instructuie",
        "zero-shot/instructuie/CrossNER_AI/test.json",
        431,
    )
    assert ai.fileset("raw").paths["dev"] == "zero-shot/raw/crossner/ai/dev.txt"
    assert ai.uniner_test == "zero-shot/uniner/CrossNER_AI.json"
    assert ai.licence.startswith("CrossNER: MIT (zliucr/CrossNER)")  # from [licences]
    assert dict(ai.paper_sizes) == {"train": 100, "dev": 350, "test": 431}


def test_other_key_entries():
    mc = get("multiconer2-en")
    assert mc.name == "MultiCoNER2" and not mc.in_benchmark and mc.n_types == 33
    assert mc.fileset().files("train") == (
        "supervised/multiconer2-en/en-train90.conll",
        "supervised/multiconer2-en/en-train10.conll",
    )
    assert mc.fileset().sentences["train"] == 15099 + 1679
    assert mc.natural("Medication/Vaccine") == "medication"
    conll = get("CoNLL++")
    assert conll.default_source == "raw" and conll.labels == ("location", "organization", "person")
    assert get("mit-movie").splits() == ("train", "test")  # no dev: it equals test upstream
    assert get("mit-movie").uniner_test is None
    jnlpba = get("JNLPBA")
    assert jnlpba.splits() == ("dev", "test") and jnlpba.natural("cell_line") == "cell line"
    assert "MTL-Bioinformatics-2016" in jnlpba.licence
    ace = get("ACE04")
    assert not ace.files and ace.source == ace.licence == "not present here"


def _one(extra: str = "", files: str = "") -> str:
    return (
        '[licences]\nx = "some licence"\n\n[[dataset]]\nname = "toy"\ndomain = "General"\n'
        f'n_types = 1\n{extra}\n[dataset.label_map]\nA = "a"\n{files}'
    )


def test_a_minimal_file_loads():
    cat = parse_catalog(_one('licence_ref = "x"\n'))
    (toy,) = cat.specs
    assert toy.labels == ("a",) and toy.licence == "some licence"


@pytest.mark.parametrize(
    "text,message",
    [
        (_one("n_typs = 1\n"), "data set 'toy': unknown key 'n_typs'"),
        (_one('zero_shot = "yes"\n'), "zero_shot = 'yes' (expected bool)"),
        (_one("n_types2 = true\n"), "unknown key 'n_types2'"),
        (_one('licence_ref = "nope"\n'), "licence_ref 'nope'"),
        (_one('domain2 = "x"\n').replace('"General"', '"Space"'), "unknown key 'domain2'"),
        (_one().replace('"General"', '"Space"'), "unknown domain 'Space'"),
        (_one(files='[[dataset.files]]\nsource = "s"\nformat = "csv"\n[dataset.files.paths]\n'
                    'test = "t.csv"\n'), "unknown format 'csv'"),
        (_one(files='[[dataset.files]]\nsource = "s"\nformat = "bio"\n'), "missing paths"),
        (_one() + '\n[aliases]\nfoo = "bar"\n', "aliases name unknown data set(s) ['bar']"),
        (_one() + '\n[[dataset]]\nname = "toy"\ndomain = "General"\nn_types = 1\n', "duplicate"),
        (_one("labels = [1]\n"), "data set 'toy', labels: 1 (expected str)"),
        (_one("paper_sizes = { test = true }\n"), "paper_sizes: True (expected int)"),
        (_one(files='[[dataset.files]]\nsource = "s"\nformat = "bio"\n[dataset.files.paths]\n'
                    'test = ["a", 2]\n'), "files[0], paths.test: 2 (expected str)"),
        ("[dataset\n", "catalog.toml"),
        ('[datasets]\nname = "x"\n', "unknown top-level key(s) ['datasets']"),
    ],
)  # fmt: skip
def test_mistakes_in_the_file_are_errors_naming_the_entry(text: str, message: str):
    with pytest.raises(DataFormatError) as err:
        parse_catalog(text)
    assert message in str(err.value)
    assert str(err.value).startswith("catalog.toml")
