"""Check-in time maths, pure: local wall time in, UTC instants out, DST-safe.

A check-in is asked for in the person's wall-clock time ("every Monday at 10:00"), so the
recurrence is computed on local dates and only then turned into an instant. Two wall
times need a rule: one that does not exist (the spring-forward gap) moves forward by the
gap (02:30 -> 03:30), one that exists twice (the autumn fold) is the first of the two.
Quiet hours are wall-clock too: a due time inside them moves to their end.
"""

from __future__ import annotations

import contextlib
import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from bot.messages import WhenKind

MAX_AHEAD_DAYS = 730
_HHMM = re.compile(r"([01]?\d|2[0-3]):([0-5]\d)")
_QUIET = re.compile(r"\s*([01]?\d|2[0-3]):([0-5]\d)\s*-\s*([01]?\d|2[0-3]):([0-5]\d)\s*")
_DATE = re.compile(r"\s*(\d{4})-(\d{2})-(\d{2})(?:[ T]([01]?\d|2[0-3]):([0-5]\d))?\s*")


def zone(name: str) -> ZoneInfo:
    """An IANA zone; ValueError with a sentence for the person when it is unknown."""
    cleaned = name.strip()
    try:
        if not cleaned or len(cleaned) > 64 or cleaned.startswith("/") or ".." in cleaned:
            raise ValueError
        return ZoneInfo(cleaned)
    except (ZoneInfoNotFoundError, ValueError, OSError):  # OSError: e.g. a name too long
        raise ValueError(
            "That is not a time zone I know; use an IANA name such as Europe/Berlin "
            "or America/New_York."
        ) from None


def parse_hhmm(text: str) -> time:
    match = _HHMM.fullmatch(text.strip())
    if match is None:
        raise ValueError("Times look like 08:00 (24-hour clock).")
    return time(int(match[1]), int(match[2]))


@dataclass(frozen=True, slots=True)
class QuietHours:
    """Local hours without reminders, [start, end); may wrap midnight; start == end: none."""

    start: time
    end: time

    @property
    def off(self) -> bool:
        return self.start == self.end

    def contains(self, t: time) -> bool:
        if self.off:
            return False
        if self.start < self.end:
            return self.start <= t < self.end
        return t >= self.start or t < self.end

    def __str__(self) -> str:
        return "off" if self.off else f"{self.start:%H:%M}-{self.end:%H:%M}"


NO_QUIET = QuietHours(time(0, 0), time(0, 0))


def parse_quiet(text: str) -> QuietHours:
    """ "21:00-08:00" or "off"; ValueError with a sentence otherwise."""
    if text.strip().lower() in ("off", "none", "no"):
        return NO_QUIET
    match = _QUIET.fullmatch(text)
    if match is None:
        raise ValueError("Quiet hours look like 21:00-08:00 (24-hour clock, start-end) or off.")
    return QuietHours(time(int(match[1]), int(match[2])), time(int(match[3]), int(match[4])))


def to_utc(local: datetime, tz: ZoneInfo) -> datetime:
    """The instant of a naive local wall time: gaps move forward, folds take the first."""
    local = local.replace(tzinfo=None)
    first = local.replace(tzinfo=tz, fold=0).astimezone(UTC)
    if first.astimezone(tz).replace(tzinfo=None) == local:
        return first  # exists (fold=0 is the earlier of two in an autumn fold)
    # In a spring-forward gap: fold=0 reads it with the offset from before the change,
    # which lands as far after the gap as the time was into it (02:30 -> 03:30).
    second = local.replace(tzinfo=tz, fold=1).astimezone(UTC)
    return max(first, second)


def to_local(instant: datetime, tz: ZoneInfo) -> datetime:
    """Naive wall time of an aware instant."""
    return instant.astimezone(tz).replace(tzinfo=None)


def out_of_quiet(due: datetime, tz: ZoneInfo, quiet: QuietHours) -> datetime:
    """``due`` unchanged, or, when it falls in quiet hours, the instant they end."""
    local = to_local(due, tz)
    if not quiet.contains(local.time()):
        return due
    day = local.date()
    if quiet.start > quiet.end and local.time() >= quiet.start:
        day += timedelta(days=1)  # evening part of a wrapping window: ends tomorrow
    ends = to_utc(datetime.combine(day, quiet.end), tz)
    return max(ends, due)


def nominal(anchor: date, at: time, cycle: int, interval_days: int | None) -> datetime:
    """Wall time of ``cycle`` of a check-in: the same clock time on every local date."""
    return datetime.combine(anchor + timedelta(days=(interval_days or 0) * cycle), at)


def next_cycle(
    anchor: date, at: time, interval_days: int, after_cycle: int, after: datetime, tz: ZoneInfo
) -> tuple[int, datetime]:
    """The first cycle past ``after_cycle`` whose instant is after ``after`` (skips missed)."""
    cycle = after_cycle + 1
    local_after = to_local(after, tz)
    behind = (local_after.date() - anchor).days // interval_days
    cycle = max(cycle, behind - 1)  # jump close, then step: a long outage costs no loop
    while to_utc(nominal(anchor, at, cycle, interval_days), tz) <= after:
        cycle += 1
    return cycle, nominal(anchor, at, cycle, interval_days)


@dataclass(frozen=True, slots=True)
class Prefs:
    """A person's effective time zone and quiet hours (their own, else the server's)."""

    tz: ZoneInfo
    quiet: QuietHours
    tz_known: bool  # False: the person never gave one and the platform had none

    @property
    def tz_name(self) -> str:
        return self.tz.key


def resolve_prefs(
    tz_name: str | None,
    quiet_start: str | None,
    quiet_end: str | None,
    tenant: Mapping[str, Any] | None,
    default_tz: str,
    default_quiet: QuietHours,
) -> Prefs:
    """Person, then server/workspace defaults, then settings; a bad stored value is skipped."""
    tenant = tenant or {}
    tz: ZoneInfo | None = None
    for candidate in (tz_name, tenant.get("timezone"), default_tz):
        if candidate:
            try:
                tz = zone(candidate)
                break
            except ValueError:
                continue
    quiet = default_quiet
    if tenant.get("quiet_hours"):
        with contextlib.suppress(ValueError):
            quiet = parse_quiet(str(tenant["quiet_hours"]))
    if quiet_start and quiet_end:
        with contextlib.suppress(ValueError):
            quiet = QuietHours(parse_hhmm(quiet_start), parse_hhmm(quiet_end))
    return Prefs(tz or ZoneInfo("UTC"), quiet, tz_known=bool(tz_name))


@dataclass(frozen=True, slots=True)
class Spec:
    """A resolved schedule: once on ``anchor`` at ``at``, or every ``interval_days`` from it."""

    kind: str  # once | repeat
    anchor: date
    at: time
    interval_days: int | None = None

    def first_local(self) -> datetime:
        return nominal(self.anchor, self.at, 0, self.interval_days)

    def describe(self) -> str:
        if self.kind == "repeat":
            every = {7: "every week", 14: "every two weeks"}.get(
                self.interval_days or 0, f"every {self.interval_days} days"
            )
            return f"{every} on {self.anchor:%A}s at {self.at:%H:%M}"
        return f"once, {self.anchor:%a %d %b %Y} at {self.at:%H:%M}"


def describe_repeat(kind: str, interval_days: int | None) -> str:
    if kind != "repeat" or not interval_days:
        return "once"
    return {7: "every week", 14: "every two weeks"}.get(
        interval_days, f"every {interval_days} days"
    )


def resolve_when(
    kind: str,
    *,
    days: int | None,
    on: str | None,
    now_local: datetime,
    at: time,
    suggested: date | None,
    fallback_days: int,
) -> Spec:
    """Turn the person's choice into a Spec; ValueError (a sentence) when it cannot be."""
    today = now_local.date()
    if kind == WhenKind.SUGGESTED:
        day = suggested or today + timedelta(days=fallback_days)
        if datetime.combine(day, at) <= now_local:
            day = today + timedelta(days=1)  # the suggested date already passed: tomorrow
        return Spec("once", day, at)
    if kind == WhenKind.IN_DAYS:
        if days is None or not 1 <= days <= 365:
            raise ValueError("Give a number of days from 1 to 365.")
        return Spec("once", today + timedelta(days=days), at)
    if kind in (WhenKind.WEEKLY, WhenKind.FORTNIGHTLY):
        step = 7 if kind == WhenKind.WEEKLY else 14
        return Spec("repeat", today + timedelta(days=step), at, step)
    if kind == WhenKind.DATE:
        match = _DATE.fullmatch(on or "")
        if match is None:
            raise ValueError("Give a date as YYYY-MM-DD, optionally with a time: 2026-04-01 09:30.")
        try:
            day = date(int(match[1]), int(match[2]), int(match[3]))
        except ValueError:
            raise ValueError("That date does not exist.") from None
        when_at = time(int(match[4]), int(match[5])) if match[4] is not None else at
        if datetime.combine(day, when_at) <= now_local:
            raise ValueError("That date and time have already passed; pick a later one.")
        if (day - today).days > MAX_AHEAD_DAYS:
            raise ValueError("Pick a date within the next two years.")
        return Spec("once", day, when_at)
    raise ValueError(f"I do not know the check-in choice {kind[:30]!r}.")


def snooze_local(now_local: datetime, days: int) -> datetime:
    """The same wall time ``days`` later, to the minute."""
    return (now_local + timedelta(days=days)).replace(second=0, microsecond=0)


def idempotency_key(checkin_id: int, occurrence: int, salt: str) -> str:
    """Stable per delivery, at most 25 characters (Discord's nonce limit)."""
    head = f"{_b36(checkin_id)}.{_b36(occurrence)}."
    return head + salt[: max(0, 25 - len(head))]


def _b36(n: int) -> str:
    digits = "0123456789abcdefghijklmnopqrstuvwxyz"
    out = ""
    while True:
        n, r = divmod(n, 36)
        out = digits[r] + out
        if n == 0:
            return out
