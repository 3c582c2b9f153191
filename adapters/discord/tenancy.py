"""Who a Discord person is to the core, and which server settings apply to them.

Choice: one tenant value per Discord user (``PERSON_TENANT``), whatever server or DM
the event comes from. Why: Discord user ids are global and the bot has one DM channel per
person shared by every server; a consultation started in a server continues in that DM, and
``/advise status``, ``export`` or ``forget`` typed in the DM (or in another server) must
reach the same row, or "forget" would leave data behind. A server (guild) is still a
tenant for its admin settings: ``UserRef("discord", str(guild_id), ...)`` is never used for
people, only ``engine.set_tenant_*("discord", str(guild_id))`` and ``tenant_overview``.
"""

from __future__ import annotations

import discord

from bot.api import UserRef

PLATFORM = "discord"
PERSON_TENANT = "dm"


def person(user_id: int) -> UserRef:
    """The core's reference for a Discord user, the same in every server and in DMs."""
    return UserRef(PLATFORM, PERSON_TENANT, str(user_id))


def guild_tenant(guild_id: int) -> str:
    """The tenant holding a server's admin settings."""
    return str(guild_id)


def server_of(interaction: discord.Interaction) -> str | None:
    """The server an interaction came from (None in DMs): its admin defaults apply to a
    consultation started there, even after it moves to the person's DMs."""
    return guild_tenant(interaction.guild_id) if interaction.guild_id is not None else None
