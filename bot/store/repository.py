"""Queries the engine needs, in one place: the engine speaks in rows, never in SQL.

Every function takes a sync ``Session`` and runs inside a unit of work (Database.run).
The turn path (load, advance, record) uses Core statements: one read and two writes.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any, NamedTuple

from sqlalchemy import (
    Insert,
    and_,
    bindparam,
    column,
    delete,
    insert,
    literal_column,
    or_,
    select,
    table,
    update,
)
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.engine import Connection
from sqlalchemy.orm import Session

from bot.events import UserRef
from bot.store.checkins_repo import ACTIVE_STATES
from bot.store.models import (
    AnswerRecord,
    CheckIn,
    Consultation,
    PlanItem,
    PlaybookVersion,
    RecommendationSnapshot,
    TenantSettings,
    User,
)

OPEN_STATES = ("active", "completed")


class Conflict(Exception):
    """Another turn changed this consultation first; the caller re-reads and says so."""


class PlanRow(NamedTuple):
    id: int
    action: str
    due_date: date | None
    status: str


@dataclass(slots=True)
class ConsultationState:
    """A consultation as one turn sees it: everything needed, read in one query."""

    id: int
    user_id: int
    playbook_id: str
    playbook_version: int
    status: str
    current_step: str | None
    version: int
    answers: dict[str, Any] = field(default_factory=dict)
    origin_tenant: str | None = None


# Turn-path statements are built once: building and cache-keying a statement per call
# costs more CPU than SQLite spends executing it (bench/RESULTS.md has the profile).
_users = User.__table__
_consultations = Consultation.__table__
_answers = AnswerRecord.__table__
_STATE_COLUMNS = tuple(
    _consultations.c[name]
    for name in (
        "id",
        "user_id",
        "playbook_id",
        "playbook_version",
        "status",
        "current_step",
        "version",
        "answers",
        "origin_tenant",
    )
)
_USER_MATCH = (
    _users.c.platform == bindparam("platform"),
    _users.c.tenant == bindparam("tenant"),
    _users.c.platform_user_id == bindparam("user_ref"),
)
_USER_ID = select(_users.c.id).where(*_USER_MATCH)
_LATEST_OPEN = (
    select(*_STATE_COLUMNS)
    .join(_users, _users.c.id == _consultations.c.user_id)
    .where(*_USER_MATCH, _consultations.c.status.in_(OPEN_STATES))
    .order_by(_consultations.c.updated_at.desc(), _consultations.c.id.desc())
    .limit(1)
)
_GIVEN_OPEN = _LATEST_OPEN.where(_consultations.c.id == bindparam("cid"))
_ACTIVE = select(*_STATE_COLUMNS).where(
    _consultations.c.user_id == bindparam("uid"),
    _consultations.c.playbook_id == bindparam("pid"),
    _consultations.c.status == "active",
)
_INSERT_CONSULTATION = insert(_consultations).returning(_consultations.c.id)
# No .values(): the SET clause comes from the keys of each call's parameters.
_ADVANCE = update(_consultations).where(
    _consultations.c.id == bindparam("b_id"), _consultations.c.version == bindparam("b_version")
)
_SUPERSEDE = update(_answers).where(
    _answers.c.consultation_id == bindparam("b_cid"),
    _answers.c.question_id == bindparam("b_qid"),
    _answers.c.superseded_at.is_(None),
)
_INSERT_ANSWER = insert(_answers)
_plan = PlanItem.__table__
_PLAN = (
    select(_plan.c.id, _plan.c.action, _plan.c.due_date, _plan.c.status)
    .where(_plan.c.consultation_id == bindparam("cid"))
    .order_by(_plan.c.id)
)
_checkins = CheckIn.__table__
_INSERT_PLAN = insert(_plan)
_INSERT_PLAN_RETURNING = _INSERT_PLAN.returning(_plan.c.id, sort_by_parameter_order=True)
_settings = TenantSettings.__table__
_TENANT_PLAYBOOK = select(_settings.c.default_playbook).where(
    _settings.c.platform == bindparam("platform"), _settings.c.tenant == bindparam("tenant")
)


def _user_params(ref: UserRef) -> dict[str, str]:
    return {"platform": ref.platform, "tenant": ref.tenant, "user_ref": ref.user_id}


def _upsert(session: Session) -> Any:
    return pg_insert if session.get_bind().dialect.name == "postgresql" else sqlite_insert


def find_user(session: Session, ref: UserRef) -> User | None:
    return session.scalar(
        select(User).where(
            User.platform == ref.platform,
            User.tenant == ref.tenant,
            User.platform_user_id == ref.user_id,
        )
    )


def user_id(session: Session, ref: UserRef) -> int | None:
    return session.connection().execute(_USER_ID, _user_params(ref)).scalar()


def get_or_create_user_id(session: Session, ref: UserRef, now: datetime) -> int:
    """Safe against two first messages of the same person arriving at once."""
    found = user_id(session, ref)
    if found is not None:
        return found
    session.execute(
        _upsert(session)(User)
        .values(
            platform=ref.platform, tenant=ref.tenant, platform_user_id=ref.user_id, created_at=now
        )
        .on_conflict_do_nothing()
    )
    created = user_id(session, ref)
    assert created is not None
    return created


def connection_of(s: Session | Connection) -> Connection:
    """The Core connection of a unit of work (``Database.run`` or ``Database.run_core``)."""
    return s if isinstance(s, Connection) else s.connection()


def current_state(
    session: Session | Connection, ref: UserRef, consultation_id: int | None = None
) -> ConsultationState | None:
    """The consultation a command is about: the given one, else the latest open one."""
    params: dict[str, Any] = _user_params(ref)
    stmt = _LATEST_OPEN
    if consultation_id is not None:
        stmt, params["cid"] = _GIVEN_OPEN, consultation_id
    row = connection_of(session).execute(stmt, params).first()
    return ConsultationState(*row) if row is not None else None


def active_state(session: Session, uid: int, playbook_id: str) -> ConsultationState | None:
    row = session.connection().execute(_ACTIVE, {"uid": uid, "pid": playbook_id}).first()
    return ConsultationState(*row) if row is not None else None


def create_consultation(
    session: Session,
    uid: int,
    playbook_id: str,
    version: int,
    step: str,
    now: datetime,
    origin_tenant: str | None = None,
) -> ConsultationState:
    """Raises IntegrityError when the person already has an active one (a raced start)."""
    new_id = (
        session.connection()
        .execute(
            _INSERT_CONSULTATION,
            {
                "user_id": uid,
                "playbook_id": playbook_id,
                "playbook_version": version,
                "status": "active",
                "current_step": step,
                "version": 1,
                "answers": {},
                "origin_tenant": origin_tenant,
                "created_at": now,
                "updated_at": now,
            },
        )
        .scalar_one()
    )
    return ConsultationState(
        new_id, uid, playbook_id, version, "active", step, 1, {}, origin_tenant
    )


def advance(session: Session, state: ConsultationState, now: datetime, **values: Any) -> None:
    """Apply ``values`` if nobody changed the consultation since ``state`` was read."""
    params = {
        "b_id": state.id,
        "b_version": state.version,
        "version": state.version + 1,
        "updated_at": now,
        **values,
    }
    if session.connection().execute(_ADVANCE, params).rowcount != 1:
        raise Conflict(state.id)
    state.version += 1
    for key, value in values.items():
        if hasattr(state, key):
            setattr(state, key, value)


def advance_and_record_params(
    state: ConsultationState, now: datetime, question_id: str, value: Any, values: dict[str, Any]
) -> dict[str, Any]:
    """The bind parameters of PostgreSQL's one-statement advance and record (the ORM and
    the Core hot path both run it)."""
    return {
        "b_id": state.id,
        "b_version": state.version,
        "version": state.version + 1,
        "updated_at": now,
        "a_qid": question_id,
        "a_value": value,
        "a_source": "asked",
        "a_now": now,
        **values,
    }


def advance_and_record(
    session: Session,
    state: ConsultationState,
    now: datetime,
    question_id: str,
    value: Any,
    *,
    replaces: bool,
    **values: Any,
) -> None:
    """``advance`` then ``record_answer``, as one statement where the database allows it.

    PostgreSQL: one round trip instead of two or three; the version-checked UPDATE, the
    superseding of an earlier answer and the INSERT are one statement (data-modifying CTEs),
    so a lost race inserts nothing and raises Conflict as ``advance`` does. SQLite (no DML
    in a CTE; its statements cost no round trip): the two calls.
    """
    if session.get_bind().dialect.name != "postgresql":
        advance(session, state, now, **values)
        record_answer(session, state.id, question_id, value, now, replaces=replaces)
        return
    params = advance_and_record_params(state, now, question_id, value, values)
    stmt = _advance_and_record_stmt(tuple(sorted(values)), replaces)
    if session.connection().execute(stmt, params).rowcount != 1:
        raise Conflict(state.id)
    state.version += 1
    for key, val in values.items():
        if hasattr(state, key):
            setattr(state, key, val)


_ADVANCE_AND_RECORD: dict[tuple[tuple[str, ...], bool], Insert] = {}


def _advance_and_record_stmt(keys: tuple[str, ...], replaces: bool) -> Insert:
    """Built once per set of advanced columns (bind parameters only: a cached plan)."""
    cached = _ADVANCE_AND_RECORD.get((keys, replaces))
    if cached is not None:
        return cached
    c = _consultations.c
    moved = (
        update(_consultations)
        .where(c.id == bindparam("b_id"), c.version == bindparam("b_version"))
        .values(
            version=bindparam("version"),
            updated_at=bindparam("updated_at", type_=c.updated_at.type),
            **{key: bindparam(key, type_=c[key].type) for key in keys},
        )
        .returning(c.id)
        .cte("moved")
    )
    a = _answers.c
    stmt = insert(_answers).from_select(
        ["consultation_id", "question_id", "value", "source", "answered_at"],
        select(
            moved.c.id,
            bindparam("a_qid", type_=a.question_id.type),
            bindparam("a_value", type_=a.value.type),
            bindparam("a_source", type_=a.source.type),
            bindparam("a_now", type_=a.answered_at.type),
        ),
    )
    if replaces:
        superseded = (
            update(_answers)
            .where(
                a.consultation_id.in_(select(moved.c.id)),
                a.question_id == bindparam("a_qid"),
                a.superseded_at.is_(None),
            )
            .values(superseded_at=bindparam("a_now"))
            .returning(literal_column("1"))
            .cte("superseded")
        )
        stmt = stmt.add_cte(superseded)
    _ADVANCE_AND_RECORD[(keys, replaces)] = stmt
    return stmt


def close_open(session: Session, uid: int, playbook_id: str, now: datetime) -> None:
    session.execute(
        update(Consultation)
        .where(
            Consultation.user_id == uid,
            Consultation.playbook_id == playbook_id,
            Consultation.status.in_(OPEN_STATES),
        )
        .values(status="cancelled", updated_at=now, version=Consultation.version + 1)
    )


def record_answer(
    session: Session,
    consultation_id: int,
    question_id: str,
    value: Any,
    now: datetime,
    *,
    replaces: bool,
    source: str = "asked",
) -> None:
    """Append to the history; an earlier answer to the same question is marked superseded."""
    conn = session.connection()
    if replaces:
        conn.execute(
            _SUPERSEDE, {"b_cid": consultation_id, "b_qid": question_id, "superseded_at": now}
        )
    conn.execute(
        _INSERT_ANSWER,
        {
            "consultation_id": consultation_id,
            "question_id": question_id,
            "value": value,
            "source": source,
            "answered_at": now,
        },
    )


def supersede_answer(
    session: Session, consultation_id: int, question_id: str, now: datetime
) -> None:
    """The current answer to ``question_id`` no longer holds (a retold story dropped it)."""
    session.connection().execute(
        _SUPERSEDE, {"b_cid": consultation_id, "b_qid": question_id, "superseded_at": now}
    )


def current_sources(session: Session, consultation_id: int) -> dict[str, str]:
    """Where each current answer came from ("asked" or "story"), by question id."""
    rows = session.execute(
        select(_answers.c.question_id, _answers.c.source).where(
            _answers.c.consultation_id == consultation_id, _answers.c.superseded_at.is_(None)
        )
    )
    return {qid: source for qid, source in rows}


def answer_history(session: Session, consultation_id: int) -> list[AnswerRecord]:
    return list(
        session.scalars(
            select(AnswerRecord)
            .where(AnswerRecord.consultation_id == consultation_id)
            .order_by(AnswerRecord.id)
        )
    )


_INSERT_SNAPSHOT = insert(RecommendationSnapshot.__table__)


def add_snapshot(
    session: Session, consultation_id: int, version: int, payload: dict[str, Any], now: datetime
) -> None:
    session.connection().execute(
        _INSERT_SNAPSHOT,
        {
            "consultation_id": consultation_id,
            "playbook_version": version,
            "payload": payload,
            "created_at": now,
        },
    )


def latest_snapshot(session: Session, consultation_id: int) -> RecommendationSnapshot | None:
    return session.scalar(
        select(RecommendationSnapshot)
        .where(RecommendationSnapshot.consultation_id == consultation_id)
        .order_by(RecommendationSnapshot.id.desc())
        .limit(1)
    )


class PlanChange(NamedTuple):
    items: list[PlanRow]
    # Actions of dropped steps that had live check-ins (pending, sent, failed, missed):
    # those check-ins are gone with them, and the person is told which.
    cancelled: list[str]


def replace_open_plan(
    session: Session, consultation_id: int, steps: list[tuple[str, date | None]], now: datetime
) -> PlanChange:
    """New advice replaces plan items the person has not touched; touched ones stay.

    An open item the new advice repeats (same action) is kept, with its id and its
    check-ins; only its due date follows the advice. Open items the advice no longer
    contains are deleted, and their check-ins with them (the FK cascades).
    """
    conn = session.connection()
    rows = [PlanRow(*row) for row in conn.execute(_PLAN, {"cid": consultation_id})]
    touched = {row.action for row in rows if row.status != "open"}
    reusable: dict[str, list[PlanRow]] = {}
    for row in rows:
        if row.status == "open":
            reusable.setdefault(row.action, []).append(row)
    fresh: list[dict[str, Any]] = []
    moved: dict[int, date | None] = {}
    for action, due in steps:
        if action in touched:
            continue
        if reusable.get(action):
            row = reusable[action].pop(0)
            if row.due_date != due:
                conn.execute(
                    update(_plan).where(_plan.c.id == row.id).values(due_date=due, updated_at=now)
                )
                moved[row.id] = due
            continue
        fresh.append(
            {
                "consultation_id": consultation_id,
                "action": action,
                "due_date": due,
                "status": "open",
                "created_at": now,
                "updated_at": now,
            }
        )
    dropped = [row.id for left in reusable.values() for row in left]
    cancelled: list[str] = []
    if dropped:
        cancelled = list(
            conn.execute(
                select(_plan.c.action)
                .where(
                    _plan.c.id.in_(dropped),
                    _plan.c.id.in_(
                        select(_checkins.c.plan_item_id).where(_checkins.c.state.in_(ACTIVE_STATES))
                    ),
                )
                .order_by(_plan.c.id)
            ).scalars()
        )
        conn.execute(delete(_plan).where(_plan.c.id.in_(dropped)))
    # What the plan now is, without reading it back: the rows kept (with their new due
    # dates) and the new ones with the ids their INSERT returned, in id order.
    gone = set(dropped)
    items = [
        row._replace(due_date=moved[row.id]) if row.id in moved else row
        for row in rows
        if row.id not in gone
    ]
    if fresh:
        ids = conn.execute(_INSERT_PLAN_RETURNING, fresh).scalars().all()
        items += [
            PlanRow(new_id, f["action"], f["due_date"], f["status"])
            for new_id, f in zip(ids, fresh, strict=True)
        ]
    return PlanChange(sorted(items, key=lambda row: row.id), cancelled)


def plan_items(session: Session, consultation_id: int) -> list[PlanRow]:
    return [PlanRow(*row) for row in session.connection().execute(_PLAN, {"cid": consultation_id})]


def user_consultations(session: Session, uid: int) -> list[Consultation]:
    return list(
        session.scalars(
            select(Consultation).where(Consultation.user_id == uid).order_by(Consultation.id)
        )
    )


# slack_sdk's installation rows (migration 0002): the row of a person who installed the app
# holds their own user token and scopes. Those are theirs, so forgetting them deletes it; the
# workspace's bot token lives on in slack_bots, which the app uses (bot-only installs), so
# the workspace keeps working for everyone else.
_slack_installations = table(
    "slack_installations", column("enterprise_id"), column("team_id"), column("user_id")
)


def delete_user(session: Session, uid: int) -> None:
    """Every row that belongs to a person goes with them (FKs cascade on both databases),
    and on Slack the installation rows that carry their user token."""
    who = session.execute(
        select(User.platform, User.tenant, User.platform_user_id).where(User.id == uid)
    ).first()
    if who is not None and who.platform == "slack":
        inst = _slack_installations.c
        session.execute(
            delete(_slack_installations).where(
                inst.user_id == who.platform_user_id,
                or_(
                    inst.team_id == who.tenant,
                    and_(inst.team_id.is_(None), inst.enterprise_id == who.tenant),
                ),
            )
        )
    session.execute(delete(User).where(User.id == uid))


def playbook_version(session: Session, playbook_id: str, version: int) -> PlaybookVersion | None:
    return session.get(PlaybookVersion, (playbook_id, version))


def save_playbook_version(
    session: Session,
    playbook_id: str,
    version: int,
    digest: str,
    document: dict[str, Any],
    now: datetime,
) -> None:
    session.execute(
        _upsert(session)(PlaybookVersion)
        .values(
            playbook_id=playbook_id,
            version=version,
            digest=digest,
            document=document,
            created_at=now,
        )
        .on_conflict_do_nothing()
    )


def tenant_default_playbook(session: Session, platform: str, tenant: str) -> str | None:
    return (
        session.connection()
        .execute(_TENANT_PLAYBOOK, {"platform": platform, "tenant": tenant})
        .scalar()
    )


def tenant_settings(session: Session, platform: str, tenant: str) -> TenantSettings | None:
    return session.get(TenantSettings, (platform, tenant))


def set_tenant_settings(
    session: Session, platform: str, tenant: str, now: datetime, **values: Any
) -> None:
    row = tenant_settings(session, platform, tenant)
    if row is None:
        row = TenantSettings(platform=platform, tenant=tenant)
        session.add(row)
    for key, value in values.items():
        setattr(row, key, value)
    row.updated_at = now


def consultation_owner(session: Session, consultation_id: int) -> tuple[str, str, str] | None:
    """(platform, tenant, user) of a consultation, or None when there is no such one."""
    row = session.execute(
        select(User.platform, User.tenant, User.platform_user_id)
        .join(Consultation, Consultation.user_id == User.id)
        .where(Consultation.id == consultation_id)
    ).first()
    return (row[0], row[1], row[2]) if row is not None else None


def set_awaiting(session: Session, uid: int, awaiting: str | None) -> None:
    """What typed text answers next, besides the current question (users.awaiting)."""
    session.execute(update(User).where(User.id == uid).values(awaiting=awaiting))


def await_checkin(session: Session, uid: int, awaiting: str) -> None:
    """A delivered check-in waits for a typed reply, unless one already does (a queue)."""
    session.execute(
        update(User)
        .where(User.id == uid, or_(User.awaiting.is_(None), ~User.awaiting.like("checkin:%")))
        .values(awaiting=awaiting)
    )


def awaiting_of(session: Session, ref: UserRef) -> tuple[int, str | None] | None:
    """(user id, awaiting) of a person, or None when they are unknown."""
    row = session.execute(
        select(User.id, User.awaiting).where(
            User.platform == ref.platform,
            User.tenant == ref.tenant,
            User.platform_user_id == ref.user_id,
        )
    ).first()
    return (row[0], row[1]) if row is not None else None
