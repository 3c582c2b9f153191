"""The mentor hand-off on Slack: the board the core's mentor worker calls, and the admin
subcommands (``/advise settings mentors …``) that name the channel and tag mentors.

The board is transport only (docs/mentors.md, "What an adapter implements"): the cards it
is given go to the mentors channel with chat.postMessage as Block Kit from the one generic
renderer (cards.py); the users the core names are mentioned in one block of their own
(``<@U…>``, every other character escaped as everywhere), so nothing else can ping
anyone; chat.update and chat.delete change or remove its own messages; an introduction is
a group DM with both people (``conversations.open`` with two users, scope mpim:write).

Like the check-in sender it uses its own client per call, without the shared client's
429 sleeps: a 429 or an outage becomes RetryAfter and the core's worker waits, holding no
lease meanwhile. The bot must be a member of the mentors channel (``/invite``): Slack
answers ``not_in_channel`` otherwise, which is reported in the log and retried.
"""

from __future__ import annotations

import logging
import re
from typing import Any

import aiohttp
from slack_sdk.errors import SlackApiError, SlackClientError
from slack_sdk.http_retry.builtin_async_handlers import AsyncConnectionErrorRetryHandler
from slack_sdk.models.blocks import SectionBlock
from slack_sdk.web.async_client import AsyncWebClient

from adapters.slack.cards import SlackPost, render
from adapters.slack.checkins import TokenLookup, result_for
from adapters.slack.client import CONNECTION_RETRIES, TIMEOUT_SECONDS, api_base
from adapters.slack.mrkdwn import escape, mrkdwn
from adapters.slack.slash import Kind, Parsed
from bot.api import (
    BoardPost,
    Card,
    Delivered,
    Engine,
    Introduced,
    Introduction,
    Mention,
    PostRef,
    Reply,
    RetryAfter,
    SendResult,
    Unreachable,
)

log = logging.getLogger(__name__)
PLATFORM = "slack"
OUTAGE_RETRY = 30.0
_PLACEHOLDER = re.compile(r"\{(\d+)\}")
_ID = re.compile(r"[UW][A-Z0-9]{2,20}")
GONE = frozenset({"message_not_found", "channel_not_found"})
NOT_IN_CHANNEL = "I am not a member of the mentors channel: invite me there (/invite)."


def mention_text(mention: Mention) -> str:
    """``<@U…>`` for each user the core names; every other character escaped."""
    parts: list[str] = []
    last = 0
    for match in _PLACEHOLDER.finditer(mention.text):
        parts.append(escape(mention.text[last : match.start()]))
        n = int(match[1])
        user = mention.users[n] if n < len(mention.users) else ""
        parts.append(f"<@{user}>" if _ID.fullmatch(user) else "someone")
        last = match.end()
    parts.append(escape(mention.text[last:]))
    return "".join(parts)


def _one(cards: tuple[Card, ...], mention: Mention | None = None) -> SlackPost:
    posts = [p for p in render(cards) if isinstance(p, SlackPost)]
    if len(posts) != 1:
        raise ValueError("a mentor card must be one Slack message")
    if mention is None:
        return posts[0]
    line = mention_text(mention)
    block = SectionBlock(text=mrkdwn(line), block_id="mention")
    return SlackPost(f"{line}\n{posts[0].text}", [block, *posts[0].blocks])


class SlackMentorBoard:
    """MentorBoard for Slack, for every workspace this process serves."""

    platform = PLATFORM

    def __init__(self, tokens: TokenLookup, base_url: str, session: aiohttp.ClientSession) -> None:
        self._tokens = tokens
        self._base_url = api_base(base_url)
        self._session = session

    async def _client(self, team: str) -> AsyncWebClient | None:
        token = await self._tokens(team)
        if token is None:
            return None
        return AsyncWebClient(
            token=token,
            base_url=self._base_url,
            session=self._session,
            timeout=TIMEOUT_SECONDS,
            retry_handlers=[AsyncConnectionErrorRetryHandler(max_retry_count=CONNECTION_RETRIES)],
        )

    async def _call(self, team: str, method: str, **kwargs: Any) -> Any:
        """One Web API call (``method``: the client's method name, e.g. ``chat_update``);
        a SendResult instead when it did not go through."""
        client = await self._client(team)
        if client is None:
            return Unreachable("The app was removed from this workspace.")
        try:
            return await getattr(client, method)(**kwargs)
        except SlackApiError as exc:
            error = str(exc.response.get("error") or "")
            if error in GONE and method in ("chat_update", "chat_delete"):
                return Delivered(str(kwargs.get("ts") or ""))  # already gone
            if error == "not_in_channel":
                log.warning("slack mentors channel in team %s: the bot is not a member", team)
                return Unreachable(NOT_IN_CHANNEL)
            log.warning("slack %s for mentors in team %s: %s", method, team, error)
            return result_for(exc)
        except (TimeoutError, SlackClientError, aiohttp.ClientError, OSError) as exc:
            log.warning("slack %s for mentors in team %s: %s", method, team, type(exc).__name__)
            return RetryAfter(OUTAGE_RETRY, is_global=True)

    async def _post(
        self, team: str, channel: str, cards: tuple[Card, ...], mention: Mention | None
    ) -> SendResult:
        out = _one(cards, mention)
        reply = await self._call(
            team, "chat_postMessage", channel=channel, text=out.text, blocks=out.blocks
        )
        if isinstance(reply, Delivered | RetryAfter | Unreachable):
            return reply
        return Delivered(str(reply.get("ts") or ""))

    async def post(self, post: BoardPost) -> SendResult:
        return await self._post(post.tenant, post.channel, post.cards, post.mention)

    async def edit(
        self, tenant: str, channel: str, ref: str, cards: tuple[Card, ...]
    ) -> SendResult:
        out = _one(cards)
        reply = await self._call(
            tenant, "chat_update", channel=channel, ts=ref, text=out.text, blocks=out.blocks
        )
        return reply if isinstance(reply, Delivered | RetryAfter | Unreachable) else Delivered(ref)

    async def delete(self, tenant: str, channel: str, ref: str) -> SendResult:
        reply = await self._call(tenant, "chat_delete", channel=channel, ts=ref)
        return reply if isinstance(reply, Delivered | RetryAfter | Unreachable) else Delivered(ref)

    async def introduce(self, intro: Introduction) -> Introduced | SendResult:
        """A group DM with the person and the mentor; the introduction posted there."""
        opened = await self._call(
            intro.tenant, "conversations_open", users=f"{intro.person},{intro.mentor}"
        )
        if isinstance(opened, Delivered | RetryAfter | Unreachable):
            return opened if not isinstance(opened, Delivered) else Unreachable("no group DM")
        group = str(opened["channel"]["id"])
        sent = await self._post(intro.tenant, group, intro.cards, intro.together)
        if not isinstance(sent, Delivered):
            return sent
        return Introduced(group, (PostRef(group, sent.message_id),))

    async def send(self, tenant: str, channel: str, cards: tuple[Card, ...]) -> SendResult:
        return await self._post(tenant, channel, cards, None)


# --------------------------------------------------------------------------- admin


async def mentor_admin(engine: Engine, parsed: Parsed, team: str) -> Reply:
    """The engine call for a mentors subcommand (the caller checked the admin)."""
    if parsed.kind is Kind.MENTORS_CHANNEL and parsed.channel:
        return await engine.set_mentor_channel(PLATFORM, team, parsed.channel)
    if parsed.kind is Kind.MENTORS_TAG and parsed.mentor:
        return await engine.tag_mentor(PLATFORM, team, parsed.mentor, parsed.tags)
    return await engine.mentor_overview(PLATFORM, team)
