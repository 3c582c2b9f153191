"""A feature's answer before presentation: the outcome and the domain results it produced.

``answered``: after an applied click, what the clicked message asked (a question, a
check-in, the check-in offer, a confirmation) and the answer in words, so the presenters
can give the Reply a receipt and the adapter can turn the clicked message into it
without re-reading it.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from bot.core.reply import Outcome
from bot.messages import Answerable, AnyMessage


@dataclass(slots=True)
class Result:
    outcome: Outcome
    messages: list[AnyMessage] = field(default_factory=list)
    answered: tuple[Answerable, str] | None = None


def result(outcome: Outcome, *messages: AnyMessage) -> Result:
    return Result(outcome, list(messages))
