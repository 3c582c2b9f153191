"""Socket Mode: redeliveries, reconnects mid-consultation, run() as serve calls it, and
start-up checks that name the setting to fix.

Why: Socket Mode is the default for a small community (no public URL); Slack may
redeliver an envelope, and it asks apps to reconnect from time to time.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from adapters.runtime import Runtime, StartupError
from adapters.slack.app import ACK_DM
from adapters.slack.service import SlackService, run
from bot.engine import Engine
from bot.settings import Settings
from tests.conftest import make_engine
from tests.fakes.slack_driver import (  # noqa: F401 - fixtures
    fake_fixture,
    find_element,
    loopback_fixture,
    running_adapter,
    slack_settings,
    texts,
)
from tests.fakes.slack_fake import SlackFake

USER = "U0SOCK0001"


@pytest.fixture
async def tiny(sqlite_url: str, settings: Settings) -> AsyncIterator[Engine]:
    engine = await make_engine(sqlite_url, settings.model_copy(update={"default_playbook": "tiny"}))
    yield engine
    await engine.db.dispose()


async def test_redelivered_envelopes_are_handled_once(
    fake: SlackFake, tiny: Engine, tmp_path: Path, sqlite_url: str
) -> None:
    settings = slack_settings(fake, tmp_path, sqlite_url, "socket")
    async with running_adapter(fake, tiny, settings, "socket") as drv:
        command = fake.payloads.slash_command("/advise", "start", user_id=USER)
        first = await fake.push_slash_command(command, envelope_id="env-1")
        again = await fake.push_slash_command(command, envelope_id="env-1")
        assert first.payload == again.payload == {"text": ACK_DM}
        question = await drv.posted(2)
        click = drv.payload_for(question, find_element(question, value="worker"), user_id=USER)
        await fake.push_interactive(click, envelope_id="env-2")
        await fake.push_interactive(click, envelope_id="env-2")
        await drv.updated(question)
        await drv.posted(3)
        assert await drv.service.drain()
    assert len(fake.calls_to("chat.postMessage")) == 3
    assert len(fake.calls_to("chat.update")) == 1


async def test_consultation_continues_across_reconnects(
    fake: SlackFake, tiny: Engine, tmp_path: Path, sqlite_url: str
) -> None:
    settings = slack_settings(fake, tmp_path, sqlite_url, "socket")
    async with running_adapter(fake, tiny, settings, "socket", ping_interval=0.2) as drv:
        await drv.command("start", user_id=USER)
        question = await drv.posted(2)
        await fake.request_socket_reconnect()  # Slack's {"type": "disconnect"}
        await drv.click(question, find_element(question, value="student"), user_id=USER)
        thesis = await drv.posted(3)
        await fake.drop_socket(abrupt=True)  # a dead TCP connection
        await fake.wait_for_socket(min_count=3)
        await drv.click(thesis, find_element(thesis, value="no"), user_id=USER)
        skills = await drv.posted(4)
        assert "Which skills" in texts(skills)
    # the start-up check, the first connection and the two reconnections
    assert len(fake.calls_to("apps.connections.open", ok_only=True)) == 4


async def test_run_serves_until_cancelled(
    fake: SlackFake, tiny: Engine, tmp_path: Path, sqlite_url: str
) -> None:
    settings = slack_settings(fake, tmp_path, sqlite_url, "socket")
    task = asyncio.create_task(run(Runtime(settings, tiny.db, tiny)))
    await fake.wait_for_socket()
    await fake.push_slash_command(fake.payloads.slash_command("/advise", user_id=USER))
    await fake.wait_for_call("chat.postMessage", count=2)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    conn = fake.socket_connections[-1]
    await fake.wait_until(lambda: True if not conn.is_open else None, what="socket closed")


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"slack_app_token": None}, "Socket Mode needs SLACK_APP_TOKEN"),
        ({"slack_mode": "http", "slack_signing_secret": None}, "needs SLACK_SIGNING_SECRET"),
        ({"slack_client_id": "1.2", "slack_client_secret": None}, "SLACK_CLIENT_SECRET"),
    ],
)
async def test_misconfiguration_names_the_setting(
    fake: SlackFake,
    tiny: Engine,
    tmp_path: Path,
    sqlite_url: str,
    overrides: dict[str, object],
    message: str,
) -> None:
    settings = slack_settings(fake, tmp_path, sqlite_url, "socket", **overrides)
    with pytest.raises(StartupError, match=message):
        await SlackService.start(Runtime(settings, tiny.db, tiny))
    assert fake.calls == []


async def test_rejected_app_token_is_a_startup_error(
    fake: SlackFake, tiny: Engine, tmp_path: Path, sqlite_url: str
) -> None:
    settings = slack_settings(fake, tmp_path, sqlite_url, "socket")
    fake.revoke_token(fake.app_token)
    with pytest.raises(StartupError, match="rejected SLACK_APP_TOKEN: token_revoked"):
        await SlackService.start(Runtime(settings, tiny.db, tiny))


async def test_rejected_bot_token_is_a_startup_error(
    fake: SlackFake, tiny: Engine, tmp_path: Path, sqlite_url: str
) -> None:
    settings = slack_settings(fake, tmp_path, sqlite_url, "http", slack_bot_token="xoxb-nope")
    with pytest.raises(StartupError, match="rejected SLACK_BOT_TOKEN: invalid_auth"):
        await SlackService.start(Runtime(settings, tiny.db, tiny))


async def test_resume_start_with_a_playbook_and_an_unknown_one(
    fake: SlackFake, tiny: Engine, tmp_path: Path, sqlite_url: str
) -> None:
    settings = slack_settings(fake, tmp_path, sqlite_url, "socket")
    async with running_adapter(fake, tiny, settings, "socket") as drv:
        await drv.command("start tiny", user_id=USER)
        question = await drv.posted(2)
        await drv.click(question, find_element(question, value="worker"), user_id=USER)
        await drv.posted(3)
        await drv.command("resume", user_id=USER)
        welcome = await drv.posted(4)
        assert "Welcome back" in texts(welcome)
        again = await drv.posted(5)
        assert "Which skills" in texts(again)
        await drv.command("start <!channel>", user_id=USER)
        unknown = await drv.posted(6)
        assert "There is no playbook called" in texts(unknown)
        assert "<!channel>" not in texts(unknown) and "&lt;!channel&gt;" in texts(unknown)
        assert await drv.service.drain()
