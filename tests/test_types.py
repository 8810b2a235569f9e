import pytest

from uniner.data.types import Entity, Example, ValidationError


def test_entity_offsets_must_match_text():
    text = "Barack Obama visited Paris."
    ex = Example(
        text, (Entity(21, 26, "Paris", "location"), Entity(0, 12, "Barack Obama", "person"))
    )
    assert [e.text for e in ex.entities] == ["Barack Obama", "Paris"]  # sorted by offset
    with pytest.raises(ValidationError, match="text there is"):
        Example(text, (Entity(0, 6, "Barack Obama", "person"),))


def test_entity_outside_text_is_rejected():
    with pytest.raises(ValidationError, match="outside the text"):
        Example("short", (Entity(3, 10, "rt and more", "x"),))


@pytest.mark.parametrize("start,end", [(-1, 2), (3, 3), (4, 2)])
def test_bad_offsets(start, end):
    with pytest.raises(ValidationError):
        Entity(start, end, "x", "person")


def test_empty_label_rejected():
    with pytest.raises(ValidationError, match="empty label"):
        Entity(0, 1, "x", " ")


def test_mentions_dedup_in_order_and_roundtrip():
    text = "Paris and Rome and Paris"
    ents = (
        Entity(0, 5, "Paris", "city"),
        Entity(10, 14, "Rome", "city"),
        Entity(19, 24, "Paris", "city"),
    )
    ex = Example(text, ents, labels=("city", "person"), id="a")
    assert ex.mentions("city") == ["Paris", "Rome"]
    assert ex.mentions("person") == []
    assert Example.from_dict(ex.to_dict()) == ex
    # duplicates collapse
    assert len(Example(text, ents + ents).entities) == 3
