"""Test doubles for check-ins: a hand-cranked clock and a CheckInSender that records.

Adapter tests can use RecordingSender to stand in for the platform; tests of the core use
it to script what the platform answers (delivered, 429, DMs closed).
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from bot.checkins.sender import Delivered, SendResult
from bot.events import UserRef
from bot.messages import ReminderMessage
from bot.ports import Notification


class FakeClock:
    """Time that moves only when told to; ``sleep`` moves it instead of waiting."""

    def __init__(self, start: datetime) -> None:
        self.now = start
        self.slept = 0.0

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **delta: float) -> datetime:
        self.now += timedelta(**delta)
        return self.now

    async def sleep(self, seconds: float) -> None:
        step = max(0.0, seconds)
        self.slept += step
        # At least a microsecond (datetime's resolution), so a waiter always gets there.
        self.now += max(timedelta(seconds=step), timedelta(microseconds=1 if step else 0))
        await asyncio.sleep(0)  # like a real sleep, let other tasks run


@dataclass
class Sent:
    user: UserRef
    message: ReminderMessage
    key: str


@dataclass
class RecordingSender:
    """Records every send; ``script`` decides each answer (default: delivered).

    Like Discord with ``enforce_nonce``, a key seen before is answered with the first
    message instead of a new one: ``delivered`` counts distinct messages, ``sends`` every
    call.
    """

    platform: str = "discord"
    max_rate: float | None = None
    script: Callable[[int, UserRef, ReminderMessage, str], SendResult] | None = None
    sends: list[Sent] = field(default_factory=list)
    delivered: dict[str, Sent] = field(default_factory=dict)
    nonce_hits: int = 0

    async def send(
        self, user: UserRef, notification: Notification, idempotency_key: str
    ) -> SendResult:
        message = notification.source
        assert message is not None and notification.cards  # the core always presents it
        call = len(self.sends)
        self.sends.append(Sent(user, message, idempotency_key))
        result = self.script(call, user, message, idempotency_key) if self.script else Delivered()
        if isinstance(result, Delivered):
            if idempotency_key in self.delivered:
                self.nonce_hits += 1
            else:
                self.delivered[idempotency_key] = Sent(user, message, idempotency_key)
        return result
