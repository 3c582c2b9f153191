"""Text for Slack's mrkdwn: escaped so it can never mention anyone or become a link.

Why: Slack turns ``<@U…>``, ``<!channel>`` and ``<https://…|label>`` into mentions and
links, and ``&`` starts an entity. Escaping ``&``, ``<`` and ``>`` (Slack's own rule)
makes any text inert; text objects that carry it are also marked ``verbatim`` so Slack
does not auto-link bare URLs or channel names either. Escaping lengthens text, so
fitting to Slack's size limits is done on the escaped form.
"""

from __future__ import annotations

import re

from slack_sdk.models.blocks import MarkdownTextObject

from bot.api import clip, units


def escape(text: str) -> str:
    """Slack's escaping: ``&`` → ``&amp;``, ``<`` → ``&lt;``, ``>`` → ``&gt;``."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


_BARE_AMP = re.compile(r"&(?!(?:amp|lt|gt);)")


def inert(text: str) -> str:
    """Already-escaped text read back from Slack, made safe again whatever Slack returned.

    Why: a clicked message's text is read back to close it in place (or to show it above
    a modal); should that copy come back unescaped, ``<`` and ``>`` are escaped again
    (entities are kept).
    """
    return _BARE_AMP.sub("&amp;", text).replace("<", "&lt;").replace(">", "&gt;")


def fit(text: str, limit: int) -> str:
    """``text`` escaped and clipped (at a word, with an ellipsis) to ``limit`` units."""
    escaped = escape(text)
    if units(escaped) <= limit:
        return escaped
    low, high = 0, min(len(text), limit)
    best = ""
    while low <= high:  # the longest clip whose escaped form fits
        mid = (low + high) // 2
        candidate = escape(clip(text, mid))
        if units(candidate) <= limit:
            best, low = candidate, mid + 1
        else:
            high = mid - 1
    return best


def mrkdwn(text: str) -> MarkdownTextObject:
    """An mrkdwn text object for text we already escaped; verbatim: no auto-linking."""
    return MarkdownTextObject(text=text, verbatim=True)


_SLACK_TOKEN = re.compile(r"<([^<>|]*)(?:\|([^<>]*))?>")
_SPECIAL = {"here", "channel", "everyone"}


def _token_text(match: re.Match[str]) -> str:
    target, label = match.group(1), match.group(2)
    if target.startswith("@"):  # a user: <@U123> or <@U123|name>
        return "@" + (label or target[1:])
    if target.startswith("#"):  # a channel: <#C123|general>
        return "#" + (label or target[1:])
    if target.startswith("!"):  # <!here>, <!subteam^S1|@team>, <!date^…|fallback>
        name = target[1:]
        if name in _SPECIAL:
            return "@" + name
        return label or name
    return label or target  # a link: <https://…|label> or <https://…>


def typed_text(text: str) -> str:
    """What a person typed, as plain text, from a message event's ``text``.

    Why: Slack sends message text formatted: ``&``, ``<`` and ``>`` as entities, mentions
    and links as ``<…>`` tokens. The core keeps plain text (every renderer escapes it
    again for its own medium), so ``R&amp;D`` becomes ``R&D``, a link its label or URL, a
    mention ``@name``; nothing here can ping anyone, since output is always escaped.
    """
    plain = _SLACK_TOKEN.sub(_token_text, text)
    return plain.replace("&lt;", "<").replace("&gt;", ">").replace("&amp;", "&")
