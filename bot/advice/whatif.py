"""Re-ranking under changed answers: what would change the advice, and the decision map.

Every claim the advice makes about another answer ("if you wanted X, Y would come first")
comes from here, by re-ranking with that answer, so it is true by construction; the tests
re-rank again to check it.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from bot.advice.ranking import Answers, effective_answers, visible_questions
from bot.advice.scoring import scorer
from bot.messages import QuestionKind
from bot.playbook.schema import Playbook, PlaybookQuestion


def ranked(pb: Playbook, answers: Answers) -> list[tuple[str, float]]:
    """(path id, score) of every path that applies, best first; same sums as score_paths."""
    return list(scorer(pb).state(answers).order)


def top_id(pb: Playbook, answers: Answers) -> str | None:
    order = scorer(pb).state(answers).order
    return order[0][0] if order else None


def family(pb: Playbook, path_id: str) -> str:
    path = pb.path(path_id)
    return pb.family_of(path) if path is not None else f"path:{path_id}"


@dataclass(frozen=True, slots=True)
class Change:
    """One answer changed on its own, and the path that would then come first."""

    question: PlaybookQuestion
    value: Any
    cost: float
    index: int
    top: str


def what_if_questions(pb: Playbook, answers: Answers) -> list[tuple[int, PlaybookQuestion]]:
    """Questions whose answer the person could choose differently (facts and roles excluded)."""
    return [
        (i, q)
        for i, q in enumerate(visible_questions(pb, answers))
        if q.id in answers
        and answers[q.id] is not None
        and q.kind != QuestionKind.FREE_TEXT
        and q.what_if
        and q.role is None
    ]


def single_changes(pb: Playbook, answers: Answers) -> Iterator[Change]:
    current = effective_answers(pb, answers)
    ranks = scorer(pb)
    state = ranks.state(current)
    for index, q in what_if_questions(pb, current):
        for distance, alt in enumerate(q.alternatives(current[q.id]), start=1):
            cost = abs(alt - current[q.id]) if q.kind == QuestionKind.SCALE else distance
            order = ranks.change(state, q.id, alt)
            if order:
                yield Change(q, alt, float(cost), index, order[0][0])


def family_flip(
    pb: Playbook,
    answers: Answers,
    changes: list[Change] | None = None,
    also_not: tuple[str, ...] = (),
) -> Change | None:
    """The smallest single change that puts a path of a DIFFERENT family first.

    ``also_not``: paths whose families do not count as different either (the route the
    advice recommends, when that is not the top of the ranking).
    """
    current = effective_answers(pb, answers)
    top = top_id(pb, current)
    if top is None:
        return None
    same = {family(pb, top), *(family(pb, p) for p in also_not)}
    best: Change | None = None
    for change in single_changes(pb, current) if changes is None else changes:
        if family(pb, change.top) in same:
            continue
        if best is None or (change.cost, change.index) < (best.cost, best.index):
            best = change
    return best


def flips(pb: Playbook, answers: Answers, changes: list[Change] | None = None) -> int:
    """How many questions, each changed on its own, put a different family first."""
    current = effective_answers(pb, answers)
    top = top_id(pb, current)
    if top is None:
        return 0
    fam = family(pb, top)
    pool = single_changes(pb, current) if changes is None else changes
    return len({c.question.id for c in pool if family(pb, c.top) != fam})


@dataclass(frozen=True, slots=True)
class Branch:
    answers: tuple[str, ...]
    path_id: str
    order: tuple[str, ...]


def decision_map(pb: Playbook, answers: Answers, q: PlaybookQuestion) -> list[Branch]:
    """For each decisive answer of a key question: the path that would come first.

    Answers leading to the same path are grouped, in the order of the choices.
    """
    current = effective_answers(pb, answers)
    ranks = scorer(pb)
    state = ranks.state(current)
    groups: dict[str, list[str]] = {}
    orders: dict[str, tuple[str, ...]] = {}
    for cid in q.choice_ids:
        if cid in q.undecided:
            continue
        order = tuple(pid for pid, _ in ranks.change(state, q.id, cid))
        if not order:
            continue
        groups.setdefault(order[0], []).append(cid)
        orders.setdefault(order[0], order)
    return [Branch(tuple(cids), pid, orders[pid]) for pid, cids in groups.items()]


def keep_open(pb: Playbook, answers: Answers, q: PlaybookQuestion) -> str | None:
    """The path whose worst rank across the decisive answers of ``q`` is best."""
    current = effective_answers(pb, answers)
    ranks = scorer(pb)
    state = ranks.state(current)
    now = [pid for pid, _ in state.order]
    rankings = [
        [pid for pid, _ in ranks.change(state, q.id, cid)]
        for cid in q.choice_ids
        if cid not in q.undecided
    ]
    rankings = [r for r in rankings if r]
    if not rankings:
        return None
    candidates = [pid for pid in now if all(pid in r for r in rankings)]
    if not candidates:
        return None

    def worst(pid: str) -> tuple[int, int, int]:
        ranks = [r.index(pid) for r in rankings]
        return (max(ranks), sum(ranks), now.index(pid))

    if worst(now[0])[0] <= 1 and now[0] in candidates:
        return now[0]  # the current leader is first or second whatever the answer: keep it
    return min(candidates, key=worst)
