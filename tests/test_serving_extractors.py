"""Every extractor that follows the contract is served: the generative student (a tiny random
one) and the gazetteer baseline through the real server, with the decoding options a client
may send (they do not apply to these extractors and are ignored, not a TypeError)."""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import pytest

from conftest import require

httpx = require("httpx", "dev")
require("fastapi", "serve")
require("uvicorn", "serve")

from tests.doubles.generative import make_tiny_causal_lm  # noqa: E402
from uniner.baselines.gazetteer import Gazetteer  # noqa: E402
from uniner.inference import Deadline, DeadlineExceeded, Extractor  # noqa: E402
from uniner.serving.server import ServerThread  # noqa: E402
from uniner.serving.settings import ServeSettings  # noqa: E402
from uniner.students.generative.extractor import GenerativeExtractor  # noqa: E402

TEXTS = ["Alan Turing was born in London.", "Ada Lovelace met Charles Babbage in London."]
OPTIONS = [{}, {"threshold": 0.3, "flat": False, "multi_label": True}]


@pytest.fixture(scope="module")
def gazetteer() -> Gazetteer:
    table = {
        ("Alan", "Turing"): Counter({"person": 3}),
        ("Ada", "Lovelace"): Counter({"person": 2}),
        ("London",): Counter({"city": 5}),
    }
    return Gazetteer(table)


@pytest.fixture(scope="module")
def generative(tmp_path_factory: pytest.TempPathFactory, one_torch_thread) -> GenerativeExtractor:
    tiny: Path = make_tiny_causal_lm(tmp_path_factory.mktemp("tiny-lm-serve"), seed=3)
    return GenerativeExtractor(str(tiny), max_new_tokens=6)


def post(url: str, payload: dict) -> httpx.Response:
    return httpx.post(url + "/v1/extract", json=payload, timeout=120)


@pytest.mark.parametrize("options", OPTIONS)
def test_gazetteer_is_served(gazetteer: Gazetteer, options: dict) -> None:
    assert isinstance(gazetteer, Extractor)
    with ServerThread(gazetteer, ServeSettings()) as srv:
        resp = post(srv.url, {"texts": TEXTS, "labels": ["person", "city"], **options})
        models = httpx.get(srv.url + "/v1/models").json()
    assert resp.status_code == 200, resp.text
    got = [[(e["text"], e["label"]) for e in r["entities"]] for r in resp.json()["results"]]
    assert got == [
        [("Alan Turing", "person"), ("London", "city")],
        [("Ada Lovelace", "person"), ("London", "city")],
    ]
    assert models["models"][0]["kind"] == "Gazetteer"


@pytest.mark.parametrize("options", OPTIONS)
def test_generative_student_is_served(generative: GenerativeExtractor, options: dict) -> None:
    assert isinstance(generative, Extractor)
    before = generative.counts["questions"]
    with ServerThread(generative, ServeSettings()) as srv:
        resp = post(srv.url, {"texts": TEXTS, "labels": ["person", "city"], **options})
    assert resp.status_code == 200, resp.text
    results = resp.json()["results"]
    assert len(results) == 2
    for text, res in zip(TEXTS, results, strict=True):  # whatever the random model says
        for e in res["entities"]:
            assert text[e["start"] : e["end"]] == e["text"]
    assert generative.counts["questions"] - before == 4  # the model was asked: 2 texts x 2 types


def test_contract_deadline_stops_the_baseline_and_the_generative_student(
    gazetteer: Gazetteer, generative: GenerativeExtractor
) -> None:
    passed = Deadline(at=0.0, clock=lambda: 1.0)
    for ext in (gazetteer, generative):
        with pytest.raises(DeadlineExceeded):
            ext.extract_batch(TEXTS, ["person"], deadline=passed)
