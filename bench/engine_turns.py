"""Engine turn throughput and latency: many concurrent consultations through the real engine.

A turn = an answer received -> validated -> committed -> next message ready.

Two loads per database:
  * closed loop: every consultation answers as fast as it can, all in flight at once
    (the most turns per second one process can commit; latency then includes queueing);
  * open loop: the consultations answer at a fixed total rate (Poisson arrivals), as people
    would; latency here is what a person waits for at that load.

Usage:
  .venv/bin/python bench/engine_turns.py [--consultations 1000] [--db sqlite|postgresql|both]
      [--rate 1000] [--playbook ml-research-career]
PostgreSQL: a scratch database is created and dropped on CROSSROADS_BENCH_PG_URL
(default postgresql+asyncpg://postgres@127.0.0.1:5432/test).
"""

from __future__ import annotations

import argparse
import asyncio
import os
import random
import statistics
import sys
import tempfile
import time
import uuid
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from sqlalchemy.ext.asyncio import create_async_engine

from bot import events as ev
from bot.engine import Engine
from bot.messages import Question, QuestionKind
from bot.playbook.loader import PlaybookRegistry
from bot.settings import load_settings
from bot.store.database import Database
from bot.store.migrate import upgrade

PG_ADMIN = os.environ.get(
    "CROSSROADS_BENCH_PG_URL", "postgresql+asyncpg://postgres@127.0.0.1:5432/test"
)


def pick(q: Question, rng: random.Random) -> object:
    if q.kind == QuestionKind.SINGLE_CHOICE:
        return rng.choice(q.choices).id
    if q.kind == QuestionKind.MULTI_CHOICE:
        k = rng.randint(max(1, q.min_choices), max(1, min(q.max_choices, 3)))
        return [c.id for c in rng.sample(list(q.choices), k)]
    if q.kind == QuestionKind.SCALE:
        return rng.randint(q.scale_min, q.scale_max)
    return "skip" if q.optional else "Happy to move for the right group."


def pct(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(p / 100 * (len(ordered) - 1)))]


async def one_consultation(
    engine: Engine, user: ev.UserRef, rng: random.Random, latencies: list[float],
    gap: float | None,
) -> int:
    out = await engine.handle(ev.Start(user))
    turns = 0
    while True:
        q = next((m for m in out if isinstance(m, Question)), None)
        if q is None:
            return turns
        if gap is not None:
            await asyncio.sleep(rng.expovariate(1 / gap))
        value = pick(q, rng)
        t0 = time.perf_counter()
        out = await engine.handle(ev.Answer(user, value, q.question_id, q.consultation_id, q.step))
        latencies.append((time.perf_counter() - t0) * 1000)
        turns += 1


async def run_load(engine: Engine, n: int, tag: str, gap: float | None) -> dict[str, float]:
    latencies: list[float] = []
    rng = random.Random(42)
    users = [ev.UserRef("bench", tag, f"u{i}") for i in range(n)]
    t0 = time.perf_counter()
    turns = await asyncio.gather(
        *(one_consultation(engine, u, random.Random(rng.random()), latencies, gap) for u in users)
    )
    elapsed = time.perf_counter() - t0
    return {
        "turns": sum(turns),
        "seconds": elapsed,
        "turns_per_s": sum(turns) / elapsed,
        "p50_ms": statistics.median(latencies),
        "p99_ms": pct(latencies, 99),
        "max_ms": max(latencies),
    }


async def bench(url: str, label: str, args: argparse.Namespace) -> None:
    db = Database(url, pool_size=20)
    await upgrade(db)
    settings = load_settings(default_playbook=args.playbook)
    registry = PlaybookRegistry.from_directory(settings.playbooks_dir)
    engine = Engine(db, registry, settings)
    await engine.prepare()
    questions = len(registry.get(args.playbook).questions)  # type: ignore[union-attr]
    print(f"\n== {label}: {args.consultations} consultations, playbook {args.playbook} "
          f"({questions} questions)")
    await run_load(engine, 50, "warmup", None)
    closed = await run_load(engine, args.consultations, "closed", None)
    print(
        f"closed loop (all in flight): {closed['turns']:.0f} turns in {closed['seconds']:.2f} s"
        f" = {closed['turns_per_s']:.0f} turns/s; p50 {closed['p50_ms']:.2f} ms,"
        f" p99 {closed['p99_ms']:.2f} ms (includes queueing)"
    )
    # Each consultation answers every `gap` seconds on average: total offered = rate/s.
    gap = args.consultations / args.rate
    opened = await run_load(engine, args.consultations, "open", gap)
    print(
        f"open loop at {args.rate}/s offered: {opened['turns']:.0f} turns at "
        f"{opened['turns_per_s']:.0f} turns/s; p50 {opened['p50_ms']:.2f} ms, "
        f"p99 {opened['p99_ms']:.2f} ms, max {opened['max_ms']:.2f} ms"
    )
    await db.dispose()


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--consultations", type=int, default=1000)
    parser.add_argument("--rate", type=float, default=1000.0, help="open-loop turns/s offered")
    parser.add_argument("--db", choices=["sqlite", "postgresql", "both"], default="both")
    parser.add_argument("--playbook", default="ml-research-career")
    args = parser.parse_args()
    if args.db in ("sqlite", "both"):
        with tempfile.TemporaryDirectory() as tmp:
            await bench(f"sqlite+aiosqlite:///{tmp}/bench.db", "SQLite file (WAL)", args)
    if args.db in ("postgresql", "both"):
        name = f"crossroads_bench_{uuid.uuid4().hex[:8]}"
        admin = create_async_engine(PG_ADMIN, isolation_level="AUTOCOMMIT")
        async with admin.connect() as conn:
            await conn.exec_driver_sql(f'CREATE DATABASE "{name}"')
        try:
            await bench(PG_ADMIN.rsplit("/", 1)[0] + f"/{name}", "PostgreSQL", args)
        finally:
            async with admin.connect() as conn:
                await conn.exec_driver_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
            await admin.dispose()


if __name__ == "__main__":
    asyncio.run(main())
