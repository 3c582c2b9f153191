"""The migrations, and only the migrations, build the schema the ORM expects."""

from __future__ import annotations

from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import inspect

from adapters.slack.oauth import store_metadata
from bot.store.database import Database
from bot.store.migrate import alembic_config, current_revision, head_revision, upgrade
from bot.store.models import Base

# The ORM's tables plus the ones slack_sdk's installation/state stores use (migration 0002).
SCHEMA = [Base.metadata, store_metadata()]


def _diff(connection):  # type: ignore[no-untyped-def]
    context = MigrationContext.configure(connection, opts={"compare_type": True})
    return compare_metadata(context, SCHEMA)  # type: ignore[arg-type]


async def test_upgrade_matches_models_without_drift(db_url: str) -> None:
    db = Database(db_url)
    await upgrade(db)
    diff = await db.run(lambda s: _diff(s.connection()))
    tables = await db.run(lambda s: set(inspect(s.connection()).get_table_names()))
    assert diff == [], diff
    assert {name for metadata in SCHEMA for name in metadata.tables} <= tables
    assert await current_revision(db) == head_revision()
    await upgrade(db)  # a second upgrade is a no-op
    await db.dispose()


async def test_downgrade_to_base_and_up_again(db_url: str) -> None:
    db = Database(db_url)
    await upgrade(db)

    def down(connection):  # type: ignore[no-untyped-def]
        cfg = alembic_config()
        cfg.attributes["connection"] = connection
        command.downgrade(cfg, "base")

    await db.run(lambda s: down(s.connection()))
    left = await db.run(lambda s: set(inspect(s.connection()).get_table_names()))
    assert left <= {"alembic_version"}
    await upgrade(db)
    assert await current_revision(db) == head_revision()
    await db.dispose()


def test_start_up_head_check_agrees_with_alembic() -> None:
    """Start-up reads the head from the files without alembic; it must be alembic's head."""
    from alembic.script import ScriptDirectory

    from bot.store.migrate import _files_head

    assert _files_head() is not None
    assert _files_head() == ScriptDirectory.from_config(alembic_config()).get_current_head()


async def test_current_revision_matches_alembic(db_url: str) -> None:
    db = Database(db_url)
    assert await current_revision(db) is None  # empty database: nothing stamped
    await upgrade(db)

    def alembic_current(connection):  # type: ignore[no-untyped-def]
        return MigrationContext.configure(connection).get_current_revision()

    assert await current_revision(db) == await db.run(lambda s: alembic_current(s.connection()))
    await db.dispose()
