"""HTTP mode: signed requests only, retries applied once, Web API failures, /healthz, acks.

Why: HTTP mode is the scale-out mode (stateless processes behind a load balancer on one
PostgreSQL), so these run on both databases where it matters: two adapter "processes"
sharing a database, a redelivered click landing on the other one.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator
from pathlib import Path

import aiohttp
import pytest
from aiohttp import web
from sqlalchemy.orm import Session

import adapters.slack.app as slack_app
from adapters.slack.app import ACK_DM
from adapters.slack.service import build_web_app
from bot import events as ev
from bot.core.result import Result
from bot.engine import Engine
from bot.settings import Settings
from bot.store import repository as repo
from bot.store.database import Database
from tests.conftest import make_engine
from tests.fakes.slack_driver import (  # noqa: F401 - fixtures
    SlackDriver,
    fake_fixture,
    find_element,
    loopback_fixture,
    running_adapter,
    slack_settings,
    texts,
)
from tests.fakes.slack_fake import FakeMessage, SlackFake

USER = "U0HTTP0001"
TINY = {"default_playbook": "tiny"}


@pytest.fixture
async def tiny(sqlite_url: str, settings: Settings) -> AsyncIterator[Engine]:
    engine = await make_engine(sqlite_url, settings.model_copy(update=TINY))
    yield engine
    await engine.db.dispose()


async def first_question(drv: SlackDriver, user: str = USER) -> FakeMessage:
    await drv.command("start", user_id=user)
    return await drv.posted(2)


async def consultation_count(engine: Engine, ref: ev.UserRef) -> int:
    def unit(s: Session) -> int:
        uid = repo.user_id(s, ref)
        return 0 if uid is None else len(repo.user_consultations(s, uid))

    return await engine.db.run(unit)


async def answer_rows(engine: Engine, user: str = USER) -> list[str]:
    def unit(s: Session) -> list[str]:
        state = repo.current_state(s, ev.UserRef("slack", "T0CROSS01", user))
        assert state is not None
        return [r.question_id for r in repo.answer_history(s, state.id)]

    return await engine.db.run(unit)


# ------------------------------------------------------------------------------ signatures


async def test_forged_and_stale_requests_get_401_and_change_nothing(
    fake: SlackFake, tiny: Engine, tmp_path: Path, sqlite_url: str
) -> None:
    settings = slack_settings(fake, tmp_path, sqlite_url, "http")
    async with running_adapter(fake, tiny, settings, "http") as drv:
        question = await first_question(drv)
        calls_before = len(fake.calls)
        student = find_element(question, value="student")
        click = drv.payload_for(question, student, user_id=USER)
        command = fake.payloads.slash_command("/advise", "restart", user_id=USER)
        replies = [
            await drv.send_command(command, forge=True),
            await drv.send_command(command, stale=True),
            await drv.interact(click, forge=True),
            await drv.interact(click, stale=True),
            await drv.interact(click, secret=""),
        ]
        assert [r.status for r in replies] == [401] * 5
        assert await drv.service.drain()
        assert len(fake.calls) == calls_before  # nothing was sent to Slack
        assert await answer_rows(tiny) == []  # and nothing was answered
        assert len(fake.channel_messages(question.channel)) == 2

        # the same click, properly signed, goes through
        assert (await drv.interact(click)).status == 200
        await drv.updated(question)
    assert await answer_rows(tiny) == ["role"]


# ------------------------------------------------------------------------------ retries


async def test_retried_click_on_another_process_is_applied_once(
    fake: SlackFake, db_url: str, settings: Settings, tmp_path: Path
) -> None:
    """Two stateless processes on one database; Slack redelivers a click to the other one."""
    one = await make_engine(db_url, settings.model_copy(update=TINY))
    two = await make_engine(db_url, settings.model_copy(update=TINY))
    try:
        s1 = slack_settings(fake, tmp_path, db_url, "http")
        s2 = slack_settings(fake, tmp_path, db_url, "http")
        async with (
            running_adapter(fake, one, s1, "http") as a,
            running_adapter(fake, two, s2, "http") as b,
        ):
            question = await first_question(a)
            click = a.payload_for(question, find_element(question, value="student"), user_id=USER)
            assert (await a.interact(click)).status == 200
            await a.updated(question)
            await a.posted(3)  # the next question

            # Slack's retry of the same request, to the other process and to the first
            assert (await b.interact(click, retry_num=1, retry_reason="http_timeout")).status == 200
            assert (await a.interact(click, retry_num=2, retry_reason="http_timeout")).status == 200
            assert await a.service.drain() and await b.service.drain()

            assert await answer_rows(one) == ["role"]
            assert len(fake.calls_to("chat.update")) == 1
            assert len(fake.calls_to("chat.postMessage")) == 3  # nothing said twice

            # stateless: the next answer may reach any process
            thesis = fake.channel_messages(question.channel)[-1]
            await b.click(thesis, find_element(thesis, value="no"), user_id=USER)
            await b.updated(thesis)
            await b.posted(4)
            assert await answer_rows(two) == ["role", "thesis"]
    finally:
        await one.db.dispose()
        await two.db.dispose()


async def test_slash_command_delivered_twice_is_handled_once(
    fake: SlackFake, tiny: Engine, tmp_path: Path, sqlite_url: str
) -> None:
    settings = slack_settings(fake, tmp_path, sqlite_url, "http")
    async with running_adapter(fake, tiny, settings, "http") as drv:
        command = fake.payloads.slash_command("/advise", "restart", user_id=USER)
        assert (await drv.send_command(command)).text == ACK_DM
        again = await drv.send_command(command, retry_num=1, retry_reason="http_timeout")
        assert again.status == 200
        assert await drv.service.drain()
    # one restart: "starting again", the introduction, the first question
    assert len(fake.calls_to("chat.postMessage")) == 3
    assert await consultation_count(tiny, ev.UserRef("slack", fake.team.id, USER)) == 1


async def test_double_press_is_applied_once_and_answered_politely(
    fake: SlackFake, tiny: Engine, tmp_path: Path, sqlite_url: str
) -> None:
    settings = slack_settings(fake, tmp_path, sqlite_url, "http")
    async with running_adapter(fake, tiny, settings, "http") as drv:
        question = await first_question(drv)
        first = drv.payload_for(question, find_element(question, value="student"), user_id=USER)
        second = drv.payload_for(question, find_element(question, value="worker"), user_id=USER)
        await drv.interact(first)
        await drv.updated(question)
        await drv.posted(3)
        await drv.interact(second)  # pressed before the update reached the person
        notice = await drv.posted(4)
        assert "already answered" in texts(notice)
        current = await drv.posted(5)  # where we are now
        assert "Did you write a thesis?" in texts(current)
        assert await drv.service.drain()
    assert await answer_rows(tiny) == ["role"]
    assert "Student" in texts(question)  # the update in place kept the first answer
    assert len(fake.calls_to("chat.update")) == 1


# ------------------------------------------------------------------------------ Web API failures


async def test_rate_limited_post_is_retried_and_sent_once(
    fake: SlackFake, tiny: Engine, tmp_path: Path, sqlite_url: str
) -> None:
    settings = slack_settings(fake, tmp_path, sqlite_url, "http")
    fake.rate_limit("chat.postMessage", retry_after=0)
    async with running_adapter(fake, tiny, settings, "http") as drv:
        await drv.command("start", user_id=USER)
        await drv.posted(2)
    attempts = fake.calls_to("chat.postMessage")
    assert [(c.status, c.error) for c in attempts] == [
        (429, "ratelimited"),
        (200, None),
        (200, None),
    ]
    assert len(fake.channel_messages(fake.dm_channel(USER) or "")) == 2


async def test_server_errors_are_retried_with_backoff(
    fake: SlackFake, tiny: Engine, tmp_path: Path, sqlite_url: str
) -> None:
    settings = slack_settings(fake, tmp_path, sqlite_url, "http")
    fake.server_error("conversations.open", status=503)
    fake.server_error("chat.postMessage", status=500, count=2)
    async with running_adapter(fake, tiny, settings, "http") as drv:
        await drv.command("start", user_id=USER)
        await drv.posted(2)
    assert [c.status for c in fake.calls_to("conversations.open")] == [503, 200]
    assert [c.status for c in fake.calls_to("chat.postMessage")] == [500, 500, 200, 200]


async def test_send_that_still_fails_is_logged_and_reported(
    fake: SlackFake,
    tiny: Engine,
    tmp_path: Path,
    sqlite_url: str,
    caplog: pytest.LogCaptureFixture,
) -> None:
    settings = slack_settings(fake, tmp_path, sqlite_url, "http")
    fake.server_error("chat.postMessage", status=503, count=3)  # more than the retries
    caplog.set_level(logging.INFO)
    async with running_adapter(fake, tiny, settings, "http") as drv:
        await drv.command("start", user_id=USER)
        report = await fake.wait_for_response_post()
        assert await drv.service.drain()
    assert [c.status for c in fake.calls_to("chat.postMessage")] == [503, 503, 503]
    assert report.outcome == "posted_ephemeral" and report.user_id == USER
    assert "could not deliver" in report.body["text"] and "resume" in report.body["text"]
    [record] = [r for r in caplog.records if r.levelno == logging.ERROR]
    assert "chat.postMessage" in record.getMessage()
    assert "service_unavailable" in record.getMessage()
    logged = caplog.text
    assert fake.bot_token not in logged and "A few quick questions" not in logged
    # nothing is lost: the consultation is there to resume
    assert await tiny.has_open_consultation(ev.UserRef("slack", fake.team.id, USER))


# ------------------------------------------------------------------------------ acks


async def test_ack_comes_before_the_slow_part(
    fake: SlackFake,
    tiny: Engine,
    tmp_path: Path,
    sqlite_url: str,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The core is held back: the acks still arrive; the DM follows when the core answers."""
    gate = asyncio.Event()
    real = tiny.run  # what handle and act both call

    async def held(event: ev.InEvent) -> Result:
        await gate.wait()
        return await real(event)

    settings = slack_settings(fake, tmp_path, sqlite_url, "http")
    async with running_adapter(fake, tiny, settings, "http") as drv:
        question = await first_question(drv)
        monkeypatch.setattr(tiny, "run", held)
        ack = await drv.command("status", user_id=USER)
        assert ack.status == 200 and ack.text == ACK_DM
        ack = await drv.click(question, find_element(question, value="student"), user_id=USER)
        assert ack.status == 200 and ack.body is None
        assert len(fake.calls_to("chat.postMessage")) == 2  # the core has not answered yet
        assert fake.calls_to("chat.update") == []
        gate.set()
        await drv.updated(question)
        await drv.posted(4)
        assert await drv.service.drain()


async def test_modal_submission_acks_even_when_the_core_is_slow(
    fake: SlackFake,
    tiny: Engine,
    tmp_path: Path,
    sqlite_url: str,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(slack_app, "VIEW_ACK_BUDGET", 0.05)
    gate = asyncio.Event()
    real = tiny.run
    settings = slack_settings(fake, tmp_path, sqlite_url, "http")
    async with running_adapter(fake, tiny, settings, "http") as drv:
        posts = 2
        message = await first_question(drv)
        for value in ("worker", None, "3"):
            if value is None:  # the multi choice
                await drv.click(
                    message,
                    find_element(message, text="Submit"),
                    user_id=USER,
                    state_values={
                        b["block_id"]: {
                            b["elements"][0]["action_id"]: {
                                "type": "multi_static_select",
                                "selected_options": [b["elements"][0]["options"][0]],
                            }
                        }
                        for b in message.blocks
                        if b["type"] == "actions"
                        and b["elements"][0]["type"] == "multi_static_select"
                    },
                )
            else:
                await drv.click(message, find_element(message, value=value), user_id=USER)
            posts += 1
            message = await drv.posted(posts)
        await drv.click(message, find_element(message, text="Type your answer"), user_id=USER)
        await fake.wait_for_call("views.open")

        async def held(event: ev.InEvent) -> Result:
            await gate.wait()
            return await real(event)

        monkeypatch.setattr(tiny, "run", held)
        modal = fake.latest_view(USER)
        ack = await drv.interact(fake.payloads.view_submission(modal, inputs={"text": "y" * 150}))
        assert ack.status == 200 and ack.body is None  # closed: too slow to show errors
        gate.set()
        await drv.updated(message)  # the DM shows the question again, with the reason
        assert "please keep it under 100" in texts(message)
        assert await drv.service.drain()


# ------------------------------------------------------------------------------ /healthz


async def test_healthz_reports_the_database(
    fake: SlackFake, tiny: Engine, tmp_path: Path, sqlite_url: str
) -> None:
    settings = slack_settings(fake, tmp_path, sqlite_url, "http")
    async with (
        running_adapter(fake, tiny, settings, "http") as drv,
        aiohttp.ClientSession() as http,
    ):
        async with http.get(f"{drv.service.url}/healthz") as resp:
            assert resp.status == 200 and await resp.json() == {"status": "ok"}
        down = Database("postgresql+asyncpg://crossroads@127.0.0.1:9/nowhere")
        runner = web.AppRunner(build_web_app(drv.service.app, down, events=True))
        await runner.setup()
        site = web.TCPSite(runner, "127.0.0.1", 0)
        await site.start()
        try:
            port = runner.addresses[0][1]
            async with http.get(f"http://127.0.0.1:{port}/healthz") as resp:
                assert resp.status == 503
                assert await resp.json() == {"status": "database unavailable"}
        finally:
            await runner.cleanup()
            await down.dispose()
