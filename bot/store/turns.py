"""The answer turn's hot path: one read and one version-checked write, on a plain Connection.

A typed answer or a click is the turn people make most. It runs on a SQLAlchemy Core
``Connection`` (``Database.run_core``: no ORM Session, whose bookkeeping cost more than the
statements) and issues two statements:

* one read: the person (id, ``awaiting``) and their latest open consultation with its
  answers (``turn_state``), or the consultation a click names (``repository.current_state``);
* one write (``write_answer``): the version-checked UPDATE of the consultation, the superseding
  of an earlier answer to the question and the INSERT of the new one. PostgreSQL: one
  statement of data-modifying CTEs (``repository._advance_and_record_stmt``). SQLite has no
  DML in a CTE, so the three statements run inside one ``INSERT`` into a TEMP view whose
  INSTEAD OF trigger holds them: one statement from Python. A TEMP view and trigger are not
  part of the schema (nothing to migrate); they live on each connection that served an
  answer, are created there on first use, and are dropped before a migration runs on that
  connection (``drop_turn_objects``: SQLite refuses to rename a table while a trigger names
  one that is missing, which is what a batch migration does half-way).

A lost race writes nothing and raises ``Conflict``, as ``repository.advance`` does.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import (
    JSON,
    Boolean,
    Column,
    Integer,
    MetaData,
    String,
    Table,
    exc,
    insert,
    select,
)
from sqlalchemy.engine import Connection

from bot.events import UserRef
from bot.store import repository as repo
from bot.store.models import UTCDateTime
from bot.store.repository import Conflict, ConsultationState

__all__ = ["Turn", "drop_turn_objects", "turn_state", "write_answer"]

_users = repo._users
_consultations = repo._consultations
_c = _consultations.c
_u = _users.c

# The latest open consultation of the person the outer query reads (correlated).
_LATEST_ID = (
    select(_c.id)
    .where(_c.user_id == _u.id, _c.status.in_(repo.OPEN_STATES))
    .order_by(_c.updated_at.desc(), _c.id.desc())
    .limit(1)
    .correlate(_users)
    .scalar_subquery()
)
_TURN = (
    select(_u.id, _u.awaiting, *repo._STATE_COLUMNS)
    .select_from(_users.outerjoin(_consultations, _c.id == _LATEST_ID))
    .where(*repo._USER_MATCH)
)


@dataclass(frozen=True, slots=True)
class Turn:
    """What one read gives a typed line: who, what they are asked besides, where they are."""

    uid: int | None
    awaiting: str | None
    state: ConsultationState | None


def turn_state(conn: Connection, ref: UserRef) -> Turn:
    """The person and their latest open consultation (with its answers), in one statement."""
    row = conn.execute(_TURN, repo._user_params(ref)).first()
    if row is None:
        return Turn(None, None, None)
    state = ConsultationState(*row[2:]) if row[2] is not None else None
    return Turn(row[0], row[1], state)


# SQLite: the write as one statement (see the module docstring). Its own MetaData: the view
# is not part of the schema that migrations create.
_VIEW = "crossroads_answer_turn"
_TRIGGER = "crossroads_answer_turn_write"
_CONFLICT = "crossroads: version conflict"
_answer_turn = Table(
    _VIEW,
    MetaData(),
    Column("cid", Integer),
    Column("expected", Integer),
    Column("version", Integer),
    Column("current_step", String),
    Column("answers", JSON),
    Column("updated_at", UTCDateTime()),
    Column("qid", String),
    Column("value", JSON),
    Column("source", String),
    Column("replaces", Boolean),
)
_SQLITE_WRITE = insert(_answer_turn)
_SQLITE_OBJECTS = (
    f"CREATE TEMP VIEW IF NOT EXISTS {_VIEW} (cid, expected, version, current_step, answers, "
    "updated_at, qid, value, source, replaces) AS "
    "SELECT NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL WHERE 0",
    f"CREATE TEMP TRIGGER IF NOT EXISTS {_TRIGGER} INSTEAD OF INSERT ON {_VIEW} BEGIN "
    "UPDATE consultations SET version = NEW.version, current_step = NEW.current_step, "
    "answers = NEW.answers, updated_at = NEW.updated_at "
    "WHERE id = NEW.cid AND version = NEW.expected; "
    f"SELECT RAISE(ABORT, '{_CONFLICT}') WHERE changes() = 0; "
    "UPDATE answers SET superseded_at = NEW.updated_at WHERE NEW.replaces "
    "AND consultation_id = NEW.cid AND question_id = NEW.qid AND superseded_at IS NULL; "
    "INSERT INTO answers (consultation_id, question_id, value, source, answered_at) "
    "VALUES (NEW.cid, NEW.qid, NEW.value, NEW.source, NEW.updated_at); "
    "END",
)
_READY = "crossroads_answer_turn"  # key in the pooled connection's info: objects created


def _ensure_sqlite_objects(conn: Connection) -> None:
    info = conn.connection.info
    if info.get(_READY):
        return
    # Set-up of the connection, like its PRAGMAs: on the driver's cursor, not a statement
    # of any turn (the statement counts in tests/test_store_hot_path.py see turns only).
    cursor = conn.connection.dbapi_connection.cursor()  # type: ignore[union-attr]
    try:
        for sql in _SQLITE_OBJECTS:
            cursor.execute(sql)
    finally:
        cursor.close()
    info[_READY] = True


def drop_turn_objects(dbapi_connection: Any, info: dict[Any, Any]) -> None:
    """Before a migration on this connection: no TEMP trigger may name its tables."""
    if not info.pop(_READY, False):
        return
    cursor = dbapi_connection.cursor()
    try:
        cursor.execute(f"DROP TRIGGER IF EXISTS temp.{_TRIGGER}")
        cursor.execute(f"DROP VIEW IF EXISTS temp.{_VIEW}")
    finally:
        cursor.close()


def write_answer(
    conn: Connection,
    state: ConsultationState,
    now: datetime,
    question_id: str,
    value: Any,
    *,
    replaces: bool,
    current_step: str | None,
    answers: dict[str, Any],
) -> None:
    """Advance ``state`` to ``current_step`` with ``answers`` and record the answer: one
    statement, version-checked (``Conflict`` when another turn moved it first)."""
    if conn.dialect.name == "postgresql":
        params = repo.advance_and_record_params(
            state, now, question_id, value, {"answers": answers, "current_step": current_step}
        )
        stmt = repo._advance_and_record_stmt(("answers", "current_step"), replaces)
        if conn.execute(stmt, params).rowcount != 1:
            raise Conflict(state.id)
    else:
        _ensure_sqlite_objects(conn)
        params = {
            "cid": state.id,
            "expected": state.version,
            "version": state.version + 1,
            "current_step": current_step,
            "answers": answers,
            "updated_at": now,
            "qid": question_id,
            "value": value,
            "source": "asked",
            "replaces": replaces,
        }
        try:
            conn.execute(_SQLITE_WRITE, params)
        except exc.IntegrityError as error:
            if _CONFLICT in str(error.orig):
                raise Conflict(state.id) from error
            raise
    state.version += 1
    state.current_step = current_step
    state.answers = answers
