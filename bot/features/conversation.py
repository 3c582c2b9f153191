"""Typed text: one parser for console lines and Discord and Slack DMs.

What a line means depends on what the core is waiting for, and that is stored, never kept
by a front end: the consultation's current question (``consultations.current_step``), a
confirmation or a delivered check-in (``users.awaiting``). A line is, in this order:

1. the answer to a pending confirmation ("yes" deletes; anything else keeps);
2. a command: ``/name args`` always; a bare command word too, unless a free-text question
   is waiting (then the line is the answer);
3. the reply to a delivered check-in ("done", "snooze a week", its number);
4. the answer to the current question;
5. with no consultation: an offer to start one.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy.engine import Connection
from sqlalchemy.orm import Session

from bot import events as ev
from bot.checkins import texts as checkin_texts
from bot.core.context import CoreContext, Loaded
from bot.core.dispatcher import Dispatcher
from bot.core.reply import Outcome
from bot.core.result import Result, result
from bot.core.when import WHEN_USAGE, NoCheckIns, parse_when
from bot.mentors import texts as mentor_texts
from bot.messages import CheckInChoice, Level, Notice, QuestionKind, Text
from bot.store import checkins_repo, turns
from bot.store import repository as repo
from bot.store.repository import Conflict
from bot.validation import clean_text, whole_number

Run = Callable[[ev.InEvent, datetime], Awaitable[Result]]

YES = frozenset({"yes", "y", "yes please", "delete", "delete my data", "ok", "okay"})
MENTOR_YES_COPY = frozenset(
    {"yes with check-ins", "yes with checkins", "yes and check-ins", "share with check-ins"}
)
MENTOR_NO = frozenset({"no", "n", "not now", "no thanks", "no thank you"})
HELP_TITLE = "What you can type"
HELP = """start: start a consultation (or continue the one in progress)
back: go back one question
edit N: change your answer to question N (status lists them)
status: where you are and what you answered
details N: everything about route N of the recommendation
restart: start again from the first question
export: everything I keep about you, as a file
forget: delete everything I keep about you (I ask first)
checkins: your check-ins
remind WHEN: check in on your plan (suggested, weekly, fortnightly, N days, a date, none)
checkin N snooze [days] | change WHEN | cancel: change one check-in
timezone Area/City; quiet HH:MM-HH:MM | off | default
mentor: ask for a mentor (you see what would be shared first); mentor withdraw
Anything else answers the question I asked last."""
NO_CONSULTATION = (
    "You have no consultation in progress. Type start to begin one: I ask about your "
    "background and goals, then weigh the routes open to you."
)
COMPLETE = (
    "This consultation is complete. Type details N for any route, status for your answers, "
    "edit N to change one, or help for everything else."
)
CHECKIN_WORDS = {
    "done": CheckInChoice.DONE,
    "finished": CheckInChoice.DONE,
    "in progress": CheckInChoice.IN_PROGRESS,
    "progress": CheckInChoice.IN_PROGRESS,
    "working on it": CheckInChoice.IN_PROGRESS,
    "blocked": CheckInChoice.BLOCKED,
    "stuck": CheckInChoice.BLOCKED,
    "my situation changed": CheckInChoice.SITUATION_CHANGED,
    "situation changed": CheckInChoice.SITUATION_CHANGED,
    "changed": CheckInChoice.SITUATION_CHANGED,
    "snooze": CheckInChoice.SNOOZE_DAY,
    "snooze a day": CheckInChoice.SNOOZE_DAY,
    "snooze 1 day": CheckInChoice.SNOOZE_DAY,
    "tomorrow": CheckInChoice.SNOOZE_DAY,
    "snooze a week": CheckInChoice.SNOOZE_WEEK,
    "snooze 1 week": CheckInChoice.SNOOZE_WEEK,
    "next week": CheckInChoice.SNOOZE_WEEK,
    "stop": CheckInChoice.STOP,
    "stop these": CheckInChoice.STOP,
}
BARE_COMMANDS = frozenset(
    {
        "start",
        "resume",
        "back",
        "edit",
        "status",
        "details",
        "restart",
        "help",
        "forget",
        "export",
        "checkins",
        "remind",
        "checkin",
        "timezone",
        "quiet",
        "mentor",
    }
)


@dataclass(frozen=True, slots=True)
class _Waiting:
    uid: int | None
    awaiting: str
    question_kind: QuestionKind | None  # of the current question, when one is waiting
    status: str  # of the latest consultation: active | completed | "" (none)
    current: Any = None  # the current question's earlier answer (Enter keeps it)
    # The consultation and its version when the line was read: the answer applies to the
    # question read here or not at all (a click that answered it meanwhile wins: STALE).
    consultation_id: int | None = None
    step: int | None = None


def _checkin_choice(low: str, waiting: _Waiting) -> CheckInChoice | None:
    """The reply a line gives to the delivered check-in (None: it is something else)."""
    choice = CHECKIN_WORDS.get(low.rstrip(".!"))
    number = whole_number(low)
    if choice is None and number is not None and waiting.question_kind is None:
        ids = [c.id for c in checkin_texts.PROMPT_CHOICES]
        if 1 <= number <= len(ids):
            choice = CheckInChoice(ids[number - 1])
    return choice


def _fail(text: str) -> Result:
    return result(Outcome.INVALID, Notice(text, Level.WARNING))


class Conversation:
    def __init__(self, ctx: CoreContext, run: Run) -> None:
        self.ctx = ctx
        self.run = run

    def register(self, dispatcher: Dispatcher) -> None:
        dispatcher.register(self._typed, ev.Typed)

    @staticmethod
    def _waiting_of(turn: turns.Turn, loaded: Loaded | None) -> _Waiting:
        kind: QuestionKind | None = None
        status, current = "", None
        consultation_id: int | None = None
        step: int | None = None
        if loaded is not None:
            status = loaded.state.status
            consultation_id, step = loaded.state.id, loaded.state.version
            q = loaded.playbook.question(loaded.state.current_step or "")
            if status == "active" and q is not None:
                kind = q.kind
                current = loaded.answers.get(q.id)
        return _Waiting(turn.uid, turn.awaiting or "", kind, status, current, consultation_id, step)

    def _typed_unit(
        self,
        c: Connection,
        user: ev.UserRef,
        text: str,
        low: str,
        now: datetime,
        seen: tuple[int, int] | None = None,
    ) -> _Waiting | Result:
        """Read what the line answers (one statement) and, when it answers the current
        question, apply it in the same transaction (one more); else what was read.

        ``seen``: the consultation and version the person saw, when known from an earlier
        read (tests/race_gate.py stages a click landing between that read and this one).
        """
        turn = turns.turn_state(c, user)
        loaded = self.ctx.loaded(c, turn.state)
        waiting = self._waiting_of(turn, loaded)
        if loaded is None or self.ctx.answer_on is None or not self._answers(user, waiting, low):
            return waiting
        keep = text == "" and waiting.current is not None
        cid, step = seen if seen is not None else (waiting.consultation_id, waiting.step)
        answer = ev.Answer(
            user=user, value=waiting.current if keep else text, consultation_id=cid, step=step
        )
        return self.ctx.answer_on(c, answer, loaded, now)

    def _answers(self, user: ev.UserRef, waiting: _Waiting, low: str) -> bool:
        """Whether the line is the answer to the current question (``_typed``'s order)."""
        if waiting.awaiting.startswith("confirm:mentor:"):
            if self._mentor_answer(user, low, waiting) is not None:
                return False
        elif waiting.awaiting.startswith("confirm:"):
            return False
        word, _, _ = low.partition(" ")
        name = word.lstrip("/")
        free_text = waiting.question_kind == QuestionKind.FREE_TEXT
        if (word.startswith("/") or (name in BARE_COMMANDS and not free_text)) and name:
            return False
        if waiting.awaiting.startswith("checkin:") and _checkin_choice(low, waiting) is not None:
            return False
        return waiting.status == "active"

    def _path_ids(self, s: Session, user: ev.UserRef) -> tuple[str, ...]:
        """The latest recommendation's routes, in rank order (read for ``details N`` only)."""
        loaded = self.ctx.load(s, user)
        snap = repo.latest_snapshot(s, loaded.state.id) if loaded is not None else None
        if snap is None:
            return ()
        ranked = sorted(snap.payload.get("paths", []), key=lambda p: p.get("rank", 0))
        return tuple(str(p["path_id"]) for p in ranked)

    def _clear(self, s: Session, uid: int | None) -> None:
        if uid is not None:
            repo.set_awaiting(s, uid, None)

    async def _typed(self, event: ev.Typed, now: datetime) -> Result:
        text = clean_text(event.text)
        user = event.user
        low = " ".join(text.lower().split())
        try:
            read = await self.ctx.db.run_core(self._typed_unit, user, text, low, now)
        except Conflict as lost:  # another turn moved the consultation between read and write
            assert self.ctx.stale_answer is not None
            return await self.ctx.db.run(self.ctx.stale_answer, user, lost.args[0], now)
        if isinstance(read, Result):
            return read
        waiting = read
        if waiting.awaiting.startswith("confirm:mentor:"):
            shared = self._mentor_answer(user, low, waiting)
            if shared is not None:
                return await self.run(shared, now)
        elif waiting.awaiting.startswith("confirm:"):
            await self.ctx.db.run(self._clear, waiting.uid)
            if waiting.awaiting == "confirm:forget" and low.lstrip("/") in YES:
                return await self.run(ev.Forget(user=user, confirmed=True), now)
            return result(Outcome.APPLIED, Notice("Nothing was deleted."))
        word, _, arg = low.partition(" ")
        slash = word.startswith("/")
        name = word.lstrip("/")
        free_text = waiting.question_kind == QuestionKind.FREE_TEXT
        if (slash or (name in BARE_COMMANDS and not free_text)) and name:
            command = await self._command(
                user, name, arg, text, waiting, event.playbook_id, now, event.platform_timezone
            )
            if command is not None:
                return command
            if slash:
                shown = ("/" + name)[:30]
                return _fail(f"I do not know the command {shown}. Type help for the list.")
        if waiting.awaiting.startswith("checkin:"):
            answered = await self._checkin_reply(user, low, waiting, now)
            if answered is not None:
                return answered
        if waiting.status == "active":
            keep = text == "" and waiting.current is not None
            answer = ev.Answer(
                user=user,
                value=waiting.current if keep else text,
                consultation_id=waiting.consultation_id,
                step=waiting.step,
            )
            return await self.run(answer, now)
        if waiting.status == "completed":
            return result(Outcome.INVALID, Notice(COMPLETE))
        return result(Outcome.NOT_FOUND, Notice(NO_CONSULTATION))

    @staticmethod
    def _mentor_answer(user: ev.UserRef, low: str, waiting: _Waiting) -> ev.InEvent | None:
        """A typed answer to the mentor consent card (None: the line is something else).

        The card asked at a version of the consultation (``confirm:mentor:<version>``): a
        yes shares that summary only, so a line typed after the answers changed shares
        nothing and the card is shown again.
        """
        step = whole_number(waiting.awaiting.rsplit(":", 1)[1])
        words = low.lstrip("/").removeprefix("mentor ").strip(" .!")
        if words in YES or words == mentor_texts.SHARE:
            share, copy = True, False
        elif words in MENTOR_YES_COPY or words == mentor_texts.SHARE_CHECKINS:
            share, copy = True, True
        elif words in MENTOR_NO or words == mentor_texts.NO:
            share, copy = False, False
        else:
            return None
        return ev.ShareWithMentor(
            user=user,
            share=share,
            copy_checkins=copy,
            consultation_id=waiting.consultation_id,
            step=step,
        )

    async def _checkin_reply(
        self, user: ev.UserRef, low: str, waiting: _Waiting, now: datetime
    ) -> Result | None:
        _, checkin, occurrence = waiting.awaiting.split(":")
        choice = _checkin_choice(low, waiting)
        if choice is None:
            return None
        answer = ev.AnswerCheckIn(
            user=user, checkin_id=int(checkin), occurrence=int(occurrence), answer=choice
        )
        res = await self.run(answer, now)
        res.messages += await self.ctx.db.run(self._advance, waiting.uid, int(checkin))
        return res

    @staticmethod
    def _advance(s: Session, uid: int | None, after: int) -> list[Notice]:
        """The next delivered check-in now waits for a typed reply (they queue, in order)."""
        if uid is None:
            return []
        nxt = checkins_repo.next_unanswered(s, uid, after)
        repo.set_awaiting(s, uid, f"checkin:{nxt[0]}:{nxt[1]}" if nxt else None)
        return [Notice(f"Next: check-in #{nxt[0]} above.")] if nxt else []

    async def _command(
        self,
        user: ev.UserRef,
        name: str,
        arg: str,
        raw: str,
        waiting: _Waiting,
        playbook_id: str | None,
        now: datetime,
        zone: str | None = None,
    ) -> Result | None:
        """The command's result; None when ``name`` is not a command."""
        simple: dict[str, ev.InEvent] = {
            "start": ev.Start(user=user, playbook_id=arg or playbook_id),
            "resume": ev.Resume(user=user),
            "back": ev.Back(user=user),
            "status": ev.ShowStatus(user=user),
            "restart": ev.Restart(user=user, playbook_id=arg or playbook_id),
            "forget": ev.Forget(user=user),
            "export": ev.Export(user=user),
            "checkins": ev.ListCheckIns(user=user),
            "cancel": ev.Cancel(user=user),
        }
        if name in simple:
            return await self.run(simple[name], now)
        if name == "skip":  # "/skip": leave an optional question out, or a check-in for later
            if waiting.awaiting.startswith("checkin:"):
                skipped = int(waiting.awaiting.split(":")[1])
                later = Notice("Fine: you can answer it later from your check-ins.")
                nxt = await self.ctx.db.run(self._advance, waiting.uid, skipped)
                return result(Outcome.APPLIED, later, *nxt)
            return await self.run(ev.Answer(user=user, value="skip"), now)
        if name == "help":
            return result(Outcome.SHOWN, Text(HELP, title=HELP_TITLE))
        if name == "mentor":
            if arg in ("withdraw", "cancel", "stop"):
                return await self.run(ev.WithdrawMentorRequest(user=user), now)
            return await self.run(ev.AskMentor(user=user), now)
        if name == "edit":
            if not arg:
                return _fail("Which question? For example edit 2 (status lists them).")
            return await self.run(ev.Edit(user=user, question=arg), now)
        if name == "details":
            return await self._details(user, arg, waiting, now)
        if name == "remind":
            when = parse_when(arg)
            if when is None:
                return _fail(f"I did not understand that. Use remind {WHEN_USAGE}.")
            plan = None if isinstance(when, NoCheckIns) else when
            schedule = ev.ScheduleCheckIns(user=user, when=plan, platform_timezone=zone)
            return await self.run(schedule, now)
        if name == "checkin":
            return await self._checkin_command(user, arg, now)
        if name == "timezone":
            original = raw.split(maxsplit=1)[1].strip() if " " in raw.strip() else ""
            if not original:
                return _fail("Which time zone? For example timezone Europe/Berlin.")
            return await self.run(ev.SetTimezone(user=user, timezone=original), now)
        if name == "quiet":
            if not arg:
                return _fail("Quiet hours look like quiet 21:00-08:00 (or off, or default).")
            return await self.run(ev.SetQuietHours(user=user, quiet_hours=arg), now)
        return None

    async def _details(
        self, user: ev.UserRef, arg: str, waiting: _Waiting, now: datetime
    ) -> Result:
        path_ids = await self.ctx.db.run(self._path_ids, user)
        if not path_ids:
            return _fail("There is no recommendation yet: finish the questions first.")
        number = whole_number(arg)
        if number is None or not 1 <= number <= len(path_ids):
            count = len(path_ids)
            return _fail(f"Give a route number from the recommendation, from 1 to {count}.")
        return await self.run(ev.ShowPath(user=user, path_id=path_ids[number - 1]), now)

    async def _checkin_command(self, user: ev.UserRef, arg: str, now: datetime) -> Result:
        usage = "Use checkin N snooze [days], checkin N change WHEN or checkin N cancel."
        parts = arg.split(maxsplit=2)
        digits = parts[0].removeprefix("#") if parts else ""
        number = whole_number(digits)
        if number is None and digits.isascii() and digits.isdigit():  # too big to be an id
            return _fail("I have no check-in with that number; checkins lists yours.")
        if len(parts) < 2 or number is None:
            return _fail(usage)
        verb, rest = parts[1], parts[2] if len(parts) > 2 else ""
        if verb == "snooze":
            days = whole_number(rest.strip() or "1")
            if days is None:
                return _fail("Snooze takes a number of days, e.g. checkin 3 snooze 7.")
            return await self.run(ev.SnoozeCheckIn(user=user, checkin_id=number, days=days), now)
        if verb == "cancel":
            return await self.run(ev.CancelCheckIn(user=user, checkin_id=number), now)
        if verb == "change":
            when = parse_when(rest)
            if when is None:
                return _fail(f"I did not understand that time. Use {WHEN_USAGE}.")
            if isinstance(when, NoCheckIns):
                return await self.run(ev.CancelCheckIn(user=user, checkin_id=number), now)
            return await self.run(ev.ChangeCheckIn(user=user, checkin_id=number, when=when), now)
        return _fail(usage)
