"""``crossroads discord …``: Discord set-up helpers. Imports no discord.py (fast CLI start).

Why these scopes and no permissions: ``bot`` puts the bot user in the server (Discord only
lets a bot open a DM with someone it shares a server with) and ``applications.commands``
registers the slash commands. Every reply in a server is an interaction response or
followup, which Discord delivers whatever the bot's channel permissions, and DMs need none;
so the invite asks for permissions integer 0 and a server grants the bot nothing extra.
"""

from __future__ import annotations

import base64
import binascii
import sys
from urllib.parse import urlencode

import click

SCOPES = ("bot", "applications.commands")
PERMISSIONS = 0
AUTHORIZE_URL = "https://discord.com/oauth2/authorize"


def invite_url(client_id: int) -> str:
    """The OAuth2 URL that adds the bot to a server (guild install)."""
    query = urlencode(
        {
            "client_id": str(client_id),
            "scope": " ".join(SCOPES),
            "permissions": str(PERMISSIONS),
            "integration_type": "0",
        }
    )
    return f"{AUTHORIZE_URL}?{query}"


def client_id_from_token(token: str) -> int | None:
    """A bot token starts with the base64 of the bot's user id (= its application id)."""
    head = token.split(".", 1)[0]
    try:
        text = base64.b64decode(head + "=" * (-len(head) % 4), altchars=b"-_", validate=True)
        value = int(text.decode("ascii"))
    except (binascii.Error, ValueError, UnicodeDecodeError):
        return None
    return value if value > 0 else None


@click.group(name="discord")
def discord_group() -> None:
    """Discord set-up helpers (see docs/discord.md)."""


@discord_group.command("invite-url")
@click.option(
    "--client-id",
    type=click.IntRange(min=1),
    default=None,
    help="Application ID from the Developer Portal (default: read from DISCORD_TOKEN).",
)
def invite_url_command(client_id: int | None) -> None:
    """Print the URL that adds Crossroads to a server, with exactly what it needs."""
    if client_id is None:
        from adapters.runtime import StartupError, settings_or_exit

        try:
            token = settings_or_exit().discord_token
        except StartupError as exc:
            click.echo(f"crossroads: {exc}", err=True)
            sys.exit(2)
        client_id = client_id_from_token(token.get_secret_value()) if token else None
        if client_id is None:
            problem = (
                "DISCORD_TOKEN is set but is not a valid bot token (copy it again from the "
                "Developer Portal: Bot → Reset Token)"
                if token is not None and token.get_secret_value().strip()
                else "DISCORD_TOKEN is not set"
            )
            click.echo(
                f"crossroads: {problem}; or give --client-id (the Application ID in the "
                "Developer Portal)",
                err=True,
            )
            sys.exit(2)
    click.echo(invite_url(client_id))
