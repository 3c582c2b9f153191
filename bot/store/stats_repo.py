"""Aggregate queries for the admin statistics: counts per group, never a person's row.

Every function takes a sync ``Session`` inside a unit of work (``Database.run``) and a
``Scope``: a Discord server, a Slack workspace, or the whole database (the console). A
consultation belongs to a server or workspace through ``coalesce(origin_tenant, tenant)``:
Discord keys people by user (tenant ``dm``) and records the server a consultation was
started from in ``origin_tenant``; a Slack person's tenant is their workspace. A Discord
consultation started in the bot's DMs belongs to no server, so only the console (the
whole database) counts it.

Nothing here hides small counts: ``bot/features/stats.py`` does that before anything is
shown or exported, so these raw numbers never leave the core.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import Select, String, case, column, func, inspect, select, table, union
from sqlalchemy.orm import Session

from bot.messages import CheckInChoice
from bot.store.models import (
    AnswerRecord,
    CheckIn,
    CheckInOutcome,
    Consultation,
    PlanItem,
    RecommendationSnapshot,
    User,
    UTCDateTime,
)

__all__ = [
    "ANSWERS",
    "CheckInCounts",
    "MentorCounts",
    "MentorQuery",
    "PlaybookCounts",
    "RawStats",
    "Scope",
    "gather",
    "mentor_counts",
]

_c = Consultation.__table__
_u = User.__table__
_a = AnswerRecord.__table__
_s = RecommendationSnapshot.__table__
_k = CheckIn.__table__
_p = PlanItem.__table__
_o = CheckInOutcome.__table__

# Outcomes that are a person's reply to a delivered check-in (the rest: missed, failed).
ANSWERS = tuple(str(c) for c in CheckInChoice)


@dataclass(frozen=True, slots=True)
class Scope:
    """Whose consultations: ``platform`` None means every platform (the whole database);
    ``tenant`` (a Discord server id, a Slack team id) is only meaningful with a platform."""

    platform: str | None = None
    tenant: str | None = None


@dataclass(slots=True)
class PlaybookCounts:
    """One playbook's consultations in a scope. ``started`` is split without overlap into
    finished + in_progress + abandoned + closed."""

    started: int = 0
    finished: int = 0  # reached a recommendation (completed_at set), even if edited since
    in_progress: int = 0  # active, a turn within the abandon window
    abandoned: int = 0  # active, no turn for the abandon window
    closed: int = 0  # cancelled or restarted before a recommendation
    reached: dict[str, int] = field(default_factory=dict)  # question id -> consultations
    stopped: dict[str, tuple[int, int]] = field(default_factory=dict)  # id -> (active, abandoned)
    first: dict[str, int] = field(default_factory=dict)  # path id -> finished, rank 1


@dataclass(slots=True)
class CheckInCounts:
    """Check-ins on plan steps (the catch-up note is not a question, so not counted)."""

    delivered: int = 0
    answers: dict[str, int] = field(default_factory=dict)  # CheckInChoice value -> replies
    missed: int = 0  # fell due while the bot was down (never sent; a catch-up note instead)
    failed: int = 0  # could not be delivered after every retry

    @property
    def answered(self) -> int:
        return sum(self.answers.values())


@dataclass(frozen=True, slots=True)
class MentorCounts:
    """Mentor hand-offs in a scope: requests, how many were claimed, and each claim's
    waiting time in seconds (request to claim)."""

    requests: int
    claimed: int
    claim_seconds: tuple[float, ...] = ()


# How the statistics read the mentor hand-off's figures: None means there are none to read
# (its tables do not exist), and the statistics say so instead of showing figures.
MentorQuery = Callable[[Session, Scope], MentorCounts | None]

# The mentor hand-off (bot/features/mentors.py, models.MentorRequest, migration 0008) owns
# the table ``mentor_requests``; only the columns counted are named here: the board's
# platform and tenant (the server or workspace whose mentors see the request), when it was
# made and when it was last claimed (a hand-back keeps that time; a new claim resets it).
_mentor_requests = table(
    "mentor_requests",
    column("platform", String()),
    column("tenant", String()),
    column("created_at", UTCDateTime()),
    column("claimed_at", UTCDateTime()),
)


def mentor_counts(s: Session, scope: Scope) -> MentorCounts | None:
    """Mentor requests of the scope's boards, how many were claimed and how long each
    claimed one waited; None while the mentor tables do not exist."""
    if not inspect(s.connection()).has_table("mentor_requests"):
        return None
    m = _mentor_requests
    stmt = select(m.c.created_at, m.c.claimed_at)
    if scope.platform is not None:
        stmt = stmt.where(m.c.platform == scope.platform)
        if scope.tenant is not None:
            stmt = stmt.where(m.c.tenant == scope.tenant)
    rows = s.execute(stmt).all()
    waits = tuple(
        max(0.0, (claimed - created).total_seconds())
        for created, claimed in rows
        if claimed is not None and created is not None
    )
    return MentorCounts(requests=len(rows), claimed=len(waits), claim_seconds=waits)


@dataclass(slots=True)
class RawStats:
    people: int = 0
    playbooks: dict[str, PlaybookCounts] = field(default_factory=dict)
    checkins: CheckInCounts = field(default_factory=CheckInCounts)
    mentors: MentorCounts | None = None

    @property
    def started(self) -> int:
        return sum(p.started for p in self.playbooks.values())


def _scoped(stmt: Select[Any], scope: Scope) -> Select[Any]:
    """``stmt`` (joining consultations to users) restricted to the scope."""
    if scope.platform is not None:
        stmt = stmt.where(_u.c.platform == scope.platform)
        if scope.tenant is not None:
            stmt = stmt.where(func.coalesce(_c.c.origin_tenant, _u.c.tenant) == scope.tenant)
    return stmt


_PEOPLE = _c.join(_u, _u.c.id == _c.c.user_id)


def _count_if(condition: Any) -> Any:
    return func.coalesce(func.sum(case((condition, 1), else_=0)), 0)


def _statuses(s: Session, scope: Scope, cutoff: datetime, out: RawStats) -> None:
    done = _c.c.completed_at.is_not(None)
    active = _c.c.completed_at.is_(None) & (_c.c.status == "active")
    stmt = (
        select(
            _c.c.playbook_id,
            func.count(),
            _count_if(done),
            _count_if(active & (_c.c.updated_at >= cutoff)),
            _count_if(active & (_c.c.updated_at < cutoff)),
            _count_if(_c.c.completed_at.is_(None) & (_c.c.status != "active")),
        )
        .select_from(_PEOPLE)
        .group_by(_c.c.playbook_id)
    )
    for pid, started, finished, live, idle, closed in s.execute(_scoped(stmt, scope)):
        out.playbooks[pid] = PlaybookCounts(
            started=int(started),
            finished=int(finished),
            in_progress=int(live),
            abandoned=int(idle),
            closed=int(closed),
        )
    people = select(func.count(func.distinct(_u.c.id))).select_from(_PEOPLE)
    out.people = int(s.scalar(_scoped(people, scope)) or 0)


def _stopped(s: Session, scope: Scope, cutoff: datetime, out: RawStats) -> None:
    """Where the consultations that have not finished stand: their current question."""
    stmt = (
        select(
            _c.c.playbook_id,
            _c.c.current_step,
            _count_if(_c.c.updated_at >= cutoff),
            _count_if(_c.c.updated_at < cutoff),
        )
        .select_from(_PEOPLE)
        .where(
            _c.c.status == "active",
            _c.c.completed_at.is_(None),
            _c.c.current_step.is_not(None),
        )
        .group_by(_c.c.playbook_id, _c.c.current_step)
    )
    for pid, step, live, idle in s.execute(_scoped(stmt, scope)):
        if pid in out.playbooks:
            out.playbooks[pid].stopped[step] = (int(live), int(idle))


def _reached(s: Session, scope: Scope, out: RawStats) -> None:
    """Consultations that reached each question: answered it (asked or from the story, any
    edit) or stand at it now."""
    pairs = union(
        select(_a.c.consultation_id.label("cid"), _a.c.question_id.label("qid")),
        select(_c.c.id.label("cid"), _c.c.current_step.label("qid")).where(
            _c.c.current_step.is_not(None)
        ),
    ).subquery()
    stmt = (
        select(_c.c.playbook_id, pairs.c.qid, func.count())
        .select_from(pairs.join(_c, _c.c.id == pairs.c.cid).join(_u, _u.c.id == _c.c.user_id))
        .group_by(_c.c.playbook_id, pairs.c.qid)
    )
    for pid, qid, n in s.execute(_scoped(stmt, scope)):
        if pid in out.playbooks:
            out.playbooks[pid].reached[qid] = int(n)


def _first_paths(s: Session, scope: Scope, out: RawStats) -> None:
    """The rank-1 path of each finished consultation's latest recommendation."""
    latest = (
        select(_s.c.consultation_id, func.max(_s.c.id).label("sid"))
        .group_by(_s.c.consultation_id)
        .subquery()
    )
    top = (
        select(
            _c.c.playbook_id.label("pid"),
            _s.c.payload[("paths", 0, "path_id")].as_string().label("path_id"),
        )
        .select_from(
            latest.join(_s, _s.c.id == latest.c.sid)
            .join(_c, _c.c.id == latest.c.consultation_id)
            .join(_u, _u.c.id == _c.c.user_id)
        )
        .where(_c.c.completed_at.is_not(None))
    )
    ranked = _scoped(top, scope).subquery()
    stmt = select(ranked.c.pid, ranked.c.path_id, func.count()).group_by(
        ranked.c.pid, ranked.c.path_id
    )
    for pid, path_id, n in s.execute(stmt):
        if pid in out.playbooks and path_id:
            out.playbooks[pid].first[str(path_id)] = int(n)


_CHECKINS = (
    _k.join(_p, _p.c.id == _k.c.plan_item_id)
    .join(_c, _c.c.id == _p.c.consultation_id)
    .join(_u, _u.c.id == _c.c.user_id)
)


def _checkins(s: Session, scope: Scope, out: RawStats) -> None:
    delivered = (
        select(func.coalesce(func.sum(_k.c.deliveries), 0))
        .select_from(_CHECKINS)
        .where(_k.c.kind != "catchup")
    )
    counts = CheckInCounts(delivered=int(s.scalar(_scoped(delivered, scope)) or 0))
    outcomes = (
        select(_o.c.outcome, func.count())
        .select_from(_CHECKINS.join(_o, _o.c.checkin_id == _k.c.id))
        .where(_k.c.kind != "catchup")
        .group_by(_o.c.outcome)
    )
    for outcome, n in s.execute(_scoped(outcomes, scope)):
        if outcome in ANSWERS:
            counts.answers[str(outcome)] = int(n)
        elif outcome == "missed":
            counts.missed = int(n)
        elif outcome == "failed":
            counts.failed = int(n)
    out.checkins = counts


def gather(
    s: Session, scope: Scope, cutoff: datetime, mentors: MentorQuery | None = None
) -> RawStats:
    """Every raw count of the statistics, in one unit of work. Each query sees the data as
    it is when it runs (PostgreSQL's default isolation), so a turn committed meanwhile may
    be in one table and not the next; rounding hides such a difference."""
    out = RawStats()
    _statuses(s, scope, cutoff, out)
    if out.playbooks:
        _stopped(s, scope, cutoff, out)
        _reached(s, scope, out)
        _first_paths(s, scope, out)
        _checkins(s, scope, out)
    if mentors is not None:
        out.mentors = mentors(s, scope)
    return out
