"""The gliner peer's threshold sweep (``bench/gliner_peer.py``): one prediction pass at the
lowest threshold, higher thresholds as filters, which is what makes a dev sweep affordable."""

from __future__ import annotations

import pytest

from uniner.data.types import Entity


class FakeBase:
    """Stands in for GlinerExtractor at threshold 0.3: fixed scores, counts its calls."""

    threshold = 0.3
    name = "fake@0.3"

    def __init__(self) -> None:
        self.calls: list[list[str]] = []

    def extract_batch(self, texts: list[str], labels: list[str]) -> list[list[Entity]]:
        self.calls.append(list(texts))
        return [
            [Entity(0, 1, t[0], labels[0], 0.35), Entity(2, 3, t[2], labels[-1], 0.8)]
            for t in texts
        ]


def test_higher_thresholds_filter_one_pass_and_lower_ones_are_refused(bench_script) -> None:
    peer = bench_script("gliner_peer")
    base = FakeBase()
    cached = peer.CachedGliner(base)
    low = cached.extract_batch(["a b c", "d e f"], ["x", "y"])
    assert [len(r) for r in low] == [2, 2]
    high = cached.at(0.5).extract_batch(["a b c", "d e f"], ["x", "y"])
    assert [[(e.text, e.label) for e in r] for r in high] == [[("b", "y")], [("e", "y")]]
    assert base.calls == [["a b c", "d e f"]]  # the filtered view asked nothing new
    cached.at(0.9).extract_batch(["g h i"], ["x", "y"])  # an unseen text is predicted once
    assert base.calls[-1] == ["g h i"]
    cached.extract_batch(["g h i"], ["z"])  # other labels: another question
    assert len(base.calls) == 3
    with pytest.raises(ValueError, match="under the cached"):
        cached.at(0.2)
