"""Span model on a tiny random BERT: features, forward pass, save/load round trip, bad inputs."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

os.environ.setdefault("HF_HUB_OFFLINE", "1")
import torch

from tests.doubles.span import make_tiny_backbone
from uniner.inference.protocol import Extractor
from uniner.students.span.backbones import load_encoder, load_tokenizer
from uniner.students.span.config import SpanModelConfig
from uniner.students.span.extractor import SpanExtractor
from uniner.students.span.features import Featurizer
from uniner.students.span.io import load_model, read_config, save_model
from uniner.students.span.model import SpanModel
from uniner.students.span.words import SHAPES, lowercased_shape, word_shape, word_spans

TEXTS = [
    "Alice Smith lives in Paris .",
    "In New York , Bob met Carol Jones from London yesterday .",
    "the weather was fine",
]
LABELS = ["person", "city", "date"]


pytestmark = pytest.mark.usefixtures("one_torch_thread")


def make_extractor(backbone: Path, seed: int = 0, **cfg: object) -> SpanExtractor:
    torch.manual_seed(seed)
    config = SpanModelConfig(backbone=str(backbone), hidden_dim=16, max_width=5, **cfg)  # type: ignore[arg-type]
    model = SpanModel(config, load_encoder(str(backbone)))
    model.eval()
    return SpanExtractor(model, load_tokenizer(str(backbone)), name="tiny")


def all_scores(ext: SpanExtractor, texts: list[str], labels: list[str]) -> torch.Tensor:
    from uniner.students.span.extractor import WorkItem
    from uniner.students.span.windowing import Window

    encs = [ext.featurizer.encode_text(t) for t in texts]
    items = [
        WorkItem(i, Window(0, 0, len(e), e.offsets[0][0], e.offsets[-1][1]), tuple(labels), 0)
        for i, e in enumerate(encs)
    ]
    return ext.score_items(items, encs)


def test_lowercased_shape_is_the_shape_of_the_lowercased_word() -> None:
    words = "apple Apple I NASA iPhone COVID-19 , 東京 O'Neil Zoë ÉCOLE x86 McDonald's e.g. ß ΣΟΦΙΑ"
    for w in words.split():
        assert lowercased_shape(word_shape(w)) == word_shape(w.lower()), w
    assert SHAPES[lowercased_shape(word_shape("NASA"))] == "lower"
    assert SHAPES[lowercased_shape(word_shape("3.5"))] == "digit"


def test_word_shapes() -> None:
    cases = {
        "apple": "lower",
        "Apple": "capitalised",
        "I": "capitalised",
        "NASA": "allcaps",
        "iPhone": "mixed",
        "COVID-19": "digit",
        ",": "punct",
        "東京": "other",
    }
    for word, shape in cases.items():
        assert SHAPES[word_shape(word)] == shape, word
    text = "state-of-the-art O'Neil, Zoë's 3.5%"
    assert [text[s:e] for s, e in word_spans(text)] == [
        "state-of-the-art",
        "O'Neil",
        ",",
        "Zoë's",
        "3",
        ".",
        "5",
        "%",
    ]


def test_featurizer_layout_and_odd_characters(backbone: Path) -> None:
    fz = Featurizer(load_tokenizer(str(backbone)))
    enc = fz.encode_text("Hi \x00 there\ud800 \u200b ok")
    assert len(enc.tokens) == len(enc.offsets) == len(enc.shapes)
    assert all(len(t) >= 1 for t in enc.tokens)  # dropped characters became [UNK]
    f = fz.build(["person", "city"], enc.tokens, enc.shapes)
    assert f.input_ids[0] == fz.cls_id and f.input_ids[-1] == fz.sep_id
    for (s, e), lab in zip(f.label_bounds, ["person", "city"], strict=True):
        assert tuple(f.input_ids[s:e]) == fz.encode_label(lab)
        assert f.input_ids[e] == fz.sep_id
    for pos, toks in zip(f.word_pos, enc.tokens, strict=True):
        assert f.input_ids[pos] == toks[0]
    assert len(f.shape_ids) == len(f.input_ids)
    assert f.shape_ids[0] == 0 and f.shape_ids[f.word_pos[0]] == word_shape("Hi")


def test_forward_shapes_and_small_initial_scores(backbone: Path) -> None:
    ext = make_extractor(backbone)
    probs = all_scores(ext, TEXTS, LABELS)
    assert probs.shape == (3, 12, 5, 3)
    valid = probs >= 0
    # 3rd text has 4 words: spans starting at word 3 of width >= 2 are invalid
    assert not valid[2, 3, 1:].any() and valid[2, 3, 0].all() and not valid[2, 4:].any()
    assert probs[valid].mean() < 0.1  # bias starts at -4
    assert isinstance(ext, Extractor)
    assert make_extractor(backbone, shape_embedding=False).model.shape_emb is None


def test_shape_embedding_changes_scores_only_when_trained(backbone: Path) -> None:
    ext = make_extractor(backbone)
    texts = ["Paris is big", "paris is big"]
    before = all_scores(ext, texts, LABELS)
    assert torch.equal(before[0], before[1])  # uncased tokenizer, zero shape embedding
    with torch.no_grad():
        ext.model.shape_emb.weight.normal_()
    after = all_scores(ext, texts, LABELS)
    assert not torch.equal(after[0], after[1])


def test_save_load_full_is_identical(backbone: Path, tmp_path: Path) -> None:
    ext = make_extractor(backbone, seed=1)
    with torch.no_grad():
        for p in ext.model.parameters():
            p.add_(torch.randn_like(p) * 0.01)  # as if trained: encoder and head differ from base
    ext.save(tmp_path / "full", storage="full")
    loaded = SpanExtractor.load(tmp_path / "full")
    assert loaded.name == "tiny"
    assert torch.equal(all_scores(ext, TEXTS, LABELS), all_scores(loaded, TEXTS, LABELS))
    a = ext.extract_batch(TEXTS, LABELS, threshold=0.0)
    b = loaded.extract_batch(TEXTS, LABELS, threshold=0.0)
    assert a == b and [e.score for e in a[1]] == [e.score for e in b[1]]


def test_save_load_delta_int8_is_small_and_close(backbone: Path, tmp_path: Path) -> None:
    ext = make_extractor(backbone, seed=2)
    with torch.no_grad():
        for p in ext.model.parameters():
            if p.requires_grad:
                p.add_(torch.randn_like(p) * 0.01)
    save_model(ext.model, tmp_path / "full", storage="full")
    save_model(ext.model, tmp_path / "delta", storage="delta-int8", meta={"version": "0.0.1"})
    cfg = read_config(tmp_path / "delta")
    assert cfg["version"] == "0.0.1" and cfg["storage"] == "delta-int8"
    assert "embeddings.word_embeddings.weight" not in cfg["delta_tensors"]  # frozen, not stored
    size = lambda d: (tmp_path / d / "model.safetensors").stat().st_size  # noqa: E731
    assert size("delta") < size("full") / 2
    model, tok, _ = load_model(tmp_path / "delta")
    loaded = SpanExtractor(model, tok)
    diff = (all_scores(ext, TEXTS, LABELS) - all_scores(loaded, TEXTS, LABELS)).abs().max()
    assert diff < 1e-3
    # a different base than the one the delta was computed against is refused
    other = make_tiny_backbone(tmp_path / "other", seed=5)
    with pytest.raises(ValueError, match="fingerprint"):
        load_model(tmp_path / "delta", backbone=str(other))


def test_train_top_layers_freezes_the_rest_and_saves_only_the_top(
    backbone: Path, tmp_path: Path
) -> None:
    from uniner.students.span.model import encoder_layers

    ext = make_extractor(backbone, seed=3, train_top_layers=1)
    layers = encoder_layers(ext.model.encoder)
    assert len(layers) >= 2
    top = {
        f"encoder.{n}"
        for n, _ in ext.model.encoder.named_parameters()
        if n.startswith(f"encoder.layer.{len(layers) - 1}.")
    }
    trainable = {n for n, p in ext.model.encoder_parameters() if p.requires_grad}
    assert trainable == top and top
    assert all(p.requires_grad for _, p in ext.model.head_parameters())
    with torch.no_grad():
        for p in ext.model.parameters():
            if p.requires_grad:
                p.add_(torch.randn_like(p) * 0.01)
    save_model(ext.model, tmp_path / "delta", storage="delta-int8")
    stored = read_config(tmp_path / "delta")["delta_tensors"]
    assert stored and all(n.startswith(f"encoder.layer.{len(layers) - 1}.") for n in stored)
    model, tok, _ = load_model(tmp_path / "delta")
    assert model.config.train_top_layers == 1
    diff = all_scores(ext, TEXTS, LABELS) - all_scores(SpanExtractor(model, tok), TEXTS, LABELS)
    assert diff.abs().max() < 1e-3
    with pytest.raises(ValueError, match=r"the encoder has \d+ layers"):
        make_extractor(backbone, train_top_layers=len(layers) + 1)
    with pytest.raises(ValueError, match="train_top_layers"):
        SpanModelConfig(train_top_layers=0)


def test_not_a_model_folder(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError):
        SpanExtractor.load(tmp_path)
    (tmp_path / "config.json").write_text('{"format": "something-else"}')
    with pytest.raises(ValueError, match="not a uniner-span model"):
        SpanExtractor.load(tmp_path)


def test_bad_inputs(backbone: Path) -> None:
    ext = make_extractor(backbone)
    assert ext.extract("", LABELS) == []
    assert ext.extract(" \n\t ", LABELS) == []
    with pytest.raises(ValueError, match="non-empty list of entity types"):
        ext.extract("Alice lives in Paris", [])
    with pytest.raises(ValueError, match="empty"):
        ext.extract("Alice lives in Paris", ["person", "  "])
    with pytest.raises(TypeError):
        ext.extract_batch(["ok", None], LABELS)  # type: ignore[list-item]
    with pytest.raises(TypeError):
        ext.extract_batch("not a list", LABELS)
    with pytest.raises(ValueError, match="threshold"):
        ext.extract("Alice", LABELS, threshold=1.5)
    assert ext.extract("Alice", "person", threshold=0.0)[0].label == "person"
    # control characters and lone surrogates: a correct result, offsets into the original text
    odd = "Alice\x00 met\x07 Bob \ud800 in\u200b Paris\x1f."
    for ent in ext.extract(odd, LABELS, threshold=0.0):
        assert odd[ent.start : ent.end] == ent.text


def test_many_labels_are_split_into_passes(backbone: Path) -> None:
    ext = make_extractor(backbone)
    labels = [f"type number {i}" for i in range(500)]
    res = ext.extract_detailed(
        ["Alice lives in Paris ."], labels, threshold=0.0, mode="all", multi_label=True
    )[0]
    assert res.label_passes > 1
    assert {e.label for e in res.entities} == set(labels)  # every label scored, none lost
    assert len(ext.label_groups(labels)) == res.label_passes
    for group in ext.label_groups(labels):
        assert ext.featurizer.prefix_length(group) <= ext.config.max_prefix_tokens


def test_one_megabyte_text_is_windowed(backbone: Path) -> None:
    ext = make_extractor(backbone)
    ext.batch_size = 64
    sentence = "Alice Smith flew from Paris to New York on Monday . "
    text = sentence * (1_000_000 // len(sentence) + 1)
    assert len(text) >= 1_000_000
    res = ext.extract_detailed([text], LABELS, threshold=0.3)[0]
    assert res.windowed and res.num_words == len(word_spans(text))
    assert res.windows[-1].word_end == res.num_words
    for ent in res.entities:
        assert text[ent.start : ent.end] == ent.text


def test_release_records_the_decoding_that_load_uses(backbone: Path, tmp_path: Path) -> None:
    from uniner.students.span.release import release

    ext = make_extractor(backbone, seed=4)
    ext.save(tmp_path / "trained", storage="full")
    release(tmp_path / "trained", tmp_path / "rel", "toy", "0.0.1", threshold=0.0, multi_label=True)
    loaded = SpanExtractor.load(tmp_path / "rel")
    assert (loaded.name, loaded.threshold, loaded.multi_label) == ("toy", 0.0, True)
    text, labels = "Alice lives in Paris .", ["person", "city"]
    both = loaded.extract(text, labels)  # threshold 0: every span scores above it
    spans = [(e.start, e.end) for e in both]
    assert len(spans) > len(set(spans))  # some span carries both labels
    single = loaded.extract(text, labels, multi_label=False)  # a call overrides the default
    assert len({(e.start, e.end) for e in single}) == len(single)
    with pytest.raises(ValueError, match="threshold"):
        release(tmp_path / "trained", tmp_path / "bad", "toy", "0.0.1", threshold=1.5)
