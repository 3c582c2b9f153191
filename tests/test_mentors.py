"""The mentor hand-off in the core, on SQLite and PostgreSQL, with an in-memory board.

What a person and a mentor would notice: nothing is posted before yes, and then exactly
what the consent card showed; the mentors whose tags fit are mentioned; of two mentors
claiming at once one wins and the other is told politely; a handed-back request returns
to the board and an unclaimed one is posted again once, whichever process does it;
withdrawing takes the card down; forgetting deletes every post and every row; check-in
answers reach the mentor only when the person agreed. The platform tests
(tests/test_mentors_platforms.py) show the same through the real adapters.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import func, select

from bot import events as ev
from bot.checkins.sender import RetryAfter
from bot.core.actions import Click
from bot.core.reply import Outcome, Reply
from bot.engine import Engine
from bot.mentors.worker import MentorWorker
from bot.settings import Settings
from bot.store.database import Database
from bot.store.models import MentorJob, MentorPost, MentorRequest, MentorTag
from bot.ui import budgets
from bot.ui import intents as it
from bot.ui.cards import Actions, Card
from tests.conftest import FIXED_NOW, make_engine
from tests.mentor_support import ANSWERS, SECRET, FakeBoard, finish, plain

TEAM = "T0MENTOR"
PERSON = ev.UserRef("slack", TEAM, "U0PERSON")
ANNA = ev.UserRef("slack", TEAM, "U0ANNA")  # tagged: doctorate
BEN = ev.UserRef("slack", TEAM, "U0BEN")  # tagged: a topic this person did not pick
CARL = ev.UserRef("slack", TEAM, "U0CARL")  # untagged, can see the channel
CHANNEL = "C0MENTORS"


class Clock:
    def __init__(self, now: datetime = FIXED_NOW) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now


@pytest.fixture
async def world(db_url: str, settings: Settings) -> AsyncIterator[tuple[Engine, FakeBoard, Any]]:
    clock = Clock()
    engine = await make_engine(
        db_url, settings.model_copy(update={"default_playbook": "advice-test"}), "advice"
    )
    engine.clock = clock
    assert (await engine.set_mentor_channel("slack", TEAM, CHANNEL)).outcome == Outcome.APPLIED
    await engine.tag_mentor("slack", TEAM, ANNA.user_id, ["doctorate"])
    await engine.tag_mentor("slack", TEAM, BEN.user_id, ["ml_admission"])
    board = FakeBoard("slack")
    worker = MentorWorker(engine.db, boards={"slack": board}, worker_id="w1", clock=clock)
    yield engine, board, worker
    await engine.db.dispose()


def buttons(cards: tuple[Card, ...] | list[Card]) -> list[it.Intent]:
    return [a.intent for c in cards for s in c.basic() if isinstance(s, Actions) for a in s.items]


def intent_of(cards: tuple[Card, ...] | list[Card], kind: type[it.Intent], value: str = "") -> Any:
    found = [i for i in buttons(cards) if isinstance(i, kind)]
    if value:
        found = [i for i in found if getattr(i, "value", "") == value]
    assert found, f"no {kind.__name__} in {buttons(cards)}"
    return found[0]


async def consent(engine: Engine) -> Reply:
    reply = await finish(engine, PERSON)
    ask = intent_of(reply.cards, it.AskMentor)
    return await engine.act(PERSON, ask)


async def share(engine: Engine, worker: MentorWorker, value: str = "share") -> Reply:
    shown = await consent(engine)
    assert shown.outcome == Outcome.CONFIRM
    reply = await engine.act(PERSON, intent_of(shown.cards, it.ShareWithMentor, value))
    assert reply.outcome == Outcome.APPLIED, reply.text()
    await worker.drain()
    return reply


def claim_intent(board: FakeBoard) -> it.ClaimRequest:
    (card,) = board.live(CHANNEL)
    return intent_of(card.cards, it.ClaimRequest)


async def count(engine: Engine, model: Any) -> int:
    return int(await engine.db.run(lambda s: s.scalar(select(func.count()).select_from(model))))


async def test_the_offer_follows_the_advice_and_nothing_is_posted_before_yes(
    world: tuple[Engine, FakeBoard, MentorWorker],
) -> None:
    engine, board, worker = world
    shown = await consent(engine)
    assert shown.outcome == Outcome.CONFIRM
    text = plain(shown.cards)
    # Exactly what would be shared: background answers, routes, the short version, questions.
    for expected in (
        "highest degree: Master's",
        "field: Physics",
        "A PhD in ML for your own field",
        "My advice: a PhD in ML for your own field.",
        "Do you need another master's?",
        "What is your domain knowledge worth?",
    ):
        assert expected in text
    assert SECRET not in text and "Elm Road" not in text  # the story is never shared
    assert all(budgets.check(c) == [] for c in shown.cards)
    await worker.drain()
    assert board.calls == [] and await count(engine, MentorRequest) == 0
    declined = await engine.act(PERSON, intent_of(shown.cards, it.ShareWithMentor, "no"))
    assert declined.outcome == Outcome.APPLIED and "Nothing was shared" in declined.text()
    assert declined.receipt is not None and "Not now" in declined.receipt.plain()
    await worker.drain()
    assert board.calls == [] and await count(engine, MentorRequest) == 0


async def test_the_posted_card_is_the_consent_card_and_mentions_the_fitting_mentors(
    world: tuple[Engine, FakeBoard, MentorWorker],
) -> None:
    engine, board, worker = world
    shown = await consent(engine)
    await engine.act(PERSON, intent_of(shown.cards, it.ShareWithMentor, "share"))
    await worker.drain()
    (card,) = board.live(CHANNEL)
    # Every answer, route, advice line and question on the board was on the consent card.
    consent_lines = set(plain(shown.cards).splitlines())
    shared = [
        line
        for c in card.cards
        for line in c.plain().splitlines()
        if ":" in line or line.startswith(("A ", "Another", "My advice", "Do ", "What "))
    ]
    assert shared and all(line in consent_lines for line in shared if "Crossroads" not in line)
    assert SECRET not in card.text and PERSON.user_id not in card.text
    # Anna's tag (doctorate) fits the top route; Ben's (ml_admission) fits nothing asked.
    assert card.mention is not None and card.mention.users == (ANNA.user_id,)
    assert all(budgets.check(c) == [] for c in card.cards)
    again = await worker.drain()
    assert again.claimed == 0 and len(board.live(CHANNEL)) == 1  # posted once


async def test_two_mentors_claiming_at_once_one_wins_the_other_is_told(
    world: tuple[Engine, FakeBoard, MentorWorker],
) -> None:
    engine, board, worker = world
    await share(engine, worker)
    claim = claim_intent(board)
    anna, ben = await asyncio.gather(
        engine.act(ANNA, claim, Click()), engine.act(BEN, claim, Click())
    )
    outcomes = sorted([anna.outcome, ben.outcome])
    assert outcomes == sorted([Outcome.APPLIED, Outcome.REFUSED])
    winner, loser = (ANNA, ben) if anna.outcome == Outcome.APPLIED else (BEN, anna)
    assert "Another mentor has already taken" in loser.text()
    request = await engine.db.run(lambda s: s.scalars(select(MentorRequest)).one())
    assert request.state == "claimed" and request.claimed_by == winner.user_id
    await worker.drain()
    (intro,) = board.intros
    assert (intro.person, intro.mentor) == (PERSON.user_id, winner.user_id)
    assert "Background" in plain(intro.cards) and SECRET not in plain(intro.cards)
    (card,) = board.live(CHANNEL)
    assert "taken" in card.text and "Background" not in card.text  # no summary once taken
    assert (await engine.act(CARL, claim)).outcome == Outcome.REFUSED


async def test_a_claim_from_elsewhere_or_by_the_person_is_refused(
    world: tuple[Engine, FakeBoard, MentorWorker],
) -> None:
    engine, board, worker = world
    await share(engine, worker)
    claim = claim_intent(board)
    stranger = ev.UserRef("slack", "T0OTHER", "U0ANNA")
    assert (await engine.act(stranger, claim)).outcome == Outcome.REFUSED
    assert (await engine.act(PERSON, claim)).outcome == Outcome.REFUSED
    request = await engine.db.run(lambda s: s.scalars(select(MentorRequest)).one())
    assert request.state == "requested"


async def test_a_handed_back_request_returns_to_the_board_and_resurfaces_once(
    world: tuple[Engine, FakeBoard, MentorWorker],
) -> None:
    engine, board, worker = world
    await share(engine, worker)
    claim = claim_intent(board)
    assert (await engine.act(ANNA, claim)).outcome == Outcome.APPLIED
    await worker.drain()
    (intro,) = [m for m in board.live() if m.channel.startswith("G-")]
    release = intent_of(intro.cards, it.ReleaseRequest)
    assert (await engine.act(PERSON, release)).outcome == Outcome.REFUSED  # not the mentor's
    released = await engine.act(ANNA, release)
    assert released.outcome == Outcome.APPLIED
    assert released.receipt is not None and "handed this request back" in released.receipt.plain()
    await worker.drain()
    (card,) = board.live(CHANNEL)
    assert "Background" in card.text and isinstance(
        intent_of(card.cards, it.ClaimRequest), it.ClaimRequest
    )
    assert "Background" not in intro.text  # the introduction keeps no summary any more
    # After the configured time, still unclaimed: posted again once, the old card gone.
    worker.clock.now += timedelta(hours=engine.settings.mentor_resurface_hours, minutes=1)  # type: ignore[attr-defined]
    await worker.drain()
    (again,) = board.live(CHANNEL)
    assert again is not card and "Still looking for a mentor" in again.text
    worker.clock.now += timedelta(days=30)  # type: ignore[attr-defined]
    assert (await worker.drain()).claimed == 0
    assert board.live(CHANNEL) == [again]


async def test_withdrawing_takes_the_card_down_and_tells_the_mentor(
    world: tuple[Engine, FakeBoard, MentorWorker],
) -> None:
    engine, board, worker = world
    await share(engine, worker)
    assert (await engine.act(ANNA, claim_intent(board))).outcome == Outcome.APPLIED
    await worker.drain()
    withdrawn = await engine.handle(ev.Typed(user=PERSON, text="mentor withdraw"))
    assert withdrawn.outcome == Outcome.APPLIED
    await worker.drain()
    assert board.live(CHANNEL) == []
    (intro,) = board.live()
    assert "withdrew" in intro.text and "Background" not in intro.text
    request = await engine.db.run(lambda s: s.scalars(select(MentorRequest)).one())
    assert request.state == "withdrawn"
    assert (await engine.handle(ev.Typed(user=PERSON, text="mentor withdraw"))).outcome in (
        Outcome.NOT_FOUND,
        Outcome.STALE,
    )
    # A new request is possible after a withdrawal.
    assert (await engine.handle(ev.AskMentor(user=PERSON))).outcome == Outcome.CONFIRM


async def test_forget_deletes_every_post_and_row(
    world: tuple[Engine, FakeBoard, MentorWorker],
) -> None:
    engine, board, worker = world
    await share(engine, worker, "share_checkins")
    assert (await engine.act(ANNA, claim_intent(board))).outcome == Outcome.APPLIED
    await worker.drain()
    assert len(board.live()) == 2  # the taken card and the introduction
    await engine.handle(ev.Forget(user=PERSON))
    forgot = await engine.handle(ev.Forget(user=PERSON, confirmed=True))
    assert forgot.outcome == Outcome.APPLIED and "mentors channel" in forgot.text()
    await worker.drain()
    assert board.live() == []
    for model in (MentorRequest, MentorPost, MentorJob):
        assert await count(engine, model) == 0, model.__name__


async def test_forget_retries_a_delete_the_platform_refused_for_now(
    world: tuple[Engine, FakeBoard, MentorWorker],
) -> None:
    engine, board, worker = world
    await share(engine, worker)
    await engine.handle(ev.Forget(user=PERSON, confirmed=True))
    board.results.append(RetryAfter(30.0))
    await worker.drain()
    assert len(board.live(CHANNEL)) == 1 and await count(engine, MentorRequest) == 0
    worker.clock.now += timedelta(seconds=31)  # type: ignore[attr-defined]
    await worker.drain()
    assert board.live() == [] and await count(engine, MentorJob) == 0


async def test_a_mentor_who_forgets_hands_their_requests_back(
    world: tuple[Engine, FakeBoard, MentorWorker],
) -> None:
    engine, board, worker = world
    await share(engine, worker)
    assert (await engine.act(ANNA, claim_intent(board))).outcome == Outcome.APPLIED
    await worker.drain()
    await engine.handle(ev.Forget(user=ANNA, confirmed=True))
    await worker.drain()
    request = await engine.db.run(lambda s: s.scalars(select(MentorRequest)).one())
    assert request.state == "released" and request.claimed_by is None
    tags = await engine.db.run(lambda s: list(s.scalars(select(MentorTag.mentor_id))))
    assert tags == [BEN.user_id]
    (card,) = board.live(CHANNEL)
    assert "Background" in card.text  # back on the board


async def test_checkin_answers_reach_the_mentor_only_with_consent(
    world: tuple[Engine, FakeBoard, MentorWorker],
) -> None:
    engine, board, worker = world
    await share(engine, worker, "share_checkins")
    assert (await engine.act(ANNA, claim_intent(board))).outcome == Outcome.APPLIED
    await worker.drain()
    checkins = await _delivered_checkin(engine)
    await engine.handle(
        ev.AnswerCheckIn(user=PERSON, checkin_id=checkins[0], occurrence=1, answer="blocked")
    )
    await worker.drain()
    group = board.intros[0]
    notes = [
        m for m in board.live(f"G-{group.person}-{group.mentor}") if "Check-in update" in m.text
    ]
    assert len(notes) == 1 and "Blocked" in notes[0].text


async def test_no_checkin_copies_without_consent(
    world: tuple[Engine, FakeBoard, MentorWorker],
) -> None:
    engine, board, worker = world
    await share(engine, worker, "share")
    assert (await engine.act(ANNA, claim_intent(board))).outcome == Outcome.APPLIED
    await worker.drain()
    checkins = await _delivered_checkin(engine)
    await engine.handle(
        ev.AnswerCheckIn(user=PERSON, checkin_id=checkins[0], occurrence=1, answer="done")
    )
    await worker.drain()
    assert not [m for m in board.live() if "Check-in update" in m.text]


async def _delivered_checkin(engine: Engine) -> list[int]:
    """Schedule check-ins on the plan and mark the first as delivered (as the worker would)."""
    from sqlalchemy import update

    from bot.store.models import CheckIn

    await engine.handle(ev.ScheduleCheckIns(user=PERSON, when=ev.When(kind="weekly")))

    def unit(s: Any) -> list[int]:
        ids = list(s.scalars(select(CheckIn.id).order_by(CheckIn.id)))
        s.execute(update(CheckIn).where(CheckIn.id == ids[0]).values(sent_occurrence=1))
        return ids

    return await engine.db.run(unit)


async def test_typed_consent_shares_the_summary_that_was_shown(
    world: tuple[Engine, FakeBoard, MentorWorker],
) -> None:
    engine, board, worker = world
    await finish(engine, PERSON)
    asked = await engine.handle(ev.Typed(user=PERSON, text="mentor"))
    assert asked.outcome == Outcome.CONFIRM
    # The answers change after the card was shown: a typed yes shares nothing.
    await engine.handle(ev.Edit(user=PERSON, question="pay"))
    await engine.handle(ev.Answer(user=PERSON, value="4"))
    stale = await engine.handle(ev.Typed(user=PERSON, text="yes"))
    assert stale.outcome in (Outcome.STALE, Outcome.NOT_FOUND)
    await worker.drain()
    assert board.calls == []
    again = await engine.handle(ev.Typed(user=PERSON, text="mentor"))
    assert again.outcome == Outcome.CONFIRM
    yes = await engine.handle(ev.Typed(user=PERSON, text="yes"))
    assert yes.outcome == Outcome.APPLIED
    await worker.drain()
    assert len(board.live(CHANNEL)) == 1


async def test_resurfacing_happens_once_across_two_processes(
    db_url: str, settings: Settings
) -> None:
    """Two engines on one database (two processes), each with its own worker and board: the
    re-surfacing of an unclaimed request is posted by exactly one of them."""
    clock = Clock()
    tuned = settings.model_copy(update={"default_playbook": "advice-test"})
    first = await make_engine(db_url, tuned, "advice")
    second = await make_engine(db_url, tuned, "advice", inline=False)
    first.clock = second.clock = clock
    boards = [FakeBoard("slack"), FakeBoard("slack")]
    workers = [
        MentorWorker(e.db, boards={"slack": b}, worker_id=f"p{n}", clock=clock)
        for n, (e, b) in enumerate(zip((first, second), boards, strict=True))
    ]
    try:
        await first.set_mentor_channel("slack", TEAM, CHANNEL)
        await share(first, workers[0])
        assert [len(b.live()) for b in boards] == [1, 0]
        clock.now += timedelta(hours=tuned.mentor_resurface_hours, minutes=1)
        for board in boards:
            board.hold = asyncio.Event()
            board.calls.clear()
        rounds = [asyncio.create_task(w.drain()) for w in workers]
        # One process holds the job (its post waits); the other's round found it taken.
        await _until(lambda: any(b.calls for b in boards) and any(t.done() for t in rounds))
        assert sum(b.calls.count("post") for b in boards) == 1
        for board in boards:
            board.hold.set()
        await asyncio.gather(*rounds)
        for w in workers:
            await w.drain()  # deletes the first card (either process may)
        posts = [m for b in boards for m in b.messages.values() if "Still looking" in m.text]
        assert len(posts) == 1
        clock.now += timedelta(days=10)
        assert [(await w.drain()).claimed for w in workers] == [0, 0]
    finally:
        await first.db.dispose()
        await second.db.dispose()


async def _until(check: Any, timeout: float = 10.0) -> None:  # noqa: ASYNC109
    """Poll ``check`` until it holds or until the deadline (a generous one)."""
    deadline = asyncio.get_running_loop().time() + timeout
    while not check():
        if asyncio.get_running_loop().time() > deadline:
            return  # the assertion after says what went wrong
        await asyncio.sleep(0.01)


async def test_a_worker_whose_lease_ran_out_records_nothing(
    db_url: str, settings: Settings
) -> None:
    """A process that stalls past its lease: another takes the job over; the stalled one's
    late result is not recorded (no second board card)."""
    clock = Clock()
    engine = await make_engine(
        db_url, settings.model_copy(update={"default_playbook": "advice-test"}), "advice"
    )
    engine.clock = clock
    other_db = Database(db_url, sqlite_inline=False)
    slow, fast = FakeBoard("slack"), FakeBoard("slack")
    slow.hold = asyncio.Event()
    stalled = MentorWorker(engine.db, boards={"slack": slow}, worker_id="slow", clock=clock)
    taker = MentorWorker(other_db, boards={"slack": fast}, worker_id="fast", clock=clock)
    try:
        await engine.set_mentor_channel("slack", TEAM, CHANNEL)
        shown = await consent(engine)
        await engine.act(PERSON, intent_of(shown.cards, it.ShareWithMentor, "share"))
        job = asyncio.create_task(stalled.drain())
        await _until(lambda: slow.calls == ["post"])
        clock.now += stalled.config.lease + timedelta(seconds=1)
        await taker.drain()
        slow.hold.set()
        await job
        posts = await engine.db.run(lambda s: list(s.scalars(select(MentorPost))))
        assert len(posts) == 1 and posts[0].ref in fast.messages
    finally:
        await other_db.dispose()
        await engine.db.dispose()


async def test_export_lists_each_request_and_exactly_what_it_shared(
    world: tuple[Engine, FakeBoard, MentorWorker],
) -> None:
    engine, _board, worker = world
    await share(engine, worker, "share_checkins")
    exported = await engine.handle(ev.Export(user=PERSON))
    (card,) = exported.cards
    assert card.attachment is not None
    text = card.attachment.content
    section = text[text.index("## Mentor requests") :]
    assert "requested; check-in answers copied to the mentor" in section
    assert "highest degree: Master's" in section
    assert "Route you are weighing: A PhD in ML for your own field" in section
    assert "Your question: What is your domain knowledge worth?" in section
    assert SECRET not in section


def test_slack_mentor_subcommands_parse() -> None:
    from adapters.slack.slash import Kind, parse

    assert parse("mentor").command == "mentor"
    assert parse("mentor withdraw").kind is Kind.MENTOR_WITHDRAW
    assert parse("settings mentors").kind is Kind.MENTORS
    channel = parse("settings mentors channel <#C0MENTORS|mentors>")
    assert (channel.kind, channel.channel) == (Kind.MENTORS_CHANNEL, "C0MENTORS")
    tag = parse("settings mentors tag <@U0ANNA|anna> Doctorate industry")
    assert (tag.kind, tag.mentor, tag.tags) == (
        Kind.MENTORS_TAG,
        "U0ANNA",
        ("doctorate", "industry"),
    )
    untag = parse("settings mentors untag <@U0ANNA>")
    assert (untag.kind, untag.mentor, untag.tags) == (Kind.MENTORS_TAG, "U0ANNA", ())
    assert parse("settings mentors channel #mentors").kind is Kind.INVALID  # unescaped: no id
    assert parse("settings mentors tag <@U0ANNA>").kind is Kind.INVALID  # no tags


async def test_unknown_tags_are_refused_with_the_known_ones(
    world: tuple[Engine, FakeBoard, MentorWorker],
) -> None:
    engine, _board, _worker = world
    reply = await engine.tag_mentor("slack", TEAM, "U0DANA", ["astrology"])
    assert reply.outcome == Outcome.INVALID
    assert "astrology" in reply.text() and "doctorate" in reply.text()
    overview = await engine.mentor_overview("slack", TEAM)
    assert "U0DANA" not in overview.text() and "Mentor U0ANNA: doctorate." in overview.text()


async def test_a_double_click_on_share_creates_one_request(
    world: tuple[Engine, FakeBoard, MentorWorker],
) -> None:
    engine, board, worker = world
    shown = await consent(engine)
    yes = intent_of(shown.cards, it.ShareWithMentor, "share")
    first, second = await asyncio.gather(engine.act(PERSON, yes), engine.act(PERSON, yes))
    assert sorted([first.outcome, second.outcome]) == sorted([Outcome.APPLIED, Outcome.STALE])
    await worker.drain()
    assert await count(engine, MentorRequest) == 1 and len(board.live(CHANNEL)) == 1


async def test_the_largest_summary_of_the_default_playbook_is_one_message_everywhere(
    sqlite_url: str, settings: Settings
) -> None:
    """Every option of every multiple-choice question picked: the board card and the
    introduction still fit one card, one Discord message and one Slack message."""
    from adapters.discord.cards import render as discord_render
    from adapters.slack.cards import render as slack_render
    from bot.messages import MentorBoardCard, MentorIntro, Question, QuestionKind
    from bot.ui.presenters import present

    engine = await make_engine(sqlite_url, settings, "ml-research-career")
    user = ev.UserRef("slack", TEAM, "U0MAX")
    try:
        await engine.set_mentor_channel("slack", TEAM, CHANNEL)
        res = await engine.run(ev.Start(user=user, playbook_id="ml-research-career"))
        for _ in range(40):
            asked = [m for m in res.messages if isinstance(m, Question)]
            if not asked:
                break
            q = asked[-1]
            value: Any
            if q.kind == QuestionKind.FREE_TEXT:
                value = "skip"
            elif q.kind == QuestionKind.SCALE:
                value = str(q.scale_max)
            elif q.kind == QuestionKind.MULTI_CHOICE:
                value = [c.id for c in q.choices][: q.max_choices]
                value = [v for v in value if v not in ("none", "none_yet", "not_yet", "courses")]
            else:
                value = q.choices[0].id
            res = await engine.run(ev.Answer(user=user, value=value))
        shown = await engine.handle(ev.AskMentor(user=user))
        assert shown.outcome == Outcome.CONFIRM, shown.text()
        (consent_card,) = shown.cards
        assert budgets.check(consent_card) == []
        summary = next(m for m in (await engine.run(ev.AskMentor(user=user))).messages)
        for view in (
            MentorBoardCard(1, "requested", summary.summary),  # type: ignore[union-attr]
            MentorIntro(1, "claimed", summary.summary, True),  # type: ignore[union-attr]
        ):
            cards = present([view])
            assert len(cards) == 1 and budgets.check(cards[0]) == []
            assert len(discord_render(cards)) == 1
            assert len(slack_render(cards)) == 1
    finally:
        await engine.db.dispose()


def offers_mentor(reply: Reply) -> bool:
    return any(isinstance(i, it.AskMentor) for i in buttons(reply.cards))


async def test_no_second_offer_while_a_request_is_open(
    world: tuple[Engine, FakeBoard, MentorWorker],
) -> None:
    engine, _board, worker = world
    await share(engine, worker)
    again = await finish(engine, PERSON)
    assert not offers_mentor(again), "a person with an open request is offered a second one"


async def test_the_offer_follows_the_server_the_consultation_started_in(
    world: tuple[Engine, FakeBoard, MentorWorker],
) -> None:
    engine, _board, _worker = world
    # Discord keys people by user: their own tenant has no mentor channel here; a
    # consultation started from the server that has one carries the offer, one started
    # without that server does not.
    stranger = ev.UserRef("slack", "T0ELSEWHERE", "U0STRANGER")
    assert not offers_mentor(await finish(engine, stranger))
    await engine.handle(ev.Restart(user=stranger, playbook_id="advice-test", origin_tenant=TEAM))
    reply = None
    for value in ANSWERS:
        reply = await engine.handle(ev.Answer(user=stranger, value=value))
    assert reply is not None and reply.finished
    assert offers_mentor(reply)
