"""Real bot processes on the real PostgreSQL: each reminder is sent exactly once.

Every worker is a separate Python process (tests/checkin_worker.py: the engine, the
APScheduler-driven CheckInService and the delivery loop) posting to a Discord-like DM fake
in this process, which enforces nonces and counts messages per check-in. Waits are on
conditions with deadlines, never on luck.
"""

from __future__ import annotations

import asyncio
import json
import os
import signal
import sys
import time
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select

from bot.store.database import Database
from bot.store.migrate import upgrade
from bot.store.models import CheckIn
from tests.checkin_support import DmFake, seed_due

REPO = Path(__file__).resolve().parent.parent
WORKER = REPO / "tests" / "checkin_worker.py"
COUNT = 1000


async def until(condition: Callable[[], bool], what: str, within: float = 60.0) -> None:
    deadline = time.monotonic() + within
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        await asyncio.sleep(0.02)


async def spawn(db_url: str, fake: DmFake, name: str, *extra: str) -> asyncio.subprocess.Process:
    return await asyncio.create_subprocess_exec(
        sys.executable,
        str(WORKER),
        "--db",
        db_url,
        "--fake",
        fake.url,
        "--name",
        name,
        "--deadline",
        "90",
        *extra,
        cwd=str(REPO),
        env={**os.environ, "PYTHONPATH": str(REPO)},
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )


async def report(proc: asyncio.subprocess.Process) -> dict[str, Any]:
    out, err = await asyncio.wait_for(proc.communicate(), timeout=120)
    assert proc.returncode == 0, err.decode()[-2000:]
    return json.loads(out.decode().strip().splitlines()[-1])


@pytest.fixture
async def seeded(pg_url: str) -> AsyncIterator[tuple[str, Database]]:
    db = Database(pg_url)
    await upgrade(db)
    await seed_due(db, COUNT)
    yield pg_url, db
    await db.dispose()


@pytest.fixture
async def fake() -> AsyncIterator[DmFake]:
    dm = DmFake()
    await dm.start()
    yield dm
    await dm.stop()


async def states(db: Database) -> dict[str, int]:
    rows = await db.run(
        lambda s: s.execute(select(CheckIn.state, func.count()).group_by(CheckIn.state)).all()
    )
    return {state: n for state, n in rows}


async def test_two_processes_racing_over_1000_due_reminders_send_each_once(
    seeded: tuple[str, Database], fake: DmFake
) -> None:
    url, db = seeded
    # Paced at 250/s each, so neither can finish alone before the other starts.
    procs = [
        await spawn(url, fake, name, "--rate", "250", "--lease", "30", "--wait-go") for name in "AB"
    ]
    await until(lambda: fake.ready >= {"A", "B"}, "both processes to be ready")
    fake.go.set()
    a, b = [await report(p) for p in procs]
    assert fake.delivered == COUNT  # counted at the fake: 1,000 distinct messages
    assert len(fake.per_checkin) == COUNT and fake.doubled == []
    assert fake.nonce_hits == 0  # no process ever had to resend
    assert a["delivered"] + b["delivered"] == COUNT
    assert a["delivered"] > 0 and b["delivered"] > 0  # a real race, both delivered
    assert await states(db) == {"sent": COUNT}


async def test_kill_9_mid_fan_out_loses_nothing_and_doubles_nothing(
    seeded: tuple[str, Database], fake: DmFake
) -> None:
    url, db = seeded
    fake.hold_after = 300  # past 300 messages, the fake creates them but does not answer
    victim = await spawn(url, fake, "victim", "--lease", "3")
    await until(lambda: fake.held >= 32, "the victim to have 32 sends in flight")
    victim.send_signal(signal.SIGKILL)  # mid fan-out: sent, never recorded
    await victim.wait()
    assert victim.returncode == -signal.SIGKILL
    held = fake.held
    recorded = (await states(db)).get("sent", 0)  # what the victim recorded before dying
    assert recorded <= 300 < fake.delivered
    fake.release()
    survivor = await spawn(url, fake, "survivor")
    result = await report(survivor)
    assert fake.delivered == COUNT and fake.doubled == []  # nothing lost, nothing doubled
    # Exactly the messages that were in flight were sent again, with the same nonce, and
    # the fake (like Discord with enforce_nonce) answered with the first message.
    assert fake.nonce_hits == fake.created_by["victim"] - recorded >= held >= 32
    assert result["delivered"] == COUNT - recorded  # the survivor did the rest, only that
    assert await states(db) == {"sent": COUNT}
