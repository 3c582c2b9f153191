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

from adapters.discord.cards import Button, render
from adapters.discord.checkins import DMS_CLOSED_REASON, GONE_REASON, DiscordCheckInSender
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
    WhenKind,
)
from bot.store.models import CheckIn, PlanItem
from bot.ui import codec, presenters
from bot.ui import intents as it
from tests.checkin_doubles import FakeClock
from tests.conftest import FIXED_NOW
from tests.discord_harness import (
    Bot,
    World,
    assert_no_pings,
    button,
    dm_id,
    intents,
    make_runtime,
    text_of,
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


def with_intent(kind: type[it.Intent]) -> Any:
    """A message with a component standing for an intent of ``kind``."""
    return lambda m: any(isinstance(i, kind) for i in intents(m))


def ids_of(msg: FakeMessage, kind: type[it.Intent]) -> list[tuple[str, Any]]:
    """(custom_id, intent) of the message's components standing for ``kind``."""
    out: list[tuple[str, Any]] = []
    for custom_id, intent in zip(msg.custom_ids(), intents(msg), strict=True):
        if isinstance(intent, kind):
            out.append((custom_id, intent))
    return out


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
    await bot.engine.run(ev.Start(user=user, playbook_id="tiny"))
    for value in TINY_ANSWERS:
        await bot.engine.run(ev.Answer(user=user, value=value))
    await bot.engine.run(ev.ScheduleCheckIns(user=user, when=when))


async def consult_to_offer(world: World) -> FakeMessage:
    """A whole consultation by clicks (started in a server, held in the DM) up to the offer."""
    fake, bot = world.fake, world.bots[-1]
    mark = fake.mark()
    iid = await fake.inject_command("advise start")
    assert await bot.handled(iid) == "dm"
    dm = dm_id(fake)
    q = await fake.wait_for_message(channel_id=dm, after=mark)
    for step in ("Student", "Yes", None, "2", "Type your answer"):
        mark = fake.mark()
        if step is None:
            menu = first_select(q)
            await click(world, q, menu["custom_id"], values=["code", "writing"])
        elif step == "Type your answer":  # the optional last question, left empty
            opened, _ = await click(world, q, button(q, step))
            assert await bot.handled(await fake.inject_modal_submit(opened, {})) == "applied"
            break
        else:
            await click(world, q, button(q, step))
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
        "Every week",
        "Every two weeks",
        "No check-ins",
        "In a few days…",
        "On a date…",
    ]

    # "Every week": the offer closes, the confirmation, list and time-zone question follow.
    mark = fake.mark()
    iid, outcome = await click(world, offer, button(offer, "Every week"))
    assert outcome == "applied"
    closed = fake.message(offer.id)  # the offer's receipt: what was chosen, no buttons
    assert closed.components == [] and closed.embeds[0]["title"] == OFFER_TITLE
    assert "You chose: Every week" in text_of(closed)
    dm = dm_id(fake)
    listing = await fake.wait_for_message(titled("Your check-ins"), channel_id=dm, after=mark)
    said = "\n".join(text_of(m) for m in fake.messages[dm] if m.id >= listing.id)
    assert "Check-ins are set for" in said
    assert "every week · scheduled" in text_of(listing)
    zone_q = await fake.wait_for_message(with_intent(it.SetZone), channel_id=dm, after=mark)
    menu = first_select(zone_q)
    assert "Europe/Berlin" in [o["value"] for o in menu["options"]]
    mark = fake.mark()
    _, outcome = await click(world, zone_q, menu["custom_id"], values=["Europe/Berlin"])
    assert outcome == "applied"
    assert fake.message(zone_q.id).components == []
    confirmed = await fake.wait_for_message(channel_id=dm, after=mark)
    assert "Europe/Berlin" in text_of(confirmed)

    # /advise checkins in the server: ephemeral, a select per action over the check-ins.
    iid = await fake.inject_command("advise checkins")
    assert await bot.handled(iid) == "shown"
    cb = await fake.wait_for_callback(iid)
    assert cb.ephemeral and cb.message is not None
    manage = {i.action: c for c, i in ids_of(cb.message, it.ManageCheckIn)}
    assert set(manage) >= {texts.SNOOZE_WEEK, texts.CANCEL}
    options = cb.message.find_component(manage[texts.SNOOZE_WEEK])
    assert options is not None
    ids = [o["value"] for o in options["options"]]
    mark = fake.mark()
    _, outcome = await click(world, cb.message, manage[texts.SNOOZE_WEEK], values=ids[:1])
    assert outcome == "applied"
    after_snooze = await fake.wait_for_message(channel_id=cb.message.channel_id, after=mark)
    assert after_snooze.ephemeral and "Snoozed" in text_of(after_snooze)
    if len(ids) > 1:
        listing = next(m for m in fake.all_messages() if m.id >= after_snooze.id and m.components)
        cancel = {i.action: c for c, i in ids_of(listing, it.ManageCheckIn)}[texts.CANCEL]
        mark = fake.mark()
        _, outcome = await click(world, listing, cancel, values=ids[-1:])
        assert outcome == "applied"
        cancelled = await fake.wait_for_message(channel_id=listing.channel_id, after=mark)
        assert text_of(cancelled).startswith("Cancelled")

    # The reminder falls due: the core's worker sends it as a DM, with an enforced nonce.
    sender = DiscordCheckInSender(bot.client)
    worker = worker_for(bot, sender)
    mark = fake.mark()
    await deliver_next(bot, worker)
    prompt = await fake.wait_for_message(with_intent(it.ReplyCheckIn), channel_id=dm, after=mark)
    assert prompt.request is not None
    nonce = prompt.request["nonce"]
    assert isinstance(nonce, str) and 0 < len(nonce) <= 25
    assert prompt.request["enforce_nonce"] is True
    menu = first_select(prompt)  # seven answers: more than a row of buttons, so a select
    assert [o["label"] for o in menu["options"]] == [c.label for c in texts.PROMPT_CHOICES]

    checkin_id = ids_of(prompt, it.ReplyCheckIn)[0][1].checkin
    mark = fake.mark()
    _, outcome = await click(world, prompt, menu["custom_id"], values=[texts.CheckInChoice.DONE])
    assert outcome == "applied"
    answered = fake.message(prompt.id)  # the check-in's receipt: its step and the answer
    assert answered.components == [] and "You answered: Done" in text_of(answered)
    thanks = await fake.wait_for_message(channel_id=dm, after=mark)
    assert thanks.embeds

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
    assert modal.type == CB_MODAL and modal.data is not None
    assert modal.data["title"] == OFFER_TITLE
    bad = await fake.inject_modal_submit(iid, {"text": "soonish"})
    assert await bot.handled(bad) == "invalid"
    refusal = await fake.wait_for_callback(bad)
    assert refusal.ephemeral and "did not understand" in text_of(refusal)
    assert fake.message(offer.id).components  # the offer stays open

    iid, _ = await click(world, offer, opener)
    await fake.wait_for_callback(iid)
    mark = fake.mark()
    good = await fake.inject_modal_submit(iid, {"text": "10"})
    assert await bot.handled(good) == "applied"
    assert fake.message(offer.id).components == []
    assert "You chose: In 10 days" in text_of(fake.message(offer.id))

    # The time-zone question's "Other…" asks in a modal.
    zone_q = await fake.wait_for_message(
        lambda m: any(c.startswith("x2e") for c in m.custom_ids()) and with_intent(it.SetZone)(m),
        channel_id=dm_id(fake),
        after=mark,
    )
    iid, outcome = await click(world, zone_q, button(zone_q, "Other…"))
    assert outcome == "modal"
    await fake.wait_for_callback(iid)
    mark = fake.mark()
    sub = await fake.inject_modal_submit(iid, {"text": "America/New_York"})
    assert await bot.handled(sub) == "applied"
    assert fake.message(zone_q.id).components == []
    said = await fake.wait_for_message(channel_id=dm_id(fake), after=mark)
    assert "America/New\\_York" in said.embeds[0]["description"]  # escaped Markdown


async def test_someone_elses_checkin_buttons_are_refused(world: World) -> None:
    from bot.core.actions import NOT_YOURS_CHECKIN

    fake = world.fake
    bot = await world.bot()
    clock_of(bot.engine)
    await schedule_directly(bot, fake.user_id, ev.When(kind=WhenKind.IN_DAYS, days=1))
    iid = await fake.inject_command("advise checkins", dm=True)
    cb = await fake.wait_for_callback(iid)
    await bot.handled(iid)
    assert cb.message is not None and not cb.ephemeral
    mallory = fake.add_user("mallory")
    fake.add_member(fake.guild_id, mallory)
    (custom_id, _), *_ = ids_of(cb.message, it.ManageCheckIn)
    menu = cb.message.find_component(custom_id)
    assert menu is not None
    jid = await fake.inject_forged_component(
        cb.message.id,
        custom_id,
        user_id=mallory,
        component_type=3,
        values=[menu["options"][0]["value"]],
    )
    # A check-in picked from a list is owner-checked like one named in an id.
    assert await bot.handled(jid) == "refused"
    refusal = await fake.wait_for_callback(jid)
    assert refusal.ephemeral and text_of(refusal) == NOT_YOURS_CHECKIN
    assert fake.message(cb.message.id).custom_ids() == cb.message.custom_ids()
    forged = codec.encode(it.RescheduleCheckIn(checkin=int(menu["options"][0]["value"])))
    kid = await fake.inject_forged_component(cb.message.id, forged, user_id=mallory)
    assert await bot.handled(kid) == "unknown"  # not a component of that message
    rows = await bot.engine.db.run(lambda s: list(s.scalars(select(CheckIn))))
    assert {r.state for r in rows} == {"pending"}
    user = person(mallory)
    reply = await bot.engine.act(user, it.ManageCheckIn(action="cancel", checkin=rows[0].id))
    assert reply.outcome == "refused" and NOT_YOURS_CHECKIN in reply.text()


# ------------------------------------------------------------------ the sender


async def test_the_same_key_twice_posts_one_message(world: World) -> None:
    fake = world.fake
    bot = await world.bot()
    sender = DiscordCheckInSender(bot.client)
    message = CheckInPrompt(
        7, 1, 3, "Write to **two** supervisors @everyone", FIXED_NOW, "UTC", texts.PROMPT_CHOICES
    )
    user = person(fake.user_id)
    first = await sender.send(user, presenters.notification(message), "ci7o1")
    mark = fake.mark()
    second = await sender.send(user, presenters.notification(message), "ci7o1")
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
    await schedule_directly(bot, fake.user_id, ev.When(kind=WhenKind.IN_DAYS, days=1))
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
    text = text_of(cb)
    assert "could not be delivered" in text and DMS_CLOSED_REASON in text


async def test_a_429_is_retry_after_not_a_failure(world: World) -> None:
    fake = world.fake
    bot = await world.bot(max_ratelimit_timeout=30.0)
    sender = DiscordCheckInSender(bot.client)
    message = CheckInPrompt(8, 1, 3, "Apply", FIXED_NOW, "UTC", texts.PROMPT_CHOICES)
    await bot.client.create_dm(discord.Object(fake.user_id))  # the DM exists already
    fake.rate_limit_messages(1, retry_after=60.0)
    result = await sender.send(person(fake.user_id), presenters.notification(message), "ci8o1")
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
    assert await sender.send(person(5), presenters.notification(message), "k") == expected


async def test_a_bad_request_is_a_bug_and_raises() -> None:
    sender = DiscordCheckInSender(_Failing(_http(discord.HTTPException, 400, 50035)))  # type: ignore[arg-type]
    message = CheckInPrompt(1, 1, 1, "x", FIXED_NOW, "UTC", texts.PROMPT_CHOICES)
    with pytest.raises(discord.HTTPException):
        await sender.send(person(5), presenters.notification(message), "k")


def test_long_lists_and_reminders_stay_within_limits() -> None:
    """Eleven long check-ins and a huge reminder: every message fits Discord's limits."""
    views = tuple(
        CheckInView(i, i, "step " * 100, "every 7 days", "failed", None, "open", "closed DMs")
        for i in range(1, 12)
    )
    lst = CheckInList(views, "Europe/Berlin", "21:00-08:00", texts.LIST_ACTIONS)
    prompt = CheckInPrompt(10**11, 10**6, 1, "x" * 5000, FIXED_NOW, "UTC", texts.PROMPT_CHOICES)
    for message in (lst, prompt):
        out = render(presenters.present([message]))
        assert out
        for m in out:
            assert len(m.embeds) <= 10 and len(m.rows) <= 5
            assert all(len(e.description or "") <= 4096 for e in m.embeds)
            m.kwargs()  # discord.py accepts the view
        shown = "\n".join(str(e.to_dict()) for m in out for e in m.embeds)
        assert shown.count("step step") >= (11 if message is lst else 0)


async def test_missed_checkins_come_as_one_catch_up_and_can_be_snoozed(world: World) -> None:
    fake = world.fake
    bot = await world.bot()
    clock = clock_of(bot.engine)
    await schedule_directly(bot, fake.user_id, ev.When(kind=WhenKind.IN_DAYS, days=1))
    worker = worker_for(bot, DiscordCheckInSender(bot.client))
    nxt = await worker.next_wake()
    assert nxt is not None
    clock.now = nxt + timedelta(days=2)  # far beyond the grace: missed, one catch-up note
    mark = fake.mark()
    await worker.drain()
    dm = dm_id(fake)
    note = await fake.wait_for_message(with_intent(it.CatchUp), channel_id=dm, after=mark)
    assert note.request is not None and note.request["enforce_nonce"] is True
    bot_posts = [m for m in fake.messages[dm] if m.author_id == fake.bot_id and m.id >= note.id]
    assert len(bot_posts) == 1
    snoozes = [(c, i) for c, i in ids_of(note, it.CatchUp) if i.action == texts.SNOOZE_DAY]
    assert snoozes and all(i.checkin for _, i in snoozes)
    (custom_id, intent), *_ = snoozes
    _, outcome = await click(world, note, custom_id)
    assert outcome == "applied"
    # Applied without a receipt: the note keeps its text and loses its buttons (the other
    # missed check-ins stay in /advise checkins).
    assert fake.message(note.id).components == [] and fake.message(note.id).embeds
    rows = await bot.engine.db.run(lambda s: {r.id: r.state for r in s.scalars(select(CheckIn))})
    assert rows[intent.checkin] == "pending"


async def test_change_by_modal_and_other_time_zone(world: World) -> None:
    fake = world.fake
    bot = await world.bot()
    clock_of(bot.engine)
    await schedule_directly(bot, fake.user_id, ev.When(kind=WhenKind.IN_DAYS, days=1))
    iid = await fake.inject_command("advise checkins", dm=True)
    await bot.handled(iid)
    cb = await fake.wait_for_callback(iid)
    assert cb.message is not None
    change = {i.action: c for c, i in ids_of(cb.message, it.ManageCheckIn)}[texts.CHANGE]
    menu = cb.message.find_component(change)
    assert menu is not None
    mark = fake.mark()
    _, outcome = await click(world, cb.message, change, values=[menu["options"][0]["value"]])
    assert outcome == "shown"
    ask = await fake.wait_for_message(with_intent(it.RescheduleCheckIn), after=mark)
    jid, outcome = await click(world, ask, button(ask, "Other time…"))
    assert outcome == "modal"
    assert (await fake.wait_for_callback(jid)).type == CB_MODAL
    mark = fake.mark()
    sub = await fake.inject_modal_submit(jid, {"text": "fortnightly"})
    assert await bot.handled(sub) == "applied"
    assert fake.message(ask.id).components == []
    changed = await fake.wait_for_message(channel_id=ask.channel_id, after=mark)
    assert text_of(changed).startswith("Changed")
    listing = [
        m for m in fake.all_messages() if m.id >= changed.id and "every two weeks" in text_of(m)
    ]
    assert listing


async def test_an_older_reminder_is_stale_and_changes_nothing(world: World) -> None:
    fake = world.fake
    bot = await world.bot()
    clock_of(bot.engine)
    await schedule_directly(bot, fake.user_id, ev.When(kind=WhenKind.WEEKLY))
    worker = worker_for(bot, DiscordCheckInSender(bot.client))
    dm = dm_id(fake)
    mark = fake.mark()
    await deliver_next(bot, worker)
    old = await fake.wait_for_message(with_intent(it.ReplyCheckIn), channel_id=dm, after=mark)
    (old_id, old_intent), *_ = ids_of(old, it.ReplyCheckIn)
    mark = fake.mark()
    await deliver_next(bot, worker)  # a week later: the next cycle of the same check-in
    await fake.wait_for_message(
        lambda m: any(
            i.checkin == old_intent.checkin and i.occurrence > old_intent.occurrence
            for _, i in ids_of(m, it.ReplyCheckIn)
        ),
        channel_id=dm,
        after=mark,
    )
    mark = fake.mark()
    _, outcome = await click(world, old, old_id, values=[texts.CheckInChoice.DONE])
    assert outcome == "stale"
    assert fake.message(old.id).components == []
    said = await fake.wait_for_message(channel_id=dm, after=mark)
    assert text_of(said).startswith("That is an older check-in")


def test_revisit_offer_is_a_select_of_questions() -> None:
    offer = RevisitOffer(
        12, "Shall we look again?", (ChoiceOption("money", "How important is money?"),)
    )
    (out,) = render(presenters.present([offer]))
    ((button_,),) = out.rows  # one option: one button carrying its value
    assert isinstance(button_, Button) and button_.label == "How important is money?"
    assert codec.decode(button_.custom_id) == it.Revisit(consultation=12, value="money")
    out.kwargs()
