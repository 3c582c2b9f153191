"""Mentor hand-off queries: the board's settings, requests and their posts, and the job queue.

Every function takes a sync ``Session`` inside a unit of work (Database.run). Two rules
carry the design:

* a request changes state by one conditional UPDATE (``change``: the states it may move
  from, and for a claim nobody holding it), so two mentors claiming at once, or a claim
  racing a withdrawal, leave exactly one winner on SQLite and PostgreSQL alike;
* board work is a queue of jobs claimed with a lease, as check-ins are
  (``bot/store/checkins_repo.py``): ``FOR UPDATE SKIP LOCKED`` on PostgreSQL, the single
  writer on SQLite, and every mark after the platform call conditional on still holding
  the lease, so each job (a re-surfacing included) is done by one process.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Select, String, and_, bindparam, delete, func, insert, or_, select, update
from sqlalchemy.orm import Session

from bot.store.models import (
    MENTOR_OPEN,
    MentorChannel,
    MentorJob,
    MentorPost,
    MentorRequest,
    MentorTag,
    User,
)

CLAIMABLE = ("requested", "released")
_r = MentorRequest.__table__
_j = MentorJob.__table__
_p = MentorPost.__table__


# ------------------------------------------------------------------ board settings


def channel(s: Session, platform: str, tenant: str) -> str | None:
    row = s.get(MentorChannel, (platform, tenant))
    return row.channel_id if row is not None else None


def set_channel(s: Session, platform: str, tenant: str, channel_id: str, now: datetime) -> None:
    row = s.get(MentorChannel, (platform, tenant))
    if row is None:
        s.add(
            MentorChannel(platform=platform, tenant=tenant, channel_id=channel_id, updated_at=now)
        )
    else:
        row.channel_id, row.updated_at = channel_id, now


def mentors(s: Session, platform: str, tenant: str) -> list[tuple[str, list[str]]]:
    """(mentor id, tags) of a server / workspace, in the order they were tagged."""
    rows = s.scalars(
        select(MentorTag)
        .where(MentorTag.platform == platform, MentorTag.tenant == tenant)
        .order_by(MentorTag.updated_at, MentorTag.mentor_id)
    )
    return [(r.mentor_id, list(r.tags or [])) for r in rows]


def set_tags(
    s: Session, platform: str, tenant: str, mentor_id: str, tags: Sequence[str], now: datetime
) -> None:
    """Tag a mentor (replacing their tags); no tags removes them."""
    row = s.get(MentorTag, (platform, tenant, mentor_id))
    if not tags:
        if row is not None:
            s.delete(row)
        return
    if row is None:
        s.add(
            MentorTag(
                platform=platform,
                tenant=tenant,
                mentor_id=mentor_id,
                tags=list(tags),
                updated_at=now,
            )
        )
    else:
        row.tags, row.updated_at = list(tags), now


# ------------------------------------------------------------------ requests


def request(s: Session, request_id: int) -> MentorRequest | None:
    return s.get(MentorRequest, request_id)


def _may_offer_statement() -> Select[tuple[str]]:
    u, ch, r = User.__table__, MentorChannel.__table__, _r
    open_request = select(r.c.id).where(r.c.user_id == u.c.id, r.c.state.in_(MENTOR_OPEN))
    return (
        select(ch.c.channel_id)
        .select_from(u.join(ch, ch.c.platform == u.c.platform))
        .where(
            u.c.id == bindparam("uid"),
            ch.c.tenant == func.coalesce(bindparam("origin", type_=String), u.c.tenant),
            ~open_request.exists(),
        )
        .limit(1)
    )


# Built once: composing the statement cost more than running it, on every final turn.
_MAY_OFFER = _may_offer_statement()


def may_offer(s: Session, uid: int, origin_tenant: str | None) -> bool:
    """Whether a recommendation may carry the mentor offer: the person's server or workspace
    (the one the consultation started in, else their own) has a mentor channel and they have
    no open request. One statement: it runs on every final turn."""
    found = s.execute(_MAY_OFFER, {"uid": uid, "origin": origin_tenant}).first()
    return found is not None


def open_request(s: Session, uid: int) -> MentorRequest | None:
    return s.scalar(
        select(MentorRequest).where(
            MentorRequest.user_id == uid, MentorRequest.state.in_(MENTOR_OPEN)
        )
    )


def owner(s: Session, request_id: int) -> tuple[str, str, str] | None:
    """(platform, tenant, user) of the person a request is about."""
    row = s.execute(
        select(User.platform, User.tenant, User.platform_user_id)
        .join(MentorRequest, MentorRequest.user_id == User.id)
        .where(MentorRequest.id == request_id)
    ).first()
    return (row[0], row[1], row[2]) if row is not None else None


def insert_request(s: Session, **values: Any) -> int:
    """Raises IntegrityError when the person already has an open one (a double click)."""
    return int(s.execute(insert(_r).values(**values).returning(_r.c.id)).scalar_one())


def change(
    s: Session,
    request_id: int,
    from_states: Sequence[str],
    now: datetime,
    *,
    held_by: str | None = None,
    **values: Any,
) -> bool:
    """Move a request on if it is still in one of ``from_states`` (and, with ``held_by``,
    still claimed by that mentor): True for the one caller that did."""
    where = [_r.c.id == request_id, _r.c.state.in_(list(from_states))]
    if held_by is not None:
        where.append(_r.c.claimed_by == held_by)
    result = s.execute(
        update(_r).where(*where).values(version=_r.c.version + 1, updated_at=now, **values)
    )
    return bool(result.rowcount)


def user_requests(s: Session, uid: int) -> list[MentorRequest]:
    return list(
        s.scalars(
            select(MentorRequest).where(MentorRequest.user_id == uid).order_by(MentorRequest.id)
        )
    )


# ------------------------------------------------------------------ posts


def posts(s: Session, request_id: int, kinds: Sequence[str] | None = None) -> list[MentorPost]:
    stmt = select(MentorPost).where(MentorPost.request_id == request_id)
    if kinds is not None:
        stmt = stmt.where(MentorPost.kind.in_(list(kinds)))
    return list(s.scalars(stmt.order_by(MentorPost.id)))


def add_post(
    s: Session, request_id: int, kind: str, channel_id: str, ref: str, now: datetime
) -> None:
    s.execute(
        insert(_p).values(
            request_id=request_id, kind=kind, channel=channel_id, ref=ref, created_at=now
        )
    )


def drop_posts(s: Session, ids: Sequence[int]) -> None:
    if ids:
        s.execute(delete(_p).where(_p.c.id.in_(list(ids))))


# ------------------------------------------------------------------ jobs


def enqueue(
    s: Session,
    *,
    platform: str,
    tenant: str,
    kind: str,
    due_at: datetime,
    now: datetime,
    request_id: int | None = None,
    channel_id: str | None = None,
    ref: str | None = None,
    body: dict[str, Any] | None = None,
) -> None:
    s.execute(
        insert(_j).values(
            request_id=request_id,
            platform=platform,
            tenant=tenant,
            kind=kind,
            channel=channel_id,
            ref=ref,
            body=body,
            due_at=due_at,
            attempts=0,
            created_at=now,
        )
    )


def drop_jobs(s: Session, request_id: int, kinds: Sequence[str]) -> None:
    """Jobs of a request that no longer apply (a pending re-surfacing after a claim)."""
    s.execute(delete(_j).where(_j.c.request_id == request_id, _j.c.kind.in_(list(kinds))))


def forget_posts(s: Session, uid: int, now: datetime) -> int:
    """Before a person is deleted: a ``delete`` job for every message posted about their
    requests. The jobs hold only where a message is, so they outlive the person's rows
    (which cascade away with every other job of theirs). Returns how many."""
    rows = s.execute(
        select(_r.c.platform, _r.c.tenant, _p.c.channel, _p.c.ref)
        .join(_p, _p.c.request_id == _r.c.id)
        .where(_r.c.user_id == uid)
    ).all()
    for platform, tenant, channel_id, ref in rows:
        enqueue(
            s,
            platform=platform,
            tenant=tenant,
            kind="delete",
            due_at=now,
            now=now,
            channel_id=channel_id,
            ref=ref,
        )
    return len(rows)


@dataclass(slots=True)
class DueJob:
    id: int
    request_id: int | None
    platform: str
    tenant: str
    kind: str
    channel: str | None
    ref: str | None
    body: dict[str, Any] | None
    attempts: int
    lease_owner: str | None  # the earlier holder, when a lease ran out (a redelivery)


def _free(now: datetime) -> Any:
    return and_(_j.c.due_at <= now, or_(_j.c.lease_until.is_(None), _j.c.lease_until < now))


def lock_due(s: Session, now: datetime, limit: int, platforms: Sequence[str]) -> list[DueJob]:
    """Due jobs no live lease holds, oldest first, locked for this transaction."""
    ids = list(
        s.execute(
            select(_j.c.id)
            .where(_free(now), _j.c.platform.in_(list(platforms)))
            .order_by(_j.c.due_at, _j.c.id)
            .limit(limit)
            .with_for_update(skip_locked=True)
        ).scalars()
    )
    if not ids:
        return []
    rows = s.execute(
        select(
            _j.c.id,
            _j.c.request_id,
            _j.c.platform,
            _j.c.tenant,
            _j.c.kind,
            _j.c.channel,
            _j.c.ref,
            _j.c.body,
            _j.c.attempts,
            _j.c.lease_owner,
        ).where(_j.c.id.in_(ids))
    ).all()
    order = {jid: n for n, jid in enumerate(ids)}
    return sorted((DueJob(*r) for r in rows), key=lambda j: order[j.id])


def lease(s: Session, ids: Sequence[int], worker: str, until: datetime, now: datetime) -> list[int]:
    """Take the lease on ``ids``; the ids actually taken (the WHERE guards SQLite)."""
    if not ids:
        return []
    result = s.execute(
        update(_j)
        .where(_j.c.id.in_(list(ids)), _free(now))
        .values(lease_owner=worker, lease_until=until)
        .returning(_j.c.id)
    )
    return [r[0] for r in result]


def _held(job_id: int, worker: str) -> Any:
    return and_(_j.c.id == job_id, _j.c.lease_owner == worker)


def finish(s: Session, job_id: int, worker: str) -> bool:
    """The job is done: gone, if this worker still held it."""
    return bool(s.execute(delete(_j).where(_held(job_id, worker))).rowcount)


def retry(s: Session, job_id: int, worker: str, **values: Any) -> bool:
    """Hand a held job back with a new due time / attempt count (keeping its last holder,
    so the next attempt knows an earlier one may have gone out)."""
    values.setdefault("lease_until", None)
    return bool(s.execute(update(_j).where(_held(job_id, worker)).values(**values)).rowcount)


def drop(s: Session, job_id: int) -> None:
    """A job with nothing left to do (its request moved on), dropped while locked."""
    s.execute(delete(_j).where(_j.c.id == job_id))


def next_wake(s: Session, now: datetime, platforms: Sequence[str]) -> datetime | None:
    """The earliest due time of a free job, or the earliest foreign lease to run out."""
    if not platforms:
        return None
    scope = _j.c.platform.in_(list(platforms))
    free = s.execute(
        select(func.min(_j.c.due_at)).where(
            scope, or_(_j.c.lease_until.is_(None), _j.c.lease_until < now)
        )
    ).scalar()
    held = s.execute(
        select(func.min(_j.c.lease_until)).where(scope, _j.c.lease_until >= now)
    ).scalar()
    found = [_aware(t) for t in (free, held) if t is not None]
    return min(found) if found else None


def _aware(value: datetime) -> datetime:
    return value if value.tzinfo is not None else value.replace(tzinfo=UTC)
