"""Label vectors of a separate-encoding span model, computed once per label set.

Why: with ``label_encoding = "separate"`` (config.py) a label's vector does not depend on the
text, so a call asking the same types as an earlier one needs no label encoding at all and its
cost is that of the text alone, however many types it asks. The extractor keeps one
:class:`LabelCache` (an LRU keyed by the tuple of labels a call asks).

Each set is encoded in sorted order of its distinct names and then indexed in the order asked,
so the vectors, and with them the results, do not depend on the order the labels are given in.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Sequence
from typing import Any

import torch

#: Label sets kept by default (each a ``[L, hidden_dim]`` fp32 tensor: 200 labels x 256 = 200 KB).
DEFAULT_SIZE = 64


class LabelCache:
    """An LRU of label vectors ``[L, d]`` keyed by the tuple of labels; see module docstring.

    ``encoder_calls`` counts the label encoder passes (one per label set not in the cache), for
    tests and benchmarks. ``encode`` may be replaced (an ONNX label graph, onnx_runtime.py).
    """

    def __init__(self, model: Any, featurizer: Any, size: int = DEFAULT_SIZE, bf16: bool = False):
        if size < 0:
            raise ValueError(f"label cache size must be >= 0, got {size}")
        self.model = model
        self.featurizer = featurizer
        self.size = size
        self.bf16 = bf16
        self.encoder_calls = 0
        self.hits = 0
        self._sets: OrderedDict[tuple[str, ...], torch.Tensor] = OrderedDict()
        self._lock = threading.Lock()  # server threads share one extractor
        self.encode = self._encode_torch

    def __len__(self) -> int:
        return len(self._sets)

    def clear(self) -> None:
        """Forget every label set (after the model's weights change)."""
        with self._lock:
            self._sets.clear()

    def use_graph(self, scorer: Any) -> None:
        """Encode names with an ONNX scorer's label graph (``OnnxScorer.encode_labels``), or
        with torch again (``None``); cached vectors of the other runtime are dropped."""
        if scorer is not None and getattr(scorer, "labels_session", None) is None:
            raise ValueError(
                f"{scorer.path} was exported from a joint-encoding model; "
                "this model encodes labels separately: export it again"
            )
        self.encode = self._encode_torch if scorer is None else scorer.encode_labels
        self.clear()

    def vectors(self, labels: Sequence[str]) -> torch.Tensor:
        """``[L, d]`` vectors of ``labels`` in the order given, from the cache when possible."""
        key = tuple(labels)
        with self._lock:
            found = self._sets.get(key)
            if found is not None:
                self._sets.move_to_end(key)
                self.hits += 1
                return found
        names = sorted(set(key))
        self.encoder_calls += 1
        encoded = self.encode(self.token_batch(names))
        where = {name: i for i, name in enumerate(names)}
        out = encoded[[where[lab] for lab in key]].float().cpu()
        if self.size:
            with self._lock:
                self._sets[key] = out
                while len(self._sets) > self.size:
                    self._sets.popitem(last=False)
        return out

    def batch_inputs(
        self, label_sets: Sequence[Sequence[str]], device: torch.device | str = "cpu"
    ) -> dict[str, torch.Tensor]:
        """``label_vectors [B, L, d]`` and ``label_mask [B, L]`` for a batch of inputs, each
        asking its own label set (the extractor's work items; usually all the same set)."""
        per_set: dict[tuple[str, ...], torch.Tensor] = {}
        for labels in label_sets:
            key = tuple(labels)
            if key not in per_set:
                per_set[key] = self.vectors(key)
        n_lab = max(max((len(s) for s in label_sets), default=1), 1)
        d = self.model.config.hidden_dim
        vectors = torch.zeros(len(label_sets), n_lab, d)
        mask = torch.zeros(len(label_sets), n_lab, dtype=torch.bool)
        for i, labels in enumerate(label_sets):
            vectors[i, : len(labels)] = per_set[tuple(labels)]
            mask[i, : len(labels)] = True
        return {"label_vectors": vectors.to(device), "label_mask": mask.to(device)}

    def token_batch(self, names: Sequence[str]) -> dict[str, torch.Tensor]:
        """``[CLS] name [SEP]`` rows, padded (``ids``, ``mask`` ``[N, T]``): what
        ``split_joint`` makes of a joint training batch, so training and inference agree."""
        fz = self.featurizer
        rows = [[fz.cls_id, *fz.encode_label(n), fz.sep_id] for n in names]
        width = max(len(r) for r in rows)
        ids = torch.full((len(rows), width), fz.pad_id, dtype=torch.long)
        mask = torch.zeros((len(rows), width), dtype=torch.long)
        for i, r in enumerate(rows):
            ids[i, : len(r)] = torch.tensor(r)
            mask[i, : len(r)] = 1
        return {"ids": ids, "mask": mask}

    @torch.inference_mode()
    def _encode_torch(self, batch: dict[str, torch.Tensor]) -> torch.Tensor:
        model = self.model
        device = next(model.parameters()).device
        was_training = model.training
        model.eval()
        try:
            with torch.autocast(device.type, dtype=torch.bfloat16, enabled=self.bf16):
                ids, mask = batch["ids"].to(device), batch["mask"].to(device)
                vectors: torch.Tensor = model.encode_label_set(ids, mask)
                return vectors
        finally:
            model.train(was_training)
