"""Teacher-output parsing: each malformed shape yields exactly the intended pairs, truncated
answers keep their complete tuples only, and failures are reported (never silently empty)."""

from __future__ import annotations

import pytest

from uniner.distill.filtering import FilterConfig, filter_pairs, latin_share, normalise_type
from uniner.distill.parsing import EMPTY, OK, SALVAGED, UNPARSEABLE, parse_teacher_output

AC = (("Apple", "organization"), ("Tim Cook", "person"))

SHAPES = [
    ("python tuples", '[("Apple", "organization"), ("Tim Cook", "person")]', AC, OK),
    ("json lists", '[["Apple", "organization"], ["Tim Cook", "person"]]', AC, OK),
    ("single quotes", "[('Apple', 'organization'), ('Tim Cook', 'person')]", AC, OK),
    (
        "escaped quotes",
        '[(\\"Apple\\", \\"organization\\"), (\\"Tim Cook\\", \\"person\\")]',
        AC,
        OK,
    ),
    (
        "prose around",
        'Sure! The entities are:\n[("Apple", "organization"), ("Tim Cook", "person")]'
        "\nLet me know if you need more.",
        AC,
        OK,
    ),
    ("code fence", '```python\n[("Apple", "organization"),\n ("Tim Cook", "person")]\n```', AC, OK),
    (
        "fence no lang",
        'Output:\n```\n[["Apple", "organization"], ["Tim Cook", "person"]]\n```',
        AC,
        OK,
    ),
    (
        "json objects",
        '[{"entity": "Apple", "type": "organization"}, {"entity": "Tim Cook", "type": "person"}]',
        AC,
        OK,
    ),
    ("trailing comma", '[("Apple", "organization"), ("Tim Cook", "person"),]', AC, OK),
    ("one per line", '("Apple", "organization")\n("Tim Cook", "person")', AC, SALVAGED),
    (
        "inner apostrophe",
        "[('Apple', 'organization'), ('Tim Cook', 'person'), ('O'Reilly', 'publisher')]",
        (*AC, ("O'Reilly", "publisher")),
        SALVAGED,
    ),
    (
        "truncated in tuple",
        '[("Apple", "organization"), ("Tim Cook", "person"), ("Cuper',
        AC,
        SALVAGED,
    ),
    (
        "truncated before )",
        '[("Apple", "organization"), ("Tim Cook", "person"), ("Cupertino", "city"',
        AC,
        SALVAGED,
    ),
    (
        "truncated fence",
        '```python\n[("Apple", "organization"), ("Tim Cook", "person"), ("X',
        AC,
        SALVAGED,
    ),
]


@pytest.mark.parametrize(("name", "text", "pairs", "status"), SHAPES, ids=[s[0] for s in SHAPES])
def test_shapes(name, text, pairs, status):
    res = parse_teacher_output(text)
    assert res.pairs == pairs
    assert res.status == status
    assert res.ok


@pytest.mark.parametrize("text", ["[]", " [ ] ", "None", "No entities found.", "```\n[]\n```"])
def test_explicit_empty_answers(text):
    res = parse_teacher_output(text)
    assert res.status == EMPTY and res.pairs == ()


@pytest.mark.parametrize(
    "text", ["I cannot help with that.", "", "[1, 2, 3]", '{"Apple": "organization"}', "[("]
)
def test_unparseable_is_reported(text):
    res = parse_teacher_output(text)
    assert res.status == UNPARSEABLE and not res.ok and res.pairs == ()


def test_malformed_items_are_counted_not_fatal():
    res = parse_teacher_output('[("a", "b", "c"), ("Apple", "organization"), (1, 2)]')
    assert res.pairs == (("Apple", "organization"),)
    assert res.malformed == 2


def test_filter_reasons_and_alignment():
    passage = "Apple hired Tim Cook in Cupertino. 東京 is big. The café Zürich opened."
    pairs = [
        ("Apple", " Organization "),  # kept, type normalised
        ("Tim Cook", "person"),
        ("Steve Jobs", "person"),  # hallucinated
        ("東京", "city"),  # non-English
        ("Cupertino", "MISC"),  # ELSE-like, any case
        ("Cupertino", "n/a"),
        ("apple", "organization"),  # kept: found case-insensitively
        ("Apple", "organization"),  # duplicate of the first after normalisation
        ("  ", "city"),
        ("Zürich", ""),
        ("Zürich", "a very long type name with many many words in it"),
        ("Apple hired Tim Cook in Cupertino and then many many more words followed after", "x"),
        ("café Zürich", "restaurant"),  # accented Latin is English enough
    ]
    res = filter_pairs(passage, pairs)
    assert res.kept == [
        ("Apple", "organization"),
        ("Tim Cook", "person"),
        ("apple", "organization"),
        ("café Zürich", "restaurant"),
    ]
    assert dict(res.dropped) == {
        "hallucinated": 1,
        "non_english": 1,
        "else_type": 2,
        "duplicate": 1,
        "empty_mention": 1,
        "empty_type": 1,
        "long_type": 1,
        "long_mention": 1,
    }
    assert res.hallucinated == [("Steve Jobs", "person")]
    assert [(e.text, e.label) for e in res.entities] == [
        ("Apple", "organization"),
        ("Tim Cook", "person"),
        ("café Zürich", "restaurant"),
    ]
    for e in res.entities:
        assert passage[e.start : e.end] == e.text


def test_definition_config_keeps_sentence_types():
    passage = "Aspirin relieves pain."
    pairs = [("Aspirin", "A medication used to reduce pain, fever, or inflammation.")]
    assert filter_pairs(passage, pairs).dropped["long_type"] == 1
    res = filter_pairs(passage, pairs, FilterConfig.for_definitions())
    assert res.kept == [("Aspirin", "A medication used to reduce pain, fever, or inflammation.")]


def test_helpers():
    assert normalise_type("  Medical \n Condition ") == "medical condition"
    assert latin_share("Москва") == 0.0 and latin_share("São Paulo") == 1.0
    assert latin_share("1984") == 1.0
