"""The consultation: start, answer, go back, edit, resume, cancel, status, path details.

Each event is one unit of work (a plain function run in one transaction by
``Database.run``); the results it returns are built from what that transaction wrote, so a
crash after the commit loses nothing and a crash before it changes nothing.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import datetime
from typing import Any

from sqlalchemy.engine import Connection
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from bot import events as ev
from bot.advice import effective_answers, rank, visible_questions
from bot.advice.compose import compose
from bot.advice.cues import Implied, story_answers
from bot.commands import command
from bot.core.context import CoreContext, Loaded
from bot.core.dispatcher import Dispatcher
from bot.core.reply import Outcome
from bot.core.result import Result, result
from bot.messages import (
    AnswerSummary,
    AnyMessage,
    ChoiceOption,
    Level,
    Notice,
    PathAdvice,
    PathDetail,
    Plan,
    PlanItemView,
    Question,
    QuestionKind,
    Status,
    Text,
    Understood,
)
from bot.playbook.schema import Playbook, PlaybookQuestion
from bot.progress import progress
from bot.snapshots import payload_to_recommendation, ranking_to_payload
from bot.store import repository as repo
from bot.store import turns
from bot.store.database import session_on
from bot.store.repository import Conflict
from bot.validation import Invalid, parse_answer, whole_number

log = logging.getLogger(__name__)

# After a recommendation: the check-in offer for the new plan (the check-ins feature's).
OfferFor = Callable[[Session, int, int, list[repo.PlanRow]], AnyMessage | None]
# The note naming the check-ins a changed plan cancelled (the check-ins feature's).
CancelledNote = Callable[[list[str]], list[Notice]]
# More offers after a recommendation (the mentor hand-off's), none by default.
MoreOffers = Callable[[Session, repo.ConsultationState], list[AnyMessage]]


def _listed(q: PlaybookQuestion, value: Any) -> str:
    """An answer in words; several choices apart with semicolons (labels hold commas)."""
    if isinstance(value, list):
        return "; ".join(q.choice_label(str(c)) for c in value)
    return q.describe(value)


class UnknownPlaybook(Exception):
    pass


NOTHING_YET = "You have no consultation in progress. Use {start} to begin one."


class Consultations:
    def __init__(
        self,
        ctx: CoreContext,
        offer_for: OfferFor,
        cancelled_note: CancelledNote,
        more_offers: MoreOffers | None = None,
    ) -> None:
        self.ctx = ctx
        self.offer_for = offer_for
        self.cancelled_note = cancelled_note
        self.more_offers = more_offers

    def register(self, dispatcher: Dispatcher) -> None:
        dispatcher.register(self._start, ev.Start, ev.Restart)
        dispatcher.register(self._answer, ev.Answer)
        self.ctx.answer_on = self.apply_answer
        self.ctx.stale_answer = self._stale
        dispatcher.register(self._run(self._back), ev.Back)
        dispatcher.register(self._run(self._edit), ev.Edit)
        dispatcher.register(self._run(self._resume), ev.Resume)
        dispatcher.register(self._run(self._cancel), ev.Cancel)
        dispatcher.register(self._run(self._status), ev.ShowStatus)
        dispatcher.register(self._run(self._show_path), ev.ShowPath)

    def _run(self, unit: Callable[[Session, Any, datetime], Result]) -> Any:
        async def handler(event: Any, now: datetime) -> Result:
            return await self.ctx.db.run(unit, event, now)

        return handler

    # ------------------------------------------------------------------ helpers

    def cmd(self, user: ev.UserRef, name: str) -> str:
        """The command as this person types it: /start, /advise start…"""
        return command(user.platform, name, self.ctx.settings.slack_command)

    def nothing_yet(self, user: ev.UserRef) -> Result:
        return result(Outcome.NOT_FOUND, Notice(NOTHING_YET.format(start=self.cmd(user, "start"))))

    def unknown_playbook(self, playbook_id: str) -> UnknownPlaybook:
        return UnknownPlaybook(
            f"There is no playbook called {playbook_id[:40]!r}. "
            f"Available: {', '.join(self.ctx.playbooks.ids())}."
        )

    def question_message(self, loaded: Loaded, q: PlaybookQuestion, error: str = "") -> Question:
        position, total = progress(loaded.playbook, loaded.answers, q.id)
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
            max_length=self.text_limit(q),
            scale_min=q.scale_min,
            scale_max=q.scale_max,
            scale_low_label=q.scale_low_label,
            scale_high_label=q.scale_high_label,
            position=position,
            total=total,
            current=loaded.answers.get(q.id),
            error=error,
            multiline=q.role == "story",
        )

    def text_limit(self, q: PlaybookQuestion) -> int:
        """A story may be as long as its question allows; other text answers are capped by
        the ``max_text_length`` setting too."""
        if q.role == "story":
            return q.max_length
        return min(q.max_length, self.ctx.settings.max_text_length)

    @staticmethod
    def _next_question(pb: Playbook, answers: dict[str, Any]) -> PlaybookQuestion | None:
        return next((q for q in visible_questions(pb, answers) if q.id not in answers), None)

    def where_we_are(self, s: Session, loaded: Loaded, now: datetime) -> list[AnyMessage]:
        state = loaded.state
        if state.status == "completed":
            return self._show_recommendation(s, loaded, now)
        q = loaded.playbook.question(state.current_step or "")
        if q is None:
            q = self._next_question(loaded.playbook, loaded.answers)
        if q is None:
            return self._finish(s, loaded, now)
        return [self.question_message(loaded, q)]

    def _show_recommendation(self, s: Session, loaded: Loaded, now: datetime) -> list[AnyMessage]:
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

    def _finish(self, s: Session, loaded: Loaded, now: datetime) -> list[AnyMessage]:
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
        items, cancelled = repo.replace_open_plan(
            s, state.id, [(st.text, st.due) for st in steps], now
        )
        rec = payload_to_recommendation(payload, state.id, state.version, pb.title)
        out: list[AnyMessage] = [Text(pb.wording.finished), rec, self._plan(state.id, items)]
        out.extend(self.cancelled_note(cancelled))
        offer = self.offer_for(s, state.user_id, state.id, items)
        if offer is not None:
            out.append(offer)
        if self.more_offers is not None:
            out += self.more_offers(s, state)
        return out

    # ------------------------------------------------------------------ start / answer

    async def _start(self, event: ev.Start | ev.Restart, now: datetime) -> Result:
        restart = isinstance(event, ev.Restart)
        for attempt in range(3):
            try:
                return await self.ctx.db.run(
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
        return await self.ctx.db.run(self._resume, ev.Resume(user=event.user), now)

    def default_playbook_id(self, s: Session, user: ev.UserRef, origin: str | None) -> str:
        chosen = repo.tenant_default_playbook(s, user.platform, origin or user.tenant)
        if chosen and self.ctx.playbooks.get(chosen) is not None:
            return chosen
        return self.ctx.settings.default_playbook

    def _start_unit(
        self,
        s: Session,
        user: ev.UserRef,
        playbook_id: str | None,
        restart: bool,
        now: datetime,
        origin: str | None = None,
    ) -> Result:
        uid = repo.get_or_create_user_id(s, user, now)
        current = repo.current_state(s, user) if restart else None
        if current is not None and origin is None:
            origin = current.origin_tenant  # a restart keeps the server it came from
        if playbook_id is None:
            playbook_id = (
                current.playbook_id if current else self.default_playbook_id(s, user, origin)
            )
        pb = self.ctx.playbooks.get(playbook_id)
        if pb is None:
            raise self.unknown_playbook(playbook_id)
        lead: list[AnyMessage] = []
        if restart:
            repo.close_open(s, uid, pb.id, now)
            lead.append(Notice("Starting again from the first question."))
        else:
            existing = repo.active_state(s, uid, pb.id)
            if existing is not None:
                loaded = Loaded(
                    existing, self.ctx.playbook_for(s, pb.id, existing.playbook_version)
                )
                return result(
                    Outcome.SHOWN,
                    Notice(
                        "You already have a consultation in progress, so we continue it. "
                        f"Use {self.cmd(user, 'restart')} to begin again from the first "
                        "question."
                    ),
                    *self.where_we_are(s, loaded, now),
                )
        first = self._next_question(pb, {})
        assert first is not None, "a playbook always has an unconditional first question"
        state = repo.create_consultation(s, uid, pb.id, pb.version, first.id, now, origin)
        loaded = Loaded(state, pb)
        return result(
            Outcome.APPLIED,
            *lead,
            Text(pb.intro.strip(), title=pb.title),
            self.question_message(loaded, first),
        )

    async def _answer(self, event: ev.Answer, now: datetime) -> Result:
        try:
            return await self.ctx.db.run_core(self._answer_unit, event, now)
        except Conflict:
            # Someone else (a second click, another process) moved this consultation on.
            return await self.ctx.db.run(self._stale, event.user, event.consultation_id, now)

    def _stale(
        self, s: Session, user: ev.UserRef, consultation_id: int | None, now: datetime
    ) -> Result:
        loaded = self.ctx.load(s, user, consultation_id)
        if loaded is None:
            return self.nothing_yet(user)
        return result(
            Outcome.STALE,
            Notice(loaded.playbook.wording.stale),
            *self.where_we_are(s, loaded, now),
        )

    def _answer_unit(self, c: Connection, event: ev.Answer, now: datetime) -> Result:
        """One read (the consultation and its answers) and one write: bot/store/turns.py."""
        loaded = self.ctx.load(c, event.user, event.consultation_id)
        if loaded is None:
            if event.consultation_id is not None:
                return result(
                    Outcome.NOT_FOUND, Notice("That consultation is closed or no longer exists.")
                )
            return self.nothing_yet(event.user)
        return self.apply_answer(c, event, loaded, now)

    def apply_answer(
        self, c: Connection, event: ev.Answer, loaded: Loaded, now: datetime
    ) -> Result:
        """Apply ``event`` to ``loaded`` (read in this unit); raises Conflict on a lost race.

        The common answer (a valid one, with a question after it) uses the Connection only;
        the rarer branches (stale, a story, the final turn) open an ORM Session on it.
        """
        state, pb = loaded.state, loaded.playbook
        stale = (
            state.status != "active"
            or (event.step is not None and event.step != state.version)
            or (event.question_id is not None and event.question_id != state.current_step)
        )
        if stale:
            with session_on(c) as s:
                return result(
                    Outcome.STALE, Notice(pb.wording.stale), *self.where_we_are(s, loaded, now)
                )
        q = pb.question(state.current_step or "")
        if q is None:
            with session_on(c) as s:
                return Result(Outcome.SHOWN, self.where_we_are(s, loaded, now))
        value = parse_answer(q, event.value, pb.wording, self.text_limit(q))
        if isinstance(value, Invalid):
            return result(Outcome.INVALID, self.question_message(loaded, q, error=value.reason))
        asked = self.question_message(loaded, q)
        if q.role == "story":
            with session_on(c) as s:
                return self._story(s, event.user, loaded, q, value, now, asked)
        replaces = q.id in state.answers
        answers = {**state.answers, q.id: value}
        nxt = self._next_question(pb, answers)
        # The version check: a concurrent turn on the same step fails here, before any insert.
        turns.write_answer(
            c,
            state,
            now,
            q.id,
            value,
            replaces=replaces,
            current_step=nxt.id if nxt else None,
            answers=answers,
        )
        words = q.describe(value) if value is not None else ""
        if nxt is None:
            with session_on(c) as s:
                out = self._finish(s, loaded, now)
        else:
            out = [self.question_message(loaded, nxt)]
        return Result(Outcome.APPLIED, out, answered=(asked, words))

    def _story(
        self,
        s: Session,
        user: ev.UserRef,
        loaded: Loaded,
        q: PlaybookQuestion,
        text: str | None,
        now: datetime,
        asked: Question,
    ) -> Result:
        """The story: store it, pre-fill what it implies, show that, ask what is missing.

        Telling it again replaces what the earlier story implied, never what the person
        answered themselves.
        """
        state, pb = loaded.state, loaded.playbook
        sources = repo.current_sources(s, state.id)
        told = {k for k, src in sources.items() if src == "story"}
        base = {k: v for k, v in state.answers.items() if k not in told}
        base[q.id] = text
        found, _ = story_answers(pb, text or "", base)
        answers = {**base, **{k: v for k, v in found.values.items() if k != q.id}}
        nxt = self._next_question(pb, answers)
        repo.advance(s, state, now, current_step=nxt.id if nxt else None, answers=answers)
        repo.record_answer(s, state.id, q.id, text, now, replaces=q.id in state.answers)
        for qid in told - answers.keys():
            repo.supersede_answer(s, state.id, qid, now)
        for qid, value in answers.items():
            if qid in found.values and qid != q.id:
                repo.record_answer(
                    s, state.id, qid, value, now, replaces=qid in state.answers, source="story"
                )
        out: list[AnyMessage] = []
        if text:
            out.append(self._understood(user, loaded, answers, found))
        out += self._finish(s, loaded, now) if nxt is None else [self.question_message(loaded, nxt)]
        words = q.describe(text) if text is not None else ""
        return Result(Outcome.APPLIED, out, answered=(asked, words))

    def _understood(
        self, user: ev.UserRef, loaded: Loaded, answers: dict[str, Any], found: Implied
    ) -> Understood:
        pb = loaded.playbook
        visible = visible_questions(pb, answers)
        items = tuple(
            AnswerSummary(q.id, f"{n}. {q.label}", _listed(q, answers[q.id]))
            for n, q in enumerate(visible, start=1)
            if q.id in found.values
        )
        unsure = tuple(q.label for q in pb.questions if q.id in found.conflicting)
        w = pb.wording
        return Understood(
            consultation_id=loaded.state.id,
            items=items,
            unsure=unsure,
            lead=w.story_understood,
            correct=w.story_correct.format(edit=self.cmd(user, "edit")),
            unsure_note=w.story_unsure.format(questions="; ".join(unsure)) if unsure else "",
            nothing=w.story_nothing,
            rest=w.story_rest,
        )

    # ------------------------------------------------------------------ navigation

    def _move_to(self, s: Session, loaded: Loaded, q: PlaybookQuestion, now: datetime) -> Result:
        repo.advance(s, loaded.state, now, status="active", current_step=q.id)
        return result(Outcome.APPLIED, self.question_message(loaded, q))

    def _back(self, s: Session, event: ev.Back, now: datetime) -> Result:
        loaded = self.ctx.load(s, event.user)
        if loaded is None:
            return self.nothing_yet(event.user)
        visible = [q.id for q in visible_questions(loaded.playbook, loaded.answers)]
        step = loaded.state.current_step
        here = visible.index(step) if step in visible else len(visible)
        if here == 0:
            return result(
                Outcome.INVALID,
                Notice("This is the first question; there is nothing before it."),
                *self.where_we_are(s, loaded, now),
            )
        target = loaded.playbook.question(visible[here - 1])
        assert target is not None
        return self._move_to(s, loaded, target, now)

    def _edit(self, s: Session, event: ev.Edit, now: datetime) -> Result:
        loaded = self.ctx.load(s, event.user)
        if loaded is None:
            return self.nothing_yet(event.user)
        visible = visible_questions(loaded.playbook, loaded.answers)
        token = event.question.strip().lower()
        target: PlaybookQuestion | None
        if (number := whole_number(token, 1, len(visible))) is not None:
            target = visible[number - 1]
        else:
            target = next((q for q in visible if q.id == token), None)
        if target is None:
            listing = "; ".join(
                f"{i}. {q.label}" for i, q in enumerate(visible, start=1) if q.id in loaded.answers
            )
            return result(
                Outcome.INVALID,
                Notice(
                    "I could not find that question. Pick one by its number: " + listing,
                    Level.WARNING,
                ),
            )
        return self._move_to(s, loaded, target, now)

    def _resume(self, s: Session, event: ev.Resume, now: datetime) -> Result:
        loaded = self.ctx.load(s, event.user)
        if loaded is None:
            return self.nothing_yet(event.user)
        lead: list[AnyMessage] = []
        if loaded.state.status == "active":
            lead = [Notice(loaded.playbook.wording.welcome_back)]
        return Result(Outcome.SHOWN, [*lead, *self.where_we_are(s, loaded, now)])

    def _cancel(self, s: Session, event: ev.Cancel, now: datetime) -> Result:
        loaded = self.ctx.load(s, event.user)
        if loaded is None:
            return self.nothing_yet(event.user)
        repo.advance(s, loaded.state, now, status="cancelled")
        return result(
            Outcome.APPLIED,
            Notice(
                "Consultation closed. Your answers stay saved until you ask me to forget you; "
                f"{self.cmd(event.user, 'start')} begins a new one."
            ),
        )

    def _status(self, s: Session, event: ev.ShowStatus, now: datetime) -> Result:
        loaded = self.ctx.load(s, event.user)
        if loaded is None:
            return self.nothing_yet(event.user)
        return result(Outcome.SHOWN, self.status_of(s, loaded))

    @staticmethod
    def status_of(s: Session, loaded: Loaded) -> Status:
        """What was answered so far (``/status``, and the person's home overview)."""
        pb = loaded.playbook
        visible = visible_questions(pb, loaded.answers)
        answered = [q for q in visible if q.id in loaded.answers]
        told = repo.current_sources(s, loaded.state.id)
        return Status(
            consultation_id=loaded.state.id,
            playbook_title=pb.title,
            state=loaded.state.status,
            position=len(answered),
            total=len(visible),
            answers=tuple(
                AnswerSummary(
                    q.id,
                    q.label,
                    q.describe(loaded.answers[q.id])
                    + (" (from your story)" if told.get(q.id) == "story" else ""),
                )
                for q in answered
            ),
        )

    def _show_path(self, s: Session, event: ev.ShowPath, now: datetime) -> Result:
        loaded = self.ctx.load(s, event.user)
        snap = repo.latest_snapshot(s, loaded.state.id) if loaded else None
        if loaded is None or snap is None:
            return result(
                Outcome.NOT_FOUND,
                Notice("There is no recommendation yet: finish the questions first."),
            )
        rec = payload_to_recommendation(snap.payload, loaded.state.id, loaded.state.version, "")
        view = rec.advice.path(event.path_id) if rec.advice is not None else None
        path = next((p for p in rec.paths if p.path_id == event.path_id), None)
        if path is None and view is not None:  # ranked, beyond the paths the ranking showed
            path = PathAdvice(view.path_id, view.rank, view.title, view.summary, view.score)
        if path is None:
            return result(
                Outcome.NOT_FOUND, Notice("That path is not part of your latest recommendation.")
            )
        return result(
            Outcome.SHOWN, PathDetail(loaded.state.id, path, view=view, advice=rec.advice)
        )
