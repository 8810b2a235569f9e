"""Teacher prompt templates: versioned JSON files and a small registry.

A template is ``{"name", "version", "variant", "system", "user", "description"}`` where ``user``
contains ``{passage}``, with optional ``examples`` (``[{"passage", "answer"}]``) sent as
demonstration turns before the passage: a 135M local model only answers in the asked format after
seeing one (``pile-ner-type-1shot``), while the paper's prompts are zero-shot. The shipped
``pile-ner-type`` and ``pile-ner-definition`` (``templates/*.v1.json``) are the paper's type-based
and definition-based prompts with its system message, verbatim. Users add their own by passing
a path to a JSON file of the same shape. The version is part of every store key, so editing a
template means bumping its version and never silently mixing answers to two different prompts.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from pathlib import Path

from uniner.data.errors import DataFormatError

TEMPLATE_DIR = Path(__file__).parent / "templates"
VARIANTS = ("type", "definition")
SHAPE = '{"name": str, "version": int, "variant": "type"|"definition", "system": str, "user": str}'


@dataclass(frozen=True, slots=True)
class PromptTemplate:
    name: str
    version: int
    variant: str
    system: str
    user: str
    description: str = ""
    examples: tuple[tuple[str, str], ...] = ()  # (passage, answer) demonstrations

    @property
    def id(self) -> str:
        """``name@version``, the identity used in store keys and reports."""
        return f"{self.name}@{self.version}"

    @property
    def digest(self) -> str:
        """Hash of the prompt text, so an edited file without a version bump is still told apart."""
        shots = "\0".join(p + "\0" + a for p, a in self.examples)
        return hashlib.sha256((self.system + "\0" + self.user + "\0" + shots).encode()).hexdigest()[
            :16
        ]

    def messages(self, passage: str) -> list[dict[str, str]]:
        """The chat messages for one passage (system first, as the paper sends them)."""
        msgs = []
        if self.system:
            msgs.append({"role": "system", "content": self.system})
        for shot_passage, answer in self.examples:  # few-shot turns, for small teachers
            msgs.append({"role": "user", "content": self.user.replace("{passage}", shot_passage)})
            msgs.append({"role": "assistant", "content": answer})
        msgs.append({"role": "user", "content": self.user.replace("{passage}", passage)})
        return msgs


def load_template_file(path: str | Path) -> PromptTemplate:
    """Read and validate a template file; errors name the file and the field."""
    path = Path(path)
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except json.JSONDecodeError as exc:
        raise DataFormatError(
            path, f"invalid JSON: {exc.msg}", line=exc.lineno, expected=SHAPE
        ) from None
    if not isinstance(data, dict):
        raise DataFormatError(path, "a template must be a JSON object", expected=SHAPE)
    for key, typ in (("name", str), ("version", int), ("user", str)):
        if not isinstance(data.get(key), typ):
            raise DataFormatError(
                path, f"field {key!r} missing or not {typ.__name__}", expected=SHAPE
            )
    if "{passage}" not in data["user"]:
        raise DataFormatError(
            path, "field 'user' must contain the placeholder {passage}", expected=SHAPE
        )
    variant = data.get("variant", "type")
    if variant not in VARIANTS:
        raise DataFormatError(
            path, f"field 'variant' is {variant!r}", expected=" or ".join(VARIANTS)
        )
    examples = data.get("examples", [])
    if not isinstance(examples, list) or not all(
        isinstance(e, dict)
        and isinstance(e.get("passage"), str)
        and isinstance(e.get("answer"), str)
        for e in examples
    ):
        raise DataFormatError(
            path,
            'field \'examples\' must be a list of {"passage": str, "answer": str}',
            expected=SHAPE,
        )
    return PromptTemplate(
        name=data["name"],
        version=data["version"],
        variant=variant,
        system=str(data.get("system", "")),
        user=data["user"],
        description=str(data.get("description", "")),
        examples=tuple((e["passage"], e["answer"]) for e in examples),
    )


def builtin_templates() -> dict[str, PromptTemplate]:
    """Shipped templates by name (the highest version of each) and by ``name@version``."""
    found: dict[str, PromptTemplate] = {}
    for path in sorted(TEMPLATE_DIR.glob("*.json")):
        t = load_template_file(path)
        found[t.id] = t
        if t.name not in found or found[t.name].version < t.version:
            found[t.name] = t
    return found


def get_template(ref: str | Path) -> PromptTemplate:
    """A shipped template by ``name`` or ``name@version``, or a user's template file."""
    templates = builtin_templates()
    if str(ref) in templates:
        return templates[str(ref)]
    path = Path(ref)
    if path.suffix == ".json" and path.is_file():
        return load_template_file(path)
    names = sorted(k for k in templates if "@" not in k)
    raise KeyError(
        f"unknown template {str(ref)!r}: not a shipped name ({', '.join(names)}) "
        "nor an existing .json file"
    )
