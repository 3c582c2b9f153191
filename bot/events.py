"""Neutral inbound events: what a person did, whatever the platform."""

from __future__ import annotations

from dataclasses import dataclass

from bot.messages import AnswerValue

__all__ = [
    "Answer",
    "AnswerCheckIn",
    "AskMentor",
    "Back",
    "Cancel",
    "CancelCheckIn",
    "ChangeCheckIn",
    "CheckInEvent",
    "ClaimMentorRequest",
    "CloseMentorRequest",
    "Decline",
    "Edit",
    "Export",
    "Forget",
    "InEvent",
    "ListCheckIns",
    "MentorEvent",
    "ReleaseMentorRequest",
    "Restart",
    "Resume",
    "ScheduleCheckIns",
    "SetQuietHours",
    "SetTimezone",
    "ShareWithMentor",
    "ShowPath",
    "ShowStatus",
    "SnoozeCheckIn",
    "Start",
    "Typed",
    "UserRef",
    "When",
    "WithdrawMentorRequest",
]


@dataclass(frozen=True, slots=True)
class UserRef:
    """Who is talking: platform ("discord", "slack", "console"), tenant (guild/team), user id."""

    platform: str
    tenant: str
    user_id: str


@dataclass(frozen=True, slots=True, kw_only=True)
class Start:
    """Begin (or continue) a consultation.

    ``origin_tenant``: the server it was started from, when that is not the person's own
    tenant (Discord keys people by user, not by server): its admin defaults then apply.
    """

    user: UserRef
    playbook_id: str | None = None
    origin_tenant: str | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class Answer:
    """An answer to ``question_id``; ``step``/``consultation_id`` come from a component."""

    user: UserRef
    value: AnswerValue
    question_id: str | None = None
    consultation_id: int | None = None
    step: int | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class Back:
    user: UserRef


@dataclass(frozen=True, slots=True, kw_only=True)
class Edit:
    """Go back to one earlier question by id or by its 1-based position."""

    user: UserRef
    question: str


@dataclass(frozen=True, slots=True, kw_only=True)
class Restart:
    user: UserRef
    playbook_id: str | None = None
    origin_tenant: str | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class Resume:
    user: UserRef


@dataclass(frozen=True, slots=True, kw_only=True)
class Cancel:
    user: UserRef


@dataclass(frozen=True, slots=True, kw_only=True)
class ShowStatus:
    user: UserRef


@dataclass(frozen=True, slots=True, kw_only=True)
class ShowPath:
    """The full detail of one path of the latest recommendation."""

    user: UserRef
    path_id: str


@dataclass(frozen=True, slots=True, kw_only=True)
class Export:
    user: UserRef


@dataclass(frozen=True, slots=True, kw_only=True)
class Forget:
    """Delete everything about the person; without ``confirmed`` the core asks first."""

    user: UserRef
    confirmed: bool = False


@dataclass(frozen=True, slots=True, kw_only=True)
class When:
    """When check-ins come: ``kind`` is a messages.WhenKind value; ``days`` goes with
    in_days, ``on`` with date ("YYYY-MM-DD" or "YYYY-MM-DD HH:MM", the person's local time).
    The core validates both and answers a polite warning when they do not fit."""

    kind: str
    days: int | None = None
    on: str | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class ScheduleCheckIns:
    """Check-ins for plan items (all open items of the latest plan when none are given).

    ``when`` None: the person declined. ``platform_timezone``: the IANA zone the platform
    reports (Slack users.info ``tz``), used unless the person chose one themselves.
    ``server_tenant``: where the person's tenant is not the server (Discord keys people by
    user), the tenant whose admin check-in defaults (time zone, quiet hours) fill in what
    the person has not set.
    """

    user: UserRef
    when: When | None
    plan_item_ids: tuple[int, ...] = ()
    consultation_id: int | None = None
    platform_timezone: str | None = None
    server_tenant: str | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class ListCheckIns:
    user: UserRef


@dataclass(frozen=True, slots=True, kw_only=True)
class SnoozeCheckIn:
    user: UserRef
    checkin_id: int
    days: int = 1


@dataclass(frozen=True, slots=True, kw_only=True)
class ChangeCheckIn:
    user: UserRef
    checkin_id: int
    when: When


@dataclass(frozen=True, slots=True, kw_only=True)
class CancelCheckIn:
    user: UserRef
    checkin_id: int


@dataclass(frozen=True, slots=True, kw_only=True)
class AnswerCheckIn:
    """A click on a check-in DM: ``answer`` is a messages.CheckInChoice value."""

    user: UserRef
    checkin_id: int
    occurrence: int
    answer: str


@dataclass(frozen=True, slots=True, kw_only=True)
class SetTimezone:
    """The person's IANA zone; ``from_platform`` (Slack users.info) never overrides theirs."""

    user: UserRef
    timezone: str
    from_platform: bool = False


@dataclass(frozen=True, slots=True, kw_only=True)
class SetQuietHours:
    """ "HH:MM-HH:MM" (local, may wrap midnight), "off", or "default" (the server's)."""

    user: UserRef
    quiet_hours: str


@dataclass(frozen=True, slots=True, kw_only=True)
class Typed:
    """A line or message the person typed (console, a DM): the core decides what it is.

    It may be a command ("back", "/edit 3", "remind weekly"), an answer to the current
    question, a reply to a check-in or to a confirmation; ``playbook_id`` is used if it
    starts a consultation; ``platform_timezone`` if it sets check-ins ("remind weekly").
    """

    user: UserRef
    text: str
    playbook_id: str | None = None
    platform_timezone: str | None = None  # as for ScheduleCheckIns: the platform's zone


@dataclass(frozen=True, slots=True, kw_only=True)
class ShowHome:
    """The person's overview (Slack's App Home): their consultation, plan and check-ins."""

    user: UserRef


@dataclass(frozen=True, slots=True, kw_only=True)
class Decline:
    """No to a confirmation (``action``: what was asked, e.g. "forget")."""

    user: UserRef
    action: str


@dataclass(frozen=True, slots=True, kw_only=True)
class AskMentor:
    """Ask for a mentor after a recommendation: the core shows exactly what would be shared
    and asks first (or shows the request already open). ``consultation_id`` None: the
    latest. ``server_tenant``: the server asked from (Discord keys people by user), whose
    mentors channel would get the request."""

    user: UserRef
    consultation_id: int | None = None
    server_tenant: str | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class ShareWithMentor:
    """Yes (``share``) or no to the summary shown at ``step`` of the consultation;
    ``copy_checkins``: check-in answers are copied to the mentor too. Without ``step`` (no
    card was shown) nothing is shared: the core shows the summary and asks."""

    user: UserRef
    share: bool
    consultation_id: int | None = None
    step: int | None = None
    copy_checkins: bool = False
    server_tenant: str | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class ClaimMentorRequest:
    """A mentor takes request ``request_id`` from the board (``server_tenant``: the
    server the click came from, on Discord)."""

    user: UserRef
    request_id: int
    server_tenant: str | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class ReleaseMentorRequest:
    """The mentor who took ``request_id`` hands it back to the board."""

    user: UserRef
    request_id: int


@dataclass(frozen=True, slots=True, kw_only=True)
class WithdrawMentorRequest:
    """The person withdraws their request (None: their open one), at any time."""

    user: UserRef
    request_id: int | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class CloseMentorRequest:
    """The person or their mentor marks the hand-off as done."""

    user: UserRef
    request_id: int


MentorEvent = (
    AskMentor
    | ShareWithMentor
    | ClaimMentorRequest
    | ReleaseMentorRequest
    | WithdrawMentorRequest
    | CloseMentorRequest
)

CheckInEvent = (
    ScheduleCheckIns
    | ListCheckIns
    | SnoozeCheckIn
    | ChangeCheckIn
    | CancelCheckIn
    | AnswerCheckIn
    | SetTimezone
    | SetQuietHours
)

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
    | Typed
    | Decline
    | ShowHome
    | CheckInEvent
    | MentorEvent
)
