"""Export and forget: everything the person's data is, and deleting all of it."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Protocol

from sqlalchemy.orm import Session

from bot import events as ev
from bot.core.context import CoreContext
from bot.core.dispatcher import Dispatcher
from bot.core.reply import Outcome
from bot.core.result import Result, result
from bot.export import export_markdown
from bot.messages import Confirm, Level, Notice
from bot.store import repository as repo
from bot.store.models import User

FORGET_ACTION = "forget"
MENTOR_POSTS_GOING = (
    "Your mentor request's messages are being deleted from the mentors channel and the "
    "introductions too; that takes a moment."
)
FORGET_CONFIRM = Confirm(
    "This deletes everything I keep about you: consultations, answers, "
    "recommendations, plans and check-ins. It cannot be undone. Go ahead?",
    FORGET_ACTION,
    confirm_label="Delete my data",
    cancel_label="Keep it",
)


class OtherData(Protocol):
    """Data about a person kept outside their own rows (the mentor hand-off: the tags an
    admin gave them as a mentor, requests they took, posts about their requests)."""

    def holds(self, s: Session, user: ev.UserRef) -> bool:
        """Whether anything is kept about ``user`` (who may have no users row)."""
        ...

    def forget(self, s: Session, user: ev.UserRef, row: User | None, now: datetime) -> int:
        """Delete it, before the person's rows go; how many posted messages outside the
        person's DM are being deleted (they go in a moment, not in this transaction)."""
        ...


class Privacy:
    def __init__(self, ctx: CoreContext, others: Sequence[OtherData] = ()) -> None:
        self.ctx = ctx
        self.others = tuple(others)

    def register(self, dispatcher: Dispatcher) -> None:
        dispatcher.register(self._export, ev.Export)
        dispatcher.register(self._forget, ev.Forget)
        dispatcher.register(self._decline, ev.Decline)

    async def _export(self, event: ev.Export, now: datetime) -> Result:
        return await self.ctx.db.run(self._export_unit, event.user, now)

    def _export_unit(self, s: Session, user: ev.UserRef, now: datetime) -> Result:
        row = repo.find_user(s, user)
        if row is None:
            return result(Outcome.NOT_FOUND, Notice("I have no data about you."))
        return result(Outcome.SHOWN, export_markdown(s, row, self.ctx.playbook_for, now))

    async def _decline(self, event: ev.Decline, now: datetime) -> Result:
        await self.ctx.db.run(self._set_awaiting, event.user, None)
        declined = result(Outcome.APPLIED, Notice("Nothing was deleted."))
        if event.action == FORGET_ACTION:
            declined.answered = (FORGET_CONFIRM, FORGET_CONFIRM.cancel_label)
        return declined

    @staticmethod
    def _set_awaiting(s: Session, user: ev.UserRef, awaiting: str | None) -> bool:
        uid = repo.user_id(s, user)
        if uid is not None:
            repo.set_awaiting(s, uid, awaiting)
        return uid is not None

    def _known(self, s: Session, user: ev.UserRef) -> bool:
        known = self._set_awaiting(s, user, f"confirm:{FORGET_ACTION}")
        return known or any(other.holds(s, user) for other in self.others)

    async def _forget(self, event: ev.Forget, now: datetime) -> Result:
        if not event.confirmed:
            known = await self.ctx.db.run(self._known, event.user)
            if not known:
                return result(Outcome.NOT_FOUND, Notice("I have no data about you."))
            return result(Outcome.CONFIRM, FORGET_CONFIRM)

        def unit(s: Session) -> int:
            row = repo.find_user(s, event.user)
            elsewhere = sum(other.forget(s, event.user, row, now) for other in self.others)
            if row is not None:
                repo.delete_user(s, row.id)
            return elsewhere

        elsewhere = await self.ctx.db.run(unit)
        await self.ctx.db.scrub()
        notices = [Notice("Done: everything I kept about you is deleted.", Level.SUCCESS)]
        if elsewhere:
            self.ctx.wake_mentors(now)
            notices.append(Notice(MENTOR_POSTS_GOING))
        return Result(
            Outcome.APPLIED,
            list(notices),
            answered=(FORGET_CONFIRM, FORGET_CONFIRM.confirm_label),
        )
