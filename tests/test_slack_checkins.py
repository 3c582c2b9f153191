"""Check-ins through the real Slack adapter: choose them by clicks, list and change them,
get a due one as a DM and answer it, and the sender's mapping of Slack's answers.

Why end to end: the contract (docs/checkins.md) is about what Slack sees and sends back:
action_ids that carry the check-in, modals for days and dates, users.info ``tz`` as the
zone, metadata carrying the idempotency key, 429 and channel_not_found. Real slack-bolt
and slack_sdk against the fake Slack on 127.0.0.1; the core's delivery loop runs with a
hand-cranked clock (tests/checkin_doubles.FakeClock), drained by hand.
"""

from __future__ import annotations

import copy
from collections.abc import AsyncIterator
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import select

from adapters.slack.checkins import EVENT_TYPE, SlackCheckInSender
from bot import events as ev
from bot.checkins import texts as checkin_texts
from bot.checkins.delivery import DeliveryConfig, DeliveryWorker
from bot.checkins.sender import Delivered, RetryAfter, Unreachable
from bot.engine import Engine
from bot.messages import CheckInPrompt
from bot.settings import Settings
from bot.store.models import CheckIn, PlanItem
from bot.ui.presenters import notification
from tests.checkin_doubles import FakeClock
from tests.conftest import FIXED_NOW, make_engine
from tests.fakes.slack_driver import (  # noqa: F401 - fixtures
    SlackDriver,
    elements,
    fake_fixture,
    find_element,
    loopback_fixture,
    running_adapter,
    slack_settings,
    texts,
)
from tests.fakes.slack_fake import FakeMessage, SlackFake

USER = "U0CHECK001"
ANSWERS = ["student", "yes", ["code", "maths"], "4"]  # tiny, all but the optional notes


@pytest.fixture
async def tiny(sqlite_url: str, settings: Settings) -> AsyncIterator[Engine]:
    engine = await make_engine(sqlite_url, settings.model_copy(update={"default_playbook": "tiny"}))
    engine.clock = FakeClock(FIXED_NOW)  # Mon 2 Mar 2026 10:00 UTC
    yield engine
    await engine.db.dispose()


@pytest.fixture
async def tiny_any(db_url: str, settings: Settings) -> AsyncIterator[Engine]:
    """The same on SQLite and PostgreSQL (the delivery loop's claim differs between them)."""
    engine = await make_engine(db_url, settings.model_copy(update={"default_playbook": "tiny"}))
    engine.clock = FakeClock(FIXED_NOW)
    yield engine
    await engine.db.dispose()


def clock_of(engine: Engine) -> FakeClock:
    assert isinstance(engine.clock, FakeClock)
    return engine.clock


def dm(fake: SlackFake) -> list[FakeMessage]:
    return fake.channel_messages(fake.dm_channel(USER) or "")


async def dm_with(fake: SlackFake, needle: str, count: int = 1) -> list[FakeMessage]:
    """Until ``count`` DM messages contain ``needle``; those messages, oldest first."""

    def check() -> list[FakeMessage] | None:
        found = [m for m in dm(fake) if needle in texts(m)]
        return found if len(found) >= count else None

    return await fake.wait_until(check, what=f"{count} DM message(s) with {needle!r}")


async def click(drv: SlackDriver, message: FakeMessage, element: dict[str, object]) -> None:
    ack = await drv.click(message, element, user_id=USER)
    assert ack.status == 200 and ack.body is None


def shown(message: FakeMessage) -> str:
    """The text of a message's blocks (without its notification text)."""
    return texts(message)[len(message.text) :]


def has_buttons(message: FakeMessage) -> bool:
    return bool(elements(message))


async def finish(drv: SlackDriver, engine: Engine) -> FakeMessage:
    """A finished consultation; returns the check-in offer the adapter posted after it."""
    ack = await drv.command("resume", user_id=USER)  # opens the DM, learns the team
    assert ack.status == 200
    call = await drv.fake.wait_for_call("chat.postMessage")
    ref = ev.UserRef("slack", str(call.team_id), USER)
    await engine.run(ev.Start(user=ref))
    for value in ANSWERS:
        await engine.run(ev.Answer(user=ref, value=value))
    await drv.command("resume", user_id=USER)
    [notes] = await dm_with(drv.fake, "Anything else?")
    await click(drv, notes, find_element(notes, text="Type your answer"))
    await submit_text(drv, "")  # the optional question, skipped
    [offer] = await dm_with(drv.fake, "Shall I check in")
    return offer


def worker(engine: Engine, sender: SlackCheckInSender | None) -> DeliveryWorker:
    assert sender is not None
    clock = clock_of(engine)
    return DeliveryWorker(
        engine.db,
        DeliveryConfig.from_settings(engine.settings),
        {sender.platform: sender},
        worker_id="w1",
        clock=clock,
        sleep=clock.sleep,
    )


async def rows(engine: Engine) -> list[CheckIn]:
    return await engine.db.run(lambda s: list(s.scalars(select(CheckIn).order_by(CheckIn.id))))


async def submit_text(drv: SlackDriver, text: str, opened: int = 1) -> None:
    """Type ``text`` into the modal the last click opened (the ``opened``-th views.open)."""
    await drv.fake.wait_for_call("views.open", count=opened)
    modal = drv.fake.latest_view(USER)
    ack = await drv.interact(drv.fake.payloads.view_submission(modal, inputs={"text": text}))
    assert ack.status == 200 and ack.body is None


def menu(message: FakeMessage, placeholder: str) -> dict[str, object]:
    """The select menu with this placeholder (the check-in list has one per action)."""
    for e in elements(message):
        if e["type"] == "static_select" and e["placeholder"]["text"] == placeholder:
            return e
    raise AssertionError(f"no select {placeholder!r} in {message.blocks}")


# ------------------------------------------------------------------ choose, list, change


async def test_choose_by_click_list_snooze_cancel(
    fake: SlackFake, tiny: Engine, tmp_path: Path, sqlite_url: str
) -> None:
    fake.ensure_user(USER).tz = "Asia/Tokyo"
    settings = slack_settings(fake, tmp_path, sqlite_url, "http")
    async with running_adapter(fake, tiny, settings, "http") as drv:
        offer = await finish(drv, tiny)
        labels = {str(e["text"]["text"]).rstrip("…") for e in elements(offer)}
        assert labels == {str(c.label) for c in checkin_texts.OFFER_CHOICES}

        await click(drv, offer, find_element(offer, text="Every week"))
        [done] = await dm_with(fake, "Check-ins are set for 4 steps")
        assert "(Asia/Tokyo)" in texts(done)  # users.info tz is the person's zone
        await drv.updated(offer)
        assert not has_buttons(offer) and "Every week" in texts(offer)  # closed in place
        assert fake.calls_to("users.info")
        assert "time zone" not in "".join(texts(m) for m in dm(fake)).lower()  # not asked

        await dm_with(fake, "Your check-ins")  # the schedule's reply lists them too
        await drv.command("checkins", user_id=USER)
        [*_, listing] = await dm_with(fake, "Your check-ins", count=2)
        assert shown(listing).count("every week") == 4
        first, second = (r.id for r in (await rows(tiny))[:2])
        assert "Asia/Tokyo" in texts(listing)

        due_before = (await rows(tiny))[0].due_at
        snooze = menu(listing, "Snooze 1 week…")
        ack = await drv.click(listing, snooze, user_id=USER, value=str(first))
        assert ack.status == 200 and ack.body is None
        await dm_with(fake, "Snoozed: I will ask on")
        await drv.updated(listing)  # the list it was picked on is closed in place
        assert not has_buttons(listing) and "You chose: #" in texts(listing)
        assert (await rows(tiny))[0].due_at >= due_before + timedelta(days=7)
        [*_, listing] = await dm_with(fake, "Your check-ins", count=3)  # and a fresh list

        cancel = menu(listing, "Cancel…")
        ack = await drv.click(listing, cancel, user_id=USER, value=str(second))
        assert ack.status == 200 and ack.body is None
        await dm_with(fake, "Cancelled: no more check-ins")
        [*_, listing] = await dm_with(fake, "Your check-ins", count=4)
        assert shown(listing).count("every week") == 3
        assert f"#{second} " not in texts(listing) and f"#{first} " in texts(listing)

        # someone else's check-in: the core does not let them change it
        cancel = menu(listing, "Cancel…")
        ack = await drv.click(listing, cancel, user_id="U0OTHER01", value=str(first))
        assert ack.status == 200
        assert await drv.service.drain()
        assert [r.state for r in await rows(tiny)].count("cancelled") == 1


async def test_due_reminder_arrives_as_dm_and_done_is_recorded(
    fake: SlackFake, tiny_any: Engine, tmp_path: Path, db_url: str
) -> None:
    tiny = tiny_any
    settings = slack_settings(fake, tmp_path, db_url, "http")
    async with running_adapter(fake, tiny, settings, "http") as drv:
        offer = await finish(drv, tiny)
        await click(drv, offer, find_element(offer, text="In a few days…"))  # opens the modal
        await submit_text(drv, "1", opened=2)
        await dm_with(fake, "Check-ins are set for 4 steps")
        await drv.updated(offer)
        assert "You chose: In 1 day" in texts(offer) and not has_buttons(offer)

        clock_of(tiny).advance(days=1)  # Tue 10:00 UTC: 11:00 in Zurich, one hour late
        report = await worker(tiny, drv.service.checkin_sender).drain()
        assert report.delivered == 4
        prompts = await dm_with(fake, "Check-in:", count=4)
        keys = [p.metadata["event_payload"]["key"] for p in prompts if p.metadata]
        assert len(set(keys)) == 4 and all(p.metadata["event_type"] == EVENT_TYPE for p in prompts)
        assert "(Europe/Zurich)" in texts(prompts[0])  # the fake user's users.info tz

        prompt = prompts[0]
        how = find_element(prompt, kind="static_select")  # seven answers: a select
        ack = await drv.click(prompt, how, user_id=USER, value="done")
        assert ack.status == 200 and ack.body is None
        await dm_with(fake, "Well done! I marked it done on your plan.")
        await drv.updated(prompt)
        assert not has_buttons(prompt) and "You answered: Done" in texts(prompt)
        first = (await rows(tiny))[0]
        status = await tiny.db.run(
            lambda s: s.scalar(select(PlanItem.status).where(PlanItem.id == first.plan_item_id))
        )
        assert status == "done" and first.state == "done"

        # nothing is sent twice: the next round has nothing to claim
        assert (await worker(tiny, drv.service.checkin_sender).drain()).claimed == 0


# ------------------------------------------------------------------ the sender's mapping


async def test_429_then_delivered_once_and_redelivery_finds_the_first(
    fake: SlackFake, tiny: Engine, tmp_path: Path, sqlite_url: str
) -> None:
    settings = slack_settings(fake, tmp_path, sqlite_url, "http")
    async with running_adapter(fake, tiny, settings, "http") as drv:
        sender = drv.service.checkin_sender
        assert sender is not None
        await drv.command("resume", user_id=USER)
        call = await fake.wait_for_call("chat.postMessage")
        ref = ev.UserRef("slack", str(call.team_id), USER)
        message = CheckInPrompt(
            7, 1, 3, "Write to <@U0BOSS> & co", FIXED_NOW, "UTC", checkin_texts.PROMPT_CHOICES
        )

        fake.rate_limit("chat.postMessage", retry_after=5)
        note = notification(message)
        assert await sender.send(ref, note, "k-7-1") == RetryAfter(5.0, is_global=False)
        first = await sender.send(ref, notification(message), "k-7-1")
        assert isinstance(first, Delivered) and first.message_id
        shown = texts(fake.message(fake.dm_channel(USER) or "", first.message_id))
        assert "&lt;@U0BOSS&gt; &amp; co" in shown and "<@U0BOSS>" not in shown

        posts = len(fake.calls_to("chat.postMessage", ok_only=True))
        again = await sender.send(ref, notification(_redelivered(message)), "k-7-1")
        assert again == first  # found in the DM's history by its metadata: not posted again
        assert len(fake.calls_to("chat.postMessage", ok_only=True)) == posts
        assert fake.calls_to("conversations.history")[-1].params.get("include_all_metadata")

        fake.server_error("chat.postMessage", status=503)
        assert await sender.send(ref, note, "k-7-2") == RetryAfter(30.0, is_global=True)
        fake.api_error("chat.postMessage", "user_disabled")
        assert isinstance(await sender.send(ref, notification(message), "k-7-3"), Unreachable)


def _redelivered(message: CheckInPrompt) -> CheckInPrompt:
    return CheckInPrompt(
        message.checkin_id,
        message.occurrence,
        message.plan_item_id,
        message.action,
        message.due_local,
        message.timezone,
        message.choices,
        redelivery=True,
    )


async def test_rate_limited_round_delivers_each_reminder_once(
    fake: SlackFake, tiny: Engine, tmp_path: Path, sqlite_url: str
) -> None:
    settings = slack_settings(fake, tmp_path, sqlite_url, "http")
    async with running_adapter(fake, tiny, settings, "http") as drv:
        offer = await finish(drv, tiny)
        await click(drv, offer, find_element(offer, text="Every two weeks"))
        await dm_with(fake, "Your check-ins")
        clock_of(tiny).advance(days=14)
        fake.rate_limit("chat.postMessage", count=2, retry_after=3)
        report = await worker(tiny, drv.service.checkin_sender).drain()
        assert report.rate_limited >= 1 and report.delivered == 4 and report.failed == 0
        assert [c.status for c in fake.calls_to("chat.postMessage")].count(429) == 2
        prompts = await dm_with(fake, "Check-in:", count=4)
        keys = [p.metadata["event_payload"]["key"] for p in prompts if p.metadata]
        assert len(keys) == len(set(keys)) == 4  # each once


async def test_unreachable_is_retried_then_failed_and_shown_in_the_list(
    fake: SlackFake, tiny: Engine, tmp_path: Path, sqlite_url: str
) -> None:
    settings = slack_settings(fake, tmp_path, sqlite_url, "http")
    async with running_adapter(fake, tiny, settings, "http") as drv:
        offer = await finish(drv, tiny)
        await click(drv, offer, find_element(offer, text="In a few days…"))
        await submit_text(drv, "1", opened=2)
        await dm_with(fake, "Check-ins are set for 4 steps")
        await dm_with(fake, "Your check-ins")  # the reply is all out before the fault
        clock_of(tiny).advance(days=1)
        fake.api_error("chat.postMessage", "channel_not_found", count=1000)
        work = worker(tiny, drv.service.checkin_sender)
        failed = 0
        for _round in range(12):
            failed += (await work.drain()).failed
            nxt = await work.next_wake()
            if nxt is None:
                break
            clock = clock_of(tiny)
            clock.now = max(clock.now, nxt)
        assert failed == 4
        assert {r.state for r in await rows(tiny)} == {"failed"}
        fake.clear_faults()

        await drv.command("checkins", user_id=USER)
        [*_, listing] = await dm_with(fake, "Your check-ins", count=2)
        assert shown(listing).count("could not be delivered") == 4
        assert "I cannot find our direct message any more." in texts(listing)


async def test_timezone_question_only_without_a_slack_zone(
    fake: SlackFake, tiny: Engine, tmp_path: Path, sqlite_url: str
) -> None:
    fake.ensure_user(USER).tz = ""  # Slack gives no zone: the question is asked, once
    settings = slack_settings(fake, tmp_path, sqlite_url, "http")
    async with running_adapter(fake, tiny, settings, "http") as drv:
        offer = await finish(drv, tiny)
        await click(drv, offer, find_element(offer, text="On the suggested dates"))
        [question] = await dm_with(fake, "Now: ")
        before = copy.deepcopy(question)  # to press "other" on it afterwards, as Slack allows
        zones = find_element(question, kind="static_select")
        ack = await drv.click(question, zones, user_id=USER, value="Europe/Berlin")
        assert ack.status == 200
        await drv.updated(question)
        assert not has_buttons(question) and "Europe/Berlin" in texts(question)
        await drv.command("checkins", user_id=USER)
        [*_, listing] = await dm_with(fake, "Your check-ins", count=2)
        assert "Time zone Europe/Berlin" in texts(listing)

        # "Other…" opens a modal; a zone the core does not know is refused there
        ack = await drv.click(before, find_element(before, text="Other…"), user_id=USER)
        assert ack.status == 200
        await fake.wait_for_call("views.open", count=2)
        modal = fake.latest_view(USER)
        bad = await drv.interact(fake.payloads.view_submission(modal, inputs={"text": "Mars/Base"}))
        assert bad.json is not None and bad.json["response_action"] == "errors"
        assert "not a time zone" in bad.json["errors"]["answer"]
        ok = await drv.interact(
            fake.payloads.view_submission(modal, inputs={"text": "Asia/Kolkata"})
        )
        assert ok.status == 200 and ok.body is None
        await dm_with(fake, "Asia/Kolkata")
        await drv.command("checkins", user_id=USER)
        [*_, listing] = await dm_with(fake, "Your check-ins", count=3)
        assert "Time zone Asia/Kolkata" in texts(listing)


async def test_declining_closes_the_offer(
    fake: SlackFake, tiny: Engine, tmp_path: Path, sqlite_url: str
) -> None:
    settings = slack_settings(fake, tmp_path, sqlite_url, "http")
    async with running_adapter(fake, tiny, settings, "http") as drv:
        offer = await finish(drv, tiny)
        await click(drv, offer, find_element(offer, text="No check-ins"))
        await dm_with(fake, "No check-ins, then.")
        await drv.updated(offer)
        assert not has_buttons(offer) and await rows(tiny) == []
