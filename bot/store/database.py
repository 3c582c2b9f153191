"""The async engine, sessions, and turning driver failures into one polite error."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

from sqlalchemy import event, exc, text
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import (
    AsyncEngine,
    AsyncSession,
    async_sessionmaker,
    create_async_engine,
)

log = logging.getLogger(__name__)


class StoreUnavailable(Exception):
    """The database cannot be used right now; the message is safe to show to a person."""


def _describe(url: str, error: BaseException) -> str:
    text_ = str(error).lower()
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        where = parsed.database or "(memory)"
        if "not a database" in text_ or "malformed" in text_:
            return (
                f"The database file {where} is not a readable SQLite database (it may be "
                "corrupt). Move it aside, or point CROSSROADS_DATABASE_URL at another file."
            )
        if "unable to open" in text_ or "readonly" in text_ or isinstance(error, OSError):
            return (
                f"The database file {where} cannot be opened or written. Check that its "
                "folder exists and is writable, or set CROSSROADS_DATABASE_URL."
            )
        return f"The database file {where} cannot be used right now ({type(error).__name__})."
    host = f"{parsed.host or 'localhost'}:{parsed.port or 5432}"
    return f"The PostgreSQL server at {host} cannot be reached right now."


class Database:
    """One engine per process. SQLite writes are serialised in-process to avoid lock churn."""

    def __init__(self, url: str, *, pool_size: int = 10) -> None:
        self.url = url
        parsed = make_url(url)
        self.is_sqlite = parsed.get_backend_name() == "sqlite"
        kwargs: dict[str, Any] = {"pool_pre_ping": not self.is_sqlite}
        if self.is_sqlite:
            if parsed.database and parsed.database != ":memory:":
                with contextlib.suppress(OSError):
                    Path(parsed.database).expanduser().parent.mkdir(parents=True, exist_ok=True)
            kwargs["connect_args"] = {"timeout": 30}
        else:
            kwargs.update(pool_size=pool_size, max_overflow=pool_size)
        self.engine: AsyncEngine = create_async_engine(url, **kwargs)
        if self.is_sqlite:
            event.listen(self.engine.sync_engine, "connect", _sqlite_pragmas)
        self.sessions = async_sessionmaker(self.engine, expire_on_commit=False)
        self._write_lock = asyncio.Lock() if self.is_sqlite else None

    @contextlib.asynccontextmanager
    async def session(self) -> AsyncIterator[AsyncSession]:
        """A unit of work: commits on success, rolls back on error, translates outages."""
        lock = self._write_lock or contextlib.nullcontext()
        async with lock:
            try:
                async with self.sessions() as session, session.begin():
                    yield session
            except (exc.OperationalError, exc.InterfaceError, OSError) as error:
                log.warning("database unavailable: %s", error, exc_info=True)
                raise StoreUnavailable(_describe(self.url, error)) from error
            except exc.DatabaseError as error:
                if isinstance(error, exc.IntegrityError):
                    raise
                log.warning("database error: %s", error, exc_info=True)
                raise StoreUnavailable(_describe(self.url, error)) from error

    async def ping(self) -> None:
        """Fail fast, with a clear message, if the database cannot be reached or read."""
        async with self.session() as session:
            await session.execute(text("SELECT 1"))
            if self.is_sqlite:
                await session.execute(text("SELECT count(*) FROM sqlite_master"))

    async def dispose(self) -> None:
        await self.engine.dispose()


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
