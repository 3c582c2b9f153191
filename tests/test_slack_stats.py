"""End to end: /advise admin stats over Socket Mode against the Slack fake.

An admin's figures go to their DM (tables as messages, the chart uploaded through
files_upload_v2: files.getUploadURLExternal, the upload, files.completeUploadExternal)
with an ephemeral pointer in the channel; a member is refused and nothing is sent.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from adapters.slack.app import STATS_SENT
from bot import events as ev
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

ADMIN, MEMBER = "U0ADMIN001", "U0MEMBER01"
PNG_MAGIC = b"\x89PNG\r\n\x1a\n"
FINISH = ["student", "yes", ["code"], "5", "skip"]


@pytest.fixture
async def engine(sqlite_url: str, settings: Settings) -> AsyncIterator[Engine]:
    eng = await make_engine(sqlite_url, settings.model_copy(update={"default_playbook": "tiny"}))
    yield eng
    await eng.db.dispose()


@pytest.fixture
async def drv(
    fake: SlackFake, engine: Engine, tmp_path: Path, sqlite_url: str
) -> AsyncIterator[SlackDriver]:
    fake.add_user(ADMIN, is_admin=True)
    fake.add_user(MEMBER)
    for n in range(7):  # seven people of this workspace finished a consultation
        user = ev.UserRef("slack", fake.team.id, f"U0PERSON{n:02d}")
        await engine.run(ev.Start(user=user))
        for value in FINISH:
            await engine.run(ev.Answer(user=user, value=value))  # type: ignore[arg-type]
    settings = slack_settings(fake, tmp_path, sqlite_url, "socket")
    async with running_adapter(fake, engine, settings, "socket") as driver:
        yield driver


def texts(message: object) -> str:
    blocks = getattr(message, "blocks", [])
    out = []
    for b in blocks:
        if "text" in b and isinstance(b["text"], dict):
            out.append(b["text"]["text"])
        out += [f["text"] for f in b.get("fields") or []]
        out += [e.get("text", "") for e in b.get("elements") or [] if isinstance(e, dict)]
    return "\n".join(out)


async def test_an_admin_gets_the_figures_and_the_chart_in_a_dm(drv: SlackDriver) -> None:
    fake = drv.fake
    before = len(fake.response_posts)
    ack = await drv.command("admin stats", user_id=ADMIN)
    assert ack.status == 200
    table = await drv.posted(1)
    dm = fake.dm_channel(ADMIN)
    assert table.channel == dm
    assert "Consultations started" in texts(table) and "10" in texts(table)  # 7, rounded
    upload = await fake.wait_for_call("files.completeUploadExternal")
    assert upload.team_id == fake.team.id
    [chart] = [f for f in fake.files.values() if f.completed]
    assert chart.filename == "crossroads-stats.png" and chart.channels == [dm]
    assert chart.content is not None and chart.content.startswith(PNG_MAGIC)
    assert chart.alt_txt and "Started 10" in chart.alt_txt
    [get_url] = fake.calls_to("files.getUploadURLExternal")
    assert get_url.params["length"] == str(len(chart.content))
    pointer = await fake.wait_for_response_post(lambda p: p.index >= before)
    assert pointer.body.get("response_type") == "ephemeral" and pointer.body["text"] == STATS_SENT

    await drv.command("admin stats csv", user_id=ADMIN)
    await fake.wait_for_call("files.completeUploadExternal", count=3)
    names = sorted(f.filename for f in fake.files.values() if f.completed)
    assert names == ["crossroads-stats.csv", "crossroads-stats.png", "crossroads-stats.png"]
    [csv_file] = [f for f in fake.files.values() if f.filename.endswith(".csv")]
    assert csv_file.text.startswith("table,playbook,row,column,value\n")
    assert "overview,,Consultations started,Count,10" in csv_file.text


async def test_a_member_is_refused_and_nothing_is_sent(drv: SlackDriver) -> None:
    fake = drv.fake
    await drv.command("admin stats", user_id=MEMBER)
    post = await fake.wait_for_response_post()
    assert "Only workspace admins and owners" in str(post.body["text"])
    assert await drv.service.drain()
    assert fake.calls_to("chat.postMessage") == []
    assert fake.calls_to("files.getUploadURLExternal") == [] and not fake.files


async def test_usage_of_admin_stats(drv: SlackDriver) -> None:
    ack = await drv.command("admin stats everything", user_id=ADMIN)
    assert "admin stats csv" in ack.text
    assert drv.fake.calls_to("users.info") == []  # refused before asking anyone
