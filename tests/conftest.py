"""Shared fixtures: a migrated database (SQLite file, or PostgreSQL in CI) and an engine."""

from __future__ import annotations

import asyncio
import os
import uuid
from collections.abc import AsyncIterator, Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy.ext.asyncio import create_async_engine

from bot.engine import Engine
from bot.events import UserRef
from bot.playbook.loader import PlaybookRegistry, load_playbook
from bot.settings import REPO_ROOT, Settings, load_settings
from bot.store import database
from bot.store.database import Database
from bot.store.migrate import upgrade

TEST_PLAYBOOKS = Path(__file__).parent / "playbooks"
PG_ADMIN_URL = os.environ.get(
    "CROSSROADS_TEST_PG_URL", "postgresql+asyncpg://postgres@127.0.0.1:5432/test"
)
FIXED_NOW = datetime(2026, 3, 2, 10, 0, tzinfo=UTC)


def _pg_reachable() -> bool:
    async def probe() -> bool:
        engine = create_async_engine(PG_ADMIN_URL)
        try:
            async with engine.connect():
                return True
        except Exception:
            return False
        finally:
            await engine.dispose()

    return asyncio.run(probe())


@pytest.fixture(scope="session")
def pg_available() -> bool:
    ok = _pg_reachable()
    if not ok and os.environ.get("CI") == "true":
        pytest.fail(f"CI=true but PostgreSQL is not reachable at {PG_ADMIN_URL}")
    return ok


@pytest.fixture
def pg_url(pg_available: bool) -> Iterator[str]:
    """A fresh, empty PostgreSQL database for one test, dropped afterwards."""
    if not pg_available:
        pytest.skip(f"PostgreSQL not reachable at {PG_ADMIN_URL} (set CI=true to require it)")
    name = f"crossroads_t_{uuid.uuid4().hex[:12]}"

    async def admin(sql: str) -> None:
        engine = create_async_engine(PG_ADMIN_URL, isolation_level="AUTOCOMMIT")
        async with engine.connect() as conn:
            await conn.exec_driver_sql(sql)
        await engine.dispose()

    asyncio.run(admin(f'CREATE DATABASE "{name}"'))
    yield PG_ADMIN_URL.rsplit("/", 1)[0] + f"/{name}"
    asyncio.run(admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


@pytest.fixture
def sqlite_url(tmp_path: Path) -> str:
    return f"sqlite:///{tmp_path / 'crossroads.db'}"


@pytest.fixture(params=["sqlite", "postgresql"])
def db_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """Run a test on both databases (PostgreSQL skips locally when absent, never in CI)."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'crossroads.db'}"
    return request.getfixturevalue("pg_url")


# A unit's database deadline in tests: a loaded test machine is slow, not a silent server
# (a PostgreSQL unit once took over 5 s under a CPU hog and was refused as unavailable).
# The outage tests set their own short deadline right before they cut the network.
TEST_DB_TIMEOUT = 60.0


@pytest.fixture(scope="session", autouse=True)
def roomy_database_deadline() -> Iterator[None]:
    saved = database.DEFAULT_TIMEOUT
    database.DEFAULT_TIMEOUT = TEST_DB_TIMEOUT
    yield
    database.DEFAULT_TIMEOUT = saved


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return load_settings(
        data_dir=tmp_path,
        database_url=f"sqlite:///{tmp_path / 'c.db'}",
        db_timeout_seconds=TEST_DB_TIMEOUT,
    )


def make_registry(*names: str) -> PlaybookRegistry:
    files = [TEST_PLAYBOOKS / f"{n}.yaml" for n in names if (TEST_PLAYBOOKS / f"{n}.yaml").exists()]
    files += [
        REPO_ROOT / "config" / "playbooks" / f"{n}.yaml"
        for n in names
        if not (TEST_PLAYBOOKS / f"{n}.yaml").exists()
    ]
    return PlaybookRegistry(load_playbook(f) for f in files)


async def make_engine(
    url: str, settings: Settings, *playbooks: str, now: datetime = FIXED_NOW, inline: bool = True
) -> Engine:
    """An engine on a migrated database; ``inline=False`` runs SQLite units in a thread."""
    db = Database(url, sqlite_inline=inline)
    await upgrade(db)
    engine = Engine(db, make_registry(*(playbooks or ("tiny",))), settings, clock=lambda: now)
    await engine.prepare()
    return engine


@pytest.fixture
async def engine(sqlite_url: str, settings: Settings) -> AsyncIterator[Engine]:
    eng = await make_engine(sqlite_url, settings.model_copy(update={"default_playbook": "tiny"}))
    yield eng
    await eng.db.dispose()


@pytest.fixture
def alice() -> UserRef:
    return UserRef("console", "local", "alice")


@pytest.fixture(scope="session", autouse=True)
def charts_warm() -> None:
    """Load matplotlib (and build its font cache on a fresh machine) once, before any test
    whose reply draws a chart: the first import costs a second or more, which would
    otherwise land inside one test's deadlines on the platform fakes."""
    from bot import charts

    if charts.available():
        from matplotlib import font_manager

        assert font_manager.fontManager.ttflist
