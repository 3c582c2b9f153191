"""custom_id encoding: every component carries what is needed to handle a click.

Why: a click may arrive after the bot restarted, on another shard process, or long after
the message was sent. Nothing about a message is kept in memory; the custom_id alone says
whose consultation it belongs to, which step it answers and what was chosen, so one router
registered at start-up (``router.py``) can handle any component ever sent.

Layout (at most 97 characters, Discord allows 100)::

    xr1:<kind>:<owner user id>:<consultation id>:<step>:<ref>:<arg>

``ref`` is an identifier whose meaning depends on the kind: the question id, the chosen
choice id (CHOICE: a button has no room for both, and the step alone already pins the
question), a path id (DETAILS) or the confirmed action (CONFIRM). Answers carry choice
ids, never positions: the core reads an id before a position.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from enum import StrEnum

PREFIX = "xr1"
MAX_CUSTOM_ID = 100
TEXT_INPUT_ID = "answer"  # the one text input of an answer modal


class Kind(StrEnum):
    CHOICE = "b"  # button answer; ref = the choice id
    NUMBER = "n"  # scale button answer; ref = question id; arg = the number
    SELECT = "s"  # select answer (values: choice ids or numbers); ref = question; arg = page
    SKIP = "k"  # leave an optional question out; ref = question id
    TEXT = "t"  # open the answer modal; ref = question id; arg = TextSpec
    MODAL = "m"  # the answer modal's submit; ref = question id; arg = TextSpec
    PAGE = "p"  # show another page of a long choice list; ref = question id; arg = page
    DETAILS = "d"  # everything about one path; ref = path id
    CONFIRM = "c"  # answer a confirmation; ref = the action; arg = "y" or "n"
    # Check-ins (adapters/discord/checkins.py). The id fields are reused: the consultation
    # id carries a check-in id where one is needed, the step an occurrence.
    OFFER = "o"  # choose check-ins after advice; cid = consultation; ref = When kind / none
    ANSWER = "a"  # answer a check-in DM; cid = check-in id; step = occurrence; ref = choice
    ITEM = "i"  # act on one listed check-in; cid = check-in id; ref = snooze_day|…|cancel
    CATCHUP = "u"  # select of missed check-ins (values: ids); ref = snooze_day | cancel
    LIST = "l"  # show another page of the check-in list; arg = page
    ZONE = "z"  # time-zone select (values: zone names)
    ZONE_OTHER = "y"  # "Other…" time zone: opens the WHEN modal
    WHEN = "w"  # modal submit; ref, cid = those of the opener; arg = the opener's kind
    REVISIT = "r"  # select of questions to revisit (values: question ids); cid = consultation


_PATTERN = re.compile(
    r"xr1:(?P<kind>[bnsktmpdcoaiulzywr]):(?P<owner>[1-9]\d{0,19}):(?P<cid>\d{1,12}):(?P<step>\d{1,7})"
    r":(?P<ref>[a-z0-9_-]{0,40}):(?P<arg>[A-Za-z0-9-]{0,8})"
)


@dataclass(frozen=True, slots=True)
class ComponentId:
    """What a component stands for; ``encode``/``decode`` round-trip exactly."""

    kind: Kind
    owner: int
    consultation_id: int = 0
    step: int = 0
    ref: str = ""
    arg: str = ""

    def encode(self) -> str:
        """The custom_id; raises ValueError if a field cannot be carried (never truncates)."""
        text = (
            f"{PREFIX}:{self.kind.value}:{self.owner}:{self.consultation_id}:{self.step}"
            f":{self.ref}:{self.arg}"
        )
        if len(text) > MAX_CUSTOM_ID or decode(text) != self:
            raise ValueError(f"cannot encode {self!r} as a custom_id")
        return text

    def with_kind(
        self, kind: Kind, arg: str | None = None, *, ref: str | None = None
    ) -> ComponentId:
        """The same target with another action (a button and the modal it opens)."""
        return ComponentId(
            kind,
            self.owner,
            self.consultation_id,
            self.step,
            self.ref if ref is None else ref,
            self.arg if arg is None else arg,
        )


def decode(custom_id: object) -> ComponentId | None:
    """The ComponentId in ``custom_id``, or None for anything this bot did not make."""
    if not isinstance(custom_id, str) or len(custom_id) > MAX_CUSTOM_ID:
        return None
    match = _PATTERN.fullmatch(custom_id)
    if match is None:
        return None
    owner, cid, step = int(match["owner"]), int(match["cid"]), int(match["step"])
    if owner >= 1 << 64:
        return None
    return ComponentId(Kind(match["kind"]), owner, cid, step, match["ref"], match["arg"])


@dataclass(frozen=True, slots=True)
class TextSpec:
    """What the answer modal needs, carried in the arg: ``<mode><r|o><max length>``.

    mode ``f`` = free text; ``n`` = choice numbers for a multiple choice too long for a
    select menu. The modal must be the first response to the click, so it cannot wait for
    the database: everything it needs is here.
    """

    numbers: bool
    optional: bool
    max_length: int

    def encode(self) -> str:
        return f"{'n' if self.numbers else 'f'}{'o' if self.optional else 'r'}{self.max_length}"

    @classmethod
    def decode(cls, arg: str) -> TextSpec | None:
        match = re.fullmatch(r"([fn])([or])([1-9]\d{0,3})", arg)
        if match is None:
            return None
        return cls(match[1] == "n", match[2] == "o", min(int(match[3]), 4000))
