"""The neutral document every adapter renders: cards made of a few generic sections.

Why: the core decides *what* a person sees; each platform decides only *how*. A card is a
title, a tone and an ordered tuple of sections. There are few section kinds and each
adapter renders each kind once, so a new kind of content (a check-in list, a verdict
table, a mentor request) needs presenters in ``bot/`` and no adapter code.

Text in sections is plain text (no markup); emphasis is a section's ``heading``. Text a
person typed may appear (their answers, plan items), so every adapter escapes every
string for its medium.

Size budgets (``bot/ui/budgets.py``) are kept by the presenters, so that any card fits
every platform's limits without an adapter cutting it.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from enum import StrEnum

from bot.ui.intents import Intent


class Tone(StrEnum):
    """How a card feels: adapters may colour or prefix it; the text never depends on it."""

    INFO = "info"
    SUCCESS = "success"
    WARNING = "warning"
    ERROR = "error"


class Style(StrEnum):
    DEFAULT = "default"
    PRIMARY = "primary"
    DANGER = "danger"


@dataclass(frozen=True, slots=True, kw_only=True)
class Prose:
    """A paragraph (may hold line breaks)."""

    text: str
    heading: str = ""


@dataclass(frozen=True, slots=True, kw_only=True)
class Bullets:
    items: tuple[str, ...]
    heading: str = ""


@dataclass(frozen=True, slots=True, kw_only=True)
class Field:
    name: str
    value: str


@dataclass(frozen=True, slots=True, kw_only=True)
class Fields:
    """Named values: answers in a status, a verdict for each route, settings."""

    items: tuple[Field, ...]
    heading: str = ""


@dataclass(frozen=True, slots=True, kw_only=True)
class Step:
    text: str
    due: date | None = None
    status: str = "open"  # open | done | dropped


@dataclass(frozen=True, slots=True, kw_only=True)
class Steps:
    """Dated steps in date order (a plan)."""

    items: tuple[Step, ...]
    heading: str = ""


@dataclass(frozen=True, slots=True, kw_only=True)
class Option:
    value: str
    label: str
    description: str = ""


@dataclass(frozen=True, slots=True, kw_only=True)
class Choices:
    """Pick ``min_picks``..``max_picks`` of ``options``; the pick goes back with ``intent``.

    An adapter shows buttons, a select or numbered lines. It sends ``intent`` with the
    chosen option values (``values``); for a single pick it may instead encode each
    option's value into the intent (``intent.with_value``), e.g. one button per option.
    ``current``: the values chosen before (a person coming back to change an answer).
    """

    intent: Intent
    options: tuple[Option, ...]
    min_picks: int = 1
    max_picks: int = 1
    current: tuple[str, ...] = ()
    placeholder: str = ""
    numbered: bool = True  # console: type the option's number
    command: str = ""  # typed equivalent, ``{value}`` for the pick ("checkin {value} cancel")

    @property
    def multi(self) -> bool:
        return self.max_picks > 1


@dataclass(frozen=True, slots=True, kw_only=True)
class TextEntry:
    """Free text goes back with ``intent`` (a modal, a typed line or DM)."""

    intent: Intent
    label: str
    placeholder: str = ""
    max_length: int = 500
    optional: bool = False
    current: str = ""
    button: str = "Type your answer"
    command: str = ""  # typed equivalent, ``{text}`` for the text ("remind {text}")
    multiline: bool = False  # several lines (a story); a terminal reads up to an empty line


@dataclass(frozen=True, slots=True, kw_only=True)
class Action:
    label: str
    intent: Intent
    style: Style = Style.DEFAULT
    command: str = ""  # the typed equivalent ("/details 2"), for text-only front ends


@dataclass(frozen=True, slots=True, kw_only=True)
class Actions:
    items: tuple[Action, ...]


@dataclass(frozen=True, slots=True, kw_only=True)
class Context:
    """Small print: where a step count, a time zone or a hint goes."""

    text: str


Section = Prose | Bullets | Fields | Steps | Choices | TextEntry | Actions | Context
INTERACTIVE = (Choices, TextEntry, Actions)


@dataclass(frozen=True, slots=True, kw_only=True)
class Attachment:
    """A document for the person: a file on chat platforms, written to disk on a console."""

    filename: str
    content: str
    media_type: str = "text/markdown"


@dataclass(frozen=True, slots=True, kw_only=True)
class Card:
    title: str = ""
    tone: Tone = Tone.INFO
    sections: tuple[Section, ...] = ()
    attachment: Attachment | None = None

    def interactive(self) -> list[Choices | TextEntry | Actions]:
        return [s for s in self.sections if isinstance(s, INTERACTIVE)]

    def texts(self) -> list[str]:
        """Every piece of text a person reads, for budget checks and tests."""
        out = [self.title] if self.title else []
        for s in self.sections:
            out += section_texts(s)
        return out

    def plain(self) -> str:
        """The card as plain lines (tests, logs at DEBUG, notification fallbacks)."""
        return "\n".join(t for t in self.texts() if t)


def section_texts(s: Section) -> list[str]:
    heading = [s.heading] if getattr(s, "heading", "") else []
    match s:
        case Prose():
            return [*heading, s.text]
        case Bullets():
            return [*heading, *s.items]
        case Fields():
            return [*heading, *(f"{f.name}: {f.value}" for f in s.items)]
        case Steps():
            return [*heading, *(st.text for st in s.items)]
        case Choices():
            return [o.label + (f" — {o.description}" if o.description else "") for o in s.options]
        case TextEntry():
            return [s.label]
        case Actions():
            return [a.label for a in s.items]
        case Context():
            return [s.text]
    return []
