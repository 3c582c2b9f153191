"""Running units of work against the database, and turning outages into one polite error.

A unit of work is a plain function taking a SQLAlchemy ``Session``; ``Database.run``
executes it in one transaction and returns its result:

* PostgreSQL: on the asyncio event loop via ``AsyncSession.run_sync`` (asyncpg underneath),
  so many units run concurrently on a connection pool;
* SQLite: in one dedicated thread with the standard ``sqlite3`` driver. SQLite allows one
  writer at a time anyway; handing the whole unit to that thread costs one thread hop per
  turn, where an async SQLite driver costs several per statement (bench/RESULTS.md).

Either way the caller just awaits ``run`` and the event loop is never blocked on I/O.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any, Concatenate, ParamSpec, TypeVar

from sqlalchemy import create_engine, event, exc, text
from sqlalchemy.engine import Engine, make_url
from sqlalchemy.ext.asyncio import AsyncEngine, async_sessionmaker, create_async_engine
from sqlalchemy.orm import Session, sessionmaker

log = logging.getLogger(__name__)
P = ParamSpec("P")
T = TypeVar("T")


class StoreUnavailable(Exception):
    """The database cannot be used right now; the message is safe to show to a person."""


def describe_outage(url: str, error: BaseException) -> str:
    lowered = str(error).lower()
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        where = parsed.database or "(memory)"
        if "not a database" in lowered or "malformed" in lowered:
            return (
                f"The database file {where} is not a readable SQLite database (it may be "
                "corrupt). Move it aside, or point CROSSROADS_DATABASE_URL at another file."
            )
        if "locked" in lowered or "busy" in lowered:
            return f"The database file {where} is busy (locked by another program)."
        return (
            f"The database file {where} cannot be opened or written. Check that its "
            "folder exists and is writable, or set CROSSROADS_DATABASE_URL."
        )
    host = f"{parsed.host or 'localhost'}:{parsed.port or 5432}"
    return f"The PostgreSQL server at {host} cannot be reached right now."


class Database:
    """One per process: owns the engine (and, for SQLite, the thread that talks to it)."""

    def __init__(self, url: str, *, pool_size: int = 10) -> None:
        self.url = url
        parsed = make_url(url)
        self.is_sqlite = parsed.get_backend_name() == "sqlite"
        self.async_engine: AsyncEngine | None = None
        self.sync_engine: Engine | None = None
        if self.is_sqlite:
            if parsed.database and parsed.database != ":memory:":
                with contextlib.suppress(OSError):
                    Path(parsed.database).expanduser().parent.mkdir(parents=True, exist_ok=True)
            self.sync_engine = create_engine(
                parsed.set(drivername="sqlite"), connect_args={"timeout": 30}
            )
            event.listen(self.sync_engine, "connect", _sqlite_pragmas)
            self._sync_sessions = sessionmaker(self.sync_engine, expire_on_commit=False)
            self._thread = ThreadPoolExecutor(1, thread_name_prefix="crossroads-sqlite")
        else:
            self.async_engine = create_async_engine(
                url, pool_size=pool_size, max_overflow=pool_size, pool_pre_ping=True
            )
            self._async_sessions = async_sessionmaker(self.async_engine, expire_on_commit=False)

    async def run(
        self, unit: Callable[Concatenate[Session, P], T], *args: P.args, **kwargs: P.kwargs
    ) -> T:
        """Run ``unit(session, ...)`` in one transaction: committed if it returns normally."""
        try:
            if self.is_sqlite:
                loop = asyncio.get_running_loop()
                return await loop.run_in_executor(
                    self._thread, lambda: self._run_sqlite(unit, *args, **kwargs)
                )
            async with self._async_sessions() as session, session.begin():
                return await session.run_sync(lambda s: unit(s, *args, **kwargs))
        except (exc.OperationalError, exc.InterfaceError, OSError) as error:
            log.warning("database unavailable: %s", error, exc_info=True)
            raise StoreUnavailable(describe_outage(self.url, error)) from error
        except exc.DatabaseError as error:
            if isinstance(error, exc.IntegrityError):
                raise
            log.warning("database error: %s", error, exc_info=True)
            raise StoreUnavailable(describe_outage(self.url, error)) from error

    def _run_sqlite(self, unit: Callable[..., T], *args: Any, **kwargs: Any) -> T:
        with self._sync_sessions() as session, session.begin():
            return unit(session, *args, **kwargs)

    async def ping(self) -> None:
        """Fail fast, with a clear message, if the database cannot be reached or read."""
        await self.run(_ping)

    async def dispose(self) -> None:
        if self.async_engine is not None:
            await self.async_engine.dispose()
        if self.sync_engine is not None:
            loop = asyncio.get_running_loop()
            await loop.run_in_executor(self._thread, self.sync_engine.dispose)
            self._thread.shutdown(wait=True)


def _ping(session: Session) -> None:
    session.execute(text("SELECT 1"))
    if session.get_bind().dialect.name == "sqlite":
        session.execute(text("SELECT count(*) FROM sqlite_master"))


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    # WAL lets readers run beside the writer; NORMAL sync is durable across app crashes
    # (it may lose the last commit only on power loss); FKs make "forget" cascade.
    cursor = dbapi_connection.cursor()
    for pragma in (
        "PRAGMA journal_mode=WAL",
        "PRAGMA synchronous=NORMAL",
        "PRAGMA foreign_keys=ON",
        "PRAGMA busy_timeout=30000",
    ):
        cursor.execute(pragma)
    cursor.close()
