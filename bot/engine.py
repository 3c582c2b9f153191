"""The dialog engine: neutral events in, neutral messages out, every turn committed first.

Each handler runs in one database transaction and returns messages built from what was
committed, so a crash after the commit loses nothing and a crash before it changes nothing.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm.exc import StaleDataError

from bot import events as ev
from bot.advice import effective_answers, rank, visible_questions
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
    Status,
    Text,
)
from bot.playbook.loader import PlaybookRegistry, playbook_digest
from bot.playbook.schema import Playbook, PlaybookQuestion
from bot.settings import Settings
from bot.snapshots import payload_to_recommendation, ranking_to_payload
from bot.store import repository as repo
from bot.store.database import Database, StoreUnavailable
from bot.store.models import Consultation, PlanItem, RecommendationSnapshot
from bot.validation import Invalid, parse_answer

log = logging.getLogger(__name__)

FORGET_ACTION = "forget"


class UnknownPlaybook(Exception):
    pass


@dataclass(slots=True)
class _Loaded:
    consultation: Consultation
    playbook: Playbook
    answers: dict[str, Any]


def _utcnow() -> datetime:
    return datetime.now(UTC)


class Engine:
    """One per process; stateless between calls apart from a cache of playbook versions."""

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

    async def prepare(self) -> None:
        """Remember each playbook version, so consultations keep theirs after an upgrade."""
        async with self.db.session() as s:
            for pb in self.playbooks.all():
                digest = playbook_digest(pb)
                stored = await repo.playbook_version(s, pb.id, pb.version)
                if stored is None:
                    await repo.save_playbook_version(
                        s, pb.id, pb.version, digest, pb.model_dump(mode="json", by_alias=True)
                    )
                elif stored.digest != digest:
                    log.warning(
                        "playbook %s changed without a version bump (still version %s); "
                        "bump its version so running consultations keep the old text",
                        pb.id,
                        pb.version,
                    )

    # ------------------------------------------------------------------ dispatch

    async def handle(self, event: ev.InEvent) -> list[AnyMessage]:
        """Apply one event. A database outage becomes a polite notice, never a traceback."""
        try:
            match event:
                case ev.Start():
                    return await self._start(event.user, event.playbook_id, restart=False)
                case ev.Restart():
                    return await self._start(event.user, event.playbook_id, restart=True)
                case ev.Answer():
                    return await self._answer(event)
                case ev.Back():
                    return await self._back(event.user)
                case ev.Edit():
                    return await self._edit(event.user, event.question)
                case ev.Resume():
                    return await self._resume(event.user)
                case ev.Cancel():
                    return await self._cancel(event.user)
                case ev.ShowStatus():
                    return await self._status(event.user)
                case ev.ShowPath():
                    return await self._show_path(event.user, event.path_id)
                case ev.Export():
                    return await self._export(event.user)
                case ev.Forget():
                    return await self._forget(event.user, event.confirmed)
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

    # ------------------------------------------------------------------ helpers

    def playbook(self, playbook_id: str, version: int | None = None) -> Playbook | None:
        if version is None:
            return self.playbooks.get(playbook_id)
        return self._versions.get((playbook_id, version))

    async def _playbook_for(self, s: AsyncSession, c: Consultation) -> Playbook:
        key = (c.playbook_id, c.playbook_version)
        pb = self._versions.get(key)
        if pb is None:
            stored = await repo.playbook_version(s, *key)
            if stored is None:
                raise StoreUnavailable(
                    f"The playbook {c.playbook_id} version {c.playbook_version} is missing."
                )
            pb = Playbook.model_validate(stored.document)
            self._versions[key] = pb
        return pb

    async def _load(
        self, s: AsyncSession, user: ev.UserRef, consultation_id: int | None = None
    ) -> _Loaded | None:
        row = await repo.find_user(s, user)
        if row is None:
            return None
        c = await repo.current_consultation(s, row.id, consultation_id)
        if c is None:
            return None
        pb = await self._playbook_for(s, c)
        return _Loaded(c, pb, await repo.current_answers(s, c.id))

    def _nothing_yet(self) -> list[AnyMessage]:
        return [Notice("You have no consultation in progress. Use start to begin one.")]

    async def _default_playbook_id(self, s: AsyncSession, user: ev.UserRef) -> str:
        tenant = await repo.tenant_settings(s, user.platform, user.tenant)
        if (
            tenant is not None
            and tenant.default_playbook
            and self.playbooks.get(tenant.default_playbook)
        ):
            return tenant.default_playbook
        return self.settings.default_playbook

    def question_message(self, loaded: _Loaded, q: PlaybookQuestion, error: str = "") -> Question:
        visible = visible_questions(loaded.playbook, loaded.answers)
        ids = [v.id for v in visible]
        return Question(
            consultation_id=loaded.consultation.id,
            step=loaded.consultation.version,
            question_id=q.id,
            kind=q.kind,
            prompt=q.prompt.strip(),
            help=q.help.strip(),
            choices=tuple(ChoiceOption(c.id, c.label, c.description) for c in q.choices),
            optional=q.optional,
            min_choices=q.min_choices,
            max_choices=(q.max_choices or len(q.choices)) if q.kind == "multi_choice" else 1,
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

    async def _where_we_are(self, s: AsyncSession, loaded: _Loaded) -> list[AnyMessage]:
        c = loaded.consultation
        if c.status == "completed":
            return await self._show_recommendation(s, loaded)
        q = loaded.playbook.question(c.current_step or "")
        if q is None:
            q = self._next_question(loaded.playbook, loaded.answers)
        if q is None:
            return await self._finish(s, loaded)
        return [self.question_message(loaded, q)]

    async def _show_recommendation(self, s: AsyncSession, loaded: _Loaded) -> list[AnyMessage]:
        snap = await repo.latest_snapshot(s, loaded.consultation.id)
        if snap is None:
            return await self._finish(s, loaded)
        rec = payload_to_recommendation(
            snap.payload, loaded.consultation.id, loaded.consultation.version, loaded.playbook.title
        )
        items = await repo.plan_items(s, loaded.consultation.id)
        return [rec, self._plan(loaded.consultation.id, items)]

    @staticmethod
    def _plan(consultation_id: int, items: list[PlanItem]) -> Plan:
        return Plan(
            consultation_id,
            tuple(PlanItemView(i.id, i.action, i.due_date, i.status) for i in items),
        )

    async def _finish(self, s: AsyncSession, loaded: _Loaded) -> list[AnyMessage]:
        """Rank, store what is shown and the plan, and mark the consultation completed."""
        c, pb = loaded.consultation, loaded.playbook
        now = self.clock()
        ranking = rank(pb, loaded.answers, now.date())
        if not ranking.paths:
            c.current_step = pb.questions[0].id
            return [Notice("None of the paths in this playbook fit your answers.", Level.WARNING)]
        c.status, c.current_step, c.completed_at, c.updated_at = "completed", None, now, now
        await s.flush()
        s.add(
            RecommendationSnapshot(
                consultation_id=c.id,
                playbook_version=c.playbook_version,
                payload=ranking_to_payload(ranking, effective_answers(pb, loaded.answers)),
                created_at=now,
            )
        )
        items = await repo.replace_open_plan(
            s, c.id, [(st.text, st.due) for st in ranking.next_steps], now
        )
        snap_rec = payload_to_recommendation(
            ranking_to_payload(ranking, {}), c.id, c.version, pb.title
        )
        return [Text(pb.wording.finished), snap_rec, self._plan(c.id, items)]

    # ------------------------------------------------------------------ handlers

    async def _start(
        self, user: ev.UserRef, playbook_id: str | None, *, restart: bool
    ) -> list[AnyMessage]:
        for attempt in range(3):
            try:
                async with self.db.session() as s:
                    return await self._start_in(s, user, playbook_id, restart=restart)
            except IntegrityError:
                # Two starts raced; the other one created the consultation: resume it.
                log.info("start raced with another start (attempt %d)", attempt + 1)
        return await self._resume(user)

    async def _start_in(
        self, s: AsyncSession, user: ev.UserRef, playbook_id: str | None, *, restart: bool
    ) -> list[AnyMessage]:
        row = await repo.get_or_create_user(s, user)
        if playbook_id is None:
            current = await repo.current_consultation(s, row.id) if restart else None
            playbook_id = (
                current.playbook_id if current else await self._default_playbook_id(s, user)
            )
        pb = self.playbooks.get(playbook_id)
        if pb is None:
            raise UnknownPlaybook(
                f"There is no playbook called {playbook_id[:40]!r}. "
                f"Available: {', '.join(self.playbooks.ids())}."
            )
        existing = await repo.active_consultation(s, row.id, pb.id)
        messages: list[AnyMessage] = []
        now = self.clock()
        if existing is not None and not restart:
            loaded = _Loaded(
                existing,
                await self._playbook_for(s, existing),
                await repo.current_answers(s, existing.id),
            )
            return [
                Notice(
                    "You already have a consultation in progress, so we continue it. "
                    "Use restart to begin again from the first question."
                ),
                *await self._where_we_are(s, loaded),
            ]
        if restart:
            for c in await repo.user_consultations(s, row.id):
                if c.status in repo.OPEN_STATES and c.playbook_id == pb.id:
                    c.status, c.updated_at = "cancelled", now
            await s.flush()
            messages.append(Notice("Starting again from the first question."))
        c = Consultation(
            user_id=row.id,
            playbook_id=pb.id,
            playbook_version=pb.version,
            status="active",
            current_step=None,
            created_at=now,
            updated_at=now,
        )
        s.add(c)
        await s.flush()
        loaded = _Loaded(c, pb, {})
        first = self._next_question(pb, {})
        assert first is not None
        c.current_step = first.id
        await s.flush()
        return [
            *messages,
            Text(pb.intro.strip(), title=pb.title),
            self.question_message(loaded, first),
        ]

    async def _answer(self, event: ev.Answer) -> list[AnyMessage]:
        try:
            async with self.db.session() as s:
                return await self._answer_in(s, event)
        except StaleDataError:
            # Someone else (a second click, another process) moved this consultation on.
            return await self._stale(event.user, event.consultation_id)

    async def _stale(self, user: ev.UserRef, consultation_id: int | None) -> list[AnyMessage]:
        async with self.db.session() as s:
            loaded = await self._load(s, user, consultation_id)
            if loaded is None:
                return self._nothing_yet()
            return [
                Notice(loaded.playbook.wording.stale),
                *await self._where_we_are(s, loaded),
            ]

    async def _answer_in(self, s: AsyncSession, event: ev.Answer) -> list[AnyMessage]:
        loaded = await self._load(s, event.user, event.consultation_id)
        if loaded is None:
            if event.consultation_id is not None:
                return [Notice("That consultation is closed or no longer exists.")]
            return self._nothing_yet()
        c, pb = loaded.consultation, loaded.playbook
        expected = c.current_step
        stale = (
            c.status != "active"
            or (event.step is not None and event.step != c.version)
            or (event.question_id is not None and event.question_id != expected)
        )
        if stale:
            return [Notice(pb.wording.stale), *await self._where_we_are(s, loaded)]
        q = pb.question(expected or "")
        if q is None:
            return await self._where_we_are(s, loaded)
        value = parse_answer(q, event.value, pb.wording, self.settings.max_text_length)
        if isinstance(value, Invalid):
            return [self.question_message(loaded, q, error=value.reason)]
        now = self.clock()
        loaded.answers[q.id] = value
        nxt = self._next_question(pb, loaded.answers)
        c.current_step = nxt.id if nxt else None
        c.updated_at = now
        await s.flush()  # the version check: a concurrent turn fails here, before any insert
        await repo.record_answer(s, c.id, q.id, value, now)
        if nxt is None:
            return await self._finish(s, loaded)
        return [self.question_message(loaded, nxt)]

    async def _back(self, user: ev.UserRef) -> list[AnyMessage]:
        async with self.db.session() as s:
            loaded = await self._load(s, user)
            if loaded is None:
                return self._nothing_yet()
            c, pb = loaded.consultation, loaded.playbook
            visible = [q.id for q in visible_questions(pb, loaded.answers)]
            here = visible.index(c.current_step) if c.current_step in visible else len(visible)
            if here == 0:
                return [
                    Notice("This is the first question; there is nothing before it."),
                    *await self._where_we_are(s, loaded),
                ]
            target = pb.question(visible[here - 1])
            assert target is not None
            return await self._move_to(s, loaded, target)

    async def _move_to(
        self, s: AsyncSession, loaded: _Loaded, q: PlaybookQuestion
    ) -> list[AnyMessage]:
        c = loaded.consultation
        c.status, c.current_step, c.updated_at = "active", q.id, self.clock()
        await s.flush()
        return [self.question_message(loaded, q)]

    async def _edit(self, user: ev.UserRef, question: str) -> list[AnyMessage]:
        async with self.db.session() as s:
            loaded = await self._load(s, user)
            if loaded is None:
                return self._nothing_yet()
            visible = visible_questions(loaded.playbook, loaded.answers)
            target: PlaybookQuestion | None = None
            token = question.strip().lower()
            if token.isdigit() and 1 <= int(token) <= len(visible):
                target = visible[int(token) - 1]
            else:
                target = next((q for q in visible if q.id == token), None)
            if target is None:
                listing = "; ".join(
                    f"{i}. {q.label}"
                    for i, q in enumerate(visible, start=1)
                    if q.id in loaded.answers
                )
                return [
                    Notice(
                        "I could not find that question. Pick one by its number: " + listing,
                        Level.WARNING,
                    )
                ]
            return await self._move_to(s, loaded, target)

    async def _resume(self, user: ev.UserRef) -> list[AnyMessage]:
        async with self.db.session() as s:
            loaded = await self._load(s, user)
            if loaded is None:
                return self._nothing_yet()
            lead: list[AnyMessage] = []
            if loaded.consultation.status == "active":
                lead = [Notice(loaded.playbook.wording.welcome_back)]
            return [*lead, *await self._where_we_are(s, loaded)]

    async def _cancel(self, user: ev.UserRef) -> list[AnyMessage]:
        async with self.db.session() as s:
            loaded = await self._load(s, user)
            if loaded is None:
                return self._nothing_yet()
            loaded.consultation.status = "cancelled"
            loaded.consultation.updated_at = self.clock()
            await s.flush()
        return [
            Notice(
                "Consultation closed. Your answers stay saved until you ask me to forget you; "
                "start begins a new one."
            )
        ]

    async def _status(self, user: ev.UserRef) -> list[AnyMessage]:
        async with self.db.session() as s:
            loaded = await self._load(s, user)
            if loaded is None:
                return self._nothing_yet()
            c, pb = loaded.consultation, loaded.playbook
            visible = visible_questions(pb, loaded.answers)
            answered = [q for q in visible if q.id in loaded.answers]
            return [
                Status(
                    consultation_id=c.id,
                    playbook_title=pb.title,
                    state=c.status,
                    position=len(answered),
                    total=len(visible),
                    answers=tuple(
                        AnswerSummary(q.id, q.label, q.describe(loaded.answers[q.id]))
                        for q in answered
                    ),
                )
            ]

    async def _show_path(self, user: ev.UserRef, path_id: str) -> list[AnyMessage]:
        async with self.db.session() as s:
            loaded = await self._load(s, user)
            snap = await repo.latest_snapshot(s, loaded.consultation.id) if loaded else None
            if loaded is None or snap is None:
                return [Notice("There is no recommendation yet: finish the questions first.")]
            rec = payload_to_recommendation(
                snap.payload, loaded.consultation.id, loaded.consultation.version, ""
            )
            path = next((p for p in rec.paths if p.path_id == path_id), None)
            if path is None:
                return [Notice("That path is not part of your latest recommendation.")]
            return [PathDetail(loaded.consultation.id, path)]

    async def _export(self, user: ev.UserRef) -> list[AnyMessage]:
        async with self.db.session() as s:
            row = await repo.find_user(s, user)
            if row is None:
                return [Notice("I have no data about you.")]
            return [await export_markdown(s, row, self._playbook_for, self.clock())]

    async def _forget(self, user: ev.UserRef, confirmed: bool) -> list[AnyMessage]:
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
        async with self.db.session() as s:
            row = await repo.find_user(s, user)
            if row is not None:
                await repo.delete_user(s, row.id)
        return [Notice("Done: everything I kept about you is deleted.", Level.SUCCESS)]

    # ------------------------------------------------------------------ admin

    async def set_tenant_playbook(self, platform: str, tenant: str, playbook_id: str) -> Notice:
        if self.playbooks.get(playbook_id) is None:
            raise UnknownPlaybook(
                f"There is no playbook called {playbook_id[:40]!r}. "
                f"Available: {', '.join(self.playbooks.ids())}."
            )
        async with self.db.session() as s:
            await repo.set_tenant_settings(
                s, platform, tenant, self.clock(), default_playbook=playbook_id
            )
        return Notice(f"New consultations here now use the playbook {playbook_id}.", Level.SUCCESS)

    async def has_open_consultation(self, user: ev.UserRef) -> bool:
        """Whether ``user`` has a consultation to resume (a front end picks start or resume)."""
        async with self.db.session() as s:
            return await self._load(s, user) is not None
