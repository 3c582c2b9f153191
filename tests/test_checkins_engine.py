"""Check-in events through the Engine, on SQLite and PostgreSQL: choose, list, change, answer."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import UTC, datetime

import pytest
from sqlalchemy import func, select

from bot import events as ev
from bot.checkins.delivery import DeliveryConfig, DeliveryWorker
from bot.engine import Engine
from bot.messages import (
    CheckInList,
    CheckInOffer,
    CheckInPrompt,
    ExportFile,
    Level,
    Notice,
    Question,
    RevisitOffer,
    TimezoneQuestion,
)
from bot.settings import Settings
from bot.store.models import CheckIn, CheckInOutcome, PlanItem
from tests.checkin_doubles import FakeClock, RecordingSender
from tests.conftest import FIXED_NOW, make_engine

ANN = ev.UserRef("discord", "guild-1", "ann")
TINY_ANSWERS = ["student", "yes", ["code", "maths"], "5", "skip"]


@pytest.fixture
async def eng(db_url: str, settings: Settings) -> AsyncIterator[Engine]:
    engine = await make_engine(db_url, settings.model_copy(update={"default_playbook": "tiny"}))
    engine.clock = FakeClock(FIXED_NOW)  # Mon 2 Mar 2026 10:00 UTC
    yield engine
    await engine.db.dispose()


def clock_of(engine: Engine) -> FakeClock:
    assert isinstance(engine.clock, FakeClock)
    return engine.clock


async def finish(engine: Engine, user: ev.UserRef = ANN) -> list:
    out = (await engine.run(ev.Start(user=user))).messages
    for value in TINY_ANSWERS:
        out = (await engine.run(ev.Answer(user=user, value=value))).messages
    return out


def one(out: list, kind: type) -> object:
    found = [m for m in out if isinstance(m, kind)]
    assert len(found) == 1, f"expected one {kind.__name__} in {out}"
    return found[0]


async def rows(engine: Engine, *where: object) -> list[CheckIn]:
    return await engine.db.run(
        lambda s: list(s.scalars(select(CheckIn).where(*where).order_by(CheckIn.id)))
    )


def worker(engine: Engine, sender: RecordingSender) -> DeliveryWorker:
    clock = clock_of(engine)
    return DeliveryWorker(
        engine.db,
        DeliveryConfig.from_settings(engine.settings),
        {"discord": sender},
        clock=clock,
        sleep=clock.sleep,
    )


async def deliver(engine: Engine, sender: RecordingSender) -> list[CheckInPrompt]:
    before = len(sender.sends)
    await worker(engine, sender).drain()
    return [s.message for s in sender.sends[before:] if isinstance(s.message, CheckInPrompt)]


async def test_the_recommendation_offers_check_ins_on_the_plan(eng: Engine) -> None:
    out = await finish(eng)
    offer = one(out, CheckInOffer)
    assert isinstance(offer, CheckInOffer)
    assert [c.id for c in offer.choices] == [
        "suggested",
        "in_days",
        "weekly",
        "fortnightly",
        "date",
        "none",
    ]
    # The plan is in date order: the CV in 3 days, the supervisors in 7.
    assert [i.action for i in offer.items][:2] == ["Update your CV.", "Write to two supervisors."]
    assert (offer.timezone, offer.timezone_known) == ("UTC", False)


async def test_suggested_dates_schedule_one_check_in_per_step_and_ask_the_zone_once(
    eng: Engine,
) -> None:
    await finish(eng)
    out = (await eng.run(ev.ScheduleCheckIns(user=ANN, when=ev.When(kind="suggested")))).messages
    notice = one(out, Notice)
    assert isinstance(notice, Notice) and notice.level == Level.SUCCESS
    listing = one(out, CheckInList)
    assert isinstance(listing, CheckInList)
    by_action = {v.action: v for v in listing.items}
    # Plan due dates from the advice (3, 7, 14, 21 days), at 10:00 local (UTC here).
    assert by_action["Update your CV."].next_due_local == datetime(2026, 3, 5, 10, tzinfo=UTC)
    assert by_action["Apply to five roles."].next_due_local == datetime(2026, 3, 23, 10, tzinfo=UTC)
    assert {v.schedule for v in listing.items} == {"once"}
    assert isinstance(one(out, TimezoneQuestion), TimezoneQuestion)  # Discord gives no zone
    again = (await eng.run(ev.ScheduleCheckIns(user=ANN, when=ev.When(kind="weekly")))).messages
    assert not [m for m in again if isinstance(m, TimezoneQuestion)]  # asked once only
    pending = await rows(eng, CheckIn.state == "pending")
    assert len(pending) == 4 and {r.kind for r in pending} == {"repeat"}
    assert len(await rows(eng, CheckIn.state == "replaced")) == 4


async def test_in_n_days_fortnightly_and_a_date(eng: Engine) -> None:
    await finish(eng)
    items = await eng.db.run(lambda s: list(s.scalars(select(PlanItem.id).order_by(PlanItem.id))))
    await eng.run(
        ev.ScheduleCheckIns(
            user=ANN, when=ev.When(kind="in_days", days=3), plan_item_ids=(items[0],)
        )
    )
    await eng.run(
        ev.ScheduleCheckIns(user=ANN, when=ev.When(kind="fortnightly"), plan_item_ids=(items[1],))
    )
    await eng.run(
        ev.ScheduleCheckIns(
            user=ANN, when=ev.When(kind="date", on="2026-04-01 18:30"), plan_item_ids=(items[2],)
        )
    )
    got = {r.plan_item_id: r for r in await rows(eng, CheckIn.state == "pending")}
    assert got[items[0]].due_at == datetime(2026, 3, 5, 10, tzinfo=UTC)
    assert (got[items[1]].kind, got[items[1]].interval_days) == ("repeat", 14)
    assert got[items[1]].due_at == datetime(2026, 3, 16, 10, tzinfo=UTC)
    assert got[items[2]].due_at == datetime(2026, 4, 1, 18, 30, tzinfo=UTC)
    assert items[3] not in got


@pytest.mark.parametrize(
    "when",
    [
        ev.When(kind="in_days", days=0),
        ev.When(kind="date", on="2020-01-01"),
        ev.When(kind="hourly"),
    ],
)
async def test_impossible_choices_are_refused_and_store_nothing(eng: Engine, when: ev.When) -> None:
    await finish(eng)
    out = (await eng.run(ev.ScheduleCheckIns(user=ANN, when=when))).messages
    assert isinstance(out[0], Notice) and out[0].level == Level.WARNING
    assert await rows(eng) == []


async def test_declining_and_scheduling_without_a_plan(eng: Engine) -> None:
    out = (await eng.run(ev.ScheduleCheckIns(user=ANN, when=ev.When(kind="weekly")))).messages
    assert "finish a consultation first" in out[0].text
    await finish(eng)
    out = (await eng.run(ev.ScheduleCheckIns(user=ANN, when=None))).messages
    assert "No check-ins" in out[0].text and await rows(eng) == []


async def test_two_clicks_at_once_leave_one_pending_check_in_per_step(eng: Engine) -> None:
    await finish(eng)
    event = ev.ScheduleCheckIns(user=ANN, when=ev.When(kind="weekly"))
    await asyncio.gather(eng.run(event), eng.run(event))
    pending = await rows(eng, CheckIn.state == "pending")
    assert len(pending) == 4 and len({r.plan_item_id for r in pending}) == 4


async def test_snooze_change_and_cancel_from_the_list(eng: Engine) -> None:
    await finish(eng)
    out = (await eng.run(ev.ScheduleCheckIns(user=ANN, when=ev.When(kind="suggested")))).messages
    first = one(out, CheckInList).items[0]  # type: ignore[attr-defined]
    out = (await eng.run(ev.SnoozeCheckIn(user=ANN, checkin_id=first.checkin_id, days=1))).messages
    view = next(v for v in one(out, CheckInList).items if v.checkin_id == first.checkin_id)  # type: ignore[attr-defined]
    assert view.next_due_local == first.next_due_local.replace(day=first.next_due_local.day + 1)
    out = (
        await eng.run(
            ev.ChangeCheckIn(user=ANN, checkin_id=first.checkin_id, when=ev.When(kind="weekly"))
        )
    ).messages
    assert "every week on Mondays at 10:00" in out[0].text
    (row,) = await rows(eng, CheckIn.id == first.checkin_id)
    assert (row.kind, row.interval_days, row.occurrence) == ("repeat", 7, 3)
    out = (await eng.run(ev.CancelCheckIn(user=ANN, checkin_id=first.checkin_id))).messages
    assert first.checkin_id not in [v.checkin_id for v in one(out, CheckInList).items]  # type: ignore[attr-defined]
    again = (await eng.run(ev.CancelCheckIn(user=ANN, checkin_id=first.checkin_id))).messages
    assert "already closed" in again[0].text
    other = ev.UserRef("discord", "guild-1", "mallory")
    assert (
        "no check-in"
        in ((await eng.run(ev.SnoozeCheckIn(user=other, checkin_id=first.checkin_id))).messages)[
            0
        ].text
    )


async def test_answers_are_recorded_on_the_plan_once(eng: Engine) -> None:
    await finish(eng)
    await eng.run(ev.ScheduleCheckIns(user=ANN, when=ev.When(kind="in_days", days=1)))
    clock_of(eng).advance(days=1)
    sender = RecordingSender()
    prompts = await deliver(eng, sender)
    assert len(prompts) == 4
    by_action = {p.action: p for p in prompts}
    done = by_action["Update your CV."]
    out = (
        await eng.run(
            ev.AnswerCheckIn(
                user=ANN, checkin_id=done.checkin_id, occurrence=done.occurrence, answer="done"
            )
        )
    ).messages
    assert out[0].level == Level.SUCCESS
    twice = (
        await eng.run(
            ev.AnswerCheckIn(
                user=ANN, checkin_id=done.checkin_id, occurrence=done.occurrence, answer="blocked"
            )
        )
    ).messages
    assert "already have your answer" in twice[0].text
    busy = by_action["Apply to five roles."]
    await eng.run(
        ev.AnswerCheckIn(
            user=ANN, checkin_id=busy.checkin_id, occurrence=busy.occurrence, answer="in_progress"
        )
    )
    statuses = await eng.db.run(
        lambda s: dict(s.execute(select(PlanItem.action, PlanItem.status)).all())
    )
    assert statuses["Update your CV."] == "done"
    assert statuses["Apply to five roles."] == "in_progress"
    outcomes = await eng.db.run(
        lambda s: s.scalar(select(func.count()).select_from(CheckInOutcome))
    )
    assert outcomes == 2
    assert {r.state for r in await rows(eng, CheckIn.id == done.checkin_id)} == {"done"}


async def test_blocked_offers_to_revisit_from_the_relevant_question_keeping_answers(
    eng: Engine,
) -> None:
    await finish(eng)
    await eng.run(ev.ScheduleCheckIns(user=ANN, when=ev.When(kind="weekly")))
    clock_of(eng).advance(days=7)
    prompts = await deliver(eng, RecordingSender())
    prompt = next(p for p in prompts if p.action == "Write to two supervisors.")
    out = (
        await eng.run(
            ev.AnswerCheckIn(
                user=ANN,
                checkin_id=prompt.checkin_id,
                occurrence=prompt.occurrence,
                answer="blocked",
            )
        )
    ).messages
    offer = one(out, RevisitOffer)
    assert isinstance(offer, RevisitOffer)
    # The supervisors step comes from "Keep studying", moved by the thesis answer and pay.
    assert [q.id for q in offer.questions] == ["thesis", "money"]
    assert offer.questions[1].description == "Now: 5 of 5"
    # Revisit from that question: the other answers stay.
    out = (await eng.run(ev.Edit(user=ANN, question="money"))).messages
    q = one(out, Question)
    assert isinstance(q, Question) and q.question_id == "money" and q.current == 5
    out = (await eng.run(ev.Answer(user=ANN, value="1"))).messages
    assert isinstance(one(out, CheckInOffer), CheckInOffer)  # finished again, new advice
    # A blocked step is kept by the new plan, and its weekly check-in goes on.
    (row,) = await rows(eng, CheckIn.id == prompt.checkin_id)
    assert row.state == "pending" and row.due_at == datetime(2026, 3, 16, 10, tzinfo=UTC)


async def test_situation_changed_snooze_and_stop(eng: Engine) -> None:
    await finish(eng)
    await eng.run(ev.ScheduleCheckIns(user=ANN, when=ev.When(kind="weekly")))
    clock_of(eng).advance(days=7)  # Mon 9 Mar 10:00 UTC: the first weekly check-ins
    prompts = {p.action: p for p in await deliver(eng, RecordingSender())}
    changed = prompts["Read three papers."]
    out = (
        await eng.run(
            ev.AnswerCheckIn(
                user=ANN,
                checkin_id=changed.checkin_id,
                occurrence=changed.occurrence,
                answer="situation_changed",
            )
        )
    ).messages
    assert isinstance(one(out, RevisitOffer), RevisitOffer)
    snooze = prompts["Update your CV."]
    clock_of(eng).advance(hours=12, minutes=30)  # answered at 22:30: tomorrow 22:30 is quiet
    out = (
        await eng.run(
            ev.AnswerCheckIn(
                user=ANN,
                checkin_id=snooze.checkin_id,
                occurrence=snooze.occurrence,
                answer="snooze_day",
            )
        )
    ).messages
    (row,) = await rows(eng, CheckIn.id == snooze.checkin_id)
    # Sent (1) moved the weekly row to its next cycle (2); the snooze is a new delivery (3),
    # so it gets a new idempotency key.
    assert row.occurrence == snooze.occurrence + 2
    assert row.due_at == datetime(2026, 3, 11, 8, 0, tzinfo=UTC)  # quiet hours end, UTC
    stop = prompts["Apply to five roles."]
    await eng.run(
        ev.AnswerCheckIn(
            user=ANN, checkin_id=stop.checkin_id, occurrence=stop.occurrence, answer="stop"
        )
    )
    (row,) = await rows(eng, CheckIn.id == stop.checkin_id)
    assert row.state == "stopped"
    old = (
        await eng.run(
            ev.AnswerCheckIn(user=ANN, checkin_id=snooze.checkin_id, occurrence=99, answer="done")
        )
    ).messages
    assert "not been sent" in old[0].text


async def test_time_zone_from_the_platform_never_overrides_the_persons_choice(
    eng: Engine,
) -> None:
    await finish(eng)
    out = (
        await eng.run(
            ev.ScheduleCheckIns(
                user=ANN, when=ev.When(kind="in_days", days=2), platform_timezone="America/New_York"
            )
        )
    ).messages
    assert not [m for m in out if isinstance(m, TimezoneQuestion)]
    (first, *_) = await rows(eng, CheckIn.state == "pending")
    assert first.due_at == datetime(2026, 3, 4, 15, tzinfo=UTC)  # 10:00 EST
    out = (await eng.run(ev.SetTimezone(user=ANN, timezone="Europe/Berlin"))).messages
    assert "Europe/Berlin" in out[0].text
    (first, *_) = await rows(eng, CheckIn.id == first.id)
    assert first.due_at == datetime(2026, 3, 4, 9, tzinfo=UTC)  # same wall time, new zone
    assert (
        await eng.run(ev.SetTimezone(user=ANN, timezone="Asia/Tokyo", from_platform=True))
    ).messages == []
    (first, *_) = await rows(eng, CheckIn.id == first.id)
    assert first.due_at == datetime(2026, 3, 4, 9, tzinfo=UTC)
    bad = (await eng.run(ev.SetTimezone(user=ANN, timezone="Mars/Olympus"))).messages
    assert bad[0].level == Level.WARNING


async def test_quiet_hours_per_person_move_pending_check_ins(eng: Engine) -> None:
    await finish(eng)
    await eng.run(ev.SetTimezone(user=ANN, timezone="Europe/Berlin"))
    await eng.run(
        ev.ScheduleCheckIns(
            user=ANN, when=ev.When(kind="date", on="2026-03-10 07:30"), plan_item_ids=()
        )
    )
    (row, *_) = await rows(eng, CheckIn.state == "pending")
    assert row.due_at == datetime(2026, 3, 10, 7, 0, tzinfo=UTC)  # 08:00 CET: default quiet
    out = (await eng.run(ev.SetQuietHours(user=ANN, quiet_hours="22:00-07:00"))).messages
    assert out[0].text == "Quiet hours: 22:00-07:00 (Europe/Berlin)."
    (row, *_) = await rows(eng, CheckIn.id == row.id)
    assert row.due_at == datetime(2026, 3, 10, 6, 30, tzinfo=UTC)  # 07:30 CET is allowed now
    await eng.run(ev.SetQuietHours(user=ANN, quiet_hours="off"))
    listing = one((await eng.run(ev.ListCheckIns(user=ANN))).messages, CheckInList)
    assert listing.quiet_hours == "off"  # type: ignore[attr-defined]
    assert ((await eng.run(ev.SetQuietHours(user=ANN, quiet_hours="soon"))).messages)[
        0
    ].level == Level.WARNING


async def test_export_includes_check_ins_and_forget_deletes_them(eng: Engine) -> None:
    await finish(eng)
    await eng.run(ev.ScheduleCheckIns(user=ANN, when=ev.When(kind="in_days", days=1)))
    clock_of(eng).advance(days=1)
    prompts = await deliver(eng, RecordingSender())
    await eng.run(
        ev.AnswerCheckIn(
            user=ANN,
            checkin_id=prompts[0].checkin_id,
            occurrence=prompts[0].occurrence,
            answer="done",
        )
    )
    export = one((await eng.run(ev.Export(user=ANN))).messages, ExportFile)
    assert isinstance(export, ExportFile)
    assert "## Check-ins" in export.content
    assert "UTC: done" in export.content and "once, done" in export.content
    await eng.run(ev.Forget(user=ANN, confirmed=True))
    assert await rows(eng) == []
    left = await eng.db.run(lambda s: s.scalar(select(func.count()).select_from(CheckInOutcome)))
    assert left == 0


async def test_discord_people_get_their_servers_defaults_and_are_still_asked_once(
    eng: Engine,
) -> None:
    person = ev.UserRef("discord", "dm", "dora")  # Discord keys people by user, not server
    await eng.set_tenant_checkin_defaults(
        "discord", "guild-9", timezone="Europe/Berlin", quiet_hours="22:00-07:00"
    )
    await finish(eng, person)
    out = (
        await eng.run(
            ev.ScheduleCheckIns(
                user=person, when=ev.When(kind="in_days", days=2), server_tenant="guild-9"
            )
        )
    ).messages
    question = one(out, TimezoneQuestion)
    assert isinstance(question, TimezoneQuestion) and question.current == "Europe/Berlin"
    listing = one(out, CheckInList)
    assert listing.quiet_hours == "22:00-07:00"  # type: ignore[attr-defined]
    (row, *_) = await rows(eng, CheckIn.state == "pending")
    assert row.due_at == datetime(2026, 3, 4, 9, tzinfo=UTC)  # 10:00 in Berlin
    again = (
        await eng.run(
            ev.ScheduleCheckIns(user=person, when=ev.When(kind="weekly"), server_tenant="guild-9")
        )
    ).messages
    assert not [m for m in again if isinstance(m, TimezoneQuestion)]


async def test_a_server_started_consultation_brings_its_servers_defaults_to_the_dm(
    eng: Engine,
) -> None:
    """Started in a server, chosen in the DM (no server on the click): the server still counts."""
    person = ev.UserRef("discord", "dm", "dmitri")
    await eng.set_tenant_checkin_defaults(
        "discord", "guild-9", timezone="Europe/Berlin", quiet_hours="22:00-07:00"
    )
    out = (await eng.run(ev.Start(user=person, origin_tenant="guild-9"))).messages
    for value in TINY_ANSWERS:
        out = (await eng.run(ev.Answer(user=person, value=value))).messages
    out = (
        await eng.run(ev.ScheduleCheckIns(user=person, when=ev.When(kind="in_days", days=2)))
    ).messages
    listing = one(out, CheckInList)
    assert listing.quiet_hours == "22:00-07:00"  # type: ignore[attr-defined]
    (row, *_) = await rows(eng, CheckIn.state == "pending")
    assert row.due_at == datetime(2026, 3, 4, 9, tzinfo=UTC)  # 10:00 in Berlin


async def test_the_offer_names_the_workspaces_default_zone_until_the_person_gives_theirs(
    eng: Engine,
) -> None:
    person = ev.UserRef("slack", "T0BERLIN", "U0PIA")
    await eng.set_tenant_checkin_defaults("slack", "T0BERLIN", timezone="Europe/Berlin")
    offer = one(await finish(eng, person), CheckInOffer)
    assert isinstance(offer, CheckInOffer)
    assert offer.timezone == "Europe/Berlin" and not offer.timezone_known
    elsewhere = one(await finish(eng, ev.UserRef("slack", "T0OTHER", "U0OLA")), CheckInOffer)
    assert isinstance(elsewhere, CheckInOffer) and elsewhere.timezone == "UTC"
