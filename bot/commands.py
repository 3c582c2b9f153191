"""How a person types a command on their platform, for sentences that name one.

The core speaks platform-neutral events, but a sentence such as "use start to begin one"
only helps when it shows what to type: ``/start`` in the terminal, ``/advise start`` in
Discord, the configured slash command (``/advise`` by default) in Slack.
"""

from __future__ import annotations

__all__ = [
    "DISCORD_COMMAND",
    "command",
]

DISCORD_COMMAND = "/advise"


def command(platform: str, name: str, slack_command: str = "/advise") -> str:
    if platform == "console":
        return f"/{name}"
    if platform == "discord":
        return f"{DISCORD_COMMAND} {name}"
    if platform == "slack":
        return f"{slack_command} {name}"
    return name
