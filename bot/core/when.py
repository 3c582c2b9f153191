"""Typed "when" text -> a check-in When: one parser for commands, modals and DMs."""

from __future__ import annotations

import re

from bot import events as ev
from bot.messages import NO_CHECKINS, WhenKind

_DATE = re.compile(r"(\d{4}-\d{2}-\d{2})(?:[ t](\d{1,2}:\d{2}))?")
_DAYS = re.compile(r"(?:in\s+)?(\d{1,3})(?:\s*days?)?")
NONE_WORDS = frozenset({NO_CHECKINS, "no", "off", "never"})
DIRECT = frozenset({WhenKind.SUGGESTED, WhenKind.WEEKLY, WhenKind.FORTNIGHTLY})


class NoCheckIns:
    """The person declined ("none")."""


NO = NoCheckIns()


def parse_when(text: str) -> ev.When | NoCheckIns | None:
    """``None``: not understood. Ranges and past dates are the check-in feature's to judge."""
    word = " ".join(text.strip().lower().split())
    if word in NONE_WORDS:
        return NO
    if word in DIRECT:
        return ev.When(kind=word)
    if match := _DAYS.fullmatch(word):
        return ev.When(kind=WhenKind.IN_DAYS, days=int(match[1]))
    if match := _DATE.fullmatch(word):
        hour_minute = ""
        if match[2]:
            hour, minute = match[2].split(":")
            hour_minute = f" {int(hour):02d}:{minute}"
        return ev.When(kind=WhenKind.DATE, on=match[1] + hour_minute)
    return None


WHEN_USAGE = (
    "suggested, weekly, fortnightly, a number of days (e.g. 10), a date (YYYY-MM-DD) or none"
)
