"""The one thing a platform adapter implements for check-ins: send a DM, say how it went.

The core decides what is due, who sends it and what happens after; an adapter only
posts the cards of a Notification, and maps the platform's answer onto SendResult.
docs/checkins.md has the full contract.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol, runtime_checkable

from bot.events import UserRef
from bot.ports import Notification

__all__ = [
    "CheckInSender",
    "Delivered",
    "RetryAfter",
    "SendResult",
    "Unreachable",
]


@dataclass(frozen=True, slots=True)
class Delivered:
    """The platform accepted the message (or, for a repeated nonce, returned the first one)."""

    message_id: str = ""


@dataclass(frozen=True, slots=True)
class RetryAfter:
    """Rate limited (HTTP 429): nothing was posted; try again after ``seconds``.

    ``is_global``: the whole bot is limited (Discord ``global: true``, Slack's workspace
    limit), so every send of this sender pauses; otherwise only this message waits.
    A 429 never counts as a failed attempt: the reminder is delayed, never dropped.
    """

    seconds: float
    is_global: bool = True


@dataclass(frozen=True, slots=True)
class Unreachable:
    """The person cannot get DMs now (DMs closed, user gone, app removed).

    Retried with backoff a bounded number of times, then marked failed with ``reason``,
    which the person sees in their check-in list: keep it short and plain.
    """

    reason: str


SendResult = Delivered | RetryAfter | Unreachable


@runtime_checkable
class CheckInSender(Protocol):
    """Posts check-in DMs for one platform.

    ``platform`` is the UserRef.platform value it serves ("discord", "slack", "console").
    ``max_rate`` is how many sends per second this process may make on the platform
    (None: no pacing); the core paces sends to it and slows down on 429s.
    """

    platform: str
    max_rate: float | None

    async def send(
        self, user: UserRef, notification: Notification, idempotency_key: str
    ) -> SendResult:
        """Post ``notification.cards`` to ``user``'s DM.

        ``idempotency_key`` is the same for every attempt of one delivery and at most 25
        characters: Discord adapters pass it as the message ``nonce`` with
        ``enforce_nonce=True``, so a resend after a crash returns the first message
        instead of posting a second. Raise only for bugs; an exception counts as a
        failed attempt.
        """
        ...
