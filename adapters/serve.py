"""Running front ends: the platforms whose credentials are set, else the terminal."""

from __future__ import annotations

import asyncio
import logging
import sys
from collections.abc import Coroutine
from typing import Any

from adapters.console.session import ConsoleSession
from adapters.runtime import StartupError, open_runtime
from bot.events import UserRef
from bot.settings import Settings

log = logging.getLogger(__name__)


def _console_ref(name: str | None) -> UserRef:
    import getpass

    chosen = (name or "").strip() or getpass.getuser() or "me"
    return UserRef("console", "local", chosen[:64])


async def serve_console(settings: Settings, user: str | None, playbook: str | None) -> int:
    rt = await open_runtime(settings)
    try:
        if playbook is not None and rt.engine.playbooks.get(playbook) is None:
            raise StartupError(
                f"no playbook {playbook[:40]!r}; available: {', '.join(rt.engine.playbooks.ids())}"
            )
        session = ConsoleSession(rt.engine, _console_ref(user), playbook_id=playbook)
        prompt = None
        if sys.stdin.isatty():

            def prompt() -> None:
                sys.stdout.write("> ")
                sys.stdout.flush()

        return await session.run(prompt)
    finally:
        await rt.close()


async def serve(
    settings: Settings, *, console_user: str | None = None, console_playbook: str | None = None
) -> int:
    """Serve every configured platform; with none configured, hold a console consultation."""
    if not (settings.discord_enabled or settings.slack_enabled):
        return await serve_console(settings, console_user, console_playbook)
    rt = await open_runtime(settings)
    services: list[Coroutine[Any, Any, None]] = []
    try:
        if settings.discord_enabled:
            from adapters.discord.service import run as run_discord

            services.append(run_discord(rt))
        if settings.slack_enabled:
            from adapters.slack.service import run as run_slack

            services.append(run_slack(rt))
        log.info("serving %d platform(s)", len(services))
        if rt.checkins is not None:
            # Delivers for the platforms whose adapters have registered a sender so far.
            await rt.checkins.start()
        await asyncio.gather(*services)
    finally:
        for pending in services:
            pending.close()  # never-started coroutines, if gather failed early
        await rt.close()
    return 0
