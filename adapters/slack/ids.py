"""What a Slack button, select or modal carries back to us, encoded in its ids.

Why: HTTP mode is stateless (any process may get the click) and a process may restart
between a question and its answer, so everything needed to turn a click into a core
event travels in the action_id / block_id / private_metadata themselves:
the consultation id, the step (the core's version check tells a fresh click from a stale
one) and the question id. Ids stay far below Slack's 255-character limit
(question ids are at most 40 characters).

Layout: ``cr1|<verb>|<consultation>|<step>|<question>|<n>`` for question elements,
``cr1|c|<action>|yes`` for confirmations, ``cr1|d|<consultation>|<n>`` for path details,
``cr1|w|<kind>|<id>|<occurrence>|<choice>`` for check-ins (see CheckInAction).
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from enum import StrEnum

PREFIX = "cr1"
SEP = "|"
TEXT_CALLBACK = f"{PREFIX}{SEP}text"  # callback_id of the free-text modal
TEXT_BLOCK = "answer"  # block_id of the modal's input block
TEXT_ACTION = "text"  # action_id of the modal's text input
PROMPT_BLOCK = f"{PREFIX}{SEP}prompt"  # block_id of a question's prompt section
_QID = re.compile(r"^[a-z0-9][a-z0-9_-]{0,39}$")
_TOKEN = re.compile(r"^[a-z0-9][a-z0-9_-]{0,39}$")


class Verb(StrEnum):
    ANSWER = "a"  # a button or single select: the value is the answer
    PICK = "p"  # a multi select changed: nothing to do until Submit
    SUBMIT = "s"  # submit the multi selects of the same question
    SKIP = "k"  # leave an optional question out
    TEXT = "t"  # open the free-text modal
    CONFIRM = "c"  # yes/no on a Confirm
    PATH = "d"  # details of one recommended path
    CHECKIN = "w"  # check-ins: offer, prompt, list, catch-up, time zone, revisit


@dataclass(frozen=True, slots=True)
class QuestionRef:
    """Which question of which consultation, at which step, a component belongs to."""

    consultation_id: int
    step: int
    question_id: str


@dataclass(frozen=True, slots=True)
class Decoded:
    """An action_id taken apart; ``question`` is set for question verbs only."""

    verb: Verb
    question: QuestionRef | None = None
    token: str = ""  # confirm action name / consultation id for PATH
    flag: str = ""  # "yes"/"no" for CONFIRM


def question_action(verb: Verb, ref: QuestionRef, n: int = 0) -> str:
    """action_id of element ``n`` of a question (unique within its block)."""
    return SEP.join(
        (PREFIX, verb.value, str(ref.consultation_id), str(ref.step), ref.question_id, str(n))
    )


def question_block(ref: QuestionRef, n: int) -> str:
    """block_id of the ``n``-th actions block of a question (unique within its message)."""
    return SEP.join((PREFIX, "b", str(ref.consultation_id), str(ref.step), ref.question_id, str(n)))


def confirm_action(action: str, yes: bool) -> str:
    return SEP.join((PREFIX, Verb.CONFIRM.value, action, "yes" if yes else "no"))


def path_action(consultation_id: int, n: int) -> str:
    return SEP.join((PREFIX, Verb.PATH.value, str(consultation_id), str(n)))


def action_pattern(verb: Verb) -> re.Pattern[str]:
    """For ``app.action(...)``: every action_id of one verb."""
    return re.compile("^" + re.escape(f"{PREFIX}{SEP}{verb.value}{SEP}"))


def _question_ref(cid: str, step: str, qid: str) -> QuestionRef | None:
    if not (cid.isdigit() and step.isdigit() and _QID.match(qid)):
        return None
    return QuestionRef(int(cid), int(step), qid)


def decode_action(action_id: str) -> Decoded | None:
    """The meaning of one of our action_ids; None for anything else (never raises)."""
    parts = action_id.split(SEP)
    if len(parts) < 3 or parts[0] != PREFIX:
        return None
    try:
        verb = Verb(parts[1])
    except ValueError:
        return None
    if verb is Verb.CONFIRM:
        if len(parts) != 4 or not _TOKEN.match(parts[2]) or parts[3] not in ("yes", "no"):
            return None
        return Decoded(verb, token=parts[2], flag=parts[3])
    if verb is Verb.PATH:
        if len(parts) != 4 or not parts[2].isdigit():
            return None
        return Decoded(verb, token=parts[2])
    if len(parts) != 6:
        return None
    ref = _question_ref(parts[2], parts[3], parts[4])
    return Decoded(verb, ref) if ref is not None else None


def decode_block(block_id: str) -> QuestionRef | None:
    """The question an actions block belongs to (None for other blocks)."""
    parts = block_id.split(SEP)
    if len(parts) != 6 or parts[0] != PREFIX or parts[1] != "b":
        return None
    return _question_ref(parts[2], parts[3], parts[4])


@dataclass(frozen=True, slots=True)
class ModalMeta:
    """The modal's private_metadata: the question, and the DM message to update in place."""

    question: QuestionRef
    channel: str
    ts: str

    def encode(self) -> str:
        q = self.question
        return json.dumps(
            {
                "c": q.consultation_id,
                "s": q.step,
                "q": q.question_id,
                "ch": self.channel,
                "ts": self.ts,
            },
            separators=(",", ":"),
        )

    @classmethod
    def decode(cls, raw: str) -> ModalMeta | None:
        try:
            data = json.loads(raw)
            ref = _question_ref(str(data["c"]), str(data["s"]), str(data["q"]))
            channel, ts = str(data.get("ch") or ""), str(data.get("ts") or "")
        except (ValueError, KeyError, TypeError):
            return None
        return cls(ref, channel, ts) if ref is not None else None


# ----------------------------------------------------------------------------- check-ins

WHEN_CALLBACK = f"{PREFIX}{SEP}when"  # callback_id of the check-in modals (days, date, zone)
DAYS_BLOCK, DAYS_ACTION = "days", "days"
DATE_BLOCK, DATE_ACTION = "date", "date"
TIME_BLOCK, TIME_ACTION = "time", "time"
KIND_BLOCK, KIND_ACTION = "kind", "kind"
ZONE_BLOCK, ZONE_ACTION = "zone", "zone"


class CheckInKind(StrEnum):
    """Which check-in message an element belongs to (the ``<kind>`` of its action_id)."""

    OFFER = "o"  # id: consultation; choice: a WhenKind or "none"
    PROMPT = "p"  # id: check-in; occurrence; choice: a CheckInChoice
    LIST = "l"  # id: check-in; choice: snooze_day / snooze_week / change / cancel
    CATCHUP = "u"  # id: check-in; choice: snooze_day / cancel
    ZONE = "z"  # the time-zone select (value: the zone, or "other")
    REVISIT = "r"  # id: consultation; the button value is the question id


@dataclass(frozen=True, slots=True)
class CheckInAction:
    """A check-in element's meaning, carried whole in its action_id (stateless, like questions)."""

    kind: CheckInKind
    id: int
    occurrence: int
    choice: str

    def encode(self) -> str:
        return SEP.join(
            (
                PREFIX,
                Verb.CHECKIN.value,
                self.kind.value,
                str(self.id),
                str(self.occurrence),
                self.choice,
            )
        )

    @classmethod
    def decode(cls, action_id: str) -> CheckInAction | None:
        """None for anything that is not a well-formed check-in action_id (never raises)."""
        parts = action_id.split(SEP)
        if len(parts) != 6 or parts[0] != PREFIX or parts[1] != Verb.CHECKIN.value:
            return None
        try:
            kind = CheckInKind(parts[2])
        except ValueError:
            return None
        if not (parts[3].isdigit() and parts[4].isdigit() and _TOKEN.match(parts[5])):
            return None
        return cls(kind, int(parts[3]), int(parts[4]), parts[5])


def checkin_block(kind: CheckInKind, n: int) -> str:
    """block_id of the ``n``-th actions block of a check-in message."""
    return SEP.join((PREFIX, "wb", kind.value, str(n)))


@dataclass(frozen=True, slots=True)
class WhenMeta:
    """The check-in modal's private_metadata: what it is for and the message to update.

    ``purpose``: "offer" (schedule; ``id`` is the consultation), "change" (``id`` is the
    check-in) or "zone"; ``when``: the WhenKind asked for ("" lets the person choose).
    """

    purpose: str
    id: int
    when: str
    channel: str
    ts: str

    def encode(self) -> str:
        return json.dumps(
            {"p": self.purpose, "i": self.id, "w": self.when, "ch": self.channel, "ts": self.ts},
            separators=(",", ":"),
        )

    @classmethod
    def decode(cls, raw: str) -> WhenMeta | None:
        try:
            data = json.loads(raw)
            purpose, when = str(data["p"]), str(data.get("w") or "")
            ident = int(data.get("i") or 0)
            channel, ts = str(data.get("ch") or ""), str(data.get("ts") or "")
        except (ValueError, KeyError, TypeError):
            return None
        if purpose not in ("offer", "change", "zone"):
            return None
        return cls(purpose, ident, when, channel, ts)
