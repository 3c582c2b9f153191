"""Engine turn throughput and latency: many concurrent consultations through the real engine.

A turn = an answer received -> validated -> committed -> next message ready.

Two loads per database:
  * closed loop: every simulated person answers as fast as they can, all in flight at
    once (the most turns per second one process commits; latency then includes queueing);
  * open loop: the people answer with random pauses so that the total offered rate is
    fixed (Poisson arrivals), as real people would; latency here is what a person waits
    for at that load.
Each simulated person starts a new consultation when one ends, until the run's time is up.

Usage:
  .venv/bin/python bench/engine_turns.py [--consultations 1000] [--db sqlite|postgresql|both]
      [--rate 250 500 1000] [--seconds 10] [--playbook ml-research-career]
PostgreSQL: a scratch database is created and dropped on CROSSROADS_BENCH_PG_URL
(default postgresql+asyncpg://postgres@127.0.0.1:5432/test).
"""

from __future__ import annotations

import argparse
import asyncio
import random
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))


from bench.scratch_db import scratch_database
from bot import events as ev
from bot.engine import Engine
from bot.messages import Question, QuestionKind
from bot.playbook.loader import PlaybookRegistry
from bot.settings import load_settings
from bot.store.database import Database
from bot.store.migrate import upgrade


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


async def consult_until(
    engine: Engine,
    name: str,
    deadline: float,
    rng: random.Random,
    gap: float | None,
    latencies: list[float],
    starts: list[float],
) -> None:
    """One simulated person: consultation after consultation until the deadline."""
    round_no = 0
    if gap is not None:  # arrive spread out, as people do, not all in the same instant
        await asyncio.sleep(rng.uniform(0, gap))
    while time.perf_counter() < deadline:
        user = ev.UserRef("bench", "t", f"{name}-{round_no}")
        round_no += 1
        t0 = time.perf_counter()
        out = (await engine.run(ev.Start(user))).messages
        starts.append((time.perf_counter() - t0) * 1000)
        while (q := next((m for m in out if isinstance(m, Question)), None)) is not None:
            if gap is not None:
                pause = rng.expovariate(1 / gap)
                await asyncio.sleep(min(pause, max(0.0, deadline - time.perf_counter())))
            if time.perf_counter() >= deadline:
                return
            value = pick(q, rng)
            t0 = time.perf_counter()
            out = (
                await engine.run(ev.Answer(user, value, q.question_id, q.consultation_id, q.step))
            ).messages
            latencies.append((time.perf_counter() - t0) * 1000)


async def run_load(
    engine: Engine, n: int, tag: str, gap: float | None, seconds: float
) -> dict[str, float]:
    latencies: list[float] = []
    starts: list[float] = []
    rng = random.Random(42)
    t0 = time.perf_counter()
    deadline = t0 + seconds
    await asyncio.gather(
        *(
            consult_until(
                engine, f"{tag}{i}", deadline, random.Random(rng.random()), gap, latencies, starts
            )
            for i in range(n)
        )
    )
    elapsed = time.perf_counter() - t0
    return {
        "turns": len(latencies),
        "turns_per_s": len(latencies) / elapsed,
        "p50_ms": statistics.median(latencies),
        "p99_ms": pct(latencies, 99),
        "max_ms": max(latencies),
        "start_p50_ms": statistics.median(starts),
        "start_p99_ms": pct(starts, 99),
    }


def report(label: str, r: dict[str, float]) -> None:
    print(
        f"{label}: {r['turns']:.0f} answer turns, {r['turns_per_s']:.0f} turns/s; "
        f"turn p50 {r['p50_ms']:.2f} ms, p99 {r['p99_ms']:.2f} ms, max {r['max_ms']:.1f} ms; "
        f"start p50 {r['start_p50_ms']:.2f} ms, p99 {r['start_p99_ms']:.2f} ms"
    )


async def bench(url: str, label: str, args: argparse.Namespace) -> None:
    db = Database(url, pool_size=20)
    await upgrade(db)
    settings = load_settings(default_playbook=args.playbook)
    registry = PlaybookRegistry.from_directory(settings.playbooks_dir)
    engine = Engine(db, registry, settings)
    await engine.prepare()
    questions = len(registry.get(args.playbook).questions)  # type: ignore[union-attr]
    print(
        f"\n== {label}: {args.consultations} consultations, playbook {args.playbook} "
        f"({questions} questions)"
    )
    await run_load(engine, 50, "warmup", None, 1.0)
    closed = await run_load(engine, args.consultations, "closed", None, args.seconds)
    report(f"closed loop, {args.consultations} in flight (capacity; includes queueing)", closed)
    for rate in args.rate:
        # Each person answers every n/rate seconds on average: total offered = rate turns/s.
        opened = await run_load(
            engine, args.consultations, f"open{rate}", args.consultations / rate, args.seconds
        )
        report(f"open loop, {rate:.0f} turns/s offered", opened)
    await db.dispose()


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--consultations", type=int, default=1000)
    parser.add_argument(
        "--rate",
        type=float,
        nargs="+",
        default=[250.0, 500.0, 1000.0],
        help="open-loop turns/s offered (several values: one run each)",
    )
    parser.add_argument("--seconds", type=float, default=10.0, help="length of each run")
    parser.add_argument("--db", choices=["sqlite", "postgresql", "both"], default="both")
    parser.add_argument("--playbook", default="ml-research-career")
    args = parser.parse_args()
    labels = {"sqlite": "SQLite file (WAL)", "postgresql": "PostgreSQL"}
    for kind in ("sqlite", "postgresql"):
        if args.db in (kind, "both"):
            async with scratch_database(kind) as (url, _tmp):
                await bench(url, labels[kind], args)


if __name__ == "__main__":
    asyncio.run(main())
