"""The dialog engine: neutral events in, neutral messages out, every turn committed first.

Each event is handled by one unit of work (a plain function run in one transaction by
``Database.run``); the messages it returns are built from what that transaction wrote, so
a crash after the commit loses nothing and a crash before it changes nothing.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from bot import events as ev
from bot.advice import effective_answers, rank, visible_questions
from bot.advice.compose import compose
from bot.checkins.handlers import CheckInHandlers
from bot.export import export_markdown
from bot.messages import (
    AnswerSummary,
    AnyMessage,
    ChoiceOption,
    Confirm,
    Level,
    Notice,
    PathDetail,
    Plan,
    PlanItemView,
    Question,
    QuestionKind,
    Status,
    Text,
)
from bot.playbook.loader import PlaybookRegistry, playbook_digest
from bot.playbook.schema import Playbook, PlaybookQuestion
from bot.settings import Settings
from bot.snapshots import payload_to_recommendation, ranking_to_payload
from bot.store import repository as repo
from bot.store.database import Database, StoreUnavailable
from bot.store.repository import Conflict, ConsultationState
from bot.validation import Invalid, parse_answer

log = logging.getLogger(__name__)

FORGET_ACTION = "forget"
Messages = list[AnyMessage]


class UnknownPlaybook(Exception):
    pass


@dataclass(slots=True)
class _Loaded:
    state: ConsultationState
    playbook: Playbook

    @property
    def answers(self) -> dict[str, Any]:
        return self.state.answers


def _utcnow() -> datetime:
    return datetime.now(UTC)


class Engine:
    """One per process; holds no conversation state between calls (the database does)."""

    def __init__(
        self,
        db: Database,
        playbooks: PlaybookRegistry,
        settings: Settings,
        clock: Callable[[], datetime] = _utcnow,
    ) -> None:
        self.db = db
        self.playbooks = playbooks
        self.settings = settings
        self.clock = clock
        self._versions: dict[tuple[str, int], Playbook] = {
            (pb.id, pb.version): pb for pb in playbooks.all()
        }
        self.checkins = CheckInHandlers(self)
        # Set by this process's check-in scheduler: called with the earliest due time a
        # committed event created, so delivery does not wait for the next poll.
        self.on_checkins_changed: Callable[[datetime], None] | None = None

    async def prepare(self) -> None:
        """Remember each playbook version, so consultations keep theirs after an upgrade."""
        await self.db.run(self._prepare, self.clock())

    def _prepare(self, s: Session, now: datetime) -> None:
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

    # ------------------------------------------------------------------ dispatch

    async def handle(self, event: ev.InEvent) -> Messages:
        """Apply one event. A database outage becomes a polite notice, never a traceback."""
        now = self.clock()
        try:
            match event:
                case ev.Start() | ev.Restart():
                    return await self._start(event, now)
                case ev.Answer():
                    return await self._answer(event, now)
                case ev.Back():
                    return await self.db.run(self._back, event.user, now)
                case ev.Edit():
                    return await self.db.run(self._edit, event.user, event.question, now)
                case ev.Resume():
                    return await self.db.run(self._resume, event.user, now)
                case ev.Cancel():
                    return await self.db.run(self._cancel, event.user, now)
                case ev.ShowStatus():
                    return await self.db.run(self._status, event.user)
                case ev.ShowPath():
                    return await self.db.run(self._show_path, event.user, event.path_id)
                case ev.Export():
                    return await self.db.run(self._export, event.user, now)
                case ev.Forget():
                    return await self._forget(event.user, event.confirmed)
                case (
                    ev.ScheduleCheckIns()
                    | ev.ListCheckIns()
                    | ev.SnoozeCheckIn()
                    | ev.ChangeCheckIn()
                    | ev.CancelCheckIn()
                    | ev.AnswerCheckIn()
                    | ev.SetTimezone()
                    | ev.SetQuietHours()
                ):
                    return await self.checkins.handle(event, now)
        except StoreUnavailable as exc:
            return [
                Notice(
                    f"{exc} Nothing you already told me is lost; please try again in a moment.",
                    Level.ERROR,
                )
            ]
        except UnknownPlaybook as exc:
            return [Notice(str(exc), Level.WARNING)]
        raise TypeError(f"unknown event {event!r}")

    def wake_checkins(self, due: datetime) -> None:
        """Tell this process's scheduler about a new due time (no-op without one)."""
        if self.on_checkins_changed is not None:
            try:
                self.on_checkins_changed(due)
            except Exception:  # a scheduler hiccup must not fail a committed turn
                log.exception("could not wake the check-in scheduler")

    async def has_open_consultation(self, user: ev.UserRef) -> bool:
        """Whether ``user`` has a consultation to resume (a front end picks start or resume)."""
        return await self.db.run(lambda s: repo.current_state(s, user) is not None)

    # ------------------------------------------------------------------ helpers

    def playbook(self, playbook_id: str, version: int | None = None) -> Playbook | None:
        if version is None:
            return self.playbooks.get(playbook_id)
        return self._versions.get((playbook_id, version))

    def _playbook_for(self, s: Session, playbook_id: str, version: int) -> Playbook:
        pb = self._versions.get((playbook_id, version))
        if pb is None:
            stored = repo.playbook_version(s, playbook_id, version)
            if stored is None:
                raise StoreUnavailable(f"The playbook {playbook_id} version {version} is missing.")
            pb = Playbook.model_validate(stored.document)
            self._versions[(playbook_id, version)] = pb
        return pb

    def _load(
        self, s: Session, user: ev.UserRef, consultation_id: int | None = None
    ) -> _Loaded | None:
        state = repo.current_state(s, user, consultation_id)
        if state is None:
            return None
        return _Loaded(state, self._playbook_for(s, state.playbook_id, state.playbook_version))

    @staticmethod
    def _nothing_yet() -> Messages:
        return [Notice("You have no consultation in progress. Use start to begin one.")]

    def _unknown_playbook(self, playbook_id: str) -> UnknownPlaybook:
        return UnknownPlaybook(
            f"There is no playbook called {playbook_id[:40]!r}. "
            f"Available: {', '.join(self.playbooks.ids())}."
        )

    def question_message(self, loaded: _Loaded, q: PlaybookQuestion, error: str = "") -> Question:
        ids = [v.id for v in visible_questions(loaded.playbook, loaded.answers)]
        multi = q.kind == QuestionKind.MULTI_CHOICE
        return Question(
            consultation_id=loaded.state.id,
            step=loaded.state.version,
            question_id=q.id,
            kind=q.kind,
            prompt=q.prompt.strip(),
            help=q.help.strip(),
            choices=tuple(ChoiceOption(c.id, c.label, c.description) for c in q.choices),
            optional=q.optional,
            min_choices=q.min_choices,
            max_choices=(q.max_choices or len(q.choices)) if multi else 1,
            max_length=min(q.max_length, self.settings.max_text_length),
            scale_min=q.scale_min,
            scale_max=q.scale_max,
            scale_low_label=q.scale_low_label,
            scale_high_label=q.scale_high_label,
            position=ids.index(q.id) + 1 if q.id in ids else len(ids),
            total=len(ids),
            current=loaded.answers.get(q.id),
            error=error,
        )

    @staticmethod
    def _next_question(pb: Playbook, answers: dict[str, Any]) -> PlaybookQuestion | None:
        return next((q for q in visible_questions(pb, answers) if q.id not in answers), None)

    def _where_we_are(self, s: Session, loaded: _Loaded, now: datetime) -> Messages:
        state = loaded.state
        if state.status == "completed":
            return self._show_recommendation(s, loaded, now)
        q = loaded.playbook.question(state.current_step or "")
        if q is None:
            q = self._next_question(loaded.playbook, loaded.answers)
        if q is None:
            return self._finish(s, loaded, now)
        return [self.question_message(loaded, q)]

    def _show_recommendation(self, s: Session, loaded: _Loaded, now: datetime) -> Messages:
        snap = repo.latest_snapshot(s, loaded.state.id)
        if snap is None:
            return self._finish(s, loaded, now)
        rec = payload_to_recommendation(
            snap.payload, loaded.state.id, loaded.state.version, loaded.playbook.title
        )
        return [rec, self._plan(loaded.state.id, repo.plan_items(s, loaded.state.id))]

    @staticmethod
    def _plan(consultation_id: int, items: list[repo.PlanRow]) -> Plan:
        return Plan(
            consultation_id,
            tuple(PlanItemView(i.id, i.action, i.due_date, i.status) for i in items),
        )

    def _finish(self, s: Session, loaded: _Loaded, now: datetime) -> Messages:
        """Rank, store what is shown and the plan, and mark the consultation completed."""
        state, pb = loaded.state, loaded.playbook
        ranking = rank(pb, loaded.answers, now.date())
        if not ranking.paths:
            return [Notice("None of the paths in this playbook fit your answers.", Level.WARNING)]
        advice = compose(pb, loaded.answers, now.date())
        repo.advance(s, state, now, status="completed", current_step=None, completed_at=now)
        payload = ranking_to_payload(ranking, effective_answers(pb, loaded.answers), advice)
        repo.add_snapshot(s, state.id, state.playbook_version, payload, now)
        steps = advice.plan if advice is not None else ranking.next_steps
        items = repo.replace_open_plan(s, state.id, [(st.text, st.due) for st in steps], now)
        rec = payload_to_recommendation(payload, state.id, state.version, pb.title)
        out: Messages = [Text(pb.wording.finished), rec, self._plan(state.id, items)]
        offer = self.checkins.offer(s, state.user_id, state.id, items)
        if offer is not None:
            out.append(offer)
        return out

    # ------------------------------------------------------------------ start / answer

    async def _start(self, event: ev.Start | ev.Restart, now: datetime) -> Messages:
        restart = isinstance(event, ev.Restart)
        for attempt in range(3):
            try:
                return await self.db.run(
                    self._start_unit,
                    event.user,
                    event.playbook_id,
                    restart,
                    now,
                    event.origin_tenant,
                )
            except IntegrityError:
                # Two starts raced and the other one created the consultation: use that one.
                log.info("start raced with another start (attempt %d)", attempt + 1)
        return await self.db.run(self._resume, event.user, now)

    def _default_playbook_id(self, s: Session, user: ev.UserRef, origin: str | None) -> str:
        chosen = repo.tenant_default_playbook(s, user.platform, origin or user.tenant)
        if chosen and self.playbooks.get(chosen) is not None:
            return chosen
        return self.settings.default_playbook

    def _start_unit(
        self,
        s: Session,
        user: ev.UserRef,
        playbook_id: str | None,
        restart: bool,
        now: datetime,
        origin: str | None = None,
    ) -> Messages:
        uid = repo.get_or_create_user_id(s, user, now)
        current = repo.current_state(s, user) if restart else None
        if current is not None and origin is None:
            origin = current.origin_tenant  # a restart keeps the server it came from
        if playbook_id is None:
            playbook_id = (
                current.playbook_id if current else self._default_playbook_id(s, user, origin)
            )
        pb = self.playbooks.get(playbook_id)
        if pb is None:
            raise self._unknown_playbook(playbook_id)
        lead: Messages = []
        if restart:
            repo.close_open(s, uid, pb.id, now)
            lead.append(Notice("Starting again from the first question."))
        else:
            existing = repo.active_state(s, uid, pb.id)
            if existing is not None:
                loaded = _Loaded(existing, self._playbook_for(s, pb.id, existing.playbook_version))
                return [
                    Notice(
                        "You already have a consultation in progress, so we continue it. "
                        "Use restart to begin again from the first question."
                    ),
                    *self._where_we_are(s, loaded, now),
                ]
        first = self._next_question(pb, {})
        assert first is not None, "a playbook always has an unconditional first question"
        state = repo.create_consultation(s, uid, pb.id, pb.version, first.id, now, origin)
        loaded = _Loaded(state, pb)
        return [*lead, Text(pb.intro.strip(), title=pb.title), self.question_message(loaded, first)]

    async def _answer(self, event: ev.Answer, now: datetime) -> Messages:
        try:
            return await self.db.run(self._answer_unit, event, now)
        except Conflict:
            # Someone else (a second click, another process) moved this consultation on.
            return await self.db.run(self._stale, event.user, event.consultation_id, now)

    def _stale(
        self, s: Session, user: ev.UserRef, consultation_id: int | None, now: datetime
    ) -> Messages:
        loaded = self._load(s, user, consultation_id)
        if loaded is None:
            return self._nothing_yet()
        return [Notice(loaded.playbook.wording.stale), *self._where_we_are(s, loaded, now)]

    def _answer_unit(self, s: Session, event: ev.Answer, now: datetime) -> Messages:
        loaded = self._load(s, event.user, event.consultation_id)
        if loaded is None:
            if event.consultation_id is not None:
                return [Notice("That consultation is closed or no longer exists.")]
            return self._nothing_yet()
        state, pb = loaded.state, loaded.playbook
        stale = (
            state.status != "active"
            or (event.step is not None and event.step != state.version)
            or (event.question_id is not None and event.question_id != state.current_step)
        )
        if stale:
            return [Notice(pb.wording.stale), *self._where_we_are(s, loaded, now)]
        q = pb.question(state.current_step or "")
        if q is None:
            return self._where_we_are(s, loaded, now)
        value = parse_answer(q, event.value, pb.wording, self.settings.max_text_length)
        if isinstance(value, Invalid):
            return [self.question_message(loaded, q, error=value.reason)]
        replaces = q.id in state.answers
        answers = {**state.answers, q.id: value}
        nxt = self._next_question(pb, answers)
        # The version check: a concurrent turn on the same step fails here, before any insert.
        repo.advance(s, state, now, current_step=nxt.id if nxt else None, answers=answers)
        repo.record_answer(s, state.id, q.id, value, now, replaces=replaces)
        if nxt is None:
            return self._finish(s, loaded, now)
        return [self.question_message(loaded, nxt)]

    # ------------------------------------------------------------------ navigation

    def _move_to(self, s: Session, loaded: _Loaded, q: PlaybookQuestion, now: datetime) -> Messages:
        repo.advance(s, loaded.state, now, status="active", current_step=q.id)
        return [self.question_message(loaded, q)]

    def _back(self, s: Session, user: ev.UserRef, now: datetime) -> Messages:
        loaded = self._load(s, user)
        if loaded is None:
            return self._nothing_yet()
        visible = [q.id for q in visible_questions(loaded.playbook, loaded.answers)]
        step = loaded.state.current_step
        here = visible.index(step) if step in visible else len(visible)
        if here == 0:
            return [
                Notice("This is the first question; there is nothing before it."),
                *self._where_we_are(s, loaded, now),
            ]
        target = loaded.playbook.question(visible[here - 1])
        assert target is not None
        return self._move_to(s, loaded, target, now)

    def _edit(self, s: Session, user: ev.UserRef, question: str, now: datetime) -> Messages:
        loaded = self._load(s, user)
        if loaded is None:
            return self._nothing_yet()
        visible = visible_questions(loaded.playbook, loaded.answers)
        token = question.strip().lower()
        target: PlaybookQuestion | None
        if token.isdigit() and 1 <= int(token) <= len(visible):
            target = visible[int(token) - 1]
        else:
            target = next((q for q in visible if q.id == token), None)
        if target is None:
            listing = "; ".join(
                f"{i}. {q.label}" for i, q in enumerate(visible, start=1) if q.id in loaded.answers
            )
            return [
                Notice(
                    "I could not find that question. Pick one by its number: " + listing,
                    Level.WARNING,
                )
            ]
        return self._move_to(s, loaded, target, now)

    def _resume(self, s: Session, user: ev.UserRef, now: datetime) -> Messages:
        loaded = self._load(s, user)
        if loaded is None:
            return self._nothing_yet()
        lead: Messages = []
        if loaded.state.status == "active":
            lead = [Notice(loaded.playbook.wording.welcome_back)]
        return [*lead, *self._where_we_are(s, loaded, now)]

    def _cancel(self, s: Session, user: ev.UserRef, now: datetime) -> Messages:
        loaded = self._load(s, user)
        if loaded is None:
            return self._nothing_yet()
        repo.advance(s, loaded.state, now, status="cancelled")
        return [
            Notice(
                "Consultation closed. Your answers stay saved until you ask me to forget you; "
                "start begins a new one."
            )
        ]

    def _status(self, s: Session, user: ev.UserRef) -> Messages:
        loaded = self._load(s, user)
        if loaded is None:
            return self._nothing_yet()
        pb = loaded.playbook
        visible = visible_questions(pb, loaded.answers)
        answered = [q for q in visible if q.id in loaded.answers]
        return [
            Status(
                consultation_id=loaded.state.id,
                playbook_title=pb.title,
                state=loaded.state.status,
                position=len(answered),
                total=len(visible),
                answers=tuple(
                    AnswerSummary(q.id, q.label, q.describe(loaded.answers[q.id])) for q in answered
                ),
            )
        ]

    def _show_path(self, s: Session, user: ev.UserRef, path_id: str) -> Messages:
        loaded = self._load(s, user)
        snap = repo.latest_snapshot(s, loaded.state.id) if loaded else None
        if loaded is None or snap is None:
            return [Notice("There is no recommendation yet: finish the questions first.")]
        rec = payload_to_recommendation(snap.payload, loaded.state.id, loaded.state.version, "")
        path = next((p for p in rec.paths if p.path_id == path_id), None)
        if path is None:
            return [Notice("That path is not part of your latest recommendation.")]
        return [PathDetail(loaded.state.id, path)]

    # ------------------------------------------------------------------ privacy

    def _export(self, s: Session, user: ev.UserRef, now: datetime) -> Messages:
        row = repo.find_user(s, user)
        if row is None:
            return [Notice("I have no data about you.")]
        return [export_markdown(s, row, self._playbook_for, now)]

    async def _forget(self, user: ev.UserRef, confirmed: bool) -> Messages:
        if not confirmed:
            return [
                Confirm(
                    "This deletes everything I keep about you: consultations, answers, "
                    "recommendations, plans and check-ins. It cannot be undone. Go ahead?",
                    FORGET_ACTION,
                    confirm_label="Delete my data",
                    cancel_label="Keep it",
                )
            ]

        def unit(s: Session) -> None:
            uid = repo.user_id(s, user)
            if uid is not None:
                repo.delete_user(s, uid)

        await self.db.run(unit)
        return [Notice("Done: everything I kept about you is deleted.", Level.SUCCESS)]

    # ------------------------------------------------------------------ admin

    async def tenant_default_playbook(self, platform: str, tenant: str) -> str:
        """The playbook new consultations from this server/workspace use."""
        ref = ev.UserRef(platform, tenant, "")
        return await self.db.run(lambda s: self._default_playbook_id(s, ref, tenant))

    async def set_tenant_playbook(self, platform: str, tenant: str, playbook_id: str) -> Notice:
        if self.playbooks.get(playbook_id) is None:
            raise self._unknown_playbook(playbook_id)
        now = self.clock()
        await self.db.run(
            lambda s: repo.set_tenant_settings(
                s, platform, tenant, now, default_playbook=playbook_id
            )
        )
        return Notice(f"New consultations here now use the playbook {playbook_id}.", Level.SUCCESS)

    async def set_tenant_checkin_defaults(
        self,
        platform: str,
        tenant: str,
        *,
        cadence_days: int | None = None,
        timezone: str | None = None,
        quiet_hours: str | None = None,
    ) -> Notice:
        """Server/workspace defaults for check-ins; invalid values get a polite refusal."""
        try:
            changes = checkin_defaults(cadence_days, timezone, quiet_hours)
        except ValueError as exc:
            return Notice(str(exc), Level.WARNING)
        if not changes:
            return Notice("Nothing to change: give a cadence, a time zone or quiet hours.")
        now = self.clock()

        def unit(s: Session) -> dict[str, Any]:
            row = repo.tenant_settings(s, platform, tenant)
            merged = {**((row.checkin_defaults if row else None) or {}), **changes}
            repo.set_tenant_settings(s, platform, tenant, now, checkin_defaults=merged)
            return merged

        merged = await self.db.run(unit)
        summary = ", ".join(f"{k.replace('_', ' ')} {v}" for k, v in sorted(merged.items()))
        return Notice(f"Check-in defaults here: {summary}.", Level.SUCCESS)

    async def tenant_overview(self, platform: str, tenant: str) -> Text:
        """What an admin has set for this server/workspace, in words."""
        row = await self.db.run(lambda s: repo.tenant_settings(s, platform, tenant))
        playbook = (row.default_playbook if row else None) or self.settings.default_playbook
        defaults = (row.checkin_defaults if row else None) or {}
        lines = [f"Default playbook: {playbook} (available: {', '.join(self.playbooks.ids())})."]
        cadence = defaults.get("cadence_days")
        lines.append(
            f"Check-in cadence: every {cadence} days."
            if cadence
            else "Check-in cadence: the dates each plan suggests."
        )
        lines.append(
            f"Time zone fallback: {defaults.get('timezone', self.settings.default_timezone)}."
        )
        quiet = defaults.get("quiet_hours") or (
            f"{self.settings.quiet_hours_start:%H:%M}-{self.settings.quiet_hours_end:%H:%M}"
        )
        lines.append(f"Quiet hours: {quiet}.")
        return Text("\n".join(lines), title="Crossroads settings here")


def checkin_defaults(
    cadence_days: int | None, timezone: str | None, quiet_hours: str | None
) -> dict[str, Any]:
    """Validate admin check-in defaults; raises ValueError with a sentence for the admin."""
    changes: dict[str, Any] = {}
    if cadence_days is not None:
        if not 1 <= cadence_days <= 90:
            raise ValueError("The check-in cadence must be between 1 and 90 days.")
        changes["cadence_days"] = cadence_days
    if timezone is not None:
        try:
            ZoneInfo(timezone.strip())
        except (ZoneInfoNotFoundError, ValueError):
            raise ValueError(
                "That is not a time zone I know; use an IANA name such as Europe/Berlin."
            ) from None
        changes["timezone"] = timezone.strip()
    if quiet_hours is not None:
        match = re.fullmatch(
            r"\s*([01]\d|2[0-3]):([0-5]\d)\s*-\s*([01]\d|2[0-3]):([0-5]\d)\s*", quiet_hours
        )
        if match is None:
            raise ValueError("Quiet hours look like 21:00-08:00 (24-hour clock, start-end).")
        changes["quiet_hours"] = f"{match[1]}:{match[2]}-{match[3]}:{match[4]}"
    return changes
