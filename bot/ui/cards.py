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

A new kind of section needs no adapter code either: it subclasses ``Section`` and says
how it reads in the base kinds (``Section.basic``). Renderers draw base sections only and
take every section through ``lower`` (``Card.basic()``), so they render any kind the core
will ever add; a renderer may still draw a kind natively before lowering it.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from enum import StrEnum

from bot.ui.intents import Intent

__all__ = [
    "BASE",
    "INTERACTIVE",
    "Action",
    "Actions",
    "Attachment",
    "BaseSection",
    "Bullets",
    "Card",
    "Choices",
    "Context",
    "Field",
    "Fields",
    "Option",
    "Prose",
    "Section",
    "Step",
    "Steps",
    "Style",
    "Table",
    "TextEntry",
    "Tone",
    "lower",
    "section_texts",
]


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


class Section:
    """Any part of a card.

    The base kinds below (``BASE``) are what every renderer draws, each once. Any other
    kind subclasses this class and says how it reads in other sections (``basic``);
    ``lower`` follows that down to base sections.
    """

    __slots__ = ()

    def basic(self) -> Sequence[Section]:
        """This section as other sections (base ones, or kinds that lower further)."""
        if isinstance(self, BASE):
            return (self,)
        raise NotImplementedError(f"{type(self).__name__} does not say how it reads")


@dataclass(frozen=True, slots=True, kw_only=True)
class Prose(Section):
    """A paragraph (may hold line breaks)."""

    text: str
    heading: str = ""


@dataclass(frozen=True, slots=True, kw_only=True)
class Bullets(Section):
    items: tuple[str, ...]
    heading: str = ""


@dataclass(frozen=True, slots=True, kw_only=True)
class Field:
    name: str
    value: str


@dataclass(frozen=True, slots=True, kw_only=True)
class Fields(Section):
    """Named values: answers in a status, a verdict for each route, settings."""

    items: tuple[Field, ...]
    heading: str = ""


@dataclass(frozen=True, slots=True, kw_only=True)
class Step:
    text: str
    due: date | None = None
    status: str = "open"  # open | done | dropped


@dataclass(frozen=True, slots=True, kw_only=True)
class Steps(Section):
    """Dated steps in date order (a plan)."""

    items: tuple[Step, ...]
    heading: str = ""


@dataclass(frozen=True, slots=True, kw_only=True)
class Option:
    value: str
    label: str
    description: str = ""
    typed: str = ""  # what a person types for it in the picker's command, if not its value


@dataclass(frozen=True, slots=True, kw_only=True)
class Choices(Section):
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
class TextEntry(Section):
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
class Actions(Section):
    items: tuple[Action, ...]


@dataclass(frozen=True, slots=True, kw_only=True)
class Context(Section):
    """Small print: where a step count, a time zone or a hint goes."""

    text: str


@dataclass(frozen=True, slots=True, kw_only=True)
class Table(Section):
    """Values under named columns, one row per label (statistics).

    ``columns`` names the label column first, then each value column; every row holds a
    label and one value per value column. It reads as fields (a row's label, then
    "column value · column value"); a terminal may draw it aligned instead.
    """

    columns: tuple[str, ...]
    rows: tuple[tuple[str, ...], ...]
    heading: str = ""

    def basic(self) -> Sequence[Section]:
        values = self.columns[1:]

        def cells(row: tuple[str, ...]) -> str:
            if len(values) == 1:
                return row[1] if len(row) > 1 else "—"
            return " · ".join(f"{c} {v}" for c, v in zip(values, row[1:], strict=False))

        items = [Field(name=row[0], value=cells(row)) for row in self.rows]
        chunks = [items[i : i + TABLE_FIELDS] for i in range(0, len(items), TABLE_FIELDS)]
        return tuple(
            Fields(items=tuple(chunk), heading=self.heading if i == 0 else "")
            for i, chunk in enumerate(chunks or [[]])
        )


TABLE_FIELDS = 10  # fields per section a table lowers to (bot/ui/budgets.py FIELDS_MAX)

BaseSection = Prose | Bullets | Fields | Steps | Choices | TextEntry | Actions | Context
BASE = (Prose, Bullets, Fields, Steps, Choices, TextEntry, Actions, Context)
INTERACTIVE = (Choices, TextEntry, Actions)
LOWER_DEPTH = 8  # a kind that lowers to itself (a bug) fails instead of looping


def lower(section: Section, depth: int = 0) -> tuple[BaseSection, ...]:
    """``section`` as the base sections every renderer draws."""
    if isinstance(section, BASE):
        return (section,)
    if depth >= LOWER_DEPTH:
        raise TypeError(f"{type(section).__name__} does not lower to base sections")
    return tuple(base for part in section.basic() for base in lower(part, depth + 1))


@dataclass(frozen=True, slots=True, kw_only=True)
class Attachment:
    """A file for the person: attached or uploaded on chat platforms, written to disk on a
    console. ``content`` is text (a document, CSV) or bytes (an image: ``media_type``
    image/png); ``alt_text`` describes an image for those who cannot see it."""

    filename: str
    content: str | bytes
    media_type: str = "text/markdown"
    alt_text: str = ""

    @property
    def is_image(self) -> bool:
        return self.media_type.startswith("image/")

    def data(self) -> bytes:
        """The file's bytes (text as UTF-8)."""
        return self.content if isinstance(self.content, bytes) else self.content.encode("utf-8")


@dataclass(frozen=True, slots=True, kw_only=True)
class Card:
    title: str = ""
    tone: Tone = Tone.INFO
    sections: tuple[Section, ...] = ()
    attachment: Attachment | None = None

    def basic(self) -> tuple[BaseSection, ...]:
        """The sections as base sections: what a renderer draws, in order."""
        return tuple(base for s in self.sections for base in lower(s))

    def interactive(self) -> list[Choices | TextEntry | Actions]:
        return [s for s in self.basic() if isinstance(s, INTERACTIVE)]

    def texts(self) -> list[str]:
        """Every piece of text a person reads, for budget checks and tests."""
        out = [self.title] if self.title else []
        for s in self.basic():
            out += section_texts(s)
        return out

    def plain(self) -> str:
        """The card as plain lines (tests, logs at DEBUG, notification fallbacks)."""
        return "\n".join(t for t in self.texts() if t)


def section_texts(section: Section) -> list[str]:
    """The text a person reads in a section (of any kind), in order."""
    if not isinstance(section, BASE):
        return [t for base in lower(section) for t in section_texts(base)]
    s: BaseSection = section
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
