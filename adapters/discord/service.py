"""Serving Discord: endpoints and shards from the settings, then the client until stopped.

``run(rt)`` is what ``adapters/serve.py`` calls when ``DISCORD_TOKEN`` is set.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Iterator
from typing import Any

import aiohttp
import discord
import yarl
from discord.gateway import DiscordWebSocket
from discord.http import Route

from adapters.discord.checkins import DiscordCheckInSender
from adapters.discord.client import DISCORD_GATEWAY, CrossroadsClient
from adapters.discord.mentors import attach_mentors
from adapters.discord.respond import IN_FLIGHT
from adapters.runtime import Runtime, StartupError
from bot.api import Settings

log = logging.getLogger(__name__)
DEFAULT_API_BASE = "https://discord.com/api/v10"
STOP_DRAIN = 3.0  # a stopping process lets interactions in flight be answered this long
CONNECT_SECONDS = 30.0  # log in and have a first shard connected, or give up with one line


@contextlib.contextmanager
def discord_endpoints(settings: Settings) -> Iterator[None]:
    """Point discord.py at ``discord_api_base``/``discord_gateway_url`` (proxies, tests).

    discord.py has no option for them, only the class attributes ``Route.BASE`` and
    ``DiscordWebSocket.DEFAULT_GATEWAY``; they are set only when the settings differ from
    Discord's own, and restored on exit.
    """
    old_base, old_gateway = Route.BASE, DiscordWebSocket.DEFAULT_GATEWAY
    if settings.discord_api_base.rstrip("/") != DEFAULT_API_BASE:
        Route.BASE = settings.discord_api_base.rstrip("/")
    if settings.discord_gateway_url != str(DISCORD_GATEWAY):
        gateway = settings.discord_gateway_url
        DiscordWebSocket.DEFAULT_GATEWAY = yarl.URL(
            gateway if gateway.endswith("/") else gateway + "/"
        )
    try:
        yield
    finally:
        Route.BASE, DiscordWebSocket.DEFAULT_GATEWAY = old_base, old_gateway


def shard_plan(settings: Settings) -> tuple[int, list[int]]:
    """(shard_count, shard_ids) checked for sense; (0, []): every shard Discord advises."""
    count, ids = settings.discord_shard_count, list(settings.discord_shard_ids)
    if ids and not count:
        raise StartupError(
            "discord_shard_ids (CROSSROADS_DISCORD_SHARD_IDS) needs discord_shard_count "
            "(CROSSROADS_DISCORD_SHARD_COUNT): the total number of shards of all processes"
        )
    bad = [i for i in ids if not 0 <= i < count]
    if bad or len(set(ids)) != len(ids):
        raise StartupError(
            f"discord_shard_ids (CROSSROADS_DISCORD_SHARD_IDS): each id must be unique and "
            f"between 0 and {count - 1} (got {ids})"
        )
    return count, ids


def build_client(rt: Runtime, **options: Any) -> CrossroadsClient:
    """The client the settings ask for.

    With shard ids, only the process holding shard 0 syncs the commands (one sync, not
    one per process). Without a shard count, Discord's recommended count is used.
    """
    settings = rt.settings
    count, ids = shard_plan(settings)
    options.setdefault("dev_guild_id", settings.discord_dev_guild_id)
    options.setdefault("sync_commands", not ids or 0 in ids)
    client = CrossroadsClient(rt, shard_count=count or None, shard_ids=ids or None, **options)
    attach_checkins(client, rt)
    attach_mentors(client, rt)
    return client


def attach_checkins(client: CrossroadsClient, rt: Runtime) -> DiscordCheckInSender | None:
    """Register this client's check-in sender with ``rt.checkins`` once it is ready.

    Why on ready and only once: before it the client cannot send, and ``on_ready`` fires
    again after every new gateway session, while a second ``register`` would reset the
    sender's pacing. Without a check-in service (tests, tools) nothing is registered.
    """
    service = rt.checkins
    if service is None:
        return None
    sender = DiscordCheckInSender(client)
    registered = False

    async def on_ready() -> None:
        nonlocal registered
        if not registered:
            registered = True
            service.register(sender)
            log.info("check-ins: Discord sender registered")

    client.event(on_ready)  # the client defines no on_ready of its own
    return sender


async def run(rt: Runtime) -> None:
    """Serve Discord until stopped. A rejected token, or a Discord that cannot be reached
    at start, is a StartupError: one line for the person, exit code 2."""
    token = rt.settings.discord_token
    if token is None:
        raise StartupError("discord_token (DISCORD_TOKEN) is not set")
    with discord_endpoints(rt.settings):
        client = build_client(rt)
        count, ids = shard_plan(rt.settings)

        async def stop_intake() -> None:
            """No new interactions or DMs: close the gateway, keep HTTP for the replies of
            those in flight (typed DMs already queued included)."""
            for shard in list(client.shards.values()):
                await shard.disconnect()
            lanes = client.dms.lanes
            answered, typed = await asyncio.gather(
                IN_FLIGHT.drain(STOP_DRAIN), lanes.drain(STOP_DRAIN)
            )
            if not answered:
                log.warning("stopping with %d interaction(s) still unanswered", IN_FLIGHT.running)
            if not typed:
                log.warning("stopping with %d DM(s) still unanswered", lanes.pending)

        rt.stop_intake.append(stop_intake)
        async with client:
            await _login(client, token.get_secret_value(), rt.settings)
            connecting = asyncio.create_task(client.connect(reconnect=True))
            connected = asyncio.create_task(client.wait_for("connect"))
            try:
                done, _ = await asyncio.wait(
                    {connecting, connected},
                    timeout=CONNECT_SECONDS,
                    return_when=asyncio.FIRST_COMPLETED,
                )
                if connected not in done:
                    if connecting in done:
                        _gateway_failed(connecting.exception(), rt.settings)
                    raise StartupError(
                        f"Discord's gateway ({rt.settings.discord_gateway_url}) did not let the "
                        f"bot connect within {CONNECT_SECONDS:.0f} s; check the network"
                    )
                log.info(
                    "serving Discord: %s, commands %s",
                    f"shards {ids or 'all'} of {count}" if count else "the shards Discord advises",
                    f"synced to guild {rt.settings.discord_dev_guild_id}"
                    if rt.settings.discord_dev_guild_id
                    else "synced globally"
                    if client.sync_commands
                    else "synced by the process with shard 0",
                )
                await connecting
            except discord.PrivilegedIntentsRequired:  # pragma: no cover - asks for none
                raise StartupError("Discord refused the gateway intents") from None
            finally:
                connected.cancel()
                connecting.cancel()


async def _login(client: CrossroadsClient, token: str, settings: Settings) -> None:
    """Log in (and sync the commands, in setup_hook): every failure is one sentence."""
    try:
        async with asyncio.timeout(CONNECT_SECONDS):
            await client.login(token)
    except discord.LoginFailure:
        raise StartupError(
            "discord_token (DISCORD_TOKEN): Discord rejected the token; copy it again from "
            "the Developer Portal (Bot → Reset Token)"
        ) from None
    except TimeoutError:
        raise StartupError(
            f"Discord ({settings.discord_api_base}) did not answer within "
            f"{CONNECT_SECONDS:.0f} s; check the network"
        ) from None
    except (aiohttp.ClientError, OSError) as exc:
        raise StartupError(
            f"Discord cannot be reached at {settings.discord_api_base} "
            f"({type(exc).__name__}); check the network"
        ) from None
    except discord.HTTPException as exc:
        raise StartupError(
            f"Discord answered {exc.status} while the bot logged in; try again later"
        ) from None


def _gateway_failed(error: BaseException | None, settings: Settings) -> None:
    if isinstance(error, discord.PrivilegedIntentsRequired):
        raise StartupError("Discord refused the gateway intents")
    if isinstance(error, discord.LoginFailure):  # the gateway refused the token
        raise StartupError("discord_token (DISCORD_TOKEN): Discord rejected the token")
    raise StartupError(
        f"Discord's gateway ({settings.discord_gateway_url}) closed the connection "
        f"({type(error).__name__ if error else 'no reason'}); check the network"
    )
