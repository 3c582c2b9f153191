"""The Slack CheckInSender: a due check-in becomes a DM, and Slack's answer a SendResult.

Why its own client: the adapter's shared client waits out 429s and retries 5xx itself,
which here would hold a delivery lease while sleeping and hide the rate limit from the
core's pacing. This client only retries dropped connections; a 429 becomes RetryAfter
(the core delays, never drops) and an outage RetryAfter too, so it does not use up the
person's attempts. Slack has no nonce: each post carries the idempotency key in its
message metadata, and a redelivery first looks for that key in the DM's recent history
(docs/checkins.md, "Slack").
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable, Mapping
from typing import Any

import aiohttp
from slack_sdk.errors import SlackApiError, SlackClientError
from slack_sdk.http_retry.builtin_async_handlers import AsyncConnectionErrorRetryHandler
from slack_sdk.web.async_client import AsyncWebClient

from adapters.slack.cards import SlackPost, render
from adapters.slack.client import CONNECTION_RETRIES, TIMEOUT_SECONDS, api_base
from adapters.slack.delivery import Courier
from bot.api import Delivered, Notification, RetryAfter, SendResult, Unreachable, UserRef

log = logging.getLogger(__name__)
PLATFORM = "slack"
EVENT_TYPE = "crossroads_checkin"
HISTORY_LIMIT = 100  # messages of the DM searched for a redelivered key
OUTAGE_RETRY = 30.0  # seconds; Slack 5xx or unreachable: delay, do not count a failure
DEFAULT_RATE = 2.0  # sends per second: one DM per person, well inside the workspace budget
REMOVED = "The app was removed from this workspace."
UNREACHABLE = {
    "channel_not_found": "I cannot find our direct message any more.",
    "user_not_found": "I cannot find your Slack account any more.",
    "user_disabled": "Your Slack account is deactivated.",
    "account_inactive": "Your Slack account is deactivated.",
    "cannot_dm_bot": "I cannot send you direct messages.",
    "messages_tab_disabled": "Direct messages to me are turned off in this workspace.",
    "is_archived": "Our direct message is archived.",
    "token_revoked": REMOVED,
    "invalid_auth": REMOVED,
    "not_authed": REMOVED,
    "account_removed": REMOVED,
}
TokenLookup = Callable[[str], Awaitable[str | None]]


def _retry_after(headers: Mapping[str, Any] | None) -> float:
    for name, value in (headers or {}).items():
        if str(name).lower() == "retry-after":
            raw = value[0] if isinstance(value, list | tuple) and value else value
            try:
                return max(1.0, float(str(raw)))
            except ValueError:
                break
    return 1.0


def result_for(exc: SlackApiError) -> SendResult:
    """Slack's refusal as a SendResult: 429 waits, 5xx waits, known errors are unreachable."""
    status = exc.response.status_code
    error = str(exc.response.get("error") or f"http_{status}")
    if status == 429 or error == "ratelimited":
        return RetryAfter(_retry_after(exc.response.headers), is_global=False)
    if status >= 500:
        return RetryAfter(OUTAGE_RETRY, is_global=True)
    reason = UNREACHABLE.get(error)
    if reason is None:
        reason = f"Slack refused the message ({error[:40]})."
    return Unreachable(reason)


class SlackCheckInSender:
    """Implements bot.checkins.sender.CheckInSender for every workspace this process serves.

    ``tokens`` gives the bot token of a team (the single workspace's, or the OAuth
    installation's); None means the app is not installed there (any more).
    """

    platform = PLATFORM

    def __init__(
        self,
        tokens: TokenLookup,
        base_url: str,
        session: aiohttp.ClientSession,
        courier: Courier,
        *,
        max_rate: float | None = DEFAULT_RATE,
    ) -> None:
        self.max_rate = max_rate
        self._tokens = tokens
        self._base_url = api_base(base_url)
        self._session = session
        self._courier = courier

    def client(self, token: str) -> AsyncWebClient:
        return AsyncWebClient(
            token=token,
            base_url=self._base_url,
            session=self._session,
            timeout=TIMEOUT_SECONDS,
            retry_handlers=[AsyncConnectionErrorRetryHandler(max_retry_count=CONNECTION_RETRIES)],
        )

    async def send(
        self, user: UserRef, notification: Notification, idempotency_key: str
    ) -> SendResult:
        token = await self._tokens(user.tenant)
        if token is None:
            return Unreachable(REMOVED)
        client = self.client(token)
        posts = [p for p in render(notification.cards) if isinstance(p, SlackPost)]
        if not posts:  # nothing renderable: a bug, counted as a failed attempt
            raise ValueError("a check-in notification with no cards")
        try:
            channel = self._courier.cached_dm(user.tenant, user.user_id)
            if channel is None:
                opened = await client.conversations_open(users=user.user_id)
                channel = str(opened["channel"]["id"])
                self._courier.remember_dm(user.tenant, user.user_id, channel)
            if notification.redelivery:
                found = await self.find(client, channel, idempotency_key)
                if found is not None:
                    log.info("slack check-in %s was already delivered", idempotency_key)
                    return Delivered(found)
            reply = await client.chat_postMessage(
                channel=channel,
                text=posts[0].text,
                blocks=posts[0].blocks,
                metadata={"event_type": EVENT_TYPE, "event_payload": {"key": idempotency_key}},
            )
            for more in posts[1:]:  # a catch-up note too long for one message
                await client.chat_postMessage(channel=channel, text=more.text, blocks=more.blocks)
        except SlackApiError as exc:
            result = result_for(exc)
            log.warning(
                "slack check-in to team %s: %s -> %s",
                user.tenant,
                exc.response.get("error"),
                type(result).__name__,
            )
            return result
        except (TimeoutError, SlackClientError, aiohttp.ClientError, OSError) as exc:
            log.warning("slack check-in to team %s: %s", user.tenant, type(exc).__name__)
            return RetryAfter(OUTAGE_RETRY, is_global=True)
        return Delivered(str(reply.get("ts") or ""))

    @staticmethod
    async def find(client: AsyncWebClient, channel: str, key: str) -> str | None:
        """The ts of a message we already posted with this key (a send before a crash)."""
        history = await client.conversations_history(
            channel=channel, limit=HISTORY_LIMIT, include_all_metadata=True
        )
        for msg in history.get("messages") or ():
            meta = msg.get("metadata") or {}
            payload = meta.get("event_payload") or {}
            if meta.get("event_type") == EVENT_TYPE and payload.get("key") == key:
                return str(msg.get("ts") or "")
        return None
