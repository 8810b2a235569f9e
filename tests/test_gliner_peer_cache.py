"""The gliner peer's threshold sweep (``bench/gliner_peer.py``): one prediction pass at the
lowest threshold, higher thresholds as filters, which is what makes a dev sweep affordable; the
sweep's ``--split dev`` reads the development suite, never CrossNER or MIT data."""

from __future__ import annotations

import json
import sys
import types
from dataclasses import replace

import pytest

from uniner.benchmark.devsuite import DEV_SUITE, prepare
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


class FakeGliner:
    """A GLiNER model double: the gold mentions of the asked types at 0.6 and one wrong
    one-character answer at 0.4, so 0.5 is the best of 0.3 / 0.5 / 0.7; records its questions."""

    def __init__(self, gold: dict[str, tuple[Entity, ...]]):
        self.gold = gold
        self.asked: list[tuple[str, tuple[str, ...]]] = []

    def eval(self) -> FakeGliner:
        return self

    def batch_predict_entities(self, texts, labels, threshold, batch_size):  # type: ignore[no-untyped-def]
        out = []
        for t in texts:
            self.asked.append((t, tuple(labels)))
            ents = [
                {"start": e.start, "end": e.end, "label": e.label, "score": 0.6}
                for e in self.gold[t]
                if e.label in labels
            ]
            ents.append({"start": 0, "end": 1, "label": labels[0], "score": 0.4})
            out.append([e for e in ents if e["score"] >= threshold])
        return out


def test_the_dev_split_sweeps_thresholds_on_the_dev_suite_only(
    bench_script, shared_data, tmp_path, monkeypatch
) -> None:
    peer = bench_script("gliner_peer")
    spec = replace(DEV_SUITE, sets=("ncbi", "conllpp"), max_passages=3)
    per_set, _ = prepare(spec, None, strict=True)
    gold = {ex.text: ex.entities for cells in per_set for c in cells for ex in c.examples}
    model = FakeGliner(gold)
    fake = types.ModuleType("gliner")
    fake.GLiNER = types.SimpleNamespace(from_pretrained=lambda *a, **k: model)  # type: ignore[attr-defined]
    monkeypatch.setitem(sys.modules, "gliner", fake)
    out = tmp_path / "dev.json"
    argv = ["gliner_peer.py", "eval", "--model", "m", "--out", str(out), "--split", "dev"]
    argv += ["--thresholds", "0.3,0.7", "--dev-sets", "ncbi,conllpp", "--dev-passages", "3"]
    monkeypatch.setattr(sys, "argv", [*argv, "--no-speed", "--threads", "1"])
    peer.main()
    res = json.loads(out.read_text())
    summaries = {float(t): v["summary"] for t, v in res["by_threshold"].items()}
    assert set(summaries) == {0.3, 0.5, 0.7}
    assert summaries[0.5] > summaries[0.3] and summaries[0.5] > summaries[0.7]
    assert res["chosen_threshold"] == 0.5 and "avg_official" not in res
    # each question asked once, whatever the number of thresholds; only dev-suite passages
    assert len(model.asked) == len(set(model.asked)) > 0
    assert {t for t, _ in model.asked} <= set(gold)
