"""Windowing: window planning, argument checks, and exact offsets on a long synthetic document."""

from __future__ import annotations

import itertools
import os

import pytest

from uniner.students.span.decoding import Span
from uniner.students.span.windowing import Window, merge_windows, plan_windows
from uniner.students.span.words import word_spans

os.environ.setdefault("HF_HUB_OFFLINE", "1")


def test_window_checks() -> None:
    w = Window(0, 10, 20, 50, 90)
    assert w.num_words == 10
    assert w.to_document(Span(0, 2, "x", 0.5)) == Span(10, 12, "x", 0.5)
    with pytest.raises(ValueError):
        w.to_document(Span(9, 11, "x", 0.5))
    with pytest.raises(ValueError):
        Window(0, 5, 5, 0, 1)
    with pytest.raises(ValueError):
        Window(0, 0, 1, 3, 3)
    with pytest.raises(ValueError):
        Window(-1, 0, 1, 0, 1)
    with pytest.raises(TypeError):
        Window(0, 0.0, 1, 0, 1)  # type: ignore[arg-type]
    with pytest.raises(AttributeError):
        w.word_start = 3  # type: ignore[misc]


def test_plan_windows_limits_and_overlap() -> None:
    offsets = [(2 * i, 2 * i + 1) for i in range(100)]
    counts = [1 + (i % 3) for i in range(100)]
    wins = plan_windows(offsets, counts, max_words=30, max_tokens=40, overlap=5)
    assert wins[0].word_start == 0 and wins[-1].word_end == 100
    for a, b in itertools.pairwise(wins):
        assert b.word_start < a.word_end  # overlapping, nothing skipped
        assert a.word_end - b.word_start <= 5
        assert b.word_start > a.word_start
    for w in wins:
        assert w.num_words <= 30
        assert sum(counts[w.word_start : w.word_end]) <= 40
        assert (w.char_start, w.char_end) == (offsets[w.word_start][0], offsets[w.word_end - 1][1])
    assert [w.index for w in wins] == list(range(len(wins)))
    one = plan_windows(offsets[:10], counts[:10], 30, 40, 5)
    assert len(one) == 1 and one[0].num_words == 10


def test_plan_windows_bad_arguments() -> None:
    offsets = [(0, 1), (2, 3)]
    with pytest.raises(ValueError, match="overlap"):
        plan_windows(offsets, [1, 1], max_words=4, max_tokens=10, overlap=4)
    with pytest.raises(ValueError, match="token counts"):
        plan_windows(offsets, [1], 4, 10, 0)
    with pytest.raises(ValueError, match="max_tokens"):
        plan_windows(offsets, [1, 20], 4, 10, 0)
    assert plan_windows([], [], 4, 10, 1) == []


def test_merge_windows_keeps_max() -> None:
    a, b = Window(0, 0, 10, 0, 30), Window(1, 6, 16, 18, 48)
    merged = merge_windows([(a, [Span(7, 9, "x", 0.6)]), (b, [Span(1, 3, "x", 0.8)])])
    assert merged == [Span(7, 9, "x", 0.8)]


def _synthetic_document(n_sentences: int) -> tuple[str, list[tuple[int, int, str]]]:
    """Text with non-ASCII words, odd spacing and known mention offsets."""
    parts: list[str] = []
    gold: list[tuple[int, int, str]] = []
    pos = 0
    names = ["Zoë Ångström", "Bob", "Jean-Luc O'Neil", "Marta"]
    places = ["São Paulo", "Kraków", "New York", "Oslo"]
    for i in range(n_sentences):
        name, place = names[i % 4], places[(i * 3) % 4]
        pieces = [("", None), (name, "person"), ("  went to\t", None), (place, "city")]
        pieces.append((" 🙂 again.\n" if i % 5 == 0 else " again. ", None))
        for s, lab in pieces:
            if lab:
                gold.append((pos, pos + len(s), lab))
            parts.append(s)
            pos += len(s)
    return "".join(parts), gold


def test_long_document_offsets_map_back_exactly(tmp_path_factory: pytest.TempPathFactory) -> None:

    import torch

    from tests.doubles.span import make_tiny_backbone
    from uniner.students.span.backbones import load_encoder, load_tokenizer
    from uniner.students.span.config import SpanModelConfig
    from uniner.students.span.extractor import SpanExtractor
    from uniner.students.span.model import SpanModel

    text, gold = _synthetic_document(400)
    offsets = word_spans(text)
    starts = {s: i for i, (s, _) in enumerate(offsets)}
    ends = {e: i + 1 for i, (_, e) in enumerate(offsets)}
    gold_words = {(starts[s], ends[e], lab) for s, e, lab in gold}
    assert len(offsets) > 2500

    class OracleExtractor(SpanExtractor):
        """Scores gold spans high, with a score that differs by window (to test the merge)."""

        def score_items(self, items, encs):  # type: ignore[no-untyped-def]
            k = self.config.max_width
            w_max = max(it.window.num_words for it in items)
            l_max = max(len(it.labels) for it in items)
            probs = torch.full((len(items), w_max, k, l_max), 0.01)
            for b, it in enumerate(items):
                w = it.window
                for s, e, lab in gold_words:
                    if w.word_start <= s and e <= w.word_end and lab in it.labels:
                        score = 0.6 + 0.001 * (w.index % 7)
                        probs[b, s - w.word_start, e - s - 1, it.labels.index(lab)] = score
            return probs

    backbone = make_tiny_backbone(tmp_path_factory.mktemp("bb-window"))
    cfg = SpanModelConfig(
        backbone=str(backbone), hidden_dim=16, max_width=6, window_words=120, window_overlap=20
    )
    model = SpanModel(cfg, load_encoder(str(backbone)))
    ext = OracleExtractor(model, load_tokenizer(str(backbone)), batch_size=64)

    res = ext.extract_detailed([text, "Bob went to Oslo again."], ["person", "city"])
    doc = res[0]
    assert doc.windowed and len(doc.windows) > 20
    assert doc.windows[0].word_start == 0 and doc.windows[-1].word_end == len(offsets)
    got = [(e.start, e.end, e.label) for e in doc.entities]
    assert got == sorted(gold)
    for ent in doc.entities:
        assert text[ent.start : ent.end] == ent.text
        # every mention lies in >= 1 window; in the overlap the higher window score wins
        holders = [w for w in doc.windows if w.char_start <= ent.start and ent.end <= w.char_end]
        assert ent.score == pytest.approx(max(0.6 + 0.001 * (w.index % 7) for w in holders))
    assert not res[1].windowed and len(res[1].windows) == 1
