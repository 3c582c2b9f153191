"""Answering an interaction inside Discord's 3-second window, whatever the work costs.

Why: Discord forgets an interaction that is not acknowledged within 3 seconds, and the
work behind one (a database turn, a DM hand-off that may meet a 429) usually takes a few
milliseconds but sometimes seconds. So the work starts at once; if it finishes within the
budget the reply *is* the acknowledgement (one request, no "thinking…" flicker), and if
not, the interaction is deferred first and the reply follows as an edit or followup.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field

import discord

from adapters.discord.cards import NO_MENTIONS, Outgoing
from adapters.runtime import Turns

log = logging.getLogger(__name__)
IN_FLIGHT = Turns()  # interactions being worked on or answered, in this process

DEFER_AFTER = 1.0  # seconds of work after which the interaction is acknowledged first
LATEST_ACK = 2.0  # ...and never later than this after Discord created it (gateway lag)
NOTHING_TO_SHOW = "Done."
SORRY = (
    "⚠️ Something went wrong on my side. Nothing you already told me is lost; "
    "please try again in a moment."
)


@dataclass
class Delivery:
    """What an interaction gets: a new state of the clicked message and/or new messages.

    ``update``: what the clicked message becomes (a receipt); ``close``: the clicked
    message keeps its text but loses its components (it was used, or it is stale).
    """

    update: Outgoing | None = None
    close: bool = False
    messages: list[Outgoing] = field(default_factory=list)
    ephemeral: bool = False
    outcome: str = ""  # a short word for logs and tests ("applied", "stale", "dm", ...)

    @property
    def edits(self) -> bool:
        return self.update is not None or self.close

    def edit_kwargs(self) -> dict[str, object]:
        if self.update is not None:
            return self.update.edit_kwargs()
        return {"view": None, "allowed_mentions": NO_MENTIONS}


def budget(interaction: discord.Interaction, defer_after: float) -> float:
    """Seconds the work may take before the interaction must be deferred."""
    age = (discord.utils.utcnow() - interaction.created_at).total_seconds()
    return max(0.0, min(defer_after, LATEST_ACK - max(age, 0.0)))


async def respond(
    interaction: discord.Interaction,
    work: Callable[[], Awaitable[Delivery]],
    *,
    ephemeral: bool,
    defer_after: float = DEFER_AFTER,
) -> Delivery:
    """Run ``work`` and deliver its Reply, deferring first if it runs past the budget.

    ``ephemeral`` is how a command's deferred "thinking" reply is shown (it cannot change
    later). Components defer as "update the message", which shows nothing.
    """
    async with IN_FLIGHT.busy():  # a stopping process waits for the reply to go out
        return await _respond(interaction, work, ephemeral=ephemeral, defer_after=defer_after)


async def _respond(
    interaction: discord.Interaction,
    work: Callable[[], Awaitable[Delivery]],
    *,
    ephemeral: bool,
    defer_after: float,
) -> Delivery:
    task = asyncio.ensure_future(work())
    wait = budget(interaction, defer_after)
    if wait > 0:
        await asyncio.wait({task}, timeout=wait)
    deferred = False
    if not task.done():
        deferred = await _defer(interaction, ephemeral)
    try:
        reply = await task
    except Exception:
        log.exception("handling interaction %s failed", interaction.id)
        reply = Delivery(messages=[Outgoing(SORRY)], ephemeral=True, outcome="error")
    try:
        await deliver(interaction, reply, deferred=deferred)
    except discord.HTTPException as exc:
        log.warning(
            "could not deliver the reply to interaction %s: %s %s",
            interaction.id,
            exc.status,
            exc.code,
        )
        reply.outcome = f"{reply.outcome or 'reply'}-undelivered"
    return reply


async def _defer(interaction: discord.Interaction, ephemeral: bool) -> bool:
    try:
        if interaction.type == discord.InteractionType.application_command:
            await interaction.response.defer(ephemeral=ephemeral, thinking=True)
        else:
            await interaction.response.defer()
    except discord.HTTPException as exc:
        log.warning("could not defer interaction %s: %s %s", interaction.id, exc.status, exc.code)
        return False
    return True


async def deliver(interaction: discord.Interaction, reply: Delivery, *, deferred: bool) -> None:
    """Send ``reply``: first through the interaction response, the rest as followups."""
    pending = list(reply.messages)
    is_component = interaction.type in (
        discord.InteractionType.component,
        discord.InteractionType.modal_submit,
    )
    if not deferred and not interaction.response.is_done():
        if reply.edits and is_component:
            await interaction.response.edit_message(**reply.edit_kwargs())
        elif pending:
            first = pending.pop(0)
            await interaction.response.send_message(**first.kwargs(), ephemeral=reply.ephemeral)
        elif is_component:
            await interaction.response.defer()  # acknowledged; the message stays as it is
        else:
            await interaction.response.send_message(
                NOTHING_TO_SHOW, ephemeral=True, allowed_mentions=NO_MENTIONS
            )
    elif reply.edits and is_component:
        await interaction.edit_original_response(**reply.edit_kwargs())
    for message in pending:
        await interaction.followup.send(**message.kwargs(), ephemeral=reply.ephemeral)
