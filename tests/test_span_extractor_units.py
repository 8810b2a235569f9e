"""The span extractor's units after its split (issue 26): the settings it is made from, and the
scoring stream on its own (no model); the outputs are covered by the other span tests."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

os.environ.setdefault("HF_HUB_OFFLINE", "1")
import torch

from tests.doubles.span import tiny_span_parts
from uniner.students.span import extractor as extractor_module
from uniner.students.span.decoding import Span
from uniner.students.span.entities import collect_floor
from uniner.students.span.extractor import SpanExtractor
from uniner.students.span.planning import Plan, WorkItem
from uniner.students.span.scoring import (
    ONNX_BATCH_TOKENS,
    ONNX_TOKENS_PER_LABEL,
    length_batches,
    score_all,
)
from uniner.students.span.settings import DEFAULT_NAME, RuntimeSettings
from uniner.students.span.windowing import Window

pytestmark = pytest.mark.usefixtures("one_torch_thread")


@pytest.fixture(scope="module")
def parts(tmp_path_factory: pytest.TempPathFactory):
    return tiny_span_parts(tmp_path_factory.mktemp("bb-units"))


class CountingSpan(SpanExtractor):
    """The real extractor, recording the size of each encoder batch."""

    def score_items(self, items, encs):  # type: ignore[no-untyped-def]
        self.sizes.append(len(items))
        return super().score_items(items, encs)


def test_keyword_settings_go_to_the_runtime_or_the_decoding_value(parts) -> None:
    ext = SpanExtractor(*parts, name="x", batch_size=3, bf16=False, threshold=0.6, min_labels=2)
    assert ext.runtime == RuntimeSettings(name="x", batch_size=3)
    assert (ext.name, ext.batch_size, ext.threshold, ext.min_labels) == ("x", 3, 0.6, 2)
    assert SpanExtractor(*parts).name == DEFAULT_NAME
    grouped = SpanExtractor(*parts, runtime=RuntimeSettings(name="r", batch_size=4), batch_size=8)
    assert (grouped.name, grouped.batch_size) == ("r", 8)  # a keyword replaces one field
    with pytest.raises(TypeError, match="bacth_size"):
        SpanExtractor(*parts, bacth_size=4)


def test_setting_an_attribute_replaces_the_value_and_a_call_batch_size_is_its_own(parts) -> None:
    ext = CountingSpan(*parts, batch_size=16)
    ext.sizes = []
    before = ext.runtime
    ext.batch_size = 7
    assert ext.runtime == before.replace(batch_size=7) and before.batch_size == 16
    texts = [f"alice smith lives in paris number {i} ." for i in range(5)]
    ext.inference(texts, ["person"], threshold=1.0, batch_size=2)
    assert ext.sizes == [2, 2, 1] and ext.batch_size == 7  # the call's copy, not the model
    ext.sizes = []
    ext.extract_batch(texts, ["person"], threshold=1.0)
    assert ext.sizes == [5]


def test_a_loaded_model_takes_its_folder_name_unless_the_caller_gives_one(
    parts, tmp_path: Path
) -> None:
    SpanExtractor(*parts, name="tiny", threshold=0.7).save(tmp_path / "m", storage="full")
    loaded = SpanExtractor.load(tmp_path / "m", runtime=RuntimeSettings(batch_size=2))
    assert (loaded.name, loaded.batch_size, loaded.threshold) == ("tiny", 2, 0.7)
    assert SpanExtractor.load(tmp_path / "m", runtime=RuntimeSettings(name="mine")).name == "mine"
    assert SpanExtractor.load(tmp_path / "m", name="kw", threshold=0.4).threshold == 0.4


def test_the_names_callers_import_from_the_extractor_module_still_resolve() -> None:
    import uniner.students.span as span
    from uniner.students.span import entities, planning, scoring, settings

    assert extractor_module.WorkItem is planning.WorkItem
    assert extractor_module.Extraction is entities.Extraction is span.Extraction
    assert extractor_module.Progress is scoring.Progress
    assert extractor_module.check_labels is settings.check_labels
    assert extractor_module.check_threshold is settings.check_threshold
    assert span.SpanExtractor is SpanExtractor


def _item(text: int, start: int, n_words: int, n_tokens: int) -> WorkItem:
    return WorkItem(text, Window(0, start, start + n_words, 0, 1), ("a", "b"), n_tokens)


def test_score_all_batches_by_length_and_maps_hits_to_text_words() -> None:
    work = [_item(0, 0, 3, 30), _item(1, 0, 2, 10), _item(0, 3, 3, 20)]
    seen: list[list[int]] = []
    done: list[tuple[int, int]] = []

    def score(items, encs):  # type: ignore[no-untyped-def]
        seen.append([it.n_tokens for it in items])
        probs = torch.full((len(items), 3, 2, 3), -1.0)
        probs[:, 0, 1, 1] = 0.75  # words 0-1 of each window, label "b"
        probs[:, 2, 0, 2] = 0.875  # past the item's two labels: skipped
        probs[:, 2, 1, 0] = 0.875  # past the window's words: skipped
        return probs

    cands = score_all(
        work,
        [None, None],
        score,
        batch_size=2,
        floor=0.5,
        deadline=None,
        progress=lambda d, t: done.append((d, t)),
    )
    assert seen == [[10, 20], [30]]  # shortest first, across texts
    assert done == [(2, 3), (3, 3)]
    assert sorted(cands[0]) == sorted([Span(3, 5, "b", 0.75), Span(0, 2, "b", 0.75)])
    assert cands[1] == [Span(0, 2, "b", 0.75)]


def test_the_collect_floor_goes_down_to_specific_min_score_only_when_a_generic_type_is_asked(
    parts,
) -> None:
    cfg = SpanExtractor(*parts).decoding.replace(
        threshold=0.5, generic_labels=("person",), specific_min_score=0.1
    )
    plan = Plan(asked=[frozenset({"city", "date"})], thresholds=[0.5])
    assert collect_floor(plan, cfg) == 0.5
    plan = Plan(asked=[frozenset({"city", "date"}), frozenset({"Person", "city"})])
    plan.thresholds = [0.5, 0.6]
    assert collect_floor(plan, cfg) == 0.1
    assert collect_floor(Plan(), cfg) == 0.0


def test_length_batches_close_at_the_batch_size_or_the_padded_token_cap() -> None:
    ordered = [_item(0, 0, 1, n) for n in (10, 10, 20, 30, 40, 200)]

    def sizes(batches: list) -> list[list[int]]:
        return [[it.n_tokens for it in b] for b in batches]

    assert sizes(length_batches(ordered, 4)) == [[10, 10, 20, 30], [40, 200]]
    # 3 x 20 = 60 fits 64, 4 x 30 would not; 2 x 40 > 64; an input longer than the cap goes alone
    assert sizes(length_batches(ordered, 4, 64)) == [[10, 10, 20], [30], [40], [200]]
    assert sizes(length_batches(ordered, 2, 1000)) == [[10, 10], [20, 30], [40, 200]]
    assert length_batches([], 4, 64) == []
    flat = [it for b in length_batches(ordered, 3, 50) for it in b]
    assert flat == ordered  # every input once, in order


def test_the_token_cap_applies_to_onnx_by_default_and_to_torch_when_set(parts) -> None:
    ext = SpanExtractor(*parts, batch_size=8)
    assert ext.batch_token_cap(13) is None  # torch: batch_size alone, as before
    ext.onnx = object()  # scoring with a graph (never called here)
    assert ext.batch_token_cap(0) == ONNX_BATCH_TOKENS
    # more types asked, wider passes: span scoring grows with the types, the encoder does not
    assert ext.batch_token_cap(200) == ONNX_BATCH_TOKENS + 200 * ONNX_TOKENS_PER_LABEL
    ext.max_batch_tokens = 300
    assert ext.batch_token_cap(200) == 300 and ext.runtime.max_batch_tokens == 300
    ext.onnx = None
    assert ext.batch_token_cap(1) == 300
    with pytest.raises(ValueError, match="max_batch_tokens"):
        ext.max_batch_tokens = 0


def test_a_token_cap_changes_batches_not_answers(parts) -> None:
    ext = SpanExtractor(*parts, batch_size=8, threshold=0.0)
    texts = ["Ada Lovelace wrote notes .", "Paris .", "The Analytical Engine of Charles Babbage ."]
    ref = ext.extract_batch(texts, ["person", "machine"], multi_label=True)
    ext.max_batch_tokens = 1  # one input per forward pass
    got = ext.extract_batch(texts, ["person", "machine"], multi_label=True)

    def key(results: list) -> list[list[tuple]]:
        return [[(e.start, e.end, e.label, round(e.score, 4)) for e in r] for r in results]

    assert any(ref) and key(got) == key(ref)
