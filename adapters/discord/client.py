"""The discord.py client: command tree, component router, typed DMs; no privileged intent.

Intents: ``guilds`` and ``dm_messages``, neither privileged. Slash commands, components and
modals arrive as interactions whatever the intents, DMs can be sent without any intent,
and member permissions come in the interaction itself; ``guilds`` keeps discord.py's
server cache coherent. ``dm_messages`` delivers MESSAGE_CREATE for DM channels, so a
person can type to the bot (``dms.py``): a DM is a conversation, components a shortcut.

Why not ``message_content`` (privileged, and reviewed for bots in over 100 servers):
Discord strips content only from messages that are not the app's own, not in a DM with
the app and do not mention it; a DM's text reaches the bot without it. discord.py says
the same in its source (``discord/flags.py``, ``Intents.message_content``: content is
available without the flag for messages "sent in direct messages") and does not filter
content itself (``state.parse_message_create`` builds the Message from the payload as
received). The bot reads no server message: ``guild_messages`` stays off, and a message
in a server channel would be ignored anyway.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

import discord
import yarl
from discord.gateway import DiscordWebSocket

from adapters.discord.cards import NO_MENTIONS
from adapters.discord.commands import AdviseTree
from adapters.discord.dms import DirectMessages
from adapters.discord.inbound import Flows, IntentItem
from adapters.discord.respond import DEFER_AFTER
from adapters.runtime import Runtime

log = logging.getLogger(__name__)
HANDLED_EVENT = "crossroads_handled"  # dispatched as on_crossroads_handled(interaction, outcome)
DM_HANDLED_EVENT = "crossroads_dm_handled"  # on_crossroads_dm_handled(message, outcome)
INTENTS = discord.Intents(guilds=True, dm_messages=True)  # neither is privileged
DISCORD_GATEWAY = yarl.URL("wss://gateway.discord.gg/")


class CrossroadsClient(discord.AutoShardedClient):
    """The bot: the shards ``shard_ids`` of ``shard_count`` (default: all, as Discord advises).

    Why always AutoShardedClient: one process of a small bot runs one shard just as a plain
    Client would, and a large one needs no code change to shard; ``shard_ids`` lets
    several processes on one PostgreSQL split the gateway between them.
    """

    def __init__(
        self,
        rt: Runtime,
        *,
        sync_commands: bool = True,
        dev_guild_id: int = 0,
        defer_after: float = DEFER_AFTER,
        **options: Any,
    ) -> None:
        # The bot uses no voice: skip discord.py's warnings about missing voice packages.
        discord.VoiceClient.warn_nacl = discord.VoiceClient.warn_dave = False
        # No message cache: nothing reads it (clicks carry their ids, DMs are answered as
        # they arrive), and it would keep the last 1,000 typed DMs in memory, after a
        # "forget" too.
        options.setdefault("max_messages", None)
        super().__init__(intents=INTENTS, allowed_mentions=NO_MENTIONS, **options)
        self.rt = rt
        self.observers: list[Callable[[discord.Interaction, str], None]] = []
        self.dm_observers: list[Callable[[discord.Message, str], None]] = []
        self.sync_commands = sync_commands
        self.dev_guild_id = dev_guild_id
        self.flows = Flows(rt.engine, defer_after=defer_after, on_done=self._handled)
        self.tree = AdviseTree(self, self.flows)
        self.dms = DirectMessages(rt.engine, on_done=self._dm_handled)

    def _handled(self, interaction: discord.Interaction, outcome: str) -> None:
        """An interaction was fully answered: tell observers (tests, metrics) and listeners."""
        for observer in self.observers:
            observer(interaction, outcome)
        self.dispatch(HANDLED_EVENT, interaction, outcome)

    def _dm_handled(self, message: discord.Message, outcome: str) -> None:
        """A typed DM was answered (or ignored as a repeat): tell observers and listeners."""
        for observer in self.dm_observers:
            observer(message, outcome)
        self.dispatch(DM_HANDLED_EVENT, message, outcome)

    async def setup_hook(self) -> None:
        """Before connecting: fix the shard count, sync the commands.

        Components survive a restart through one dynamic item: it reads everything from
        the custom_id.
        """
        self.add_dynamic_items(IntentItem)
        if self.shard_count is None and DiscordWebSocket.DEFAULT_GATEWAY != DISCORD_GATEWAY:
            # Without a count discord.py would connect to the URL /gateway/bot names, not to
            # the configured gateway (a proxy, a test fake): ask for the count only.
            self.shard_count, _, _ = await self.http.get_bot_gateway()
        if not self.sync_commands:
            return
        if self.dev_guild_id:
            guild = discord.Object(self.dev_guild_id)
            self.tree.copy_global_to(guild=guild)
            synced = await self.tree.sync(guild=guild)
            log.info("synced %d commands to guild %s", len(synced), self.dev_guild_id)
        else:
            synced = await self.tree.sync()
            log.info("synced %d global commands", len(synced))

    async def on_interaction(self, interaction: discord.Interaction) -> None:
        """Modal submits, and clicks no dynamic item claims (commands go to the tree)."""
        await self.flows.unclaimed(interaction)

    async def on_message(self, message: discord.Message) -> None:
        """A typed DM goes to the core in its author's lane; every other message is ignored."""
        self.dms.receive(message, self.user)

    async def close(self) -> None:
        """Stop answering DMs still queued (a graceful stop drained them first), then close."""
        await self.dms.lanes.close()
        await super().close()
