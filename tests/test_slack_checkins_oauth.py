"""Check-in DMs with OAuth: each workspace's own installed token, none once it uninstalls.

The Slack CheckInSender gets a team's bot token from the installation store
(adapters/slack/service.py token_lookup). A workspace that never installed the app, or
uninstalled it, has no token: the check-in is reported unreachable ("The app was removed
from this workspace.") without a call to Slack, and the other workspace goes on working.
"""

from __future__ import annotations

import asyncio
import logging
from pathlib import Path

import aiohttp
import pytest

from adapters.slack.checkins import REMOVED
from adapters.slack.oauth import build_stores
from bot.checkins.sender import Delivered, Unreachable
from bot.events import UserRef
from bot.ports import Notification
from bot.settings import Settings
from bot.ui.cards import Card, Prose
from tests.conftest import make_engine
from tests.fakes.slack_driver import (  # noqa: F401 - fixtures
    fake_fixture,
    loopback_fixture,
    running_adapter,
    slack_settings,
    texts,
)
from tests.fakes.slack_fake import SlackFake, post_to_app
from tests.test_slack_oauth import ADMIN, SAME, SECOND, install

NOTE = Notification(cards=(Card(title="Check-in", sections=(Prose(text="How did it go?"),)),))


async def test_check_ins_use_each_workspaces_token_and_stop_when_it_uninstalls(
    fake: SlackFake,
    sqlite_url: str,
    settings: Settings,
    tmp_path: Path,
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.DEBUG, logger="adapters")
    engine = await make_engine(sqlite_url, settings.model_copy(update={"default_playbook": "tiny"}))
    s = slack_settings(fake, tmp_path, sqlite_url, "http", oauth=True)
    fake.oauth_redirect_uri = s.slack_redirect_uri
    fake.add_user(SAME, other_team_ids=(SECOND,))
    fake.add_user(ADMIN, is_admin=True)
    first = fake.team.id
    try:
        async with (
            running_adapter(fake, engine, s, "http") as drv,
            aiohttp.ClientSession() as http,
        ):
            sender = drv.service.checkin_sender
            assert sender is not None
            # Before any install: no token anywhere, and nothing is sent.
            before = len(fake.calls)
            assert await sender.send(UserRef("slack", first, SAME), NOTE, "k0") == (
                Unreachable(REMOVED)
            )
            assert fake.calls[before:] == []

            await install(drv, http, first, fake.team.name, ADMIN)
            await install(drv, http, SECOND, "Second Lab", SAME)

            # Each workspace's check-in goes out with that workspace's own token, to the
            # person's DM there.
            for team, key in ((first, "k1"), (SECOND, "k2")):
                sent = await sender.send(UserRef("slack", team, SAME), NOTE, key)
                assert isinstance(sent, Delivered), sent
                call = fake.calls_to("chat.postMessage")[-1]
                assert call.team_id == team
                assert call.token == fake.teams[team].bot_token
                assert call.params["channel"] == fake.dm_channel(SAME, team)
                message = fake.message(call.response["channel"], sent.message_id)
                assert "How did it go?" in texts(message)

            # A team that never installed the app: unreachable, no call to Slack.
            before = len(fake.calls)
            never = await sender.send(UserRef("slack", "T0NEVER01", SAME), NOTE, "k3")
            assert never == Unreachable(REMOVED)
            assert fake.calls[before:] == []

            # The second workspace uninstalls: its tokens are dropped, its check-ins stop.
            event = fake.payloads.event_callback({"type": "app_uninstalled"}, team_id=SECOND)
            reply = await post_to_app(drv.events_url, fake.signer.event(event))
            assert reply.status == 200
            probe = UserRef("slack", SECOND, SAME)
            installations, _ = build_stores(drv.rt.db, fake.client_id)
            deadline = asyncio.get_running_loop().time() + 30  # generous: polled, not waited
            while await installations.async_find_bot(enterprise_id=None, team_id=SECOND):
                assert asyncio.get_running_loop().time() < deadline, "the bot token stayed"
                await asyncio.sleep(0.02)
            posts = len(fake.calls_to("chat.postMessage"))
            assert await sender.send(probe, NOTE, "k5") == Unreachable(REMOVED)
            assert len(fake.calls_to("chat.postMessage")) == posts
            # The first workspace is untouched.
            still = await sender.send(UserRef("slack", first, SAME), NOTE, "k6")
            assert isinstance(still, Delivered)
            assert fake.calls_to("chat.postMessage")[-1].token == fake.team.bot_token
        for team in (first, SECOND):
            assert fake.teams[team].bot_token not in caplog.text
    finally:
        await engine.db.dispose()
