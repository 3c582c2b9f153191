"""Check-ins in the real `crossroads console`: choose them, then get them at the next start."""

from __future__ import annotations

import sqlite3
from datetime import UTC, datetime, timedelta
from pathlib import Path

from tests.test_console_cli import Console, in_order

FINISH = ["1", "1", "1,2", "5", "skip"]  # tiny: student, thesis yes, skills, pay 5, no notes


def _make_due(db: Path, minutes_ago: int) -> int:
    """Time passes: every pending check-in became due ``minutes_ago`` minutes ago."""
    due = (datetime.now(UTC) - timedelta(minutes=minutes_ago)).strftime("%Y-%m-%d %H:%M:%S.%f")
    with sqlite3.connect(db) as conn:
        return conn.execute(
            "UPDATE checkins SET due_at = ? WHERE state = 'pending'", (due,)
        ).rowcount


def test_console_offers_check_ins_then_prints_due_ones_at_start_and_takes_answers(
    tmp_path: Path,
) -> None:
    console = Console(tmp_path)
    first = console.run(*FINISH, "/quiet off", "/remind 3", "/checkins")
    assert first.code == 0, first.err
    assert "=== Shall I check in with you on your plan? ===" in first.out
    assert "/remind fortnightly" in first.out and "/remind …  In how many days?" in first.out
    assert "Check-ins are set for 4 steps of your plan" in first.out
    assert "Which time zone are you in?" in first.out  # asked once
    assert "=== Your check-ins ===" in first.out and "Time zone UTC · quiet hours off" in first.out
    assert first.out.count(": once · scheduled · next ") == 8  # after /remind, and /checkins

    assert _make_due(tmp_path / "data" / "crossroads.db", minutes_ago=5) == 4
    second = console.run("1", "3", "/skip", "2")  # done, blocked, later, in progress
    assert second.code == 0, second.err
    out = second.out
    assert out.count("=== Check-in: how is it going? ===") == 4
    assert "* Reply to the check-in above in a word" in out
    # Typed replies answer the delivered check-ins one at a time, in the order sent.
    in_order(
        out,
        "=== Best fit for you: ",  # the consultation, as always
        "* Well done! I marked it done on your plan.",
        "* Next: check-in #2 above.",
        "I noted it as blocked on your plan.",
        "Would you like to revisit the advice?",
        "/edit N",
        "money: pay",
        "* Next: check-in #3 above.",
        "* Fine: you can answer it later from your check-ins.",
        "* Next: check-in #4 above.",
        "* Good to hear it is moving. I noted it as in progress.",
    )

    third = console.run("/checkins")
    assert third.code == 0, third.err
    assert "=== Check-in:" not in third.out  # each one was delivered once
    assert "#3 Write to two supervisors.: once · waiting for your answer" in third.out
    assert third.out.count(": once · ") == 1
    # The plan shows what the answers recorded.
    assert "[done] Update your CV." in third.out and "[in_progress] Read three papers." in third.out
