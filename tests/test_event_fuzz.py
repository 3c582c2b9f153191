"""Hostile events through ``Engine.handle`` on SQLite and PostgreSQL (hypothesis).

Whatever an event holds (random text, NUL, lone surrogates, numbers beyond 64 bits, wrong
steps and question ids, other people's consultation and check-in ids), the engine answers
with messages: 0 unhandled exceptions. Afterwards every row is valid (fits its column,
holds text, answers fit their question) and the other person's rows are untouched.
"""

from __future__ import annotations

import asyncio
import os
import re
from typing import Any

from hypothesis import HealthCheck, given
from hypothesis import settings as hyp_settings
from hypothesis import strategies as st
from sqlalchemy import select

from bot import events as ev
from bot.core.reply import Outcome, Reply
from bot.engine import Engine
from bot.messages import CheckInChoice, WhenKind
from bot.settings import Settings
from bot.store.models import (
    AnswerRecord,
    CheckIn,
    Consultation,
    MentorJob,
    MentorPost,
    MentorRequest,
    PlanItem,
    TenantSettings,
    User,
)
from bot.validation import parse_answer
from tests.conftest import make_engine

ALICE = ev.UserRef("console", "local", "alice")
BOB = ev.UserRef("discord", "guild-1", "bob")
TINY = ["student", "yes", ["code", "maths"], "5", "a note"]
EXAMPLES = int(os.environ.get("CROSSROADS_FUZZ_EXAMPLES", "120"))
HOSTILE_TEXT = [
    "",
    " ",
    "\x00",
    "a\x00b",
    "\ud800",
    "x\udfffy",
    "①",
    "²",
    "9" * 25,
    "7" * 5000,
    "-1",
    "1",
    "2",
    "student",
    "role",
    "money",
    "notes",
    "skip",
    "Europe/Berlin",
    "../../etc/passwd",
    "21:00-08:00",
    "2026-04-01",
    "2026-04-01 09:30",
    "x" * 70,
    "x" * 20_000,
    "Europe/" + "x" * 300,
    "\u202e\u2066",
    "👩\u200d💻",
]
WHEN_KINDS = [k.value for k in WhenKind]


def texts() -> st.SearchStrategy[str]:
    return st.one_of(
        st.sampled_from(HOSTILE_TEXT),
        st.text(st.characters(exclude_categories=()), max_size=40),
    )


def numbers(known: list[int]) -> st.SearchStrategy[int]:
    edges = [0, 1, 2, -1, 2**31, 2**63 - 1, 2**63, 2**64, 10**20, 10**5000]
    return st.one_of(st.sampled_from(known + edges), st.integers())


def users() -> st.SearchStrategy[ev.UserRef]:
    other = st.builds(ev.UserRef, texts(), texts(), texts()).filter(lambda u: u != BOB)
    return st.one_of(st.just(ALICE), st.just(ALICE), other)


# Lines a person may type: commands with hostile arguments, check-in words, answers.
TYPED = (
    "/details 99999999999999999999",
    "details ²",
    "edit ①",
    "/checkin 99999999999999999999 cancel",
    "checkin 1 snooze 100000",
    "remind 2026-13-45",
    "remind 0",
    "timezone " + "A/" * 200,
    "yes",
    "done",
    "snooze a week",
    "/skip",
    "",
    "\x00",
    "forget",
    "mentor",
    "mentor withdraw",
    "yes with check-ins",
)


def events(known: list[int]) -> st.SearchStrategy[ev.InEvent]:
    n, t, u = numbers(known), texts(), users()
    maybe_n, maybe_t = st.none() | n, st.none() | t
    value = st.one_of(t, n, st.lists(st.one_of(t, n), max_size=5))
    when = st.builds(ev.When, kind=st.sampled_from(WHEN_KINDS) | t, days=maybe_n, on=maybe_t)
    answers = st.sampled_from([c.value for c in CheckInChoice]) | t
    return st.one_of(
        st.builds(ev.Start, user=u, playbook_id=maybe_t, origin_tenant=maybe_t),
        st.builds(ev.Restart, user=u, playbook_id=maybe_t, origin_tenant=maybe_t),
        st.builds(
            ev.Answer,
            user=u,
            value=value,
            question_id=maybe_t,
            consultation_id=maybe_n,
            step=maybe_n,
        ),
        st.builds(ev.Back, user=u),
        st.builds(ev.Edit, user=u, question=t),
        st.builds(ev.Resume, user=u),
        st.builds(ev.Cancel, user=u),
        st.builds(ev.ShowStatus, user=u),
        st.builds(ev.ShowPath, user=u, path_id=t),
        st.builds(ev.Export, user=u),
        st.builds(ev.Forget, user=u, confirmed=st.booleans()),
        st.builds(
            ev.ScheduleCheckIns,
            user=u,
            when=st.none() | when,
            plan_item_ids=st.lists(n, max_size=3).map(tuple),
            consultation_id=maybe_n,
            platform_timezone=maybe_t,
            server_tenant=maybe_t,
        ),
        st.builds(ev.ListCheckIns, user=u),
        st.builds(ev.SnoozeCheckIn, user=u, checkin_id=n, days=n),
        st.builds(ev.ChangeCheckIn, user=u, checkin_id=n, when=when),
        st.builds(ev.CancelCheckIn, user=u, checkin_id=n),
        st.builds(ev.AnswerCheckIn, user=u, checkin_id=n, occurrence=n, answer=answers),
        st.builds(ev.SetTimezone, user=u, timezone=t, from_platform=st.booleans()),
        st.builds(ev.SetQuietHours, user=u, quiet_hours=t),
        st.builds(ev.Typed, user=u, text=t | st.sampled_from(TYPED), playbook_id=maybe_t),
        st.builds(ev.Decline, user=u, action=t),
        st.builds(ev.ShowHome, user=u),
        st.builds(ev.AskMentor, user=u, consultation_id=maybe_n, server_tenant=maybe_t),
        st.builds(
            ev.ShareWithMentor,
            user=u,
            share=st.booleans(),
            consultation_id=maybe_n,
            step=maybe_n,
            copy_checkins=st.booleans(),
            server_tenant=maybe_t,
        ),
        st.builds(ev.ClaimMentorRequest, user=u, request_id=n, server_tenant=maybe_t),
        st.builds(ev.ReleaseMentorRequest, user=u, request_id=n),
        st.builds(ev.WithdrawMentorRequest, user=u, request_id=maybe_n),
        st.builds(ev.CloseMentorRequest, user=u, request_id=n),
    )


async def _finish(engine: Engine, user: ev.UserRef) -> None:
    await engine.run(ev.Start(user=user))
    for value in TINY:
        await engine.run(ev.Answer(user=user, value=value))
    await engine.run(ev.ScheduleCheckIns(user=user, when=ev.When(kind=WhenKind.WEEKLY)))


def _rows_of(s: Any, uid: int) -> list[tuple[Any, ...]]:
    """Everything stored about one person, comparable before and after."""
    cids = [c.id for c in s.scalars(select(Consultation).where(Consultation.user_id == uid))]
    out: list[tuple[Any, ...]] = []
    for model, where in (
        (User, User.id == uid),
        (Consultation, Consultation.user_id == uid),
        (AnswerRecord, AnswerRecord.consultation_id.in_(cids)),
        (PlanItem, PlanItem.consultation_id.in_(cids)),
        (CheckIn, CheckIn.user_id == uid),
        (MentorRequest, MentorRequest.user_id == uid),
    ):
        for row in s.scalars(select(model).where(where).order_by(*model.__table__.primary_key)):
            out.append(tuple(getattr(row, c.key) for c in model.__table__.columns))
    return out


def _invalid_rows(s: Any, engine: Engine) -> list[str]:
    """Every row that breaks the schema's intent: too long, not text, answers that do not fit."""
    bad: list[str] = []
    models = (User, Consultation, AnswerRecord, PlanItem, TenantSettings, CheckIn)
    for model in (*models, MentorRequest, MentorJob, MentorPost):
        for row in s.scalars(select(model)):
            for col in model.__table__.columns:
                value = getattr(row, col.key)
                length = getattr(col.type, "length", None)
                if isinstance(value, str):
                    if length is not None and len(value) > length:
                        bad.append(f"{model.__name__}.{col.key} longer than {length}")
                    if re.search("[\x00\ud800-\udfff]", value):
                        bad.append(f"{model.__name__}.{col.key} holds NUL or a surrogate")
    for user in s.scalars(select(User)):
        if not (user.platform and user.platform_user_id):
            bad.append(f"user {user.id} without platform or id")
    for c in s.scalars(select(Consultation)):
        pb = engine.playbook(c.playbook_id, c.playbook_version)
        if pb is None or c.status not in ("active", "completed", "cancelled"):
            bad.append(f"consultation {c.id}: playbook or status")
            continue
        if c.current_step is not None and pb.question(c.current_step) is None:
            bad.append(f"consultation {c.id}: step {c.current_step!r}")
        for qid, value in (c.answers or {}).items():
            q = pb.question(qid)
            if q is None or parse_answer(q, value, pb.wording, 2000) != value:
                bad.append(f"consultation {c.id}: answer {qid}={value!r}")
    for a in s.scalars(select(AnswerRecord)):
        c = s.get(Consultation, a.consultation_id)
        pb = engine.playbook(c.playbook_id, c.playbook_version)
        q = pb.question(a.question_id) if pb else None
        if q is None or parse_answer(q, a.value, pb.wording, 2000) != a.value:
            bad.append(f"answer {a.id}: {a.question_id}={a.value!r}")
    for ci in s.scalars(select(CheckIn)):
        if ci.plan_item_id is not None:
            item = s.get(PlanItem, ci.plan_item_id)
            owner = s.get(Consultation, item.consultation_id).user_id if item else None
            if owner != ci.user_id:
                bad.append(f"check-in {ci.id} of user {ci.user_id} on another's plan")
        if ci.interval_days is not None and not 1 <= ci.interval_days <= 365:
            bad.append(f"check-in {ci.id}: interval {ci.interval_days}")
    return bad


def test_hostile_events_never_raise_and_leave_only_valid_rows(
    db_url: str, settings: Settings
) -> None:
    loop = asyncio.new_event_loop()
    engine = loop.run_until_complete(
        make_engine(db_url, settings.model_copy(update={"default_playbook": "tiny"}))
    )
    try:
        loop.run_until_complete(engine.set_mentor_channel("console", "local", "C1"))
        loop.run_until_complete(_finish(engine, BOB))
        loop.run_until_complete(_finish(engine, ALICE))

        def ids(s: Any) -> list[int]:
            found = [c.id for c in s.scalars(select(Consultation))]
            found += [c.id for c in s.scalars(select(CheckIn))]
            found += [p.id for p in s.scalars(select(PlanItem))]
            found += [c.occurrence for c in s.scalars(select(CheckIn))]
            return sorted(set(found))

        known = loop.run_until_complete(engine.db.run(ids))
        bob_uid = loop.run_until_complete(
            engine.db.run(lambda s: s.scalar(select(User.id).where(User.platform_user_id == "bob")))
        )
        bob_before = loop.run_until_complete(engine.db.run(_rows_of, bob_uid))
        failures: list[str] = []

        @hyp_settings(
            max_examples=EXAMPLES,
            deadline=None,
            database=None,
            suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
        )
        @given(st.lists(events(known), min_size=1, max_size=12))
        def run(batch: list[ev.InEvent]) -> None:
            for event in batch:
                try:
                    out = loop.run_until_complete(engine.handle(event))
                except Exception as exc:  # the property: this never happens
                    failures.append(f"{type(exc).__name__}: {exc!s:.200} for {event!r:.300}")
                    raise
                assert isinstance(out, Reply) and out.outcome in Outcome

        run()
        assert failures == []
        bad = loop.run_until_complete(engine.db.run(_invalid_rows, engine))
        assert bad == []
        assert loop.run_until_complete(engine.db.run(_rows_of, bob_uid)) == bob_before
    finally:
        loop.run_until_complete(engine.db.dispose())
        loop.close()
