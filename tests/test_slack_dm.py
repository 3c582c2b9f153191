"""End to end: typing in the bot's DM on Slack, and the App Home, through the real adapter.

A DM is a conversation: a whole consultation by typed text only (no slash command, no
click), the offer when there is none, check-in replies typed after a delivered check-in,
and a typed answer racing a click on the same question (exactly one is stored; the
other is told politely). Message events the bot must not answer (its own, any subtype,
hidden ones, other channels, a redelivery) get nothing and change nothing. The App Home
shows where the consultation stands, and its buttons continue in the DM. Real slack-bolt
and slack_sdk, HTTP mode and Socket Mode, against the fake Slack on 127.0.0.1.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select

from bot import events as ev
from bot.engine import Engine
from bot.messages import Status
from bot.settings import Settings
from bot.store.models import User
from tests.checkin_doubles import FakeClock
from tests.conftest import FIXED_NOW, make_engine
from tests.fakes.slack_driver import (  # noqa: F401 - fixtures
    Mode,
    SlackDriver,
    elements,
    fake_fixture,
    find_element,
    loopback_fixture,
    running_adapter,
    slack_settings,
    texts,
)
from tests.fakes.slack_fake import JSON, FakeMessage, FakeView, SlackFake
from tests.race_gate import Turnstile
from tests.test_slack_checkins import worker

USER = "U0TYPE0001"
STALE = "That question was already answered; here is where we are now."


@pytest.fixture
async def tiny(db_url: str, settings: Settings) -> AsyncIterator[Engine]:
    engine = await make_engine(db_url, settings.model_copy(update={"default_playbook": "tiny"}))
    engine.clock = FakeClock(FIXED_NOW)
    yield engine
    await engine.db.dispose()


def ref(fake: SlackFake) -> ev.UserRef:
    return ev.UserRef("slack", fake.team.id, USER)


def dm(fake: SlackFake) -> list[FakeMessage]:
    return fake.channel_messages(fake.dm_channel(USER) or "")


def since(fake: SlackFake, count: int) -> str:
    """The text of every DM message after the first ``count``."""
    return "\n".join(texts(m) for m in dm(fake)[count:])


async def status(engine: Engine, fake: SlackFake) -> Status:
    [st] = (await engine.run(ev.ShowStatus(user=ref(fake)))).messages
    assert isinstance(st, Status)
    return st


async def typed(drv: SlackDriver, text: str) -> str:
    """Type ``text`` in the DM; what the bot answered."""
    before = len(dm(drv.fake))
    ack = await drv.dm(text, user_id=USER)
    assert ack.status == 200
    return since(drv.fake, before)


@pytest.mark.parametrize("mode", ["http", "socket"])
async def test_a_whole_consultation_by_typing_only(
    mode: Mode, fake: SlackFake, tiny: Engine, tmp_path: Path, db_url: str
) -> None:
    settings = slack_settings(fake, tmp_path, db_url, mode)
    async with running_adapter(fake, tiny, settings, mode) as drv:
        assert "Type start to begin one" in await typed(drv, "hi there")  # the offer
        first = await typed(drv, "start")
        assert "Tiny test playbook" in first and "What are you?" in first
        assert "Did you write a thesis?" in await typed(drv, "student")
        assert "Which skills do you have?" in await typed(drv, "yes")
        assert "How much does pay matter?" in await typed(drv, "coding, maths")
        assert "Anything else?" in await typed(drv, "4")
        advice = await typed(drv, "R&amp;D, and &lt;@U0BOSS&gt; said <https://x.example|this>")
        assert "That is everything I need" in advice and "In short" in advice
        assert "Shall I check in" in advice
        details = await typed(drv, "details 2")
        assert "Keep studying" in details
        answers = await typed(drv, "status")
        assert "&lt;@U0BOSS&gt;" in answers and "<@U0BOSS>" not in answers  # shown escaped
        # every reply is in the person's DM, within Slack's limits; nothing was clicked
        for call in fake.calls_to("chat.postMessage"):
            assert call.params["channel"] == fake.dm_channel(USER)
        assert all(len(m.blocks) <= 50 for m in dm(fake))
        assert fake.calls_to("chat.update") == [] and fake.calls_to("views.open") == []
    st = await status(tiny, fake)
    assert st.state == "completed" and st.position == 5
    [notes] = [a.answer for a in st.answers if a.question_id == "notes"]
    assert notes == "R&D, and <@U0BOSS> said this"  # plain text, as the person wrote it
    assert all(c.ok for c in fake.calls), fake.call_summary()


def message_event(fake: SlackFake, **fields: Any) -> JSON:
    """A message event in the person's DM, changed by ``fields`` (None removes one)."""
    payload = fake.payloads.message_im("start", user_id=USER)
    event = payload["event"]
    for key, value in fields.items():
        if value is None:
            event.pop(key, None)
        else:
            event[key] = value
    return payload


@pytest.mark.parametrize("mode", ["http", "socket"])
async def test_own_messages_subtypes_and_redeliveries_are_ignored(
    mode: Mode, fake: SlackFake, tiny: Engine, tmp_path: Path, db_url: str
) -> None:
    team = fake.team
    settings = slack_settings(fake, tmp_path, db_url, mode)
    async with running_adapter(fake, tiny, settings, mode) as drv:
        ignored = [
            # the bot's own post in the DM, as Slack echoes it
            message_event(fake, user=team.bot_user_id, bot_id=team.bot_id),
            message_event(fake, subtype="bot_message", bot_id="B0OTHER", user=None),
            message_event(
                fake,
                subtype="message_changed",
                hidden=True,
                user=None,
                message={"type": "message", "user": USER, "text": "start"},
            ),
            message_event(fake, subtype="message_deleted", hidden=True, user=None, text=None),
            message_event(fake, subtype="file_share"),
            message_event(fake, subtype="thread_broadcast"),
            message_event(fake, text="   "),
            message_event(fake, channel_type="channel", channel="C0GENERAL"),
        ]
        for payload in ignored:
            ack = await drv.event(payload)
            assert ack.status == 200, payload["event"]  # acknowledged, so never retried
        assert await drv.service.drain()
        assert fake.calls_to("chat.postMessage") == []

        once = fake.payloads.message_im("start", user_id=USER)
        await drv.event(once)
        assert await drv.service.drain()
        posts = len(fake.calls_to("chat.postMessage"))
        assert posts >= 1
        await drv.event(once, retry_num=1, retry_reason="http_timeout")  # a redelivery
        assert await drv.service.drain()
        assert len(fake.calls_to("chat.postMessage")) == posts  # no second answer
    people = await tiny.db.run(lambda s: s.scalar(select(func.count()).select_from(User)))
    assert people == 1  # only the one real "start" reached the core
    st = await status(tiny, fake)
    assert st.state == "active" and st.position == 0


async def test_a_delivered_checkin_is_answered_by_typing(
    fake: SlackFake, tiny: Engine, tmp_path: Path, db_url: str
) -> None:
    settings = slack_settings(fake, tmp_path, db_url, "http")
    async with running_adapter(fake, tiny, settings, "http") as drv:
        for line in ("start", "worker", "code", "3", "skip", "remind 1"):
            await typed(drv, line)
        assert tiny.clock is not None
        tiny.clock.advance(days=1)  # type: ignore[attr-defined]
        report = await worker(tiny, drv.service.checkin_sender).drain()
        assert report.delivered >= 1
        answer = await typed(drv, "done")
        assert "Well done! I marked it done on your plan." in answer
        if report.delivered > 1:
            assert "Next: check-in #" in answer  # the next one now waits for its reply
    [listing] = (await tiny.run(ev.ListCheckIns(user=ref(fake)))).messages
    assert len(listing.items) == report.delivered - 1  # type: ignore[attr-defined]


async def test_typed_remind_uses_the_zone_slack_knows(
    fake: SlackFake, tiny: Engine, tmp_path: Path, db_url: str
) -> None:
    """As a click does: users.info ``tz`` is the person's zone, so none is asked for."""
    fake.ensure_user(USER).tz = "Asia/Tokyo"
    settings = slack_settings(fake, tmp_path, db_url, "http")
    async with running_adapter(fake, tiny, settings, "http") as drv:
        for line in ("start", "worker", "code", "3", "skip"):
            await typed(drv, line)
        answer = await typed(drv, "remind weekly")
        assert "(Asia/Tokyo)" in answer and "time zone" not in answer.lower().split("(")[0]


@pytest.mark.parametrize("winner", ["typed", "click"])
async def test_typing_and_clicking_the_same_question_at_once(
    winner: str, fake: SlackFake, tiny: Engine, tmp_path: Path, db_url: str
) -> None:
    settings = slack_settings(fake, tmp_path, db_url, "http")
    async with running_adapter(fake, tiny, settings, "http") as drv:
        await typed(drv, "start")
        [question] = [m for m in dm(fake) if "What are you?" in texts(m)]
        order = [winner, "click" if winner == "typed" else "typed"]
        real = tiny.db
        tiny.db = Turnstile(  # type: ignore[assignment]
            real, order, lambda a: "typed" if a.value == "Student" else "click"
        )
        before = len(dm(fake))
        try:
            await drv.event(fake.payloads.message_im("Student", user_id=USER))
            click = await drv.click(question, find_element(question, value="worker"), user_id=USER)
            assert click.status == 200
            assert await drv.service.drain()
        finally:
            tiny.db = real
        after = since(fake, before)
        assert STALE in after  # the one that lost is told so, kindly
        st = await status(tiny, fake)
        if winner == "typed":
            assert [a.answer for a in st.answers] == ["Student"]
            assert "Did you write a thesis?" in after  # where we are now
            assert fake.calls_to("chat.update") == []  # nothing was answered by the click
        else:
            assert [a.answer for a in st.answers] == ["Worker"]
            assert "Which skills do you have?" in after
            assert "Worker" in texts(question) and not elements(question)  # the receipt


def home_of(fake: SlackFake) -> FakeView:
    view = fake.latest_view(USER)
    assert view.type == "home"
    return view


def home_text(view: FakeView) -> str:
    parts: list[str] = []
    for block in view.blocks:
        for key in ("text",):
            if isinstance(block.get(key), dict):
                parts.append(str(block[key]["text"]))
        for element in block.get("elements") or []:
            text = element.get("text")
            parts.append(str(text["text"] if isinstance(text, dict) else text or ""))
    return "\n".join(parts)


async def press_home(drv: SlackDriver, label: str) -> None:
    view = home_of(drv.fake)
    found = [
        {**e, "_block_id": b["block_id"]}
        for b in view.blocks
        if b.get("type") == "actions"
        for e in b["elements"]
        if (e.get("text") or {}).get("text") == label
    ]
    assert found, f"no button {label!r} in the home view: {home_text(view)}"
    element = found[0]
    payload = drv.fake.payloads.block_actions(
        str(element["action_id"]), user_id=USER, view=view, block_id=str(element["_block_id"])
    )
    ack = await drv.interact(payload)
    assert ack.status == 200 and ack.body is None
    assert await drv.service.drain()


@pytest.mark.parametrize("mode", ["http", "socket"])
async def test_app_home_shows_the_state_and_its_buttons_continue_in_the_dm(
    mode: Mode, fake: SlackFake, tiny: Engine, tmp_path: Path, db_url: str
) -> None:
    settings = slack_settings(fake, tmp_path, db_url, mode)
    async with running_adapter(fake, tiny, settings, mode) as drv:
        await drv.home_opened(user_id=USER)
        assert "You have no consultation yet" in home_text(home_of(fake))
        await press_home(drv, "Start a consultation")  # the DM gets the first question
        assert "What are you?" in since(fake, 0)
        assert "In progress: question 1 of 5" in home_text(home_of(fake))  # republished

        await typed(drv, "student")
        await typed(drv, "yes")
        await drv.home_opened(user_id=USER, tab="messages")  # the DM tab: nothing published
        publishes = len(fake.calls_to("views.publish"))
        await drv.home_opened(user_id=USER)
        assert len(fake.calls_to("views.publish")) == publishes + 1
        shown = home_text(home_of(fake))
        assert "In progress: question 3 of 5" in shown and "Tiny test playbook" in shown

        before = len(dm(fake))
        await press_home(drv, "Continue the consultation")  # resume: the question, in the DM
        assert "Which skills do you have?" in since(fake, before)
        for line in ("maths", "2", "skip", "remind weekly"):
            await typed(drv, line)

        await drv.home_opened(user_id=USER)
        shown = home_text(home_of(fake))
        assert "Complete: 5 of 5 questions answered." in shown
        assert "Your plan" in shown and "Your check-ins" in shown and "every week" in shown
        before = len(dm(fake))
        await press_home(drv, "More on 2. Get a job")
        assert "Get a job" in since(fake, before)
        assert len(home_of(fake).blocks) <= 100
    assert all(c.ok for c in fake.calls), fake.call_summary()
