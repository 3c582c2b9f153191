"""The mentor hand-off on Discord: the board the core's mentor worker calls, and the admin
commands that name the mentors channel and tag mentors.

The board is transport only (docs/mentors.md, "What an adapter implements"): it posts the
cards it is given to the mentors channel with the one generic renderer, mentioning only
the users the core names (``allowed_mentions`` lists exactly them, so nothing else in the
message can ping anyone); it edits and deletes its own messages by id; and it introduces a
person and a mentor with a direct message to each.

Why DMs and not a private thread: the mentors channel should be readable by mentors only
(each request there shows what a person agreed to share), and a private thread is only
visible to members who can see its parent channel, so the person could not see a thread
opened there. A DM to each, naming the other, works whatever the channel's permissions.

Clicks on these messages (claim, hand back, withdraw, done) carry intents like every other
component and go through ``inbound.py``; the core decides who may do what.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Awaitable, Callable

import aiohttp
import discord
from discord import app_commands

from adapters.discord.cards import NO_MENTIONS, Outgoing, escape, render
from adapters.discord.inbound import Flows
from adapters.discord.tenancy import PLATFORM, server_of
from adapters.runtime import Runtime
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
    whole_number,
)
from bot.api import events as ev

log = logging.getLogger(__name__)
OUTAGE_SECONDS = 30.0
ONE_MESSAGE = "The card does not fit one Discord message."
CANNOT_POST = (
    "I cannot post in {channel}: in its permissions, allow me View Channel, Send Messages and "
    "Embed Links (and keep it closed to everyone but mentors). Nothing was changed."
)
_PLACEHOLDER = re.compile(r"\{(\d+)\}")


def mention_line(mention: Mention | None) -> tuple[str, discord.AllowedMentions]:
    """The mention as message content (``<@id>`` for each user, the rest escaped) and the
    allowed mentions that let exactly those users be notified."""
    if mention is None:
        return "", NO_MENTIONS
    ids = [whole_number(u) for u in mention.users]
    parts: list[str] = []
    last = 0
    for match in _PLACEHOLDER.finditer(mention.text):
        parts.append(escape(mention.text[last : match.start()]))
        n = int(match[1])
        uid = ids[n] if n < len(ids) else None
        parts.append(f"<@{uid}>" if uid is not None else "someone")
        last = match.end()
    parts.append(escape(mention.text[last:]))
    users = [discord.Object(uid) for uid in ids if uid is not None]
    allowed = discord.AllowedMentions(everyone=False, roles=False, users=users, replied_user=False)
    return "".join(parts), allowed


def _one(cards: tuple[Card, ...], content: str = "") -> Outgoing:
    messages = render(cards, content=content)
    if len(messages) != 1:
        raise ValueError(ONE_MESSAGE)
    return messages[0]


def _failed(exc: Exception) -> SendResult:
    if isinstance(exc, discord.RateLimited):
        return RetryAfter(exc.retry_after, is_global=False)
    if isinstance(exc, discord.Forbidden):
        return Unreachable("I may not post or edit there (check the channel's permissions).")
    if isinstance(exc, discord.NotFound):
        return Unreachable("That channel or user no longer exists.")
    if isinstance(exc, discord.DiscordServerError | aiohttp.ClientError | TimeoutError):
        return RetryAfter(OUTAGE_SECONDS, is_global=True)
    if isinstance(exc, discord.HTTPException) and exc.status == 429:
        return RetryAfter(5.0, is_global=True)
    raise exc


class DiscordMentorBoard:
    """MentorBoard for Discord, over the client's REST session (no gateway cache needed)."""

    platform = PLATFORM

    def __init__(self, client: discord.Client) -> None:
        self.client = client

    def _channel(self, channel: str) -> discord.PartialMessageable:
        cid = whole_number(channel)
        if cid is None:
            raise ValueError(f"not a Discord channel id: {channel[:30]!r}")
        return self.client.get_partial_messageable(cid)

    async def _send(
        self,
        channel: discord.abc.Messageable,
        cards: tuple[Card, ...],
        mention: Mention | None,
        nonce: str,
    ) -> discord.Message:
        content, allowed = mention_line(mention)
        kwargs = _one(cards).kwargs()
        if content:
            kwargs["content"] = content
        kwargs["allowed_mentions"] = allowed
        if nonce:
            kwargs["nonce"] = nonce[:25]
        return await channel.send(**kwargs)

    async def post(self, post: BoardPost) -> SendResult:
        try:
            sent = await self._send(self._channel(post.channel), post.cards, post.mention, post.key)
        except (discord.HTTPException, aiohttp.ClientError, TimeoutError) as exc:
            return _failed(exc)
        return Delivered(str(sent.id))

    async def edit(
        self, tenant: str, channel: str, ref: str, cards: tuple[Card, ...]
    ) -> SendResult:
        message = self._channel(channel).get_partial_message(int(ref))
        try:
            await message.edit(**_one(cards).edit_kwargs())
        except discord.NotFound:
            return Delivered(ref)  # already gone: nothing left to show
        except (discord.HTTPException, aiohttp.ClientError, TimeoutError) as exc:
            return _failed(exc)
        return Delivered(ref)

    async def delete(self, tenant: str, channel: str, ref: str) -> SendResult:
        message = self._channel(channel).get_partial_message(int(ref))
        try:
            await message.delete()
        except discord.NotFound:
            return Delivered(ref)
        except (discord.HTTPException, aiohttp.ClientError, TimeoutError) as exc:
            return _failed(exc)
        return Delivered(ref)

    async def introduce(self, intro: Introduction) -> Introduced | SendResult:
        """A DM to the mentor and one to the person, each naming the other."""
        posts: list[PostRef] = []
        mentor_channel = ""
        for who, line, suffix in (
            (intro.mentor, intro.to_mentor, "m"),
            (intro.person, intro.to_person, "p"),
        ):
            uid = whole_number(who)
            if uid is None:
                continue
            try:
                dm = await self.client.create_dm(discord.Object(uid))
                sent = await self._send(dm, intro.cards, line, f"{intro.key[:23]}{suffix}")
            except discord.Forbidden:
                log.info("mentor introduction: a DM was refused (DMs closed)")
                continue
            except (discord.HTTPException, aiohttp.ClientError, TimeoutError) as exc:
                return _failed(exc)
            posts.append(PostRef(str(dm.id), str(sent.id)))
            if who == intro.mentor:
                mentor_channel = str(dm.id)
        if not posts:
            return Unreachable("Neither of them accepts direct messages from me.")
        return Introduced(mentor_channel, tuple(posts))

    async def send(self, tenant: str, channel: str, cards: tuple[Card, ...]) -> SendResult:
        try:
            sent = await self._send(self._channel(channel), cards, None, "")
        except (discord.HTTPException, aiohttp.ClientError, TimeoutError) as exc:
            return _failed(exc)
        return Delivered(str(sent.id))


def attach_mentors(client: discord.Client, rt: Runtime) -> DiscordMentorBoard | None:
    """Register this client's board with ``rt.mentors`` once it is ready (once: ``on_ready``
    fires again after every new gateway session)."""
    service = rt.mentors
    if service is None:
        return None
    board = DiscordMentorBoard(client)
    registered = False
    before = getattr(client, "on_ready", None)  # the check-in sender's, set the same way

    async def on_ready() -> None:
        nonlocal registered
        if before is not None:
            await before()
        if not registered:
            registered = True
            service.register(board)
            log.info("mentors: Discord board registered")

    client.event(on_ready)
    return board


# --------------------------------------------------------------------------- commands


def add_mentor_command(group: app_commands.Group, flows: Flows) -> None:
    """``/advise mentor``: ask for a mentor (the summary is shown first; nothing is shared
    before yes). Answered where it was asked (ephemeral in a server), so the server it was
    asked in is the one whose mentors get it."""

    @group.command(
        name="mentor", description="Ask for a mentor: you see what would be shared first"
    )
    async def mentor(interaction: discord.Interaction) -> None:
        async def event(user: ev.UserRef) -> ev.InEvent:
            return ev.AskMentor(user=user, server_tenant=server_of(interaction))

        await flows.command(interaction, event, hand_off=False)


def add_mentor_admin(
    group: app_commands.Group,
    engine: Engine,
    flows: Flows,
    manage: Callable[[Callable[..., Awaitable[None]]], Callable[..., Awaitable[None]]],
) -> None:
    """``/advise-admin mentors channel|tag|untag|show`` (Manage Server, like every admin
    command): where requests go, and which mentors speak to which path families or topics."""
    mentors = app_commands.Group(
        name="mentors", description="Mentor hand-off: the channel and the mentors", parent=group
    )

    @mentors.command(name="channel", description="Where mentor requests are posted")
    @app_commands.describe(channel="A text channel only mentors can read")
    @manage
    async def channel(interaction: discord.Interaction, channel: discord.TextChannel) -> None:
        me = channel.guild.me
        perms = channel.permissions_for(me) if me is not None else None
        if perms is not None and not (
            perms.view_channel and perms.send_messages and perms.embed_links
        ):
            await flows.refuse(
                interaction, CANNOT_POST.format(channel=channel.mention), "refused-channel"
            )
            return

        async def action(tenant: str) -> Reply:
            return await engine.set_mentor_channel(PLATFORM, tenant, str(channel.id))

        await flows.admin(interaction, action)

    @mentors.command(name="tag", description="What a mentor can speak to (families, topics)")
    @app_commands.describe(
        user="The mentor", tags="Path families or topic ids, e.g. doctorate industry"
    )
    @manage
    async def tag(
        interaction: discord.Interaction,
        user: discord.User,
        tags: app_commands.Range[str, 1, 400],
    ) -> None:
        words = [t for t in re.split(r"[\s,]+", tags) if t]

        async def action(tenant: str) -> Reply:
            return await engine.tag_mentor(PLATFORM, tenant, str(user.id), words)

        await flows.admin(interaction, action)

    @mentors.command(name="untag", description="No longer a tagged mentor here")
    @app_commands.describe(user="The mentor")
    @manage
    async def untag(interaction: discord.Interaction, user: discord.User) -> None:
        async def action(tenant: str) -> Reply:
            return await engine.tag_mentor(PLATFORM, tenant, str(user.id), [])

        await flows.admin(interaction, action)

    @mentors.command(name="show", description="The mentors channel, mentors and waiting requests")
    @manage
    async def show(interaction: discord.Interaction) -> None:
        async def action(tenant: str) -> Reply:
            return await engine.mentor_overview(PLATFORM, tenant)

        await flows.admin(interaction, action)
