"""Running the Slack adapter: Socket Mode or HTTP mode (settings.slack_mode), one or many
workspaces (a bot token, or OAuth installs kept in the database).

Why both modes: Socket Mode needs no public URL, which suits a small community (the
default); HTTP mode is stateless, so several processes behind a load balancer can share
one PostgreSQL, and it answers ``GET /healthz`` for the balancer. Every request is
verified with the signing secret in HTTP mode (bolt answers 401 to a forged or stale one
before any listener runs); Socket Mode needs only the app-level token.
"""

from __future__ import annotations

import asyncio
import functools
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field

import aiohttp
from aiohttp import web
from slack_bolt.adapter.aiohttp import to_aiohttp_response, to_bolt_request
from slack_bolt.adapter.socket_mode.async_handler import AsyncSocketModeHandler
from slack_bolt.async_app import AsyncApp
from slack_bolt.authorization.async_authorize import AsyncInstallationStoreAuthorize
from slack_bolt.oauth.async_oauth_settings import AsyncOAuthSettings
from slack_sdk.errors import SlackApiError, SlackClientError

from adapters.runtime import Runtime, StartupError
from adapters.slack.app import Listeners, build_app
from adapters.slack.checkins import SlackCheckInSender, TokenLookup
from adapters.slack.client import authorize_url, new_session, web_client
from adapters.slack.delivery import Courier
from adapters.slack.manifest import (
    BOT_SCOPES,
    EVENTS_PATH,
    INSTALL_PATH,
    oauth_enabled,
    redirect_path,
)
from adapters.slack.mentors import SlackMentorBoard
from adapters.slack.oauth import build_stores
from bot.api import Database, Settings, StoreUnavailable, whole_number

log = logging.getLogger(__name__)
# Slack's answers that mean a token will never work: refuse to start instead of retrying.
AUTH_ERRORS = frozenset(
    {
        "invalid_auth",
        "not_authed",
        "token_revoked",
        "token_expired",
        "account_inactive",
        "not_allowed_token_type",
    }
)
HEALTH_PATH = "/healthz"
HEALTH_TIMEOUT = 2.0
DRAIN_TIMEOUT = 10.0  # seconds a stopping adapter lets acknowledged work finish
STOP_DRAIN = 3.0  # the same when the process was told to stop (serve exits within 5 s)
TOKEN_CHECK_SECONDS = 8.0  # all start-up token checks together (a stop within 10 s)
BACKLOG = 1024  # pending connections; the default 128 drops SYNs in a burst (1 s retry)


def check_settings(settings: Settings) -> None:
    """Refuse to start on a combination that cannot work, saying which setting to fix."""
    problems = []
    oauth = oauth_enabled(settings)
    if oauth and settings.slack_client_secret is None:
        problems.append("SLACK_CLIENT_SECRET is required with SLACK_CLIENT_ID (OAuth installs)")
    if not oauth and settings.slack_bot_token is None:
        problems.append("set SLACK_BOT_TOKEN (one workspace) or SLACK_CLIENT_ID (OAuth)")
    if settings.slack_mode == "socket" and settings.slack_app_token is None:
        problems.append(
            "Socket Mode needs SLACK_APP_TOKEN (xapp-…); or set CROSSROADS_SLACK_MODE=http"
        )
    if settings.slack_mode == "http" and settings.slack_signing_secret is None:
        problems.append("HTTP mode needs SLACK_SIGNING_SECRET to verify Slack's requests")
    if problems:
        raise StartupError("Slack is not configured correctly: " + "; ".join(problems))


def build_web_app(app: AsyncApp, db: Database, *, events: bool) -> web.Application:
    """The HTTP endpoints: Slack's requests (HTTP mode), the OAuth pages, /healthz."""

    async def dispatch(request: web.Request) -> web.Response:
        # bolt would call int() on the timestamp and answer 500 with a traceback: a
        # timestamp that is not a number fails verification like any forged request.
        stamp = request.headers.get("X-Slack-Request-Timestamp")
        if stamp is not None and whole_number(stamp) is None:
            return web.json_response({"error": "invalid request"}, status=401)
        response = await app.async_dispatch(await to_bolt_request(request))
        return await to_aiohttp_response(response)

    async def healthz(_request: web.Request) -> web.Response:
        try:
            async with asyncio.timeout(HEALTH_TIMEOUT):
                await db.ping()
        except (StoreUnavailable, TimeoutError):
            return web.json_response({"status": "database unavailable"}, status=503)
        return web.json_response({"status": "ok"})

    web_app = web.Application()
    if events:
        web_app.router.add_post(EVENTS_PATH, dispatch)
    flow = app.oauth_flow
    if flow is not None:

        async def install(request: web.Request) -> web.Response:
            return await to_aiohttp_response(
                await flow.handle_installation(await to_bolt_request(request))
            )

        async def callback(request: web.Request) -> web.Response:
            return await to_aiohttp_response(
                await flow.handle_callback(await to_bolt_request(request))
            )

        web_app.router.add_get(flow.install_path, install)
        web_app.router.add_get(flow.redirect_uri_path, callback)
    web_app.router.add_get(HEALTH_PATH, healthz)
    return web_app


@dataclass
class SlackService:
    """The adapter while it runs; ``stop()`` releases the socket, the server and the session."""

    app: AsyncApp
    listeners: Listeners
    session: aiohttp.ClientSession
    runner: web.AppRunner | None = None
    socket: AsyncSocketModeHandler | None = None
    url: str | None = None  # http://host:port of the HTTP server, when there is one
    checkin_sender: SlackCheckInSender | None = None
    mentor_board: SlackMentorBoard | None = None
    rt: Runtime | None = None
    _stopped: asyncio.Event = field(default_factory=asyncio.Event)

    @classmethod
    async def start(
        cls, rt: Runtime, *, backoff: float = 0.5, ping_interval: float = 10.0
    ) -> SlackService:
        """Build the app and connect (Socket Mode) or listen (HTTP), as configured.

        ``ping_interval``: how often Socket Mode pings, which is also how fast a dead
        connection is noticed and replaced.
        """
        settings = rt.settings
        check_settings(settings)
        session = new_session()
        listeners = Listeners(rt, Courier())
        try:
            app = build(rt, session, listeners, backoff=backoff)
        except BaseException:
            await session.close()
            raise
        service = cls(app=app, listeners=listeners, session=session, rt=rt)
        try:
            await check_tokens(app, settings)
            http = settings.slack_mode == "http"
            if http or service.app.oauth_flow is not None:
                await service._listen(rt, events=http)
            if not http:
                assert settings.slack_app_token is not None
                service.socket = AsyncSocketModeHandler(
                    service.app,
                    settings.slack_app_token.get_secret_value(),
                    ping_interval=ping_interval,
                )
                await service.socket.connect_async()
        except (SlackApiError, SlackClientError) as exc:
            await service.stop()
            code = exc.response.get("error") if isinstance(exc, SlackApiError) else exc
            raise StartupError(f"Slack refused to connect: {code}") from None
        except BaseException:
            await service.stop()
            raise
        tokens = token_lookup(rt)
        service.checkin_sender = SlackCheckInSender(
            tokens, settings.slack_api_base, session, listeners.courier
        )
        if rt.checkins is not None:
            rt.checkins.register(service.checkin_sender)
        service.mentor_board = SlackMentorBoard(tokens, settings.slack_api_base, session)
        if rt.mentors is not None:
            rt.mentors.register(service.mentor_board)
        log.info(
            "slack adapter running: %s mode, %s",
            settings.slack_mode,
            "OAuth (multi-workspace)" if service.app.oauth_flow else "single workspace",
        )
        return service

    async def _listen(self, rt: Runtime, *, events: bool) -> None:
        settings = rt.settings
        web_app = build_web_app(self.app, rt.db, events=events)
        self.runner = web.AppRunner(web_app, access_log=None, shutdown_timeout=2.0)
        await self.runner.setup()
        site = web.TCPSite(
            self.runner, settings.slack_http_host, settings.slack_http_port, backlog=BACKLOG
        )
        await site.start()
        host, port = self.runner.addresses[0][:2]
        self.url = f"http://{host}:{port}"

    async def wait(self) -> None:
        """Until stop() (serve runs this until the process is told to end)."""
        await self._stopped.wait()

    async def drain(self, timeout: float = DRAIN_TIMEOUT) -> bool:  # noqa: ASYNC109
        """Wait for acknowledged requests to be fully handled (False on timeout)."""
        return await self.listeners.drain(timeout)

    async def stop(self, drain_timeout: float = DRAIN_TIMEOUT) -> None:
        """Stop taking requests, let acknowledged ones finish, then close the session."""
        self._stopped.set()
        if self.checkin_sender is not None and self.rt is not None and self.rt.checkins:
            self.rt.checkins.unregister(self.checkin_sender.platform)  # its session closes
        self.checkin_sender = None
        if self.mentor_board is not None and self.rt is not None and self.rt.mentors:
            self.rt.mentors.unregister(self.mentor_board.platform)
        self.mentor_board = None
        if self.socket is not None:
            await self.socket.close_async()
            self.socket = None
        if self.runner is not None:
            await self.runner.cleanup()
            self.runner = None
        if not await self.drain(drain_timeout):
            log.warning("slack adapter stopped with requests still being handled")
        if not self.session.closed:
            await self.session.close()


async def check_tokens(app: AsyncApp, settings: Settings) -> None:
    """Refuse to start on a token Slack rejects or a Slack that cannot be reached.

    Socket Mode would otherwise retry forever in the background while the process looks
    alive. Each check is bounded (``TOKEN_CHECK_SECONDS`` in all), so a start-up that
    cannot work ends within 10 s with one line saying why.
    """
    checks: list[tuple[str, Callable[[], Awaitable[object]]]] = []
    if not oauth_enabled(settings) and settings.slack_bot_token is not None:
        _check_shape("SLACK_BOT_TOKEN", settings.slack_bot_token.get_secret_value(), "xox")
        checks.append(("SLACK_BOT_TOKEN", app.client.auth_test))
    if settings.slack_mode == "socket" and settings.slack_app_token is not None:
        token = settings.slack_app_token.get_secret_value()
        _check_shape("SLACK_APP_TOKEN", token, "xapp-")
        checks.append(
            (
                "SLACK_APP_TOKEN",
                functools.partial(app.client.apps_connections_open, app_token=token),
            )
        )
    try:
        async with asyncio.timeout(TOKEN_CHECK_SECONDS):
            for name, call in checks:
                await _check_one(name, call)
    except TimeoutError:
        raise StartupError(
            f"Slack did not answer at {settings.slack_api_base} within "
            f"{TOKEN_CHECK_SECONDS:.0f} s; check the network (or CROSSROADS_SLACK_API_BASE)"
        ) from None


async def _check_one(name: str, call: Callable[[], Awaitable[object]]) -> None:
    try:
        await call()
    except SlackApiError as exc:
        error = str(exc.response.get("error"))
        if error in AUTH_ERRORS:
            raise StartupError(f"Slack rejected {name}: {error}") from None
        log.warning("slack: could not check %s yet: %s", name, error)
    except (SlackClientError, aiohttp.ClientError, OSError) as exc:
        raise StartupError(
            f"Slack cannot be reached to check {name} ({type(exc).__name__}); "
            "check the network (or CROSSROADS_SLACK_API_BASE)"
        ) from None


def _check_shape(name: str, token: str, prefix: str) -> None:
    """A token that cannot be one (wrong kind, spaces, non-ASCII) is refused before use."""
    if not (token.startswith(prefix) and token.isascii() and token.isprintable()) or any(
        c.isspace() for c in token
    ):
        raise StartupError(f"{name} is not a Slack token of the right kind (it starts {prefix}…)")


def token_lookup(rt: Runtime) -> TokenLookup:
    """The bot token per team for check-in DMs: the one token, or the team's installation."""
    settings = rt.settings
    if not oauth_enabled(settings):
        assert settings.slack_bot_token is not None
        token = settings.slack_bot_token.get_secret_value()

        async def single(_team: str) -> str | None:
            return token

        return single
    installations, _states = build_stores(rt.db, settings.slack_client_id)

    async def installed(team: str) -> str | None:
        bot = await installations.async_find_bot(enterprise_id=None, team_id=team)
        if bot is None:
            bot = await installations.async_find_bot(
                enterprise_id=team, team_id=None, is_enterprise_install=True
            )
        return bot.bot_token if bot is not None else None

    return installed


def build(
    rt: Runtime, session: aiohttp.ClientSession, listeners: Listeners, *, backoff: float = 0.5
) -> AsyncApp:
    """The bolt app for these settings: one workspace (bot token) or OAuth installs."""
    settings = rt.settings
    secret = settings.slack_signing_secret
    signing_secret = secret.get_secret_value() if secret is not None else ""
    if not oauth_enabled(settings):
        assert settings.slack_bot_token is not None
        token = settings.slack_bot_token.get_secret_value()
        client = web_client(settings.slack_api_base, session, token=token, backoff=backoff)
        return build_app(rt, client, listeners=listeners, signing_secret=signing_secret)
    if settings.slack_bot_token is not None:
        log.warning("SLACK_BOT_TOKEN is ignored: OAuth installs (SLACK_CLIENT_ID) are configured")
    assert settings.slack_client_secret is not None
    client_secret = settings.slack_client_secret.get_secret_value()
    client = web_client(settings.slack_api_base, session, backoff=backoff)
    installations, states = build_stores(rt.db, settings.slack_client_id)
    oauth_settings = AsyncOAuthSettings(
        client_id=settings.slack_client_id,
        client_secret=client_secret,
        scopes=list(BOT_SCOPES),
        user_scopes=[],
        redirect_uri=settings.slack_redirect_uri or None,
        install_path=INSTALL_PATH,
        redirect_uri_path=redirect_path(settings),
        install_page_rendering_enabled=False,
        installation_store=installations,
        installation_store_bot_only=True,
        state_store=states,
        authorization_url=authorize_url(settings.slack_api_base),
    )
    authorize = AsyncInstallationStoreAuthorize(
        logger=logging.getLogger("slack_bolt.authorize"),
        installation_store=installations,
        client_id=settings.slack_client_id,
        client_secret=client_secret,
        bot_only=True,
        cache_enabled=True,  # one auth.test per token, not one per request
        client=client,
    )
    return build_app(
        rt,
        client,
        listeners=listeners,
        signing_secret=signing_secret,
        oauth_settings=oauth_settings,
        authorize=authorize,
    )


async def run(rt: Runtime) -> None:
    """Serve Slack until cancelled (used by adapters/serve.py)."""
    service = await SlackService.start(rt)
    rt.stop_intake.append(functools.partial(service.stop, STOP_DRAIN))
    try:
        await service.wait()
    finally:
        await service.stop()
