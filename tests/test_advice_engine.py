"""The composed advice through the engine: stored with the snapshot, shown as cards, the
same when shown again, details for every ranked path; version-1 snapshots still show."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import pytest

from bot import events as ev
from bot.engine import Engine
from bot.messages import PathDetail, Recommendation
from bot.settings import Settings
from bot.snapshots import payload_to_advice, payload_to_recommendation
from bot.store import repository as repo
from bot.ui import budgets, presenters
from bot.ui.cards import Actions, Card, Fields, Steps
from tests.conftest import make_engine

BOB = ev.UserRef("console", "local", "bob")
ANSWERS: list[Any] = [
    "academic",  # goal
    "master",  # degree
    "physics",  # field
    "europe",  # region
    ["phd_domain", "masters"],  # routes
    ["domain"],  # topics
    "5",  # safety
    "2",  # pay
    "Is a second master's worth it?",  # story
]


@pytest.fixture
async def eng(db_url: str, settings: Settings) -> AsyncIterator[Engine]:
    engine = await make_engine(
        db_url, settings.model_copy(update={"default_playbook": "advice-test"}), "advice"
    )
    yield engine
    await engine.db.dispose()


async def finish(eng: Engine) -> tuple[Card, ...]:
    await eng.handle(ev.Start(user=BOB, playbook_id="advice-test"))
    reply = None
    for value in ANSWERS:
        reply = await eng.handle(ev.Answer(user=BOB, value=value))
    assert reply is not None and reply.finished
    return reply.cards


def plain(cards: tuple[Card, ...] | list[Card]) -> str:
    return "\n".join(c.plain() for c in cards)


async def test_the_finished_consultation_shows_the_composed_advice(eng: Engine) -> None:
    cards = await finish(eng)
    text = plain(cards)
    # The answer first, then the person's routes, their questions, and the plan.
    assert "My advice: a PhD in ML for your own field." in text
    order = [
        "In short",
        "The routes you named",
        "Do you need another master's?",
        "What is your domain knowledge worth?",
        "Your next steps",
        "Every route I considered",
    ]
    positions = [text.index(h) for h in order]
    assert positions == sorted(positions)
    verdicts = next(s for c in cards for s in c.sections if isinstance(s, Fields))
    assert [f.name for f in verdicts.items] == [
        "A PhD in ML for your own field",
        "Another master's first",
    ]
    assert verdicts.items[1].value.startswith("Skip it, unless")
    assert "Is a second master's worth it?" not in text  # the typed worry is answered, not echoed
    assert all(budgets.check(c) == [] for c in cards)
    # Every ranked path has a details action, beyond the three the ranking shows.
    details = [a for c in cards for s in c.sections if isinstance(s, Actions) for a in s.items]
    opens = [a.command for a in details if a.command.startswith("details")]
    assert opens == ["details 1", "details 2", "details 3", "details 4"]


async def test_the_plan_is_stored_in_date_order_with_the_calendar_step(eng: Engine) -> None:
    cards = await finish(eng)
    steps = [st for c in cards for s in c.sections if isinstance(s, Steps) for st in s.items]
    dues = [st.due for st in steps if st.due is not None]
    assert dues == sorted(dues)
    assert any(st.text == "Send your applications to European groups." for st in steps)

    def items(s: Any) -> list[str]:
        uid = repo.user_id(s, BOB)
        assert uid is not None
        (consultation,) = repo.user_consultations(s, uid)
        return [i.action for i in repo.plan_items(s, consultation.id)]

    stored = await eng.db.run(items)
    assert stored == [st.text for st in steps]


async def test_showing_it_again_gives_the_same_text(eng: Engine) -> None:
    first = await finish(eng)
    again = await eng.handle(ev.Resume(user=BOB))
    shown = plain(again.cards)
    assert "My advice:" in shown
    # The same advice; the first time it came after a "finished" line and before the offer.
    assert shown in plain(first)


async def test_details_open_for_every_ranked_path(eng: Engine) -> None:
    await finish(eng)
    res = await eng.run(
        ev.ShowPath(user=BOB, path_id="masters_first")
    )  # ranked fourth, beyond the card
    (detail,) = res.messages
    assert isinstance(detail, PathDetail) and detail.view is not None
    cards = presenters.present(res.messages)
    text = plain(cards)
    assert cards[0].title == "4. Another master's first"
    assert "You already hold a master's." in text  # its reason against, with the cons
    assert "It delays research without adding research evidence. Pick a master's" in text
    assert "Compare three master's programmes with a research thesis." in text


def test_a_version_1_snapshot_still_loads_and_shows() -> None:
    v1 = {
        "paths": [
            {
                "path_id": "job",
                "rank": 1,
                "title": "Get a job",
                "summary": "Work in industry.",
                "score": 1.0,
                "reasons": ["It pays."],
                "pros": [],
                "cons": [],
                "risks": [],
                "next_steps": [{"text": "Update your CV.", "due": "2026-03-05"}],
            }
        ],
        "why_order": ["Pay matters to you."],
        "what_would_change": "Nothing.",
        "dropped": [],
        "notes": [],
        "answers": {},
    }
    assert payload_to_advice(v1) is None
    rec = payload_to_recommendation(v1, 7, 3, "Tiny")
    assert isinstance(rec, Recommendation) and rec.advice is None
    text = plain(presenters.present([rec]))
    assert "Get a job" in text and "Pay matters to you." in text


async def test_the_export_holds_the_advice_as_it_was_shown(eng: Engine) -> None:
    await finish(eng)
    (export,) = (await eng.run(ev.Export(user=BOB))).messages
    text = export.content  # type: ignore[union-attr]
    assert "My advice: a PhD in ML for your own field." in text
    assert "- **Another master's first**: Skip it, unless" in text
    assert "#### Do you need another master's?" in text
