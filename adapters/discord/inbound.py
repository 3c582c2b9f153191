"""Discord interactions in, engine replies out: commands, clicks, selects, modal submits.

Every component this bot sends carries an id made by ``bot.ui.codec``, so nothing about a
message is kept in memory and a click works after a restart or on another shard process.
Clicks and selects arrive the discord.py way, through one ``DynamicItem`` whose template
matches the codec's ids (registered once at start-up); modal submits, and clicks no
dynamic item claims (an id this bot never made, one that is not on its message), come
through ``on_interaction`` to the same handler, so a forged or ancient click gets a polite
answer instead of a timeout. The handler decodes the id and calls ``Engine.act``; the
core checks who may click (someone else's consultation is REFUSED) and says what happened
in ``Reply.outcome``, which alone decides where the answer goes:

* APPLIED: the clicked message becomes the receipt (or just loses its components), the
  cards follow where it was clicked;
* STALE: the clicked message loses its components, the cards (where we are now) follow;
* SHOWN, CONFIRM: the cards follow, the clicked message stays usable;
* REFUSED, INVALID, NOT_FOUND, UNAVAILABLE: only the clicker sees the cards
  (ephemeral), the clicked message stays as it was (a click that failed changes nothing).

Where command replies go: in a server a consultation moves to the person's DMs (the
channel only gets an ephemeral pointer); if their DMs are closed it continues ephemerally
in the channel. In a DM everything is answered in place. Personal views (status, export,
forget) are ephemeral in a server.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Awaitable, Callable, Iterator, Mapping
from typing import Any

import discord

from adapters.discord.cards import (
    TEXT_INPUT_ID,
    Outgoing,
    modal_for,
    receipt,
    render,
    unsplit_id,
)
from adapters.discord.respond import DEFER_AFTER, Delivery, respond
from adapters.discord.tenancy import guild_tenant, person, server_of
from bot.api import Click, Engine, Outcome, Reply, codec
from bot.api import events as ev
from bot.api import intents as it

log = logging.getLogger(__name__)

DMS_CLOSED = (
    "I cannot send you direct messages (they are closed to me), so we continue here. "
    "Only you can see these messages."
)
DM_FAILED = (
    "I could not reach your direct messages just now, so we continue here. "
    "Only you can see these messages."
)
DM_SENT = "I sent you a direct message; the consultation continues there: {url}"
UNKNOWN = (
    "I don't recognise this button (it may come from an older version of me). "
    "Use `/advise resume` to see where your consultation stands."
)
HELP = """**Crossroads** weighs up career paths with you, in a private consultation.
`/advise start [playbook]` start (or continue) a consultation: it continues in your DMs
`/advise resume` show where you stopped
`/advise status` what you answered so far
`/advise back` go back one question
`/advise restart` start again from the first question
`/advise export` everything I keep about you, as a Markdown file
`/advise forget` delete everything I keep about you (asks first)
`/advise checkins` your check-ins: snooze, change or cancel them
`/advise timezone` / `/advise quiet` your time zone and quiet hours for check-ins
`/advise mentor` ask for a mentor: you see exactly what would be shared first
Or just type in our DM: `start`, your answers, `back`, `status`, `details 2`, `help`…
Server admins (Manage Server): `/advise-admin playbook`, `/advise-admin checkins`, \
`/advise-admin show`, `/advise-admin stats`, `/advise-admin mentors channel|tag|untag|show`."""

# Any id the codec makes (an intent, or a text-box opener), plus a split select's suffix.
ID_TEMPLATE = re.compile(r"x2(?:e[or][0-9]{1,4})?:[A-Za-z0-9_+./:-]{1,97}(?:#[0-9]{1,2})?")
FAILED = frozenset({Outcome.REFUSED, Outcome.INVALID, Outcome.NOT_FOUND, Outcome.UNAVAILABLE})

EventFor = Callable[[ev.UserRef], Awaitable[ev.InEvent]]
Done = Callable[[discord.Interaction, str], None]


def is_ephemeral_context(interaction: discord.Interaction) -> bool:
    """Whether replies to a component must stay ephemeral (the clicked message was)."""
    message = interaction.message
    if message is not None:
        return bool(message.flags.ephemeral)
    return interaction.guild_id is not None


def click_delivery(reply: Reply, *, ephemeral: bool) -> Delivery:
    """Where a click's reply goes, from its outcome alone (see the module docstring)."""
    messages = render(reply.cards)
    outcome = reply.outcome
    if outcome in FAILED:
        return Delivery(messages=messages, ephemeral=True, outcome=outcome.value)
    if outcome == Outcome.APPLIED:
        update = receipt(reply.receipt) if reply.receipt is not None else None
        return Delivery(
            update=update,
            close=update is None,
            messages=messages,
            ephemeral=ephemeral,
            outcome=outcome.value,
        )
    return Delivery(
        close=outcome == Outcome.STALE,
        messages=messages,
        ephemeral=ephemeral,
        outcome=outcome.value,
    )


class Flows:
    """Commands and components as engine calls; holds no state between interactions."""

    def __init__(
        self, engine: Engine, *, defer_after: float = DEFER_AFTER, on_done: Done | None = None
    ) -> None:
        self.engine = engine
        self.defer_after = defer_after
        self.on_done = on_done

    def done(self, interaction: discord.Interaction, outcome: str) -> None:
        """Report a handled interaction (logs at DEBUG; tests and metrics listen)."""
        log.debug("interaction %s handled: %s", interaction.id, outcome)
        if self.on_done is not None:
            self.on_done(interaction, outcome)

    async def _run(
        self,
        interaction: discord.Interaction,
        work: Callable[[], Awaitable[Delivery]],
        *,
        ephemeral: bool,
    ) -> None:
        sent = await respond(interaction, work, ephemeral=ephemeral, defer_after=self.defer_after)
        self.done(interaction, sent.outcome)

    # ------------------------------------------------------------------ commands

    async def command(
        self, interaction: discord.Interaction, event_for: EventFor, *, hand_off: bool
    ) -> None:
        """Run a command; with ``hand_off`` a consultation shown in a server moves to DMs."""
        in_guild = interaction.guild_id is not None
        user = person(interaction.user.id)

        async def work() -> Delivery:
            reply = await self.engine.handle(await event_for(user))
            if in_guild and hand_off and (reply.awaiting or reply.finished):
                return await self.hand_off(interaction.user, reply)
            return Delivery(
                messages=render(reply.cards), ephemeral=in_guild, outcome=reply.outcome.value
            )

        await self._run(interaction, work, ephemeral=in_guild)

    async def hand_off(self, user: discord.User | discord.Member, reply: Reply) -> Delivery:
        """Send the consultation to the person's DMs; fall back to ephemeral replies."""
        parts = render(reply.cards)
        sent: list[discord.Message] = []
        try:
            channel = await user.create_dm()
            for part in parts:
                sent.append(await channel.send(**part.kwargs()))
        except discord.Forbidden:
            note = DMS_CLOSED
        except discord.HTTPException as exc:
            log.warning("DM hand-off failed: %s %s", exc.status, exc.code)
            note = DM_FAILED
        else:
            url = sent[0].jump_url if sent else ""
            pointer = Outgoing(content=DM_SENT.format(url=url))
            return Delivery(messages=[pointer], ephemeral=True, outcome="dm")
        if sent:  # part went out before the failure: the rest follows here
            rest = [Outgoing(content=note), *parts[len(sent) :]]
        else:
            rest = render(reply.cards, content=note)
        return Delivery(messages=rest, ephemeral=True, outcome="dm-closed")

    async def help(self, interaction: discord.Interaction) -> None:
        in_guild = interaction.guild_id is not None

        async def work() -> Delivery:
            return Delivery(messages=[Outgoing(content=HELP)], ephemeral=in_guild, outcome="help")

        await self._run(interaction, work, ephemeral=in_guild)

    async def admin(
        self, interaction: discord.Interaction, action: Callable[[str], Awaitable[Reply]]
    ) -> None:
        """Run an admin action for this server's tenant; the reply is always ephemeral."""
        tenant = guild_tenant(interaction.guild_id or 0)

        async def work() -> Delivery:
            reply = await action(tenant)
            return Delivery(
                messages=render(reply.cards), ephemeral=True, outcome=reply.outcome.value
            )

        await self._run(interaction, work, ephemeral=True)

    async def refuse(self, interaction: discord.Interaction, text: str, outcome: str) -> None:
        """An immediate ephemeral refusal (no database work, so no deferral needed)."""

        async def work() -> Delivery:
            return Delivery(messages=[Outgoing(content=text)], ephemeral=True, outcome=outcome)

        await self._run(interaction, work, ephemeral=True)

    # ------------------------------------------------------------------ components

    async def component(self, interaction: discord.Interaction, custom_id: str) -> None:
        """A click or a select: open a text box, or act on the intent in the id."""
        raw = unsplit_id(custom_id)
        opener = codec.decode_opener(raw)
        if opener is not None:
            await self._open(interaction, opener, custom_id)
            return
        intent = codec.decode(raw)
        if intent is None:
            log.info("unknown custom_id on interaction %s", interaction.id)
            await self.refuse(interaction, UNKNOWN, "unknown")
            return
        data: Mapping[str, Any] = interaction.data or {}
        values = tuple(str(v) for v in data.get("values") or ())
        await self.act(interaction, intent, values=values)

    async def modal_submit(self, interaction: discord.Interaction) -> None:
        data: Mapping[str, Any] = interaction.data or {}
        intent = codec.decode(data.get("custom_id"))
        if intent is None:
            log.info("unknown modal custom_id on interaction %s", interaction.id)
            await self.refuse(interaction, UNKNOWN, "unknown")
            return
        await self.act(interaction, intent, text=_typed(data.get("components") or []))

    async def _open(
        self, interaction: discord.Interaction, opener: codec.Opener, custom_id: str
    ) -> None:
        """The modal must be the first response, so it is built from the message alone."""
        message = interaction.message
        title = next((e.title for e in message.embeds if e.title), "") if message else ""
        label = next(
            (getattr(c, "label", "") for c in _components(message) if _id(c) == custom_id), ""
        )
        modal = modal_for(
            opener,
            codec.encode(opener.intent),
            title=title or label or "Your answer",
            label=label or "Your answer",
        )
        await interaction.response.send_modal(modal)
        self.done(interaction, "modal")

    async def act(
        self,
        interaction: discord.Interaction,
        intent: it.Intent,
        *,
        values: tuple[str, ...] = (),
        text: str | None = None,
    ) -> None:
        ephemeral = is_ephemeral_context(interaction)
        user = person(interaction.user.id)
        click = Click(values=values, text=text, server_tenant=server_of(interaction))

        async def work() -> Delivery:
            reply = await self.engine.act(user, intent, click)
            return click_delivery(reply, ephemeral=ephemeral)

        await self._run(interaction, work, ephemeral=ephemeral)

    async def unclaimed(self, interaction: discord.Interaction) -> None:
        """``on_interaction``: modal submits, and components no dynamic item takes."""
        try:
            if interaction.type == discord.InteractionType.modal_submit:
                await self.modal_submit(interaction)
            elif interaction.type == discord.InteractionType.component and not claimed(interaction):
                log.info("custom_id not for me, interaction %s", interaction.id)
                await self.refuse(interaction, UNKNOWN, "unknown")
        except Exception:
            log.exception("interaction %s failed", interaction.id)
            if not interaction.response.is_done():
                await self.refuse(interaction, UNKNOWN, "error")


class IntentItem(discord.ui.DynamicItem[discord.ui.Item[Any]], template=ID_TEMPLATE):
    """Any button or select this bot sent, rebuilt from its custom_id on each click."""

    @classmethod
    async def from_custom_id(
        cls, interaction: discord.Interaction, item: discord.ui.Item[Any], match: re.Match[str], /
    ) -> IntentItem:
        return cls(item)

    async def callback(self, interaction: discord.Interaction) -> None:
        flows: Flows = interaction.client.flows  # type: ignore[attr-defined]
        try:
            await flows.component(interaction, self.custom_id)
        except Exception:
            log.exception("component interaction %s failed", interaction.id)
            if not interaction.response.is_done():
                await flows.refuse(interaction, UNKNOWN, "error")


def claimed(interaction: discord.Interaction) -> bool:
    """Whether ``IntentItem`` handles this click: discord.py dispatches a dynamic item
    only for an id matching its template that is on the clicked message, with its type."""
    data: Mapping[str, Any] = interaction.data or {}
    custom_id = data.get("custom_id")
    if not isinstance(custom_id, str) or ID_TEMPLATE.fullmatch(custom_id) is None:
        return False
    kind = data.get("component_type")
    return any(
        _id(c) == custom_id and getattr(c.type, "value", None) == kind
        for c in _components(interaction.message)
    )


def _id(component: Any) -> object:
    return getattr(component, "custom_id", None)


def _components(message: discord.Message | None) -> Iterator[Any]:
    """Every component of a message, rows and what they hold."""
    if message is None:
        return
    for row in message.components:
        yield row
        yield from getattr(row, "children", [])


def _typed(components: list[Any]) -> str:
    """The text input's value from a raw modal submit (rows or labels)."""
    stack = list(components)
    while stack:
        comp = stack.pop(0)
        if not isinstance(comp, dict):
            continue
        if comp.get("custom_id") == TEXT_INPUT_ID:
            return str(comp.get("value") or "")
        stack.extend(comp.get("components") or [])
        if isinstance(comp.get("component"), dict):
            stack.append(comp["component"])
    return ""
