"""Check-in scheduler start-up with 100,000 pending check-ins: time and memory.

The reminders are rows, so starting a process's scheduler reads no reminder into memory:
it runs one delivery sweep (nothing is due) and asks the database for the next due time.
This measures a fresh process from its first line to a started CheckInService:

  * import: Python start-up work of importing the bot (SQLAlchemy, APScheduler, …);
  * setup: database engine, playbooks, Engine, CheckInService objects;
  * start: CheckInService.start() — APScheduler started, the restart sweep, the next wake;
  * RSS: resident memory after start (VmRSS) and the peak (VmHWM), from /proc/self/status.

Usage:
  .venv/bin/python bench/checkins_scheduler.py [--pending 100000] [--db sqlite|postgresql|both]
PostgreSQL: a scratch database on CROSSROADS_BENCH_PG_URL
(default postgresql+asyncpg://postgres@127.0.0.1:5432/test), dropped afterwards.
"""

from __future__ import annotations

import time

T0 = time.perf_counter()

import argparse  # noqa: E402
import asyncio  # noqa: E402
import json  # noqa: E402
import os  # noqa: E402
import subprocess  # noqa: E402
import sys  # noqa: E402
import tempfile  # noqa: E402
import uuid  # noqa: E402
from datetime import UTC, datetime, timedelta  # noqa: E402
from pathlib import Path  # noqa: E402

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

PG_ADMIN = os.environ.get(
    "CROSSROADS_BENCH_PG_URL", "postgresql+asyncpg://postgres@127.0.0.1:5432/test"
)


def _status(field: str) -> float:
    """A /proc/self/status memory line, in MB."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1]) / 1024
    return float("nan")


async def child(url: str) -> None:
    """The measured process: start a bot's check-in scheduler on ``url``."""
    t_import = time.perf_counter()
    from bot.checkins.scheduler import CheckInService
    from bot.engine import Engine
    from bot.playbook.loader import PlaybookRegistry
    from bot.settings import load_settings
    from bot.store.database import Database
    from tests.checkin_support import HttpDmSender

    imported = time.perf_counter()
    settings = load_settings(data_dir=tempfile.gettempdir(), database_url=url)
    db = Database(settings.resolved_database_url)
    engine = Engine(db, PlaybookRegistry.from_directory(settings.playbooks_dir), settings)
    service = CheckInService(engine)
    service.register(HttpDmSender("http://127.0.0.1:9", max_rate=50.0))  # never called
    ready = time.perf_counter()
    report = await service.start()
    started = time.perf_counter()
    wake = service.scheduler.next_wake()
    jobs = len(service.scheduler.scheduler.get_jobs())
    rss, peak = _status("VmRSS"), _status("VmHWM")
    await service.stop()
    await db.dispose()
    print(
        json.dumps(
            {
                "interpreter_to_main_s": t_import - T0,
                "import_s": imported - t_import,
                "setup_s": ready - imported,
                "start_s": started - ready,
                "total_s": started - T0,
                "rss_mb": rss,
                "peak_rss_mb": peak,
                "claimed_at_start": report.claimed,
                "next_wake": wake.isoformat() if wake else None,
                "apscheduler_jobs": jobs,
            }
        )
    )


async def _seed(url: str, pending: int) -> float:
    from bot.store.database import Database
    from bot.store.migrate import upgrade
    from tests.checkin_support import seed_due

    db = Database(url)
    await upgrade(db)
    t = time.perf_counter()
    # Due from an hour from now over the next 90 days: pending, none due at start-up.
    await seed_due(
        db,
        pending,
        datetime.now(UTC) + timedelta(hours=1),
        spread=timedelta(days=90),
        per_user=10,
    )
    seeded = time.perf_counter() - t
    await db.dispose()
    return seeded


async def _admin(sql: str) -> None:
    from sqlalchemy.ext.asyncio import create_async_engine

    engine = create_async_engine(PG_ADMIN, isolation_level="AUTOCOMMIT")
    async with engine.connect() as conn:
        await conn.exec_driver_sql(sql)
    await engine.dispose()


def measure(url: str, label: str, pending: int, runs: int) -> None:
    seeded = asyncio.run(_seed(url, pending))
    print(f"{label}: {pending:,} pending check-ins seeded in {seeded:.1f} s")
    for run in range(1, runs + 1):
        out = subprocess.run(
            [sys.executable, __file__, "--child", url],
            capture_output=True,
            text=True,
            check=True,
            cwd=REPO,
            env={**os.environ, "PYTHONPATH": str(REPO)},
        )
        r = json.loads(out.stdout.strip().splitlines()[-1])
        print(
            f"  run {run}: start-up {r['total_s']:.2f} s (import {r['import_s']:.2f} s, "
            f"setup {r['setup_s']:.2f} s, scheduler start {r['start_s'] * 1000:.0f} ms); "
            f"RSS {r['rss_mb']:.0f} MB (peak {r['peak_rss_mb']:.0f} MB); "
            f"claimed {r['claimed_at_start']}, APScheduler jobs {r['apscheduler_jobs']}, "
            f"next wake {r['next_wake']}"
        )


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--pending", type=int, default=100_000)
    ap.add_argument("--db", choices=["sqlite", "postgresql", "both"], default="both")
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--child", help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.child:
        asyncio.run(child(args.child))
        return
    print(f"python {sys.version.split()[0]}, {os.cpu_count()} CPUs")
    if args.db in ("sqlite", "both"):
        with tempfile.TemporaryDirectory() as tmp:
            measure(f"sqlite:///{tmp}/bench.db", "SQLite", args.pending, args.runs)
    if args.db in ("postgresql", "both"):
        name = f"crossroads_bench_{uuid.uuid4().hex[:8]}"
        asyncio.run(_admin(f'CREATE DATABASE "{name}"'))
        try:
            measure(PG_ADMIN.rsplit("/", 1)[0] + f"/{name}", "PostgreSQL", args.pending, args.runs)
        finally:
            asyncio.run(_admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


if __name__ == "__main__":
    main()
