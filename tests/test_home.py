"""Engine.home: the overview a front end shows outside the DM (Slack's App Home).

It reads and never writes: someone unknown stays unknown; where the consultation stands,
the top of its advice and plan and the check-ins come from the same stored state the
other commands read. On SQLite and PostgreSQL.
"""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
from sqlalchemy import func, select

from bot import events as ev
from bot.core.reply import Outcome
from bot.engine import Engine
from bot.settings import Settings
from bot.store.models import User
from bot.ui import intents as it
from bot.ui.cards import Actions
from tests.checkin_doubles import FakeClock
from tests.conftest import FIXED_NOW, make_engine

ANN = ev.UserRef("slack", "T1", "ann")


@pytest.fixture
async def eng(db_url: str, settings: Settings) -> AsyncIterator[Engine]:
    engine = await make_engine(db_url, settings.model_copy(update={"default_playbook": "tiny"}))
    engine.clock = FakeClock(FIXED_NOW)
    yield engine
    await engine.db.dispose()


def buttons(reply: object) -> list[it.Intent]:
    return [
        a.intent
        for c in reply.cards  # type: ignore[attr-defined]
        for s in c.sections
        if isinstance(s, Actions)
        for a in s.items
    ]


async def test_home_follows_the_consultation_and_writes_nothing(eng: Engine) -> None:
    nobody = await eng.home(ANN)
    assert nobody.outcome == Outcome.SHOWN and "no consultation yet" in nobody.text()
    assert buttons(nobody) == [it.Command(name="start")]
    count = await eng.db.run(lambda s: s.scalar(select(func.count()).select_from(User)))
    assert count == 0  # looking did not create anyone

    for line in ("start", "student", "yes"):
        await eng.handle(ev.Typed(user=ANN, text=line))
    active = await eng.home(ANN)
    assert "In progress: question 3 of 5." in active.text()
    assert it.Command(name="resume") in buttons(active)

    for line in ("code", "2", "skip", "remind weekly"):
        await eng.handle(ev.Typed(user=ANN, text=line))
    done = await eng.home(ANN)
    text = done.text()
    assert "Complete: 5 of 5 questions answered." in text and "In short" in text
    assert "Your plan" in text and "Your check-ins" in text and "every week" in text
    routes = [b for b in buttons(done) if isinstance(b, it.OpenPath)]
    assert [r.path for r in routes] == ["study", "job"]
    details = await eng.act(ANN, routes[1])  # a route's button opens its details
    assert details.outcome == Outcome.SHOWN and "Get a job" in details.text()
