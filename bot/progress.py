"""Where a person is in a consultation, as "question N of M" that never grows by surprise.

Counting only the questions visible now makes the total jump up when an answer reveals a
conditional question (1/13, then 3/14). The total here also counts every question whose
condition is still undecided (it depends on a question not answered yet), so as answers
come in the total can only stay or shrink; it grows only when the person changes an
earlier answer.
"""

from __future__ import annotations

from typing import Any

from bot.advice import visible_questions
from bot.playbook.schema import Playbook, PlaybookQuestion


def _undecided(q: PlaybookQuestion, answers: dict[str, Any]) -> bool:
    if q.when is None:
        return False
    return any(leaf.q and leaf.q not in answers for leaf in q.when.leaves())


def progress(pb: Playbook, answers: dict[str, Any], question_id: str) -> tuple[int, int]:
    """(position of ``question_id``, most questions this consultation can still have)."""
    visible = [q.id for q in visible_questions(pb, answers)]
    shown = set(visible)
    total = sum(1 for q in pb.questions if q.id in shown or _undecided(q, answers))
    position = visible.index(question_id) + 1 if question_id in shown else len(visible)
    return position, max(total, position)
