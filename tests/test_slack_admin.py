"""Workspace settings through /advise settings: admins and owners only (users.info), help,
and usage errors, over Socket Mode.

Why: the default playbook and check-in defaults change what everyone in a workspace gets,
so the permission check (Slack's is_admin / is_owner, asked with users.info at the time of
the request) must hold, and a failed check must change nothing.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from bot.engine import Engine
from bot.settings import Settings
from tests.conftest import make_engine
from tests.fakes.slack_driver import (  # noqa: F401 - fixtures
    SlackDriver,
    fake_fixture,
    loopback_fixture,
    running_adapter,
    slack_settings,
)
from tests.fakes.slack_fake import SlackFake

ADMIN, OWNER, MEMBER = "U0ADMIN001", "U0OWNER001", "U0MEMBER01"


@pytest.fixture
async def engine(sqlite_url: str, settings: Settings) -> AsyncIterator[Engine]:
    eng = await make_engine(
        sqlite_url, settings.model_copy(update={"default_playbook": "tiny"}), "tiny", "tiny2"
    )
    yield eng
    await eng.db.dispose()


@pytest.fixture
async def drv(
    fake: SlackFake, engine: Engine, tmp_path: Path, sqlite_url: str
) -> AsyncIterator[SlackDriver]:
    fake.add_user(ADMIN, is_admin=True)
    fake.add_user(OWNER, is_owner=True)
    fake.add_user(MEMBER)
    settings = slack_settings(fake, tmp_path, sqlite_url, "socket")
    async with running_adapter(fake, engine, settings, "socket") as driver:
        yield driver


async def reply_to(drv: SlackDriver, text: str, user: str) -> str:
    """Run a settings command; the answer comes ephemerally through the response_url."""
    before = len(drv.fake.response_posts)
    ack = await drv.command(text, user_id=user)
    assert ack.status == 200 and ack.body is None  # acked at once, answered after users.info
    post = await drv.fake.wait_for_response_post(lambda p: p.index >= before)
    assert post.body.get("response_type") == "ephemeral"
    return str(post.body["text"])


async def test_member_is_refused_and_nothing_changes(drv: SlackDriver, engine: Engine) -> None:
    text = await reply_to(drv, "settings playbook tiny2", MEMBER)
    assert "Only workspace admins and owners" in text
    overview = await engine.tenant_overview("slack", drv.fake.team.id)
    assert "Default playbook: tiny " in overview.text()
    [info] = drv.fake.calls_to("users.info")
    assert info.params["user"] == MEMBER
    assert "Only workspace admins" in await reply_to(drv, "settings", MEMBER)


async def test_admin_and_owner_change_the_workspace_settings(
    drv: SlackDriver, engine: Engine
) -> None:
    assert "now use the playbook tiny2" in await reply_to(drv, "settings playbook tiny2", ADMIN)
    text = await reply_to(
        drv, "settings checkins cadence=14 timezone=Europe/Berlin quiet=22:00-07:30", OWNER
    )
    assert "cadence days 14" in text and "Europe/Berlin" in text and "22:00-07:30" in text
    overview = await reply_to(drv, "settings", ADMIN)
    assert "Default playbook: tiny2" in overview and "every 14 days" in overview
    # the core's own refusals come back politely, and change nothing
    assert "no playbook called" in await reply_to(drv, "settings playbook nope", ADMIN)
    assert "not a time zone" in await reply_to(drv, "settings checkins tz=Mars/Base", ADMIN)
    overview = await engine.tenant_overview("slack", drv.fake.team.id)
    assert "Default playbook: tiny2" in overview.text()
    # and a new consultation here uses the workspace's playbook
    await drv.command("start", user_id=ADMIN)
    intro = await drv.posted(1)
    assert intro.blocks[0]["text"]["text"] == "Second tiny playbook"


async def test_failed_permission_check_changes_nothing(drv: SlackDriver, engine: Engine) -> None:
    drv.fake.server_error("users.info", status=500, count=3)  # beyond the retries
    text = await reply_to(drv, "settings playbook tiny2", ADMIN)
    assert "could not check your permissions" in text
    assert [c.status for c in drv.fake.calls_to("users.info")] == [500, 500, 500]
    overview = await engine.tenant_overview("slack", drv.fake.team.id)
    assert "Default playbook: tiny " in overview.text()


async def test_help_and_usage_errors_answer_in_the_ack(drv: SlackDriver) -> None:
    ack = await drv.command("help", user_id=MEMBER)
    assert isinstance(ack.body, dict)
    help_text = "\n".join(str(b["text"]["text"]) for b in ack.body["blocks"] if "text" in b)
    for word in ("start", "resume", "status", "back", "restart", "export", "forget", "settings"):
        assert f"/advise {word}" in help_text
    ack = await drv.command("dance <!here>", user_id=MEMBER)
    assert "Unknown command" in ack.text and "<!here>" not in ack.text
    ack = await drv.command("settings checkins cadence=often", user_id=ADMIN)
    assert "whole number of days" in ack.text
    assert drv.fake.calls_to("users.info") == []  # refused before asking anyone
    assert await drv.service.drain()
    assert drv.fake.calls_to("chat.postMessage") == []
