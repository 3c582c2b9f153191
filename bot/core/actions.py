"""Intents -> events, for the person who clicked: one mapping for every platform.

An adapter decodes a component id into an intent (``bot/ui/codec.py``) and hands it here
with what came with the click: the picked option values and any typed text. The owner
check happens here, in the core: an intent about someone else's consultation or check-in
is refused, whatever the platform.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy.orm import Session

from bot import events as ev
from bot.core.reply import Outcome
from bot.core.result import Result, result
from bot.core.when import WHEN_USAGE, NoCheckIns, parse_when
from bot.mentors import texts as mentor_texts
from bot.messages import Level, Notice, RescheduleQuestion, WhenKind
from bot.store import checkins_repo
from bot.store import repository as repo
from bot.ui import intents as it

__all__ = [
    "COMMANDS",
    "NOT_YOURS",
    "NOT_YOURS_CHECKIN",
    "Click",
    "refusal",
    "to_events",
]

COMMANDS = frozenset(
    {"start", "resume", "status", "back", "restart", "checkins", "export", "forget", "mentor"}
)
NOT_YOURS = (
    "These buttons belong to someone else's consultation; start your own with the start command."
)
NOT_YOURS_CHECKIN = "That check-in belongs to someone else."


@dataclass(frozen=True, slots=True, kw_only=True)
class Click:
    """Where an intent came from: what was picked or typed, and the platform's context.

    ``platform_timezone``: the zone the platform reports for the person (Slack), used for
    check-ins unless they chose one. ``server_tenant``: the server a Discord person clicked
    in, whose admin defaults apply.
    """

    values: tuple[str, ...] = ()
    text: str | None = None
    platform_timezone: str | None = None
    server_tenant: str | None = None

    def single(self, fallback: str = "") -> str:
        if fallback:
            return fallback
        if self.text is not None:
            return self.text
        return self.values[0] if self.values else ""


def refusal(
    s: Session, user: ev.UserRef, intent: it.Intent, click: Click | None = None
) -> Result | None:
    """A polite refusal when ``intent`` is about something that is not ``user``'s.

    Check-ins picked from a list travel as option values: each is checked too.
    """
    me = (user.platform, user.tenant, user.user_id)
    if isinstance(intent, it.ManageCheckIn | it.CatchUp) and not intent.checkin and click:
        for checkin in _picked_ids(click, 0) or ():
            owner = checkins_repo.checkin_owner(s, checkin)
            if owner is not None and owner != me:
                return result(Outcome.REFUSED, Notice(NOT_YOURS_CHECKIN, Level.WARNING))
    consultation = getattr(intent, "consultation", None)
    if isinstance(consultation, int) and consultation:
        owner = repo.consultation_owner(s, consultation)
        if owner is not None and owner != me:
            return result(Outcome.REFUSED, Notice(NOT_YOURS, Level.WARNING))
    checkin = getattr(intent, "checkin", None)
    if isinstance(checkin, int) and checkin:
        owner = checkins_repo.checkin_owner(s, checkin)
        if owner is not None and owner != me:
            return result(Outcome.REFUSED, Notice(NOT_YOURS_CHECKIN, Level.WARNING))
    return None


def _picked_ids(click: Click, fixed: int) -> list[int] | None:
    """Check-in ids from the intent or the picked options (None: something malformed)."""
    if fixed:
        return [fixed]
    ids: list[int] = []
    for raw in click.values:
        if not raw.isascii() or not raw.isdigit() or len(raw) > 18:
            return None
        ids.append(int(raw))
    return ids or None


def _answer_value(intent: it.AnswerQuestion, click: Click) -> str | list[str]:
    if intent.value:
        return intent.value
    if click.text is not None:
        return click.text
    if len(click.values) == 1:
        return click.values[0]
    return list(click.values)


def _invalid(text: str) -> Result:
    return result(Outcome.INVALID, Notice(text, Level.WARNING))


def to_events(
    user: ev.UserRef, intent: it.Intent, click: Click, *, playbook_id: str | None = None
) -> list[ev.InEvent] | Result:
    """The events an intent stands for, or a Result to show instead (nothing to apply)."""
    match intent:
        case it.AnswerQuestion():
            value = _answer_value(intent, click)
            return [
                ev.Answer(
                    user=user,
                    value=value,
                    question_id=None,
                    consultation_id=intent.consultation,
                    step=intent.step,
                )
            ]
        case it.SkipQuestion():
            return [
                ev.Answer(
                    user=user,
                    value="",
                    question_id=None,
                    consultation_id=intent.consultation,
                    step=intent.step,
                )
            ]
        case it.OpenPath():
            return [ev.ShowPath(user=user, path_id=intent.path)]
        case it.Revisit():
            target = click.single(intent.value)
            return (
                [ev.Edit(user=user, question=target)]
                if target
                else _invalid("Pick a question to revisit.")
            )
        case it.Command():
            return _command(user, intent.name, playbook_id)
        case it.ConfirmAction():
            if intent.action == "forget" and intent.yes:
                return [ev.Forget(user=user, confirmed=True)]
            return [ev.Decline(user=user, action=intent.action)]
        case it.ChooseCheckIns():
            typed = intent.when in (WhenKind.IN_DAYS, WhenKind.DATE)
            when = parse_when(click.single(intent.value) if typed else intent.when)
            if when is None:
                return _invalid(f"I did not understand that time. Try {WHEN_USAGE}.")
            return [
                ev.ScheduleCheckIns(
                    user=user,
                    when=None if isinstance(when, NoCheckIns) else when,
                    consultation_id=intent.consultation,
                    platform_timezone=click.platform_timezone,
                    server_tenant=click.server_tenant,
                )
            ]
        case it.ReplyCheckIn():
            answer = click.single(intent.value)
            return [
                ev.AnswerCheckIn(
                    user=user,
                    checkin_id=intent.checkin,
                    occurrence=intent.occurrence,
                    answer=answer,
                )
            ]
        case it.ManageCheckIn() | it.CatchUp():
            ids = _picked_ids(click, intent.checkin)
            if ids is None:
                return _invalid("Pick a check-in first.")
            return _manage(user, intent.action, ids)
        case it.RescheduleCheckIn():
            when = parse_when(click.single(intent.value))
            if when is None:
                return _invalid(f"I did not understand that time. Try {WHEN_USAGE}.")
            if isinstance(when, NoCheckIns):
                return [ev.CancelCheckIn(user=user, checkin_id=intent.checkin)]
            return [ev.ChangeCheckIn(user=user, checkin_id=intent.checkin, when=when)]
        case it.SetZone():
            zone = click.single(intent.value).strip()
            if not zone:
                return _invalid("Type a time zone such as Europe/Berlin.")
            return [ev.SetTimezone(user=user, timezone=zone)]
        case it.AskMentor():
            return [
                ev.AskMentor(
                    user=user,
                    consultation_id=intent.consultation or None,
                    server_tenant=click.server_tenant,
                )
            ]
        case it.ShareWithMentor():
            value = click.single(intent.value)
            if value not in (mentor_texts.SHARE, mentor_texts.SHARE_CHECKINS, mentor_texts.NO):
                return _invalid("Pick one of the buttons: share, share with check-ins, or not.")
            return [
                ev.ShareWithMentor(
                    user=user,
                    share=value != mentor_texts.NO,
                    copy_checkins=value == mentor_texts.SHARE_CHECKINS,
                    consultation_id=intent.consultation,
                    step=intent.step,
                    server_tenant=click.server_tenant,
                )
            ]
        case it.ClaimRequest():
            return [
                ev.ClaimMentorRequest(
                    user=user, request_id=intent.request, server_tenant=click.server_tenant
                )
            ]
        case it.ReleaseRequest():
            return [ev.ReleaseMentorRequest(user=user, request_id=intent.request)]
        case it.WithdrawRequest():
            return [ev.WithdrawMentorRequest(user=user, request_id=intent.request)]
        case it.CloseRequest():
            return [ev.CloseMentorRequest(user=user, request_id=intent.request)]
    return _invalid("I do not know that button any more; please use the latest message.")


def _command(user: ev.UserRef, name: str, playbook_id: str | None) -> list[ev.InEvent] | Result:
    events: dict[str, ev.InEvent] = {
        "start": ev.Start(user=user, playbook_id=playbook_id),
        "resume": ev.Resume(user=user),
        "status": ev.ShowStatus(user=user),
        "back": ev.Back(user=user),
        "restart": ev.Restart(user=user, playbook_id=playbook_id),
        "checkins": ev.ListCheckIns(user=user),
        "export": ev.Export(user=user),
        "forget": ev.Forget(user=user),
        "mentor": ev.AskMentor(user=user),
    }
    event = events.get(name)
    return [event] if event is not None else _invalid("I do not know that command.")


def _manage(user: ev.UserRef, action: str, ids: Sequence[int]) -> list[ev.InEvent] | Result:
    out: list[ev.InEvent] = []
    for checkin_id in ids:
        if action == "snooze_day":
            out.append(ev.SnoozeCheckIn(user=user, checkin_id=checkin_id, days=1))
        elif action == "snooze_week":
            out.append(ev.SnoozeCheckIn(user=user, checkin_id=checkin_id, days=7))
        elif action == "cancel":
            out.append(ev.CancelCheckIn(user=user, checkin_id=checkin_id))
        elif action == "change":
            return result(Outcome.SHOWN, RescheduleQuestion(checkin_id))
        else:
            return _invalid("I do not know that check-in action.")
    return out
