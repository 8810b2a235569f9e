"""The official UniNER metric, reproduced rule for rule, plus the paper's partial-match variant.

The published numbers come from a script that scores *strings*, not offsets, and whose parser is
deliberately unforgiving. Reproducing the numbers means reproducing its quirks too, so each rule
below is kept as the script has it even where a friendlier parser would score differently:

* :func:`parse_answer` takes the first ``[...]`` only if the answer *starts* with ``[``
  (``re.match``, not ``re.search``), and the non-greedy ``\\[(.*?)\\]`` stops at the first ``]``
  (so a mention containing ``]`` breaks the whole answer) and does not cross newlines (``.``
  without DOTALL). No match means ``[]``. The matched text must be valid JSON (single quotes
  are not). Any failure, including a non-string item such as a number, empties the answer.
* Items are normalised SQuAD-style (:func:`normalize_answer`) and de-duplicated per query.
  The script turns list items into tuples of normalised strings; that branch is kept but can
  never run, because the regex match of an answer with a nested list ends at the inner ``]``
  and is then not valid JSON (such answers score as empty).
* Scoring is micro over all queries: a parsed prediction is correct if it occurs in the parsed
  gold list; precision and recall divide by the counts plus 1e-10 (``OFFICIAL_EPSILON``).

The one deliberate difference: the script ``zip``s predictions with golds and so silently drops
the tail of the longer list; here mismatched lengths raise ``ValueError``, because that is always
a bug upstream and would otherwise inflate or deflate scores unnoticed.
"""

from __future__ import annotations

import json
import re
import string
from collections.abc import Sequence
from typing import Any

from uniner.evaluation.counts import PRF, Counts, maximum_matching

OFFICIAL_EPSILON = 1e-10
"""Added to every denominator by the official script; pass to :meth:`Counts.prf` to match it."""

PARTIAL_CREDIT = 0.5
"""Credit of a partially matched prediction (paper, Table 5)."""

_ANSWER_RE = re.compile(r"\[(.*?)\]")
_ARTICLES_RE = re.compile(r"\b(a|an|the)\b")
_PUNCTUATION = frozenset(string.punctuation)

Item = str | tuple[str, ...]


def normalize_answer(s: str) -> str:
    """SQuAD normalisation, in the SQuAD order: lower, drop ASCII punctuation, drop articles,
    squash whitespace.

    The order matters: punctuation goes before articles, so "the-art" becomes "theart" (kept),
    and articles are replaced by a space, so "An apple a day" becomes "apple day". Only ASCII
    ``string.punctuation`` is removed (curly quotes and en dashes survive), as in the script.
    Raises ``AttributeError`` for non-strings, which :func:`parse_answer` turns into ``[]``.
    """
    s = s.lower()
    s = "".join(ch for ch in s if ch not in _PUNCTUATION)
    s = _ARTICLES_RE.sub(" ", s)
    return " ".join(s.split())


def _parse_or_raise(text: str) -> list[Item]:
    match = _ANSWER_RE.match(text)
    raw = match.group() if match else "[]"
    items = json.loads(raw)
    out: list[Item] = []
    for item in items:
        norm: Item
        if isinstance(item, (list, tuple)):
            # Kept as in the script, but unreachable: a nested list's "]" ends the regex match
            # early, so json.loads has already failed on any answer that contains one.
            norm = tuple(normalize_answer(element) for element in item)
        else:
            norm = normalize_answer(item)
        if norm not in out:
            out.append(norm)
    return out


def parse_answer(text: str) -> list[Item]:
    """A model's (or gold) answer string as the official script reads it: normalised, distinct
    items in order; ``[]`` on any failure (see the module docstring for the exact rules)."""
    try:
        return _parse_or_raise(text)
    except Exception:  # the script swallows every error; so must a faithful reproduction
        return []


def answer_string(mentions: Sequence[str]) -> str:
    """Serialise mention strings the way UniNER answers are written: ``json.dumps`` of a list.

    ``ensure_ascii`` stays on (non-ASCII as ``\\uXXXX``), as in the released UniNER data files;
    :func:`parse_answer` reads both forms identically.
    """
    return json.dumps(list(mentions))


def _check_lengths(preds: Sequence[str], golds: Sequence[str]) -> None:
    if isinstance(preds, str) or isinstance(golds, str):
        raise TypeError("preds and golds must be sequences of answer strings, not one string")
    if len(preds) != len(golds):
        raise ValueError(
            f"got {len(preds)} predictions but {len(golds)} gold answers: they must be aligned "
            "one to one (the official script's zip would silently drop the extra ones)"
        )


def score_official(preds: Sequence[str], golds: Sequence[str]) -> Counts:
    """Micro counts over aligned (prediction, gold) answer strings, as the official script.

    ``score_official(p, g).prf(OFFICIAL_EPSILON)`` gives the script's numbers bit for bit; the
    plain ``.precision/.recall/.f1`` differ from them by about 1e-10.
    """
    _check_lengths(preds, golds)
    correct = predicted = gold = 0
    for pred_text, gold_text in zip(preds, golds, strict=True):
        pred_items = parse_answer(pred_text)
        gold_items = parse_answer(gold_text)
        correct += sum(1 for item in pred_items if item in gold_items)
        predicted += len(pred_items)
        gold += len(gold_items)
    return Counts(correct, predicted, gold)


def official_prf(preds: Sequence[str], golds: Sequence[str]) -> PRF:
    """The official script's precision, recall and F1 (with its 1e-10 smoothing)."""
    return score_official(preds, golds).prf(OFFICIAL_EPSILON)


def _words(item: Item) -> frozenset[str]:
    # Partial matching is defined on strings; list/tuple items only ever match exactly.
    return frozenset(item.split()) if isinstance(item, str) else frozenset()


def partial_counts(pred_items: Sequence[Any], gold_items: Sequence[Any]) -> Counts:
    """Partial-match counts of one query's parsed items (see :func:`score_official_partial`)."""
    gold_set = set(gold_items)
    exact = sum(1 for item in pred_items if item in gold_set)
    rest_pred = [item for item in pred_items if item not in gold_set]
    rest_gold = [item for item in gold_items if item not in set(pred_items)]
    pred_words = [_words(item) for item in rest_pred]
    gold_words = [_words(item) for item in rest_gold]
    partial = maximum_matching(
        len(rest_pred), len(rest_gold), lambda i, j: bool(pred_words[i] & gold_words[j])
    )
    return Counts(exact + PARTIAL_CREDIT * partial, len(pred_items), len(gold_items))


def score_official_partial(preds: Sequence[str], golds: Sequence[str]) -> Counts:
    """The paper's partial-match metric (Table 5) on answer strings.

    Rule, per query, on the official parse (so normalisation, de-duplication and every parse
    failure are exactly as in :func:`score_official`):

    1. Exact matches first: a prediction equal to a gold item scores 1 and uses that gold.
    2. Each remaining prediction may be paired with a remaining gold of the same query that
       shares at least one word (normalised, whitespace-split; articles and punctuation are
       already gone, so "the" or "." never count as shared). A pair scores 0.5.
    3. Each gold (and each prediction) is used at most once; among the possible pairings the
       largest is taken (maximum bipartite matching), so the score does not depend on the
       order of the predicted list.

    Predicted and gold counts are unchanged, so partial-match scores are never below the
    official ones. Tuple items (answers given as lists) take part only in exact matching.
    """
    _check_lengths(preds, golds)
    total = Counts()
    for pred_text, gold_text in zip(preds, golds, strict=True):
        total = total + partial_counts(parse_answer(pred_text), parse_answer(gold_text))
    return total
