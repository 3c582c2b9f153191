"""Check-ins in the terminal: a sender that prints.

The console has no background DMs: when it starts, it delivers the check-ins due for its
user through the same claim/send/mark loop as the platforms (ConsoleSender prints them),
and typed words ("done", "snooze a week") answer them, as in a DM.
"""

from __future__ import annotations

from collections.abc import Callable

from bot.api import Card, Delivered, Notification, SendResult
from bot.api import events as ev

PLATFORM = "console"


class ConsoleSender:
    """Implements CheckInSender for the terminal: "sending" is printing to this session."""

    platform = PLATFORM
    max_rate: float | None = None

    def __init__(self, show: Callable[[tuple[Card, ...]], None]) -> None:
        self._show = show

    async def send(
        self, user: ev.UserRef, notification: Notification, idempotency_key: str
    ) -> SendResult:
        self._show(notification.cards)
        return Delivered(idempotency_key)
