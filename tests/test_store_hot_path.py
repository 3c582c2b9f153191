"""The answer write path: advance + record in one statement on PostgreSQL, same effect on both."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import replace

import pytest
from sqlalchemy import select

from bot.events import UserRef
from bot.store import repository as repo
from bot.store.database import Database
from bot.store.migrate import upgrade
from bot.store.models import AnswerRecord, Consultation
from tests.conftest import FIXED_NOW

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
