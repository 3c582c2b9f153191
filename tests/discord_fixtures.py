"""pytest fixtures for the Discord tests (loaded with ``pytest_plugins``, never imported).

Why separate from tests/discord_harness.py: a plugin module must not be imported before
pytest registers it, or its asserts are not rewritten; the test modules import helpers
from the harness and get these fixtures by name.
"""

from __future__ import annotations

import asyncio
import gc
import ipaddress
import socket
import warnings
from collections.abc import AsyncIterator
from contextlib import ExitStack
from typing import Any

import pytest

from adapters.discord.service import discord_endpoints
from bot.settings import Settings
from tests.discord_harness import TOKEN, World, discord_settings
from tests.fakes.discord_fake import FakeDiscord


@pytest.fixture(autouse=True)
def loopback_only(monkeypatch: pytest.MonkeyPatch) -> None:
    """Fail any TCP connection to a non-loopback address made during a test."""
    real_connect = socket.socket.connect
    real_connect_ex = socket.socket.connect_ex

    def check(sock: socket.socket, address: Any) -> None:
        inet = sock.family in (socket.AF_INET, socket.AF_INET6)
        if inet and not ipaddress.ip_address(address[0]).is_loopback:
            raise AssertionError(f"non-loopback connection attempted: {address!r}")

    def connect(sock: socket.socket, address: Any) -> None:
        check(sock, address)
        return real_connect(sock, address)

    def connect_ex(sock: socket.socket, address: Any) -> int:
        check(sock, address)
        return real_connect_ex(sock, address)

    monkeypatch.setattr(socket.socket, "connect", connect)
    monkeypatch.setattr(socket.socket, "connect_ex", connect_ex)


@pytest.fixture
async def fake() -> AsyncIterator[FakeDiscord]:
    async with FakeDiscord(token=TOKEN) as server:
        yield server


@pytest.fixture
async def world(fake: FakeDiscord, settings: Settings, db_url: str) -> AsyncIterator[World]:
    """A fake Discord and the settings pointing at it; bots are started by the test."""
    loop = asyncio.get_running_loop()
    loop_errors: list[dict[str, Any]] = []
    old_handler = loop.get_exception_handler()
    loop.set_exception_handler(lambda _loop, context: loop_errors.append(context))
    cfg = discord_settings(settings, fake)
    w = World(fake, cfg, db_url)
    with ExitStack() as stack:
        stack.enter_context(discord_endpoints(cfg))
        try:
            yield w
        finally:
            await w.close()
            with warnings.catch_warnings(record=True) as caught:
                warnings.simplefilter("always")
                gc.collect()
            loop.set_exception_handler(old_handler)
    leaks = [str(w.message) for w in caught if issubclass(w.category, ResourceWarning)]
    assert leaks == []
    assert [c.get("message") for c in loop_errors] == []
    assert fake.unhandled == []
