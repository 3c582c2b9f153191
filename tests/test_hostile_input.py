"""Input that used to crash: digits int() refuses, numbers beyond 64 bits, odd Unicode."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot import events as ev
from bot.core.reply import Outcome
from bot.engine import Engine
from bot.playbook.schema import PlaybookQuestion, Wording
from bot.validation import MAX_ID, Invalid, clean_text, parse_answer, whole_number
from tests.conftest import make_registry
from tests.test_console_cli import GOODBYE, Q_ROLE, Q_THESIS, Console

ALICE = ev.UserRef("console", "local", "alice")
HUGE = "9" * 20
ENORMOUS = "7" * 5000


@pytest.fixture
def console(tmp_path: Path) -> Console:
    return Console(tmp_path)


@pytest.mark.parametrize("token", ["①", "²", "٣٣٣٣", HUGE, ENORMOUS, "+1", " ", "1_0", "0x1"])
def test_only_ascii_digits_in_range_are_numbers(token: str) -> None:
    assert whole_number(token, 1, 100) is None
    assert whole_number(" 42 ") == 42 and whole_number(str(MAX_ID)) == MAX_ID
    assert whole_number(str(MAX_ID + 1)) is None


def test_answers_that_int_refuses_are_invalid_not_errors() -> None:
    pb = make_registry("tiny").get("tiny")
    assert pb is not None
    role, skills, money = (pb.question(i) for i in ("role", "skills", "money"))
    assert role is not None and skills is not None and money is not None
    for raw in ("①", "²", ENORMOUS, 10**5000, True, ["²"], [10**5000]):
        for q in (role, skills, money):
            assert isinstance(parse_answer(q, raw, pb.wording, 2000), Invalid), (q.id, raw)
    assert parse_answer(role, "2", pb.wording, 2000) == "worker"
    assert parse_answer(money, " 5 ", pb.wording, 2000) == 5


async def test_typed_checkin_commands_refuse_odd_numbers(engine: Engine) -> None:
    for line in (
        "/checkin ² cancel",
        f"/checkin {HUGE} cancel",
        f"/checkin {ENORMOUS} cancel",
        "/checkin 1 snooze ²",
        "/checkin 1 snooze " + HUGE,
        "/remind ²",
    ):
        reply = await engine.handle(ev.Typed(user=ALICE, text=line))
        assert reply.outcome == Outcome.INVALID, line
    # A plain number is still a check-in number (this one is not Alice's: none is).
    reply = await engine.handle(ev.Typed(user=ALICE, text="/checkin 3 cancel"))
    assert reply.outcome == Outcome.NOT_FOUND and "no check-in with that number" in reply.text()


def test_console_survives_odd_digits_and_huge_numbers(console: Console) -> None:
    run = console.run(
        "①",
        "²",
        "/edit ²",
        f"/edit {ENORMOUS}",
        "/details ²",
        f"/checkin {HUGE} cancel",
        "/checkin ² cancel",
        "/remind ²",
        "1",
    )
    assert run.code == 0, run.err
    assert run.out.rstrip().endswith(GOODBYE)
    assert "no recommendation yet" in run.out  # /details before the questions are done
    assert "I have no check-in with that number" in run.out
    assert run.out.rfind(Q_THESIS) > run.out.rfind(Q_ROLE)  # "1" was still taken


def test_clean_text_keeps_joiners_and_drops_controls() -> None:
    kept = "👩\u200d💻 क्\u200dष می\u200cخواهم"  # noqa: RUF001
    assert clean_text(kept) == kept
    assert clean_text("a\u202eb\u2066c\u200fd\x00e\x1bf\ud800g") == "abcdefg"


async def test_the_store_turns_refused_values_into_bad_input(db_url: str) -> None:
    """The backstop behind the engine's event check: never an untranslated driver error."""
    from sqlalchemy import select

    from bot.store.database import BadInput, Database
    from bot.store.migrate import upgrade
    from bot.store.models import User

    db = Database(db_url)
    await upgrade(db)
    try:
        refused = [User.id == 10**20, User.id == -(2**64)]
        if not db.is_sqlite:  # SQLite stores NUL; PostgreSQL text cannot hold it
            refused.append(User.platform_user_id == "a\x00b")
        for where in refused:
            with pytest.raises(BadInput):
                await db.run(lambda s, w=where: s.scalar(select(User.id).where(w)))
        with pytest.raises(BadInput):
            await db.run(lambda s: s.scalar(select(User.id).where(User.tenant == "\ud800")))
        assert await db.run(lambda s: s.scalar(select(User.id).where(User.id == 1))) is None
    finally:
        await db.dispose()


async def test_engine_answers_a_refused_value_politely(
    db_url: str, settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Even with the event check bypassed, a huge id is a notice, not an exception."""
    import bot.engine
    from bot.messages import Level, Notice
    from tests.conftest import make_engine

    engine = await make_engine(db_url, settings.model_copy(update={"default_playbook": "tiny"}))
    try:
        await engine.run(ev.Start(user=ALICE))
        monkeypatch.setattr(bot.engine, "event_problem", lambda event: None)
        for event in (
            ev.CancelCheckIn(user=ALICE, checkin_id=10**20),
            ev.Answer(user=ALICE, value="1", consultation_id=10**20),
            ev.Start(user=ev.UserRef("console", "local", "a\ud800b")),
        ):
            out = (await engine.run(event)).messages
            assert isinstance(out[0], Notice) and out[0].level == Level.WARNING, out
            assert "Nothing was changed" in out[0].text
    finally:
        await engine.db.dispose()


def test_small_wording_a_new_user_meets() -> None:
    from datetime import date

    from bot.checkins.schedule import example_date, resolve_when
    from bot.commands import command

    pb = make_registry("tiny").get("tiny")
    assert pb is not None
    notes = pb.question("notes")
    assert notes is not None
    limit = min(notes.max_length, 2000)
    assert parse_answer(notes, "x" * limit, pb.wording, 2000) == "x" * limit
    refusal = parse_answer(notes, "x" * (limit + 1), pb.wording, 2000)
    assert isinstance(refusal, Invalid)
    assert f"under {limit}" not in refusal.reason and f"{limit} or fewer" in refusal.reason
    today = date.today()
    assert example_date() > today.isoformat()
    from datetime import datetime, time

    with pytest.raises(ValueError) as bad:
        resolve_when(
            "date",
            days=None,
            on="soon",
            now_local=datetime(2030, 6, 1, 9, 0),
            at=time(10),
            suggested=None,
            fallback_days=14,
        )
    assert "2030-06-29" in str(bad.value)
    assert [command(p, "start") for p in ("console", "discord", "slack")] == [
        "/start",
        "/advise start",
        "/advise start",
    ]


def test_console_names_its_own_commands_and_a_future_example_date(console: Console) -> None:
    from datetime import date

    run = console.run("/forget", "yes", "/status")  # nothing left: /status says how to start
    assert "You have no consultation in progress. Use /start to begin one." in run.out
    out = console.ok("1", "1", "1", "1", "skip")
    dates = [w for w in out.split() if w[:2] == "20" and w[4:5] == "-" and len(w) >= 10]
    assert dates and all(d[:10] > date.today().isoformat() for d in dates), dates


def test_close_words_pick_the_choice_a_person_meant() -> None:
    wording = Wording()
    goal = PlaybookQuestion.model_validate(
        {
            "id": "goal",
            "kind": "single_choice",
            "prompt": "What kind of researcher?",
            "choices": [
                {"id": "theory", "label": "Theory or academic research"},
                {"id": "applied", "label": "Applied research"},
                {"id": "engineering", "label": "Research engineering"},
                {"id": "unsure", "label": "Not sure yet"},
            ],
        }
    )
    experience = PlaybookQuestion.model_validate(
        {
            "id": "experience",
            "kind": "multi_choice",
            "prompt": "Your experience?",
            "choices": [{"id": "thesis", "label": "A thesis"}, {"id": "none", "label": "None yet"}],
        }
    )
    assert parse_answer(goal, "not sure", wording, 2000) == "unsure"
    assert parse_answer(goal, "Not sure yet", wording, 2000) == "unsure"
    assert parse_answer(goal, "applied", wording, 2000) == "applied"
    assert parse_answer(goal, "aplied research", wording, 2000) == "applied"  # a typo
    assert parse_answer(experience, "none", wording, 2000) == ["none"]  # "None yet", no skip
    # Ambiguous or unrelated words are asked again, never guessed.
    assert isinstance(parse_answer(goal, "research", wording, 2000), Invalid)
    assert isinstance(parse_answer(goal, "re", wording, 2000), Invalid)
    assert isinstance(parse_answer(goal, "banana", wording, 2000), Invalid)
