"""Discord interaction latency: slash command or click -> interaction callback.

The real discord.py client (the production CrossroadsClient, built by build_client) runs
against the local fake Discord (tests/fakes/discord_fake.py) on 127.0.0.1, with the real
engine and store. Latency = from the moment the fake starts sending INTERACTION_CREATE
to the moment it receives the interaction callback (the acknowledgement Discord needs
within 3 s); "done" = until the bot has also sent every followup / DM for it.

Scenarios (each with a new person, so every command is a database write):
  * dm-start     /advise start in a DM: the callback carries the first question
  * click        a button/select answer on that question: the callback updates the
                 message (a committed turn); the next question follows as a followup
  * guild-start  /advise start in a server channel: the callback (ephemeral pointer)
                 comes after the DM hand-off (create DM channel + send the question)
Single: one interaction at a time. Burst: N interactions injected at once.

The fake and the bot share one event loop and one CPU here, so figures include the
fake's own work (JSON, zlib, routing) on top of the bot's.

Usage:
  .venv/bin/python bench/discord_latency.py [--db sqlite|postgresql|both] [--single 300]
      [--burst 200] [--playbook ml-research-career]
PostgreSQL: a scratch database is created and dropped on CROSSROADS_BENCH_PG_URL
(default postgresql+asyncpg://postgres@127.0.0.1:5432/test).
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import statistics
import sys
import time
from collections.abc import Awaitable, Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import discord

from adapters.discord.service import build_client, discord_endpoints
from adapters.runtime import Runtime
from bench.scratch_db import scratch_database
from bot.engine import Engine
from bot.playbook.loader import PlaybookRegistry
from bot.settings import load_settings
from bot.store.database import Database
from bot.store.migrate import upgrade
from tests.fakes.discord_fake import FakeDiscord, FakeMessage

TOKEN = "bench-token"
WINDOW_S = 3.0


def pct(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(p / 100 * (len(ordered) - 1)))]


class Probe:
    """Injects interactions and times them from the fake's journal and the bot's signal."""

    def __init__(self, fake: FakeDiscord, client: discord.Client) -> None:
        self.fake = fake
        self.done: dict[int, tuple[float, str]] = {}
        self._waiters: dict[int, asyncio.Future[None]] = {}
        client.observers.append(self._handled)  # type: ignore[attr-defined]

    def _handled(self, interaction: discord.Interaction, outcome: str) -> None:
        self.done[interaction.id] = (time.perf_counter(), outcome)
        waiter = self._waiters.pop(interaction.id, None)
        if waiter is not None and not waiter.done():
            waiter.set_result(None)

    async def timed(
        self, inject: Callable[[], Awaitable[str]]
    ) -> tuple[float, float, str, str, bool]:
        """(ack ms, done ms, outcome, interaction id, deferred?) for one interaction."""
        t0 = time.perf_counter()
        iid = await inject()
        callback = await self.fake.wait_for(
            lambda r: r.data.interaction_id == iid, kind="callback", timeout=30
        )
        if int(iid) not in self.done:
            waiter = self._waiters.setdefault(int(iid), asyncio.get_running_loop().create_future())
            await asyncio.wait_for(waiter, 30)
        finished, outcome = self.done[int(iid)]
        deferred = callback.data.type in (5, 6)
        return (callback.at - t0) * 1000, (finished - t0) * 1000, outcome, iid, deferred


def first_component(message: FakeMessage) -> tuple[str, list[str] | None]:
    """A valid answer click on a question message: a button, or a select's first option."""
    comp = message.components[0]["components"][0]
    if comp["type"] == 3:
        low = comp.get("min_values", 1)
        return comp["custom_id"], [o["value"] for o in comp["options"][: max(1, low)]]
    return comp["custom_id"], None


class Scenario:
    def __init__(self, name: str) -> None:
        self.name = name
        self.ack: list[float] = []
        self.done: list[float] = []
        self.bad: list[str] = []
        self.deferred = 0

    def add(self, timing: tuple[float, float, str, str, bool], expected: str) -> None:
        ack, done, outcome, _, deferred = timing
        self.ack.append(ack)
        self.done.append(done)
        self.deferred += deferred
        if outcome != expected:
            self.bad.append(outcome)

    def line(self) -> str:
        late = sum(1 for a in self.ack if a > WINDOW_S * 1000)
        return (
            f"  {self.name:<12} n={len(self.ack):<4} ack p50 {statistics.median(self.ack):6.2f} ms"
            f"  p99 {pct(self.ack, 99):6.2f} ms  max {max(self.ack):7.2f} ms"
            f" | done p50 {statistics.median(self.done):6.2f} ms  p99 {pct(self.done, 99):7.2f} ms"
            f" | deferred {self.deferred}, over 3 s {late}, unexpected outcomes {len(self.bad)}"
        )


async def run_scenarios(
    fake: FakeDiscord, probe: Probe, n: int, concurrent: bool, tag: str
) -> list[Scenario]:
    users = [fake.add_user(f"{tag}{i}") for i in range(n)]
    for uid in users:
        fake.add_member(fake.guild_id, uid)

    async def each(fn: Callable[[int], Awaitable[None]], people: list[int]) -> None:
        if concurrent:
            await asyncio.gather(*(fn(u) for u in people))
        else:
            for u in people:
                await fn(u)

    dm_start, click, guild = Scenario("dm-start"), Scenario("click"), Scenario("guild-start")
    questions: dict[int, FakeMessage] = {}

    async def start_in_dm(uid: int) -> None:
        timing = await probe.timed(
            lambda: fake.inject_command("advise start", user_id=uid, dm=True)
        )
        dm_start.add(timing, "applied")
        iid = timing[3]
        msg = next(c.message for c in fake.callbacks if c.interaction_id == iid)
        assert msg is not None
        questions[uid] = msg

    async def answer(uid: int) -> None:
        msg = questions[uid]
        custom_id, values = first_component(msg)
        timing = await probe.timed(lambda: fake.inject_component(msg.id, custom_id, values=values))
        click.add(timing, "applied")

    await each(start_in_dm, users)
    await each(answer, users)
    guild_users = [fake.add_user(f"{tag}g{i}") for i in range(n)]
    for uid in guild_users:
        fake.add_member(fake.guild_id, uid)

    async def start_in_guild(uid: int) -> None:
        timing = await probe.timed(lambda: fake.inject_command("advise start", user_id=uid))
        guild.add(timing, "dm")

    await each(start_in_guild, guild_users)
    return [dm_start, click, guild]


async def bench(url: str, label: str, args: argparse.Namespace) -> None:
    db = Database(url, pool_size=20)
    await upgrade(db)
    async with FakeDiscord(token=TOKEN) as fake:
        settings = load_settings(
            default_playbook=args.playbook,
            discord_api_base=fake.api_base,
            discord_gateway_url=fake.gateway_url,
        )
        registry = PlaybookRegistry.from_directory(settings.playbooks_dir)
        engine = Engine(db, registry, settings)
        await engine.prepare()
        with discord_endpoints(settings):
            client = build_client(Runtime(settings, db, engine), guild_ready_timeout=0.05)
            probe = Probe(fake, client)
            task = asyncio.create_task(client.start(TOKEN))
            await fake.wait_for(kind="identify")
            try:
                print(f"\n== {label}, playbook {args.playbook}")
                await run_scenarios(fake, probe, 20, False, "warm")
                print(f"single (one interaction at a time, {args.single} of each):")
                for s in await run_scenarios(fake, probe, args.single, False, "s"):
                    print(s.line())
                print(f"burst ({args.burst} of each injected at once):")
                for s in await run_scenarios(fake, probe, args.burst, True, "b"):
                    print(s.line())
                rejected = [r for r in fake.requests if "/callback" in r.path and r.status >= 400]
                print(f"  callbacks Discord would have refused (late/unknown): {len(rejected)}")
            finally:
                await client.close()
                await task
    await db.dispose()


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--single", type=int, default=300)
    parser.add_argument("--burst", type=int, default=200)
    parser.add_argument("--db", choices=["sqlite", "postgresql", "both"], default="both")
    parser.add_argument("--playbook", default="ml-research-career")
    args = parser.parse_args()
    logging.basicConfig(level=logging.WARNING)
    labels = {"sqlite": "SQLite file (WAL)", "postgresql": "PostgreSQL"}
    for kind in ("sqlite", "postgresql"):
        if args.db in (kind, "both"):
            async with scratch_database(kind) as (url, _tmp):
                await bench(url, labels[kind], args)


if __name__ == "__main__":
    asyncio.run(main())
