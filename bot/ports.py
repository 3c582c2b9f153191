"""What the core hands an adapter to deliver on its own initiative (no event to reply to).

A check-in (and later a mentor hand-off) is sent, not answered: the core presents it as
cards like any reply, and a platform's sender posts them to the person's DM.
"""

from __future__ import annotations

from dataclasses import dataclass

from bot.messages import ReminderMessage
from bot.ui.cards import Card

__all__ = [
    "Notification",
]


@dataclass(frozen=True, slots=True, kw_only=True)
class Notification:
    """``cards``: what to post. ``redelivery``: an earlier attempt may already have reached
    the person (its process died between sending and recording), so a platform without a
    nonce can look for that message first. ``source`` is the core's own record of what
    this is, for the core's logs and tests; adapters render ``cards`` only."""

    cards: tuple[Card, ...]
    redelivery: bool = False
    source: ReminderMessage | None = None
