"""The console loop: read a line, turn it into a core event, print the reply.

Works the same on a terminal and on piped input: each line is one answer or command,
end of input saves and exits cleanly.
"""

from __future__ import annotations

import asyncio
import logging
import sys
from collections.abc import Callable
from pathlib import Path
from typing import BinaryIO, TextIO

from adapters.console import checkins as console_checkins
from adapters.console.render import render
from bot import events as ev
from bot.checkins.delivery import DeliveryConfig, DeliveryWorker
from bot.engine import FORGET_ACTION, Engine
from bot.messages import (
    AnyMessage,
    CheckInPrompt,
    Confirm,
    ExportFile,
    Plan,
    Question,
    Recommendation,
    ReminderMessage,
)
from bot.store.database import StoreUnavailable
from bot.validation import clean_text

log = logging.getLogger(__name__)
MAX_LINE = 64_000  # a longer line is read in full but rejected, never half-applied

HELP = (
    """Commands:
  /start         start a consultation (or continue the one in progress)
  /back          go back one question
  /edit N        change your answer to question N (see /status)
  /status        where you are and what you answered
  /details N     everything about path N of the recommendation
  /restart       start again from the first question
  /export [FILE] write everything I keep about you to a Markdown file
  /forget        delete everything I keep about you
  /help          this list
  /quit          stop here (your progress is saved; come back with the same --user)
"""
    + console_checkins.HELP
)


class ConsoleSession:
    def __init__(
        self,
        engine: Engine,
        user: ev.UserRef,
        *,
        playbook_id: str | None = None,
        stdin: BinaryIO | None = None,
        stdout: TextIO | None = None,
        export_dir: Path | None = None,
    ) -> None:
        self.engine = engine
        self.user = user
        self.playbook_id = playbook_id
        self.stdin = stdin or sys.stdin.buffer
        self.stdout = stdout or sys.stdout
        self.export_dir = export_dir or Path.cwd()
        self.pending_confirm: Confirm | None = None
        self.last_question: Question | None = None
        self.finished = False
        self._paths: list[str] = []
        # Check-ins delivered at start-up, answered (or /skip-ped) before the consultation.
        self.due: list[ReminderMessage] = []
        self._opened = False

    def say(self, text: str) -> None:
        self.stdout.write(text + "\n")
        self.stdout.flush()

    def show(self, messages: list[AnyMessage]) -> None:
        for m in messages:
            if isinstance(m, ExportFile):
                self._write_export(m)
                continue
            if isinstance(m, Question):
                self.last_question, self.finished = m, False
            elif isinstance(m, Recommendation):
                self.last_question, self.finished = None, True
                self._paths = [p.path_id for p in m.paths]
            elif isinstance(m, Confirm):
                self.pending_confirm = m
            if isinstance(m, Plan) and not m.items:
                continue
            self.say(render(m))
            self.say("")

    def _write_export(self, export: ExportFile, target: str = "") -> None:
        path = Path(target).expanduser() if target else self.export_dir / export.filename
        try:
            path.write_text(export.content, encoding="utf-8")
        except OSError as exc:
            self.say(f"! Could not write {path}: {exc.strerror}. Nothing was changed.")
            return
        self.say(f"* Wrote your data to {path}.")

    async def _readline(self) -> bytes | None:
        line = await asyncio.to_thread(self.stdin.readline, MAX_LINE + 1)
        if not line:
            return None
        if len(line) > MAX_LINE and not line.endswith(b"\n"):
            # Drain the rest of an oversized line so it is not read as further answers.
            while True:
                more = await asyncio.to_thread(self.stdin.readline, MAX_LINE)
                if not more or more.endswith(b"\n"):
                    break
            return b"\x00too-long"
        return line

    def _print_due(self, message: ReminderMessage) -> None:
        self.due.append(message)
        self.say(render(message))
        self.say("")

    async def deliver_due(self) -> None:
        """Print this user's due check-ins: the console's DMs, through the same claim loop."""
        worker = DeliveryWorker(
            self.engine.db,
            DeliveryConfig.from_settings(self.engine.settings),
            {"console": console_checkins.ConsoleSender(self._print_due)},
            clock=self.engine.clock,
            only_user=self.user,
        )
        try:
            await worker.drain()
        except StoreUnavailable as exc:
            self.say(f"! {exc} Your check-ins will come next time.")

    async def opening(self) -> None:
        await self.deliver_due()
        if self.due:
            self.say(f"* {len(self.due)} check-in(s) above: please answer them first.")
            return
        await self.open_consultation()

    async def _next_due(self) -> None:
        """After a check-in is answered or skipped: the next one, or the consultation."""
        if self.due:
            head = self.due[0]
            what = f"#{head.checkin_id}" if isinstance(head, CheckInPrompt) else "(missed ones)"
            self.say(f"* Next: check-in {what} above.")
        elif not self._opened:
            await self.open_consultation()

    async def open_consultation(self) -> None:
        self._opened = True
        if self.playbook_id is None and await self.engine.has_open_consultation(self.user):
            self.show((await self.engine.run(ev.Resume(self.user))).messages)
        else:
            self.show((await self.engine.run(ev.Start(self.user, self.playbook_id))).messages)

    def repeat_question(self) -> None:
        """After input we could not even read, show the question still waiting for an answer."""
        if self.last_question is not None:
            self.say(render(self.last_question))
            self.say("")

    async def run(self, prompt: Callable[[], None] | None = None) -> int:
        await self.opening()
        while True:
            if prompt is not None:
                prompt()
            raw = await self._readline()
            if raw is None:
                self.say("* End of input: your progress is saved. Goodbye.")
                return 0
            if raw == b"\x00too-long":
                self.say(f"! That line was longer than {MAX_LINE} characters; it was ignored.")
                self.repeat_question()
                continue
            try:
                line = raw.decode("utf-8").rstrip("\r\n")
            except UnicodeDecodeError:
                self.say("! That input was not valid UTF-8 text; please type it again.")
                self.repeat_question()
                continue
            if not await self.step(line):
                self.say("* Your progress is saved. Goodbye.")
                return 0

    async def step(self, line: str) -> bool:
        """Handle one line; False means the person wants to stop."""
        stripped = line.strip()
        if self.pending_confirm is not None:
            confirm, self.pending_confirm = self.pending_confirm, None
            if confirm.action == FORGET_ACTION and stripped.lower() in ("yes", "y"):
                self.show((await self.engine.run(ev.Forget(self.user, confirmed=True))).messages)
                # Nothing is left: the next line starts a new consultation.
                self.finished, self.last_question = False, None
                return True
            self.say("* Nothing was deleted.")
            return True
        if stripped.lower() in ("/quit", "/exit", "quit", "exit", "/q"):
            return False
        if self.due and (stripped.lower() == "/skip" or not stripped.startswith("/")):
            await self.answer_due(stripped)
            return True
        if stripped.startswith("/"):
            await self.command(stripped)
            return True
        if self.last_question is None:
            if self.finished:
                self.say("* This consultation is complete. /help lists what you can do next.")
            elif await self.engine.has_open_consultation(self.user):
                self.show((await self.engine.run(ev.Resume(self.user))).messages)
            else:
                self.show((await self.engine.run(ev.Start(self.user, self.playbook_id))).messages)
            return True
        q = self.last_question
        value: str | list[str] | int = line
        if stripped == "" and q.current is not None:
            value = q.current
        answer = ev.Answer(self.user, value, q.question_id, q.consultation_id, q.step)
        self.show((await self.engine.run(answer)).messages)
        return True

    async def answer_due(self, line: str) -> None:
        if line.lower() != "/skip":
            events = console_checkins.answer_events(self.user, self.due[0], line)
            if isinstance(events, str):
                self.say(events)
                return
            for event in events:
                self.show((await self.engine.run(event)).messages)
        self.due.pop(0)
        await self._next_due()

    async def command(self, text: str) -> None:
        name, _, arg = text.partition(" ")
        name, arg = name.lower(), arg.strip()
        user = self.user
        simple: dict[str, ev.InEvent] = {
            "/back": ev.Back(user),
            "/status": ev.ShowStatus(user),
            "/restart": ev.Restart(user, self.playbook_id),
            "/forget": ev.Forget(user),
            "/resume": ev.Resume(user),
            "/start": ev.Start(user, self.playbook_id),
        }
        if name in simple:
            self.show((await self.engine.run(simple[name])).messages)
        elif name == "/help":
            self.say(HELP)
        elif name == "/edit":
            if not arg:
                self.say("! Which question? For example /edit 2 (numbers are listed by /status).")
                return
            self.show((await self.engine.run(ev.Edit(user, arg))).messages)
        elif name == "/details":
            if not arg.isdigit() or not 1 <= int(arg) <= len(self._paths):
                self.say("! Give a path number from the recommendation, e.g. /details 1.")
                return
            self.show(
                (await self.engine.run(ev.ShowPath(user, self._paths[int(arg) - 1]))).messages
            )
        elif name == "/export":
            out = (await self.engine.run(ev.Export(user))).messages
            files = [m for m in out if isinstance(m, ExportFile)]
            if files and arg:
                self._write_export(files[0], arg)
            else:
                self.show(out)
        elif (event := console_checkins.command_event(user, name, arg)) is not None:
            if isinstance(event, str):
                self.say(event)
            else:
                self.show((await self.engine.run(event)).messages)
        else:
            shown = clean_text(name)[:30]  # never echo escape sequences to the terminal
            self.say(f"! Unknown command {shown}. Type /help for the list.")
