"""The contract between models and their callers: texts and labels in, entities out.

Anything with a ``name`` and this ``extract_batch`` is an extractor: the span student, the
generative student, the baselines, or a user's own model. The server, the spaCy component and
the benchmark call it only through these keyword arguments::

    extract_batch(texts, labels, *, threshold=None, flat=None, multi_label=None, deadline=None)

- ``threshold`` (score cut-off in [0, 1]), ``flat`` (True: no overlapping entities; False:
  nested ones allowed) and ``multi_label`` (one span may carry several labels): ``None`` means
  the model's own setting (its :class:`~uniner.inference.decoding.DecodingConfig`). A call's
  settings hold for that call only; a shared model is never changed. Extractors ignore what does
  not apply to them, and say so: the gazetteer and the spaCy baseline have no scores (threshold
  is ignored) and give flat, single-label entities; the generative student has no scores either
  (threshold ignored) and gives every mention it names (nested or overlapping ones included,
  ``flat`` and ``multi_label`` ignored).
- ``deadline`` (:class:`~uniner.inference.deadline.Deadline`): checked between steps (windows,
  batches, texts); past it the call raises
  :class:`~uniner.inference.deadline.DeadlineExceeded` so the worker is free again.

Optional, used when present: ``decoding`` (the model's ``DecodingConfig``, shown by the server
as its defaults) and ``extract_each(texts, label_lists, *, threshold, mode, multi_label,
deadline)``, which reads each text with its own labels in one stream (the span student; the
server then batches requests that ask different labels into one model call).

Returned entities carry character offsets into the given text.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol, runtime_checkable

from uniner.data.types import Entity
from uniner.inference.deadline import Deadline


@runtime_checkable
class Extractor(Protocol):
    name: str

    def extract_batch(
        self,
        texts: Sequence[str],
        labels: Sequence[str],
        *,
        threshold: float | None = None,
        flat: bool | None = None,
        multi_label: bool | None = None,
        deadline: Deadline | None = None,
    ) -> list[list[Entity]]:
        """Entities for each text, each label drawn from ``labels`` (see module docstring)."""
        ...
