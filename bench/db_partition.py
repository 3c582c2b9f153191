"""How long a person waits for the notice when PostgreSQL silently drops off the network.

A TCP proxy on 127.0.0.1 (tests/blackhole.py) forwards to the local server, then stops
forwarding without closing anything (no RST: a partition). Per trial: one consultation
starts and answers once through the proxy, the network is cut, and the next answer is
timed until the engine returns; then the same with a fresh process-like pool (no pooled
connection: the turn has to connect), and after `pg_terminate_backend` (a server restart:
the turn must succeed on a fresh connection, not report an outage).

Usage: .venv/bin/python bench/db_partition.py [--trials 3] [--timeout 5]
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from sqlalchemy import text
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import create_async_engine

from bench.scratch_db import scratch_database
from bot import events as ev
from bot.engine import Engine
from bot.messages import Notice, Question
from bot.playbook.loader import PlaybookRegistry
from bot.settings import load_settings
from bot.store.database import Database
from bot.store.migrate import upgrade
from tests.blackhole import BlackHoleProxy


async def engine_on(url: str, db_timeout: float) -> Engine:
    db = Database(url, timeout=db_timeout)
    await upgrade(db)
    settings = load_settings()
    engine = Engine(db, PlaybookRegistry.from_directory(settings.playbooks_dir), settings)
    await engine.prepare()
    return engine


def first_question(messages: list[object]) -> Question:
    return next(m for m in messages if isinstance(m, Question))


async def timed(engine: Engine, event: ev.InEvent) -> tuple[float, list[object]]:
    t0 = time.perf_counter()
    out = (await engine.run(event)).messages
    return time.perf_counter() - t0, out


def kind(out: list[object]) -> str:
    if any(isinstance(m, Question) for m in out):
        return "next question"
    notice = next((m for m in out if isinstance(m, Notice)), None)
    return "notice: cannot be reached" if notice and "cannot be reached" in notice.text else "?"


async def trial(url: str, n: int, db_timeout: float) -> dict[str, tuple[float, str]]:
    parsed = make_url(url)
    out: dict[str, tuple[float, str]] = {}
    async with BlackHoleProxy(parsed.host or "127.0.0.1", parsed.port or 5432) as proxy:
        via = parsed.set(port=proxy.port).render_as_string(hide_password=False)
        eng = await engine_on(via, db_timeout)
        user = ev.UserRef("bench", "t", f"p{n}")
        q = first_question((await eng.run(ev.Start(user=user))).messages)
        proxy.partition()
        took, res = await timed(
            eng, ev.Answer(user=user, value=q.choices[0].id if q.choices else "x")
        )
        out["partition, pooled connection"] = (took, kind(res))
        await eng.db.dispose()
        eng2 = Engine(Database(via, timeout=db_timeout), eng.playbooks, eng.settings)
        took, res = await timed(eng2, ev.Start(user=ev.UserRef("bench", "t", f"q{n}")))
        out["partition, must connect"] = (took, kind(res))
        await eng2.db.dispose()
    eng = await engine_on(url, db_timeout)
    user = ev.UserRef("bench", "t", f"r{n}")
    q = first_question((await eng.run(ev.Start(user=user))).messages)
    admin = create_async_engine(url, isolation_level="AUTOCOMMIT")
    async with admin.connect() as conn:
        await conn.execute(
            text(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                "WHERE datname = current_database() AND pid <> pg_backend_pid()"
            )
        )
    await admin.dispose()
    took, res = await timed(eng, ev.Answer(user=user, value=q.choices[0].id if q.choices else "x"))
    out["server restart (pg_terminate_backend)"] = (took, kind(res))
    await eng.db.dispose()
    return out


async def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--trials", type=int, default=3)
    ap.add_argument("--timeout", type=float, default=5.0, help="db_timeout_seconds")
    args = ap.parse_args()
    rows: dict[str, list[tuple[float, str]]] = {}
    async with scratch_database("postgresql") as (url, _tmp):
        for n in range(args.trials):
            for key, value in (await trial(url, n, args.timeout)).items():
                rows.setdefault(key, []).append(value)
    print(f"db_timeout_seconds {args.timeout:g}, {args.trials} trials")
    for key, values in rows.items():
        secs = [v[0] for v in values]
        kinds = sorted({v[1] for v in values})
        print(
            f"{key}: answered in median {statistics.median(secs):.2f} s "
            f"(min {min(secs):.2f}, max {max(secs):.2f}) with {', '.join(kinds)}"
        )


if __name__ == "__main__":
    asyncio.run(main())
