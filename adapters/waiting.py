"""Waiting for in-flight work at shutdown, the one way every front end does it."""

from __future__ import annotations

import asyncio


async def until_idle(idle: asyncio.Event, timeout: float) -> bool:  # noqa: ASYNC109 - a deadline
    """Wait until ``idle`` is set; False if it still was not after ``timeout`` seconds."""
    try:
        async with asyncio.timeout(timeout):
            await idle.wait()
    except TimeoutError:
        return False
    return True
