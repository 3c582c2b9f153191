"""The delivery loop on SQLite and PostgreSQL, with a hand-cranked clock and a scripted sender:
restarts, missed reminders, quiet hours, 429 storms, closed DMs, crashes between send and
record. Real processes racing on PostgreSQL are in test_checkins_processes.py."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select

from bot import events as ev
from bot.checkins.delivery import DeliveryConfig, DeliveryWorker, DrainReport, RateGate
from bot.checkins.scheduler import POLL_JOB, WAKE_JOB, CheckInService
from bot.checkins.sender import Delivered, RetryAfter, Unreachable
from bot.engine import Engine
from bot.messages import CheckInCatchUp, CheckInList, CheckInPrompt
from bot.settings import Settings
from bot.store.database import Database
from bot.store.models import CheckIn, CheckInOutcome, User
from bot.ui.presenters import notification
from tests.checkin_doubles import FakeClock, RecordingSender
from tests.checkin_support import seed_due
from tests.conftest import FIXED_NOW, make_engine

ANN = ev.UserRef("discord", "g1", "u0")
TINY_ANSWERS = ["student", "yes", ["code", "maths"], "5", "skip"]


@pytest.fixture
def tiny(settings: Settings) -> Settings:
    return settings.model_copy(update={"default_playbook": "tiny"})


@pytest.fixture
async def eng(db_url: str, tiny: Settings) -> AsyncIterator[Engine]:
    engine = await make_engine(db_url, tiny)
    engine.clock = FakeClock(FIXED_NOW)  # Mon 2 Mar 2026 10:00 UTC
    yield engine
    await engine.db.dispose()


def clock_of(engine: Engine) -> FakeClock:
    assert isinstance(engine.clock, FakeClock)
    return engine.clock


def worker_for(
    engine: Engine, sender: RecordingSender, name: str = "w1", db: Database | None = None
) -> DeliveryWorker:
    clock = clock_of(engine)
    return DeliveryWorker(
        db or engine.db,
        DeliveryConfig.from_settings(engine.settings),
        {sender.platform: sender},
        worker_id=name,
        clock=clock,
        sleep=clock.sleep,
    )


async def all_rows(db: Database) -> list[CheckIn]:
    return await db.run(lambda s: list(s.scalars(select(CheckIn).order_by(CheckIn.id))))


async def finish_and_schedule(engine: Engine, when: ev.When, user: ev.UserRef = ANN) -> None:
    await engine.run(ev.Start(user=user))
    for value in TINY_ANSWERS:
        await engine.run(ev.Answer(user=user, value=value))
    await engine.run(ev.ScheduleCheckIns(user=user, when=when))


# ------------------------------------------------------------------ the basic promise


async def test_due_reminders_go_out_once_each_and_are_recorded(eng: Engine) -> None:
    await seed_due(eng.db, 30, FIXED_NOW - timedelta(minutes=1))
    sender = RecordingSender()
    report = await worker_for(eng, sender).drain()
    assert (report.claimed, report.delivered) == (30, 30)
    assert len(sender.sends) == len(sender.delivered) == 30
    assert all(len(s.key) <= 25 for s in sender.sends)
    again = await worker_for(eng, sender, "w2").drain()
    assert again.claimed == 0 and len(sender.sends) == 30
    rows = await all_rows(eng.db)
    assert {r.state for r in rows} == {"sent"}
    assert all(r.claimed_by is None and r.sent_occurrence == 1 for r in rows)


async def test_restart_with_reminders_pending_delivers_them_once_after_restart(
    db_url: str, tiny: Settings
) -> None:
    clock = FakeClock(FIXED_NOW)
    first = await make_engine(db_url, tiny)
    first.clock = clock
    await finish_and_schedule(first, ev.When(kind="in_days", days=1))  # Tue 3 Mar 10:00
    await first.db.dispose()  # the bot goes down with 4 reminders pending

    clock.advance(days=1, hours=3)  # back up at 13:00, within the 12 h grace
    sender = RecordingSender()
    for _life in range(2):  # the restarted bot, then another restart
        engine = await make_engine(db_url, tiny)
        engine.clock = clock
        service = CheckInService(engine, worker_id=f"life{_life}")
        service.worker.sleep = clock.sleep
        service.register(sender)
        await service.start()
        # APScheduler holds only its own wake-ups (memory store); the reminders are rows.
        assert {j.id for j in service.scheduler.scheduler.get_jobs()} <= {POLL_JOB, WAKE_JOB}
        await service.stop()
        await engine.db.dispose()
    assert len(sender.sends) == len(sender.delivered) == 4
    assert {s.message.action for s in sender.sends} >= {"Update your CV."}  # type: ignore[union-attr]


async def test_downtime_beyond_the_grace_marks_missed_and_sends_one_catch_up(
    eng: Engine,
) -> None:
    await finish_and_schedule(eng, ev.When(kind="in_days", days=1))
    items = [r.plan_item_id for r in await all_rows(eng.db)]
    await eng.run(
        ev.ScheduleCheckIns(user=ANN, when=ev.When(kind="weekly"), plan_item_ids=(items[0],))
    )
    clock_of(eng).advance(days=8)  # down for a week: every check-in is far past its time
    sender = RecordingSender()
    report = await worker_for(eng, sender).drain()
    assert report.missed == 4 and report.delivered == 1
    (note,) = [s.message for s in sender.sends]
    assert isinstance(note, CheckInCatchUp)
    assert len(note.items) == 4 and {i.repeat_days for i in note.items} == {None, 7}
    rows = {r.id: r for r in await all_rows(eng.db)}
    weekly = next(r for r in rows.values() if r.kind == "repeat")
    assert weekly.state == "pending" and weekly.due_at == datetime(2026, 3, 16, 10, tzinfo=UTC)
    assert sorted(r.state for r in rows.values() if r.kind == "once") == [
        "missed",
        "missed",
        "missed",
        "replaced",
    ]
    assert not any(r.missed_pending for r in rows.values())  # the note told them
    assert (await worker_for(eng, sender).drain()).claimed == 0  # no flood, no second note
    # "Ask me tomorrow" on a missed one makes it pending again.
    missed = next(r for r in rows.values() if r.state == "missed")
    await eng.run(ev.SnoozeCheckIn(user=ANN, checkin_id=missed.id, days=1))
    clock_of(eng).advance(days=1)
    await worker_for(eng, sender).drain()
    assert isinstance(sender.sends[-1].message, CheckInPrompt)
    outcomes = await eng.db.run(
        lambda s: list(s.scalars(select(CheckInOutcome.outcome).distinct()))
    )
    assert outcomes == ["missed"]


async def test_quiet_hours_hold_a_reminder_that_came_due_while_down_until_morning(
    eng: Engine,
) -> None:
    await finish_and_schedule(eng, ev.When(kind="date", on="2026-03-10 20:30"))
    await eng.run(ev.SetTimezone(user=ANN, timezone="Europe/Berlin"))  # 20:30 CET = 19:30Z
    clock_of(eng).now = datetime(2026, 3, 10, 21, 0, tzinfo=UTC)  # back at 22:00 Berlin
    sender = RecordingSender()
    report = await worker_for(eng, sender).drain()
    assert (report.quiet_deferred, report.delivered) == (4, 0)
    assert {r.due_at for r in await all_rows(eng.db) if r.state == "pending"} == {
        datetime(2026, 3, 11, 7, 0, tzinfo=UTC)  # 08:00 Berlin
    }
    clock_of(eng).now = datetime(2026, 3, 11, 7, 0, tzinfo=UTC)
    assert (await worker_for(eng, sender).drain()).delivered == 4


@pytest.mark.parametrize(
    ("zone", "start", "expected"),
    [
        # Berlin, spring forward on 29 Mar: Mondays 10:00 = 09:00Z, then 08:00Z.
        (
            "Europe/Berlin",
            datetime(2026, 3, 16, 12, tzinfo=UTC),
            [(3, 23, 9), (3, 30, 8), (4, 6, 8)],
        ),
        # Berlin, back on 25 Oct: 08:00Z, then 09:00Z.
        (
            "Europe/Berlin",
            datetime(2026, 10, 12, 12, tzinfo=UTC),
            [(10, 19, 8), (10, 26, 9), (11, 2, 9)],
        ),
        # New York, back on 1 Nov: 10:00 EDT = 14:00Z, then EST = 15:00Z.
        (
            "America/New_York",
            datetime(2026, 10, 19, 16, tzinfo=UTC),
            [(10, 26, 14), (11, 2, 15), (11, 9, 15)],
        ),
    ],
    ids=["berlin-forward", "berlin-back", "new-york-back"],
)
async def test_weekly_check_ins_are_delivered_at_local_time_across_dst(
    eng: Engine, zone: str, start: datetime, expected: list[tuple[int, int, int]]
) -> None:
    clock_of(eng).now = start
    await eng.run(ev.SetTimezone(user=ANN, timezone=zone))
    await finish_and_schedule(eng, ev.When(kind="weekly"))
    sender = RecordingSender()
    for month, day, hour in expected:
        due = datetime(2026, month, day, hour, tzinfo=UTC)
        rows = [r for r in await all_rows(eng.db) if r.state == "pending"]
        assert {r.due_at for r in rows} == {due}
        clock_of(eng).now = due - timedelta(seconds=1)
        assert (await worker_for(eng, sender).drain()).delivered == 0  # not a second early
        clock_of(eng).now = due
        assert (await worker_for(eng, sender).drain()).delivered == 4
    prompts = [s.message for s in sender.sends]
    assert {p.due_local.hour for p in prompts} == {10}  # type: ignore[union-attr]
    assert len(sender.delivered) == 12


# ------------------------------------------------------------------ failures


async def test_a_429_storm_delays_sends_but_never_drops_one(eng: Engine) -> None:
    await seed_due(eng.db, 40, FIXED_NOW)

    def storm(call: int, *_: object) -> Delivered | RetryAfter:
        return RetryAfter(0.5) if call < 100 else Delivered()

    sender = RecordingSender(max_rate=50.0, script=storm)
    total = DrainReport()
    for _round in range(20):
        total.add(await worker_for(eng, sender).drain())
        if len(sender.delivered) == 40:
            break
        clock_of(eng).advance(seconds=1)
    assert total.rate_limited == 100 and total.failed == 0 and total.retry_scheduled == 0
    assert len(sender.delivered) == 40 and sender.nonce_hits == 0
    assert {r.state for r in await all_rows(eng.db)} == {"sent"}
    assert all(r.failures == 0 for r in await all_rows(eng.db))  # a 429 is no failure
    assert clock_of(eng).slept >= 0.5 * 3  # the pauses were honoured


async def test_a_long_429_goes_back_to_the_database_with_a_later_due_time(eng: Engine) -> None:
    await seed_due(eng.db, 3, FIXED_NOW)
    answers = iter([RetryAfter(600.0, is_global=False)])  # this DM channel only
    sender = RecordingSender(script=lambda *_: next(answers, Delivered()))
    report = await worker_for(eng, sender).drain()
    assert (report.deferred, report.delivered) == (1, 2)
    (waiting,) = [r for r in await all_rows(eng.db) if r.state == "pending"]
    assert (waiting.failures, waiting.claimed_by) == (0, None)
    assert waiting.due_at == FIXED_NOW + timedelta(seconds=600)
    # A long *global* 429 pauses every send: all of them go back, none is dropped.
    await seed_due(eng.db, 3, FIXED_NOW, tenant="g2")
    answers = iter([RetryAfter(900.0)])
    report = await worker_for(eng, sender).drain()
    assert (report.deferred, report.delivered, report.failed) == (3, 0, 0)
    rows = [r for r in await all_rows(eng.db) if r.state == "pending"]
    assert len(rows) == 4 and all(r.failures == 0 and r.claimed_by is None for r in rows)
    clock_of(eng).advance(seconds=901)
    assert (await worker_for(eng, sender).drain()).delivered == 4
    assert len(sender.delivered) == 6


async def test_closed_dms_are_retried_with_backoff_then_failed_with_the_reason(
    eng: Engine,
) -> None:
    await seed_due(eng.db, 1, FIXED_NOW)
    sender = RecordingSender(script=lambda *_: Unreachable("Your DMs are closed to me."))
    delays = []
    for attempt in range(1, 6):
        report = await worker_for(eng, sender).drain()
        (row,) = await all_rows(eng.db)
        assert len(sender.sends) == attempt
        if attempt < 5:
            assert report.retry_scheduled == 1 and (row.state, row.failures) == ("pending", attempt)
            delays.append(row.due_at - clock_of(eng).now)
            clock_of(eng).now = row.due_at
        else:
            assert report.failed == 1
    assert delays == [timedelta(minutes=m) for m in (5, 15, 45, 135)]
    (row,) = await all_rows(eng.db)
    assert (row.state, row.last_error) == ("failed", "Your DMs are closed to me.")
    clock_of(eng).advance(days=30)
    assert (await worker_for(eng, sender).drain()).claimed == 0  # bounded: no more tries
    listing = ((await eng.run(ev.ListCheckIns(user=ANN))).messages)[0]
    assert isinstance(listing, CheckInList)
    (view,) = listing.items
    assert (view.state, view.last_error) == ("failed", "Your DMs are closed to me.")
    await eng.run(
        ev.SnoozeCheckIn(user=ANN, checkin_id=view.checkin_id, days=1)
    )  # the person retries it
    (row,) = await all_rows(eng.db)
    assert (row.state, row.failures, row.last_error) == ("pending", 0, None)


async def test_a_crash_between_send_and_record_resends_with_the_same_key(eng: Engine) -> None:
    await seed_due(eng.db, 10, FIXED_NOW)
    discord = RecordingSender()  # one platform both processes post to, enforcing nonces
    crashed = worker_for(eng, discord, "crashed")
    batch = await eng.db.run(crashed._claim_unit, FIXED_NOW, 100, DrainReport())
    for item in batch.items[:5]:  # these reached Discord; the process died before recording
        await discord.send(item.row.user, notification(item.message), item.key)
    survivor = worker_for(eng, discord, "survivor")
    assert (await survivor.drain()).claimed == 0  # the dead process's leases still hold
    wake = await survivor.next_wake()
    assert wake == FIXED_NOW + DeliveryConfig.from_settings(eng.settings).lease
    clock_of(eng).now = wake + timedelta(seconds=1)
    report = await survivor.drain()
    assert report.delivered == 10
    assert len(discord.delivered) == 10 and discord.nonce_hits == 5  # nothing doubled
    assert all(s.message.redelivery for s in discord.sends[5:])  # type: ignore[union-attr]
    assert {r.state for r in await all_rows(eng.db)} == {"sent"}


async def test_forget_while_a_reminder_is_in_flight_deletes_it_for_good(eng: Engine) -> None:
    await seed_due(eng.db, 2, FIXED_NOW)  # both belong to u0 = ANN
    w = worker_for(eng, RecordingSender())
    batch = await eng.db.run(w._claim_unit, FIXED_NOW, 10, DrainReport())
    assert len(batch.items) == 2
    await eng.run(ev.Forget(user=ANN, confirmed=True))  # while the sends are on their way
    report = DrainReport()
    await w._send_all(batch.items, report)
    assert (report.superseded, report.delivered) == (2, 0)
    assert await all_rows(eng.db) == []
    assert await eng.db.run(lambda s: s.scalar(select(User.id))) is None


# ------------------------------------------------------------------ concurrency (PostgreSQL)


async def test_two_workers_on_postgresql_never_send_the_same_row(
    pg_url: str, tiny: Settings
) -> None:
    engine = await make_engine(pg_url, tiny)
    engine.clock = FakeClock(FIXED_NOW)
    second_db = Database(pg_url)
    try:
        await seed_due(engine.db, 400, FIXED_NOW)
        a, b = RecordingSender(), RecordingSender()
        wa = worker_for(engine, a, "a")
        wb = worker_for(engine, b, "b", db=second_db)
        wa.config = wb.config = DeliveryConfig.from_settings(engine.settings, batch_size=20)
        await asyncio.gather(wa.drain(), wb.drain())
        keys_a, keys_b = set(a.delivered), set(b.delivered)
        assert len(keys_a | keys_b) == 400 and not keys_a & keys_b
        assert keys_a and keys_b  # both took part
    finally:
        await second_db.dispose()
        await engine.db.dispose()


# ------------------------------------------------------------------ pacing and wake-ups


async def test_the_rate_gate_paces_sends_and_pauses_on_a_global_429() -> None:
    clock = FakeClock(FIXED_NOW)
    gate = RateGate(50.0, lambda: clock().timestamp(), clock.sleep)
    for _ in range(100):
        await gate.acquire()
    assert 1.9 <= clock.slept <= 2.0  # 100 sends at 50/s
    gate.limited(3.0, is_global=True)
    gate.limited(3.0, is_global=True)  # another send of the same burst: no second cut
    assert gate.rate == pytest.approx(42.5)
    assert gate.paused_for() == pytest.approx(3.0)
    before = clock.slept
    await gate.acquire()
    assert clock.slept - before >= 3.0
    for _ in range(500):
        gate.succeeded()
    assert gate.rate == 50.0


async def test_the_scheduler_wakes_at_the_next_due_time(sqlite_url: str, tiny: Settings) -> None:
    engine = await make_engine(sqlite_url, tiny)
    now = datetime.now(UTC).replace(microsecond=0)
    engine.clock = lambda: now
    service = CheckInService(engine)
    service.register(RecordingSender())
    try:
        await service.start()
        assert service.scheduler.next_wake() is None  # nothing pending
        await finish_and_schedule(engine, ev.When(kind="in_days", days=2))
        (first, *_) = sorted(r.due_at for r in await all_rows(engine.db))
        assert service.scheduler.next_wake() == first
        job = service.scheduler.scheduler.get_job(POLL_JOB)
        assert job is not None and job.trigger.interval == timedelta(seconds=30)
    finally:
        await service.stop()
        await engine.db.dispose()
