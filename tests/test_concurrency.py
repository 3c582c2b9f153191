"""Two answers to the same step, arriving at once from two processes, apply once.

Each side has its own engine and connection pool (as two bot processes would). A barrier
holds both turns after they have read the consultation and before either writes, so the
race is forced every time instead of hoped for.
"""

from __future__ import annotations

import asyncio

import pytest
from sqlalchemy import func, select

from bot import events as ev
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
    one, two = await make_engine(db_url, cfg), await make_engine(db_url, cfg)
    user = ev.UserRef("slack", "T1", "U1")
    out = await one.handle(ev.Start(user))
    q = next(m for m in out if isinstance(m, Question))

    barrier = asyncio.Barrier(2)
    real = repository.current_answers

    calls = 0

    async def held(session, consultation_id):  # type: ignore[no-untyped-def]
        nonlocal calls
        answers = await real(session, consultation_id)
        calls += 1
        if calls <= 2:  # only the two racing reads wait for each other
            await asyncio.wait_for(barrier.wait(), 10)
        return answers

    monkeypatch.setattr(repository, "current_answers", held)
    values = ("student", "student") if same_value else ("student", "worker")
    results = await asyncio.gather(
        one.handle(ev.Answer(user, values[0], q.question_id, q.consultation_id, q.step)),
        two.handle(ev.Answer(user, values[1], q.question_id, q.consultation_id, q.step)),
    )
    monkeypatch.setattr(repository, "current_answers", real)

    stale = [r for r in results if isinstance(r[0], Notice)]
    applied = [r for r in results if isinstance(r[0], Question)]
    assert len(applied) == 1 and len(stale) == 1
    assert "already answered" in stale[0][0].text
    async with one.db.session() as s:
        rows = (await s.execute(select(AnswerRecord.question_id, AnswerRecord.value))).all()
        version = await s.scalar(select(Consultation.version))
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
    engines: list[Engine] = [await make_engine(db_url, cfg) for _ in range(10)]
    user = ev.UserRef("discord", "G", "42")
    q = next(m for m in await engines[0].handle(ev.Start(user)) if isinstance(m, Question))
    click = ev.Answer(user, "worker", q.question_id, q.consultation_id, q.step)
    results = await asyncio.gather(*(e.handle(click) for e in engines))
    assert sum(isinstance(r[0], Question) for r in results) == 1
    async with engines[0].db.session() as s:
        assert await s.scalar(select(func.count()).select_from(AnswerRecord)) == 1
    for e in engines:
        await e.db.dispose()
