"""The mentor hand-off: ask, consent, claim, hand back, withdraw, close; and the admin side.

Each event is one unit of work, like every feature's. A request is created only by a yes to
the consent card that showed its summary word for word (the card carries the consultation's
version, so a yes to an older summary shares nothing); every change of state is one
conditional UPDATE (``mentors_repo.change``), so two mentors claiming at once leave one
winner and the other is told so politely. Nothing here talks to a platform: the unit queues
board work (``mentor_jobs``) in the same transaction, and the process's MentorWorker does it
(bot/mentors/worker.py), so a crash between the two loses nothing.

Hooks the engine wires into other features (each gets a function, none imports this one):
``offer`` after a recommendation (consultations), ``forget`` before a person is deleted
(privacy), ``checkin_answered`` when a check-in is answered (check-ins).
"""

from __future__ import annotations

import logging
import re
from collections.abc import Callable, Sequence
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import delete, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from bot import events as ev
from bot.core.context import CoreContext
from bot.core.dispatcher import Dispatcher
from bot.core.reply import Outcome
from bot.core.result import Result, result
from bot.mentors import texts as T
from bot.mentors.summary import known_tags, summarise, to_json
from bot.messages import (
    AnyMessage,
    Level,
    MentorAsked,
    MentorConsent,
    MentorOffer,
    MentorStatus,
    Notice,
    Text,
)
from bot.store import mentors_repo as mrepo
from bot.store import repository as repo
from bot.store.models import MENTOR_OPEN, MentorRequest, MentorTag, User
from bot.store.repository import ConsultationState

log = logging.getLogger(__name__)
Unit = Callable[[Session, Any, datetime], Result]
MAX_TAGS = 20
_TAG = re.compile(r"[a-z0-9][a-z0-9_-]{0,39}")
_CHANNEL = re.compile(r"[A-Za-z0-9]{1,64}")


class Mentors:
    def __init__(self, ctx: CoreContext) -> None:
        self.ctx = ctx

    def register(self, dispatcher: Dispatcher) -> None:
        dispatcher.register(self._run(self._ask), ev.AskMentor)
        dispatcher.register(self._share, ev.ShareWithMentor)
        dispatcher.register(self._run(self._claim), ev.ClaimMentorRequest)
        dispatcher.register(self._run(self._release), ev.ReleaseMentorRequest)
        dispatcher.register(self._run(self._withdraw), ev.WithdrawMentorRequest)
        dispatcher.register(self._run(self._close), ev.CloseMentorRequest)

    def _run(self, unit: Unit) -> Any:
        async def handler(event: Any, now: datetime) -> Result:
            res = await self.ctx.db.run(unit, event, now)
            if res.outcome == Outcome.APPLIED:
                self.ctx.wake_mentors(now)
            return res

        return handler

    @property
    def resurface_after(self) -> timedelta:
        return timedelta(hours=self.ctx.settings.mentor_resurface_hours)

    # ------------------------------------------------------------------ helpers

    @staticmethod
    def _board(user: ev.UserRef, state: ConsultationState, server: str | None) -> str:
        """The server/workspace whose mentors get the request: where the person asked, else
        where the consultation was started, else their own tenant (Slack's workspace)."""
        return server or state.origin_tenant or user.tenant

    def _completed(self, s: Session, user: ev.UserRef, consultation_id: int | None) -> Any:
        loaded = self.ctx.load(s, user, consultation_id)
        if loaded is None or loaded.state.status != "completed":
            return None, None
        return loaded, repo.latest_snapshot(s, loaded.state.id)

    def _consent(self, s: Session, uid: int, loaded: Any, snap: Any) -> MentorConsent:
        summary, _tags = summarise(loaded.playbook, loaded.answers, snap.payload)
        repo.set_awaiting(s, uid, f"confirm:mentor:{loaded.state.version}")
        return MentorConsent(loaded.state.id, loaded.state.version, summary)

    @staticmethod
    def _status(req: MentorRequest) -> MentorStatus:
        return MentorStatus(req.id, req.state, req.copy_checkins)

    def _enqueue(
        self, s: Session, req: MentorRequest, kind: str, now: datetime, due: datetime | None = None
    ) -> None:
        mrepo.enqueue(
            s,
            platform=req.platform,
            tenant=req.tenant,
            kind=kind,
            due_at=due or now,
            now=now,
            request_id=req.id,
        )

    # ------------------------------------------------------------------ hooks

    def offer(self, s: Session, state: ConsultationState) -> list[AnyMessage]:
        """After a recommendation: the mentor offer, where mentors are set up and the person
        has no open request."""
        if not mrepo.may_offer(s, state.user_id, state.origin_tenant or None):
            return []
        return [MentorOffer(state.id)]

    def holds(self, s: Session, user: ev.UserRef) -> bool:
        """Whether the hand-off keeps anything about ``user`` as a mentor (requests they
        made are theirs: their users row tells)."""
        tagged = s.scalar(
            select(MentorTag.mentor_id).where(
                MentorTag.platform == user.platform, MentorTag.mentor_id == user.user_id
            )
        )
        return tagged is not None or self._taken(s, user) != []

    @staticmethod
    def _taken(s: Session, user: ev.UserRef) -> list[MentorRequest]:
        return list(
            s.scalars(
                select(MentorRequest).where(
                    MentorRequest.platform == user.platform,
                    MentorRequest.claimed_by == user.user_id,
                    MentorRequest.state == "claimed",
                )
            )
        )

    def forget(self, s: Session, user: ev.UserRef, row: User | None, now: datetime) -> int:
        """Before a person is deleted: every message about their requests is queued for
        deletion, their mentor tags go, and requests they took as a mentor go back to the
        board. Mentor ids are the platform's user ids, the same in every server (Discord)
        and workspace (Slack). Returns how many messages are to be deleted."""
        count = mrepo.forget_posts(s, row.id, now) if row is not None else 0
        s.execute(
            delete(MentorTag).where(
                MentorTag.platform == user.platform, MentorTag.mentor_id == user.user_id
            )
        )
        for req in self._taken(s, user):
            self._hand_back(s, req, user.user_id, now)
        return count

    def checkin_answered(
        self, s: Session, uid: int, action: str, answer: str, now: datetime
    ) -> None:
        """A check-in answer, copied to the mentor if the person agreed (picked up by the
        worker's next poll)."""
        req = mrepo.open_request(s, uid)
        if req is None or req.state != "claimed" or not req.copy_checkins:
            return
        mrepo.enqueue(
            s,
            platform=req.platform,
            tenant=req.tenant,
            kind="note",
            due_at=now,
            now=now,
            request_id=req.id,
            body={"action": action, "answer": answer},
        )

    # ------------------------------------------------------------------ the person

    def _ask(self, s: Session, event: ev.AskMentor, now: datetime) -> Result:
        uid = repo.get_or_create_user_id(s, event.user, now)
        existing = mrepo.open_request(s, uid)
        if existing is not None:
            return result(Outcome.SHOWN, Notice(T.ALREADY_OPEN), self._status(existing))
        loaded, snap = self._completed(s, event.user, event.consultation_id)
        if loaded is None or snap is None:
            return result(Outcome.NOT_FOUND, Notice(T.NO_RECOMMENDATION))
        tenant = self._board(event.user, loaded.state, event.server_tenant)
        if mrepo.channel(s, event.user.platform, tenant) is None:
            return result(Outcome.NOT_FOUND, Notice(T.NO_CHANNEL))
        return result(Outcome.CONFIRM, self._consent(s, uid, loaded, snap))

    async def _share(self, event: ev.ShareWithMentor, now: datetime) -> Result:
        for _attempt in range(2):
            try:
                res = await self.ctx.db.run(self._share_unit, event, now)
                break
            except IntegrityError:
                continue  # a twin click created the request first: show it
        else:
            return result(Outcome.UNAVAILABLE, Notice("That did not go through; please try again."))
        if res.outcome == Outcome.APPLIED:
            self.ctx.wake_mentors(now)
        return res

    def _share_unit(self, s: Session, event: ev.ShareWithMentor, now: datetime) -> Result:
        uid = repo.get_or_create_user_id(s, event.user, now)
        repo.set_awaiting(s, uid, None)
        asked = MentorAsked("consent", event.consultation_id or 0)
        labels = {c.id: c.label for c in T.CONSENT_CHOICES}
        if not event.share:
            declined = result(Outcome.APPLIED, Notice(T.DECLINED))
            declined.answered = (asked, labels[T.NO])
            return declined
        existing = mrepo.open_request(s, uid)
        if existing is not None:
            return result(Outcome.STALE, Notice(T.ALREADY_OPEN), self._status(existing))
        loaded, snap = self._completed(s, event.user, event.consultation_id)
        if loaded is None or snap is None:
            return result(Outcome.NOT_FOUND, Notice(T.NO_RECOMMENDATION))
        if event.step is None:  # a yes to no card in particular: show the card first
            return result(Outcome.CONFIRM, self._consent(s, uid, loaded, snap))
        if event.step != loaded.state.version:
            return result(Outcome.STALE, Notice(T.CHANGED), self._consent(s, uid, loaded, snap))
        tenant = self._board(event.user, loaded.state, event.server_tenant)
        if mrepo.channel(s, event.user.platform, tenant) is None:
            return result(Outcome.NOT_FOUND, Notice(T.NO_CHANNEL))
        summary, tags = summarise(loaded.playbook, loaded.answers, snap.payload)
        rid = mrepo.insert_request(
            s,
            user_id=uid,
            consultation_id=loaded.state.id,
            platform=event.user.platform,
            tenant=tenant,
            state="requested",
            version=1,
            summary=to_json(summary),
            tags=list(tags),
            copy_checkins=event.copy_checkins,
            created_at=now,
            updated_at=now,
        )
        req = mrepo.request(s, rid)
        assert req is not None
        self._enqueue(s, req, "post", now)
        self._enqueue(s, req, "resurface", now, now + self.resurface_after)
        words = T.SHARED + (T.SHARED_COPY if event.copy_checkins else "")
        chosen = T.SHARE_CHECKINS if event.copy_checkins else T.SHARE
        done = result(Outcome.APPLIED, Notice(words, Level.SUCCESS), self._status(req))
        done.answered = (MentorAsked("consent", loaded.state.id), labels[chosen])
        return done

    def _withdraw(self, s: Session, event: ev.WithdrawMentorRequest, now: datetime) -> Result:
        uid = repo.user_id(s, event.user)
        if event.request_id is not None:
            req = mrepo.request(s, event.request_id)
        else:
            req = mrepo.open_request(s, uid) if uid is not None else None
        if req is None:
            return result(Outcome.NOT_FOUND, Notice(T.NOTHING_TO_WITHDRAW))
        if uid is None or req.user_id != uid:
            return result(Outcome.REFUSED, Notice(T.NOT_YOUR_REQUEST, Level.WARNING))
        if not mrepo.change(s, req.id, MENTOR_OPEN, now, state="withdrawn"):
            return result(Outcome.STALE, Notice(T.NOTHING_TO_WITHDRAW))
        mrepo.drop_jobs(s, req.id, ("post", "resurface", "intro", "note"))
        self._enqueue(s, req, "sync", now)
        done = result(Outcome.APPLIED, Notice(T.WITHDRAWN, Level.SUCCESS))
        done.answered = (MentorAsked("status", req.id), T.WITHDRAW_BUTTON)
        return done

    # ------------------------------------------------------------------ the mentor

    def _claim(self, s: Session, event: ev.ClaimMentorRequest, now: datetime) -> Result:
        req = mrepo.request(s, event.request_id)
        if req is None or req.state not in MENTOR_OPEN:
            return result(Outcome.NOT_FOUND, Notice(T.GONE))
        where = event.server_tenant or event.user.tenant
        if (req.platform, req.tenant) != (event.user.platform, where):
            return result(Outcome.REFUSED, Notice(T.OTHER_SERVER, Level.WARNING))
        me = event.user.user_id
        if mrepo.owner(s, req.id) == (event.user.platform, event.user.tenant, me):
            return result(Outcome.REFUSED, Notice(T.OWN_REQUEST))
        won = mrepo.change(
            s, req.id, mrepo.CLAIMABLE, now, state="claimed", claimed_by=me, claimed_at=now
        )
        if not won:  # another mentor (or a second click) came first: read what they did
            current = s.get(MentorRequest, req.id, populate_existing=True)
            if current is None or current.state not in MENTOR_OPEN:
                return result(Outcome.NOT_FOUND, Notice(T.GONE))
            if current.claimed_by == me:
                return result(Outcome.STALE, Notice(T.YOURS_ALREADY))
            return result(Outcome.REFUSED, Notice(T.TAKEN_BY_OTHER))
        mrepo.drop_jobs(s, req.id, ("post", "resurface"))
        self._enqueue(s, req, "intro", now)
        self._enqueue(s, req, "sync", now)
        done = result(Outcome.APPLIED)
        done.answered = (MentorAsked("board", req.id), T.CLAIMED)
        return done

    def _hand_back(self, s: Session, req: MentorRequest, mentor: str, now: datetime) -> bool:
        # claimed_at stays: when the request was last taken (the admin statistics' claim
        # time); a new claim sets it again.
        values = {"state": "released", "claimed_by": None}
        if not mrepo.change(
            s, req.id, ("claimed",), now, held_by=mentor, mentor_channel=None, **values
        ):
            return False
        mrepo.drop_jobs(s, req.id, ("resurface", "intro", "note"))
        self._enqueue(s, req, "sync", now)
        self._enqueue(s, req, "resurface", now, now + self.resurface_after)
        return True

    def _release(self, s: Session, event: ev.ReleaseMentorRequest, now: datetime) -> Result:
        req = mrepo.request(s, event.request_id)
        if req is None or req.state not in MENTOR_OPEN:
            return result(Outcome.NOT_FOUND, Notice(T.GONE))
        mine = req.platform == event.user.platform and req.claimed_by == event.user.user_id
        if not mine or req.state != "claimed":
            return result(Outcome.REFUSED, Notice(T.NOT_YOUR_CLAIM, Level.WARNING))
        if not self._hand_back(s, req, event.user.user_id, now):
            return result(Outcome.STALE, Notice(T.GONE))
        done = result(Outcome.APPLIED, Notice(T.RELEASED, Level.SUCCESS))
        done.answered = (MentorAsked("intro", req.id), T.INTRO_ENDED["released"])
        return done

    def _close(self, s: Session, event: ev.CloseMentorRequest, now: datetime) -> Result:
        req = mrepo.request(s, event.request_id)
        if req is None or req.state != "claimed":
            return result(Outcome.NOT_FOUND, Notice(T.GONE))
        me = (event.user.platform, event.user.tenant, event.user.user_id)
        mentor = req.platform == event.user.platform and req.claimed_by == event.user.user_id
        if not mentor and mrepo.owner(s, req.id) != me:
            return result(Outcome.REFUSED, Notice(T.NOT_YOUR_REQUEST, Level.WARNING))
        if not mrepo.change(s, req.id, ("claimed",), now, state="closed"):
            return result(Outcome.STALE, Notice(T.GONE))
        mrepo.drop_jobs(s, req.id, ("note",))
        self._enqueue(s, req, "sync", now)
        done = result(Outcome.APPLIED, Notice(T.CLOSED, Level.SUCCESS))
        done.answered = (MentorAsked("intro", req.id), T.INTRO_ENDED["closed"])
        return done

    # ------------------------------------------------------------------ admin
    # Who may call these is the adapter's to check (Manage Server, workspace admins).

    async def set_channel(self, platform: str, tenant: str, channel_id: str) -> Result:
        if not _CHANNEL.fullmatch(channel_id):
            return result(
                Outcome.INVALID, Notice("That is not a channel I can post to.", Level.WARNING)
            )
        now = self.ctx.clock()
        await self.ctx.db.run(lambda s: mrepo.set_channel(s, platform, tenant, channel_id, now))
        return result(
            Outcome.APPLIED,
            Notice(
                "Mentor requests from people here now go to that channel. Keep it to mentors: "
                "each request there shows what the person agreed to share.",
                Level.SUCCESS,
            ),
        )

    async def tag_mentor(
        self, platform: str, tenant: str, mentor_id: str, tags: Sequence[str]
    ) -> Result:
        """Tag a mentor with path families or topic ids (none: no longer a tagged mentor)."""
        wanted = [t.strip().lower() for t in tags if t.strip()]
        known = known_tags(list(self.ctx.playbooks.all()))
        unknown = [t for t in wanted if t not in known or not _TAG.fullmatch(t)]
        if unknown or len(wanted) > MAX_TAGS or not _CHANNEL.fullmatch(mentor_id):
            listing = ", ".join(sorted(known)) or "none"
            return result(
                Outcome.INVALID,
                Notice(
                    f"I do not know the tag(s) {', '.join(t[:40] for t in unknown[:5])}. "
                    f"Tags are path families or topics: {listing}."
                    if unknown
                    else f"Give a mentor at most {MAX_TAGS} tags.",
                    Level.WARNING,
                ),
            )
        now = self.ctx.clock()
        unique = list(dict.fromkeys(wanted))
        await self.ctx.db.run(lambda s: mrepo.set_tags(s, platform, tenant, mentor_id, unique, now))
        said = ", ".join(unique)
        text = f"Tagged as a mentor for: {said}." if unique else "No longer a tagged mentor here."
        return result(Outcome.APPLIED, Notice(text, Level.SUCCESS))

    async def overview(self, platform: str, tenant: str) -> Result:
        """The mentors channel (as the platform id), the tagged mentors and open requests."""

        def unit(s: Session) -> tuple[str | None, list[tuple[str, list[str]]], int]:
            waiting = s.scalars(
                select(MentorRequest.id).where(
                    MentorRequest.platform == platform,
                    MentorRequest.tenant == tenant,
                    MentorRequest.state.in_(mrepo.CLAIMABLE),
                )
            )
            return (
                mrepo.channel(s, platform, tenant),
                mrepo.mentors(s, platform, tenant),
                len(list(waiting)),
            )

        channel_id, tagged, waiting = await self.ctx.db.run(unit)
        lines = [f"Mentors channel: {channel_id or 'not set'}."]
        lines += [f"Mentor {mid}: {', '.join(tags)}." for mid, tags in tagged] or [
            "No mentors are tagged; requests are posted without mentioning anyone."
        ]
        lines.append(f"Requests waiting for a mentor: {waiting}.")
        return result(Outcome.SHOWN, Text("\n".join(lines), title="Mentor hand-off here"))
