"""The ``uniner`` spaCy component on real ``spacy.blank("en")`` pipelines.

The real default model checks the end-to-end path (factory, entry point, doc.ents/doc.spans,
serialisation); a fixed-output extractor checks token alignment exactly, since the model's
offsets can fall inside spaCy tokens.
"""

from __future__ import annotations

import subprocess
import sys

import pytest

from conftest import require

spacy = require("spacy", "spacy")

from uniner.data.types import Entity  # noqa: E402
from uniner.integrations.spacy_component import UninerComponent  # noqa: E402

TEXT = "Marie Curie discovered polonium at the University of Paris."
LABELS = ["person", "chemical element", "university"]


class Fixed:
    """Returns the given entities for every text; records each call's batch size."""

    name = "fixed"

    def __init__(self, entities):
        self.entities = entities
        self.calls: list[int] = []
        self.kwargs: list[dict] = []

    def extract_batch(self, texts, labels, **kwargs):
        self.calls.append(len(texts))
        self.kwargs.append(kwargs)
        return [list(self.entities) for _ in texts]


def component(extractor, **kw):
    nlp = spacy.blank("en")
    return nlp, UninerComponent(nlp, "uniner", extractor=extractor, **kw)


# -- the real model ---------------------------------------------------------------------------


@pytest.fixture(scope="module")
def nlp():
    nlp = spacy.blank("en")
    nlp.add_pipe("uniner", config={"labels": LABELS})
    return nlp


def test_add_pipe_sets_doc_ents_aligned_to_tokens(nlp):
    doc = nlp(TEXT)
    got = {(e.text, e.label_) for e in doc.ents}
    assert ("Marie Curie", "person") in got
    assert ("University of Paris", "university") in got
    for ent in doc.ents:
        assert ent.text == TEXT[ent.start_char : ent.end_char]
        assert 0.0 < ent._.uniner_score <= 1.0
    # token-level IOB tags come from doc.ents
    assert [t.ent_iob_ for t in doc[:3]] == ["B", "I", "O"]
    assert doc[0].ent_type_ == "person"


def test_pipe_matches_single_calls(nlp):
    texts = [TEXT, "Alan Turing studied at the University of Cambridge.", "No entities here."]
    piped = [[(e.start_char, e.end_char, e.label_) for e in d.ents] for d in nlp.pipe(texts)]
    single = [[(e.start_char, e.end_char, e.label_) for e in nlp(t).ents] for t in texts]
    assert piped == single
    assert piped[2] == []


def test_nested_mode_writes_overlapping_spans():
    nlp = spacy.blank("en")
    pipe = nlp.add_pipe(
        "uniner",
        config={"labels": ["university", "city"], "mode": "nested", "threshold": 0.2},
    )
    text = "The University of Paris is in Paris."
    doc = nlp(text)
    group = doc.spans["uniner"]
    assert len(group) >= 2
    assert len(group.attrs["scores"]) == len(group)
    # every entity of the model's own nested (multi-label) answer is there, overlaps included:
    # what the model predicts may change between releases, the component must not drop any
    expected = pipe.extractor.extract(
        text, ["university", "city"], threshold=0.2, flat=False, multi_label=pipe.multi_label
    )
    got = sorted((s.start_char, s.end_char, s.label_) for s in group)
    assert got == sorted((e.start, e.end, e.label) for e in expected)
    assert doc.ents == ()  # nested mode leaves doc.ents alone


def test_nested_spans_may_overlap_where_doc_ents_cannot():
    nlp = spacy.blank("en")
    pipe = nlp.add_pipe("uniner", config={"labels": ["x"], "mode": "nested"})
    doc = nlp.make_doc("The University of Paris is in Paris.")
    from uniner.data.types import Entity

    ents = [Entity(0, 23, doc.text[0:23], "x", 0.9), Entity(4, 23, doc.text[4:23], "x", 0.8)]
    pipe._set(doc, ents)
    assert [(s.start, s.end) for s in doc.spans["uniner"]] == [(0, 4), (1, 4)]


def test_pipeline_round_trips_through_disk(nlp, tmp_path):
    nlp.to_disk(tmp_path / "pipe")
    again = spacy.load(tmp_path / "pipe")
    assert again.pipe_names == ["uniner"]
    assert again.get_pipe_meta("uniner").factory == "uniner"
    assert [(e.text, e.label_) for e in again(TEXT).ents] == [
        (e.text, e.label_) for e in nlp(TEXT).ents
    ]


@pytest.mark.slow
def test_entry_point_registers_the_factory_without_import():
    code = (
        "import sys, spacy\n"
        "assert 'uniner' not in sys.modules\n"
        "nlp = spacy.blank('en')  # spaCy reads the spacy_factories entry points here\n"
        "nlp.add_pipe('uniner', config={'labels': ['person']})\n"
        "print([(e.text, e.label_) for e in nlp('Ada Lovelace met Charles Babbage.').ents])\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=300)
    assert out.returncode == 0, out.stderr
    assert "('Ada Lovelace', 'person')" in out.stdout


# -- alignment, exactly -------------------------------------------------------------------------

ACME = "Acmecorp hired Ann."  # tokens: Acmecorp | hired | Ann | .


@pytest.mark.parametrize(
    ("mode", "expected"),
    [
        ("strict", [("Ann", "person")]),
        ("contract", [("Acmecorp", "org"), ("Ann", "person")]),
        ("expand", [("Acmecorp", "brand"), ("Ann", "person")]),
    ],
)
def test_alignment_modes(mode, expected):
    ents = [
        Entity(0, 4, "Acme", "brand", 0.9),  # inside one token
        Entity(0, 11, "Acmecorp hi", "org", 0.8),  # one whole token and part of the next
        Entity(15, 18, "Ann", "person", 0.7),  # on token boundaries
        Entity(12, 18, "red Ann", "person", 0.6),  # part of "hired" and "Ann"
    ]
    # strict keeps only Ann; contract shrinks "Acmecorp hi" to "Acmecorp" and "red Ann" to "Ann"
    # (a duplicate of the better Ann); expand grows "Acme" to "Acmecorp", which then beats the
    # org span on score, and "red Ann" to "hired Ann", which loses to "Ann"
    nlp, comp = component(Fixed(ents), labels=["org", "brand", "person"], alignment_mode=mode)
    doc = comp(nlp.make_doc(ACME))
    # flat: overlaps after alignment are resolved best score first
    assert [(e.text, e.label_) for e in doc.ents] == expected
    dropped = {"strict": 3, "contract": 1, "expand": 0}[mode]
    assert doc.user_data["uniner_unaligned"] == dropped


def test_nested_keeps_every_aligned_span_with_scores():
    ents = [Entity(0, 8, "Acmecorp", "org", 0.9), Entity(0, 18, "Acmecorp hired Ann", "x", 0.4)]
    nlp, comp = component(Fixed(ents), labels=["org", "x"], mode="nested", spans_key="ner2")
    doc = comp(nlp.make_doc(ACME))
    assert [(s.text, s.label_, s._.uniner_score) for s in doc.spans["ner2"]] == [
        ("Acmecorp hired Ann", "x", 0.4),
        ("Acmecorp", "org", 0.9),
    ]
    assert doc.spans["ner2"].attrs["scores"] == [0.4, 0.9]


def test_label_map_threshold_and_batching():
    ext = Fixed([Entity(15, 18, "Ann", "person", 0.7)])
    nlp, comp = component(
        ext, labels=["person"], label_map={"person": "PERSON"}, threshold=0.65, batch_size=4
    )
    docs = list(comp.pipe(nlp.make_doc(ACME) for _ in range(10)))
    assert [e.label_ for d in docs for e in d.ents] == ["PERSON"] * 10
    assert ext.calls == [4, 4, 2]
    assert ext.kwargs[0] == {"threshold": 0.65, "flat": True, "multi_label": False}


def test_existing_entities_kept_when_not_overwriting():
    ext = Fixed([Entity(0, 14, "Acmecorp hired", "org", 0.9), Entity(15, 18, "Ann", "p", 0.5)])
    nlp, comp = component(ext, labels=["org", "p"], overwrite_ents=False)
    doc = nlp.make_doc(ACME)
    doc.ents = [doc.char_span(0, 8, label="ORG")]
    comp(doc)
    assert [(e.text, e.label_) for e in doc.ents] == [("Acmecorp", "ORG"), ("Ann", "p")]


@pytest.mark.parametrize(
    ("config", "field"),
    [
        ({"labels": []}, "labels"),
        ({"labels": ["a", " "]}, "labels"),
        ({"labels": ["a"], "alignment_mode": "fuzzy"}, "alignment_mode"),
        ({"labels": ["a"], "mode": "tree"}, "mode"),
        ({"labels": ["a"], "threshold": 2.0}, "threshold"),
    ],
)
def test_bad_config_names_the_field(config, field):
    with pytest.raises(ValueError, match=rf"\[components\.uniner\] {field}"):
        component(Fixed([]), **config)


# -- any extractor of the contract: a baseline and the generative student ----------------------


def test_gazetteer_baseline_in_a_pipeline():
    from collections import Counter

    from uniner.baselines.gazetteer import Gazetteer

    gaz = Gazetteer({("Ann",): Counter({"person": 2}), ("Acmecorp",): Counter({"org": 1})})
    for mode in ("flat", "nested"):
        nlp, comp = component(gaz, labels=["person", "org"], mode=mode, threshold=0.4)
        docs = list(comp.pipe(nlp.make_doc(t) for t in (ACME, "Nobody here.")))
        spans = list(docs[0].ents) if mode == "flat" else list(docs[0].spans["uniner"])
        assert [(s.text, s.label_) for s in spans] == [("Acmecorp", "org"), ("Ann", "person")]
        assert spans[0]._.uniner_score is None  # a lookup has no scores
        assert list(docs[1].ents) == []


def test_generative_student_in_a_pipeline(tmp_path, one_torch_thread):
    from tests.doubles.generative import make_tiny_causal_lm
    from uniner.students.generative.extractor import GenerativeExtractor

    ext = GenerativeExtractor(str(make_tiny_causal_lm(tmp_path / "lm", seed=3)), max_new_tokens=6)
    nlp, comp = component(ext, labels=["person", "city"], mode="nested", multi_label=True)
    docs = list(comp.pipe([nlp.make_doc(TEXT), nlp.make_doc(ACME)]))
    assert ext.counts["questions"] == 4  # both docs asked both types, whatever the model says
    for doc in docs:
        for span in doc.spans["uniner"]:
            assert span.text == doc.text[span.start_char : span.end_char]
