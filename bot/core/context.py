"""What every feature of the core shares: the store, the playbooks, settings and the clock.

Why a context and not the Engine: features (consultation, check-ins, privacy, admin) use
the same loading rules without calling each other's private methods, and the Engine is
only the facade that wires them to the dispatcher, so no feature imports another.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy.engine import Connection
from sqlalchemy.orm import Session

from bot import events as ev
from bot.core.result import Result
from bot.playbook.loader import PlaybookRegistry
from bot.playbook.schema import Playbook
from bot.settings import Settings
from bot.store import repository as repo
from bot.store.database import Database, StoreUnavailable, session_on
from bot.store.repository import ConsultationState

log = logging.getLogger(__name__)


@dataclass(slots=True)
class Loaded:
    """A consultation with the playbook version it started with."""

    state: ConsultationState
    playbook: Playbook

    @property
    def answers(self) -> dict[str, Any]:
        return self.state.answers


class CoreContext:
    def __init__(
        self,
        db: Database,
        playbooks: PlaybookRegistry,
        settings: Settings,
        clock: Callable[[], datetime],
    ) -> None:
        self.db = db
        self.playbooks = playbooks
        self.settings = settings
        self.clock = clock
        self.versions: dict[tuple[str, int], Playbook] = {
            (pb.id, pb.version): pb for pb in playbooks.all()
        }
        # Set by this process's check-in scheduler: called with the earliest due time a
        # committed event created, so delivery does not wait for the next poll.
        self.on_checkins_changed: Callable[[datetime], None] | None = None
        # Set by this process's mentor service: called with the due time of board work a
        # committed event queued (a post, an introduction), so it goes out at once.
        self.on_mentors_changed: Callable[[datetime], None] | None = None
        # Set by the consultation feature: apply an answer inside a ``run_core`` unit that
        # already read the consultation (typed text reads it to know what a line is, and
        # answers in the same transaction); it raises Conflict when another turn won.
        self.answer_on: Callable[[Connection, ev.Answer, Loaded, datetime], Result] | None = None
        # ...and what a lost race shows instead (a unit of its own, after the rollback).
        self.stale_answer: Callable[[Session, ev.UserRef, int | None, datetime], Result] | None = (
            None
        )

    def playbook(self, playbook_id: str, version: int | None = None) -> Playbook | None:
        if version is None:
            return self.playbooks.get(playbook_id)
        return self.versions.get((playbook_id, version))

    def playbook_for(self, s: Session | Connection, playbook_id: str, version: int) -> Playbook:
        """The exact playbook version a consultation started with (from the database)."""
        pb = self.versions.get((playbook_id, version))
        if pb is None:
            if isinstance(s, Connection):
                with session_on(s) as session:
                    return self.playbook_for(session, playbook_id, version)
            stored = repo.playbook_version(s, playbook_id, version)
            if stored is None:
                raise StoreUnavailable(f"The playbook {playbook_id} version {version} is missing.")
            pb = Playbook.model_validate(stored.document)
            self.versions[(playbook_id, version)] = pb
        return pb

    def loaded(self, s: Session | Connection, state: ConsultationState | None) -> Loaded | None:
        """``state`` with the playbook version it started with (None: no consultation)."""
        if state is None:
            return None
        return Loaded(state, self.playbook_for(s, state.playbook_id, state.playbook_version))

    def load(
        self, s: Session | Connection, user: ev.UserRef, consultation_id: int | None = None
    ) -> Loaded | None:
        state = repo.current_state(s, user, consultation_id)
        if state is None:
            return None
        return Loaded(state, self.playbook_for(s, state.playbook_id, state.playbook_version))

    def wake_checkins(self, due: datetime) -> None:
        """Tell this process's scheduler about a new due time (no-op without one)."""
        if self.on_checkins_changed is not None:
            try:
                self.on_checkins_changed(due)
            except Exception:  # a scheduler hiccup must not fail a committed turn
                log.exception("could not wake the check-in scheduler")

    def wake_mentors(self, due: datetime) -> None:
        """Tell this process's mentor worker about new board work (no-op without one)."""
        if self.on_mentors_changed is not None:
            try:
                self.on_mentors_changed(due)
            except Exception:  # a scheduler hiccup must not fail a committed turn
                log.exception("could not wake the mentor worker")
