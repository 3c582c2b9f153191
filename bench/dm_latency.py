"""Typed DM latency: a person's DM to the bot -> the bot's reply in that DM, Discord and Slack.

The real adapters run against the local fakes on 127.0.0.1 with the real engine, store and
playbooks: discord.py (the production CrossroadsClient, MESSAGE_CREATE over the fake
gateway) and slack-bolt (the production SlackService, a signed ``message.im`` event over
HTTP, or an envelope over Socket Mode).

Timing, per DM:
  * reply = from just before the fake sends the DM to the bot until the fake records the
    bot's first reply message in that DM (Discord: the message create; Slack: the
    chat.postMessage call): what the person waits for;
  * done  = until the bot sent every message of the reply (Discord: the adapter's "DM
    handled" signal; Slack: until no acknowledged work is left).

Scenarios, every DM a database write: ``start`` from a person with no consultation yet
(a consultation is created: the introduction and the first question), then ``answer``:
the same person answers the first question with ``--second`` (default: a one-sentence
story, since ml-research-career now opens with its story question: the story is stored,
its cues pre-fill what they can, the next question comes back). Single: one DM at a time.
Burst: B people type at the same instant; the figure that matters is the latest reply.

The fake, the adapter and the database share one process, one event loop and one CPU, so
the figures include the fake's own work (JSON, zlib, HTTP, routing) on top of the bot's.

Usage:
  .venv/bin/python bench/dm_latency.py [--platform discord slack] [--slack-mode http socket]
      [--single 300] [--burst 200] [--db sqlite|postgresql] [--playbook ml-research-career]
      [--second "the answer to the first question"]
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import os
import platform
import statistics
import sys
import time
import uuid
from collections.abc import Awaitable, Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import aiohttp
import discord

from adapters.discord.service import build_client, discord_endpoints
from adapters.runtime import Runtime
from adapters.slack.service import SlackService
from bench.scratch_db import scratch_database
from bot import events as ev
from bot.engine import Engine
from bot.messages import Status
from bot.playbook.loader import PlaybookRegistry
from bot.settings import load_settings
from bot.store.database import Database
from bot.store.migrate import upgrade
from tests.fakes.discord_fake import FakeDiscord
from tests.fakes.slack_driver import free_port
from tests.fakes.slack_fake import ApiCall, SlackFake

TOKEN = "bench-token"
STORY = "I studied physics, did machine learning at CERN and want to become an ML researcher."
P99_TARGET_MS = 50.0
BURST_TARGET_MS = 3000.0


def pct(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(p / 100 * (len(ordered) - 1)))]


class Figures:
    def __init__(self, name: str) -> None:
        self.name = name
        self.reply: list[float] = []
        self.done: list[float] = []
        self.unexpected: list[str] = []

    def add(self, reply_ms: float, done_ms: float, outcome: str, expected: str) -> None:
        self.reply.append(reply_ms)
        self.done.append(done_ms)
        if outcome != expected:
            self.unexpected.append(outcome)

    def line(self) -> str:
        p50 = statistics.median(self.reply)
        return (
            f"  {self.name:<8} n={len(self.reply):<4} reply p50 {p50:6.2f}"
            f" ms  p99 {pct(self.reply, 99):6.2f} ms  max {max(self.reply):7.2f} ms"
            f" | done p50 {statistics.median(self.done):6.2f} ms  p99 {pct(self.done, 99):7.2f} ms"
            f" | unexpected outcomes {len(self.unexpected)}"
        ) + self.notes()

    def notes(self) -> str:
        """What the unexpected replies said (the bot's words, never a person's)."""
        seen = sorted(set(self.unexpected))
        return "".join(f"\n      unexpected: {text!r}" for text in seen[:3])

    def burst_line(self) -> str:
        late = sum(1 for r in self.reply if r > BURST_TARGET_MS)
        return (
            f"  {self.name:<8} n={len(self.reply):<4} latest reply {max(self.reply):8.1f} ms"
            f" (p50 {statistics.median(self.reply):7.1f} ms), latest done {max(self.done):8.1f}"
            f" ms; replied after 3 s: {late}; unexpected outcomes {len(self.unexpected)}"
        ) + self.notes()


# --------------------------------------------------------------------------- Discord


class DiscordProbe:
    """Sends DMs through the fake and times the bot's replies (fake journal + DM signal)."""

    def __init__(self, fake: FakeDiscord, client: discord.Client) -> None:
        self.fake = fake
        self.finished: dict[int, tuple[float, str]] = {}
        self._waiters: dict[int, asyncio.Future[None]] = {}
        client.dm_observers.append(self._handled)  # type: ignore[attr-defined]

    def _handled(self, message: discord.Message, outcome: str) -> None:
        self.finished[message.id] = (time.perf_counter(), outcome)
        waiter = self._waiters.pop(message.id, None)
        if waiter is not None and not waiter.done():
            waiter.set_result(None)

    async def one(self, uid: int, text: str) -> tuple[float, float, str]:
        """(reply ms, done ms, outcome) for one DM ``text`` from user ``uid``."""
        dm = int(self.fake.dm_channel_for(uid)["id"])
        mark = self.fake.mark()
        t0 = time.perf_counter()
        sent = await self.fake.user_sends_dm(text, user_id=uid)
        first = await self.fake.wait_for(
            lambda r: r.data.channel_id == dm and r.data.author_id == self.fake.bot_id,
            kind="message_create",
            after=mark,
            timeout=30,
        )
        if sent.id not in self.finished:
            loop = asyncio.get_running_loop()
            waiter = self._waiters.setdefault(sent.id, loop.create_future())
            await asyncio.wait_for(waiter, 30)
        finished, outcome = self.finished[sent.id]
        return (first.at - t0) * 1000, (finished - t0) * 1000, outcome


async def discord_round(
    probe: DiscordProbe, fake: FakeDiscord, n: int, tag: str, *, burst: bool, second: str
) -> tuple[Figures, Figures]:
    users = [fake.add_user(f"{tag}{i}") for i in range(n)]
    start, answer = Figures("start"), Figures("answer")

    async def begin(uid: int) -> None:
        start.add(*await probe.one(uid, "start"), expected="applied")

    async def reply(uid: int) -> None:
        answer.add(*await probe.one(uid, second), expected="applied")

    for step in (begin, reply):
        if burst:
            await asyncio.gather(*(step(u) for u in users))
        else:
            for u in users:
                await step(u)
    return start, answer


async def bench_discord(url: str, args: argparse.Namespace) -> list[str]:
    db = Database(url, pool_size=20)
    await upgrade(db)
    lines = []
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
            probe = DiscordProbe(fake, client)
            task = asyncio.create_task(client.start(TOKEN))
            await fake.wait_for(kind="identify")
            try:
                second = args.second
                await discord_round(probe, fake, 20, "warm", burst=False, second=second)
                lines.append(f"Discord, single (one DM at a time, {args.single} people):")
                rounds = await discord_round(
                    probe, fake, args.single, "s", burst=False, second=second
                )
                for f in rounds:
                    lines.append(f.line())
                lines.append(f"Discord, burst ({args.burst} people type at once):")
                rounds = await discord_round(
                    probe, fake, args.burst, "b", burst=True, second=second
                )
                for f in rounds:
                    lines.append(f.burst_line())
            finally:
                await client.close()
                await task
    await db.dispose()
    return lines


# --------------------------------------------------------------------------- Slack


class SlackProbe:
    """Sends message.im events to the running adapter and times the first post back."""

    def __init__(self, fake: SlackFake, service: SlackService, mode: str, engine: Engine) -> None:
        self.fake = fake
        self.service = service
        self.engine = engine
        self.mode = mode
        self.http = aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=0))
        self._first: dict[str, asyncio.Future[float]] = {}
        self.first_text: dict[str, str] = {}  # channel -> the first reply's text (diagnosis)
        fake.call_listeners.append(self._on_call)

    def _on_call(self, call: ApiCall) -> None:
        if call.method != "chat.postMessage" or not call.ok:
            return
        channel = str(call.params.get("channel"))
        waiter = self._first.get(channel)
        if waiter is not None and not waiter.done():
            waiter.set_result(call.at)
            self.first_text[channel] = str(call.params.get("text") or "")

    async def one(self, user: str, text: str, *, wait_done: bool) -> tuple[float, float]:
        """(reply ms, done ms) for one typed DM; ``done`` only when ``wait_done``."""
        payload = self.fake.payloads.message_im(text, user_id=user)
        channel = payload["event"]["channel"]
        first = self._first[channel] = asyncio.get_running_loop().create_future()
        t0 = time.monotonic()
        if self.mode == "http":
            request = self.fake.signer.event(payload)
            assert self.service.url is not None
            async with self.http.post(
                self.service.url + "/slack/events", data=request.body, headers=request.headers
            ) as resp:
                await resp.read()
                assert resp.status == 200
        else:
            await self.fake.push_event(payload, timeout=30)
        at = await asyncio.wait_for(first, 30)
        done = at
        if wait_done:
            assert await self.service.drain(30)
            done = time.monotonic()
        return (at - t0) * 1000, (done - t0) * 1000

    async def close(self) -> None:
        await self.http.close()


async def slack_round(
    probe: SlackProbe, n: int, tag: str, *, burst: bool, second: str
) -> tuple[Figures, Figures]:
    users = [f"U{tag}{i:05d}" for i in range(n)]
    start, answer = Figures("start"), Figures("answer")

    async def step(figures: Figures, user: str, text: str) -> None:
        reply, done = await probe.one(user, text, wait_done=not burst)
        figures.add(reply, done, "ok", "ok")

    for figures, text, answered in ((start, "start", 0), (answer, second, 1)):
        if burst:
            t0 = time.monotonic()
            await asyncio.gather(*(step(figures, u, text) for u in users))
            assert await probe.service.drain(60)
            everything = (time.monotonic() - t0) * 1000
            figures.done = [everything] * len(figures.reply)  # the whole burst answered
        else:
            for u in users:
                await step(figures, u, text)
        # What the core stored decides whether a DM did what it should (not the timing).
        team = probe.fake.team.id
        for u in users:
            res = await probe.engine.run(ev.ShowStatus(user=ev.UserRef("slack", team, u)))
            st = res.messages[0] if res.messages else None
            # start: nothing answered yet; the answer: at least it (a story may pre-fill more)
            if not isinstance(st, Status) or not (
                st.position == answered if answered == 0 else st.position >= answered
            ):
                channel = probe.fake.dm_channel(u) or ""
                figures.unexpected.append(probe.first_text.get(channel, "")[:120])
    return start, answer


async def bench_slack(url: str, tmp: str, mode: str, args: argparse.Namespace) -> list[str]:
    db = Database(url, pool_size=20)
    await upgrade(db)
    lines = []
    async with SlackFake() as fake:
        settings = load_settings(
            data_dir=tmp,
            database_url=url,
            default_playbook=args.playbook,
            slack_mode=mode,
            slack_bot_token=fake.bot_token,
            slack_app_token=fake.app_token,
            slack_signing_secret=fake.signing_secret,
            slack_api_base=fake.base_url,
            slack_http_host="127.0.0.1",
            slack_http_port=free_port(),
            slack_client_id="",
        )
        registry = PlaybookRegistry.from_directory(settings.playbooks_dir)
        engine = Engine(db, registry, settings)
        await engine.prepare()
        service = await SlackService.start(Runtime(settings, db, engine))
        probe = SlackProbe(fake, service, mode, engine)
        try:
            if mode == "socket":
                await fake.wait_for_socket()
            tag = uuid.uuid4().hex[:4].upper()
            second = args.second
            await slack_round(probe, 20, f"W{tag}", burst=False, second=second)
            lines.append(f"Slack {mode}, single (one DM at a time, {args.single} people):")
            for f in await slack_round(probe, args.single, f"S{tag}", burst=False, second=second):
                lines.append(f.line())
            lines.append(f"Slack {mode}, burst ({args.burst} people type at once):")
            for f in await slack_round(probe, args.burst, f"B{tag}", burst=True, second=second):
                lines.append(f.burst_line())
        finally:
            await probe.close()
            await service.stop()
    await db.dispose()
    return lines


# --------------------------------------------------------------------------- main


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument(
        "--platform", nargs="+", choices=["discord", "slack"], default=["discord", "slack"]
    )
    parser.add_argument(
        "--slack-mode", nargs="+", choices=["http", "socket"], default=["http", "socket"]
    )
    parser.add_argument("--single", type=int, default=300)
    parser.add_argument("--burst", type=int, default=200)
    parser.add_argument("--db", choices=["sqlite", "postgresql"], default="sqlite")
    parser.add_argument("--playbook", default="ml-research-career")
    parser.add_argument("--second", default=STORY, help="the answer to the first question")
    args = parser.parse_args()
    logging.basicConfig(level=logging.ERROR)
    print(
        f"python {platform.python_version()}, {os.cpu_count()} CPUs, database {args.db}, "
        f"playbook {args.playbook}; targets: reply p99 <= {P99_TARGET_MS:.0f} ms, "
        f"burst: no reply later than {BURST_TARGET_MS / 1000:.0f} s"
    )
    runs: list[tuple[str, Callable[[str, str], Awaitable[list[str]]]]] = []
    if "discord" in args.platform:
        runs.append(("discord", lambda url, _tmp: bench_discord(url, args)))
    if "slack" in args.platform:
        for mode in args.slack_mode:
            runs.append((mode, lambda url, tmp, mode=mode: bench_slack(url, tmp, mode, args)))
    for _name, run in runs:
        async with scratch_database(args.db) as (url, tmp):
            for line in await run(url, tmp):
                print(line, flush=True)


if __name__ == "__main__":
    asyncio.run(main())
