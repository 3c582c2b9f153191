"""Check-ins in the terminal: a sender that prints, and the /remind, /checkins… commands.

The console has no background DMs: when it starts, it delivers the check-ins due for its
user through the same claim/send/mark loop as the platforms (ConsoleSender prints them),
and the next lines answer them.
"""

from __future__ import annotations

import re
from collections.abc import Callable

from bot import events as ev
from bot.checkins.sender import Delivered, SendResult
from bot.messages import CheckInCatchUp, CheckInPrompt, ReminderMessage, WhenKind
from bot.ports import Notification

PLATFORM = "console"
USAGE = {
    "/remind": "/remind suggested | weekly | fortnightly | N (days) | YYYY-MM-DD [HH:MM] | none",
    "/checkin": "/checkin N snooze [days] | /checkin N change WHEN | /checkin N cancel",
    "/timezone": "/timezone Area/City, e.g. /timezone Europe/Berlin",
    "/quiet": "/quiet 21:00-08:00 | off | default",
}
HELP = """Check-ins:
  /remind WHEN   check in on your plan: suggested, weekly, fortnightly, N days, a date, none
  /checkins      list your check-ins
  /checkin N ... snooze [days], change WHEN or cancel check-in N
  /timezone ZONE your time zone (e.g. Europe/Berlin)
  /quiet HH:MM-HH:MM  hours without check-ins (or off / default)"""


class ConsoleSender:
    """Implements CheckInSender for the terminal: "sending" is printing to this session."""

    platform = PLATFORM
    max_rate: float | None = None

    def __init__(self, show: Callable[[ReminderMessage], None]) -> None:
        self._show = show

    async def send(
        self, user: ev.UserRef, notification: Notification, idempotency_key: str
    ) -> SendResult:
        assert notification.source is not None
        self._show(notification.source)
        return Delivered(idempotency_key)


def parse_when(text: str) -> ev.When | str | None:
    """``/remind`` argument -> When; None for "none"; a string is the complaint."""
    word = text.strip().lower()
    if word in ("none", "no", "off"):
        return None
    if word in (WhenKind.SUGGESTED, WhenKind.WEEKLY, WhenKind.FORTNIGHTLY):
        return ev.When(word)
    if word.isdigit():
        return ev.When(WhenKind.IN_DAYS, days=int(word))
    if re.match(r"\d{4}-\d{2}-\d{2}", word):
        return ev.When(WhenKind.DATE, on=word)
    return f"! Use {USAGE['/remind']}."


def answer_events(user: ev.UserRef, message: ReminderMessage, line: str) -> list[ev.InEvent] | str:
    """A typed answer to a delivered check-in -> events; a string is the complaint."""
    token = line.strip().lower()
    if isinstance(message, CheckInPrompt):
        ids = [str(c.id) for c in message.choices]
        choice = (
            ids[int(token) - 1]
            if token.isdigit() and 1 <= int(token) <= len(ids)
            else token.replace(" ", "_")
        )
        if choice not in ids:
            return f"! Type a number from 1 to {len(ids)}, or /skip to answer later."
        return [ev.AnswerCheckIn(user, message.checkin_id, message.occurrence, choice)]
    assert isinstance(message, CheckInCatchUp)
    if token == "1":
        return [ev.SnoozeCheckIn(user, item.checkin_id, 1) for item in message.items]
    if token == "2":
        return [ev.CancelCheckIn(user, item.checkin_id) for item in message.items]
    return "! Type 1 to be asked again tomorrow, 2 to drop them, or /skip."


def command_event(user: ev.UserRef, name: str, arg: str) -> ev.InEvent | str | None:
    """A check-in command -> its event; a string is the complaint; None: not ours."""
    if name == "/checkins":
        return ev.ListCheckIns(user)
    if name == "/remind":
        when = parse_when(arg)
        if isinstance(when, str):
            return when
        return ev.ScheduleCheckIns(user, when)
    if name == "/timezone":
        return ev.SetTimezone(user, arg) if arg else f"! Use {USAGE['/timezone']}."
    if name == "/quiet":
        return ev.SetQuietHours(user, arg) if arg else f"! Use {USAGE['/quiet']}."
    if name == "/checkin":
        parts = arg.split(maxsplit=2)
        if len(parts) < 2 or not parts[0].lstrip("#").isdigit():
            return f"! Use {USAGE['/checkin']}."
        checkin_id, verb = int(parts[0].lstrip("#")), parts[1].lower()
        rest = parts[2] if len(parts) > 2 else ""
        if verb == "snooze":
            days = rest.strip() or "1"
            if not days.isdigit():
                return "! Snooze takes a number of days, e.g. /checkin 3 snooze 7."
            return ev.SnoozeCheckIn(user, checkin_id, int(days))
        if verb == "cancel":
            return ev.CancelCheckIn(user, checkin_id)
        if verb == "change":
            when = parse_when(rest)
            if when is None:
                return ev.CancelCheckIn(user, checkin_id)
            if isinstance(when, str):
                return when
            return ev.ChangeCheckIn(user, checkin_id, when)
        return f"! Use {USAGE['/checkin']}."
    return None
