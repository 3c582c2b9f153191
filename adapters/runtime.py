"""Start-up shared by every front end: settings, logging, database, playbooks, engine.

Each failure here is something a person can fix, so it becomes one clear sentence
(StartupError) instead of a traceback; the log keeps the details.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

from bot.checkins.scheduler import CheckInService
from bot.engine import Engine
from bot.logging_setup import configure_logging
from bot.playbook.loader import PlaybookError, PlaybookRegistry
from bot.settings import Settings, SettingsError, load_settings
from bot.store.database import Database, StoreUnavailable
from bot.store.migrate import current_revision, head_revision, upgrade

log = logging.getLogger(__name__)


class StartupError(Exception):
    """Start-up cannot continue; the message says why and what to do."""


class _NoTraceback(logging.Formatter):
    """For the stderr fallback: a person reads it, so one line per record, no traceback."""

    def formatException(self, ei: object) -> str:
        return ""

    def formatStack(self, stack_info: str) -> str:
        return ""


@dataclass
class Runtime:
    settings: Settings
    db: Database
    engine: Engine
    # Check-in delivery for this process: adapters register their CheckInSender on it;
    # serve() starts and stops it (docs/checkins.md).
    checkins: CheckInService | None = None

    async def close(self) -> None:
        if self.checkins is not None:
            await self.checkins.stop()
        await self.db.dispose()


def settings_or_exit(**overrides: object) -> Settings:
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
        registry = PlaybookRegistry.from_directory(settings.playbooks_dir)
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
    return Runtime(settings, db, engine, CheckInService(engine))
