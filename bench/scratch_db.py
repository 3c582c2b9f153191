"""A throw-away database for a benchmark run: a SQLite file, or a scratch PostgreSQL database.

PostgreSQL: a database is created on CROSSROADS_BENCH_PG_URL's server (default the local
one) and dropped afterwards, so runs never see each other's rows.
"""

from __future__ import annotations

import os
import tempfile
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from sqlalchemy.ext.asyncio import create_async_engine

PG_ADMIN = os.environ.get(
    "CROSSROADS_BENCH_PG_URL", "postgresql+asyncpg://postgres@127.0.0.1:5432/test"
)


@asynccontextmanager
async def scratch_database(kind: str) -> AsyncIterator[tuple[str, str]]:
    """Yield (database URL, a temporary folder) for ``kind`` "sqlite" or "postgresql"."""
    with tempfile.TemporaryDirectory() as tmp:
        if kind == "sqlite":
            yield f"sqlite:///{tmp}/bench.db", tmp
            return
        name = f"crossroads_bench_{uuid.uuid4().hex[:8]}"
        admin = create_async_engine(PG_ADMIN, isolation_level="AUTOCOMMIT")
        async with admin.connect() as conn:
            await conn.exec_driver_sql(f'CREATE DATABASE "{name}"')
        try:
            yield PG_ADMIN.rsplit("/", 1)[0] + f"/{name}", tmp
        finally:
            async with admin.connect() as conn:
                await conn.exec_driver_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
            await admin.dispose()
