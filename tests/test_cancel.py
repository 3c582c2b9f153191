"""Cancelling a consultation (ev.Cancel, "cancel" typed): it closes, its answers stay."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from bot import events as ev
from bot.core.reply import Outcome
from bot.engine import Engine
from bot.messages import ExportFile, Notice, Question
from bot.settings import Settings
from tests.conftest import make_engine

ANN = ev.UserRef("console", "local", "ann")
NOTHING = "You have no consultation in progress. Use /start to begin one."


@pytest.fixture
async def eng(sqlite_url: str, settings: Settings) -> AsyncIterator[Engine]:
    engine = await make_engine(sqlite_url, settings.model_copy(update={"default_playbook": "tiny"}))
    yield engine
    await engine.db.dispose()


async def test_cancel_closes_the_consultation_and_keeps_its_answers(eng: Engine) -> None:
    await eng.run(ev.Start(user=ANN))
    await eng.run(ev.Answer(user=ANN, value="worker"))

    closed = await eng.run(ev.Cancel(user=ANN))
    assert closed.outcome == Outcome.APPLIED
    assert closed.messages == [
        Notice(
            "Consultation closed. Your answers stay saved until you ask me to forget you; "
            "/start begins a new one."
        )
    ]
    # Closed: nothing is in progress, an answer goes nowhere, a second cancel changes nothing.
    for event in (ev.ShowStatus(user=ANN), ev.Answer(user=ANN, value="code"), ev.Cancel(user=ANN)):
        reply = await eng.run(event)
        assert (reply.outcome, reply.messages) == (Outcome.NOT_FOUND, [Notice(NOTHING)])

    # Start begins a new consultation from the first question ...
    again = await eng.run(ev.Start(user=ANN))
    first = next(m for m in again.messages if isinstance(m, Question))
    assert (first.question_id, first.step) == ("role", 1)
    # ... and the cancelled one's answer is still in the person's data, marked cancelled.
    export = next(m for m in (await eng.run(ev.Export(user=ANN))).messages)
    assert isinstance(export, ExportFile)
    assert "(consultation 1, cancelled)" in export.content
    assert "- your role: Worker" in export.content
    assert "(consultation 2, active)" in export.content


async def test_cancel_with_nothing_to_cancel_says_so(eng: Engine) -> None:
    reply = await eng.run(ev.Cancel(user=ANN))
    assert (reply.outcome, reply.messages) == (Outcome.NOT_FOUND, [Notice(NOTHING)])


async def test_typed_cancel_is_the_same_event(eng: Engine) -> None:
    await eng.run(ev.Start(user=ANN))
    # Without a slash "cancel" is an answer to the question (not a bare command word) ...
    bare = await eng.run(ev.Typed(user=ANN, text="cancel"))
    assert bare.outcome == Outcome.INVALID
    assert (await eng.run(ev.ShowStatus(user=ANN))).outcome == Outcome.SHOWN
    # ... with one it closes the consultation.
    reply = await eng.run(ev.Typed(user=ANN, text="/cancel"))
    assert reply.outcome == Outcome.APPLIED
    assert (await eng.run(ev.ShowStatus(user=ANN))).outcome == Outcome.NOT_FOUND
