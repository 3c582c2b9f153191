"""``crossroads slack …``: commands for setting the Slack app up.

Why a group of its own: it is registered in adapters/cli.py in two lines; importing this
module stays cheap (click only), the manifest code is imported when the command runs.
"""

from __future__ import annotations

import json
from urllib.parse import urlsplit

import click


@click.group()
def slack() -> None:
    """Slack app commands."""


@slack.command()
@click.option(
    "--url",
    default=None,
    metavar="https://HOST",
    help="Public base URL of this bot (HTTP mode and OAuth); default: the origin of "
    "CROSSROADS_SLACK_REDIRECT_URI.",
)
@click.option("--name", default="Crossroads", show_default=True, help="App and bot name.")
def manifest(url: str | None, name: str) -> None:
    """Print an app manifest for the current settings (paste it at api.slack.com/apps)."""
    from adapters.runtime import StartupError, settings_or_exit
    from adapters.slack.manifest import build_manifest, needs_public_url, public_url

    if url is not None:
        parts = urlsplit(url.strip())
        if parts.scheme != "https" or not parts.hostname or parts.query or parts.fragment:
            raise click.BadParameter(
                f"{url[:80]!r} is not a public https URL; give it in full, e.g. "
                "https://bot.example.org (Slack sends its requests only to https)",
                param_hint="--url",
            )
        url = url.strip()
    try:
        settings = settings_or_exit()
    except StartupError as exc:
        raise click.ClickException(str(exc)) from None
    if needs_public_url(settings) and public_url(settings, url) is None:
        click.echo(
            "crossroads: no public URL known; the manifest uses a placeholder. Pass "
            "--url https://your.host (or set CROSSROADS_SLACK_REDIRECT_URI).",
            err=True,
        )
    click.echo(json.dumps(build_manifest(settings, base_url=url, name=name), indent=2))
