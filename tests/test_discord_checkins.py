"""End to end: check-ins on Discord, the real discord.py client against the fake.

Choosing check-ins after a recommendation, `/advise checkins` with snooze / cancel, a due
reminder delivered by the core's DeliveryWorker (hand-cranked FakeClock) as a DM with
``nonce`` + ``enforce_nonce``, answering it, nonce de-duplication, closed DMs, 429s.
Every test runs on SQLite and on PostgreSQL.
"""

from __future__ import annotations

import asyncio
from datetime import timedelta
from types import SimpleNamespace
from typing import Any

import aiohttp
import discord
import pytest
from sqlalchemy import select

from adapters.discord.checkins import (
    DMS_CLOSED_REASON,
    GONE_REASON,
    DiscordCheckInSender,
    parse_when,
)
from adapters.discord.components import ComponentId, Kind, decode
from adapters.discord.render import (
    SelectSpec,
    render_checkin_list,
    render_prompt,
    render_revisit,
    render_timezone_question,
)
from adapters.discord.tenancy import person
from bot import events as ev
from bot.checkins import texts
from bot.checkins.delivery import DeliveryConfig, DeliveryWorker
from bot.checkins.scheduler import CheckInService
from bot.checkins.sender import Delivered, RetryAfter, Unreachable
from bot.engine import Engine
from bot.messages import (
    CheckInList,
    CheckInPrompt,
    CheckInView,
    ChoiceOption,
    RevisitOffer,
    TimezoneQuestion,
    WhenKind,
)
from bot.store.models import CheckIn, PlanItem
from bot.ui.presenters import notification
from tests.checkin_doubles import FakeClock
from tests.conftest import FIXED_NOW
from tests.discord_harness import (
    Bot,
    World,
    assert_no_pings,
    button,
    dm_id,
    make_runtime,
)
from tests.discord_harness import (
    select as first_select,
)
from tests.fakes.discord_fake import FakeDiscord, FakeMessage

pytest_plugins = ["tests.discord_fixtures"]  # fixtures: fake, world, loopback_only

CB_MESSAGE, CB_UPDATE, CB_MODAL = 4, 7, 9
TINY_ANSWERS: list[Any] = ["student", "yes", ["code", "maths"], "5", "skip"]
OFFER_TITLE = "Shall I check in with you on your plan?"


async def click(world: World, message: FakeMessage, custom_id: str, **kw: Any) -> tuple[str, str]:
    bot = world.bots[-1]
    iid = await world.fake.inject_component(message.id, custom_id, **kw)
    return iid, await bot.handled(iid)


def titled(title: str) -> Any:
    return lambda m: any(e.get("title") == title for e in m.embeds)


def clock_of(engine: Engine) -> FakeClock:
    if not isinstance(engine.clock, FakeClock):
        engine.clock = FakeClock(FIXED_NOW)
    assert isinstance(engine.clock, FakeClock)
    return engine.clock


def worker_for(bot: Bot, sender: DiscordCheckInSender) -> DeliveryWorker:
    """The core's delivery loop on the bot's database, driven by the engine's FakeClock."""
    clock = clock_of(bot.engine)
    return DeliveryWorker(
        bot.engine.db,
        DeliveryConfig.from_settings(bot.engine.settings),
        {sender.platform: sender},
        worker_id="w1",
        clock=clock,
        sleep=clock.sleep,
    )


async def deliver_next(bot: Bot, worker: DeliveryWorker) -> None:
    """Move the clock to the next due time (if any) and run one delivery round."""
    clock = clock_of(bot.engine)
    nxt = await worker.next_wake()
    if nxt is not None and nxt > clock.now:
        clock.now = nxt + timedelta(seconds=1)
    await worker.drain()


async def schedule_directly(bot: Bot, user_id: int, when: ev.When) -> None:
    """A finished consultation with check-ins, through the core (no clicks needed)."""
    user = person(user_id)
    await bot.engine.run(ev.Start(user, "tiny"))
    for value in TINY_ANSWERS:
        await bot.engine.run(ev.Answer(user, value))
    await bot.engine.run(ev.ScheduleCheckIns(user, when))


async def consult_to_offer(world: World) -> FakeMessage:
    """A whole consultation by clicks (started in a server, held in the DM) up to the offer."""
    fake, bot = world.fake, world.bots[-1]
    mark = fake.mark()
    iid = await fake.inject_command("advise start")
    assert await bot.handled(iid) == "dm"
    dm = dm_id(fake)
    q = await fake.wait_for_message(channel_id=dm, after=mark)
    for step in ("Student", "Yes", None, "2", "Skip"):
        mark = fake.mark()
        if step is None:
            menu = first_select(q)
            await click(world, q, menu["custom_id"], values=["code", "writing"])
        else:
            await click(world, q, button(q, step))
        if step == "Skip":
            break
        q = await fake.wait_for_message(lambda m: bool(m.components), channel_id=dm, after=mark)
    return await fake.wait_for_message(titled(OFFER_TITLE), channel_id=dm, after=mark)


# ------------------------------------------------------------------ choosing and listing


async def test_pick_checkins_list_snooze_cancel_then_a_reminder_is_answered_done(
    world: World,
) -> None:
    fake = world.fake
    bot = await world.bot()
    clock_of(bot.engine)
    offer = await consult_to_offer(world)
    labels = [c["label"] for row in offer.components for c in row["components"]]
    assert labels == [
        "On the suggested dates",
        "In a few days…",
        "Every week",
        "Every two weeks",
        "On a date…",
        "No check-ins",
    ]

    # "Every week": the offer closes, the list and the time-zone question follow.
    mark = fake.mark()
    iid, outcome = await click(world, offer, button(offer, "Every week"))
    assert outcome == "checkin"
    closed = fake.message(offer.id)
    assert closed.content.startswith("Check-ins are set for") and closed.components == []
    dm = dm_id(fake)
    listing = await fake.wait_for_message(titled("Your check-ins"), channel_id=dm, after=mark)
    assert "every week · scheduled" in listing.embeds[0]["description"]
    zone_q = await fake.wait_for_message(
        lambda m: any(c.startswith("xr1:z:") for c in m.custom_ids()), channel_id=dm, after=mark
    )
    menu = first_select(zone_q)
    assert "Europe/Berlin" in [o["value"] for o in menu["options"]]
    _, outcome = await click(world, zone_q, menu["custom_id"], values=["Europe/Berlin"])
    assert outcome == "checkin"
    assert "Europe/Berlin" in fake.message(zone_q.id).content

    # /advise checkins in the server: ephemeral, one row of actions per check-in.
    iid = await fake.inject_command("advise checkins")
    assert await bot.handled(iid) == "shown"
    cb = await fake.wait_for_callback(iid)
    assert cb.ephemeral and cb.message is not None
    ids = sorted({decode(c).consultation_id for c in cb.custom_ids() if c.startswith("xr1:i:")})  # type: ignore[union-attr]
    assert ids, cb.components
    first = ids[0]
    snooze = ComponentId(Kind.ITEM, fake.user_id, first, 0, texts.SNOOZE_WEEK).encode()
    _, outcome = await click(world, cb.message, snooze)
    assert outcome == "changed"
    after_snooze = fake.message(cb.message.id)
    assert after_snooze.content and after_snooze.embeds[0]["title"] == "Your check-ins"
    if len(ids) > 1:
        cancel = ComponentId(Kind.ITEM, fake.user_id, ids[-1], 0, texts.CANCEL).encode()
        _, outcome = await click(world, cb.message, cancel)
        assert outcome == "changed"
        assert fake.message(cb.message.id).content.startswith("Cancelled")
        assert f"#{ids[-1]}" not in str(fake.message(cb.message.id).embeds)

    # The reminder falls due: the core's worker sends it as a DM, with an enforced nonce.
    sender = DiscordCheckInSender(bot.client)
    worker = worker_for(bot, sender)
    mark = fake.mark()
    await deliver_next(bot, worker)
    prompt = await fake.wait_for_message(
        titled("Check-in: how is it going?"), channel_id=dm, after=mark
    )
    assert prompt.request is not None
    nonce = prompt.request["nonce"]
    assert isinstance(nonce, str) and 0 < len(nonce) <= 25
    assert prompt.request["enforce_nonce"] is True
    assert [c["label"] for row in prompt.components for c in row["components"]] == [
        c.label for c in texts.PROMPT_CHOICES
    ]

    checkin_id = decode(prompt.custom_ids()[0]).consultation_id  # type: ignore[union-attr]
    _, outcome = await click(world, prompt, button(prompt, "Done"))
    assert outcome == "checkin"
    answered = fake.message(prompt.id)
    assert answered.content.startswith("✅ Done") and answered.components == []

    def plan_status(s: Any) -> str:
        row = s.get(CheckIn, checkin_id)
        return str(s.scalar(select(PlanItem.status).where(PlanItem.id == row.plan_item_id)))

    assert await bot.engine.db.run(plan_status) == "done"
    assert_no_pings(fake)


async def test_in_days_modal_schedules_and_a_bad_answer_is_refused(world: World) -> None:
    fake = world.fake
    bot = await world.bot()
    clock_of(bot.engine)
    offer = await consult_to_offer(world)
    opener = button(offer, "In a few days…")
    iid, outcome = await click(world, offer, opener)
    assert outcome == "modal"
    modal = await fake.wait_for_callback(iid)
    assert modal.type == CB_MODAL
    bad = await fake.inject_modal_submit(iid, {"answer": "soonish"})
    assert await bot.handled(bad) == "invalid"
    assert (await fake.wait_for_callback(bad)).ephemeral
    assert fake.message(offer.id).components  # the offer stays open

    iid, _ = await click(world, offer, opener)
    await fake.wait_for_callback(iid)
    mark = fake.mark()
    good = await fake.inject_modal_submit(iid, {"answer": "10"})
    assert await bot.handled(good) == "checkin"
    assert fake.message(offer.id).content.startswith("Check-ins are set for")

    # The time-zone question's "Other…" asks in a modal.
    zone_q = await fake.wait_for_message(
        lambda m: any(c.startswith("xr1:y:") for c in m.custom_ids()),
        channel_id=dm_id(fake),
        after=mark,
    )
    iid, outcome = await click(world, zone_q, button(zone_q, "Other…"))
    assert outcome == "modal"
    await fake.wait_for_callback(iid)
    sub = await fake.inject_modal_submit(iid, {"answer": "America/New_York"})
    assert await bot.handled(sub) == "checkin"
    assert "America/New\\_York" in fake.message(zone_q.id).content  # escaped Markdown
    assert fake.message(zone_q.id).components == []


async def test_someone_elses_checkin_buttons_are_refused(world: World) -> None:
    fake = world.fake
    bot = await world.bot()
    clock_of(bot.engine)
    await schedule_directly(bot, fake.user_id, ev.When(WhenKind.IN_DAYS, days=1))
    iid = await fake.inject_command("advise checkins", dm=True)
    cb = await fake.wait_for_callback(iid)
    await bot.handled(iid)
    assert cb.message is not None and not cb.ephemeral
    mallory = fake.add_user("mallory")
    fake.add_member(fake.guild_id, mallory)
    item = next(c for c in cb.custom_ids() if c.startswith("xr1:i:"))
    jid = await fake.inject_forged_component(cb.message.id, item, user_id=mallory)
    assert await bot.handled(jid) == "not-owner"
    assert fake.message(cb.message.id).custom_ids() == cb.message.custom_ids()


# ------------------------------------------------------------------ the sender


async def test_the_same_key_twice_posts_one_message(world: World) -> None:
    fake = world.fake
    bot = await world.bot()
    sender = DiscordCheckInSender(bot.client)
    message = CheckInPrompt(
        7, 1, 3, "Write to **two** supervisors @everyone", FIXED_NOW, "UTC", texts.PROMPT_CHOICES
    )
    user = person(fake.user_id)
    first = await sender.send(user, notification(message), "ci7o1")
    mark = fake.mark()
    second = await sender.send(user, notification(message), "ci7o1")
    assert isinstance(first, Delivered) and first == second
    await fake.wait_for(kind="nonce_hit", after=mark)
    posted = [m for m in fake.messages[dm_id(fake)] if m.payload.get("nonce") == "ci7o1"]
    assert len(posted) == 1
    assert "\\*\\*two\\*\\*" in posted[0].embeds[0]["description"]
    assert_no_pings(fake)


async def test_closed_dms_fail_after_bounded_retries_and_show_in_the_list(world: World) -> None:
    fake = world.fake
    bot = await world.bot()
    clock_of(bot.engine)
    await schedule_directly(bot, fake.user_id, ev.When(WhenKind.IN_DAYS, days=1))
    fake.fail_messages_to_user(fake.user_id)
    sender = DiscordCheckInSender(bot.client)
    worker = worker_for(bot, sender)
    for _attempt in range(8):
        await deliver_next(bot, worker)
    rows = await bot.engine.db.run(lambda s: list(s.scalars(select(CheckIn))))
    assert rows and {r.state for r in rows} == {"failed"}
    assert {r.last_error for r in rows} == {DMS_CLOSED_REASON}
    assert not [m for m in fake.messages.get(dm_id(fake), []) if m.author_id == fake.bot_id]

    iid = await fake.inject_command("advise checkins")
    await bot.handled(iid)
    cb = await fake.wait_for_callback(iid)
    text = cb.embeds[0]["description"]
    assert "could not be delivered" in text and DMS_CLOSED_REASON in text


async def test_a_429_is_retry_after_not_a_failure(world: World) -> None:
    fake = world.fake
    bot = await world.bot(max_ratelimit_timeout=30.0)
    sender = DiscordCheckInSender(bot.client)
    message = CheckInPrompt(8, 1, 3, "Apply", FIXED_NOW, "UTC", texts.PROMPT_CHOICES)
    await bot.client.create_dm(discord.Object(fake.user_id))  # the DM exists already
    fake.rate_limit_messages(1, retry_after=60.0)
    result = await sender.send(person(fake.user_id), notification(message), "ci8o1")
    assert isinstance(result, RetryAfter) and result.seconds == pytest.approx(60.0, abs=1)


async def test_the_sender_is_registered_when_the_client_is_ready(
    fake: FakeDiscord, world: World
) -> None:
    rt = await make_runtime(world.db_url, world.settings)
    rt.checkins = CheckInService(rt.engine)
    bot = await world.bot(rt=rt)
    await bot.client.wait_until_ready()
    for _ in range(500):  # on_ready runs as its own task just after the ready flag is set
        if rt.checkins.worker.platforms:
            break
        await asyncio.sleep(0.01)
    assert rt.checkins.worker.platforms == ("discord",)


# ------------------------------------------------------------------ mapping and rendering


class _Failing:
    """A client whose DM send raises ``exc`` (the mapping without a server)."""

    def __init__(self, exc: BaseException) -> None:
        self.exc = exc

    async def create_dm(self, user: object) -> Any:
        async def send(**kwargs: Any) -> Any:
            raise self.exc

        return SimpleNamespace(send=send)


def _http(cls: type[discord.HTTPException], status: int, code: int = 0, **headers: str) -> Any:
    response = SimpleNamespace(status=status, reason="x", headers=headers)
    return cls(response, {"message": "x", "code": code})  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("exc", "expected"),
    [
        (discord.RateLimited(42.0), RetryAfter(42.0, is_global=False)),
        (_http(discord.HTTPException, 429, **{"Retry-After": "7"}), RetryAfter(7.0)),
        (_http(discord.Forbidden, 403, 50007), Unreachable(DMS_CLOSED_REASON)),
        (_http(discord.NotFound, 404, 10013), Unreachable(GONE_REASON)),
        (_http(discord.NotFound, 404, 10003), Unreachable(GONE_REASON)),
        (_http(discord.DiscordServerError, 503), RetryAfter(30.0, is_global=True)),
        (aiohttp.ClientConnectionError(), RetryAfter(30.0, is_global=True)),
    ],
)
async def test_send_errors_map_to_send_results(exc: BaseException, expected: object) -> None:
    sender = DiscordCheckInSender(_Failing(exc))  # type: ignore[arg-type]
    message = CheckInPrompt(1, 1, 1, "x", FIXED_NOW, "UTC", texts.PROMPT_CHOICES)
    assert await sender.send(person(5), notification(message), "k") == expected


async def test_a_bad_request_is_a_bug_and_raises() -> None:
    sender = DiscordCheckInSender(_Failing(_http(discord.HTTPException, 400, 50035)))  # type: ignore[arg-type]
    message = CheckInPrompt(1, 1, 1, "x", FIXED_NOW, "UTC", texts.PROMPT_CHOICES)
    with pytest.raises(discord.HTTPException):
        await sender.send(person(5), notification(message), "k")


def test_parse_when() -> None:
    assert parse_when("10") == ev.When(WhenKind.IN_DAYS, days=10)
    assert parse_when(" in 3 days ") == ev.When(WhenKind.IN_DAYS, days=3)
    assert parse_when("Weekly") == ev.When(WhenKind.WEEKLY)
    assert parse_when("2026-05-04 9:30") == ev.When(WhenKind.DATE, on="2026-05-04 09:30")
    assert parse_when("2026-05-04") == ev.When(WhenKind.DATE, on="2026-05-04")
    assert parse_when("soon") is None


def test_long_lists_page_and_stay_within_limits() -> None:
    views = tuple(
        CheckInView(i, i, "step " * 100, "every 7 days", "failed", None, "open", "closed DMs")
        for i in range(1, 12)
    )
    lst = CheckInList(views, "Europe/Berlin", "21:00-08:00", texts.LIST_ACTIONS)
    first = render_checkin_list(lst, 99)
    last = render_checkin_list(lst, 99, page=2)
    for out in (first, last):
        assert len(out.embeds[0].description or "") <= 4096
        assert max(getattr(c, "row", 0) for c in out.components) <= 4
        assert all(len(c.custom_id) <= 100 for c in out.components)
        out.kwargs()  # discord.py accepts the view
    assert [c.label for c in first.components][-1] == "Next ▶"
    assert "◀ Previous" in [c.label for c in last.components]
    prompt = render_prompt(
        CheckInPrompt(10**11, 10**6, 1, "x" * 5000, FIXED_NOW, "UTC", texts.PROMPT_CHOICES), 99
    )
    assert len(prompt.embeds[0].description or "") <= 4096
    prompt.kwargs()


async def test_missed_checkins_come_as_one_catch_up_and_can_be_snoozed(world: World) -> None:
    fake = world.fake
    bot = await world.bot()
    clock = clock_of(bot.engine)
    await schedule_directly(bot, fake.user_id, ev.When(WhenKind.IN_DAYS, days=1))
    worker = worker_for(bot, DiscordCheckInSender(bot.client))
    nxt = await worker.next_wake()
    assert nxt is not None
    clock.now = nxt + timedelta(days=2)  # far beyond the grace: missed, one catch-up note
    mark = fake.mark()
    await worker.drain()
    dm = dm_id(fake)
    note = await fake.wait_for_message(
        lambda m: any(c.startswith("xr1:u:") for c in m.custom_ids()), channel_id=dm, after=mark
    )
    assert note.request is not None and note.request["enforce_nonce"] is True
    bot_posts = [m for m in fake.messages[dm] if m.author_id == fake.bot_id and m.id >= note.id]
    assert len(bot_posts) == 1
    snooze = next(c for c in note.custom_ids() if c.endswith(":snooze_day:"))
    menu = note.find_component(snooze)
    assert menu is not None
    values = [o["value"] for o in menu["options"]]
    _, outcome = await click(world, note, snooze, values=values)
    assert outcome == "checkin"
    assert fake.message(note.id).components == []
    rows = await bot.engine.db.run(lambda s: list(s.scalars(select(CheckIn))))
    assert {r.state for r in rows if r.kind != "catchup"} == {"pending"}


async def test_change_by_modal_and_other_time_zone(world: World) -> None:
    fake = world.fake
    bot = await world.bot()
    clock_of(bot.engine)
    await schedule_directly(bot, fake.user_id, ev.When(WhenKind.IN_DAYS, days=1))
    iid = await fake.inject_command("advise checkins", dm=True)
    await bot.handled(iid)
    cb = await fake.wait_for_callback(iid)
    assert cb.message is not None
    change = next(c for c in cb.custom_ids() if c.endswith(":change:"))
    jid, outcome = await click(world, cb.message, change)
    assert outcome == "modal"
    assert (await fake.wait_for_callback(jid)).type == CB_MODAL
    sub = await fake.inject_modal_submit(jid, {"answer": "fortnightly"})
    assert await bot.handled(sub) == "changed"
    updated = fake.message(cb.message.id)
    assert updated.content.startswith("Changed") and "every two weeks" in str(updated.embeds)

    zone_q = render_timezone_question(
        TimezoneQuestion("Which time zone are you in?", "UTC", ("Europe/Berlin",)), fake.user_id
    )
    assert [type(c).__name__ for c in zone_q.components] == ["SelectSpec", "ButtonSpec"]
    other = ComponentId(Kind.ZONE_OTHER, fake.user_id, ref="tz").encode()
    assert other in [c.custom_id for c in zone_q.components]


async def test_an_older_reminder_is_stale_and_changes_nothing(world: World) -> None:
    fake = world.fake
    bot = await world.bot()
    clock_of(bot.engine)
    await schedule_directly(bot, fake.user_id, ev.When(WhenKind.WEEKLY))
    worker = worker_for(bot, DiscordCheckInSender(bot.client))
    dm = dm_id(fake)
    mark = fake.mark()
    await deliver_next(bot, worker)
    old = await fake.wait_for_message(
        titled("Check-in: how is it going?"), channel_id=dm, after=mark
    )
    old_done = button(old, "Done")
    mark = fake.mark()
    await deliver_next(bot, worker)  # a week later: the next cycle of the same check-in
    await fake.wait_for_message(
        lambda m: (
            decode(m.custom_ids()[0] if m.custom_ids() else "") is not None
            and decode(m.custom_ids()[0]).consultation_id == decode(old_done).consultation_id
        ),  # type: ignore[union-attr]
        channel_id=dm,
        after=mark,
    )
    _, outcome = await click(world, old, old_done)
    assert outcome == "stale"
    stale = fake.message(old.id)
    assert stale.content.startswith("That is an older check-in") and stale.components == []


def test_revisit_offer_is_a_select_of_questions() -> None:
    offer = RevisitOffer(
        12, "Shall we look again?", (ChoiceOption("money", "How important is money?"),)
    )
    out = render_revisit(offer, 99)
    (menu,) = out.components
    assert isinstance(menu, SelectSpec) and [o.value for o in menu.options] == ["money"]
    target = decode(menu.custom_id)
    assert target is not None and (target.kind, target.consultation_id) == (Kind.REVISIT, 12)
    out.kwargs()
