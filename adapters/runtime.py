"""Start-up shared by every front end: settings, logging, database, playbooks, engine.

Each failure here is something a person can fix, so it becomes one clear sentence
(StartupError) instead of a traceback; the log keeps the details.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import logging
import sys
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any, ParamSpec, TypeVar

from adapters.waiting import until_idle
from bot.api import (
    CheckInService,
    Database,
    Engine,
    MentorService,
    PlaybookError,
    PlaybookRegistry,
    Settings,
    SettingsError,
    StoreUnavailable,
    configure_logging,
    current_revision,
    head_revision,
    load_settings,
    unknown_variables,
    upgrade,
)

log = logging.getLogger(__name__)
P = ParamSpec("P")
T = TypeVar("T")


class StartupError(Exception):
    """Start-up cannot continue; the message says why and what to do."""


class _NoTraceback(logging.Formatter):
    """For the stderr fallback: a person reads it, so one line per record, no traceback."""

    def formatException(self, ei: object) -> str:
        return ""

    def formatStack(self, stack_info: str) -> str:
        return ""


class Turns:
    """Counts the core turns in flight, so a stopping process can let them finish."""

    def __init__(self) -> None:
        self.running = 0
        self._idle = asyncio.Event()
        self._idle.set()

    def track(self, fn: Callable[P, Awaitable[T]]) -> Callable[P, Awaitable[T]]:
        @functools.wraps(fn)
        async def tracked(*args: P.args, **kwargs: P.kwargs) -> T:
            self.running += 1
            self._idle.clear()
            try:
                return await fn(*args, **kwargs)
            finally:
                self.running -= 1
                if self.running == 0:
                    self._idle.set()

        return tracked

    @contextlib.asynccontextmanager
    async def busy(self) -> AsyncIterator[None]:
        """Count the block as one piece of work in flight."""
        self.running += 1
        self._idle.clear()
        try:
            yield
        finally:
            self.running -= 1
            if self.running == 0:
                self._idle.set()

    async def drain(self, timeout: float) -> bool:  # noqa: ASYNC109 - a shutdown deadline
        """Wait until no turn runs; False if some still did after ``timeout`` seconds."""
        return await until_idle(self._idle, timeout)


@dataclass
class Runtime:
    settings: Settings
    db: Database
    engine: Engine
    # Check-in delivery for this process: adapters register their CheckInSender on it;
    # serve() starts and stops it (docs/checkins.md).
    checkins: CheckInService | None = None
    # The mentor hand-off's board work for this process: adapters register their
    # MentorBoard on it; serve() starts and stops it (docs/mentors.md).
    mentors: MentorService | None = None
    turns: Turns = field(default_factory=Turns)
    # Called first when the process is told to stop: each adapter stops taking new work
    # (closes its gateway / socket / server) but keeps what in-flight turns need to reply.
    stop_intake: list[Callable[[], Awaitable[None]]] = field(default_factory=list)

    def __post_init__(self) -> None:
        # Every turn goes through engine.run (handle and act call it; adapters call all
        # three): counting there covers every front end.
        run: Any = self.engine.run
        if not hasattr(run, "__wrapped__"):
            self.engine.run = self.turns.track(run)  # type: ignore[method-assign]

    async def close(self) -> None:
        if self.checkins is not None:
            await self.checkins.stop()
        if self.mentors is not None:
            await self.mentors.stop()
        await self.db.dispose()


def settings_or_exit(**overrides: object) -> Settings:
    """The settings, or a StartupError; unknown CROSSROADS_* variables are warned about."""
    for sentence in unknown_variables():
        sys.stderr.write(f"crossroads: warning: {sentence}\n")
    try:
        return load_settings(**overrides)
    except SettingsError as exc:
        raise StartupError(str(exc)) from None


async def open_runtime(settings: Settings, *, log_to_stderr: bool = False) -> Runtime:
    used = configure_logging(
        settings.log_level, settings.resolved_log_file, to_stderr=log_to_stderr
    )
    if used is None:  # the log file cannot be written: records go to stderr instead
        for handler in logging.getLogger().handlers:
            handler.setFormatter(_NoTraceback("%(levelname)s %(name)s: %(message)s"))
    try:
        # Cached per file in the data directory: a restart with the same playbooks skips
        # the YAML parse and the cross-reference checks (bot/playbook/loader.py).
        registry = PlaybookRegistry.from_directory(
            settings.playbooks_dir, cache_dir=settings.resolved_data_dir / "cache" / "playbooks"
        )
    except PlaybookError as exc:
        raise StartupError(f"refusing to start: a playbook is invalid:\n{exc}") from None
    if registry.get(settings.default_playbook) is None:
        raise StartupError(
            f"default_playbook (CROSSROADS_DEFAULT_PLAYBOOK): no playbook "
            f"{settings.default_playbook!r} in {settings.playbooks_dir}; "
            f"available: {', '.join(registry.ids())}"
        )
    db = Database(settings.resolved_database_url, timeout=settings.db_timeout_seconds)
    try:
        await db.ping()
        if settings.auto_migrate:
            await upgrade(db)
        elif await current_revision(db) != head_revision():
            raise StartupError(
                "the database schema is not up to date; run `crossroads db upgrade` "
                "(or leave CROSSROADS_AUTO_MIGRATE on)"
            )
        engine = Engine(db, registry, settings)
        await engine.prepare()
    except StoreUnavailable as exc:
        await db.dispose()
        raise StartupError(str(exc)) from None
    except StartupError:
        await db.dispose()
        raise
    log.info(
        "crossroads ready: %d playbooks, database %s",
        len(registry.ids()),
        "sqlite" if db.is_sqlite else "postgresql",
    )
    return Runtime(settings, db, engine, CheckInService(engine), MentorService(engine))
