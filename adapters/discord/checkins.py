"""Check-ins on Discord: the clicks behind the check-in messages, and the DM sender.

Why one module: both halves speak the same custom_ids (components.py, kinds OFFER to
REVISIT) and the same rendering (render.py), and neither keeps state between
interactions: a click carries the check-in id and occurrence, the core checks ownership,
staleness and double clicks (docs/checkins.md, "What an adapter implements").
"""

from __future__ import annotations

import logging
import re
from collections.abc import Sequence

import aiohttp
import discord

from adapters.discord.components import ComponentId, Kind
from adapters.discord.consult import Consultations, is_ephemeral_context
from adapters.discord.render import (
    MODAL_WHENS,
    Outgoing,
    Update,
    closed_update,
    fit,
    render,
    render_checkin_list,
    render_one,
    when_modal,
)
from adapters.discord.respond import Reply
from adapters.discord.tenancy import PLATFORM, person
from bot import events as ev
from bot.checkins.sender import Delivered, RetryAfter, SendResult, Unreachable
from bot.checkins.texts import CANCEL, CHANGE, SNOOZE_DAY, SNOOZE_WEEK
from bot.messages import (
    NO_CHECKINS,
    AnyMessage,
    CheckInList,
    Level,
    Notice,
    WhenKind,
)
from bot.ports import Notification
from bot.validation import whole_number

log = logging.getLogger(__name__)

MAX_RATE = 45.0  # Discord allows 50 requests/s per token; a first DM costs two requests
DMS_CLOSED_REASON = "Your DMs are closed to me."
GONE_REASON = "I cannot find your account any more."
OUTAGE_SECONDS = 30.0  # a Discord 5xx or network failure: wait, without using up attempts
BAD_WHEN = (
    "I did not understand that. Type a number of days (e.g. `10`), `weekly`, "
    "`fortnightly`, or a date like `2026-05-04` or `2026-05-04 09:30`."
)
SNOOZE_DAYS = {SNOOZE_DAY: 1, SNOOZE_WEEK: 7}
_DATE = re.compile(r"(\d{4}-\d{2}-\d{2})(?:[ t](\d{1,2}:\d{2}))?")
_DAYS = re.compile(r"(?:in\s+)?(\d{1,3})(?:\s*days?)?")


def parse_when(text: str) -> ev.When | None:
    """Typed modal text -> When (None: not understood); the core checks ranges and dates."""
    word = " ".join(text.strip().lower().split())
    if word in (WhenKind.SUGGESTED, WhenKind.WEEKLY, WhenKind.FORTNIGHTLY):
        return ev.When(word)
    if match := _DAYS.fullmatch(word):
        return ev.When(WhenKind.IN_DAYS, days=int(match[1]))
    if match := _DATE.fullmatch(word):
        on = match[1] + (f" {int(match[2].split(':')[0]):02d}:{match[2][-2:]}" if match[2] else "")
        return ev.When(WhenKind.DATE, on=on)
    return None


def _refusal(messages: Sequence[AnyMessage]) -> Notice | None:
    """The core's warning (unknown or foreign check-in, bad date…), if that is the reply."""
    first = messages[0] if messages else None
    if isinstance(first, Notice) and first.level in (Level.ERROR, Level.WARNING):
        return first
    return None


def _notices(messages: Sequence[AnyMessage]) -> str:
    return "\n".join(m.text for m in messages if isinstance(m, Notice))


class CheckInFlows:
    """Check-in clicks and modal submits as core events; replies where they were clicked."""

    def __init__(self, flows: Consultations) -> None:
        self.flows = flows
        self.engine = flows.engine

    async def _reply(
        self,
        interaction: discord.Interaction,
        events: Sequence[ev.InEvent],
        *,
        words: str = "",
        list_in_place: bool = False,
    ) -> None:
        """Run ``events``; if all are refused, say so ephemerally and leave the message.

        Otherwise the clicked message loses its controls and says what happened; with
        ``list_in_place`` a check-in list in the reply replaces the clicked list instead.
        """
        ephemeral = is_ephemeral_context(interaction)
        owner = interaction.user.id

        async def work() -> Reply:
            messages: list[AnyMessage] = []
            refusals: list[Notice] = []
            for event in events:  # several only for a catch-up: apply each one that can be
                answer = (await self.engine.run(event)).messages
                refused = _refusal(answer)
                if refused is not None:
                    refusals.append(refused)
                else:
                    messages.extend(answer)
            if refusals and not messages:
                text = f"⚠️ {fit(refusals[0].text, 1500)}"
                return Reply(messages=[Outgoing(text)], ephemeral=True, outcome="refused")
            messages.extend(refusals)
            said = _notices(messages)
            rest = [m for m in messages if not isinstance(m, Notice)]
            lists = [m for m in rest if isinstance(m, CheckInList)]
            if list_in_place and lists:
                shown = render_checkin_list(lists[-1], owner)
                others = [m for m in rest if not isinstance(m, CheckInList)]
                update = Update(
                    content=fit(said, 1900), embeds=shown.embeds, components=shown.components
                )
                return Reply(
                    update=update,
                    messages=render(others, owner),
                    ephemeral=ephemeral,
                    outcome="changed",
                )
            if lists:  # several changes (catch-up): one list, the latest
                rest = [m for m in rest if not isinstance(m, CheckInList)] + [lists[-1]]
            first = messages[0] if messages else None
            if isinstance(first, Notice) and first.level == Level.INFO and not rest:
                # Stale: an older occurrence, a second answer, a check-in gone meanwhile.
                return Reply(update=closed_update(said), ephemeral=ephemeral, outcome="stale")
            head = f"{words}\n{said}".strip() if words else said
            return Reply(
                update=closed_update(head or "Done."),
                messages=render(rest, owner),
                ephemeral=ephemeral,
                outcome="checkin",
            )

        await self.flows._run(interaction, work, ephemeral=ephemeral)

    def _schedule(
        self, interaction: discord.Interaction, target: ComponentId, when: ev.When | None
    ) -> ev.ScheduleCheckIns:
        """In a server, its admin defaults (zone, quiet hours) apply (server_tenant)."""
        guild = interaction.guild_id
        return ev.ScheduleCheckIns(
            person(interaction.user.id),
            when,
            consultation_id=target.consultation_id or None,
            server_tenant=str(guild) if guild else None,
        )

    # ------------------------------------------------------------------ clicks

    async def offer(self, interaction: discord.Interaction, target: ComponentId) -> None:
        """A choice of the CheckInOffer; "in N days" and "a date" ask in a modal first."""
        if target.ref in MODAL_WHENS:
            days = target.ref == WhenKind.IN_DAYS
            modal = when_modal(
                target,
                "Check in with me in…" if days else "Check in with me on…",
                "Number of days" if days else "Date (and time), your time zone",
                "e.g. 10" if days else "e.g. 2026-05-04 or 2026-05-04 09:30",
            )
            await interaction.response.send_modal(modal)
            self.flows.done(interaction, "modal")
            return
        if target.ref == NO_CHECKINS:
            when = None
        elif target.ref in (WhenKind.SUGGESTED, WhenKind.WEEKLY, WhenKind.FORTNIGHTLY):
            when = ev.When(target.ref)
        else:
            await self.flows.refuse(interaction, "That choice is no longer offered.", "unknown")
            return
        await self._reply(interaction, [self._schedule(interaction, target, when)])

    async def answer(
        self, interaction: discord.Interaction, target: ComponentId, words: str
    ) -> None:
        """A button of a check-in DM: the core records it once per occurrence."""
        user = person(interaction.user.id)
        event = ev.AnswerCheckIn(user, target.consultation_id, target.step, target.ref)
        await self._reply(interaction, [event], words=f"✅ {fit(words, 200)}")

    async def item(self, interaction: discord.Interaction, target: ComponentId) -> None:
        """Snooze / change / cancel one check-in of the list; the list updates in place."""
        user = person(interaction.user.id)
        checkin_id = target.consultation_id
        if target.ref == CHANGE:
            modal = when_modal(
                target,
                f"Change check-in #{checkin_id}",
                "When? Days, weekly, fortnightly or a date",
                "e.g. 10, weekly, 2026-05-04 09:30",
            )
            await interaction.response.send_modal(modal)
            self.flows.done(interaction, "modal")
            return
        event: ev.InEvent
        if target.ref in SNOOZE_DAYS:
            event = ev.SnoozeCheckIn(user, checkin_id, SNOOZE_DAYS[target.ref])
        elif target.ref == CANCEL:
            event = ev.CancelCheckIn(user, checkin_id)
        else:
            await self.flows.refuse(interaction, "That action is no longer offered.", "unknown")
            return
        await self._reply(interaction, [event], list_in_place=True)

    async def catchup(
        self, interaction: discord.Interaction, target: ComponentId, values: Sequence[str]
    ) -> None:
        """The missed check-ins chosen in the catch-up note: snooze a day, or drop them."""
        user = person(interaction.user.id)
        ids = [i for v in values if (i := whole_number(v)) is not None]
        events: list[ev.InEvent]
        if target.ref == SNOOZE_DAY:
            events = [ev.SnoozeCheckIn(user, i, 1) for i in ids]
        elif target.ref == CANCEL:
            events = [ev.CancelCheckIn(user, i) for i in ids]
        else:
            events = []
        if not events:
            await self.flows.refuse(interaction, "Nothing was chosen.", "unknown")
            return
        await self._reply(interaction, events)

    async def page(self, interaction: discord.Interaction, target: ComponentId) -> None:
        """Another page of the check-in list (read only)."""
        page = whole_number(target.arg, 0, 10_000) or 0
        owner = interaction.user.id

        async def work() -> Reply:
            messages = (await self.engine.run(ev.ListCheckIns(person(owner)))).messages
            lst = next((m for m in messages if isinstance(m, CheckInList)), None)
            if lst is None:
                return Reply(update=closed_update(_notices(messages) or "Done."), outcome="stale")
            shown = render_checkin_list(lst, owner, page)
            return Reply(
                update=Update(content="", embeds=shown.embeds, components=shown.components),
                outcome="page",
            )

        await self.flows._run(interaction, work, ephemeral=is_ephemeral_context(interaction))

    async def zone(self, interaction: discord.Interaction, values: Sequence[str]) -> None:
        user = person(interaction.user.id)
        if len(values) != 1:
            await self.flows.refuse(interaction, "Choose one time zone.", "unknown")
            return
        await self._reply(interaction, [ev.SetTimezone(user, values[0])])

    async def zone_other(self, interaction: discord.Interaction, target: ComponentId) -> None:
        modal = when_modal(target, "Your time zone", "Time zone (Area/City)", "e.g. Europe/Berlin")
        await interaction.response.send_modal(modal)
        self.flows.done(interaction, "modal")

    async def revisit(self, interaction: discord.Interaction, values: Sequence[str]) -> None:
        """Answer one question of the consultation again (the other answers stay)."""
        if len(values) != 1:
            await self.flows.refuse(interaction, "Choose one question.", "unknown")
            return
        await self._reply(interaction, [ev.Edit(person(interaction.user.id), values[0])])

    async def submitted(
        self, interaction: discord.Interaction, target: ComponentId, text: str
    ) -> None:
        """A WHEN modal: the opener's kind (in the arg) says what the typed text is."""
        user = person(interaction.user.id)
        opener = target.arg
        if opener == Kind.ZONE_OTHER.value:
            await self._reply(interaction, [ev.SetTimezone(user, text.strip())])
            return
        when = parse_when(text)
        if when is None:
            await self.flows.refuse(interaction, BAD_WHEN, "invalid")
            return
        if opener == Kind.OFFER.value:
            await self._reply(interaction, [self._schedule(interaction, target, when)])
        elif opener == Kind.ITEM.value:
            event = ev.ChangeCheckIn(user, target.consultation_id, when)
            await self._reply(interaction, [event], list_in_place=True)
        else:
            await self.flows.refuse(interaction, "That form is no longer in use.", "unknown")


def opener_of(target: ComponentId) -> ComponentId | None:
    """The button that opened a WHEN modal (it must be on the modal's message)."""
    if target.arg not in (Kind.OFFER.value, Kind.ITEM.value, Kind.ZONE_OTHER.value):
        return None
    return ComponentId(
        Kind(target.arg), target.owner, target.consultation_id, target.step, target.ref, ""
    )


# --------------------------------------------------------------------------- sender


def _retry_after(exc: discord.HTTPException) -> float:
    """Seconds from a 429 discord.py gave up retrying (its Retry-After header, else 5)."""
    response = getattr(exc, "response", None)
    header = response.headers.get("Retry-After") if response is not None else None
    try:
        return max(0.0, float(header)) if header is not None else 5.0
    except ValueError:
        return 5.0


class DiscordCheckInSender:
    """CheckInSender for Discord: a DM per check-in, deduplicated by nonce.

    ``nonce=idempotency_key`` makes discord.py send ``enforce_nonce``: a resend of the same
    delivery (after a crash) gets the first message back instead of posting a second.
    """

    platform = PLATFORM
    max_rate: float | None = MAX_RATE

    def __init__(self, client: discord.Client) -> None:
        self.client = client

    async def send(
        self, user: ev.UserRef, notification: Notification, idempotency_key: str
    ) -> SendResult:
        message = notification.source
        assert message is not None  # transitional: rendered from the source until cards land
        owner = whole_number(user.user_id)
        if owner is None:
            return Unreachable(GONE_REASON)
        out = render_one(message, owner)
        if out is None:  # pragma: no cover - every ReminderMessage renders
            raise TypeError(f"cannot render {type(message).__name__}")
        try:
            channel = await self.client.create_dm(discord.Object(owner))
            sent = await channel.send(**out.kwargs(), nonce=idempotency_key)
        except discord.RateLimited as exc:
            return RetryAfter(exc.retry_after, is_global=False)
        except discord.Forbidden:
            return Unreachable(DMS_CLOSED_REASON)
        except discord.NotFound:
            return Unreachable(GONE_REASON)
        except discord.DiscordServerError:
            return RetryAfter(OUTAGE_SECONDS, is_global=True)
        except discord.HTTPException as exc:
            if exc.status == 429:
                return RetryAfter(_retry_after(exc), is_global=True)
            raise
        except (aiohttp.ClientError, TimeoutError) as exc:
            log.warning("check-in DM: network failure: %s", exc)
            return RetryAfter(OUTAGE_SECONDS, is_global=True)
        return Delivered(str(sent.id))
