"""Slack adapter latency: slash command → ack, and slash command → first DM message.

The real adapter (adapters/slack: slack-bolt AsyncApp, slack_sdk) runs against the fake
Slack of tests/fakes/slack_fake.py on 127.0.0.1, in HTTP mode and in Socket Mode, with the
real engine and playbooks on a database.

For each mode:
  * sequential: N people each type ``/advise start`` one after the other; for each,
    ack = until the app's acknowledgement arrived (HTTP response / socket ack frame),
    first DM = until the fake recorded the chat.postMessage into that person's DM
    (conversations.open, the core's turn and the post all included);
  * burst: B people type it at the same instant; every ack must come within 3 s.

Everything (fake, app, database) shares one process and one event loop, so the figures
include the fake's own work; on a real network add the round trips to Slack.

Usage:
  .venv/bin/python bench/slack_latency.py [--people 300] [--burst 200]
      [--mode http socket] [--db sqlite|postgresql]
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

from adapters.runtime import Runtime
from adapters.slack.service import SlackService
from bench.scratch_db import scratch_database
from bot.engine import Engine
from bot.playbook.loader import PlaybookRegistry
from bot.settings import load_settings
from bot.store.database import Database
from bot.store.migrate import upgrade
from tests.fakes.slack_driver import free_port
from tests.fakes.slack_fake import ApiCall, SlackFake

ACK_DEADLINE_MS = 3000.0


def pct(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(p / 100 * (len(ordered) - 1)))]


class Bench:
    """One adapter in one mode against the fake; sends /advise start and times it."""

    def __init__(self, fake: SlackFake, service: SlackService, mode: str) -> None:
        self.fake = fake
        self.service = service
        self.mode = mode
        self.http = aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=0))
        self._first_dm: dict[str, asyncio.Future[float]] = {}
        fake.call_listeners.append(self._on_call)

    def _on_call(self, call: ApiCall) -> None:
        """Note the time the fake recorded each person's first post into their DM."""
        if call.method != "chat.postMessage" or not call.ok:
            return
        channel = self.fake.channels.get(call.response["channel"])
        waiter = self._first_dm.get(channel.user or "") if channel is not None else None
        if waiter is not None and not waiter.done():
            waiter.set_result(call.at)

    async def one(self, user: str) -> tuple[float, float]:
        """(ack ms, first DM ms) for one ``/advise start`` by a new person."""
        payload = self.fake.payloads.slash_command("/advise", "start", user_id=user)
        first_dm = self._first_dm[user] = asyncio.get_running_loop().create_future()
        if self.mode == "http":
            request = self.fake.signer.slash_command(payload)
            assert self.service.url is not None
            t0 = time.monotonic()
            async with self.http.post(
                self.service.url + "/slack/events", data=request.body, headers=request.headers
            ) as resp:
                await resp.read()
                assert resp.status == 200
            acked = time.monotonic()
        else:
            t0 = time.monotonic()
            await self.fake.push_slash_command(payload, timeout=30)
            acked = time.monotonic()
        first = await asyncio.wait_for(first_dm, 30)
        return (acked - t0) * 1000, (first - t0) * 1000

    async def close(self) -> None:
        await self.http.close()


def summary(label: str, acks: list[float], dms: list[float]) -> str:
    return (
        f"{label}: n={len(acks)}; ack p50 {statistics.median(acks):.1f} ms, "
        f"p99 {pct(acks, 99):.1f} ms, max {max(acks):.1f} ms; first DM p50 "
        f"{statistics.median(dms):.1f} ms, p99 {pct(dms, 99):.1f} ms, max {max(dms):.1f} ms"
    )


async def run_mode(mode: str, url: str, args: argparse.Namespace, tmp: str) -> list[str]:
    db = Database(url, pool_size=20)
    await upgrade(db)
    lines = []
    async with SlackFake() as fake:
        settings = load_settings(
            data_dir=tmp,
            database_url=url,
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
        bench = Bench(fake, service, mode)
        try:
            if mode == "socket":
                await fake.wait_for_socket()
            tag = uuid.uuid4().hex[:4].upper()
            for i in range(20):  # warm-up: connections, caches, bolt's auth.test
                await bench.one(f"UW{tag}{i:05d}")
            acks, dms = [], []
            for i in range(args.people):
                ack, dm = await bench.one(f"US{tag}{i:05d}")
                acks.append(ack)
                dms.append(dm)
            lines.append(summary(f"{mode}, sequential", acks, dms))
            results = await asyncio.gather(
                *(bench.one(f"UB{tag}{i:05d}") for i in range(args.burst))
            )
            b_acks = [a for a, _ in results]
            b_dms = [d for _, d in results]
            late = sum(1 for a in b_acks if a > ACK_DEADLINE_MS)
            lines.append(
                summary(f"{mode}, burst of {args.burst} at once", b_acks, b_dms)
                + f"; acked after 3 s: {late}"
            )
            assert await service.drain()
        finally:
            await bench.close()
            await service.stop()
    await db.dispose()
    return lines


async def with_database(kind: str, fn: Callable[[str, str], Awaitable[list[str]]]) -> list[str]:
    async with scratch_database(kind) as (url, tmp):
        return await fn(url, tmp)


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--people", type=int, default=300, help="sequential slash commands")
    parser.add_argument("--burst", type=int, default=200, help="concurrent slash commands")
    parser.add_argument("--mode", nargs="+", choices=["http", "socket"], default=["http", "socket"])
    parser.add_argument("--db", choices=["sqlite", "postgresql"], default="sqlite")
    args = parser.parse_args()
    logging.basicConfig(level=logging.ERROR)
    print(
        f"python {platform.python_version()}, {os.cpu_count()} CPUs, database {args.db}, "
        f"{args.people} sequential + burst of {args.burst} per mode"
    )
    for mode in args.mode:
        for line in await with_database(
            args.db, lambda url, tmp, mode=mode: run_mode(mode, url, args, tmp)
        ):
            print(line)


if __name__ == "__main__":
    asyncio.run(main())
