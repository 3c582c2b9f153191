"""One handler for every component click and modal submit, routed by custom_id.

Why not per-message views or DynamicItem: views live in process memory (lost on restart,
and they grow with every message); DynamicItem silently drops custom_ids it does not
recognise and cannot route modal submits. This router is registered once at start-up,
handles any component this bot ever sent (before a restart, on another shard process),
and answers a forged, unknown or foreign click politely instead of letting it time out.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator, Mapping
from typing import Any

import discord

from adapters.discord.checkins import CheckInFlows, opener_of
from adapters.discord.components import TEXT_INPUT_ID, ComponentId, Kind, TextSpec, decode
from adapters.discord.consult import Consultations
from adapters.discord.render import modal_for

log = logging.getLogger(__name__)
MODAL_KINDS = frozenset({Kind.MODAL, Kind.WHEN})  # ids only a modal submit may carry

UNKNOWN = (
    "I don't recognise this button (it may come from an older version of me). "
    "Use `/advise resume` to see where your consultation stands."
)
NOT_YOURS = (
    "This belongs to someone else's consultation, so I left it alone. "
    "Use `/advise start` for your own."
)


class Router:
    """Dispatch component and modal interactions to the consultation flows."""

    def __init__(self, consultations: Consultations) -> None:
        self.flows = consultations
        self.checkins = CheckInFlows(consultations)

    async def dispatch(self, interaction: discord.Interaction) -> None:
        """Handle one component/modal interaction; never lets an exception escape."""
        try:
            await self._dispatch(interaction)
        except Exception:
            log.exception("component interaction %s failed", interaction.id)
            if not interaction.response.is_done():
                await self.flows.refuse(interaction, UNKNOWN, "error")

    async def _dispatch(self, interaction: discord.Interaction) -> None:
        data: Mapping[str, Any] = interaction.data or {}
        target = decode(data.get("custom_id"))
        is_modal = interaction.type == discord.InteractionType.modal_submit
        if target is not None and (target.kind in MODAL_KINDS) != is_modal:
            target = None  # a modal id on a click, or a click id on a modal: not mine
        if target is None:
            log.info("unknown custom_id on interaction %s", interaction.id)
            await self.flows.refuse(interaction, UNKNOWN, "unknown")
            return
        if target.owner != interaction.user.id:
            await self.flows.refuse(interaction, NOT_YOURS, "not-owner")
            return
        if not _sent_by_me(interaction, target, data.get("custom_id")):
            log.info("custom_id not on its message, interaction %s", interaction.id)
            await self.flows.refuse(interaction, UNKNOWN, "unknown")
            return
        match target.kind:
            case Kind.CHOICE:
                words = _button_label(interaction, data.get("custom_id")) or target.ref
                await self.flows.answer(interaction, target, None, target.ref, words)
            case Kind.NUMBER:
                words = _button_label(interaction, data.get("custom_id")) or target.arg
                await self.flows.answer(interaction, target, target.ref, target.arg, words)
            case Kind.SELECT:
                values = [str(v) for v in data.get("values") or []]
                menu = _select(interaction, data.get("custom_id"))
                multi = menu is not None and menu.max_values > 1
                value: str | list[str] = values if multi or len(values) != 1 else values[0]
                labels = {o.value: o.label for o in menu.options} if menu else {}
                words = ", ".join(labels.get(v, v) for v in values)
                await self.flows.answer(interaction, target, target.ref, value, words or "—")
            case Kind.SKIP:
                await self.flows.answer(interaction, target, target.ref, "", "(skipped)")
            case Kind.TEXT:
                await self._open_modal(interaction, target)
            case Kind.MODAL:
                text = _modal_value(data.get("components") or [])
                await self.flows.answer(interaction, target, target.ref, text, text or "(skipped)")
            case Kind.PAGE if target.arg.isdigit():
                await self.flows.page(interaction, target, int(target.arg))
            case Kind.DETAILS:
                await self.flows.details(interaction, target)
            case Kind.CONFIRM:
                await self.flows.confirm(interaction, target)
            case Kind.OFFER:
                await self.checkins.offer(interaction, target)
            case Kind.ANSWER:
                words = _button_label(interaction, data.get("custom_id")) or target.ref
                await self.checkins.answer(interaction, target, words)
            case Kind.ITEM:
                await self.checkins.item(interaction, target)
            case Kind.CATCHUP:
                values = [str(v) for v in data.get("values") or []]
                await self.checkins.catchup(interaction, target, values)
            case Kind.LIST:
                await self.checkins.page(interaction, target)
            case Kind.ZONE:
                await self.checkins.zone(interaction, [str(v) for v in data.get("values") or []])
            case Kind.ZONE_OTHER:
                await self.checkins.zone_other(interaction, target)
            case Kind.REVISIT:
                values = [str(v) for v in data.get("values") or []]
                await self.checkins.revisit(interaction, values)
            case Kind.WHEN:
                text = _modal_value(data.get("components") or [])
                await self.checkins.submitted(interaction, target, text)
            case _:
                await self.flows.refuse(interaction, UNKNOWN, "unknown")

    async def _open_modal(self, interaction: discord.Interaction, target: ComponentId) -> None:
        """The modal must be the first response, so it is built from the custom_id alone."""
        spec = TextSpec.decode(target.arg)
        if spec is None:
            await self.flows.refuse(interaction, UNKNOWN, "unknown")
            return
        message = interaction.message
        title = message.embeds[0].title if message is not None and message.embeds else None
        await interaction.response.send_modal(modal_for(target, spec, title or "Your answer"))
        self.flows.done(interaction, "modal")


def _components(interaction: discord.Interaction) -> Iterator[Any]:
    """Every component of the message the interaction came from."""
    message = interaction.message
    if message is None:
        return
    for row in message.components:
        yield row
        yield from getattr(row, "children", [])


def _sent_by_me(interaction: discord.Interaction, target: ComponentId, custom_id: object) -> bool:
    """Whether the component (or the button that opened this modal) is on the message.

    Discord only sends custom_ids of components on the message the interaction carries,
    so this costs nothing for real clicks and turns away a forged one (say, a custom_id
    naming the clicker as owner but someone else's consultation).
    """
    wanted = custom_id
    if target.kind == Kind.MODAL:
        wanted = target.with_kind(Kind.TEXT).encode()
    elif target.kind == Kind.WHEN:
        opener = opener_of(target)
        if opener is None:
            return False
        wanted = opener.encode()
    return any(getattr(c, "custom_id", None) == wanted for c in _components(interaction))


def _button_label(interaction: discord.Interaction, custom_id: object) -> str:
    for comp in _components(interaction):
        if isinstance(comp, discord.Button) and comp.custom_id == custom_id:
            return comp.label or ""
    return ""


def _select(interaction: discord.Interaction, custom_id: object) -> discord.SelectMenu | None:
    for comp in _components(interaction):
        if isinstance(comp, discord.SelectMenu) and comp.custom_id == custom_id:
            return comp
    return None


def _modal_value(components: list[Any]) -> str:
    """The answer text input's value from a raw modal submit (rows or labels)."""
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
