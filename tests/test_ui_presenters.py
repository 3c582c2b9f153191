"""Presenters: every core result becomes cards that keep every platform's budgets, and every
component they carry encodes to an id the codec reads back."""

from __future__ import annotations

from datetime import date, datetime

from hypothesis import given, settings
from hypothesis import strategies as st

from bot.checkins import texts as checkin_texts
from bot.core.reply import Outcome
from bot.core.result import Result
from bot.messages import (
    AnswerSummary,
    CheckInCatchUp,
    CheckInList,
    CheckInOffer,
    CheckInPrompt,
    CheckInView,
    ChoiceOption,
    Confirm,
    ExportFile,
    Home,
    MissedCheckIn,
    NextStep,
    Notice,
    PathAdvice,
    PathDetail,
    Plan,
    PlanItemView,
    Question,
    QuestionKind,
    Recommendation,
    RescheduleQuestion,
    RevisitOffer,
    Status,
    Text,
    TimezoneQuestion,
)
from bot.ui import budgets, codec, presenters
from bot.ui import intents as it
from bot.ui.cards import Actions, Card, Choices, Steps, TextEntry

WORDS = st.text(
    alphabet=st.characters(blacklist_categories=("Cs",)), min_size=1, max_size=1600
).filter(str.strip)


def _fits(cards: list[Card]) -> None:
    for card in cards:
        assert budgets.check(card) == [], card
        for section in card.interactive():
            intents = [section.intent] if not isinstance(section, Actions) else []
            intents += [a.intent for a in section.items] if isinstance(section, Actions) else []
            if isinstance(section, Choices):
                intents += [
                    section.intent.with_value(o.value)
                    for o in section.options
                    if hasattr(section.intent, "value") and codec._STR.fullmatch(o.value)
                ]
            for intent in intents:
                assert codec.decode(codec.encode(intent)) == intent


def _path(n: int, text: str) -> PathAdvice:
    return PathAdvice(
        path_id=f"path_{n}",
        rank=n,
        title=text[:100],
        summary=text,
        score=1.0,
        reasons=(text,) * 4,
        pros=(text,) * 6,
        cons=(text,) * 6,
        risks=(text,) * 6,
        next_steps=tuple(NextStep(text[:300], date(2027, 1, n)) for _ in range(5)),
    )


@settings(max_examples=40, deadline=None)
@given(WORDS)
def test_any_recommendation_fits(text: str) -> None:
    rec = Recommendation(
        consultation_id=7,
        step=12,
        playbook_title=text[:100],
        paths=tuple(_path(n, text) for n in range(1, 11)),
        why_order=(text,) * 3,
        what_would_change=text,
        notes=(text,) * 3,
        dropped=(text,) * 4,
    )
    plan = Plan(7, tuple(PlanItemView(i, text[:500], date(2027, 2, 1), "open") for i in range(5)))
    cards = presenters.present([rec, plan])
    _fits(cards)
    # Every ranked path can be opened, by its own button.
    opened = {
        a.intent.path
        for c in cards
        for s in c.sections
        if isinstance(s, Actions)
        for a in s.items
        if isinstance(a.intent, it.OpenPath)
    }
    assert opened == {p.path_id for p in rec.paths}
    _fits(presenters.path_detail(PathDetail(7, rec.paths[0])))


@settings(max_examples=40, deadline=None)
@given(WORDS, st.integers(min_value=2, max_value=100))
def test_any_question_fits(text: str, n: int) -> None:
    choices = tuple(ChoiceOption(f"c{i}", text[:80], text[:100]) for i in range(n))
    for kind in QuestionKind:
        q = Question(
            consultation_id=1,
            step=2,
            question_id="q",
            kind=kind,
            prompt=text,
            help=text,
            choices=choices
            if kind in (QuestionKind.SINGLE_CHOICE, QuestionKind.MULTI_CHOICE)
            else (),
            optional=True,
            max_choices=n if kind == QuestionKind.MULTI_CHOICE else 1,
            max_length=500,
            current=text[:500] if kind == QuestionKind.FREE_TEXT else None,
            error=text,
        )
        _fits([presenters.question(q), presenters.answered(q, text)])


@settings(max_examples=25, deadline=None)
@given(WORDS)
def test_any_check_in_message_fits(text: str) -> None:
    when = datetime(2027, 1, 5, 10, 0)
    items = tuple(PlanItemView(i, text[:500], date(2027, 1, 9), "open") for i in range(30))
    views = tuple(
        CheckInView(i, i, text[:500], "every 7 days", "pending", when, "open", text[:200])
        for i in range(1, 40)
    )
    messages = [
        CheckInOffer(3, items, checkin_texts.OFFER_CHOICES, "Europe/Berlin", False),
        CheckInPrompt(5, 2, 9, text[:500], when, "UTC", checkin_texts.PROMPT_CHOICES, 7),
        CheckInCatchUp(
            text[:900],
            tuple(MissedCheckIn(i, text[:500]) for i in range(1, 12)),
            "UTC",
            checkin_texts.CATCHUP_CHOICES,
        ),
        CheckInList(views, "UTC", "21:00-08:00", checkin_texts.LIST_ACTIONS),
        TimezoneQuestion(text[:1400], "UTC", checkin_texts.TIMEZONE_SUGGESTIONS),
        RevisitOffer(
            3, text[:1400], tuple(ChoiceOption(f"q{i}", text[:80], text[:100]) for i in range(30))
        ),
        RescheduleQuestion(12),
        Status(
            1,
            text[:100],
            "active",
            3,
            14,
            tuple(AnswerSummary(f"q{i}", text[:200], text[:500]) for i in range(14)),
        ),
        Confirm(text[:1400], "forget"),
        Text(text, text[:100]),
        Notice(text),
        ExportFile("me.md", text),
    ]
    _fits(presenters.present(messages))


@settings(max_examples=25, deadline=None)
@given(WORDS)
def test_any_home_overview_fits(text: str) -> None:
    """The App Home overview, in every state, with long text and many check-ins."""
    when = datetime(2027, 1, 5, 10, 0)
    rec = Recommendation(7, 12, text[:100], tuple(_path(n, text) for n in range(1, 11)), (), text)
    items = tuple(PlanItemView(i, text[:500], date(2027, 2, i), "open") for i in range(1, 9))
    plan = Plan(7, items)
    views = tuple(
        CheckInView(i, i, text[:500], "every 7 days", "pending", when, "open", text[:200])
        for i in range(1, 40)
    )
    checkins = CheckInList(views, "UTC", "21:00-08:00", checkin_texts.LIST_ACTIONS)
    answers = tuple(AnswerSummary(f"q{i}", text[:200], text[:500]) for i in range(14))
    active = Status(7, text[:100], "active", 3, 14, answers)
    done = Status(7, text[:100], "completed", 14, 14, answers)
    for home in (
        Home(status=None),
        Home(status=None, checkins=checkins),
        Home(status=active, question=4, total=14, plan=plan, checkins=checkins),
        Home(status=done, recommendation=rec, plan=plan, checkins=checkins),
    ):
        cards = presenters.present([home])
        _fits(cards)
        assert cards and cards[0].interactive()  # always a way to go on
    cards = presenters.home(Home(status=done, recommendation=rec, plan=plan))
    opened = [
        a.intent.path
        for c in cards
        for s in c.sections
        if isinstance(s, Actions)
        for a in s.items
        if isinstance(a.intent, it.OpenPath)
    ]
    assert opened == ["path_1", "path_2", "path_3"]  # the top routes, in rank order
    shown = [st.text for c in cards for s in c.sections if isinstance(s, Steps) for st in s.items]
    assert len(shown) == presenters.HOME_STEPS  # the top of the plan, not all of it


def test_plan_steps_are_in_date_order() -> None:
    plan = Plan(
        1,
        (
            PlanItemView(1, "later", date(2027, 3, 1), "open"),
            PlanItemView(2, "undated", None, "open"),
            PlanItemView(3, "sooner", date(2027, 1, 1), "open"),
        ),
    )
    (card,) = presenters.present([plan])
    (steps,) = [s for s in card.sections if isinstance(s, Steps)]
    assert [s.text for s in steps.items] == ["sooner", "later", "undated"]


def test_a_free_text_question_is_a_text_box_and_an_applied_answer_has_a_receipt() -> None:
    q = Question(
        1, 4, "notes", QuestionKind.FREE_TEXT, "Anything else?", optional=True, max_length=300
    )
    card = presenters.question(q)
    (entry,) = card.interactive()
    assert isinstance(entry, TextEntry) and entry.intent == it.AnswerQuestion(
        consultation=1, step=4
    )
    assert entry.max_length == 300 and entry.optional
    reply = presenters.reply(Result(Outcome.APPLIED, [], answered=(q, "my words")))
    assert reply.receipt is not None and "my words" in reply.receipt.plain()
    assert reply.outcome == Outcome.APPLIED and reply.cards == ()


def test_a_confirmation_asks_before_deleting() -> None:
    reply = presenters.reply(Result(Outcome.CONFIRM, [Confirm("Sure?", "forget")]))
    (card,) = reply.cards
    (actions,) = card.interactive()
    assert isinstance(actions, Actions)
    assert [a.intent for a in actions.items] == [
        it.ConfirmAction(action="forget", yes=True),
        it.ConfirmAction(action="forget", yes=False),
    ]
    assert reply.awaiting == "confirm:forget"
