"""Compiled conditions decide exactly what the interpreted definition decides.

The advice evaluates every condition through ``compiled`` (a function built once per
condition); ``interpret`` walks the model and is the definition. They are compared on
generated conditions and answers of every kind (missing, None, lists, booleans, numbers),
and on every condition of the shipped playbooks.
"""

from __future__ import annotations

from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from bot.playbook.conditions import Condition, compile_condition, evaluate, interpret, references
from bot.playbook.loader import load_playbook
from bot.playbook.schema import _conditions
from bot.settings import REPO_ROOT

QIDS = ["a", "b", "c"]
VALUES = st.one_of(
    st.none(),
    st.sampled_from(["x", "y", "z", ""]),
    st.integers(-1, 6),
    st.booleans(),
    st.lists(st.sampled_from(["x", "y", "z"]), max_size=3),
)
LEAF_VALUE = st.one_of(st.sampled_from(["x", "y", "z"]), st.integers(0, 5), st.booleans())


def leaves() -> st.SearchStrategy[dict[str, Any]]:
    q = st.sampled_from(QIDS)
    return st.one_of(
        st.builds(lambda q, v: {"q": q, "is": v}, q, LEAF_VALUE),
        st.builds(lambda q, v: {"q": q, "in": v}, q, st.lists(LEAF_VALUE, max_size=3)),
        st.builds(lambda q, v: {"q": q, "not_in": v}, q, st.lists(LEAF_VALUE, max_size=3)),
        st.builds(lambda q, v: {"q": q, "gte": v}, q, st.integers(0, 5)),
        st.builds(lambda q, v: {"q": q, "lte": v}, q, st.integers(0, 5)),
        st.builds(lambda q, v: {"q": q, "has": v}, q, st.sampled_from(["x", "y"])),
        st.builds(
            lambda q, v: {"q": q, "has_any": v}, q, st.lists(st.sampled_from("xyz"), max_size=3)
        ),
        st.builds(lambda q, v: {"q": q, "answered": v}, q, st.booleans()),
    )


CONDITIONS = st.recursive(
    leaves(),
    lambda inner: st.one_of(
        st.builds(lambda c: {"all": c}, st.lists(inner, max_size=3)),
        st.builds(lambda c: {"any": c}, st.lists(inner, max_size=3)),
        st.builds(lambda c: {"not": c}, inner),
    ),
    max_leaves=8,
)
ANSWERS = st.dictionaries(st.sampled_from(QIDS), VALUES, max_size=3)


@settings(max_examples=600, deadline=None)
@given(CONDITIONS, st.lists(ANSWERS, min_size=1, max_size=5))
def test_compiled_conditions_agree_with_the_definition(
    raw: dict[str, Any], answer_sets: list[dict[str, Any]]
) -> None:
    cond = Condition.model_validate(raw)
    compiled = compile_condition(cond)
    for answers in answer_sets:
        assert compiled(answers) == interpret(cond, answers)
        assert evaluate(cond, answers) == interpret(cond, answers)
        # Only the answers it references can change it.
        others = {k: v for k, v in answers.items() if k in references(cond)}
        assert compiled(others) == compiled(answers)


@settings(max_examples=100, deadline=None)
@given(st.data())
def test_every_playbook_condition_compiles_to_its_definition(data: st.DataObject) -> None:
    for path in sorted((REPO_ROOT / "config" / "playbooks").glob("*.yaml")):
        pb = load_playbook(path)
        answers: dict[str, Any] = {}
        for q in pb.questions:
            options: list[Any] = [None, *q.choice_ids, 1, 3, 5, [*q.choice_ids[:2]]]
            if data.draw(st.booleans()):
                answers[q.id] = data.draw(st.sampled_from(options))
        for _, cond, _ in _conditions(pb):
            assert evaluate(cond, answers) == interpret(cond, answers)


def test_no_condition_always_holds() -> None:
    assert evaluate(None, {}) is True
    assert compile_condition(None)({"a": 1}) is True
