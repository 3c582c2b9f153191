"""What the core hands an adapter to deliver on its own initiative (no event to reply to).

A check-in is sent, not answered: the core presents it as cards like any reply, and a
platform's sender posts them to the person's DM. The mentor hand-off is the same shape on
a wider stage: the core decides what goes where and when (bot/mentors/), and a platform's
``MentorBoard`` only posts, edits and deletes the cards it is given, and introduces two
people (docs/mentors.md, "What an adapter implements").
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Protocol, runtime_checkable

from bot.messages import ReminderMessage
from bot.ui.cards import Card

if TYPE_CHECKING:
    from bot.checkins.sender import SendResult

__all__ = [
    "BoardPost",
    "Introduced",
    "Introduction",
    "Mention",
    "MentorBoard",
    "Notification",
    "PostRef",
]


@dataclass(frozen=True, slots=True, kw_only=True)
class Notification:
    """``cards``: what to post. ``redelivery``: an earlier attempt may already have reached
    the person (its process died between sending and recording), so a platform without a
    nonce can look for that message first. ``source`` is the core's own record of what
    this is, for the core's logs and tests; adapters render ``cards`` only."""

    cards: tuple[Card, ...]
    redelivery: bool = False
    source: ReminderMessage | None = None


# ---------------------------------------------------------------- the mentor board


@dataclass(frozen=True, slots=True, kw_only=True)
class Mention:
    """A line that names people: ``text`` holds ``{0}``, ``{1}``… for ``users`` (platform
    user ids), which the adapter writes in its own mention markup; the rest of the text is
    plain and escaped like any card text. Only these users may be notified by it."""

    text: str
    users: tuple[str, ...]


@dataclass(frozen=True, slots=True, kw_only=True)
class BoardPost:
    """A card for the mentors channel ``channel`` of server/workspace ``tenant``.

    ``mention``: the mentors whose tags fit, to be notified (None: nobody). ``key`` is the
    same for every attempt of this post and at most 25 characters (Discord's nonce).
    """

    tenant: str
    channel: str
    cards: tuple[Card, ...]
    mention: Mention | None = None
    key: str = ""


@dataclass(frozen=True, slots=True, kw_only=True)
class Introduction:
    """Bring a person and a mentor together (after a claim), in the platform's way.

    Slack: a group DM with both, ``cards`` posted there under ``together``. Discord: a DM
    to each, the person's under ``to_person`` and the mentor's under ``to_mentor``.
    Each Mention names the other party (or both), so they can find each other.
    """

    tenant: str
    person: str
    mentor: str
    cards: tuple[Card, ...]
    together: Mention
    to_person: Mention
    to_mentor: Mention
    key: str = ""


@dataclass(frozen=True, slots=True)
class PostRef:
    """A message the board posted: its channel and its id there (Discord id, Slack ts)."""

    channel: str
    ref: str


@dataclass(frozen=True, slots=True)
class Introduced:
    """The introduction went out: ``mentor_channel`` is where the mentor gets later notes
    (check-in copies), ``posts`` every message it posted (edited or deleted later)."""

    mentor_channel: str
    posts: tuple[PostRef, ...]


@runtime_checkable
class MentorBoard(Protocol):
    """A platform's side of the mentor hand-off: transport only, no decisions.

    Every method answers like a CheckInSender (``bot.checkins.sender``): ``Delivered`` (its
    ``message_id`` the new message's id where one was made), ``RetryAfter`` on a 429 or an
    outage, ``Unreachable`` when it cannot be done (channel gone, bot not in it). Deleting
    or editing a message that is already gone is ``Delivered``: the result is what was
    asked. Raise only for bugs.
    """

    platform: str

    async def post(self, post: BoardPost) -> SendResult:
        """Post ``post.cards`` to the mentors channel, mentioning ``post.mention``."""
        ...

    async def edit(
        self, tenant: str, channel: str, ref: str, cards: tuple[Card, ...]
    ) -> SendResult:
        """Make message ``ref`` show ``cards`` (its buttons replaced; no one is notified)."""
        ...

    async def delete(self, tenant: str, channel: str, ref: str) -> SendResult:
        """Delete message ``ref`` the bot posted."""
        ...

    async def introduce(self, intro: Introduction) -> Introduced | SendResult:
        """Introduce ``intro.person`` and ``intro.mentor`` (see ``Introduction``)."""
        ...

    async def send(self, tenant: str, channel: str, cards: tuple[Card, ...]) -> SendResult:
        """Post ``cards`` to a conversation the introduction opened (``mentor_channel``)."""
        ...
