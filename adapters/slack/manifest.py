"""The Slack app manifest for the current settings, ready to paste at api.slack.com/apps.

Why generated: the scopes, the slash command, interactivity, Socket Mode and the OAuth
redirect URL must match what the adapter does and how it is configured; writing them
by hand is how they drift apart.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

from bot.api import Settings

EVENTS_PATH = "/slack/events"
INSTALL_PATH = "/slack/install"
DEFAULT_REDIRECT_PATH = "/slack/oauth_redirect"
PLACEHOLDER_URL = "https://YOUR-PUBLIC-HOST"
# commands: /advise; chat:write: post and update our messages (and publish the App Home);
# im:write: open the DM; users:read: admin/owner check and time zone via users.info;
# files:write: the export file, the charts and the statistics CSV. im:history: the
# message.im event (what a person types in the DM), and before re-sending a check-in
# whose first attempt may have gone out, the sender looks for it in the DM (Slack has
# no nonce). app_home_opened needs no scope. mpim:write: the group DM that introduces a
# person to their mentor.
BOT_SCOPES = (
    "commands",
    "chat:write",
    "im:write",
    "im:history",
    "users:read",
    "files:write",
    "mpim:write",
)
# Always: typed DMs (message.im) and the App Home (app_home_opened).
BOT_EVENTS = ("message.im", "app_home_opened")
# Only for multi-workspace installs: drop a workspace's tokens when it uninstalls.
OAUTH_BOT_EVENTS = ("app_uninstalled", "tokens_revoked")
USAGE_HINT = (
    "[start|resume|status|back|restart|export|forget|checkins|timezone|quiet|mentor|help|settings]"
)


def oauth_enabled(settings: Settings) -> bool:
    return bool(settings.slack_client_id)


def redirect_path(settings: Settings) -> str:
    """The path bolt serves the OAuth redirect on: that of SLACK_REDIRECT_URI, if set."""
    if settings.slack_redirect_uri:
        return urlsplit(settings.slack_redirect_uri).path or DEFAULT_REDIRECT_PATH
    return DEFAULT_REDIRECT_PATH


def public_url(settings: Settings, given: str | None) -> str | None:
    """The app's public base URL: given, else the origin of the redirect URI, else None."""
    if given:
        return given.rstrip("/")
    if settings.slack_redirect_uri:
        parts = urlsplit(settings.slack_redirect_uri)
        return f"{parts.scheme}://{parts.netloc}"
    return None


def build_manifest(
    settings: Settings, *, base_url: str | None = None, name: str = "Crossroads"
) -> dict[str, Any]:
    """The manifest as a dict (JSON-serialisable). ``base_url`` matters in HTTP mode/OAuth."""
    http = settings.slack_mode == "http"
    oauth = oauth_enabled(settings)
    root = public_url(settings, base_url) or PLACEHOLDER_URL
    events_url = root + EVENTS_PATH
    command: dict[str, Any] = {
        "command": settings.slack_command,
        "description": "Career advice: a consultation in a direct message",
        "usage_hint": USAGE_HINT,
        # Escaped: channels and users arrive as <#C…|name> and <@U…|name>, so the admin's
        # "settings mentors channel #x" / "tag @y" carry ids (adapters/slack/slash.py).
        "should_escape": True,
    }
    if http:
        command["url"] = events_url
    interactivity: dict[str, Any] = {"is_enabled": True}
    if http:
        interactivity["request_url"] = events_url
    app_settings: dict[str, Any] = {
        "interactivity": interactivity,
        "org_deploy_enabled": False,
        "socket_mode_enabled": not http,
        "token_rotation_enabled": False,
    }
    bot_events = [*BOT_EVENTS, *(OAUTH_BOT_EVENTS if oauth else ())]
    subscriptions: dict[str, Any] = {"bot_events": bot_events}
    if http:
        subscriptions["request_url"] = events_url
    app_settings["event_subscriptions"] = subscriptions
    oauth_config: dict[str, Any] = {"scopes": {"bot": list(BOT_SCOPES)}}
    if oauth:
        oauth_config["redirect_urls"] = [
            settings.slack_redirect_uri or root + redirect_path(settings)
        ]
    return {
        "_metadata": {"major_version": 1, "minor_version": 1},
        "display_information": {
            "name": name,
            "description": "Career advice in a direct message: paths, pros, cons, next steps.",
            "background_color": "#2c3e50",
        },
        "features": {
            "app_home": {
                # the Home tab shows the person's consultation, plan and check-ins
                "home_tab_enabled": True,
                # the Messages tab is the DM: people type to the bot there
                "messages_tab_enabled": True,
                "messages_tab_read_only_enabled": False,
            },
            "bot_user": {"display_name": name, "always_online": False},
            "slash_commands": [command],
        },
        "oauth_config": oauth_config,
        "settings": app_settings,
    }


def needs_public_url(settings: Settings) -> bool:
    """Whether the manifest contains URLs Slack must reach (HTTP mode or OAuth)."""
    return settings.slack_mode == "http" or oauth_enabled(settings)
