"""Multi-workspace installs: slack_sdk's SQLAlchemy installation and OAuth state stores,
on the bot's own database.

Why these variants:

* PostgreSQL: the database already has an AsyncEngine (asyncpg), so slack_sdk's
  ``AsyncSQLAlchemyInstallationStore`` / ``AsyncSQLAlchemyOAuthStateStore`` run on it
  directly; no second driver is needed.
* SQLite: the database is used through a sync engine in one dedicated thread, so the sync
  ``SQLAlchemyInstallationStore`` / ``SQLAlchemyOAuthStateStore`` run on that engine, each
  call handed to the same thread through ``Database.run`` (outages become
  StoreUnavailable like every other unit of work).

The tables (slack_installations, slack_bots, slack_oauth_states) are created by the
Alembic migration 0002, never by ``create_tables()``. This module is the only place in
the adapter that touches SQL, and it only wires slack_sdk's stores.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any, TypeVar

from slack_sdk.oauth.installation_store import Bot, Installation
from slack_sdk.oauth.installation_store.async_installation_store import AsyncInstallationStore
from slack_sdk.oauth.installation_store.sqlalchemy import (
    AsyncSQLAlchemyInstallationStore,
    SQLAlchemyInstallationStore,
)
from slack_sdk.oauth.state_store.async_state_store import AsyncOAuthStateStore
from slack_sdk.oauth.state_store.sqlalchemy import (
    AsyncSQLAlchemyOAuthStateStore,
    SQLAlchemyOAuthStateStore,
)
from sqlalchemy import MetaData
from sqlalchemy.orm import Session

from bot.api import Database

log = logging.getLogger(__name__)
T = TypeVar("T")

INSTALLATIONS_TABLE = SQLAlchemyInstallationStore.default_installations_table_name
BOTS_TABLE = SQLAlchemyInstallationStore.default_bots_table_name
STATES_TABLE = SQLAlchemyOAuthStateStore.default_table_name
STATE_EXPIRATION_SECONDS = 600


def store_metadata() -> MetaData:
    """The tables slack_sdk's stores use, exactly as slack_sdk defines them.

    The migration 0002 creates them; the migration drift test compares against this.
    """
    metadata = MetaData()
    SQLAlchemyInstallationStore.build_installations_table(metadata, INSTALLATIONS_TABLE)
    SQLAlchemyInstallationStore.build_bots_table(metadata, BOTS_TABLE)
    SQLAlchemyOAuthStateStore.build_oauth_states_table(metadata, STATES_TABLE)
    return metadata


class _InDatabaseThread:
    """Runs a sync store's calls in the SQLite thread of ``Database`` (via Database.run)."""

    def __init__(self, db: Database) -> None:
        self._db = db

    async def _call(self, fn: Callable[[], T]) -> T:
        def unit(_session: Session) -> T:
            return fn()  # the store opens its own connection from the same sync engine

        return await self._db.run(unit)


class ThreadedInstallationStore(_InDatabaseThread, AsyncInstallationStore):
    """slack_sdk's sync SQLAlchemy installation store, used from async bolt on SQLite."""

    def __init__(self, store: SQLAlchemyInstallationStore, db: Database) -> None:
        super().__init__(db)
        self.store = store

    @property
    def logger(self) -> logging.Logger:
        return log

    async def async_save(self, installation: Installation) -> None:
        await self._call(lambda: self.store.save(installation))

    async def async_save_bot(self, bot: Bot) -> None:
        await self._call(lambda: self.store.save_bot(bot))

    async def async_find_bot(
        self,
        *,
        enterprise_id: str | None,
        team_id: str | None,
        is_enterprise_install: bool | None = False,
    ) -> Bot | None:
        return await self._call(
            lambda: self.store.find_bot(
                enterprise_id=enterprise_id,
                team_id=team_id,
                is_enterprise_install=is_enterprise_install,
            )
        )

    async def async_find_installation(
        self,
        *,
        enterprise_id: str | None,
        team_id: str | None,
        user_id: str | None = None,
        is_enterprise_install: bool | None = False,
    ) -> Installation | None:
        return await self._call(
            lambda: self.store.find_installation(
                enterprise_id=enterprise_id,
                team_id=team_id,
                user_id=user_id,
                is_enterprise_install=is_enterprise_install,
            )
        )

    async def async_delete_bot(self, *, enterprise_id: str | None, team_id: str | None) -> None:
        await self._call(
            lambda: self.store.delete_bot(enterprise_id=enterprise_id, team_id=team_id)
        )

    async def async_delete_installation(
        self, *, enterprise_id: str | None, team_id: str | None, user_id: str | None = None
    ) -> None:
        await self._call(
            lambda: self.store.delete_installation(
                enterprise_id=enterprise_id, team_id=team_id, user_id=user_id
            )
        )

    async def async_delete_all(self, *, enterprise_id: str | None, team_id: str | None) -> None:
        await self._call(
            lambda: self.store.delete_all(enterprise_id=enterprise_id, team_id=team_id)
        )


class ThreadedStateStore(_InDatabaseThread, AsyncOAuthStateStore):
    """slack_sdk's sync SQLAlchemy OAuth state store, used from async bolt on SQLite."""

    def __init__(self, store: SQLAlchemyOAuthStateStore, db: Database) -> None:
        super().__init__(db)
        self.store = store

    @property
    def logger(self) -> logging.Logger:
        return log

    async def async_issue(self, *args: Any, **kwargs: Any) -> str:
        return await self._call(lambda: self.store.issue(*args, **kwargs))

    async def async_consume(self, state: str) -> bool:
        return await self._call(lambda: self.store.consume(state))


def build_stores(
    db: Database, client_id: str
) -> tuple[AsyncInstallationStore, AsyncOAuthStateStore]:
    """The installation store and the OAuth state store for ``db`` (tables from 0002)."""
    if db.async_engine is not None:
        return (
            AsyncSQLAlchemyInstallationStore(client_id, db.async_engine, logger=log),
            AsyncSQLAlchemyOAuthStateStore(STATE_EXPIRATION_SECONDS, db.async_engine, logger=log),
        )
    assert db.sync_engine is not None
    return (
        ThreadedInstallationStore(
            SQLAlchemyInstallationStore(client_id, db.sync_engine, logger=log), db
        ),
        ThreadedStateStore(
            SQLAlchemyOAuthStateStore(STATE_EXPIRATION_SECONDS, db.sync_engine, logger=log), db
        ),
    )
