"""Getting rendered messages to a person: their DM, posts in order, in-place updates, files.

Why: the client already retries 429/5xx; what still fails must not vanish. Every failure
is logged at ERROR (method, team, channel, Slack's error code, never tokens or message
text) and returned, so the caller can tell the person through another route
(the slash command's response_url) that their progress is saved.
"""

from __future__ import annotations

import asyncio
import logging
from collections import OrderedDict
from collections.abc import Sequence
from dataclasses import dataclass

import aiohttp
from slack_sdk.errors import SlackApiError, SlackClientError
from slack_sdk.web.async_client import AsyncWebClient

from adapters.slack.cards import Outgoing, SlackFile, SlackPost

log = logging.getLogger(__name__)
DM_CACHE_SIZE = 50_000
EXPORT_COMMENT = "Here is everything I keep about you."


@dataclass(frozen=True, slots=True)
class Failure:
    """One send that failed after the client's retries."""

    method: str
    error: str
    unsent: int  # messages of this reply that were not sent (this one included)


def _error_code(exc: BaseException) -> str:
    if isinstance(exc, SlackApiError):
        return str(exc.response.get("error") or f"http_{exc.response.status_code}")
    return type(exc).__name__


_SEND_ERRORS = (SlackApiError, SlackClientError, aiohttp.ClientError, asyncio.TimeoutError)


class Courier:
    """Sends to Slack for every team; only a cache of DM channel ids is kept in memory.

    The cache is an optimisation (a DM id never changes), not state: another process
    without it simply asks conversations.open again.
    """

    def __init__(self) -> None:
        self._dms: OrderedDict[tuple[str, str], str] = OrderedDict()

    def cached_dm(self, team: str, user: str) -> str | None:
        """The DM id if this process already knows it (no API call)."""
        return self._dms.get((team, user))

    async def dm_channel(self, client: AsyncWebClient, team: str, user: str) -> str | None:
        """The person's DM with the bot (conversations.open); None if it cannot be opened."""
        key = (team, user)
        cached = self._dms.get(key)
        if cached is not None:
            self._dms.move_to_end(key)
            return cached
        try:
            reply = await client.conversations_open(users=user)
        except _SEND_ERRORS as exc:
            log.error("slack conversations.open failed for team %s: %s", team, _error_code(exc))
            return None
        channel = str(reply["channel"]["id"])
        self.remember_dm(team, user, channel)
        return channel

    def remember_dm(self, team: str, user: str, channel: str) -> None:
        """Cache a DM id learned elsewhere (the check-in sender opens DMs too)."""
        self._dms[(team, user)] = channel
        self._dms.move_to_end((team, user))
        if len(self._dms) > DM_CACHE_SIZE:
            self._dms.popitem(last=False)

    async def send(
        self, client: AsyncWebClient, channel: str, items: Sequence[Outgoing], *, team: str
    ) -> Failure | None:
        """Post ``items`` in order; stop at the first failure (order matters) and report it."""
        for i, item in enumerate(items):
            method = "chat.postMessage" if isinstance(item, SlackPost) else "files_upload_v2"
            try:
                if isinstance(item, SlackPost):
                    await client.chat_postMessage(
                        channel=channel, text=item.text, blocks=item.blocks
                    )
                else:
                    await self._upload(client, channel, item)
            except _SEND_ERRORS as exc:
                failure = Failure(method, _error_code(exc), len(items) - i)
                log.error(
                    "slack %s to %s (team %s) failed after retries: %s; %d message(s) of "
                    "this reply not sent",
                    method,
                    channel,
                    team,
                    failure.error,
                    failure.unsent,
                )
                return failure
        return None

    @staticmethod
    async def _upload(client: AsyncWebClient, channel: str, item: SlackFile) -> None:
        """files_upload_v2 (files.getUploadURLExternal, the upload, completeUploadExternal):
        text as ``content``, bytes (an image) as ``file`` with its alt text."""
        data: dict[str, object] = (
            {"file": item.content, "alt_txt": item.alt_text or None}
            if isinstance(item.content, bytes)
            else {"content": item.content}
        )
        await client.files_upload_v2(
            channel=channel,
            filename=item.filename,
            title=item.title,
            initial_comment=item.comment or EXPORT_COMMENT,
            **data,  # type: ignore[arg-type]
        )

    async def update(
        self, client: AsyncWebClient, channel: str, ts: str, post: SlackPost, *, team: str
    ) -> Failure | None:
        """Replace a message we sent (chat.update), e.g. a question once it is answered."""
        try:
            await client.chat_update(channel=channel, ts=ts, text=post.text, blocks=post.blocks)
        except _SEND_ERRORS as exc:
            failure = Failure("chat.update", _error_code(exc), 1)
            log.error(
                "slack chat.update of %s in %s (team %s) failed after retries: %s",
                ts,
                channel,
                team,
                failure.error,
            )
            return failure
        return None
