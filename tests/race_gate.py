"""Holding two answers to one question until both arrived, then letting them through in a
chosen order: a typed answer and a click "at once", made deterministic.

Why: which of two concurrent turns reaches the store first is up to the scheduler; the
race tests must cover both orders, each on purpose. The gate wraps the engine's database
(``engine.db = Turnstile(...)``) and holds only the consultation's answer unit, the step
where the version check decides; everything else passes straight through.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any

from bot import events as ev
from bot.store.database import Database


class Turnstile:
    """The database, except that the two answers to one question are held until both
    arrived, then let through one at a time in ``order`` (``key`` names each)."""

    def __init__(self, db: Database, order: list[str], key: Callable[[ev.Answer], str]) -> None:
        self.db = db
        self.order = order
        self.key = key
        self.arrived: set[str] = set()
        self.turn = 0
        self.changed = asyncio.Condition()

    def __getattr__(self, name: str) -> Any:
        return getattr(self.db, name)

    async def run(self, unit: Any, *args: Any, **kwargs: Any) -> Any:
        if getattr(unit, "__name__", "") != "_answer_unit" or self.turn >= len(self.order):
            return await self.db.run(unit, *args, **kwargs)
        name = self.key(args[0])
        async with self.changed:
            self.arrived.add(name)
            self.changed.notify_all()
            await self.changed.wait_for(
                lambda: len(self.arrived) == len(self.order) and self.order[self.turn] == name
            )
        try:
            return await self.db.run(unit, *args, **kwargs)
        finally:
            async with self.changed:
                self.turn += 1
                self.changed.notify_all()
