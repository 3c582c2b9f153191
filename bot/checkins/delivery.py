"""The delivery loop: claim due reminders with a lease, send, then record; exactly once.

Any number of processes may run this loop on one PostgreSQL. A round is:

1. claim (one transaction): lock due rows ``FOR UPDATE SKIP LOCKED``; a row whose time
   passed longer ago than the grace is marked missed (the person gets one catch-up note
   instead), a row now inside the person's quiet hours moves to their end, the rest get
   ``claimed_by = this worker`` and ``lease_until = now + lease``;
2. send each claimed row through the platform's CheckInSender, paced to its rate;
3. record each result in its own transaction, only if the claim is still held:
   delivered -> sent (a recurring one moves to its next cycle), 429 -> delayed, never
   dropped, unreachable -> retried with backoff, then failed with the reason.

A process that dies after claiming leaves its leases to expire; another process (or the
same one restarted) claims the rows again and sends with the same idempotency key, which
Discord's ``enforce_nonce`` turns into a no-op for a message that did go out.
"""

from __future__ import annotations

import asyncio
import logging
import math
import os
import secrets
import socket
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, time, timedelta

from sqlalchemy.orm import Session

from bot.checkins import texts
from bot.checkins.schedule import (
    Prefs,
    QuietHours,
    idempotency_key,
    next_cycle,
    out_of_quiet,
    parse_hhmm,
    resolve_prefs,
    to_local,
    to_utc,
)
from bot.checkins.sender import CheckInSender, Delivered, RetryAfter, SendResult, Unreachable
from bot.events import UserRef
from bot.messages import CheckInCatchUp, CheckInPrompt, MissedCheckIn, ReminderMessage
from bot.settings import Settings
from bot.store import checkins_repo as repo
from bot.store import repository as base_repo
from bot.store.checkins_repo import DueRow
from bot.store.database import Database, StoreUnavailable
from bot.ui.presenters import notification

__all__ = [
    "DEFAULT_QUIET",
    "Clock",
    "DeliveryConfig",
    "DeliveryWorker",
    "DrainReport",
    "Item",
    "RateGate",
    "Sleep",
    "default_worker_id",
]

log = logging.getLogger(__name__)
Clock = Callable[[], datetime]
Sleep = Callable[[float], Awaitable[None]]


DEFAULT_QUIET = QuietHours(time(21, 0), time(8, 0))


def _utcnow() -> datetime:
    return datetime.now(UTC)


def default_worker_id() -> str:
    return f"{socket.gethostname()[:40]}:{os.getpid()}:{secrets.token_hex(3)}"


@dataclass(frozen=True, slots=True)
class DeliveryConfig:
    lease: timedelta = timedelta(seconds=120)
    grace: timedelta = timedelta(hours=12)
    max_attempts: int = 5
    retry_base: timedelta = timedelta(minutes=5)
    batch_size: int = 200
    concurrency: int = 64
    # A 429 this short is waited out while holding the lease; a longer one goes back to
    # the database with its due time moved (and another process may take it).
    max_inline_wait: float = 10.0
    max_inline_retries: int = 8
    default_timezone: str = "UTC"
    default_quiet: QuietHours = DEFAULT_QUIET

    @classmethod
    def from_settings(cls, settings: Settings, **overrides: object) -> DeliveryConfig:
        values: dict[str, object] = {
            "lease": timedelta(seconds=settings.checkin_lease_seconds),
            "grace": timedelta(hours=settings.checkin_grace_hours),
            "max_attempts": settings.checkin_max_attempts,
            "retry_base": timedelta(seconds=settings.checkin_retry_seconds),
            "default_timezone": settings.default_timezone,
            "default_quiet": QuietHours(settings.quiet_hours_start, settings.quiet_hours_end),
        }
        values.update(overrides)
        return cls(**values)  # type: ignore[arg-type]

    def prefs(self, row: DueRow) -> Prefs:
        return resolve_prefs(
            row.timezone,
            row.quiet_start,
            row.quiet_end,
            row.tenant_defaults,
            self.default_timezone,
            self.default_quiet,
        )


class RateGate:
    """Paces one sender's sends, and backs off when the platform says 429.

    Sends are spaced 1/rate apart. A global 429 pauses every send of the sender until
    ``retry_after``, and cuts the rate (at most once per congestion episode); each success
    wins a little back. With several processes sharing one platform limit this settles
    near the limit without knowing how many processes there are.
    """

    DECREASE = 0.85
    INCREASE = 1.0  # requests/s gained per second of success
    FLOOR = 0.1

    def __init__(self, max_rate: float | None, clock: Callable[[], float], sleep: Sleep) -> None:
        self.max_rate = max_rate
        self.rate = max_rate
        self._clock = clock
        self._sleep = sleep
        self._next = -math.inf
        self._paused_until = -math.inf
        self._no_cut_until = -math.inf
        self._lock = asyncio.Lock()

    async def acquire(self) -> None:
        async with self._lock:
            while True:
                now = self._clock()
                start = max(self._next, self._paused_until)
                if start - now <= 1e-6:  # float timestamps: a microsecond is "now"
                    break
                await self._sleep(start - now)
            if self.rate:
                self._next = max(self._next, now) + 1.0 / self.rate

    def paused_for(self) -> float:
        """Seconds until a global 429 pause ends (0 when not paused)."""
        return max(0.0, self._paused_until - self._clock())

    def limited(self, seconds: float, is_global: bool) -> None:
        now = self._clock()
        if is_global:
            self._paused_until = max(self._paused_until, now + seconds)
        if self.rate and self.max_rate and now >= self._no_cut_until:
            self.rate = max(self.max_rate * self.FLOOR, self.rate * self.DECREASE)
            self._no_cut_until = now + max(seconds, 1.0)

    def succeeded(self) -> None:
        if self.rate and self.max_rate and self.rate < self.max_rate:
            self.rate = min(self.max_rate, self.rate + self.INCREASE / self.rate)


@dataclass(slots=True)
class Item:
    """One claimed reminder on its way out."""

    row: DueRow
    prefs: Prefs
    message: ReminderMessage
    key: str
    lease_until: datetime
    missed_ids: tuple[int, ...] = ()


@dataclass(slots=True)
class DrainReport:
    claimed: int = 0
    delivered: int = 0
    rate_limited: int = 0  # 429 answers (each one delayed a send, none dropped one)
    deferred: int = 0  # went back to the database with a later due time (long 429)
    retry_scheduled: int = 0  # unreachable, to be tried again later
    failed: int = 0  # unreachable too often: marked failed
    missed: int = 0  # past the grace: marked missed (catch-up note instead)
    quiet_deferred: int = 0
    superseded: int = 0  # sent, but the row changed meanwhile (edited, forgotten, taken over)
    released: int = 0  # not sent: the lease was about to run out
    rounds: int = 0

    def add(self, other: DrainReport) -> None:
        for name in self.__slots__:  # type: ignore[attr-defined]
            setattr(self, name, getattr(self, name) + getattr(other, name))


@dataclass(slots=True)
class _Batch:
    locked: int
    items: list[Item] = field(default_factory=list)


class DeliveryWorker:
    """One per process (per scheduler). Sends through the senders registered per platform."""

    def __init__(
        self,
        db: Database,
        config: DeliveryConfig,
        senders: Mapping[str, CheckInSender] | None = None,
        *,
        worker_id: str | None = None,
        clock: Clock = _utcnow,
        sleep: Sleep = asyncio.sleep,
        only_user: UserRef | None = None,
    ) -> None:
        self.db = db
        self.config = config
        self.worker_id = (worker_id or default_worker_id())[:64]
        self.clock = clock
        self.sleep = sleep
        self.only_user = only_user
        self._only_uid: int | None = None
        self._senders: dict[str, CheckInSender] = {}
        self._gates: dict[str, RateGate] = {}
        for sender in (senders or {}).values():
            self.register(sender)

    # ------------------------------------------------------------------ senders

    def register(self, sender: CheckInSender) -> None:
        self._senders[sender.platform] = sender
        self._gates[sender.platform] = RateGate(
            sender.max_rate, lambda: self.clock().timestamp(), self.sleep
        )

    def unregister(self, platform: str) -> None:
        self._senders.pop(platform, None)
        self._gates.pop(platform, None)

    @property
    def platforms(self) -> tuple[str, ...]:
        return tuple(sorted(self._senders))

    def gate(self, platform: str) -> RateGate | None:
        return self._gates.get(platform)

    # ------------------------------------------------------------------ the loop

    async def drain(self, max_rounds: int = 10_000) -> DrainReport:
        """Deliver everything due now; returns when nothing claimable is left."""
        report = DrainReport()
        if not await self._scope_ready():
            return report
        for _ in range(max_rounds):
            if not self._senders:
                break
            batch = await self.db.run(self._claim_unit, self.clock(), self._batch_limit(), report)
            report.rounds += 1
            if batch.locked == 0:
                break
            if batch.items:
                await self._send_all(batch.items, report)
        return report

    async def next_wake(self) -> datetime | None:
        """When there is next something to claim (a due time, or a foreign lease expiring)."""
        if not await self._scope_ready():
            return None
        return await self.db.run(repo.next_wake, self.clock(), self.platforms, self._only_uid)

    async def _scope_ready(self) -> bool:
        """For a one-person worker (the console), find that person; False if unknown."""
        if self.only_user is None:
            return True
        if self._only_uid is None:
            self._only_uid = await self.db.run(base_repo.user_id, self.only_user)
        return self._only_uid is not None

    def _batch_limit(self) -> int:
        rates = [s.max_rate for s in self._senders.values() if s.max_rate]
        if not rates:
            return self.config.batch_size
        # Small enough that the batch goes out well within the lease at the slowest rate.
        budget = int(min(rates) * self.config.lease.total_seconds() / 4)
        return max(1, min(self.config.batch_size, budget))

    # ------------------------------------------------------------------ claim

    def _claim_unit(self, s: Session, now: datetime, limit: int, report: DrainReport) -> _Batch:
        rows = repo.lock_due(s, now, limit, self.platforms, self._only_uid)
        batch = _Batch(len(rows))
        cutoff = now - self.config.grace
        ready: list[tuple[DueRow, Prefs, tuple[int, ...]]] = []
        missed_users: set[tuple[int, str]] = set()
        for row in rows:
            prefs = self.config.prefs(row)
            if row.kind != "catchup" and row.due_at < cutoff:
                self._miss(s, row, prefs, now)
                missed_users.add((row.user_id, row.platform))
                report.missed += 1
                continue
            if prefs.quiet.contains(to_local(now, prefs.tz).time()):
                repo.update_locked(
                    s, row.id, due_at=out_of_quiet(now, prefs.tz, prefs.quiet), updated_at=now
                )
                report.quiet_deferred += 1
                continue
            missed_ids: tuple[int, ...] = ()
            if row.kind == "catchup":
                missed_ids = tuple(m[0] for m in repo.missed_items(s, row.user_id))
                if not missed_ids:  # the person already dealt with them
                    repo.update_locked(s, row.id, state="cancelled", updated_at=now)
                    continue
            ready.append((row, prefs, missed_ids))
        for uid, platform in sorted(missed_users):
            repo.add_catchup(s, uid, platform, now, now)
        lease_until = now + self.config.lease
        taken = set(repo.claim(s, [r.id for r, _, _ in ready], self.worker_id, lease_until, now))
        for row, prefs, missed_ids in ready:
            if row.id in taken:
                message = self._message(s, row, prefs, missed_ids)
                key = idempotency_key(row.id, row.occurrence, row.salt)
                batch.items.append(Item(row, prefs, message, key, lease_until, missed_ids))
        report.claimed += len(batch.items)
        return batch

    def _message(
        self, s: Session, row: DueRow, prefs: Prefs, missed_ids: tuple[int, ...]
    ) -> ReminderMessage:
        redelivery = row.claimed_by is not None
        if row.kind == "catchup":
            wanted = set(missed_ids)
            items = tuple(
                MissedCheckIn(cid, action, interval if kind == "repeat" else None)
                for cid, action, kind, interval in repo.missed_items(s, row.user_id)
                if cid in wanted
            )
            return CheckInCatchUp(
                texts.CATCHUP_TEXT,
                items,
                prefs.tz_name,
                texts.CATCHUP_CHOICES,
                row.occurrence,
                redelivery,
            )
        local = row.local_due or to_local(row.due_at, prefs.tz)
        return CheckInPrompt(
            checkin_id=row.id,
            occurrence=row.occurrence,
            plan_item_id=row.plan_item_id or 0,
            action=row.action,
            due_local=to_utc(local, prefs.tz).astimezone(prefs.tz),
            timezone=prefs.tz_name,
            choices=texts.PROMPT_CHOICES,
            repeat_days=row.interval_days if row.kind == "repeat" else None,
            redelivery=redelivery,
        )

    def _next_cycle_values(self, row: DueRow, prefs: Prefs, after: datetime) -> dict[str, object]:
        assert row.anchor is not None and row.at_time is not None and row.interval_days
        cycle, local = next_cycle(
            row.anchor, parse_hhmm(row.at_time), row.interval_days, row.cycle, after, prefs.tz
        )
        return {
            "cycle": cycle,
            "occurrence": row.occurrence + 1,
            "local_due": local,
            "due_at": out_of_quiet(to_utc(local, prefs.tz), prefs.tz, prefs.quiet),
        }

    def _miss(self, s: Session, row: DueRow, prefs: Prefs, now: datetime) -> None:
        repo.record_outcome(s, row.id, row.occurrence, "missed", now)
        common: dict[str, object] = {
            "missed_pending": True,
            "missed_count": row.missed_count + 1,
            "claimed_by": None,
            "lease_until": None,
            "failures": 0,
            "updated_at": now,
        }
        if row.kind == "repeat":
            repo.update_locked(s, row.id, **common, **self._next_cycle_values(row, prefs, now))
        else:
            repo.update_locked(s, row.id, state="missed", **common)

    # ------------------------------------------------------------------ send and record

    async def _send_all(self, items: list[Item], report: DrainReport) -> None:
        limit = asyncio.Semaphore(self.config.concurrency)

        async def one(item: Item) -> None:
            async with limit:
                try:
                    await self._deliver(item, report)
                except StoreUnavailable as exc:
                    # The row stays claimed; after the lease another round sends it again
                    # with the same key (a no-op on Discord if this one went out).
                    log.warning("check-in %s: could not record the result: %s", item.row.id, exc)

        await asyncio.gather(*(one(i) for i in items))

    async def _deliver(self, item: Item, report: DrainReport) -> None:
        sender = self._senders.get(item.row.platform)
        gate = self._gates.get(item.row.platform)
        margin = min(timedelta(seconds=10), self.config.lease / 4)
        waits = 0
        while True:
            if sender is None or gate is None:
                await self.db.run(self._release_unit, item, None, self.clock())
                report.released += 1
                return
            paused = gate.paused_for()
            if paused > self.config.max_inline_wait:
                # A long global 429: hand the row back with its time moved, keep no lease.
                now = self.clock()
                await self.db.run(self._release_unit, item, now + timedelta(seconds=paused), now)
                report.deferred += 1
                return
            await gate.acquire()
            if self.clock() >= item.lease_until - margin:
                await self.db.run(self._release_unit, item, None, self.clock())
                report.released += 1
                return
            result = await self._send(sender, item)
            now = self.clock()
            if isinstance(result, Delivered):
                gate.succeeded()
                if await self.db.run(self._sent_unit, item, now):
                    report.delivered += 1
                else:
                    report.superseded += 1
                return
            if isinstance(result, RetryAfter):
                report.rate_limited += 1
                gate.limited(result.seconds, result.is_global)
                waits += 1
                wait = max(0.0, result.seconds)
                if wait <= self.config.max_inline_wait and waits <= self.config.max_inline_retries:
                    if not result.is_global:
                        await self.sleep(wait)  # the gate only pauses for global limits
                    continue
                due = now + timedelta(seconds=wait)
                await self.db.run(self._release_unit, item, due, now)
                report.deferred += 1
                return
            failed = await self.db.run(self._unreachable_unit, item, result.reason, now)
            if failed:
                report.failed += 1
            else:
                report.retry_scheduled += 1
            return

    async def _send(self, sender: CheckInSender, item: Item) -> SendResult:
        try:
            return await sender.send(item.row.user, notification(item.message), item.key)
        except asyncio.CancelledError:
            raise
        except Exception as exc:  # a bug or a transport error: a failed attempt, logged
            log.exception("check-in %s: the %s sender raised", item.row.id, sender.platform)
            return Unreachable(f"Sending failed ({type(exc).__name__}).")

    def _sent_unit(self, s: Session, item: Item, now: datetime) -> bool:
        row = item.row
        values: dict[str, object] = {
            "sent_occurrence": row.occurrence,
            "sent_at": now,
            "deliveries": repo.ONE_MORE_DELIVERY,
            "failures": 0,
            "last_error": None,
            "updated_at": now,
        }
        if row.kind == "repeat":
            values.update(self._next_cycle_values(row, item.prefs, now))
        else:
            values["state"] = "sent"
        if not repo.finish_claimed(s, row.id, self.worker_id, row.occurrence, **values):
            log.info("check-in %s: sent, but no longer ours to record", row.id)
            return False
        if row.kind != "catchup":  # typed text ("done", "2") may now answer it
            base_repo.await_checkin(s, row.user_id, f"checkin:{row.id}:{row.occurrence}")
        if row.kind == "catchup":
            repo.clear_missed(s, item.missed_ids)
            if repo.missed_items(s, row.user_id):  # missed while this note was on its way
                repo.add_catchup(s, row.user_id, row.platform, now, now)
        return True

    def _unreachable_unit(self, s: Session, item: Item, reason: str, now: datetime) -> bool:
        """Schedule a retry with backoff, or give up; True when it was marked failed."""
        row = item.row
        failures = row.failures + 1
        reason = reason.strip()[:200] or "unreachable"
        if failures >= self.config.max_attempts:
            done = repo.finish_claimed(
                s,
                row.id,
                self.worker_id,
                row.occurrence,
                state="failed",
                failures=failures,
                last_error=reason,
                updated_at=now,
            )
            if done:
                repo.record_outcome(s, row.id, row.occurrence, "failed", now)
            return done
        delay = self.config.retry_base * (3 ** (failures - 1))
        due = out_of_quiet(now + delay, item.prefs.tz, item.prefs.quiet)
        repo.finish_claimed(
            s,
            row.id,
            self.worker_id,
            row.occurrence,
            due_at=due,
            failures=failures,
            last_error=reason,
            updated_at=now,
        )
        return False

    def _release_unit(self, s: Session, item: Item, due: datetime | None, now: datetime) -> None:
        """Give a claimed row back unsent (keeping whether an earlier attempt is in doubt)."""
        values: dict[str, object] = {"claimed_by": item.row.claimed_by, "updated_at": now}
        if due is not None:
            values["due_at"] = due
        repo.finish_claimed(s, item.row.id, self.worker_id, item.row.occurrence, **values)
