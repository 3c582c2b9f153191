"""End to end: the /advise and /advise-admin commands, command sync, sharding, serving.

The real client against the fake, on SQLite and PostgreSQL; the serve test runs the
README's command (`crossroads`) as a subprocess pointed at the fake.
"""

from __future__ import annotations

import asyncio
import os
import signal
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

from adapters.discord.cli import client_id_from_token, invite_url
from adapters.discord.commands import NEEDS_MANAGE_SERVER
from adapters.discord.service import build_client, shard_plan
from adapters.runtime import Runtime, StartupError
from bot.settings import Settings
from tests.discord_harness import (
    TOKEN,
    World,
    assert_no_pings,
    button,
    discord_settings,
    make_runtime,
    question_title,
    text_of,
)
from tests.fakes.discord_fake import (
    INTENT_DIRECT_MESSAGES,
    INTENT_GUILDS,
    PRIVILEGED_INTENTS,
    FakeCallback,
    FakeDiscord,
)

P_MANAGE_GUILD = 1 << 5

pytest_plugins = ["tests.discord_fixtures"]  # fixtures: fake, world, loopback_only


async def run(
    world: World, command: str, options: dict[str, object] | None = None, **kw: object
) -> tuple[str, FakeCallback]:
    bot = world.bots[-1]
    iid = await world.fake.inject_command(command, options, **kw)  # type: ignore[arg-type]
    outcome = await bot.handled(iid)
    return outcome, await world.fake.wait_for_callback(iid)


async def test_commands_are_synced_with_contexts_and_admin_permission(world: World) -> None:
    fake = world.fake
    await world.bot()
    (sync,) = fake.command_syncs
    assert sync["guild_id"] is None  # global by default
    commands = {c["name"]: c for c in sync["response"]}
    assert set(commands) == {"advise", "advise-admin"}
    advise, admin = commands["advise"], commands["advise-admin"]
    assert sorted(advise["contexts"]) == [0, 1] and advise["integration_types"] == [0]
    assert [o["name"] for o in advise["options"]] == [
        "start",
        "resume",
        "status",
        "back",
        "restart",
        "export",
        "forget",
        "checkins",
        "timezone",
        "quiet",
        "help",
        "mentor",
    ]
    start = advise["options"][0]
    assert [c["value"] for c in start["options"][0]["choices"]] == ["tiny", "tiny2"]
    assert advise["default_member_permissions"] is None
    assert int(admin["default_member_permissions"]) == P_MANAGE_GUILD
    assert admin["contexts"] == [0]
    assert [o["name"] for o in admin["options"]] == [
        "playbook",
        "checkins",
        "show",
        "stats",
        "mentors",
    ]
    mentors = admin["options"][4]
    assert [o["name"] for o in mentors["options"]] == ["channel", "tag", "untag", "show"]
    intents = fake.identifies[0]["intents"]
    assert intents == INTENT_GUILDS | INTENT_DIRECT_MESSAGES  # typed DMs; nothing privileged
    assert intents & PRIVILEGED_INTENTS == 0
    with pytest.raises(ValueError, match="not available in DMs"):
        await fake.inject_command("advise-admin show", dm=True)


async def test_admin_commands_need_manage_server(world: World) -> None:
    fake = world.fake
    bot = await world.bot()
    # A member without Manage Server (Discord hides the command, but a server can override
    # that default, so the bot checks on every call).
    outcome, reply = await run(world, "advise-admin playbook", {"playbook": "tiny2"})
    assert outcome == "refused-permission"
    assert reply.ephemeral and reply.content == NEEDS_MANAGE_SERVER
    overview = await bot.engine.tenant_overview("discord", str(fake.guild_id))
    assert "Default playbook: tiny " in overview.text()

    # The owner may; so may a member whose role grants Manage Server.
    outcome, reply = await run(
        world, "advise-admin playbook", {"playbook": "tiny2"}, user_id=fake.owner_id
    )
    assert outcome == "applied" and reply.ephemeral
    assert text_of(reply) == "New consultations here now use the playbook tiny2."
    mod = fake.add_user("mod")
    role = fake.add_role(fake.guild_id, "mods", permissions=P_MANAGE_GUILD)
    fake.add_member(fake.guild_id, mod, roles=(role,))
    outcome, reply = await run(
        world,
        "advise-admin checkins",
        {"cadence_days": 14, "timezone": "Mars/Olympus"},
        user_id=mod,
    )
    assert outcome == "invalid" and text_of(reply).startswith("That is not a time zone")
    outcome, reply = await run(
        world,
        "advise-admin checkins",
        {"cadence_days": 14, "timezone": "Europe/Berlin", "quiet_hours": "22:00-07:30"},
        user_id=mod,
    )
    assert outcome == "applied" and text_of(reply) == (
        "Check-in defaults here: cadence days 14, quiet hours 22:00-07:30, timezone Europe/Berlin."
    )
    outcome, reply = await run(world, "advise-admin show", user_id=mod)
    assert outcome == "shown" and reply.embeds[0]["title"] == "Crossroads settings here"
    assert "Check-in cadence: every 14 days." in reply.embeds[0]["description"]
    outcome, reply = await run(world, "advise-admin show")
    assert outcome == "refused-permission"

    # A member starting here now gets the server's playbook (in DMs, same person).
    mark = fake.mark()
    outcome, _ = await run(world, "advise start")
    assert outcome == "dm"
    sent = await fake.wait_for_message(
        channel_id=int(fake.dm_channel_for(fake.user_id)["id"]), after=mark
    )
    assert sent.embeds[0]["title"] == "Second tiny playbook"  # its intro
    # In a DM there is no server: the bot-wide default applies to a new playbook choice.
    outcome, reply = await run(world, "advise status", dm=True)
    assert reply.embeds[0]["title"] == "Second tiny playbook"


async def test_dm_commands_work_directly_and_forget_asks_first(world: World) -> None:
    fake = world.fake
    await world.bot()
    outcome, first = await run(world, "advise start", dm=True)
    assert outcome == "applied" and not first.ephemeral
    assert first.message is not None
    assert question_title(first) == "What are you?"

    outcome, status = await run(world, "advise status", dm=True)
    assert not status.ephemeral and "0 of 4 questions answered" in text_of(status)
    outcome, status = await run(world, "advise status")  # in the server: only for you
    assert status.ephemeral

    outcome, export = await run(world, "advise export")
    assert export.ephemeral and export.message is not None
    (attachment,) = export.message.attachments
    assert attachment["filename"].endswith(".md")
    assert export.files[0].data.decode().startswith("# Your Crossroads data")

    outcome, help_ = await run(world, "advise help", dm=True)
    assert "/advise start" in (help_.content or "") and not help_.ephemeral

    outcome, ask = await run(world, "advise forget", dm=True)
    assert ask.message is not None
    mark = fake.mark()
    keep = await fake.inject_component(ask.message.id, button(ask, "Keep it"))
    assert await world.bots[-1].handled(keep) == "applied"
    assert fake.message(ask.message.id).components == []  # answered: no more buttons
    kept = await fake.wait_for_message(channel_id=ask.message.channel_id, after=mark)
    assert text_of(kept) == "Nothing was deleted."
    outcome, status = await run(world, "advise status", dm=True)
    # Kept: the same consultation is still there, at the same place.
    assert status.embeds[0]["title"] == "Tiny test playbook"
    assert "Active: 0 of 4 questions answered." in text_of(status)

    outcome, ask = await run(world, "advise forget")
    assert ask.ephemeral and ask.message is not None
    yes = await fake.inject_component(ask.message.id, button(ask, "Delete my data"))
    assert await world.bots[-1].handled(yes) == "applied"
    assert fake.message(ask.message.id).components == []
    deleted = [
        m for m in fake.all_messages() if "everything I kept about you is deleted" in text_of(m)
    ]
    assert len(deleted) == 1 and deleted[0].ephemeral  # where the question was: only for you
    outcome, status = await run(world, "advise status", dm=True)
    assert text_of(status).startswith("You have no consultation in progress.")
    outcome, resume = await run(world, "advise resume")  # nothing to move to DMs
    assert outcome == "not_found" and resume.ephemeral

    # The old question message now belongs to a deleted consultation.
    old = await fake.inject_component(first.message.id, button(first, "Student"))
    assert await world.bots[-1].handled(old) == "not_found"
    gone = await fake.wait_for_callback(old)
    assert gone.ephemeral and "no longer exists" in text_of(gone)
    assert_no_pings(fake)


async def test_restart_and_back_from_a_server_continue_in_dms(world: World) -> None:
    fake = world.fake
    await world.bot()
    dm = int(fake.dm_channel_for(fake.user_id)["id"])
    await run(world, "advise start")
    mark = fake.mark()
    outcome, pointer = await run(world, "advise restart")
    assert outcome == "dm" and pointer.ephemeral
    again = await fake.wait_for_message(channel_id=dm, after=mark)
    assert again.embeds[0]["description"] == "Starting again from the first question."
    mark = fake.mark()
    outcome, _ = await run(world, "advise back")
    assert outcome == "dm"
    notice = await fake.wait_for_message(channel_id=dm, after=mark)
    assert "first question" in text_of(notice)


async def test_dev_guild_sync(fake: FakeDiscord, settings: Settings, sqlite_url: str) -> None:
    cfg = discord_settings(settings, fake, discord_dev_guild_id=fake.guild_id)
    world_ = World(fake, cfg, sqlite_url)
    from adapters.discord.service import discord_endpoints

    with discord_endpoints(cfg):
        try:
            await world_.bot()
        finally:
            await world_.close()
    (sync,) = fake.command_syncs
    assert sync["guild_id"] == fake.guild_id
    assert {c["name"] for c in sync["request"]} == {"advise", "advise-admin"}
    assert fake.global_commands == []


async def test_shards_split_across_processes_on_one_database(world: World) -> None:
    """Two processes, shards 0 and 1 of 2, one database: each serves its own servers."""
    fake = world.fake
    other = fake.add_guild("Second server", member_ids=(fake.user_id,))
    while (other >> 22) % 2 == (fake.guild_id >> 22) % 2:
        other = fake.add_guild("Another server", member_ids=(fake.user_id,))
    channel_of = {g: int(fake.guilds[g].channels[0]["id"]) for g in (fake.guild_id, other)}
    procs = []
    for shard in (0, 1):
        cfg = world.settings.model_copy(
            update={"discord_shard_count": 2, "discord_shard_ids": [shard]}
        )
        procs.append(await world.bot(settings=cfg))
    assert sorted(tuple(i["shard"]) for i in fake.identifies) == [(0, 2), (1, 2)]
    assert len(fake.command_syncs) == 1  # only the process holding shard 0 syncs

    for guild, channel in channel_of.items():
        iid = await fake.inject_command("advise status", channel_id=channel)
        owner = procs[(guild >> 22) % 2]
        assert await owner.handled(iid) == "not_found"  # no consultation yet, but answered
        assert int(iid) not in procs[1 - (guild >> 22) % 2].outcomes
    # The consultation started through one process is the same row for the other.
    mark = fake.mark()
    start = await fake.inject_command("advise start", channel_id=channel_of[other])
    await procs[(other >> 22) % 2].handled(start)
    dm = await fake.wait_for_message(
        channel_id=int(fake.dm_channel_for(fake.user_id)["id"]), after=mark
    )
    click = await fake.inject_component(dm.id, button(dm, "Worker"))  # DMs go to shard 0
    assert await procs[0].handled(click) == "applied"


def test_shard_settings_are_checked(settings: Settings) -> None:
    assert shard_plan(settings) == (0, [])
    ok = settings.model_copy(update={"discord_shard_count": 4, "discord_shard_ids": [2, 3]})
    assert shard_plan(ok) == (4, [2, 3])
    for bad in (
        {"discord_shard_ids": [0]},
        {"discord_shard_count": 2, "discord_shard_ids": [2]},
        {"discord_shard_count": 2, "discord_shard_ids": [1, 1]},
    ):
        with pytest.raises(StartupError, match="discord_shard_ids"):
            shard_plan(settings.model_copy(update=bad))


async def test_build_client_uses_the_shard_settings(settings: Settings, sqlite_url: str) -> None:
    cfg = settings.model_copy(update={"discord_shard_count": 4, "discord_shard_ids": [1, 2]})
    rt: Runtime = await make_runtime(sqlite_url, cfg)
    try:
        client = build_client(rt)
        # Never started, so nothing to close (discord.py cannot close an unstarted
        # AutoShardedClient: its queue is made at login).
        assert (client.shard_count, client.shard_ids, client.sync_commands) == (4, [1, 2], False)
    finally:
        await rt.close()


def test_invite_url_has_exactly_the_scopes_and_permissions_needed(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from adapters.cli import cli

    expected = (
        "https://discord.com/oauth2/authorize?client_id=1234567890123456789"
        "&scope=bot+applications.commands&permissions=0&integration_type=0"
    )
    assert invite_url(1234567890123456789) == expected
    runner = CliRunner()
    result = runner.invoke(cli, ["discord", "invite-url", "--client-id", "1234567890123456789"])
    assert result.exit_code == 0 and result.output == expected + "\n"
    # Without --client-id it is read from the token (whose first part is the bot's id).
    token = "MTIzNDU2Nzg5MDEyMzQ1Njc4OQ.GaBcDe.secret-part-never-printed"
    assert client_id_from_token(token) == 1234567890123456789
    monkeypatch.setenv("DISCORD_TOKEN", token)
    result = runner.invoke(cli, ["discord", "invite-url"])
    assert result.exit_code == 0 and result.output == expected + "\n"
    assert "secret" not in result.output
    monkeypatch.delenv("DISCORD_TOKEN")
    result = runner.invoke(cli, ["discord", "invite-url"])
    assert result.exit_code == 2 and "--client-id" in result.output


async def test_the_readme_run_command_serves_discord(fake: FakeDiscord, tmp_path: Path) -> None:
    """`crossroads` with DISCORD_TOKEN set serves Discord, through the settings' endpoints."""
    playbooks = tmp_path / "playbooks"
    playbooks.mkdir()
    tiny = Path(__file__).parent / "playbooks" / "tiny.yaml"
    (playbooks / "tiny.yaml").write_bytes(tiny.read_bytes())
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("CROSSROADS_", "SLACK_", "DISCORD_")) and k != "DATABASE_URL"
    }
    env.update(
        DISCORD_TOKEN=TOKEN,
        CROSSROADS_DISCORD_API_BASE=fake.api_base,
        CROSSROADS_DISCORD_GATEWAY_URL=fake.gateway_url,
        CROSSROADS_DATA_DIR=str(tmp_path / "data"),
        CROSSROADS_PLAYBOOKS_DIR=str(playbooks),
        CROSSROADS_DEFAULT_PLAYBOOK="tiny",
    )
    exe = Path(sys.executable).with_name("crossroads")
    proc = await asyncio.create_subprocess_exec(
        str(exe), env=env, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE
    )
    try:
        await fake.wait_for(kind="identify", timeout=180)
        iid = await fake.inject_command("advise start", dm=True)
        # The reply is the callback itself, or (a turn slower than DEFER_AFTER, as on a
        # loaded machine) a deferred "thinking" message edited later: wait for its content.
        shown = await fake.wait_for(
            lambda r: (
                r.kind in ("message_create", "message_update")
                and r.data.interaction_id == iid
                and bool(r.data.embeds)
            ),
            timeout=30,
        )
        assert question_title(fake.message(shown.data.id)) == "What are you?"
    finally:
        proc.send_signal(signal.SIGINT)
        out, err = await asyncio.wait_for(proc.communicate(), 30)
    assert proc.returncode == 0, err.decode()
    log = (tmp_path / "data" / "crossroads.log").read_text()
    assert TOKEN not in log and TOKEN not in err.decode() and TOKEN not in out.decode()
    assert "serving Discord" in log
