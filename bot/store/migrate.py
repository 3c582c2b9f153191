"""Running the Alembic migrations from code (start-up and `crossroads db upgrade`).

Start-up only needs "is the schema at head?", which is one small query: alembic (and mako
under it) is imported only when there is something to migrate. The head revision is read
from the migration files' ``revision`` / ``down_revision`` lines; anything unusual (several
heads, a line the pattern does not read) falls back to alembic's own answer.
"""

from __future__ import annotations

import re
from functools import cache
from typing import TYPE_CHECKING

from sqlalchemy import inspect, text
from sqlalchemy.engine import Connection

from bot.settings import REPO_ROOT
from bot.store.database import Database

if TYPE_CHECKING:
    from alembic.config import Config

__all__ = [
    "MIGRATIONS_DIR",
    "alembic_config",
    "current_revision",
    "head_revision",
    "upgrade",
]

MIGRATIONS_DIR = REPO_ROOT / "migrations"
_REVISION = re.compile(r"^revision\s*(?::[^=]*)?=\s*['\"]([^'\"]+)['\"]", re.MULTILINE)
_DOWN = re.compile(r"^down_revision\s*(?::[^=]*)?=\s*(None|['\"]([^'\"]+)['\"])\s*$", re.MULTILINE)


def alembic_config() -> Config:
    from alembic.config import Config

    cfg = Config(str(MIGRATIONS_DIR / "alembic.ini"))
    cfg.set_main_option("script_location", str(MIGRATIONS_DIR))
    return cfg


def _upgrade(connection: Connection, cfg: Config, target: str) -> None:
    from alembic import command

    cfg.attributes["connection"] = connection
    command.upgrade(cfg, target)


def _current(connection: Connection) -> str | None:
    if not inspect(connection).has_table("alembic_version"):
        return None
    rows = connection.execute(text("SELECT version_num FROM alembic_version")).scalars().all()
    if len(rows) > 1:  # several heads stamped: let alembic describe it
        from alembic.runtime.migration import MigrationContext

        return MigrationContext.configure(connection).get_current_revision()
    return rows[0] if rows else None


async def upgrade(db: Database, target: str = "head") -> None:
    """Create or upgrade the schema; on PostgreSQL concurrent starters wait for each other."""
    if target == "head" and await current_revision(db) == head_revision():
        return  # already there: no alembic import, no lock
    cfg = alembic_config()
    await db.run_unbounded(lambda s: _upgrade(s.connection(), cfg, target))


async def current_revision(db: Database) -> str | None:
    return await db.run(lambda s: _current(s.connection()))


def head_revision() -> str | None:
    return _files_head() or _alembic_head()


@cache
def _files_head() -> str | None:
    """The single head of the migration files, or None when they cannot be read simply."""
    revisions: set[str] = set()
    parents: set[str] = set()
    for path in sorted((MIGRATIONS_DIR / "versions").glob("*.py")):
        source = path.read_text(encoding="utf-8")
        revision, down = _REVISION.search(source), _DOWN.search(source)
        if revision is None or down is None:
            return None
        revisions.add(revision.group(1))
        if down.group(2):
            parents.add(down.group(2))
    heads = revisions - parents
    return heads.pop() if len(heads) == 1 and parents <= revisions else None


def _alembic_head() -> str | None:
    from alembic.script import ScriptDirectory

    return ScriptDirectory.from_config(alembic_config()).get_current_head()
