"""One id codec for every platform: an intent <-> a component id.

Layout::

    x2:<tag>:<field>:<field>…            a button, select or modal submit
    x2e<o|r><max length>:<tag>:<field>…  a button that opens a text box for the intent

The text-box spec rides in the id because a modal must be the first response to a click,
before any database read. The longest id is kept <= 100 characters (Discord's custom_id
limit; Slack allows 255). Decoding never raises: anything malformed, out of range or not
made by this codec is ``None``, so a forged or ancient id gets a polite refusal upstream.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, fields
from typing import Any

from bot.ui.intents import REGISTRY, Intent

__all__ = [
    "MAX_ID",
    "MAX_INT",
    "MAX_TEXT_LENGTH",
    "PREFIX",
    "Opener",
    "Unencodable",
    "decode",
    "decode_opener",
    "encode",
    "encode_opener",
]

PREFIX = "x2"
MAX_ID = 100
MAX_INT = (1 << 63) - 1
MAX_TEXT_LENGTH = 4000
_STR = re.compile(r"[A-Za-z0-9_+./-]{0,64}")
_INT = re.compile(r"(?:0|[1-9][0-9]{0,18})")
_OPENER = re.compile(r"x2e([or])([1-9][0-9]{0,3})")


class Unencodable(ValueError):
    """A field value the codec cannot carry (a bug in a presenter, never user input)."""


@dataclass(frozen=True, slots=True)
class Opener:
    """A decoded text-box opener: show a box, then send ``intent`` with the text."""

    intent: Intent
    optional: bool
    max_length: int


def _field(value: Any, kind: Any) -> str:
    if kind in (bool, "bool"):
        return "1" if value else "0"
    if kind in (int, "int"):
        if not isinstance(value, int) or isinstance(value, bool) or not 0 <= value <= MAX_INT:
            raise Unencodable(f"{value!r} is not an id")
        return str(value)
    text = str(value)
    if not _STR.fullmatch(text):
        raise Unencodable(f"{text!r} cannot go into a component id")
    return text


def _parse(raw: str, kind: Any) -> Any:
    if kind in (bool, "bool"):
        if raw not in ("0", "1"):
            raise ValueError(raw)
        return raw == "1"
    if kind in (int, "int"):
        if not _INT.fullmatch(raw) or int(raw) > MAX_INT:
            raise ValueError(raw)
        return int(raw)
    if not _STR.fullmatch(raw):
        raise ValueError(raw)
    return raw


def _body(intent: Intent) -> str:
    parts = [intent.TAG] + [_field(getattr(intent, f.name), f.type) for f in fields(intent)]
    return ":".join(parts)


def encode(intent: Intent) -> str:
    text = f"{PREFIX}:{_body(intent)}"
    if len(text) > MAX_ID:
        raise Unencodable(f"{intent!r} does not fit a component id")
    return text


def encode_opener(intent: Intent, *, optional: bool, max_length: int) -> str:
    length = max(1, min(max_length, MAX_TEXT_LENGTH))
    text = f"{PREFIX}e{'o' if optional else 'r'}{length}:{_body(intent)}"
    if len(text) > MAX_ID:
        raise Unencodable(f"{intent!r} does not fit a component id")
    return text


def _intent(parts: list[str]) -> Intent | None:
    cls = REGISTRY.get(parts[0]) if parts else None
    if cls is None:
        return None
    spec = fields(cls)
    if len(parts) - 1 != len(spec):
        return None
    try:
        values = {f.name: _parse(raw, f.type) for f, raw in zip(spec, parts[1:], strict=True)}
    except ValueError:
        return None
    return cls(**values)


def decode(raw: object) -> Intent | None:
    """The intent in a component id, or None for anything this codec did not make."""
    if not isinstance(raw, str) or len(raw) > MAX_ID or not raw.startswith(PREFIX + ":"):
        return None
    return _intent(raw.split(":")[1:])


def decode_opener(raw: object) -> Opener | None:
    if not isinstance(raw, str) or len(raw) > MAX_ID:
        return None
    head, _, rest = raw.partition(":")
    match = _OPENER.fullmatch(head)
    if match is None:
        return None
    intent = _intent(rest.split(":"))
    if intent is None:
        return None
    return Opener(intent, match[1] == "o", int(match[2]))
