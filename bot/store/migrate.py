"""Running the Alembic migrations from code (start-up and `crossroads db upgrade`)."""

from __future__ import annotations

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy.engine import Connection

from bot.settings import REPO_ROOT
from bot.store.database import Database

MIGRATIONS_DIR = REPO_ROOT / "migrations"


def alembic_config() -> Config:
    cfg = Config(str(MIGRATIONS_DIR / "alembic.ini"))
    cfg.set_main_option("script_location", str(MIGRATIONS_DIR))
    return cfg


def _upgrade(connection: Connection, cfg: Config, target: str) -> None:
    cfg.attributes["connection"] = connection
    command.upgrade(cfg, target)


def _current(connection: Connection) -> str | None:
    return MigrationContext.configure(connection).get_current_revision()


async def upgrade(db: Database, target: str = "head") -> None:
    """Create or upgrade the schema; on PostgreSQL concurrent starters wait for each other."""
    cfg = alembic_config()
    await db.run(lambda s: _upgrade(s.connection(), cfg, target))


async def current_revision(db: Database) -> str | None:
    return await db.run(lambda s: _current(s.connection()))


def head_revision() -> str | None:
    return ScriptDirectory.from_config(alembic_config()).get_current_head()
