"""Multi-workspace installs through OAuth, and each workspace's data kept to itself.

Why: with OAuth, tokens come from slack_sdk's installation store in our database and
the OAuth state from its state store; a second workspace must get its own token, and
nothing a person did in one workspace may show in another, not even for the same
(Enterprise Grid) user id. Runs on SQLite and PostgreSQL.
"""

from __future__ import annotations

import logging
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import aiohttp
import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from adapters.slack.app import NOT_INSTALLED
from adapters.slack.client import authorize_url
from adapters.slack.manifest import BOT_SCOPES
from adapters.slack.oauth import STATES_TABLE, build_stores, store_metadata
from bot import events as ev
from bot.settings import Settings
from bot.store import repository as repo
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
from tests.fakes.slack_fake import SlackFake

SAME = "U0GRID0001"  # one Enterprise Grid user, member of both workspaces
ADMIN = "U0ADMIN001"
OTHER = "U0OTHER001"
SECOND = "T0SECOND1"


async def state_rows(drv: SlackDriver) -> int:
    table = store_metadata().tables[STATES_TABLE]

    def unit(s: Session) -> int:
        return int(s.execute(select(func.count()).select_from(table)).scalar_one())

    return await drv.rt.db.run(unit)


async def install(
    drv: SlackDriver, http: aiohttp.ClientSession, team_id: str, name: str, installer: str
) -> None:
    """The browser side of an install: /slack/install, Slack's consent, the redirect back."""
    fake, settings = drv.fake, drv.rt.settings
    before = await state_rows(drv)
    async with http.get(drv.service.url + "/slack/install", allow_redirects=False) as resp:
        assert resp.status == 302
        location = resp.headers["Location"]
        cookie = resp.headers["Set-Cookie"].split(";")[0]
    query = parse_qs(urlsplit(location).query)
    assert location.startswith(authorize_url(fake.base_url) + "?")
    assert query["client_id"] == [fake.client_id]
    assert set(query["scope"][0].split(",")) == set(BOT_SCOPES)
    assert query["redirect_uri"] == [settings.slack_redirect_uri]
    [state] = query["state"]
    assert cookie == f"slack-app-oauth-state={state}"
    assert await state_rows(drv) == before + 1  # issued into the state store

    code = fake.add_oauth_code(team_id=team_id, team_name=name, installer_user_id=installer)
    redirect = drv.service.url + "/slack/oauth_redirect"
    params = {"code": code, "state": state}
    async with http.get(redirect, params=params, headers={"Cookie": cookie}) as resp:
        assert resp.status == 200, await resp.text()
    assert await state_rows(drv) == before  # consumed
    again = fake.add_oauth_code(team_id=team_id, team_name=name, installer_user_id=installer)
    replay = {"code": again, "state": state}
    async with http.get(redirect, params=replay, headers={"Cookie": cookie}) as resp:
        assert resp.status != 200  # a state works once


async def test_second_workspace_via_oauth_with_its_own_token_and_data(
    fake: SlackFake,
    db_url: str,
    settings: Settings,
    tmp_path: Path,
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.DEBUG, logger="adapters")
    engine = await make_engine(
        db_url, settings.model_copy(update={"default_playbook": "tiny"}), "tiny", "tiny2"
    )
    s = slack_settings(fake, tmp_path, db_url, "http", oauth=True)
    fake.oauth_redirect_uri = s.slack_redirect_uri  # the fake checks we send the same one
    fake.add_user(SAME, other_team_ids=(SECOND,))
    fake.add_user(ADMIN, is_admin=True)
    fake.add_user(OTHER)
    first = fake.team.id
    try:
        async with (
            running_adapter(fake, engine, s, "http") as drv,
            aiohttp.ClientSession() as http,
        ):
            # not installed yet: bolt refuses politely, nothing reaches the core or Slack
            ack = await drv.command("start", user_id=SAME)
            refused = await fake.wait_for_response_post()
            assert ack.status == 200 and refused.body["text"] == NOT_INSTALLED
            assert fake.calls_to("chat.postMessage") == []
            fake.response_posts.clear()

            await install(drv, http, first, fake.team.name, ADMIN)
            await install(drv, http, SECOND, "Second Lab", SAME)
            installations, _ = build_stores(drv.rt.db, fake.client_id)
            bot_one = await installations.async_find_bot(enterprise_id=None, team_id=first)
            bot_two = await installations.async_find_bot(enterprise_id=None, team_id=SECOND)
            assert bot_one is not None and bot_one.bot_token == fake.team.bot_token
            assert bot_two is not None and bot_two.bot_token == fake.teams[SECOND].bot_token
            assert bot_one.bot_token != bot_two.bot_token

            # workspace one: the person answers a question; an admin changes the playbook
            await drv.command("start", user_id=SAME)
            question = await drv.posted(2, team_id=first)
            worker = find_element(question, value="worker")
            kept_for_later = drv.payload_for(question, worker, user_id=SAME)
            await drv.click(question, find_element(question, value="student"), user_id=SAME)
            await drv.updated(question)
            await drv.command("settings playbook tiny2", user_id=ADMIN)
            changed = await fake.wait_for_response_post()
            assert "tiny2" in changed.body["text"]

            # workspace two, same user id: nothing of workspace one is visible
            await drv.command("status", team_id=SECOND, user_id=SAME)
            status = await drv.posted(1, team_id=SECOND)
            assert "no consultation in progress" in texts(status)
            dm_one, dm_two = fake.dm_channel(SAME, first), fake.dm_channel(SAME, SECOND)
            assert dm_one and dm_two and dm_one != dm_two and status.channel == dm_two
            await drv.command("start", team_id=SECOND, user_id=SAME)
            intro = await drv.posted(2, team_id=SECOND)
            assert texts(intro).startswith(
                "Tiny test playbook"
            )  # workspace one's setting stays there

            # workspace one's consultation id in a request from workspace two changes nothing
            crossed = {**kept_for_later, "team": {"id": SECOND, "domain": "second"}}
            assert (await drv.interact(crossed)).status == 200
            assert await drv.service.drain()

            await drv.command("export", team_id=SECOND, user_id=SAME)
            await fake.wait_for_call("files.completeUploadExternal")
            [export] = [f for f in fake.files.values() if f.team_id == SECOND]
            assert "Student" not in export.text

            # a new person in workspace one gets the admin's playbook
            await drv.command("start", user_id=OTHER)
            call = await fake.wait_for_call(
                "chat.postMessage", lambda c: c.params["channel"] == fake.dm_channel(OTHER)
            )
            other_intro = fake.message(call.response["channel"], call.response["ts"])
            assert texts(other_intro).startswith("Second tiny playbook")
            assert await drv.service.drain()

        # every call for a team used that team's own token
        for call in fake.calls:
            if call.method.startswith(("chat.", "conversations.", "files.", "users.")):
                assert call.team_id is not None
                assert call.token == fake.teams[call.team_id].bot_token
        second_calls = [c for c in fake.calls if c.team_id == SECOND]
        assert {c.method for c in second_calls} >= {"conversations.open", "chat.postMessage"}

        # the core keeps them apart as two people; workspace one's answer is untouched
        def answers(s: Session) -> dict[str, object]:
            out: dict[str, object] = {}
            for team in (first, SECOND):
                state = repo.current_state(s, ev.UserRef("slack", team, SAME))
                assert state is not None
                out[team] = state.answers
            return out

        assert await engine.db.run(answers) == {first: {"role": "student"}, SECOND: {}}
        assert fake.team.bot_token not in caplog.text
        assert fake.teams[SECOND].bot_token not in caplog.text
    finally:
        await engine.db.dispose()


async def test_oauth_installs_with_socket_mode(
    fake: SlackFake, sqlite_url: str, settings: Settings, tmp_path: Path
) -> None:
    """Socket Mode needs no public URL for events, but installs still need the OAuth pages."""
    engine = await make_engine(sqlite_url, settings.model_copy(update={"default_playbook": "tiny"}))
    s = slack_settings(fake, tmp_path, sqlite_url, "socket", oauth=True)
    try:
        async with (
            running_adapter(fake, engine, s, "socket") as drv,
            aiohttp.ClientSession() as http,
        ):
            await install(drv, http, SECOND, "Second Lab", OTHER)
            async with http.get(drv.service.url + "/healthz") as resp:
                assert resp.status == 200
            async with http.post(drv.service.url + "/slack/events", data=b"{}") as resp:
                assert resp.status in (404, 405)  # events come over the socket, not HTTP
            ack = await drv.command("start", team_id=SECOND, user_id=OTHER)
            assert ack.status == 200
            question = await drv.posted(2, team_id=SECOND)
            assert question.channel == fake.dm_channel(OTHER, SECOND)
            assert "What are you?" in texts(question)
    finally:
        await engine.db.dispose()
