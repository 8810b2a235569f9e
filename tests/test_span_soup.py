"""``uniner.students.span.soup``: the weight average of span models sharing a backbone."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

os.environ.setdefault("HF_HUB_OFFLINE", "1")
import torch

from uniner.students.span.config import SpanModelConfig
from uniner.students.span.io import load_model, save_model
from uniner.students.span.soup import SoupError, average_models, main

pytestmark = pytest.mark.usefixtures("one_torch_thread")


def _model(backbone: Path, seed: int, out: Path, storage: str = "delta-int8", **cfg) -> Path:
    from uniner.students.span.backbones import load_encoder
    from uniner.students.span.model import SpanModel

    torch.manual_seed(seed)
    model = SpanModel(
        SpanModelConfig(backbone=str(backbone), **{"hidden_dim": 16, "max_width": 4, **cfg}),
        load_encoder(str(backbone)),
    )
    with torch.no_grad():  # a fine-tuned encoder: every weight moved from the backbone's
        for p in model.encoder.parameters():
            p.add_(torch.randn_like(p) * 0.05)
    return save_model(model, out, storage, {"name": f"m{seed}", "version": "0.0.1"})


def _head(path: Path) -> dict[str, torch.Tensor]:
    model = load_model(path)[0]
    return {k: v for k, v in model.state_dict().items() if not k.startswith("encoder.")}


def test_the_soup_is_the_weighted_average_and_loads(backbone: Path, tmp_path: Path) -> None:
    a = _model(backbone, 1, tmp_path / "a")
    b = _model(backbone, 2, tmp_path / "b")
    out = average_models([a, b], tmp_path / "soup", weights=[3, 1])
    ha, hb, hs = _head(a), _head(b), _head(out)
    for k in ha:
        assert torch.allclose(hs[k], 0.75 * ha[k] + 0.25 * hb[k], atol=1e-6)
    ea, eb, es = (load_model(p)[0].encoder.state_dict() for p in (a, b, out))
    k = next(k for k in ea if ea[k].dim() == 2 and not torch.equal(ea[k], eb[k]))
    # int8 deltas: each part and the soup are within one quantisation step of the exact mean
    assert torch.allclose(es[k], 0.75 * ea[k] + 0.25 * eb[k], atol=0.01)
    cfg = json.loads((out / "config.json").read_text())
    assert cfg["soup"]["weights"] == [0.75, 0.25] and cfg["name"] == "m1"
    assert cfg["storage"] == "delta-int8"
    assert [p["version"] for p in cfg["soup"]["parts"]] == ["0.0.1", "0.0.1"]
    assert [p["name"] for p in cfg["soup"]["parts"]] == ["m1", "m2"]


def test_a_soup_keeps_each_parts_provenance_even_of_a_soup(backbone: Path, tmp_path: Path) -> None:
    """The first part's training record is no longer the soup's own; a soup of soups nests."""
    a = _model(backbone, 1, tmp_path / "a")
    b = _model(backbone, 2, tmp_path / "b")
    cfg_a = json.loads((a / "config.json").read_text())
    cfg_a.update(training={"steps": 7}, adapted_from={"name": "parent"}, threshold=0.6)
    (a / "config.json").write_text(json.dumps(cfg_a))
    ab = average_models([a, b], tmp_path / "ab")
    cfg = json.loads((ab / "config.json").read_text())
    assert "training" not in cfg and "adapted_from" not in cfg and cfg["threshold"] == 0.6
    assert cfg["soup"]["parts"][0]["training"] == {"steps": 7}
    assert cfg["soup"]["parts"][0]["adapted_from"] == {"name": "parent"}
    abb = json.loads((average_models([ab, b], tmp_path / "abb") / "config.json").read_text())
    inner = abb["soup"]["parts"][0]["soup"]
    assert inner["parts"][0]["training"] == {"steps": 7} and inner["models"] == [str(a), str(b)]


def test_a_soup_of_one_model_with_itself_is_that_model(backbone: Path, tmp_path: Path) -> None:
    a = _model(backbone, 1, tmp_path / "a", storage="full")
    out = average_models([a, a], tmp_path / "soup")
    sa, ss = load_model(a)[0].state_dict(), load_model(out)[0].state_dict()
    assert all(torch.equal(sa[k], ss[k]) for k in sa)


def test_parts_that_read_differently_still_average(backbone: Path, tmp_path: Path) -> None:
    """A release's windows differ from its training run's; the soup reads as its first part."""
    a = _model(backbone, 1, tmp_path / "a", window_words=64, window_overlap=16)
    b = _model(backbone, 2, tmp_path / "b")
    cfg = json.loads((average_models([a, b], tmp_path / "ab") / "config.json").read_text())
    assert (cfg["model"]["window_words"], cfg["model"]["window_overlap"]) == (64, 16)


def test_other_architectures_and_bad_weights_are_refused_in_one_line(
    backbone: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    a = _model(backbone, 1, tmp_path / "a")
    wide = _model(backbone, 2, tmp_path / "wide", max_width=6)
    with pytest.raises(SoupError, match="another architecture"):
        average_models([a, wide], tmp_path / "x")
    with pytest.raises(SoupError, match="at least two"):
        average_models([a], tmp_path / "x")
    for argv in (
        ["--model", str(a), "--model", str(a), "--weights", "1", "--out", str(tmp_path / "x")],
        ["--model", str(a), "--model", str(a), "--weights", "a,b", "--out", str(tmp_path / "x")],
        ["--model", str(a), "--model", str(tmp_path / "none"), "--out", str(tmp_path / "x")],
    ):
        with pytest.raises(SystemExit) as err:
            main(argv)
        assert str(err.value).startswith("error: ") and "\n" not in str(err.value)
    assert not (tmp_path / "x").exists()
