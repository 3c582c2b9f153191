"""The slash commands: ``/advise …`` for everyone, ``/advise-admin …`` for server managers.

Why two top-level commands: Discord applies ``default_member_permissions`` per top-level
command only, so the admin commands need their own to be hidden from members by default.
That default can be overridden by a server's own integration settings, so every admin
command also checks Manage Server on each call (``checks.has_permissions``), from the
permissions Discord computed for the invoking member.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

import discord
from discord import app_commands

from adapters.discord.inbound import Flows
from adapters.discord.mentors import add_mentor_admin, add_mentor_command
from adapters.discord.tenancy import PLATFORM, server_of
from bot.api import Engine, Reply, clip
from bot.api import events as ev

F = TypeVar("F", bound=Callable[..., Any])
NEEDS_MANAGE_SERVER = (
    "Only members with the **Manage Server** permission can change Crossroads settings here."
)
EVERYWHERE = app_commands.AppCommandContext(guild=True, dm_channel=True, private_channel=False)
SERVERS_ONLY = app_commands.AppCommandContext(guild=True, dm_channel=False, private_channel=False)
SERVER_INSTALL = app_commands.AppInstallationType(guild=True, user=False)


def _playbook_choices(engine: Engine) -> Callable[[F], F]:
    """Offer the installed playbooks as choices (Discord allows 25; beyond, free text)."""
    books = engine.playbooks.all()
    if len(books) > 25:
        return lambda f: f
    return app_commands.choices(
        playbook=[app_commands.Choice(name=clip(pb.title, 100), value=pb.id) for pb in books]
    )


def build_advise(flows: Flows) -> app_commands.Group:
    """``/advise``: usable in servers and in the bot's DMs."""
    engine = flows.engine
    group = app_commands.Group(
        name="advise",
        description="Career advice: a private consultation about your next steps",
        allowed_contexts=EVERYWHERE,
        allowed_installs=SERVER_INSTALL,
    )

    @group.command(name="start", description="Start a consultation (or continue yours)")
    @app_commands.describe(playbook="Which consultation to hold (default: this server's)")
    @_playbook_choices(engine)
    async def start(interaction: discord.Interaction, playbook: str | None = None) -> None:
        async def event(user: ev.UserRef) -> ev.InEvent:
            return ev.Start(user=user, playbook_id=playbook, origin_tenant=server_of(interaction))

        await flows.command(interaction, event, hand_off=True)

    def simple(
        name: str, description: str, make: Callable[..., ev.InEvent], *, hand_off: bool
    ) -> None:
        async def callback(interaction: discord.Interaction) -> None:
            async def event(user: ev.UserRef) -> ev.InEvent:
                return make(user=user)

            await flows.command(interaction, event, hand_off=hand_off)

        group.command(name=name, description=description)(callback)

    simple("resume", "Show where you stopped", ev.Resume, hand_off=True)
    simple("status", "What you answered so far", ev.ShowStatus, hand_off=False)
    simple("back", "Go back one question", ev.Back, hand_off=True)

    async def restart(interaction: discord.Interaction) -> None:
        async def event(user: ev.UserRef) -> ev.InEvent:
            return ev.Restart(user=user, origin_tenant=server_of(interaction))

        await flows.command(interaction, event, hand_off=True)

    group.command(name="restart", description="Start again from the first question")(restart)
    simple("export", "Everything I keep about you, as a file", ev.Export, hand_off=False)
    simple("forget", "Delete everything I keep about you", ev.Forget, hand_off=False)
    simple(
        "checkins", "Your check-ins: snooze, change or cancel them", ev.ListCheckIns, hand_off=False
    )

    @group.command(name="timezone", description="Your time zone, for check-ins")
    @app_commands.describe(zone="IANA time zone, e.g. Europe/Berlin")
    async def timezone(
        interaction: discord.Interaction, zone: app_commands.Range[str, 1, 64]
    ) -> None:
        async def event(user: ev.UserRef) -> ev.InEvent:
            return ev.SetTimezone(user=user, timezone=zone)

        await flows.command(interaction, event, hand_off=False)

    @group.command(name="quiet", description="Hours without check-ins")
    @app_commands.describe(hours="e.g. 22:30-07:00, or off, or default")
    async def quiet(
        interaction: discord.Interaction, hours: app_commands.Range[str, 1, 20]
    ) -> None:
        async def event(user: ev.UserRef) -> ev.InEvent:
            return ev.SetQuietHours(user=user, quiet_hours=hours)

        await flows.command(interaction, event, hand_off=False)

    @group.command(name="help", description="What Crossroads can do")
    async def help_(interaction: discord.Interaction) -> None:
        await flows.help(interaction)

    add_mentor_command(group, flows)
    return group


def build_admin(flows: Flows) -> app_commands.Group:
    """``/advise-admin``: server settings, for members with Manage Server only."""
    engine = flows.engine
    group = app_commands.Group(
        name="advise-admin",
        description="Crossroads settings for this server (Manage Server)",
        guild_only=True,
        allowed_contexts=SERVERS_ONLY,
        default_permissions=discord.Permissions(manage_guild=True),
        allowed_installs=SERVER_INSTALL,
    )
    manage = app_commands.checks.has_permissions(manage_guild=True)

    @group.command(name="playbook", description="The consultation new members get by default")
    @app_commands.describe(playbook="Playbook for new consultations in this server")
    @_playbook_choices(engine)
    @manage
    async def set_playbook(interaction: discord.Interaction, playbook: str) -> None:
        async def action(tenant: str) -> Reply:
            return await engine.set_tenant_playbook(PLATFORM, tenant, playbook)

        await flows.admin(interaction, action)

    @group.command(name="checkins", description="Default check-in cadence, time zone, quiet hours")
    @app_commands.describe(
        cadence_days="Days between check-ins (1-90)",
        timezone="IANA time zone, e.g. Europe/Berlin",
        quiet_hours="No check-ins between these times, e.g. 21:00-08:00",
    )
    @manage
    async def checkins(
        interaction: discord.Interaction,
        cadence_days: app_commands.Range[int, 1, 90] | None = None,
        timezone: app_commands.Range[str, 1, 64] | None = None,
        quiet_hours: app_commands.Range[str, 1, 20] | None = None,
    ) -> None:
        async def action(tenant: str) -> Reply:
            return await engine.set_tenant_checkin_defaults(
                PLATFORM,
                tenant,
                cadence_days=cadence_days,
                timezone=timezone,
                quiet_hours=quiet_hours,
            )

        await flows.admin(interaction, action)

    @group.command(name="show", description="What is set for this server")
    @manage
    async def show(interaction: discord.Interaction) -> None:
        async def action(tenant: str) -> Reply:
            return await engine.tenant_overview(PLATFORM, tenant)

        await flows.admin(interaction, action)

    add_stats(group, flows, manage)
    add_mentor_admin(group, engine, flows, manage)
    return group


def add_stats(group: app_commands.Group, flows: Flows, manage: Callable[[F], F]) -> None:
    """``/advise-admin stats [csv]``: this server's statistics (small counts hidden), with
    the chart attached as a PNG and, when asked, the figures as a CSV file."""
    engine = flows.engine

    @group.command(name="stats", description="How consultations here go (aggregates only)")
    @app_commands.describe(csv="Also attach the figures as a CSV file")
    @manage
    async def stats(interaction: discord.Interaction, csv: bool = False) -> None:
        async def action(tenant: str) -> Reply:
            return await engine.tenant_stats(PLATFORM, tenant, chart=True, csv=csv)

        await flows.admin(interaction, action)


class AdviseTree(app_commands.CommandTree):
    """The command tree, answering failed checks and errors instead of staying silent."""

    def __init__(self, client: discord.Client, flows: Flows) -> None:
        super().__init__(client)
        self.flows = flows
        self.add_command(build_advise(flows))
        self.add_command(build_admin(flows))

    async def on_error(
        self, interaction: discord.Interaction, error: app_commands.AppCommandError
    ) -> None:
        if isinstance(error, app_commands.MissingPermissions | app_commands.NoPrivateMessage):
            text, outcome = NEEDS_MANAGE_SERVER, "refused-permission"
        elif isinstance(error, app_commands.CheckFailure):
            text, outcome = NEEDS_MANAGE_SERVER, "refused"
        else:
            await super().on_error(interaction, error)  # logs with the traceback
            text, outcome = "⚠️ Something went wrong on my side; please try again.", "error"
        if interaction.response.is_done():
            await interaction.followup.send(
                text, ephemeral=True, allowed_mentions=discord.AllowedMentions.none()
            )
            self.flows.done(interaction, outcome)
            return
        await self.flows.refuse(interaction, text, outcome)
