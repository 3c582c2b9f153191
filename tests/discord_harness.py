"""Running the real Crossroads Discord client against tests/fakes/discord_fake.py.

Why a harness: every Discord test starts the production client (``build_client``) with
settings pointing at the fake, and waits on handler-side signals (the client's
``observers``, called once an interaction is fully answered) and on the fake's journal,
never on sleeps. The fixtures (tests/discord_fixtures.py) check on teardown that every
client closed cleanly and that nothing tried to leave loopback.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from typing import Any

import discord

from adapters.discord.cards import unsplit_id
from adapters.discord.client import CrossroadsClient
from adapters.discord.service import build_client
from adapters.runtime import Runtime
from bot.engine import Engine
from bot.settings import Settings
from bot.ui import codec
from bot.ui.intents import Intent
from tests.conftest import make_engine
from tests.fakes.discord_fake import FakeCallback, FakeDiscord, FakeMessage

TOKEN = "crossroads-test-token"
NO_PINGS = {"parse": []}


def discord_settings(settings: Settings, fake: FakeDiscord, **extra: Any) -> Settings:
    """Test settings pointing discord.py at the fake through the real settings path."""
    update: dict[str, Any] = {
        "default_playbook": "tiny",
        "discord_api_base": fake.api_base,
        "discord_gateway_url": fake.gateway_url,
        **extra,
    }
    return settings.model_copy(update=update)


async def make_runtime(url: str, settings: Settings, *playbooks: str) -> Runtime:
    engine = await make_engine(url, settings, *(playbooks or ("tiny", "tiny2")))
    return Runtime(settings, engine.db, engine)


class Bot:
    """One running production client (one "process"), with its handled-interaction log."""

    def __init__(self, fake: FakeDiscord, rt: Runtime, **options: Any) -> None:
        self.fake = fake
        self.rt = rt
        options.setdefault("guild_ready_timeout", 0.05)
        self.client: CrossroadsClient = build_client(rt, **options)
        self.outcomes: dict[int, str] = {}
        self._waiters: dict[int, asyncio.Future[str]] = {}
        self.dm_outcomes: dict[int, str] = {}
        self._dm_waiters: dict[int, asyncio.Future[str]] = {}
        self._task: asyncio.Task[None] | None = None
        self.client.observers.append(self._on_handled)
        self.client.dm_observers.append(self._on_dm)

    def _on_dm(self, message: discord.Message, outcome: str) -> None:
        self.dm_outcomes[message.id] = outcome
        waiter = self._dm_waiters.pop(message.id, None)
        if waiter is not None and not waiter.done():
            waiter.set_result(outcome)

    async def dm_handled(self, message_id: int, timeout: float = 5.0) -> str:  # noqa: ASYNC109
        """The outcome of a typed DM once the bot answered it (every reply sent)."""
        if message_id in self.dm_outcomes:
            return self.dm_outcomes[message_id]
        loop = asyncio.get_running_loop()
        waiter = self._dm_waiters.setdefault(message_id, loop.create_future())
        return await asyncio.wait_for(asyncio.shield(waiter), timeout)

    async def typed(
        self,
        text: str,
        *,
        user_id: int | None = None,
        timeout: float = 5.0,  # noqa: ASYNC109
    ) -> tuple[FakeMessage, str]:
        """A person types ``text`` in their DM with the bot; (their message, the outcome)."""
        message = await self.fake.user_sends_dm(text, user_id=user_id)
        return message, await self.dm_handled(message.id, timeout)

    def _on_handled(self, interaction: discord.Interaction, outcome: str) -> None:
        self.outcomes[interaction.id] = outcome
        waiter = self._waiters.pop(interaction.id, None)
        if waiter is not None and not waiter.done():
            waiter.set_result(outcome)

    async def start(self) -> Bot:
        mark = self.fake.mark()
        self._task = asyncio.create_task(self.client.start(TOKEN))
        await self.fake.wait_for(kind="identify", after=mark)
        return self

    async def stop(self) -> None:
        await self.client.close()
        if self._task is not None:
            await asyncio.wait_for(self._task, 5)

    async def handled(self, interaction_id: str | int, timeout: float = 5.0) -> str:  # noqa: ASYNC109
        """The outcome of an interaction once the bot finished with it (replies sent)."""
        iid = int(interaction_id)
        if iid in self.outcomes:
            return self.outcomes[iid]
        waiter = self._waiters.setdefault(iid, asyncio.get_running_loop().create_future())
        return await asyncio.wait_for(asyncio.shield(waiter), timeout)

    @property
    def engine(self) -> Engine:
        return self.rt.engine


class World:
    """The fake plus started bots; stops everything and checks for leaks at the end."""

    def __init__(self, fake: FakeDiscord, settings: Settings, db_url: str) -> None:
        self.fake = fake
        self.settings = settings
        self.db_url = db_url
        self.bots: list[Bot] = []

    async def bot(
        self,
        *playbooks: str,
        settings: Settings | None = None,
        rt: Runtime | None = None,
        **options: Any,
    ) -> Bot:
        """Start a client (a bot "process") on this world's database."""
        rt = rt or await make_runtime(self.db_url, settings or self.settings, *playbooks)
        bot = Bot(self.fake, rt, **options)
        self.bots.append(bot)
        return await bot.start()

    async def restart(self, bot: Bot, **options: Any) -> Bot:
        """Stop ``bot`` and its database handle; start a new client on the same database."""
        await bot.stop()
        await bot.rt.close()
        self.bots.remove(bot)
        playbooks = tuple(bot.engine.playbooks.ids())
        return await self.bot(*playbooks, **options)

    async def close(self) -> None:
        for bot in self.bots:
            await bot.stop()
            await bot.rt.close()
        self.bots.clear()


# --------------------------------------------------------------------------- helpers


def dm_id(fake: FakeDiscord, user_id: int | None = None) -> int:
    return int(fake.dm_channel_for(user_id or fake.user_id)["id"])


def button(msg: FakeMessage | FakeCallback, label: str) -> str:
    """The custom_id of the button with this label."""
    for row in msg.components:
        for comp in row.get("components", []):
            if comp.get("type") == 2 and comp.get("label") == label:
                return str(comp["custom_id"])
    raise AssertionError(f"no button {label!r} in {msg.components!r}")


def select(msg: FakeMessage | FakeCallback) -> dict[str, Any]:
    for row in msg.components:
        for comp in row.get("components", []):
            if comp.get("type") == 3:
                return comp
    raise AssertionError(f"no select in {msg.components!r}")


def question_title(msg: FakeMessage | FakeCallback) -> str:
    """The prompt of the last embed (its description's first paragraph)."""
    return str(msg.embeds[-1]["description"]).split("\n\n")[0]


def assert_no_pings(fake: FakeDiscord) -> None:
    """Every message and callback the bot sent forbids mentions, and none pinged."""
    for cb in fake.callbacks:
        if cb.type in (4, 7):
            assert cb.allowed_mentions == NO_PINGS, cb.data
    for msg in fake.all_messages():
        if msg.author_id == fake.bot_id:
            assert msg.payload["mention_everyone"] is False
            assert msg.payload["mention_roles"] == [] and msg.payload["mentions"] == []
            for body in [msg.request, *msg.edits]:
                if body and ("content" in body or "embeds" in body):
                    assert body.get("allowed_mentions") == NO_PINGS, body


def intents(msg: FakeMessage | FakeCallback) -> list[Intent]:
    """What the message's components stand for (ids made by bot.ui.codec)."""
    out: list[Intent] = []
    for custom_id in msg.custom_ids():
        opener = codec.decode_opener(custom_id)
        intent = opener.intent if opener else codec.decode(unsplit_id(custom_id))
        assert intent is not None, custom_id
        out.append(intent)
    return out


def text_of(msg: FakeMessage | FakeCallback) -> str:
    """Everything a message shows: content, embed titles, descriptions, fields, footers."""
    parts = [msg.content or ""]
    for e in msg.embeds:
        parts += [e.get("title") or "", e.get("description") or ""]
        parts += [f"{f['name']}\n{f['value']}" for f in e.get("fields") or []]
        parts.append((e.get("footer") or {}).get("text") or "")
    return "\n".join(p for p in parts if p)


def iter_dm(fake: FakeDiscord, user_id: int | None = None) -> Iterator[FakeMessage]:
    yield from fake.messages[dm_id(fake, user_id)]
