"""Smoke tests: the real discord.py client against the fake Discord on 127.0.0.1.

Why: the Discord adapter tests rely on the fake being faithful enough that discord.py's own
machinery (login, zlib gateway, command sync, view/modal dispatch, 429 retries, RESUME)
runs unmodified; these tests prove that, and that nothing leaves loopback.
"""

from __future__ import annotations

import asyncio
import gc
import io
import ipaddress
import json
import socket
import warnings
import zlib
from collections.abc import AsyncIterator, Callable
from typing import Any

import aiohttp
import discord
import pytest
from discord import app_commands
from discord.gateway import DiscordWebSocket
from discord.http import Route

from tests.fakes.discord_fake import FakeDiscord

TOKEN = "smoke-test-token"


# --------------------------------------------------------------------------- the bot


class Signals:
    """Handler completions the test can await (no sleeping for luck)."""

    def __init__(self) -> None:
        self.items: list[tuple[str, Any]] = []
        self._cond = asyncio.Condition()

    async def emit(self, name: str, value: Any = None) -> None:
        """Record that a handler reached a point."""
        async with self._cond:
            self.items.append((name, value))
            self._cond.notify_all()

    async def wait(self, name: str, *, index: int = 0, timeout: float = 5.0) -> Any:  # noqa: ASYNC109
        """The ``index``-th value emitted under ``name``."""

        def values() -> list[Any]:
            return [v for n, v in self.items if n == name]

        async with asyncio.timeout(timeout), self._cond:
            await self._cond.wait_for(lambda: len(values()) > index)
            return values()[index]


class NoteModal(discord.ui.Modal, title="Your note"):
    """A modal with one text input, opened by the button."""

    note: discord.ui.TextInput[NoteModal] = discord.ui.TextInput(
        label="Note", custom_id="smoke:note-text", max_length=200
    )

    def __init__(self, signals: Signals) -> None:
        super().__init__()
        self.signals = signals

    async def on_submit(self, interaction: discord.Interaction) -> None:
        await interaction.response.send_message(f"Noted: {self.note.value}", ephemeral=True)
        await self.signals.emit("modal", self.note.value)


class NoteView(discord.ui.View):
    """The view sent with /ping pong; its button opens the modal."""

    def __init__(self, signals: Signals) -> None:
        super().__init__(timeout=60)
        self.signals = signals

    @discord.ui.button(
        label="Add a note", custom_id="smoke:note", style=discord.ButtonStyle.primary
    )
    async def add_note(
        self, interaction: discord.Interaction, button: discord.ui.Button[NoteView]
    ) -> None:
        await interaction.response.send_modal(NoteModal(self.signals))
        await self.signals.emit("button", interaction.id)


def build_ping_group(signals: Signals) -> app_commands.Group:
    """/ping pong | /ping dm | /ping admin echo — a group, subcommands and a nested group."""
    group = app_commands.Group(name="ping", description="Smoke-test commands")
    admin = app_commands.Group(name="admin", description="Nested group", parent=group)

    @group.command(name="pong", description="Reply privately with a button")
    async def pong(interaction: discord.Interaction) -> None:
        await interaction.response.send_message(
            "pong @everyone",
            ephemeral=True,
            embed=discord.Embed(title="Pong", description="still alive"),
            view=NoteView(signals),
            allowed_mentions=discord.AllowedMentions.none(),
        )
        await signals.emit("pong", interaction.id)

    @group.command(name="dm", description="Send yourself a DM")
    async def dm(interaction: discord.Interaction) -> None:
        try:
            channel = await interaction.user.create_dm()
            plan = discord.File(io.BytesIO(b"step 1: write to three labs"), filename="plan.txt")
            await channel.send("Your plan is attached.", file=plan)
        except discord.Forbidden as exc:
            await interaction.response.send_message("I cannot DM you.", ephemeral=True)
            await signals.emit("dm", exc)
            return
        await interaction.response.send_message("Check your DMs.", ephemeral=True)
        await signals.emit("dm", channel.id)

    @admin.command(name="echo", description="Echo text")
    @app_commands.describe(text="What to echo", times="How often")
    async def echo(interaction: discord.Interaction, text: str, times: int = 1) -> None:
        await interaction.response.send_message(" ".join([text] * times), ephemeral=True)
        await signals.emit("echo", text)

    return group


class SmokeBot(discord.Client):
    """A tiny bot using what the real adapter uses: a command tree, views, modals, DMs."""

    def __init__(self) -> None:
        super().__init__(intents=discord.Intents.default(), guild_ready_timeout=0.05)
        self.signals = Signals()
        self.tree = app_commands.CommandTree(self)
        self.tree.add_command(build_ping_group(self.signals))

    async def setup_hook(self) -> None:
        await self.tree.sync()

    async def on_resumed(self) -> None:
        await self.signals.emit("resumed")


# --------------------------------------------------------------------------- fixtures


@pytest.fixture(autouse=True)
def loopback_only(monkeypatch: pytest.MonkeyPatch) -> None:
    """Fail any TCP connection to a non-loopback address made during a test."""
    real_connect = socket.socket.connect
    real_connect_ex = socket.socket.connect_ex

    def check(sock: socket.socket, address: Any) -> None:
        if sock.family in (socket.AF_INET, socket.AF_INET6):
            host = address[0]
            if not ipaddress.ip_address(host).is_loopback:
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
        with server.patch_discord_py():
            yield server


@pytest.fixture
async def bot(fake: FakeDiscord) -> AsyncIterator[SmokeBot]:
    """A connected SmokeBot; on teardown asserts a clean close (no unclosed sessions)."""
    loop = asyncio.get_running_loop()
    loop_errors: list[dict[str, Any]] = []
    old_handler = loop.get_exception_handler()
    loop.set_exception_handler(lambda _loop, context: loop_errors.append(context))
    client = SmokeBot()
    task = asyncio.create_task(client.start(TOKEN))
    try:
        await fake.wait_for(kind="identify")
        await asyncio.wait_for(client.wait_until_ready(), 5)
        yield client
    finally:
        await client.close()
        await asyncio.wait_for(task, 5)
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            gc.collect()
        loop.set_exception_handler(old_handler)
    leaks = [str(w.message) for w in caught if issubclass(w.category, ResourceWarning)]
    assert leaks == []
    assert [c.get("message") for c in loop_errors] == []


def statuses(fake: FakeDiscord, method: str, path: str) -> list[int]:
    """Statuses the fake answered for one route, in order."""
    return [r.status for r in fake.requests if r.method == method and r.path == path]


def first(items: list[Any], predicate: Callable[[Any], bool]) -> Any:
    """The first item matching, or fail loudly."""
    matches = [i for i in items if predicate(i)]
    assert matches, "no item matched"
    return matches[0]


# --------------------------------------------------------------------------- tests


async def test_patch_restores_discord_endpoints() -> None:
    before = (Route.BASE, DiscordWebSocket.DEFAULT_GATEWAY)
    async with FakeDiscord() as server:
        with server.patch_discord_py():
            assert server.api_base == Route.BASE
            assert str(DiscordWebSocket.DEFAULT_GATEWAY) == server.gateway_url
        assert before == (Route.BASE, DiscordWebSocket.DEFAULT_GATEWAY)


async def test_json_content_type_and_zlib_stream_framing(fake: FakeDiscord) -> None:
    async with aiohttp.ClientSession() as http:
        headers = {"Authorization": f"Bot {TOKEN}"}
        async with http.get(f"{fake.api_base}/users/@me", headers=headers) as resp:
            assert resp.status == 200
            assert resp.headers["Content-Type"] == "application/json"
        async with http.get(f"{fake.api_base}/users/@me") as resp:
            assert resp.status == 401
            assert resp.headers["Content-Type"] == "application/json"
            assert await resp.json() == {"message": "401: Unauthorized", "code": 0}
        url = f"{fake.gateway_url}?v=10&encoding=json&compress=zlib-stream"
        async with http.ws_connect(url) as ws:
            inflate = zlib.decompressobj()
            frame = await ws.receive_bytes(timeout=5)
            assert frame.endswith(b"\x00\x00\xff\xff")
            hello = json.loads(inflate.decompress(frame))
            assert hello["op"] == 10
            assert hello["d"]["heartbeat_interval"] == fake.heartbeat_interval_ms
            await ws.send_str(json.dumps({"op": 1, "d": None}))
            ack = json.loads(inflate.decompress(await ws.receive_bytes(timeout=5)))
            assert ack["op"] == 11


async def test_login_sync_and_guild_cache(fake: FakeDiscord, bot: SmokeBot) -> None:
    paths = [(r.method, r.path, r.status) for r in fake.requests]
    assert paths[:3] == [
        ("GET", "/users/@me", 200),
        ("GET", "/oauth2/applications/@me", 200),
        ("PUT", f"/applications/{fake.application_id}/commands", 200),
    ]
    assert bot.user is not None and bot.user.id == fake.bot_id
    assert bot.application_id == fake.application_id

    (sync,) = fake.command_syncs
    (ping,) = sync["request"]
    assert ping["name"] == "ping"
    options = {o["name"]: o for o in ping["options"]}
    assert {name: o["type"] for name, o in options.items()} == {"pong": 1, "dm": 1, "admin": 2}
    assert [o["name"] for o in options["admin"]["options"]] == ["echo"]

    connect = await fake.wait_for(kind="gateway_connect")
    # discord.py asks for zstd-stream when `zstandard` is importable, else zlib-stream;
    # the fake serves both, so assert it got whatever this install requested.
    wanted = discord.utils._ActiveDecompressionContext.COMPRESSION_TYPE
    assert connect.data["query"] == {"v": "10", "encoding": "json", "compress": wanted}
    (identify,) = fake.identifies
    assert identify["intents"] == discord.Intents.default().value
    guild = bot.get_guild(fake.guild_id)
    assert guild is not None and guild.me is not None
    channel = bot.get_channel(fake.channel_id)
    assert isinstance(channel, discord.TextChannel) and channel.name == "general"
    assert fake.unhandled == []


async def test_command_button_modal_and_subcommand_group(fake: FakeDiscord, bot: SmokeBot) -> None:
    iid = await fake.inject_command("ping pong")
    pong = await fake.wait_for_callback(iid)
    assert pong.type == 4 and pong.ephemeral
    assert pong.content == "pong @everyone"
    assert pong.allowed_mentions == {"parse": []}
    assert pong.embeds[0]["title"] == "Pong"
    assert pong.custom_ids() == ["smoke:note"]
    assert pong.message is not None and pong.message.payload["mention_everyone"] is False
    await bot.signals.wait("pong")  # the view is bound once send_message has returned

    click = await fake.inject_component(pong.message.id, "smoke:note")
    modal = await fake.wait_for_callback(click)
    assert modal.type == 9
    assert modal.data is not None and modal.data["title"] == "Your note"
    await bot.signals.wait("button")  # the modal is registered once send_modal returned

    submit = await fake.inject_modal_submit(click, {"smoke:note-text": "write to three labs"})
    noted = await fake.wait_for_callback(submit)
    assert noted.content == "Noted: write to three labs"
    assert await bot.signals.wait("modal") == "write to three labs"

    echo = await fake.inject_command("ping admin echo", {"text": "hi", "times": 2})
    assert (await fake.wait_for_callback(echo)).content == "hi hi"

    in_dm = await fake.inject_command("ping pong", dm=True)
    dm_reply = await fake.wait_for_callback(in_dm)
    assert dm_reply.message is not None
    assert dm_reply.message.channel_id == int(fake.dm_channel_for(fake.user_id)["id"])
    assert fake.interaction_payload(in_dm)["context"] == 1


async def test_dm_send_and_forbidden(fake: FakeDiscord, bot: SmokeBot) -> None:
    iid = await fake.inject_command("ping dm")
    dm_channel_id = await bot.signals.wait("dm")
    assert (await fake.wait_for_callback(iid)).content == "Check your DMs."
    created = await fake.wait_for(kind="dm_channel")
    assert created.data == {"user_id": fake.user_id, "channel_id": dm_channel_id}
    (sent,) = fake.messages[dm_channel_id]
    assert sent.content == "Your plan is attached."
    assert sent.attachments[0]["filename"] == "plan.txt"
    assert sent.files[0].data == b"step 1: write to three labs"
    upload = first(fake.requests, lambda r: r.path == f"/channels/{dm_channel_id}/messages")
    assert upload.content_type == "multipart/form-data"

    bob = fake.add_user("bob")
    fake.add_member(fake.guild_id, bob)
    fake.fail_messages_to_user(bob)
    await fake.inject_command("ping dm", user_id=bob)
    exc = await bot.signals.wait("dm", index=1)
    assert isinstance(exc, discord.Forbidden)
    assert (exc.status, exc.code) == (403, 50007)
    bob_dm = int(fake.dm_channel_for(bob)["id"])
    assert fake.messages[bob_dm] == []
    assert statuses(fake, "POST", f"/channels/{bob_dm}/messages") == [403]

    carol = fake.add_user("carol")
    fake.add_member(fake.guild_id, carol)
    fake.fail_dm_channel_creation(carol)
    await fake.inject_command("ping dm", user_id=carol)
    exc = await bot.signals.wait("dm", index=2)
    assert isinstance(exc, discord.Forbidden) and exc.code == 50007


async def test_rate_limit_retry_and_enforced_nonce(fake: FakeDiscord, bot: SmokeBot) -> None:
    channel = bot.get_channel(fake.channel_id)
    assert isinstance(channel, discord.TextChannel)
    path = f"/channels/{fake.channel_id}/messages"

    fake.rate_limit_messages(1, retry_after=0.05, channel_id=fake.channel_id)
    sent = await channel.send("after a 429")
    assert statuses(fake, "POST", path) == [429, 200]
    assert [m.content for m in fake.messages[fake.channel_id]] == ["after a 429"]
    assert sent.id == fake.messages[fake.channel_id][0].id

    first_send = await channel.send("only once", nonce="crossroads-1")
    second_send = await channel.send("only once", nonce="crossroads-1")
    assert first_send.id == second_send.id
    assert [m.content for m in fake.messages[fake.channel_id]] == ["after a 429", "only once"]
    assert statuses(fake, "POST", path) == [429, 200, 200, 200]
    request = fake.requests[-1]
    assert request.json["nonce"] == "crossroads-1" and request.json["enforce_nonce"] is True


async def test_socket_drop_resumes_and_replays(fake: FakeDiscord, bot: SmokeBot) -> None:
    session_id = next(iter(fake.sessions))
    with fake.holding_resumes():
        assert await fake.drop_gateway() == 1
        queued = await fake.inject_command("ping pong")
        resume = await fake.wait_for(kind="resume")
        assert resume.data["session_id"] == session_id
    resumed = await fake.wait_for(kind="resumed")
    assert "INTERACTION_CREATE" in resumed.data["replayed"]
    await bot.signals.wait("resumed")

    replayed = await fake.wait_for_callback(queued)
    assert replayed.content == "pong @everyone"
    assert len(fake.identifies) == 1 and len(fake.resumes) == 1
    reconnect = await fake.wait_for(lambda r: r.data["index"] == 1, kind="gateway_connect")
    assert reconnect.data["path"] == "/resume"

    after = await fake.inject_command("ping pong")
    fresh = await fake.wait_for_callback(after)
    await bot.signals.wait("pong", index=1)
    assert fresh.message is not None
    click = await fake.inject_component(fresh.message.id, "smoke:note")
    assert (await fake.wait_for_callback(click)).type == 9
