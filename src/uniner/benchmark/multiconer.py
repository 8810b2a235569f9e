"""MultiCoNER II English in the registry: 33 fine-grained types as names a user would type.

MultiCoNER II (SemEval-2023 Task 2; Fetahu et al. 2023) tags short, lower-cased sentences with 33
CamelCase codes grouped under six coarse classes. Its ``Other*`` codes and ``ORG`` are residual
classes: ``OtherPER`` is a person who is none of the specific kinds (artist, politician, ...),
``ORG`` an organization that is no company, team or band, ``OtherLOC`` a location that is no
settlement, facility or station, ``OtherPROD`` a product of no specific kind. They are named
after their coarse class ("person", "organization", "location", "product") because that is what
a user asks for; the price is that in this data "person" never tags an artist. :data:`PARENTS`
records that hierarchy so training can ask the general type too instead of learning the
specific mentions as its negatives.

Names chosen where the code is not already a plain word (checked against the most frequent
mentions of each code in the three files):

* ``WrittenWork`` -> "written work", not "book": its most frequent mentions are newspapers and
  magazines (the new york times, rolling stone, billboard), which a model must not learn as books.
* ``VisualWork`` -> "visual work" (films, TV shows, video games), ``MusicalWork`` ->
  "musical work" (songs, albums, operas): the genus names, one family with "written work".
* ``HumanSettlement`` -> "city or country": half of its mentions are countries (united states,
  japan, france), the rest cities and towns (new york city, paris, london). "city" would teach
  that Japan is a city, and "settlement" would teach users' word for a village or colony to
  mean a country; the compound names what is there, as "gene or gene product" does elsewhere.
* ``Medication/Vaccine`` -> "medication"; ``SportsGRP`` -> "sports team"; ``MusicalGRP`` ->
  "musical group" (bands, orchestras, opera companies); ``PublicCorp``/``PrivateCorp`` ->
  "public company"/"private company".
"""

from __future__ import annotations

from uniner.benchmark.registry import DatasetSpec, FileSet

FOLDER = "supervised/multiconer2-en"

#: Raw code -> natural name, grouped by MultiCoNER II's coarse classes.
LABEL_MAP: dict[str, str] = {
    # PER
    "OtherPER": "person",
    "Artist": "artist",
    "Politician": "politician",
    "Scientist": "scientist",
    "Athlete": "athlete",
    "Cleric": "cleric",
    "SportsManager": "sports manager",
    # CW (creative works)
    "WrittenWork": "written work",
    "MusicalWork": "musical work",
    "VisualWork": "visual work",
    "ArtWork": "artwork",
    "Software": "software",
    # GRP
    "ORG": "organization",
    "MusicalGRP": "musical group",
    "SportsGRP": "sports team",
    "PublicCorp": "public company",
    "PrivateCorp": "private company",
    "CarManufacturer": "car manufacturer",
    "AerospaceManufacturer": "aerospace manufacturer",
    # LOC
    "OtherLOC": "location",
    "HumanSettlement": "city or country",
    "Facility": "facility",
    "Station": "station",
    # PROD
    "OtherPROD": "product",
    "Vehicle": "vehicle",
    "Food": "food",
    "Drink": "drink",
    "Clothing": "clothing",
    # MED
    "Disease": "disease",
    "Symptom": "symptom",
    "Medication/Vaccine": "medication",
    "MedicalProcedure": "medical procedure",
    "AnatomicalStructure": "anatomical structure",
}

#: Specific natural name -> the general name its residual sibling carries in this data set
#: (MultiCoNER II's coarse classes). A mention of the specific type is also one of the general
#: type, although the data tags it with the specific one only. Creative works and medical
#: types have no residual code here, so no parent.
PARENTS: dict[str, str] = {
    **dict.fromkeys(
        ("artist", "politician", "scientist", "athlete", "cleric", "sports manager"), "person"
    ),
    **dict.fromkeys(
        (
            "musical group",
            "sports team",
            "public company",
            "private company",
            "car manufacturer",
            "aerospace manufacturer",
        ),
        "organization",
    ),
    **dict.fromkeys(("city or country", "facility", "station"), "location"),
    **dict.fromkeys(("vehicle", "food", "drink", "clothing"), "product"),
}

SPEC = DatasetSpec(
    name="MultiCoNER2",
    domain="General",
    n_types=len(LABEL_MAP),
    label_map=LABEL_MAP,
    source="OMGarad/MultiCoNER-2 (multiconer-baseline/): a copy of the SemEval-2023 Task 2 "
    "English train (split 90/10 by that repo) and dev sets",
    licence="CC BY 4.0 (MultiCoNER II's authors); the copying repo has no licence file",
    files={
        "semeval": FileSet(
            "bio",
            {
                "train": (f"{FOLDER}/en-train90.conll", f"{FOLDER}/en-train10.conll"),
                "dev": f"{FOLDER}/en-dev.conll",
            },
            {"train": 15099 + 1679, "dev": 871},
            origin="SemEval-2023 Task 2 (MultiCoNER II), English",
            note="train is en-train90 then en-train10 (the official train split, cut 90/10 by "
            "the copying repo; their type mixes differ, train10 is heavy in Station and "
            "MedicalProcedure); no test split is shipped",
        )
    },
    in_benchmark=False,
    zero_shot=False,
    notes="Lower-cased text, as MultiCoNER II ships it. Residual codes: OtherPER ('person') is "
    "a person who is none of artist, politician, scientist, athlete, cleric, sports manager; "
    "ORG ('organization') none of the group/company codes; OtherLOC ('location') none of city "
    "or country, facility, station; OtherPROD ('product') none of the product codes. So in "
    "this data 'person' never tags an artist: see uniner.benchmark.multiconer.PARENTS.",
)

ALIASES: dict[str, str] = {
    "multiconer2-en": SPEC.name,
    "MultiCoNER II": SPEC.name,
}
