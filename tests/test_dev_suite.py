"""The development suite: scores by shape and variant as documented, never a zero-shot set, a
held-out Pile-NER part that training never reads, and the CLI end to end on a tiny model."""

from __future__ import annotations

import csv
import json
import os
import random
from dataclasses import replace
from pathlib import Path

import pytest
import torch
from typer.testing import CliRunner

os.environ.setdefault("HF_HUB_OFFLINE", "1")

from tests.doubles.span import toy_examples
from uniner.benchmark.devsuite import (
    DEV_SUITE,
    PILE_NER_HELDOUT,
    DevSet,
    DevSuiteDataError,
    DevSuiteSpec,
    asked_types,
    build_cells,
    evaluate_cells,
    listing_order,
    pick_types,
    prepare,
    run_dev_suite,
)
from uniner.benchmark.registry import get, suite
from uniner.cli import _register, app
from uniner.data.sources import PILE_NER_HELDOUT_PERCENT, pile_ner_examples

LABELS = ("person", "city", "date")


def toy_set(n: int = 24) -> DevSet:
    exs = tuple(toy_examples(n, seed=1))
    weights = {"person": n, "city": n}
    return DevSet("toy", LABELS, exs, weights)


class Oracle:
    """Answers every call with the gold mentions of the asked types, whatever the text's case;
    ``needs_capitals`` makes it answer nothing for a text without a capital letter."""

    def __init__(self, cells, needs_capitals: bool = False):
        self.name = "oracle"
        self.gold = {ex.text: ex.entities for c in cells for ex in c.examples}
        self.needs_capitals = needs_capitals
        self.calls: list[tuple[str, ...]] = []

    def extract_batch(self, texts, labels):
        self.calls.append(tuple(labels))
        out = []
        for t in texts:
            blind = self.needs_capitals and t == t.lower()
            out.append([] if blind else [e for e in self.gold[t] if e.label in labels])
        return out


def test_a_perfect_extractor_scores_100_in_every_cell():
    cells = build_cells(toy_set())
    r = evaluate_cells(Oracle(cells), [cells], progress=False)
    assert len(r.cells) == 9 and r.sets == ("toy",) and set(r.set_seconds) == {"toy"}
    assert all(c.result.official.f1 == pytest.approx(1.0) for c in r.cells)
    assert r.summary == pytest.approx(1.0) and r.mean("strict") == pytest.approx(1.0)
    assert "| toy | 24 | 100.0 |" in r.markdown


def test_failing_on_lower_case_shows_in_the_lower_and_informal_columns():
    cells = build_cells(toy_set())
    r = evaluate_cells(Oracle(cells, needs_capitals=True), [cells], progress=False)
    by_variant = r.by("variant")
    assert by_variant["cased"] == pytest.approx(1.0)
    assert by_variant["lower"] == pytest.approx(0.0)
    assert 0.0 < by_variant["informal"] < 1.0  # informal text keeps its capitals sometimes
    cell_means = [c.result.official.f1 for c in r.cells]
    assert r.summary == pytest.approx(sum(cell_means) / 9)
    assert r.by("shape")["1"] == pytest.approx(
        sum(r.f1("toy", "1", v) for v in r.spec.variants) / 3
    )


class FewTypeOracle(Oracle):
    """Answers the gold of the asked types only in calls of one type, nothing otherwise."""

    def extract_batch(self, texts, labels):
        got = super().extract_batch(texts, labels)
        return got if len(labels) == 1 else [[] for _ in texts]


def test_paired_scores_read_a_few_type_cells_types_in_the_all_type_call(tmp_path):
    cells = build_cells(toy_set())
    perfect = evaluate_cells(Oracle(cells), [cells], progress=False)
    assert {(c.shape, c.variant) for c in perfect.paired} == {
        (sh, v) for sh in ("1", "3") for v in perfect.spec.variants
    }
    assert all(c.result.official.f1 == pytest.approx(1.0) for c in perfect.paired)
    assert perfect.shape_cost("1") == pytest.approx(0.0)

    r = evaluate_cells(FewTypeOracle(cells), [cells], progress=False)
    # 1-type calls are answered right, the all-type call (which holds the same types) is not
    assert r.mean(shape="1") == pytest.approx(1.0)
    assert r.mean(pool="paired", shape="1") == pytest.approx(0.0)
    assert r.shape_cost("1") == pytest.approx(1.0)
    assert r.shape_cost("3") == pytest.approx(0.0)  # the toy set's 3 types are all of them
    with pytest.raises(ValueError, match="pool"):
        r.mean(pool="summary")
    assert "Call shape on the same types" in r.markdown
    assert "| **mean** | 100.0 · 0.0 · +100.0 |" in r.markdown
    from uniner.benchmark.devsuite_report import write_outputs

    write_outputs(r, tmp_path)
    payload = json.loads((tmp_path / "results.json").read_text())
    assert len(payload["paired_cells"]) == 6
    assert payload["summary"]["official"]["shape_cost"] == {"1": 1.0, "3": 0.0}


def test_paired_scores_keep_only_the_pairs_the_all_type_call_asked():
    """Held-out Pile-NER's all-type call asks present types plus three absent ones, so a
    1-type call's absent type may be missing from it: such pairs leave both paired sides."""
    labels = (*LABELS, "x1", "x2", "x3", "x4", "x5", "x6")
    ds = DevSet(PILE_NER_HELDOUT, labels, tuple(toy_examples(40, seed=2)), {})
    cells = build_cells(ds)
    r = evaluate_cells(Oracle(cells), [cells], progress=False)
    own = {(c.shape, c.variant): c.result.n_queries for c in r.cells}
    covered = {(c.shape, c.variant): c.result.n_queries for c in r.paired_own}
    assert covered[("1", "cased")] < own[("1", "cased")]
    assert {(c.shape, c.variant): c.result.n_queries for c in r.paired} == covered
    assert r.shape_cost("1") == pytest.approx(0.0)  # a perfect reader costs nothing either way


def test_shapes_ask_one_three_or_all_types_mixing_present_and_absent():
    ds = toy_set(60)
    cells = {(c.shape, c.variant): c for c in build_cells(ds)}
    one = cells[("1", "cased")]
    assert all(len(a) == 1 for a in one.asked)
    present = [
        a[0] in {e.label for e in ex.entities}
        for ex, a in zip(one.examples, one.asked, strict=True)
    ]
    assert 0.2 < sum(present) / len(present) < 0.8  # both kinds are asked
    assert all(sorted(a) == sorted(LABELS) for a in cells[("all", "cased")].asked)
    assert all(len(a) == 3 for a in cells[("3", "cased")].asked)  # the set has just 3 types
    for v in ("lower", "informal"):  # the variants are asked the same types
        assert cells[("1", v)].asked == one.asked
    assert build_cells(ds) == build_cells(ds)  # seeded


def test_a_passage_is_asked_the_same_whatever_else_is_sampled():
    big = toy_set(40)
    small = DevSet("toy", LABELS, big.examples[10:25], big.weights)

    def calls(ds):
        return {
            (c.shape, c.variant, ex.id): (ex.text, a)
            for c in build_cells(ds)
            for ex, a in zip(c.examples, c.asked, strict=True)
        }

    got, want = calls(small), calls(big)
    assert got and all(want[k] == v for k, v in got.items())


def test_each_passage_lists_its_types_in_an_order_of_its_own_the_same_in_every_shape():
    labels = tuple(f"type {i}" for i in range(12))
    ds = DevSet("toy", labels, tuple(toy_examples(30, seed=3)), {})
    cells = build_cells(ds)
    whole = next(c for c in cells if c.shape == "all" and c.variant == "cased")
    assert all(sorted(a) == sorted(labels) for a in whole.asked)
    assert len(set(whole.asked)) > 20  # orders differ between passages
    for c in cells:  # a shape lists the types it shares with the all-type call in its order
        for few, every in zip(c.asked, whole.asked, strict=True):
            assert list(few) == [t for t in every if t in few]
    first = listing_order(ds, ds.examples[0])
    assert first == listing_order(ds, ds.examples[0]) and sorted(first.values()) == list(range(12))
    v1 = DevSuiteSpec(type_order="set", min_mentions=0)
    assert v1.version == 1 and DEV_SUITE.version == 2
    assert all(a == labels for a in next(c for c in build_cells(ds, v1) if c.shape == "all").asked)
    with pytest.raises(ValueError, match="type_order"):
        DevSuiteSpec(type_order="alphabetical")


def test_a_set_is_topped_up_to_its_mentions_keeping_the_first_passages():
    from uniner.benchmark.devsuite_data import _sample

    exs = toy_examples(200, seed=4)  # two mentions per passage
    first = _sample(exs, 10, random.Random(0))
    topped = _sample(exs, 10, random.Random(0), min_mentions=50, most=40)
    assert len(first) == 10 and set(first) <= set(topped)
    most_per_passage = max(len(ex.entities) for ex in exs)
    assert 50 <= sum(len(ex.entities) for ex in topped) < 50 + most_per_passage
    assert [int(ex.id) for ex in topped] == sorted(int(ex.id) for ex in topped)  # split order
    capped = _sample(exs, 10, random.Random(0), min_mentions=10_000, most=25)
    assert len(capped) == 25 and set(first) <= set(capped)
    assert _sample(exs, 10, random.Random(0), 50, 40) == topped  # seeded


def test_pick_types_and_pile_all_types():
    rng = random.Random(0)
    got = pick_types(["a"], ["b", "c", "d"], 3, {}, rng, present_share=1.0)
    assert "a" in got and len(got) == 3
    assert pick_types([], ["b"], 3, {}, rng) == {"b"}  # never more types than exist
    pile = DevSet(PILE_NER_HELDOUT, ("person", "city", "date", "x", "y"), (), {"person": 9})
    ex = toy_examples(1)[0]
    asked = asked_types(pile, ex, "all", random.Random(1), DEV_SUITE)
    assert {"person", "city"} <= set(asked) and len(asked) == 2 + DEV_SUITE.pile_negatives


def test_the_suite_never_uses_a_zero_shot_set():
    zero_shot = {s.name for s in suite("zero-shot")}
    for name in DEV_SUITE.sets:
        if name == PILE_NER_HELDOUT:
            continue
        try:
            spec = get(name)
        except KeyError:
            pytest.skip(f"{name} is not in the registry yet")
        assert not spec.zero_shot and spec.name not in zero_shot
    with pytest.raises(DevSuiteDataError, match="zero-shot"):
        run_dev_suite(Oracle([]), sets=["CrossNER_AI"], progress=False)


def test_pile_ner_heldout_is_disjoint_from_training(shared_data):
    train = [ex.text for ex in pile_ner_examples(shared_data)]
    held = [ex.text for ex in pile_ner_examples(shared_data, part="heldout")]
    every = [ex.text for ex in pile_ner_examples(shared_data, part="all")]
    assert not set(train) & set(held)
    assert sorted(train + held) == sorted(every)
    assert (
        0.5 * PILE_NER_HELDOUT_PERCENT < 100 * len(held) / len(every) < 2 * PILE_NER_HELDOUT_PERCENT
    )
    with pytest.raises(ValueError, match="part"):
        next(pile_ner_examples(shared_data, part="test"))  # type: ignore[arg-type]


@pytest.fixture(scope="module")
def tiny_model_dir(backbone, tmp_path_factory) -> Path:
    from uniner.students.span.backbones import load_encoder, load_tokenizer
    from uniner.students.span.config import SpanModelConfig
    from uniner.students.span.extractor import SpanExtractor
    from uniner.students.span.model import SpanModel

    torch.manual_seed(0)
    cfg = SpanModelConfig(backbone=str(backbone), hidden_dim=16, max_width=4, bias_init=3.0)
    model = SpanModel(cfg, load_encoder(str(backbone))).eval()
    ext = SpanExtractor(model, load_tokenizer(str(backbone)), name="tiny")
    return ext.save(tmp_path_factory.mktemp("m") / "tiny", storage="full")


def test_cli_runs_the_suite_on_a_tiny_model(
    shared_data, tiny_model_dir, tmp_path, one_torch_thread
):
    _register()
    out = tmp_path / "dev"
    args = ["bench", "--suite", "dev", "-e", str(tiny_model_dir), "--max-passages", "4"]
    result = CliRunner().invoke(app, [*args, "--out", str(out)])
    assert result.exit_code == 0, result.output
    payload = json.loads((out / "results.json").read_text())
    sets = payload["meta"]["suite"]["sets"]
    assert sets[0] == PILE_NER_HELDOUT and len(sets) >= 6
    assert all(not get(s).zero_shot for s in sets[1:])
    rows = list(csv.DictReader((out / "results.csv").open()))
    assert len(rows) == 9 * len(sets)
    each = {r["dataset"].split("/")[0]: int(r["passages"]) for r in rows}
    passages = dict(each)
    spec = payload["meta"]["suite"]
    assert spec["version"] == 2 and spec["min_mentions"] == DEV_SUITE.min_mentions
    # 4 passages each (Pile-NER 2), topped up towards the mentions wanted: at most 4x as many
    assert 2 <= passages.pop(PILE_NER_HELDOUT) <= 2 * DEV_SUITE.top_up
    assert all(4 < n <= 4 * DEV_SUITE.top_up for n in passages.values())
    summary = payload["summary"]["official"]["summary"]
    assert summary == pytest.approx(sum(float(r["official_f1"]) for r in rows) / len(rows))
    table = (out / "table.md").read_text()
    assert all(f"| {s} | {each[s]} |" in table for s in sets)
    assert "Summary" in result.output
    assert (out / "dev_suite.png").read_bytes()[:4] == b"\x89PNG"


def test_cli_refuses_a_zero_shot_set_in_one_line(tiny_model_dir):
    _register()
    args = ["bench", "--suite", "dev", "-e", str(tiny_model_dir), "-d", "mit-movie"]
    result = CliRunner().invoke(app, args)
    assert result.exit_code == 2 and "zero-shot benchmark set" in result.output
    assert "Traceback" not in result.output


def test_options_replace_the_spec_and_gold_scores_100_on_real_data(shared_data):
    spec = replace(DEV_SUITE, sets=("ncbi", "conllpp"), max_passages=3, seed=5)
    per_set, skipped = prepare(spec, None, strict=True)
    oracle = Oracle([c for cells in per_set for c in cells])
    r = run_dev_suite(oracle, sets=["ncbi", "conllpp"], max_passages=3, seed=5, progress=False)
    assert r.spec == spec and r.sets == ("ncbi", "conllpp") and not skipped
    scored = [c.result.official for c in r.cells if c.result.official.gold]
    assert len(scored) >= 12 and all(c.f1 == pytest.approx(1.0) for c in scored)
    assert {len(labels) for labels in oracle.calls} == {1, 3}  # ncbi has one type only
