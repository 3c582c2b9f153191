"""The shared platform behaviour tests' driver for Discord (tests/test_platform_shared.py).

``DiscordPlatform`` makes a person's moves on the production Discord client against the
fake (tests/discord_harness.py): commands in the person's DM, presses on what the bot
sent (a press by someone who cannot see the message is the forged click Discord itself
would not deliver, which a bot must still answer), and text typed into a modal. A
platform joins the shared tests with one entry in their ``DRIVERS``::

    "discord": (discord_platform, ("discord_fake",))   # a fixture yielding a FakeDiscord

One difference from Slack is the platform's, not the adapter's: a Discord text box
enforces its ``max_length`` in the client, so text over the limit never reaches the bot;
``type_into`` then returns the client's refusal instead of the core's.
"""

from __future__ import annotations

import contextlib
import copy
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

from adapters.discord.service import discord_endpoints
from adapters.runtime import Runtime
from bot import events as ev
from bot.engine import Engine
from tests.discord_harness import Bot, World, discord_settings, dm_id, text_of
from tests.fakes.discord_fake import FakeDiscord, FakeMessage


class DiscordPlatform:
    """PlatformDriver for Discord: the real client on the fake Discord."""

    platform = "discord"

    def __init__(self, fake: FakeDiscord, bot: Bot) -> None:
        self.fake = fake
        self.bot = bot
        self.users: dict[str, int] = {}

    def _id(self, user: str) -> int:
        if user not in self.users:
            uid = self.fake.add_user(user.lower())
            self.fake.add_member(self.fake.guild_id, uid)
            self.users[user] = uid
        return self.users[user]

    def ref(self, user: str) -> ev.UserRef:
        return ev.UserRef("discord", "dm", str(self._id(user)))

    async def command(self, user: str, name: str, expect: str) -> FakeMessage:
        before = len(self._found(user, expect))
        iid = await self.fake.inject_command(f"advise {name}", user_id=self._id(user), dm=True)
        await self.bot.handled(iid)
        return await self.shown(user, expect, before + 1)

    async def _click(self, message: FakeMessage, custom_id: str, user: str, **kw: Any) -> str:
        uid = self._id(user)
        visible = message.channel_id == dm_id(self.fake, uid) or (
            message.ephemeral and self._owner(message) == uid
        )
        live = self.fake.message(message.id)
        if not visible:  # what Discord would not deliver: a click on someone else's message
            kind = 3 if "values" in kw else 2
            iid = await self.fake.inject_forged_component(
                message.id, custom_id, user_id=uid, component_type=kind, **kw
            )
        elif live.find_component(custom_id) is None:
            # A client that has not refreshed yet clicks the message as it was: Discord
            # sends the interaction with that message, so the fake serves it as it was.
            now = live.payload["components"]
            live.payload["components"] = message.components
            try:
                iid = await self.fake.inject_component(message.id, custom_id, user_id=uid, **kw)
            finally:
                live.payload["components"] = now
        else:
            iid = await self.fake.inject_component(message.id, custom_id, user_id=uid, **kw)
        await self.bot.handled(iid)
        return iid

    async def press(self, message: FakeMessage, label: str, *, user: str) -> None:
        await self._press(message, label, user)

    async def _press(self, message: FakeMessage, label: str, user: str) -> str:
        for row in message.components:
            for comp in row.get("components", []):
                if comp.get("label") == label:
                    return await self._click(message, comp["custom_id"], user)
                for option in comp.get("options") or ():
                    if option["label"] == label:
                        values = [option["value"]]
                        return await self._click(message, comp["custom_id"], user, values=values)
        raise AssertionError(f"nothing labelled {label!r} in {message.components}")

    async def type_into(
        self, message: FakeMessage, button: str, text: str, *, user: str
    ) -> str | None:
        iid = await self._press(self.fake.message(message.id), button, user)
        try:
            submit = await self.fake.inject_modal_submit(iid, {"text": text})
        except ValueError as exc:  # the Discord client refuses before sending
            return str(exc)
        outcome = await self.bot.handled(submit)
        if outcome in ("invalid", "refused"):
            return text_of(await self.fake.wait_for_callback(submit))
        return None

    def _owner(self, message: FakeMessage) -> int | None:
        if message.interaction_id is None:
            return None
        payload = self.fake.interaction_payload(message.interaction_id)
        user = payload.get("user") or (payload.get("member") or {}).get("user") or {}
        return int(user["id"]) if "id" in user else None

    def _messages(self, user: str) -> list[FakeMessage]:
        uid = self._id(user)
        dm = dm_id(self.fake, uid)
        return [
            m
            for m in self.fake.all_messages()
            if m.author_id == self.fake.bot_id
            and (m.channel_id == dm or (m.ephemeral and self._owner(m) == uid))
        ]

    def _found(self, user: str, expect: str) -> list[FakeMessage]:
        return [m for m in self._messages(user) if expect in text_of(m)]

    async def shown(self, user: str, expect: str, count: int = 1) -> FakeMessage:
        mark = self.fake.mark()
        while len(found := self._found(user, expect)) < count:
            await self.fake.wait_for(kind="message_create", after=mark)
            mark = self.fake.mark()
        return found[count - 1]

    def seen_by(self, user: str) -> list[str]:
        return [text_of(m) for m in self._messages(user)]

    def text(self, message: FakeMessage) -> str:
        return text_of(self.fake.message(message.id))

    def snapshot(self, message: FakeMessage) -> FakeMessage:
        return copy.deepcopy(self.fake.message(message.id))

    def interactive(self, message: FakeMessage) -> bool:
        return bool(self.fake.message(message.id).components)

    async def settle(self) -> None:
        """Every press already waited until the bot answered it."""


@contextlib.asynccontextmanager
async def discord_platform(
    fixtures: dict[str, Any], engine: Engine, tmp_path: Path, url: str
) -> AsyncIterator[DiscordPlatform]:
    (fake,) = (f for f in fixtures.values() if isinstance(f, FakeDiscord))
    settings = discord_settings(engine.settings, fake)
    world = World(fake, settings, url)
    with discord_endpoints(settings):
        bot = await world.bot(rt=Runtime(settings, engine.db, engine))
        try:
            yield DiscordPlatform(fake, bot)
        finally:
            await bot.stop()  # the engine's database belongs to the caller
