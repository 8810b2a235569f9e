"""Hashtags: mentions written as hashtags (the ``tagged`` probe variant) and the ``bare``
reading of a ``#`` attached to a word (``SpanModelConfig.hashtags``)."""

import os
import random

import pytest

from tests.doubles.span import FirstWordScorer, tiny_span_parts
from uniner.data.augment import InformalStyle, apply_variant, informalize
from uniner.data.types import Entity, Example
from uniner.inference import DecodingConfig
from uniner.students.span.config import READING_SETTINGS, SpanModelConfig
from uniner.students.span.features import Featurizer

os.environ.setdefault("HF_HUB_OFFLINE", "1")

TEXT = "Lionel Messi left Barcelona for PSG in Paris ."
EX = Example(
    TEXT,
    (
        Entity(0, 12, "Lionel Messi", "person"),
        Entity(18, 27, "Barcelona", "team"),
        Entity(32, 35, "PSG", "team"),
        Entity(39, 44, "Paris", "city"),
    ),
)


def tagged_mentions(ex: Example) -> list[str]:
    return [e.text for e in ex.entities if e.start > 0 and ex.text[e.start - 1] == "#"]


def test_tagged_variant_writes_one_word_mentions_as_hashtags_outside_their_offsets():
    outs = [apply_variant(EX, "tagged", random.Random(seed)) for seed in range(40)]
    tagged = [t for out in outs for t in tagged_mentions(out)]
    assert tagged, "half the one-word mentions should be tagged"
    assert all(" " not in t for t in tagged)  # "Lionel Messi" is never tagged
    assert {t.lower() for t in tagged} <= {"barcelona", "psg", "paris"}
    for out in outs:
        assert out.meta["variant"] == "tagged"
        assert [e.label for e in out.entities] == [e.label for e in EX.entities]
        assert all(out.text[e.start : e.end] == e.text for e in out.entities)


def test_informal_variant_never_tags_a_mention():
    """``tag_mention`` is off in the suite's informal variant (version 2 stays as it was)."""
    for seed in range(40):
        assert tagged_mentions(apply_variant(EX, "informal", random.Random(seed))) == []
    style = InformalStyle(tag_mention=1.0)
    every = informalize(EX, random.Random(0), style)
    assert sorted(t.lower() for t in tagged_mentions(every)) == ["barcelona", "paris", "psg"]


def test_unknown_variant_names_the_probe_variant_too():
    with pytest.raises(ValueError, match="informal, tagged"):
        apply_variant(EX, "shouty", random.Random(0))


@pytest.fixture(scope="module")
def parts(tmp_path_factory: pytest.TempPathFactory):
    return tiny_span_parts(tmp_path_factory.mktemp("bb-hashtags"))


def test_bare_reading_leaves_out_attached_hash_marks_only(parts):
    fz = Featurizer(parts[1])
    text = "#Oslo in #Chicago and # Oslo, C# and #, #"
    words = [text[s:e] for s, e in fz.encode_text(text).offsets]
    assert words.count("#") == 6
    bare = fz.encode_text(text, bare_hashtags=True)
    kept = [text[s:e] for s, e in bare.offsets]
    assert kept[:4] == ["Oslo", "in", "Chicago", "and"]
    assert kept.count("#") == 4  # "# Oslo", "C#", "#," and the last stay as written
    assert len(bare.tokens) == len(bare.shapes) == len(bare.offsets)


def test_hashtags_is_a_checked_reading_setting():
    assert "hashtags" in READING_SETTINGS  # a release may change it; soups ignore it
    assert SpanModelConfig().hashtags == "as_written"
    with pytest.raises(ValueError, match="hashtags must be one of"):
        SpanModelConfig(hashtags="strip")


def test_extractor_reads_the_tag_word_when_bare(parts):
    """The oracle scores the first word the model reads: the "#" as written, "Chicago" bare,
    with its offsets in the original text."""
    model, tok = parts
    text = "#Chicago is cold"
    decoding = DecodingConfig(threshold=0.5)
    as_written = FirstWordScorer(model, tok, decoding=decoding)
    assert [(e.text, e.start) for e in as_written.extract(text, ["city"])] == [("#", 0)]
    bare = FirstWordScorer(model, tok, decoding=decoding).with_hashtags("bare")
    got = bare.extract(text, ["city"])
    assert [(e.text, e.start, e.end) for e in got] == [("Chicago", 1, 8)]
    assert model.config.hashtags == "as_written"  # the shared model's own config is unchanged
    with pytest.raises(ValueError, match="hashtags must be one of"):
        bare.with_hashtags("strip")


def test_probe_table_has_a_row_per_reading_and_variant_with_the_mean(bench_script):
    probe = bench_script("hashtag_probe")
    res = {
        "as_written": {"informal": [0.6, 0.7], "tagged": [0.5, 0.4]},
        "bare": {"informal": [0.6, 0.8], "tagged": [0.6, 0.7]},
    }
    md = probe.markdown("m", [0, 1], res)
    assert "| as_written | tagged | 50.00 | 40.00 | 45.00 |" in md
    assert "| bare | informal | 60.00 | 80.00 | 70.00 |" in md
    assert md.count("\n| ") == 1 + 4  # the header and four rows
