"""The mentor hand-off end to end through the real adapters on the Discord and Slack fakes.

One journey per platform: an admin names a mentors channel and tags mentors with the
platform's admin command; the person asks for a mentor, sees exactly what would be shared
and says yes; the card appears in the mentors channel mentioning the mentor whose tags
fit; two mentors press Claim at once and one wins (the other is told, only them); the two
are introduced (Slack: a group DM; Discord: a DM to each); the mentor hands it back and
the card returns; the person withdraws and the card goes; a new request is forgotten and
every post and row goes. Then: nothing but the consented summary ever leaves the person's
DM (docs/privacy.md), and a re-surfacing is posted once by two processes on one database.
"""

from __future__ import annotations

import asyncio
import contextlib
import re
from collections.abc import AsyncIterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import discord
import pytest
from sqlalchemy import func, select

from adapters.discord.mentors import DiscordMentorBoard
from adapters.discord.service import discord_endpoints
from bot.engine import Engine
from bot.mentors import texts as mentor_texts
from bot.mentors.service import MentorService
from bot.settings import Settings
from bot.store.models import MentorJob, MentorPost, MentorRequest, PlanItem
from tests.conftest import FIXED_NOW, make_engine
from tests.discord_harness import TOKEN, World, discord_settings
from tests.fakes.discord_fake import P_VIEW_CHANNEL, FakeDiscord
from tests.fakes.slack_driver import loopback_fixture, slack_settings  # noqa: F401 - fixture
from tests.fakes.slack_fake import SlackFake
from tests.mentor_platforms import (
    DiscordMentors,
    Seen,
    SlackMentors,
    discord_mentors_channel,
    discord_process,
    slack_process,
)
from tests.mentor_support import SECRET, finish

Driver = DiscordMentors | SlackMentors
SHARE = "Share this with a mentor"
CLAIM = "I'll mentor them"
RELEASE = "Hand it back (mentor)"


class Clock:
    def __init__(self) -> None:
        self.now = FIXED_NOW

    def __call__(self) -> Any:
        return self.now


@pytest.fixture
async def discord_fake() -> AsyncIterator[FakeDiscord]:
    async with FakeDiscord(token=TOKEN) as server:
        yield server


@pytest.fixture
async def slack_fake() -> AsyncIterator[SlackFake]:
    async with SlackFake() as server:
        yield server


async def _engine(url: str, settings: Settings, **kw: Any) -> Engine:
    tuned = settings.model_copy(update={"default_playbook": "advice-test"})
    engine = await make_engine(url, tuned, "advice", **kw)
    engine.clock = Clock()
    return engine


@contextlib.asynccontextmanager
async def discord_world(
    fake: FakeDiscord, settings: Settings, url: str
) -> AsyncIterator[tuple[World, int, dict[str, int]]]:
    users = {"admin": fake.owner_id, "person": fake.user_id}
    for name in ("anna", "ben", "carl"):
        users[name] = fake.add_user(name)
        fake.add_member(fake.guild_id, users[name])
    channel = discord_mentors_channel(fake, [users["anna"], users["ben"], users["carl"]])
    cfg = discord_settings(settings, fake, default_playbook="advice-test")
    world = World(fake, cfg, url)
    with discord_endpoints(cfg):
        try:
            yield world, channel, users
        finally:
            for bot in world.bots:  # the engine's database belongs to the caller
                await bot.stop()


@contextlib.asynccontextmanager
async def platform_driver(
    name: str, fake: Any, engine: Engine, tmp_path: Path, url: str
) -> AsyncIterator[Driver]:
    if name == "discord":
        async with contextlib.AsyncExitStack() as stack:
            world, channel, users = await stack.enter_async_context(
                discord_world(fake, engine.settings, url)
            )
            drv = await stack.enter_async_context(discord_process(world, engine, channel))
            drv.users.update(users)
            yield drv
        return
    slack: SlackFake = fake
    users = {n: f"U0{n.upper()}" for n in ("admin", "person", "anna", "ben", "carl")}
    slack.add_user(users["admin"], is_admin=True)
    for n in ("person", "anna", "ben", "carl"):
        slack.add_user(users[n], name=n)
    channel = slack.add_channel(slack.team.id, "mentors").id
    cfg = slack_settings(slack, tmp_path, url, "http", default_playbook="advice-test")
    engine.settings = cfg
    async with slack_process(slack, engine, cfg, channel) as drv:
        drv.users.update(users)
        yield drv


@pytest.fixture(params=["discord", "slack"])
def platform(request: pytest.FixtureRequest) -> tuple[str, Any]:
    """The platform and its fake (only that platform's fake runs)."""
    name = request.param
    return name, request.getfixturevalue(f"{name}_fake")


@pytest.fixture
async def hand_off(
    platform: tuple[str, Any], db_url: str, settings: Settings, tmp_path: Path
) -> AsyncIterator[Driver]:
    engine = await _engine(db_url, settings)
    try:
        async with platform_driver(*platform, engine, tmp_path, db_url) as drv:
            yield drv
    finally:
        await engine.db.dispose()


async def set_up(drv: Driver) -> None:
    assert "fits" not in await _admin_text(drv, drv.set_channel())
    await drv.tag("anna", "doctorate")
    await drv.tag("ben", "ml_admission")
    await finish(drv.engine, drv.ref("person"))


async def _admin_text(drv: Driver, call: Any) -> str:
    return str(await call)


def board(drv: Driver, *, live: bool = True) -> list[Seen]:
    return [m for m in drv.messages() if m.where == "board" and (not live or not m.deleted)]


async def rows(engine: Engine, model: Any) -> int:
    return int(await engine.db.run(lambda s: s.scalar(select(func.count()).select_from(model))))


async def shared(drv: Driver) -> Seen:
    """The person asks, says yes; the card is on the board (after the worker ran)."""
    consent = await drv.ask("person")
    await drv.drain()
    assert board(drv) == []  # nothing before yes
    await drv.press(consent, SHARE, "person")
    await drv.drain()
    (card,) = board(drv)
    return card


async def test_the_hand_off_from_consent_to_forget(hand_off: Driver) -> None:
    drv = hand_off
    await set_up(drv)
    card = await shared(drv)
    assert "Someone would like to talk to a mentor" in card.text
    assert "highest degree" in card.text and "Do you need another master's?" in card.text
    assert SECRET not in card.text
    assert card.mentions == ("anna",)  # the fitting mentor, nobody else

    # Two mentors claim at once: one wins, the other is told (only them).
    await drv.press_together(card.raw, CLAIM, ["anna", "ben"])
    await drv.drain()
    request = await drv.engine.db.run(lambda s: s.scalars(select(MentorRequest)).one())
    winner = next(n for n in ("anna", "ben") if drv.uid(n) == request.claimed_by)
    loser = "ben" if winner == "anna" else "anna"
    assert any("Another mentor has already taken" in t for t in drv.ephemeral_to(loser))
    assert not any("Another mentor" in t for t in drv.ephemeral_to(winner))
    (taken,) = board(drv)
    assert "taken" in taken.text and "highest degree" not in taken.text
    intros = [m for m in drv.messages() if "Crossroads introduces you" in m.text and not m.deleted]
    if drv.platform == "slack":  # a group DM with both, naming both
        (intro,) = intros
        assert intro.where == "group" and set(intro.mentions) == {"person", winner}
    else:  # a DM to each, naming the other
        assert {m.where for m in intros} == {"dm:person", f"dm:{winner}"}
        assert {m.mentions for m in intros} == {(winner,), ("person",)}
    assert all(SECRET not in m.text for m in intros)

    # The mentor hands it back: the card is claimable again, the introduction redacted.
    mentor_intro = next(m for m in intros if m.where in ("group", f"dm:{winner}"))
    await drv.press(mentor_intro.raw, RELEASE, winner)
    await drv.drain()
    (back,) = board(drv)
    assert "highest degree" in back.text and CLAIM in back.text
    redacted = [m for m in drv.messages() if m.raw is mentor_intro.raw]
    assert "handed this request back" in _now_text(drv, redacted[0])

    # The person withdraws: the card goes.
    await drv.typed("person", "mentor withdraw")
    await drv.drain()
    assert board(drv) == []

    # A new request, then forget: every post and every row goes.
    await shared(drv)
    await drv.typed("person", "forget")
    await drv.typed("person", "yes")
    await drv.drain()
    assert board(drv) == []
    for model in (MentorRequest, MentorPost, MentorJob):
        assert await rows(drv.engine, model) == 0


def _now_text(drv: Driver, seen: Seen) -> str:
    """A message's text as it is now (after edits)."""
    return next(m.text for m in drv.messages() if m.raw is seen.raw)


async def test_nothing_but_the_consented_summary_leaves_the_persons_dm(hand_off: Driver) -> None:
    drv = hand_off
    await set_up(drv)
    consent = await drv.ask("person")
    consent_text = _plain(next(m.text for m in drv.messages() if m.raw is consent))
    await drv.press(consent, "Share, and copy my check-in answers to the mentor", "person")
    await drv.drain()
    (card,) = board(drv)
    await drv.press(card.raw, CLAIM, "anna")
    await drv.drain()
    plan = await drv.engine.db.run(lambda s: list(s.scalars(select(PlanItem.action))))
    person = drv.uid("person")
    outside = [
        m
        for m in drv.messages()
        if m.where not in ("dm:person", "ephemeral:person") and not m.where.startswith("ephemeral")
    ]
    expected = {"board", "group"} if drv.platform == "slack" else {"board", "dm:anna"}
    assert {m.where for m in outside} == expected  # the card, and the mentor's introduction
    for m in outside:
        text = _plain(m.text)
        assert SECRET not in text and "Elm Road" not in text
        assert not any(step in text for step in plan), "the plan is never shared"
        for line in text.splitlines():  # each line: from the consent card, or the bot's own
            assert line in consent_text or hand_off_words(line), line
        if m.where == "board":
            assert person not in m.text  # no name, no id on the board
            assert m.mentions in ((), ("anna",))


def _templates() -> list[re.Pattern[str]]:
    """The hand-off's own sentences (bot/mentors/texts.py), each {placeholder} a wildcard."""
    words: list[str] = []
    for value in vars(mentor_texts).values():
        if isinstance(value, str):
            words.append(value)
        elif isinstance(value, dict):
            words += [v for v in value.values() if isinstance(v, str)]
        elif isinstance(value, tuple):
            words += [str(getattr(c, "label", "")) for c in value]
    out = []
    for template in filter(None, words):
        pattern = re.sub(r"\\\{\d*\\\}|\\\{[a-z_]+\\\}", ".+", re.escape(template))
        out.append(re.compile(pattern))
    return out


def hand_off_words(line: str) -> bool:
    """Whether ``line`` is one of the bot's own hand-off sentences (filled in), or a part of
    one (a long sentence wraps), or empty."""
    if not line.strip():
        return True
    return any(t.fullmatch(line) or line in t.pattern.replace("\\", "") for t in _templates())


def _plain(text: str) -> str:
    """Markup off (Discord's ** and escapes, Slack's *), for comparing lines."""
    for mark in ("**", "*", "\\", "-# ", "• "):
        text = text.replace(mark, "")
    text = text.replace("&lt;", "<").replace("&gt;", ">").replace("&amp;", "&")
    return "\n".join(re.sub(r"^:[a-z_]+: ", "", line.strip()) for line in text.splitlines())


# ------------------------------------------------------------------------------ two processes


async def test_resurfacing_is_posted_once_by_two_processes(
    db_url: str, settings: Settings, tmp_path: Path, slack_fake: SlackFake
) -> None:
    """Slack: two adapter processes (two engines, two mentor services) on one database."""
    first = await _engine(db_url, settings)
    second = await _engine(db_url, settings, inline=False)
    clock = Clock()
    first.clock = second.clock = clock
    try:
        async with platform_driver("slack", slack_fake, first, tmp_path, db_url) as one:
            other_cfg = slack_settings(
                one.fake, tmp_path, db_url, "http", default_playbook="advice-test"
            )
            second.settings = other_cfg
            async with slack_process(one.fake, second, other_cfg, one.channel) as two:
                two.users.update(one.users)
                await set_up(one)
                await shared(one)
                await _resurface_once(clock, first, [one, two])
    finally:
        await first.db.dispose()
        await second.db.dispose()


async def test_resurfacing_is_posted_once_by_two_discord_processes(
    db_url: str, settings: Settings, tmp_path: Path, discord_fake: FakeDiscord
) -> None:
    """Discord: the bot's process and a second one (REST only) with its own engine and
    mentor service, on one database."""
    first = await _engine(db_url, settings)
    second = await _engine(db_url, settings, inline=False)
    clock = Clock()
    first.clock = second.clock = clock
    client = discord.Client(intents=discord.Intents.none())
    service = MentorService(second, worker_id="second")
    try:
        async with platform_driver("discord", discord_fake, first, tmp_path, db_url) as one:
            await client.login(TOKEN)
            service.register(DiscordMentorBoard(client))

            class Second:
                async def drain(self) -> None:
                    await service.drain()

            await set_up(one)
            await shared(one)
            await _resurface_once(clock, first, [one, Second()])
    finally:
        await client.close()
        await first.db.dispose()
        await second.db.dispose()


async def _resurface_once(clock: Clock, engine: Engine, processes: list[Any]) -> None:
    one = processes[0]
    (first,) = board(one)
    clock.now += timedelta(hours=engine.settings.mentor_resurface_hours, minutes=1)
    await asyncio.gather(*(p.drain() for p in processes))
    for p in processes:
        await p.drain()  # the first card's deletion, by whichever process
    again = [m for m in board(one, live=False) if "Still looking for a mentor" in m.text]
    assert len(again) == 1 and not again[0].deleted
    assert [m.raw for m in board(one)] == [again[0].raw] != [first.raw]  # the first is gone
    clock.now += timedelta(days=30)
    await asyncio.gather(*(p.drain() for p in processes))
    assert len([m for m in board(one, live=False) if "Still looking" in m.text]) == 1


async def test_discord_refuses_a_mentors_channel_the_bot_cannot_post_in(
    db_url: str, settings: Settings, tmp_path: Path, discord_fake: FakeDiscord
) -> None:
    fake = discord_fake
    closed = fake.add_text_channel(
        fake.guild_id,
        "closed",
        permission_overwrites=[
            {"id": str(fake.guild_id), "type": 0, "allow": "0", "deny": str(P_VIEW_CHANNEL)}
        ],
    )
    engine = await _engine(db_url, settings)
    try:
        async with platform_driver("discord", fake, engine, tmp_path, db_url) as drv:
            assert isinstance(drv, DiscordMentors)
            outcome = await drv.admin("channel", {"channel": closed})
            assert outcome == "refused-channel"
            overview = await engine.mentor_overview("discord", drv.board_tenant)
            assert "Mentors channel: not set." in overview.text()
            assert await drv.set_channel() == "applied"
    finally:
        await engine.db.dispose()
