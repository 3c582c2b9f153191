"""End to end: typing in the bot's DM on Discord, the real client against the fake.

A DM is a conversation: a whole consultation by typed text only (no slash command, no
click), the offer when there is none, replies that keep their buttons, check-in replies
typed after a delivered check-in, per-person order, and a typed answer racing a click on
the same question (the core's version check lets exactly one through; the other is told
politely). Messages the bot must not answer (its own, system messages, empty ones) get
nothing. Every test runs on SQLite and on PostgreSQL.
"""

from __future__ import annotations

import asyncio
from typing import Any

from adapters.discord.checkins import DiscordCheckInSender
from adapters.discord.tenancy import person
from bot import events as ev
from bot.core.reply import Reply
from bot.messages import Status
from tests.discord_harness import Bot, World, assert_no_pings, button, dm_id, text_of
from tests.fakes.discord_fake import FakeDiscord, FakeMessage
from tests.race_gate import Turnstile
from tests.test_discord_checkins import clock_of, deliver_next, schedule_directly, worker_for

pytest_plugins = ["tests.discord_fixtures"]  # fixtures: fake, world, loopback_only

STALE = "That question was already answered; here is where we are now."


def replies(fake: FakeDiscord, after: FakeMessage, user_id: int | None = None) -> list[FakeMessage]:
    """What the bot posted in the person's DM after their message ``after``."""
    return [
        m
        for m in fake.messages[dm_id(fake, user_id)]
        if m.author_id == fake.bot_id and m.id > after.id
    ]


def shown(fake: FakeDiscord, after: FakeMessage, user_id: int | None = None) -> str:
    return "\n".join(text_of(m) for m in replies(fake, after, user_id))


async def status(bot: Bot, user_id: int) -> Status:
    [st] = (await bot.engine.run(ev.ShowStatus(user=person(user_id)))).messages
    assert isinstance(st, Status)
    return st


async def test_a_whole_consultation_by_typing_only(world: World) -> None:
    fake = world.fake
    bot = await world.bot()

    hello, outcome = await bot.typed("hello?")
    assert outcome == "not_found"  # no consultation: the offer to start one
    assert "Type start to begin one" in shown(fake, hello)

    start, outcome = await bot.typed("start")
    assert outcome == "applied"
    [intro] = replies(fake, start)  # the intro and question 1 share one message
    assert [e["title"] for e in intro.embeds] == ["Tiny test playbook", "Question 1 of 5"]
    assert button(intro, "Student")  # the same buttons as a command's reply

    steps = [
        ("student", "Did you write a thesis?"),
        ("Yes", "Which skills do you have?"),
        ("coding, maths", "How much does pay matter?"),
        ("4", "Anything else?"),
    ]
    for typed, next_question in steps:
        message, outcome = await bot.typed(typed)
        assert outcome == "applied", (typed, shown(fake, message))
        assert next_question in shown(fake, message)

    notes, outcome = await bot.typed("I like **maths** @everyone")
    assert outcome == "applied"
    advice = replies(fake, notes)
    assert "That is everything I need" in text_of(advice[0])
    assert any("In short" in text_of(m) for m in advice)
    assert any("Shall I check in" in text_of(m) for m in advice)
    for m in advice:  # within Discord's limits, however long the advice
        assert len(m.embeds) <= 10 and len(m.content) <= 2000

    st = await status(bot, fake.user_id)
    assert st.state == "completed" and st.position == 5
    notes_answer = [a.answer for a in st.answers if a.question_id == "notes"]
    assert notes_answer == ["I like **maths** @everyone"]
    assert fake.callbacks == []  # not one interaction: everything was typed
    assert_no_pings(fake)

    # the typed reply's components work like any other: a click on a route's details
    [card] = [m for m in advice if "2. Keep studying" in str(m.components)]
    iid = await fake.inject_component(card.id, button(card, "2. Keep studying"))
    assert await bot.handled(iid) == "shown"

    details, outcome = await bot.typed("details 1")  # and typing goes on after a click
    assert outcome == "shown" and "Get a job" in shown(fake, details)


async def test_what_the_bot_must_not_answer_gets_nothing(world: World) -> None:
    fake = world.fake
    bot = await world.bot()
    other_bot = fake.add_user("otherbot", bot=True)
    await fake.user_sends_dm("start", user_id=other_bot)  # another bot
    await fake.user_sends_dm("start", message_type=6)  # a pin: a system message
    await fake.user_sends_dm("   ")  # nothing typed (an attachment or a sticker only)
    guild_channel = fake.add_text_channel(fake.guild_id, "general")
    await fake.user_sends_message(guild_channel, "start")  # a server channel: not for us

    # The gateway delivers events in order and each is dispatched in order, so once this
    # DM is answered every message above was seen (and ignored) before it.
    marker, outcome = await bot.typed("help")
    assert outcome == "shown"
    bot_posts = [m for m in fake.all_messages() if m.author_id == fake.bot_id]
    assert [m.channel_id for m in bot_posts] == [dm_id(fake)]  # only the answer to "help"
    assert "What you can type" in text_of(bot_posts[0])
    assert set(bot.dm_outcomes) == {marker.id}
    assert not await bot.engine.has_open_consultation(person(fake.user_id))
    # The bot's own reply came back through the gateway too, and was not answered.
    assert any(
        r.data["event"] == "MESSAGE_CREATE" and r.data["data"]["id"] == str(bot_posts[0].id)
        for r in fake.journal
        if r.kind == "dispatch"
    )


async def test_a_delivered_checkin_is_answered_by_typing(world: World) -> None:
    fake = world.fake
    bot = await world.bot()
    clock_of(bot.engine)
    await schedule_directly(bot, fake.user_id, ev.When(kind="in_days", days=1))
    sender = DiscordCheckInSender(bot.client)
    await deliver_next(bot, worker_for(bot, sender))
    prompts = [m for m in fake.messages[dm_id(fake)] if "Check-in:" in text_of(m)]
    assert prompts, "no check-in was delivered"

    done, outcome = await bot.typed("done")
    assert outcome == "applied"
    assert "marked it done" in shown(fake, done)
    rows = await bot.engine.run(ev.ListCheckIns(user=person(fake.user_id)))
    [listing] = rows.messages
    states = [v.state for v in listing.items]  # type: ignore[attr-defined]
    assert len(states) == len(prompts) - 1  # the answered one is no longer open


async def hold_first_typed(bot: Bot, release: asyncio.Event) -> list[str]:
    """Make the engine wait on ``release`` for the first Typed event; returns the log of
    typed lines in the order the engine took them up."""
    seen: list[str] = []
    original = bot.engine.handle

    async def handle(event: Any) -> Reply:
        if isinstance(event, ev.Typed):
            seen.append(event.text)
            if len(seen) == 1:
                await release.wait()
        return await original(event)

    bot.engine.handle = handle  # type: ignore[method-assign]
    return seen


async def test_one_persons_dms_are_handled_in_order_others_concurrently(world: World) -> None:
    fake = world.fake
    bot = await world.bot()
    release = asyncio.Event()
    seen = await hold_first_typed(bot, release)

    first = await fake.user_sends_dm("start")
    second = await fake.user_sends_dm("student")  # typed before "start" was answered
    # Someone else is not held up by the first person's slow turn.
    bob = fake.add_user("bob")
    _, outcome = await bot.typed("start", user_id=bob)
    assert outcome == "applied" and seen == ["start", "start"]  # "student" still waits
    assert bot.client.dms.lanes.busy(fake.user_id)

    release.set()
    assert await bot.dm_handled(first.id) == "applied"
    assert await bot.dm_handled(second.id) == "applied"
    assert seen == ["start", "start", "student"]
    st = await status(bot, fake.user_id)
    assert [a.answer for a in st.answers] == ["Student"]


async def race(world: World, winner: str) -> None:
    """Type "Student" and click "Worker" on question 1 at once; ``winner`` goes first."""
    fake = world.fake
    bot = await world.bot()
    start, _ = await bot.typed("start")
    [question] = replies(fake, start)
    order = [winner, "click" if winner == "typed" else "typed"]
    real_db = bot.engine.db
    bot.engine.db = Turnstile(  # type: ignore[assignment]
        real_db, order, lambda answer: "typed" if answer.value == "Student" else "click"
    )
    try:
        mark = fake.mark()
        typed = await fake.user_sends_dm("Student")
        iid = await fake.inject_component(question.id, button(question, "Worker"))
        typed_outcome = await bot.dm_handled(typed.id)
        click_outcome = await bot.handled(iid)
    finally:
        bot.engine.db = real_db
    st = await status(bot, fake.user_id)
    stored = [a.answer for a in st.answers]
    assert stored == (["Student"] if winner == "typed" else ["Worker"])  # exactly one
    if winner == "typed":
        assert (typed_outcome, click_outcome) == ("applied", "stale")
        assert fake.message(question.id).components == []  # the old buttons are gone
        polite = await fake.wait_for_message(
            lambda m: STALE in text_of(m), channel_id=dm_id(fake), after=mark
        )
        assert "Did you write a thesis?" in text_of(polite)  # and where we are now
    else:
        assert (typed_outcome, click_outcome) == ("stale", "applied")
        after = shown(fake, typed)
        assert STALE in after and "How much does pay matter?" not in after
        assert "Which skills do you have?" in after  # Worker skips the thesis question


async def test_typed_first_then_the_click_is_already_answered(world: World) -> None:
    await race(world, "typed")


async def test_click_first_then_the_typed_answer_is_already_answered(world: World) -> None:
    await race(world, "click")
