"""A tiny random BERT backbone for tests and examples: trains in seconds, needs no download."""

from __future__ import annotations

import string
from pathlib import Path
from typing import Any

from uniner.students.span.extractor import SpanExtractor


def tiny_vocab(extra_words: tuple[str, ...] = ()) -> list[str]:
    """Special tokens, characters and word pieces: enough for WordPiece to spell any ASCII word."""
    special = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"]
    chars = list(string.ascii_lowercase + string.digits + string.punctuation)
    pieces = ["##" + c for c in string.ascii_lowercase + string.digits]
    words = [w for w in dict.fromkeys(extra_words) if w not in chars]
    return special + chars + pieces + words


def make_tiny_backbone(
    path: str | Path,
    *,
    hidden: int = 32,
    layers: int = 2,
    heads: int = 2,
    max_positions: int = 512,
    extra_words: tuple[str, ...] | None = None,
    seed: int = 0,
) -> Path:
    """Write a random-init ``BertModel`` and its uncased WordPiece tokenizer to ``path``."""
    import torch
    from transformers import BertConfig, BertModel, BertTokenizer

    from uniner.students.span.backbones import _quiet_transformers

    _quiet_transformers()
    out = Path(path)
    out.mkdir(parents=True, exist_ok=True)
    if extra_words is None:
        extra_words = TOY_WORDS
    vocab = tiny_vocab(extra_words)
    tok = BertTokenizer(vocab={w: i for i, w in enumerate(vocab)}, do_lower_case=True)
    tok.save_pretrained(str(out))
    cfg = BertConfig(
        vocab_size=len(vocab),
        hidden_size=hidden,
        num_hidden_layers=layers,
        num_attention_heads=heads,
        intermediate_size=hidden * 2,
        max_position_embeddings=max_positions,
    )
    torch.manual_seed(seed)
    BertModel(cfg, add_pooling_layer=False).save_pretrained(str(out))
    return out


TOY_PEOPLE = ("Alice Smith", "Bob", "Carol Jones", "Dave", "Eve Stone", "Frank")
TOY_CITIES = ("Paris", "London", "New York", "Rome", "Berlin", "Oslo")
TOY_WORDS = tuple(
    [
        "alice",
        "smith",
        "bob",
        "carol",
        "jones",
        "dave",
        "eve",
        "stone",
        "frank",
        "paris",
        "london",
        "new",
        "york",
        "rome",
        "berlin",
        "oslo",
        "lives",
        "in",
        "met",
        "a",
        "friend",
        "flew",
        "from",
        "to",
        "yesterday",
        "the",
        "weather",
        "was",
        "fine",
        "on",
        "monday",
        "person",
        "city",
        "date",
        "type",
        "number",
        "is",
        "big",
        "went",
        "again",
        "he",
        "she",
        "it",
        "of",
        "and",
    ]
)
TOY_TEMPLATES = (
    "{p} lives in {c} .",
    "In {c} , {p} met a friend .",
    "{p} flew from {c} to {c2} yesterday .",
    "the weather in {c} was fine .",
)


def toy_examples(n: int, seed: int = 0) -> list:
    """Short sentences with person and city mentions (and a never-used 'date' label)."""
    import random

    from uniner.data.types import Entity, Example

    rng = random.Random(seed)
    out = []
    for i in range(n):
        tpl = TOY_TEMPLATES[i % len(TOY_TEMPLATES)]
        fills = {"p": rng.choice(TOY_PEOPLE), "c": rng.choice(TOY_CITIES)}
        fills["c2"] = rng.choice([c for c in TOY_CITIES if c != fills["c"]])
        text, ents, pos = "", [], 0
        for part in tpl.replace("{", "\0{").replace("}", "}\0").split("\0"):
            if part.startswith("{"):
                key = part[1:-1]
                value = fills[key]
                label = "person" if key == "p" else "city"
                ents.append(Entity(pos, pos + len(value), value, label))
                part = value
            text += part
            pos += len(part)
        out.append(Example(text, tuple(ents), labels=("person", "city", "date"), id=str(i)))
    return out


def tiny_span_parts(folder: str | Path, **config: Any) -> tuple[Any, Any]:
    """A random-init span model over a fresh tiny backbone in ``folder``, and its tokenizer."""
    from uniner.students.span.backbones import load_encoder, load_tokenizer
    from uniner.students.span.config import SpanModelConfig
    from uniner.students.span.model import SpanModel

    backbone = make_tiny_backbone(folder)
    cfg = SpanModelConfig(backbone=str(backbone), **{"hidden_dim": 16, "max_width": 4, **config})
    return SpanModel(cfg, load_encoder(str(backbone))), load_tokenizer(str(backbone))


class FirstWordScorer(SpanExtractor):
    """A span extractor whose scores are set by hand: each asked label scores
    :meth:`first_word_score` on the first word of every text, and no other span scores at all.
    Decoding, padding, thresholds and the rules around them can then be tested exactly."""

    def first_word_score(self, label: str) -> float:
        return 0.7

    def score_items(self, items, encs):  # type: ignore[no-untyped-def]
        import torch

        w_max = max(it.window.num_words for it in items)
        l_max = max(len(it.labels) for it in items)
        probs = torch.full((len(items), w_max, self.config.max_width, l_max), -1.0)
        for b, it in enumerate(items):
            for j, lab in enumerate(it.labels):
                probs[b, 0, 0, j] = self.first_word_score(lab)
        return probs
