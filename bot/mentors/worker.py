"""The mentor board's worker: claim due jobs with a lease, do them on the platform, record.

It reuses the check-in delivery's claim mechanism (``bot/checkins/delivery.py``): a round
locks due jobs ``FOR UPDATE SKIP LOCKED`` (SQLite: its single writer), leases them to this
worker, does each through the platform's MentorBoard, and records the result only if the
lease is still held. So any number of processes on one database do each job once: the
re-surfacing of an unclaimed request is a job due at its time, taken by one process and
deleted when done. A process that dies mid-job leaves its lease to run out; another takes
the job again with the same key (Discord's nonce makes a repeated post a no-op).

What a job posts is decided when it is claimed, from the request as it is then: a
re-surfacing whose request was claimed meanwhile is dropped, a sync makes every post match
the current state (the board card shows the summary only while the request waits; an
introduction keeps the summary only while the mentor has the request).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy.orm import Session

from bot.checkins.delivery import Clock, DrainReport, default_worker_id
from bot.checkins.sender import Delivered, RetryAfter, SendResult, Unreachable
from bot.mentors import texts as T
from bot.mentors.summary import from_json
from bot.messages import MentorBoardCard, MentorIntro, MentorNote
from bot.ports import BoardPost, Introduced, Introduction, Mention, MentorBoard
from bot.store import mentors_repo as mrepo
from bot.store.database import Database, StoreUnavailable
from bot.store.mentors_repo import DueJob
from bot.store.models import MentorRequest
from bot.ui.cards import Card
from bot.ui.presenters import present

__all__ = ["MentorConfig", "MentorWorker"]

log = logging.getLogger(__name__)
MENTIONS_MAX = 10  # mentors mentioned on one post


def _utcnow() -> datetime:
    return datetime.now(UTC)


@dataclass(frozen=True, slots=True)
class MentorConfig:
    lease: timedelta = timedelta(seconds=120)
    max_attempts: int = 5
    retry_base: timedelta = timedelta(minutes=5)
    batch_size: int = 50


@dataclass(slots=True)
class Op:
    """One platform call of a job (``post_id``: the mentor_posts row it is about)."""

    kind: str  # post | edit | delete | introduce | send
    channel: str = ""
    ref: str = ""
    cards: tuple[Card, ...] = ()
    post: BoardPost | None = None
    intro: Introduction | None = None
    post_id: int | None = None


@dataclass(slots=True)
class Task:
    job: DueJob
    ops: list[Op]
    results: list[Introduced | SendResult] = field(default_factory=list)


def _key(job: DueJob) -> str:
    return f"mj{job.id}"[:25]


class MentorWorker:
    """One per process. Does board work for the platforms whose boards are registered."""

    def __init__(
        self,
        db: Database,
        config: MentorConfig | None = None,
        boards: Mapping[str, MentorBoard] | None = None,
        *,
        worker_id: str | None = None,
        clock: Clock = _utcnow,
    ) -> None:
        self.db = db
        self.config = config or MentorConfig()
        self.worker_id = (worker_id or default_worker_id())[:64]
        self.clock = clock
        self._boards: dict[str, MentorBoard] = dict(boards or {})

    def register(self, board: MentorBoard) -> None:
        self._boards[board.platform] = board

    def unregister(self, platform: str) -> None:
        self._boards.pop(platform, None)

    @property
    def platforms(self) -> tuple[str, ...]:
        return tuple(sorted(self._boards))

    # ------------------------------------------------------------------ the loop

    async def drain(self, max_rounds: int = 1000) -> DrainReport:
        """Do every job due now; returns when nothing claimable is left."""
        report = DrainReport()
        for _ in range(max_rounds):
            if not self._boards:
                break
            tasks, locked = await self.db.run(self._claim_unit, self.clock())
            report.rounds += 1
            if locked == 0:
                break
            report.claimed += len(tasks)
            for task in tasks:
                await self._do(task, report)
        return report

    async def next_wake(self) -> datetime | None:
        return await self.db.run(mrepo.next_wake, self.clock(), self.platforms)

    # ------------------------------------------------------------------ claim

    def _claim_unit(self, s: Session, now: datetime) -> tuple[list[Task], int]:
        jobs = mrepo.lock_due(s, now, self.config.batch_size, self.platforms)
        planned: list[Task] = []
        for job in jobs:
            ops = self._plan(s, job)
            if ops is None:
                mrepo.drop(s, job.id)  # nothing left to do (the request moved on)
            else:
                planned.append(Task(job, ops))
        until = now + self.config.lease
        taken = set(mrepo.lease(s, [t.job.id for t in planned], self.worker_id, until, now))
        return [t for t in planned if t.job.id in taken], len(jobs)

    def _plan(self, s: Session, job: DueJob) -> list[Op] | None:
        """The platform calls ``job`` stands for now; None when there is nothing to do."""
        if job.kind == "delete":
            return [Op("delete", job.channel or "", job.ref or "")]
        req = mrepo.request(s, job.request_id) if job.request_id is not None else None
        if req is None:
            return None
        summary = from_json(req.summary or {})
        if job.kind in ("post", "resurface"):
            if req.state not in mrepo.CLAIMABLE:
                return None
            channel = mrepo.channel(s, req.platform, req.tenant)
            if channel is None:
                log.warning("mentor request %s: the mentors channel was unset", req.id)
                return None
            again = job.kind == "resurface"
            cards = tuple(present([MentorBoardCard(req.id, req.state, summary, again)]))
            mention = self._mention(s, req)
            post = BoardPost(
                tenant=req.tenant, channel=channel, cards=cards, mention=mention, key=_key(job)
            )
            return [Op("post", channel, post=post)]
        if job.kind == "intro":
            person = mrepo.owner(s, req.id)
            if req.state != "claimed" or req.claimed_by is None or person is None:
                return None
            cards = tuple(present([MentorIntro(req.id, req.state, summary, req.copy_checkins)]))
            intro = Introduction(
                tenant=req.tenant,
                person=person[2],
                mentor=req.claimed_by,
                cards=cards,
                together=Mention(text=T.INTRO_TOGETHER, users=(person[2], req.claimed_by)),
                to_person=Mention(text=T.INTRO_TO_PERSON, users=(req.claimed_by,)),
                to_mentor=Mention(text=T.INTRO_TO_MENTOR, users=(person[2],)),
                key=_key(job),
            )
            return [Op("introduce", intro=intro)]
        if job.kind == "note":
            body = job.body or {}
            if req.state != "claimed" or not req.mentor_channel or not req.copy_checkins:
                return None
            note = MentorNote(str(body.get("action") or ""), str(body.get("answer") or ""))
            return [Op("send", req.mentor_channel, cards=tuple(present([note])))]
        if job.kind == "sync":
            return self._sync(s, req, summary)
        log.warning("mentor job %s: unknown kind %r", job.id, job.kind)
        return None

    @staticmethod
    def _sync(s: Session, req: MentorRequest, summary: Any) -> list[Op]:
        """Every post of ``req`` made to match its state: the board card shows the summary
        only while the request waits (gone once withdrawn or done); an introduction keeps
        it only while the mentor has the request; check-in copies go when the mentor no
        longer has it (handed back) or the person withdrew."""
        ops: list[Op] = []
        for post in mrepo.posts(s, req.id):
            if post.kind == "board":
                if req.state in ("withdrawn", "closed"):
                    ops.append(Op("delete", post.channel, post.ref, post_id=post.id))
                else:
                    view = MentorBoardCard(req.id, req.state, summary)
                    ops.append(Op("edit", post.channel, post.ref, tuple(present([view]))))
            elif post.kind == "intro":
                view_i = MentorIntro(req.id, req.state, summary, req.copy_checkins)
                ops.append(Op("edit", post.channel, post.ref, tuple(present([view_i]))))
            elif post.kind == "note" and req.state in ("withdrawn", "released"):
                ops.append(Op("delete", post.channel, post.ref, post_id=post.id))
        return ops

    @staticmethod
    def _mention(s: Session, req: MentorRequest) -> Mention | None:
        """The mentors whose tags fit the request (never the person themselves)."""
        person = mrepo.owner(s, req.id)
        wanted = set(req.tags or [])
        fitting = [
            mentor
            for mentor, tags in mrepo.mentors(s, req.platform, req.tenant)
            if wanted & set(tags) and (person is None or mentor != person[2])
        ][:MENTIONS_MAX]
        if not fitting:
            return None
        names = ", ".join(f"{{{i}}}" for i in range(len(fitting)))
        return Mention(text=f"{names}: {T.FITS}", users=tuple(fitting))

    # ------------------------------------------------------------------ do and record

    async def _do(self, task: Task, report: DrainReport) -> None:
        board = self._boards.get(task.job.platform)
        if board is None:
            return  # unregistered meanwhile: the lease runs out, another process takes it
        for op in task.ops:
            outcome = await self._call(board, op, task.job)
            task.results.append(outcome)
            if not isinstance(outcome, Delivered | Introduced):
                break
        try:
            await self.db.run(self._record_unit, task, self.clock(), report)
        except StoreUnavailable as exc:
            log.warning("mentor job %s: could not record the result: %s", task.job.id, exc)

    async def _call(self, board: MentorBoard, op: Op, job: DueJob) -> Introduced | SendResult:
        try:
            if op.kind == "post" and op.post is not None:
                return await board.post(op.post)
            if op.kind == "edit":
                return await board.edit(job.tenant, op.channel, op.ref, op.cards)
            if op.kind == "delete":
                return await board.delete(job.tenant, op.channel, op.ref)
            if op.kind == "introduce" and op.intro is not None:
                return await board.introduce(op.intro)
            if op.kind == "send":
                return await board.send(job.tenant, op.channel, op.cards)
        except asyncio.CancelledError:
            raise
        except Exception as exc:  # a bug or a transport error: a failed attempt, logged
            log.exception("mentor job %s: the %s board raised", job.id, job.platform)
            return Unreachable(f"The board failed ({type(exc).__name__}).")
        return Unreachable("nothing to do")

    def _record_unit(self, s: Session, task: Task, now: datetime, report: DrainReport) -> None:
        job = task.job
        req = mrepo.request(s, job.request_id) if job.request_id is not None else None
        for op, outcome in zip(task.ops, task.results, strict=False):
            if isinstance(outcome, Delivered | Introduced):
                self._applied(s, job, req, op, outcome, now)
        last = task.results[-1] if task.results else None
        if len(task.results) == len(task.ops) and isinstance(last, Delivered | Introduced | None):
            if mrepo.finish(s, job.id, self.worker_id):
                report.delivered += 1
            else:
                report.superseded += 1
            return
        if isinstance(last, RetryAfter):
            report.rate_limited += 1
            due = now + timedelta(seconds=max(1.0, last.seconds))
            mrepo.retry(s, job.id, self.worker_id, due_at=due)
            report.deferred += 1
            return
        reason = (last.reason if isinstance(last, Unreachable) else "failed").strip()[:200]
        attempts = job.attempts + 1
        if attempts >= self.config.max_attempts:
            log.warning("mentor job %s (%s) given up: %s", job.id, job.kind, reason)
            if mrepo.finish(s, job.id, self.worker_id):
                report.failed += 1
            return
        due = now + self.config.retry_base * (3 ** (attempts - 1))
        mrepo.retry(s, job.id, self.worker_id, due_at=due, attempts=attempts, last_error=reason)
        report.retry_scheduled += 1

    def _applied(
        self,
        s: Session,
        job: DueJob,
        req: MentorRequest | None,
        op: Op,
        outcome: Introduced | Delivered,
        now: datetime,
    ) -> None:
        """What a platform call that went through changes in the database."""
        if op.kind == "delete":
            mrepo.drop_posts(s, [op.post_id] if op.post_id is not None else [])
            return
        made: list[tuple[str, str, str]] = []  # (kind, channel, ref) of new messages
        if op.kind == "post" and isinstance(outcome, Delivered) and outcome.message_id:
            made.append(("board", op.channel, outcome.message_id))
        elif op.kind == "send" and isinstance(outcome, Delivered) and outcome.message_id:
            made.append(("note", op.channel, outcome.message_id))
        elif op.kind == "introduce" and isinstance(outcome, Introduced):
            made += [("intro", p.channel, p.ref) for p in outcome.posts]
        if req is None:  # forgotten while the call was on its way: take the message back
            for _kind, channel, ref in made:
                mrepo.enqueue(
                    s,
                    platform=job.platform,
                    tenant=job.tenant,
                    kind="delete",
                    due_at=now,
                    now=now,
                    channel_id=channel,
                    ref=ref,
                )
            return
        older = mrepo.posts(s, req.id, ("board",)) if op.kind == "post" else []
        for kind, channel, ref in made:
            mrepo.add_post(s, req.id, kind, channel, ref, now)
        if op.kind == "post":
            for old in older:  # one live card per request: the re-surfaced one
                mrepo.enqueue(
                    s,
                    platform=job.platform,
                    tenant=job.tenant,
                    kind="delete",
                    due_at=now,
                    now=now,
                    channel_id=old.channel,
                    ref=old.ref,
                )
            mrepo.drop_posts(s, [old.id for old in older])
        if op.kind == "introduce" and isinstance(outcome, Introduced):
            req.mentor_channel = outcome.mentor_channel[:64] or None
        moved = (op.kind == "post" and req.state not in mrepo.CLAIMABLE) or (
            op.kind == "introduce" and req.state != "claimed"
        )
        if moved:  # the request changed while the call was on its way: catch the post up
            mrepo.enqueue(
                s,
                platform=req.platform,
                tenant=req.tenant,
                kind="sync",
                due_at=now,
                now=now,
                request_id=req.id,
            )
