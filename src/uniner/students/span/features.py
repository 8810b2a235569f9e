"""Turning (labels, words) into encoder inputs: ``[CLS] l1 [SEP] l2 [SEP] ... [SEP] words [SEP]``.

Texts are pre-tokenised once into words and each word's sub-tokens (a word always has at least
one: characters the tokenizer drops, such as control characters, become ``[UNK]``). Labels are
tokenised once and cached. Building an input is then list concatenation, cheap enough to redo for
every batch (training re-samples the labels of each input every epoch).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import torch

from uniner.students.span.words import SHAPE_NONE, clean_for_tokenizer, word_shape, word_spans


@dataclass(frozen=True, slots=True)
class EncodedText:
    """A text cut into words, with each word's sub-token ids and casing shape."""

    offsets: tuple[tuple[int, int], ...]
    tokens: tuple[tuple[int, ...], ...]
    shapes: tuple[int, ...]

    def __len__(self) -> int:
        return len(self.offsets)

    def token_counts(self) -> list[int]:
        return [len(t) for t in self.tokens]


@dataclass(frozen=True, slots=True)
class Features:
    """One encoder input (unpadded)."""

    input_ids: list[int]
    shape_ids: list[int]
    word_pos: list[int]  # position of each word's first sub-token
    label_bounds: list[tuple[int, int]]  # [start, end) token positions of each label


def _without_hash_marks(text: str, offsets: list[tuple[int, int]]) -> list[tuple[int, int]]:
    """The word offsets less every hashtag's ``#``: one that starts a word (at the text's start
    or after a space) and that a letter or digit follows at once (``#Chicago``, not ``C#`` or
    ``# 1``)."""

    def is_mark(s: int, e: int) -> bool:
        starts_word = s == 0 or text[s - 1].isspace()
        return text[s:e] == "#" and starts_word and e < len(text) and text[e].isalnum()

    return [(s, e) for s, e in offsets if not is_mark(s, e)]


class Featurizer:
    """Owns the tokenizer-dependent steps; shared by training and inference."""

    def __init__(self, tokenizer: Any, max_word_tokens: int = 16, max_label_tokens: int = 16):
        self.tokenizer = tokenizer
        self.max_word_tokens = max_word_tokens
        self.max_label_tokens = max_label_tokens
        ids = [tokenizer.cls_token_id, tokenizer.sep_token_id, tokenizer.unk_token_id]
        if any(i is None for i in ids):
            raise ValueError("the tokenizer needs [CLS]/[SEP]/[UNK]-style special tokens")
        self.cls_id, self.sep_id, self.unk_id = ids
        pad = tokenizer.pad_token_id
        self.pad_id = 0 if pad is None else pad
        self._label_cache: dict[str, tuple[int, ...]] = {}

    def encode_words(self, words: Sequence[str], clean: bool = True) -> list[tuple[int, ...]]:
        """Sub-token ids of each word (at least one, at most ``max_word_tokens``)."""
        if not words:
            return []
        enc = self.tokenizer(
            [clean_for_tokenizer(w) for w in words] if clean else list(words),
            is_split_into_words=True,
            add_special_tokens=False,
            verbose=False,
        )
        per_word: list[list[int]] = [[] for _ in words]
        for tok, wid in zip(enc["input_ids"], enc.word_ids(), strict=True):
            if wid is not None and len(per_word[wid]) < self.max_word_tokens:
                per_word[wid].append(tok)
        return [tuple(t) if t else (self.unk_id,) for t in per_word]

    def encode_text(self, text: str, bare_hashtags: bool = False) -> EncodedText:
        """Words, sub-tokens and shapes of ``text``; ``bare_hashtags`` leaves out each ``#``
        attached to the next word (``SpanModelConfig.hashtags = "bare"``)."""
        offsets = word_spans(text)
        if bare_hashtags:
            offsets = _without_hash_marks(text, offsets)
        words = [text[s:e] for s, e in offsets]
        cleaned = clean_for_tokenizer(text)  # same length: one code point for one
        return EncodedText(
            offsets=tuple(offsets),
            tokens=tuple(self.encode_words([cleaned[s:e] for s, e in offsets], clean=False)),
            shapes=tuple(word_shape(w) for w in words),
        )

    def encode_label(self, label: str) -> tuple[int, ...]:
        """Sub-tokens of a label (cached); the label is read as plain words."""
        cached = self._label_cache.get(label)
        if cached is None:
            ids = self.tokenizer(
                clean_for_tokenizer(label.strip()), add_special_tokens=False, verbose=False
            )["input_ids"]
            cached = tuple(ids[: self.max_label_tokens]) or (self.unk_id,)
            self._label_cache[label] = cached
        return cached

    def prefix_length(self, labels: Sequence[str]) -> int:
        """Tokens the label prefix takes: ``[CLS]`` plus each label and its ``[SEP]``."""
        return 1 + sum(len(self.encode_label(lab)) + 1 for lab in labels)

    def build(
        self,
        labels: Sequence[str],
        tokens: Sequence[Sequence[int]],
        shapes: Sequence[int],
    ) -> Features:
        """One input from label names and the words (sub-tokens, shapes) of a text piece."""
        ids = [self.cls_id]
        bounds: list[tuple[int, int]] = []
        for lab in labels:
            lt = self.encode_label(lab)
            bounds.append((len(ids), len(ids) + len(lt)))
            ids.extend(lt)
            ids.append(self.sep_id)
        shape_ids = [SHAPE_NONE] * len(ids)
        word_pos: list[int] = []
        for wt, sh in zip(tokens, shapes, strict=True):
            word_pos.append(len(ids))
            ids.extend(wt)
            shape_ids.extend([sh] * len(wt))
        ids.append(self.sep_id)
        shape_ids.append(SHAPE_NONE)
        return Features(ids, shape_ids, word_pos, bounds)

    def collate(self, feats: Sequence[Features]) -> dict[str, torch.Tensor]:
        """Pad a batch to its own longest input (dynamic padding)."""
        b = len(feats)
        t = max(len(f.input_ids) for f in feats)
        w = max(max(len(f.word_pos) for f in feats), 1)
        n_lab = max(max(len(f.label_bounds) for f in feats), 1)
        input_ids = torch.full((b, t), self.pad_id, dtype=torch.long)
        attention = torch.zeros((b, t), dtype=torch.long)
        shape_ids = torch.zeros((b, t), dtype=torch.long)
        word_pos = torch.zeros((b, w), dtype=torch.long)
        word_mask = torch.zeros((b, w), dtype=torch.bool)
        label_bounds = torch.zeros((b, n_lab, 2), dtype=torch.long)
        label_bounds[:, :, 1] = 1
        label_mask = torch.zeros((b, n_lab), dtype=torch.bool)
        for i, f in enumerate(feats):
            n = len(f.input_ids)
            input_ids[i, :n] = torch.tensor(f.input_ids)
            attention[i, :n] = 1
            shape_ids[i, :n] = torch.tensor(f.shape_ids)
            if f.word_pos:
                word_pos[i, : len(f.word_pos)] = torch.tensor(f.word_pos)
                word_mask[i, : len(f.word_pos)] = True
            if f.label_bounds:
                label_bounds[i, : len(f.label_bounds)] = torch.tensor(f.label_bounds)
                label_mask[i, : len(f.label_bounds)] = True
        return {
            "input_ids": input_ids,
            "attention_mask": attention,
            "shape_ids": shape_ids,
            "word_pos": word_pos,
            "word_mask": word_mask,
            "label_bounds": label_bounds,
            "label_mask": label_mask,
        }
