"""Running front ends: the platforms whose credentials are set, else the terminal."""

from __future__ import annotations

import asyncio
import gc
import logging
import signal
import sys
from collections.abc import Coroutine
from typing import Any

from adapters.console.session import ConsoleSession
from adapters.runtime import Runtime, StartupError, open_runtime
from bot.api import Settings, UserRef

log = logging.getLogger(__name__)


def _console_ref(name: str | None) -> UserRef:
    import getpass

    chosen = (name or "").strip() or getpass.getuser() or "me"
    return UserRef("console", "local", chosen[:64])


def _collector_on() -> None:
    """Start-up is over (adapters/cli.py turned the cyclic collector off for it): what
    exists now lives as long as the process, so it is kept out of the collector's scans."""
    gc.freeze()
    gc.enable()


async def serve_console(settings: Settings, user: str | None, playbook: str | None) -> int:
    rt = await open_runtime(settings)
    _collector_on()
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


STOP_SECONDS = 4.5  # from SIGINT/SIGTERM to exit: within the 5 s a supervisor allows


async def serve(
    settings: Settings, *, console_user: str | None = None, console_playbook: str | None = None
) -> int:
    """Serve every configured platform; with none configured, hold a console consultation.

    SIGINT and SIGTERM stop it cleanly: the adapters stop taking work (gateway, socket,
    HTTP server closed), turns in flight finish, the check-in scheduler stops, and the
    process exits 0 within ``STOP_SECONDS``.
    """
    if not (settings.discord_enabled or settings.slack_enabled):
        return await serve_console(settings, console_user, console_playbook)
    rt = await open_runtime(settings)
    _collector_on()
    services: list[Coroutine[Any, Any, None]] = []
    tasks: list[asyncio.Task[None]] = []
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, _on_signal, sig, stop)
    try:
        if settings.discord_enabled:
            from adapters.discord.service import run as run_discord

            services.append(run_discord(rt))
        if settings.slack_enabled:
            from adapters.slack.service import run as run_slack

            services.append(run_slack(rt))
        if rt.checkins is not None:
            # Delivers for the platforms whose adapters have registered a sender so far.
            await rt.checkins.start()
        if rt.mentors is not None:
            # Board work (mentor requests) for the platforms with a registered board.
            await rt.mentors.start()
        tasks = [asyncio.create_task(service) for service in services]
        services = []
        stopping = asyncio.create_task(stop.wait())
        done, _ = await asyncio.wait([*tasks, stopping], return_when=asyncio.FIRST_COMPLETED)
        stopping.cancel()
        for task in done:
            if task is not stopping and task.exception() is not None:
                raise task.exception()  # type: ignore[misc]  # a StartupError, typically
        return 0
    finally:
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.remove_signal_handler(sig)
        for pending in services:
            pending.close()  # never-started coroutines, if start-up failed early
        await _shut_down(rt, tasks)


def _on_signal(sig: signal.Signals, stop: asyncio.Event) -> None:
    if stop.is_set():
        return
    log.info("stopping (%s): finishing turns in flight", sig.name)
    stop.set()


async def _shut_down(rt: Runtime, tasks: list[asyncio.Task[None]]) -> None:
    """Stop taking work, let turns in flight finish, stop the scheduler: all within budget."""
    deadline = loop_time() + STOP_SECONDS

    def left(reserve: float) -> float:
        return max(0.1, deadline - loop_time() - reserve)

    intake = [asyncio.create_task(stop()) for stop in rt.stop_intake]  # no new work
    if intake:
        await asyncio.wait(intake, timeout=left(1.0))  # includes answering what is in flight
    if not await rt.turns.drain(left(1.5)):  # in-flight turns finish and reply
        log.warning("stopped with %d turn(s) still running", rt.turns.running)
    for task in tasks:
        task.cancel()  # each adapter closes the rest of its connections in its finally
    if tasks:
        _, late = await asyncio.wait(tasks, timeout=left(0.5))
        if late:
            log.warning("%d adapter(s) did not stop in time", len(late))
    try:
        async with asyncio.timeout(max(0.1, deadline - loop_time())):
            await rt.close()
    except TimeoutError:
        log.warning("the check-in scheduler or the database did not close in time")
    log.info("stopped")


def loop_time() -> float:
    return asyncio.get_running_loop().time()
