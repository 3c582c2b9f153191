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

import re

from bot.engine import Engine
from bot.events import UserRef

PLATFORM = "discord"
PERSON_TENANT = "dm"
_DEFAULT_LINE = re.compile(r"Default playbook: ([a-z0-9][a-z0-9_-]{0,39})\b")


def person(user_id: int) -> UserRef:
    """The core's reference for a Discord user, the same in every server and in DMs."""
    return UserRef(PLATFORM, PERSON_TENANT, str(user_id))


def guild_tenant(guild_id: int) -> str:
    """The tenant holding a server's admin settings."""
    return str(guild_id)


async def guild_default_playbook(engine: Engine, guild_id: int | None) -> str | None:
    """The playbook a server's admin chose for new consultations, if any.

    Workaround: the core resolves a tenant default only for the tenant of the person's
    UserRef, and offers no getter for it; ``tenant_overview`` is the only public read, so
    its first line is parsed (pinned by tests/test_discord_commands.py). None falls back
    to the engine's own default.
    """
    if guild_id is None:
        return None
    overview = await engine.tenant_overview(PLATFORM, guild_tenant(guild_id))
    match = _DEFAULT_LINE.search(overview.text)
    if match is None or engine.playbooks.get(match[1]) is None:
        return None
    return match[1]
