"""A feature's answer before presentation: the outcome and the domain results it produced.

``answered``: after an applied answer, the question that was answered and the answer in
words, so the adapter can turn the clicked message into a receipt without re-reading it.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from bot.core.reply import Outcome
from bot.messages import AnyMessage, Question


@dataclass(slots=True)
class Result:
    outcome: Outcome
    messages: list[AnyMessage] = field(default_factory=list)
    answered: tuple[Question, str] | None = None


def result(outcome: Outcome, *messages: AnyMessage) -> Result:
    return Result(outcome, list(messages))
