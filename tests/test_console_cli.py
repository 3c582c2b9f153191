"""End to end through the real `crossroads console` command, with piped stdin.

Every test gets its own data folder and its own copy of tests/playbooks/tiny.yaml, so it
depends neither on the content playbooks nor on other tests. The tiny playbook asks:
1 role (single choice; Student shows 2 thesis), 3 skills (multi), 4 pay (scale 1-5),
5 notes (optional free text, at most 100 characters).
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest

CROSSROADS = Path(sys.executable).with_name("crossroads")
TINY = Path(__file__).parent / "playbooks" / "tiny.yaml"
GOODBYE = "* End of input: your progress is saved. Goodbye."
INTRO = "Hello! A few quick questions."
Q_ROLE = "What are you?"
Q_THESIS = "Did you write a thesis?"
Q_SKILLS = "Which skills do you have?"
Q_PAY = "How much does pay matter?"
Q_NOTES = "Anything else?"
STEPS = (
    "Write to two supervisors.",
    "Read three papers.",
    "Update your CV.",
    "Apply to five roles.",
)


@dataclass
class Run:
    code: int
    raw: bytes
    out: str
    err: str


class Console:
    """Runs `crossroads console` against one data folder."""

    def __init__(self, root: Path) -> None:
        self.root = root
        playbooks = root / "playbooks"
        playbooks.mkdir()
        (playbooks / "tiny.yaml").write_bytes(TINY.read_bytes())
        self.env = {
            k: v
            for k, v in os.environ.items()
            if not k.startswith(("CROSSROADS_", "SLACK_", "DISCORD_")) and k != "DATABASE_URL"
        }
        self.env.update(
            CROSSROADS_DATA_DIR=str(root / "data"),
            CROSSROADS_PLAYBOOKS_DIR=str(playbooks),
            CROSSROADS_DEFAULT_PLAYBOOK="tiny",
            PYTHONIOENCODING="utf-8",
        )

    def run(
        self,
        *lines: str | bytes,
        user: str = "alice",
        args: tuple[str, ...] = (),
        env: dict[str, str] | None = None,
    ) -> Run:
        stdin = b"".join((x if isinstance(x, bytes) else x.encode()) + b"\n" for x in lines)
        done = subprocess.run(
            [str(CROSSROADS), "console", "--user", user, *args],
            input=stdin,
            capture_output=True,
            env={**self.env, **(env or {})},
            cwd=self.root,
            timeout=30,
            check=False,
        )
        run = Run(
            done.returncode,
            done.stdout,
            done.stdout.decode("utf-8", "replace"),
            done.stderr.decode("utf-8", "replace"),
        )
        assert "Traceback" not in run.out + run.err, run.out + run.err
        return run

    def ok(self, *lines: str | bytes, user: str = "alice") -> str:
        """A run that must end normally; returns its output."""
        run = self.run(*lines, user=user)
        assert run.code == 0, run.err
        assert run.out.rstrip().endswith(GOODBYE)
        return run.out


@pytest.fixture
def console(tmp_path: Path) -> Console:
    return Console(tmp_path)


def in_order(text: str, *snippets: str | re.Pattern[str]) -> None:
    """Each snippet (a string or a pattern) occurs in ``text``, after the previous one."""
    at = 0
    for snippet in snippets:
        if isinstance(snippet, re.Pattern):
            match = snippet.search(text, at)
            assert match, f"{snippet.pattern!r} not found after position {at} in:\n{text}"
            at = match.end()
            continue
        found = text.find(snippet, at)
        assert found >= 0, f"{snippet!r} not found after position {at} in:\n{text}"
        at = found + len(snippet)


STATUS = re.compile(r"^=== Tiny test playbook ===\n\w+: \d+ of \d+ questions answered\.$", re.M)


def q(position: int, total: int, prompt: str, error: str = "") -> re.Pattern[str]:
    """How a question card starts on the console; a re-asked one says what was wrong first."""
    wrong = rf"! {re.escape(error)}[^\n]*\n" if error else ""
    return re.compile(rf"=== Question {position} of {total} ===\n{wrong}{re.escape(prompt)}")


def status_block(out: str) -> str:
    """The last /status reply in ``out``."""
    start = [m.start() for m in STATUS.finditer(out)][-1]
    return out[start : out.index("\n\n", start)]


# --------------------------------------------------------------------------- happy paths


def test_whole_consultation_from_intro_to_plan(console: Console) -> None:
    out = console.ok(
        "1",  # Student
        "1",  # thesis: Yes
        "1,3",  # Coding, Writing
        "4",
        "I like physics.",
        "/status",
        "/details 1",
        "/details 2",
        "/details 3",
        "/export out.md",
        "/export no/such/dir/out.md",
        "/help",
    )
    in_order(
        out,
        "=== Tiny test playbook ===",
        INTRO,
        q(1, 5, Q_ROLE),
        "  1. Student",
        "Type the number of your choice.",
        q(2, 5, Q_THESIS),
        q(3, 5, Q_SKILLS),
        "separated by commas",
        q(4, 5, Q_PAY),
        q(5, 5, Q_NOTES),
        "At most 100 characters. Type skip to leave it out.",
        "That is everything I need.",
        "=== Tiny test playbook ===",
        "In short:",
        "My advice: ",
        "What would change this:",
        "Your next steps:",
        "  [open] ",
        "Every route I considered:",
        "/details 1",
    )
    assert "Keep studying" in out and "Get a job" in out
    plan = out[out.index("Your next steps:") : out.index("Completed: 5 of 5")]
    planned = [line for line in plan.splitlines() if line.startswith("  [open] ")]
    assert planned, plan
    assert all(any(step in line for step in STEPS) for line in planned)
    assert status_block(out).splitlines() == [
        "=== Tiny test playbook ===",
        "Completed: 5 of 5 questions answered.",
        "  1. your role: Student",
        "  2. thesis: Yes",
        "  3. skills: Coding, Writing",
        "  4. pay: 4 of 5",
        "  5. notes: I like physics.",
    ]
    # /details N shows everything about a path: pros, cons or risks, and next steps.
    details = out[out.index("5. notes: I like physics.") :]
    in_order(details, "=== 1. ", "For:", "Your next steps:", "=== 2. ", "For:", "Your next steps:")
    assert "! Give a route number from the recommendation, from 1 to 2." in details
    export = console.root / "out.md"
    assert "* Wrote your data to out.md." in out
    assert "! Could not write no/such/dir/out.md: No such file or directory." in out
    md = export.read_text(encoding="utf-8")
    in_order(
        md,
        "# Your Crossroads data",
        "console user alice",
        "### Current answers",
        "- your role: Student",
        "- thesis: Yes",
        "- skills: Coding, Writing",
        "- pay: 4 of 5",
        "- notes: I like physics.",
        "### Recommendation",
        "### Plan",
    )
    assert "Keep studying" in md and "Get a job" in md and "My advice: " in md
    assert "edit N:" in out and "forget:" in out and "/quit" in out  # /help

    # Coming back later shows the same recommendation, and /details works at once.
    back = console.ok("/details 2", "1")
    in_order(
        back,
        "In short:",
        "Your next steps:",
        "=== 2. ",
        "Your next steps:",
        "* This consultation is complete.",
    )
    assert INTRO not in back


def test_quit_midway_then_resume_at_the_same_question(console: Console) -> None:
    first = console.run("1", "1", "/quit", "2")  # the line after /quit is never read
    assert first.code == 0
    assert first.out.rstrip().endswith("* Your progress is saved. Goodbye.")
    last_question = first.out.rstrip().rsplit("\n\n", 1)[0]
    assert last_question.endswith("Type one or more numbers, separated by commas (e.g. 1,3).")

    again = console.ok("/status", "2")
    assert INTRO not in again
    assert again.startswith("* Welcome back: we continue where you stopped.\n")
    assert q(3, 5, Q_SKILLS).search(again)
    assert status_block(again).splitlines() == [
        "=== Tiny test playbook ===",
        "Active: 2 of 5 questions answered.",
        "  1. your role: Student",
        "  2. thesis: Yes",
    ]
    in_order(again, "2 of 5 questions answered", q(4, 5, Q_PAY))

    stranger = console.ok("/status", user="bob")
    in_order(stranger, INTRO, q(1, 5, Q_ROLE))
    assert "Welcome back" not in stranger
    assert "Active: 0 of 4 questions answered." in stranger


def test_back_edit_and_restart(console: Console) -> None:
    out = console.ok(
        "/back",  # nothing before the first question
        "1",
        "1",
        "/back",
        "",  # Enter keeps the answer (Yes)
        "/edit 1",
        "2",  # Worker: the thesis question no longer applies
        "/edit 9",
        "/edit",
        "/status",
        "/restart",
        "/status",
    )
    in_order(
        out,
        "* This is the first question; there is nothing before it.",
        q(1, 5, Q_ROLE),
        q(2, 5, Q_THESIS),
        q(3, 5, Q_SKILLS),
        q(2, 5, Q_THESIS),  # /back
        "Your answer so far: Yes",
        "Press Enter to keep your answer.",
        q(3, 5, Q_SKILLS),  # kept
        q(1, 5, Q_ROLE),  # /edit 1
        "Your answer so far: Student",
        "Press Enter to keep your answer.",
        q(2, 4, Q_SKILLS),  # Worker: thesis skipped, its answer no longer counts
        "! I could not find that question. Pick one by its number: 1. your role",
        "! Which question? For example edit 2",
        "Active: 1 of 4 questions answered.\n  1. your role: Worker\n\n",
        "* Starting again from the first question.",
        INTRO,
        q(1, 5, Q_ROLE),
        "Active: 0 of 4 questions answered.\n\n",
    )
    after_restart = out[out.index("* Starting again") :]
    assert "Press Enter to keep" not in after_restart


def test_forget_deletes_everything_and_the_next_run_starts_fresh(console: Console) -> None:
    out = console.ok(
        "1",
        "/forget",
        "no",
        "/status",
        "/forget",
        "yes",
        "/status",
        "/export",
    )
    in_order(
        out,
        "It cannot be undone. Go ahead?",
        "/yes",
        "/no",
        "* Nothing was deleted.",
        "Active: 1 of 5 questions answered.",
        "Go ahead?",
        "* Done: everything I kept about you is deleted.",
        "* You have no consultation in progress.",
        "* I have no data about you.",
    )
    fresh = console.ok("/status", "/forget", "y", "go", "2", "/status")
    assert "Welcome back" not in fresh
    in_order(
        fresh,
        INTRO,
        q(1, 5, Q_ROLE),
        "0 of 4 questions answered.",
        "* Done: everything I kept about you is deleted.",
        INTRO,  # after forgetting, the next line begins a new consultation
        q(1, 5, Q_ROLE),
        q(2, 4, Q_SKILLS),
        "Active: 1 of 4 questions answered.\n  1. your role: Worker",
    )


# --------------------------------------------------------------------------- bad input


def test_unknown_command_and_invalid_answers_are_reasked(console: Console) -> None:
    out = console.ok(
        "/frobnicate now",
        "/" + "x" * 200,
        "",  # empty on a required question
        "7",  # no such choice
        "2",
        "1,9",
        "2",
        "nine",
        "6",
        "3",
    )
    in_order(
        out,
        q(1, 5, Q_ROLE),
        "! I do not know the command /frobnicate. Type help for the list.",
        "! I do not know the command /" + "x" * 29 + ". Type help for the list.",
        q(1, 5, Q_ROLE, "This question needs an answer. Please pick one of the options"),
        q(1, 5, Q_ROLE, "Please pick one of the options (its number or its name)."),
        q(2, 4, Q_SKILLS),
        q(2, 4, Q_SKILLS, "Please pick 1 to 3 of the options, separated by commas."),
        q(3, 4, Q_PAY),
        q(3, 4, Q_PAY, "Please answer with a whole number from 1 to 5."),
        q(3, 4, Q_PAY, "Please answer with a whole number from 1 to 5."),
        q(4, 4, Q_NOTES),
    )
    assert "x" * 31 not in out


def test_very_long_lines_are_refused_and_nothing_is_lost(console: Console) -> None:
    out = console.ok(
        "1",
        "x" * 10_001,  # on a choice question
        "1",
        "1",
        "3",
        "y" * 10_001,  # on the free-text question (at most 100 characters)
        "z" * 100_000,  # longer than the console reads at once
    )
    in_order(
        out,
        q(2, 5, Q_THESIS),
        q(2, 5, Q_THESIS, "That answer is 10001 characters long, too long to be one of the"),
        q(3, 5, Q_SKILLS),
        q(4, 5, Q_PAY),
        q(5, 5, Q_NOTES),
        q(5, 5, Q_NOTES, "That is 10001 characters; please keep it to 100 or fewer."),
        "! That line was longer than 64000 characters; it was ignored.",
        q(5, 5, Q_NOTES),
        GOODBYE,
    )
    for ch in "xyz":
        assert ch * 40 not in out  # never echoed back

    later = console.ok("/status", "a short note")
    assert later.startswith("* Welcome back")
    assert status_block(later).splitlines() == [
        "=== Tiny test playbook ===",
        "Active: 4 of 5 questions answered.",
        "  1. your role: Student",
        "  2. thesis: Yes",
        "  3. skills: Coding",
        "  4. pay: 3 of 5",
    ]
    in_order(later, q(5, 5, Q_NOTES), "4 of 5", "In short:")
    assert "y" * 40 not in later


def test_control_characters_are_not_echoed(console: Console) -> None:
    nasty = "Hi \x1b[31mred\x1b[0m \x07bell \u009b2J \u202eevil\u202c \x1b]0;title\x07 Café 日本"
    run = console.run("/oops\x1b[2J\x07", "2", "2", "1", nasty, "/status", "/export out.md")
    assert "! I do not know the command /oops[2j. Type help for the list." in run.out
    assert run.code == 0
    for bad in (b"\x1b", b"\x07", "\u009b".encode(), "\u202e".encode()):
        assert bad not in run.raw
    notes = next(line for line in status_block(run.out).splitlines() if "notes:" in line)
    assert "red" in notes and "Café 日本" in notes
    md = (console.root / "out.md").read_text(encoding="utf-8")
    assert "Café 日本" in md
    assert not any(ch in md for ch in "\x1b\x07\u009b\u202e")


def test_invalid_utf8_is_refused_and_the_session_continues(console: Console) -> None:
    out = console.ok("1", b"\xff\xfe oops", b"caf\xc3", "1", "/status")
    assert out.count("! That input was not valid UTF-8 text; please type it again.") == 2
    in_order(
        out,
        q(2, 5, Q_THESIS),
        "not valid UTF-8",
        q(2, 5, Q_THESIS),
        "not valid UTF-8",
        q(2, 5, Q_THESIS),
        q(3, 5, Q_SKILLS),
    )
    assert status_block(out).splitlines() == [
        "=== Tiny test playbook ===",
        "Active: 2 of 5 questions answered.",
        "  1. your role: Student",
        "  2. thesis: Yes",
    ]


# --------------------------------------------------------------------------- start-up failures


def test_corrupt_database_file(console: Console) -> None:
    db = console.root / "corrupt.db"
    garbage = bytes(range(256)) * 16
    db.write_bytes(garbage)
    run = console.run("1", env={"DATABASE_URL": f"sqlite:///{db}"})
    assert run.code == 2
    assert run.out == ""
    assert run.err.startswith("crossroads: ")
    assert f"The database file {db} is not a readable SQLite database" in run.err
    assert db.read_bytes() == garbage  # left as it was, for the person to look at


def test_database_path_under_a_regular_file(console: Console) -> None:
    blocker = console.root / "file.txt"
    blocker.write_text("I am a file\n", encoding="utf-8")
    target = blocker / "sub" / "db"
    run = console.run("1", env={"DATABASE_URL": f"sqlite:///{target}"})
    assert run.code == 2
    assert run.out == ""
    assert f"The database file {target} cannot be opened or written." in run.err
    assert blocker.read_text(encoding="utf-8") == "I am a file\n"


def test_data_dir_under_a_regular_file(console: Console) -> None:
    # The log file cannot be created either: warnings go to stderr, without a traceback.
    blocker = console.root / "file.txt"
    blocker.write_text("I am a file\n", encoding="utf-8")
    run = console.run("1", env={"CROSSROADS_DATA_DIR": str(blocker / "data")})
    assert run.code == 2
    assert run.out == ""
    assert f"crossroads: The database file {blocker / 'data' / 'crossroads.db'} cannot be" in (
        run.err
    )


def test_unreachable_postgresql(console: Console) -> None:
    run = console.run("1", env={"DATABASE_URL": "postgresql://postgres@127.0.0.1:1/test"})
    assert run.code == 2
    assert run.out == ""
    # A refused connection is answered at once; run() fails the test if it hangs (30 s).
    assert "crossroads: The PostgreSQL server at 127.0.0.1:1 cannot be reached" in run.err


def test_unknown_playbook_lists_the_available_ones(console: Console) -> None:
    run = console.run("1", args=("--playbook", "no-such-playbook"))
    assert run.code == 2
    assert run.out == ""
    assert run.err.strip() == "crossroads: no playbook 'no-such-playbook'; available: tiny"
