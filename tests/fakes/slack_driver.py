"""Driving the real Crossroads Slack adapter (adapters/slack) against the fake Slack.

Why: the adapter tests and the benchmark all need the same few moves: start the real
SlackService (bolt AsyncApp, HTTP or Socket Mode) on a migrated database, send a slash
command or an interaction the way Slack would, and find the buttons the bot posted.
Everything is on 127.0.0.1.
"""

from __future__ import annotations

import asyncio
import contextlib
import gc
import json
import socket
import warnings
from collections.abc import AsyncIterator, Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

import pytest

from adapters.runtime import Runtime
from adapters.slack.service import SlackService
from bot.engine import Engine
from bot.settings import load_settings
from tests.fakes.slack_fake import (
    JSON,
    FakeMessage,
    SignOptions,
    SlackFake,
    loopback_only,
    post_to_app,
)

Mode = Literal["http", "socket"]
EVENTS_PATH = "/slack/events"


# ------------------------------------------------------------------------------ fixtures
# Import both into a test module (``fake_fixture, loopback_fixture``, with noqa F401);
# they register as the fixtures ``fake`` and ``loopback``.


@pytest.fixture(name="loopback", autouse=True)
def loopback_fixture(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """No proxy variables, and any connect or lookup off 127.0.0.1 fails the test."""
    for name in ("HTTPS_PROXY", "https_proxy", "HTTP_PROXY", "http_proxy"):
        monkeypatch.delenv(name, raising=False)
    with loopback_only() as refused:
        yield
    assert refused == []


@pytest.fixture(name="fake")
async def fake_fixture() -> AsyncIterator[SlackFake]:
    """A started fake Slack; fails on unclosed aiohttp sessions or destroyed pending tasks."""
    loop = asyncio.get_running_loop()
    reports: list[str] = []
    previous = loop.get_exception_handler()
    loop.set_exception_handler(lambda _loop, ctx: reports.append(str(ctx.get("message"))))
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", ResourceWarning)
        async with SlackFake() as server:
            yield server
        await asyncio.sleep(0)
        gc.collect()
    loop.set_exception_handler(previous)
    reports += [str(w.message) for w in caught if issubclass(w.category, ResourceWarning)]
    assert [r for r in reports if "Unclosed" in r or "destroyed" in r] == []


def free_port() -> int:
    """A free loopback port (settings need a fixed port; the race is harmless in tests)."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass(frozen=True)
class Ack:
    """What the app acknowledged, the same for HTTP and Socket Mode."""

    status: int
    body: JSON | str | None

    @property
    def text(self) -> str:
        if isinstance(self.body, Mapping):
            return str(self.body.get("text") or "")
        return self.body or ""

    @property
    def json(self) -> JSON | None:
        return self.body if isinstance(self.body, dict) else None


def slack_settings(
    fake: SlackFake,
    data_dir: Path,
    database_url: str,
    mode: Mode,
    *,
    oauth: bool = False,
    **overrides: Any,
) -> Any:
    values: dict[str, Any] = {
        "data_dir": data_dir,
        "database_url": database_url,
        "default_playbook": "tiny",
        "slack_signing_secret": fake.signing_secret,
        "slack_api_base": fake.base_url,
        "slack_mode": mode,
        "slack_http_host": "127.0.0.1",
        "slack_http_port": free_port(),
        "slack_client_id": "",
    }
    if mode == "socket":
        values["slack_app_token"] = fake.app_token
    if oauth:
        values.update(
            slack_client_id=fake.client_id,
            slack_client_secret=fake.client_secret,
            slack_redirect_uri=f"http://127.0.0.1:{values['slack_http_port']}/slack/oauth_redirect",
        )
    else:
        values["slack_bot_token"] = fake.bot_token
    values.update(overrides)
    return load_settings(**values)


class SlackDriver:
    """One running adapter process (SlackService) and the moves Slack makes towards it."""

    def __init__(self, fake: SlackFake, service: SlackService, rt: Runtime, mode: Mode) -> None:
        self.fake = fake
        self.service = service
        self.rt = rt
        self.mode = mode

    @property
    def events_url(self) -> str:
        assert self.service.url is not None
        return self.service.url + EVENTS_PATH

    async def command(
        self,
        text: str = "",
        *,
        user_id: str,
        team_id: str | None = None,
        channel_id: str | None = None,
        **sign: Any,
    ) -> Ack:
        payload = self.fake.payloads.slash_command(
            self.rt.settings.slack_command,
            text,
            user_id=user_id,
            team_id=team_id,
            channel_id=channel_id,
        )
        return await self.send_command(payload, **sign)

    async def send_command(self, payload: Mapping[str, str], **sign: Any) -> Ack:
        options: SignOptions = SignOptions(**sign)  # type: ignore[typeddict-item]
        if self.mode == "http":
            reply = await post_to_app(
                self.events_url, self.fake.signer.slash_command(payload, **options)
            )
            return Ack(reply.status, _http_body(reply.text, reply.headers))
        ack = await self.fake.push_slash_command(payload)
        return Ack(200, ack.payload)

    async def interact(self, payload: Mapping[str, Any], **sign: Any) -> Ack:
        options: SignOptions = SignOptions(**sign)  # type: ignore[typeddict-item]
        if self.mode == "http":
            reply = await post_to_app(
                self.events_url, self.fake.signer.interactive(payload, **options)
            )
            return Ack(reply.status, _http_body(reply.text, reply.headers))
        ack = await self.fake.push_interactive(payload)
        return Ack(200, ack.payload)

    async def event(self, payload: Mapping[str, Any], **sign: Any) -> Ack:
        """An Events API request (``event_callback``), over HTTP or the socket."""
        options: SignOptions = SignOptions(**sign)  # type: ignore[typeddict-item]
        if self.mode == "http":
            reply = await post_to_app(self.events_url, self.fake.signer.event(payload, **options))
            return Ack(reply.status, _http_body(reply.text, reply.headers))
        ack = await self.fake.push_event(payload)
        return Ack(200, ack.payload)

    async def dm(self, text: str, *, user_id: str, team_id: str | None = None) -> Ack:
        """The person types ``text`` in their DM with the bot; returns once it was handled
        (every reply posted), so the caller may look at the DM."""
        payload = self.fake.payloads.message_im(text, user_id=user_id, team_id=team_id)
        ack = await self.event(payload)
        assert await self.service.drain()
        return ack

    async def home_opened(
        self, *, user_id: str, team_id: str | None = None, tab: str = "home"
    ) -> Ack:
        """The person opens the app's Home (or Messages) tab; returns once handled."""
        team = team_id or self.fake.team.id
        user = self.fake.ensure_user(user_id, team)
        channel = self.fake.dm_channel(user.id, team) or self.fake._open_dm(team, (user.id,))[0].id
        event = {
            "type": "app_home_opened",
            "user": user.id,
            "channel": channel,
            "tab": tab,
            "event_ts": self.fake._next_ts(),
        }
        ack = await self.event(self.fake.payloads.event_callback(event, team_id=team))
        assert await self.service.drain()
        return ack

    def payload_for(
        self, message: FakeMessage, element: Mapping[str, Any], *, user_id: str, **kwargs: Any
    ) -> JSON:
        """The block_actions payload for pressing/selecting ``element`` of ``message``."""
        return self.fake.payloads.block_actions(
            str(element["action_id"]),
            user_id=user_id,
            message=message,
            block_id=str(element["_block_id"]),
            **kwargs,
        )

    async def click(
        self, message: FakeMessage, element: Mapping[str, Any], *, user_id: str, **kwargs: Any
    ) -> Ack:
        return await self.interact(self.payload_for(message, element, user_id=user_id, **kwargs))

    async def posted(self, count: int, *, team_id: str | None = None) -> FakeMessage:
        """The message made by the ``count``-th successful chat.postMessage (of a team)."""
        call = await self.fake.wait_for_call(
            "chat.postMessage",
            None if team_id is None else (lambda c: c.team_id == team_id),
            count=count,
        )
        return self.fake.message(call.response["channel"], call.response["ts"])

    async def updated(self, message: FakeMessage, count: int = 1) -> None:
        """Until ``message`` was updated (chat.update) ``count`` times."""
        await self.fake.wait_for_call(
            "chat.update", lambda c: c.params["ts"] == message.ts, count=count
        )

    async def stop(self) -> None:
        await self.service.stop()


def _http_body(text: str, headers: Mapping[str, str]) -> JSON | str | None:
    if not text:
        return None
    if headers.get("Content-Type", "").startswith("application/json"):
        return json.loads(text)  # type: ignore[no-any-return]
    return text


@contextlib.asynccontextmanager
async def running_adapter(
    fake: SlackFake,
    engine: Engine,
    settings: Any,
    mode: Mode,
    *,
    backoff: float = 0.01,
    ping_interval: float = 10.0,
) -> AsyncIterator[SlackDriver]:
    """Start the real SlackService for ``settings`` on ``engine``'s database; stop after."""
    rt = Runtime(settings, engine.db, engine)
    service = await SlackService.start(rt, backoff=backoff, ping_interval=ping_interval)
    try:
        if mode == "socket":
            await fake.wait_for_socket()
        yield SlackDriver(fake, service, rt, mode)
    finally:
        await service.stop()


# ------------------------------------------------------------------------------ messages


def elements(message: FakeMessage) -> list[JSON]:
    """Every interactive element of a stored message, with its block_id filled in."""
    out: list[JSON] = []
    for block in message.blocks:
        found: list[JSON] = []
        if block.get("type") == "actions":
            found = list(block.get("elements") or [])
        elif isinstance(block.get("accessory"), dict):
            found = [block["accessory"]]
        out += [{**e, "_block_id": block.get("block_id")} for e in found]
    return out


def find_element(
    message: FakeMessage,
    *,
    value: str | None = None,
    kind: str | None = None,
    text: str | None = None,
) -> JSON:
    """The element with this button value / element type / button text (AssertionError if none)."""
    for e in elements(message):
        if value is not None and e.get("value") != value:
            continue
        if kind is not None and e.get("type") != kind:
            continue
        if text is not None and (e.get("text") or {}).get("text") != text:
            continue
        return e
    raise AssertionError(f"no element value={value} kind={kind} text={text} in {message.blocks}")


def multi_state(message: FakeMessage, chosen: Sequence[str]) -> JSON:
    """``state.values`` of a message whose multi selects have ``chosen`` selected."""
    values: JSON = {}
    for e in elements(message):
        if e.get("type") != "multi_static_select":
            continue
        options = [o for o in e.get("options") or [] if o["value"] in chosen]
        values[str(e["_block_id"])] = {
            str(e["action_id"]): {
                "type": "multi_static_select",
                "selected_options": [{"text": o["text"], "value": o["value"]} for o in options],
            }
        }
    return values


def texts(message: FakeMessage) -> str:
    """All text of a message's blocks, for assertions."""
    parts = [message.text]
    for block in message.blocks:
        for key in ("text",):
            if isinstance(block.get(key), dict):
                parts.append(str(block[key].get("text")))
        for element in block.get("elements") or []:
            if isinstance(element, dict) and isinstance(element.get("text"), str | dict):
                t = element["text"]
                parts.append(t if isinstance(t, str) else str(t.get("text")))
            elif isinstance(element, dict) and "text" in element:
                parts.append(str(element["text"]))
    return "\n".join(parts)
