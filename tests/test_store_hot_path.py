"""The answer write path: advance + record in one statement on PostgreSQL, same effect on both."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import replace

import pytest
from sqlalchemy import event, select, update

from bot import events as ev
from bot.core.reply import Outcome
from bot.core.result import Result
from bot.engine import Engine
from bot.events import UserRef
from bot.messages import Question
from bot.settings import Settings
from bot.store import repository as repo
from bot.store import turns
from bot.store.database import Database
from bot.store.migrate import upgrade
from bot.store.models import AnswerRecord, Consultation
from bot.ui import intents as it
from tests.conftest import FIXED_NOW, make_engine

ALICE = UserRef("console", "local", "alice")


@pytest.fixture(autouse=True)
def fresh_statements() -> None:
    """Each test builds the one-statement write itself rather than finding it cached by an
    earlier test in the process (a mutation run forks from a process that already has it)."""
    repo._ADVANCE_AND_RECORD.clear()


@pytest.fixture
async def db(db_url: str) -> AsyncIterator[Database]:
    database = Database(db_url)
    await upgrade(database)
    yield database
    await database.dispose()


async def started(db: Database) -> repo.ConsultationState:
    def unit(s):  # type: ignore[no-untyped-def]
        uid = repo.get_or_create_user_id(s, ALICE, FIXED_NOW)
        return repo.create_consultation(s, uid, "tiny", 1, "role", FIXED_NOW)

    return await db.run(unit)


async def history(db: Database) -> list[tuple[str, object, bool]]:
    rows = await db.run(lambda s: list(s.scalars(select(AnswerRecord).order_by(AnswerRecord.id))))
    return [(r.question_id, r.value, r.superseded_at is None) for r in rows]


async def stored(db: Database) -> tuple[str | None, int, dict]:
    row = await db.run(lambda s: s.scalars(select(Consultation)).one())
    return row.current_step, row.version, row.answers


async def test_answer_advances_and_is_recorded(db: Database) -> None:
    state = await started(db)

    def answer(s):  # type: ignore[no-untyped-def]
        repo.advance_and_record(
            s,
            state,
            FIXED_NOW,
            "role",
            "student",
            replaces=False,
            current_step="thesis",
            answers={"role": "student"},
        )

    await db.run(answer)
    assert state.version == 2 and state.current_step == "thesis"
    assert await stored(db) == ("thesis", 2, {"role": "student"})
    assert await history(db) == [("role", "student", True)]


async def test_a_changed_answer_supersedes_the_earlier_one(db: Database) -> None:
    state = await started(db)
    for value, replaces in (("student", False), ("worker", True)):
        await db.run(
            lambda s, v=value, r=replaces: repo.advance_and_record(
                s,
                state,
                FIXED_NOW,
                "role",
                v,
                replaces=r,
                current_step="skills",
                answers={"role": v},
            )
        )
    assert await history(db) == [("role", "student", False), ("role", "worker", True)]
    assert await stored(db) == ("skills", 3, {"role": "worker"})


async def test_a_lost_race_writes_nothing_and_raises_conflict(db: Database) -> None:
    state = await started(db)
    stale = replace(state)
    await db.run(
        lambda s: repo.advance_and_record(
            s,
            state,
            FIXED_NOW,
            "role",
            "student",
            replaces=False,
            current_step="thesis",
            answers={"role": "student"},
        )
    )
    with pytest.raises(repo.Conflict):
        await db.run(
            lambda s: repo.advance_and_record(
                s,
                stale,
                FIXED_NOW,
                "role",
                "worker",
                replaces=True,
                current_step="skills",
                answers={"role": "worker"},
            )
        )
    assert await history(db) == [("role", "student", True)]
    assert await stored(db) == ("thesis", 2, {"role": "student"})


# ---------------------------------------------------------------- statements per turn


class Counted:
    """Statements and transactions the engine's database runs, from SQLAlchemy's events."""

    def __init__(self, db: Database) -> None:
        self.statements: list[str] = []
        self.transactions = 0
        self.engines = [
            e.sync_engine if hasattr(e, "sync_engine") else e
            for e in (db.async_engine, db.sync_engine)
            if e is not None
        ]
        for e in self.engines:
            event.listen(e, "before_cursor_execute", self._statement)
            event.listen(e, "begin", self._begin)

    def _statement(self, _conn, _cursor, sql, *_: object) -> None:  # type: ignore[no-untyped-def]
        self.statements.append(sql)

    def _begin(self, _conn) -> None:  # type: ignore[no-untyped-def]
        self.transactions += 1

    def reset(self) -> None:
        self.statements.clear()
        self.transactions = 0

    def close(self) -> None:
        for e in self.engines:
            event.remove(e, "before_cursor_execute", self._statement)
            event.remove(e, "begin", self._begin)


@pytest.fixture
async def tiny(db_url: str, settings: Settings) -> AsyncIterator[Engine]:
    eng = await make_engine(db_url, settings.model_copy(update={"default_playbook": "tiny"}))
    yield eng
    await eng.db.dispose()


def question_of(res: Result) -> Question:
    return next(m for m in res.messages if isinstance(m, Question))


async def test_a_typed_answer_is_one_transaction_of_two_statements(tiny: Engine) -> None:
    await tiny.run(ev.Typed(user=ALICE, text="start"))
    counted = Counted(tiny.db)
    try:
        res = await tiny.run(ev.Typed(user=ALICE, text="Student"))
        assert res.outcome == Outcome.APPLIED
        assert question_of(res).question_id == "thesis"  # the person sees the next question
        assert counted.transactions == 1, counted.statements
        assert 1 <= len(counted.statements) <= 2, counted.statements
        # A changed answer (edit, then answer again) supersedes the old one: still two.
        await tiny.run(ev.Typed(user=ALICE, text="edit 1"))
        counted.reset()
        res = await tiny.run(ev.Typed(user=ALICE, text="Worker"))
        assert res.outcome == Outcome.APPLIED
        assert question_of(res).question_id == "skills"  # Worker skips the thesis question
        assert counted.transactions == 1, counted.statements
        assert 1 <= len(counted.statements) <= 2, counted.statements
    finally:
        counted.close()
    assert await history(tiny.db) == [("role", "student", False), ("role", "worker", True)]


async def test_a_click_answer_is_one_transaction_of_two_statements(tiny: Engine) -> None:
    q = question_of(await tiny.run(ev.Start(user=ALICE)))
    counted = Counted(tiny.db)
    try:
        intent = it.AnswerQuestion(consultation=q.consultation_id, step=q.step, value="student")
        reply = await tiny.act(ALICE, intent)
        assert reply.outcome == Outcome.APPLIED
        assert reply.awaiting == "thesis"
        assert counted.transactions == 1, counted.statements
        assert 1 <= len(counted.statements) <= 2, counted.statements
    finally:
        counted.close()
    assert await history(tiny.db) == [("role", "student", True)]


async def test_a_click_on_someone_elses_question_is_still_refused(tiny: Engine) -> None:
    q = question_of(await tiny.run(ev.Start(user=ALICE)))
    bob = UserRef("console", "local", "bob")
    intent = it.AnswerQuestion(consultation=q.consultation_id, step=q.step, value="student")
    reply = await tiny.act(bob, intent)
    assert reply.outcome == Outcome.REFUSED
    assert await history(tiny.db) == []


async def test_a_typed_answer_that_lost_the_race_is_stale(tiny: Engine) -> None:
    """Another turn moves the consultation between the line's read and its write: the
    version check refuses the write, nothing is stored, the person is told so."""
    await tiny.run(ev.Typed(user=ALICE, text="start"))
    real = turns.turn_state

    def read_then_lose(conn, ref):  # type: ignore[no-untyped-def]
        seen = real(conn, ref)
        conn.execute(
            update(Consultation).values(version=Consultation.version + 1)
        )  # what another process's click would have committed
        return seen

    turns.turn_state = read_then_lose  # type: ignore[assignment]
    try:
        res = await tiny.run(ev.Typed(user=ALICE, text="Student"))
    finally:
        turns.turn_state = real  # type: ignore[assignment]
    assert res.outcome == Outcome.STALE
    assert await history(tiny.db) == []
