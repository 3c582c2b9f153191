"""Features register the events they handle; the dispatcher routes each event to one.

In the spirit of python-telegram-bot's ``add_handler``: a feature declares its event
types once, so adding a feature (mentors, typed conversation) adds a registration, not a
branch in a central ``match``.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import datetime
from typing import Any

from bot.core.result import Result

Handler = Callable[[Any, datetime], Awaitable[Result]]


class Dispatcher:
    def __init__(self) -> None:
        self._handlers: dict[type, Handler] = {}

    def register(self, handler: Handler, *event_types: type) -> None:
        for kind in event_types:
            if kind in self._handlers:
                raise ValueError(f"{kind.__name__} already has a handler")
            self._handlers[kind] = handler

    def handles(self, event: object) -> bool:
        return type(event) in self._handlers

    async def dispatch(self, event: object, now: datetime) -> Result:
        handler = self._handlers.get(type(event))
        if handler is None:
            raise TypeError(f"no feature handles {type(event).__name__}")
        return await handler(event, now)
