"""/forget leaves no copy of the person's text in the SQLite files (database and WAL), and
removes the Slack installation rows that hold the person's own token."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from slack_sdk.oauth.installation_store import Installation
from sqlalchemy import text

from adapters.slack.oauth import INSTALLATIONS_TABLE, build_stores
from bot import events as ev
from bot.engine import Engine
from bot.settings import Settings
from tests.conftest import make_engine

MARK = "QZX-forgotten-4711"
ANN = ev.UserRef("console", "local", f"ann-{MARK}")
KEEP = ev.UserRef("console", "local", "bob")


def copies(db_file: Path) -> int:
    found = 0
    for path in (db_file, db_file.with_name(db_file.name + "-wal")):
        if path.exists():
            found += path.read_bytes().count(MARK.encode())
    return found


async def test_forget_overwrites_rows_and_empties_the_wal(
    tmp_path: Path, settings: Settings
) -> None:
    db_file = tmp_path / "crossroads.db"
    engine = await make_engine(
        f"sqlite:///{db_file}", settings.model_copy(update={"default_playbook": "tiny"})
    )
    try:
        for user in (ANN, KEEP):
            await engine.run(ev.Start(user=user))
            for value in ["student", "yes", ["code"], "5", f"my secret {MARK} " * 20]:
                await engine.run(ev.Answer(user=user, value=value if user == ANN else "1"))
        await engine.run(ev.Back(user=ANN))
        await engine.run(ev.Answer(user=ANN, value=f"changed {MARK}"))  # history holds both texts
        assert copies(db_file) > 0
        await engine.run(ev.Forget(user=ANN, confirmed=True))
        assert copies(db_file) == 0  # while the process still runs
        assert await engine.has_open_consultation(KEEP)
    finally:
        await engine.db.dispose()
    assert copies(db_file) == 0


# ------------------------------------------------------------------ Slack installation rows
# Forget removes a person's Slack installation rows: their user token is theirs.
#
# Whoever installs the app in a workspace leaves a row in slack_installations (slack_sdk's
# table, migration 0002) with their user id and user token. Forgetting that person deletes
# those rows and nothing else: the workspace's bot token (slack_bots) stays, so the app goes
# on working there; other installers' rows, and the same person's rows in another workspace
# (another tenant: forget is per workspace, like all their data), are untouched.

CLIENT = "1111.2222"
TEAM, OTHER_TEAM = "T0FORGET1", "T0KEEP001"
SLACK_ANN, SLACK_BOB = "U0ANN0001", "U0BOB0001"


def installation(team: str, user: str, day: int = 1) -> Installation:
    """An install; slack_sdk keeps one row per install (team and time), so days differ."""
    return Installation(
        app_id="A0APP0001",
        team_id=team,
        bot_token=f"xoxb-{team}",
        bot_id="B0BOT0001",
        bot_user_id="U0BOTUSER",
        bot_scopes="chat:write,commands",
        user_id=user,
        user_token=f"xoxp-{team}-{user}",
        user_scopes="identity.basic",
        installed_at=datetime(2026, 3, day, tzinfo=UTC).timestamp(),
    )


@pytest.fixture
async def slack_eng(db_url: str, settings: Settings) -> AsyncIterator[Engine]:
    engine = await make_engine(db_url, settings.model_copy(update={"default_playbook": "tiny"}))
    yield engine
    await engine.db.dispose()


async def tokens(engine: Engine) -> set[tuple[str | None, str, str | None]]:
    def unit(s):  # type: ignore[no-untyped-def]
        rows = s.execute(
            text(f"SELECT team_id, user_id, user_token FROM {INSTALLATIONS_TABLE}")
        ).all()
        return {tuple(r) for r in rows}

    return await engine.db.run(unit)


async def test_forget_deletes_the_persons_installation_rows_only(slack_eng: Engine) -> None:
    store, _ = build_stores(slack_eng.db, CLIENT)
    for day, (team, user) in enumerate(
        ((TEAM, SLACK_ANN), (TEAM, SLACK_BOB), (OTHER_TEAM, SLACK_ANN)), start=1
    ):
        await store.async_save(installation(team, user, day))
    assert len(await tokens(slack_eng)) == 3
    ann = ev.UserRef("slack", TEAM, SLACK_ANN)
    await slack_eng.run(ev.Start(user=ann))
    assert (await slack_eng.run(ev.Forget(user=ann, confirmed=True))).outcome.value == "applied"

    assert await tokens(slack_eng) == {
        (TEAM, SLACK_BOB, f"xoxp-{TEAM}-{SLACK_BOB}"),
        (OTHER_TEAM, SLACK_ANN, f"xoxp-{OTHER_TEAM}-{SLACK_ANN}"),
    }
    # The workspace keeps its bot: the app still works there for everyone else.
    bot = await store.async_find_bot(enterprise_id=None, team_id=TEAM)
    assert bot is not None and bot.bot_token == f"xoxb-{TEAM}"
    assert (
        await store.async_find_installation(enterprise_id=None, team_id=TEAM, user_id=SLACK_ANN)
        is None
    )


async def test_forget_of_an_org_wide_installer_deletes_their_org_row(slack_eng: Engine) -> None:
    store, _ = build_stores(slack_eng.db, CLIENT)
    org, other_org = "E0ORG0001", "E0ORG0002"

    def org_wide(enterprise: str, day: int) -> Installation:
        return Installation(
            app_id="A0APP0001",
            enterprise_id=enterprise,
            team_id=None,
            bot_token=f"xoxb-{enterprise}",
            bot_id="B0BOT0001",
            bot_user_id="U0BOTUSER",
            user_id=SLACK_ANN,
            user_token=f"xoxp-{enterprise}-ann",
            is_enterprise_install=True,
            installed_at=datetime(2026, 3, day, tzinfo=UTC).timestamp(),
        )

    await store.async_save(org_wide(org, 1))
    await store.async_save(org_wide(other_org, 2))  # another org: another tenant
    inside = installation("T0INORG01", SLACK_ANN, 3)  # a workspace of the org: its own tenant
    inside.enterprise_id = org
    await store.async_save(inside)
    await store.async_save(installation(OTHER_TEAM, SLACK_ANN, 4))
    assert len(await tokens(slack_eng)) == 4
    # An org-wide install has no team: the org is the tenant.
    ann = ev.UserRef("slack", org, SLACK_ANN)
    await slack_eng.run(ev.Start(user=ann))
    await slack_eng.run(ev.Forget(user=ann, confirmed=True))
    assert await tokens(slack_eng) == {
        (None, SLACK_ANN, f"xoxp-{other_org}-ann"),
        ("T0INORG01", SLACK_ANN, f"xoxp-T0INORG01-{SLACK_ANN}"),
        (OTHER_TEAM, SLACK_ANN, f"xoxp-{OTHER_TEAM}-{SLACK_ANN}"),
    }


async def test_forget_on_another_platform_leaves_slack_rows_alone(slack_eng: Engine) -> None:
    store, _ = build_stores(slack_eng.db, CLIENT)
    await store.async_save(installation(TEAM, SLACK_ANN))
    same_ids = ev.UserRef("discord", TEAM, SLACK_ANN)  # same strings, another platform
    await slack_eng.run(ev.Start(user=same_ids))
    await slack_eng.run(ev.Forget(user=same_ids, confirmed=True))
    assert await tokens(slack_eng) == {(TEAM, SLACK_ANN, f"xoxp-{TEAM}-{SLACK_ANN}")}
