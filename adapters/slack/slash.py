"""``/advise <subcommand> [args]``: the slash command's text, a Slack convention, parsed.

Why separate: parsing is pure and easy to test on its own. It only names what was asked:
a core command (``bot.ui.intents.Command``, sent with ``Engine.act``), a setting the core
takes as an event, or a workspace setting for the admin methods; it builds no card and
guesses no outcome. The words are the ones people know from Discord.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from enum import StrEnum

from bot.api import Bullets, Card, Prose, whole_number
from bot.api import events as ev


class Kind(StrEnum):
    OPEN = "open"  # bare command: continue the consultation, or start one
    COMMAND = "command"  # a core command (``command``), e.g. start, status, export
    HELP = "help"
    TIMEZONE = "timezone"  # the person's own zone
    QUIET = "quiet"  # the person's quiet hours
    SETTINGS = "settings"  # admin: show the workspace settings
    SET_PLAYBOOK = "set_playbook"  # admin: default playbook
    SET_CHECKINS = "set_checkins"  # admin: check-in defaults
    STATS = "stats"  # admin: the workspace's statistics
    MENTORS = "mentors"  # admin: the mentor hand-off's settings
    MENTORS_CHANNEL = "mentors_channel"  # admin: where mentor requests go
    MENTORS_TAG = "mentors_tag"  # admin: a mentor's tags (none: untagged)
    MENTOR_WITHDRAW = "mentor_withdraw"  # the person withdraws their mentor request
    INVALID = "invalid"


MENTOR_KINDS = frozenset({Kind.MENTORS, Kind.MENTORS_CHANNEL, Kind.MENTORS_TAG})
ADMIN_KINDS = frozenset(
    {Kind.SETTINGS, Kind.SET_PLAYBOOK, Kind.SET_CHECKINS, Kind.STATS, *MENTOR_KINDS}
)
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
    command: str = ""  # for COMMAND: a name in bot.core.actions.COMMANDS
    playbook: str | None = None
    cadence_days: int | None = None
    timezone: str | None = None
    quiet_hours: str | None = None
    csv: bool = False  # STATS: also the figures as a CSV file
    channel: str = ""  # MENTORS_CHANNEL: a channel id
    mentor: str = ""  # MENTORS_TAG: a user id
    tags: tuple[str, ...] = ()  # MENTORS_TAG
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


def _stats(args: list[str]) -> Parsed:
    extra = [a.lower() for a in args]
    if extra in ([], ["csv"]):
        return Parsed(Kind.STATS, csv=bool(extra))
    return _invalid("Use admin stats, or admin stats csv for the figures as a CSV file too.")


def parse(text: str) -> Parsed:
    """Never raises: anything unknown becomes INVALID with a sentence for the person."""
    words = text.split()
    if not words:
        return Parsed(Kind.OPEN)
    name, args = words[0].lower(), words[1:]
    if name in ("resume", "status", "back", "export", "forget"):
        return Parsed(Kind.COMMAND, command=name)
    if name == "help":
        return Parsed(Kind.HELP)
    if name in ("checkins", "check-ins", "checkin", "reminders"):
        return Parsed(Kind.COMMAND, command="checkins")
    if name in ("timezone", "tz"):
        if len(args) != 1:
            return _invalid("Name one zone, e.g. timezone Europe/Berlin.")
        return Parsed(Kind.TIMEZONE, timezone=args[0][:64])
    if name == "quiet":
        if len(args) != 1:
            return _invalid("Use quiet 21:00-08:00, quiet off or quiet default.")
        return Parsed(Kind.QUIET, quiet_hours=args[0][:32])
    if name in ("start", "restart"):
        return Parsed(Kind.COMMAND, command=name, playbook=_playbook_arg(args))
    if name == "mentor":
        if args and args[0].lower() in ("withdraw", "cancel", "stop"):
            return Parsed(Kind.MENTOR_WITHDRAW)
        return Parsed(Kind.COMMAND, command="mentor")
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
        if sub in ("stats", "statistics"):
            return _stats(args[1:])
        if sub in ("mentors", "mentor"):
            return parse_mentors(args[1:])
        return _invalid(
            f"Unknown settings command {sub[:30]!r}. Try: settings, settings "
            f"playbook <id>, {CHECKIN_USAGE}, admin stats"
        )
    return _invalid(f"Unknown command {name[:30]!r}. Use help to see what I can do.")


def setting_event(parsed: Parsed, user: ev.UserRef) -> ev.InEvent | None:
    """The core event for the person's own settings (time zone, quiet hours)."""
    if parsed.kind is Kind.TIMEZONE and parsed.timezone:
        return ev.SetTimezone(user=user, timezone=parsed.timezone)
    if parsed.kind is Kind.QUIET and parsed.quiet_hours:
        return ev.SetQuietHours(user=user, quiet_hours=parsed.quiet_hours)
    if parsed.kind is Kind.MENTOR_WITHDRAW:
        return ev.WithdrawMentorRequest(user=user)
    return None


HELP_ROWS = (
    ("", "start, or continue where you stopped"),
    ("start [playbook]", "start a consultation (or continue the one in progress)"),
    ("resume", "show the question you are on"),
    ("status", "where you are and what you answered"),
    ("back", "go back one question"),
    ("restart [playbook]", "start again from the first question"),
    ("checkins", "your check-ins: snooze, change or cancel them"),
    ("timezone <Area/City>", "your time zone for check-ins"),
    ("quiet <HH:MM-HH:MM|off|default>", "hours without check-ins"),
    ("mentor", "ask for a mentor: you see exactly what would be shared first"),
    ("mentor withdraw", "withdraw your mentor request"),
    ("export", "send you everything I keep about you as a file"),
    ("forget", "delete everything I keep about you (asks first)"),
    ("help", "this list"),
    ("settings", "workspace settings (admins and owners)"),
    ("settings playbook <id>", "default playbook for this workspace"),
    (
        "settings checkins [cadence=<days>] [timezone=<Area/City>] [quiet=HH:MM-HH:MM]",
        "check-in defaults",
    ),
    ("admin stats [csv]", "how consultations here go, with a chart (admins and owners)"),
    ("settings mentors", "the mentors channel, tagged mentors, waiting requests"),
    ("settings mentors channel #channel", "where mentor requests go (keep it to mentors)"),
    ("settings mentors tag @user <families or topics>", "what a mentor speaks to"),
    ("settings mentors untag @user", "no longer a tagged mentor"),
)


def help_card(command: str) -> Card:
    """``/advise help`` as a card (rendered like any other)."""
    rows = tuple(f"{(command + ' ' + usage).strip()} — {what}" for usage, what in HELP_ROWS)
    return Card(
        title="Crossroads commands",
        sections=(
            Prose(
                text="Crossroads holds the consultation in a direct message with you. There "
                "you can also just type: start, your answers, back, status, details 2, help…"
            ),
            Bullets(items=rows),
        ),
    )


# ---------------------------------------------------------------- mentors (admin)

_CHANNEL_REF = re.compile(r"<#([CG][A-Z0-9]{2,20})(?:\|[^>]*)?>|([CG][A-Z0-9]{2,20})")
_USER_REF = re.compile(r"<@([UW][A-Z0-9]{2,20})(?:\|[^>]*)?>|([UW][A-Z0-9]{2,20})")
CHANNEL_USAGE = "settings mentors channel #channel (pick it from the list as you type)"
TAG_USAGE = "settings mentors tag @user doctorate industry"


def channel_id(token: str) -> str | None:
    """A channel as Slack escapes it in a slash command (``<#C…|name>``), or a bare id."""
    match = _CHANNEL_REF.fullmatch(token)
    return (match[1] or match[2]) if match else None


def user_id(token: str) -> str | None:
    """A user as Slack escapes it in a slash command (``<@U…|name>``), or a bare id."""
    match = _USER_REF.fullmatch(token)
    return (match[1] or match[2]) if match else None


def parse_mentors(args: list[str]) -> Parsed:
    """``settings mentors [channel #c | tag @u tags… | untag @u]``: what an admin asked."""
    if not args:
        return Parsed(Kind.MENTORS)
    sub, rest = args[0].lower(), args[1:]
    if sub == "channel":
        found = channel_id(rest[0]) if len(rest) == 1 else None
        if found is None:
            return Parsed(Kind.INVALID, error=f"Name one channel: {CHANNEL_USAGE}.")
        return Parsed(Kind.MENTORS_CHANNEL, channel=found)
    if sub in ("tag", "untag"):
        mentor = user_id(rest[0]) if rest else None
        tags = tuple(t.lower() for t in rest[1:]) if sub == "tag" else ()
        if mentor is None or (sub == "tag" and not tags):
            return Parsed(Kind.INVALID, error=f"Name a mentor and their tags: {TAG_USAGE}.")
        return Parsed(Kind.MENTORS_TAG, mentor=mentor, tags=tags)
    return Parsed(
        Kind.INVALID,
        error=f"Unknown mentors command {sub[:30]!r}. Try: settings mentors, {CHANNEL_USAGE}, "
        f"{TAG_USAGE}, settings mentors untag @user.",
    )
