"""Every click that applies gives the clicked message its receipt, presented in the core.

Why: the message a person clicked must stop offering the same buttons (a second click would
answer twice) and should say what was chosen. The core says what it now reads
(``Reply.receipt``), so every adapter edits the message the same way; clicks that change
nothing (stale, refused, invalid) give none, and the message stays as it was.
"""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
from sqlalchemy import select

from bot import events as ev
from bot.core.actions import Click
from bot.core.reply import Outcome, Reply
from bot.engine import Engine
from bot.messages import CheckInPrompt
from bot.settings import Settings
from bot.store.models import Consultation
from bot.ui import intents as it
from bot.ui.cards import Card, Tone
from tests.checkin_doubles import FakeClock, RecordingSender
from tests.conftest import FIXED_NOW, make_engine
from tests.test_checkins_engine import deliver, finish

ANN = ev.UserRef("discord", "guild-1", "ann")


@pytest.fixture
async def eng(sqlite_url: str, settings: Settings) -> AsyncIterator[Engine]:
    engine = await make_engine(sqlite_url, settings.model_copy(update={"default_playbook": "tiny"}))
    engine.clock = FakeClock(FIXED_NOW)
    yield engine
    await engine.db.dispose()


def closed(reply: Reply) -> Card:
    """The receipt of an applied click: present, with nothing left to click."""
    assert reply.outcome == Outcome.APPLIED
    assert reply.receipt is not None
    assert reply.receipt.interactive() == [] and reply.receipt.tone == Tone.SUCCESS
    return reply.receipt


async def consultation(eng: Engine) -> int:
    """A finished consultation's id (what the offer's buttons carry)."""
    await finish(eng, ANN)
    return int(await eng.db.run(lambda s: s.scalar(select(Consultation.id))))


async def test_the_check_in_offer_becomes_what_was_chosen(eng: Engine) -> None:
    cid = await consultation(eng)
    weekly = await eng.act(ANN, it.ChooseCheckIns(consultation=cid, when="weekly"))
    receipt = closed(weekly)
    assert receipt.title == "Shall I check in with you on your plan?"
    assert "You chose: Every week" in receipt.plain()
    typed = await eng.act(
        ANN, it.ChooseCheckIns(consultation=cid, when="in_days"), Click(text="10")
    )
    assert "You chose: In 10 days" in closed(typed).plain()
    declined = await eng.act(ANN, it.ChooseCheckIns(consultation=cid, when="none"))
    assert "You chose: No check-ins" in closed(declined).plain()


async def test_a_bad_time_in_the_offer_gives_no_receipt(eng: Engine) -> None:
    cid = await consultation(eng)
    bad = await eng.act(ANN, it.ChooseCheckIns(consultation=cid, when="in_days"), Click(text="x"))
    assert bad.outcome == Outcome.INVALID and bad.receipt is None


async def test_an_answered_check_in_becomes_its_step_and_the_answer(eng: Engine) -> None:
    cid = await consultation(eng)
    await eng.act(ANN, it.ChooseCheckIns(consultation=cid, when="in_days"), Click(text="1"))
    assert isinstance(eng.clock, FakeClock)
    eng.clock.advance(days=1)
    prompt, *_ = await deliver(eng, RecordingSender())
    assert isinstance(prompt, CheckInPrompt)
    click = it.ReplyCheckIn(checkin=prompt.checkin_id, occurrence=prompt.occurrence)
    done = await eng.act(ANN, click.with_value("in_progress"))
    receipt = closed(done)
    assert receipt.title == "Check-in: how is it going?"
    assert prompt.action in receipt.plain() and "You answered: In progress" in receipt.plain()
    again = await eng.act(ANN, click.with_value("done"))  # the same message, clicked twice
    assert again.outcome == Outcome.STALE and again.receipt is None


async def test_the_forget_confirmation_becomes_what_was_chosen(eng: Engine) -> None:
    await eng.handle(ev.Start(user=ANN))
    asked = await eng.handle(ev.Forget(user=ANN))
    assert asked.outcome == Outcome.CONFIRM and asked.receipt is None
    kept = await eng.act(ANN, it.ConfirmAction(action="forget", yes=False))
    receipt = closed(kept)
    assert "It cannot be undone" in receipt.plain() and "You chose: Keep it" in receipt.plain()
    assert "Nothing was deleted." in kept.text()
    gone = await eng.act(ANN, it.ConfirmAction(action="forget", yes=True))
    assert "You chose: Delete my data" in closed(gone).plain()
    assert not await eng.has_open_consultation(ANN)
