"""PostgreSQL outages a person must not wait on: a silent partition, a server restart.

Through a TCP proxy on 127.0.0.1 that can stop forwarding without closing anything (what a
dropped route looks like), and with the real server's ``pg_terminate_backend``.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import pytest
from sqlalchemy import func, select, text
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import create_async_engine

from bot import events as ev
from bot.engine import Engine
from bot.messages import Notice, Question
from bot.settings import Settings
from bot.store.database import Database
from bot.store.migrate import upgrade
from bot.store.models import AnswerRecord, Consultation
from tests.blackhole import BlackHoleProxy
from tests.conftest import FIXED_NOW, make_registry

ALICE = ev.UserRef("console", "local", "alice")
TIMEOUT = 1.0
ROOMY = 30.0
# Generous: the point is that the turn ends (a partition used to hang it for good), not
# how fast; the notice comes at TIMEOUT, this only stops a regression from hanging the run.
NO_HANG = TIMEOUT * 10 + 10


async def turn(eng: Engine, event: ev.InEvent) -> list:
    return (await eng.run(event)).messages


def question(out: list) -> Question:
    qs = [m for m in out if isinstance(m, Question)]
    assert qs, f"expected a question in {out}"
    return qs[-1]


def cannot_be_reached(out: list) -> bool:
    return (
        len(out) == 1
        and isinstance(out[0], Notice)
        and "cannot be reached" in out[0].text
        and "try again" in out[0].text
    )


@pytest.fixture
async def proxy(pg_url: str) -> AsyncIterator[BlackHoleProxy]:
    url = make_url(pg_url)
    async with BlackHoleProxy(url.host or "127.0.0.1", url.port or 5432) as p:
        yield p


def through(pg_url: str, proxy: BlackHoleProxy) -> str:
    return make_url(pg_url).set(port=proxy.port).render_as_string(hide_password=False)


async def engine_on(url: str, settings: Settings) -> Engine:
    # Set-up and the turns before the partition get a roomy deadline (the machine may be
    # busy); each test shortens it to TIMEOUT just before it cuts the network (the connect
    # timeout follows it too).
    db = Database(url, timeout=ROOMY)
    await upgrade(db)
    cfg = settings.model_copy(update={"default_playbook": "tiny"})
    engine = Engine(db, make_registry("tiny"), cfg, clock=lambda: FIXED_NOW)
    await engine.prepare()
    return engine


async def committed(pg_url: str) -> tuple[int, list[str | None]]:
    """What the server holds, read on a connection of its own (not through the proxy)."""
    direct = Database(pg_url)
    try:
        answers = await direct.run(
            lambda s: s.scalar(select(func.count()).select_from(AnswerRecord))
        )
        steps = await direct.run(
            lambda s: list(s.scalars(select(Consultation.current_step).order_by(Consultation.id)))
        )
    finally:
        await direct.dispose()
    return answers or 0, steps


async def test_partition_mid_consultation_gives_the_notice_and_writes_nothing(
    pg_url: str, proxy: BlackHoleProxy, settings: Settings
) -> None:
    eng = await engine_on(through(pg_url, proxy), settings)
    try:
        assert question(await turn(eng, ev.Start(user=ALICE))).question_id == "role"
        assert (
            question(await turn(eng, ev.Answer(user=ALICE, value="student"))).question_id
            == "thesis"
        )
        eng.db.timeout = TIMEOUT
        proxy.partition()
        async with asyncio.timeout(NO_HANG):
            out = await turn(eng, ev.Answer(user=ALICE, value="yes"))
        assert cannot_be_reached(out), out
        # Nothing half-written: the server has the first answer only, the step unchanged.
        assert await committed(pg_url) == (1, ["thesis"])
        # Every later turn also ends with the notice (the pool does not pile up waiters).
        async with asyncio.timeout(NO_HANG):
            outs = await asyncio.gather(
                *(turn(eng, ev.Answer(user=ALICE, value="yes")) for _ in range(3))
            )
        assert all(cannot_be_reached(o) for o in outs), outs
        proxy.heal()
        eng.db.timeout = ROOMY
        # Trying again once the network is back simply works.
        async with asyncio.timeout(NO_HANG):
            out = await turn(eng, ev.Answer(user=ALICE, value="yes"))
        assert question(out).question_id == "skills"
        assert await committed(pg_url) == (2, ["skills"])
    finally:
        await eng.db.dispose()


async def test_partition_before_connecting_gives_the_notice(
    pg_url: str, proxy: BlackHoleProxy, settings: Settings
) -> None:
    eng = await engine_on(through(pg_url, proxy), settings)
    await eng.db.dispose()  # no pooled connection left: the next turn must connect
    eng.db.timeout = TIMEOUT
    proxy.partition()
    try:
        async with asyncio.timeout(NO_HANG):
            out = await turn(eng, ev.Start(user=ALICE))
        assert cannot_be_reached(out), out
        assert await committed(pg_url) == (0, [])
    finally:
        await eng.db.dispose()


async def terminate_backends(pg_url: str) -> int:
    """Kill every server process of this database, as a server restart would."""
    admin = create_async_engine(pg_url, isolation_level="AUTOCOMMIT")
    try:
        async with admin.connect() as conn:
            killed = await conn.scalar(
                text(
                    "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity "
                    "WHERE datname = current_database() AND pid <> pg_backend_pid()"
                )
            )
    finally:
        await admin.dispose()
    return killed or 0


async def test_dead_pooled_connections_are_replaced_without_a_false_outage(
    pg_url: str, settings: Settings
) -> None:
    eng = await engine_on(pg_url, settings)
    bob = ev.UserRef("console", "local", "bob")
    try:
        # Two people at once, so the pool holds more than one connection.
        for out in await asyncio.gather(
            turn(eng, ev.Start(user=ALICE)), turn(eng, ev.Start(user=bob))
        ):
            assert question(out).question_id == "role"
        assert await terminate_backends(pg_url) >= 1
        # Every next turn succeeds: nobody is told the server cannot be reached.
        a, b = await asyncio.gather(
            turn(eng, ev.Answer(user=ALICE, value="student")),
            turn(eng, ev.Answer(user=bob, value="worker")),
        )
        assert question(a).question_id == "thesis"
        assert question(b).question_id == "skills"
        assert await terminate_backends(pg_url) >= 1
        assert question(await turn(eng, ev.Answer(user=ALICE, value="yes"))).question_id == "skills"
        assert await committed(pg_url) == (3, ["skills", "skills"])
    finally:
        await eng.db.dispose()
