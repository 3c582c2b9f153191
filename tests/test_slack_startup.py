"""Slack start and edge: token checks that end start-up within 10 s, a bad timestamp is a
401, and no request body reaches the log at INFO (bolt's own logger included)."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import aiohttp
import pytest

from adapters.runtime import Runtime, StartupError
from adapters.slack.manifest import EVENTS_PATH
from adapters.slack.service import SlackService
from bot.engine import Engine
from bot.logging_setup import configure_logging
from bot.settings import Settings
from tests.conftest import make_engine
from tests.fakes.slack_driver import (  # noqa: F401 - fixtures
    fake_fixture,
    loopback_fixture,
    running_adapter,
    slack_settings,
)
from tests.fakes.slack_fake import SlackFake

USER = "U0EDGE0001"
SECRET_TEXT = "my-private-career-worry-8812"


def read(path: Path) -> str:
    return path.read_text(encoding="utf-8")


@pytest.fixture
async def tiny(sqlite_url: str, settings: Settings) -> AsyncIterator[Engine]:
    engine = await make_engine(sqlite_url, settings.model_copy(update={"default_playbook": "tiny"}))
    yield engine
    await engine.db.dispose()


@pytest.fixture
def log_file(tmp_path: Path) -> Iterator[Path]:
    """The production logging set-up at INFO, into a file; the test's logging restored after."""
    root = logging.getLogger()
    saved = (list(root.handlers), root.level)
    path = tmp_path / "crossroads.log"
    configure_logging("INFO", path)
    try:
        yield path
    finally:
        for handler in list(root.handlers):
            root.removeHandler(handler)
            handler.close()
        for handler in saved[0]:
            root.addHandler(handler)
        root.setLevel(saved[1])


@pytest.mark.parametrize("stamp", ["abc", "12x", "²", "7" * 5000, "1.5", ""])
async def test_a_timestamp_that_is_not_a_number_gets_401(
    fake: SlackFake, tiny: Engine, tmp_path: Path, sqlite_url: str, stamp: str
) -> None:
    settings = slack_settings(fake, tmp_path, sqlite_url, "http")
    async with running_adapter(fake, tiny, settings, "http") as drv:
        signed = fake.signer.slash_command(fake.payloads.slash_command("/advise", user_id=USER))
        headers = {**signed.headers, "X-Slack-Request-Timestamp": stamp}
        async with (
            aiohttp.ClientSession() as http,
            http.post(f"{drv.service.url}{EVENTS_PATH}", data=signed.body, headers=headers) as r,
        ):
            assert r.status == 401
    assert fake.calls_to("chat.postMessage") == []


async def test_requests_failing_verification_leave_no_body_in_the_log(
    fake: SlackFake, tiny: Engine, tmp_path: Path, sqlite_url: str, log_file: Path
) -> None:
    settings = slack_settings(fake, tmp_path, sqlite_url, "http")
    async with running_adapter(fake, tiny, settings, "http") as drv:
        command = fake.payloads.slash_command("/advise", f"start {SECRET_TEXT}", user_id=USER)
        replies = [
            await drv.send_command(command, forge=True),
            await drv.send_command(command, stale=True),
            await drv.send_command(command, secret=""),
        ]
        assert [r.status for r in replies] == [401] * 3
    text = read(log_file)
    assert SECRET_TEXT not in text
    assert "will be unused" not in text  # bolt's warning about SLACK_BOT_TOKEN


async def test_bolts_token_warning_is_not_logged(
    fake: SlackFake,
    tiny: Engine,
    tmp_path: Path,
    sqlite_url: str,
    log_file: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("SLACK_BOT_TOKEN", fake.bot_token)  # bolt reads it on its own
    settings = slack_settings(fake, tmp_path, sqlite_url, "socket")
    async with running_adapter(fake, tiny, settings, "socket"):
        pass
    assert "will be unused" not in read(log_file)


async def _refused_port() -> int:
    server = await asyncio.start_server(lambda r, w: None, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    server.close()
    await server.wait_closed()
    return port


async def test_unreachable_slack_stops_start_up_with_one_clear_line(
    fake: SlackFake, tiny: Engine, tmp_path: Path, sqlite_url: str
) -> None:
    port = await _refused_port()
    settings = slack_settings(
        fake, tmp_path, sqlite_url, "socket", slack_api_base=f"http://127.0.0.1:{port}/api/"
    )
    async with asyncio.timeout(30):  # the process itself gives up within 10 s
        with pytest.raises(StartupError, match=r"cannot be reached|did not answer"):
            await SlackService.start(Runtime(settings, tiny.db, tiny))


async def test_silent_slack_stops_start_up_too(
    fake: SlackFake, tiny: Engine, tmp_path: Path, sqlite_url: str
) -> None:
    """A server that accepts and never answers (a black hole): the check gives up."""
    held: list[asyncio.StreamWriter] = []

    async def hold(_reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        held.append(writer)

    server = await asyncio.start_server(hold, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    settings = slack_settings(
        fake, tmp_path, sqlite_url, "socket", slack_api_base=f"http://127.0.0.1:{port}/api/"
    )
    try:
        async with asyncio.timeout(30):
            with pytest.raises(StartupError, match=r"did not answer|cannot be reached"):
                await SlackService.start(Runtime(settings, tiny.db, tiny))
    finally:
        for writer in held:
            writer.close()
        server.close()


@pytest.mark.parametrize(
    ("overrides", "name"),
    [
        ({"slack_bot_token": "garbage"}, "SLACK_BOT_TOKEN"),
        ({"slack_bot_token": "xoxb-with space"}, "SLACK_BOT_TOKEN"),
        ({"slack_bot_token": "xoxb-ü"}, "SLACK_BOT_TOKEN"),
        ({"slack_app_token": "xoxb-not-an-app-token"}, "SLACK_APP_TOKEN"),
    ],
)
async def test_garbage_tokens_are_refused_by_name(
    fake: SlackFake,
    tiny: Engine,
    tmp_path: Path,
    sqlite_url: str,
    overrides: dict[str, str],
    name: str,
) -> None:
    settings = slack_settings(fake, tmp_path, sqlite_url, "socket", **overrides)
    with pytest.raises(StartupError, match=name):
        await SlackService.start(Runtime(settings, tiny.db, tiny))
