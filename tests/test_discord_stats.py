"""End to end: /advise-admin stats with the real discord.py client against the fake.

A Manage Server member gets this server's figures ephemerally, with the chart attached
as a PNG (and the CSV when asked); a member without the permission is refused and gets
no figures. On SQLite and PostgreSQL.
"""

from __future__ import annotations

from adapters.discord.commands import NEEDS_MANAGE_SERVER
from bot import events as ev
from tests.discord_harness import World, text_of
from tests.fakes.discord_fake import RecordedFile

pytest_plugins = ["tests.discord_fixtures"]  # fixtures: fake, world, loopback_only

PNG_MAGIC = b"\x89PNG\r\n\x1a\n"
FINISH = ["student", "yes", ["code"], "5", "skip"]


async def seed(world: World, guild: str, people: int) -> None:
    engine = world.bots[-1].engine
    for n in range(people):
        user = ev.UserRef("discord", "dm", f"{7000 + n}")
        await engine.run(ev.Start(user=user, origin_tenant=guild))
        for value in FINISH:
            await engine.run(ev.Answer(user=user, value=value))  # type: ignore[arg-type]


def files_of(world: World, interaction_id: str) -> list[RecordedFile]:
    """Every file the bot sent in answer to the interaction (first reply or followups)."""
    return [
        f for m in world.fake.all_messages() if m.interaction_id == interaction_id for f in m.files
    ]


async def test_a_server_manager_gets_the_figures_and_the_chart(world: World) -> None:
    fake = world.fake
    bot = await world.bot()
    await seed(world, str(fake.guild_id), 6)
    iid = await fake.inject_command("advise-admin stats", user_id=fake.owner_id)
    assert await bot.handled(iid, timeout=30) == "shown"
    reply = await fake.wait_for_callback(iid)
    assert reply.ephemeral or reply.type == 5  # answered, or deferred ephemerally first
    sent = [m for m in fake.all_messages() if m.interaction_id == iid]
    assert sent and all(m.payload["flags"] & 64 for m in sent)  # only the admin sees them
    shown = "\n".join(text_of(m) for m in sent)
    assert "**Consultations started**: 10" in shown  # 6 people, rounded
    [chart] = files_of(world, iid)
    assert chart.filename == "crossroads-stats.png" and chart.data.startswith(PNG_MAGIC)
    assert len(chart.data) > 1000
    attachment = next(a for m in sent for a in m.payload["attachments"])
    assert attachment["filename"] == "crossroads-stats.png"
    assert "Started 10" in attachment.get("description", "")

    iid = await fake.inject_command("advise-admin stats", {"csv": True}, user_id=fake.owner_id)
    assert await bot.handled(iid, timeout=30) == "shown"
    names = sorted(f.filename for f in files_of(world, iid))
    assert names == ["crossroads-stats.csv", "crossroads-stats.png"]
    [csv_file] = [f for f in files_of(world, iid) if f.filename.endswith(".csv")]
    assert csv_file.data.decode().startswith("table,playbook,row,column,value\n")
    assert "overview,,Consultations started,Count,10" in csv_file.data.decode()


async def test_stats_are_refused_without_manage_server(world: World) -> None:
    fake = world.fake
    bot = await world.bot()
    await seed(world, str(fake.guild_id), 5)
    iid = await fake.inject_command("advise-admin stats")  # a plain member
    assert await bot.handled(iid) == "refused-permission"
    reply = await fake.wait_for_callback(iid)
    assert reply.ephemeral and reply.content == NEEDS_MANAGE_SERVER
    assert files_of(world, iid) == [] and "Consultations" not in text_of(reply)
