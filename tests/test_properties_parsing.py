"""Property-based tests of the teacher-output parser and of the record built from an answer.

The parser's contract (module docstring of :mod:`uniner.distill.parsing`): it never raises, it
says which layer succeeded, a well-formed list in any rendering reads back exactly, and a
truncated answer keeps the tuples finished before the cut. The annotation record built from any
answer has entities whose offsets point at the passage.
"""

from __future__ import annotations

import json

from hypothesis import given, settings
from hypothesis import strategies as st

from uniner.distill.annotate import annotation_record
from uniner.distill.filtering import FilterConfig
from uniner.distill.parsing import EMPTY, OK, SALVAGED, STATUSES, UNPARSEABLE, parse_teacher_output

SETTINGS = settings(max_examples=200, deadline=None)
ANSWER_BITS = ['("', '")', "('", "')", '", "', "', '", "[", "]", "(", ")", "```", "\\", '"', "'"]
any_text = st.text(st.characters(codec=None), max_size=30)
# answer-shaped noise: brackets, quotes, fences and escapes mixed with any text
noisy = st.lists(st.sampled_from(ANSWER_BITS) | any_text, max_size=12).map("".join)
# what a mention or type may hold in the round trips: anything but a code fence
field = st.text(st.characters(codec=None, exclude_characters="`"), max_size=12)
# mentions without quotes, brackets or backslashes: the truncation property's realm
plain = st.text(st.characters(codec="utf-8", exclude_characters="'\"()[]{}\\`\n"), max_size=10)


def check_result(text: str) -> None:
    res = parse_teacher_output(text)
    assert res.status in STATUSES and res.malformed >= 0
    assert all(isinstance(a, str) and isinstance(b, str) for a, b in res.pairs)
    if res.pairs:
        assert res.status in (OK, SALVAGED) and res.ok
    else:
        assert res.status in (EMPTY, UNPARSEABLE)


@SETTINGS
@given(text=any_text | noisy)
def test_any_answer_parses_without_raising(text: str) -> None:
    check_result(text)


def render(pairs: list[tuple[str, str]], how: str) -> str:
    if how == "python":
        return repr(pairs)
    if how == "json":
        return json.dumps(pairs)
    if how == "json-ascii":
        return json.dumps(pairs, ensure_ascii=True)
    return json.dumps([{"entity": m, "type": t} for m, t in pairs])


@SETTINGS
@given(
    pairs=st.lists(st.tuples(field, field), min_size=1, max_size=5),
    how=st.sampled_from(["python", "json", "json-ascii", "objects"]),
    wrap=st.sampled_from(["none", "prose", "fence", "both"]),
)
def test_a_well_formed_list_reads_back_exactly(
    pairs: list[tuple[str, str]], how: str, wrap: str
) -> None:
    answer = render(pairs, how)
    if wrap in ("fence", "both"):
        answer = f"```python\n{answer}\n```"
    if wrap in ("prose", "both"):
        answer = f"Here are the entities:\n{answer}\nHope this helps."
    res = parse_teacher_output(answer)
    assert res.status == OK and res.pairs == tuple(pairs) and res.malformed == 0


@SETTINGS
@given(
    pairs=st.lists(st.tuples(plain, plain), min_size=1, max_size=6),
    quote=st.sampled_from(["'", '"']),
    data=st.data(),
)
def test_a_cut_answer_keeps_exactly_the_tuples_finished_before_the_cut(
    pairs: list[tuple[str, str]], quote: str, data: st.DataObject
) -> None:
    items = [f"({quote}{m}{quote}, {quote}{t}{quote})" for m, t in pairs]
    answer = "[" + ", ".join(items) + "]"
    cut = data.draw(st.integers(0, len(answer)))
    res = parse_teacher_output(answer[:cut])
    check_result(answer[:cut])
    closes, pos = [], 1
    for item in items:  # where each tuple's ")" sits in the answer
        pos += len(item)
        closes.append(pos)
        pos += 2
    finished = sum(c <= cut for c in closes)
    assert res.pairs == tuple(pairs[:finished])


@SETTINGS
@given(
    passage=any_text,
    response=any_text | noisy | st.lists(st.tuples(field, field), max_size=4).map(repr),
    lowercase=st.booleans(),
)
def test_the_record_of_any_answer_has_offsets_into_the_passage(
    passage: str, response: str, lowercase: bool
) -> None:
    # an answer naming pieces of the passage, so that some mentions align
    third = len(passage) // 3
    response += repr([(passage[third : 2 * third], "thing"), (passage[:third], " Type ")])
    rec = annotation_record(
        "p", passage, response, filter_config=FilterConfig(lowercase_types=lowercase)
    )
    assert rec["text"] == passage and rec["teacher"]["parse"] in STATUSES
    for e in rec["entities"]:
        assert 0 <= e["start"] < e["end"] <= len(passage)
        assert passage[e["start"] : e["end"]] == e["text"] and e["label"].strip()


def test_json_escaped_emoji_is_one_character_not_two_surrogates() -> None:
    """Found by the round trip: Python's literal reading of ``"\\ud83d\\ude00"`` is two lone
    surrogates, which then align nowhere and are not valid text; JSON's is the emoji."""
    res = parse_teacher_output('[["I \\u2764 NY \\ud83d\\ude00", "slogan"]]')
    assert res.status == OK and res.pairs == (("I \u2764 NY \U0001f600", "slogan"),)
