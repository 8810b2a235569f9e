"""MultiCoNER II English's type hierarchy: which specific types belong to a residual class.

The data set's entry (files, the 33 codes and the natural names chosen for them, with the
reasons) is in the catalog, ``uniner/data/catalog.toml`` (``get("MultiCoNER2")``). Its
``Other*`` codes and ``ORG`` are residual classes: ``OtherPER`` is a person who is none of the
specific kinds (artist, politician, ...), ``ORG`` an organization that is no company, team or
band, and so on; they are named after their coarse class ("person", "organization", ...)
because that is what a user asks for, so in this data "person" never tags an artist.
:data:`PARENTS` records that hierarchy so training can ask the general type too instead of
learning the specific mentions as its negatives.
"""

from __future__ import annotations

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
