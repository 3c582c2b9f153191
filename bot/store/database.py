"""Running units of work against the database, and turning outages into one polite error.

A unit of work is a plain function taking a SQLAlchemy ``Session``; ``Database.run``
executes it in one transaction and returns its result:

* PostgreSQL: on the event loop via ``AsyncSession.run_sync`` (asyncpg underneath), so many
  units run concurrently on a connection pool;
* SQLite: with the standard ``sqlite3`` driver, inline on the event loop when the database
  is free (a turn is well under a millisecond of work: cheaper than any thread hop or
  async driver, see bench/RESULTS.md), and in a dedicated thread when another process
  holds the write lock, so waiting for the lock never blocks the loop.

PostgreSQL failures a person must never wait on:

* a silent network partition (no RST): once a unit holds its connection it has a deadline
  (``timeout``, the setting ``db_timeout_seconds``); past it the caller gets
  ``StoreUnavailable`` at once while the abandoned unit is cancelled in the background (its
  transaction never commits: the connection is terminated, the server rolls it back).
  Opening a connection has the same timeout, and so has waiting for one from the pool; the
  wait for the pool does not cancel anything, so a busy process sheds load instead of
  killing its own healthy connections;
* a pooled connection the server killed (restart, ``pg_terminate_backend``): the unit is
  retried once on a fresh connection (with a deadline of its own). Units are safe to repeat:
  an answer is version-checked and a start is unique per person, so a unit that did commit
  before its connection died reads as "already done" the second time.
"""

from __future__ import annotations

import asyncio
import contextlib
import contextvars
import logging
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any, Concatenate, ParamSpec, TypeVar

from sqlalchemy import create_engine, event, exc, text
from sqlalchemy.engine import Connection, Engine, make_url
from sqlalchemy.ext.asyncio import (
    AsyncConnection,
    AsyncEngine,
    async_sessionmaker,
    create_async_engine,
)
from sqlalchemy.orm import Session, sessionmaker

__all__ = [
    "BadInput",
    "Database",
    "StoreUnavailable",
    "describe_outage",
    "session_on",
]

log = logging.getLogger(__name__)
# Set by run_unbounded for the task that runs a migration (not for the turns beside it).
_UNBOUNDED: contextvars.ContextVar[bool] = contextvars.ContextVar("unbounded", default=False)
P = ParamSpec("P")
T = TypeVar("T")


class StoreUnavailable(Exception):
    """The database cannot be used right now; the message is safe to show to a person."""


class BadInput(Exception):
    """The database refused a value as data (out of range, NUL, not UTF-8, too long).

    Not an outage: retrying cannot help. The engine checks events first (bot.validation),
    so this is the backstop for whatever slips past that check.
    """


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


# Seconds a unit may hold its connection before the server counts as not answering, unless
# the caller says otherwise (settings.db_timeout_seconds). The test suite raises it: a busy
# test machine is not a silent server.
DEFAULT_TIMEOUT = 5.0


class Database:
    """One per process: owns the engine (and, for SQLite, the thread that talks to it)."""

    def __init__(
        self,
        url: str,
        *,
        pool_size: int = 10,
        sqlite_inline: bool = True,
        timeout: float | None = None,
    ) -> None:
        self.url = url
        self.timeout = DEFAULT_TIMEOUT if timeout is None else timeout
        self._abandoned: set[asyncio.Task[Any]] = set()
        parsed = make_url(url)
        self.is_sqlite = parsed.get_backend_name() == "sqlite"
        self.async_engine: AsyncEngine | None = None
        self.sync_engine: Engine | None = None
        if self.is_sqlite:
            if parsed.database and parsed.database != ":memory:":
                with contextlib.suppress(OSError):
                    Path(parsed.database).expanduser().parent.mkdir(parents=True, exist_ok=True)
            sqlite_url = parsed.set(drivername="sqlite")
            # Inline: never wait for a lock (busy_timeout 0) — on "locked", retry in the thread.
            # hide_parameters: a statement logged (sqlalchemy.engine at INFO or DEBUG) or in an
            # error never carries a person's answers or story.
            self.sync_engine = create_engine(
                sqlite_url, connect_args={"timeout": 0}, hide_parameters=True
            )
            event.listen(self.sync_engine, "connect", _sqlite_pragmas(busy_ms=0))
            self._waiting_engine = create_engine(
                sqlite_url, connect_args={"timeout": 30}, hide_parameters=True
            )
            event.listen(self._waiting_engine, "connect", _sqlite_pragmas(busy_ms=30_000))
            self._inline_engine = self.sync_engine
            # Inline core units run one at a time on the event loop (a unit never awaits):
            # they share one connection rather than check one out of the pool each turn.
            self._inline_conn: Connection | None = None
            self._inline_sessions = sessionmaker(self.sync_engine, expire_on_commit=False)
            self._waiting_sessions = sessionmaker(self._waiting_engine, expire_on_commit=False)
            self._thread = ThreadPoolExecutor(1, thread_name_prefix="crossroads-sqlite")
            self.sqlite_inline = sqlite_inline
        else:
            # No pre-ping: it costs a round trip on every turn. A connection that died with
            # a server restart fails its first statement; run() retries the unit once on a
            # fresh connection, and SQLAlchemy drops the rest of the stale pool.
            # connect timeout: a partitioned server never answers the TCP handshake's
            # follow-up. No command_timeout: a migration's statement may rightly run long;
            # run() puts the deadline on each turn's whole unit instead.
            self.async_engine = create_async_engine(
                url,
                pool_size=pool_size,
                max_overflow=pool_size,
                pool_recycle=1800,
                pool_timeout=timeout,
                hide_parameters=True,
            )
            # The connect timeout follows self.timeout (read at each new connection).
            event.listen(self.async_engine.sync_engine, "do_connect", self._connect_timeout)
            self._async_sessions = async_sessionmaker(self.async_engine, expire_on_commit=False)

    def _inline_core(
        self, unit: Callable[..., T], args: tuple[Any, ...], kwargs: dict[str, Any]
    ) -> T:
        conn = self._inline_conn
        if conn is None or conn.closed or conn.invalidated:
            conn = self._inline_conn = self._inline_engine.connect()
        with conn.begin():
            return unit(conn, *args, **kwargs)

    def _connect_timeout(self, _dialect: Any, _record: Any, _args: Any, cparams: Any) -> None:
        cparams["timeout"] = self.timeout

    async def run(
        self, unit: Callable[Concatenate[Session, P], T], *args: P.args, **kwargs: P.kwargs
    ) -> T:
        """Run ``unit(session, ...)`` in one transaction: committed if it returns normally."""
        if isinstance(unit, _OnConnection):
            return await self._run(True, unit.unit, *args, **kwargs)
        return await self._run(False, unit, *args, **kwargs)

    async def run_core(
        self, unit: Callable[Concatenate[Connection, P], T], *args: P.args, **kwargs: P.kwargs
    ) -> T:
        """``run`` for a unit on a plain Core ``Connection`` (no ORM Session): the answer
        turn's hot path (bot/store/turns.py). Same transaction, deadline, retry and error
        mapping as ``run`` (through ``run``, so whatever wraps ``run`` wraps this too); a
        branch that needs the ORM opens ``session_on(conn)``."""
        return await self.run(_OnConnection(unit), *args, **kwargs)  # type: ignore[arg-type]

    async def _run(self, core: bool, unit: Callable[..., T], *args: Any, **kwargs: Any) -> T:
        try:
            if self.is_sqlite:
                if self.sqlite_inline:
                    try:
                        if core:
                            return self._inline_core(unit, args, kwargs)
                        return _in_transaction(self._inline_sessions, unit, *args, **kwargs)
                    except exc.OperationalError as error:
                        if not _is_locked(error):
                            raise
                        log.debug("sqlite busy; waiting for the lock off the event loop")
                loop = asyncio.get_running_loop()
                if core:
                    waiting = self._waiting_engine
                    return await loop.run_in_executor(
                        self._thread, lambda: _on_connection(waiting, unit, args, kwargs)
                    )
                return await loop.run_in_executor(
                    self._thread,
                    lambda: _in_transaction(self._waiting_sessions, unit, *args, **kwargs),
                )
            return await self._run_postgres(core, unit, *args, **kwargs)
        except TimeoutError as error:
            log.warning("database did not answer within %.1f s", self.timeout)
            raise StoreUnavailable(describe_outage(self.url, error)) from error
        except exc.TimeoutError as error:  # no pooled connection came free in time
            log.warning("no database connection free within %.1f s", self.timeout)
            raise StoreUnavailable(describe_outage(self.url, error)) from error
        except (OverflowError, UnicodeError) as error:  # sqlite3 could not bind a value
            log.warning("database refused a value: %s", type(error).__name__)
            raise BadInput(type(error).__name__) from error
        except exc.DBAPIError as error:
            if _is_bad_data(error):
                log.warning("database refused a value: %s", type(error.orig).__name__)
                raise BadInput(type(error.orig).__name__) from error
            if isinstance(error, exc.IntegrityError):
                raise
            log.warning("database unavailable: %s", error, exc_info=True)
            raise StoreUnavailable(describe_outage(self.url, error)) from error
        except OSError as error:
            log.warning("database unavailable: %s", error, exc_info=True)
            raise StoreUnavailable(describe_outage(self.url, error)) from error

    async def scrub(self) -> None:
        """After deleting a person: leave no copy of their rows in the database files.

        SQLite: ``secure_delete`` (set on every connection) already overwrote the freed
        cells with zeros, but in WAL mode the pages that held them live on in the -wal
        file until a checkpoint; a TRUNCATE checkpoint copies the zeroed pages into the
        database and empties the WAL. PostgreSQL keeps dead row versions until VACUUM
        reclaims them (autovacuum, or VACUUM of the tables); README "Privacy" says so.
        """
        if not self.is_sqlite:
            return
        loop = asyncio.get_running_loop()
        try:
            busy = await loop.run_in_executor(self._thread, self._checkpoint)
        except exc.DBAPIError as error:
            log.warning("could not checkpoint the SQLite WAL after a deletion: %s", error)
            return
        if busy:
            log.warning("SQLite WAL checkpoint after a deletion was blocked by a reader")

    def _checkpoint(self) -> bool:
        with self._waiting_engine.connect() as conn:
            row = conn.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)").first()
        return bool(row and row[0])

    async def run_unbounded(
        self, unit: Callable[Concatenate[Session, P], T], *args: P.args, **kwargs: P.kwargs
    ) -> T:
        """``run`` without the deadline or the retry: for a schema migration, which may
        rightly take minutes and must not be repeated half-way."""
        token = _UNBOUNDED.set(True)
        try:
            if self.is_sqlite:
                return await self.run(_without_turn_objects, unit, *args, **kwargs)
            return await self.run(unit, *args, **kwargs)
        finally:
            _UNBOUNDED.reset(token)

    async def _run_postgres(
        self, core: bool, unit: Callable[..., T], *args: Any, **kwargs: Any
    ) -> T:
        if _UNBOUNDED.get():
            return await self._unit_postgres(unit, args, kwargs)
        assert self.async_engine is not None
        for attempt in (1, 2):
            # Waiting for a pooled connection is bounded by pool_timeout, opening one by the
            # connect timeout; neither kills a connection. The deadline below starts once
            # the unit holds its connection: past it the server is not answering (queueing
            # in this process under load never cancels a healthy connection's work).
            conn = await self.async_engine.connect()
            task = asyncio.ensure_future(self._unit_on(conn, core, unit, args, kwargs))
            try:
                done, _ = await asyncio.wait((task,), timeout=self.timeout)
            except asyncio.CancelledError:
                task.cancel()
                raise
            if not done:
                # Do not wait for the cancellation: closing a connection to a server that
                # does not answer takes its own timeout. The task finishes in the background.
                task.cancel()
                self._abandoned.add(task)
                task.add_done_callback(self._forget_abandoned)
                raise TimeoutError
            try:
                return task.result()
            except exc.DBAPIError as error:
                if attempt == 2 or not error.connection_invalidated:
                    raise
                log.info("a pooled database connection was dead; retrying on a fresh one")
        raise AssertionError("unreachable")

    async def _unit_on(
        self,
        conn: AsyncConnection,
        core: bool,
        unit: Callable[..., T],
        args: tuple[Any, ...],
        kwargs: dict[str, Any],
    ) -> T:
        try:
            if core:
                async with conn.begin():
                    return await conn.run_sync(lambda c: unit(c, *args, **kwargs))
            async with self._async_sessions(bind=conn) as session, session.begin():
                return await session.run_sync(lambda s: unit(s, *args, **kwargs))
        finally:
            await conn.close()

    async def _unit_postgres(
        self, unit: Callable[..., T], args: tuple[Any, ...], kwargs: dict[str, Any]
    ) -> T:
        async with self._async_sessions() as session, session.begin():
            return await session.run_sync(lambda s: unit(s, *args, **kwargs))

    def _forget_abandoned(self, task: asyncio.Task[Any]) -> None:
        self._abandoned.discard(task)
        if not task.cancelled() and task.exception() is not None:
            log.debug("an abandoned unit of work ended with %r", task.exception())

    async def ping(self) -> None:
        """Fail fast, with a clear message, if the database cannot be reached or read."""
        await self.run(_ping)

    async def dispose(self) -> None:
        if self.async_engine is not None:
            if self._abandoned:  # each ends within the driver's close timeout
                await asyncio.wait(tuple(self._abandoned), timeout=self.timeout)
            await self.async_engine.dispose()
        if self.sync_engine is not None:
            if self._inline_conn is not None:
                self._inline_conn.close()
                self._inline_conn = None
            self.sync_engine.dispose()
            loop = asyncio.get_running_loop()
            await loop.run_in_executor(self._thread, self._waiting_engine.dispose)
            self._thread.shutdown(wait=True)


def _ping(session: Session) -> None:
    session.execute(text("SELECT 1"))
    if session.get_bind().dialect.name == "sqlite":
        session.execute(text("SELECT count(*) FROM sqlite_master"))


def _in_transaction(
    sessions: sessionmaker[Session], unit: Callable[..., T], *args: Any, **kwargs: Any
) -> T:
    with sessions() as session, session.begin():
        return unit(session, *args, **kwargs)


class _OnConnection:
    """A ``run_core`` unit on its way through ``run`` (named as the unit it carries)."""

    __slots__ = ("__name__", "unit")

    def __init__(self, unit: Callable[..., Any]) -> None:
        self.unit = unit
        self.__name__ = getattr(unit, "__name__", "unit")

    def __call__(self, conn: Connection, *args: Any, **kwargs: Any) -> Any:
        return self.unit(conn, *args, **kwargs)


def _on_connection(
    engine: Engine, unit: Callable[..., T], args: tuple[Any, ...], kwargs: dict[str, Any]
) -> T:
    with engine.connect() as conn, conn.begin():
        return unit(conn, *args, **kwargs)


@contextlib.contextmanager
def session_on(conn: Connection) -> Iterator[Session]:
    """An ORM Session inside a ``run_core`` unit's transaction (it never commits it: the
    unit does); what it added is flushed into that transaction."""
    with Session(bind=conn, expire_on_commit=False) as session:
        yield session
        session.flush()


def _without_turn_objects(session: Session, unit: Callable[..., T], *args: Any, **kwargs: Any) -> T:
    from bot.store.turns import drop_turn_objects

    fairy = session.connection().connection
    drop_turn_objects(fairy.dbapi_connection, fairy.info)
    return unit(session, *args, **kwargs)


def _is_bad_data(error: exc.DBAPIError) -> bool:
    """A value the database refuses as data: SQLSTATE class 22 ("data exception": out of
    range, NUL in text, string too long), or asyncpg refusing to encode an argument."""
    orig = error.orig
    if isinstance(error, exc.DataError) or isinstance(orig, OverflowError | UnicodeError):
        return True
    sqlstate = str(getattr(orig, "sqlstate", None) or "")
    cause = getattr(orig, "__cause__", None)
    names = {cls.__name__ for cls in type(cause).__mro__} if cause is not None else set()
    return sqlstate.startswith("22") or "DataError" in names


def _is_locked(error: exc.OperationalError) -> bool:
    text_ = str(error.orig).lower()
    return "locked" in text_ or "busy" in text_


def _sqlite_pragmas(*, busy_ms: int) -> Callable[[Any, Any], None]:
    # WAL lets readers run beside the writer; NORMAL sync is durable across app crashes
    # (it may lose the last commit only on power loss); FKs make "forget" cascade.
    pragmas = (
        "PRAGMA journal_mode=WAL",
        "PRAGMA synchronous=NORMAL",
        "PRAGMA foreign_keys=ON",
        # Deleted rows are overwritten with zeros, not just unlinked (forget means gone).
        "PRAGMA secure_delete=ON",
        f"PRAGMA busy_timeout={busy_ms}",
    )

    def on_connect(dbapi_connection: Any, _record: Any) -> None:
        cursor = dbapi_connection.cursor()
        for pragma in pragmas:
            cursor.execute(pragma)
        cursor.close()

    return on_connect
