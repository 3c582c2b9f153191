"""Drivers for the mentor hand-off's platform tests: the real adapters on the fakes.

Each driver runs one bot "process" (the production Discord client, or the Slack service in
HTTP mode) on an engine with its own MentorService, and makes the moves people make: an
admin names the mentors channel and tags mentors with the platform's admin command, the
person asks with the platform's command and answers the consent card, mentors press Claim
on the channel's card. It reads what each of them was shown from the fake's state, the
way they would see it. ``drain`` runs the process's mentor worker (the scheduler would).
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

from adapters.runtime import Runtime
from bot import events as ev
from bot.engine import Engine
from bot.mentors.service import MentorService
from bot.settings import Settings
from tests.discord_harness import Bot, World, text_of
from tests.fakes.discord_fake import (
    P_READ_MESSAGE_HISTORY,
    P_SEND_MESSAGES,
    P_VIEW_CHANNEL,
    FakeDiscord,
)
from tests.fakes.discord_fake import FakeMessage as DiscordMessage
from tests.fakes.slack_driver import SlackDriver, elements, running_adapter, slack_settings, texts
from tests.fakes.slack_fake import FakeMessage as SlackMessage
from tests.fakes.slack_fake import SlackFake

SEE = P_VIEW_CHANNEL | P_SEND_MESSAGES | P_READ_MESSAGE_HISTORY


@dataclass
class Seen:
    """A message as the tests read it: where it is, its text, whom it mentions."""

    where: str  # board | dm:<user> | group | ephemeral:<user>
    text: str
    mentions: tuple[str, ...]
    deleted: bool
    raw: Any


async def until(check: Any, what: str, timeout: float = 10.0) -> None:  # noqa: ASYNC109
    """Poll ``check`` with a generous deadline (no fixed sleeps)."""
    deadline = asyncio.get_running_loop().time() + timeout
    while not check():
        if asyncio.get_running_loop().time() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        await asyncio.sleep(0.01)


# ------------------------------------------------------------------------------ Discord


class DiscordMentors:
    platform = "discord"

    def __init__(self, fake: FakeDiscord, bot: Bot, service: MentorService, channel: int) -> None:
        self.fake = fake
        self.bot = bot
        self.service = service
        self.channel = channel
        self.users: dict[str, int] = {}

    @property
    def engine(self) -> Engine:
        return self.bot.engine

    @property
    def board_tenant(self) -> str:
        return str(self.fake.guild_id)

    def uid(self, name: str) -> str:
        return str(self.users[name])

    def ref(self, name: str) -> ev.UserRef:
        return ev.UserRef("discord", "dm", self.uid(name))

    async def drain(self) -> None:
        await self.service.drain()

    async def admin(self, command: str, options: dict[str, Any]) -> str:
        iid = await self.fake.inject_command(
            f"advise-admin mentors {command}", options, user_id=self.fake.owner_id
        )
        outcome = await self.bot.handled(iid)
        callback = await self.fake.wait_for_callback(iid)
        assert callback.ephemeral
        return outcome

    async def set_channel(self) -> str:
        return await self.admin("channel", {"channel": self.channel})

    async def tag(self, name: str, tags: str) -> str:
        return await self.admin("tag", {"user": self.users[name], "tags": tags})

    async def ask(self, name: str) -> DiscordMessage:
        """``/advise mentor`` in the server: the consent card, only they see it."""
        before = len(self.fake.all_messages())
        iid = await self.fake.inject_command("advise mentor", user_id=self.users[name])
        await self.bot.handled(iid)
        found = [
            m for m in self.fake.all_messages()[before:] if "What a mentor would see" in text_of(m)
        ]
        assert found and found[-1].ephemeral
        return found[-1]

    def _custom_id(self, message: DiscordMessage, label: str) -> str:
        live = self.fake.message(message.id)
        for row in live.components:
            for comp in row.get("components", []):
                if comp.get("label") == label:
                    return str(comp["custom_id"])
        raise AssertionError(f"no button {label!r} on {live.components}")

    async def press(self, message: Any, label: str, name: str) -> str:
        """Press a button; the outcome once the bot answered."""
        iid = await self.fake.inject_component(
            message.id, self._custom_id(message, label), user_id=self.users[name]
        )
        return await self.bot.handled(iid)

    async def press_together(self, message: Any, label: str, names: list[str]) -> list[str]:
        custom_id = self._custom_id(message, label)
        iids = await asyncio.gather(
            *(
                self.fake.inject_component(message.id, custom_id, user_id=self.users[n])
                for n in names
            )
        )
        return list(await asyncio.gather(*(self.bot.handled(i) for i in iids)))

    async def typed(self, name: str, text: str) -> str:
        _message, outcome = await self.bot.typed(text, user_id=self.users[name])
        return outcome

    def _where(self, m: DiscordMessage) -> str:
        for name, uid in self.users.items():
            if m.ephemeral and self._owner(m) == uid:
                return f"ephemeral:{name}"
        if m.channel_id == self.channel:
            return "board"
        for name, uid in self.users.items():
            if self.fake.dm_channels.get(uid) == m.channel_id:
                return f"dm:{name}"
        return f"channel:{m.channel_id}"

    def _owner(self, m: DiscordMessage) -> int | None:
        if m.interaction_id is None:
            return None
        payload = self.fake.interaction_payload(m.interaction_id)
        user = payload.get("user") or (payload.get("member") or {}).get("user") or {}
        return int(user["id"]) if "id" in user else None

    def messages(self) -> list[Seen]:
        names = {str(uid): name for name, uid in self.users.items()}
        return [
            Seen(
                self._where(m),
                "\n".join([text_of(m), *_labels(m)]),
                tuple(names.get(u["id"], u["id"]) for u in m.payload["mentions"]),
                m.deleted,
                m,
            )
            for m in self.fake.all_messages()
            if m.author_id == self.fake.bot_id
        ]

    def ephemeral_to(self, name: str) -> list[str]:
        uid = self.users[name]
        out = [
            text_of(m) for m in self.fake.all_messages() if m.ephemeral and self._owner(m) == uid
        ]
        out += [
            text_of(cb)
            for cb in self.fake.callbacks
            if cb.ephemeral and self._callback_user(cb) == uid and cb.type == 4
        ]
        return out

    def _callback_user(self, cb: Any) -> int | None:
        payload = self.fake.interaction_payload(cb.interaction_id)
        user = payload.get("user") or (payload.get("member") or {}).get("user") or {}
        return int(user["id"]) if "id" in user else None


def _labels(m: DiscordMessage) -> list[str]:
    return [
        str(c.get("label"))
        for row in m.components
        for c in row.get("components", [])
        if c.get("label")
    ]


def discord_mentors_channel(fake: FakeDiscord, mentors: list[int]) -> int:
    """A text channel only the bot and the mentors can read (as an admin would set it up)."""
    overwrites = [
        {"id": str(fake.guild_id), "type": 0, "allow": "0", "deny": str(P_VIEW_CHANNEL)},
        {"id": str(fake.bot_id), "type": 1, "allow": str(SEE), "deny": "0"},
        *({"id": str(uid), "type": 1, "allow": str(SEE), "deny": "0"} for uid in mentors),
    ]
    return fake.add_text_channel(fake.guild_id, "mentors", permission_overwrites=overwrites)


@contextlib.asynccontextmanager
async def discord_process(
    world: World, engine: Engine, channel: int
) -> AsyncIterator[DiscordMentors]:
    """One Discord bot process on ``engine`` with its own mentor service."""
    service = MentorService(engine, worker_id=f"discord-{id(engine)}")
    bot = await world.bot(rt=Runtime(world.settings, engine.db, engine, mentors=service))
    await until(lambda: "discord" in service.worker.platforms, "the Discord board to register")
    try:
        yield DiscordMentors(world.fake, bot, service, channel)
    finally:
        await service.stop()


# ------------------------------------------------------------------------------ Slack


class SlackMentors:
    platform = "slack"

    def __init__(self, drv: SlackDriver, service: MentorService, channel: str) -> None:
        self.drv = drv
        self.fake = drv.fake
        self.service = service
        self.channel = channel
        self.users: dict[str, str] = {}

    @property
    def engine(self) -> Engine:
        return self.drv.rt.engine

    @property
    def board_tenant(self) -> str:
        return self.fake.team.id

    def uid(self, name: str) -> str:
        return self.users[name]

    def ref(self, name: str) -> ev.UserRef:
        return ev.UserRef("slack", self.fake.team.id, self.users[name])

    async def drain(self) -> None:
        assert await self.drv.service.drain()
        await self.service.drain()

    async def admin(self, text: str) -> str:
        ack = await self.drv.command(f"settings mentors {text}", user_id=self.users["admin"])
        assert ack.status == 200
        assert await self.drv.service.drain()
        posts = [p for p in self.fake.response_posts if p.user_id == self.users["admin"]]
        return str(posts[-1].body.get("text") or "")

    async def set_channel(self) -> str:
        return await self.admin(f"channel <#{self.channel}|mentors>")

    async def tag(self, name: str, tags: str) -> str:
        return await self.admin(f"tag <@{self.users[name]}|{name}> {tags}")

    async def ask(self, name: str) -> SlackMessage:
        """``/advise mentor``: the consent card in their DM."""
        await self.drv.command("mentor", user_id=self.users[name])
        assert await self.drv.service.drain()
        dm = self.fake.dm_channel(self.users[name])
        assert dm is not None
        found = [m for m in self.fake.channel_messages(dm) if "What a mentor would see" in texts(m)]
        assert found
        return found[-1]

    def _element(self, message: SlackMessage, label: str) -> dict[str, Any]:
        live = self.fake.message(message.channel, message.ts)
        for e in elements(live):
            if (e.get("text") or {}).get("text") == label:
                return e
        raise AssertionError(f"no button {label!r} in {live.blocks}")

    async def press(self, message: Any, label: str, name: str) -> str:
        live = self.fake.message(message.channel, message.ts)
        await self.drv.click(live, self._element(live, label), user_id=self.users[name])
        assert await self.drv.service.drain()
        return "ok"

    async def press_together(self, message: Any, label: str, names: list[str]) -> list[str]:
        live = self.fake.message(message.channel, message.ts)
        element = self._element(live, label)
        await asyncio.gather(*(self.drv.click(live, element, user_id=self.users[n]) for n in names))
        assert await self.drv.service.drain()
        return ["ok" for _ in names]

    async def typed(self, name: str, text: str) -> str:
        await self.drv.dm(text, user_id=self.users[name])
        return "ok"

    def _where(self, m: SlackMessage) -> str:
        if m.channel == self.channel:
            return "board"
        channel = self.fake.channels.get(m.channel)
        if channel is not None and channel.is_mpim:
            return "group"
        for name, uid in self.users.items():
            if self.fake.dm_channel(uid) == m.channel:
                return f"dm:{name}"
        return f"channel:{m.channel}"

    def messages(self) -> list[Seen]:
        names = {uid: name for name, uid in self.users.items()}
        out: list[Seen] = []
        for m in self.fake.messages:
            if m.bot_id != self.fake.team.bot_id:
                continue
            mentioned = tuple(names.get(u, u) for u in _slack_mentions(m.text))
            out.append(Seen(self._where(m), texts(m), mentioned, m.deleted, m))
        return out

    def ephemeral_to(self, name: str) -> list[str]:
        return [
            str(p.body.get("text") or "")
            for p in self.fake.response_posts
            if p.user_id == self.users[name]
        ]


def _slack_mentions(text: str) -> list[str]:
    import re

    return re.findall(r"<@([UW][A-Z0-9]+)>", text)


@contextlib.asynccontextmanager
async def slack_process(
    fake: SlackFake, engine: Engine, settings: Settings, channel: str
) -> AsyncIterator[SlackMentors]:
    """One Slack adapter process (HTTP mode) on ``engine`` with its own mentor service."""
    service = MentorService(engine, worker_id=f"slack-{id(engine)}")
    rt_settings = settings
    from adapters.slack.service import SlackService

    rt = Runtime(rt_settings, engine.db, engine, mentors=service)
    started = await SlackService.start(rt, backoff=0.01)
    try:
        drv = SlackDriver(fake, started, rt, "http")
        yield SlackMentors(drv, service, channel)
    finally:
        await started.stop()
        await service.stop()


__all__ = [
    "DiscordMentors",
    "Seen",
    "SlackMentors",
    "discord_mentors_channel",
    "discord_process",
    "running_adapter",
    "slack_process",
    "slack_settings",
    "until",
]
