"""The core's facade: neutral events or intents in, a Reply (outcome and cards) out.

The engine holds no conversation state between calls (the database does). It wires the
features (consultation, check-ins, privacy, admin) to one dispatcher; each feature
registers its own events and shares only the ``CoreContext``, so none calls another.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable, Sequence
from datetime import UTC, datetime

from bot import events as ev
from bot.core.actions import Click, refusal, to_events
from bot.core.context import CoreContext
from bot.core.dispatcher import Dispatcher
from bot.core.reply import Outcome, Reply
from bot.core.result import Result, result
from bot.features.admin import Admin, checkin_defaults
from bot.features.checkins import CheckIns
from bot.features.consultation import Consultations, UnknownPlaybook
from bot.features.conversation import Conversation
from bot.features.home import HomeView
from bot.features.mentors import Mentors
from bot.features.privacy import FORGET_ACTION, Privacy
from bot.features.route_chart import RouteCharts
from bot.features.stats import Stats
from bot.messages import Level, Notice
from bot.playbook.loader import PlaybookRegistry, playbook_digest
from bot.playbook.schema import Playbook
from bot.settings import Settings
from bot.store import repository as repo
from bot.store import stats_repo
from bot.store.database import BadInput, Database, StoreUnavailable
from bot.ui import intents as it
from bot.ui import presenters
from bot.validation import BAD_EVENT, event_problem

__all__ = ["FORGET_ACTION", "Engine", "UnknownPlaybook", "checkin_defaults"]

log = logging.getLogger(__name__)


def _utcnow() -> datetime:
    return datetime.now(UTC)


class Engine:
    """One per process."""

    def __init__(
        self,
        db: Database,
        playbooks: PlaybookRegistry,
        settings: Settings,
        clock: Callable[[], datetime] = _utcnow,
    ) -> None:
        self.ctx = CoreContext(db, playbooks, settings, clock)
        self.checkins = CheckIns(self.ctx)
        self.mentors = Mentors(self.ctx)
        self.checkins.on_answered = self.mentors.checkin_answered
        self.consultations = Consultations(
            self.ctx,
            self.checkins.offer,
            self.checkins.cancelled_by_new_plan,
            self.mentors.offer,
        )
        self.admin = Admin(
            self.ctx, self.consultations.default_playbook_id, self.consultations.unknown_playbook
        )
        # The statistics count the mentor hand-off's requests (stats_repo.mentor_counts
        # reads mentor_requests, migration 0008; a schema without it says so instead).
        self.stats = Stats(self.ctx, mentors=stats_repo.mentor_counts)
        self.route_charts = RouteCharts(self.ctx)
        self.dispatcher = Dispatcher()
        conversation = Conversation(self.ctx, self.dispatcher.dispatch)
        home = HomeView(self.ctx, self.consultations.status_of, self.checkins.listing)
        privacy = Privacy(self.ctx, (self.mentors,))
        features = (self.consultations, self.checkins, privacy, conversation, home, self.mentors)
        for feature in features:
            feature.register(self.dispatcher)

    # The shared context is the one source of these; tests swap the database or the clock.
    @property
    def db(self) -> Database:
        return self.ctx.db

    @db.setter
    def db(self, db: Database) -> None:
        self.ctx.db = db

    @property
    def clock(self) -> Callable[[], datetime]:
        return self.ctx.clock

    @clock.setter
    def clock(self, clock: Callable[[], datetime]) -> None:
        self.ctx.clock = clock

    @property
    def settings(self) -> Settings:
        return self.ctx.settings

    @settings.setter
    def settings(self, settings: Settings) -> None:
        self.ctx.settings = settings

    @property
    def on_mentors_changed(self) -> Callable[[datetime], None] | None:
        return self.ctx.on_mentors_changed

    @on_mentors_changed.setter
    def on_mentors_changed(self, callback: Callable[[datetime], None] | None) -> None:
        self.ctx.on_mentors_changed = callback

    @property
    def playbooks(self) -> PlaybookRegistry:
        return self.ctx.playbooks

    @property
    def on_checkins_changed(self) -> Callable[[datetime], None] | None:
        return self.ctx.on_checkins_changed

    @on_checkins_changed.setter
    def on_checkins_changed(self, callback: Callable[[datetime], None] | None) -> None:
        self.ctx.on_checkins_changed = callback

    async def prepare(self) -> None:
        """Remember each playbook version, so consultations keep theirs after an upgrade."""
        await self.db.run(self._prepare, self.clock())

    def _prepare(self, s: repo.Session, now: datetime) -> None:
        for pb in self.playbooks.all():
            digest = playbook_digest(pb)
            stored = repo.playbook_version(s, pb.id, pb.version)
            if stored is None:
                document = pb.model_dump(mode="json", by_alias=True, exclude_none=True)
                repo.save_playbook_version(s, pb.id, pb.version, digest, document, now)
            elif stored.digest != digest:
                log.warning(
                    "playbook %s changed without a version bump (still version %s); bump its "
                    "version so running consultations keep the text they started with",
                    pb.id,
                    pb.version,
                )

    # ------------------------------------------------------------------ the contract

    async def run(self, event: ev.InEvent) -> Result:
        """Apply one event and return its domain result. Never raises for any event content."""
        if (problem := event_problem(event)) is not None:
            return result(Outcome.INVALID, Notice(problem, Level.WARNING))
        res = await self._guarded(self.dispatcher.dispatch(event, self.clock()))
        await self.route_charts.attach(event.user, res)  # a recommendation's chart, if any
        return res

    @staticmethod
    async def _guarded(work: Awaitable[Result]) -> Result:
        """``work``'s result, or the polite one for what the core refuses or cannot reach."""
        try:
            return await work
        except StoreUnavailable as exc:
            return result(
                Outcome.UNAVAILABLE,
                Notice(
                    f"{exc} Nothing you already told me is lost; please try again in a moment.",
                    Level.ERROR,
                ),
            )
        except UnknownPlaybook as exc:
            return result(Outcome.NOT_FOUND, Notice(str(exc), Level.WARNING))
        except BadInput:
            return result(Outcome.INVALID, Notice(BAD_EVENT, Level.WARNING))

    async def handle(self, event: ev.InEvent) -> Reply:
        """Apply one event; the Reply says what happened and holds the cards to show."""
        return presenters.reply(await self.run(event))

    async def act(
        self,
        user: ev.UserRef,
        intent: it.Intent,
        click: Click | None = None,
        *,
        playbook_id: str | None = None,
    ) -> Reply:
        """A click, select or text box (decoded by ``bot.ui.codec``), for ``user``."""
        click = click or Click()
        # An answer finds its consultation by person and id, so another person's is never
        # touched: it is checked for ownership only when not found (one transaction a click).
        answering = isinstance(intent, it.AnswerQuestion | it.SkipQuestion)
        refused = None if answering else await self._refusal(user, intent, click)
        if refused is not None:
            return presenters.reply(refused)
        planned = to_events(user, intent, click, playbook_id=playbook_id)
        if isinstance(planned, Result):
            return presenters.reply(planned)
        combined: Result | None = None
        for event in planned:
            res = await self.run(event)
            if combined is None:
                combined = res
            else:
                combined.messages += res.messages
                combined.answered = combined.answered or res.answered
                if res.outcome != Outcome.APPLIED:
                    combined.outcome = res.outcome
        assert combined is not None
        if answering and combined.outcome == Outcome.NOT_FOUND:
            refused = await self._refusal(user, intent, click)
            if refused is not None:
                return presenters.reply(refused)
        return presenters.reply(combined)

    async def _refusal(self, user: ev.UserRef, intent: it.Intent, click: Click) -> Result | None:
        try:
            return await self.db.run(lambda s: refusal(s, user, intent, click))
        except StoreUnavailable as exc:
            return result(
                Outcome.UNAVAILABLE, Notice(f"{exc} Please try again in a moment.", Level.ERROR)
            )

    async def home(self, user: ev.UserRef) -> Reply:
        """The person's overview as cards: consultation state, top of the advice and plan,
        check-ins, with buttons to continue (Slack's App Home renders it)."""
        return await self.handle(ev.ShowHome(user=user))

    async def has_open_consultation(self, user: ev.UserRef) -> bool:
        """Whether ``user`` has a consultation to resume (a front end picks start or resume)."""
        return await self.db.run(lambda s: repo.current_state(s, user) is not None)

    def playbook(self, playbook_id: str, version: int | None = None) -> Playbook | None:
        return self.ctx.playbook(playbook_id, version)

    # ------------------------------------------------------------------ admin
    # Who may call these is the adapter's to check (Manage Server, workspace admins).

    async def tenant_default_playbook(self, platform: str, tenant: str) -> str:
        return await self.admin.tenant_default_playbook(platform, tenant)

    async def set_tenant_playbook(self, platform: str, tenant: str, playbook_id: str) -> Reply:
        """The playbook new consultations of this server/workspace use (unknown: NOT_FOUND)."""
        work = self.admin.set_tenant_playbook(platform, tenant, playbook_id)
        return presenters.reply(await self._guarded(work))

    async def set_tenant_checkin_defaults(
        self,
        platform: str,
        tenant: str,
        *,
        cadence_days: int | None = None,
        timezone: str | None = None,
        quiet_hours: str | None = None,
    ) -> Reply:
        """Server/workspace check-in defaults (a value that does not fit: INVALID)."""
        work = self.admin.set_tenant_checkin_defaults(
            platform, tenant, cadence_days=cadence_days, timezone=timezone, quiet_hours=quiet_hours
        )
        return presenters.reply(await self._guarded(work))

    async def tenant_overview(self, platform: str, tenant: str) -> Reply:
        """What an admin has set for this server/workspace (SHOWN)."""
        return presenters.reply(await self._guarded(self.admin.tenant_overview(platform, tenant)))

    # ------------------------------------------------------------------ admin insights

    async def tenant_stats(
        self,
        platform: str | None,
        tenant: str | None,
        *,
        chart: bool = False,
        csv: bool = False,
    ) -> Reply:
        """Aggregates of a server/workspace (both None: the whole database), small counts
        hidden (SHOWN); ``chart``: with a PNG of the funnel and the routes that came first
        (or one line saying charts are not installed); ``csv``: with the figures as CSV."""
        work = self.stats.report(platform, tenant, chart=chart, csv=csv)
        return presenters.reply(await self._guarded(work))

    # ------------------------------------------------------------------ admin: mentors
    # The mentor hand-off's settings (bot/features/mentors.py); the same rule applies.

    async def set_mentor_channel(self, platform: str, tenant: str, channel_id: str) -> Reply:
        """Where this server's/workspace's mentor requests are posted (APPLIED, INVALID)."""
        work = self.mentors.set_channel(platform, tenant, channel_id)
        return presenters.reply(await self._guarded(work))

    async def tag_mentor(
        self, platform: str, tenant: str, mentor_id: str, tags: Sequence[str]
    ) -> Reply:
        """A mentor's path families or topics (none: untagged); unknown tags are INVALID."""
        work = self.mentors.tag_mentor(platform, tenant, mentor_id, tags)
        return presenters.reply(await self._guarded(work))

    async def mentor_overview(self, platform: str, tenant: str) -> Reply:
        """The mentors channel, tagged mentors and waiting requests (SHOWN)."""
        return presenters.reply(await self._guarded(self.mentors.overview(platform, tenant)))
