"""Check-in events: schedule, list, snooze/change/cancel, answer, preferences.

Same rules as the rest of the engine: each event is one unit of work (a plain function
run in one transaction by Database.run) and the reply is built from what it wrote. A
unit also returns its outcome and the earliest due time it created, so the process's
scheduler can wake for it without waiting for its next poll (other processes pick it up
on theirs).
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterable
from dataclasses import replace
from datetime import date, datetime, timedelta
from typing import Any, NamedTuple

from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from bot import events as ev
from bot.advice import visible_questions
from bot.checkins import texts
from bot.checkins.schedule import (
    Prefs,
    QuietHours,
    Spec,
    describe_repeat,
    out_of_quiet,
    parse_quiet,
    resolve_prefs,
    resolve_when,
    snooze_local,
    to_local,
    to_utc,
    zone,
)
from bot.core.context import CoreContext
from bot.core.dispatcher import Dispatcher
from bot.core.reply import Outcome
from bot.core.result import Result as CoreResult
from bot.messages import (
    Answerable,
    AnyMessage,
    CheckInAsked,
    CheckInChoice,
    CheckInList,
    CheckInOffer,
    CheckInView,
    ChoiceOption,
    Level,
    Notice,
    OfferAsked,
    PlanItemView,
    RevisitOffer,
    TimezoneQuestion,
)
from bot.playbook.conditions import Condition
from bot.playbook.schema import Playbook
from bot.store import checkins_repo as repo
from bot.store import repository as base_repo
from bot.store.checkins_repo import OwnedCheckIn
from bot.store.models import PlanItem, User

Messages = list[AnyMessage]


class Done(NamedTuple):
    """What a unit did; ``answered``: what a click answered, for the clicked message's
    receipt (units with nothing to say there return the first three as a plain tuple)."""

    outcome: Outcome
    messages: Messages
    due: datetime | None = None
    answered: tuple[Answerable, str] | None = None


Result = tuple[Outcome, Messages, datetime | None] | Done
KNOWN_SOURCES = ("person", "platform")  # users.timezone_source values the person stands by
CLOSED = ("answered", "done", "stopped", "cancelled", "replaced")
DEFAULT_CADENCE_DAYS = 14


class _Changed(Exception):
    """The check-in changed between reading and writing it (another click, another process)."""


def _fmt(local: datetime) -> str:
    return f"{local:%a %d %b %Y, %H:%M}"


class CheckIns:
    """The check-in feature: its events, and the offer shown after a recommendation."""

    def __init__(self, ctx: CoreContext) -> None:
        self.ctx = ctx
        # Called in the unit of an answered check-in (the mentor hand-off copies it to the
        # mentor if the person agreed): (session, user id, step, answer in words, now).
        self.on_answered: Callable[[Session, int, str, str, datetime], None] | None = None

    def register(self, dispatcher: Dispatcher) -> None:
        dispatcher.register(
            self.handle,
            ev.ScheduleCheckIns,
            ev.ListCheckIns,
            ev.SnoozeCheckIn,
            ev.ChangeCheckIn,
            ev.CancelCheckIn,
            ev.AnswerCheckIn,
            ev.SetTimezone,
            ev.SetQuietHours,
        )

    async def handle(self, event: ev.CheckInEvent, now: datetime) -> CoreResult:
        unit: Callable[..., Result]
        match event:
            case ev.ScheduleCheckIns():
                unit = self._schedule
            case ev.ListCheckIns():
                unit = self._list_unit
            case ev.SnoozeCheckIn():
                unit = self._snooze
            case ev.ChangeCheckIn():
                unit = self._change
            case ev.CancelCheckIn():
                unit = self._cancel
            case ev.AnswerCheckIn():
                unit = self._answer
            case ev.SetTimezone():
                unit = self._set_timezone
            case ev.SetQuietHours():
                unit = self._set_quiet
        answered: tuple[Answerable, str] | None = None
        for _attempt in range(3):
            try:
                outcome, messages, due, answered = Done(*await self.ctx.db.run(unit, event, now))
                break
            except IntegrityError:
                # A concurrent twin (double click, second process) wrote first: redo on top.
                continue
            except _Changed:
                outcome = Outcome.STALE
                messages = [Notice("That check-in changed meanwhile; here is the list now.")]
                messages.append(await self.ctx.db.run(self._list_message_for, event.user, now))
                due = None
                break
        else:
            outcome, messages, due = (
                Outcome.UNAVAILABLE,
                [Notice("That did not go through; please try again.", Level.WARNING)],
                None,
            )
        if due is not None:
            self.ctx.wake_checkins(due)
        return CoreResult(outcome, messages, answered=answered)

    # ------------------------------------------------------------------ helpers

    def prefs(self, s: Session, user: User) -> Prefs:
        return self._prefs(
            repo.PrefsRow(
                user.timezone,
                user.quiet_start,
                user.quiet_end,
                user.timezone_source,
                repo.tenant_defaults(s, user.platform, user.tenant),
            )
        )

    def _prefs(self, row: repo.PrefsRow) -> Prefs:
        cfg = self.ctx.settings
        prefs = resolve_prefs(
            row.timezone,
            row.quiet_start,
            row.quiet_end,
            row.tenant_defaults,
            cfg.default_timezone,
            QuietHours(cfg.quiet_hours_start, cfg.quiet_hours_end),
        )
        # A zone copied from a server default is a fallback, not the person's own.
        return replace(prefs, tz_known=row.timezone_source in KNOWN_SOURCES)

    def _cadence(self, s: Session, user: User, server: str | None = None) -> int:
        defaults = repo.tenant_defaults(s, user.platform, server or user.tenant) or {}
        value = defaults.get("cadence_days")
        return int(value) if isinstance(value, int) and value > 0 else DEFAULT_CADENCE_DAYS

    def _user(self, s: Session, ref: ev.UserRef, now: datetime) -> User:
        uid = base_repo.get_or_create_user_id(s, ref, now)
        user = repo.user_row(s, uid)
        assert user is not None
        return user

    @staticmethod
    def _due_at(local: datetime, prefs: Prefs) -> datetime:
        return out_of_quiet(to_utc(local, prefs.tz), prefs.tz, prefs.quiet)

    def _owned(self, s: Session, ref: ev.UserRef, checkin_id: int) -> OwnedCheckIn | None:
        uid = base_repo.user_id(s, ref)
        return repo.owned_checkin(s, uid, checkin_id) if uid is not None else None

    def _server_defaults(self, s: Session, user: User, tenant: str) -> None:
        """Fill what the person has not set from a server's admin defaults (Discord)."""
        defaults = repo.tenant_defaults(s, user.platform, tenant) or {}
        if defaults.get("timezone") and user.timezone_source not in KNOWN_SOURCES:
            try:
                user.timezone = zone(str(defaults["timezone"])).key
            except ValueError:
                pass
            else:
                user.timezone_source = user.timezone_source or "server"
        if defaults.get("quiet_hours") and not (user.quiet_start and user.quiet_end):
            try:
                quiet = parse_quiet(str(defaults["quiet_hours"]))
            except ValueError:
                return
            user.quiet_start, user.quiet_end = f"{quiet.start:%H:%M}", f"{quiet.end:%H:%M}"

    def _timezone_question(self, user: User, prefs: Prefs) -> TimezoneQuestion | None:
        """Asked once, when neither the person nor the platform gave a zone."""
        if prefs.tz_known or user.timezone_source not in (None, "server"):
            return None
        user.timezone_source = "asked"
        return TimezoneQuestion(
            "Which time zone are you in? I send check-ins at your local time and keep quiet "
            f"at night. Until you tell me, I use {prefs.tz_name}.",
            prefs.tz_name,
            texts.TIMEZONE_SUGGESTIONS,
        )

    # ------------------------------------------------------------------ the offer

    def offer(self, s: Session, user_id: int, consultation_id: int, items: Iterable[Any]) -> Any:
        """The check-in choice shown after a recommendation (None when the plan is empty)."""
        views = tuple(
            PlanItemView(i.id, i.action, i.due_date, i.status) for i in items if i.status != "done"
        )
        if not views:
            return None
        row = repo.prefs_row(s, user_id)
        if row is None:
            return None
        prefs = self._prefs(row)
        return CheckInOffer(
            consultation_id, views, texts.OFFER_CHOICES, prefs.tz_name, prefs.tz_known
        )

    @staticmethod
    def cancelled_by_new_plan(actions: list[str]) -> Messages:
        """Tell the person which check-ins went with the steps a new plan dropped."""
        if not actions:
            return []
        steps = "; ".join(f"“{a}”" for a in actions)
        return [
            Notice(
                f"Your new plan no longer has {len(actions)} step(s) you had check-ins for, "
                f"so those check-ins are cancelled: {steps}.",
                Level.WARNING,
            )
        ]

    # ------------------------------------------------------------------ schedule

    def _schedule(self, s: Session, event: ev.ScheduleCheckIns, now: datetime) -> Result:
        user = self._user(s, event.user, now)
        if event.platform_timezone:
            with contextlib.suppress(ValueError):  # a zone we do not know: use the fallback
                self._apply_timezone(s, user, event.platform_timezone, "platform", now)
        loaded = self.ctx.load(s, event.user, event.consultation_id)
        server = event.server_tenant or (loaded.state.origin_tenant if loaded else None)
        if server:
            self._server_defaults(s, user, server)
        if loaded is None:
            return (
                Outcome.NOT_FOUND,
                [Notice("There is no plan yet: finish a consultation first.")],
                None,
            )
        offer = (OfferAsked(loaded.state.id), texts.when_words(event.when))
        if event.when is None:
            return Done(
                Outcome.APPLIED,
                [Notice("No check-ins, then. You can set them up later from your check-ins.")],
                answered=offer,
            )
        items = repo.open_plan_items(s, loaded.state.id, event.plan_item_ids)
        if not items:
            return Outcome.NOT_FOUND, [Notice("Your plan has no open steps to check in on.")], None
        prefs = self.prefs(s, user)
        now_local = to_local(now, prefs.tz)
        cadence = self._cadence(s, user, server)
        try:
            specs = [
                (item, self._spec(event.when, now_local, suggested=item[2], cadence=cadence))
                for item in items
            ]
        except ValueError as exc:
            return Outcome.INVALID, [Notice(str(exc), Level.WARNING)], None
        earliest: datetime | None = None
        for (plan_item_id, _action, _due), spec in specs:
            repo.replace_pending_for_item(s, plan_item_id, now)
            due_at = self._insert(s, user, plan_item_id, spec, prefs, now)
            earliest = due_at if earliest is None else min(earliest, due_at)
        assert earliest is not None
        first = to_local(earliest, prefs.tz)
        count = len(specs)
        steps = "step" if count == 1 else "steps"
        out: Messages = [
            Notice(
                f"Check-ins are set for {count} {steps} of your plan; the first comes "
                f"{_fmt(first)} ({prefs.tz_name}).",
                Level.SUCCESS,
            ),
            self._list_message(s, user, prefs, now),
        ]
        question = self._timezone_question(user, prefs)
        if question is not None:
            out.append(question)
        return Done(Outcome.APPLIED, out, earliest, offer)

    def _spec(
        self, when: ev.When, now_local: datetime, suggested: date | None, cadence: int
    ) -> Spec:
        return resolve_when(
            when.kind,
            days=when.days,
            on=when.on,
            now_local=now_local,
            at=self.ctx.settings.checkin_time,
            suggested=suggested,
            fallback_days=cadence,
        )

    def _insert(
        self, s: Session, user: User, plan_item_id: int, spec: Spec, prefs: Prefs, now: datetime
    ) -> datetime:
        local = spec.first_local()
        due_at = self._due_at(local, prefs)
        repo.insert_checkin(
            s,
            user_id=user.id,
            platform=user.platform,
            plan_item_id=plan_item_id,
            kind=spec.kind,
            interval_days=spec.interval_days,
            anchor=spec.anchor,
            at_time=f"{spec.at:%H:%M}",
            cycle=0,
            occurrence=1,
            local_due=local,
            due_at=due_at,
            state="pending",
            failures=0,
            missed_pending=False,
            missed_count=0,
            created_at=now,
            updated_at=now,
        )
        return due_at

    # ------------------------------------------------------------------ list

    def _list_unit(self, s: Session, event: ev.ListCheckIns, now: datetime) -> Result:
        return Outcome.SHOWN, [self._list_message_for(s, event.user, now)], None

    def listing(self, s: Session, ref: ev.UserRef, now: datetime) -> CheckInList | None:
        """The person's check-ins, or None for someone unknown (nobody is created)."""
        uid = base_repo.user_id(s, ref)
        user = repo.user_row(s, uid) if uid is not None else None
        return self._list_message(s, user, self.prefs(s, user), now) if user else None

    def _list_message_for(self, s: Session, ref: ev.UserRef, now: datetime) -> CheckInList:
        user = self._user(s, ref, now)
        return self._list_message(s, user, self.prefs(s, user), now)

    def _list_message(self, s: Session, user: User, prefs: Prefs, now: datetime) -> CheckInList:
        views = []
        for row in repo.user_checkins(s, user.id):
            nxt = row.due_at.astimezone(prefs.tz) if row.state == "pending" else None
            views.append(
                CheckInView(
                    checkin_id=row.id,
                    plan_item_id=row.plan_item_id or 0,
                    action=row.action,
                    schedule=describe_repeat(row.kind, row.interval_days),
                    state=row.state,
                    next_due_local=nxt,
                    plan_status=row.plan_status,
                    last_error=row.last_error or "",
                )
            )
        return CheckInList(tuple(views), prefs.tz_name, str(prefs.quiet), texts.LIST_ACTIONS)

    # ------------------------------------------------------------------ snooze / change / cancel

    def _reschedule(
        self,
        s: Session,
        row: OwnedCheckIn,
        local: datetime,
        prefs: Prefs,
        now: datetime,
        **more: Any,
    ) -> datetime:
        """Make ``row`` pending at wall time ``local`` as a new occurrence (a new send key)."""
        if row.plan_item_id is not None:
            repo.replace_pending_for_item(s, row.plan_item_id, now, keep=row.id)
        due_at = self._due_at(local, prefs)
        changed = repo.update_owned(
            s,
            row.id,
            row.occurrence,
            state="pending",
            occurrence=row.occurrence + 1,
            local_due=local,
            due_at=due_at,
            failures=0,
            last_error=None,
            claimed_by=None,
            lease_until=None,
            missed_pending=False,
            updated_at=now,
            **more,
        )
        if not changed:
            raise _Changed
        return due_at

    def _open_row(
        self, s: Session, ref: ev.UserRef, checkin_id: int
    ) -> tuple[OwnedCheckIn | None, Result]:
        row = self._owned(s, ref, checkin_id)
        if row is None:
            notice = Notice("I have no check-in with that number.", Level.WARNING)
            return None, (Outcome.NOT_FOUND, [notice], None)
        if row.state in CLOSED:
            return None, (Outcome.STALE, [Notice("That check-in is already closed.")], None)
        return row, (Outcome.APPLIED, [], None)

    def _snooze(self, s: Session, event: ev.SnoozeCheckIn, now: datetime) -> Result:
        row, problem = self._open_row(s, event.user, event.checkin_id)
        if row is None:
            return problem
        if not 1 <= event.days <= 365:
            return Outcome.INVALID, [Notice("Snooze for 1 to 365 days.", Level.WARNING)], None
        user = self._user(s, event.user, now)
        prefs = self.prefs(s, user)
        later = snooze_local(to_local(now, prefs.tz), event.days)
        if row.state == "pending" and row.local_due is not None:
            later = max(later, row.local_due + timedelta(days=event.days))
        due = self._reschedule(s, row, later, prefs, now)
        return (
            Outcome.APPLIED,
            [
                Notice(f"Snoozed: I will ask on {_fmt(to_local(due, prefs.tz))}.", Level.SUCCESS),
                self._list_message(s, user, prefs, now),
            ],
            due,
        )

    def _change(self, s: Session, event: ev.ChangeCheckIn, now: datetime) -> Result:
        row = self._owned(s, event.user, event.checkin_id)
        if row is None or row.state == "replaced":
            notice = Notice("I have no check-in with that number.", Level.WARNING)
            return Outcome.NOT_FOUND, [notice], None
        user = self._user(s, event.user, now)
        prefs = self.prefs(s, user)
        item = s.get(PlanItem, row.plan_item_id) if row.plan_item_id is not None else None
        try:
            spec = self._spec(
                event.when,
                to_local(now, prefs.tz),
                suggested=item.due_date if item is not None else None,
                cadence=self._cadence(s, user),
            )
        except ValueError as exc:
            return Outcome.INVALID, [Notice(str(exc), Level.WARNING)], None
        due = self._reschedule(
            s,
            row,
            spec.first_local(),
            prefs,
            now,
            kind=spec.kind,
            interval_days=spec.interval_days,
            anchor=spec.anchor,
            at_time=f"{spec.at:%H:%M}",
            cycle=0,
        )
        return (
            Outcome.APPLIED,
            [
                Notice(
                    f"Changed: {spec.describe()}; next {_fmt(to_local(due, prefs.tz))}.",
                    Level.SUCCESS,
                ),
                self._list_message(s, user, prefs, now),
            ],
            due,
        )

    def _cancel(self, s: Session, event: ev.CancelCheckIn, now: datetime) -> Result:
        row, problem = self._open_row(s, event.user, event.checkin_id)
        if row is None:
            return problem
        self._close(s, row, "cancelled", now)
        user = self._user(s, event.user, now)
        return (
            Outcome.APPLIED,
            [
                Notice("Cancelled: no more check-ins about that step.", Level.SUCCESS),
                self._list_message(s, user, self.prefs(s, user), now),
            ],
            None,
        )

    @staticmethod
    def _close(s: Session, row: OwnedCheckIn, state: str, now: datetime) -> None:
        if not repo.update_owned(
            s,
            row.id,
            row.occurrence,
            state=state,
            claimed_by=None,
            lease_until=None,
            missed_pending=False,
            updated_at=now,
        ):
            raise _Changed

    # ------------------------------------------------------------------ answers

    def _answer(self, s: Session, event: ev.AnswerCheckIn, now: datetime) -> Result:
        row = self._owned(s, event.user, event.checkin_id)
        if row is None:
            return Outcome.NOT_FOUND, [Notice("That check-in no longer exists.")], None
        try:
            choice = CheckInChoice(event.answer)
        except ValueError:
            notice = Notice("I did not understand that answer.", Level.WARNING)
            return Outcome.INVALID, [notice], None
        if row.sent_occurrence is None or event.occurrence > row.sent_occurrence:
            notice = Notice("That check-in has not been sent yet.", Level.WARNING)
            return Outcome.STALE, [notice], None
        if event.occurrence < row.sent_occurrence:
            notice = Notice("That is an older check-in; I already asked you again since.")
            return Outcome.STALE, [notice], None
        if not repo.record_outcome(s, row.id, event.occurrence, choice, now):
            return Outcome.STALE, [Notice("I already have your answer to this check-in.")], None
        user = self._user(s, event.user, now)
        prefs = self.prefs(s, user)
        status = {
            CheckInChoice.DONE: "done",
            CheckInChoice.IN_PROGRESS: "in_progress",
            CheckInChoice.BLOCKED: "blocked",
        }.get(choice)
        if status is not None and row.plan_item_id is not None:
            repo.set_plan_status(s, row.plan_item_id, status, now)
        due: datetime | None = None
        out: Messages = []
        live = row.state not in CLOSED
        answered = (
            CheckInAsked(row.id, row.action),
            texts.choice_label(texts.PROMPT_CHOICES, choice),
        )
        if self.on_answered is not None and choice not in (
            CheckInChoice.SNOOZE_DAY,
            CheckInChoice.SNOOZE_WEEK,
        ):
            self.on_answered(s, row.user_id, row.action, answered[1], now)
        if choice in (CheckInChoice.SNOOZE_DAY, CheckInChoice.SNOOZE_WEEK):
            if not live:
                return Outcome.STALE, [Notice("That check-in is already closed.")], None
            days = 1 if choice == CheckInChoice.SNOOZE_DAY else 7
            due = self._reschedule(s, row, snooze_local(to_local(now, prefs.tz), days), prefs, now)
            out.append(
                Notice(f"Snoozed: I will ask on {_fmt(to_local(due, prefs.tz))}.", Level.SUCCESS)
            )
            return Done(Outcome.APPLIED, out, due, answered)
        if live and choice in (CheckInChoice.DONE, CheckInChoice.STOP):
            self._close(s, row, "done" if choice == CheckInChoice.DONE else "stopped", now)
        elif live and row.kind == "once":
            self._close(s, row, "answered", now)
        out.append(Notice(texts.ANSWER_NOTES[choice], Level.SUCCESS))
        if choice in (CheckInChoice.BLOCKED, CheckInChoice.SITUATION_CHANGED):
            offer = self._revisit(s, row)
            if offer is not None:
                out.append(offer)
        return Done(Outcome.APPLIED, out, due, answered)

    def _revisit(self, s: Session, row: OwnedCheckIn) -> RevisitOffer | None:
        """Offer the questions behind this step, so the advice can be redone from there."""
        if row.plan_item_id is None:
            return None
        consultation = repo.consultation_of_item(s, row.plan_item_id)
        if consultation is None or consultation.status not in base_repo.OPEN_STATES:
            return None
        pb = self.ctx.playbook_for(s, consultation.playbook_id, consultation.playbook_version)
        answers = consultation.answers or {}
        answered = [q for q in visible_questions(pb, answers) if q.id in answers]
        wanted = relevant_questions(pb, row.action)
        chosen = [q for q in answered if q.id in wanted] or answered
        if not chosen:
            return None
        return RevisitOffer(
            consultation.id,
            "Would you like to revisit the advice? Pick the answer that changed; "
            "I keep all your other answers.",
            tuple(
                ChoiceOption(q.id, q.label[:80], f"Now: {q.describe(answers[q.id])}"[:100])
                for q in chosen[:25]
            ),
        )

    # ------------------------------------------------------------------ preferences

    def _apply_timezone(
        self, s: Session, user: User, name: str, source: str, now: datetime
    ) -> datetime | None:
        if source == "platform" and user.timezone_source == "person":
            return None  # the person's own choice wins over what the platform says
        key = zone(name).key
        if user.timezone == key and user.timezone_source == source:
            return None
        user.timezone, user.timezone_source = key, source
        return self._recompute(s, user, now)

    def _recompute(self, s: Session, user: User, now: datetime) -> datetime | None:
        """New zone or quiet hours: pending check-ins keep their wall time, get a new instant."""
        prefs = self.prefs(s, user)
        earliest: datetime | None = None
        for checkin_id, local_due, _due_at in repo.pending_of_user(s, user.id):
            if local_due is None:
                continue
            due = self._due_at(local_due, prefs)
            repo.set_due(s, checkin_id, due, now)
            earliest = due if earliest is None else min(earliest, due)
        return earliest

    def _set_timezone(self, s: Session, event: ev.SetTimezone, now: datetime) -> Result:
        try:
            zone(event.timezone)
        except ValueError as exc:
            if event.from_platform:
                return Outcome.SHOWN, [], None
            return Outcome.INVALID, [Notice(str(exc), Level.WARNING)], None
        user = self._user(s, event.user, now)
        source = "platform" if event.from_platform else "person"
        due = self._apply_timezone(s, user, event.timezone, source, now)
        if event.from_platform:
            return Outcome.APPLIED, [], due
        return (
            Outcome.APPLIED,
            [
                Notice(
                    f"Your time zone is {user.timezone}: check-ins come at your local time.",
                    Level.SUCCESS,
                )
            ],
            due,
        )

    def _set_quiet(self, s: Session, event: ev.SetQuietHours, now: datetime) -> Result:
        text = event.quiet_hours.strip().lower()
        user = self._user(s, event.user, now)
        if text == "default":
            user.quiet_start = user.quiet_end = None
        else:
            try:
                quiet = parse_quiet(text)
            except ValueError as exc:
                return Outcome.INVALID, [Notice(str(exc), Level.WARNING)], None
            user.quiet_start, user.quiet_end = f"{quiet.start:%H:%M}", f"{quiet.end:%H:%M}"
        due = self._recompute(s, user, now)
        quiet_now = self.prefs(s, user).quiet
        said = "off" if quiet_now.off else f"{quiet_now} ({self.prefs(s, user).tz_name})"
        return Outcome.APPLIED, [Notice(f"Quiet hours: {said}.", Level.SUCCESS)], due


def relevant_questions(pb: Playbook, action: str) -> set[str]:
    """Questions whose answers decided that ``action`` was advised (step, path, weights)."""
    found: set[str] = set()
    wanted = action.strip()

    def leaves(cond: Condition | None) -> None:
        if cond is not None:
            found.update(leaf.q for leaf in cond.leaves() if leaf.q)

    for path in pb.paths:
        steps = [st for st in path.next_steps if st.text.strip() == wanted]
        if not steps:
            continue
        for st in steps:
            leaves(st.when)
        leaves(path.when)
        for adj in path.adjust:
            leaves(adj.when)
        for variant in path.variants:
            leaves(variant.when)
        for criterion in pb.criteria:
            if criterion.id in path.ratings and criterion.weight.question:
                found.add(criterion.weight.question)
    return found
