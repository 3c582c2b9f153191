"""Per-process wake-ups for the delivery loop, driven by APScheduler (3.x, memory job store).

APScheduler's FAQ is explicit that its job stores must not be shared between processes,
so nothing about a reminder lives in APScheduler: it holds two jobs per process, a
periodic poll and a one-shot "wake" at the next due time, and both only run
DeliveryWorker.drain(), where the database decides which process sends which reminder.
A restart loses nothing: start() drains what fell due meanwhile (within the grace) and
marks the rest missed, then re-arms the wake from the rows.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from functools import cached_property
from typing import TYPE_CHECKING, Protocol

from bot.checkins.delivery import DeliveryConfig, DeliveryWorker, DrainReport
from bot.checkins.sender import CheckInSender
from bot.engine import Engine
from bot.events import UserRef
from bot.store.database import StoreUnavailable

if TYPE_CHECKING:
    from apscheduler.schedulers.asyncio import AsyncIOScheduler

__all__ = [
    "MAX_ROUNDS",
    "POLL_JOB",
    "WAKE_JOB",
    "CheckInScheduler",
    "CheckInService",
    "Drainable",
]

log = logging.getLogger(__name__)
WAKE_JOB = "checkins-wake"
POLL_JOB = "checkins-poll"
MAX_ROUNDS = 50


class Drainable(Protocol):
    """What the scheduler drives: the check-in DeliveryWorker, or the MentorWorker."""

    worker_id: str
    clock: Callable[[], datetime]

    async def drain(self) -> DrainReport: ...

    async def next_wake(self) -> datetime | None: ...


class CheckInScheduler:
    """Wakes one worker (DeliveryWorker, MentorWorker) at the next due time and every
    ``poll_seconds``: the database decides who does what, the scheduler only when to look."""

    def __init__(
        self,
        worker: Drainable,
        *,
        poll_seconds: float = 30.0,
        clock: Callable[[], datetime] | None = None,
    ) -> None:
        self.worker = worker
        self.poll_seconds = poll_seconds
        self.clock = clock or worker.clock
        self.totals = DrainReport()
        self._lock = asyncio.Lock()
        self._again = False
        self._wake_at: datetime | None = None
        self._started = False

    @cached_property
    def scheduler(self) -> AsyncIOScheduler:
        # Imported on first use: a console session never starts the scheduler.
        from apscheduler.schedulers.asyncio import AsyncIOScheduler

        return AsyncIOScheduler(timezone=UTC)  # the default: a MemoryJobStore

    @property
    def running(self) -> bool:
        return self._started

    async def start(self) -> DrainReport:
        """Deliver what is due (the restart sweep), then arm the poll and the next wake."""
        from apscheduler.triggers.interval import IntervalTrigger

        self.scheduler.start()
        self._started = True
        self.scheduler.add_job(
            self.tick,
            IntervalTrigger(seconds=self.poll_seconds, timezone=UTC),
            id=POLL_JOB,
            max_instances=1,
            coalesce=True,
            misfire_grace_time=None,
            replace_existing=True,
        )
        return await self.tick()

    async def stop(self) -> None:
        if self._started:
            self._started = False
            self.scheduler.shutdown(wait=False)
        async with self._lock:  # let a drain in progress finish its marks
            pass

    def wake_at(self, when: datetime) -> None:
        """Run a drain at ``when`` (or now, if past) unless one is already due earlier."""
        if not self._started:
            return
        armed = self._wake_at
        if armed is not None and self.clock() < armed <= when:
            return  # an earlier wake is already armed (a past one has fired: re-arm)
        from apscheduler.triggers.date import DateTrigger

        self._wake_at = when
        run_date = max(when, self.clock() + timedelta(milliseconds=1))
        self.scheduler.add_job(
            self.tick,
            DateTrigger(run_date=run_date, timezone=UTC),
            id=WAKE_JOB,
            max_instances=1,
            misfire_grace_time=None,
            replace_existing=True,
        )

    def next_wake(self) -> datetime | None:
        job = self.scheduler.get_job(WAKE_JOB) if self._started else None
        return job.next_run_time if job is not None else None

    async def tick(self) -> DrainReport:
        """One wake-up: drain until nothing is claimable, then arm the next wake."""
        report = DrainReport()
        if not self._started:
            return report  # a wake that fired while stopping
        if self._lock.locked():
            self._again = True  # the running drain goes round once more
            return report
        async with self._lock:
            self._wake_at = None
            for _round in range(MAX_ROUNDS):
                self._again = False
                try:
                    report.add(await self.worker.drain())
                    nxt = await self.worker.next_wake()
                except StoreUnavailable as exc:
                    log.warning("check-ins: database unavailable; next poll retries: %s", exc)
                    break
                if nxt is not None and nxt <= self.clock():
                    self._again = True  # a foreign lease expired, or rows came due meanwhile
                elif nxt is not None and self._started:
                    self.wake_at(nxt)
                if not self._again:
                    break
            else:
                # Rows due but not claimable (held by a transaction in flight): look again soon.
                self.wake_at(self.clock() + timedelta(seconds=1))
        self.totals.add(report)
        # DEBUG only (one line per wake-up): which process claimed and sent how many, for
        # an operator tracing a reminder across processes, and for the multi-process tests.
        log.debug(
            "check-ins: wake-up done by %s: %d claimed, %d delivered",
            self.worker.worker_id,
            report.claimed,
            report.delivered,
        )
        return report


class CheckInService:
    """What a running bot owns for check-ins: one worker, one scheduler, its senders.

    Adapters call ``register(sender)`` once they can send DMs; the service delivers for
    the platforms registered so far, so a process without Slack never claims Slack rows.
    """

    def __init__(
        self,
        engine: Engine,
        *,
        worker_id: str | None = None,
        only_user: UserRef | None = None,
        config: DeliveryConfig | None = None,
    ) -> None:
        self.engine = engine
        self.worker = DeliveryWorker(
            engine.db,
            config or DeliveryConfig.from_settings(engine.settings),
            worker_id=worker_id,
            clock=engine.clock,
            only_user=only_user,
        )
        self.scheduler = CheckInScheduler(
            self.worker, poll_seconds=engine.settings.checkin_poll_seconds
        )
        engine.on_checkins_changed = self.scheduler.wake_at

    def register(self, sender: CheckInSender) -> None:
        self.worker.register(sender)
        if self.scheduler.running:
            self.scheduler.wake_at(self.engine.clock())

    def unregister(self, platform: str) -> None:
        self.worker.unregister(platform)

    async def start(self) -> DrainReport:
        return await self.scheduler.start()

    async def stop(self) -> None:
        await self.scheduler.stop()
        if self.engine.on_checkins_changed == self.scheduler.wake_at:
            self.engine.on_checkins_changed = None
