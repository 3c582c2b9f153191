"""Redoing the advice keeps the check-ins of the steps it repeats, and names the ones it drops."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from bot import events as ev
from bot.checkins.delivery import DeliveryConfig, DeliveryWorker
from bot.engine import Engine
from bot.messages import CheckInList, CheckInPrompt, Level, Notice, Plan
from bot.settings import Settings
from tests.checkin_doubles import FakeClock, RecordingSender
from tests.conftest import FIXED_NOW, make_engine

ANN = ev.UserRef("discord", "guild-1", "ann")
ANSWERS = ["student", "yes", ["code", "maths"], "5", "skip"]


@pytest.fixture
async def eng(db_url: str, settings: Settings) -> AsyncIterator[Engine]:
    engine = await make_engine(db_url, settings.model_copy(update={"default_playbook": "tiny"}))
    yield engine
    await engine.db.dispose()


def plan_of(out: list) -> Plan:
    return next(m for m in out if isinstance(m, Plan))


async def checkins(engine: Engine) -> dict[str, tuple[int, str]]:
    out = (await engine.run(ev.ListCheckIns(user=ANN))).messages
    lst = next(m for m in out if isinstance(m, CheckInList))
    return {c.action: (c.checkin_id, c.state) for c in lst.items}


async def test_back_then_the_same_answer_keeps_every_checkin(eng: Engine) -> None:
    await eng.run(ev.Start(user=ANN))
    for value in ANSWERS:
        out = (await eng.run(ev.Answer(user=ANN, value=value))).messages
    first_plan = plan_of(out)
    await eng.run(ev.ScheduleCheckIns(user=ANN, when=ev.When(kind="weekly")))
    before = await checkins(eng)
    assert len(before) == len(first_plan.items) >= 2
    await eng.run(ev.Back(user=ANN))
    out = (await eng.run(ev.Answer(user=ANN, value="skip"))).messages  # the same answer again
    assert [i.id for i in plan_of(out).items] == [i.id for i in first_plan.items]
    assert not [m for m in out if isinstance(m, Notice) and "cancelled" in m.text]
    assert await checkins(eng) == before


async def test_a_changed_plan_names_the_checkins_it_cancels(
    db_url: str, settings: Settings
) -> None:
    eng = await make_engine(
        db_url, settings.model_copy(update={"default_playbook": "steps"}), "steps"
    )
    try:
        await eng.run(ev.Start(user=ANN))
        out = (await eng.run(ev.Answer(user=ANN, value="student"))).messages
        assert {i.action for i in plan_of(out).items} >= {"Update your CV.", "Ask your supervisor."}
        await eng.run(ev.ScheduleCheckIns(user=ANN, when=ev.When(kind="weekly")))
        before = await checkins(eng)
        await eng.run(ev.Back(user=ANN))
        out = (await eng.run(ev.Answer(user=ANN, value="worker"))).messages
        assert {i.action for i in plan_of(out).items} >= {"Update your CV.", "Ask your manager."}
        warning = next(m for m in out if isinstance(m, Notice) and "cancelled" in m.text)
        assert warning.level == Level.WARNING
        assert "Ask your supervisor." in warning.text and "CV" not in warning.text
        after = await checkins(eng)
        assert "Ask your supervisor." in before and "Update your CV." in after
        assert after == {k: v for k, v in before.items() if k != "Ask your supervisor."}
    finally:
        await eng.db.dispose()


async def test_steps_the_person_has_answered_stay_once_when_the_advice_is_redone(
    eng: Engine,
) -> None:
    clock = FakeClock(FIXED_NOW)
    eng.clock = clock
    await eng.run(ev.Start(user=ANN))
    for value in ANSWERS:
        out = (await eng.run(ev.Answer(user=ANN, value=value))).messages
    first = plan_of(out)
    await eng.run(ev.ScheduleCheckIns(user=ANN, when=ev.When(kind="in_days", days=1)))
    clock.advance(days=1)
    sender = RecordingSender()
    worker = DeliveryWorker(
        eng.db,
        DeliveryConfig.from_settings(eng.settings),
        {"discord": sender},
        clock=clock,
        sleep=clock.sleep,
    )
    await worker.drain()
    prompts = {
        s.message.action: s.message for s in sender.sends if isinstance(s.message, CheckInPrompt)
    }
    for action, answer in (("Update your CV.", "done"), ("Apply to five roles.", "in_progress")):
        p = prompts[action]
        await eng.run(
            ev.AnswerCheckIn(
                user=ANN, checkin_id=p.checkin_id, occurrence=p.occurrence, answer=answer
            )
        )
    await eng.run(ev.Back(user=ANN))
    out = (await eng.run(ev.Answer(user=ANN, value="skip"))).messages  # the advice again
    again = plan_of(out)
    actions = [i.action for i in again.items]
    assert sorted(actions) == sorted(i.action for i in first.items)  # nothing twice
    by_action = {i.action: i for i in again.items}
    assert by_action["Update your CV."].status == "done"
    assert by_action["Apply to five roles."].status == "in_progress"
    ids = {i.action: i.id for i in first.items}
    assert {a: i.id for a, i in by_action.items()} == ids  # the same rows, not new ones


async def test_a_repeated_step_keeps_its_row_and_follows_the_new_due_date(eng: Engine) -> None:
    clock = FakeClock(FIXED_NOW)
    eng.clock = clock
    await eng.run(ev.Start(user=ANN))
    for value in ANSWERS:
        out = (await eng.run(ev.Answer(user=ANN, value=value))).messages
    first = {i.action: (i.id, i.due) for i in plan_of(out).items}
    clock.advance(days=2)  # the advice is redone two days later
    await eng.run(ev.Back(user=ANN))
    out = (await eng.run(ev.Answer(user=ANN, value="skip"))).messages
    again = {i.action: (i.id, i.due) for i in plan_of(out).items}
    assert set(again) == set(first)
    for action, (item_id, due) in first.items():
        assert again[action][0] == item_id
        if due is not None:
            assert (again[action][1] - due).days == 2, action
