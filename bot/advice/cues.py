"""Cues: patterns in free text that imply an answer, select a topic or add a route.

The intake uses ``read_cues`` to pre-fill answers from a person's story; the advice uses
``apply_cues`` so a typed worry selects the topic that answers it.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any

from bot.messages import QuestionKind
from bot.playbook.schema import Cue, CueValue, Playbook

# A negation a few words before a match, in the same clause, turns the match around.
_NEGATION = re.compile(
    r"\b(?:not|no|never|nor|without|hardly|cannot|can't|cant|don't|dont|doesn't|doesnt|"
    r"didn't|didnt|isn't|isnt|aren't|arent|wasn't|won't|wont|wouldn't|wouldnt|"
    r"shouldn't|rather not|neither)\b",
    re.IGNORECASE,
)
_CLAUSE_BREAK = re.compile(r"[.;:!?,\n()]|\b(?:but|however|although|though|whereas)\b", re.I)
NEGATION_WINDOW = 4  # words before the match that may negate it


@lru_cache(maxsize=2048)
def _compiled(pattern: str) -> re.Pattern[str]:
    return re.compile(pattern, re.IGNORECASE)


def _negated(text: str, start: int) -> bool:
    before = text[:start]
    breaks = list(_CLAUSE_BREAK.finditer(before))
    clause = before[breaks[-1].end() :] if breaks else before
    words = clause.split()[-NEGATION_WINDOW:]
    return bool(_NEGATION.search(" ".join(words)))


@dataclass(slots=True)
class CueHits:
    """What free text implied: answers (question id -> value), topics and routes."""

    sets: list[CueValue] = field(default_factory=list)
    topics: list[str] = field(default_factory=list)
    routes: list[str] = field(default_factory=list)


def _effect(cue: Cue, text: str) -> tuple[bool, bool]:
    """(matched, negated) for the first match of any of the cue's patterns."""
    for pattern in cue.match:
        for m in _compiled(pattern).finditer(text):
            return True, _negated(text, m.start())
    return False, False


def read_cues(pb: Playbook, text: str) -> CueHits:
    """Every cue that fires in ``text`` (a negated match counts as its ``negated`` value)."""
    hits = CueHits()
    if not text:
        return hits
    for cue in pb.cues:
        matched, negated = _effect(cue, text)
        if not matched:
            continue
        if negated:
            if cue.negated is not None:
                hits.sets.append(cue.negated)
            continue
        if cue.set is not None:
            hits.sets.append(cue.set)
        if cue.topic is not None and cue.topic not in hits.topics:
            hits.topics.append(cue.topic)
        if cue.route is not None and cue.route not in hits.routes:
            hits.routes.append(cue.route)
    return hits


def free_text(pb: Playbook, answers: Mapping[str, Any]) -> str:
    """All free-text answers, one clause-separated block."""
    parts = [
        str(answers[q.id])
        for q in pb.questions
        if q.kind == QuestionKind.FREE_TEXT and answers.get(q.id)
    ]
    return "\n".join(parts)


def apply_cues(pb: Playbook, answers: Mapping[str, Any]) -> tuple[dict[str, Any], CueHits]:
    """Answers with what the free text implies filled in, and the hits.

    An implied value never overrides an answer the person gave: it fills a question left
    unanswered (or adds a choice to a multiple-choice answer). Routes named in the text
    join the answer to the routes question.
    """
    hits = read_cues(pb, free_text(pb, answers))
    out = dict(answers)
    filled: set[str] = set()
    for value in hits.sets:
        q = pb.question(value.q)
        if q is None or (answers.get(q.id) is not None and q.id not in filled):
            continue
        if q.kind == QuestionKind.MULTI_CHOICE:
            picked = list(out.get(q.id) or [])
            if value.value not in picked:
                picked.append(value.value)
            out[q.id] = [c for c in q.choice_ids if c in picked]
        elif q.id not in filled:  # the first cue for a question wins
            out[q.id] = value.value
        filled.add(q.id)
    routes_q = pb.role_question("routes")
    if routes_q is not None and hits.routes:
        current = list(out.get(routes_q.id) or [])
        merged = [c for c in routes_q.choice_ids if c in current or c in hits.routes]
        out[routes_q.id] = merged
    return out, hits
