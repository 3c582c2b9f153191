"""Discord sharded across two OS processes on one PostgreSQL, end to end.

Two real `crossroads run` processes, one shard each (``CROSSROADS_DISCORD_SHARD_COUNT=2``,
``CROSSROADS_DISCORD_SHARD_IDS=[0]`` / ``[1]``), connect to the Discord fake in this
process and share a fresh PostgreSQL database (both start at once on the empty
database, so both may migrate at start-up; the migration lock lets one at a time). The
test checks what a person and an operator would notice:

* each process identifies with its own shard, and only the shard-0 process syncs commands;
* a server on shard 0 and a server on shard 1 both get consultations answered, each by
  the process holding its shard;
* the data is shared: a consultation started in the shard-1 server is answered in the DM,
  which Discord routes to shard 0, and its progress shows in the shard-1 server again;
* check-ins that fall due while both processes poll are each delivered exactly once
  across both, and a delivered one is answered in the DM (shard 0's process), whichever
  process sent it;
* SIGTERM stops both with exit code 0.

Who handled what is read from each process's own log (``CROSSROADS_LOG_LEVEL=DEBUG``:
"interaction N handled: outcome" and "check-ins: wake-up done by W: c claimed, d
delivered"), never guessed. Every wait polls a condition with a generous deadline.
"""

from __future__ import annotations

import asyncio
import json
import os
import re
import signal
import sys
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import TypeVar

import pytest
from sqlalchemy import select, update
from sqlalchemy.orm import Session

from bot.checkins import texts
from bot.checkins.schedule import idempotency_key
from bot.messages import CheckInChoice
from bot.store.database import Database
from bot.store.models import CheckIn, User
from tests.discord_harness import TOKEN, button, text_of
from tests.discord_harness import select as first_select
from tests.fakes.discord_fake import FakeDiscord, FakeMessage

pytest_plugins = ["tests.discord_fixtures"]  # fixtures: fake, loopback_only

CROSSROADS = Path(sys.executable).with_name("crossroads")
TINY = Path(__file__).parent / "playbooks" / "tiny.yaml"
START_DEADLINE = 180.0  # imports and migrations on a machine shared with CPU hogs
DEADLINE = 60.0  # one step (an interaction answered, a poll round) on a loaded machine
RACE_IN = 3.0  # seconds from moving the check-ins to their due time (both processes poll 1/s)
OFFER_TITLE = "Shall I check in with you on your plan?"
HANDLED = re.compile(r"interaction (\d+) handled: (\w+)")
WAKE_UP = re.compile(r"check-ins: wake-up done by (\S+): (\d+) claimed, (\d+) delivered")
T = TypeVar("T")


@dataclass
class BotProcess:
    """One `crossroads run` serving one shard, with its own data folder and log."""

    shard: int
    data: Path
    proc: asyncio.subprocess.Process | None = None
    stderr: bytes = b""
    stdout: bytes = b""

    @property
    def name(self) -> str:
        return f"shard {self.shard}"

    @property
    def log_file(self) -> Path:
        return self.data / "crossroads.log"

    def log(self) -> str:
        try:
            return self.log_file.read_text(encoding="utf-8")
        except FileNotFoundError:
            return ""

    def handled(self) -> dict[str, str]:
        return dict(HANDLED.findall(self.log()))

    def wake_ups(self) -> list[tuple[str, int, int]]:
        return [(w, int(c), int(d)) for w, c, d in WAKE_UP.findall(self.log())]

    def exited(self) -> bool:
        return self.proc is not None and self.proc.returncode is not None


@dataclass
class Cluster:
    fake: FakeDiscord
    procs: list[BotProcess]
    db: Database
    chat: dict[int, int] = field(default_factory=dict)  # shard -> a text channel there

    async def until(self, condition: Callable[[], T], what: str, within: float = DEADLINE) -> T:
        """Poll ``condition`` (the fake serves meanwhile); fail early if a process died."""
        async with asyncio.timeout(within):
            while not (value := condition()):
                for p in self.procs:
                    if p.exited():
                        raise AssertionError(f"{p.name} exited while waiting for {what}: {p.log()}")
                await asyncio.sleep(0.05)
        return value

    async def handled_by(self, iid: str) -> tuple[int, str]:
        """(shard of the process that handled interaction ``iid``, its outcome)."""

        def find() -> list[tuple[int, str]]:
            return [(p.shard, p.handled()[iid]) for p in self.procs if iid in p.handled()]

        found = await self.until(find, f"interaction {iid} to be handled")
        assert len(found) == 1, f"interaction {iid} handled by more than one process: {found}"
        return found[0]

    async def next_message(
        self, channel_id: int, after: int, match: Callable[[FakeMessage], bool]
    ) -> FakeMessage:
        return await self.fake.wait_for_message(
            match, channel_id=channel_id, after=after, timeout=DEADLINE
        )


def dm_of(fake: FakeDiscord, user_id: int) -> int:
    return int(fake.dm_channel_for(user_id)["id"])


def shard_of(guild_id: int) -> int:
    return (guild_id >> 22) % 2


def reply_text(fake: FakeDiscord, iid: str) -> str:
    """What the bot finally showed as its response to ``iid`` (sent, or deferred then edited)."""
    shown = [m for m in fake.all_messages() if m.interaction_id == iid]
    assert shown, f"no response message for interaction {iid}"
    return text_of(fake.message(shown[0].id))


def env_for(
    fake: FakeDiscord, db_url: str, playbooks: Path, data: Path, shard: int
) -> dict[str, str]:
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("CROSSROADS_", "SLACK_", "DISCORD_")) and k != "DATABASE_URL"
    }
    env.update(
        DISCORD_TOKEN=TOKEN,
        DATABASE_URL=db_url,
        CROSSROADS_DATA_DIR=str(data),
        CROSSROADS_PLAYBOOKS_DIR=str(playbooks),
        CROSSROADS_DEFAULT_PLAYBOOK="tiny",
        CROSSROADS_DISCORD_API_BASE=fake.api_base,
        CROSSROADS_DISCORD_GATEWAY_URL=fake.gateway_url,
        CROSSROADS_DISCORD_SHARD_COUNT="2",
        CROSSROADS_DISCORD_SHARD_IDS=json.dumps([shard]),
        CROSSROADS_LOG_LEVEL="DEBUG",  # "interaction N handled", "check-ins: wake-up done"
        CROSSROADS_CHECKIN_POLL_SECONDS="1",  # rows moved by the test are seen within 1 s
        CROSSROADS_QUIET_HOURS_START="00:00",  # no quiet hours, whatever the time of day
        CROSSROADS_QUIET_HOURS_END="00:00",
        PYTHONIOENCODING="utf-8",
    )
    return env


@pytest.fixture
async def cluster(fake: FakeDiscord, pg_url: str, tmp_path: Path) -> AsyncIterator[Cluster]:
    """The fake with a server on each shard, and two bot processes sharing ``pg_url``."""
    other = fake.add_guild("Second server", member_ids=(fake.user_id,))
    while shard_of(other) == shard_of(fake.guild_id):
        other = fake.add_guild("Another server", member_ids=(fake.user_id,))
    chat = {shard_of(g): int(fake.guilds[g].channels[0]["id"]) for g in (fake.guild_id, other)}
    playbooks = tmp_path / "playbooks"
    playbooks.mkdir()
    (playbooks / "tiny.yaml").write_bytes(TINY.read_bytes())
    procs = [BotProcess(shard, tmp_path / f"shard{shard}") for shard in (0, 1)]
    db = Database(pg_url)
    cl = Cluster(fake, procs, db, chat)
    try:
        for p in procs:  # both at once, on the empty database
            p.proc = await asyncio.create_subprocess_exec(
                str(CROSSROADS),
                "run",
                env=env_for(fake, pg_url, playbooks, p.data, p.shard),
                stdout=asyncio.subprocess.PIPE,
                stderr=asyncio.subprocess.PIPE,
            )
        yield cl
    finally:
        for p in procs:
            if p.proc is not None and p.proc.returncode is None:
                p.proc.kill()
                await p.proc.wait()
        await db.dispose()


async def stop(p: BotProcess) -> None:
    """Wait for a process told to stop (SIGTERM) to exit; keep what it printed."""
    assert p.proc is not None
    p.stdout, p.stderr = await asyncio.wait_for(p.proc.communicate(), DEADLINE)


async def test_two_shard_processes_share_consultations_and_send_each_checkin_once(
    cluster: Cluster,
) -> None:
    fake, (zero, one) = cluster.fake, cluster.procs
    alice = fake.user_id  # a member of both servers
    bob = fake.add_user("bob", global_name="Bob")
    for guild in fake.guilds.values():
        fake.add_member(guild.id, bob)

    # Each process identifies with its own shard; only the one holding shard 0 syncs.
    await cluster.until(
        lambda: (
            sorted(tuple(i["shard"]) for i in fake.identifies) == [(0, 2), (1, 2)]
            and fake.command_syncs
            and all("check-ins: Discord sender registered" in p.log() for p in cluster.procs)
        ),
        "both shards to connect, commands to sync and both check-in senders to register",
        within=START_DEADLINE,
    )
    assert "serving Discord: shards [0] of 2, commands synced globally" in zero.log()
    assert "serving Discord: shards [1] of 2, commands synced by the process with shard 0" in (
        one.log()
    )
    assert len(fake.command_syncs) == 1

    # A server on each shard: /advise start is answered by the process holding that shard.
    first_question: dict[int, FakeMessage] = {}
    for who, shard in ((bob, 0), (alice, 1)):
        mark = fake.mark()
        iid = await fake.inject_command("advise start", user_id=who, channel_id=cluster.chat[shard])
        assert await cluster.handled_by(iid) == (shard, "dm")
        first_question[who] = await cluster.next_message(
            dm_of(fake, who), mark, lambda m: bool(m.components)
        )
        assert "What are you?" in text_of(first_question[who])

    async def press(msg: FakeMessage, custom_id: str, **kw: object) -> tuple[str, int, str]:
        iid = await fake.inject_component(msg.id, custom_id, **kw)  # type: ignore[arg-type]
        shard, outcome = await cluster.handled_by(iid)
        return iid, shard, outcome

    # Bob answers in his DM (DMs are shard 0's): the consultation goes on.
    mark = fake.mark()
    _, shard, outcome = await press(first_question[bob], button(first_question[bob], "Worker"))
    assert (shard, outcome) == (0, "applied")
    nxt = await cluster.next_message(dm_of(fake, bob), mark, lambda m: bool(m.components))
    assert "Which skills do you have?" in text_of(nxt)

    # Alice started in the shard-1 server; her DM answers reach the shard-0 process, which
    # continues the very consultation the other process started.
    dm = dm_of(fake, alice)
    q = first_question[alice]
    for label in ("Student", "Yes"):
        mark = fake.mark()
        _, shard, outcome = await press(q, button(q, label))
        assert (shard, outcome) == (0, "applied")
        q = await cluster.next_message(dm, mark, lambda m: bool(m.components))
    assert "Which skills do you have?" in text_of(q)
    # ... and back in the shard-1 server, that process shows the answers the other stored.
    iid = await fake.inject_command("advise status", user_id=alice, channel_id=cluster.chat[1])
    assert await cluster.handled_by(iid) == (1, "shown")
    status = reply_text(fake, iid)
    assert "2 of 5 questions answered" in status and "your role**: Student" in status

    mark = fake.mark()
    _, shard, outcome = await press(q, first_select(q)["custom_id"], values=["code", "writing"])
    assert (shard, outcome) == (0, "applied")
    q = await cluster.next_message(dm, mark, lambda m: bool(m.components))
    mark = fake.mark()
    _, shard, outcome = await press(q, button(q, "2"))
    assert (shard, outcome) == (0, "applied")
    q = await cluster.next_message(dm, mark, lambda m: bool(m.components))
    opened, shard, outcome = await press(q, button(q, "Type your answer"))
    assert shard == 0
    submit = await fake.inject_modal_submit(opened, {})  # the optional last one, left empty
    assert await cluster.handled_by(submit) == (0, "applied")
    offer = await cluster.next_message(
        dm, mark, lambda m: any(e.get("title") == OFFER_TITLE for e in m.embeds)
    )
    _, shard, outcome = await press(offer, button(offer, "On the suggested dates"))
    assert (shard, outcome) == (0, "applied")

    # The plan's check-ins are in the shared database. Time passes: they fall due in a few
    # seconds, so each process, on its next poll (1 s), arms a wake-up for that instant and
    # both reach for the same rows at once; the database must give each row to one.
    async def alice_checkins() -> list[CheckIn]:
        def rows(s: Session) -> list[CheckIn]:
            uid = s.scalar(select(User.id).where(User.platform_user_id == str(alice)))
            found = s.scalars(select(CheckIn).where(CheckIn.user_id == uid).order_by(CheckIn.id))
            return list(found)

        return await cluster.db.run(rows)

    pending = await alice_checkins()
    assert pending and {c.state for c in pending} == {"pending"}
    due = datetime.now(UTC) + timedelta(seconds=RACE_IN)
    ids = [c.id for c in pending]
    await cluster.db.run(
        lambda s: s.execute(update(CheckIn).where(CheckIn.id.in_(ids)).values(due_at=due))
    )
    sent_now: list[CheckIn] = []

    async def all_sent() -> bool:
        sent_now[:] = await alice_checkins()
        return all(c.state == "sent" for c in sent_now)

    async with asyncio.timeout(DEADLINE):
        while not await all_sent():  # noqa: ASYNC110 - polls rows other processes write
            await asyncio.sleep(0.1)
    # Both processes go on polling: each finishes two more wake-ups after every row was
    # recorded as sent, so neither could still be about to send one again.
    seen = [len(p.wake_ups()) for p in cluster.procs]
    await cluster.until(
        lambda: all(len(p.wake_ups()) >= n + 2 for p, n in zip(cluster.procs, seen, strict=True)),
        "both processes to poll again after the check-ins were sent",
    )

    # The check-in DMs carry their delivery's idempotency key as nonce (enforce_nonce).
    keys = {idempotency_key(c.id, c.sent_occurrence or 0, c.salt) for c in sent_now}
    reminders = [m for m in fake.messages[dm] if str((m.request or {}).get("nonce")) in keys]
    assert reminders
    # One answered in the DM, so on shard 0, whichever process delivered it.
    menu = first_select(reminders[0])
    _, shard, outcome = await press(reminders[0], menu["custom_id"], values=["done"])
    assert (shard, outcome) == (0, "applied")
    note = texts.ANSWER_NOTES[CheckInChoice.DONE]
    await cluster.until(
        lambda: any(note in text_of(m) for m in fake.all_messages() if m.channel_id == dm),
        "the check-in answer to be confirmed",
    )

    for p in cluster.procs:
        assert p.proc is not None
        p.proc.send_signal(signal.SIGTERM)
    for p in cluster.procs:  # stopped cleanly: exit 0, no traceback, no token in the log
        await stop(p)
        assert p.proc is not None and p.proc.returncode == 0, p.stderr.decode()
        assert "Traceback" not in p.stderr.decode() and TOKEN not in p.log()

    # Exactly once, counted at the fake after both processes have exited: one DM per
    # check-in with that delivery's key as nonce, and no nonce ever sent twice.
    sent_nonces = sorted(
        str(m.request["nonce"])
        for m in fake.all_messages()
        if m.request is not None and str(m.request.get("nonce")) in keys
    )
    assert sent_nonces == sorted(keys) and len(keys) == len(ids)
    assert [r for r in fake.journal if r.kind == "nonce_hit"] == []
    # ... and by each process's own count of what it delivered.
    delivered = {p.shard: sum(d for _, _, d in p.wake_ups()) for p in cluster.procs}
    assert sum(delivered.values()) == len(ids), delivered  # {shard: check-ins it sent}
    assert fake.unhandled == []
