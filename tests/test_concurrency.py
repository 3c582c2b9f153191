"""Two answers to the same step, arriving at once from two processes, apply once.

Each side has its own engine and connection pool (as two bot processes would). A barrier
holds both turns after they have read the consultation and before either writes, so the
race is forced every time instead of hoped for.
"""

from __future__ import annotations

import asyncio
import threading

import pytest
from sqlalchemy import func, select
from sqlalchemy.engine import Connection
from sqlalchemy.util import await_only

from bot import events as ev
from bot.core.reply import Outcome
from bot.engine import Engine
from bot.messages import Notice, Question
from bot.settings import Settings
from bot.store import repository
from bot.store.models import AnswerRecord, Consultation
from tests.conftest import make_engine


@pytest.mark.parametrize("same_value", [True, False])
async def test_concurrent_answers_to_one_step_apply_once(
    db_url: str, settings: Settings, monkeypatch: pytest.MonkeyPatch, same_value: bool
) -> None:
    cfg = settings.model_copy(update={"default_playbook": "tiny"})
    # SQLite units normally run inline on the loop; in threads the two turns can overlap.
    one = await make_engine(db_url, cfg, inline=False)
    two = await make_engine(db_url, cfg, inline=False)
    user = ev.UserRef("slack", "T1", "U1")
    out = (await one.run(ev.Start(user=user))).messages
    q = next(m for m in out if isinstance(m, Question))

    # Hold the two racing reads until both have happened. SQLite units run in each
    # Database's own thread (a thread barrier); PostgreSQL units run in SQLAlchemy's
    # greenlet on the event loop (an asyncio barrier, awaited from sync code).
    thread_barrier = threading.Barrier(2, timeout=10)
    loop_barrier = asyncio.Barrier(2)
    real = repository.current_state
    calls = 0

    def held(session, user, consultation_id=None):  # type: ignore[no-untyped-def]
        nonlocal calls
        state = real(session, user, consultation_id)
        calls += 1
        if calls <= 2:
            bind = session if isinstance(session, Connection) else session.get_bind()
            if bind.dialect.name == "sqlite":
                thread_barrier.wait()
            else:
                await_only(asyncio.wait_for(loop_barrier.wait(), 10))
        return state

    monkeypatch.setattr(repository, "current_state", held)
    values = ("student", "student") if same_value else ("student", "worker")
    results = await asyncio.gather(
        one.run(
            ev.Answer(
                user=user,
                value=values[0],
                question_id=q.question_id,
                consultation_id=q.consultation_id,
                step=q.step,
            )
        ),
        two.run(
            ev.Answer(
                user=user,
                value=values[1],
                question_id=q.question_id,
                consultation_id=q.consultation_id,
                step=q.step,
            )
        ),
    )
    monkeypatch.setattr(repository, "current_state", real)

    stale = [r.messages for r in results if r.outcome == Outcome.STALE]
    applied = [r.messages for r in results if r.outcome == Outcome.APPLIED]
    assert len(applied) == 1 and len(stale) == 1
    assert isinstance(stale[0][0], Notice) and "already answered" in stale[0][0].text
    rows = await one.db.run(
        lambda s: s.execute(select(AnswerRecord.question_id, AnswerRecord.value)).all()
    )
    version = await one.db.run(lambda s: s.scalar(select(Consultation.version)))
    assert len(rows) == 1 and rows[0][0] == "role"
    assert version == q.step + 1
    # The loser is shown where the consultation really is: the winner's next question.
    winner_next = applied[0][0].question_id
    assert next(m for m in stale[0] if isinstance(m, Question)).question_id == winner_next
    await one.db.dispose()
    await two.db.dispose()


async def test_many_duplicate_clicks_in_flight(db_url: str, settings: Settings) -> None:
    """Ten copies of one click from ten engines: one answer row, nine polite refusals."""
    cfg = settings.model_copy(update={"default_playbook": "tiny"})
    engines: list[Engine] = [await make_engine(db_url, cfg, inline=False) for _ in range(10)]
    user = ev.UserRef("discord", "G", "42")
    q = next(
        m for m in (await engines[0].run(ev.Start(user=user))).messages if isinstance(m, Question)
    )
    click = ev.Answer(
        user=user,
        value="worker",
        question_id=q.question_id,
        consultation_id=q.consultation_id,
        step=q.step,
    )
    results = await asyncio.gather(*(e.run(click) for e in engines))
    assert [r.outcome for r in results].count(Outcome.APPLIED) == 1
    losers = [r for r in results if r.outcome != Outcome.APPLIED]
    # Every other click is told, politely, that the question was already answered, and is
    # shown where the consultation now is.
    assert len(losers) == 9 and {r.outcome for r in losers} == {Outcome.STALE}
    winner = next(r for r in results if r.outcome == Outcome.APPLIED)
    winner_next = next(m for m in winner.messages if isinstance(m, Question))
    assert winner_next.question_id != q.question_id
    for r in losers:
        notice, *rest = r.messages
        assert isinstance(notice, Notice) and "already answered" in notice.text
        # ...and shown exactly the question the winner moved on to, at the same step.
        shown = [m for m in rest if isinstance(m, Question)]
        assert [(m.question_id, m.step) for m in shown] == [
            (winner_next.question_id, winner_next.step)
        ]
    total = await engines[0].db.run(
        lambda s: s.scalar(select(func.count()).select_from(AnswerRecord))
    )
    assert total == 1
    for e in engines:
        await e.db.dispose()
