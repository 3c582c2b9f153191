"""Re-scoring under one changed answer gives the ranking a full re-ranking gives.

``Scorer.change`` re-evaluates only the conditions that read an answer the change moved;
every ranking it returns is compared with a from-scratch ranking written out as the
what-if search used to compute it (every question's and path's condition interpreted
again), for every single change of generated answer sets, on both shipped playbooks and
the test playbooks.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bot.advice.scoring import scorer
from bot.messages import QuestionKind
from bot.playbook.conditions import interpret
from bot.playbook.loader import load_playbook
from bot.playbook.schema import Playbook
from bot.settings import REPO_ROOT

PLAYBOOKS = [
    load_playbook(p)
    for p in (
        *sorted((REPO_ROOT / "config" / "playbooks").glob("*.yaml")),
        *sorted((Path(__file__).parent / "playbooks").glob("*.yaml")),
    )
]


def from_scratch(
    pb: Playbook, answers: dict[str, Any], hide: bool = True
) -> list[tuple[str, float]]:
    visible = [q for q in pb.questions if interpret(q.when, answers)]
    current = {q.id: answers[q.id] for q in visible if q.id in answers} if hide else answers
    weights: dict[str, float] = {}
    for c in pb.criteria:
        wq = pb.question(c.weight.question) if c.weight.question else None
        value = current.get(wq.id) if wq is not None else None
        if wq is None:
            weights[c.id] = c.weight.value
        elif isinstance(value, int):
            weights[c.id] = c.weight.value * (
                (value - wq.scale_min) / (wq.scale_max - wq.scale_min)
            )
        else:
            weights[c.id] = c.weight.value * 0.5
    out = []
    for i, path in enumerate(pb.paths):
        if not interpret(path.when, current):
            continue
        amounts = [weights[crit] * rating for crit, rating in path.ratings.items()]
        amounts += [a.score for a in path.adjust if interpret(a.when, current)]
        out.append((i, path.id, round(path.base + sum(amounts), 4)))
    out.sort(key=lambda t: (-t[2], t[0]))
    return [(pid, score) for _, pid, score in out]


@st.composite
def answer_sets(draw: st.DrawFn, pb: Playbook) -> dict[str, Any]:
    answers: dict[str, Any] = {}
    for q in pb.questions:
        if not draw(st.integers(0, 9)):
            continue  # sometimes an answer to a hidden question, sometimes none at all
        if q.kind == QuestionKind.SINGLE_CHOICE:
            answers[q.id] = draw(st.sampled_from(q.choice_ids))
        elif q.kind == QuestionKind.MULTI_CHOICE:
            picked = draw(st.lists(st.sampled_from(q.choice_ids), max_size=3, unique=True))
            answers[q.id] = [c for c in q.choice_ids if c in picked]
        elif q.kind == QuestionKind.SCALE:
            answers[q.id] = draw(st.integers(q.scale_min, q.scale_max))
        else:
            answers[q.id] = draw(st.sampled_from([None, "", "some words"]))
    return answers


@pytest.mark.parametrize("pb", PLAYBOOKS, ids=lambda pb: pb.id)
@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data())
def test_every_single_change_ranks_as_a_full_ranking(pb: Playbook, data: st.DataObject) -> None:
    answers = data.draw(answer_sets(pb))
    ranks = scorer(pb)
    state = ranks.state(answers)
    assert list(state.order) == from_scratch(pb, answers)
    assert list(ranks.as_given(answers).order) == from_scratch(pb, answers, hide=False)
    for q in pb.questions:
        current = answers.get(q.id)
        alternatives = q.alternatives(current) if current is not None else q.choice_ids
        for value in [*alternatives, None, *([3] if q.kind == QuestionKind.SCALE else [])]:
            changed = {**answers, q.id: value}
            assert list(ranks.change(state, q.id, value)) == from_scratch(pb, changed), (
                q.id,
                value,
            )
            # Asked again (memoised) and from a state of its own: the same.
            assert ranks.change(state, q.id, value) == ranks.state(changed).order
