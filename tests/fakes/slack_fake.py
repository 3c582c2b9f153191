"""A protocol-faithful fake Slack that runs on 127.0.0.1 inside the test process.

Why: the real slack-bolt and slack_sdk must be exercised end to end (signature checks, acks,
retries, Socket Mode) without contacting Slack or anything else off the loopback interface.
The fake speaks the wire protocol those libraries speak:

* a Web API under ``base_url`` (``http://127.0.0.1:PORT/api/``) that answers Slack-shaped JSON,
  checks bearer tokens per team and records every call;
* ``response_url`` endpoints, a file-upload endpoint (``files_upload_v2``) and file downloads;
* a Socket Mode websocket endpoint handed out by ``apps.connections.open``;
* builders for Slack payloads and for signed HTTP requests (slash commands, interactivity,
  events), plus a tiny client to POST them to the app under test.

Behaviour that is an approximation (not documented by Slack) is marked "approximation".
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import copy
import hashlib
import hmac
import ipaddress
import itertools
import json
import mimetypes
import secrets
import socket
import time
import uuid
from collections import deque
from collections.abc import AsyncIterator, Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, TypedDict, TypeVar, Unpack
from urllib.parse import urlencode, urlsplit

from aiohttp import ClientSession, ClientTimeout, WSCloseCode, WSMsgType, web

if TYPE_CHECKING:
    from slack_bolt.async_app import AsyncApp

T = TypeVar("T")
JSON = dict[str, Any]

DEFAULT_SIGNING_SECRET = "crossroads-fake-signing-secret"
DEFAULT_SCOPES = ("commands", "chat:write", "im:write", "users:read", "files:write")
MESSAGE_BLOCK_LIMIT = 50
VIEW_BLOCK_LIMIT = 100
RESPONSE_URL_MAX_USES = 5
RESPONSE_URL_TTL = 30 * 60.0

_INTERACTIVE_ELEMENT_TYPES = frozenset(
    {
        "button",
        "static_select",
        "external_select",
        "users_select",
        "conversations_select",
        "channels_select",
        "multi_static_select",
        "multi_external_select",
        "multi_users_select",
        "multi_conversations_select",
        "multi_channels_select",
        "overflow",
        "datepicker",
        "timepicker",
        "datetimepicker",
        "checkboxes",
        "radio_buttons",
        "plain_text_input",
        "number_input",
        "email_text_input",
        "url_text_input",
        "rich_text_input",
    }
)


# --------------------------------------------------------------------------------------------
# errors


class SlackApiFailure(Exception):
    """Raised inside a method handler so the fake answers ``{"ok": false, "error": ...}``."""

    def __init__(
        self, error: str, *, status: int = 200, extra: Mapping[str, Any] | None = None
    ) -> None:
        super().__init__(error)
        self.error = error
        self.status = status
        self.extra: JSON = dict(extra or {})


class SocketClosedError(ConnectionError):
    """The Socket Mode connection closed before the app acknowledged an envelope."""


# --------------------------------------------------------------------------------------------
# workspace model


@dataclass
class FakeTeam:
    """A workspace the app is installed in; its bot token authenticates Web API calls."""

    id: str
    name: str
    domain: str
    bot_token: str
    bot_user_id: str
    bot_id: str
    scopes: tuple[str, ...] = DEFAULT_SCOPES
    enterprise_id: str | None = None
    enterprise_name: str | None = None
    general_channel_id: str = ""

    @property
    def url(self) -> str:
        """Workspace URL as auth.test reports it (never contacted)."""
        return f"https://{self.domain}.slack.com/"


@dataclass
class FakeUser:
    """A workspace member; users.info serves these fields."""

    id: str
    team_id: str
    name: str
    real_name: str = ""
    display_name: str = ""
    is_admin: bool = False
    is_owner: bool = False
    is_primary_owner: bool = False
    is_bot: bool = False
    deleted: bool = False
    tz: str = "Europe/Zurich"
    tz_label: str = "Central European Time"
    tz_offset: int = 3600
    locale: str = "en-US"
    email: str | None = None
    # Enterprise Grid: the same user id is a member of other workspaces too.
    other_team_ids: tuple[str, ...] = ()

    def in_team(self, team_id: str) -> bool:
        """Whether the user is a member of the workspace (home or another one)."""
        return team_id == self.team_id or team_id in self.other_team_ids

    def to_slack(self, *, include_locale: bool = False) -> JSON:
        """The users.info ``user`` object."""
        profile: JSON = {
            "real_name": self.real_name or self.name,
            "real_name_normalized": self.real_name or self.name,
            "display_name": self.display_name,
            "display_name_normalized": self.display_name,
            "team": self.team_id,
        }
        if self.email is not None:
            profile["email"] = self.email
        data: JSON = {
            "id": self.id,
            "team_id": self.team_id,
            "name": self.name,
            "deleted": self.deleted,
            "color": "9f69e7",
            "real_name": self.real_name or self.name,
            "tz": self.tz,
            "tz_label": self.tz_label,
            "tz_offset": self.tz_offset,
            "profile": profile,
            "is_admin": self.is_admin,
            "is_owner": self.is_owner,
            "is_primary_owner": self.is_primary_owner,
            "is_restricted": False,
            "is_ultra_restricted": False,
            "is_bot": self.is_bot,
            "is_app_user": False,
            "updated": 1_700_000_000,
        }
        if include_locale:
            data["locale"] = self.locale
        return data


@dataclass
class FakeChannel:
    """A conversation: a DM (``D…``), a group DM (``G…``) or a channel (``C…``)."""

    id: str
    team_id: str
    name: str
    is_im: bool = False
    is_mpim: bool = False
    user: str | None = None
    members: tuple[str, ...] = ()
    bot_is_member: bool = True
    created: int = field(default_factory=lambda: int(time.time()))


@dataclass
class TokenInfo:
    """What a token authenticates as."""

    token: str
    kind: str  # "bot" | "user" | "app"
    team_id: str | None
    user_id: str | None = None
    revoked: bool = False


@dataclass
class FakeMessage:
    """A message in a conversation as the fake currently stores it."""

    channel: str
    ts: str
    team_id: str
    text: str
    blocks: list[JSON]
    attachments: list[JSON]
    user: str | None
    bot_id: str | None
    app_id: str | None
    thread_ts: str | None = None
    metadata: JSON | None = None
    files: list[JSON] = field(default_factory=list)
    via: str = "chat.postMessage"
    deleted: bool = False
    edited_ts: str | None = None
    history: list[JSON] = field(default_factory=list)

    def to_slack(self) -> JSON:
        """The ``message`` object Slack returns and puts in interaction payloads."""
        data: JSON = {
            "type": "message",
            "text": self.text,
            "ts": self.ts,
            "team": self.team_id,
        }
        if self.user is not None:
            data["user"] = self.user
        if self.bot_id is not None:
            data["bot_id"] = self.bot_id
            data["app_id"] = self.app_id
            data["bot_profile"] = {
                "id": self.bot_id,
                "app_id": self.app_id,
                "name": "Crossroads",
                "deleted": False,
                "team_id": self.team_id,
            }
        if self.blocks:
            data["blocks"] = copy.deepcopy(self.blocks)
        if self.attachments:
            data["attachments"] = copy.deepcopy(self.attachments)
        if self.thread_ts is not None:
            data["thread_ts"] = self.thread_ts
        if self.metadata is not None:
            data["metadata"] = copy.deepcopy(self.metadata)
        if self.files:
            data["files"] = copy.deepcopy(self.files)
            data["upload"] = False
        if self.edited_ts is not None:
            data["edited"] = {"user": self.user, "ts": self.edited_ts}
        return data


@dataclass
class FakeEphemeral:
    """An ephemeral message (chat.postEphemeral or an ephemeral response_url post)."""

    channel: str
    user: str
    ts: str
    team_id: str
    text: str
    blocks: list[JSON]
    attachments: list[JSON]
    thread_ts: str | None = None
    via: str = "chat.postEphemeral"
    deleted: bool = False
    history: list[JSON] = field(default_factory=list)


@dataclass
class FakeView:
    """A modal (or App Home) view opened, pushed, updated or published by the app."""

    id: str
    team_id: str
    user_id: str | None
    definition: JSON
    hash: str
    root_view_id: str
    previous_view_id: str | None
    app_id: str
    bot_id: str
    state_values: JSON = field(default_factory=dict)
    history: list[JSON] = field(default_factory=list)
    via: str = "views.open"

    @property
    def type(self) -> str:
        """``modal`` or ``home``."""
        return str(self.definition.get("type", ""))

    @property
    def callback_id(self) -> str:
        """The app's callback_id for the view (empty when unset)."""
        return str(self.definition.get("callback_id") or "")

    @property
    def private_metadata(self) -> str:
        """The app's private_metadata (empty when unset)."""
        return str(self.definition.get("private_metadata") or "")

    @property
    def blocks(self) -> list[JSON]:
        """The stored blocks, with the block_ids/action_ids Slack fills in."""
        return list(self.definition.get("blocks") or [])

    def to_slack(self) -> JSON:
        """The ``view`` object of views.* responses and interaction payloads."""
        d = self.definition
        return {
            "id": self.id,
            "team_id": self.team_id,
            "type": self.type,
            "blocks": copy.deepcopy(self.blocks),
            "private_metadata": self.private_metadata,
            "callback_id": self.callback_id,
            "state": {"values": copy.deepcopy(self.state_values)},
            "hash": self.hash,
            "title": copy.deepcopy(d.get("title")),
            "clear_on_close": bool(d.get("clear_on_close", False)),
            "notify_on_close": bool(d.get("notify_on_close", False)),
            "close": copy.deepcopy(d.get("close")),
            "submit": copy.deepcopy(d.get("submit")),
            "previous_view_id": self.previous_view_id,
            "root_view_id": self.root_view_id,
            "app_id": self.app_id,
            "external_id": str(d.get("external_id") or ""),
            "app_installed_team_id": self.team_id,
            "bot_id": self.bot_id,
        }


@dataclass
class FakeFile:
    """A file uploaded through files.upload or the files_upload_v2 three-step flow."""

    id: str
    team_id: str
    user_id: str | None
    filename: str
    title: str
    declared_length: int | None
    content: bytes | None = None
    completed: bool = False
    channels: list[str] = field(default_factory=list)
    initial_comment: str | None = None
    thread_ts: str | None = None
    alt_txt: str | None = None
    snippet_type: str | None = None
    via: str = "files_upload_v2"
    created: int = field(default_factory=lambda: int(time.time()))

    @property
    def text(self) -> str:
        """The uploaded content decoded as UTF-8 (empty before the upload step)."""
        return (self.content or b"").decode("utf-8")

    def to_slack(self, root_url: str) -> JSON:
        """The Slack ``file`` object."""
        mimetype = mimetypes.guess_type(self.filename)[0] or "text/plain"
        ext = self.filename.rsplit(".", 1)[-1].lower() if "." in self.filename else "text"
        return {
            "id": self.id,
            "created": self.created,
            "timestamp": self.created,
            "name": self.filename,
            "title": self.title,
            "mimetype": mimetype,
            "filetype": ext,
            "pretty_type": ext.capitalize(),
            "user": self.user_id,
            "user_team": self.team_id,
            "size": len(self.content or b""),
            "mode": "hosted",
            "is_external": False,
            "is_public": False,
            "url_private": f"{root_url}/files/{self.id}/{self.filename}",
            "url_private_download": f"{root_url}/files/{self.id}/{self.filename}",
            "permalink": f"{root_url}/files/{self.id}/{self.filename}",
            "channels": list(self.channels),
            "groups": [],
            "ims": [c for c in self.channels if c.startswith("D")],
            "comments_count": 0,
        }


# --------------------------------------------------------------------------------------------
# records


@dataclass
class ApiCall:
    """One Web API request as the fake received and answered it."""

    index: int
    method: str
    http_method: str
    token: str | None
    team_id: str | None
    params: JSON
    files: dict[str, bytes]
    content_type: str
    status: int
    response: JSON
    fault: str | None = None
    at: float = field(default_factory=time.monotonic)

    @property
    def ok(self) -> bool:
        """True when the call got HTTP 200 with ``"ok": true``."""
        return self.status == 200 and self.response.get("ok") is True

    @property
    def error(self) -> str | None:
        """The Slack error code of a failed call."""
        err = self.response.get("error")
        return str(err) if err is not None else None

    def arg(self, name: str, default: Any = None) -> Any:
        """A parameter, JSON-decoded when it was sent form-encoded (blocks, view, files…)."""
        value = self.params.get(name, default)
        if isinstance(value, str) and value[:1] in ("[", "{"):
            with contextlib.suppress(json.JSONDecodeError):
                return json.loads(value)
        return value


@dataclass
class ResponseUrlPost:
    """One POST to a ``response_url`` the fake issued."""

    index: int
    response_id: str
    body: JSON
    status: int
    outcome: str  # posted_ephemeral | posted_in_channel | replaced | deleted | error:<code>
    channel: str | None
    user_id: str | None
    at: float = field(default_factory=time.monotonic)


@dataclass
class SocketAck:
    """An acknowledgement the app sent back over the Socket Mode websocket."""

    envelope_id: str
    payload: JSON | None
    raw: JSON
    connection_id: int


@dataclass(eq=False)
class SocketConnection:
    """One Socket Mode websocket opened by the app."""

    id: int
    app_id: str
    ws: web.WebSocketResponse
    transport: asyncio.BaseTransport | None
    received: list[JSON] = field(default_factory=list)
    sent: list[JSON] = field(default_factory=list)
    is_open: bool = True
    close_code: int | None = None


@dataclass
class _Fault:
    status: int
    error: str | None
    retry_after: int | None
    remaining: int


@dataclass
class _Trigger:
    id: str
    team_id: str
    user_id: str
    issued_at: float
    view_id: str | None = None
    used: bool = False


@dataclass
class _ResponseUrl:
    id: str
    team_id: str
    channel_id: str | None
    user_id: str
    issued_at: float
    message_ts: str | None = None
    ephemeral_ts: str | None = None
    uses: int = 0


@dataclass
class _OAuthGrant:
    code: str
    team_id: str
    team_name: str
    installer_user_id: str
    enterprise_id: str | None
    enterprise_name: str | None
    scopes: tuple[str, ...]
    user_scopes: tuple[str, ...]
    is_enterprise_install: bool
    redirect_uri: str | None
    used: bool = False


@dataclass
class _Ctx:
    method: str
    token: TokenInfo
    team: FakeTeam
    params: JSON
    files: dict[str, tuple[str | None, bytes]]


# --------------------------------------------------------------------------------------------
# small helpers


def _arg_str(params: Mapping[str, Any], name: str) -> str | None:
    value = params.get(name)
    if value is None:
        return None
    return value if isinstance(value, str) else str(value)


def _arg_bool(params: Mapping[str, Any], name: str) -> bool:
    value = params.get(name)
    if isinstance(value, bool):
        return value
    if value is None:
        return False
    return str(value).lower() in ("1", "true", "yes")


def _arg_json(params: Mapping[str, Any], name: str, error: str = "invalid_arguments") -> Any:
    """Blocks/views/files arrive as lists/dicts in JSON bodies and as strings in forms."""
    value = params.get(name)
    if isinstance(value, str):
        try:
            return json.loads(value)
        except json.JSONDecodeError as exc:
            raise SlackApiFailure(error) from exc
    return value


def _text_of(obj: Any) -> str:
    if isinstance(obj, Mapping):
        return str(obj.get("text") or "")
    return "" if obj is None else str(obj)


def _iter_elements(block: Mapping[str, Any]) -> Iterator[JSON]:
    """Interactive elements a block holds (actions elements, accessory, input element)."""
    btype = block.get("type")
    if btype == "actions":
        yield from (e for e in block.get("elements") or [] if isinstance(e, dict))
    elif btype == "section" and isinstance(block.get("accessory"), dict):
        yield block["accessory"]
    elif btype == "input" and isinstance(block.get("element"), dict):
        yield block["element"]


def _all_options(element: Mapping[str, Any]) -> list[JSON]:
    options = [o for o in element.get("options") or [] if isinstance(o, dict)]
    for group in element.get("option_groups") or []:
        options.extend(o for o in group.get("options") or [] if isinstance(o, dict))
    return options


def _option_for(element: Mapping[str, Any], value: Any) -> JSON:
    for option in _all_options(element):
        if option.get("value") == value:
            return {k: copy.deepcopy(v) for k, v in option.items() if k in ("text", "value")}
    raise ValueError(f"element {element.get('action_id')!r} has no option with value {value!r}")


def _selection_fields(element: Mapping[str, Any], value: Any) -> JSON:
    """The type-specific fields Slack sends for an element's selection or typed value."""
    etype = element.get("type")
    if etype in ("static_select", "external_select", "overflow", "radio_buttons"):
        return {"selected_option": None if value is None else _option_for(element, value)}
    if etype in ("multi_static_select", "multi_external_select", "checkboxes"):
        values = [] if value is None else list(value if isinstance(value, list) else [value])
        return {"selected_options": [_option_for(element, v) for v in values]}
    if etype == "users_select":
        return {"selected_user": value}
    if etype == "multi_users_select":
        return {"selected_users": list(value or [])}
    if etype == "conversations_select":
        return {"selected_conversation": value}
    if etype == "multi_conversations_select":
        return {"selected_conversations": list(value or [])}
    if etype == "channels_select":
        return {"selected_channel": value}
    if etype == "multi_channels_select":
        return {"selected_channels": list(value or [])}
    if etype == "datepicker":
        return {"selected_date": value}
    if etype == "timepicker":
        return {"selected_time": value}
    if etype == "datetimepicker":
        return {"selected_date_time": value}
    return {"value": None if value is None else str(value)}


def _find_element(
    blocks: Sequence[Mapping[str, Any]], action_id: str, block_id: str | None
) -> tuple[str, JSON]:
    for block in blocks:
        if block_id is not None and block.get("block_id") != block_id:
            continue
        for element in _iter_elements(block):
            if element.get("action_id") == action_id:
                return str(block.get("block_id")), dict(element)
    raise ValueError(f"no element with action_id={action_id!r} (block_id={block_id!r})")


def _is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def _validate_blocks(blocks: Any, *, limit: int, path: str = "/blocks") -> list[str]:
    """The subset of Block Kit limits Slack enforces that adapters are likely to hit."""
    if not isinstance(blocks, list):
        return [f"must be an array [json-pointer:{path}]"]
    errors: list[str] = []
    if len(blocks) > limit:
        errors.append(f"must contain at most {limit} items [json-pointer:{path}]")
    seen_block_ids: set[str] = set()
    for i, block in enumerate(blocks):
        where = f"{path}/{i}"
        if not isinstance(block, dict) or not isinstance(block.get("type"), str):
            errors.append(f"missing required field: type [json-pointer:{where}]")
            continue
        block_id = block.get("block_id")
        if block_id is not None:
            if len(str(block_id)) > 255:
                errors.append(f"must be less than 256 characters [json-pointer:{where}/block_id]")
            if block_id in seen_block_ids:
                errors.append(f"duplicate block_id [json-pointer:{where}/block_id]")
            seen_block_ids.add(str(block_id))
        btype = block["type"]
        if btype == "section":
            if len(_text_of(block.get("text"))) > 3000:
                errors.append(f"must be less than 3001 characters [json-pointer:{where}/text/text]")
            fields = block.get("fields") or []
            if len(fields) > 10:
                errors.append(f"must contain at most 10 items [json-pointer:{where}/fields]")
            if "text" not in block and not fields:
                errors.append(f"must provide text or fields [json-pointer:{where}]")
        elif btype == "header" and len(_text_of(block.get("text"))) > 150:
            errors.append(f"must be less than 151 characters [json-pointer:{where}/text/text]")
        elif btype == "actions" and len(block.get("elements") or []) > 25:
            errors.append(f"must contain at most 25 items [json-pointer:{where}/elements]")
        seen_action_ids: set[str] = set()
        for element in _iter_elements(block):
            action_id = element.get("action_id")
            if action_id is not None:
                if len(str(action_id)) > 255:
                    errors.append(
                        f"action_id must be less than 256 characters [json-pointer:{where}]"
                    )
                if action_id in seen_action_ids:
                    errors.append(f"duplicate action_id {action_id!r} [json-pointer:{where}]")
                seen_action_ids.add(str(action_id))
            if element.get("type") == "button" and len(_text_of(element.get("text"))) > 75:
                errors.append(f"button text must be less than 76 characters [json-pointer:{where}]")
            if len(_all_options(element)) > 100:
                errors.append(f"must contain at most 100 options [json-pointer:{where}]")
    return errors


# --------------------------------------------------------------------------------------------
# the fake


class SlackFake:
    """Fake Slack Web API + Socket Mode server on 127.0.0.1 (ephemeral port).

    Why: gives the real slack-bolt/slack_sdk a server to talk to, and gives tests the recorded
    traffic and the current workspace state (messages, views, files) to assert on.
    """

    def __init__(
        self,
        *,
        signing_secret: str = DEFAULT_SIGNING_SECRET,
        app_id: str = "A0CROSSRDS",
        client_id: str = "1111111111.2222222222",
        client_secret: str = "crossroads-fake-client-secret",
        verification_token: str = "crossroads-fake-verification-token",
        team_id: str = "T0CROSS01",
        team_name: str = "Crossroads Lab",
        team_domain: str = "crossroads-lab",
        enterprise_id: str | None = None,
        trigger_ttl: float = 3.0,
        host: str = "127.0.0.1",
    ) -> None:
        if not _is_loopback(host):
            raise ValueError(f"the fake only binds loopback addresses, not {host!r}")
        self.host = host
        self.signing_secret = signing_secret
        self.app_id = app_id
        self.client_id = client_id
        self.client_secret = client_secret
        self.verification_token = verification_token
        self.trigger_ttl = trigger_ttl
        self.oauth_redirect_uri: str | None = None

        self.teams: dict[str, FakeTeam] = {}
        self.users: dict[str, FakeUser] = {}
        self.channels: dict[str, FakeChannel] = {}
        self.tokens: dict[str, TokenInfo] = {}
        self.messages: list[FakeMessage] = []
        self.ephemerals: list[FakeEphemeral] = []
        self.views: dict[str, FakeView] = {}
        self.files: dict[str, FakeFile] = {}

        self.calls: list[ApiCall] = []
        # Called with each recorded Web API call (e.g. a benchmark timing first posts
        # without scanning every call on every change).
        self.call_listeners: list[Callable[[ApiCall], None]] = []
        self.response_posts: list[ResponseUrlPost] = []
        self.socket_connections: list[SocketConnection] = []
        self.socket_messages: list[JSON] = []
        self.socket_envelopes: list[JSON] = []

        self._ids = itertools.count(1)
        self._last_ts = 0.0
        self._faults: dict[str, deque[_Fault]] = {}
        self._triggers: dict[str, _Trigger] = {}
        self._response_urls: dict[str, _ResponseUrl] = {}
        self._oauth_grants: dict[str, _OAuthGrant] = {}
        self._tickets: dict[str, str] = {}
        self._dms: dict[tuple[str, tuple[str, ...]], str] = {}
        self._pending_acks: dict[str, tuple[int, asyncio.Future[SocketAck]]] = {}
        self._waiters: list[tuple[Callable[[], Any], asyncio.Future[Any]]] = []
        self._runner: web.AppRunner | None = None
        self._port: int | None = None

        self.team = self.add_team(
            team_id, team_name, domain=team_domain, enterprise_id=enterprise_id
        )
        self.bot_token = self.team.bot_token
        self.app_token = f"xapp-1-{app_id}-{next(self._ids)}-fakeapptoken"
        self.tokens[self.app_token] = TokenInfo(self.app_token, "app", None)

        self.payloads = PayloadFactory(self)
        self.signer = RequestSigner(signing_secret)

        self._methods: dict[str, Callable[[_Ctx], JSON]] = {
            "api.test": lambda ctx: {"ok": True, "args": dict(ctx.params)},
            "auth.test": self._auth_test,
            "conversations.open": self._conversations_open,
            "chat.postMessage": self._chat_post_message,
            "chat.update": self._chat_update,
            "chat.delete": self._chat_delete,
            "chat.postEphemeral": self._chat_post_ephemeral,
            "views.open": self._views_open,
            "views.push": self._views_push,
            "views.update": self._views_update,
            "views.publish": self._views_publish,
            "users.info": self._users_info,
            "conversations.history": self._conversations_history,
            "files.upload": self._files_upload,
            "files.getUploadURLExternal": self._files_get_upload_url,
            "files.completeUploadExternal": self._files_complete_upload,
        }

    # -- lifecycle ------------------------------------------------------------------------

    async def start(self) -> SlackFake:
        """Bind an ephemeral port on the loopback interface and start serving."""
        app = web.Application()
        app.router.add_route("*", "/api/{method}", self._handle_api)
        app.router.add_post("/response/{rid:.+}", self._handle_response_url)
        app.router.add_post("/upload/v1/{file_id}", self._handle_upload)
        app.router.add_get("/files/{file_id}/{name}", self._handle_file_download)
        app.router.add_get("/link/", self._handle_socket)
        runner = web.AppRunner(app, shutdown_timeout=1.0, access_log=None)
        await runner.setup()
        site = web.TCPSite(runner, self.host, 0)
        await site.start()
        self._runner = runner
        self._port = int(runner.addresses[0][1])
        return self

    async def stop(self) -> None:
        """Close open sockets, fail pending waits and stop the server."""
        for conn in self.socket_connections:
            if conn.is_open:
                try:
                    async with asyncio.timeout(1.0):
                        await conn.ws.close(code=WSCloseCode.GOING_AWAY, message=b"fake stopping")
                except TimeoutError:
                    if conn.transport is not None:
                        conn.transport.abort()  # type: ignore[attr-defined]
        for _, fut in self._pending_acks.values():
            if not fut.done():
                fut.set_exception(SocketClosedError("fake Slack stopped"))
        self._pending_acks.clear()
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    async def __aenter__(self) -> SlackFake:
        return await self.start()

    async def __aexit__(self, *exc_info: object) -> None:
        await self.stop()

    @property
    def port(self) -> int:
        """The bound port (after start())."""
        if self._port is None:
            raise RuntimeError("SlackFake is not started")
        return self._port

    @property
    def root_url(self) -> str:
        """``http://127.0.0.1:PORT`` without a trailing slash."""
        return f"http://{self.host}:{self.port}"

    @property
    def base_url(self) -> str:
        """Web API base for ``AsyncWebClient(base_url=...)``; keeps the trailing slash."""
        return f"{self.root_url}/api/"

    # -- workspace setup ------------------------------------------------------------------

    def new_id(self, prefix: str) -> str:
        """A fresh Slack-looking id (``prefix`` + 9 uppercase alphanumerics)."""
        return f"{prefix}0{next(self._ids):08X}"

    def add_team(
        self,
        team_id: str,
        name: str,
        *,
        domain: str | None = None,
        enterprise_id: str | None = None,
        enterprise_name: str | None = None,
        scopes: Sequence[str] = DEFAULT_SCOPES,
        bot_token: str | None = None,
    ) -> FakeTeam:
        """Register a workspace with the app installed (bot user, bot token, #general)."""
        bot_user_id = self.new_id("U")
        team = FakeTeam(
            id=team_id,
            name=name,
            domain=domain or team_id.lower(),
            bot_token=bot_token or f"xoxb-{team_id}-{next(self._ids)}-fakebottoken",
            bot_user_id=bot_user_id,
            bot_id=self.new_id("B"),
            scopes=tuple(scopes),
            enterprise_id=enterprise_id,
            enterprise_name=enterprise_name,
        )
        self.teams[team_id] = team
        self.tokens[team.bot_token] = TokenInfo(team.bot_token, "bot", team_id, bot_user_id)
        self.users[bot_user_id] = FakeUser(
            id=bot_user_id, team_id=team_id, name="crossroads", real_name="Crossroads", is_bot=True
        )
        general = self.add_channel(team_id, "general")
        team.general_channel_id = general.id
        return team

    def add_user(
        self,
        user_id: str,
        *,
        team_id: str | None = None,
        name: str | None = None,
        real_name: str = "",
        display_name: str = "",
        is_admin: bool = False,
        is_owner: bool = False,
        is_primary_owner: bool = False,
        is_bot: bool = False,
        deleted: bool = False,
        tz: str = "Europe/Zurich",
        tz_label: str = "Central European Time",
        tz_offset: int = 3600,
        locale: str = "en-US",
        email: str | None = None,
        other_team_ids: Sequence[str] = (),
    ) -> FakeUser:
        """Register (or replace) a member; users.info reports these fields.

        ``other_team_ids``: further workspaces the same user id belongs to (Grid).
        """
        user = FakeUser(
            id=user_id,
            team_id=team_id or self.team.id,
            name=name or user_id.lower(),
            real_name=real_name,
            display_name=display_name,
            is_admin=is_admin,
            is_owner=is_owner,
            is_primary_owner=is_primary_owner,
            is_bot=is_bot,
            deleted=deleted,
            tz=tz,
            tz_label=tz_label,
            tz_offset=tz_offset,
            locale=locale,
            email=email,
            other_team_ids=tuple(other_team_ids),
        )
        self.users[user_id] = user
        return user

    def ensure_user(self, user_id: str, team_id: str | None = None) -> FakeUser:
        """The user, registered with defaults if unknown (a person who clicks exists)."""
        user = self.users.get(user_id)
        return user if user is not None else self.add_user(user_id, team_id=team_id)

    def add_channel(
        self,
        team_id: str,
        name: str,
        *,
        channel_id: str | None = None,
        bot_is_member: bool = True,
    ) -> FakeChannel:
        """Register a public channel; posting needs the bot to be a member."""
        channel = FakeChannel(
            id=channel_id or self.new_id("C"),
            team_id=team_id,
            name=name,
            bot_is_member=bot_is_member,
        )
        self.channels[channel.id] = channel
        return channel

    def add_oauth_code(
        self,
        *,
        team_id: str,
        team_name: str,
        installer_user_id: str,
        code: str | None = None,
        enterprise_id: str | None = None,
        enterprise_name: str | None = None,
        scopes: Sequence[str] = DEFAULT_SCOPES,
        user_scopes: Sequence[str] = (),
        is_enterprise_install: bool = False,
        redirect_uri: str | None = None,
    ) -> str:
        """A one-time code that oauth.v2.access exchanges for a bot token of a new team."""
        grant = _OAuthGrant(
            code=code or f"{next(self._ids)}.{secrets.token_hex(8)}",
            team_id=team_id,
            team_name=team_name,
            installer_user_id=installer_user_id,
            enterprise_id=enterprise_id,
            enterprise_name=enterprise_name,
            scopes=tuple(scopes),
            user_scopes=tuple(user_scopes),
            is_enterprise_install=is_enterprise_install,
            redirect_uri=redirect_uri,
        )
        self._oauth_grants[grant.code] = grant
        return grant.code

    def revoke_token(self, token: str) -> None:
        """Later calls with the token answer ``token_revoked``."""
        self.tokens[token].revoked = True

    def dm_channel(self, user_id: str, team_id: str | None = None) -> str | None:
        """The DM id conversations.open returned for the user, if it was opened."""
        user = self.users.get(user_id)
        team = team_id or (user.team_id if user else self.team.id)
        return self._dms.get((team, (user_id,)))

    def channel_messages(self, channel: str, *, include_deleted: bool = False) -> list[FakeMessage]:
        """Messages currently in a conversation, oldest first."""
        return [
            m for m in self.messages if m.channel == channel and (include_deleted or not m.deleted)
        ]

    def message(self, channel: str, ts: str) -> FakeMessage:
        """The stored message (KeyError if absent)."""
        for m in self.messages:
            if m.channel == channel and m.ts == ts:
                return m
        raise KeyError((channel, ts))

    def latest_view(self, user_id: str | None = None) -> FakeView:
        """The most recently opened/pushed/updated view (for a user)."""
        views = [v for v in self.views.values() if user_id is None or v.user_id == user_id]
        if not views:
            raise KeyError(f"no view for {user_id!r}")
        return views[-1]

    # -- fault injection ------------------------------------------------------------------

    def inject_fault(
        self,
        method: str,
        *,
        count: int = 1,
        status: int = 200,
        error: str | None = None,
        retry_after: int | None = None,
    ) -> None:
        """Make the next ``count`` requests to ``method`` fail this way.

        ``method`` is a Web API method name, or ``"response_url"`` / ``"upload"`` for those
        endpoints. Faults queue in order and are consumed one per request.
        """
        if error is None:
            error = {429: "ratelimited", 500: "internal_error", 503: "service_unavailable"}.get(
                status, "fatal_error"
            )
        self._faults.setdefault(method, deque()).append(
            _Fault(status=status, error=error, retry_after=retry_after, remaining=count)
        )

    def rate_limit(self, method: str, *, count: int = 1, retry_after: int = 0) -> None:
        """Next ``count`` calls get HTTP 429 + ``Retry-After`` (RateLimitErrorRetryHandler)."""
        self.inject_fault(method, count=count, status=429, retry_after=retry_after)

    def server_error(self, method: str, *, count: int = 1, status: int = 500) -> None:
        """Next ``count`` calls get HTTP 500/503 (ServerErrorRetryHandler retries these)."""
        self.inject_fault(method, count=count, status=status)

    def api_error(self, method: str, error: str, *, count: int = 1) -> None:
        """Next ``count`` calls answer HTTP 200 ``{"ok": false, "error": error}``."""
        self.inject_fault(method, count=count, status=200, error=error)

    def clear_faults(self) -> None:
        """Drop every pending fault."""
        self._faults.clear()

    def _take_fault(self, method: str) -> _Fault | None:
        queue = self._faults.get(method)
        if not queue:
            return None
        fault = queue[0]
        fault.remaining -= 1
        if fault.remaining <= 0:
            queue.popleft()
        return fault

    @staticmethod
    def _fault_response(fault: _Fault) -> tuple[int, JSON, dict[str, str]]:
        headers: dict[str, str] = {}
        if fault.retry_after is not None:
            headers["Retry-After"] = str(fault.retry_after)
        return fault.status, {"ok": False, "error": fault.error}, headers

    # -- waiting --------------------------------------------------------------------------

    def _notify(self) -> None:
        for check, fut in list(self._waiters):
            if fut.done():
                continue
            try:
                result = check()
            except Exception as exc:
                fut.set_exception(exc)
                continue
            if result is not None:
                fut.set_result(result)

    async def wait_until(
        self,
        check: Callable[[], T | None],
        *,
        timeout: float = 5.0,  # noqa: ASYNC109 - a deadline on fake state, not on I/O
        what: str = "condition",
    ) -> T:
        """Resolve with ``check()``'s first non-None result, re-checked on every state change."""
        result = check()
        if result is not None:
            return result
        fut: asyncio.Future[Any] = asyncio.get_running_loop().create_future()
        entry = (check, fut)
        self._waiters.append(entry)
        try:
            async with asyncio.timeout(timeout):
                return await fut  # type: ignore[no-any-return]
        except TimeoutError:
            raise TimeoutError(
                f"timed out after {timeout}s waiting for {what}; "
                f"calls so far: {self.call_summary()}"
            ) from None
        finally:
            self._waiters.remove(entry)

    async def wait_for(
        self,
        predicate: Callable[[ApiCall], bool],
        timeout: float = 5.0,  # noqa: ASYNC109 - a deadline on fake state, not on I/O
    ) -> ApiCall:
        """The first recorded Web API call matching ``predicate`` (waits for it if needed)."""
        return await self.wait_until(
            lambda: next((c for c in self.calls if predicate(c)), None),
            timeout=timeout,
            what="a matching API call",
        )

    async def wait_for_call(
        self,
        method: str,
        where: Callable[[ApiCall], bool] | None = None,
        *,
        count: int = 1,
        ok_only: bool = True,
        timeout: float = 5.0,  # noqa: ASYNC109 - a deadline on fake state, not on I/O
    ) -> ApiCall:
        """The ``count``-th call to ``method`` (successful ones only unless ``ok_only=False``)."""

        def check() -> ApiCall | None:
            found = [
                c
                for c in self.calls
                if c.method == method and (c.ok or not ok_only) and (where is None or where(c))
            ]
            return found[count - 1] if len(found) >= count else None

        return await self.wait_until(check, timeout=timeout, what=f"{count}x {method}")

    async def wait_for_response_post(
        self,
        predicate: Callable[[ResponseUrlPost], bool] | None = None,
        timeout: float = 5.0,  # noqa: ASYNC109 - a deadline on fake state, not on I/O
    ) -> ResponseUrlPost:
        """The first response_url post matching ``predicate``."""
        return await self.wait_until(
            lambda: next(
                (p for p in self.response_posts if predicate is None or predicate(p)), None
            ),
            timeout=timeout,
            what="a response_url post",
        )

    def calls_to(self, method: str, *, ok_only: bool = False) -> list[ApiCall]:
        """Recorded calls to one method, oldest first."""
        return [c for c in self.calls if c.method == method and (c.ok or not ok_only)]

    def call_summary(self) -> list[str]:
        """``method -> status/ok/error`` lines for failure messages."""
        return [f"{c.method}->{c.status}:{'ok' if c.ok else c.error}" for c in self.calls] + [
            f"response_url->{p.status}:{p.outcome}" for p in self.response_posts
        ]

    # -- issuing ids the app receives in payloads ------------------------------------------

    def issue_trigger_id(self, team_id: str, user_id: str, *, view_id: str | None = None) -> str:
        """A trigger_id valid for ``trigger_ttl`` seconds, usable once (views.open/push)."""
        trigger = _Trigger(
            id=f"{int(time.time())}.{next(self._ids)}.{secrets.token_hex(16)}",
            team_id=team_id,
            user_id=user_id,
            issued_at=time.monotonic(),
            view_id=view_id,
        )
        self._triggers[trigger.id] = trigger
        return trigger.id

    def issue_response_url(
        self,
        team_id: str,
        user_id: str,
        *,
        channel_id: str | None,
        message_ts: str | None = None,
        ephemeral_ts: str | None = None,
    ) -> str:
        """A response_url on the fake (5 uses, 30 min), bound to the source message if any."""
        rid = f"{team_id}/{next(self._ids)}/{secrets.token_urlsafe(12)}"
        self._response_urls[rid] = _ResponseUrl(
            id=rid,
            team_id=team_id,
            channel_id=channel_id,
            user_id=user_id,
            issued_at=time.monotonic(),
            message_ts=message_ts,
            ephemeral_ts=ephemeral_ts,
        )
        return f"{self.root_url}/response/{rid}"

    def _next_ts(self) -> str:
        now = max(time.time(), self._last_ts + 0.000001)
        self._last_ts = now
        return f"{now:.6f}"

    # -- Web API dispatch -------------------------------------------------------------------

    async def _read_params(
        self, request: web.Request
    ) -> tuple[JSON, dict[str, tuple[str | None, bytes]], str | None]:
        params: JSON = dict(request.query.items())
        files: dict[str, tuple[str | None, bytes]] = {}
        if request.method != "POST" or not request.body_exists:
            return params, files, None
        ctype = request.content_type
        if ctype == "application/json":
            raw = await request.read()
            try:
                body = json.loads(raw or b"{}")
            except json.JSONDecodeError:
                return params, files, "invalid_json"
            if not isinstance(body, dict):
                return params, files, "invalid_json"
            params.update(body)
        elif ctype in ("application/x-www-form-urlencoded", "multipart/form-data"):
            form = await request.post()
            for key, value in form.items():
                if isinstance(value, web.FileField):
                    files[key] = (value.filename, value.file.read())
                else:
                    params[key] = value
        return params, files, None

    def _record(
        self,
        request: web.Request,
        method: str,
        token: str | None,
        team_id: str | None,
        params: JSON,
        files: dict[str, tuple[str | None, bytes]],
        status: int,
        response: JSON,
        fault: str | None,
    ) -> None:
        self.calls.append(
            ApiCall(
                index=len(self.calls),
                method=method,
                http_method=request.method,
                token=token,
                team_id=team_id,
                params=params,
                files={k: v[1] for k, v in files.items()},
                content_type=request.content_type,
                status=status,
                response=response,
                fault=fault,
            )
        )
        for listener in self.call_listeners:
            listener(self.calls[-1])
        self._notify()

    async def _handle_api(self, request: web.Request) -> web.Response:
        method = request.match_info["method"]
        params, files, parse_error = await self._read_params(request)
        auth = request.headers.get("Authorization", "")
        token: str | None = None
        if auth.startswith("Bearer "):
            token = auth[len("Bearer ") :].strip()
        elif request.content_type != "application/json":
            token = _arg_str(params, "token")
        params.pop("token", None)
        info = self.tokens.get(token) if token else None
        team_id = info.team_id if info else None

        fault = self._take_fault(method)
        if fault is not None:
            f_status, f_body, f_headers = self._fault_response(fault)
            self._record(
                request, method, token, team_id, params, files, f_status, f_body, f_body["error"]
            )
            return web.json_response(f_body, status=f_status, headers=f_headers)

        headers: dict[str, str] = {}
        status = 200
        body: JSON
        try:
            if parse_error is not None:
                raise SlackApiFailure(parse_error)
            if method == "oauth.v2.access":
                body = self._oauth_v2_access(request, params)
            else:
                body = self._dispatch(method, info, token, params, files)
                if info is not None and info.kind == "bot" and info.team_id in self.teams:
                    headers["x-oauth-scopes"] = ",".join(self.teams[info.team_id].scopes)
        except SlackApiFailure as failure:
            status = failure.status
            body = {"ok": False, "error": failure.error, **failure.extra}
        self._record(request, method, token, team_id, params, files, status, body, None)
        return web.json_response(body, status=status, headers=headers)

    def _dispatch(
        self,
        method: str,
        info: TokenInfo | None,
        token: str | None,
        params: JSON,
        files: dict[str, tuple[str | None, bytes]],
    ) -> JSON:
        if token is None:
            raise SlackApiFailure("not_authed")
        if info is None:
            raise SlackApiFailure("invalid_auth")
        if info.revoked:
            raise SlackApiFailure("token_revoked")
        if method == "apps.connections.open":
            if info.kind != "app":
                raise SlackApiFailure("not_allowed_token_type")
            return self._apps_connections_open()
        if info.kind == "app":
            raise SlackApiFailure("not_allowed_token_type")
        handler = self._methods.get(method)
        if handler is None:
            raise SlackApiFailure("unknown_method")
        assert info.team_id is not None
        ctx = _Ctx(method, info, self.teams[info.team_id], params, files)
        return handler(ctx)

    # -- Web API methods --------------------------------------------------------------------

    def _auth_test(self, ctx: _Ctx) -> JSON:
        team = ctx.team
        user = self.users.get(ctx.token.user_id or "")
        body: JSON = {
            "ok": True,
            "url": team.url,
            "team": team.name,
            "user": user.name if user else "",
            "team_id": team.id,
            "user_id": ctx.token.user_id,
            "is_enterprise_install": False,
        }
        if ctx.token.kind == "bot":
            body["bot_id"] = team.bot_id
        if team.enterprise_id is not None:
            body["enterprise_id"] = team.enterprise_id
        return body

    def _open_dm(self, team_id: str, users: tuple[str, ...]) -> tuple[FakeChannel, bool]:
        key = (team_id, tuple(sorted(users)))
        existing = self._dms.get(key)
        if existing is not None:
            return self.channels[existing], True
        is_im = len(users) == 1
        channel = FakeChannel(
            id=self.new_id("D" if is_im else "G"),
            team_id=team_id,
            name="directmessage" if is_im else "mpdm-" + "--".join(users),
            is_im=is_im,
            is_mpim=not is_im,
            user=users[0] if is_im else None,
            members=users,
        )
        self.channels[channel.id] = channel
        self._dms[key] = channel.id
        return channel, False

    def _conversations_open(self, ctx: _Ctx) -> JSON:
        raw_users = _arg_str(ctx.params, "users")
        channel_id = _arg_str(ctx.params, "channel")
        if raw_users:
            users = tuple(u.strip() for u in raw_users.split(",") if u.strip())
            if len(users) > 8:
                raise SlackApiFailure("too_many_users")
            for user_id in users:
                user = self.users.get(user_id)
                if user is None or not user.in_team(ctx.team.id):
                    raise SlackApiFailure("user_not_found")
            channel, existed = self._open_dm(ctx.team.id, users)
        elif channel_id:
            channel = self._resolve_channel(ctx.team, channel_id)
            existed = True
        else:
            raise SlackApiFailure("users_list_not_supplied")
        body: JSON = {"ok": True, "channel": {"id": channel.id}}
        if existed:
            body["no_op"] = True
            body["already_open"] = True
        if _arg_bool(ctx.params, "return_im"):
            body["channel"].update(
                {
                    "created": channel.created,
                    "is_im": channel.is_im,
                    "is_mpim": channel.is_mpim,
                    "is_org_shared": False,
                    "user": channel.user,
                    "is_open": True,
                }
            )
        return body

    def _resolve_channel(self, team: FakeTeam, channel_ref: str | None) -> FakeChannel:
        if not channel_ref:
            raise SlackApiFailure("channel_not_found")
        channel = self.channels.get(channel_ref)
        if channel is None and channel_ref.startswith("#"):
            channel = next(
                (
                    c
                    for c in self.channels.values()
                    if c.team_id == team.id and c.name == channel_ref[1:]
                ),
                None,
            )
        if channel is None:
            user = self.users.get(channel_ref)
            if user is not None and user.in_team(team.id):
                channel, _ = self._open_dm(team.id, (user.id,))
        if channel is None or channel.team_id != team.id:
            raise SlackApiFailure("channel_not_found")
        return channel

    def _message_content(
        self, params: JSON, *, require: bool
    ) -> tuple[str | None, list[JSON] | None, list[JSON] | None]:
        text = _arg_str(params, "text")
        if text is None and "markdown_text" in params:
            text = _arg_str(params, "markdown_text")
        blocks = (
            _arg_json(params, "blocks", "invalid_blocks_format") if "blocks" in params else None
        )
        attachments = (
            _arg_json(params, "attachments", "invalid_attachments")
            if "attachments" in params
            else None
        )
        if require and not text and not blocks and not attachments:
            raise SlackApiFailure("no_text")
        if text is not None and len(text) > 40_000:
            raise SlackApiFailure("msg_too_long")
        if blocks is not None:
            errors = _validate_blocks(blocks, limit=MESSAGE_BLOCK_LIMIT)
            if errors:
                raise SlackApiFailure(
                    "invalid_blocks",
                    extra={
                        "errors": errors,
                        "response_metadata": {"messages": [f"[ERROR] {e}" for e in errors]},
                    },
                )
            blocks = self._fill_ids(blocks)
        return text, blocks, attachments

    def _fill_ids(self, blocks: list[JSON]) -> list[JSON]:
        """Slack fills in block_id/action_id the app left out; payloads then carry them."""
        filled = copy.deepcopy(blocks)
        for block in filled:
            block.setdefault("block_id", f"fk{next(self._ids):x}")
            for element in _iter_elements(block):
                if element.get("type") in _INTERACTIVE_ELEMENT_TYPES:
                    element.setdefault("action_id", f"fa{next(self._ids):x}")
        return filled

    def _chat_post_message(self, ctx: _Ctx) -> JSON:
        channel = self._resolve_channel(ctx.team, _arg_str(ctx.params, "channel"))
        if not channel.is_im and not channel.is_mpim and not channel.bot_is_member:
            raise SlackApiFailure("not_in_channel")
        text, blocks, attachments = self._message_content(ctx.params, require=True)
        metadata = _arg_json(ctx.params, "metadata") if "metadata" in ctx.params else None
        message = FakeMessage(
            channel=channel.id,
            ts=self._next_ts(),
            team_id=ctx.team.id,
            text=text or "",
            blocks=blocks or [],
            attachments=attachments or [],
            user=ctx.token.user_id,
            bot_id=ctx.team.bot_id if ctx.token.kind == "bot" else None,
            app_id=self.app_id if ctx.token.kind == "bot" else None,
            thread_ts=_arg_str(ctx.params, "thread_ts"),
            metadata=metadata,
        )
        self.messages.append(message)
        return {"ok": True, "channel": channel.id, "ts": message.ts, "message": message.to_slack()}

    def _find_message(self, team: FakeTeam, channel_ref: str | None, ts: str | None) -> FakeMessage:
        channel = self._resolve_channel(team, channel_ref)
        for m in self.messages:
            if m.channel == channel.id and m.ts == ts and not m.deleted:
                return m
        raise SlackApiFailure("message_not_found")

    def _chat_update(self, ctx: _Ctx) -> JSON:
        message = self._find_message(
            ctx.team, _arg_str(ctx.params, "channel"), _arg_str(ctx.params, "ts")
        )
        if ctx.token.kind == "bot" and message.bot_id != ctx.team.bot_id:
            raise SlackApiFailure("cant_update_message")
        text, blocks, attachments = self._message_content(ctx.params, require=True)
        message.history.append(message.to_slack())
        # chat.update keeps the parts it is not given (see PLATFORM_NOTES)
        if text is not None:
            message.text = text
        if blocks is not None:
            message.blocks = blocks
        if attachments is not None:
            message.attachments = attachments
        message.edited_ts = self._next_ts()
        return {
            "ok": True,
            "channel": message.channel,
            "ts": message.ts,
            "text": message.text,
            "message": message.to_slack(),
        }

    def _chat_delete(self, ctx: _Ctx) -> JSON:
        message = self._find_message(
            ctx.team, _arg_str(ctx.params, "channel"), _arg_str(ctx.params, "ts")
        )
        if ctx.token.kind == "bot" and message.bot_id != ctx.team.bot_id:
            raise SlackApiFailure("cant_delete_message")
        message.deleted = True
        return {"ok": True, "channel": message.channel, "ts": message.ts}

    def _chat_post_ephemeral(self, ctx: _Ctx) -> JSON:
        channel = self._resolve_channel(ctx.team, _arg_str(ctx.params, "channel"))
        user_id = _arg_str(ctx.params, "user")
        user = self.users.get(user_id or "")
        if user is None or not user.in_team(ctx.team.id):
            raise SlackApiFailure("user_not_found")
        if channel.is_im and channel.user != user.id:
            raise SlackApiFailure("user_not_in_channel")
        text, blocks, attachments = self._message_content(ctx.params, require=True)
        ephemeral = FakeEphemeral(
            channel=channel.id,
            user=user.id,
            ts=self._next_ts(),
            team_id=ctx.team.id,
            text=text or "",
            blocks=blocks or [],
            attachments=attachments or [],
            thread_ts=_arg_str(ctx.params, "thread_ts"),
        )
        self.ephemerals.append(ephemeral)
        return {"ok": True, "message_ts": ephemeral.ts}

    def _take_trigger(self, ctx: _Ctx) -> _Trigger:
        trigger_id = _arg_str(ctx.params, "trigger_id") or _arg_str(
            ctx.params, "interactivity_pointer"
        )
        trigger = self._triggers.get(trigger_id or "")
        if trigger is None or trigger.team_id != ctx.team.id:
            raise SlackApiFailure("invalid_trigger_id")
        if trigger.used:
            raise SlackApiFailure("exchanged_trigger_id")
        if time.monotonic() - trigger.issued_at > self.trigger_ttl:
            raise SlackApiFailure("expired_trigger_id")
        trigger.used = True
        return trigger

    def _view_arg(self, ctx: _Ctx, *, home: bool = False) -> JSON:
        view = _arg_json(ctx.params, "view")
        if not isinstance(view, dict):
            raise SlackApiFailure("invalid_arguments")
        problems: list[str] = []
        expected = "home" if home else "modal"
        if view.get("type") != expected:
            problems.append(f"must be '{expected}' [json-pointer:/view/type]")
        if not home:
            title = _text_of(view.get("title"))
            if not title:
                problems.append("missing required field: title [json-pointer:/view/title]")
            elif len(title) > 24:
                problems.append("must be less than 25 characters [json-pointer:/view/title/text]")
            for key in ("submit", "close"):
                if view.get(key) is not None and len(_text_of(view.get(key))) > 24:
                    problems.append(
                        f"must be less than 25 characters [json-pointer:/view/{key}/text]"
                    )
            has_input = any(
                isinstance(b, dict) and b.get("type") == "input" for b in view.get("blocks") or []
            )
            if has_input and view.get("submit") is None:
                problems.append(
                    "submit is required when input blocks are present [json-pointer:/view]"
                )
        if len(str(view.get("private_metadata") or "")) > 3000:
            problems.append(
                "must be less than 3001 characters [json-pointer:/view/private_metadata]"
            )
        if len(str(view.get("callback_id") or "")) > 255:
            problems.append("must be less than 256 characters [json-pointer:/view/callback_id]")
        problems.extend(
            _validate_blocks(view.get("blocks") or [], limit=VIEW_BLOCK_LIMIT, path="/view/blocks")
        )
        if problems:
            raise SlackApiFailure(
                "invalid_arguments",
                extra={"response_metadata": {"messages": [f"[ERROR] {p}" for p in problems]}},
            )
        normalized = copy.deepcopy(view)
        normalized["blocks"] = self._fill_ids(list(view.get("blocks") or []))
        return normalized

    def _store_view(
        self,
        ctx: _Ctx,
        definition: JSON,
        *,
        user_id: str | None,
        parent: FakeView | None,
        via: str,
    ) -> FakeView:
        view_id = self.new_id("V")
        view = FakeView(
            id=view_id,
            team_id=ctx.team.id,
            user_id=user_id,
            definition=definition,
            hash=f"{int(time.time())}.{secrets.token_hex(4)}",
            root_view_id=parent.root_view_id if parent else view_id,
            previous_view_id=parent.id if parent else None,
            app_id=self.app_id,
            bot_id=ctx.team.bot_id,
            via=via,
        )
        self.views[view_id] = view
        return view

    def _views_open(self, ctx: _Ctx) -> JSON:
        trigger = self._take_trigger(ctx)
        view = self._store_view(
            ctx, self._view_arg(ctx), user_id=trigger.user_id, parent=None, via="views.open"
        )
        return {"ok": True, "view": view.to_slack()}

    def _views_push(self, ctx: _Ctx) -> JSON:
        trigger = self._take_trigger(ctx)
        parent = self.views.get(trigger.view_id or "")
        if parent is not None:
            depth = sum(1 for v in self.views.values() if v.root_view_id == parent.root_view_id)
            if depth >= 3:
                raise SlackApiFailure("push_limit_reached")
        view = self._store_view(
            ctx, self._view_arg(ctx), user_id=trigger.user_id, parent=parent, via="views.push"
        )
        return {"ok": True, "view": view.to_slack()}

    def _views_update(self, ctx: _Ctx) -> JSON:
        view_id = _arg_str(ctx.params, "view_id")
        external_id = _arg_str(ctx.params, "external_id")
        if not view_id and not external_id:
            raise SlackApiFailure("invalid_arguments")
        target = self.views.get(view_id or "")
        if target is None and external_id:
            target = next(
                (v for v in self.views.values() if v.definition.get("external_id") == external_id),
                None,
            )
        if target is None or target.team_id != ctx.team.id:
            raise SlackApiFailure("not_found")
        expected_hash = _arg_str(ctx.params, "hash")
        if expected_hash is not None and expected_hash != target.hash:
            raise SlackApiFailure("hash_conflict")
        definition = self._view_arg(ctx, home=target.type == "home")
        target.history.append(target.to_slack())
        target.definition = definition
        target.hash = f"{int(time.time())}.{secrets.token_hex(4)}"
        # move to the end so latest_view() sees the most recently touched view
        self.views[target.id] = self.views.pop(target.id)
        return {"ok": True, "view": target.to_slack()}

    def _views_publish(self, ctx: _Ctx) -> JSON:
        user_id = _arg_str(ctx.params, "user_id")
        user = self.users.get(user_id or "")
        if user is None or not user.in_team(ctx.team.id):
            raise SlackApiFailure("user_not_found")
        definition = self._view_arg(ctx, home=True)
        existing = next(
            (v for v in self.views.values() if v.type == "home" and v.user_id == user.id), None
        )
        if existing is None:
            existing = self._store_view(
                ctx, definition, user_id=user.id, parent=None, via="views.publish"
            )
        else:
            expected_hash = _arg_str(ctx.params, "hash")
            if expected_hash is not None and expected_hash != existing.hash:
                raise SlackApiFailure("hash_conflict")
            existing.history.append(existing.to_slack())
            existing.definition = definition
            existing.hash = f"{int(time.time())}.{secrets.token_hex(4)}"
        return {"ok": True, "view": existing.to_slack()}

    def _conversations_history(self, ctx: _Ctx) -> JSON:
        """Newest first; ``metadata`` only with include_all_metadata (as Slack does)."""
        channel = self._resolve_channel(ctx.team, _arg_str(ctx.params, "channel"))
        limit = int(_arg_str(ctx.params, "limit") or 100)
        with_metadata = _arg_bool(ctx.params, "include_all_metadata")
        found = [m for m in self.messages if m.channel == channel.id and not m.deleted]
        out = []
        for message in reversed(found[-limit:] if limit > 0 else found):
            data = message.to_slack()
            if not with_metadata:
                data.pop("metadata", None)
            out.append(data)
        return {"ok": True, "messages": out, "has_more": len(found) > limit}

    def _users_info(self, ctx: _Ctx) -> JSON:
        user = self.users.get(_arg_str(ctx.params, "user") or "")
        if user is None or not user.in_team(ctx.team.id):
            raise SlackApiFailure("user_not_found")
        return {
            "ok": True,
            "user": user.to_slack(include_locale=_arg_bool(ctx.params, "include_locale")),
        }

    def _apps_connections_open(self) -> JSON:
        ticket = secrets.token_hex(16)
        self._tickets[ticket] = self.app_id
        return {
            "ok": True,
            "url": f"ws://{self.host}:{self.port}/link/?ticket={ticket}&app_id={self.app_id}",
        }

    def _share_file(self, ctx: _Ctx, file: FakeFile, channel_refs: Sequence[str]) -> None:
        for ref in channel_refs:
            channel = self._resolve_channel(ctx.team, ref)
            file.channels.append(channel.id)
            self.messages.append(
                FakeMessage(
                    channel=channel.id,
                    ts=self._next_ts(),
                    team_id=ctx.team.id,
                    text=file.initial_comment or "",
                    blocks=[],
                    attachments=[],
                    user=ctx.token.user_id,
                    bot_id=ctx.team.bot_id if ctx.token.kind == "bot" else None,
                    app_id=self.app_id if ctx.token.kind == "bot" else None,
                    thread_ts=file.thread_ts,
                    files=[file.to_slack(self.root_url)],
                    via="file_share",
                )
            )

    def _files_upload(self, ctx: _Ctx) -> JSON:
        if "file" in ctx.files:
            filename, content = ctx.files["file"]
        elif "content" in ctx.params:
            filename, content = None, str(ctx.params["content"]).encode("utf-8")
        else:
            raise SlackApiFailure("no_file_data")
        name = _arg_str(ctx.params, "filename") or filename or "file"
        file = FakeFile(
            id=self.new_id("F"),
            team_id=ctx.team.id,
            user_id=ctx.token.user_id,
            filename=name,
            title=_arg_str(ctx.params, "title") or name,
            declared_length=len(content),
            content=content,
            completed=True,
            initial_comment=_arg_str(ctx.params, "initial_comment"),
            thread_ts=_arg_str(ctx.params, "thread_ts"),
            via="files.upload",
        )
        self.files[file.id] = file
        channels = [c for c in (_arg_str(ctx.params, "channels") or "").split(",") if c]
        self._share_file(ctx, file, channels)
        return {"ok": True, "file": file.to_slack(self.root_url)}

    def _files_get_upload_url(self, ctx: _Ctx) -> JSON:
        filename = _arg_str(ctx.params, "filename")
        length = _arg_str(ctx.params, "length")
        if not filename or length is None or not length.isdigit():
            raise SlackApiFailure("invalid_arguments")
        file = FakeFile(
            id=self.new_id("F"),
            team_id=ctx.team.id,
            user_id=ctx.token.user_id,
            filename=filename,
            title=filename,
            declared_length=int(length),
            alt_txt=_arg_str(ctx.params, "alt_txt"),
            snippet_type=_arg_str(ctx.params, "snippet_type"),
        )
        self.files[file.id] = file
        return {
            "ok": True,
            "upload_url": f"{self.root_url}/upload/v1/{file.id}",
            "file_id": file.id,
        }

    def _files_complete_upload(self, ctx: _Ctx) -> JSON:
        entries = _arg_json(ctx.params, "files")
        if not isinstance(entries, list) or not entries:
            raise SlackApiFailure("invalid_arguments")
        done: list[FakeFile] = []
        for entry in entries:
            file = self.files.get(str(entry.get("id")) if isinstance(entry, dict) else "")
            if file is None or file.team_id != ctx.team.id or file.content is None:
                raise SlackApiFailure("file_not_found")
            file.title = str(entry.get("title") or file.title)
            file.completed = True
            file.initial_comment = _arg_str(ctx.params, "initial_comment")
            file.thread_ts = _arg_str(ctx.params, "thread_ts")
            done.append(file)
        channel_refs = [c for c in (_arg_str(ctx.params, "channels") or "").split(",") if c]
        channel_id = _arg_str(ctx.params, "channel_id")
        if channel_id:
            channel_refs.insert(0, channel_id)
        for file in done:
            self._share_file(ctx, file, channel_refs)
        return {"ok": True, "files": [f.to_slack(self.root_url) for f in done]}

    def _oauth_v2_access(self, request: web.Request, params: JSON) -> JSON:
        client_id = _arg_str(params, "client_id")
        client_secret = _arg_str(params, "client_secret")
        auth = request.headers.get("Authorization", "")
        if auth.startswith("Basic "):
            with contextlib.suppress(ValueError, UnicodeDecodeError):
                decoded = base64.b64decode(auth[len("Basic ") :]).decode("utf-8")
                client_id, _, client_secret = decoded.partition(":")
        if client_id != self.client_id:
            raise SlackApiFailure("invalid_client_id")
        if client_secret != self.client_secret:
            raise SlackApiFailure("bad_client_secret")
        grant = self._oauth_grants.get(_arg_str(params, "code") or "")
        if grant is None or grant.used:
            raise SlackApiFailure("invalid_code")
        redirect_uri = _arg_str(params, "redirect_uri")
        expected_redirect = grant.redirect_uri or self.oauth_redirect_uri
        if expected_redirect is not None and redirect_uri not in (None, expected_redirect):
            raise SlackApiFailure("bad_redirect_uri")
        grant.used = True
        team = self.teams.get(grant.team_id) or self.add_team(
            grant.team_id,
            grant.team_name,
            enterprise_id=grant.enterprise_id,
            enterprise_name=grant.enterprise_name,
            scopes=grant.scopes,
        )
        self.ensure_user(grant.installer_user_id, team.id)
        authed_user: JSON = {"id": grant.installer_user_id}
        if grant.user_scopes:
            user_token = f"xoxp-{team.id}-{next(self._ids)}-fakeusertoken"
            self.tokens[user_token] = TokenInfo(
                user_token, "user", team.id, grant.installer_user_id
            )
            authed_user.update(
                {
                    "scope": ",".join(grant.user_scopes),
                    "access_token": user_token,
                    "token_type": "user",
                }
            )
        enterprise = (
            {"id": grant.enterprise_id, "name": grant.enterprise_name}
            if grant.enterprise_id
            else None
        )
        return {
            "ok": True,
            "app_id": self.app_id,
            "authed_user": authed_user,
            "scope": ",".join(team.scopes),
            "token_type": "bot",
            "access_token": team.bot_token,
            "bot_user_id": team.bot_user_id,
            "team": {"id": team.id, "name": team.name},
            "enterprise": enterprise,
            "is_enterprise_install": grant.is_enterprise_install,
        }

    # -- response_url, uploads, downloads ----------------------------------------------------

    async def _handle_response_url(self, request: web.Request) -> web.Response:
        rid = request.match_info["rid"]
        raw = await request.read()
        try:
            body = json.loads(raw or b"{}")
        except json.JSONDecodeError:
            body = {"_raw": raw.decode("utf-8", "replace")}
        entry = self._response_urls.get(rid)
        fault = self._take_fault("response_url")
        if fault is not None:
            status, reply, headers = self._fault_response(fault)
            self._record_response_post(rid, body, status, f"error:{reply['error']}", entry)
            return web.json_response(reply, status=status, headers=headers)
        status, outcome = 200, "posted_ephemeral"
        try:
            if entry is None:
                raise SlackApiFailure("invalid_url", status=404)
            entry.uses += 1
            if entry.uses > RESPONSE_URL_MAX_USES:
                raise SlackApiFailure("used_url", status=404)  # approximation
            if time.monotonic() - entry.issued_at > RESPONSE_URL_TTL:
                raise SlackApiFailure("expired_url", status=404)  # approximation
            if not isinstance(body, dict) or "_raw" in body:
                raise SlackApiFailure("invalid_payload", status=400)
            outcome = self._apply_response_post(entry, body)
        except SlackApiFailure as failure:
            status = failure.status if failure.status != 200 else 400  # approximation
            outcome = f"error:{failure.error}"
        self._record_response_post(rid, body, status, outcome, entry)
        if status != 200:
            return web.json_response(
                {"ok": False, "error": outcome[len("error:") :]}, status=status
            )
        return web.json_response({"ok": True})

    def _apply_response_post(self, entry: _ResponseUrl, body: JSON) -> str:
        team = self.teams[entry.team_id]
        if _arg_bool(body, "delete_original"):
            original = self._response_original(entry)
            if original is None:
                raise SlackApiFailure("message_not_found", status=404)  # approximation
            original.deleted = True
            return "deleted"
        text, blocks, attachments = self._message_content(body, require=True)
        if _arg_bool(body, "replace_original"):
            original = self._response_original(entry)
            if original is not None:
                # a response_url replace swaps the whole message (see PLATFORM_NOTES)
                original.history.append({"text": original.text, "blocks": original.blocks})
                original.text = text or ""
                original.blocks = blocks or []
                original.attachments = attachments or []
                if isinstance(original, FakeMessage):
                    original.edited_ts = self._next_ts()
                return "replaced"
        if entry.channel_id is None:
            raise SlackApiFailure("channel_not_found", status=404)
        if body.get("response_type") == "in_channel":
            message = FakeMessage(
                channel=entry.channel_id,
                ts=self._next_ts(),
                team_id=team.id,
                text=text or "",
                blocks=blocks or [],
                attachments=attachments or [],
                user=team.bot_user_id,
                bot_id=team.bot_id,
                app_id=self.app_id,
                thread_ts=_arg_str(body, "thread_ts"),
                via="response_url",
            )
            self.messages.append(message)
            entry.message_ts = entry.message_ts or message.ts
            return "posted_in_channel"
        ephemeral = FakeEphemeral(
            channel=entry.channel_id,
            user=entry.user_id,
            ts=self._next_ts(),
            team_id=team.id,
            text=text or "",
            blocks=blocks or [],
            attachments=attachments or [],
            thread_ts=_arg_str(body, "thread_ts"),
            via="response_url",
        )
        self.ephemerals.append(ephemeral)
        if entry.message_ts is None and entry.ephemeral_ts is None:
            entry.ephemeral_ts = ephemeral.ts
        return "posted_ephemeral"

    def _response_original(self, entry: _ResponseUrl) -> FakeMessage | FakeEphemeral | None:
        if entry.message_ts is not None:
            return next(
                (
                    m
                    for m in self.messages
                    if m.channel == entry.channel_id and m.ts == entry.message_ts and not m.deleted
                ),
                None,
            )
        if entry.ephemeral_ts is not None:
            return next(
                (
                    e
                    for e in self.ephemerals
                    if e.channel == entry.channel_id
                    and e.ts == entry.ephemeral_ts
                    and not e.deleted
                ),
                None,
            )
        return None

    def _record_response_post(
        self, rid: str, body: JSON, status: int, outcome: str, entry: _ResponseUrl | None
    ) -> None:
        self.response_posts.append(
            ResponseUrlPost(
                index=len(self.response_posts),
                response_id=rid,
                body=body,
                status=status,
                outcome=outcome,
                channel=entry.channel_id if entry else None,
                user_id=entry.user_id if entry else None,
            )
        )
        self._notify()

    async def _handle_upload(self, request: web.Request) -> web.Response:
        file = self.files.get(request.match_info["file_id"])
        data = await request.read()
        fault = self._take_fault("upload")
        if fault is not None:
            return web.Response(status=fault.status, text=str(fault.error))
        if file is None or file.completed:
            return web.Response(status=404, text="file_not_found")
        file.content = data
        self._notify()
        return web.Response(text=f"OK - {len(data)}", content_type="text/plain")

    async def _handle_file_download(self, request: web.Request) -> web.Response:
        file = self.files.get(request.match_info["file_id"])
        auth = request.headers.get("Authorization", "")
        info = self.tokens.get(auth[len("Bearer ") :]) if auth.startswith("Bearer ") else None
        if file is None or info is None or info.team_id != file.team_id or file.content is None:
            return web.Response(status=404, text="not found")
        mimetype = mimetypes.guess_type(file.filename)[0] or "application/octet-stream"
        return web.Response(body=file.content, content_type=mimetype)

    # -- Socket Mode --------------------------------------------------------------------------

    async def _handle_socket(self, request: web.Request) -> web.StreamResponse:
        app_id = self._tickets.pop(request.query.get("ticket", ""), None)
        if app_id is None:
            return web.Response(status=401, text="invalid_ticket")
        ws = web.WebSocketResponse(timeout=2.0, autoping=True)
        await ws.prepare(request)
        conn = SocketConnection(
            id=len(self.socket_connections) + 1,
            app_id=app_id,
            ws=ws,
            transport=request.transport,
        )
        hello = {
            "type": "hello",
            "num_connections": 1 + sum(1 for c in self.socket_connections if c.is_open),
            "debug_info": {
                "host": f"applink-fake-{conn.id}",
                "build_number": 1,
                "approximate_connection_time": 18060,
            },
            "connection_info": {"app_id": app_id},
        }
        await ws.send_str(json.dumps(hello))
        conn.sent.append(hello)
        self.socket_connections.append(conn)
        self._notify()
        try:
            async for msg in ws:
                if msg.type != WSMsgType.TEXT:
                    continue
                try:
                    data = json.loads(msg.data)
                except json.JSONDecodeError:
                    data = {"_raw": msg.data}
                if not isinstance(data, dict):
                    data = {"_raw": msg.data}
                conn.received.append(data)
                self.socket_messages.append({"connection_id": conn.id, **data})
                envelope_id = data.get("envelope_id")
                pending = self._pending_acks.pop(str(envelope_id), None)
                if pending is not None and not pending[1].done():
                    payload = data.get("payload")
                    pending[1].set_result(
                        SocketAck(
                            envelope_id=str(envelope_id),
                            payload=payload if isinstance(payload, dict) else None,
                            raw=data,
                            connection_id=conn.id,
                        )
                    )
                self._notify()
        finally:
            conn.is_open = False
            conn.close_code = ws.close_code
            for eid, (conn_id, fut) in list(self._pending_acks.items()):
                if conn_id == conn.id:
                    del self._pending_acks[eid]
                    if not fut.done():
                        fut.set_exception(SocketClosedError(f"connection {conn.id} closed"))
            self._notify()
        return ws

    def open_socket(self) -> SocketConnection | None:
        """The most recent open Socket Mode connection, if any."""
        return next((c for c in reversed(self.socket_connections) if c.is_open), None)

    async def wait_for_socket(
        self,
        *,
        min_count: int = 1,
        timeout: float = 5.0,  # noqa: ASYNC109 - a deadline on fake state, not on I/O
    ) -> SocketConnection:
        """The latest open connection once at least ``min_count`` were ever opened."""

        def check() -> SocketConnection | None:
            if len(self.socket_connections) < min_count:
                return None
            return self.open_socket()

        return await self.wait_until(check, timeout=timeout, what=f"socket #{min_count}")

    async def send_socket_message(
        self, message: Mapping[str, Any], *, connection: SocketConnection | None = None
    ) -> None:
        """Send any JSON text frame (e.g. a malformed envelope) without waiting for an ack."""
        conn = connection or self.open_socket()
        if conn is None:
            raise SocketClosedError("no open Socket Mode connection")
        await conn.ws.send_str(json.dumps(message))
        conn.sent.append(dict(message))

    async def push_envelope(
        self,
        envelope_type: str,
        payload: Mapping[str, Any],
        *,
        accepts_response_payload: bool | None = None,
        envelope_id: str | None = None,
        retry_attempt: int | None = None,
        retry_reason: str | None = None,
        connection: SocketConnection | None = None,
        timeout: float = 5.0,  # noqa: ASYNC109 - a deadline on the app's ack
    ) -> SocketAck:
        """Send an envelope over Socket Mode and return the app's ack.

        ``envelope_type`` is ``slash_commands``, ``interactive`` or ``events_api``.
        Raises TimeoutError if no ack arrives, SocketClosedError if the socket closes first.
        """
        conn = connection or await self.wait_for_socket(timeout=timeout)
        if accepts_response_payload is None:
            accepts_response_payload = envelope_type == "slash_commands" or (
                envelope_type == "interactive"
                and payload.get("type") in ("view_submission", "block_suggestion")
            )
        eid = envelope_id or str(uuid.uuid4())
        envelope: JSON = {
            "envelope_id": eid,
            "type": envelope_type,
            "payload": dict(payload),
            "accepts_response_payload": accepts_response_payload,
        }
        if envelope_type == "events_api":
            envelope["retry_attempt"] = retry_attempt or 0
            envelope["retry_reason"] = retry_reason or ""
        fut: asyncio.Future[SocketAck] = asyncio.get_running_loop().create_future()
        self._pending_acks[eid] = (conn.id, fut)
        self.socket_envelopes.append(envelope)
        try:
            await self.send_socket_message(envelope, connection=conn)
            async with asyncio.timeout(timeout):
                return await fut
        except TimeoutError:
            raise TimeoutError(
                f"no ack for envelope {eid} ({envelope_type}) in {timeout}s"
            ) from None
        finally:
            self._pending_acks.pop(eid, None)

    async def push_slash_command(self, payload: Mapping[str, Any], **kwargs: Any) -> SocketAck:
        """``push_envelope("slash_commands", payload)``."""
        return await self.push_envelope("slash_commands", payload, **kwargs)

    async def push_interactive(self, payload: Mapping[str, Any], **kwargs: Any) -> SocketAck:
        """``push_envelope("interactive", payload)``."""
        return await self.push_envelope("interactive", payload, **kwargs)

    async def push_event(self, payload: Mapping[str, Any], **kwargs: Any) -> SocketAck:
        """``push_envelope("events_api", payload)``."""
        return await self.push_envelope("events_api", payload, **kwargs)

    async def request_socket_reconnect(
        self,
        *,
        reason: str = "refresh_requested",
        timeout: float = 5.0,  # noqa: ASYNC109 - a deadline on the app's reconnect
    ) -> SocketConnection:
        """Send ``{"type": "disconnect"}`` like Slack does and wait for the new connection."""
        conn = await self.wait_for_socket(timeout=timeout)
        before = len(self.socket_connections)
        await self.send_socket_message(
            {
                "type": "disconnect",
                "reason": reason,
                "debug_info": {"host": f"applink-fake-{conn.id}"},
            },
            connection=conn,
        )
        return await self.wait_for_socket(min_count=before + 1, timeout=timeout)

    async def drop_socket(
        self, *, connection: SocketConnection | None = None, abrupt: bool = True
    ) -> None:
        """Kill a connection: ``abrupt`` aborts TCP with no close frame, else a 1001 close."""
        conn = connection or self.open_socket()
        if conn is None:
            raise SocketClosedError("no open Socket Mode connection")
        if abrupt and conn.transport is not None:
            conn.transport.abort()  # type: ignore[attr-defined]
        else:
            await conn.ws.close(code=WSCloseCode.GOING_AWAY, message=b"going away")


# --------------------------------------------------------------------------------------------
# payloads


class PayloadFactory:
    """Builds the payloads Slack sends to apps, bound to a fake's state.

    Why: payloads must carry ids the fake issued (response_url, trigger_id) and the block_ids
    the fake stored, so a click or a submission round-trips exactly as it would on Slack.
    The same dicts go to HTTP (via RequestSigner) or to Socket Mode (via push_envelope).
    """

    def __init__(self, fake: SlackFake) -> None:
        self.fake = fake

    def _team(self, team_id: str | None) -> FakeTeam:
        return self.fake.teams[team_id or self.fake.team.id]

    def _user_obj(self, user: FakeUser) -> JSON:
        return {"id": user.id, "username": user.name, "name": user.name, "team_id": user.team_id}

    def _team_obj(self, team: FakeTeam) -> JSON:
        data: JSON = {"id": team.id, "domain": team.domain}
        if team.enterprise_id is not None:
            data["enterprise_id"] = team.enterprise_id
            data["enterprise_name"] = team.enterprise_name
        return data

    def _enterprise_obj(self, team: FakeTeam) -> JSON | None:
        if team.enterprise_id is None:
            return None
        return {"id": team.enterprise_id, "name": team.enterprise_name}

    def slash_command(
        self,
        command: str = "/advise",
        text: str = "",
        *,
        user_id: str,
        team_id: str | None = None,
        channel_id: str | None = None,
        user_name: str | None = None,
    ) -> dict[str, str]:
        """Form fields of a slash command (all strings, as Slack posts them)."""
        team = self._team(team_id)
        user = self.fake.ensure_user(user_id, team.id)
        channel = self.fake.channels[channel_id or team.general_channel_id]
        fields = {
            "token": self.fake.verification_token,
            "team_id": team.id,
            "team_domain": team.domain,
            "channel_id": channel.id,
            "channel_name": channel.name,
            "user_id": user.id,
            "user_name": user_name or user.name,
            "command": command,
            "text": text,
            "api_app_id": self.fake.app_id,
            "is_enterprise_install": "false",
            "response_url": self.fake.issue_response_url(team.id, user.id, channel_id=channel.id),
            "trigger_id": self.fake.issue_trigger_id(team.id, user.id),
        }
        if team.enterprise_id is not None:
            fields["enterprise_id"] = team.enterprise_id
            fields["enterprise_name"] = team.enterprise_name or ""
        return fields

    def block_actions(
        self,
        action_id: str,
        *,
        user_id: str,
        message: FakeMessage | FakeEphemeral | None = None,
        view: FakeView | str | None = None,
        value: Any = None,
        block_id: str | None = None,
        state_values: Mapping[str, Any] | None = None,
    ) -> JSON:
        """A block_actions payload for clicking/selecting ``action_id`` in a stored message/view.

        ``value`` picks the option (selects, radios, checkboxes) or is the typed value;
        for buttons the element's own value is sent. Raises ValueError if the element is not
        in the message/view, which catches tests clicking something the app never sent.
        """
        if (message is None) == (view is None):
            raise ValueError("pass exactly one of message= or view=")
        fake = self.fake
        action_ts = f"{time.time():.6f}"
        fview: FakeView | None = None
        if view is not None:
            fview = fake.views[view] if isinstance(view, str) else view
            team = fake.teams[fview.team_id]
            blocks = fview.blocks
        else:
            assert message is not None
            team = fake.teams[message.team_id]
            blocks = message.blocks
        user = fake.ensure_user(user_id, team.id)
        found_block_id, element = _find_element(blocks, action_id, block_id)
        action: JSON = {
            "type": element.get("type"),
            "action_id": action_id,
            "block_id": found_block_id,
            "action_ts": action_ts,
        }
        if element.get("type") == "button":
            action["text"] = copy.deepcopy(element.get("text"))
            if "value" in element:
                action["value"] = element["value"]
            if "style" in element:
                action["style"] = element["style"]
        else:
            action.update(_selection_fields(element, value))
            if "placeholder" in element:
                action["placeholder"] = copy.deepcopy(element["placeholder"])
        payload: JSON = {
            "type": "block_actions",
            "user": self._user_obj(user),
            "api_app_id": fake.app_id,
            "token": fake.verification_token,
            "team": self._team_obj(team),
            "enterprise": self._enterprise_obj(team),
            "is_enterprise_install": False,
            "actions": [action],
        }
        if fview is not None:
            payload["container"] = {"type": "view", "view_id": fview.id}
            payload["trigger_id"] = fake.issue_trigger_id(team.id, user.id, view_id=fview.id)
            view_obj = fview.to_slack()
            if state_values is not None:
                view_obj["state"] = {"values": copy.deepcopy(dict(state_values))}
            payload["view"] = view_obj
            payload["state"] = {"values": view_obj["state"]["values"]}
        else:
            assert message is not None
            channel = fake.channels.get(message.channel)
            ephemeral = isinstance(message, FakeEphemeral)
            payload["container"] = {
                "type": "message",
                "message_ts": message.ts,
                "channel_id": message.channel,
                "is_ephemeral": ephemeral,
            }
            payload["trigger_id"] = fake.issue_trigger_id(team.id, user.id)
            payload["channel"] = {
                "id": message.channel,
                "name": channel.name if channel else "directmessage",
            }
            if isinstance(message, FakeMessage):
                payload["message"] = message.to_slack()
            payload["state"] = {"values": copy.deepcopy(dict(state_values or {}))}
            payload["response_url"] = fake.issue_response_url(
                team.id,
                user.id,
                channel_id=message.channel,
                message_ts=None if ephemeral else message.ts,
                ephemeral_ts=message.ts if ephemeral else None,
            )
        return payload

    def input_values(self, view: FakeView | str, inputs: Mapping[str, Any]) -> JSON:
        """``view.state.values`` for a view's input blocks, from ``{action_id: value}``.

        Every input block gets an entry (empty ones carry null/[]), as Slack sends them.
        """
        fview = self.fake.views[view] if isinstance(view, str) else view
        unknown = set(inputs)
        values: JSON = {}
        for block in fview.blocks:
            if block.get("type") != "input":
                continue
            element = block.get("element") or {}
            action_id = str(element.get("action_id"))
            unknown.discard(action_id)
            values[str(block["block_id"])] = {
                action_id: {
                    "type": element.get("type"),
                    **_selection_fields(element, inputs.get(action_id)),
                }
            }
        if unknown:
            raise ValueError(f"view {fview.id} has no input with action_id {sorted(unknown)}")
        return values

    def view_submission(
        self,
        view: FakeView | str,
        *,
        user_id: str | None = None,
        inputs: Mapping[str, Any] | None = None,
        values: Mapping[str, Any] | None = None,
    ) -> JSON:
        """A view_submission payload for a stored view.

        ``inputs`` maps action_id → value (see input_values); ``values`` gives raw
        ``state.values`` instead. The view's callback_id and private_metadata are the app's.
        """
        fake = self.fake
        fview = fake.views[view] if isinstance(view, str) else view
        team = fake.teams[fview.team_id]
        user = fake.ensure_user(user_id or fview.user_id or "", team.id)
        state = dict(values) if values is not None else self.input_values(fview, inputs or {})
        fview.state_values = copy.deepcopy(state)
        return {
            "type": "view_submission",
            "team": self._team_obj(team),
            "user": self._user_obj(user),
            "api_app_id": fake.app_id,
            "token": fake.verification_token,
            "trigger_id": fake.issue_trigger_id(team.id, user.id, view_id=fview.id),
            "view": fview.to_slack(),
            "response_urls": [],
            "is_enterprise_install": False,
            "enterprise": self._enterprise_obj(team),
        }

    def view_closed(
        self, view: FakeView | str, *, user_id: str | None = None, is_cleared: bool = False
    ) -> JSON:
        """A view_closed payload (sent only if the app set notify_on_close)."""
        fake = self.fake
        fview = fake.views[view] if isinstance(view, str) else view
        team = fake.teams[fview.team_id]
        user = fake.ensure_user(user_id or fview.user_id or "", team.id)
        return {
            "type": "view_closed",
            "team": self._team_obj(team),
            "user": self._user_obj(user),
            "api_app_id": fake.app_id,
            "token": fake.verification_token,
            "view": fview.to_slack(),
            "is_cleared": is_cleared,
            "is_enterprise_install": False,
            "enterprise": self._enterprise_obj(team),
        }

    def event_callback(self, event: Mapping[str, Any], *, team_id: str | None = None) -> JSON:
        """An Events API ``event_callback`` body wrapping ``event``."""
        fake = self.fake
        team = self._team(team_id)
        return {
            "token": fake.verification_token,
            "team_id": team.id,
            "enterprise_id": team.enterprise_id,
            "api_app_id": fake.app_id,
            "event": dict(event),
            "type": "event_callback",
            "event_id": f"Ev0{next(fake._ids):08X}",
            "event_time": int(time.time()),
            "authorizations": [
                {
                    "enterprise_id": team.enterprise_id,
                    "team_id": team.id,
                    "user_id": team.bot_user_id,
                    "is_bot": True,
                    "is_enterprise_install": False,
                }
            ],
            "is_ext_shared_channel": False,
            "event_context": f"4-fake-{secrets.token_hex(6)}",
        }

    def message_im(
        self, text: str, *, user_id: str, team_id: str | None = None, channel_id: str | None = None
    ) -> JSON:
        """An event_callback for a user typing ``text`` in their DM with the bot."""
        team = self._team(team_id)
        user = self.fake.ensure_user(user_id, team.id)
        channel = channel_id or self.fake.dm_channel(user.id, team.id)
        if channel is None:
            channel = self.fake._open_dm(team.id, (user.id,))[0].id
        ts = self.fake._next_ts()
        event = {
            "type": "message",
            "channel": channel,
            "user": user.id,
            "text": text,
            "ts": ts,
            "event_ts": ts,
            "channel_type": "im",
            "team": team.id,
        }
        return self.event_callback(event, team_id=team.id)


# --------------------------------------------------------------------------------------------
# signing and posting to the app


class SignOptions(TypedDict, total=False):
    """How to sign: defaults give a valid, fresh signature and no retry headers."""

    timestamp: int
    forge: bool
    stale: bool
    retry_num: int
    retry_reason: str
    secret: str


@dataclass(frozen=True)
class SignedRequest:
    """A request exactly as Slack would POST it to the app's HTTP endpoint."""

    body: bytes
    headers: dict[str, str]
    payload: JSON
    kind: str  # slash_command | interactive | event
    timestamp: int


class RequestSigner:
    """Encodes payloads the way Slack does and signs them (``v0=`` HMAC-SHA256).

    Why: bolt verifies the raw body against X-Slack-Signature; tests need valid, forged and
    stale variants to prove the app both accepts Slack and rejects everyone else.
    """

    def __init__(self, signing_secret: str) -> None:
        self.signing_secret = signing_secret

    @staticmethod
    def signature(secret: str, timestamp: int, body: bytes) -> str:
        """``"v0=" + hex(HMAC-SHA256(secret, f"v0:{ts}:{body}"))``."""
        base = b"v0:" + str(timestamp).encode() + b":" + body
        return "v0=" + hmac.new(secret.encode(), base, hashlib.sha256).hexdigest()

    def sign(
        self,
        body: bytes,
        *,
        content_type: str,
        payload: JSON,
        kind: str,
        **options: Unpack[SignOptions],
    ) -> SignedRequest:
        """Sign ``body``; ``forge`` uses a wrong secret, ``stale`` a timestamp 10 min old."""
        timestamp = options.get("timestamp", int(time.time()))
        if options.get("stale"):
            timestamp -= 600
        secret = options.get("secret", self.signing_secret)
        if options.get("forge"):
            secret = "forged-" + secret
        headers = {
            "Content-Type": content_type,
            "X-Slack-Request-Timestamp": str(timestamp),
            "X-Slack-Signature": self.signature(secret, timestamp, body),
            "User-Agent": "Slackbot 1.0 (+https://api.slack.com/robots)",
        }
        if "retry_num" in options:
            headers["X-Slack-Retry-Num"] = str(options["retry_num"])
            headers["X-Slack-Retry-Reason"] = options.get("retry_reason", "http_timeout")
        elif "retry_reason" in options:
            headers["X-Slack-Retry-Reason"] = options["retry_reason"]
        return SignedRequest(body, headers, payload, kind, timestamp)

    def slash_command(
        self, payload: Mapping[str, str], **options: Unpack[SignOptions]
    ) -> SignedRequest:
        """Form-encoded slash command fields."""
        body = urlencode(dict(payload)).encode()
        return self.sign(
            body,
            content_type="application/x-www-form-urlencoded",
            payload=dict(payload),
            kind="slash_command",
            **options,
        )

    def interactive(
        self, payload: Mapping[str, Any], **options: Unpack[SignOptions]
    ) -> SignedRequest:
        """``payload=<json>`` form body (block_actions, view_submission, view_closed…)."""
        body = urlencode({"payload": json.dumps(dict(payload))}).encode()
        return self.sign(
            body,
            content_type="application/x-www-form-urlencoded",
            payload=dict(payload),
            kind="interactive",
            **options,
        )

    def event(self, payload: Mapping[str, Any], **options: Unpack[SignOptions]) -> SignedRequest:
        """JSON body of an Events API request."""
        body = json.dumps(dict(payload)).encode()
        return self.sign(
            body, content_type="application/json", payload=dict(payload), kind="event", **options
        )


@dataclass(frozen=True)
class AppReply:
    """What the app answered to a signed request."""

    status: int
    text: str
    headers: Mapping[str, str]

    def json(self) -> Any:
        """The body parsed as JSON (None for an empty body)."""
        return json.loads(self.text) if self.text else None


async def post_to_app(
    url: str,
    request: SignedRequest,
    *,
    session: ClientSession | None = None,
    timeout: float = 5.0,  # noqa: ASYNC109 - passed to aiohttp as the request deadline
) -> AppReply:
    """POST a signed request to the app's HTTP endpoint (loopback only)."""
    host = urlsplit(url).hostname or ""
    if not _is_loopback(host):
        raise ValueError(f"refusing to post to non-loopback host {host!r}")
    own = session is None
    client = session or ClientSession(timeout=ClientTimeout(total=timeout))
    try:
        async with client.post(url, data=request.body, headers=request.headers) as resp:
            text = await resp.text()
            return AppReply(resp.status, text, dict(resp.headers))
    finally:
        if own:
            await client.close()


@contextlib.asynccontextmanager
async def serve_bolt_app(app: AsyncApp, *, path: str = "/slack/events") -> AsyncIterator[str]:
    """Serve a bolt AsyncApp over HTTP on 127.0.0.1 (ephemeral port); yields the endpoint URL.

    Why: ``app.start()`` binds 0.0.0.0 and blocks; tests need loopback and a clean stop.
    """
    runner = web.AppRunner(app.web_app(path=path), shutdown_timeout=1.0, access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    try:
        yield f"http://127.0.0.1:{int(runner.addresses[0][1])}{path}"
    finally:
        await runner.cleanup()


@contextlib.contextmanager
def loopback_only() -> Iterator[list[str]]:
    """Refuse any TCP connect or name lookup that is not loopback; yields the refused targets.

    Why: a guard that proves nothing in a test leaves 127.0.0.1 (slack_sdk even honours
    HTTPS_PROXY without NO_PROXY, which would send loopback traffic to a proxy).
    """
    from asyncio import selector_events

    refused: list[str] = []
    original_connect = selector_events.BaseSelectorEventLoop.sock_connect
    original_getaddrinfo = socket.getaddrinfo

    async def guarded_connect(
        loop: selector_events.BaseSelectorEventLoop, sock: socket.socket, address: Any
    ) -> None:
        host = str(address[0]) if isinstance(address, tuple) else str(address)
        if sock.family in (socket.AF_INET, socket.AF_INET6) and not _is_loopback(host):
            refused.append(host)
            raise ConnectionRefusedError(f"loopback_only: refused connect to {host}")
        await original_connect(loop, sock, address)

    def guarded_getaddrinfo(host: Any, *args: Any, **kwargs: Any) -> Any:
        name = host.decode() if isinstance(host, bytes) else str(host)
        if host is not None and not _is_loopback(name):
            refused.append(name)
            raise socket.gaierror(f"loopback_only: refused lookup of {name}")
        return original_getaddrinfo(host, *args, **kwargs)

    selector_events.BaseSelectorEventLoop.sock_connect = guarded_connect  # type: ignore[assignment,method-assign]
    socket.getaddrinfo = guarded_getaddrinfo
    try:
        yield refused
    finally:
        selector_events.BaseSelectorEventLoop.sock_connect = original_connect  # type: ignore[method-assign]
        socket.getaddrinfo = original_getaddrinfo


__all__ = [
    "ApiCall",
    "AppReply",
    "FakeChannel",
    "FakeEphemeral",
    "FakeFile",
    "FakeMessage",
    "FakeTeam",
    "FakeUser",
    "FakeView",
    "PayloadFactory",
    "RequestSigner",
    "ResponseUrlPost",
    "SignOptions",
    "SignedRequest",
    "SlackApiFailure",
    "SlackFake",
    "SocketAck",
    "SocketClosedError",
    "SocketConnection",
    "TokenInfo",
    "loopback_only",
    "post_to_app",
    "serve_bolt_app",
]
