"""10,000 check-ins due at once, delivered through a fake enforcing Discord's global limit.

The DM fake (tests/checkin_support.DmFake, 127.0.0.1) allows at most 50 requests in any
1-second window (Discord's global REST limit for a bot) and answers 429 with
``retry_after`` and ``global: true`` beyond it; it enforces nonces and counts messages per
check-in. Each bot process is tests/checkin_worker.py (engine, APScheduler-driven
CheckInService, delivery loop) with a sender declaring ``max_rate`` 50/s; with two
processes both believe they have the whole limit and share it only through 429s.

Reported per run: achieved rate (messages created at the fake / time from "go" to the
last one) as a fraction of 50/s, 429 answers, lost (due reminders not delivered), and
duplicated (check-ins with more than one message at the fake), plus resends the nonce
absorbed.

Usage:
  .venv/bin/python bench/checkins_delivery.py [--count 10000] [--procs 1 2] [--rate 50]
      [--turns 0 100]
--turns: each process also serves consultations meanwhile (an open loop of that many
answers/s through its engine, tests/checkin_worker.py --turns); 0 = delivery only. One run
per (procs, turns) pair, so the fan-out with and without a turn load is measured in one go.
PostgreSQL scratch database on CROSSROADS_BENCH_PG_URL
(default postgresql+asyncpg://postgres@127.0.0.1:5432/test), dropped afterwards.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import sys
import time
import uuid
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from sqlalchemy import func, select  # noqa: E402
from sqlalchemy.ext.asyncio import create_async_engine  # noqa: E402

from bot.store.database import Database  # noqa: E402
from bot.store.migrate import upgrade  # noqa: E402
from bot.store.models import CheckIn  # noqa: E402
from tests.checkin_support import DmFake, seed_due  # noqa: E402

PG_ADMIN = os.environ.get(
    "CROSSROADS_BENCH_PG_URL", "postgresql+asyncpg://postgres@127.0.0.1:5432/test"
)
LIMIT = 50


async def _admin(sql: str) -> None:
    engine = create_async_engine(PG_ADMIN, isolation_level="AUTOCOMMIT")
    async with engine.connect() as conn:
        await conn.exec_driver_sql(sql)
    await engine.dispose()


async def run(
    url: str, count: int, procs: int, rate: float, turns: float = 0.0
) -> dict[str, object]:
    db = Database(url)
    await upgrade(db)
    await seed_due(db, count, per_user=1)
    fake = DmFake(rate_limit=LIMIT, window=1.0)
    await fake.start()
    names = [chr(ord("A") + i) for i in range(procs)]
    workers = [
        await asyncio.create_subprocess_exec(
            sys.executable,
            str(REPO / "tests" / "checkin_worker.py"),
            "--db",
            url,
            "--fake",
            fake.url,
            "--name",
            name,
            "--rate",
            str(rate),
            "--deadline",
            str(count / LIMIT * 3 + 60),
            "--wait-go",
            "--turns",
            str(turns),
            cwd=str(REPO),
            env={**os.environ, "PYTHONPATH": str(REPO)},
            stdout=asyncio.subprocess.PIPE,
        )
        for name in names
    ]
    for _wait in range(2400):  # up to 2 minutes for the processes to start
        if fake.ready >= set(names):
            break
        await asyncio.sleep(0.05)
    go = time.monotonic()
    fake.go.set()
    outputs = [json.loads((await w.communicate())[0].decode().splitlines()[-1]) for w in workers]
    await fake.stop()
    sent = await db.run(lambda s: s.scalar(select(func.count()).where(CheckIn.state == "sent")))
    await db.dispose()
    last = fake.last_at or go
    elapsed = last - go
    return {
        "procs": procs,
        "delivered": fake.delivered,
        "elapsed": elapsed,
        "rate": fake.delivered / elapsed if elapsed else 0.0,
        "fraction": fake.delivered / elapsed / LIMIT if elapsed else 0.0,
        "http_429": fake.limited,
        "requests": fake.requests,
        "lost": count - min(int(sent or 0), len(fake.per_checkin)),
        "duplicated": len(fake.doubled),
        "nonce_resends": fake.nonce_hits,
        "per_process": {o["name"]: o["delivered"] for o in outputs},
        "turns": {o["name"]: _turn_figures(o) for o in outputs if "turns_per_s" in o},
    }


def _turn_figures(o: dict[str, object]) -> str:
    return (
        f"{o['turns_per_s']:.0f} answers/s, p50 {o['turn_p50_ms']:.1f} ms, "
        f"p99 {o['turn_p99_ms']:.1f} ms"
    )


async def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--count", type=int, default=10_000)
    ap.add_argument("--procs", type=int, nargs="+", default=[1, 2])
    ap.add_argument("--rate", type=float, default=50.0, help="max_rate each sender declares")
    ap.add_argument("--turns", type=float, nargs="+", default=[0.0], help="answers/s meanwhile")
    args = ap.parse_args()
    print(f"python {sys.version.split()[0]}, {os.cpu_count()} CPUs; limit {LIMIT} requests/s")
    for procs, turns in ((p, t) for p in args.procs for t in args.turns):
        name = f"crossroads_bench_{uuid.uuid4().hex[:8]}"
        await _admin(f'CREATE DATABASE "{name}"')
        try:
            r = await run(
                PG_ADMIN.rsplit("/", 1)[0] + f"/{name}", args.count, procs, args.rate, turns
            )
        finally:
            await _admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        print(
            f"{procs} process(es), turn load {turns:g}/s: "
            f"{r['delivered']:,} delivered in {r['elapsed']:.1f} s = "
            f"{r['rate']:.1f}/s = {r['fraction']:.3f} of the limit; "
            f"429s {r['http_429']} of {r['requests']} requests; lost {r['lost']}, "
            f"duplicated {r['duplicated']}, nonce-absorbed resends {r['nonce_resends']}; "
            f"per process {r['per_process']}" + (f"; turns {r['turns']}" if r["turns"] else ""),
            flush=True,
        )


if __name__ == "__main__":
    asyncio.run(main())
