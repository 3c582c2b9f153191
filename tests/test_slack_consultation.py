"""A whole consultation through the real Slack adapter, in HTTP mode and in Socket Mode.

Why: this is what a person does, end to end: /advise in a channel (ephemeral ack), the
consultation in the DM (buttons, a paginated-capable multi select with Submit, a scale,
a free-text modal with its validation errors), answered questions updated in place, the
recommendation within Slack's limits, path details, status, export, back, restart and
forget with its confirmation. Real slack-bolt and slack_sdk; the fake Slack on 127.0.0.1.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from adapters.slack.app import ACK_DM
from bot.engine import Engine
from bot.events import Export, ShowStatus, UserRef
from bot.messages import Notice, Status
from bot.playbook.loader import PlaybookRegistry, load_playbook
from bot.settings import Settings
from bot.store.database import Database
from bot.store.migrate import upgrade
from tests.conftest import make_engine
from tests.fakes.slack_driver import (  # noqa: F401 - fixtures
    Mode,
    SlackDriver,
    elements,
    fake_fixture,
    find_element,
    loopback_fixture,
    multi_state,
    running_adapter,
    slack_settings,
    texts,
)
from tests.fakes.slack_fake import JSON, FakeMessage, SlackFake

USER = "U0PHYS0001"


@pytest.fixture
async def tiny(sqlite_url: str, settings: Settings) -> AsyncIterator[Engine]:
    engine = await make_engine(sqlite_url, settings.model_copy(update={"default_playbook": "tiny"}))
    yield engine
    await engine.db.dispose()


def dm_messages(fake: SlackFake, user: str = USER) -> list[FakeMessage]:
    return fake.channel_messages(fake.dm_channel(user) or "")


def has_buttons(message: FakeMessage) -> bool:
    return any(b["type"] == "actions" or "accessory" in b for b in message.blocks)


async def click(drv: SlackDriver, message: FakeMessage, element: JSON, **kwargs: object) -> None:
    ack = await drv.click(message, element, user_id=USER, **kwargs)
    assert ack.status == 200 and ack.body is None


@pytest.mark.parametrize("mode", ["http", "socket"])
async def test_full_consultation(
    mode: Mode, fake: SlackFake, tiny: Engine, tmp_path: Path, sqlite_url: str
) -> None:
    settings = slack_settings(fake, tmp_path, sqlite_url, mode)
    async with running_adapter(fake, tiny, settings, mode) as drv:
        # /advise start in #general: an ephemeral ack, then the DM
        ack = await drv.command("start", user_id=USER)
        assert ack.status == 200 and ack.text == ACK_DM
        intro = await drv.posted(1)
        role = await drv.posted(2)
        assert intro.channel == fake.dm_channel(USER) and intro.channel.startswith("D")
        assert intro.blocks[0]["type"] == "header"
        assert "What are you?" in texts(role)
        n_posts = 2

        # a button; the question is then updated in place without buttons
        await click(drv, role, find_element(role, value="student"))
        await drv.updated(role)
        n_posts += 1
        thesis = await drv.posted(n_posts)
        assert not has_buttons(role) and "Student" in texts(role)

        await click(drv, thesis, find_element(thesis, value="yes"))
        n_posts += 1
        skills = await drv.posted(n_posts)

        # multi select: Submit with nothing chosen re-asks in place with the reason
        submit = find_element(skills, text="Submit")
        await click(drv, skills, submit, state_values=multi_state(skills, []))
        await drv.updated(skills)
        assert has_buttons(skills) and ":warning:" in texts(skills)
        assert "This question needs an answer" in texts(skills)
        submit = find_element(skills, text="Submit")
        picker = find_element(skills, kind="multi_static_select")
        await click(drv, skills, picker, value=["code", "maths"])  # a selection: ack only
        await click(drv, skills, submit, state_values=multi_state(skills, ["code", "maths"]))
        await drv.updated(skills, count=2)
        assert "Coding, Maths" in texts(skills) and not has_buttons(skills)
        n_posts += 1
        money = await drv.posted(n_posts)

        await click(drv, money, find_element(money, value="4"))
        n_posts += 1
        notes = await drv.posted(n_posts)

        # free text: the modal; an invalid answer comes back as errors in the modal
        await click(drv, notes, find_element(notes, text="Type your answer"))
        await fake.wait_for_call("views.open")
        modal = fake.latest_view(USER)
        too_long = fake.payloads.view_submission(modal, inputs={"text": "x" * 150})
        ack = await drv.interact(too_long)
        assert ack.json == {
            "response_action": "errors",
            "errors": {"answer": "That is 150 characters; please keep it to 100 or fewer."},
        }
        assert fake.calls_to("chat.update")[-1].params["ts"] != notes.ts
        sneaky = "Ping <@U0BOSS> & <!channel> at <https://evil.example|here>"
        ack = await drv.interact(fake.payloads.view_submission(modal, inputs={"text": sneaky}))
        assert ack.status == 200 and ack.body is None
        await drv.updated(notes)
        shown = texts(notes)
        assert "&lt;@U0BOSS&gt; &amp; &lt;!channel&gt;" in shown and "<@" not in shown
        assert "<!channel>" not in shown and "<https" not in shown

        # the advice: the finishing text, then the composed advice within Slack's limits
        n_posts += 2
        card = await drv.posted(n_posts)
        assert texts(card).startswith("Tiny test playbook") and "In short" in texts(card)
        assert card.blocks[0]["type"] == "header"
        assert len(card.blocks) <= 50
        for block in card.blocks:
            if block["type"] == "section":
                assert len(block["text"]["text"]) <= 3000
        assert "Your next steps" in texts(card) and "Every route I considered" in texts(card)
        # pay rated 4 of 5: the chart of the top routes on it is uploaded beside the advice
        await fake.wait_for_call("files.completeUploadExternal")
        [chart] = [f for f in fake.files.values() if f.completed]
        assert chart.filename.endswith(".png") and chart.content
        assert chart.content.startswith(b"\x89PNG\r\n\x1a\n") and chart.alt_txt
        assert chart.channels == [fake.dm_channel(USER)]
        n_posts += 1  # then the check-in offer (tests/test_slack_checkins.py)
        assert "Shall I check in" in texts(await drv.posted(n_posts))

        await click(drv, card, find_element(card, text="2. Keep studying"))
        n_posts += 1
        detail = await drv.posted(n_posts)
        assert detail.blocks[0]["text"]["text"].endswith("Keep studying")

        # status, export, back, restart: each continues in the DM
        await drv.command("status", user_id=USER)
        n_posts += 1
        status = await drv.posted(n_posts)
        assert "5 of 5 questions answered" in texts(status)
        assert "&lt;@U0BOSS&gt;" in texts(status)

        await drv.command("export", user_id=USER)
        upload = await fake.wait_for_call("files.completeUploadExternal", count=2)
        [file] = [f for f in fake.files.values() if f.completed and f.filename.endswith(".md")]
        assert file.channels == [fake.dm_channel(USER)] and "Crossroads" in file.text
        assert upload.team_id == fake.team.id

        await drv.command("back", user_id=USER)
        n_posts += 1
        again = await drv.posted(n_posts)
        assert "Anything else?" in texts(again)

        await drv.command("restart", user_id=USER)
        n_posts += 3  # "starting again", the introduction, the first question
        first = await drv.posted(n_posts)
        assert "What are you?" in texts(first)

        # forget: a confirmation first, then everything is gone
        await drv.command("forget", user_id=USER)
        n_posts += 1
        confirm = await drv.posted(n_posts)
        await click(drv, confirm, find_element(confirm, text="Delete my data"))
        await drv.updated(confirm)
        n_posts += 1
        done = await drv.posted(n_posts)
        assert "deleted" in texts(done) and not has_buttons(confirm)
        ref = UserRef("slack", fake.team.id, USER)
        assert not await tiny.has_open_consultation(ref)
        [nothing] = (await tiny.run(Export(user=ref))).messages
        assert isinstance(nothing, Notice) and "no data" in nothing.text

        # a press on a question of the deleted consultation is answered politely
        await click(drv, first, find_element(first, value="worker"))
        n_posts += 1
        polite = await drv.posted(n_posts)
        assert "closed or no longer exists" in texts(polite)
        assert has_buttons(first)  # left as it was: nothing was answered

    assert all(c.ok for c in fake.calls), fake.call_summary()


def big_playbook(path: Path) -> Path:
    """A playbook whose questions have 150 and 250 choices: more than one select's 100."""
    lines = [
        "id: big",
        "version: 1",
        "title: Many choices",
        "intro: Lots of options.",
        "questions:",
        "  - id: city",
        "    kind: single_choice",
        "    prompt: Where do you live?",
        "    choices:",
        *[f"      - {{id: city{i:03d}, label: City {i}}}" for i in range(150)],
        "  - id: topics",
        "    kind: multi_choice",
        "    prompt: Which topics?",
        "    max_choices: 5",
        "    choices:",
        *[f"      - {{id: t{i:03d}, label: Topic {i}}}" for i in range(250)],
        "paths:",
        "  - {id: stay, title: Stay, summary: Stay put.}",
        "  - {id: move, title: Move, summary: Move on.}",
    ]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


async def test_choices_past_100_options_are_paginated_and_answered(
    fake: SlackFake, tmp_path: Path, sqlite_url: str, settings: Settings
) -> None:
    registry = PlaybookRegistry([load_playbook(big_playbook(tmp_path / "big.yaml"))])
    db = Database(sqlite_url)
    await upgrade(db)
    engine = Engine(db, registry, settings.model_copy(update={"default_playbook": "big"}))
    await engine.prepare()
    config = slack_settings(fake, tmp_path, sqlite_url, "socket", default_playbook="big")
    try:
        async with running_adapter(fake, engine, config, "socket") as drv:
            await drv.command("", user_id=USER)  # bare command: starts
            city = await drv.posted(2)
            selects = [e for e in elements(city) if e["type"] == "static_select"]
            assert [len(s["options"]) for s in selects] == [100, 50]
            await click(drv, city, selects[1], value="city120")  # on the second page
            await drv.updated(city)
            assert "City 120" in texts(city)

            topics = await drv.posted(3)
            pickers = [e for e in elements(topics) if e["type"] == "multi_static_select"]
            assert [len(p["options"]) for p in pickers] == [100, 100, 50]
            chosen = ["t005", "t150", "t249"]  # from the first and the last page
            submit = find_element(topics, text="Submit")
            await click(drv, topics, submit, state_values=multi_state(topics, chosen))
            await drv.updated(topics)
            assert "Topic 5, Topic 150, Topic 249" in texts(topics)
            await drv.posted(5)  # "that is everything", then the recommendation
            assert await drv.service.drain()
        ref = UserRef("slack", fake.team.id, USER)
        [status] = (await engine.run(ShowStatus(user=ref))).messages
        assert isinstance(status, Status) and status.state == "completed"
        assert [a.answer for a in status.answers] == ["City 120", "Topic 5, Topic 150, Topic 249"]
    finally:
        await db.dispose()
