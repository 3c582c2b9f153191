"""Behaviour the mutation run (scripts/mutation.sh) found untested: typed commands, check-in
replies and the store queries behind them, each checked as the person would see it."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import datetime, timedelta

import pytest
from sqlalchemy import select, update

from bot import events as ev
from bot.checkins.delivery import DeliveryConfig, DeliveryWorker
from bot.core.actions import Click
from bot.core.reply import Outcome, Reply
from bot.core.when import WHEN_USAGE
from bot.engine import Engine
from bot.features.conversation import HELP, HELP_TITLE
from bot.messages import CheckInCatchUp
from bot.settings import Settings
from bot.store.models import CheckIn, Consultation, User
from bot.ui import intents as it
from tests.checkin_doubles import FakeClock, RecordingSender
from tests.conftest import FIXED_NOW, make_engine
from tests.test_checkins_engine import deliver

ANN = ev.UserRef("discord", "dm", "ann")
CHECKIN_USAGE = "Use checkin N snooze [days], checkin N change WHEN or checkin N cancel."


@pytest.fixture
async def eng(sqlite_url: str, settings: Settings) -> AsyncIterator[Engine]:
    engine = await make_engine(sqlite_url, settings.model_copy(update={"default_playbook": "tiny"}))
    engine.clock = FakeClock(FIXED_NOW)
    yield engine
    await engine.db.dispose()


async def say(engine: Engine, text: str, user: ev.UserRef = ANN) -> Reply:
    return await engine.handle(ev.Typed(user=user, text=text))


async def refused(engine: Engine, text: str) -> str:
    reply = await say(engine, text)
    assert reply.outcome == Outcome.INVALID, (text, reply)
    return reply.text()


async def finished(engine: Engine) -> None:
    await say(engine, "start")
    for line in ("worker", "1", "4", "skip"):
        reply = await say(engine, line)
    assert reply.finished


async def checkins(engine: Engine) -> list[CheckIn]:
    return await engine.db.run(lambda s: list(s.scalars(select(CheckIn).order_by(CheckIn.id))))


# ------------------------------------------------------------------ typed commands


async def test_help_lists_what_can_be_typed(eng: Engine) -> None:
    for line in ("help", "/help", "HELP"):
        reply = await say(eng, line)
        assert reply.outcome == Outcome.SHOWN
        assert HELP in reply.text() and HELP_TITLE in reply.text()


async def test_an_unknown_slash_command_is_named_back_at_most_30_characters(eng: Engine) -> None:
    text = await refused(eng, "/frobnicate now")
    assert text == "I do not know the command /frobnicate. Type help for the list."
    long = "/" + "x" * 60
    text = await refused(eng, long)
    assert f"the command /{'x' * 29}. Type help" in text
    # An unknown word without a slash is not a command: with no consultation it is small talk.
    reply = await say(eng, "frobnicate")
    assert reply.outcome == Outcome.NOT_FOUND and "Type start to begin one" in reply.text()


async def test_commands_that_need_an_argument_say_which(eng: Engine) -> None:
    await say(eng, "start")
    assert await refused(eng, "edit") == "Which question? For example edit 2 (status lists them)."
    assert await refused(eng, "details 1") == (
        "There is no recommendation yet: finish the questions first."
    )
    assert await refused(eng, "remind whenever") == (
        f"I did not understand that. Use remind {WHEN_USAGE}."
    )
    assert await refused(eng, "timezone") == "Which time zone? For example timezone Europe/Berlin."
    assert await refused(eng, "timezone   ") == (
        "Which time zone? For example timezone Europe/Berlin."
    )
    assert await refused(eng, "quiet") == (
        "Quiet hours look like quiet 21:00-08:00 (or off, or default)."
    )
    # Still at the first question: none of these was taken as an answer.
    assert (await say(eng, "resume")).awaiting == "role"


async def test_timezone_and_quiet_hours_are_stored_as_typed(eng: Engine) -> None:
    await say(eng, "start")
    reply = await say(eng, "Timezone America/New_York")
    assert reply.outcome == Outcome.APPLIED, reply
    reply = await say(eng, "/quiet 22:30-07:00")
    assert reply.outcome == Outcome.APPLIED, reply
    row = await eng.db.run(lambda s: s.scalars(select(User)).one())
    assert (row.timezone, row.quiet_start, row.quiet_end) == ("America/New_York", "22:30", "07:00")


async def test_each_simple_command_word_does_its_own_thing(eng: Engine) -> None:
    assert (await say(eng, "status")).outcome == Outcome.NOT_FOUND
    assert (await say(eng, "resume")).outcome == Outcome.NOT_FOUND
    assert (await say(eng, "checkins")).outcome in (Outcome.SHOWN, Outcome.NOT_FOUND)
    start = await say(eng, "start")
    assert start.outcome == Outcome.APPLIED and start.awaiting == "role"
    await say(eng, "worker")
    assert (await say(eng, "resume")).awaiting == "skills"
    status = await say(eng, "status")
    assert status.outcome == Outcome.SHOWN and "1 of 4 questions answered" in status.text()
    assert (await say(eng, "back")).awaiting == "role"
    await say(eng, "worker")
    restarted = await say(eng, "restart")
    assert restarted.outcome == Outcome.APPLIED and restarted.awaiting == "role"
    export = await say(eng, "export")
    assert export.outcome == Outcome.SHOWN
    forget = await say(eng, "forget")
    assert forget.outcome == Outcome.CONFIRM
    await say(eng, "no")
    cancelled = await say(eng, "/cancel")
    assert cancelled.outcome == Outcome.APPLIED and "Consultation closed" in cancelled.text()
    assert (await say(eng, "status")).outcome == Outcome.NOT_FOUND


async def test_skip_leaves_out_an_optional_question_but_not_a_required_one(eng: Engine) -> None:
    await say(eng, "start")
    reply = await say(eng, "skip")
    assert reply.outcome == Outcome.INVALID and reply.awaiting == "role"
    for line in ("worker", "1", "4"):
        await say(eng, line)
    reply = await say(eng, "/skip")
    assert reply.finished


# ------------------------------------------------------------------ check-ins by number


async def test_checkin_commands_snooze_change_and_cancel_one_check_in(eng: Engine) -> None:
    await finished(eng)
    await say(eng, "remind weekly")
    first, second, *_ = await checkins(eng)
    assert first.due_at is not None

    assert await refused(eng, "checkin") == CHECKIN_USAGE
    assert await refused(eng, f"checkin {first.id}") == CHECKIN_USAGE
    assert await refused(eng, "checkin soon snooze") == CHECKIN_USAGE
    assert await refused(eng, f"checkin {first.id} frobnicate") == CHECKIN_USAGE
    assert await refused(eng, "checkin 99999999999999999999 snooze") == (
        "I have no check-in with that number; checkins lists yours."
    )
    assert await refused(eng, f"checkin {first.id} snooze soon") == (
        "Snooze takes a number of days, e.g. checkin 3 snooze 7."
    )
    assert await refused(eng, f"checkin {first.id} change whenever") == (
        f"I did not understand that time. Use {WHEN_USAGE}."
    )
    assert [c.due_at for c in await checkins(eng)][:2] == [first.due_at, second.due_at]

    due = first.due_at
    reply = await say(eng, f"checkin {first.id} snooze")  # a day, by default
    assert reply.outcome == Outcome.APPLIED, reply
    after = {c.id: c for c in await checkins(eng)}
    assert after[first.id].due_at is not None and after[first.id].due_at > due
    one_day = after[first.id].due_at
    reply = await say(eng, f"checkin #{first.id} snooze 7")
    assert reply.outcome == Outcome.APPLIED, reply
    after = {c.id: c for c in await checkins(eng)}
    assert after[first.id].due_at is not None
    assert after[first.id].due_at - one_day >= timedelta(days=6)

    reply = await say(eng, f"checkin {second.id} change 10")
    assert reply.outcome == Outcome.APPLIED, reply
    after = {c.id: c for c in await checkins(eng)}
    assert after[second.id].due_at is not None
    assert after[second.id].due_at.date() == (FIXED_NOW + timedelta(days=10)).date()

    reply = await say(eng, f"checkin {second.id} change none")  # "none": no more check-ins
    assert reply.outcome == Outcome.APPLIED, reply
    reply = await say(eng, f"checkin {first.id} cancel")
    assert reply.outcome == Outcome.APPLIED, reply
    states = {c.id: c.state for c in await checkins(eng)}
    assert states[first.id] != "pending" and states[second.id] != "pending"
    assert states[first.id] == states[second.id]  # both cancelled, the same way


async def test_skip_while_a_check_in_waits_leaves_it_for_later_and_shows_the_next(
    eng: Engine,
) -> None:
    await finished(eng)
    await say(eng, "remind 1")
    eng.clock.advance(days=1)  # type: ignore[attr-defined]
    prompts = await deliver(eng, RecordingSender())
    assert len(prompts) >= 2
    # "skip" is no bare command word: with the consultation complete it is not understood.
    assert "This consultation is complete" in await refused(eng, "skip")
    reply = await say(eng, "/skip")
    assert reply.outcome == Outcome.APPLIED
    assert "Fine: you can answer it later from your check-ins." in reply.text()
    assert f"Next: check-in #{prompts[1].checkin_id} above." in reply.text()
    # The skipped one is still open; the next one now takes the typed reply.
    reply = await say(eng, "done")
    assert "marked it done" in reply.text()
    states = {c.id: c.state for c in await checkins(eng)}
    assert states[prompts[1].checkin_id] == "done"
    assert states[prompts[0].checkin_id] != "done"


async def test_a_check_in_reply_by_number_or_word_with_punctuation(eng: Engine) -> None:
    await finished(eng)
    await say(eng, "remind 1")
    eng.clock.advance(days=1)  # type: ignore[attr-defined]
    prompts = await deliver(eng, RecordingSender())
    assert len(prompts) >= 3
    reply = await say(eng, "Done!")
    assert "marked it done" in reply.text()
    reply = await say(eng, "1")  # the first choice of the check-in prompt: done
    assert "marked it done" in reply.text()
    states = {c.id: c.state for c in await checkins(eng)}
    assert states[prompts[0].checkin_id] == states[prompts[1].checkin_id] == "done"


# ------------------------------------------------------------------ two people's check-ins

BOB = ev.UserRef("discord", "dm", "bob")
TINY_ANSWERS = ["student", "yes", ["code", "maths"], "5", "skip"]
ACTIONS = {
    "Write to two supervisors.",
    "Read three papers.",
    "Update your CV.",
    "Apply to five roles.",
}


async def scheduled(engine: Engine, user: ev.UserRef, when: ev.When) -> None:
    await engine.run(ev.Start(user=user))
    for value in TINY_ANSWERS:
        await engine.run(ev.Answer(user=user, value=value))
    await engine.run(ev.ScheduleCheckIns(user=user, when=when))


def worker(engine: Engine, sender: RecordingSender) -> DeliveryWorker:
    clock = engine.clock
    assert isinstance(clock, FakeClock)
    return DeliveryWorker(
        engine.db,
        DeliveryConfig.from_settings(engine.settings),
        {sender.platform: sender},
        clock=clock,
        sleep=clock.sleep,
    )


async def test_after_a_long_outage_each_person_gets_one_note_of_their_own_missed_steps(
    eng: Engine,
) -> None:
    await scheduled(eng, ANN, ev.When(kind="in_days", days=1))
    await scheduled(eng, BOB, ev.When(kind="weekly"))
    eng.clock.advance(days=9)  # type: ignore[attr-defined]
    sender = RecordingSender()
    await worker(eng, sender).drain()
    notes = {s.user: s.message for s in sender.sends if isinstance(s.message, CheckInCatchUp)}
    assert set(notes) == {ANN, BOB}
    assert len([s for s in sender.sends if s.user == ANN]) == 1  # one note, no flood
    mine = {c.id: c for c in await checkins(eng)}
    for user, note in notes.items():
        owner = await eng.db.run(
            lambda s, u=user: s.scalar(select(User.id).where(User.platform_user_id == u.user_id))
        )
        # Each note lists that person's own check-ins, by their step's words, in id order.
        assert [i.checkin_id for i in note.items] == sorted(i.checkin_id for i in note.items)
        assert {mine[i.checkin_id].user_id for i in note.items} == {owner}
        assert {i.action for i in note.items} == ACTIONS
    assert {i.repeat_days for i in notes[ANN].items} == {None}
    assert {i.repeat_days for i in notes[BOB].items} == {7}
    # Told once: a second round sends nothing more.
    again = RecordingSender()
    await worker(eng, again).drain()
    assert again.sends == []


async def test_typed_check_in_replies_follow_the_persons_own_check_ins_in_order(
    eng: Engine,
) -> None:
    await scheduled(eng, ANN, ev.When(kind="in_days", days=1))
    await scheduled(eng, BOB, ev.When(kind="in_days", days=1))
    eng.clock.advance(days=1)  # type: ignore[attr-defined]
    prompts = await deliver(eng, RecordingSender())
    own = {c.id: c.user_id for c in await checkins(eng)}
    ann_id = await eng.db.run(
        lambda s: s.scalar(select(User.id).where(User.platform_user_id == "ann"))
    )
    ann_prompts = sorted(p.checkin_id for p in prompts if own[p.checkin_id] == ann_id)
    assert len(ann_prompts) == 4
    seen = []
    for _ in ann_prompts:
        reply = await say(eng, "done")
        assert "marked it done" in reply.text(), reply
        states = {c.id: c.state for c in await checkins(eng)}
        seen.append(next(i for i in ann_prompts if states[i] == "done" and i not in seen))
    assert seen == ann_prompts  # oldest first, one after the other
    # All answered: the next "done" is no check-in reply, and Bob's are untouched.
    assert "This consultation is complete" in await refused(eng, "done")
    states = {c.id: c.state for c in await checkins(eng)}
    assert {states[i] for i in own if own[i] != ann_id} == {"sent"}


async def test_a_click_on_someone_elses_consultation_is_refused(eng: Engine) -> None:
    await finished(eng)
    await eng.run(ev.Start(user=BOB))
    ids = await eng.db.run(
        lambda s: dict(
            s.execute(
                select(User.platform_user_id, Consultation.id).join(
                    Consultation, Consultation.user_id == User.id
                )
            ).all()
        )
    )
    reply = await eng.act(BOB, it.OpenPath(consultation=ids["ann"], path="job"), Click())
    assert reply.outcome == Outcome.REFUSED, reply
    theirs = await eng.act(ANN, it.OpenPath(consultation=ids["bob"], path="job"), Click())
    assert theirs.outcome == Outcome.REFUSED, theirs
    mine = await eng.act(ANN, it.OpenPath(consultation=ids["ann"], path="job"), Click())
    assert mine.outcome == Outcome.SHOWN, mine
    assert "Get a job" in mine.text()


# ------------------------------------------------------------------ numbers at their edges


async def test_details_takes_every_route_number_from_1_to_the_last(eng: Engine) -> None:
    await finished(eng)
    first = await say(eng, "details 1")
    assert first.outcome == Outcome.SHOWN and "Get a job" in first.text()
    last = await say(eng, "details 2")
    assert last.outcome == Outcome.SHOWN and "Keep studying" in last.text()
    for line in ("details 0", "details 3", "details -1", "details"):
        assert await refused(eng, line) == (
            "Give a route number from the recommendation, from 1 to 2."
        ), line


async def test_the_last_check_in_choice_can_be_typed_by_its_number(eng: Engine) -> None:
    await scheduled(eng, ANN, ev.When(kind="in_days", days=1))
    eng.clock.advance(days=1)  # type: ignore[attr-defined]
    prompts = await deliver(eng, RecordingSender())
    assert len(prompts) == 4
    reply = await say(eng, "7")  # "Stop these", the 7th and last choice
    assert reply.outcome == Outcome.APPLIED, reply
    states = {c.id: c.state for c in await checkins(eng)}
    assert states[prompts[0].checkin_id] not in ("sent", "pending")
    reply = await say(eng, "8")  # no such choice: an answer to nothing
    assert reply.outcome == Outcome.INVALID


async def test_a_checkin_number_too_big_to_be_an_id_is_named_as_such(eng: Engine) -> None:
    await finished(eng)
    await say(eng, "remind weekly")
    big = "99999999999999999999"
    for line in (f"checkin {big}", f"checkin {big} snooze", f"checkin #{big} cancel"):
        assert await refused(eng, line) == (
            "I have no check-in with that number; checkins lists yours."
        ), line


async def test_checkin_change_to_a_date_and_time(eng: Engine) -> None:
    await finished(eng)
    await say(eng, "remind weekly")
    first, *_ = await checkins(eng)
    reply = await say(eng, f"checkin {first.id} change 2026-04-01 09:30")
    assert reply.outcome == Outcome.APPLIED, reply
    row = next(c for c in await checkins(eng) if c.id == first.id)
    assert row.due_at is not None
    assert row.due_at.replace(tzinfo=None) == datetime(2026, 4, 1, 9, 30)  # UTC person


async def test_a_weekly_check_in_waits_for_its_reply_after_the_next_cycle_is_set(
    eng: Engine,
) -> None:
    await scheduled(eng, ANN, ev.When(kind="weekly"))
    eng.clock.advance(days=7)  # type: ignore[attr-defined]
    prompts = await deliver(eng, RecordingSender())
    assert prompts
    rows = {c.id: c for c in await checkins(eng)}
    assert rows[prompts[0].checkin_id].state == "pending"  # its next cycle is scheduled
    reply = await say(eng, "done")  # ... and the one that was sent still takes the reply
    assert "marked it done" in reply.text(), reply


async def test_a_check_in_of_someone_else_or_of_nobody_by_its_number(eng: Engine) -> None:
    await scheduled(eng, ANN, ev.When(kind="in_days", days=3))
    await scheduled(eng, BOB, ev.When(kind="in_days", days=3))
    ann_id = await eng.db.run(
        lambda s: s.scalar(select(User.id).where(User.platform_user_id == "ann"))
    )
    rows = await checkins(eng)
    mine = next(c for c in rows if c.user_id == ann_id)
    theirs = next(c for c in rows if c.user_id != ann_id)
    other = await say(eng, f"checkin {theirs.id} snooze")
    assert other.outcome in (Outcome.REFUSED, Outcome.NOT_FOUND), other
    nobody = await say(eng, f"checkin {max(c.id for c in rows) + 1} snooze")
    assert nobody.outcome == Outcome.NOT_FOUND, nobody
    own = await say(eng, f"checkin {mine.id} snooze")
    assert own.outcome == Outcome.APPLIED, own
    after = {c.id: c for c in await checkins(eng)}
    assert after[theirs.id].due_at == theirs.due_at  # untouched


async def test_the_same_user_id_on_another_platform_or_tenant_is_another_person(
    eng: Engine,
) -> None:
    await finished(eng)
    for other in (
        ev.UserRef("slack", "dm", "ann"),
        ev.UserRef("discord", "guild-2", "ann"),
    ):
        assert (await eng.run(ev.Export(user=other))).outcome == Outcome.NOT_FOUND
        assert (await say(eng, "status", user=other)).outcome == Outcome.NOT_FOUND
    assert (await eng.run(ev.Export(user=ANN))).outcome == Outcome.SHOWN


def test_advice_path_of_an_unknown_route_is_none() -> None:
    from datetime import date
    from pathlib import Path

    from bot.advice.compose import compose
    from bot.playbook.loader import load_playbook

    pb = load_playbook(Path(__file__).parent / "playbooks" / "tiny.yaml")
    advice = compose(pb, {"role": "worker", "skills": ["code"], "money": 4}, date(2026, 3, 2))
    assert advice is not None
    assert advice.path("job") is not None and advice.path("job").title == "Get a job"
    assert advice.path("nope") is None


# ------------------------------------------------------------------ more of what typing does


@pytest.fixture
async def two(sqlite_url: str, settings: Settings) -> AsyncIterator[Engine]:
    """An engine with two playbooks: tiny (the default) and tiny2."""
    cfg = settings.model_copy(update={"default_playbook": "tiny"})
    engine = await make_engine(sqlite_url, cfg, "tiny", "tiny2")
    engine.clock = FakeClock(FIXED_NOW)
    yield engine
    await engine.db.dispose()


async def test_start_and_restart_take_a_playbook_by_name(two: Engine) -> None:
    reply = await say(two, "start tiny2")
    assert "Second tiny playbook" in reply.text()
    await say(two, "worker")
    reply = await say(two, "restart tiny")
    assert "Tiny test playbook" in reply.text() and reply.awaiting == "role"
    # The event's own playbook is used when none is typed.
    other = ev.UserRef("discord", "dm", "cleo")
    reply = await two.handle(ev.Typed(user=other, text="start", playbook_id="tiny2"))
    assert "Second tiny playbook" in reply.text()


async def test_restart_closes_only_this_persons_consultation_of_that_playbook(
    two: Engine,
) -> None:
    await two.run(ev.Start(user=ANN))
    await two.run(ev.Answer(user=ANN, value="worker"))
    await two.run(ev.Start(user=ANN, playbook_id="tiny2"))
    await two.run(ev.Start(user=BOB, playbook_id="tiny2"))
    await two.run(ev.Answer(user=BOB, value="student"))
    await two.run(ev.Restart(user=ANN, playbook_id="tiny2"))
    rows = await two.db.run(
        lambda s: s.execute(
            select(User.platform_user_id, Consultation.playbook_id, Consultation.status)
            .join(Consultation, Consultation.user_id == User.id)
            .order_by(Consultation.id)
        ).all()
    )
    assert [tuple(r) for r in rows] == [
        ("ann", "tiny", "active"),  # another playbook: left alone
        ("ann", "tiny2", "cancelled"),  # the one restarted
        ("bob", "tiny2", "active"),  # another person, the same playbook: left alone
        ("ann", "tiny2", "active"),  # the new one
    ]
    bob = await say(two, "resume", user=BOB)
    assert bob.outcome == Outcome.SHOWN and bob.awaiting == "thesis"


async def test_refusals_are_warnings_and_resume_and_checkins_are_their_own_commands(
    eng: Engine,
) -> None:
    from bot.messages import CheckInList, Level, Notice

    out = (await eng.run(ev.Typed(user=ANN, text="/frobnicate"))).messages
    assert [(type(m), m.level) for m in out] == [(Notice, Level.WARNING)]
    await say(eng, "start")
    resumed = await say(eng, "resume")
    assert resumed.outcome == Outcome.SHOWN and resumed.awaiting == "role"
    listed = (await eng.run(ev.Typed(user=ANN, text="checkins"))).messages
    assert any(isinstance(m, CheckInList) for m in listed) or any(
        isinstance(m, Notice) and "check-in" in m.text for m in listed
    ), listed
    # Neither word was taken as an answer to the question.
    assert (await say(eng, "status")).text().count("0 of 4 questions answered") == 1


async def test_skip_of_a_check_in_moves_to_the_next_one_not_back_to_it(eng: Engine) -> None:
    await scheduled(eng, BOB, ev.When(kind="in_days", days=1))  # Bob's ids come first
    await scheduled(eng, ANN, ev.When(kind="in_days", days=1))
    eng.clock.advance(days=1)  # type: ignore[attr-defined]
    prompts = await deliver(eng, RecordingSender())
    ann_id = await eng.db.run(
        lambda s: s.scalar(select(User.id).where(User.platform_user_id == "ann"))
    )
    owner = {c.id: c.user_id for c in await checkins(eng)}
    mine = sorted(p.checkin_id for p in prompts if owner[p.checkin_id] == ann_id)
    assert mine[0] > 4
    for next_one in (mine[1], mine[2]):
        out = (await eng.run(ev.Typed(user=ANN, text="/skip"))).messages
        assert [m.text for m in out] == [
            "Fine: you can answer it later from your check-ins.",
            f"Next: check-in #{next_one} above.",
        ]


async def test_skip_of_an_optional_free_text_stores_nothing(eng: Engine) -> None:
    from bot.store.models import AnswerRecord

    await say(eng, "start")
    for line in ("worker", "1", "4"):
        await say(eng, line)
    assert (await say(eng, "/skip")).finished
    stored = await eng.db.run(
        lambda s: dict(s.execute(select(AnswerRecord.question_id, AnswerRecord.value)).all())
    )
    assert stored.get("notes") is None


def test_multi_word_labels_separated_by_commas_or_semicolons() -> None:
    from bot.playbook.schema import PlaybookQuestion, Wording
    from bot.validation import parse_answer

    q = PlaybookQuestion.model_validate(
        {
            "id": "q",
            "kind": "multi_choice",
            "prompt": "Which?",
            "choices": [
                {"id": "ml", "label": "Machine learning"},
                {"id": "stats", "label": "Applied statistics"},
                {"id": "hpc", "label": "Big computers"},
            ],
        }
    )
    w = Wording()
    assert parse_answer(q, "Machine learning; Big computers", w, 2000) == ["ml", "hpc"]
    assert parse_answer(q, "Machine learning, Applied statistics", w, 2000) == ["ml", "stats"]
    assert parse_answer(q, "machine learning", w, 2000) == ["ml"]


async def test_the_next_wake_is_the_due_time_with_its_zone(eng: Engine) -> None:
    from datetime import UTC

    await scheduled(eng, ANN, ev.When(kind="in_days", days=3))
    wake = await worker(eng, RecordingSender()).next_wake()
    rows = await checkins(eng)
    assert wake is not None and wake.tzinfo is not None
    earliest = min(c.due_at for c in rows if c.due_at is not None)
    assert wake == (earliest if earliest.tzinfo else earliest.replace(tzinfo=UTC))
    assert wake > FIXED_NOW


async def test_a_new_time_zone_moves_only_that_persons_check_ins(eng: Engine) -> None:
    await scheduled(eng, ANN, ev.When(kind="in_days", days=3))
    await scheduled(eng, BOB, ev.When(kind="in_days", days=3))
    before = {c.id: (c.user_id, c.due_at) for c in await checkins(eng)}
    ann_id = await eng.db.run(
        lambda s: s.scalar(select(User.id).where(User.platform_user_id == "ann"))
    )
    await eng.run(ev.SetTimezone(user=ANN, timezone="Asia/Tokyo"))
    after = {c.id: c.due_at for c in await checkins(eng)}
    for cid, (uid, due) in before.items():
        if uid == ann_id:
            assert after[cid] != due, "Ann's check-ins follow her new zone"
        else:
            assert after[cid] == due, "Bob's stay where they were"


# ------------------------------------------------------------------ the second mutation batch


async def test_enter_on_a_revisited_question_keeps_the_earlier_answer(eng: Engine) -> None:
    from bot.store.models import AnswerRecord

    await say(eng, "start")
    await say(eng, "worker")
    assert (await say(eng, "back")).awaiting == "role"
    reply = await say(eng, "")  # just Enter: keep "Worker"
    assert reply.outcome == Outcome.APPLIED and reply.awaiting == "skills"
    current = await eng.db.run(
        lambda s: dict(
            s.execute(
                select(AnswerRecord.question_id, AnswerRecord.value).where(
                    AnswerRecord.superseded_at.is_(None)
                )
            ).all()
        )
    )
    assert current == {"role": "worker"}
    # On a question never answered, Enter is no answer at all.
    empty = await say(eng, "")
    assert empty.outcome == Outcome.INVALID and empty.awaiting == "skills"


async def test_a_typo_too_far_from_every_option_is_asked_again(eng: Engine) -> None:
    await say(eng, "start")
    assert (await say(eng, "wrkr")).outcome == Outcome.INVALID  # 0.8 alike: not enough
    assert (await say(eng, "workr")).awaiting == "skills"  # one letter off: Worker


async def test_forget_is_confirmed_by_yes_with_or_without_a_slash(eng: Engine) -> None:
    await say(eng, "start")
    await say(eng, "forget")
    kept = await say(eng, "no thanks")
    assert kept.outcome == Outcome.APPLIED and kept.text() == "Nothing was deleted."
    await say(eng, "forget")
    gone = await say(eng, "/yes")
    assert "deleted" in gone.text() and gone.outcome == Outcome.APPLIED
    assert await eng.db.run(lambda s: s.scalar(select(User.id))) is None


async def test_a_confirmation_waits_for_that_person_only(eng: Engine) -> None:
    await say(eng, "start")
    await say(eng, "forget")  # Ann is asked to confirm ...
    for other in (ev.UserRef("slack", "dm", "ann"), ev.UserRef("discord", "guild-9", "ann")):
        await say(eng, "start", user=other)
        # ... and "yes" from the same user id elsewhere is that other person's answer.
        reply = await say(eng, "yes", user=other)
        assert reply.outcome == Outcome.INVALID, reply
    assert "deleted" in (await say(eng, "yes")).text()
    left = await eng.db.run(lambda s: sorted(s.scalars(select(User.platform))))
    assert left == ["discord", "slack"]


async def test_remind_none_declines_check_ins(eng: Engine) -> None:
    await finished(eng)
    reply = await say(eng, "remind none")
    assert reply.outcome == Outcome.APPLIED, reply
    assert await checkins(eng) == []


async def test_details_follow_the_latest_recommendation(eng: Engine) -> None:
    await finished(eng)  # worker, code, pay 4: the job first
    assert "Get a job" in (await say(eng, "details 1")).text()
    await say(eng, "edit 3")
    reply = await say(eng, "1")  # pay does not matter: now studying comes first
    if not reply.finished:
        reply = await say(eng, "skip")
    assert reply.finished
    first = await say(eng, "details 1")
    assert first.outcome == Outcome.SHOWN
    assert "Keep studying" in first.text()
    assert "Get a job" in (await say(eng, "details 2")).text()


async def test_next_wake_follows_due_times_and_other_processes_leases(eng: Engine) -> None:
    from datetime import UTC

    await scheduled(eng, ANN, ev.When(kind="in_days", days=3))
    w = worker(eng, RecordingSender())
    due = min(c.due_at for c in await checkins(eng) if c.due_at is not None)
    due = due if due.tzinfo else due.replace(tzinfo=UTC)
    assert await w.next_wake() == due

    async def lease(until: datetime) -> None:
        def unit(s):  # type: ignore[no-untyped-def]
            for row in s.scalars(select(CheckIn)):
                row.lease_until = until

        await eng.db.run(unit)

    # Another process holds them: wake when its lease runs out (even at this very moment).
    await lease(FIXED_NOW + timedelta(hours=1))
    assert await w.next_wake() == FIXED_NOW + timedelta(hours=1)
    await lease(FIXED_NOW)
    assert await w.next_wake() == FIXED_NOW
    # An expired lease is free again: wake at the due time.
    await lease(FIXED_NOW - timedelta(minutes=1))
    assert await w.next_wake() == due
    # Once all are sent nothing is left to wake for.
    eng.clock.advance(days=3)  # type: ignore[attr-defined]
    await deliver(eng, RecordingSender())
    assert {c.state for c in await checkins(eng)} == {"sent"}
    assert await w.next_wake() is None


async def test_a_time_zone_change_leaves_answered_check_ins_alone(eng: Engine) -> None:
    await scheduled(eng, ANN, ev.When(kind="in_days", days=1))
    eng.clock.advance(days=1)  # type: ignore[attr-defined]
    prompts = await deliver(eng, RecordingSender())
    await say(eng, "done")
    done = prompts[0].checkin_id
    before = {c.id: c.due_at for c in await checkins(eng)}
    await eng.run(ev.SetTimezone(user=ANN, timezone="Asia/Tokyo"))
    after = {c.id: c.due_at for c in await checkins(eng)}
    assert after[done] == before[done]


# ------------------------------------------------------------------ the check-in list and plan


async def listing(engine: Engine, user: ev.UserRef = ANN) -> list:
    from bot.messages import CheckInList

    out = (await engine.run(ev.ListCheckIns(user=user))).messages
    found = [m for m in out if isinstance(m, CheckInList)]
    return list(found[0].items) if found else []


async def test_the_check_in_list_is_the_persons_own_in_due_order(eng: Engine) -> None:
    await scheduled(eng, BOB, ev.When(kind="suggested"))
    await scheduled(eng, ANN, ev.When(kind="suggested"))
    items = await listing(eng)
    # The steps' suggested dates: CV in 3 days, supervisors 7, papers 14, applications 21.
    assert [i.action for i in items] == [
        "Update your CV.",
        "Write to two supervisors.",
        "Read three papers.",
        "Apply to five roles.",
    ]
    ann_id = await eng.db.run(
        lambda s: s.scalar(select(User.id).where(User.platform_user_id == "ann"))
    )
    owner = {c.id: c.user_id for c in await checkins(eng)}
    assert {owner[i.checkin_id] for i in items} == {ann_id}
    # Equal due dates keep the order they were made in.
    await eng.run(ev.ScheduleCheckIns(user=ANN, when=ev.When(kind="in_days", days=2)))
    items = await listing(eng)
    assert [i.checkin_id for i in items] == sorted(i.checkin_id for i in items)


async def test_a_catch_up_note_is_not_a_check_in_of_the_list(eng: Engine) -> None:
    await scheduled(eng, ANN, ev.When(kind="in_days", days=1))
    eng.clock.advance(days=9)  # type: ignore[attr-defined]
    await worker(eng, RecordingSender()).drain()  # sends the catch-up note
    kinds = {c.kind for c in await checkins(eng)}
    assert "catchup" in kinds
    items = await listing(eng)
    assert len(items) == 4 and all(i.action for i in items)
    catchup = next(c.id for c in await checkins(eng) if c.kind == "catchup")
    reply = await say(eng, f"checkin {catchup} cancel")  # not a check-in of theirs to change
    assert reply.outcome == Outcome.NOT_FOUND, reply


async def test_new_check_ins_replace_the_pending_ones_and_skip_done_steps(eng: Engine) -> None:
    await scheduled(eng, ANN, ev.When(kind="in_days", days=1))
    eng.clock.advance(days=1)  # type: ignore[attr-defined]
    await deliver(eng, RecordingSender())
    await say(eng, "done")  # the first step is done
    done_item = next(c.plan_item_id for c in await checkins(eng) if c.state == "done")
    await eng.run(ev.ScheduleCheckIns(user=ANN, when=ev.When(kind="weekly")))
    rows = await checkins(eng)
    pending = [c for c in rows if c.state == "pending"]
    assert len(pending) == 3 and done_item not in {c.plan_item_id for c in pending}
    # Again: still one pending check-in per open step, the earlier ones replaced.
    await eng.run(ev.ScheduleCheckIns(user=ANN, when=ev.When(kind="fortnightly")))
    rows = await checkins(eng)
    pending = [c for c in rows if c.state == "pending"]
    assert len(pending) == 3 and len({c.plan_item_id for c in pending}) == 3
    assert {c.interval_days for c in pending} == {14}
    replaced = [c for c in rows if c.state == "replaced"]
    assert len(replaced) == 3 and not any(c.claimed_by or c.lease_until for c in replaced)
    # The sent-and-answered ones are history, not replaced.
    assert {c.state for c in rows} == {"done", "sent", "pending", "replaced"}
    from bot.store.models import PlanItem

    done_action = await eng.db.run(
        lambda s: s.scalar(select(PlanItem.action).where(PlanItem.id == done_item))
    )
    actions = {i.action for i in await listing(eng) if i.state == "pending"}
    assert actions == ACTIONS - {done_action}


async def test_snoozing_one_check_in_leaves_the_others_of_its_step(eng: Engine) -> None:
    await scheduled(eng, ANN, ev.When(kind="weekly"))
    first = (await checkins(eng))[0]
    await eng.run(
        ev.ScheduleCheckIns(
            user=ANN, when=ev.When(kind="in_days", days=2), plan_item_ids=(first.plan_item_id,)
        )
    )
    mine = [c for c in await checkins(eng) if c.plan_item_id == first.plan_item_id]
    live = [c for c in mine if c.state == "pending"]
    assert len(live) == 1
    await say(eng, f"checkin {live[0].id} snooze 3")
    again = [c for c in await checkins(eng) if c.plan_item_id == first.plan_item_id]
    assert [c.state for c in again if c.id == live[0].id] == ["pending"]
    assert sum(c.state == "pending" for c in again) == 1


async def test_the_list_follows_due_dates_not_creation(eng: Engine) -> None:
    await scheduled(eng, ANN, ev.When(kind="suggested"))
    first = (await listing(eng))[0]
    await say(eng, f"checkin {first.checkin_id} snooze 30")  # now the last one due
    order = [i.checkin_id for i in await listing(eng)]
    assert order[-1] == first.checkin_id and order != sorted(order)


async def test_snoozing_a_missed_check_in_replaces_the_newer_one_of_its_step(
    eng: Engine,
) -> None:
    await scheduled(eng, ANN, ev.When(kind="in_days", days=1))
    eng.clock.advance(days=9)  # type: ignore[attr-defined]
    await worker(eng, RecordingSender()).drain()  # all four missed, one catch-up note
    missed = next(c for c in await checkins(eng) if c.state == "missed")
    await eng.run(
        ev.ScheduleCheckIns(
            user=ANN, when=ev.When(kind="in_days", days=5), plan_item_ids=(missed.plan_item_id,)
        )
    )
    await eng.run(ev.SnoozeCheckIn(user=ANN, checkin_id=missed.id, days=1))
    of_step = [c for c in await checkins(eng) if c.plan_item_id == missed.plan_item_id]
    assert [c.id for c in of_step if c.state == "pending"] == [missed.id]


async def test_the_next_typed_reply_skips_a_weekly_check_in_already_answered_by_button(
    eng: Engine,
) -> None:
    await scheduled(eng, ANN, ev.When(kind="weekly"))
    eng.clock.advance(days=7)  # type: ignore[attr-defined]
    prompts = sorted(await deliver(eng, RecordingSender()), key=lambda p: p.checkin_id)
    assert len(prompts) >= 3
    _first, second, third = prompts[:3]
    # The second is answered by its button; being weekly it stays pending (next cycle).
    await eng.run(
        ev.AnswerCheckIn(
            user=ANN,
            checkin_id=second.checkin_id,
            occurrence=second.occurrence,
            answer="in_progress",
        )
    )
    assert {c.id: c.state for c in await checkins(eng)}[second.checkin_id] == "pending"
    # A typed reply answers the first; the next one waiting is the third, not the second.
    reply = await say(eng, "in progress")
    assert reply.outcome == Outcome.APPLIED, reply
    assert f"Next: check-in #{third.checkin_id} above." in reply.text()
    assert f"#{second.checkin_id}" not in reply.text()


async def test_a_backlog_larger_than_a_batch_goes_out_most_overdue_first(eng: Engine) -> None:
    await scheduled(eng, ANN, ev.When(kind="in_days", days=1))
    rows = await checkins(eng)
    assert len(rows) >= 3
    # The newest check-in is made the most overdue, the oldest the least.
    base = FIXED_NOW + timedelta(days=1)
    for n, row in enumerate(reversed(rows)):
        await eng.db.run(
            lambda s, r=row, n=n: s.execute(
                update(CheckIn).where(CheckIn.id == r.id).values(due_at=base + timedelta(minutes=n))
            )
        )
    eng.clock.advance(days=1, minutes=len(rows))  # type: ignore[attr-defined]
    sender = RecordingSender()
    clock = eng.clock
    assert isinstance(clock, FakeClock)
    one_at_a_time = DeliveryWorker(
        eng.db,
        DeliveryConfig.from_settings(eng.settings, batch_size=1),
        {sender.platform: sender},
        clock=clock,
        sleep=clock.sleep,
    )
    await one_at_a_time.drain()
    sent = [s.message.checkin_id for s in sender.sends if hasattr(s.message, "checkin_id")]
    assert sent == [r.id for r in reversed(rows)]


async def test_a_worker_for_one_person_sends_only_that_persons_check_ins(eng: Engine) -> None:
    await scheduled(eng, ANN, ev.When(kind="in_days", days=1))
    await scheduled(eng, BOB, ev.When(kind="in_days", days=1))
    eng.clock.advance(days=1)  # type: ignore[attr-defined]
    sender = RecordingSender()
    clock = eng.clock
    assert isinstance(clock, FakeClock)
    console = DeliveryWorker(
        eng.db,
        DeliveryConfig.from_settings(eng.settings),
        {sender.platform: sender},
        clock=clock,
        sleep=clock.sleep,
        only_user=ANN,
    )
    assert await console.next_wake() is not None
    await console.drain()
    assert sender.sends and {s.user for s in sender.sends} == {ANN}
    states = {c.id: (c.user_id, c.state) for c in await checkins(eng)}
    assert len({uid for uid, state in states.values() if state == "sent"}) == 1
    assert {state for _, state in states.values()} == {"sent", "pending"}  # Bob's wait


async def test_a_check_in_leased_by_one_worker_is_not_taken_by_another(eng: Engine) -> None:
    from bot.store import checkins_repo as repo

    await scheduled(eng, ANN, ev.When(kind="in_days", days=1))
    eng.clock.advance(days=1)  # type: ignore[attr-defined]
    now = eng.clock()
    lease = now + timedelta(minutes=2)

    def first(s):  # type: ignore[no-untyped-def]
        ids = [r.id for r in repo.lock_due(s, now, 10, ["discord"])]
        return ids, repo.claim(s, ids, "w1", lease, now)

    ids, taken = await eng.db.run(first)
    assert ids and taken == ids
    # A second worker that read the same rows before the lease was taken gets none.
    assert await eng.db.run(lambda s: repo.claim(s, ids, "w2", lease, now)) == []
    holders = {c.id: c.claimed_by for c in await checkins(eng)}
    assert {holders[i] for i in ids} == {"w1"}


async def test_delivery_on_postgresql_skips_rows_another_worker_has_locked(
    pg_url: str, settings: Settings
) -> None:
    from sqlalchemy.orm import Session

    from bot.store import checkins_repo as repo

    engine = await make_engine(pg_url, settings.model_copy(update={"default_playbook": "tiny"}))
    engine.clock = FakeClock(FIXED_NOW)
    try:
        await scheduled(engine, ANN, ev.When(kind="in_days", days=1))
        engine.clock.advance(days=1)
        now = engine.clock()
        total = len(await checkins(engine))
        db = engine.db.async_engine
        assert db is not None and total >= 2

        def due(limit: int):  # type: ignore[no-untyped-def]
            return lambda c: [r.id for r in repo.lock_due(Session(bind=c), now, limit, ["discord"])]

        async with db.connect() as first, db.connect() as second:
            mine = await first.run_sync(due(1))  # holds its row until it commits
            # The second worker does not wait for that row (a lock wait would fail here):
            # it takes the others.
            await second.exec_driver_sql("SET lock_timeout = '30s'")
            theirs = await second.run_sync(due(total))
            assert len(mine) == 1 and len(theirs) == total - 1
            assert not set(mine) & set(theirs)
            await first.rollback()
            await second.rollback()
    finally:
        await engine.db.dispose()
