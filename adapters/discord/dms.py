"""Typed DMs on Discord: a person's message to the bot is ``ev.Typed``, the Reply goes back.

What counts: a message in a DM channel, written by a person (not a bot, not this bot),
of an ordinary kind (not a pin, a call or another system message), with text in it.
Everything else is ignored without a word. What the text means is the core's to decide
(``bot/features/conversation.py``, the console's parser): a command, an answer to the
question it waits for, a check-in reply, or, with no consultation, the offer to start one.

The reply is rendered by the one card renderer (``cards.py``) with the same components as
command replies, so the person can type or click from there on; a long reply is several
messages within Discord's limits, sent in order. One person's DMs are handled in the
order they arrived (``adapters/lanes.py``), different people concurrently.

The person is ``tenancy.person(user_id)``, the same reference slash commands and clicks
use, so a consultation started with ``/advise`` in a server continues by typing in the DM.
"""

from __future__ import annotations

import logging
from collections.abc import Callable

import discord

from adapters.discord.cards import Outgoing, render
from adapters.discord.respond import SORRY
from adapters.discord.tenancy import person
from adapters.lanes import Lanes
from bot.api import Engine
from bot.api import events as ev

log = logging.getLogger(__name__)

# Message types a person writes; pins, joins, calls, boosts… are system messages.
PERSON_TYPES = frozenset({discord.MessageType.default, discord.MessageType.reply})

DmDone = Callable[[discord.Message, str], None]


def is_typed_dm(message: discord.Message, me: discord.abc.User | None) -> bool:
    """Whether ``message`` is text a person typed to the bot in a DM."""
    author = message.author
    if author.bot or author.system or (me is not None and author.id == me.id):
        return False
    if message.guild is not None or not isinstance(message.channel, discord.DMChannel):
        return False
    if message.type not in PERSON_TYPES or message.is_system():
        return False
    return bool(message.content and message.content.strip())


class DirectMessages:
    """Typed DMs in, Replies out; per-person order; no state beyond the work in flight."""

    def __init__(self, engine: Engine, *, on_done: DmDone | None = None) -> None:
        self.engine = engine
        self.on_done = on_done
        self.lanes = Lanes()

    def receive(self, message: discord.Message, me: discord.abc.User | None) -> bool:
        """Queue a typed DM in its author's lane; False when it is not one (ignored)."""
        if not is_typed_dm(message, me):
            return False
        if self.lanes.submit(message.author.id, lambda: self.answer(message)) is None:
            self._done(message, "dropped")
        return True

    async def answer(self, message: discord.Message) -> None:
        """One typed DM: the core's Reply, sent back into the same DM channel."""
        user = person(message.author.id)
        try:
            reply = await self.engine.handle(ev.Typed(user=user, text=message.content))
            parts, outcome = render(reply.cards), reply.outcome.value
        except Exception:
            log.exception("handling DM %s failed", message.id)
            parts, outcome = [Outgoing(content=SORRY)], "error"
        try:
            for part in parts:
                await message.channel.send(**part.kwargs())
        except discord.HTTPException as exc:
            log.warning("could not reply to DM %s: %s %s", message.id, exc.status, exc.code)
            outcome = f"{outcome}-undelivered"
        self._done(message, outcome)

    def _done(self, message: discord.Message, outcome: str) -> None:
        log.debug("DM %s handled: %s", message.id, outcome)
        if self.on_done is not None:
            self.on_done(message, outcome)
