"""Discord actions as engine events; engine replies delivered where the person reads them.

Where replies go: in a server channel a consultation moves to the person's DMs (the
channel only gets an ephemeral pointer); if their DMs are closed it continues ephemerally
in the channel. In a DM everything is answered in place. Personal views (status, export,
forget) are ephemeral in a server. A component answers in the place it was clicked.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable, Sequence

import discord

from adapters.discord.components import ComponentId
from adapters.discord.render import (
    Outgoing,
    Update,
    answered_update,
    closed_update,
    fit,
    pack,
    question_page_update,
    render,
)
from adapters.discord.respond import DEFER_AFTER, Reply, respond
from adapters.discord.tenancy import guild_tenant, person
from adapters.runtime import Runtime
from bot import events as ev
from bot.engine import FORGET_ACTION, UnknownPlaybook
from bot.messages import AnswerValue, AnyMessage, Level, Notice, Question, Recommendation, Text

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
NOTHING_DELETED = "Nothing was deleted."
STALE = "That question was already answered; here is where we are now."
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
Server admins (Manage Server): `/advise-admin playbook`, `/advise-admin checkins`, \
`/advise-admin show`."""

EventFor = Callable[[ev.UserRef], Awaitable[ev.InEvent]]
Done = Callable[[discord.Interaction, str], None]


def is_ephemeral_context(interaction: discord.Interaction) -> bool:
    """Whether replies to a component must stay ephemeral (the clicked message was)."""
    message = interaction.message
    if message is not None:
        return bool(message.flags.ephemeral)
    return interaction.guild_id is not None


class Consultations:
    """The flows behind commands and components; holds no state between interactions."""

    def __init__(
        self, rt: Runtime, *, defer_after: float = DEFER_AFTER, on_done: Done | None = None
    ) -> None:
        self.rt = rt
        self.engine = rt.engine
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
        work: Callable[[], Awaitable[Reply]],
        *,
        ephemeral: bool,
    ) -> None:
        reply = await respond(interaction, work, ephemeral=ephemeral, defer_after=self.defer_after)
        self.done(interaction, reply.outcome)

    # ------------------------------------------------------------------ commands

    async def command(
        self, interaction: discord.Interaction, event_for: EventFor, *, hand_off: bool
    ) -> None:
        """Run a consultation command; ``hand_off`` moves it to DMs when used in a server."""
        in_guild = interaction.guild_id is not None
        owner = interaction.user.id

        async def work() -> Reply:
            messages = (await self.engine.run(await event_for(person(owner)))).messages
            parts = render(messages, owner)
            if in_guild and hand_off and _continues(messages):
                return await self.hand_off(interaction.user, parts)
            return Reply(messages=parts, ephemeral=in_guild, outcome="shown")

        await self._run(interaction, work, ephemeral=in_guild)

    async def hand_off(
        self, user: discord.User | discord.Member, parts: Sequence[Outgoing]
    ) -> Reply:
        """Send the consultation to the person's DMs; fall back to ephemeral replies."""
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
            return Reply(messages=[Outgoing(DM_SENT.format(url=url))], ephemeral=True, outcome="dm")
        rest = list(parts[len(sent) :])
        return Reply(messages=pack([Outgoing(note), *rest]), ephemeral=True, outcome="dm-closed")

    async def help(self, interaction: discord.Interaction) -> None:
        async def work() -> Reply:
            return Reply(
                messages=[Outgoing(HELP)],
                ephemeral=interaction.guild_id is not None,
                outcome="help",
            )

        await self._run(interaction, work, ephemeral=interaction.guild_id is not None)

    async def admin(
        self, interaction: discord.Interaction, action: Callable[[str], Awaitable[Notice | Text]]
    ) -> None:
        """Run an admin action for this server's tenant; the reply is always ephemeral."""
        tenant = guild_tenant(interaction.guild_id or 0)

        async def work() -> Reply:
            try:
                message: Notice | Text = await action(tenant)
            except UnknownPlaybook as exc:
                message = Notice(str(exc), Level.WARNING)
            return Reply(
                messages=render([message], interaction.user.id), ephemeral=True, outcome="admin"
            )

        await self._run(interaction, work, ephemeral=True)

    async def refuse(self, interaction: discord.Interaction, text: str, outcome: str) -> None:
        """An immediate ephemeral refusal (no database work, so no deferral needed)."""

        async def work() -> Reply:
            return Reply(messages=[Outgoing(text)], ephemeral=True, outcome=outcome)

        await self._run(interaction, work, ephemeral=True)

    # ------------------------------------------------------------------ components

    async def answer(
        self,
        interaction: discord.Interaction,
        target: ComponentId,
        question_id: str | None,
        value: AnswerValue,
        words: str,
    ) -> None:
        """Apply a click/select/modal answer to the step it was shown for.

        ``question_id`` may be None (a choice button carries the choice instead): the step
        alone tells the core whether the click is for the question now open.
        """
        ephemeral = is_ephemeral_context(interaction)
        owner = interaction.user.id

        async def work() -> Reply:
            event = ev.Answer(
                person(owner), value, question_id, target.consultation_id, target.step
            )
            messages = (await self.engine.run(event)).messages
            first = messages[0] if messages else None
            if isinstance(first, Question) and first.error:
                text = f"⚠️ {fit(first.error, 1500)}"
                return Reply(messages=[Outgoing(text)], ephemeral=True, outcome="invalid")
            if isinstance(first, Notice):
                return self._moved_on(first, messages[1:], owner, ephemeral)
            return Reply(
                update=answered_update(words),
                messages=render(messages, owner),
                ephemeral=ephemeral,
                outcome="answered",
            )

        await self._run(interaction, work, ephemeral=ephemeral)

    def _moved_on(
        self, notice: Notice, rest: Sequence[AnyMessage], owner: int, ephemeral: bool
    ) -> Reply:
        """A notice instead of progress: a failure to retry, or a stale/closed message."""
        if notice.level in (Level.ERROR, Level.WARNING):
            return Reply(messages=render([notice], owner), ephemeral=True, outcome="failed")
        return Reply(
            update=closed_update(notice.text),
            messages=render(rest, owner),
            ephemeral=ephemeral,
            outcome="stale",
        )

    async def page(self, interaction: discord.Interaction, target: ComponentId, page: int) -> None:
        """Show another page of a long choice list (the question is read, never changed)."""
        ephemeral = is_ephemeral_context(interaction)
        owner = interaction.user.id

        async def work() -> Reply:
            messages = (await self.engine.run(ev.Resume(person(owner)))).messages
            current = next((m for m in messages if isinstance(m, Question)), None)
            if current is not None and (
                current.consultation_id,
                current.step,
                current.question_id,
            ) == (target.consultation_id, target.step, target.ref):
                return Reply(update=question_page_update(current, owner, page), outcome="page")
            notices = [m for m in messages if isinstance(m, Notice)]
            if current is None and notices:
                return self._moved_on(notices[0], [], owner, ephemeral)
            progress = [m for m in messages if not isinstance(m, Notice)]
            return self._moved_on(Notice(STALE), progress, owner, ephemeral)

        await self._run(interaction, work, ephemeral=ephemeral)

    async def details(self, interaction: discord.Interaction, target: ComponentId) -> None:
        """Everything about one path of the recommendation, as a new message."""
        ephemeral = is_ephemeral_context(interaction)
        owner = interaction.user.id

        async def work() -> Reply:
            messages = (await self.engine.run(ev.ShowPath(person(owner), target.ref))).messages
            return Reply(messages=render(messages, owner), ephemeral=ephemeral, outcome="details")

        await self._run(interaction, work, ephemeral=ephemeral)

    async def confirm(self, interaction: discord.Interaction, target: ComponentId) -> None:
        """Answer a confirmation; the buttons are removed either way."""
        owner = interaction.user.id

        async def work() -> Reply:
            if target.ref != FORGET_ACTION:
                return Reply(
                    update=closed_update("That question is no longer open."), outcome="stale"
                )
            if target.arg != "y":
                return Reply(update=closed_update(NOTHING_DELETED), outcome="kept")
            messages = (await self.engine.run(ev.Forget(person(owner), confirmed=True))).messages
            text = "\n".join(m.text for m in messages if isinstance(m, Notice | Text))
            return Reply(update=Update(content=fit(text, 1900), components=[]), outcome="forgot")

        await self._run(interaction, work, ephemeral=is_ephemeral_context(interaction))


def _continues(messages: Sequence[AnyMessage]) -> bool:
    """Whether a reply carries the consultation itself (worth moving to DMs)."""
    return any(isinstance(m, Question | Recommendation) for m in messages)
