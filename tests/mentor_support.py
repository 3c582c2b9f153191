"""Helpers for the mentor hand-off tests: an in-memory MentorBoard and a finished consultation.

``FakeBoard`` keeps every message the core had it post, edit or delete, as a platform
would, so a test reads the mentors channel and the introductions the way people would see
them; it is only for the core's tests (tests/test_mentors.py). The platform tests drive
the real adapters on the Discord and Slack fakes (tests/test_mentors_platforms.py).
"""

from __future__ import annotations

import asyncio
import itertools
from collections import deque
from dataclasses import dataclass, field
from typing import Any

from bot import events as ev
from bot.checkins.sender import Delivered, SendResult
from bot.engine import Engine
from bot.ports import BoardPost, Introduced, Introduction, Mention, PostRef
from bot.ui.cards import Card

# advice-test (tests/playbooks/advice.yaml): the story holds things the person never
# agreed to share; no card outside their DM may show any of it.
SECRET = "Zara Quill"
STORY = f"I am {SECRET} from 12 Elm Road. Is a second master's worth it?"
ANSWERS: list[Any] = [
    "academic",  # goal
    "master",  # degree
    "physics",  # field
    "europe",  # region
    ["phd_domain", "masters"],  # routes
    ["domain"],  # topics
    "5",  # safety
    "2",  # pay
    STORY,  # story
]


async def finish(engine: Engine, user: ev.UserRef) -> Any:
    """A finished advice-test consultation for ``user``; the last reply."""
    await engine.handle(ev.Start(user=user, playbook_id="advice-test"))
    reply = None
    for value in ANSWERS:
        reply = await engine.handle(ev.Answer(user=user, value=value))
    assert reply is not None and reply.finished
    return reply


def plain(cards: tuple[Card, ...] | list[Card]) -> str:
    return "\n".join(c.plain() for c in cards)


@dataclass
class Message:
    channel: str
    cards: tuple[Card, ...]
    mention: Mention | None = None
    edits: int = 0
    deleted: bool = False

    @property
    def text(self) -> str:
        return plain(self.cards)


@dataclass
class FakeBoard:
    """A MentorBoard keeping its messages in memory (``results``: what the next calls
    answer instead, e.g. a RetryAfter; ``hold``: an event each post waits for)."""

    platform: str = "slack"
    messages: dict[str, Message] = field(default_factory=dict)
    intros: list[Introduction] = field(default_factory=list)
    calls: list[str] = field(default_factory=list)
    results: deque[SendResult] = field(default_factory=deque)
    hold: asyncio.Event | None = None
    _ids: Any = field(default_factory=lambda: itertools.count(1))

    def _new(self, channel: str, cards: tuple[Card, ...], mention: Mention | None = None) -> str:
        ref = f"{self.platform[0]}{next(self._ids)}"
        self.messages[ref] = Message(channel, cards, mention)
        return ref

    def _canned(self) -> SendResult | None:
        return self.results.popleft() if self.results else None

    def live(self, channel: str | None = None) -> list[Message]:
        return [
            m
            for m in self.messages.values()
            if not m.deleted and (channel is None or m.channel == channel)
        ]

    async def post(self, post: BoardPost) -> SendResult:
        self.calls.append("post")
        if self.hold is not None:
            await self.hold.wait()
        canned = self._canned()
        if canned is not None:
            return canned
        return Delivered(self._new(post.channel, post.cards, post.mention))

    async def edit(
        self, tenant: str, channel: str, ref: str, cards: tuple[Card, ...]
    ) -> SendResult:
        self.calls.append("edit")
        canned = self._canned()
        if canned is not None:
            return canned
        message = self.messages.get(ref)
        if message is not None and not message.deleted:
            message.cards = cards
            message.edits += 1
        return Delivered(ref)

    async def delete(self, tenant: str, channel: str, ref: str) -> SendResult:
        self.calls.append("delete")
        canned = self._canned()
        if canned is not None:
            return canned
        if ref in self.messages:
            self.messages[ref].deleted = True
        return Delivered(ref)

    async def introduce(self, intro: Introduction) -> Introduced | SendResult:
        self.calls.append("introduce")
        canned = self._canned()
        if canned is not None:
            return canned
        self.intros.append(intro)
        group = f"G-{intro.person}-{intro.mentor}"
        ref = self._new(group, intro.cards, intro.together)
        return Introduced(group, (PostRef(group, ref),))

    async def send(self, tenant: str, channel: str, cards: tuple[Card, ...]) -> SendResult:
        self.calls.append("send")
        canned = self._canned()
        if canned is not None:
            return canned
        return Delivered(self._new(channel, cards))
