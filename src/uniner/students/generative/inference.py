"""Batched greedy answering of (passage, type) questions, with the passage's KV cache reused.

UniNER asks one question per (passage, type); the official code decodes each prompt in full,
so a passage asked 13 types is encoded 13 times. Every prompt of a passage starts with the same
tokens (system message, passage, acknowledgement), so here that prefix is encoded once per
passage, its key/value cache copied to the passage's question rows, and only the questions and
answers are computed per type. The prefix is the longest common token prefix of the passage's
prompts (tokenised whole, exactly as plain generation tokenises them), so reuse cannot change a
prompt; a test checks that answers are identical with and without it.

Decoding is greedy, at most ``max_new_tokens`` (256, as the paper) per answer, and stops at the
end-of-turn token. Rows that finish are dropped from the batch (most answers are ``[]``).
Several passages are decoded together: prefixes are left-padded, question suffixes too, and the
attention mask and position ids skip the padding, so every row sees exactly its own prompt.

A passage too long for the context (``max_context`` minus the template, the longest question
and ``max_new_tokens``) is split into word windows with an overlap; answers are aligned within
each window and the entities merged (see :mod:`.extractor`).
"""

from __future__ import annotations

import json
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from uniner.students.generative.data import word_windows
from uniner.students.generative.template import Template

_ANSWER_RE = re.compile(r"\[(.*?)\]")


def parse_generation(text: str) -> list[str] | None:
    """Mention strings of a generated answer, read as the official evaluation reads it.

    The first ``[...]`` at the start of the (stripped) text, as JSON; non-string items are
    skipped. ``None`` when the answer cannot be read (the official script scores it as ``[]``).
    """
    m = _ANSWER_RE.match(text.strip())
    if m is None:
        return None
    try:
        items = json.loads(m.group())
    except json.JSONDecodeError:
        return None
    if not isinstance(items, list):
        return None
    return [s for s in items if isinstance(s, str)]


def parse_pairs(text: str) -> list[tuple[str, str]] | None:
    """``(mention, type)`` pairs of an all-in-one answer (a JSON list of ``[mention, type]``).

    The first JSON value at the start of the (stripped) text, so the nested lists the official
    ``\\[(.*?)\\]`` pattern would cut are read whole and trailing text is ignored; items that are
    not two strings are skipped. ``None`` when the answer cannot be read.
    """
    stripped = text.strip()
    if not stripped.startswith("["):
        return None
    try:
        items, _ = json.JSONDecoder().raw_decode(stripped)
    except json.JSONDecodeError:
        return None
    return [
        (m, t)
        for item in items
        if isinstance(item, list) and len(item) == 2
        for m, t in [item]
        if isinstance(m, str) and isinstance(t, str)
    ]


@dataclass
class DecodeStats:
    questions: int = 0
    passages: int = 0
    windows: int = 0
    prefix_tokens: int = 0  # prompt tokens encoded once per passage (reuse on)
    suffix_tokens: int = 0  # prompt tokens encoded per question
    generated_tokens: int = 0
    extra: dict[str, Any] = field(default_factory=dict)


def _left_pad(seqs: Sequence[Sequence[int]], pad: int) -> tuple[Any, Any]:
    import torch

    n = max((len(s) for s in seqs), default=0)
    ids = torch.full((len(seqs), n), pad, dtype=torch.long)
    mask = torch.zeros((len(seqs), n), dtype=torch.long)
    for i, s in enumerate(seqs):
        if s:
            ids[i, n - len(s) :] = torch.tensor(list(s), dtype=torch.long)
            mask[i, n - len(s) :] = 1
    return ids, mask


def _common_prefix(seqs: Sequence[Sequence[int]]) -> int:
    first = seqs[0]
    n = min(len(s) for s in seqs)
    k = 0
    while k < n and all(s[k] == first[k] for s in seqs):
        k += 1
    return k


class GenerativeEngine:
    """A causal LM, its tokenizer and template, answering questions in batches."""

    def __init__(
        self,
        model: Any,
        tokenizer: Any,
        template: Template,
        *,
        max_new_tokens: int = 256,
        prefix_reuse: bool = True,
        batch_questions: int = 64,
        max_context: int | None = None,
        window_overlap_words: int = 16,
    ) -> None:
        self.model = model
        self.tokenizer = tokenizer
        self.template = template
        self.max_new_tokens = max_new_tokens
        self.prefix_reuse = prefix_reuse
        self.batch_questions = max(1, batch_questions)
        limit = getattr(model.config, "max_position_embeddings", None) or 2048
        self.max_context = min(limit, max_context) if max_context else limit
        self.window_overlap_words = window_overlap_words
        eot_id = tokenizer.convert_tokens_to_ids(template.eot)
        self.stop_ids = {tokenizer.eos_token_id} | (
            {eot_id} if isinstance(eot_id, int) and eot_id != tokenizer.unk_token_id else set()
        )
        self.pad_id = (
            tokenizer.pad_token_id
            if tokenizer.pad_token_id is not None
            else (tokenizer.eos_token_id)
        )
        self.stats = DecodeStats()

    # ------------------------------------------------------------------ windows

    def text_budget(self, labels: Sequence[str], dataset: str | None = None) -> int:
        """Most passage tokens a prompt may hold with room for any question and the answer."""
        tok = self.tokenizer
        head = len(tok(self.template.prefix("", dataset))["input_ids"])
        q = max(
            len(
                tok("".join(s.text for s in self.template.qa(lab, None)), add_special_tokens=False)[
                    "input_ids"
                ]
            )
            for lab in labels
        )
        return self.max_context - self.max_new_tokens - head - q - 2

    def windows(
        self, text: str, labels: Sequence[str], dataset: str | None = None
    ) -> list[tuple[int, int]]:
        """Character windows of ``text`` that fit the context (one window when it fits)."""
        budget = self.text_budget(labels, dataset)
        if budget < 8:
            raise ValueError(
                f"max_context={self.max_context} leaves {budget} tokens for the passage once "
                f"the template, the longest question and max_new_tokens={self.max_new_tokens} "
                "are counted: raise max_context or lower max_new_tokens"
            )
        return word_windows(self.tokenizer, text, budget, self.window_overlap_words)

    # ------------------------------------------------------------------ decoding

    def answer(
        self, texts: Sequence[str], labels: Sequence[str], dataset: str | None = None
    ) -> list[list[str]]:
        """Raw generated answers, ``[passage][label]``; texts must fit (see :meth:`windows`)."""
        if not labels:
            raise ValueError("no entity type given: pass at least one label")
        tok = self.tokenizer
        prompts = [
            [tok(self.template.prompt(t, lab, dataset))["input_ids"] for lab in labels]
            for t in texts
        ]
        out: list[list[str]] = [[""] * len(labels) for _ in texts]
        per_chunk = max(1, self.batch_questions // len(labels))
        for start in range(0, len(texts), per_chunk):
            idx = list(range(start, min(len(texts), start + per_chunk)))
            answers = self._decode_passages([prompts[i] for i in idx])
            for k, i in enumerate(idx):
                out[i] = answers[k]
        self.stats.passages += len(texts)
        self.stats.questions += len(texts) * len(labels)
        return out

    def _decode_passages(self, prompts: list[list[list[int]]]) -> list[list[str]]:
        prefixes: list[list[int]] = []
        suffixes: list[list[int]] = []
        rows: list[int] = []
        for p, qs in enumerate(prompts):
            k = _common_prefix(qs) if self.prefix_reuse else 0
            k = min(k, min(len(q) for q in qs) - 1)
            prefixes.append(qs[0][:k])
            for q in qs:
                suffixes.append(q[k:])
                rows.append(p)
            self.stats.prefix_tokens += k
            self.stats.suffix_tokens += sum(len(q) - k for q in qs)
        gen = self.greedy(prefixes, suffixes, rows)
        texts = self.tokenizer.batch_decode(gen, skip_special_tokens=True)
        out: list[list[str]] = []
        pos = 0
        for qs in prompts:
            out.append([t.strip() for t in texts[pos : pos + len(qs)]])
            pos += len(qs)
        return out

    def greedy(
        self, prefixes: list[list[int]], suffixes: list[list[int]], rows: list[int]
    ) -> list[list[int]]:
        """Greedy continuations of ``prefixes[rows[i]] + suffixes[i]`` for every row ``i``."""
        import torch

        with torch.inference_mode():
            logits, cache, mask, last_pos = self._prefill(prefixes, suffixes, rows)
            return self._decode(logits, cache, mask, last_pos)

    def _prefill(
        self, prefixes: list[list[int]], suffixes: list[list[int]], rows: list[int]
    ) -> tuple[Any, Any, Any, Any]:
        """Run each shared prefix once (its cache copied to every row that shares it), then
        every row's suffix: the next-token logits, the cache, the attention mask and each
        row's last position."""
        import torch

        model = self.model
        dev = next(model.parameters()).device
        cache = None
        p_len = max((len(p) for p in prefixes), default=0)
        if p_len > 0:
            pre, pmask = _left_pad(prefixes, self.pad_id)
            pre, pmask = pre.to(dev), pmask.to(dev)
            pos = (pmask.cumsum(-1) - 1).clamp(min=0)
            cache = model(
                input_ids=pre,
                attention_mask=pmask,
                position_ids=pos,
                use_cache=True,
                logits_to_keep=1,
            ).cache
            index = torch.tensor(rows, device=dev)
            cache.batch_select_indices(index)  # one copy of its passage's cache per row
            mask = pmask[index]
        else:
            mask = torch.zeros((len(suffixes), 0), dtype=torch.long, device=dev)
        suf, smask = _left_pad(suffixes, self.pad_id)
        mask = torch.cat([mask, smask.to(dev)], dim=1)
        pos_all = (mask.cumsum(-1) - 1).clamp(min=0)
        out = model(
            input_ids=suf.to(dev),
            attention_mask=mask,
            position_ids=pos_all[:, p_len:],
            cache=cache,
            use_cache=True,
            logits_to_keep=1,
        )
        return out.logits[:, -1, :], out.cache, mask, pos_all[:, -1]

    def _decode(self, logits: Any, cache: Any, mask: Any, last_pos: Any) -> list[list[int]]:
        """Greedy steps from the prefill's ``logits``: a row leaves the batch (and the cache)
        when it emits a stop token; at most ``max_new_tokens`` each."""
        import torch

        model = self.model
        dev = next(model.parameters()).device
        n = int(logits.shape[0])
        nxt = logits.argmax(-1)
        active = torch.arange(n, device=dev)
        gen: list[list[int]] = [[] for _ in range(n)]
        stop = torch.tensor(sorted(self.stop_ids), device=dev)
        for step in range(self.max_new_tokens):
            done = torch.isin(nxt, stop)
            for r, t, d in zip(active.tolist(), nxt.tolist(), done.tolist(), strict=True):
                if not d:
                    gen[r].append(t)
            self.stats.generated_tokens += int(active.numel())
            if step == self.max_new_tokens - 1 or bool(done.all()):
                break
            if bool(done.any()):
                keep = (~done).nonzero().squeeze(-1)
                cache.batch_select_indices(keep)
                active, nxt, mask, last_pos = active[keep], nxt[keep], mask[keep], last_pos[keep]
            mask = torch.cat([mask, torch.ones_like(mask[:, :1])], dim=1)
            last_pos = last_pos + 1
            out = model(
                input_ids=nxt[:, None],
                attention_mask=mask,
                position_ids=last_pos[:, None],
                cache=cache,
                use_cache=True,
            )
            cache = out.cache
            nxt = out.logits[:, -1, :].argmax(-1)
        return gen
