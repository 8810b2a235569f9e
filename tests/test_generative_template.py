"""Golden prompts of the ie_as_qa template (paper section 2 and the official FastChat code)."""

from __future__ import annotations

import pytest

from tests.doubles.generative import make_tiny_tokenizer
from uniner.students.generative.template import (
    IE_AS_QA,
    IE_AS_QA_PARAGRAPH,
    get_template,
    template_for_model,
)

TEXT = "Alan Turing was born in London."

TWO_QUESTIONS = (
    "A virtual assistant answers questions from a user based on the provided text. "
    "USER: Text: Alan Turing was born in London. ASSISTANT: I've read this text.</s>"
    'USER: What describes person in the text? ASSISTANT: ["Alan Turing"]</s>'
    'USER: What describes city in the text? ASSISTANT: ["London"]</s>'
)


def test_two_question_conversation_golden() -> None:
    got = IE_AS_QA.render(TEXT, [("person", '["Alan Turing"]'), ("city", '["London"]')])
    assert got == TWO_QUESTIONS


def test_inference_prompt_golden() -> None:
    # what the official preprocess_instance builds: the last message left empty -> "ASSISTANT:"
    assert IE_AS_QA.prompt(TEXT, "city") == (
        "A virtual assistant answers questions from a user based on the provided text. "
        "USER: Text: Alan Turing was born in London. ASSISTANT: I've read this text.</s>"
        "USER: What describes city in the text? ASSISTANT:"
    )
    assert IE_AS_QA.prompt(TEXT, "city").startswith(IE_AS_QA.prefix(TEXT))


def test_training_wording_and_dataset_variant() -> None:
    got = IE_AS_QA_PARAGRAPH.render("EU rejects", [("organization", '["EU"]')], dataset="conll2003")
    assert got == (
        "A virtual assistant answers questions from a user based on the provided paragraph. "
        "USER: Dataset: conll2003\nText: EU rejects ASSISTANT: I've read this text.</s>"
        'USER: What describes organization in the text? ASSISTANT: ["EU"]</s>'
    )


def test_dataset_turn_is_read_back_by_the_conversation_reader() -> None:
    from uniner.data.readers.conversation import split_passage_turn

    assert split_passage_turn(IE_AS_QA.first_turn("EU rejects", "conll2003")) == (
        "conll2003",
        "EU rejects",
    )


def test_hub_id_gives_the_official_template_without_download() -> None:
    t = template_for_model("Universal-NER/UniNER-7B-type")
    assert t is IE_AS_QA and t.eot == "</s>"
    assert template_for_model("someone/some-model") is None


def test_end_of_turn_follows_the_tokenizer() -> None:
    llama_like = make_tiny_tokenizer(eos="</s>")
    chatml_like = make_tiny_tokenizer(eos="<|im_end|>")
    assert IE_AS_QA.for_tokenizer(llama_like).eot == "</s>"
    assert IE_AS_QA.for_tokenizer(chatml_like).eot == "<|im_end|>"
    assert (
        get_template("ie_as_qa", eot="<|im_end|>")
        .render(TEXT, [("city", "[]")])
        .endswith("ASSISTANT: []<|im_end|>")
    )


def test_bad_questions_are_refused() -> None:
    with pytest.raises(ValueError, match="non-empty"):
        IE_AS_QA.render(TEXT, [("  ", "[]")])
    with pytest.raises(ValueError, match="only the last"):
        IE_AS_QA.render(TEXT, [("person", None), ("city", "[]")])
    with pytest.raises(ValueError, match="unknown template"):
        get_template("vicuna")
