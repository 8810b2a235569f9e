"""The type hierarchy mined from training examples: which types are kinds of which."""

from __future__ import annotations

import json
import random
from pathlib import Path

import pytest

from uniner.data.hierarchy import Edge, TypeHierarchy, mine_hierarchy, normalise, share_bound
from uniner.data.types import Entity, Example


def tagged(*mentions: tuple[str, str]) -> Example:
    """One example whose text is the mentions joined by ' ; ', each with its label."""
    text, ents = "", []
    for name, label in mentions:
        if text:
            text += " ; "
        ents.append(Entity(len(text), len(text) + len(name), name, label))
        text += name
    return Example(text, tuple(ents))


def corpus() -> list[Example]:
    """People (some also writers or politicians, poets among the writers), cities, companies.

    person: 40 names; writer: 12 of them (all also person); poet: 6 of the writers;
    politician: 8 of them; city and company: unrelated names, plus two strings given both
    (a city named like a company), too few to link them.
    """
    people = [f"Person {chr(65 + i // 26)}{chr(97 + i % 26)}" for i in range(40)]
    out = [tagged(*[(p, "person") for p in people[k : k + 5]]) for k in range(0, 40, 5)]
    out += [tagged((p, "person")) for p in people[:20]]  # more person mentions
    out += [tagged((p.upper(), "writer")) for p in people[:12]]  # casing does not matter
    out += [tagged((p, "poet")) for p in people[:6]]
    out += [tagged((p, "politician")) for p in people[20:28]]
    cities = [f"Town{i}" for i in range(15)]
    companies = [f"Corp{i}" for i in range(10)] + ["Town0", "Town1"]
    out += [tagged(*[(c, "city") for c in cities])]
    out += [tagged(*[(c, "company") for c in companies])]
    out += [tagged(("1984", "date"), ("1984", "book"), ("2001", "date"), ("2001", "book"))]
    return out


def mined(**kw: object) -> TypeHierarchy:
    return mine_hierarchy(corpus(), **{"min_support": 3, "min_share": 0.3, **kw})


def test_general_types_are_parents_of_specific_ones() -> None:
    h = mined()
    assert h.parents("writer") == ("person",)
    assert h.parents("politician") == ("person",)
    assert h.children("person") == ("politician", "writer")
    # poet is a writer; person -> poet is implied by the path, so it is not a direct edge
    assert h.parents("poet") == ("writer",)
    assert h.ancestors("poet") == {"writer", "person"}
    assert h.parents("person") == () and h.ancestors("person") == frozenset()
    # unrelated types, types sharing only 2 strings (< min_support), strings without letters
    for label in ("city", "company", "date", "book", "unknown"):
        assert h.parents(label) == () and h.children(label) == ()
    assert {(e.parent, e.child) for e in h.edges} == {
        ("person", "writer"),
        ("person", "politician"),
        ("writer", "poet"),
    }
    edge = next(e for e in h.edges if e.child == "writer")
    assert edge.support == 12 and edge.share == 1.0
    assert h.types["person"] == (60, 40) and h.types["writer"] == (12, 12)
    # with a lower support the two shared city/company strings link them, the more frequent
    # and varied type (city: 15 names, company: 12) being the parent
    loose = mined(min_support=2)
    assert loose.parents("company") == ("city",) and loose.parents("city") == ()


def test_thresholds_cut_edges() -> None:
    assert len(mined(min_support=13)) == 0  # writer shares only 12 strings with person
    assert mined(min_support=7).parents("poet") == ()  # 6 strings
    with pytest.raises(ValueError, match="min_share"):
        mine_hierarchy([], min_share=0.0)


def test_no_cycles_when_types_share_strings_both_ways() -> None:
    """Two types given the same strings equally often: neither is more general, no edge."""
    names = [f"Name{i}" for i in range(10)]
    exs = [tagged(*[(n, "actor") for n in names]), tagged(*[(n, "singer") for n in names])]
    assert len(mine_hierarchy(exs, min_support=3, min_share=0.3)) == 0
    # one more mention but not more distinct strings: still no edge (both must be larger)
    exs.append(tagged(("Name0", "actor")))
    assert len(mine_hierarchy(exs, min_support=3, min_share=0.3)) == 0
    exs.append(tagged(("Other", "actor")))
    h = mine_hierarchy(exs, min_support=3, min_share=0.3)
    assert h.parents("singer") == ("actor",) and h.parents("actor") == ()


def test_mining_is_deterministic() -> None:
    exs = corpus()
    first = mine_hierarchy(exs, min_support=3, min_share=0.3).to_json()
    random.Random(1).shuffle(exs)
    assert mine_hierarchy(exs, min_support=3, min_share=0.3).to_json() == first


def test_json_round_trip_and_errors(tmp_path: Path) -> None:
    h = mined()
    back = TypeHierarchy.from_json(h.to_json())
    assert back == h and back.ancestors("poet") == h.ancestors("poet")
    p = tmp_path / "h.json"
    p.write_text(h.to_json())
    assert TypeHierarchy.load(p) == h
    cyclic = {
        "version": 1,
        "edges": [
            {"parent": "a", "child": "b", "support": 1, "share": 1.0},
            {"parent": "b", "child": "a", "support": 1, "share": 1.0},
        ],
    }
    p.write_text(json.dumps(cyclic))
    with pytest.raises(ValueError, match=r"h\.json.*cycle"):
        TypeHierarchy.load(p)
    p.write_text('{"version": 1, "edges": [{"parent": "a"}]}')
    with pytest.raises(ValueError, match="edge 0"):
        TypeHierarchy.load(p)
    with pytest.raises(ValueError, match="no-such"):
        TypeHierarchy.load(tmp_path / "no-such.json")
    with pytest.raises(ValueError, match="own parent"):
        TypeHierarchy((Edge("a", "a"),))


def test_share_bound_weighs_the_share_by_its_support() -> None:
    assert share_bound(8, 8) > 0.7 and share_bound(88, 100) > 0.8
    assert share_bound(45, 132) < 0.3 < 45 / 132  # a middling share stays middling
    assert share_bound(2, 2) < share_bound(20, 20) < 1.0
    assert share_bound(0, 5) == 0.0


def test_normalise() -> None:
    assert normalise("  Mark\tTWAIN ") == "mark twain"
