"""The dialog engine on a real database (SQLite always; PostgreSQL in CI)."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import pytest
from sqlalchemy import func, select

from bot import events as ev
from bot.core.reply import Outcome
from bot.engine import Engine
from bot.messages import (
    Confirm,
    ExportFile,
    Notice,
    PathDetail,
    Plan,
    Question,
    Recommendation,
    Status,
    Text,
)
from bot.settings import Settings
from bot.store.database import Database
from bot.store.models import AnswerRecord, Consultation, PlanItem, RecommendationSnapshot, User
from tests.conftest import make_engine

ALICE = ev.UserRef("console", "local", "alice")
BOB = ev.UserRef("discord", "guild-1", "bob")


@pytest.fixture
async def eng(db_url: str, settings: Settings) -> AsyncIterator[Engine]:
    engine = await make_engine(db_url, settings.model_copy(update={"default_playbook": "tiny"}))
    yield engine
    await engine.db.dispose()


def question(out: list) -> Question:
    qs = [m for m in out if isinstance(m, Question)]
    assert qs, f"expected a question in {out}"
    return qs[-1]


async def count(engine: Engine, model: type, *where: object) -> int:
    stmt = select(func.count()).select_from(model).where(*where)
    return await engine.db.run(lambda s: s.scalar(stmt)) or 0


async def answer_all(engine: Engine, user: ev.UserRef, values: list) -> list:
    out: list = []
    for v in values:
        out = (await engine.run(ev.Answer(user=user, value=v))).messages
    return out


async def test_full_consultation_produces_ranked_advice_and_plan(eng: Engine) -> None:
    out = (await eng.run(ev.Start(user=ALICE))).messages
    assert isinstance(out[0], Text) and "quick questions" in out[0].text
    q = question(out)
    assert (q.question_id, q.position, q.choices[0].label) == ("role", 1, "Student")
    out = await answer_all(eng, ALICE, ["student", "Yes", ["code", "maths"], "5", "Boston only"])
    rec = next(m for m in out if isinstance(m, Recommendation))
    plan = next(m for m in out if isinstance(m, Plan))
    # Pay rated 5/5 outweighs the thesis bonus: the job comes first, and the reasons say why.
    assert [p.path_id for p in rec.paths] == ["job", "study"]
    assert any("rated it 5 of 5" in r for r in rec.top.reasons)
    assert rec.top.risks == ("Research may not happen.",)  # conditional on role=student
    assert "pay" in rec.what_would_change and "Keep studying" in rec.what_would_change
    assert rec.notes == ("You noted (notes): Boston only",)
    # The plan is in date order, across the top paths (CV in 3 days, supervisors in 7).
    assert [i.action for i in plan.items][:2] == ["Update your CV.", "Write to two supervisors."]
    dues = [i.due for i in plan.items if i.due is not None]
    assert dues == sorted(dues)
    assert plan.items[0].due is not None and plan.items[0].due.isoformat() == "2026-03-05"
    assert await count(eng, RecommendationSnapshot) == 1
    assert await count(eng, PlanItem) == len(plan.items) >= 3


async def test_invalid_answers_reask_and_store_nothing(eng: Engine) -> None:
    await eng.run(ev.Start(user=ALICE))
    cases = ["7", "", "banana", "x" * 20_000, ["student"]]
    for bad in cases:
        q = question((await eng.run(ev.Answer(user=ALICE, value=bad))).messages)
        assert q.question_id == "role" and q.error, bad
    assert "options" in q.error
    await answer_all(eng, ALICE, ["1", "no"])
    q = question((await eng.run(ev.Answer(user=ALICE, value="1, 9"))).messages)
    assert q.question_id == "skills" and "1 to 3" in q.error
    await eng.run(ev.Answer(user=ALICE, value="coding, writing"))
    for bad in ["0", "6", "lots", "3.5"]:
        q = question((await eng.run(ev.Answer(user=ALICE, value=bad))).messages)
        assert q.question_id == "money" and "1 to 5" in q.error
    await eng.run(ev.Answer(user=ALICE, value="4"))
    q = question((await eng.run(ev.Answer(user=ALICE, value="y" * 101))).messages)
    assert q.question_id == "notes" and "101 characters" in q.error
    assert await count(eng, AnswerRecord) == 4  # role, thesis, skills, money; nothing invalid


async def test_free_text_is_cleaned_of_control_characters(eng: Engine) -> None:
    await eng.run(ev.Start(user=ALICE))
    out = await answer_all(eng, ALICE, ["1", "1", "1", "3", "hi\x1b[31m there\u202e\x00"])
    rec = next(m for m in out if isinstance(m, Recommendation))
    assert rec.notes == ("You noted (notes): hi[31m there",)


async def test_back_edit_and_rerank_keep_other_answers(eng: Engine) -> None:
    await eng.run(ev.Start(user=ALICE))
    await answer_all(eng, ALICE, ["student", "yes"])
    q = question((await eng.run(ev.Back(user=ALICE))).messages)
    assert (q.question_id, q.current) == ("thesis", "yes")
    q = question((await eng.run(ev.Back(user=ALICE))).messages)
    assert q.question_id == "role"
    out = (await eng.run(ev.Back(user=ALICE))).messages
    assert isinstance(out[0], Notice) and "first question" in out[0].text
    # Answering the first question again goes on to the first unanswered one.
    q = question((await eng.run(ev.Answer(user=ALICE, value="student"))).messages)
    assert q.question_id == "skills"
    out = await answer_all(eng, ALICE, ["1", "1", "skip"])
    first = next(m for m in out if isinstance(m, Recommendation))
    assert first.top.path_id == "study"
    # Edit pay to 5: the ranking is recomputed from the new answers.
    q = question((await eng.run(ev.Edit(user=ALICE, question="money"))).messages)
    assert q.current == 1
    out = (await eng.run(ev.Answer(user=ALICE, value="5"))).messages
    second = next(m for m in out if isinstance(m, Recommendation))
    assert second.top.path_id == "job"
    status = next(
        m for m in (await eng.run(ev.ShowStatus(user=ALICE))).messages if isinstance(m, Status)
    )
    assert [a.answer for a in status.answers] == [
        "Student",
        "Yes",
        "Coding",
        "5 of 5",
        "(not answered)",
    ]
    # The edit is traceable: the old answer is superseded, not overwritten.
    assert await count(eng, AnswerRecord, AnswerRecord.question_id == "money") == 2
    assert await count(eng, AnswerRecord, AnswerRecord.superseded_at.is_not(None)) == 2


async def test_edit_hiding_a_conditional_question_ignores_its_answer(eng: Engine) -> None:
    await eng.run(ev.Start(user=ALICE))
    await answer_all(eng, ALICE, ["student", "yes", "1", "1", "skip"])
    await eng.run(ev.Edit(user=ALICE, question="1"))
    out = (await eng.run(ev.Answer(user=ALICE, value="worker"))).messages
    rec = next(m for m in out if isinstance(m, Recommendation))
    assert all("thesis" not in r for p in rec.paths for r in p.reasons)
    out = (await eng.run(ev.Edit(user=ALICE, question="nope"))).messages
    assert isinstance(out[0], Notice) and "1. your role" in out[0].text


async def test_stale_and_duplicate_clicks_apply_once(eng: Engine) -> None:
    q = question((await eng.run(ev.Start(user=ALICE))).messages)
    click = ev.Answer(
        user=ALICE,
        value="student",
        question_id=q.question_id,
        consultation_id=q.consultation_id,
        step=q.step,
    )
    first = (await eng.run(click)).messages
    again = (await eng.run(click)).messages
    assert question(first).question_id == "thesis"
    assert isinstance(again[0], Notice) and "already answered" in again[0].text
    assert question(again).question_id == "thesis"
    assert await count(eng, AnswerRecord) == 1


async def test_one_active_consultation_per_user_and_playbook(eng: Engine) -> None:
    await eng.run(ev.Start(user=ALICE))
    await eng.run(ev.Answer(user=ALICE, value="1"))
    out = (await eng.run(ev.Start(user=ALICE))).messages
    assert isinstance(out[0], Notice) and "already have" in out[0].text
    assert question(out).question_id == "thesis"
    out = (await eng.run(ev.Restart(user=ALICE))).messages
    assert question(out).question_id == "role"
    assert await count(eng, Consultation, Consultation.status == "active") == 1
    assert await count(eng, Consultation, Consultation.status == "cancelled") == 1


async def test_progress_survives_a_new_engine_on_the_same_database(
    db_url: str, settings: Settings
) -> None:
    cfg = settings.model_copy(update={"default_playbook": "tiny"})
    first = await make_engine(db_url, cfg)
    await first.run(ev.Start(user=BOB))
    await answer_all(first, BOB, ["worker", "maths"])
    await first.db.dispose()  # "crash": nothing kept in memory
    second = await make_engine(db_url, cfg)
    out = (await second.run(ev.Resume(user=BOB))).messages
    assert isinstance(out[0], Notice) and "Welcome back" in out[0].text
    assert question(out).question_id == "money"
    await second.db.dispose()


async def test_consultation_keeps_its_playbook_version(
    db_url: str, settings: Settings, tmp_path
) -> None:
    from bot.playbook.loader import PlaybookRegistry, load_playbook
    from bot.store.database import Database
    from tests.conftest import TEST_PLAYBOOKS

    cfg = settings.model_copy(update={"default_playbook": "tiny"})
    old = await make_engine(db_url, cfg)
    await old.run(ev.Start(user=ALICE))
    await old.db.dispose()
    text = (TEST_PLAYBOOKS / "tiny.yaml").read_text()
    v2 = text.replace("version: 1", "version: 2").replace("What are you?", "Who are you now?")
    (tmp_path / "tiny.yaml").write_text(v2)
    new = Engine(Database(db_url), PlaybookRegistry([load_playbook(tmp_path / "tiny.yaml")]), cfg)
    await new.prepare()
    out = (await new.run(ev.Resume(user=ALICE))).messages
    assert question(out).prompt == "What are you?"  # still version 1
    await new.run(ev.Restart(user=ALICE))
    out = (await new.run(ev.Resume(user=ALICE))).messages
    assert question(out).prompt == "Who are you now?"
    await new.db.dispose()


async def test_unknown_playbook_and_commands_without_consultation(eng: Engine) -> None:
    out = (await eng.run(ev.Start(user=ALICE, playbook_id="no-such-thing"))).messages
    assert isinstance(out[0], Notice) and "Available: tiny" in out[0].text
    for event in (
        ev.Back(user=ALICE),
        ev.Resume(user=ALICE),
        ev.ShowStatus(user=ALICE),
        ev.Answer(user=ALICE, value="1"),
    ):
        out = (await eng.run(event)).messages
        assert isinstance(out[0], Notice) and "no consultation" in out[0].text


async def test_path_details_export_and_forget(eng: Engine) -> None:
    await eng.run(ev.Start(user=ALICE))
    await answer_all(eng, ALICE, ["student", "yes", "1,3", "2", "Needs <b>visa</b> *help*"])
    detail = ((await eng.run(ev.ShowPath(user=ALICE, path_id="study"))).messages)[0]
    assert isinstance(detail, PathDetail)
    assert detail.path.next_steps[0].text == "Write to two supervisors."
    export = ((await eng.run(ev.Export(user=ALICE))).messages)[0]
    assert isinstance(export, ExportFile) and export.filename.endswith(".md")
    assert "- your role: Student" in export.content
    assert "Needs \\<b\\>visa\\</b\\> \\*help\\*" in export.content  # user text is inert
    assert "Keep studying" in export.content and "Write to two supervisors." in export.content
    ask = ((await eng.run(ev.Forget(user=ALICE))).messages)[0]
    assert isinstance(ask, Confirm) and await count(eng, User) == 1
    await eng.run(ev.Forget(user=ALICE, confirmed=True))
    for model in (User, Consultation, AnswerRecord, PlanItem, RecommendationSnapshot):
        assert await count(eng, model) == 0, model
    assert isinstance(((await eng.run(ev.Export(user=ALICE))).messages)[0], Notice)


async def test_forget_touches_only_that_person(eng: Engine) -> None:
    for user in (ALICE, BOB):
        await eng.run(ev.Start(user=user))
        await answer_all(eng, user, ["worker", "1", "3"])
    await eng.run(ev.Forget(user=ALICE, confirmed=True))
    assert await count(eng, User) == 1
    assert await count(eng, AnswerRecord) == 3
    assert question((await eng.run(ev.Resume(user=BOB))).messages).question_id == "notes"


async def test_tenant_default_playbook(db_url: str, settings: Settings) -> None:
    eng = await make_engine(
        db_url, settings.model_copy(update={"default_playbook": "tiny"}), "tiny", "tiny2"
    )
    await eng.set_tenant_playbook("discord", "guild-1", "tiny2")
    out = (await eng.run(ev.Start(user=BOB))).messages
    assert isinstance(out[0], Text) and out[0].title == "Second tiny playbook"
    out = (await eng.run(ev.Start(user=ALICE))).messages  # another tenant keeps the global default
    assert isinstance(out[0], Text) and out[0].title == "Tiny test playbook"
    await eng.db.dispose()


async def test_database_outage_is_a_polite_notice(eng: Engine, tmp_path) -> None:
    await eng.run(ev.Start(user=ALICE))
    saved = eng.db
    blocker = tmp_path / "not-a-folder"
    blocker.write_text("a file where a folder should be")
    eng.db = Database(
        f"sqlite:///{blocker}/x.db"
        if saved.is_sqlite
        else "postgresql+asyncpg://postgres@127.0.0.1:1/test"
    )
    out = (await eng.run(ev.Answer(user=ALICE, value="1"))).messages
    assert isinstance(out[0], Notice) and "Nothing you already told me is lost" in out[0].text
    await eng.db.dispose()
    eng.db = saved  # back up: the consultation is where it was
    assert question((await eng.run(ev.Resume(user=ALICE))).messages).question_id == "role"


async def test_admin_checkin_defaults_are_validated_and_merged(eng: Engine) -> None:
    bad = await eng.set_tenant_checkin_defaults("slack", "T1", cadence_days=400)
    assert bad.outcome == Outcome.INVALID and "between 1 and 90" in bad.text()
    bad = await eng.set_tenant_checkin_defaults("slack", "T1", timezone="Mars/Base")
    assert bad.outcome == Outcome.INVALID and "IANA" in bad.text()
    bad = await eng.set_tenant_checkin_defaults("slack", "T1", quiet_hours="late")
    assert bad.outcome == Outcome.INVALID and "21:00-08:00" in bad.text()
    nothing = await eng.set_tenant_checkin_defaults("slack", "T1")
    assert nothing.outcome == Outcome.INVALID and "Nothing to change" in nothing.text()
    await eng.set_tenant_checkin_defaults("slack", "T1", cadence_days=14)
    ok = await eng.set_tenant_checkin_defaults("slack", "T1", quiet_hours="22:30 - 07:00")
    assert ok.outcome == Outcome.APPLIED
    assert ok.text() == "Check-in defaults here: cadence days 14, quiet hours 22:30-07:00."
    overview = await eng.tenant_overview("slack", "T1")
    assert overview.outcome == Outcome.SHOWN
    assert overview.cards[0].title == "Crossroads settings here"
    assert "every 14 days" in overview.text() and "22:30-07:00" in overview.text()
    other = await eng.tenant_overview("slack", "T2")
    assert "the dates each plan suggests" in other.text() and "21:00-08:00" in other.text()


async def test_admin_playbook_change_answers_with_a_reply(eng: Engine) -> None:
    unknown = await eng.set_tenant_playbook("slack", "T1", "nope")
    assert unknown.outcome == Outcome.NOT_FOUND and "nope" in unknown.text()
    assert await eng.tenant_default_playbook("slack", "T1") == "tiny"
    changed = await eng.set_tenant_playbook("slack", "T1", "tiny")
    assert changed.outcome == Outcome.APPLIED
    assert changed.text() == "New consultations here now use the playbook tiny."


async def test_sqlite_lock_held_by_another_process_does_not_block_the_loop(
    sqlite_url: str, settings: Settings
) -> None:
    """Another program holding the write lock: the turn waits off the loop, then applies."""
    import sqlite3

    eng = await make_engine(sqlite_url, settings.model_copy(update={"default_playbook": "tiny"}))
    await eng.run(ev.Start(user=ALICE))
    other = sqlite3.connect(sqlite_url.removeprefix("sqlite:///"), isolation_level=None)
    other.execute("BEGIN IMMEDIATE")  # holds the write lock, as a second process would
    turn = asyncio.create_task(eng.run(ev.Answer(user=ALICE, value="1")))
    ticks = 0
    while ticks < 20:  # the loop keeps running while the turn waits for the lock
        await asyncio.sleep(0)
        ticks += 1
    assert not turn.done()
    other.execute("ROLLBACK")
    other.close()
    assert question((await asyncio.wait_for(turn, 10)).messages).question_id == "thesis"
    await eng.db.dispose()


def test_choice_ids_win_over_positions() -> None:
    """A button sends the choice id; digit ids must not be read as 1-based positions."""
    from bot.playbook.schema import PlaybookQuestion, Wording
    from bot.validation import parse_answer

    q = PlaybookQuestion.model_validate(
        {
            "id": "rank",
            "kind": "single_choice",
            "prompt": "Pick",
            "choices": [{"id": "2", "label": "Two"}, {"id": "1", "label": "One"}],
        }
    )
    assert parse_answer(q, "1", Wording(), 100) == "1"
    assert parse_answer(q, "2", Wording(), 100) == "2"
    assert parse_answer(q, "one", Wording(), 100) == "1"


async def test_origin_server_default_playbook_applies_and_survives_restart(
    db_url: str, settings: Settings
) -> None:
    """Discord keys people by user; the server a consultation starts from sets its playbook."""
    eng = await make_engine(
        db_url, settings.model_copy(update={"default_playbook": "tiny"}), "tiny", "tiny2"
    )
    person = ev.UserRef("discord", "dm", "77")
    await eng.set_tenant_playbook("discord", "guild-9", "tiny2")
    assert await eng.tenant_default_playbook("discord", "guild-9") == "tiny2"
    assert await eng.tenant_default_playbook("discord", "guild-other") == "tiny"
    out = (await eng.run(ev.Start(user=person, origin_tenant="guild-9"))).messages
    assert isinstance(out[0], Text) and out[0].title == "Second tiny playbook"
    out = (await eng.run(ev.Restart(user=person))).messages
    assert any(isinstance(m, Text) and m.title == "Second tiny playbook" for m in out)
    other = ev.UserRef("discord", "dm", "78")
    out = (await eng.run(ev.Start(user=other))).messages  # from a DM: the bot-wide default
    assert isinstance(out[0], Text) and out[0].title == "Tiny test playbook"
    await eng.db.dispose()


# ------------------------------------------------------------------ cancel (ev.Cancel)

CANCEL_ANN = ev.UserRef("console", "local", "ann")
NOTHING_IN_PROGRESS = "You have no consultation in progress. Use /start to begin one."


async def test_cancel_closes_the_consultation_and_keeps_its_answers(eng: Engine) -> None:
    await eng.run(ev.Start(user=CANCEL_ANN))
    await eng.run(ev.Answer(user=CANCEL_ANN, value="worker"))

    closed = await eng.run(ev.Cancel(user=CANCEL_ANN))
    assert closed.outcome == Outcome.APPLIED
    assert closed.messages == [
        Notice(
            "Consultation closed. Your answers stay saved until you ask me to forget you; "
            "/start begins a new one."
        )
    ]
    # Closed: nothing is in progress, an answer goes nowhere, a second cancel changes nothing.
    for event in (
        ev.ShowStatus(user=CANCEL_ANN),
        ev.Answer(user=CANCEL_ANN, value="code"),
        ev.Cancel(user=CANCEL_ANN),
    ):
        reply = await eng.run(event)
        assert (reply.outcome, reply.messages) == (Outcome.NOT_FOUND, [Notice(NOTHING_IN_PROGRESS)])

    # Start begins a new consultation from the first question ...
    again = await eng.run(ev.Start(user=CANCEL_ANN))
    first = next(m for m in again.messages if isinstance(m, Question))
    assert (first.question_id, first.step) == ("role", 1)
    # ... and the cancelled one's answer is still in the person's data, marked cancelled.
    export = next(m for m in (await eng.run(ev.Export(user=CANCEL_ANN))).messages)
    assert isinstance(export, ExportFile)
    assert "(consultation 1, cancelled)" in export.content
    assert "- your role: Worker" in export.content
    assert "(consultation 2, active)" in export.content


async def test_cancel_with_nothing_to_cancel_says_so(eng: Engine) -> None:
    reply = await eng.run(ev.Cancel(user=CANCEL_ANN))
    assert (reply.outcome, reply.messages) == (Outcome.NOT_FOUND, [Notice(NOTHING_IN_PROGRESS)])


async def test_typed_cancel_is_the_same_event(eng: Engine) -> None:
    await eng.run(ev.Start(user=CANCEL_ANN))
    # Without a slash "cancel" is an answer to the question (not a bare command word) ...
    bare = await eng.run(ev.Typed(user=CANCEL_ANN, text="cancel"))
    assert bare.outcome == Outcome.INVALID
    assert (await eng.run(ev.ShowStatus(user=CANCEL_ANN))).outcome == Outcome.SHOWN
    # ... with one it closes the consultation.
    reply = await eng.run(ev.Typed(user=CANCEL_ANN, text="/cancel"))
    assert reply.outcome == Outcome.APPLIED
    assert (await eng.run(ev.ShowStatus(user=CANCEL_ANN))).outcome == Outcome.NOT_FOUND
