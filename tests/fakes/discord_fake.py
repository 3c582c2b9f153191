"""A protocol-faithful fake Discord (REST API + gateway websocket) on 127.0.0.1.

Why: the adapters must be tested against the *real* discord.py, and discord.py only talks
to Discord. This fake speaks the same wire protocol (v10 REST, zlib-stream gateway,
interaction callbacks and webhooks) so the real client can log in, connect, receive
interactions, answer them, send DMs, hit rate limits and resume a dropped socket, while
the test inspects everything it sent. Nothing here contacts a non-loopback address.

Usage::

    async with FakeDiscord() as fake:
        with fake.patch_discord_py():
            client = discord.Client(intents=discord.Intents.default())
            ...
            iid = await fake.inject_command("ping pong")
            callback = await fake.wait_for_callback(iid)
"""

from __future__ import annotations

import asyncio
import contextlib
import copy
import datetime as dt
import importlib
import ipaddress
import json
import math
import mimetypes
import re
import secrets
import time
import zlib
from collections import defaultdict
from collections.abc import Awaitable, Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import yarl
from aiohttp import BodyPartReader, WSMsgType, web
from discord.gateway import DiscordWebSocket
from discord.http import Route

Json = dict[str, Any]

DISCORD_EPOCH_MS = 1_420_070_400_000
API_VERSION = 10
JSON_CONTENT_TYPE = "application/json"
ATTACHMENT_SIZE_LIMIT = 10 * 1024 * 1024

# Gateway intents (https://discord.com/developers/docs/events/gateway#gateway-intents).
INTENT_GUILDS = 1 << 0
INTENT_GUILD_MEMBERS = 1 << 1
INTENT_GUILD_PRESENCES = 1 << 8
INTENT_GUILD_MESSAGES = 1 << 9
INTENT_DIRECT_MESSAGES = 1 << 12
INTENT_MESSAGE_CONTENT = 1 << 15
PRIVILEGED_INTENTS = INTENT_GUILD_MEMBERS | INTENT_GUILD_PRESENCES | INTENT_MESSAGE_CONTENT

# Permission bits used by the fake's permission maths.
P_CREATE_INSTANT_INVITE = 1 << 0
P_ADMINISTRATOR = 1 << 3
P_ADD_REACTIONS = 1 << 6
P_VIEW_CHANNEL = 1 << 10
P_SEND_MESSAGES = 1 << 11
P_MANAGE_MESSAGES = 1 << 13
P_EMBED_LINKS = 1 << 14
P_ATTACH_FILES = 1 << 15
P_READ_MESSAGE_HISTORY = 1 << 16
P_MENTION_EVERYONE = 1 << 17
P_USE_EXTERNAL_EMOJIS = 1 << 18
P_CONNECT = 1 << 20
P_SPEAK = 1 << 21
P_CHANGE_NICKNAME = 1 << 26
P_USE_APPLICATION_COMMANDS = 1 << 31
P_CREATE_PUBLIC_THREADS = 1 << 35
P_SEND_MESSAGES_IN_THREADS = 1 << 38
P_USE_EXTERNAL_APPS = 1 << 50
ALL_PERMISSIONS = (1 << 51) - 1

EVERYONE_PERMISSIONS = (
    P_CREATE_INSTANT_INVITE
    | P_ADD_REACTIONS
    | P_VIEW_CHANNEL
    | P_SEND_MESSAGES
    | P_EMBED_LINKS
    | P_ATTACH_FILES
    | P_READ_MESSAGE_HISTORY
    | P_USE_EXTERNAL_EMOJIS
    | P_CONNECT
    | P_SPEAK
    | P_CHANGE_NICKNAME
    | P_USE_APPLICATION_COMMANDS
    | P_CREATE_PUBLIC_THREADS
    | P_SEND_MESSAGES_IN_THREADS
    | P_USE_EXTERNAL_APPS
)
# Includes MENTION_EVERYONE on purpose: an unsafe echo of "@everyone" then shows up as
# mention_everyone=True, so tests about "never ping others" are not passed by accident.
DEFAULT_BOT_PERMISSIONS = (
    P_VIEW_CHANNEL
    | P_SEND_MESSAGES
    | P_EMBED_LINKS
    | P_ATTACH_FILES
    | P_READ_MESSAGE_HISTORY
    | P_ADD_REACTIONS
    | P_USE_EXTERNAL_EMOJIS
    | P_MENTION_EVERYONE
    | P_SEND_MESSAGES_IN_THREADS
    | P_USE_APPLICATION_COMMANDS
)
DM_PERMISSIONS = (
    P_ADD_REACTIONS
    | P_VIEW_CHANNEL
    | P_SEND_MESSAGES
    | P_EMBED_LINKS
    | P_ATTACH_FILES
    | P_READ_MESSAGE_HISTORY
    | P_MENTION_EVERYONE
    | P_USE_EXTERNAL_EMOJIS
    | P_USE_APPLICATION_COMMANDS
)

# Message flags.
FLAG_SUPPRESS_EMBEDS = 1 << 2
FLAG_EPHEMERAL = 1 << 6
FLAG_LOADING = 1 << 7
FLAG_SUPPRESS_NOTIFICATIONS = 1 << 12
FLAG_COMPONENTS_V2 = 1 << 15
_SENDABLE_FLAGS = (
    FLAG_SUPPRESS_EMBEDS | FLAG_EPHEMERAL | FLAG_SUPPRESS_NOTIFICATIONS | FLAG_COMPONENTS_V2
)

# Application flags a small verified-intents bot reports (presence/members/content limited).
DEFAULT_APPLICATION_FLAGS = (1 << 13) | (1 << 15) | (1 << 19) | (1 << 23)

# Interaction types and callback types.
IT_PING, IT_COMMAND, IT_COMPONENT, IT_AUTOCOMPLETE, IT_MODAL_SUBMIT = 1, 2, 3, 4, 5
CB_MESSAGE, CB_DEFERRED_MESSAGE, CB_DEFERRED_UPDATE, CB_UPDATE = 4, 5, 6, 7
CB_AUTOCOMPLETE, CB_MODAL = 8, 9
_VALID_CALLBACKS: dict[int, frozenset[int]] = {
    IT_COMMAND: frozenset({CB_MESSAGE, CB_DEFERRED_MESSAGE, CB_MODAL}),
    IT_COMPONENT: frozenset(
        {CB_MESSAGE, CB_DEFERRED_MESSAGE, CB_DEFERRED_UPDATE, CB_UPDATE, CB_MODAL}
    ),
    IT_AUTOCOMPLETE: frozenset({CB_AUTOCOMPLETE}),
    IT_MODAL_SUBMIT: frozenset({CB_MESSAGE, CB_DEFERRED_MESSAGE, CB_DEFERRED_UPDATE, CB_UPDATE}),
}

# Component types.
C_ACTION_ROW, C_BUTTON, C_STRING_SELECT, C_TEXT_INPUT = 1, 2, 3, 4
C_USER_SELECT, C_ROLE_SELECT, C_MENTIONABLE_SELECT, C_CHANNEL_SELECT = 5, 6, 7, 8
C_TEXT_DISPLAY, C_LABEL = 10, 18
SELECT_TYPES = frozenset(
    {C_STRING_SELECT, C_USER_SELECT, C_ROLE_SELECT, C_MENTIONABLE_SELECT, C_CHANNEL_SELECT}
)

_USER_MENTION = re.compile(r"<@!?(\d{15,21})>")
_ROLE_MENTION = re.compile(r"<@&(\d{15,21})>")
_COMMAND_NAME = re.compile(r"[-_'\w]{1,32}")
_TRACE = ['["gateway-prd-fake-0",{"micros":0}]']


# --------------------------------------------------------------------------- ids & times


class SnowflakeGenerator:
    """Mints strictly increasing snowflakes from the wall clock, so ids sort and carry time."""

    def __init__(self, worker_id: int = 1, process_id: int = 0) -> None:
        self._worker = worker_id & 0x1F
        self._process = process_id & 0x1F
        self._last_ms = 0
        self._increment = 0

    def next(self) -> int:
        """Return a new snowflake, later than every previous one."""
        now = int(time.time() * 1000) - DISCORD_EPOCH_MS
        if now <= self._last_ms:
            now = self._last_ms
            self._increment += 1
            if self._increment > 0xFFF:
                now += 1
                self._increment = 0
        else:
            self._increment = 0
        self._last_ms = now
        return (now << 22) | (self._worker << 17) | (self._process << 12) | self._increment

    @staticmethod
    def created_at(snowflake: int) -> dt.datetime:
        """The creation time Discord encodes in a snowflake."""
        ms = (snowflake >> 22) + DISCORD_EPOCH_MS
        return dt.datetime.fromtimestamp(ms / 1000, tz=dt.UTC)


def _iso(snowflake: int) -> str:
    """ISO-8601 timestamp for a snowflake, as Discord writes message timestamps."""
    return SnowflakeGenerator.created_at(snowflake).isoformat()


def _now_iso() -> str:
    """Current time in Discord's timestamp format."""
    return dt.datetime.now(tz=dt.UTC).isoformat()


# --------------------------------------------------------------------------- records


@dataclass
class RecordedFile:
    """One file part of a multipart request, kept so tests can assert on uploads."""

    field: str
    filename: str | None
    content_type: str | None
    data: bytes


@dataclass(eq=False)
class RecordedRequest:
    """One REST request as the fake received it, plus what the fake answered."""

    method: str
    path: str
    query: dict[str, str]
    json: Any
    files: list[RecordedFile]
    authorized: bool
    content_type: str | None = None
    status: int = 0
    response: Any = None
    fault: str | None = None


def _walk_components(components: Sequence[Json]) -> Iterator[Json]:
    """Yield every component, depth first, including nested rows/containers/labels."""
    for comp in components:
        yield comp
        children: list[Json] = list(comp.get("components") or [])
        for key in ("component", "accessory"):
            if isinstance(comp.get(key), dict):
                children.append(comp[key])
        yield from _walk_components(children)


@dataclass(eq=False)
class FakeMessage:
    """A message the fake holds; ``payload`` is exactly the Discord object it serves."""

    payload: Json
    source: str
    request: Json | None
    files: list[RecordedFile]
    interaction_id: str | None = None
    deleted: bool = False
    edits: list[Json] = field(default_factory=list)

    @property
    def id(self) -> int:
        """Message id as int."""
        return int(self.payload["id"])

    @property
    def channel_id(self) -> int:
        """Channel id as int."""
        return int(self.payload["channel_id"])

    @property
    def content(self) -> str:
        """Current content."""
        return str(self.payload["content"])

    @property
    def embeds(self) -> list[Json]:
        """Current embeds."""
        return list(self.payload["embeds"])

    @property
    def components(self) -> list[Json]:
        """Current components."""
        return list(self.payload["components"])

    @property
    def flags(self) -> int:
        """Current message flags."""
        return int(self.payload["flags"])

    @property
    def ephemeral(self) -> bool:
        """Whether only the invoking user sees it."""
        return bool(self.flags & FLAG_EPHEMERAL)

    @property
    def author_id(self) -> int:
        """Author user id."""
        return int(self.payload["author"]["id"])

    @property
    def attachments(self) -> list[Json]:
        """Current attachments."""
        return list(self.payload["attachments"])

    @property
    def allowed_mentions(self) -> Json | None:
        """The allowed_mentions the bot last sent for this message (None if never sent)."""
        for body in reversed([*([self.request] if self.request else []), *self.edits]):
            if "allowed_mentions" in body:
                return body["allowed_mentions"]
        return None

    def custom_ids(self) -> list[str]:
        """Every custom_id on the message's components."""
        return [c["custom_id"] for c in _walk_components(self.components) if "custom_id" in c]

    def find_component(self, custom_id: str) -> Json | None:
        """The component with this custom_id, if any."""
        for comp in _walk_components(self.components):
            if comp.get("custom_id") == custom_id:
                return comp
        return None


@dataclass(eq=False)
class FakeCallback:
    """One interaction callback (initial response) the bot sent."""

    interaction_id: str
    interaction_type: int
    type: int
    data: Json | None
    files: list[RecordedFile]
    response: Json | None
    message: FakeMessage | None = None

    @property
    def content(self) -> str | None:
        """Content of a message response (None if the callback carried none)."""
        return None if self.data is None else self.data.get("content")

    @property
    def flags(self) -> int:
        """Flags sent with the response."""
        return int((self.data or {}).get("flags") or 0)

    @property
    def ephemeral(self) -> bool:
        """Whether the response was ephemeral."""
        return bool(self.flags & FLAG_EPHEMERAL)

    @property
    def components(self) -> list[Json]:
        """Components sent with the response (or the modal's components)."""
        return list((self.data or {}).get("components") or [])

    @property
    def embeds(self) -> list[Json]:
        """Embeds sent with the response."""
        return list((self.data or {}).get("embeds") or [])

    @property
    def allowed_mentions(self) -> Json | None:
        """allowed_mentions sent with the response."""
        return (self.data or {}).get("allowed_mentions")

    def custom_ids(self) -> list[str]:
        """Every custom_id in the response's components."""
        return [c["custom_id"] for c in _walk_components(self.components) if "custom_id" in c]


@dataclass(eq=False)
class FakeRecord:
    """One entry of the fake's journal; ``kind`` says what ``data`` is.

    ``at`` is ``time.perf_counter()`` when it was recorded (for latency benchmarks).
    """

    kind: str
    data: Any
    index: int
    at: float = field(default_factory=time.perf_counter)


@dataclass(eq=False)
class Fault:
    """An injected REST failure; ``times=None`` means it answers every matching request."""

    name: str
    method: str
    path: re.Pattern[str]
    status: int
    body: Json | None
    headers: dict[str, str]
    times: int | None
    when: Callable[[RecordedRequest], bool] | None = None
    hits: int = 0

    def matches(self, request: RecordedRequest) -> bool:
        """Whether this fault should answer the request."""
        if self.times is not None and self.hits >= self.times:
            return False
        if self.method not in ("*", request.method):
            return False
        if not self.path.fullmatch(request.path):
            return False
        return self.when is None or self.when(request)


@dataclass(eq=False)
class FakeGuild:
    """A guild the bot is in; the pieces are served in GUILD_CREATE and over REST."""

    id: int
    data: Json
    roles: list[Json]
    channels: list[Json]
    members: dict[int, Json]
    joined_at: str


@dataclass(eq=False)
class GatewaySession:
    """A gateway session; it outlives its socket so RESUME can replay missed events."""

    session_id: str
    intents: int
    shard: tuple[int, int]
    identify: Json
    seq: int = 0
    log: list[Json] = field(default_factory=list)
    conn: _Conn | None = None
    lock: asyncio.Lock = field(default_factory=asyncio.Lock)
    invalidated: bool = False


@dataclass(eq=False)
class _Conn:
    """One gateway websocket connection with its own compression stream."""

    index: int
    ws: web.WebSocketResponse
    transport: asyncio.BaseTransport | None
    path: str
    query: dict[str, str]
    compressor: Callable[[bytes], bytes] | None
    send_lock: asyncio.Lock = field(default_factory=asyncio.Lock)
    session: GatewaySession | None = None
    closed: bool = False
    dropped: bool = False
    sent: list[Json] = field(default_factory=list)

    async def send(self, payload: Json) -> None:
        """Send one gateway payload, compressed exactly as the client asked."""
        text = json.dumps(payload, separators=(",", ":"), ensure_ascii=False)
        async with self.send_lock:
            if self.closed or self.ws.closed:
                raise ConnectionResetError("gateway connection is closed")
            if self.compressor is not None:
                await self.ws.send_bytes(self.compressor(text.encode()))
            else:
                await self.ws.send_str(text)
            self.sent.append(payload)


@dataclass(eq=False)
class _Interaction:
    """Server-side state of one interaction (token, window, what it answered)."""

    id: int
    token: str
    type: int
    payload: Json
    channel_id: int
    guild_id: int | None
    user_id: int
    created: float
    command_name: str | None = None
    source_message_id: int | None = None
    source_interaction_id: int | None = None
    response_type: int | None = None
    original_message_id: int | None = None
    modal: Json | None = None
    followup_ids: list[int] = field(default_factory=list)


class _HTTPError(Exception):
    """Raised by handlers to answer with a Discord-shaped JSON error."""

    def __init__(
        self,
        status: int,
        code: int,
        message: str,
        errors: Json | None = None,
        headers: dict[str, str] | None = None,
    ) -> None:
        super().__init__(message)
        self.status = status
        self.body: Json = {"message": message, "code": code}
        if errors:
            self.body["errors"] = errors
        self.headers = headers or {}


def _form_error(errors: Json) -> _HTTPError:
    """Discord's 50035 Invalid Form Body error."""
    return _HTTPError(400, 50035, "Invalid Form Body", errors)


def _add_error(errors: Json, path: Sequence[str | int], code: str, message: str) -> None:
    """Add an error at a nested path in Discord's error-tree format."""
    node = errors
    for key in path:
        node = node.setdefault(str(key), {})
    node.setdefault("_errors", []).append({"code": code, "message": message})


@dataclass(frozen=True)
class _Route:
    method: str
    pattern: re.Pattern[str]
    handler: Callable[..., Awaitable[tuple[int, Any]]]
    auth: bool


# --------------------------------------------------------------------------- validation


def _validate_interactive(comp: Json, path: list[str | int], seen: set[str], errors: Json) -> None:
    """Check one button/select/text input against Discord's documented limits."""
    ctype = comp.get("type")
    custom_id = comp.get("custom_id")
    if ctype == C_BUTTON:
        style = comp.get("style")
        if style == 5:
            if not comp.get("url") or custom_id is not None:
                _add_error(errors, path, "BUTTON_COMPONENT_INVALID_URL", "Link buttons need a url")
        elif style == 6:
            if not comp.get("sku_id"):
                _add_error(errors, path, "BUTTON_COMPONENT_SKU_ID_REQUIRED", "SKU id required")
        elif custom_id is None:
            _add_error(errors, path, "BUTTON_COMPONENT_CUSTOM_ID_REQUIRED", "Custom id required")
        if len(comp.get("label") or "") > 80:
            _add_error(
                errors, [*path, "label"], "BASE_TYPE_MAX_LENGTH", "Must be 80 or fewer in length."
            )
    elif ctype in SELECT_TYPES:
        if custom_id is None:
            _add_error(errors, path, "BASE_TYPE_REQUIRED", "This field is required")
        options = comp.get("options") or []
        if ctype == C_STRING_SELECT and not 1 <= len(options) <= 25:
            _add_error(
                errors, [*path, "options"], "BASE_TYPE_BAD_LENGTH", "Must be between 1 and 25."
            )
        min_v, max_v = comp.get("min_values", 1), comp.get("max_values", 1)
        if not (0 <= min_v <= 25 and 1 <= max_v <= 25 and min_v <= max_v):
            _add_error(errors, path, "SELECT_COMPONENT_INVALID_VALUES", "Invalid min/max values")
        if ctype == C_STRING_SELECT and options and max_v > len(options):
            _add_error(errors, path, "SELECT_COMPONENT_MAX_VALUES", "max_values exceeds options")
    if custom_id is not None:
        if not isinstance(custom_id, str) or not 1 <= len(custom_id) <= 100:
            _add_error(
                errors, [*path, "custom_id"], "BASE_TYPE_BAD_LENGTH", "Must be between 1 and 100."
            )
        elif custom_id in seen:
            _add_error(
                errors,
                [*path, "custom_id"],
                "COMPONENT_CUSTOM_ID_DUPLICATED",
                "Component custom id cannot be duplicated",
            )
        else:
            seen.add(custom_id)


def _validate_components(components: Sequence[Json], *, v2: bool, errors: Json) -> None:
    """Check message components: rows, widths, counts, custom_ids."""
    seen: set[str] = set()
    if v2:
        total = sum(1 for _ in _walk_components(components))
        if total > 40:
            _add_error(errors, ["components"], "BASE_TYPE_MAX_LENGTH", "Must be 40 or fewer.")
        for i, comp in enumerate(_walk_components(components)):
            _validate_interactive(comp, ["components", i], seen, errors)
        return
    if len(components) > 5:
        _add_error(errors, ["components"], "BASE_TYPE_MAX_LENGTH", "Must be 5 or fewer in length.")
    for i, row in enumerate(components):
        if row.get("type") != C_ACTION_ROW:
            _add_error(
                errors,
                ["components", i, "type"],
                "UNION_TYPE_CHOICES",
                "Top-level components must be action rows without the components v2 flag",
            )
            continue
        children = row.get("components") or []
        if not children:
            _add_error(
                errors,
                ["components", i, "components"],
                "BASE_TYPE_MIN_LENGTH",
                "Must be 1 or more.",
            )
        has_select = any(c.get("type") in SELECT_TYPES for c in children)
        if len(children) > 5 or (has_select and len(children) > 1):
            _add_error(
                errors,
                ["components", i, "components"],
                "COMPONENT_LAYOUT_WIDTH_EXCEEDED",
                "The specified component exceeds the maximum width",
            )
        for j, comp in enumerate(children):
            _validate_interactive(comp, ["components", i, "components", j], seen, errors)


def _validate_embeds(embeds: Sequence[Json], errors: Json) -> None:
    """Check embed counts and text limits, including the 6000-character total."""
    if len(embeds) > 10:
        _add_error(errors, ["embeds"], "BASE_TYPE_MAX_LENGTH", "Must be 10 or fewer in length.")
    total = 0
    limits = {"title": 256, "description": 4096}
    for i, embed in enumerate(embeds):
        for key, limit in limits.items():
            text = embed.get(key) or ""
            total += len(text)
            if len(text) > limit:
                _add_error(
                    errors,
                    ["embeds", i, key],
                    "BASE_TYPE_MAX_LENGTH",
                    f"Must be {limit} or fewer in length.",
                )
        fields = embed.get("fields") or []
        if len(fields) > 25:
            _add_error(
                errors, ["embeds", i, "fields"], "BASE_TYPE_MAX_LENGTH", "Must be 25 or fewer."
            )
        for j, fld in enumerate(fields):
            name, value = fld.get("name") or "", fld.get("value") or ""
            total += len(name) + len(value)
            if len(name) > 256 or len(value) > 1024:
                _add_error(
                    errors, ["embeds", i, "fields", j], "BASE_TYPE_MAX_LENGTH", "Field too long."
                )
        footer = (embed.get("footer") or {}).get("text") or ""
        author = (embed.get("author") or {}).get("name") or ""
        total += len(footer) + len(author)
        if len(footer) > 2048 or len(author) > 256:
            _add_error(errors, ["embeds", i], "BASE_TYPE_MAX_LENGTH", "Footer/author too long.")
    if total > 6000:
        _add_error(
            errors, ["embeds"], "MAX_EMBED_SIZE_EXCEEDED", "Embed size exceeds maximum size of 6000"
        )


def _validate_message_body(body: Json) -> Json:
    """Validate a message create/edit body; returns Discord's error tree (empty if fine)."""
    errors: Json = {}
    content = body.get("content")
    if content is not None and not isinstance(content, str):
        _add_error(errors, ["content"], "STRING_TYPE_CONVERT", "Could not interpret as string.")
    elif content and len(content) > 2000:
        _add_error(errors, ["content"], "BASE_TYPE_MAX_LENGTH", "Must be 2000 or fewer in length.")
    if body.get("embeds"):
        _validate_embeds(body["embeds"], errors)
    flags = int(body.get("flags") or 0)
    if body.get("components"):
        _validate_components(body["components"], v2=bool(flags & FLAG_COMPONENTS_V2), errors=errors)
    if flags & FLAG_COMPONENTS_V2 and (content or body.get("embeds")):
        _add_error(
            errors,
            ["content"],
            "MESSAGE_CANNOT_USE_LEGACY_FIELDS_WITH_COMPONENTS_V2",
            "The 'content' and 'embeds' fields cannot be used with the components v2 flag",
        )
    nonce = body.get("nonce")
    if isinstance(nonce, str) and len(nonce) > 25:
        _add_error(errors, ["nonce"], "BASE_TYPE_MAX_LENGTH", "Must be 25 or fewer in length.")
    allowed = body.get("allowed_mentions")
    if isinstance(allowed, dict):
        parse = allowed.get("parse") or []
        for kind in ("users", "roles"):
            if kind in parse and allowed.get(kind):
                _add_error(
                    errors,
                    ["allowed_mentions"],
                    "MESSAGE_ALLOWED_MENTIONS_PARSE_EXCLUSIVE",
                    f'parse:["{kind}"] and {kind}: [ids...] are mutually exclusive.',
                )
            if len(allowed.get(kind) or []) > 100:
                _add_error(
                    errors,
                    ["allowed_mentions", kind],
                    "BASE_TYPE_MAX_LENGTH",
                    "Must be 100 or fewer.",
                )
    return errors


def _validate_modal(data: Json) -> Json:
    """Validate a MODAL callback's data against Discord's modal limits."""
    errors: Json = {}
    custom_id = data.get("custom_id")
    if not isinstance(custom_id, str) or not 1 <= len(custom_id) <= 100:
        _add_error(
            errors, ["data", "custom_id"], "BASE_TYPE_BAD_LENGTH", "Must be between 1 and 100."
        )
    title = data.get("title")
    if not isinstance(title, str) or not 1 <= len(title) <= 45:
        _add_error(errors, ["data", "title"], "BASE_TYPE_BAD_LENGTH", "Must be between 1 and 45.")
    components = data.get("components") or []
    if not 1 <= len(components) <= 5:
        _add_error(
            errors, ["data", "components"], "BASE_TYPE_BAD_LENGTH", "Must be between 1 and 5."
        )
    seen: set[str] = set()
    for i, comp in enumerate(_walk_components(components)):
        path: list[str | int] = ["data", "components", i]
        if comp.get("type") == C_TEXT_INPUT:
            if comp.get("style") not in (1, 2):
                _add_error(errors, [*path, "style"], "BASE_TYPE_CHOICES", "Must be 1 or 2.")
            if len(comp.get("label") or "") > 45:
                _add_error(errors, [*path, "label"], "BASE_TYPE_MAX_LENGTH", "Must be 45 or fewer.")
            if int(comp.get("max_length") or 4000) > 4000:
                _add_error(
                    errors, [*path, "max_length"], "NUMBER_TYPE_MAX", "Must be 4000 or less."
                )
        if comp.get("type") == C_LABEL and len(comp.get("label") or "") > 45:
            _add_error(errors, [*path, "label"], "BASE_TYPE_MAX_LENGTH", "Must be 45 or fewer.")
        if "custom_id" in comp:
            _validate_interactive(comp, path, seen, errors)
    return errors


def _validate_options(
    options: Sequence[Json], path: list[str | int], depth: int, errors: Json
) -> None:
    """Check application command options: names, descriptions, nesting, required order."""
    if len(options) > 25:
        _add_error(errors, path, "BASE_TYPE_MAX_LENGTH", "Must be 25 or fewer in length.")
    names: set[str] = set()
    seen_optional = False
    kinds = {o.get("type") in (1, 2) for o in options}
    if len(kinds) > 1:
        _add_error(
            errors,
            path,
            "APPLICATION_COMMAND_OPTIONS_TYPE_INVALID",
            "Subcommands cannot be mixed with other options",
        )
    for i, opt in enumerate(options):
        opath = [*path, i]
        name, otype = opt.get("name", ""), opt.get("type")
        if not _COMMAND_NAME.fullmatch(name) or name != name.lower():
            _add_error(errors, [*opath, "name"], "APPLICATION_COMMAND_INVALID_NAME", "Invalid name")
        if name in names:
            _add_error(
                errors, [*opath, "name"], "APPLICATION_COMMAND_OPTIONS_NAME_ALREADY_EXISTS", "Dup"
            )
        names.add(name)
        if not 1 <= len(opt.get("description") or "") <= 100:
            _add_error(
                errors,
                [*opath, "description"],
                "BASE_TYPE_BAD_LENGTH",
                "Must be between 1 and 100.",
            )
        if otype not in range(1, 12):
            _add_error(errors, [*opath, "type"], "BASE_TYPE_CHOICES", "Invalid option type")
        if otype == 2 and depth > 0:
            _add_error(
                errors, [*opath, "type"], "APPLICATION_COMMAND_OPTION_TYPE_INVALID", "Nesting"
            )
        if otype == 1 and depth > 1:
            _add_error(
                errors, [*opath, "type"], "APPLICATION_COMMAND_OPTION_TYPE_INVALID", "Nesting"
            )
        if otype in (1, 2):
            sub = opt.get("options") or []
            if otype == 2 and (not sub or any(s.get("type") != 1 for s in sub)):
                _add_error(
                    errors, [*opath, "options"], "APPLICATION_COMMAND_OPTION_TYPE_INVALID", "Group"
                )
            _validate_options(sub, [*opath, "options"], depth + 1, errors)
            continue
        if opt.get("required"):
            if seen_optional:
                _add_error(
                    errors,
                    [*opath, "required"],
                    "APPLICATION_COMMAND_OPTIONS_REQUIRED_INVALID",
                    "Required options must be placed before non-required options",
                )
        else:
            seen_optional = True
        if len(opt.get("choices") or []) > 25:
            _add_error(errors, [*opath, "choices"], "BASE_TYPE_MAX_LENGTH", "Must be 25 or fewer.")


def _validate_commands(commands: Any) -> Json:
    """Validate a bulk-overwrite PUT body."""
    errors: Json = {}
    if not isinstance(commands, list):
        _add_error(errors, [], "LIST_TYPE_CONVERT", "Must be an array.")
        return errors
    limits = {1: 100, 2: 15, 3: 15}
    counts: dict[int, int] = defaultdict(int)
    keys: set[tuple[str, int]] = set()
    for i, cmd in enumerate(commands):
        ctype = int(cmd.get("type", 1))
        counts[ctype] += 1
        name = cmd.get("name", "")
        if ctype == 1 and (not _COMMAND_NAME.fullmatch(name) or name != name.lower()):
            _add_error(errors, [i, "name"], "APPLICATION_COMMAND_INVALID_NAME", "Invalid name")
        if not 1 <= len(name) <= 32:
            _add_error(errors, [i, "name"], "BASE_TYPE_BAD_LENGTH", "Must be between 1 and 32.")
        if (name, ctype) in keys:
            _add_error(errors, [i, "name"], "APPLICATION_COMMANDS_DUPLICATE_NAME", "Duplicate name")
        keys.add((name, ctype))
        description = cmd.get("description") or ""
        if ctype == 1 and not 1 <= len(description) <= 100:
            _add_error(
                errors, [i, "description"], "BASE_TYPE_BAD_LENGTH", "Must be between 1 and 100."
            )
        if ctype != 1 and description:
            _add_error(errors, [i, "description"], "BASE_TYPE_MAX_LENGTH", "Must be empty.")
        _validate_options(cmd.get("options") or [], [i, "options"], 0, errors)
    for ctype, count in counts.items():
        if count > limits.get(ctype, 100):
            _add_error(
                errors, [], "APPLICATION_COMMANDS_TOO_MANY", f"Too many type {ctype} commands"
            )
    return errors


def _number_components(components: Sequence[Json]) -> list[Json]:
    """Copy components and give each a numeric ``id`` as Discord does when none was sent."""
    out = copy.deepcopy(list(components))
    used = {c["id"] for c in _walk_components(out) if isinstance(c.get("id"), int)}
    next_id = 1
    for comp in _walk_components(out):
        if not isinstance(comp.get("id"), int):
            while next_id in used:
                next_id += 1
            comp["id"] = next_id
            used.add(next_id)
    return out


def _zstd_compressor() -> Callable[[bytes], bytes]:
    """A per-connection zstd stream flushed per message (for zstd-stream clients)."""
    try:
        zstandard = importlib.import_module("zstandard")
    except ImportError:
        zstd = importlib.import_module("compression.zstd")
        comp = zstd.ZstdCompressor()
        mode = zstd.ZstdCompressor.FLUSH_BLOCK
        return lambda data: comp.compress(data, mode=mode)
    stream = zstandard.ZstdCompressor().compressobj()
    flush_block = zstandard.COMPRESSOBJ_FLUSH_BLOCK
    return lambda data: stream.compress(data) + stream.flush(flush_block)


def _zlib_compressor() -> Callable[[bytes], bytes]:
    """One zlib stream per connection, each message ending in a Z_SYNC_FLUSH (00 00 ff ff)."""
    comp = zlib.compressobj()
    return lambda data: comp.compress(data) + comp.flush(zlib.Z_SYNC_FLUSH)


# --------------------------------------------------------------------------- the fake


class FakeDiscord:
    """Fake Discord REST API + gateway on 127.0.0.1, for driving the real discord.py.

    Why: tests need the real library's behaviour (rate-limit retries, view binding,
    resume) without the internet. Configure the world (users, guilds) before the client
    connects; inject interactions and faults during the test; assert on the journal.
    """

    def __init__(
        self,
        *,
        token: str = "fake-bot-token",
        bot_username: str = "Crossroads",
        heartbeat_interval_ms: int = 41_250,
        interaction_response_window: float = 3.0,
        interaction_token_lifetime: float = 15 * 60.0,
        nonce_window: float = 300.0,
        privileged_intents: int = PRIVILEGED_INTENTS,
        bot_permissions: int = DEFAULT_BOT_PERMISSIONS,
        recommended_shards: int = 1,
        host: str = "127.0.0.1",
    ) -> None:
        if not ipaddress.ip_address(host).is_loopback:
            raise ValueError("the fake only listens on loopback")
        self.host = host
        self.port = 0
        self.token = token
        self.heartbeat_interval_ms = heartbeat_interval_ms
        self.interaction_response_window = interaction_response_window
        self.interaction_token_lifetime = interaction_token_lifetime
        self.nonce_window = nonce_window
        self.privileged_intents = privileged_intents
        self.recommended_shards = recommended_shards
        self.application_flags = DEFAULT_APPLICATION_FLAGS
        self.snowflakes = SnowflakeGenerator()

        # World.
        self.users: dict[int, Json] = {}
        self.locales: dict[int, str] = {}
        self.guilds: dict[int, FakeGuild] = {}
        self.channels: dict[int, Json] = {}
        self.dm_channels: dict[int, int] = {}

        # What the bot did.
        self.journal: list[FakeRecord] = []
        self.requests: list[RecordedRequest] = []
        self.unhandled: list[RecordedRequest] = []
        self.messages: defaultdict[int, list[FakeMessage]] = defaultdict(list)
        self.callbacks: list[FakeCallback] = []
        self.global_commands: list[Json] = []
        self.guild_commands: dict[int, list[Json]] = {}
        self.command_syncs: list[Json] = []
        self.identifies: list[Json] = []
        self.resumes: list[Json] = []
        self.gateway_received: list[Json] = []
        self.heartbeats = 0
        self.faults: list[Fault] = []
        self.sessions: dict[str, GatewaySession] = {}

        self._messages_by_id: dict[int, FakeMessage] = {}
        self._nonces: dict[tuple[int, int, str], tuple[FakeMessage, float]] = {}
        self._interactions: dict[int, _Interaction] = {}
        self._tokens: dict[str, _Interaction] = {}
        self._attachment_data: dict[int, tuple[str, bytes]] = {}
        self._conns: list[_Conn] = []
        self._waiters: list[tuple[Callable[[FakeRecord], bool], asyncio.Future[FakeRecord]]] = []
        self._resume_gate = asyncio.Event()
        self._resume_gate.set()
        self._runner: web.AppRunner | None = None
        self._routes = self._build_routes()

        # Default world: the bot (its user id is also the application id), a guild owner,
        # one ordinary member, and a guild with two text channels.
        self.bot_id = self.add_user(bot_username, bot=True, discriminator="4821")
        self.application_id = self.bot_id
        self.bot_permissions = bot_permissions
        self.owner_id = self.add_user("guild-owner", global_name="Guild Owner")
        self.user_id = self.add_user("alice", global_name="Alice")
        self.guild_id = self.add_guild(
            "Crossroads Test Guild",
            owner_id=self.owner_id,
            channels=("general", "career-advice"),
            member_ids=(self.user_id,),
        )
        self.channel_id = int(self.guilds[self.guild_id].channels[0]["id"])

    # ------------------------------------------------------------------ lifecycle

    @property
    def http_base(self) -> str:
        """Origin of the fake, e.g. http://127.0.0.1:PORT."""
        return f"http://{self.host}:{self.port}"

    @property
    def api_base(self) -> str:
        """Value for ``discord.http.Route.BASE``."""
        return f"{self.http_base}/api/v{API_VERSION}"

    @property
    def gateway_url(self) -> str:
        """Value for ``DiscordWebSocket.DEFAULT_GATEWAY`` (a path ending in '/')."""
        return f"ws://{self.host}:{self.port}/gateway/"

    @property
    def resume_gateway_url(self) -> str:
        """URL READY announces for resuming; distinct so tests can see it was used."""
        return f"ws://{self.host}:{self.port}/resume"

    async def start(self) -> None:
        """Bind an ephemeral port on loopback and serve REST + gateway."""
        app = web.Application(client_max_size=32 * 1024 * 1024)
        for path in ("/gateway", "/gateway/", "/resume", "/resume/"):
            app.router.add_route("GET", path, self._gateway_entry)
        app.router.add_route("*", "/{tail:.*}", self._http_entry)
        self._runner = web.AppRunner(app, access_log=None, shutdown_timeout=2.0)
        await self._runner.setup()
        site = web.TCPSite(self._runner, self.host, 0)
        await site.start()
        self.port = int(self._runner.addresses[0][1])

    async def stop(self) -> None:
        """Close gateway sockets (1001) and the server; call after the client closed."""
        for conn in self._conns:
            if not conn.ws.closed:
                with contextlib.suppress(ConnectionError, RuntimeError):
                    await conn.ws.close(code=1001, message=b"Going away")
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None
        for _, fut in self._waiters:
            if not fut.done():
                fut.cancel()
        self._waiters.clear()

    async def __aenter__(self) -> FakeDiscord:
        await self.start()
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.stop()

    @contextlib.contextmanager
    def patch_discord_py(self) -> Iterator[None]:
        """Point discord.py's REST base and gateway at this fake; restore on exit."""
        old_base, old_gateway = Route.BASE, DiscordWebSocket.DEFAULT_GATEWAY
        Route.BASE = self.api_base
        DiscordWebSocket.DEFAULT_GATEWAY = yarl.URL(self.gateway_url)
        try:
            yield
        finally:
            Route.BASE = old_base
            DiscordWebSocket.DEFAULT_GATEWAY = old_gateway

    # ------------------------------------------------------------------ world building

    def add_user(
        self,
        username: str,
        *,
        global_name: str | None = None,
        bot: bool = False,
        discriminator: str = "0",
        locale: str = "en-US",
    ) -> int:
        """Create a user; returns its id."""
        uid = self.snowflakes.next()
        user: Json = {
            "id": str(uid),
            "username": username,
            "discriminator": discriminator,
            "global_name": global_name,
            "avatar": None,
            "avatar_decoration_data": None,
            "banner": None,
            "accent_color": None,
            "public_flags": 0,
            "flags": 0,
            "collectibles": None,
            "primary_guild": None,
            "clan": None,
        }
        if bot:
            user["bot"] = True
        self.users[uid] = user
        self.locales[uid] = locale
        return uid

    def add_guild(
        self,
        name: str,
        *,
        owner_id: int | None = None,
        channels: Sequence[str] = ("general",),
        member_ids: Sequence[int] = (),
    ) -> int:
        """Create a guild the bot is in (with @everyone, the bot's role, text channels)."""
        gid = self.snowflakes.next()
        owner_id = owner_id if owner_id is not None else self.owner_id
        joined_at = _now_iso()
        everyone = self._role_payload(gid, "@everyone", EVERYONE_PERMISSIONS, position=0)
        bot_role = self._role_payload(
            self.snowflakes.next(), self.users[self.bot_id]["username"], self.bot_permissions, 1
        )
        bot_role["managed"] = True
        bot_role["tags"] = {"bot_id": str(self.bot_id)}
        data: Json = {
            "id": str(gid),
            "name": name,
            "icon": None,
            "icon_hash": None,
            "splash": None,
            "discovery_splash": None,
            "owner_id": str(owner_id),
            "afk_channel_id": None,
            "afk_timeout": 300,
            "widget_enabled": False,
            "widget_channel_id": None,
            "verification_level": 1,
            "default_message_notifications": 1,
            "explicit_content_filter": 2,
            "features": [],
            "mfa_level": 0,
            "application_id": None,
            "system_channel_id": None,
            "system_channel_flags": 0,
            "rules_channel_id": None,
            "max_presences": None,
            "max_members": 500_000,
            "vanity_url_code": None,
            "description": None,
            "banner": None,
            "premium_tier": 0,
            "premium_subscription_count": 0,
            "preferred_locale": "en-US",
            "public_updates_channel_id": None,
            "max_video_channel_users": 25,
            "max_stage_video_channel_users": 50,
            "nsfw_level": 0,
            "premium_progress_bar_enabled": False,
            "safety_alerts_channel_id": None,
            "incidents_data": None,
            "emojis": [],
            "stickers": [],
        }
        guild = FakeGuild(gid, data, [everyone, bot_role], [], {}, joined_at)
        self.guilds[gid] = guild
        self.add_member(gid, self.bot_id, roles=(int(bot_role["id"]),))
        self.add_member(gid, owner_id)
        for uid in member_ids:
            if uid != owner_id:
                self.add_member(gid, uid)
        for channel_name in channels:
            self.add_text_channel(gid, channel_name)
        if data["system_channel_id"] is None and guild.channels:
            data["system_channel_id"] = guild.channels[0]["id"]
        return gid

    @staticmethod
    def _role_payload(rid: int, name: str, permissions: int, position: int) -> Json:
        return {
            "id": str(rid),
            "name": name,
            "description": None,
            "color": 0,
            "colors": {"primary_color": 0, "secondary_color": None, "tertiary_color": None},
            "hoist": False,
            "icon": None,
            "unicode_emoji": None,
            "position": position,
            "permissions": str(permissions),
            "managed": False,
            "mentionable": False,
            "flags": 0,
        }

    def add_role(
        self, guild_id: int, name: str, *, permissions: int = 0, mentionable: bool = False
    ) -> int:
        """Create a role in a guild; returns its id."""
        guild = self.guilds[guild_id]
        rid = self.snowflakes.next()
        role = self._role_payload(rid, name, permissions, position=len(guild.roles))
        role["mentionable"] = mentionable
        guild.roles.append(role)
        return rid

    def add_member(
        self, guild_id: int, user_id: int, *, roles: Sequence[int] = (), nick: str | None = None
    ) -> Json:
        """Make a user a member of a guild; returns the member object."""
        member: Json = {
            "user": self.users[user_id],
            "nick": nick,
            "avatar": None,
            "banner": None,
            "roles": [str(r) for r in roles],
            "joined_at": _now_iso(),
            "premium_since": None,
            "deaf": False,
            "mute": False,
            "flags": 0,
            "pending": False,
            "communication_disabled_until": None,
            "avatar_decoration_data": None,
        }
        self.guilds[guild_id].members[user_id] = member
        return member

    def add_text_channel(
        self, guild_id: int, name: str, *, permission_overwrites: Sequence[Json] = ()
    ) -> int:
        """Create a guild text channel; returns its id."""
        guild = self.guilds[guild_id]
        cid = self.snowflakes.next()
        channel: Json = {
            "id": str(cid),
            "type": 0,
            "guild_id": str(guild_id),
            "name": name,
            "position": len(guild.channels),
            "permission_overwrites": list(permission_overwrites),
            "parent_id": None,
            "topic": None,
            "nsfw": False,
            "last_message_id": None,
            "rate_limit_per_user": 0,
            "flags": 0,
        }
        guild.channels.append(channel)
        self.channels[cid] = channel
        return cid

    def dm_channel_for(self, user_id: int) -> Json:
        """The DM channel between the bot and a user, creating it as Discord would."""
        cid = self.dm_channels.get(user_id)
        if cid is None:
            cid = self.snowflakes.next()
            self.channels[cid] = {
                "id": str(cid),
                "type": 1,
                "last_message_id": None,
                "flags": 0,
                "recipients": [self.users[user_id]],
            }
            self.dm_channels[user_id] = cid
        return self.channels[cid]

    def guild_of_channel(self, channel_id: int) -> FakeGuild | None:
        """The guild a channel belongs to (None for DMs)."""
        gid = self.channels[channel_id].get("guild_id")
        return None if gid is None else self.guilds[int(gid)]

    def _dm_recipient(self, channel_id: int) -> int | None:
        for uid, cid in self.dm_channels.items():
            if cid == channel_id:
                return uid
        return None

    # ------------------------------------------------------------------ permissions

    def base_permissions(self, guild: FakeGuild, user_id: int) -> int:
        """Guild-level permissions of a member (owner/admin get everything)."""
        if int(guild.data["owner_id"]) == user_id:
            return ALL_PERMISSIONS
        roles = {int(r["id"]): r for r in guild.roles}
        perms = int(roles[guild.id]["permissions"])
        member = guild.members.get(user_id)
        if member is None:
            return 0
        for rid in member["roles"]:
            perms |= int(roles[int(rid)]["permissions"])
        return ALL_PERMISSIONS if perms & P_ADMINISTRATOR else perms

    def channel_permissions(self, channel_id: int, user_id: int) -> int:
        """Permissions of a user in a channel, applying overwrites as Discord does."""
        guild = self.guild_of_channel(channel_id)
        if guild is None:
            return DM_PERMISSIONS
        perms = self.base_permissions(guild, user_id)
        if perms == ALL_PERMISSIONS:
            return perms
        overwrites = {int(o["id"]): o for o in self.channels[channel_id]["permission_overwrites"]}
        if guild.id in overwrites:
            ow = overwrites[guild.id]
            perms = (perms & ~int(ow["deny"])) | int(ow["allow"])
        member = guild.members.get(user_id) or {"roles": []}
        allow = deny = 0
        for rid in member["roles"]:
            ow = overwrites.get(int(rid))
            if ow is not None and ow.get("type", 0) == 0:
                allow |= int(ow["allow"])
                deny |= int(ow["deny"])
        perms = (perms & ~deny) | allow
        ow = overwrites.get(user_id)
        if ow is not None and ow.get("type") == 1:
            perms = (perms & ~int(ow["deny"])) | int(ow["allow"])
        return perms if perms & P_VIEW_CHANNEL else 0

    # ------------------------------------------------------------------ journal & waiting

    def _record(self, kind: str, data: Any) -> FakeRecord:
        record = FakeRecord(kind, data, len(self.journal))
        self.journal.append(record)
        for waiter in list(self._waiters):
            predicate, fut = waiter
            if fut.done():
                continue
            try:
                matched = predicate(record)
            except Exception as exc:
                fut.set_exception(exc)
                continue
            if matched:
                fut.set_result(record)
        return record

    def mark(self) -> int:
        """Current journal position; pass as ``after=`` to wait only for newer records."""
        return len(self.journal)

    async def wait_for(
        self,
        predicate: Callable[[FakeRecord], bool] | None = None,
        *,
        kind: str | None = None,
        timeout: float = 5.0,  # noqa: ASYNC109 - per-call deadline is the point
        after: int = 0,
    ) -> FakeRecord:
        """Resolve with the first journal record (at index >= after) that matches.

        Kinds (data type): request (RecordedRequest); message_create / message_update /
        message_delete (FakeMessage); callback (FakeCallback); nonce_hit, command_sync,
        dm_channel, identify, resume, resumed, invalid_session, dispatch, heartbeat,
        gateway_connect, gateway_recv, gateway_close, gateway_close_sent, gateway_drop (dict).
        """

        def match(record: FakeRecord) -> bool:
            if kind is not None and record.kind != kind:
                return False
            return predicate is None or predicate(record)

        for record in self.journal[after:]:
            if match(record):
                return record
        fut: asyncio.Future[FakeRecord] = asyncio.get_running_loop().create_future()
        waiter = (match, fut)
        self._waiters.append(waiter)
        try:
            return await asyncio.wait_for(fut, timeout)
        except TimeoutError:
            recent = [r.kind for r in self.journal[-8:]]
            raise TimeoutError(
                f"nothing matched kind={kind!r} within {timeout}s; last records: {recent}"
            ) from None
        finally:
            self._waiters.remove(waiter)

    async def wait_for_callback(
        self,
        interaction_id: str | int,
        *,
        timeout: float = 5.0,  # noqa: ASYNC109
    ) -> FakeCallback:
        """The initial response the bot sent for this interaction."""
        iid = str(interaction_id)
        record = await self.wait_for(
            lambda r: r.data.interaction_id == iid, kind="callback", timeout=timeout
        )
        callback: FakeCallback = record.data
        return callback

    async def wait_for_message(
        self,
        predicate: Callable[[FakeMessage], bool] | None = None,
        *,
        channel_id: int | None = None,
        timeout: float = 5.0,  # noqa: ASYNC109 - per-call deadline is the point
        after: int = 0,
    ) -> FakeMessage:
        """The first created message matching the channel and predicate."""

        def match(record: FakeRecord) -> bool:
            msg: FakeMessage = record.data
            if channel_id is not None and msg.channel_id != channel_id:
                return False
            return predicate is None or predicate(msg)

        record = await self.wait_for(match, kind="message_create", timeout=timeout, after=after)
        message: FakeMessage = record.data
        return message

    async def wait_for_request(
        self,
        method: str,
        path_regex: str,
        *,
        status: int | None = None,
        timeout: float = 5.0,  # noqa: ASYNC109 - per-call deadline is the point
        after: int = 0,
    ) -> RecordedRequest:
        """The first REST request with this method and (full-match) path."""
        pattern = re.compile(path_regex)

        def match(record: FakeRecord) -> bool:
            req: RecordedRequest = record.data
            if req.method != method or not pattern.fullmatch(req.path):
                return False
            return status is None or req.status == status

        record = await self.wait_for(match, kind="request", timeout=timeout, after=after)
        request: RecordedRequest = record.data
        return request

    def message(self, message_id: int | str) -> FakeMessage:
        """Look up any message the fake holds (including ephemeral ones)."""
        return self._messages_by_id[int(message_id)]

    def all_messages(self) -> list[FakeMessage]:
        """Every message, in creation order."""
        return sorted(self._messages_by_id.values(), key=lambda m: m.id)

    def interaction_payload(self, interaction_id: str | int) -> Json:
        """The INTERACTION_CREATE payload that was injected."""
        return self._interactions[int(interaction_id)].payload

    # ------------------------------------------------------------------ faults

    def add_fault(
        self,
        method: str,
        path_regex: str,
        *,
        status: int,
        body: Json | None = None,
        headers: Mapping[str, str] | None = None,
        times: int | None = None,
        when: Callable[[RecordedRequest], bool] | None = None,
        name: str | None = None,
    ) -> Fault:
        """Answer matching REST requests (path relative to /api/v10) with a canned error."""
        fault = Fault(
            name=name or f"{method} {path_regex} -> {status}",
            method=method,
            path=re.compile(path_regex),
            status=status,
            body=body,
            headers=dict(headers or {}),
            times=times,
            when=when,
        )
        self.faults.append(fault)
        return fault

    def clear_faults(self) -> None:
        """Remove every injected fault."""
        self.faults.clear()

    def fail_dm_channel_creation(self, user_id: int, *, times: int | None = None) -> Fault:
        """POST /users/@me/channels for this user answers 403 / 50007."""
        return self.add_fault(
            "POST",
            r"/users/@me/channels",
            status=403,
            body={"message": "Cannot send messages to this user", "code": 50007},
            times=times,
            when=lambda r: str((r.json or {}).get("recipient_id")) == str(user_id),
            name=f"dm-channel-403:{user_id}",
        )

    def fail_messages_to_user(self, user_id: int, *, times: int | None = None) -> Fault:
        """Message sends into this user's DM channel answer 403 / 50007 (DMs closed)."""

        def when(request: RecordedRequest) -> bool:
            cid = int(request.path.split("/")[2])
            return self._dm_recipient(cid) == user_id

        return self.add_fault(
            "POST",
            r"/channels/\d+/messages",
            status=403,
            body={"message": "Cannot send messages to this user", "code": 50007},
            times=times,
            when=when,
            name=f"dm-send-403:{user_id}",
        )

    def fail_messages_in_channel(
        self,
        channel_id: int,
        *,
        status: int = 403,
        code: int = 50013,
        message: str = "Missing Permissions",
        times: int | None = None,
    ) -> Fault:
        """Message sends into a channel fail with the given Discord error."""
        return self.add_fault(
            "POST",
            rf"/channels/{channel_id}/messages",
            status=status,
            body={"message": message, "code": code},
            times=times,
            name=f"channel-send-{status}:{channel_id}",
        )

    def rate_limit_messages(
        self,
        times: int = 1,
        *,
        retry_after: float = 0.05,
        channel_id: int | None = None,
        is_global: bool = False,
    ) -> Fault:
        """The next ``times`` message sends answer 429 like Discord (discord.py retries)."""
        path = rf"/channels/{channel_id}/messages" if channel_id else r"/channels/\d+/messages"
        headers = {
            "Retry-After": str(max(1, math.ceil(retry_after))),
            "X-RateLimit-Limit": "5",
            "X-RateLimit-Remaining": "0",
            "X-RateLimit-Reset": f"{time.time() + retry_after:.3f}",
            "X-RateLimit-Reset-After": f"{retry_after:.3f}",
            "X-RateLimit-Bucket": "fakebucket-messages",
            "X-RateLimit-Scope": "global" if is_global else "user",
        }
        if is_global:
            headers["X-RateLimit-Global"] = "true"
        body = {"message": "You are being rate limited.", "retry_after": retry_after}
        body["global"] = is_global
        return self.add_fault(
            "POST", path, status=429, body=body, headers=headers, times=times, name="rate-limit"
        )

    # ------------------------------------------------------------------ HTTP plumbing

    def _build_routes(self) -> list[_Route]:
        app = r"(?P<app_id>\d+)"
        user = r"/users/(?P<user_id>\d+)"
        cmds = rf"/applications/{app}/commands"
        gcmds = rf"/applications/{app}/guilds/(?P<guild_id>\d+)/commands"
        ch = r"/channels/(?P<channel_id>\d+)"
        msg = ch + r"/messages/(?P<message_id>\d+)"
        guild = r"/guilds/(?P<guild_id>\d+)"
        callback = r"/interactions/(?P<interaction_id>\d+)/(?P<token>[^/]+)/callback"
        hook = rf"/webhooks/{app}/(?P<token>[^/]+)"
        hook_msg = hook + r"/messages/(?P<message_id>@original|\d+)"
        table: list[tuple[str, str, Callable[..., Awaitable[tuple[int, Any]]], bool]] = [
            ("GET", r"/users/@me", self._get_me, True),
            ("GET", user, self._get_user, True),
            ("POST", r"/users/@me/channels", self._create_dm, True),
            ("GET", r"/oauth2/applications/@me", self._get_application, True),
            ("GET", r"/applications/@me", self._get_application, True),
            ("GET", r"/gateway", self._get_gateway, False),
            ("GET", r"/gateway/bot", self._get_gateway_bot, True),
            ("GET", cmds, self._get_commands, True),
            ("PUT", cmds, self._put_commands, True),
            ("GET", gcmds, self._get_commands, True),
            ("PUT", gcmds, self._put_commands, True),
            ("GET", ch, self._get_channel, True),
            ("GET", ch + "/messages", self._get_history, True),
            ("POST", ch + "/messages", self._post_message, True),
            ("POST", ch + "/typing", self._typing, True),
            ("GET", msg, self._get_message, True),
            ("PATCH", msg, self._patch_message, True),
            ("DELETE", msg, self._delete_message, True),
            ("GET", guild, self._get_guild, True),
            ("GET", guild + "/channels", self._get_guild_channels, True),
            ("GET", guild + r"/members/(?P<user_id>\d+)", self._get_member, True),
            ("POST", callback, self._callback, False),
            ("GET", hook, self._get_webhook, False),
            ("POST", hook, self._post_followup, False),
            ("GET", hook_msg, self._get_webhook_message, False),
            ("PATCH", hook_msg, self._patch_webhook_message, False),
            ("DELETE", hook_msg, self._delete_webhook_message, False),
        ]
        return [_Route(m, re.compile(p), h, a) for m, p, h, a in table]

    async def _read_body(self, request: web.Request) -> tuple[Any, list[RecordedFile]]:
        if not request.body_exists:
            return None, []
        if request.content_type == "multipart/form-data":
            reader = await request.multipart()
            payload: Any = None
            files: list[RecordedFile] = []
            while True:
                part = await reader.next()
                if part is None:
                    break
                if not isinstance(part, BodyPartReader):
                    continue
                if part.name == "payload_json":
                    payload = json.loads(await part.text())
                else:
                    data = bytes(await part.read(decode=False))
                    files.append(
                        RecordedFile(
                            part.name or "", part.filename, part.headers.get("Content-Type"), data
                        )
                    )
            return payload, files
        raw = await request.read()
        if request.content_type == JSON_CONTENT_TYPE:
            try:
                return json.loads(raw), []
            except ValueError:
                raise _HTTPError(400, 50109, "The request body contains invalid JSON.") from None
        return None, []

    @staticmethod
    def _reply(status: int, body: Any, headers: Mapping[str, str] | None = None) -> web.Response:
        out = {"Via": "1.1 google", **(headers or {})}
        if body is None:
            return web.Response(status=status, headers=out)
        out["Content-Type"] = JSON_CONTENT_TYPE
        data = json.dumps(body, separators=(",", ":"), ensure_ascii=False).encode()
        return web.Response(status=status, body=data, headers=out)

    async def _http_entry(self, request: web.Request) -> web.StreamResponse:
        path = request.path
        if path.startswith("/attachments/"):
            return self._serve_attachment(path)
        prefix = f"/api/v{API_VERSION}"
        authorized = request.headers.get("Authorization") == f"Bot {self.token}"
        rec = RecordedRequest(
            request.method,
            path[len(prefix) :] if path.startswith(prefix + "/") else path,
            dict(request.query),
            None,
            [],
            authorized,
            request.content_type if request.body_exists else None,
        )
        headers: dict[str, str] = {}
        try:
            rec.json, rec.files = await self._read_body(request)
            if not path.startswith(prefix + "/"):
                raise _HTTPError(404, 0, "404: Not Found")
            route, params = self._match_route(rec)
            if route.auth and not authorized:
                raise _HTTPError(401, 0, "401: Unauthorized")
            fault = next((f for f in self.faults if f.matches(rec)), None)
            if fault is not None:
                fault.hits += 1
                rec.fault = fault.name
                status, body, headers = fault.status, fault.body, fault.headers
            else:
                status, body = await route.handler(rec, **params)
        except _HTTPError as exc:
            status, body, headers = exc.status, exc.body, exc.headers
        rec.status, rec.response = status, body
        self.requests.append(rec)
        self._record("request", rec)
        return self._reply(status, body, headers)

    def _match_route(self, rec: RecordedRequest) -> tuple[_Route, dict[str, str]]:
        path_matched = False
        for route in self._routes:
            match = route.pattern.fullmatch(rec.path)
            if match is None:
                continue
            path_matched = True
            if route.method == rec.method:
                return route, match.groupdict()
        self.unhandled.append(rec)
        if path_matched:
            raise _HTTPError(405, 0, "405: Method Not Allowed")
        raise _HTTPError(404, 0, "404: Not Found")

    def _serve_attachment(self, path: str) -> web.Response:
        parts = path.split("/")
        try:
            filename, data = self._attachment_data[int(parts[3])]
        except (IndexError, ValueError, KeyError):
            return web.Response(status=404)
        ctype = mimetypes.guess_type(filename)[0] or "application/octet-stream"
        return web.Response(body=data, headers={"Content-Type": ctype})

    # ------------------------------------------------------------------ REST: users & app

    async def _get_me(self, rec: RecordedRequest) -> tuple[int, Any]:
        me = dict(self.users[self.bot_id])
        me.update(
            {"verified": True, "mfa_enabled": False, "locale": "en-US", "email": None, "bio": ""}
        )
        me.update({"premium_type": 0, "banner_color": None})
        return 200, me

    async def _get_user(self, rec: RecordedRequest, user_id: str) -> tuple[int, Any]:
        user = self.users.get(int(user_id))
        if user is None:
            raise _HTTPError(404, 10013, "Unknown User")
        return 200, user

    async def _get_application(self, rec: RecordedRequest) -> tuple[int, Any]:
        return 200, {
            "id": str(self.application_id),
            "name": self.users[self.bot_id]["username"],
            "icon": None,
            "description": "",
            "summary": "",
            "type": None,
            "hook": True,
            "bot_public": True,
            "bot_require_code_grant": False,
            "verify_key": "0" * 64,
            "flags": self.application_flags,
            "owner": self.users[self.owner_id],
            "team": None,
            "bot": self.users[self.bot_id],
            "redirect_uris": [],
            "interactions_endpoint_url": None,
            "role_connections_verification_url": None,
            "tags": [],
            "approximate_guild_count": len(self.guilds),
            "approximate_user_install_count": 0,
            "integration_types_config": {"0": {}},
            "is_monetized": False,
        }

    async def _get_gateway(self, rec: RecordedRequest) -> tuple[int, Any]:
        return 200, {"url": self.gateway_url.rstrip("/")}

    async def _get_gateway_bot(self, rec: RecordedRequest) -> tuple[int, Any]:
        used = len(self.identifies)
        return 200, {
            "url": self.gateway_url.rstrip("/"),
            "shards": self.recommended_shards,
            "session_start_limit": {
                "total": 1000,
                "remaining": max(0, 1000 - used),
                "reset_after": 14_400_000,
                "max_concurrency": 1,
            },
        }

    async def _create_dm(self, rec: RecordedRequest) -> tuple[int, Any]:
        body = rec.json if isinstance(rec.json, dict) else {}
        try:
            uid = int(body["recipient_id"])
        except (KeyError, TypeError, ValueError):
            errors: Json = {}
            _add_error(errors, ["recipient_id"], "BASE_TYPE_REQUIRED", "This field is required")
            raise _form_error(errors) from None
        if uid not in self.users:
            raise _HTTPError(404, 10013, "Unknown User")
        channel = self.dm_channel_for(uid)
        self._record("dm_channel", {"user_id": uid, "channel_id": int(channel["id"])})
        return 200, channel

    # ------------------------------------------------------------------ REST: commands

    def _command_store(self, guild_id: str | None) -> list[Json]:
        if guild_id is None:
            return self.global_commands
        return self.guild_commands.setdefault(int(guild_id), [])

    async def _get_commands(
        self, rec: RecordedRequest, app_id: str, guild_id: str | None = None
    ) -> tuple[int, Any]:
        self._check_app(app_id)
        if guild_id is not None and int(guild_id) not in self.guilds:
            raise _HTTPError(403, 50001, "Missing Access")
        return 200, self._command_store(guild_id)

    async def _put_commands(
        self, rec: RecordedRequest, app_id: str, guild_id: str | None = None
    ) -> tuple[int, Any]:
        self._check_app(app_id)
        if guild_id is not None and int(guild_id) not in self.guilds:
            raise _HTTPError(403, 50001, "Missing Access")
        errors = _validate_commands(rec.json)
        if errors:
            raise _form_error(errors)
        existing = {(c["name"], c["type"]): c for c in self._command_store(guild_id)}
        stored: list[Json] = []
        for cmd in rec.json:
            ctype = int(cmd.get("type", 1))
            old = existing.get((cmd["name"], ctype))
            out: Json = {
                "id": old["id"] if old else str(self.snowflakes.next()),
                "application_id": str(self.application_id),
                "version": str(self.snowflakes.next()),
                "default_member_permissions": cmd.get("default_member_permissions"),
                "type": ctype,
                "name": cmd["name"],
                "name_localizations": cmd.get("name_localizations"),
                "description": cmd.get("description", ""),
                "description_localizations": cmd.get("description_localizations"),
                "nsfw": bool(cmd.get("nsfw", False)),
            }
            if cmd.get("options"):
                out["options"] = copy.deepcopy(cmd["options"])
            if guild_id is None:
                out["dm_permission"] = cmd.get("dm_permission", True) is not False
                out["contexts"] = cmd.get("contexts")
                out["integration_types"] = cmd.get("integration_types") or [0]
            else:
                out["guild_id"] = guild_id
            stored.append(out)
        if guild_id is None:
            self.global_commands = stored
        else:
            self.guild_commands[int(guild_id)] = stored
        sync = {"guild_id": None if guild_id is None else int(guild_id), "request": rec.json}
        sync["response"] = stored
        self.command_syncs.append(sync)
        self._record("command_sync", sync)
        return 200, stored

    def _check_app(self, app_id: str) -> None:
        if int(app_id) != self.application_id:
            raise _HTTPError(403, 50001, "Missing Access")

    # ------------------------------------------------------------------ REST: channels

    def _channel_or_404(self, channel_id: str | int) -> Json:
        channel = self.channels.get(int(channel_id))
        if channel is None:
            raise _HTTPError(404, 10003, "Unknown Channel")
        return channel

    def _require_perms(self, channel_id: int, needed: int) -> None:
        perms = self.channel_permissions(channel_id, self.bot_id)
        if perms & needed != needed:
            if perms & P_VIEW_CHANNEL:
                raise _HTTPError(403, 50013, "Missing Permissions")
            raise _HTTPError(403, 50001, "Missing Access")

    async def _get_channel(self, rec: RecordedRequest, channel_id: str) -> tuple[int, Any]:
        channel = self._channel_or_404(channel_id)
        if channel.get("guild_id"):
            self._require_perms(int(channel_id), P_VIEW_CHANNEL)
        return 200, channel

    async def _get_history(self, rec: RecordedRequest, channel_id: str) -> tuple[int, Any]:
        self._channel_or_404(channel_id)
        cid = int(channel_id)
        if self.guild_of_channel(cid):
            self._require_perms(cid, P_VIEW_CHANNEL | P_READ_MESSAGE_HISTORY)
        limit = max(1, min(100, int(rec.query.get("limit", 50))))
        visible = [m for m in self.messages[cid] if not m.deleted and not m.ephemeral]
        if "before" in rec.query:
            visible = [m for m in visible if m.id < int(rec.query["before"])]
        if "after" in rec.query:
            visible = [m for m in visible if m.id > int(rec.query["after"])][:limit]
        newest_first = sorted(visible, key=lambda m: m.id, reverse=True)[:limit]
        return 200, [m.payload for m in newest_first]

    async def _typing(self, rec: RecordedRequest, channel_id: str) -> tuple[int, Any]:
        self._channel_or_404(channel_id)
        return 204, None

    async def _post_message(self, rec: RecordedRequest, channel_id: str) -> tuple[int, Any]:
        channel = self._channel_or_404(channel_id)
        cid = int(channel_id)
        body = rec.json if isinstance(rec.json, dict) else {}
        if channel.get("guild_id"):
            needed = P_VIEW_CHANNEL | P_SEND_MESSAGES | (P_ATTACH_FILES if rec.files else 0)
            self._require_perms(cid, needed)
        nonce = body.get("nonce")
        key = (cid, self.bot_id, str(nonce))
        if nonce is not None and body.get("enforce_nonce"):
            hit = self._nonces.get(key)
            now = time.monotonic()
            if hit is not None and now - hit[1] <= self.nonce_window and not hit[0].deleted:
                self._record(
                    "nonce_hit", {"channel_id": cid, "nonce": str(nonce), "message": hit[0]}
                )
                return 200, hit[0].payload
        errors = _validate_message_body(body)
        if errors:
            raise _form_error(errors)
        if body.get("flags", 0) & FLAG_EPHEMERAL:
            errors = {}
            _add_error(errors, ["flags"], "MESSAGE_FLAGS_INVALID", "Ephemeral needs an interaction")
            raise _form_error(errors)
        self._require_not_empty(body, rec.files)
        msg = self._create_message(
            cid,
            body,
            rec.files,
            author_id=self.bot_id,
            source="channel",
            flags=int(body.get("flags") or 0) & _SENDABLE_FLAGS,
        )
        if nonce is not None and body.get("enforce_nonce"):
            self._nonces[key] = (msg, time.monotonic())
        await self._dispatch_message("MESSAGE_CREATE", msg)
        return 200, msg.payload

    @staticmethod
    def _require_not_empty(body: Json, files: Sequence[RecordedFile]) -> None:
        keys = ("content", "embeds", "components", "sticker_ids", "poll", "attachments")
        if not files and not any(body.get(k) for k in keys):
            raise _HTTPError(400, 50006, "Cannot send an empty message")

    def _visible_message(self, channel_id: str, message_id: str) -> FakeMessage:
        self._channel_or_404(channel_id)
        msg = self._messages_by_id.get(int(message_id))
        if msg is None or msg.deleted or msg.ephemeral or msg.channel_id != int(channel_id):
            raise _HTTPError(404, 10008, "Unknown Message")
        return msg

    async def _get_message(
        self, rec: RecordedRequest, channel_id: str, message_id: str
    ) -> tuple[int, Any]:
        return 200, self._visible_message(channel_id, message_id).payload

    async def _patch_message(
        self, rec: RecordedRequest, channel_id: str, message_id: str
    ) -> tuple[int, Any]:
        msg = self._visible_message(channel_id, message_id)
        if msg.author_id != self.bot_id:
            raise _HTTPError(403, 50005, "Cannot edit a message authored by another user")
        body = rec.json if isinstance(rec.json, dict) else {}
        await self._edit_message(msg, body, rec.files)
        return 200, msg.payload

    async def _delete_message(
        self, rec: RecordedRequest, channel_id: str, message_id: str
    ) -> tuple[int, Any]:
        msg = self._visible_message(channel_id, message_id)
        if msg.author_id != self.bot_id and self.guild_of_channel(msg.channel_id):
            self._require_perms(msg.channel_id, P_MANAGE_MESSAGES)
        await self._delete(msg)
        return 204, None

    # ------------------------------------------------------------------ REST: guilds

    def _guild_or_404(self, guild_id: str) -> FakeGuild:
        guild = self.guilds.get(int(guild_id))
        if guild is None:
            raise _HTTPError(404, 10004, "Unknown Guild")
        return guild

    async def _get_guild(self, rec: RecordedRequest, guild_id: str) -> tuple[int, Any]:
        guild = self._guild_or_404(guild_id)
        return 200, {**guild.data, "roles": guild.roles}

    async def _get_guild_channels(self, rec: RecordedRequest, guild_id: str) -> tuple[int, Any]:
        return 200, self._guild_or_404(guild_id).channels

    async def _get_member(
        self, rec: RecordedRequest, guild_id: str, user_id: str
    ) -> tuple[int, Any]:
        member = self._guild_or_404(guild_id).members.get(int(user_id))
        if member is None:
            raise _HTTPError(404, 10007, "Unknown Member")
        return 200, member

    # ------------------------------------------------------------------ messages

    def _attachments(
        self,
        channel_id: int,
        entries: Sequence[Json] | None,
        files: Sequence[RecordedFile],
        existing: Sequence[Json],
        ephemeral: bool,
    ) -> list[Json]:
        by_index = {}
        for i, f in enumerate(files):
            match = re.fullmatch(r"files\[(\d+)\]", f.field)
            by_index[int(match.group(1)) if match else i] = f
        old = {a["id"]: a for a in existing}
        out: list[Json] = []
        if entries is None:
            entries = [{"id": i} for i in sorted(by_index)]
        for entry in entries:
            ref = str(entry.get("id"))
            if ref in old:
                out.append(old[ref])
                continue
            f = by_index.get(int(ref)) if ref.isdigit() and int(ref) in by_index else None
            if f is None:
                errors: Json = {}
                _add_error(errors, ["attachments"], "ATTACHMENT_NOT_FOUND", f"Unknown file {ref}")
                raise _form_error(errors)
            if len(f.data) > ATTACHMENT_SIZE_LIMIT:
                raise _HTTPError(413, 40005, "Request entity too large")
            aid = self.snowflakes.next()
            filename = entry.get("filename") or f.filename or "file"
            url = f"{self.http_base}/attachments/{channel_id}/{aid}/{filename}"
            self._attachment_data[aid] = (filename, f.data)
            attachment: Json = {
                "id": str(aid),
                "filename": filename,
                "size": len(f.data),
                "url": url,
                "proxy_url": url,
                "content_type": mimetypes.guess_type(filename)[0] or f.content_type,
                "ephemeral": ephemeral,
            }
            if entry.get("description"):
                attachment["description"] = entry["description"]
            out.append(attachment)
        return out

    def _resolve_mentions(
        self, content: str, allowed: Json | None, channel_id: int, author_id: int
    ) -> tuple[list[Json], list[str], bool]:
        """Mentions Discord would parse, honouring allowed_mentions and permissions."""
        if allowed is None:
            parse = {"users", "roles", "everyone"}
            users_ok: set[int] = set()
            roles_ok: set[int] = set()
        else:
            parse = set(allowed.get("parse") or [])
            users_ok = {int(u) for u in allowed.get("users") or []}
            roles_ok = {int(r) for r in allowed.get("roles") or []}
        guild = self.guild_of_channel(channel_id)
        can_everyone = bool(self.channel_permissions(channel_id, author_id) & P_MENTION_EVERYONE)
        mentions: list[Json] = []
        for uid in dict.fromkeys(int(x) for x in _USER_MENTION.findall(content)):
            if uid in self.users and ("users" in parse or uid in users_ok):
                mentions.append(self.users[uid])
        roles: list[str] = []
        if guild is not None:
            known = {int(r["id"]): r for r in guild.roles}
            for rid in dict.fromkeys(int(x) for x in _ROLE_MENTION.findall(content)):
                role = known.get(rid)
                if role is None or not ("roles" in parse or rid in roles_ok):
                    continue
                if role["mentionable"] or can_everyone:
                    roles.append(str(rid))
        everyone = (
            guild is not None
            and "everyone" in parse
            and can_everyone
            and ("@everyone" in content or "@here" in content)
        )
        return mentions, roles, everyone

    def _message_type(self, interaction: _Interaction | None) -> int:
        if interaction is None:
            return 0
        if interaction.type == IT_COMMAND:
            return 20 if interaction.payload["data"].get("type", 1) == 1 else 23
        return 0

    def _interaction_metadata(self, it: _Interaction, *, followup: bool = False) -> Json:
        payload_user = (it.payload.get("member") or {}).get("user") or it.payload.get("user")
        meta: Json = {
            "id": str(it.id),
            "type": it.type,
            "user": self.users.get(it.user_id) or payload_user,
            "authorizing_integration_owners": it.payload["authorizing_integration_owners"],
        }
        if it.type == IT_COMMAND:
            meta["name"] = it.command_name
            meta["command_type"] = it.payload["data"].get("type", 1)
        if it.type == IT_COMPONENT and it.source_message_id:
            meta["interacted_message_id"] = str(it.source_message_id)
        if it.type == IT_MODAL_SUBMIT and it.source_interaction_id:
            source = self._interactions[it.source_interaction_id]
            meta["triggering_interaction_metadata"] = self._interaction_metadata(source)
        if followup and it.original_message_id:
            meta["original_response_message_id"] = str(it.original_message_id)
        return meta

    def _create_message(
        self,
        channel_id: int,
        body: Json,
        files: Sequence[RecordedFile],
        *,
        author_id: int,
        source: str,
        flags: int = 0,
        interaction: _Interaction | None = None,
        followup: bool = False,
    ) -> FakeMessage:
        mid = self.snowflakes.next()
        content = body.get("content") or ""
        allowed = body.get("allowed_mentions")
        mentions, roles, everyone = self._resolve_mentions(content, allowed, channel_id, author_id)
        embeds = [{"type": "rich", **e} for e in body.get("embeds") or []]
        payload: Json = {
            "type": self._message_type(interaction),
            "content": content,
            "mentions": mentions,
            "mention_roles": roles,
            "attachments": self._attachments(
                channel_id, body.get("attachments"), files, [], bool(flags & FLAG_EPHEMERAL)
            ),
            "embeds": embeds,
            "timestamp": _iso(mid),
            "edited_timestamp": None,
            "flags": flags,
            "components": _number_components(body.get("components") or []),
            "id": str(mid),
            "channel_id": str(channel_id),
            "author": self.users[author_id],
            "pinned": False,
            "mention_everyone": everyone,
            "tts": bool(body.get("tts", False)),
        }
        if body.get("nonce") is not None:
            payload["nonce"] = body["nonce"]
        if interaction is not None:
            payload["webhook_id"] = str(self.application_id)
            payload["application_id"] = str(self.application_id)
            payload["interaction_metadata"] = self._interaction_metadata(
                interaction, followup=followup
            )
            if interaction.type == IT_COMMAND:
                payload["interaction"] = {
                    "id": str(interaction.id),
                    "type": interaction.type,
                    "name": interaction.command_name,
                    "user": payload["interaction_metadata"]["user"],
                }
        reference = body.get("message_reference")
        if isinstance(reference, dict) and reference.get("message_id"):
            ref_msg = self._messages_by_id.get(int(reference["message_id"]))
            if ref_msg is None and reference.get("fail_if_not_exists", True):
                errors: Json = {}
                code = "MESSAGE_REFERENCE_UNKNOWN_MESSAGE"
                _add_error(errors, ["message_reference"], code, "Unknown message")
                raise _form_error(errors)
            payload["type"] = 19
            payload["message_reference"] = {
                "type": 0,
                "message_id": str(reference["message_id"]),
                "channel_id": str(reference.get("channel_id") or channel_id),
            }
            guild = self.guild_of_channel(channel_id)
            if guild is not None:
                payload["message_reference"]["guild_id"] = str(guild.id)
            payload["referenced_message"] = None if ref_msg is None else ref_msg.payload
        msg = FakeMessage(
            payload,
            source,
            copy.deepcopy(body),
            list(files),
            None if interaction is None else str(interaction.id),
        )
        self.messages[channel_id].append(msg)
        self._messages_by_id[mid] = msg
        if not msg.ephemeral:
            self.channels[channel_id]["last_message_id"] = str(mid)
        self._record("message_create", msg)
        return msg

    async def _edit_message(
        self, msg: FakeMessage, body: Json, files: Sequence[RecordedFile]
    ) -> None:
        errors = _validate_message_body(body)
        if errors:
            raise _form_error(errors)
        new = copy.deepcopy(msg.payload)
        was_loading = bool(new["flags"] & FLAG_LOADING)
        if "content" in body:
            new["content"] = body["content"] or ""
        if "embeds" in body:
            new["embeds"] = [{"type": "rich", **e} for e in body["embeds"] or []]
        if "components" in body:
            new["components"] = _number_components(body["components"] or [])
        if "attachments" in body or files:
            new["attachments"] = self._attachments(
                msg.channel_id,
                body.get("attachments"),
                files,
                new["attachments"] if "attachments" in body else [],
                msg.ephemeral,
            )
            if "attachments" not in body:
                new["attachments"] = msg.payload["attachments"] + new["attachments"]
        if "flags" in body and body["flags"] is not None:
            toggled = int(body["flags"]) & FLAG_SUPPRESS_EMBEDS
            new["flags"] = (new["flags"] & ~FLAG_SUPPRESS_EMBEDS) | toggled
        new["flags"] &= ~FLAG_LOADING
        if "content" in body or "allowed_mentions" in body:
            allowed = body.get("allowed_mentions", msg.allowed_mentions)
            mentions, roles, everyone = self._resolve_mentions(
                new["content"], allowed, msg.channel_id, msg.author_id
            )
            new.update(mentions=mentions, mention_roles=roles, mention_everyone=everyone)
        self._require_not_empty(new, [])
        if not was_loading:
            new["edited_timestamp"] = _now_iso()
        msg.payload.clear()
        msg.payload.update(new)
        msg.edits.append(copy.deepcopy(body))
        msg.files.extend(files)
        self._record("message_update", msg)
        await self._dispatch_message("MESSAGE_UPDATE", msg)

    async def _delete(self, msg: FakeMessage) -> None:
        msg.deleted = True
        self._record("message_delete", msg)
        if msg.ephemeral:
            return
        guild = self.guild_of_channel(msg.channel_id)
        data: Json = {"id": str(msg.id), "channel_id": str(msg.channel_id)}
        if guild is not None:
            data["guild_id"] = str(guild.id)
        intent = INTENT_GUILD_MESSAGES if guild else INTENT_DIRECT_MESSAGES
        await self._dispatch("MESSAGE_DELETE", data, guild_id=guild and guild.id, intent=intent)

    def _gateway_message(self, msg: FakeMessage, session: GatewaySession) -> Json:
        data = copy.deepcopy(msg.payload)
        guild = self.guild_of_channel(msg.channel_id)
        if guild is None:
            return data
        data["guild_id"] = str(guild.id)
        member = guild.members.get(msg.author_id)
        if member is not None and "webhook_id" not in data:
            data["member"] = {k: v for k, v in member.items() if k != "user"}
        for mention in data["mentions"]:
            mentioned = guild.members.get(int(mention["id"]))
            if mentioned is not None:
                mention["member"] = {k: v for k, v in mentioned.items() if k != "user"}
        mentioned_bot = any(int(m["id"]) == self.bot_id for m in data["mentions"])
        own = msg.author_id == self.bot_id
        if not own and not mentioned_bot and not session.intents & INTENT_MESSAGE_CONTENT:
            data.update(content="", embeds=[], attachments=[], components=[])
        return data

    async def _dispatch_message(self, event: str, msg: FakeMessage) -> None:
        if msg.ephemeral or msg.deleted:
            return
        guild = self.guild_of_channel(msg.channel_id)
        intent = INTENT_GUILD_MESSAGES if guild else INTENT_DIRECT_MESSAGES
        await self._dispatch(
            event,
            msg,
            guild_id=guild and guild.id,
            intent=intent,
            transform=lambda s, m: self._gateway_message(m, s),
        )

    async def user_sends_message(
        self,
        channel_id: int,
        content: str,
        *,
        user_id: int | None = None,
        message_type: int = 0,
    ) -> FakeMessage:
        """A user (default alice) posts in a channel; dispatched as MESSAGE_CREATE.

        ``message_type``: what Discord would create instead of a DEFAULT (0) message, e.g.
        6 (CHANNEL_PINNED_MESSAGE) or 3 (CALL) for the system messages a DM can hold.
        """
        uid = user_id or self.user_id
        guild = self.guild_of_channel(channel_id)
        if guild is not None and uid not in guild.members:
            raise ValueError("that user is not a member of the channel's guild")
        msg = self._create_message(
            channel_id, {"content": content}, [], author_id=uid, source="user"
        )
        if message_type:
            msg.payload["type"] = message_type
        await self._dispatch_message("MESSAGE_CREATE", msg)
        return msg

    async def user_sends_dm(
        self, content: str, *, user_id: int | None = None, message_type: int = 0
    ) -> FakeMessage:
        """A user (default alice) DMs the bot; dispatched as MESSAGE_CREATE."""
        uid = user_id or self.user_id
        channel = self.dm_channel_for(uid)
        return await self.user_sends_message(
            int(channel["id"]), content, user_id=uid, message_type=message_type
        )

    # ------------------------------------------------------------------ interactions (REST)

    def _interaction_by_token(self, app_id: str, token: str) -> _Interaction:
        it = self._tokens.get(token)
        if it is None or int(app_id) != self.application_id:
            raise _HTTPError(404, 10015, "Unknown Webhook")
        if asyncio.get_running_loop().time() - it.created > self.interaction_token_lifetime:
            raise _HTTPError(401, 50027, "Invalid Webhook Token")
        return it

    async def _callback(
        self, rec: RecordedRequest, interaction_id: str, token: str
    ) -> tuple[int, Any]:
        it = self._interactions.get(int(interaction_id))
        if it is None or it.token != token:
            raise _HTTPError(404, 10062, "Unknown interaction")
        if asyncio.get_running_loop().time() - it.created > self.interaction_response_window:
            raise _HTTPError(404, 10062, "Unknown interaction")
        if it.response_type is not None:
            raise _HTTPError(400, 40060, "Interaction has already been acknowledged.")
        body = rec.json if isinstance(rec.json, dict) else {}
        ctype = body.get("type")
        data = body.get("data")
        allowed_types = _VALID_CALLBACKS.get(it.type, frozenset())
        needs_message = ctype in (CB_UPDATE, CB_DEFERRED_UPDATE)
        if ctype not in allowed_types or (needs_message and it.source_message_id is None):
            errors: Json = {}
            _add_error(
                errors,
                ["type"],
                "INTERACTION_RESPONSE_TYPE_INVALID",
                f"Response type {ctype} is not valid for interaction type {it.type}",
            )
            raise _form_error(errors)
        message: FakeMessage | None = None
        created = False
        if ctype == CB_MESSAGE:
            data = data or {}
            errors = _validate_message_body(data)
            if errors:
                raise _form_error({"data": errors})
            self._require_not_empty(data, rec.files)
            message = self._create_message(
                it.channel_id,
                data,
                rec.files,
                author_id=self.bot_id,
                source="interaction",
                flags=int(data.get("flags") or 0) & _SENDABLE_FLAGS,
                interaction=it,
            )
            created = True
        elif ctype == CB_DEFERRED_MESSAGE:
            flags = FLAG_LOADING | (int((data or {}).get("flags") or 0) & FLAG_EPHEMERAL)
            message = self._create_message(
                it.channel_id,
                {},
                [],
                author_id=self.bot_id,
                source="interaction",
                flags=flags,
                interaction=it,
            )
            created = True
        elif ctype in (CB_UPDATE, CB_DEFERRED_UPDATE) and it.source_message_id is not None:
            message = self._messages_by_id[it.source_message_id]
            if ctype == CB_UPDATE:
                await self._edit_message(message, data or {}, rec.files)
        elif ctype == CB_MODAL:
            errors = _validate_modal(data or {})
            if errors:
                raise _form_error(errors)
            it.modal = _number_components_modal(data or {})
        it.response_type = ctype
        if message is not None:
            it.original_message_id = message.id
        callback = FakeCallback(
            str(it.id), it.type, ctype, copy.deepcopy(data), list(rec.files), None, message
        )
        if created and message is not None:
            await self._dispatch_message("MESSAGE_CREATE", message)
        response: Json = {"interaction": {"id": str(it.id), "type": it.type}}
        if it.original_message_id is not None and ctype != CB_MODAL:
            response["interaction"].update(
                response_message_id=str(it.original_message_id),
                response_message_loading=ctype == CB_DEFERRED_MESSAGE,
                response_message_ephemeral=bool(message and message.ephemeral),
            )
        response["resource"] = {"type": ctype}
        if ctype in (CB_MESSAGE, CB_UPDATE) and message is not None:
            response["resource"]["message"] = message.payload
        callback.response = copy.deepcopy(response)
        self.callbacks.append(callback)
        self._record("callback", callback)
        if rec.query.get("with_response") in ("1", "true", "True"):
            return 200, response
        return 204, None

    async def _get_webhook(self, rec: RecordedRequest, app_id: str, token: str) -> tuple[int, Any]:
        self._interaction_by_token(app_id, token)
        return 200, {
            "id": str(self.application_id),
            "type": 3,
            "name": self.users[self.bot_id]["username"],
            "avatar": None,
            "channel_id": None,
            "guild_id": None,
            "application_id": str(self.application_id),
        }

    async def _post_followup(
        self, rec: RecordedRequest, app_id: str, token: str
    ) -> tuple[int, Any]:
        it = self._interaction_by_token(app_id, token)
        if it.response_type is None:
            raise _HTTPError(404, 10015, "Unknown Webhook")
        body = rec.json if isinstance(rec.json, dict) else {}
        original = (
            self._messages_by_id.get(it.original_message_id) if it.original_message_id else None
        )
        if (
            it.response_type == CB_DEFERRED_MESSAGE
            and original is not None
            and original.flags & FLAG_LOADING
        ):
            # Discord: the first followup after a deferred "thinking" reply replaces it.
            await self._edit_message(original, body, rec.files)
            msg = original
        else:
            errors = _validate_message_body(body)
            if errors:
                raise _form_error(errors)
            self._require_not_empty(body, rec.files)
            msg = self._create_message(
                it.channel_id,
                body,
                rec.files,
                author_id=self.bot_id,
                source="followup",
                flags=int(body.get("flags") or 0) & _SENDABLE_FLAGS,
                interaction=it,
                followup=True,
            )
            it.followup_ids.append(msg.id)
            await self._dispatch_message("MESSAGE_CREATE", msg)
        if rec.query.get("wait") in ("1", "true", "True"):
            return 200, msg.payload
        return 204, None

    def _webhook_message(self, it: _Interaction, message_id: str) -> FakeMessage:
        if message_id == "@original":
            mid = it.original_message_id
        else:
            mid = int(message_id)
            if mid not in it.followup_ids and mid != it.original_message_id:
                mid = None
        msg = None if mid is None else self._messages_by_id.get(mid)
        if msg is None or msg.deleted:
            raise _HTTPError(404, 10008, "Unknown Message")
        return msg

    async def _get_webhook_message(
        self, rec: RecordedRequest, app_id: str, token: str, message_id: str
    ) -> tuple[int, Any]:
        it = self._interaction_by_token(app_id, token)
        return 200, self._webhook_message(it, message_id).payload

    async def _patch_webhook_message(
        self, rec: RecordedRequest, app_id: str, token: str, message_id: str
    ) -> tuple[int, Any]:
        it = self._interaction_by_token(app_id, token)
        msg = self._webhook_message(it, message_id)
        await self._edit_message(msg, rec.json if isinstance(rec.json, dict) else {}, rec.files)
        return 200, msg.payload

    async def _delete_webhook_message(
        self, rec: RecordedRequest, app_id: str, token: str, message_id: str
    ) -> tuple[int, Any]:
        it = self._interaction_by_token(app_id, token)
        await self._delete(self._webhook_message(it, message_id))
        return 204, None

    # ------------------------------------------------------------------ interactions (inject)

    def _find_command(self, name: str, guild_id: int | None, ctype: int) -> tuple[Json, int | None]:
        if guild_id is not None:
            for cmd in self.guild_commands.get(guild_id, []):
                if cmd["name"] == name and cmd["type"] == ctype:
                    return cmd, guild_id
        for cmd in self.global_commands:
            if cmd["name"] == name and cmd["type"] == ctype:
                return cmd, None
        raise LookupError(
            f"/{name} was never synced to the fake (global or guild {guild_id}); "
            "Discord would not offer it"
        )

    def _context(
        self, *, user_id: int | None, channel_id: int | None, dm: bool
    ) -> tuple[int, int, FakeGuild | None]:
        uid = user_id or self.user_id
        if uid not in self.users:
            raise LookupError(f"unknown user {uid}")
        if dm:
            return uid, int(self.dm_channel_for(uid)["id"]), None
        cid = channel_id or self.channel_id
        guild = self.guild_of_channel(cid)
        if guild is None:
            if self._dm_recipient(cid) != uid:
                raise ValueError("only the DM recipient can interact in a DM channel")
            return uid, cid, None
        if uid not in guild.members:
            raise ValueError(f"user {uid} is not a member of guild {guild.id}")
        if not self.channel_permissions(cid, uid) & P_VIEW_CHANNEL:
            raise ValueError(f"user {uid} cannot see channel {cid}")
        return uid, cid, guild

    def _resolved_entry(
        self, kind: int, value: str, guild: FakeGuild | None, resolved: Json
    ) -> None:
        sid = int(value)
        if kind in (6, 9) and sid in self.users:
            resolved.setdefault("users", {})[value] = self.users[sid]
            if guild is not None and sid in guild.members:
                member = {k: v for k, v in guild.members[sid].items() if k != "user"}
                member["permissions"] = str(self.base_permissions(guild, sid))
                resolved.setdefault("members", {})[value] = member
            return
        if kind in (8, 9) and guild is not None:
            role = next((r for r in guild.roles if r["id"] == value), None)
            if role is not None:
                resolved.setdefault("roles", {})[value] = role
                return
        if kind == 7 and sid in self.channels:
            channel = self.channels[sid]
            entry = {k: channel[k] for k in ("id", "type", "name", "parent_id") if k in channel}
            entry["permissions"] = str(self.channel_permissions(sid, self.bot_id))
            resolved.setdefault("channels", {})[value] = entry
            return
        raise LookupError(f"cannot resolve {value} for option type {kind}")

    def _option_values(
        self, schema: Sequence[Json], given: Mapping[str, Any], guild: FakeGuild | None
    ) -> tuple[list[Json], Json]:
        known = {o["name"]: o for o in schema}
        unknown = set(given) - set(known)
        if unknown:
            raise ValueError(f"unknown options {sorted(unknown)}; the command has {sorted(known)}")
        missing = [o["name"] for o in schema if o.get("required") and o["name"] not in given]
        if missing:
            raise ValueError(f"required options missing: {missing}")
        out: list[Json] = []
        resolved: Json = {}
        for name, value in given.items():
            opt = known[name]
            otype = opt["type"]
            if otype == 3 and not isinstance(value, str):
                raise TypeError(f"option {name} needs a string")
            if otype == 4 and (not isinstance(value, int) or isinstance(value, bool)):
                raise TypeError(f"option {name} needs an integer")
            if otype == 10 and (not isinstance(value, int | float) or isinstance(value, bool)):
                raise TypeError(f"option {name} needs a number")
            if otype == 5 and not isinstance(value, bool):
                raise TypeError(f"option {name} needs a boolean")
            if otype == 11:
                raise NotImplementedError("attachment options are not supported by the fake")
            if otype == 3 and not opt.get("min_length", 0) <= len(value) <= opt.get(
                "max_length", 6000
            ):
                raise ValueError(f"option {name} length out of range")
            if otype in (4, 10):
                low, high = opt.get("min_value"), opt.get("max_value")
                if (low is not None and value < low) or (high is not None and value > high):
                    raise ValueError(f"option {name} out of range")
            if opt.get("choices") and value not in [c["value"] for c in opt["choices"]]:
                raise ValueError(f"option {name} must be one of the command's choices")
            if otype in (6, 7, 8, 9):
                value = str(value)
                self._resolved_entry(otype, value, guild, resolved)
            out.append({"name": name, "type": otype, "value": value})
        return out, resolved

    def _envelope(
        self,
        itype: int,
        data: Json,
        *,
        user_id: int,
        channel_id: int,
        guild: FakeGuild | None,
        locale: str | None,
        message: FakeMessage | None = None,
    ) -> tuple[Json, int, str]:
        iid = self.snowflakes.next()
        token = "aW50ZXJhY3Rpb246" + secrets.token_urlsafe(48)
        channel = dict(self.channels[channel_id])
        payload: Json = {
            "id": str(iid),
            "application_id": str(self.application_id),
            "type": itype,
            "data": data,
            "token": token,
            "version": 1,
            "locale": locale or self.locales.get(user_id, "en-US"),
            "app_permissions": str(self.channel_permissions(channel_id, self.bot_id)),
            "entitlements": [],
            "entitlement_sku_ids": [],
            "attachment_size_limit": ATTACHMENT_SIZE_LIMIT,
            "channel_id": str(channel_id),
        }
        if guild is not None:
            perms = self.channel_permissions(channel_id, user_id)
            channel["permissions"] = str(perms)
            member = dict(guild.members[user_id])
            member["permissions"] = str(perms)
            payload.update(
                guild_id=str(guild.id),
                guild={
                    "id": str(guild.id),
                    "locale": guild.data["preferred_locale"],
                    "features": guild.data["features"],
                },
                guild_locale=guild.data["preferred_locale"],
                member=member,
                context=0,
                authorizing_integration_owners={"0": str(guild.id)},
            )
        else:
            payload.update(
                user=self.users[user_id], context=1, authorizing_integration_owners={"0": "0"}
            )
        payload["channel"] = channel
        if message is not None:
            payload["message"] = copy.deepcopy(message.payload)
        return payload, iid, token

    async def _register_and_dispatch(self, it: _Interaction) -> str:
        self._interactions[it.id] = it
        self._tokens[it.token] = it
        delivered = await self._dispatch("INTERACTION_CREATE", it.payload, guild_id=it.guild_id)
        if not delivered:
            raise RuntimeError("no gateway session has IDENTIFIED; connect the client first")
        return str(it.id)

    async def inject_command(
        self,
        command: str,
        options: Mapping[str, Any] | None = None,
        *,
        user_id: int | None = None,
        channel_id: int | None = None,
        dm: bool = False,
        locale: str | None = None,
    ) -> str:
        """Send a slash-command INTERACTION_CREATE; returns the interaction id.

        ``command`` is the full path as typed, e.g. "advise" or "ping group sub"; the
        command must have been synced (as on Discord) and options are checked against
        the synced schema. Guild channel by default; ``dm=True`` invokes it in the bot DM.
        """
        parts = command.split()
        uid, cid, guild = self._context(user_id=user_id, channel_id=channel_id, dm=dm)
        cmd, scope = self._find_command(parts[0], guild.id if guild else None, 1)
        if guild is None and (
            scope is not None
            or cmd.get("dm_permission") is False
            or (cmd.get("contexts") is not None and 1 not in cmd["contexts"])
        ):
            raise ValueError(f"/{parts[0]} is not available in DMs")
        data: Json = {"id": cmd["id"], "name": cmd["name"], "type": 1}
        if scope is not None:
            data["guild_id"] = str(scope)
        container = data
        schema: list[Json] = cmd.get("options") or []
        for part in parts[1:]:
            opt = next((o for o in schema if o["name"] == part and o["type"] in (1, 2)), None)
            if opt is None:
                raise LookupError(f"/{command}: no subcommand or group named {part!r}")
            node: Json = {"name": part, "type": opt["type"], "options": []}
            container["options"] = [node]
            container = node
            schema = opt.get("options") or []
        if any(o["type"] in (1, 2) for o in schema):
            raise ValueError(f"/{command} needs a subcommand: {[o['name'] for o in schema]}")
        values, resolved = self._option_values(schema, options or {}, guild)
        if values or container is not data:
            container["options"] = values
        if resolved:
            data["resolved"] = resolved
        payload, iid, token = self._envelope(
            IT_COMMAND, data, user_id=uid, channel_id=cid, guild=guild, locale=locale
        )
        it = _Interaction(
            iid,
            token,
            IT_COMMAND,
            payload,
            cid,
            guild.id if guild else None,
            uid,
            asyncio.get_running_loop().time(),
            command_name=" ".join(parts),
        )
        return await self._register_and_dispatch(it)

    async def inject_component(
        self,
        message_id: int | str,
        custom_id: str,
        *,
        values: Sequence[str] | None = None,
        user_id: int | None = None,
        locale: str | None = None,
    ) -> str:
        """Click a button / choose in a select on a message the fake holds.

        Returns the interaction id. The component must exist and be enabled on the
        message (Discord sends nothing otherwise); ``values`` is required for selects.
        """
        msg = self.message(message_id)
        comp = msg.find_component(custom_id)
        if comp is None:
            known = msg.custom_ids()
            raise LookupError(f"message {msg.id} has no component {custom_id!r}: {known}")
        if comp.get("disabled"):
            raise ValueError(f"component {custom_id!r} is disabled")
        ctype = comp["type"]
        data: Json = {"custom_id": custom_id, "component_type": ctype, "id": comp["id"]}
        source_it = self._interactions.get(int(msg.interaction_id)) if msg.interaction_id else None
        default_user = source_it.user_id if source_it else None
        if msg.ephemeral and user_id is not None and user_id != default_user:
            raise ValueError("only the user who received an ephemeral message can click it")
        dm_user = self._dm_recipient(msg.channel_id)
        uid = user_id or default_user or dm_user or self.user_id
        uid, cid, guild = self._context(user_id=uid, channel_id=msg.channel_id, dm=False)
        if ctype in SELECT_TYPES:
            chosen = list(values or [])
            low, high = comp.get("min_values", 1), comp.get("max_values", 1)
            if not low <= len(chosen) <= high:
                raise ValueError(f"select {custom_id!r} takes {low}..{high} values")
            if ctype == C_STRING_SELECT:
                allowed = {o["value"] for o in comp.get("options") or []}
                if not set(chosen) <= allowed:
                    raise ValueError(f"values {chosen} not among the options {sorted(allowed)}")
            else:
                resolved: Json = {}
                kind = {C_USER_SELECT: 6, C_ROLE_SELECT: 8, C_MENTIONABLE_SELECT: 9}
                for value in chosen:
                    self._resolved_entry(kind.get(ctype, 7), value, guild, resolved)
                data["resolved"] = resolved
            data["values"] = chosen
        elif values is not None:
            raise ValueError("values only apply to select menus")
        elif comp.get("style") in (5, 6):
            raise ValueError("link and premium buttons do not create interactions")
        payload, iid, token = self._envelope(
            IT_COMPONENT, data, user_id=uid, channel_id=cid, guild=guild, locale=locale, message=msg
        )
        it = _Interaction(
            iid,
            token,
            IT_COMPONENT,
            payload,
            cid,
            guild.id if guild else None,
            uid,
            asyncio.get_running_loop().time(),
            source_message_id=msg.id,
        )
        return await self._register_and_dispatch(it)

    async def inject_forged_component(
        self,
        message_id: int | str,
        custom_id: str,
        *,
        user_id: int | None = None,
        component_type: int = C_BUTTON,
        values: Sequence[str] | None = None,
    ) -> str:
        """A component interaction Discord's own checks would never deliver.

        Discord sends a click only for a component that is on the message, and only from
        someone who can see the message (the DM recipient, the receiver of an ephemeral
        reply). Bots must still cope with the rest (a modified client, a replayed payload),
        so this builds one anyway: ``custom_id`` need not be on the message, and
        ``user_id`` (default alice) clicks from the message's channel, or from the default
        guild channel when the message sits in another person's DM.
        """
        msg = self.message(message_id)
        uid = user_id or self.user_id
        cid = msg.channel_id
        if self.guild_of_channel(cid) is None and self._dm_recipient(cid) != uid:
            cid = self.channel_id
        uid, cid, guild = self._context(user_id=uid, channel_id=cid, dm=False)
        data: Json = {"custom_id": custom_id, "component_type": component_type, "id": 1}
        if component_type in SELECT_TYPES:
            data["values"] = list(values or [])
        payload, iid, token = self._envelope(
            IT_COMPONENT, data, user_id=uid, channel_id=cid, guild=guild, locale=None, message=msg
        )
        it = _Interaction(
            iid,
            token,
            IT_COMPONENT,
            payload,
            cid,
            guild.id if guild else None,
            uid,
            asyncio.get_running_loop().time(),
            source_message_id=msg.id,
        )
        return await self._register_and_dispatch(it)

    async def inject_modal_submit(
        self,
        opened_by: str | int,
        values: Mapping[str, Any] | None = None,
        *,
        locale: str | None = None,
    ) -> str:
        """Submit the modal the bot opened in answer to interaction ``opened_by``.

        ``values`` maps each input's custom_id to what the user typed (str) or chose
        (list for selects). Required empty text inputs raise, as Discord's client
        would not let the user submit. Returns the new interaction id.
        """
        source = self._interactions[int(opened_by)]
        if source.modal is None:
            raise LookupError(f"interaction {opened_by} was not answered with a modal")
        remaining = dict(values or {})

        def submitted(comp: Json) -> Json:
            ctype = comp["type"]
            if ctype == C_ACTION_ROW:
                children = [submitted(c) for c in comp["components"]]
                return {"type": 1, "id": comp["id"], "components": children}
            if ctype == C_LABEL:
                inner = submitted(comp["component"])
                return {"type": C_LABEL, "id": comp["id"], "component": inner}
            if "custom_id" not in comp:
                return {"type": ctype, "id": comp["id"]}
            cid = comp["custom_id"]
            value = remaining.pop(cid, None)
            out: Json = {"type": ctype, "id": comp["id"], "custom_id": cid}
            if ctype == C_TEXT_INPUT:
                text = "" if value is None else str(value)
                if comp.get("required", True) and not text:
                    raise ValueError(f"text input {cid!r} is required")
                low, high = comp.get("min_length", 0), comp.get("max_length", 4000)
                if text and not low <= len(text) <= high:
                    raise ValueError(f"text input {cid!r} must be {low}..{high} characters")
                out["value"] = text
            elif ctype in SELECT_TYPES:
                out["values"] = list(value or [])
            elif value is not None:
                out["values" if isinstance(value, list) else "value"] = value
            return out

        components = [submitted(c) for c in source.modal["components"]]
        if remaining:
            raise ValueError(f"the modal has no inputs {sorted(remaining)}")
        data: Json = {"custom_id": source.modal["custom_id"], "components": components}
        message = None
        if source.source_message_id is not None:
            message = self._messages_by_id[source.source_message_id]
        guild = self.guilds.get(source.guild_id) if source.guild_id else None
        payload, iid, token = self._envelope(
            IT_MODAL_SUBMIT,
            data,
            user_id=source.user_id,
            channel_id=source.channel_id,
            guild=guild,
            locale=locale,
            message=message,
        )
        it = _Interaction(
            iid,
            token,
            IT_MODAL_SUBMIT,
            payload,
            source.channel_id,
            source.guild_id,
            source.user_id,
            asyncio.get_running_loop().time(),
            source_message_id=source.source_message_id,
            source_interaction_id=source.id,
        )
        return await self._register_and_dispatch(it)

    async def inject_interaction(self, payload: Json) -> str:
        """Dispatch a hand-built INTERACTION_CREATE (escape hatch for unusual shapes).

        Missing envelope fields (id, token, application_id, version) are filled in; the
        caller is responsible for everything else being faithful.
        """
        payload = copy.deepcopy(payload)
        iid = int(payload.setdefault("id", str(self.snowflakes.next())))
        token = payload.setdefault("token", "aW50ZXJhY3Rpb246" + secrets.token_urlsafe(48))
        payload.setdefault("application_id", str(self.application_id))
        payload.setdefault("version", 1)
        payload.setdefault("attachment_size_limit", ATTACHMENT_SIZE_LIMIT)
        user = (payload.get("member") or {}).get("user") or payload.get("user") or {}
        message = payload.get("message") or {}
        it = _Interaction(
            iid,
            token,
            int(payload["type"]),
            payload,
            int(payload.get("channel_id") or payload.get("channel", {}).get("id") or 0),
            int(payload["guild_id"]) if payload.get("guild_id") else None,
            int(user.get("id") or 0),
            asyncio.get_running_loop().time(),
            command_name=(payload.get("data") or {}).get("name"),
            source_message_id=int(message["id"]) if message.get("id") else None,
        )
        return await self._register_and_dispatch(it)

    # ------------------------------------------------------------------ gateway

    def _sessions_for(self, guild_id: int | None) -> list[GatewaySession]:
        out = []
        for session in self.sessions.values():
            if session.invalidated:
                continue
            shard_id, count = session.shard
            target = 0 if guild_id is None else (guild_id >> 22) % count
            if target == shard_id:
                out.append(session)
        return out

    async def _dispatch(
        self,
        event: str,
        data: Any,
        *,
        guild_id: int | None = None,
        intent: int = 0,
        transform: Callable[[GatewaySession, Any], Json] | None = None,
    ) -> int:
        """Send an event to every live session that should get it; returns how many."""
        count = 0
        for session in self._sessions_for(guild_id):
            if intent and not session.intents & intent:
                continue
            payload = transform(session, data) if transform else data
            await self._send_dispatch(session, event, payload)
            count += 1
        return count

    async def _send_dispatch(self, session: GatewaySession, event: str, data: Json) -> None:
        async with session.lock:
            session.seq += 1
            payload = {"op": 0, "t": event, "s": session.seq, "d": data}
            session.log.append(payload)
            conn = session.conn
            delivered = False
            if conn is not None and not conn.closed:
                try:
                    await conn.send(payload)
                    delivered = True
                except (ConnectionError, RuntimeError):
                    conn.closed = True
                    if session.conn is conn:
                        session.conn = None
        self._record(
            "dispatch",
            {
                "session_id": session.session_id,
                "event": event,
                "seq": payload["s"],
                "delivered": delivered,
                "data": data,
            },
        )

    @staticmethod
    def _op(op: int, d: Any = None) -> Json:
        return {"op": op, "d": d, "s": None, "t": None}

    async def _gateway_entry(self, request: web.Request) -> web.StreamResponse:
        ws = web.WebSocketResponse(compress=False, timeout=2.0, max_msg_size=4 * 1024 * 1024)
        await ws.prepare(request)
        compress = request.query.get("compress")
        compressor: Callable[[bytes], bytes] | None = None
        if compress == "zlib-stream":
            compressor = _zlib_compressor()
        elif compress == "zstd-stream":
            compressor = _zstd_compressor()
        conn = _Conn(
            len(self._conns), ws, request.transport, request.path, dict(request.query), compressor
        )
        self._conns.append(conn)
        self._record(
            "gateway_connect", {"index": conn.index, "path": conn.path, "query": conn.query}
        )
        try:
            if request.query.get("encoding", "json") != "json":
                await ws.close(code=4002, message=b"Error while decoding payload.")
                return ws
            if request.query.get("v") not in ("9", "10"):
                await ws.close(code=4012, message=b"Invalid API version.")
                return ws
            await conn.send(
                self._op(10, {"heartbeat_interval": self.heartbeat_interval_ms, "_trace": _TRACE})
            )
            async for msg in ws:
                if msg.type is WSMsgType.TEXT:
                    await self._on_gateway_text(conn, msg.data)
                elif msg.type is WSMsgType.BINARY:
                    await self._on_gateway_text(conn, bytes(msg.data).decode("utf-8", "replace"))
                else:
                    break
                if ws.closed:
                    break
        except (ConnectionError, RuntimeError):
            pass
        finally:
            conn.closed = True
            session = conn.session
            if session is not None and session.conn is conn:
                session.conn = None
            if session is not None and not conn.dropped and ws.close_code in (1000, 1001):
                # A deliberate close by the client ends the session, as on Discord.
                session.invalidated = True
            self._record(
                "gateway_close",
                {"index": conn.index, "code": ws.close_code, "dropped": conn.dropped},
            )
        return ws

    async def _close_conn(self, conn: _Conn, code: int, reason: str) -> None:
        self._record("gateway_close_sent", {"index": conn.index, "code": code, "reason": reason})
        with contextlib.suppress(ConnectionError, RuntimeError):
            await conn.ws.close(code=code, message=reason.encode())

    async def _on_gateway_text(self, conn: _Conn, text: str) -> None:
        try:
            payload = json.loads(text)
        except ValueError:
            await self._close_conn(conn, 4002, "Error while decoding payload.")
            return
        if not isinstance(payload, dict) or "op" not in payload:
            await self._close_conn(conn, 4002, "Error while decoding payload.")
            return
        op, d = payload["op"], payload.get("d")
        safe = copy.deepcopy(payload)
        if isinstance(safe.get("d"), dict) and "token" in safe["d"]:
            safe["d"]["token"] = "<redacted>"
        self.gateway_received.append(safe)
        self._record("gateway_recv", {"index": conn.index, "payload": safe})
        if op == 1:
            self.heartbeats += 1
            self._record("heartbeat", {"index": conn.index, "seq": d})
            await conn.send(self._op(11))
        elif op == 2:
            await self._identify(conn, d if isinstance(d, dict) else {})
        elif op == 6:
            await self._resume(conn, d if isinstance(d, dict) else {})
        elif conn.session is None:
            await self._close_conn(conn, 4003, "Not authenticated.")
        elif op in (3, 4, 31):
            return  # presence / voice state / soundboard: accepted, nothing to answer
        elif op == 8:
            await self._request_members(conn, d if isinstance(d, dict) else {})
        else:
            await self._close_conn(conn, 4001, "Unknown opcode.")

    def _ready_payload(self, session: GatewaySession, guilds: Sequence[FakeGuild]) -> Json:
        ready: Json = {
            "v": API_VERSION,
            "user_settings": {},
            "user": {
                **self.users[self.bot_id],
                "verified": True,
                "mfa_enabled": False,
                "email": None,
            },
            "session_type": "normal",
            "session_id": session.session_id,
            "resume_gateway_url": self.resume_gateway_url,
            "relationships": [],
            "private_channels": [],
            "presences": [],
            "guilds": [{"id": str(g.id), "unavailable": True} for g in guilds],
            "guild_join_requests": [],
            "geo_ordered_rtc_regions": ["us-east", "us-central", "us-south", "us-west"],
            "auth": {},
            "application": {"id": str(self.application_id), "flags": self.application_flags},
            "_trace": _TRACE,
        }
        if "shard" in session.identify:
            ready["shard"] = list(session.shard)
        return ready

    def guild_create_payload(self, guild: FakeGuild, intents: int) -> Json:
        """The GUILD_CREATE a session with these intents receives for a guild."""
        if intents & INTENT_GUILD_MEMBERS:
            members = list(guild.members.values())
        else:
            members = [guild.members[self.bot_id]]
        channels = [{k: v for k, v in c.items() if k != "guild_id"} for c in guild.channels]
        return {
            **guild.data,
            "roles": guild.roles,
            "joined_at": guild.joined_at,
            "large": len(guild.members) > 250,
            "unavailable": False,
            "member_count": len(guild.members),
            "voice_states": [],
            "members": members,
            "channels": channels,
            "threads": [],
            "presences": [],
            "stage_instances": [],
            "guild_scheduled_events": [],
            "soundboard_sounds": [],
            "lazy": True,
            "application_command_counts": {},
            "embedded_activities": [],
            "version": 0,
        }

    async def _identify(self, conn: _Conn, d: Json) -> None:
        if conn.session is not None:
            await self._close_conn(conn, 4005, "Already authenticated.")
            return
        if d.get("token") != self.token:
            await self._close_conn(conn, 4004, "Authentication failed.")
            return
        props = d.get("properties")
        if not isinstance(props, dict) or not {"os", "browser", "device"} <= set(props):
            await self._close_conn(conn, 4002, "Error while decoding payload.")
            return
        intents = d.get("intents")
        if not isinstance(intents, int) or isinstance(intents, bool) or not 0 <= intents < 1 << 26:
            await self._close_conn(conn, 4013, "Invalid intent(s).")
            return
        if intents & PRIVILEGED_INTENTS & ~self.privileged_intents:
            await self._close_conn(conn, 4014, "Disallowed intent(s).")
            return
        shard = d.get("shard", [0, 1])
        if not isinstance(shard, list) or len(shard) != 2 or not 0 <= shard[0] < shard[1]:
            await self._close_conn(conn, 4010, "Invalid shard.")
            return
        identify = {k: v for k, v in d.items() if k != "token"}
        session = GatewaySession(secrets.token_hex(16), intents, (shard[0], shard[1]), identify)
        self.identifies.append(identify)
        self._record(
            "identify",
            {"index": conn.index, "session_id": session.session_id, "identify": identify},
        )
        self.sessions[session.session_id] = session
        conn.session = session
        session.conn = conn
        guilds = [
            g for g in self.guilds.values() if (g.id >> 22) % session.shard[1] == session.shard[0]
        ]
        await self._send_dispatch(session, "READY", self._ready_payload(session, guilds))
        if intents & INTENT_GUILDS:
            for guild in guilds:
                await self._send_dispatch(
                    session, "GUILD_CREATE", self.guild_create_payload(guild, intents)
                )

    async def _resume(self, conn: _Conn, d: Json) -> None:
        seq = d.get("seq") or 0
        info = {"index": conn.index, "session_id": d.get("session_id"), "seq": d.get("seq")}
        self.resumes.append(info)
        self._record("resume", info)
        await self._resume_gate.wait()
        if conn.session is not None:
            await self._close_conn(conn, 4005, "Already authenticated.")
            return
        if d.get("token") != self.token:
            await self._close_conn(conn, 4004, "Authentication failed.")
            return
        session = self.sessions.get(str(d.get("session_id")))
        if session is None or session.invalidated or seq > session.seq:
            self._record("invalid_session", info)
            await conn.send(self._op(9, False))
            return
        old = session.conn
        if old is not None and not old.closed:
            old.dropped = True
            old.closed = True
            if old.transport is not None:
                old.transport.abort()
        async with session.lock:
            conn.session = session
            session.conn = conn
            missed = [p for p in session.log if p["s"] > seq]
            for payload in missed:
                await conn.send(payload)
            session.seq += 1
            resumed = {"op": 0, "t": "RESUMED", "s": session.seq, "d": {"_trace": _TRACE}}
            session.log.append(resumed)
            await conn.send(resumed)
        self._record("resumed", {**info, "replayed": [p["t"] for p in missed]})

    async def _request_members(self, conn: _Conn, d: Json) -> None:
        session = conn.session
        assert session is not None
        raw_ids = d.get("guild_id")
        guild_ids = raw_ids if isinstance(raw_ids, list) else [raw_ids]
        for raw in guild_ids:
            guild = self.guilds.get(int(raw))
            if guild is None:
                continue
            members = list(guild.members.values())
            if d.get("user_ids"):
                wanted = {int(u) for u in d["user_ids"]}
                members = [m for m in members if int(m["user"]["id"]) in wanted]
            elif d.get("query"):
                q = str(d["query"]).lower()
                members = [m for m in members if m["user"]["username"].lower().startswith(q)]
            if d.get("limit"):
                members = members[: int(d["limit"])]
            chunk: Json = {
                "guild_id": str(guild.id),
                "members": members,
                "chunk_index": 0,
                "chunk_count": 1,
                "not_found": [],
            }
            if d.get("presences"):
                chunk["presences"] = []
            if d.get("nonce"):
                chunk["nonce"] = d["nonce"]
            await self._send_dispatch(session, "GUILD_MEMBERS_CHUNK", chunk)

    # ------------------------------------------------------------------ gateway faults

    def live_connections(self) -> list[_Conn]:
        """Gateway connections that are open and bound to a session."""
        return [c for c in self._conns if not c.closed and c.session is not None]

    async def drop_gateway(self, *, code: int | None = None) -> int:
        """Cut every live gateway socket; sessions stay resumable. Returns how many.

        ``code=None`` aborts the TCP connection with no close frame (a network drop);
        otherwise a close frame with that code is sent (4000 = "unknown error").
        Events dispatched until the client RESUMEs are kept and replayed.
        """
        conns = self.live_connections()
        for conn in conns:
            conn.dropped = True
            conn.closed = True
            session = conn.session
            if session is not None and session.conn is conn:
                session.conn = None
            self._record("gateway_drop", {"index": conn.index, "code": code})
            if code is None:
                if conn.transport is not None:
                    conn.transport.abort()
            else:
                with contextlib.suppress(ConnectionError, RuntimeError):
                    await conn.ws.close(code=code, message=b"dropped by test")
        return len(conns)

    async def request_reconnect(self) -> None:
        """Send op 7 RECONNECT to every live connection (client should resume)."""
        for conn in self.live_connections():
            with contextlib.suppress(ConnectionError, RuntimeError):
                await conn.send(self._op(7))

    async def invalidate_sessions(self, *, resumable: bool = False) -> None:
        """Send op 9 INVALID_SESSION; non-resumable makes the client IDENTIFY again."""
        for conn in self.live_connections():
            if not resumable and conn.session is not None:
                conn.session.invalidated = True
            with contextlib.suppress(ConnectionError, RuntimeError):
                await conn.send(self._op(9, resumable))

    @contextlib.contextmanager
    def holding_resumes(self) -> Iterator[None]:
        """While inside, RESUMEs are recorded but not answered, so tests can queue events."""
        self._resume_gate.clear()
        try:
            yield
        finally:
            self._resume_gate.set()


def _number_components_modal(data: Json) -> Json:
    """Store a modal with component ids assigned, as Discord echoes them on submit."""
    modal = copy.deepcopy(data)
    modal["components"] = _number_components(modal.get("components") or [])
    return modal
