"""Check-in time maths: local wall time across DST both ways, quiet hours, the When choices."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bot.checkins.schedule import (
    NO_QUIET,
    QuietHours,
    idempotency_key,
    next_cycle,
    nominal,
    out_of_quiet,
    parse_quiet,
    resolve_prefs,
    resolve_when,
    to_local,
    to_utc,
    zone,
)

BERLIN = ZoneInfo("Europe/Berlin")
NEW_YORK = ZoneInfo("America/New_York")
NIGHT = QuietHours(time(21, 0), time(8, 0))


def utc(*args: int) -> datetime:
    return datetime(*args, tzinfo=UTC)


# ------------------------------------------------------------------ recurring across DST


@pytest.mark.parametrize(
    ("tz", "anchor", "at", "expected"),
    [
        # Berlin springs forward on Sun 29 Mar 2026: 10:00 is 09:00Z before, 08:00Z after.
        (BERLIN, date(2026, 3, 23), time(10), [utc(2026, 3, 23, 9), utc(2026, 3, 30, 8)]),
        # ... and falls back on Sun 25 Oct 2026: 08:00Z before, 09:00Z after.
        (BERLIN, date(2026, 10, 19), time(10), [utc(2026, 10, 19, 8), utc(2026, 10, 26, 9)]),
        # New York springs forward on Sun 8 Mar 2026, falls back on Sun 1 Nov 2026.
        (NEW_YORK, date(2026, 3, 2), time(9), [utc(2026, 3, 2, 14), utc(2026, 3, 9, 13)]),
        (NEW_YORK, date(2026, 10, 26), time(9), [utc(2026, 10, 26, 13), utc(2026, 11, 2, 14)]),
    ],
    ids=["berlin-forward", "berlin-back", "new-york-forward", "new-york-back"],
)
def test_weekly_check_in_keeps_its_wall_time_across_dst(
    tz: ZoneInfo, anchor: date, at: time, expected: list[datetime]
) -> None:
    instants = [to_utc(nominal(anchor, at, cycle, 7), tz) for cycle in (0, 1)]
    assert instants == expected
    assert {to_local(i, tz).time() for i in instants} == {at}
    assert instants[1] - instants[0] != timedelta(days=7)  # a fixed UTC step would drift


def test_next_cycle_after_the_change_is_in_local_time_both_ways() -> None:
    # Sent at the cycle before the change; the next one is a week later at 10:00 local.
    cycle, local = next_cycle(date(2026, 3, 23), time(10), 7, 0, utc(2026, 3, 23, 9, 1), BERLIN)
    assert (cycle, local) == (1, datetime(2026, 3, 30, 10))
    cycle, local = next_cycle(date(2026, 10, 18), time(10), 14, 0, utc(2026, 10, 18, 8), BERLIN)
    assert (cycle, to_utc(local, BERLIN)) == (1, utc(2026, 11, 1, 9))


def test_next_cycle_skips_cycles_missed_during_a_long_outage() -> None:
    # Weekly on Mondays at 10:00 Berlin from Mon 5 Jan 2026; the bot is down until Tue
    # 1 Jun 2027. The missed Mondays are skipped: the next one is Mon 7 Jun 2027, 74 weeks
    # after the anchor (written out here, not computed with the helpers under test).
    after = utc(2027, 6, 1, 12)
    assert next_cycle(date(2026, 1, 5), time(10), 7, 0, after, BERLIN) == (
        74,
        datetime(2027, 6, 7, 10),
    )
    # Exactly at cycle 73's instant (Mon 31 May 2027, 10:00 CEST = 08:00Z) it counts as
    # sent: the next one is still a week later.
    assert next_cycle(date(2026, 1, 5), time(10), 7, 0, utc(2027, 5, 31, 8), BERLIN) == (
        74,
        datetime(2027, 6, 7, 10),
    )
    assert next_cycle(date(2026, 1, 5), time(10), 7, 0, utc(2027, 5, 31, 7, 59), BERLIN) == (
        73,
        datetime(2027, 5, 31, 10),
    )


def test_a_wall_time_in_the_spring_gap_moves_forward_by_the_gap() -> None:
    # 02:30 does not exist on those days: it becomes 03:30 summer time.
    assert to_utc(datetime(2026, 3, 29, 2, 30), BERLIN) == utc(2026, 3, 29, 1, 30)
    assert to_local(utc(2026, 3, 29, 1, 30), BERLIN) == datetime(2026, 3, 29, 3, 30)
    assert to_utc(datetime(2026, 3, 8, 2, 30), NEW_YORK) == utc(2026, 3, 8, 7, 30)


def test_a_wall_time_in_the_autumn_fold_is_the_first_of_the_two() -> None:
    assert to_utc(datetime(2026, 10, 25, 2, 30), BERLIN) == utc(2026, 10, 25, 0, 30)
    assert to_utc(datetime(2026, 11, 1, 1, 30), NEW_YORK) == utc(2026, 11, 1, 5, 30)


# ------------------------------------------------------------------ quiet hours


@pytest.mark.parametrize(
    ("local_due", "expected_local"),
    [
        (datetime(2026, 3, 2, 22, 0), datetime(2026, 3, 3, 8, 0)),  # evening: tomorrow 08:00
        (datetime(2026, 3, 3, 6, 30), datetime(2026, 3, 3, 8, 0)),  # early: today 08:00
        (datetime(2026, 3, 3, 21, 0), datetime(2026, 3, 4, 8, 0)),  # start is quiet
        (datetime(2026, 3, 3, 8, 0), datetime(2026, 3, 3, 8, 0)),  # end is allowed
        (datetime(2026, 3, 3, 12, 0), datetime(2026, 3, 3, 12, 0)),
    ],
)
def test_quiet_hours_move_a_due_time_to_their_end(
    local_due: datetime, expected_local: datetime
) -> None:
    moved = out_of_quiet(to_utc(local_due, BERLIN), BERLIN, NIGHT)
    assert to_local(moved, BERLIN) == expected_local


def test_quiet_hours_ending_the_morning_after_a_dst_change_use_that_mornings_offset() -> None:
    # 22:00 CET on Sat 28 Mar -> 08:00 CEST on Sun 29 Mar = 06:00Z (not 07:00Z).
    moved = out_of_quiet(to_utc(datetime(2026, 3, 28, 22), BERLIN), BERLIN, NIGHT)
    assert moved == utc(2026, 3, 29, 6)
    # 22:00 CEST on Sat 24 Oct -> 08:00 CET on Sun 25 Oct = 07:00Z.
    moved = out_of_quiet(to_utc(datetime(2026, 10, 24, 22), BERLIN), BERLIN, NIGHT)
    assert moved == utc(2026, 10, 25, 7)


def test_quiet_hours_ending_inside_the_gap_end_after_it() -> None:
    late = QuietHours(time(23, 0), time(2, 30))
    moved = out_of_quiet(to_utc(datetime(2026, 3, 29, 1, 0), BERLIN), BERLIN, late)
    assert to_local(moved, BERLIN) == datetime(2026, 3, 29, 3, 30)
    assert not late.contains(to_local(moved, BERLIN).time())


def test_daytime_and_disabled_quiet_hours() -> None:
    lunch = QuietHours(time(12, 0), time(13, 0))
    due = to_utc(datetime(2026, 3, 3, 12, 15), BERLIN)
    assert to_local(out_of_quiet(due, BERLIN, lunch), BERLIN) == datetime(2026, 3, 3, 13, 0)
    assert out_of_quiet(due, BERLIN, NO_QUIET) == due
    assert str(NO_QUIET) == "off" and str(NIGHT) == "21:00-08:00"
    assert parse_quiet(" 22:30 - 7:00 ") == QuietHours(time(22, 30), time(7, 0))
    assert parse_quiet("off") == NO_QUIET
    with pytest.raises(ValueError, match="21:00-08:00"):
        parse_quiet("late")


ZONES = [
    "Europe/Berlin",
    "America/New_York",
    "Australia/Lord_Howe",  # a 30-minute DST shift
    "America/Santiago",
    "Asia/Kolkata",
    "UTC",
]


@settings(max_examples=300, deadline=None)
@given(
    zone_name=st.sampled_from(ZONES),
    instant=st.datetimes(min_value=datetime(2026, 1, 1), max_value=datetime(2027, 12, 31)),
    start=st.times().map(lambda t: t.replace(second=0, microsecond=0)),
    end=st.times().map(lambda t: t.replace(second=0, microsecond=0)),
)
def test_a_moved_due_time_is_never_quiet_and_never_earlier(
    zone_name: str, instant: datetime, start: time, end: time
) -> None:
    tz = ZoneInfo(zone_name)
    due = instant.replace(tzinfo=UTC)
    quiet = QuietHours(start, end)
    moved = out_of_quiet(due, tz, quiet)
    assert moved >= due
    assert not quiet.contains(to_local(moved, tz).time())
    assert moved - due <= timedelta(hours=26)


@settings(max_examples=300, deadline=None)
@given(
    zone_name=st.sampled_from(ZONES),
    anchor=st.dates(min_value=date(2026, 1, 1), max_value=date(2027, 12, 31)),
    at=st.times().map(lambda t: t.replace(second=0, microsecond=0)),
    interval=st.sampled_from([7, 14]),
    cycle=st.integers(0, 60),
)
def test_every_cycle_lands_on_its_wall_time_unless_that_time_does_not_exist(
    zone_name: str, anchor: date, at: time, interval: int, cycle: int
) -> None:
    tz = ZoneInfo(zone_name)
    wall = nominal(anchor, at, cycle, interval)
    back = to_local(to_utc(wall, tz), tz)
    assert back.date() == wall.date() or back - wall <= timedelta(hours=1)
    if back != wall:  # only in a spring-forward gap: moved forward by at most the gap
        assert timedelta(0) < back - wall <= timedelta(hours=1)
    assert wall.weekday() == anchor.weekday()


# ------------------------------------------------------------------ choices and prefs


NOW = datetime(2026, 3, 2, 9, 0)  # local


def test_when_choices_resolve_to_local_dates() -> None:
    kw = {"now_local": NOW, "at": time(10), "fallback_days": 14}
    spec = resolve_when("suggested", days=None, on=None, suggested=date(2026, 3, 5), **kw)
    assert (spec.kind, spec.first_local()) == ("once", datetime(2026, 3, 5, 10))
    spec = resolve_when("suggested", days=None, on=None, suggested=None, **kw)
    assert spec.first_local() == datetime(2026, 3, 16, 10)  # the cadence fallback
    spec = resolve_when("suggested", days=None, on=None, suggested=date(2026, 2, 1), **kw)
    assert spec.first_local() == datetime(2026, 3, 3, 10)  # passed already: tomorrow
    spec = resolve_when("in_days", days=3, on=None, suggested=None, **kw)
    assert spec.first_local() == datetime(2026, 3, 5, 10)
    spec = resolve_when("weekly", days=None, on=None, suggested=None, **kw)
    assert (spec.kind, spec.interval_days, spec.anchor) == ("repeat", 7, date(2026, 3, 9))
    spec = resolve_when("fortnightly", days=None, on=None, suggested=None, **kw)
    assert (spec.interval_days, spec.anchor) == (14, date(2026, 3, 16))
    spec = resolve_when("date", days=None, on="2026-04-01 09:30", suggested=None, **kw)
    assert spec.first_local() == datetime(2026, 4, 1, 9, 30)
    assert (
        "every week on Mondays at 10:00"
        in resolve_when("weekly", days=None, on=None, suggested=None, **kw).describe()
    )


@pytest.mark.parametrize(
    ("kind", "days", "on", "message"),
    [
        ("in_days", 0, None, "1 to 365"),
        ("in_days", None, None, "1 to 365"),
        ("date", None, "2026-02-30", "does not exist"),
        ("date", None, "yesterday", "YYYY-MM-DD"),
        ("date", None, "2026-03-01", "already passed"),
        ("date", None, "2030-01-01", "two years"),
        ("hourly", None, None, "do not know"),
    ],
)
def test_when_choices_that_cannot_be_are_refused_with_a_sentence(
    kind: str, days: int | None, on: str | None, message: str
) -> None:
    with pytest.raises(ValueError, match=message):
        resolve_when(
            kind, days=days, on=on, now_local=NOW, at=time(10), suggested=None, fallback_days=14
        )


def test_prefs_fall_back_from_person_to_server_to_settings() -> None:
    mine = resolve_prefs(
        "Asia/Tokyo", "23:00", "06:00", {"timezone": "Europe/Berlin"}, "UTC", NIGHT
    )
    assert (mine.tz_name, str(mine.quiet), mine.tz_known) == ("Asia/Tokyo", "23:00-06:00", True)
    server = resolve_prefs(
        None, None, None, {"timezone": "Europe/Berlin", "quiet_hours": "22:00-07:00"}, "UTC", NIGHT
    )
    assert (server.tz_name, str(server.quiet), server.tz_known) == (
        "Europe/Berlin",
        "22:00-07:00",
        False,
    )
    default = resolve_prefs("Not/AZone", None, None, None, "America/New_York", NIGHT)
    assert (default.tz_name, default.quiet) == ("America/New_York", NIGHT)
    with pytest.raises(ValueError, match="IANA"):
        zone("../etc/passwd")


def test_idempotency_keys_fit_discords_nonce_and_differ_per_delivery() -> None:
    keys = {idempotency_key(i, o, "a1b2c3d4") for i in (1, 2, 36**12) for o in (1, 2, 10**6)}
    assert len(keys) == 9
    assert max(len(k) for k in keys) <= 25
    # Written out: the id and the occurrence in base 36, then as much of the row's salt as
    # fits in Discord's 25-character nonce. A re-send after a crash carries the same key
    # because every part of it is stored; another person's row (another salt) never does.
    assert idempotency_key(5, 1, "a1b2c3d4") == "5.1.a1b2c3d4"
    assert idempotency_key(35, 36, "zz") == "z.10.zz"
    assert idempotency_key(36**12, 10**6, "a1b2c3d4e5f6a7b8") == "1000000000000.lfls.a1b2c3"
    assert idempotency_key(5, 1, "a1b2c3d4") != idempotency_key(5, 1, "e5f6a7b8")
