"""One bot process delivering check-ins: the real engine, scheduler and delivery loop.

Run as a separate process by tests/test_checkins_processes.py and the bench/ scripts:

  python tests/checkin_worker.py --db URL --fake URL --name A [--lease 5] [--rate 50]
      [--poll 0.5] [--deadline 120] [--wait-go] [--turns 100]

It registers an HttpDmSender posting to the DM fake, starts the CheckInService (APScheduler
with an in-memory job store), and exits when no pending check-in is left in the
database (or at the deadline), printing its totals as one JSON line. ``--turns RATE`` also
runs consultations in the same process meanwhile (bench/engine_turns.py's open loop at RATE
answers/s), as a bot serving people while it delivers; their figures join the JSON line.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import aiohttp
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from bot.checkins.delivery import DeliveryConfig
from bot.checkins.schedule import NO_QUIET
from bot.checkins.scheduler import CheckInService
from bot.engine import Engine
from bot.playbook.loader import PlaybookRegistry
from bot.settings import load_settings
from bot.store.database import Database
from bot.store.models import CheckIn
from tests.checkin_support import HttpDmSender


async def _wait_go(fake: str, name: str, deadline: float) -> None:
    async with aiohttp.ClientSession() as http:
        while time.monotonic() < deadline:
            async with http.get(f"{fake}/go", params={"who": name}) as r:
                if (await r.json())["go"]:
                    return
            await asyncio.sleep(0.02)
    raise SystemExit("no go signal before the deadline")


def _pending(s: Session) -> int:
    return int(s.execute(select(func.count()).where(CheckIn.state == "pending")).scalar_one())


async def _turn_load(
    engine: Engine, rate: float, name: str, stop: asyncio.Event
) -> dict[str, object]:
    """bench/engine_turns.py's open loop (200 people at ``rate`` answers/s) until ``stop``."""
    import random

    from bench.engine_turns import Samples, consult_until, pct

    people, samples = 200, Samples()
    t0 = time.perf_counter()
    runs = [
        asyncio.create_task(
            consult_until(
                engine, f"{name}-p{i}", t0 + 3600, random.Random(i), people / rate, samples
            )
        )
        for i in range(people)
    ]
    await stop.wait()
    elapsed = time.perf_counter() - t0
    for run in runs:
        run.cancel()
    await asyncio.gather(*runs, return_exceptions=True)
    every = samples.answers + samples.finals
    return {
        "turns_per_s": len(every) / elapsed,
        "turn_p50_ms": pct(every, 50),
        "turn_p99_ms": pct(every, 99),
    }


async def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--db", required=True)
    ap.add_argument("--fake", required=True)
    ap.add_argument("--name", default="w")
    ap.add_argument("--lease", type=float, default=5.0)
    ap.add_argument("--rate", type=float, default=0.0, help="sends/s for this process; 0: none")
    ap.add_argument("--poll", type=float, default=0.5)
    ap.add_argument("--deadline", type=float, default=120.0)
    ap.add_argument("--concurrency", type=int, default=64)
    ap.add_argument("--wait-go", action="store_true")
    ap.add_argument("--turns", type=float, default=0.0, help="answers/s of a turn load meanwhile")
    args = ap.parse_args()
    deadline = time.monotonic() + args.deadline
    settings = load_settings(
        data_dir=tempfile.gettempdir(),
        database_url=args.db,
        checkin_poll_seconds=max(1, int(args.poll)),
    )
    db = Database(settings.resolved_database_url, pool_size=20)
    engine = Engine(db, PlaybookRegistry.from_directory(settings.playbooks_dir), settings)
    config = DeliveryConfig.from_settings(
        settings,
        lease=timedelta(seconds=args.lease),
        default_quiet=NO_QUIET,
        concurrency=args.concurrency,
    )
    service = CheckInService(engine, worker_id=f"{args.name}:{id(engine):x}", config=config)
    service.scheduler.poll_seconds = args.poll
    sender = HttpDmSender(args.fake, max_rate=args.rate or None, name=args.name)
    service.register(sender)
    if args.wait_go:
        await _wait_go(args.fake, args.name, deadline)
    load: asyncio.Task[dict[str, object]] | None = None
    stop_load = asyncio.Event()
    if args.turns > 0:
        await engine.prepare()
        load = asyncio.create_task(_turn_load(engine, args.turns, args.name, stop_load))
    started = time.monotonic()
    await service.start()
    for _check in range(int(args.deadline * 10) + 1):  # bounded: the deadline stops it too
        if time.monotonic() >= deadline or await db.run(_pending) == 0:
            break
        await asyncio.sleep(0.1)
    elapsed = time.monotonic() - started
    stop_load.set()
    turns = await load if load is not None else {}
    await service.stop()
    await sender.close()
    await db.dispose()
    totals = service.scheduler.totals
    print(
        json.dumps(
            {
                "name": args.name,
                "delivered": totals.delivered,
                "claimed": totals.claimed,
                "rate_limited": totals.rate_limited,
                "superseded": totals.superseded,
                "released": totals.released,
                "elapsed": elapsed,
                "finished_at": datetime.now(UTC).isoformat(),
                **turns,
            }
        ),
        flush=True,
    )
    return 0


if __name__ == "__main__":
    sys.exit(asyncio.run(main()))
