"""Typed intents: what a button, select or text box means, carried whole in its id.

Why: a click may arrive after a restart, on another process, or long after the message
was sent, so nothing about a message is kept in memory; its component id alone says what
it stands for. Every intent is a small frozen class declaring a tag and its fields (in the
spirit of discord.py's ``DynamicItem``); ``bot/ui/codec.py`` turns any intent into an id
that fits both Discord (custom_id <= 100) and Slack (action_id <= 255) and back, checking
every field's range. Owner checks are the core's (``bot/core/authorize.py``): an id says
what was asked, never who may ask it.

Field types are ``int`` (0 <= n < 2**63), ``bool`` and ``str`` (an identifier: lower-case
letters, digits, ``_`` and ``-``, at most 40 characters). Adding an intent touches
``bot/`` alone: declare it here, add it to ``AnyIntent`` and map it to an event in
``bot/core/actions.py``.
"""

from __future__ import annotations

from dataclasses import dataclass, fields, replace
from typing import ClassVar, Self

__all__ = [
    "REGISTRY",
    "AnswerQuestion",
    "AnyIntent",
    "AskMentor",
    "CatchUp",
    "ChooseCheckIns",
    "ClaimRequest",
    "CloseRequest",
    "Command",
    "ConfirmAction",
    "Intent",
    "ManageCheckIn",
    "OpenPath",
    "ReleaseRequest",
    "ReplyCheckIn",
    "RescheduleCheckIn",
    "Revisit",
    "SetZone",
    "ShareWithMentor",
    "SkipQuestion",
    "WithdrawRequest",
]


@dataclass(frozen=True, slots=True, kw_only=True)
class Intent:
    TAG: ClassVar[str] = ""

    def with_value(self, value: str) -> Self:
        """The same intent with ``value`` filled in (one button per option)."""
        return replace(self, value=value)  # type: ignore[call-arg]

    @classmethod
    def field_names(cls) -> tuple[str, ...]:
        return tuple(f.name for f in fields(cls))


# ---------------------------------------------------------------- consultation


@dataclass(frozen=True, slots=True, kw_only=True)
class AnswerQuestion(Intent):
    """Answer the question asked at ``step`` of ``consultation``; ``value`` for a button."""

    TAG: ClassVar[str] = "a"
    consultation: int
    step: int
    value: str = ""


@dataclass(frozen=True, slots=True, kw_only=True)
class SkipQuestion(Intent):
    TAG: ClassVar[str] = "k"
    consultation: int
    step: int


@dataclass(frozen=True, slots=True, kw_only=True)
class OpenPath(Intent):
    """Everything about one path of the latest recommendation."""

    TAG: ClassVar[str] = "d"
    consultation: int
    path: str


@dataclass(frozen=True, slots=True, kw_only=True)
class Revisit(Intent):
    """Go back to a question (``value``: its id) keeping every other answer."""

    TAG: ClassVar[str] = "v"
    consultation: int
    value: str = ""


@dataclass(frozen=True, slots=True, kw_only=True)
class Command(Intent):
    """A button for a plain command: ``name`` is one of bot.core.commands.NAMES."""

    TAG: ClassVar[str] = "m"
    name: str


@dataclass(frozen=True, slots=True, kw_only=True)
class ConfirmAction(Intent):
    """Yes or no to a confirmation (``action``: what was asked, e.g. ``forget``)."""

    TAG: ClassVar[str] = "c"
    action: str
    yes: bool


# ---------------------------------------------------------------- check-ins


@dataclass(frozen=True, slots=True, kw_only=True)
class ChooseCheckIns(Intent):
    """After a recommendation: when check-ins come (``when``: a WhenKind or ``none``)."""

    TAG: ClassVar[str] = "o"
    consultation: int
    when: str = ""
    value: str = ""


@dataclass(frozen=True, slots=True, kw_only=True)
class ReplyCheckIn(Intent):
    """An answer to a check-in DM (``value``: a CheckInChoice)."""

    TAG: ClassVar[str] = "r"
    checkin: int
    occurrence: int
    value: str = ""


@dataclass(frozen=True, slots=True, kw_only=True)
class ManageCheckIn(Intent):
    """Snooze, change or cancel a check-in (``checkin`` 0: the picked option's value)."""

    TAG: ClassVar[str] = "i"
    action: str
    checkin: int = 0


@dataclass(frozen=True, slots=True, kw_only=True)
class RescheduleCheckIn(Intent):
    """The new time of one check-in (``value``: a WhenKind, or typed text)."""

    TAG: ClassVar[str] = "w"
    checkin: int
    value: str = ""


@dataclass(frozen=True, slots=True, kw_only=True)
class CatchUp(Intent):
    """Missed check-ins: ``action`` applies to the picked ones (or ``checkin``)."""

    TAG: ClassVar[str] = "u"
    action: str
    checkin: int = 0


@dataclass(frozen=True, slots=True, kw_only=True)
class SetZone(Intent):
    """The person's time zone: the picked option, or typed text."""

    TAG: ClassVar[str] = "z"
    value: str = ""


# ---------------------------------------------------------------- mentor hand-off


@dataclass(frozen=True, slots=True, kw_only=True)
class AskMentor(Intent):
    """Show what a mentor would see, and ask (``consultation`` 0: the latest)."""

    TAG: ClassVar[str] = "h"
    consultation: int = 0


@dataclass(frozen=True, slots=True, kw_only=True)
class ShareWithMentor(Intent):
    """The answer to the consent card shown at ``step``: ``value`` is ``share``,
    ``share_checkins`` (copy check-in answers too) or ``no``."""

    TAG: ClassVar[str] = "s"
    consultation: int
    step: int
    value: str = ""


@dataclass(frozen=True, slots=True, kw_only=True)
class ClaimRequest(Intent):
    """A mentor takes a request from the board."""

    TAG: ClassVar[str] = "n"
    request: int


@dataclass(frozen=True, slots=True, kw_only=True)
class ReleaseRequest(Intent):
    """The mentor hands a request back to the board."""

    TAG: ClassVar[str] = "g"
    request: int


@dataclass(frozen=True, slots=True, kw_only=True)
class WithdrawRequest(Intent):
    """The person withdraws their request."""

    TAG: ClassVar[str] = "l"
    request: int


@dataclass(frozen=True, slots=True, kw_only=True)
class CloseRequest(Intent):
    """The person or the mentor marks the hand-off as done."""

    TAG: ClassVar[str] = "b"
    request: int


AnyIntent = (
    AnswerQuestion
    | SkipQuestion
    | OpenPath
    | Revisit
    | Command
    | ConfirmAction
    | ChooseCheckIns
    | ReplyCheckIn
    | ManageCheckIn
    | RescheduleCheckIn
    | CatchUp
    | SetZone
    | AskMentor
    | ShareWithMentor
    | ClaimRequest
    | ReleaseRequest
    | WithdrawRequest
    | CloseRequest
)


def _registry() -> dict[str, type[Intent]]:
    out: dict[str, type[Intent]] = {}
    for cls in AnyIntent.__args__:
        if cls.TAG in out:
            raise TypeError(f"intent tag {cls.TAG!r} used twice")
        out[cls.TAG] = cls
    return out


REGISTRY = _registry()
