"""Check-ins on Discord: the DM sender the core's delivery worker calls.

Clicks on check-in messages need nothing here: they carry intents like every other
component and go through ``inbound.py``; the core checks ownership, staleness and double
clicks (docs/checkins.md, "What an adapter implements").
"""

from __future__ import annotations

import logging

import aiohttp
import discord

from adapters.discord.cards import render
from adapters.discord.tenancy import PLATFORM
from bot.api import Delivered, Notification, RetryAfter, SendResult, Unreachable, whole_number
from bot.api import events as ev

log = logging.getLogger(__name__)

MAX_RATE = 45.0  # Discord allows 50 requests/s per token; a first DM costs two requests
DMS_CLOSED_REASON = "Your DMs are closed to me."
GONE_REASON = "I cannot find your account any more."
OUTAGE_SECONDS = 30.0  # a Discord 5xx or network failure: wait, without using up attempts


# --------------------------------------------------------------------------- sender


def _retry_after(exc: discord.HTTPException) -> float:
    """Seconds from a 429 discord.py gave up retrying (its Retry-After header, else 5)."""
    response = getattr(exc, "response", None)
    header = response.headers.get("Retry-After") if response is not None else None
    try:
        return max(0.0, float(header)) if header is not None else 5.0
    except ValueError:
        return 5.0


class DiscordCheckInSender:
    """CheckInSender for Discord: a DM per check-in, deduplicated by nonce.

    ``nonce=idempotency_key`` makes discord.py send ``enforce_nonce``: a resend of the same
    delivery (after a crash) gets the first message back instead of posting a second.
    """

    platform = PLATFORM
    max_rate: float | None = MAX_RATE

    def __init__(self, client: discord.Client) -> None:
        self.client = client

    async def send(
        self, user: ev.UserRef, notification: Notification, idempotency_key: str
    ) -> SendResult:
        owner = whole_number(user.user_id)
        if owner is None:
            return Unreachable(GONE_REASON)
        (out, *rest) = render(notification.cards) or [None]
        if out is None or rest:  # one nonce, so one message: a reminder is one card
            raise ValueError("a check-in notification must be one Discord message")
        try:
            channel = await self.client.create_dm(discord.Object(owner))
            sent = await channel.send(**out.kwargs(), nonce=idempotency_key)
        except discord.RateLimited as exc:
            return RetryAfter(exc.retry_after, is_global=False)
        except discord.Forbidden:
            return Unreachable(DMS_CLOSED_REASON)
        except discord.NotFound:
            return Unreachable(GONE_REASON)
        except discord.DiscordServerError:
            return RetryAfter(OUTAGE_SECONDS, is_global=True)
        except discord.HTTPException as exc:
            if exc.status == 429:
                return RetryAfter(_retry_after(exc), is_global=True)
            raise
        except (aiohttp.ClientError, TimeoutError) as exc:
            log.warning("check-in DM: network failure: %s", exc)
            return RetryAfter(OUTAGE_SECONDS, is_global=True)
        return Delivered(str(sent.id))
