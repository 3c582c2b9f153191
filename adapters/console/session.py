"""The console loop: read a line, hand it to the core as typed text, print the reply.

Works the same on a terminal and on piped input: each line is one answer or command, end
of input saves and exits cleanly. What a line means is the core's to decide (the same
parser serves Discord and Slack DMs); the console only adds what a terminal has and a
chat has not: /quit, and /export FILE writing to a path.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import sys
import threading
from collections.abc import Callable
from pathlib import Path
from typing import BinaryIO, TextIO

from adapters.console import checkins as console_checkins
from adapters.console.cards import render, terminal_width
from bot.api import (
    Attachment,
    Card,
    DeliveryConfig,
    DeliveryWorker,
    Engine,
    Outcome,
    Reply,
    StoreUnavailable,
    TextEntry,
    Tone,
)
from bot.api import events as ev
from bot.api import intents as it

log = logging.getLogger(__name__)
MAX_LINE = 64_000  # a longer line is read in full but rejected, never half-applied
QUIT = frozenset({"/quit", "/exit", "quit", "exit", "/q"})
CONSOLE_HELP = """Also, in the terminal:
  /export FILE   write your data to FILE
  /quit          stop here (your progress is saved; come back with the same --user)"""


def _in_daemon_thread(read: Callable[[int], bytes], size: int) -> asyncio.Future[bytes]:
    """``read(size)`` in a daemon thread.

    Not asyncio.to_thread: on Ctrl-C, asyncio.run waits for its executor's threads, and a
    thread blocked reading the terminal would hold the exit until Enter is pressed. A
    daemon thread is simply left behind, so Ctrl-C exits at once.
    """
    loop = asyncio.get_running_loop()
    done: asyncio.Future[bytes] = loop.create_future()

    def settle(result: bytes | None, error: BaseException | None) -> None:
        if done.done():
            return
        if error is not None:
            done.set_exception(error)
        else:
            done.set_result(result or b"")

    def work() -> None:
        try:
            result, error = read(size), None
        except BaseException as exc:  # handed to the waiting coroutine
            result, error = None, exc
        with contextlib.suppress(RuntimeError):  # the loop closed meanwhile: nobody waits
            loop.call_soon_threadsafe(settle, result, error)

    threading.Thread(target=work, name="console-stdin", daemon=True).start()
    return done


class _FdLines:
    """``readline`` straight from a file descriptor (os.read), holding no Python I/O lock.

    The daemon thread reading stdin may be blocked in it when the process exits; with
    ``sys.stdin.buffer`` that thread would hold the buffer's lock and abort the exit.
    """

    def __init__(self, fd: int) -> None:
        self.fd = fd
        self.pending = b""
        self.eof = False

    def readline(self, limit: int) -> bytes:
        while b"\n" not in self.pending and len(self.pending) < limit and not self.eof:
            chunk = os.read(self.fd, 65536)
            self.eof = not chunk
            self.pending += chunk
        cut = self.pending.find(b"\n") + 1 or min(limit, len(self.pending))
        cut = min(cut, limit)
        line, self.pending = self.pending[:cut], self.pending[cut:]
        return line


def _wants_paragraph(card: Card | None) -> bool:
    """The question waiting is a story: a paste of several lines, ended by an empty line."""
    return card is not None and any(
        isinstance(s, TextEntry) and s.multiline for s in card.interactive()
    )


def _asks_question(card: Card) -> bool:
    return any(
        isinstance(s.intent, it.AnswerQuestion) for s in card.interactive() if hasattr(s, "intent")
    )


def _starts_paragraph(line: str) -> bool:
    """A first line that begins a story: more than one word, and not a command (a single
    word or number, "skip", "/back", is taken on its own, as scripts type one per line)."""
    text = line.strip()
    return len(text.split()) > 1 and not text.startswith("/")


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
        self.stdin: BinaryIO | _FdLines = stdin or _FdLines(sys.stdin.fileno())
        self.stdout = stdout or sys.stdout
        self.export_dir = export_dir or engine.settings.resolved_data_dir / "exports"
        self.question: Card | None = None  # shown again after unreadable input
        self.width = terminal_width(self.stdout)
        self.delivered = 0

    def say(self, text: str) -> None:
        self.stdout.write(text + "\n")
        self.stdout.flush()

    def show_cards(self, cards: tuple[Card, ...], export_to: str = "") -> None:
        for card in cards:
            if card.attachment is not None:
                self._write_export(card.attachment, export_to)
                continue
            if _asks_question(card) and card.tone == Tone.INFO:  # not a re-ask with an error
                self.question = card
            self.say(render(card, self.width))
            self.say("")

    def show(self, reply: Reply, export_to: str = "") -> None:
        if reply.finished or not reply.awaiting:
            self.question = None
        self.show_cards(reply.cards, export_to)

    def _write_export(self, export: Attachment, target: str = "") -> None:
        name = Path(export.filename).name
        path = Path(target).expanduser() if target else self.export_dir / name
        try:
            if not target:
                path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
            path.write_bytes(export.data())
        except OSError as exc:
            self.say(f"! Could not write {path}: {exc.strerror}. Nothing was changed.")
            return
        if export.is_image:
            self.say(f"* Saved the chart to {path}.")
            return
        self.say(f"* Wrote your data to {path}.")

    async def _readline(self) -> bytes | None:
        line = await _in_daemon_thread(self.stdin.readline, MAX_LINE + 1)
        if not line:
            return None
        if len(line) > MAX_LINE and not line.endswith(b"\n"):
            # Drain the rest of an oversized line so it is not read as further answers.
            while True:
                more = await _in_daemon_thread(self.stdin.readline, MAX_LINE)
                if not more or more.endswith(b"\n"):
                    break
            return b"\x00too-long"
        return line

    def _print_due(self, cards: tuple[Card, ...]) -> None:
        self.delivered += 1
        self.show_cards(cards)

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
        if self.delivered:
            self.say(
                "* Reply to the check-in above in a word (done, in progress, blocked, "
                "snooze a week, stop), or carry on below."
            )
            self.say("")
        await self.open_consultation()

    async def open_consultation(self) -> None:
        if self.playbook_id is None and await self.engine.has_open_consultation(self.user):
            self.show(await self.engine.handle(ev.Resume(user=self.user)))
        else:
            self.show(
                await self.engine.handle(ev.Start(user=self.user, playbook_id=self.playbook_id))
            )

    def repeat_question(self) -> None:
        """After input we could not even read, show the question still waiting for an answer."""
        if self.question is not None:
            self.say(render(self.question, self.width))
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
            if _wants_paragraph(self.question) and _starts_paragraph(line):
                line = await self._rest_of_paragraph(line)
            if not await self.step(line):
                self.say("* Your progress is saved. Goodbye.")
                return 0

    async def _rest_of_paragraph(self, first: str) -> str:
        """Lines up to an empty line (or end of input) joined: a story pasted whole."""
        lines = [first]
        size = len(first)
        while size <= MAX_LINE:
            raw = await self._readline()
            if raw is None or raw == b"\x00too-long":
                break
            line = raw.decode("utf-8", errors="replace").rstrip("\r\n")
            if not line.strip():
                break
            lines.append(line)
            size += len(line) + 1
        return "\n".join(lines)

    async def step(self, line: str) -> bool:
        """Handle one line; False means the person wants to stop."""
        stripped = line.strip()
        word, _, arg = stripped.partition(" ")
        if stripped.lower() in QUIT:
            return False
        if word.lower() == "/export" and arg.strip():
            self.show(await self.engine.handle(ev.Export(user=self.user)), export_to=arg.strip())
            return True
        reply = await self.engine.handle(
            ev.Typed(user=self.user, text=line, playbook_id=self.playbook_id)
        )
        if reply.outcome == Outcome.NOT_FOUND and not stripped.startswith("/") and stripped:
            # A plain line with no consultation begins one (the terminal's convenience).
            reply = await self.engine.handle(ev.Start(user=self.user, playbook_id=self.playbook_id))
        self.show(reply)
        if word.lower() in ("/help", "help"):
            self.say(CONSOLE_HELP)
            self.say("")
        return True
