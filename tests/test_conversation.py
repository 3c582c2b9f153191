"""Typed text, as from a console or a DM: one parser in the core, against stored state.

Each test types what a person would and checks what they are told and what is stored; the
state lives in the database, so a second engine (another process) reads it the same way.
"""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
from sqlalchemy import select

from bot import events as ev
from bot.core.actions import Click
from bot.core.reply import Outcome, Reply
from bot.engine import Engine
from bot.settings import Settings
from bot.store.models import AnswerRecord, CheckIn, CheckInOutcome, PlanItem, User
from bot.ui import intents as it
from tests.checkin_doubles import FakeClock, RecordingSender
from tests.conftest import FIXED_NOW, make_engine
from tests.test_checkins_engine import deliver

ANN = ev.UserRef("discord", "dm", "ann")


@pytest.fixture
async def eng(db_url: str, settings: Settings) -> AsyncIterator[Engine]:
    engine = await make_engine(db_url, settings.model_copy(update={"default_playbook": "tiny"}))
    engine.clock = FakeClock(FIXED_NOW)
    yield engine
    await engine.db.dispose()


async def say(engine: Engine, text: str, user: ev.UserRef = ANN) -> Reply:
    return await engine.handle(ev.Typed(user=user, text=text))


async def answers(engine: Engine) -> dict[str, object]:
    rows = await engine.db.run(
        lambda s: s.execute(
            select(AnswerRecord.question_id, AnswerRecord.value).where(
                AnswerRecord.superseded_at.is_(None)
            )
        ).all()
    )
    return dict(rows)


async def test_no_consultation_offers_to_start_one(eng: Engine) -> None:
    reply = await say(eng, "hello there")
    assert reply.outcome == Outcome.NOT_FOUND
    assert "Type start to begin one" in reply.text()
    reply = await say(eng, "start")
    assert reply.outcome == Outcome.APPLIED and "What are you?" in reply.text()
    assert reply.awaiting == "role"


async def test_typed_answers_commands_with_and_without_a_slash(eng: Engine) -> None:
    await say(eng, "start")
    assert (await say(eng, "student")).outcome == Outcome.APPLIED  # a choice by its name
    assert (await say(eng, "back")).awaiting == "role"  # a bare command word
    assert (await say(eng, "Student")).awaiting == "thesis"
    reply = await say(eng, "/status")
    assert reply.outcome == Outcome.SHOWN and "questions answered" in reply.text()
    reply = await say(eng, "/frobnicate")
    assert reply.outcome == Outcome.INVALID and "/frobnicate" in reply.text()
    reply = await say(eng, "edit 1")
    assert reply.outcome == Outcome.APPLIED and reply.awaiting == "role"
    assert (await say(eng, "2")).awaiting == "skills"  # Worker, by number
    assert (await answers(eng))["role"] == "worker"


async def test_a_free_text_question_takes_command_words_as_the_answer(eng: Engine) -> None:
    await say(eng, "start")
    for line in ("worker", "1", "3"):
        await say(eng, line)
    assert "questions answered" in (await say(eng, "/status")).text()  # a slash: a command
    assert (await answers(eng)).get("notes") is None
    reply = await say(eng, "back to school, maybe")  # free text waits: words are the answer
    assert reply.finished
    assert (await answers(eng))["notes"] == "back to school, maybe"


async def test_forget_is_confirmed_by_typing_yes_and_anything_else_keeps(eng: Engine) -> None:
    await say(eng, "start")
    await say(eng, "student")
    ask = await say(eng, "forget")
    assert ask.outcome == Outcome.CONFIRM and ask.awaiting == "confirm:forget"
    kept = await say(eng, "hmm, no")
    assert kept.outcome == Outcome.APPLIED and "Nothing was deleted" in kept.text()
    # The confirmation is spent: "yes" now is an answer, not a deletion.
    await say(eng, "yes")
    assert (await answers(eng)) == {"role": "student", "thesis": "yes"}
    await say(eng, "/forget")
    gone = await say(eng, "yes")
    assert "deleted" in gone.text()
    assert await eng.db.run(lambda s: s.scalar(select(User.id))) is None


async def test_details_by_number_after_a_recommendation(eng: Engine) -> None:
    await say(eng, "start")
    for line in ("worker", "1", "4", "skip"):
        reply = await say(eng, line)
    assert reply.finished
    reply = await say(eng, "details 2")
    assert reply.outcome == Outcome.SHOWN and "Keep studying" in reply.text()
    assert (await say(eng, "details 9")).outcome == Outcome.INVALID
    assert (await say(eng, "details ²")).outcome == Outcome.INVALID
    reply = await say(eng, "what now?")
    assert "complete" in reply.text()


async def test_delivered_check_ins_are_answered_by_typing_in_order(eng: Engine) -> None:
    await say(eng, "start")
    for line in ("worker", "1", "4", "skip"):
        await say(eng, line)
    await say(eng, "remind 1")  # every step, in a day
    eng.clock.advance(days=1)  # type: ignore[attr-defined]
    prompts = await deliver(eng, RecordingSender())
    assert len(prompts) >= 2
    # The first delivered waits for the typed reply; then the others in the order they
    # were sent (one clock here, so by id), none skipped whatever order the worker used.
    first = prompts[0]
    rest = sorted({p.checkin_id for p in prompts} - {first.checkin_id})
    reply = await say(eng, "done")
    assert reply.outcome == Outcome.APPLIED and "marked it done" in reply.text()
    assert f"check-in #{rest[0]}" in reply.text()  # the next one waits
    second = next(p for p in prompts if p.checkin_id == rest[0])
    reply = await say(eng, "snooze a week")
    assert "Snoozed" in reply.text()
    outcomes = await eng.db.run(
        lambda s: dict(s.execute(select(CheckInOutcome.checkin_id, CheckInOutcome.outcome)).all())
    )
    assert outcomes[first.checkin_id] == "done" and outcomes[second.checkin_id] == "snooze_week"
    status = await eng.db.run(
        lambda s: s.scalar(select(PlanItem.status).where(PlanItem.id == first.plan_item_id))
    )
    assert status == "done"


async def test_someone_elses_check_in_picked_from_a_list_is_refused(eng: Engine) -> None:
    await say(eng, "start")
    for line in ("worker", "1", "4", "skip"):
        await say(eng, line)
    await say(eng, "remind weekly")
    ids = await eng.db.run(lambda s: list(s.scalars(select(CheckIn.id).order_by(CheckIn.id))))
    mallory = ev.UserRef("discord", "dm", "mallory")
    click = Click(values=(str(ids[0]),))
    reply = await eng.act(mallory, it.ManageCheckIn(action="cancel"), click)
    assert reply.outcome == Outcome.REFUSED and "someone else" in reply.text()
    state = await eng.db.run(lambda s: s.scalar(select(CheckIn.state).where(CheckIn.id == ids[0])))
    assert state == "pending"
    # The owner's own pick goes through.
    assert (await eng.act(ANN, it.ManageCheckIn(action="cancel"), click)).outcome == (
        Outcome.APPLIED
    )


async def test_typed_replies_follow_the_send_order_and_skip_none(eng: Engine) -> None:
    """Delivered out of id order (two workers, a retry): the queue goes by when each was
    sent, and one sent earlier than the last answered is still asked for, not skipped."""
    from datetime import timedelta

    from sqlalchemy import update

    await say(eng, "start")
    for line in ("worker", "1", "4", "skip"):
        await say(eng, line)
    await say(eng, "remind 1")
    eng.clock.advance(days=1)  # type: ignore[attr-defined]
    prompts = await deliver(eng, RecordingSender())
    ids = sorted({p.checkin_id for p in prompts})
    assert len(ids) >= 3
    head = await eng.db.run(
        lambda s: s.scalar(select(User.awaiting).where(User.platform_user_id == ANN.user_id))
    )
    first = int(str(head).split(":")[1])
    later = [i for i in ids if i != first]
    # The highest id was sent before the others that remain: it comes next.
    order = [later[-1], *later[:-1]]
    base = FIXED_NOW + timedelta(days=1)

    def resend(s: object) -> None:
        for n, cid in enumerate(order):
            s.execute(  # type: ignore[attr-defined]
                update(CheckIn).where(CheckIn.id == cid).values(sent_at=base + timedelta(minutes=n))
            )

    await eng.db.run(resend)
    seen = []
    for _ in order:
        reply = await say(eng, "done")
        assert "marked it done" in reply.text()
        text = reply.text()
        if "Next: check-in #" in text:
            seen.append(int(text.split("Next: check-in #")[1].split()[0]))
    assert seen == order
