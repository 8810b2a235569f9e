"""The span student: one encoder pass over labels and text, a score for every (span, label) pair.

Labels and words are encoded jointly so they attend to each other. A word is its first sub-token;
a label is the mean of its sub-tokens through an MLP; a span (up to ``max_width`` words) is built
from its start word, end word and a width embedding through an MLP. The score of (span, label) is
their scaled dot product plus a learned bias that starts negative, so that at the start of
training almost nothing is predicted and the loss is not dominated by a flood of false positives.
"""

from __future__ import annotations

import math
from typing import Any

import torch
import torch.nn.functional as F
from torch import nn

from uniner.students.span.config import SpanModelConfig
from uniner.students.span.words import SHAPES


def encoder_layers(encoder: Any) -> nn.ModuleList:
    """The stack of transformer blocks of a Hugging Face encoder (BERT, MPNet, RoBERTa, ...)."""
    for path in ("encoder.layer", "encoder.layers", "layers", "layer"):
        node = encoder
        for part in path.split("."):
            node = getattr(node, part, None)
            if node is None:
                break
        if isinstance(node, nn.ModuleList):
            return node
    raise ValueError(f"cannot find the layer stack of {type(encoder).__name__}")


def freeze_lower_layers(encoder: Any, top: int) -> None:
    """Freeze every encoder weight except those of the top ``top`` blocks."""
    layers = encoder_layers(encoder)
    if top > len(layers):
        raise ValueError(f"train_top_layers={top} but the encoder has {len(layers)} layers")
    for p in encoder.parameters():
        p.requires_grad_(False)
    for block in layers[len(layers) - top :]:
        for p in block.parameters():
            p.requires_grad_(True)


class SpanModel(nn.Module):
    """Encoder plus span/label head; ``forward`` gives logits ``[batch, words, width, labels]``."""

    def __init__(self, config: SpanModelConfig, encoder: Any):
        super().__init__()
        self.config = config
        self.encoder = encoder
        h = encoder.config.hidden_size
        d = config.hidden_dim
        k = config.max_width
        self.shape_emb: nn.Embedding | None = None
        if config.shape_embedding:
            # Zero at the start: the pretrained encoder first sees exactly its usual input.
            self.shape_emb = nn.Embedding(len(SHAPES), h)
            nn.init.zeros_(self.shape_emb.weight)
        self.dropout = nn.Dropout(config.dropout)
        self.label_mlp = nn.Sequential(
            nn.Linear(h, d), nn.GELU(), nn.Dropout(config.dropout), nn.Linear(d, d)
        )
        self.start_proj = nn.Linear(h, d)
        self.end_proj = nn.Linear(h, d, bias=False)
        self.width_emb = nn.Embedding(k, d)
        self.span_mlp = nn.Sequential(nn.GELU(), nn.Dropout(config.dropout), nn.Linear(d, d))
        self.bias = nn.Parameter(torch.tensor(float(config.bias_init)))
        if config.freeze_word_embeddings:
            encoder.get_input_embeddings().weight.requires_grad_(False)
        if config.train_top_layers is not None:
            freeze_lower_layers(encoder, config.train_top_layers)

    def head_parameters(self) -> list[tuple[str, nn.Parameter]]:
        """Named parameters outside the encoder (new layers, their own learning rate)."""
        return [(n, p) for n, p in self.named_parameters() if not n.startswith("encoder.")]

    def encoder_parameters(self) -> list[tuple[str, nn.Parameter]]:
        return [(n, p) for n, p in self.named_parameters() if n.startswith("encoder.")]

    def span_mask(self, word_mask: torch.Tensor) -> torch.Tensor:
        """``[B, W, K]``: True where words ``i .. i+k`` all exist."""
        n_words = word_mask.sum(dim=1)  # [B]
        w = word_mask.shape[1]
        k = self.config.max_width
        dev = word_mask.device
        ends = torch.arange(w, device=dev)[:, None] + torch.arange(k, device=dev)[None, :]
        return ends[None, :, :] < n_words[:, None, None]

    def forward(
        self,
        input_ids: torch.Tensor,
        attention_mask: torch.Tensor,
        shape_ids: torch.Tensor,
        word_pos: torch.Tensor,
        word_mask: torch.Tensor,
        label_bounds: torch.Tensor,
        label_mask: torch.Tensor,
    ) -> torch.Tensor:
        embeds = self.encoder.get_input_embeddings()(input_ids)
        if self.shape_emb is not None:
            embeds = embeds + self.shape_emb(shape_ids).to(embeds.dtype)
        hidden = self.encoder(inputs_embeds=embeds, attention_mask=attention_mask)[0]
        hidden = hidden.float()
        b, _, h = hidden.shape
        d = self.config.hidden_dim
        k = self.config.max_width

        # Labels: mean of their sub-tokens via a cumulative sum (one gather for all labels).
        csum = torch.cat([hidden.new_zeros(b, 1, h), hidden.cumsum(dim=1)], dim=1)
        starts, ends = label_bounds[..., 0], label_bounds[..., 1]
        idx = lambda pos: pos[..., None].expand(-1, -1, h)  # noqa: E731
        lab_sum = csum.gather(1, idx(ends)) - csum.gather(1, idx(starts))
        lab_len = (ends - starts).clamp(min=1).unsqueeze(-1).to(hidden.dtype)
        labels = self.label_mlp(lab_sum / lab_len)  # [B, L, d]

        # Spans: start word i, end word i+k, width k.
        words = self.dropout(hidden.gather(1, idx(word_pos)))  # [B, W, h]
        w = words.shape[1]
        start = self.start_proj(words)  # [B, W, d]
        end = self.end_proj(words)
        end = torch.cat([end, end.new_zeros(b, k, d)], dim=1)  # pad so every i+k exists
        # Indexing, not Tensor.unfold: same values, and exportable to ONNX with dynamic sizes.
        dev = words.device
        end_at = torch.arange(w, device=dev)[:, None] + torch.arange(k, device=dev)[None, :]
        end = end[:, end_at]  # [B, W, K, d]
        spans = self.span_mlp(start[:, :, None, :] + end + self.width_emb.weight[None, None])

        logits = torch.einsum("bwkd,bld->bwkl", spans, labels) / math.sqrt(d) + self.bias
        return logits.float()


def span_loss(
    logits: torch.Tensor,
    targets: torch.Tensor,
    mask: torch.Tensor,
    kind: str = "bce",
    pos_weight: float = 5.0,
    gamma: float = 2.0,
    alpha: float = 0.75,
) -> torch.Tensor:
    """Mean loss over valid (span, label) pairs; ``mask`` broadcasts to ``logits``."""
    mask = mask.expand_as(logits)
    x = logits[mask]
    y = targets[mask]
    if x.numel() == 0:
        return logits.sum() * 0.0
    if kind == "bce":
        weight = x.new_tensor(pos_weight)
        return F.binary_cross_entropy_with_logits(x, y, pos_weight=weight)
    if kind == "focal":
        ce = F.binary_cross_entropy_with_logits(x, y, reduction="none")
        p = torch.sigmoid(x)
        p_t = p * y + (1 - p) * (1 - y)
        a_t = alpha * y + (1 - alpha) * (1 - y)
        return (a_t * (1 - p_t) ** gamma * ce).mean()
    raise ValueError(f"unknown loss {kind!r}")


def pair_mask(model: SpanModel, batch: dict[str, torch.Tensor]) -> torch.Tensor:
    """``[B, W, K, L]`` validity of (span, label) pairs: real spans times real labels."""
    spans = model.span_mask(batch["word_mask"])
    return spans[..., None] & batch["label_mask"][:, None, None, :]
