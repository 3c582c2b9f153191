"""Neutral inbound events: what a person did, whatever the platform."""

from __future__ import annotations

from dataclasses import dataclass

from bot.messages import AnswerValue


@dataclass(frozen=True, slots=True)
class UserRef:
    """Who is talking: platform ("discord", "slack", "console"), tenant (guild/team), user id."""

    platform: str
    tenant: str
    user_id: str


@dataclass(frozen=True, slots=True)
class Start:
    user: UserRef
    playbook_id: str | None = None


@dataclass(frozen=True, slots=True)
class Answer:
    """An answer to ``question_id``; ``step``/``consultation_id`` come from a component."""

    user: UserRef
    value: AnswerValue
    question_id: str | None = None
    consultation_id: int | None = None
    step: int | None = None


@dataclass(frozen=True, slots=True)
class Back:
    user: UserRef


@dataclass(frozen=True, slots=True)
class Edit:
    """Go back to one earlier question by id or by its 1-based position."""

    user: UserRef
    question: str


@dataclass(frozen=True, slots=True)
class Restart:
    user: UserRef
    playbook_id: str | None = None


@dataclass(frozen=True, slots=True)
class Resume:
    user: UserRef


@dataclass(frozen=True, slots=True)
class Cancel:
    user: UserRef


@dataclass(frozen=True, slots=True)
class ShowStatus:
    user: UserRef


@dataclass(frozen=True, slots=True)
class ShowPath:
    """The full detail of one path of the latest recommendation."""

    user: UserRef
    path_id: str


@dataclass(frozen=True, slots=True)
class Export:
    user: UserRef


@dataclass(frozen=True, slots=True)
class Forget:
    """Delete everything about the person; without ``confirmed`` the core asks first."""

    user: UserRef
    confirmed: bool = False


InEvent = (
    Start
    | Answer
    | Back
    | Edit
    | Restart
    | Resume
    | Cancel
    | ShowStatus
    | ShowPath
    | Export
    | Forget
)
