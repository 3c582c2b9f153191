"""One lane per person: their typed messages are handled one after another, in the order
they arrived, while different people are handled concurrently.

Why: two DMs typed quickly ("student", then "yes") must reach the core in that order, or
the second could be read against the first question; gateway events and Slack requests
are each handled in a task of their own, so nothing else orders them. A lane exists only
while it has work (no per-person state stays in memory), and a person flooding the bot
cannot queue without bound. Within one process only: the core's version check still
decides between processes, and between a typed answer and a click.
"""

from __future__ import annotations

import asyncio
import logging
from collections import deque
from collections.abc import Awaitable, Callable, Hashable

from adapters.waiting import until_idle

log = logging.getLogger(__name__)

Job = Callable[[], Awaitable[None]]
MAX_QUEUED = 25  # per person: more waiting messages than this are dropped (and logged)


class Lanes:
    def __init__(self, max_queued: int = MAX_QUEUED) -> None:
        self.max_queued = max_queued
        self._lanes: dict[Hashable, deque[tuple[Job, asyncio.Future[None]]]] = {}
        self._tasks: set[asyncio.Task[None]] = set()
        self.pending = 0  # jobs submitted and not finished, in every lane
        self._idle = asyncio.Event()
        self._idle.set()

    def submit(self, key: Hashable, job: Job) -> asyncio.Future[None] | None:
        """Queue ``job`` in ``key``'s lane (start the lane if idle).

        Returns a future done when the job has run (or was dropped by ``close``), or None
        when the lane was full and the job dropped. Synchronous on purpose: the order of
        ``submit`` calls is the order of handling.
        """
        lane = self._lanes.get(key)
        if lane is not None and len(lane) >= self.max_queued:
            log.warning("dropped a message: %d already waiting for one person", len(lane))
            return None
        done: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self.pending += 1
        self._idle.clear()
        if lane is not None:
            lane.append((job, done))
            return done
        self._lanes[key] = deque([(job, done)])
        task = asyncio.ensure_future(self._run(key))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)
        return done

    async def _run(self, key: Hashable) -> None:
        lane = self._lanes[key]
        try:
            while lane:
                job, done = lane[0]
                try:
                    await job()
                except Exception:
                    log.exception("a queued message failed")
                finally:
                    lane.popleft()
                    self.pending -= 1
                    if not done.done():
                        done.set_result(None)
        finally:
            for _job, done in lane:  # cancelled: what was still waiting is dropped
                done.cancel()
            self.pending -= len(lane)
            del self._lanes[key]
            if self.pending <= 0:
                self.pending = 0
                self._idle.set()

    def busy(self, key: Hashable) -> bool:
        return key in self._lanes

    async def drain(self, timeout: float) -> bool:  # noqa: ASYNC109 - a shutdown deadline
        """Wait until every lane is empty; False if work remained after ``timeout`` s."""
        return await until_idle(self._idle, timeout)

    async def close(self) -> None:
        """Cancel every lane (what was queued is dropped) and wait for them to end."""
        tasks = list(self._tasks)
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
