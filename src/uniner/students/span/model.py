"""The span student: an encoder over labels and text, a score for every (span, label) pair.

By default labels and words are encoded jointly, in one pass, so they attend to each other; with
``label_encoding = "separate"`` each label name is encoded alone (and cached by the extractor)
and the text alone. A word is its first sub-token;
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


class LabelContext(nn.Module):
    """One pre-norm attention layer over the vectors of the labels one call asks.

    Why: a label encoded alone cannot know which other types are asked, so a separate model
    answers "person" for a writer even when "writer" is asked too (bench/close_types.py); the
    joint encoding gets this from reading the labels together. Here each label vector attends
    to the others of its set (no positions: the result does not depend on their order). The
    output projection starts at zero, so the layer starts as the identity.
    """

    def __init__(self, dim: int, heads: int = 4):
        super().__init__()
        if dim % heads:
            raise ValueError(f"hidden_dim {dim} is not divisible by {heads} heads")
        self.heads = heads
        self.norm = nn.LayerNorm(dim)
        self.qkv = nn.Linear(dim, 3 * dim)
        self.out = nn.Linear(dim, dim)
        nn.init.zeros_(self.out.weight)
        nn.init.zeros_(self.out.bias)

    def forward(self, vectors: torch.Tensor, mask: torch.Tensor | None = None) -> torch.Tensor:
        """``vectors [B, L, d]`` (``mask [B, L]``: True for a real label) to ``[B, L, d]``."""
        b, n, d = vectors.shape
        h = self.heads
        q, k, v = self.qkv(self.norm(vectors)).view(b, n, 3, h, d // h).permute(2, 0, 3, 1, 4)
        att = q @ k.transpose(-1, -2) / math.sqrt(d // h)  # [B, H, L, L]
        if mask is not None:  # a large negative, not -inf: an input asking nothing stays finite
            att = att.masked_fill(~mask[:, None, None, :], -1e4)
        mixed = (att.softmax(dim=-1) @ v).transpose(1, 2).reshape(b, n, d)
        out: torch.Tensor = vectors + self.out(mixed)
        return out if mask is None else out * mask[..., None].to(out.dtype)


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
        self.label_context = LabelContext(d) if config.label_context else None
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
        label_vectors: torch.Tensor | None = None,
    ) -> torch.Tensor:
        """Logits ``[B, W, K, L]`` of a featurizer batch.

        Joint models read the labels from the input's prefix. Separate models (config
        ``label_encoding = "separate"``) take either a text-only batch with ``label_vectors``
        (``[B, L, d]`` or ``[L, d]``, from :meth:`encode_label_set`; the extractor caches them), or
        the joint batch the trainer builds, which they split into text and label names
        (:func:`split_joint`): training and inference then run the same computation.
        """
        if self.config.label_encoding == "joint":
            hidden = self.encode(input_ids, attention_mask, shape_ids)
            labels = self.joint_labels(hidden, label_bounds)
            return self.score(self.spans(hidden, word_pos), labels)
        if label_vectors is None:
            (input_ids, attention_mask, shape_ids, word_pos), names = split_joint(
                input_ids, attention_mask, shape_ids, word_pos, label_bounds, label_mask
            )
            label_vectors = self.label_vectors_of(*names)
            if self.label_context is not None:
                label_vectors = self.label_context(label_vectors, label_mask)
        hidden = self.encode(input_ids, attention_mask, shape_ids)
        return self.score(self.spans(hidden, word_pos), label_vectors)

    def encode(
        self, input_ids: torch.Tensor, attention_mask: torch.Tensor, shape_ids: torch.Tensor
    ) -> torch.Tensor:
        """Encoder hidden states ``[B, T, h]`` (fp32), word shapes added to the embeddings."""
        embeds = self.encoder.get_input_embeddings()(input_ids)
        if self.shape_emb is not None:
            embeds = embeds + self.shape_emb(shape_ids).to(embeds.dtype)
        hidden: torch.Tensor = self.encoder(inputs_embeds=embeds, attention_mask=attention_mask)[0]
        return hidden.float()

    def joint_labels(self, hidden: torch.Tensor, label_bounds: torch.Tensor) -> torch.Tensor:
        """``[B, L, d]``: each label the mean of its sub-tokens via a cumulative sum (one gather
        for all labels), through the label MLP."""
        b, _, h = hidden.shape
        csum = torch.cat([hidden.new_zeros(b, 1, h), hidden.cumsum(dim=1)], dim=1)
        starts, ends = label_bounds[..., 0], label_bounds[..., 1]
        lab_sum = csum.gather(1, _rows(ends, h)) - csum.gather(1, _rows(starts, h))
        lab_len = (ends - starts).clamp(min=1).unsqueeze(-1).to(hidden.dtype)
        labels: torch.Tensor = self.label_mlp(lab_sum / lab_len)
        return labels

    def encode_labels(self, ids: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
        """``[N, d]`` vectors of N label names, each encoded alone as ``[CLS] name [SEP]``
        (``ids``/``mask`` ``[N, T]``, padded): the mean of the name's sub-tokens (not [CLS] or
        [SEP], as in the joint pooling) through the label MLP."""
        hidden = self.encode(ids, mask, torch.zeros_like(ids))  # shape 0: no word shape
        n_tok = mask.sum(dim=1, keepdim=True)  # name + 2
        pos = torch.arange(ids.shape[1], device=ids.device)[None, :]
        inside = ((pos >= 1) & (pos < n_tok - 1)).to(hidden.dtype)  # the name's sub-tokens
        pooled = (hidden * inside[..., None]).sum(dim=1) / inside.sum(dim=1, keepdim=True).clamp(
            min=1.0
        )
        vectors: torch.Tensor = self.label_mlp(pooled)
        return vectors

    def encode_label_set(self, ids: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
        """``[N, d]`` vectors of the N distinct names of one call's label set: encoded alone,
        then (``label_context``) read together. What the label cache and the ONNX label graph
        compute once per set."""
        vectors = self.encode_labels(ids, mask)
        if self.label_context is None:
            return vectors
        together: torch.Tensor = self.label_context(vectors[None])[0]
        return together

    def label_vectors_of(
        self, ids: torch.Tensor, mask: torch.Tensor, inverse: torch.Tensor, present: torch.Tensor
    ) -> torch.Tensor:
        """``[B, L, d]`` from the distinct label names of a batch (:func:`split_joint`): each
        name encoded once however many inputs ask it."""
        if ids.shape[0] == 0:  # no input asks any label
            return torch.zeros(*inverse.shape, self.config.hidden_dim, device=ids.device)
        vectors = self.encode_labels(ids, mask)[inverse]
        return vectors * present[..., None].to(vectors.dtype)

    def spans(self, hidden: torch.Tensor, word_pos: torch.Tensor) -> torch.Tensor:
        """``[B, W, K, d]``: span ``(i, i+k)`` from start word i, end word i+k and width k."""
        b, _, h = hidden.shape
        d = self.config.hidden_dim
        k = self.config.max_width
        words = self.dropout(hidden.gather(1, _rows(word_pos, h)))  # [B, W, h]
        w = words.shape[1]
        start = self.start_proj(words)  # [B, W, d]
        end = self.end_proj(words)
        end = torch.cat([end, end.new_zeros(b, k, d)], dim=1)  # pad so every i+k exists
        # Indexing, not Tensor.unfold: same values, and exportable to ONNX with dynamic sizes.
        dev = words.device
        end_at = torch.arange(w, device=dev)[:, None] + torch.arange(k, device=dev)[None, :]
        end = end[:, end_at]  # [B, W, K, d]
        spans: torch.Tensor = self.span_mlp(
            start[:, :, None, :] + end + self.width_emb.weight[None, None]
        )
        return spans

    def score(self, spans: torch.Tensor, labels: torch.Tensor) -> torch.Tensor:
        """Scaled dot product plus the bias; ``labels`` ``[B, L, d]`` or shared ``[L, d]``."""
        d = self.config.hidden_dim
        if labels.dim() == 2:
            labels = labels[None].expand(spans.shape[0], -1, -1)
        logits = torch.einsum("bwkd,bld->bwkl", spans, labels) / math.sqrt(d) + self.bias
        return logits.float()


def _rows(pos: torch.Tensor, h: int) -> torch.Tensor:
    """``pos [B, N]`` expanded to gather ``[B, N, h]`` rows of a ``[B, T, h]`` tensor."""
    return pos[..., None].expand(-1, -1, h)


def split_joint(
    input_ids: torch.Tensor,
    attention_mask: torch.Tensor,
    shape_ids: torch.Tensor,
    word_pos: torch.Tensor,
    label_bounds: torch.Tensor,
    label_mask: torch.Tensor,
) -> tuple[tuple[torch.Tensor, ...], tuple[torch.Tensor, ...]]:
    """A joint batch (``[CLS] l1 [SEP] l2 [SEP] words [SEP]``, what ``Featurizer.build`` and
    the trainer make) as a text-only batch (``[CLS] words [SEP]``, what the extractor builds
    for separate models) plus its distinct label names.

    Why in the model: the trainer stays unchanged for both encodings. Returns
    ``(input_ids, attention_mask, shape_ids, word_pos)`` of the text, and
    ``(ids [U, T], mask [U, T], inverse [B, L], present [B, L])``: the U distinct names as
    ``[CLS] name [SEP]`` rows and, for each (input, label), which row it is.
    """
    dev = input_ids.device
    b, t = input_ids.shape
    ends = torch.where(label_mask, label_bounds[..., 1], torch.zeros_like(label_bounds[..., 1]))
    prefix = ends.max(dim=1).values + 1 if ends.shape[1] else ends.new_ones(b)  # [CLS] + labels
    text_len = attention_mask.sum(dim=1) - prefix + 1
    t_new = int(text_len.max().item()) if b else 1
    j = torch.arange(t_new, device=dev)[None, :]
    src = torch.where(j == 0, torch.zeros_like(j), prefix[:, None] + j - 1).clamp(max=t - 1)
    text = (
        input_ids.gather(1, src),
        (j < text_len[:, None]).to(attention_mask.dtype),
        shape_ids.gather(1, src),
        (word_pos - prefix[:, None] + 1).clamp(min=0),
    )
    return text, _label_names(input_ids, label_bounds, label_mask)


def _label_names(
    input_ids: torch.Tensor, label_bounds: torch.Tensor, label_mask: torch.Tensor
) -> tuple[torch.Tensor, ...]:
    """The distinct label names of a joint batch as ``[CLS] name [SEP]`` rows (split_joint)."""
    dev = input_ids.device
    b, n_lab = label_mask.shape
    starts, ends = label_bounds[..., 0], label_bounds[..., 1]
    lengths = torch.where(label_mask, ends - starts, torch.zeros_like(ends))  # [B, L]
    width = int(lengths.max().item()) if lengths.numel() else 0
    k = torch.arange(width + 2, device=dev)  # [CLS] + name + [SEP]
    pos = (starts[..., None] + k[None, None, :] - 1).clamp(min=0, max=input_ids.shape[1] - 1)
    rows = input_ids[:, None, :].expand(-1, n_lab, -1).gather(2, pos)  # [B, L, width + 2]
    cls = input_ids[:, :1, None].expand(-1, n_lab, 1)
    sep = input_ids.gather(1, ends.clamp(max=input_ids.shape[1] - 1))[..., None]  # after a name
    n = lengths[..., None]
    ids = torch.where(k == 0, cls, torch.where(k <= n, rows, torch.where(k == n + 1, sep, 0)))
    ids = ids.reshape(b * n_lab, width + 2)[label_mask.reshape(-1)]
    unique, inverse = torch.unique(ids, dim=0, return_inverse=True)
    mask = (k[None, :] <= _row_lengths(unique, lengths, label_mask, inverse) + 1).long()
    full = torch.zeros(b * n_lab, dtype=torch.long, device=dev)
    full[label_mask.reshape(-1)] = inverse
    return unique, mask, full.reshape(b, n_lab), label_mask


def _row_lengths(
    unique: torch.Tensor, lengths: torch.Tensor, label_mask: torch.Tensor, inverse: torch.Tensor
) -> torch.Tensor:
    """``[U, 1]`` name length of each distinct row (the same name has the same length)."""
    out = torch.zeros(unique.shape[0], dtype=lengths.dtype, device=unique.device)
    out[inverse] = lengths[label_mask]
    return out[:, None]


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


def type_choice_loss(
    logits: torch.Tensor, targets: torch.Tensor, mask: torch.Tensor
) -> torch.Tensor:
    """Cross-entropy over the asked types on each span with exactly one gold type.

    The per-pair BCE asks only *whether* a span is each type, one type at a time, so a
    politician read as both "person" (0.9) and "politician" (0.85) costs it little; this term
    asks *which* of the asked types the span is, so close types are pulled apart. Spans with
    no or several gold types, and calls of one type, add nothing.
    """
    mask = mask.expand_as(logits)
    gold = (targets > 0.5) & mask
    chosen = (gold.sum(-1) == 1) & (mask.sum(-1) >= 2)
    if not bool(chosen.any()):
        return logits.sum() * 0.0
    x = logits.float().masked_fill(~mask, float("-inf"))[chosen]
    return F.cross_entropy(x, gold[chosen].float().argmax(-1))


def pair_mask(model: SpanModel, batch: dict[str, torch.Tensor]) -> torch.Tensor:
    """``[B, W, K, L]`` validity of (span, label) pairs: real spans times real labels."""
    spans = model.span_mask(batch["word_mask"])
    return spans[..., None] & batch["label_mask"][:, None, None, :]
