"""Check-in queries: scheduling, the person's list, and the delivery loop's claim and marks.

Every function takes a sync ``Session`` inside a unit of work (Database.run). The claim
locks due rows with ``FOR UPDATE OF checkins SKIP LOCKED`` on PostgreSQL, so concurrent
processes each get different rows without waiting; SQLite (one process) ignores the
clause and its single writer does the same job. Every mark after a send is conditional
on still holding the claim for the same occurrence, so a process whose lease ran out, or
a person who changed the check-in meanwhile, never has their row overwritten.
"""

from __future__ import annotations

import secrets
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any, NamedTuple

from sqlalchemy import Row, and_, bindparam, func, insert, or_, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session

from bot.events import UserRef
from bot.store.models import (
    CheckIn,
    CheckInOutcome,
    Consultation,
    PlanItem,
    TenantSettings,
    User,
)

ACTIVE_STATES = ("pending", "sent", "failed", "missed")
"""States `/advise checkins` shows; the others (answered, done, stopped, cancelled,
replaced) are history, kept for export."""

_c = CheckIn.__table__
_u = User.__table__
_p = PlanItem.__table__
_t = TenantSettings.__table__
_o = CheckInOutcome.__table__
# The value of ``deliveries`` in the UPDATE that records a successful send.
ONE_MORE_DELIVERY = _c.c.deliveries + 1


def new_salt() -> str:
    return secrets.token_hex(4)


def _insert_for(session: Session) -> Any:
    return pg_insert if session.get_bind().dialect.name == "postgresql" else sqlite_insert


# ------------------------------------------------------------------ the person's side


@dataclass(slots=True)
class OwnedCheckIn:
    """A check-in as its owner's commands see it (with the plan item and the person)."""

    id: int
    user_id: int
    plan_item_id: int | None
    kind: str
    interval_days: int | None
    anchor: date | None
    at_time: str | None
    cycle: int
    occurrence: int
    local_due: datetime | None
    due_at: datetime
    state: str
    sent_occurrence: int | None
    last_error: str | None
    action: str
    plan_status: str
    consultation_id: int | None


_OWNED_COLUMNS = (
    _c.c.id,
    _c.c.user_id,
    _c.c.plan_item_id,
    _c.c.kind,
    _c.c.interval_days,
    _c.c.anchor,
    _c.c.at_time,
    _c.c.cycle,
    _c.c.occurrence,
    _c.c.local_due,
    _c.c.due_at,
    _c.c.state,
    _c.c.sent_occurrence,
    _c.c.last_error,
    func.coalesce(_p.c.action, ""),
    func.coalesce(_p.c.status, ""),
    _p.c.consultation_id,
)


def _owned(row: Row[Any]) -> OwnedCheckIn:
    return OwnedCheckIn(*row)


def owned_checkin(session: Session, uid: int, checkin_id: int) -> OwnedCheckIn | None:
    row = session.execute(
        select(*_OWNED_COLUMNS)
        .select_from(_c.outerjoin(_p, _p.c.id == _c.c.plan_item_id))
        .where(_c.c.id == checkin_id, _c.c.user_id == uid, _c.c.kind != "catchup")
    ).first()
    return _owned(row) if row is not None else None


def user_checkins(
    session: Session, uid: int, states: Sequence[str] | None = ACTIVE_STATES
) -> list[OwnedCheckIn]:
    stmt = (
        select(*_OWNED_COLUMNS)
        .select_from(_c.outerjoin(_p, _p.c.id == _c.c.plan_item_id))
        .where(_c.c.user_id == uid, _c.c.kind != "catchup")
        .order_by(_c.c.due_at, _c.c.id)
    )
    if states is not None:
        stmt = stmt.where(_c.c.state.in_(states))
    return [_owned(r) for r in session.execute(stmt)]


def outcomes(session: Session, checkin_ids: Iterable[int]) -> dict[int, list[tuple[str, datetime]]]:
    ids = list(checkin_ids)
    found: dict[int, list[tuple[str, datetime]]] = {i: [] for i in ids}
    if not ids:
        return found
    rows = session.execute(
        select(_o.c.checkin_id, _o.c.outcome, _o.c.at)
        .where(_o.c.checkin_id.in_(ids))
        .order_by(_o.c.checkin_id, _o.c.occurrence)
    )
    for cid, outcome, at in rows:
        found[cid].append((outcome, at))
    return found


def open_plan_items(
    session: Session, consultation_id: int, only: Sequence[int] = ()
) -> list[tuple[int, str, date | None]]:
    """Plan items a check-in can be about: not done yet (and among ``only`` when given)."""
    stmt = (
        select(_p.c.id, _p.c.action, _p.c.due_date)
        .where(_p.c.consultation_id == consultation_id, _p.c.status != "done")
        .order_by(_p.c.id)
    )
    if only:
        stmt = stmt.where(_p.c.id.in_(list(only)))
    return [(r[0], r[1], r[2]) for r in session.execute(stmt)]


def replace_pending_for_item(
    session: Session, plan_item_id: int, now: datetime, keep: int | None = None
) -> None:
    """A new schedule for an item supersedes its pending one (the claim goes with it)."""
    stmt = update(_c).where(_c.c.plan_item_id == plan_item_id, _c.c.state == "pending")
    if keep is not None:
        stmt = stmt.where(_c.c.id != keep)
    session.execute(
        stmt.values(state="replaced", claimed_by=None, lease_until=None, updated_at=now)
    )


def insert_checkin(session: Session, **values: Any) -> int:
    """Raises IntegrityError if the item got a pending check-in meanwhile (a double click)."""
    values.setdefault("salt", new_salt())
    return int(session.execute(insert(_c).values(**values).returning(_c.c.id)).scalar_one())


def update_owned(session: Session, checkin_id: int, seen_occurrence: int, /, **values: Any) -> bool:
    """Apply a person's change if the check-in is still the one they saw."""
    result = session.execute(
        update(_c).where(_c.c.id == checkin_id, _c.c.occurrence == seen_occurrence).values(**values)
    )
    return bool(result.rowcount)


def record_outcome(
    session: Session, checkin_id: int, occurrence: int, outcome: str, now: datetime
) -> bool:
    """False when this occurrence already has an outcome (a second click, another process)."""
    result = session.execute(
        _insert_for(session)(CheckInOutcome)
        .values(checkin_id=checkin_id, occurrence=occurrence, outcome=outcome, at=now)
        .on_conflict_do_nothing()
    )
    return bool(result.rowcount)


def set_plan_status(session: Session, plan_item_id: int, status: str, now: datetime) -> None:
    session.execute(update(_p).where(_p.c.id == plan_item_id).values(status=status, updated_at=now))


def pending_of_user(session: Session, uid: int) -> list[tuple[int, datetime | None, datetime]]:
    return [
        (r[0], r[1], r[2])
        for r in session.execute(
            select(_c.c.id, _c.c.local_due, _c.c.due_at).where(
                _c.c.user_id == uid, _c.c.state == "pending"
            )
        )
    ]


def set_due(session: Session, checkin_id: int, due_at: datetime, now: datetime) -> None:
    session.execute(update(_c).where(_c.c.id == checkin_id).values(due_at=due_at, updated_at=now))


def user_row(session: Session, uid: int) -> User | None:
    return session.get(User, uid)


class PrefsRow(NamedTuple):
    timezone: str | None
    quiet_start: Any
    quiet_end: Any
    timezone_source: str | None
    tenant_defaults: dict[str, Any] | None


_PREFS_OF = (
    select(
        _u.c.timezone, _u.c.quiet_start, _u.c.quiet_end, _u.c.timezone_source, _t.c.checkin_defaults
    )
    .select_from(_u.outerjoin(_t, and_(_t.c.platform == _u.c.platform, _t.c.tenant == _u.c.tenant)))
    .where(_u.c.id == bindparam("uid"))
)


def prefs_row(session: Session, uid: int) -> PrefsRow | None:
    """A person's check-in preferences and their server's defaults, in one statement (the
    final turn's check-in offer reads them)."""
    row = session.execute(_PREFS_OF, {"uid": uid}).first()
    return PrefsRow(*row) if row is not None else None


def tenant_defaults(session: Session, platform: str, tenant: str) -> dict[str, Any] | None:
    row = session.get(TenantSettings, (platform, tenant))
    return row.checkin_defaults if row is not None else None


def consultation_of_item(session: Session, plan_item_id: int) -> Consultation | None:
    item = session.get(PlanItem, plan_item_id)
    return session.get(Consultation, item.consultation_id) if item is not None else None


# ------------------------------------------------------------------ the delivery loop


@dataclass(slots=True)
class DueRow:
    """A due check-in with everything a send needs, read in the claiming transaction."""

    id: int
    user_id: int
    plan_item_id: int | None
    kind: str
    interval_days: int | None
    anchor: date | None
    at_time: str | None
    cycle: int
    occurrence: int
    salt: str
    local_due: datetime | None
    due_at: datetime
    claimed_by: str | None
    missed_count: int
    failures: int
    platform: str
    tenant: str
    platform_user_id: str
    timezone: str | None
    quiet_start: str | None
    quiet_end: str | None
    tenant_defaults: dict[str, Any] | None
    action: str

    @property
    def user(self) -> UserRef:
        return UserRef(self.platform, self.tenant, self.platform_user_id)


_DUE_COLUMNS = (
    _c.c.id,
    _c.c.user_id,
    _c.c.plan_item_id,
    _c.c.kind,
    _c.c.interval_days,
    _c.c.anchor,
    _c.c.at_time,
    _c.c.cycle,
    _c.c.occurrence,
    _c.c.salt,
    _c.c.local_due,
    _c.c.due_at,
    _c.c.claimed_by,
    _c.c.missed_count,
    _c.c.failures,
    _u.c.platform,
    _u.c.tenant,
    _u.c.platform_user_id,
    _u.c.timezone,
    _u.c.quiet_start,
    _u.c.quiet_end,
    _t.c.checkin_defaults,
    func.coalesce(_p.c.action, ""),
)


def _claimable(now: datetime) -> Any:
    return and_(
        _c.c.state == "pending",
        _c.c.due_at <= now,
        or_(_c.c.lease_until.is_(None), _c.c.lease_until < now),
    )


def _scope(stmt: Any, platforms: Sequence[str], only_uid: int | None) -> Any:
    stmt = stmt.where(_c.c.platform.in_(list(platforms)))
    if only_uid is not None:
        stmt = stmt.where(_c.c.user_id == only_uid)
    return stmt


def lock_due(
    session: Session,
    now: datetime,
    limit: int,
    platforms: Sequence[str],
    only_uid: int | None = None,
) -> list[DueRow]:
    """Due, unclaimed (or lease-expired) rows, oldest first, locked for this transaction.

    PostgreSQL skips rows another transaction holds; the lease keeps them from being taken
    again after that transaction commits, until it expires. The lock is taken by a query
    on the check-ins table alone (an index scan on state, due_at, whatever the planner's
    statistics say); the person and the plan item are read after, by primary key.
    """
    picked = _scope(
        select(_c.c.id)
        .where(_claimable(now))
        .order_by(_c.c.due_at, _c.c.id)
        .limit(limit)
        .with_for_update(skip_locked=True),
        platforms,
        only_uid,
    )
    ids = list(session.execute(picked).scalars())
    if not ids:
        return []
    source = (
        _c.join(_u, _u.c.id == _c.c.user_id)
        .outerjoin(_p, _p.c.id == _c.c.plan_item_id)
        .outerjoin(_t, and_(_t.c.platform == _u.c.platform, _t.c.tenant == _u.c.tenant))
    )
    rows = session.execute(select(*_DUE_COLUMNS).select_from(source).where(_c.c.id.in_(ids))).all()
    order = {cid: n for n, cid in enumerate(ids)}
    return sorted((DueRow(*r) for r in rows), key=lambda r: order[r.id])


def claim(
    session: Session, ids: Sequence[int], worker: str, lease_until: datetime, now: datetime
) -> list[int]:
    """Take the lease on ``ids``; returns the ids actually taken (all of them on PostgreSQL,
    where they are locked; the WHERE guards a second SQLite writer all the same)."""
    if not ids:
        return []
    result = session.execute(
        update(_c)
        .where(_c.c.id.in_(list(ids)), _claimable(now))
        .values(claimed_by=worker, lease_until=lease_until)
        .returning(_c.c.id)
    )
    return [r[0] for r in result]


def _held(checkin_id: int, worker: str, occurrence: int) -> Any:
    return and_(
        _c.c.id == checkin_id,
        _c.c.claimed_by == worker,
        _c.c.occurrence == occurrence,
        _c.c.state == "pending",
    )


def finish_claimed(
    session: Session, checkin_id: int, worker: str, seen_occurrence: int, /, **values: Any
) -> bool:
    """Update a row this worker still holds (same occurrence, still pending) and drop the
    claim; False when it no longer does (lease taken over, changed, cancelled, forgotten)."""
    values.setdefault("claimed_by", None)
    values.setdefault("lease_until", None)
    result = session.execute(
        update(_c).where(_held(checkin_id, worker, seen_occurrence)).values(**values)
    )
    return bool(result.rowcount)


def update_locked(session: Session, checkin_id: int, /, **values: Any) -> None:
    """Change a row this transaction has locked (missed, moved out of quiet hours)."""
    session.execute(update(_c).where(_c.c.id == checkin_id).values(**values))


def add_catchup(session: Session, uid: int, platform: str, due_at: datetime, now: datetime) -> None:
    """One pending catch-up note per person: a second one is a no-op (partial unique index)."""
    session.execute(
        _insert_for(session)(CheckIn)
        .values(
            user_id=uid,
            platform=platform,
            plan_item_id=None,
            kind="catchup",
            cycle=0,
            occurrence=1,
            salt=new_salt(),
            due_at=due_at,
            state="pending",
            failures=0,
            missed_pending=False,
            missed_count=0,
            created_at=now,
            updated_at=now,
        )
        .on_conflict_do_nothing()
    )


def missed_items(session: Session, uid: int) -> list[tuple[int, str, str, int | None]]:
    """(id, action, kind, interval) of the person's missed check-ins not yet told about."""
    rows = session.execute(
        select(_c.c.id, func.coalesce(_p.c.action, ""), _c.c.kind, _c.c.interval_days)
        .select_from(_c.outerjoin(_p, _p.c.id == _c.c.plan_item_id))
        .where(_c.c.user_id == uid, _c.c.missed_pending.is_(True), _c.c.kind != "catchup")
        .order_by(_c.c.id)
    )
    return [(r[0], r[1], r[2], r[3]) for r in rows]


def clear_missed(session: Session, ids: Sequence[int]) -> None:
    if ids:
        session.execute(update(_c).where(_c.c.id.in_(list(ids))).values(missed_pending=False))


def next_wake(
    session: Session, now: datetime, platforms: Sequence[str], only_uid: int | None = None
) -> datetime | None:
    """When this process next has something to do: the earliest unclaimed due time, or
    the earliest lease of another process that will expire (to take over its rows)."""
    if not platforms:
        return None
    free = session.execute(
        _scope(
            select(func.min(_c.c.due_at)).where(
                _c.c.state == "pending", or_(_c.c.lease_until.is_(None), _c.c.lease_until < now)
            ),
            platforms,
            only_uid,
        )
    ).scalar()
    held = session.execute(
        _scope(
            select(func.min(_c.c.lease_until)).where(
                _c.c.state == "pending", _c.c.lease_until >= now
            ),
            platforms,
            only_uid,
        )
    ).scalar()
    found = [_aware(t) for t in (free, held) if t is not None]
    return min(found) if found else None


def _aware(value: datetime) -> datetime:
    return value if value.tzinfo is not None else value.replace(tzinfo=UTC)


def checkin_owner(session: Session, checkin_id: int) -> tuple[str, str, str] | None:
    """(platform, tenant, user) of a check-in, or None when there is no such one."""
    row = session.execute(
        select(User.platform, User.tenant, User.platform_user_id)
        .join(CheckIn, CheckIn.user_id == User.id)
        .where(CheckIn.id == checkin_id)
    ).first()
    return (row[0], row[1], row[2]) if row is not None else None


def next_unanswered(session: Session, uid: int, after_id: int = 0) -> tuple[int, int] | None:
    """(id, occurrence) of the person's next delivered, unanswered check-in after ``after_id``.

    Typed replies answer delivered check-ins one at a time, in the order they were sent
    (sent_at, then id); after the last one the queue starts again from the first still
    unanswered, so one delivered out of id order (two workers, a retry) is never skipped.
    """
    answered = (
        select(_o.c.id)
        .where(_o.c.checkin_id == _c.c.id, _o.c.occurrence == _c.c.sent_occurrence)
        .exists()
    )
    rows = session.execute(
        select(_c.c.id, _c.c.sent_occurrence)
        .where(
            _c.c.user_id == uid,
            _c.c.kind != "catchup",
            _c.c.sent_occurrence.is_not(None),
            _c.c.state.in_(("sent", "pending")),
            ~answered,
        )
        .order_by(_c.c.sent_at, _c.c.id)
    ).all()
    queue = [(int(r[0]), int(r[1])) for r in rows]
    ids = [cid for cid, _ in queue]
    if after_id in ids:
        at = ids.index(after_id)
        queue = queue[at + 1 :] + queue[:at]  # after it, then from the start; not itself
    return queue[0] if queue else None
