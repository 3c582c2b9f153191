"""``/advise <subcommand> [args]`` parsed into a request the app can act on.

Why separate: parsing is pure and easy to test on its own; the same subcommands exist
on Discord, so the words here are the ones people already know from there.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from bot import events as ev
from bot.validation import whole_number


class Kind(StrEnum):
    OPEN = "open"  # bare command: continue the consultation, or start one
    START = "start"
    RESUME = "resume"
    STATUS = "status"
    BACK = "back"
    RESTART = "restart"
    EXPORT = "export"
    FORGET = "forget"
    HELP = "help"
    CHECKINS = "checkins"  # list the person's check-ins
    TIMEZONE = "timezone"  # the person's own zone
    QUIET = "quiet"  # the person's quiet hours
    SETTINGS = "settings"  # admin: show the workspace settings
    SET_PLAYBOOK = "set_playbook"  # admin: default playbook
    SET_CHECKINS = "set_checkins"  # admin: check-in defaults
    INVALID = "invalid"


ADMIN_KINDS = frozenset({Kind.SETTINGS, Kind.SET_PLAYBOOK, Kind.SET_CHECKINS})
_CHECKIN_KEYS = {
    "cadence": "cadence_days",
    "every": "cadence_days",
    "days": "cadence_days",
    "timezone": "timezone",
    "tz": "timezone",
    "quiet": "quiet_hours",
    "quiet_hours": "quiet_hours",
}
CHECKIN_USAGE = "settings checkins cadence=14 timezone=Europe/Berlin quiet=21:00-08:00"


@dataclass(frozen=True, slots=True)
class Parsed:
    kind: Kind
    playbook: str | None = None
    cadence_days: int | None = None
    timezone: str | None = None
    quiet_hours: str | None = None
    error: str = ""  # raw text for the person (the renderer escapes it)


def _invalid(message: str) -> Parsed:
    return Parsed(Kind.INVALID, error=message)


def _playbook_arg(args: list[str]) -> str | None:
    return args[0].lower()[:64] if args else None


def _checkins(args: list[str]) -> Parsed:
    values: dict[str, str] = {}
    for arg in args:
        key, sep, value = arg.partition("=")
        target = _CHECKIN_KEYS.get(key.lower())
        if not sep or target is None or not value:
            return _invalid(f"I did not understand {arg[:40]!r}. Use: {CHECKIN_USAGE}")
        values[target] = value
    if not values:
        return _invalid(f"Say what to change, for example: {CHECKIN_USAGE}")
    cadence: int | None = None
    if "cadence_days" in values:
        cadence = whole_number(values["cadence_days"], 0, 9999)
        if cadence is None:
            return _invalid("The cadence is a whole number of days, e.g. cadence=14.")
    return Parsed(
        Kind.SET_CHECKINS,
        cadence_days=cadence,
        timezone=values.get("timezone"),
        quiet_hours=values.get("quiet_hours"),
    )


def parse(text: str) -> Parsed:
    """Never raises: anything unknown becomes INVALID with a sentence for the person."""
    words = text.split()
    if not words:
        return Parsed(Kind.OPEN)
    name, args = words[0].lower(), words[1:]
    simple = {
        "resume": Kind.RESUME,
        "status": Kind.STATUS,
        "back": Kind.BACK,
        "export": Kind.EXPORT,
        "forget": Kind.FORGET,
        "help": Kind.HELP,
    }
    if name in simple:
        return Parsed(simple[name])
    if name in ("checkins", "check-ins", "checkin", "reminders"):
        return Parsed(Kind.CHECKINS)
    if name in ("timezone", "tz"):
        if len(args) != 1:
            return _invalid("Name one zone, e.g. timezone Europe/Berlin.")
        return Parsed(Kind.TIMEZONE, timezone=args[0][:64])
    if name == "quiet":
        if len(args) != 1:
            return _invalid("Use quiet 21:00-08:00, quiet off or quiet default.")
        return Parsed(Kind.QUIET, quiet_hours=args[0][:32])
    if name in ("start", "restart"):
        return Parsed(Kind(name), playbook=_playbook_arg(args))
    if name in ("settings", "admin"):
        if not args:
            return Parsed(Kind.SETTINGS)
        sub = args[0].lower()
        if sub == "playbook":
            if len(args) != 2:
                return _invalid("Name one playbook, e.g. settings playbook ml-research-career.")
            return Parsed(Kind.SET_PLAYBOOK, playbook=_playbook_arg(args[1:]))
        if sub in ("checkins", "check-ins", "checkin"):
            return _checkins(args[1:])
        return _invalid(
            f"Unknown settings command {sub[:30]!r}. Try: settings, settings "
            f"playbook <id>, {CHECKIN_USAGE}"
        )
    return _invalid(f"Unknown command {name[:30]!r}. Use help to see what I can do.")


def to_event(parsed: Parsed, user: ev.UserRef) -> ev.InEvent | None:
    """The core event for a consultation subcommand (None for OPEN, HELP, admin, invalid)."""
    match parsed.kind:
        case Kind.START:
            return ev.Start(user, parsed.playbook)
        case Kind.RESTART:
            return ev.Restart(user, parsed.playbook)
        case Kind.RESUME:
            return ev.Resume(user)
        case Kind.STATUS:
            return ev.ShowStatus(user)
        case Kind.BACK:
            return ev.Back(user)
        case Kind.EXPORT:
            return ev.Export(user)
        case Kind.FORGET:
            return ev.Forget(user)
        case Kind.CHECKINS:
            return ev.ListCheckIns(user)
        case Kind.TIMEZONE if parsed.timezone:
            return ev.SetTimezone(user, parsed.timezone)
        case Kind.QUIET if parsed.quiet_hours:
            return ev.SetQuietHours(user, parsed.quiet_hours)
    return None
