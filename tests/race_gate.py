"""Holding two answers to one question until both arrived, then letting them through in a
chosen order: a typed answer and a click "at once", made deterministic.

Why: which of two concurrent turns reaches the store first is up to the scheduler; the
race tests must cover both orders, each on purpose. The gate wraps the engine's database
(``engine.db = Turnstile(...)``) and holds only the units where the version check decides:
the consultation's answer unit (a click) and the conversation's typed-line unit, which
reads the line's question and answers it in one transaction. For a typed line the gate
first reads the consultation the person sees (as they see it when they type), then holds
the line: a click let through meanwhile moves the consultation on, so the line arrives
for a question already answered, as it does when another process's click lands between
the line's read and its write.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any

from bot import events as ev
from bot.store import repository
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
        return await self._gated(self.db.run, unit, *args, **kwargs)

    async def run_core(self, unit: Any, *args: Any, **kwargs: Any) -> Any:
        return await self._gated(self.db.run_core, unit, *args, **kwargs)

    async def _gated(self, run: Any, unit: Any, *args: Any, **kwargs: Any) -> Any:
        held = getattr(unit, "__name__", "")
        if held not in ("_answer_unit", "_typed_unit") or self.turn >= len(self.order):
            return await run(unit, *args, **kwargs)
        if held == "_typed_unit":  # (user, text, low, now): the line as the answer it is
            user, text = args[0], args[1]
            state = await self.db.run(lambda s: repository.current_state(s, user))
            if state is not None:
                kwargs["seen"] = (state.id, state.version)
            name = self.key(ev.Answer(user=user, value=text))
        else:
            name = self.key(args[0])
        async with self.changed:
            self.arrived.add(name)
            self.changed.notify_all()
            await self.changed.wait_for(
                lambda: len(self.arrived) == len(self.order) and self.order[self.turn] == name
            )
        try:
            return await run(unit, *args, **kwargs)
        finally:
            async with self.changed:
                self.turn += 1
                self.changed.notify_all()
