"""Engine turn throughput and latency: many concurrent consultations through the real engine.

A turn = an event received -> validated -> committed -> next message ready. Three kinds are
timed apart: the start (creates the consultation), an answer that asks the next question,
and the final answer (ranks, explains, what-if, snapshot, plan).

Loads per database:
  * closed: every simulated person answers as soon as the reply is there, all in flight at
    once (the most turns per second one process commits; latency includes queueing);
  * open RATE: people answer after random (exponential) pauses so that the answers offered
    add up to RATE per second, as real people would; latency is what a person waits.
Each simulated person starts a new consultation when one ends, until the run's time is up.
Between two turns each person yields to the event loop, as an adapter does while it waits
for the next message: so the inline SQLite mode is concurrent too (people interleave), and
``--sqlite-mode thread`` runs every SQLite unit in the store's worker thread instead.

Usage:
  .venv/bin/python bench/engine_turns.py [--consultations 1000] [--db sqlite|postgresql|both]
      [--rate 250 500] [--no-closed] [--seconds 10] [--playbook ml-research-career]
      [--sqlite-mode inline|thread] [--processes N] [--json]
--json prints one line per run: db, load, offered_per_s, achieved_per_s, p50_ms, p99_ms
(all answers, final ones included), final_p99_ms, and more (answer_*, start_*, turns...).
--processes N (PostgreSQL): N OS processes run the same load on one database at once;
one line per process and one "sum" line (achieved_per_s added up, latencies pooled).
PostgreSQL: a scratch database is created and dropped on CROSSROADS_BENCH_PG_URL
(default postgresql+asyncpg://postgres@127.0.0.1:5432/test).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import math
import random
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))


from bench.scratch_db import scratch_database
from bot import events as ev
from bot.engine import Engine
from bot.messages import Level, Notice, Question, QuestionKind
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


def messages(out: Any) -> list[Any]:
    """The messages of a result (an object carrying them, or a list of messages)."""
    if isinstance(out, list | tuple):
        return list(out)
    return list(getattr(out, "messages", out))


def next_question(out: Any) -> Question | None:
    return next((m for m in messages(out) if isinstance(m, Question)), None)


def unavailable(out: Any) -> bool:
    """The store-outage notice: under overload a turn may be refused instead of queued."""
    return any(
        isinstance(m, Notice) and m.level == Level.ERROR and "try again" in m.text
        for m in messages(out)
    )


def pct(values: list[float], p: float) -> float:
    """Nearest-rank percentile; NaN for no samples (a run may record none)."""
    if not values:
        return math.nan
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(p / 100 * (len(ordered) - 1)))]


@dataclass
class Samples:
    starts: list[float] = field(default_factory=list)
    answers: list[float] = field(default_factory=list)  # answers that ask the next question
    finals: list[float] = field(default_factory=list)  # answers that end the consultation
    unavailable: int = 0  # turns answered "cannot be reached, try again" (not timed)


async def consult_until(
    engine: Engine,
    name: str,
    deadline: float,
    rng: random.Random,
    gap: float | None,
    samples: Samples,
) -> None:
    """One simulated person: consultation after consultation until the deadline."""
    round_no = 0
    if gap is not None:  # arrive spread out, as people do, not all in the same instant
        await asyncio.sleep(rng.uniform(0, gap))
    while time.perf_counter() < deadline:
        user = ev.UserRef("bench", "t", f"{name}-{round_no}")
        round_no += 1
        t0 = time.perf_counter()
        out = await engine.run(ev.Start(user=user))
        samples.starts.append((time.perf_counter() - t0) * 1000)
        while (q := next_question(out)) is not None:
            if gap is not None:
                pause = rng.expovariate(1 / gap)
                await asyncio.sleep(min(pause, max(0.0, deadline - time.perf_counter())))
            else:
                await asyncio.sleep(0)  # the next message arrives: let the others run
            if time.perf_counter() >= deadline:
                return
            value = pick(q, rng)
            t0 = time.perf_counter()
            out = await engine.run(
                ev.Answer(
                    user=user,
                    value=value,
                    question_id=q.question_id,
                    consultation_id=q.consultation_id,
                    step=q.step,
                )
            )
            took = (time.perf_counter() - t0) * 1000
            if unavailable(out):
                samples.unavailable += 1
                return  # this person gives up; the others go on
            (samples.answers if next_question(out) is not None else samples.finals).append(took)
        await asyncio.sleep(0)


async def run_load(
    engine: Engine, n: int, tag: str, gap: float | None, seconds: float
) -> tuple[Samples, float]:
    samples = Samples()
    rng = random.Random(42)
    t0 = time.perf_counter()
    deadline = t0 + seconds
    await asyncio.gather(
        *(
            consult_until(engine, f"{tag}{i}", deadline, random.Random(rng.random()), gap, samples)
            for i in range(n)
        )
    )
    return samples, time.perf_counter() - t0


def figures(
    db: str, load: str, offered: float | None, samples: Samples, elapsed: float
) -> dict[str, Any]:
    every = samples.answers + samples.finals
    r = lambda v: None if math.isnan(v) else round(v, 3)  # noqa: E731
    return {
        "db": db,
        "load": load,
        "offered_per_s": offered,
        "achieved_per_s": round(len(every) / elapsed, 1) if elapsed > 0 else 0.0,
        "p50_ms": r(pct(every, 50)),
        "p99_ms": r(pct(every, 99)),
        "final_p99_ms": r(pct(samples.finals, 99)),
        "final_p50_ms": r(pct(samples.finals, 50)),
        "answer_p50_ms": r(pct(samples.answers, 50)),
        "answer_p99_ms": r(pct(samples.answers, 99)),
        "start_p50_ms": r(pct(samples.starts, 50)),
        "start_p99_ms": r(pct(samples.starts, 99)),
        "max_ms": r(max(every, default=math.nan)),
        "answers": len(samples.answers),
        "finals": len(samples.finals),
        "starts": len(samples.starts),
        "unavailable": samples.unavailable,
        "seconds": round(elapsed, 2),
    }


def report(row: dict[str, Any], as_json: bool) -> None:
    if as_json:
        print(json.dumps(row), flush=True)
        return
    f = lambda v: "n/a" if v is None else f"{v:.2f}"  # noqa: E731
    offered = "closed loop" if row["offered_per_s"] is None else f"{row['offered_per_s']:.0f}/s"
    print(
        f"{row['db']} {row['load']} ({offered}): {row['answers'] + row['finals']} answers "
        f"({row['finals']} final) + {row['starts']} starts in {row['seconds']} s, "
        f"{row['achieved_per_s']:.0f} answers/s; all answers p50 {f(row['p50_ms'])} ms, "
        f"p99 {f(row['p99_ms'])} ms | next-question p99 {f(row['answer_p99_ms'])} ms | "
        f"final p50 {f(row['final_p50_ms'])} ms, p99 {f(row['final_p99_ms'])} ms | "
        f"start p50 {f(row['start_p50_ms'])} ms, p99 {f(row['start_p99_ms'])} ms"
        + (f" | {row['unavailable']} refused (store unavailable)" if row["unavailable"] else ""),
        flush=True,
    )


def loads(args: argparse.Namespace) -> list[tuple[str, float | None]]:
    out: list[tuple[str, float | None]] = [] if args.no_closed else [("closed", None)]
    return out + [(f"open{rate:g}", rate) for rate in args.rate]


async def bench_in_process(url: str, db_label: str, args: argparse.Namespace) -> None:
    db = Database(url, pool_size=args.pool_size, sqlite_inline=args.sqlite_mode == "inline")
    if not args.worker:
        await upgrade(db)
    settings = load_settings(default_playbook=args.playbook)
    registry = PlaybookRegistry.from_directory(settings.playbooks_dir)
    engine = Engine(db, registry, settings)
    await engine.prepare()
    if not args.json:
        pb = registry.get(args.playbook)
        print(
            f"\n== {db_label}: {args.consultations} consultations, playbook {args.playbook} "
            f"({len(pb.questions) if pb else '?'} questions)"
        )
    await run_load(engine, 50, f"warmup{args.worker}-", None, 1.0)
    for load, rate in loads(args):
        # Each person answers every n/rate seconds on average: total offered = rate turns/s.
        gap = None if rate is None else args.consultations / rate
        samples, elapsed = await run_load(
            engine, args.consultations, f"{load}{args.worker}-", gap, args.seconds
        )
        report(figures(db_label, load, rate, samples, elapsed), args.json)
    await db.dispose()


def bench_processes(url: str, db_label: str, args: argparse.Namespace) -> None:
    """N OS processes on one database; each prints JSON lines, then one summed line."""
    base = [sys.executable, __file__, "--json", "--worker-url", url]
    base += ["--consultations", str(args.consultations), "--seconds", str(args.seconds)]
    base += ["--playbook", args.playbook, "--pool-size", str(args.pool_size)]
    base += ["--rate", *map(str, args.rate)] if args.rate else ["--rate"]
    base += ["--no-closed"] if args.no_closed else []
    children = [
        subprocess.Popen([*base, "--worker", str(i + 1)], stdout=subprocess.PIPE, text=True)
        for i in range(args.processes)
    ]
    rows: list[dict[str, Any]] = []
    for child in children:
        out, _ = child.communicate()
        rows += [json.loads(line) for line in out.splitlines() if line.startswith("{")]
    for row in rows:
        row["db"] = f"{db_label} (one of {args.processes} processes)"
        report(row, args.json)
    for load, _rate in loads(args):
        same = [row for row in rows if row["load"] == load]
        report(
            {
                **same[0],
                "db": f"{db_label} (sum of {args.processes} processes)",
                "achieved_per_s": round(sum(row["achieved_per_s"] for row in same), 1),
                **{k: sum(row[k] for row in same) for k in ("answers", "finals", "starts")},
                # Percentiles cannot be added: the worst process's figure stands for all.
                **{
                    k: max((row[k] for row in same if row[k] is not None), default=None)
                    for k in same[0]
                    if k.endswith("_ms")
                },
            },
            args.json,
        )


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--consultations", type=int, default=1000)
    parser.add_argument(
        "--rate",
        type=float,
        nargs="*",
        default=[250.0, 500.0, 1000.0],
        help="open-loop answers/s offered (several values: one run each; none: closed only)",
    )
    parser.add_argument("--no-closed", action="store_true", help="skip the closed loop")
    parser.add_argument("--seconds", type=float, default=10.0, help="length of each run")
    parser.add_argument("--db", choices=["sqlite", "postgresql", "both"], default="both")
    parser.add_argument("--playbook", default="ml-research-career")
    parser.add_argument("--sqlite-mode", choices=["inline", "thread"], default="inline")
    parser.add_argument("--pool-size", type=int, default=20)
    parser.add_argument("--processes", type=int, default=1, help="PostgreSQL: OS processes")
    parser.add_argument("--json", action="store_true", help="one JSON line per run")
    parser.add_argument("--worker-url", help=argparse.SUPPRESS)
    parser.add_argument("--worker", type=int, default=0, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.worker_url:
        await bench_in_process(args.worker_url, "postgresql", args)
        return
    for kind in ("sqlite", "postgresql"):
        if args.db not in (kind, "both"):
            continue
        label = f"sqlite-{args.sqlite_mode}" if kind == "sqlite" else "postgresql"
        async with scratch_database(kind) as (url, _tmp):
            if kind == "postgresql" and args.processes > 1:
                db = Database(url)
                await upgrade(db)
                await db.dispose()
                await asyncio.to_thread(bench_processes, url, label, args)
            else:
                await bench_in_process(url, label, args)


if __name__ == "__main__":
    asyncio.run(main())
