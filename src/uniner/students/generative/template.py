"""The ``ie_as_qa`` conversation of UniNER, rendered character for character.

The released UniNER models were trained and are served with FastChat's ``ADD_COLON_TWO`` style:
the system message, then each message as ``ROLE: message`` followed by a separator that
alternates between ``" "`` (after user turns) and the end-of-turn string ``"</s>"`` (after
assistant turns); the turn left for the model is rendered as ``ROLE:`` with nothing after it.
For one passage and two questions that gives (one line, wrapped here)::

    A virtual assistant answers questions from a user based on the provided text.
    USER: Text: {text} ASSISTANT: I've read this text.</s>USER: What describes {t1} in the
    text? ASSISTANT: ["a", "b"]</s>USER: What describes {t2} in the text? ASSISTANT:

Why a re-implementation and not a chat template: prompts must match the official ones exactly
(a test pins the string), including its quirks:

* the *training* copy of the official template says "provided paragraph." where the inference
  copy says "provided text." (:data:`IE_AS_QA_PARAGRAPH` keeps the training wording; our own
  students train and infer with one wording, chosen in the run config);
* the supervised variant puts ``Dataset: {name}`` on a line before ``Text:`` in the first user
  turn (used in the supervised setting, omitted in zero-shot);
* the end-of-turn is LLaMA's ``</s>``. A student built on another tokenizer (SmolLM2's is
  ``<|im_end|>``) cannot learn to stop on a string it splits into ``<``, ``/s``, ``>``, so
  :meth:`Template.for_tokenizer` swaps in that tokenizer's EOS token; the LLaMA-based UniNER
  checkpoints keep ``</s>``. The end-of-turn used at training time is saved with the model.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from typing import Any

SYSTEM_TEXT = "A virtual assistant answers questions from a user based on the provided text."
SYSTEM_PARAGRAPH = (
    "A virtual assistant answers questions from a user based on the provided paragraph."
)
ACK = "I've read this text."

#: Hub ids of the released UniNER checkpoints (LLaMA tokenizer, ``</s>`` end-of-turn).
UNINER_HUB_IDS = frozenset(
    {
        "Universal-NER/UniNER-7B-type",
        "Universal-NER/UniNER-7B-definition",
        "Universal-NER/UniNER-7B-type-sup",
        "Universal-NER/UniNER-7B-all",
    }
)


@dataclass(frozen=True)
class Segment:
    """A piece of a rendered conversation; ``target`` pieces are what the model must produce."""

    text: str
    target: bool


@dataclass(frozen=True)
class Template:
    """One conversation template; :meth:`render` is the only place prompts are built."""

    name: str
    system: str
    user: str = "USER"
    assistant: str = "ASSISTANT"
    sep: str = " "
    eot: str = "</s>"
    ack: str = ACK
    question: str = "What describes {type} in the text?"
    passage: str = "Text: {text}"
    dataset_passage: str = "Dataset: {dataset}\nText: {text}"

    def first_turn(self, text: str, dataset: str | None = None) -> str:
        if dataset is None:
            return self.passage.format(text=text)
        return self.dataset_passage.format(dataset=dataset, text=text)

    def header(self, text: str, dataset: str | None = None) -> list[Segment]:
        """System message, passage turn and the fixed acknowledgement (a training target)."""
        return [
            Segment(
                f"{self.system}{self.sep}{self.user}: {self.first_turn(text, dataset)}"
                f"{self.sep}{self.assistant}:",
                False,
            ),
            Segment(f" {self.ack}{self.eot}", True),
        ]

    def qa(self, label: str, answer: str | None) -> list[Segment]:
        """One question turn and its answer (``None``: left open for the model)."""
        q = Segment(
            f"{self.user}: {self.question.format(type=label)}{self.sep}{self.assistant}:", False
        )
        if answer is None:
            return [q]
        return [q, Segment(f" {answer}{self.eot}", True)]

    def segments(
        self,
        text: str,
        qas: Sequence[tuple[str, str | None]],
        dataset: str | None = None,
    ) -> list[Segment]:
        """All pieces of a conversation; only the last answer may be ``None`` (the open turn)."""
        for label, answer in qas[:-1]:
            if answer is None:
                raise ValueError(f"only the last question may be unanswered (type {label!r})")
        out = self.header(text, dataset)
        for label, answer in qas:
            if not isinstance(label, str) or not label.strip():
                raise ValueError(f"an entity type must be a non-empty string, got {label!r}")
            out += self.qa(label, answer)
        return out

    def render(
        self,
        text: str,
        qas: Sequence[tuple[str, str | None]],
        dataset: str | None = None,
    ) -> str:
        """The conversation as one string (FastChat ``get_prompt`` output)."""
        return "".join(s.text for s in self.segments(text, qas, dataset))

    def prompt(self, text: str, label: str, dataset: str | None = None) -> str:
        """The inference prompt for one (passage, type) question, as the official code builds it."""
        return self.render(text, [(label, None)], dataset)

    def prefix(self, text: str, dataset: str | None = None) -> str:
        """The part every question about ``text`` shares (its KV cache is reusable)."""
        return "".join(s.text for s in self.header(text, dataset))

    def for_tokenizer(self, tokenizer: Any) -> Template:
        """This template with an end-of-turn the tokenizer encodes as its single EOS token."""
        eos = getattr(tokenizer, "eos_token", None)
        if eos is None:
            raise ValueError("the tokenizer has no eos_token: cannot mark the end of a turn")
        ids = tokenizer.encode(self.eot, add_special_tokens=False)
        if ids == [tokenizer.eos_token_id]:
            return self
        return replace(self, eot=eos)


IE_AS_QA = Template("ie_as_qa", SYSTEM_TEXT)
IE_AS_QA_PARAGRAPH = Template("ie_as_qa_paragraph", SYSTEM_PARAGRAPH)
TEMPLATES = {t.name: t for t in (IE_AS_QA, IE_AS_QA_PARAGRAPH)}


def get_template(name: str, eot: str | None = None) -> Template:
    """A template by name, optionally with another end-of-turn string."""
    if name not in TEMPLATES:
        raise ValueError(f"unknown template {name!r}; known: {', '.join(TEMPLATES)}")
    t = TEMPLATES[name]
    return t if eot is None else replace(t, eot=eot)


def template_for_model(ref: str) -> Template | None:
    """The template a known model id implies, with no download (None when not known).

    The released UniNER checkpoints were served with the inference wording and ``</s>``.
    """
    if ref in UNINER_HUB_IDS:
        return IE_AS_QA
    return None
