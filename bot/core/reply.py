"""What every core call returns: an explicit outcome and the cards to show.

Why: adapters must never guess what happened from the shape or wording of messages (was
the answer applied? was the click stale?). The core says it, and the adapter acts on it:
update the clicked message after ``APPLIED``, answer a stale click politely, and so on.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from bot.ui.cards import Card

__all__ = [
    "Outcome",
    "Reply",
]


class Outcome(StrEnum):
    APPLIED = "applied"  # the event changed something, as asked
    SHOWN = "shown"  # nothing changed: a view (status, details, a list, an export)
    CONFIRM = "confirm"  # nothing changed yet: the cards ask the person to confirm
    INVALID = "invalid"  # the input does not fit; the cards say what is expected
    STALE = "stale"  # a click on an old message: already answered or moved on
    REFUSED = "refused"  # not the person's to do (someone else's buttons, not an admin)
    NOT_FOUND = "not_found"  # nothing to act on (no consultation, an unknown check-in)
    UNAVAILABLE = "unavailable"  # the database cannot be reached; nothing was lost


@dataclass(frozen=True, slots=True, kw_only=True)
class Reply:
    """``receipt``: what the clicked message should now say (the question with its answer,
    a check-in with what was chosen); adapters that can edit a message replace it."""

    outcome: Outcome
    cards: tuple[Card, ...] = ()
    receipt: Card | None = None
    finished: bool = False  # the cards hold a finished recommendation
    awaiting: str = ""  # what the core now waits for (a question id, "confirm:forget", "")

    def text(self) -> str:
        """Every card as plain text (tests, and plain-text fallbacks)."""
        return "\n\n".join(c.plain() for c in self.cards)
