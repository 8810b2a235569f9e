"""The data table behind :mod:`uniner.benchmark.registry`: every data set of the paper's
benchmark (section 5 of ``shared/reference/uniner-paper.md``, the paper's Table 6) plus the extra
biomedical training sets shipped under ``shared/data`` and MultiCoNER II (its own module,
:mod:`uniner.benchmark.multiconer`).

How many data sets? The paper says 43, but the per-domain list of Table 6 as transcribed names
49: General 16, Biomed 8, Clinics 7, STEM 7, Programming 1, Social media 5, Law 3, Finance 1,
Transportation 1. Counting FewNERD-coarse/fine and MAPA-coarse/fine once each still gives 47,
so that does not explain it. The paper's per-data-set figures (Fig. 9 and the section 4 table)
cover the 42 non-clinical sets; their means (ChatGPT 35.5, UniNER-7B 43.0) do not reproduce the
quoted "43-set" averages (34.9 / 41.7), and no 43rd value could (it would have to be 11.0 for
ChatGPT and -11.8 for UniNER-7B). Averaging over all 49 would need the 7 clinical sets to average
31.5 / 34.1, which is plausible, so the "43" is most likely a miscount in the paper. We register
all 49 names as benchmark sets and keep the paper's claim in ``paper.PAPER_BENCHMARK_SIZE``.

Label names: where the UniNER release has a processed test file, the natural names are exactly
its question types (read from ``zero-shot/uniner/*.json``); for MIT Movie (whose UniNER file is
missing) they are the InstructUIE ``labels.json`` names, as MIT Restaurant's UniNER names equal
its InstructUIE names. The question order (``labels``) is the first passage's order in the
official file; note that the official files shuffle the order per passage (431 distinct orders
in 431 AI passages), so no single order reproduces them (``derive`` can take per-passage orders).
"""

from __future__ import annotations

from uniner.benchmark import multiconer
from uniner.benchmark.registry import DatasetSpec, FileSet

ZS = "zero-shot"
IU = f"{ZS}/instructuie"
BIOMED = "supervised/biomed"

LIC_CROSSNER = (
    "CrossNER: MIT (zliucr/CrossNER); InstructUIE copies: no LICENSE on GLiNER's training "
    "branch (main: Apache-2.0); UniNER processed test file: CC BY-NC 4.0, research use only"
)
LIC_MIT = (
    "not stated for the MIT corpora (raw copy from SLIMER, Apache-2.0 repo; InstructUIE copy: "
    "no LICENSE on GLiNER's training branch); UniNER processed test file: CC BY-NC 4.0"
)
LIC_MTL = "CC BY 4.0 (cambridgeltl/MTL-Bioinformatics-2016 materials; code MIT)"
LIC_BABELSCAPE = "CC BY-NC-SA 4.0 (Babelscape/wikineural); non-commercial, share-alike"

_CROSSNER_COMMON = {
    "organisation": "organization",
    "organization": "organization",
    "person": "person",
    "location": "location",
    "country": "country",
}
_CROSSNER_DROPPED = ("misc", "else")  # raw BIO says misc, InstructUIE says else


def _identity(*names: str) -> dict[str, str]:
    return {n: n for n in names}


def _crossner(
    name: str,
    raw_dir: str,
    column: str,
    labels: tuple[str, ...],
    raw_names: dict[str, str],
    sizes: tuple[int, int, int],
    iu_counts: tuple[int, int, int],
    raw_counts: tuple[int, int, int],
    notes: str = "",
) -> DatasetSpec:
    label_map = {**_CROSSNER_COMMON, **raw_names, **_identity(*labels)}
    label_map = {k: v for k, v in label_map.items() if v in labels}
    splits = ("train", "dev", "test")
    return DatasetSpec(
        name=name,
        domain="General",
        n_types=len(labels),
        label_map=label_map,
        dropped=_CROSSNER_DROPPED,
        labels=labels,
        paper_sizes=dict(zip(splits, sizes, strict=True)),
        source="CrossNER (zliucr/CrossNER); InstructUIE copy from urchade/GLiNER (training); "
        "UniNER test file from universal-ner/universal-ner",
        licence=LIC_CROSSNER,
        files={
            "instructuie": FileSet(
                "instructuie",
                {s: f"{IU}/{name}/{s}.json" for s in splits},
                dict(zip(splits, iu_counts, strict=True)),
                origin="urchade/GLiNER training: data/NER_datasets",
            ),
            "raw": FileSet(
                "bio",
                {s: f"{ZS}/raw/crossner/{raw_dir}/{s}.txt" for s in splits},
                dict(zip(splits, raw_counts, strict=True)),
                origin="zliucr/CrossNER: ner_data",
            ),
        },
        uniner_test=f"{ZS}/uniner/{name}.json",
        zero_shot=True,
        paper_column=column,
        notes=notes,
    )


CROSSNER = (
    _crossner(
        "CrossNER_AI",
        "ai",
        "AI",
        (
            "organization",
            "university",
            "location",
            "person",
            "conference",
            "country",
            "researcher",
            "task",
            "product",
            "algorithm",
            "program language",
            "field",
            "metrics",
        ),
        {"programlang": "program language"},
        (100, 350, 431),
        (100, 350, 431),
        (100, 350, 431),
    ),
    _crossner(
        "CrossNER_literature",
        "literature",
        "Literature",
        (
            "poem",
            "book",
            "award",
            "event",
            "organization",
            "literary genre",
            "magazine",
            "writer",
            "person",
            "country",
            "location",
        ),
        {"literarygenre": "literary genre"},
        (100, 400, 416),
        (100, 400, 416),
        (100, 400, 416),
    ),
    _crossner(
        "CrossNER_music",
        "music",
        "Music",
        (
            "country",
            "location",
            "musical artist",
            "musical instrument",
            "person",
            "song",
            "album",
            "band",
            "organization",
            "music genre",
            "event",
            "award",
        ),
        {
            "musicalartist": "musical artist",
            "musicalinstrument": "musical instrument",
            "musicgenre": "music genre",
        },
        (100, 380, 465),
        (100, 380, 465),
        (100, 380, 465),
        notes="The InstructUIE dev/test files keep the raw 'organisation' and 'misc' labels "
        "although labels.json says 'organization'/'else'; both spellings are mapped.",
    ),
    _crossner(
        "CrossNER_politics",
        "politics",
        "Politics",
        (
            "political party",
            "election",
            "politician",
            "location",
            "organization",
            "country",
            "event",
            "person",
        ),
        {"politicalparty": "political party"},
        (199, 540, 650),
        (199, 540, 650),
        (200, 541, 651),
        notes="The processed versions (InstructUIE, UniNER) lack the raw file's last sentence "
        "in every split.",
    ),
    _crossner(
        "CrossNER_science",
        "science",
        "Science",
        (
            "university",
            "event",
            "astronomical object",
            "person",
            "protein",
            "enzyme",
            "scientist",
            "chemical element",
            "discipline",
            "award",
            "organization",
            "location",
            "chemical compound",
            "country",
            "academic journal",
            "theory",
        ),
        {
            "academicjournal": "academic journal",
            "astronomicalobject": "astronomical object",
            "chemicalcompound": "chemical compound",
            "chemicalelement": "chemical element",
        },
        (200, 450, 543),
        (200, 450, 543),
        (200, 450, 543),
    ),
)

_MIT_NOTE = (
    "InstructUIE dev.json is byte-identical to test.json (same blob at the source) and raw MIT "
    "has no dev split, so no dev split is registered (tuning on it would tune on test). The "
    "processed files lack the raw files' last sentence."
)

_MOVIE_RAW = {
    "GENRE": "genre",
    "YEAR": "year",
    "PLOT": "plot",
    "RATINGS_AVERAGE": "average ratings",
    "ACTOR": "actor",
    "TITLE": "title",
    "SONG": "song",
    "CHARACTER": "character",
    "RATING": "rating",
    "REVIEW": "review",
    "DIRECTOR": "director",
    "TRAILER": "trailer",
}
_RESTAURANT_RAW = {
    "Amenity": "Amenity",
    "Location": "Location",
    "Cuisine": "Cuisine",
    "Restaurant_Name": "Restaurant Name",
    "Rating": "Rating",
    "Hours": "Hours",
    "Price": "Price",
    "Dish": "Dish",
}

MIT = (
    DatasetSpec(
        name="mit-movie",
        domain="Social media",
        n_types=12,
        label_map={**_MOVIE_RAW, **_identity(*_MOVIE_RAW.values())},
        labels=(
            "genre",
            "year",
            "plot",
            "average ratings",
            "actor",
            "title",
            "song",
            "character",
            "rating",
            "review",
            "director",
            "trailer",
        ),  # InstructUIE labels.json order (no official UniNER file to read it from)
        paper_sizes={"train": 9774, "dev": 2442, "test": 2442},
        source="MIT Movie (engtest.bio 12-type scheme); InstructUIE copy from urchade/GLiNER "
        "(training); raw BIO from andrewzamai/SLIMER",
        licence=LIC_MIT,
        files={
            "instructuie": FileSet(
                "instructuie",
                {"train": f"{IU}/mit-movie/train.json", "test": f"{IU}/mit-movie/test.json"},
                {"train": 9774, "test": 2442},
                origin="urchade/GLiNER training: data/NER_datasets",
            ),
            "raw": FileSet(
                "bio-tag-first",
                {"train": f"{ZS}/raw/mit/movie/train.txt", "test": f"{ZS}/raw/mit/movie/test.txt"},
                {"train": 9775, "test": 2443},
                origin="andrewzamai/SLIMER: data/MIT",
            ),
        },
        uniner_test=None,
        zero_shot=True,
        paper_column="Movie",
        notes=_MIT_NOTE + " The UniNER test file mit-movie.json is missing from the release "
        "snapshot; `python -m uniner.benchmark.derive --dataset mit-movie` derives it.",
    ),
    DatasetSpec(
        name="mit-restaurant",
        domain="Social media",
        n_types=8,
        label_map={**_RESTAURANT_RAW, **_identity(*_RESTAURANT_RAW.values())},
        labels=(
            "Amenity",
            "Location",
            "Cuisine",
            "Restaurant Name",
            "Rating",
            "Hours",
            "Price",
            "Dish",
        ),
        paper_sizes={"train": 7659, "dev": 1520, "test": 1520},
        source="MIT Restaurant; InstructUIE copy from urchade/GLiNER (training); raw BIO from "
        "andrewzamai/SLIMER; UniNER test file from universal-ner/universal-ner",
        licence=LIC_MIT,
        files={
            "instructuie": FileSet(
                "instructuie",
                {
                    "train": f"{IU}/mit-restaurant/train.json",
                    "test": f"{IU}/mit-restaurant/test.json",
                },
                {"train": 7659, "test": 1520},
                origin="urchade/GLiNER training: data/NER_datasets",
            ),
            "raw": FileSet(
                "bio-tag-first",
                {
                    "train": f"{ZS}/raw/mit/restaurant/train.txt",
                    "test": f"{ZS}/raw/mit/restaurant/test.txt",
                },
                {"train": 7660, "test": 1521},
                origin="andrewzamai/SLIMER: data/MIT",
            ),
        },
        uniner_test=f"{ZS}/uniner/mit-restaurant.json",
        zero_shot=True,
        paper_column="Restaurant",
        notes=_MIT_NOTE,
    ),
)


def _absent(
    name: str,
    domain: str,
    n_types: int,
    sizes: tuple[int, int, int] | None = None,
    notes: str = "",
) -> DatasetSpec:
    """A benchmark set that is not shipped here: name, domain, type count and Table 6 sizes."""
    paper_sizes = dict(zip(("train", "dev", "test"), sizes, strict=True)) if sizes else {}
    return DatasetSpec(
        name=name, domain=domain, n_types=n_types, paper_sizes=paper_sizes, notes=notes
    )


def _biomed(
    name: str,
    folder: str,
    label_map: dict[str, str],
    counts: dict[str, int],
    *,
    sizes: tuple[int, int, int] | None = None,
    in_benchmark: bool = True,
    licence: str = LIC_MTL,
    notes: str = "",
) -> DatasetSpec:
    files = {"train": "train.tsv", "dev": "devel.tsv", "test": "test.tsv"}
    paths = {s: f"{BIOMED}/{folder}/{f}" for s, f in files.items() if s in counts}
    return DatasetSpec(
        name=name,
        domain="Biomed",
        n_types=len(set(label_map.values())),
        label_map=label_map,
        paper_sizes=dict(zip(("train", "dev", "test"), sizes, strict=True)) if sizes else {},
        source=f"cambridgeltl/MTL-Bioinformatics-2016: data/{folder}",
        licence=licence,
        files={"mtl": FileSet("bio", paths, counts, origin="MTL-Bioinformatics-2016")},
        in_benchmark=in_benchmark,
        notes=notes,
    )


_CONLL_MAP = {
    "person": "person",
    "location": "location",
    "organisation": "organization",
    "organization": "organization",
}
_WIKI_MAP = {"PER": "person", "LOC": "location", "ORG": "organization"}

GENERAL = (
    _absent("ACE04", "General", 7, (6202, 745, 812)),
    _absent("ACE05", "General", 7, (7299, 971, 1060)),
    DatasetSpec(
        name="conllpp",
        domain="General",
        n_types=3,
        label_map=_CONLL_MAP,
        dropped=("misc", "else"),
        labels=("location", "organization", "person"),  # InstructUIE labels.json minus else
        paper_sizes={"train": 14041, "dev": 3250, "test": 3453},
        source="CoNLL-2003 English: CrossNER's copy (zliucr/CrossNER ner_data/conll2003) and an "
        "InstructUIE copy (urchade/GLiNER training)",
        licence="CrossNER repo: MIT; the CoNLL-2003/Reuters text has its own terms; InstructUIE "
        "copy: no LICENSE on GLiNER's training branch (main: Apache-2.0)",
        files={
            "raw": FileSet(
                "bio",
                {s: f"supervised/conll2003/{s}.txt" for s in ("train", "dev", "test")},
                {"train": 14041, "dev": 3250, "test": 3453},
                origin="zliucr/CrossNER: ner_data/conll2003",
            ),
            "instructuie": FileSet(
                "instructuie",
                {s: f"supervised/instructuie/conll2003/{s}.json" for s in ("train", "dev", "test")},
                {"train": 14041, "dev": 3250, "test": 3453},
                origin="urchade/GLiNER training: data/NER_datasets/CoNLL 2003",
                note="Has spurious sub-span entities from string matching (e.g. 'Australia' "
                "inside 'Australian', 'Zimbabwe' inside 'Zimbabwe Open'), so it is not default.",
            ),
        },
        notes="The paper's conllpp is CoNLL++ (CoNLL-2003 with a corrected test set). The files "
        "here are plain CoNLL-2003, NOT the ++ corrections, so test scores are not exactly the "
        "paper's test set.",
    ),
    *CROSSNER,
    _absent("FewNERD-coarse", "General", 7, (131767, 18824, 37648)),
    _absent("FewNERD-fine", "General", 59, notes="Table 6 gives no sizes (same text as coarse)."),
    _absent("MultiNERD", "General", 16, (134144, 10000, 10000)),
    _absent("Ontonotes", "General", 18, (59924, 8528, 8262)),
    _absent("PolyglotNER", "General", 3, (393982, 10000, 10000)),
    _absent("TASTEset", "General", 9, (556, 69, 71)),
    DatasetSpec(
        name="WikiANN",
        domain="General",
        n_types=3,
        label_map=_WIKI_MAP,
        labels=("person", "location", "organization"),
        paper_sizes={"train": 20000, "dev": 10000, "test": 10000},
        source="WikiANN English, as redistributed in Babelscape/wikineural (data/wikiann/en)",
        licence=LIC_BABELSCAPE + " (no separate statement for the WikiANN files)",
        files={
            "conllu": FileSet(
                "conllu",
                {
                    "train": "supervised/wikiann/en/train.conllu",
                    "dev": "supervised/wikiann/en/val.conllu",
                    "test": "supervised/wikiann/en/test.conllu",
                },
                {"train": 20000, "dev": 10000, "test": 10000},
                origin="Babelscape/wikineural: data/wikiann/en",
            )
        },
    ),
    DatasetSpec(
        name="WikiNeural",
        domain="General",
        n_types=3,
        label_map=_WIKI_MAP,
        dropped=("MISC",),
        labels=("person", "location", "organization"),
        paper_sizes={"train": 92720, "dev": 11590, "test": 11597},
        source="WikiNEuRal English (Babelscape/wikineural data/wikineural/en)",
        licence=LIC_BABELSCAPE,
        files={
            "conllu": FileSet(
                "conllu",
                {
                    "dev": "supervised/wikineural/en/val.conllu",
                    "test": "supervised/wikineural/en/test.conllu",
                },
                {"dev": 11590, "test": 11597},
                origin="Babelscape/wikineural: data/wikineural/en",
            )
        },
        notes="train.conllu is not shipped (4 MiB or more); only val (as dev) and test.",
    ),
)

BIOMED_SETS = (
    _biomed(
        "AnatEM",
        "AnatEM-IOB",
        {"Anatomy": "anatomy"},
        {"train": 5861, "dev": 2118, "test": 3830},
        sizes=(5861, 2118, 3830),
    ),
    _absent("BioRED", "Biomed", 6, (4373, 1131, 1106)),
    _absent(
        "GENIA",
        "Biomed",
        5,
        (15023, 1669, 1854),
        notes="MTL's GENIA-pos is POS tagging, not NER; not shipped.",
    ),
    _biomed(
        "JNLPBA",
        "JNLPBA",
        {
            "DNA": "DNA",
            "RNA": "RNA",
            "cell_line": "cell line",
            "cell_type": "cell type",
            "protein": "protein",
        },
        {"dev": 1739, "test": 3856},
        sizes=(18608, 1940, 4261),
        notes="Only devel/test are shipped (train is 4 MiB or more). MTL's sentence split "
        "differs from Table 6's sizes (dev 1739 vs 1940, test 3856 vs 4261).",
    ),
    _biomed(
        "bc2gm",
        "BC2GM-IOB",
        {"GENE": "gene"},
        {"train": 12574, "dev": 2519, "test": 5038},
        sizes=(12500, 2500, 5000),
        notes="MTL's sentence split gives slightly more sentences than Table 6's 12500/2500/5000.",
    ),
    _absent(
        "bc4chemd",
        "Biomed",
        1,
        (30682, 30639, 26364),
        notes="Every file is missing from the MTL snapshot.",
    ),
    _biomed(
        "bc5cdr",
        "BC5CDR-IOB",
        {"Chemical": "chemical", "Disease": "disease"},
        {"train": 4560, "dev": 4581, "test": 4797},
        sizes=(4560, 4581, 4797),
    ),
    _biomed(
        "ncbi",
        "NCBI-disease-IOB",
        {"Disease": "disease"},
        {"train": 5424, "dev": 923, "test": 940},
        sizes=(5432, 923, 940),
        notes="NCBI-disease; MTL's train has 5424 sentences vs Table 6's 5432.",
    ),
)

CLINICS = (
    _absent("ebmnlp", "Clinics", 3),
    _absent("i2b2 2006 deid", "Clinics", 8, notes="Table 6 calls it 'i2b2 2006 deid 1B'."),
    _absent("i2b2 2010 concepts", "Clinics", 3),
    _absent("i2b2 2012 temporal", "Clinics", 6),
    _absent("i2b2 2014 deid", "Clinics", 23),
    _absent("n2c2 2018 task2", "Clinics", 9),
    _absent("ShAReCLEF", "Clinics", 1),
)

STEM = (
    _absent("DEAL", "STEM", 30),
    _absent("FabNER", "STEM", 12, (9435, 2182, 2064)),
    _absent("SOFC", "STEM", 3),
    _absent("SciERC", "STEM", 4),
    _absent("SciREX", "STEM", 4),
    _absent("SoMeSci", "STEM", 14),
    _absent("WLP", "STEM", 16),
)

OTHER_DOMAINS = (
    _absent("Stackoverflow-NER", "Programming", 25, (9263, 2936, 3108)),
    _absent("HarveyNER", "Social media", 4, (3967, 1301, 1303)),
    _absent("Broad Tweet Corpus", "Social media", 3, (5334, 2001, 2000)),
    _absent("TweetNER7", "Social media", 7, (7111, 886, 576)),
    *MIT,
    _absent("E-NER", "Law", 6),
    _absent("MAPA-coarse", "Law", 5),
    _absent("MAPA-fine", "Law", 17),
    _absent("FiNER-ord", "Finance", 3),
    _absent("FindVehicle", "Transportation", 21),
)

_BIONLP_LIC = LIC_MTL + "; the folder carries its own LICENSE/README (GENIA-project terms)"
_GGP = "gene or gene product"

EXTRA = (
    _biomed(
        "BioNLP09",
        "BioNLP09-IOB",
        {"Protein": "protein"},
        {"train": 7462, "dev": 1448, "test": 2446},
        in_benchmark=False,
    ),
    _biomed(
        "BioNLP11EPI",
        "BioNLP11EPI-IOB",
        {"Protein": "protein"},
        {"train": 5698, "dev": 1955, "test": 4122},
        in_benchmark=False,
    ),
    _biomed(
        "BioNLP11ID",
        "BioNLP11ID-IOB",
        {
            "Chemical": "chemical",
            "Organism": "organism",
            "Protein": "protein",
            "Regulon-operon": "regulon or operon",
        },
        {"train": 2496, "dev": 721, "test": 1961},
        in_benchmark=False,
        licence=_BIONLP_LIC,
    ),
    _biomed(
        "BioNLP13CG",
        "BioNLP13CG-IOB",
        {
            "Amino_acid": "amino acid",
            "Anatomical_system": "anatomical system",
            "Cancer": "cancer",
            "Cell": "cell",
            "Cellular_component": "cellular component",
            "Developing_anatomical_structure": "developing anatomical structure",
            "Gene_or_gene_product": _GGP,
            "Immaterial_anatomical_entity": "immaterial anatomical entity",
            "Multi-tissue_structure": "multi-tissue structure",
            "Organ": "organ",
            "Organism": "organism",
            "Organism_subdivision": "organism subdivision",
            "Organism_substance": "organism substance",
            "Pathological_formation": "pathological formation",
            "Simple_chemical": "simple chemical",
            "Tissue": "tissue",
        },
        {"train": 3033, "dev": 1003, "test": 1906},
        in_benchmark=False,
        licence=_BIONLP_LIC,
    ),
    _biomed(
        "BioNLP13GE",
        "BioNLP13GE-IOB",
        {"Protein": "protein"},
        {"train": 2449, "dev": 2737, "test": 3391},
        in_benchmark=False,
    ),
    _biomed(
        "BioNLP13PC",
        "BioNLP13PC-IOB",
        {
            "Cellular_component": "cellular component",
            "Complex": "complex",
            "Gene_or_gene_product": _GGP,
            "Simple_chemical": "simple chemical",
        },
        {"train": 2499, "dev": 857, "test": 1695},
        in_benchmark=False,
        licence=_BIONLP_LIC,
    ),
    _biomed(
        "CRAFT",
        "CRAFT-IOB",
        {
            "CHEBI": "chemical",
            "CL": "cell type",
            "GGP": _GGP,
            "GO": "gene ontology concept",
            "SO": "sequence feature",
            "Taxon": "organism",
        },
        {"train": 10875, "dev": 3730, "test": 7425},
        in_benchmark=False,
        notes="Types are ontology names: CHEBI (ChEBI chemicals), CL (Cell Ontology), GGP, GO "
        "(Gene Ontology), SO (Sequence Ontology), Taxon (NCBI Taxonomy).",
    ),
    _biomed(
        "Ex-PTM",
        "Ex-PTM-IOB",
        {"Protein": "protein"},
        {"train": 1377, "dev": 437, "test": 1839},
        in_benchmark=False,
    ),
    _biomed(
        "linnaeus",
        "linnaeus-IOB",
        {"Species": "species"},
        {"train": 11935, "dev": 4078, "test": 7142},
        in_benchmark=False,
    ),
)

SPECS: tuple[DatasetSpec, ...] = (
    *GENERAL,
    *BIOMED_SETS,
    *CLINICS,
    *STEM,
    *OTHER_DOMAINS,
    *EXTRA,
    multiconer.SPEC,
)
"""Benchmark sets in the paper's domain order, then the extra training sets."""

ALIASES: dict[str, str] = {
    "CoNLL-2003": "conllpp",
    "CoNLL++": "conllpp",
    "NCBI-disease": "ncbi",
    "BC2GM": "bc2gm",
    "BC5CDR": "bc5cdr",
    "BC4CHEMD": "bc4chemd",
    "WikiANN en": "WikiANN",
    "MAPA-en-fine": "MAPA-fine",
    "MAPA-en-coarse": "MAPA-coarse",
    "i2b2 2006 deid 1B": "i2b2 2006 deid",
    "BTC": "Broad Tweet Corpus",
    "OntoNotes": "Ontonotes",
    "Movie": "mit-movie",
    "Restaurant": "mit-restaurant",
    "MIT Movie": "mit-movie",
    "MIT Restaurant": "mit-restaurant",
    **multiconer.ALIASES,
}
"""Other spellings accepted by :func:`uniner.benchmark.registry.get`."""
