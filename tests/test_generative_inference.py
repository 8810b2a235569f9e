"""Inference: prefix reuse == plain generation == transformers generate; windows; prompts."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
import torch

from tests.doubles.generative import make_tiny_causal_lm
from uniner.models import DEFAULT_MODEL
from uniner.students.generative.extractor import GenerativeExtractor, is_generative
from uniner.students.generative.inference import GenerativeEngine, parse_generation, parse_pairs
from uniner.students.generative.template import IE_AS_QA
from uniner.students.generative.train import META_FILE

TEXTS = [
    "Alan Turing was born in London.",
    "Marie Curie discovered polonium at the University of Paris in 1898.",
    "Ada Lovelace wrote the first algorithm.",
]
LABELS = ["person", "city", "date", "programming language"]


@pytest.fixture(scope="module")
def tiny(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return make_tiny_causal_lm(tmp_path_factory.mktemp("tiny-lm-inf"), seed=3)


@pytest.fixture(scope="module")
def loaded(tiny: Path, one_torch_thread):
    from transformers import AutoModelForCausalLM, AutoTokenizer

    model = AutoModelForCausalLM.from_pretrained(str(tiny)).eval()
    tok = AutoTokenizer.from_pretrained(str(tiny))
    return model, tok


def _engine(loaded, **kw) -> GenerativeEngine:
    model, tok = loaded
    return GenerativeEngine(model, tok, IE_AS_QA.for_tokenizer(tok), max_new_tokens=10, **kw)


def test_prefix_reuse_gives_identical_answers_to_plain_generation(loaded) -> None:
    reuse = _engine(loaded, prefix_reuse=True, batch_questions=64).answer(TEXTS, LABELS)
    plain = _engine(loaded, prefix_reuse=False, batch_questions=64).answer(TEXTS, LABELS)
    one_by_one = [
        [_engine(loaded, prefix_reuse=False).answer([t], [lab])[0][0] for lab in LABELS]
        for t in TEXTS
    ]
    assert reuse == plain == one_by_one
    assert any(a for row in reuse for a in row)  # the random model does say something


def test_reuse_encodes_the_prefix_once_per_passage(loaded) -> None:
    eng = _engine(loaded, prefix_reuse=True)
    eng.answer(TEXTS, LABELS)
    plain = _engine(loaded, prefix_reuse=False)
    plain.answer(TEXTS, LABELS)
    total = plain.stats.suffix_tokens
    assert eng.stats.prefix_tokens + eng.stats.suffix_tokens < total / 2
    assert (
        eng.stats.prefix_tokens + eng.stats.suffix_tokens * 1
        == total - (len(LABELS) - 1) * eng.stats.prefix_tokens
    )


def test_greedy_loop_matches_transformers_generate(loaded) -> None:
    model, tok = loaded
    eng = _engine(loaded, prefix_reuse=True)
    prompt = eng.template.prompt(TEXTS[1], "city")
    ids = tok(prompt, return_tensors="pt")["input_ids"]
    ref = model.generate(
        ids,
        attention_mask=torch.ones_like(ids),
        do_sample=False,
        max_new_tokens=10,
        eos_token_id=tok.eos_token_id,
        pad_token_id=tok.pad_token_id,
    )[0, ids.shape[1] :].tolist()
    ref = ref[: ref.index(tok.eos_token_id)] if tok.eos_token_id in ref else ref
    k = len(eng.template.prefix(TEXTS[1]))  # any split point must give the same tokens
    pre = tok(prompt[:k])["input_ids"]
    full = ids[0].tolist()
    assert full[: len(pre)] == pre
    got = eng.greedy([pre], [full[len(pre) :]], [0])[0]
    assert got == ref


def test_parse_generation_follows_the_official_reader() -> None:
    assert parse_generation(' ["a", "b"] trailing') == ["a", "b"]
    assert parse_generation("[]") == []
    assert parse_generation('The answer is ["a"]') is None  # must start with "["
    assert parse_generation("['a']") is None  # not JSON
    assert parse_generation('["a", 3]') == ["a"]


class _Scripted(GenerativeEngine):
    """An engine whose 'model' answers from a script (to test windowing and alignment)."""

    def __init__(self, loaded, script: dict[str, str], **kw) -> None:
        model, tok = loaded
        super().__init__(model, tok, IE_AS_QA.for_tokenizer(tok), **kw)
        self.script = script
        self.seen: list[str] = []

    def answer(self, texts, labels, dataset=None):
        self.seen += list(texts)
        return [[self.script.get(lab, "[]") for lab in labels] for _ in texts]


def test_long_text_is_windowed_and_entities_merged(loaded, tiny: Path) -> None:
    text = " ".join(f"Alan Turing met friend{i} in London." for i in range(30))
    ext = GenerativeExtractor(str(tiny))
    ext._engine = _Scripted(
        loaded, {"city": '["London", "Atlantis"]'}, max_context=120, max_new_tokens=16
    )
    ents = ext.extract(text, ["city", "person"])
    assert len(ext._engine.seen) > 1  # the text did not fit: several windows
    starts = [i for i in range(len(text)) if text.startswith("London", i)]
    assert [(e.start, e.label) for e in ents] == [(s, "city") for s in starts]
    assert all(text[e.start : e.end] == "London" for e in ents)
    assert ext.counts["unfound"] == len(ext._engine.seen) and ("city", "Atlantis") in ext.unfound


def test_parse_pairs_reads_all_in_one_answers() -> None:
    raw = ' [["London", "city"], ["Ada", "person"], ["x"], 3, ["y", 4]] and more'
    assert parse_pairs(raw) == [("London", "city"), ("Ada", "person")]
    assert parse_pairs("[]") == []
    assert parse_pairs('[["London", "ci') is None and parse_pairs("London") is None


def test_an_all_in_one_model_is_asked_once_per_text(loaded, tiny: Path, tmp_path: Path) -> None:
    model = tmp_path / "aio"
    shutil.copytree(tiny, model)
    tok = loaded[1]
    meta = {"template": "ie_as_qa", "eot": tok.eos_token, "questions": "all-in-one"}
    (model / META_FILE).write_text(json.dumps(meta), encoding="utf-8")
    ext = GenerativeExtractor(str(model))
    answer = '[["London", "city"], ["Alan Turing", "person"], ["Paris", "country"]]'
    ext._engine = _Scripted(loaded, {"city, person": answer}, max_new_tokens=16)
    text = "Alan Turing was born in London."
    ents = ext.extract(text, ["city", "person"])
    assert [(text[e.start : e.end], e.label) for e in ents] == [
        ("Alan Turing", "person"),
        ("London", "city"),
    ]
    assert ext.counts["questions"] == 1 and ext.counts["unasked"] == 1  # "country" not asked
    assert len(ext.prompts(text, ["city", "person"])) == 1


def test_empty_label_list_and_empty_text(loaded, tiny: Path) -> None:
    ext = GenerativeExtractor(str(tiny))
    ext._engine = _Scripted(loaded, {"city": '["London"]'}, max_new_tokens=8)
    with pytest.raises(ValueError, match="no entity type"):
        ext.extract_batch(["London."], [])
    assert ext.extract_batch(["", "London."], ["city"]) == [
        [],
        [ext.extract("London.", ["city"])[0]],
    ]


def test_context_too_small_for_any_passage_is_a_clear_error(loaded) -> None:
    eng = _engine(loaded, max_context=64)
    with pytest.raises(ValueError, match="leaves"):
        eng.windows("Alan Turing was born in London.", LABELS)


def test_uniner_hub_id_builds_official_prompts_without_download(monkeypatch) -> None:
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    ref = "Universal-NER/UniNER-7B-type"
    assert is_generative(ref)
    ext = GenerativeExtractor.load(ref)
    assert ext.prompts("Alan Turing was born in London.", ["person", "city"]) == [
        "A virtual assistant answers questions from a user based on the provided text. "
        "USER: Text: Alan Turing was born in London. ASSISTANT: I've read this text.</s>"
        f"USER: What describes {t} in the text? ASSISTANT:"
        for t in ("person", "city")
    ]
    assert ext._engine is None  # no weights were touched


def test_model_folder_is_detected(tiny: Path, tmp_path: Path) -> None:
    assert is_generative(str(tiny))
    assert not is_generative(str(tmp_path))
    assert not is_generative(DEFAULT_MODEL)


def test_bench_resolves_generative_models(tiny: Path) -> None:
    from uniner.benchmark.bench import resolve_extractor

    ext = resolve_extractor(str(tiny))
    assert isinstance(ext, GenerativeExtractor) and ext.template.eot == "</s>"


def test_vllm_backend_is_optional_and_uses_the_same_prompts(tiny: Path) -> None:
    hf = GenerativeExtractor(str(tiny))
    vl = GenerativeExtractor(str(tiny), backend="vllm")
    assert vl.prompts(TEXTS[0], LABELS) == hf.prompts(TEXTS[0], LABELS)
    try:
        import vllm  # noqa: F401
    except ImportError:
        with pytest.raises(ImportError, match=r"uniner\[vllm\]"):
            vl.engine  # noqa: B018
    with pytest.raises(ValueError, match="backend"):
        GenerativeExtractor(str(tiny), backend="onnx")
