"""Running front ends: the platforms whose credentials are set, else the terminal."""

from __future__ import annotations

import logging
import sys

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
    raise StartupError(
        "platform credentials are set, but this build serves only the terminal so far; "
        "unset DISCORD_TOKEN / SLACK_BOT_TOKEN to use the console"
    )
