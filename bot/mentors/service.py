"""What a running bot owns for the mentor hand-off: one worker, its scheduler, its boards.

The scheduler is the check-ins' (``CheckInScheduler``: APScheduler in memory, a poll and a
one-shot wake), driving a MentorWorker instead of a DeliveryWorker: nothing about a job
lives in APScheduler, so any process may do any job and a restart loses none. Adapters
call ``register(board)`` once they can post; a process does only the jobs of the platforms
it has a board for.
"""

from __future__ import annotations

from datetime import timedelta

from bot.checkins.delivery import DrainReport
from bot.checkins.scheduler import CheckInScheduler
from bot.engine import Engine
from bot.mentors.worker import MentorConfig, MentorWorker
from bot.ports import MentorBoard

__all__ = ["MentorService"]


class MentorService:
    def __init__(self, engine: Engine, *, worker_id: str | None = None) -> None:
        settings = engine.settings
        self.engine = engine
        config = MentorConfig(
            lease=timedelta(seconds=settings.checkin_lease_seconds),
            max_attempts=settings.checkin_max_attempts,
            retry_base=timedelta(seconds=settings.checkin_retry_seconds),
        )
        self.worker = MentorWorker(
            engine.db, config, worker_id=worker_id, clock=lambda: engine.clock()
        )
        self.scheduler = CheckInScheduler(
            self.worker, poll_seconds=settings.checkin_poll_seconds, clock=lambda: engine.clock()
        )
        engine.on_mentors_changed = self.scheduler.wake_at

    def register(self, board: MentorBoard) -> None:
        self.worker.register(board)
        if self.scheduler.running:
            self.scheduler.wake_at(self.engine.clock())

    def unregister(self, platform: str) -> None:
        self.worker.unregister(platform)

    async def start(self) -> DrainReport:
        return await self.scheduler.start()

    async def stop(self) -> None:
        await self.scheduler.stop()
        if self.engine.on_mentors_changed == self.scheduler.wake_at:
            self.engine.on_mentors_changed = None

    async def drain(self) -> DrainReport:
        """Do everything due now (tests and tools; the scheduler does this by itself)."""
        return await self.worker.drain()
