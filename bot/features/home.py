"""A person's overview in one read: their consultation, the top of its advice, their plan
and their check-ins (Slack's App Home shows it; any front end may).

Why a feature of its own: it changes nothing and only gathers what the consultation and
check-in features already know, through the functions the engine hands it, so it calls
neither feature's private methods and adds no rule of its own. One transaction, so the
parts agree with each other.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

from sqlalchemy.orm import Session

from bot import events as ev
from bot.core.context import CoreContext, Loaded
from bot.core.dispatcher import Dispatcher
from bot.core.reply import Outcome
from bot.core.result import Result, result
from bot.messages import CheckInList, Home, Plan, PlanItemView, Recommendation, Status
from bot.progress import progress
from bot.snapshots import payload_to_recommendation
from bot.store import repository as repo

StatusOf = Callable[[Session, Loaded], Status]
CheckInsOf = Callable[[Session, ev.UserRef, datetime], CheckInList | None]


class HomeView:
    def __init__(self, ctx: CoreContext, status_of: StatusOf, checkins_of: CheckInsOf) -> None:
        self.ctx = ctx
        self.status_of = status_of
        self.checkins_of = checkins_of

    def register(self, dispatcher: Dispatcher) -> None:
        dispatcher.register(self._home, ev.ShowHome)

    async def _home(self, event: ev.ShowHome, now: datetime) -> Result:
        return await self.ctx.db.run(self._unit, event, now)

    def _unit(self, s: Session, event: ev.ShowHome, now: datetime) -> Result:
        checkins = self.checkins_of(s, event.user, now)
        loaded = self.ctx.load(s, event.user)
        if loaded is None:
            return result(Outcome.SHOWN, Home(status=None, checkins=checkins))
        state, pb = loaded.state, loaded.playbook
        status = self.status_of(s, loaded)
        question, total = 0, 0
        if state.status == "active":
            if state.current_step and pb.question(state.current_step) is not None:
                question, total = progress(pb, loaded.answers, state.current_step)
            else:
                question, total = status.position + 1, max(status.total, status.position + 1)
        rec: Recommendation | None = None
        snap = repo.latest_snapshot(s, state.id) if state.status == "completed" else None
        if snap is not None:
            rec = payload_to_recommendation(snap.payload, state.id, state.version, pb.title)
        items = repo.plan_items(s, state.id)
        plan = Plan(
            state.id, tuple(PlanItemView(i.id, i.action, i.due_date, i.status) for i in items)
        )
        home = Home(
            status=status,
            question=question,
            total=total,
            recommendation=rec,
            plan=plan if items else None,
            checkins=checkins,
        )
        return result(Outcome.SHOWN, home)
