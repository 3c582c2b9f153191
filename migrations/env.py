"""Alembic environment: async-aware, shared by the CLI and the bot's start-up upgrade."""

from __future__ import annotations

import asyncio

from alembic import context
from sqlalchemy import text
from sqlalchemy.engine import Connection

from bot.settings import load_settings
from bot.store.database import Database
from bot.store.models import Base

config = context.config
target_metadata = Base.metadata
ADVISORY_LOCK_ID = 0x43524F5353  # "CROSS": one migrator at a time on a shared PostgreSQL


def _include_name(name: str | None, type_: str, parent_names: object) -> bool:
    """Autogenerate leaves slack_sdk's store tables alone (0002 made them; not in the ORM)."""
    return not (type_ == "table" and (name or "").startswith("slack_"))


def _run(connection: Connection) -> None:
    if connection.dialect.name == "postgresql":
        connection.execute(text(f"SELECT pg_advisory_xact_lock({ADVISORY_LOCK_ID})"))
    context.configure(
        connection=connection,
        target_metadata=target_metadata,
        render_as_batch=connection.dialect.name == "sqlite",
        compare_type=True,
        include_name=_include_name,
    )
    with context.begin_transaction():
        context.run_migrations()


async def _run_standalone(url: str) -> None:
    db = Database(url)
    try:
        await db.run(lambda session: _run(session.connection()))
    finally:
        await db.dispose()


if context.is_offline_mode():
    context.configure(
        url=load_settings().resolved_database_url,
        target_metadata=target_metadata,
        literal_binds=True,
    )
    with context.begin_transaction():
        context.run_migrations()
elif (conn := config.attributes.get("connection")) is not None:
    _run(conn)
else:
    asyncio.run(_run_standalone(load_settings().resolved_database_url))
