"""The building blocks presenters make cards of: text in budget-sized sections, packing.

Every presenter (the consultation's, the advice's, the check-ins') uses these, so a text of
any length becomes sections and cards within ``bot/ui/budgets.py``.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import date

from bot.ui import intents as it
from bot.ui.budgets import (
    ACTIONS_MAX,
    BLOCK_MAX,
    CARD_TEXT_MAX,
    DESCRIPTION_MAX,
    FIELD_NAME_MAX,
    FIELDS_MAX,
    HEADING_MAX,
    INTERACTIVE_MAX,
    ITEM_MAX,
    LABEL_MAX,
    SECTIONS_MAX,
    STEPS_MAX,
    clip,
    split,
    units,
)
from bot.ui.cards import (
    INTERACTIVE,
    Action,
    Actions,
    Bullets,
    Card,
    Field,
    Fields,
    Option,
    Prose,
    Section,
    Step,
    Steps,
    Style,
    Tone,
    lower,
    section_texts,
)

__all__ = [
    "action",
    "actions",
    "bullets",
    "due_words",
    "fields",
    "notice",
    "option",
    "pack",
    "prose",
    "steps",
]


def prose(text: str, heading: str = "") -> list[Section]:
    """A text of any length as prose sections within budget (the heading on the first)."""
    pieces = split(text, BLOCK_MAX)
    return [
        Prose(text=p, heading=clip(heading, HEADING_MAX) if i == 0 else "")
        for i, p in enumerate(pieces)
    ]


def bullets(items: Iterable[str], heading: str = "") -> list[Section]:
    """Bullets within budget: long lists continue in a second section under no heading."""
    out: list[Section] = []
    chunk: list[str] = []
    size = 0
    for raw in items:
        item = clip(raw, ITEM_MAX)
        if not item:
            continue
        if chunk and size + len(item) + 3 > BLOCK_MAX:
            out.append(Bullets(items=tuple(chunk), heading=heading if not out else ""))
            chunk, size = [], 0
        chunk.append(item)
        size += len(item.encode("utf-16-le")) // 2 + 3
    if chunk:
        out.append(
            Bullets(items=tuple(chunk), heading=clip(heading, HEADING_MAX) if not out else "")
        )
    return out


def steps(items: Iterable[tuple[str, date | None, str]], heading: str = "") -> list[Section]:
    """Dated steps, in date order (undated last), within budget."""
    ordered = sorted(items, key=lambda x: (x[1] is None, x[1] or date.max))
    out: list[Section] = []
    chunk: list[Step] = []
    size = 0
    for text, due, status in ordered:
        step = Step(text=clip(text, ITEM_MAX - 20), due=due, status=status)
        cost = len(step.text.encode("utf-16-le")) // 2 + 20
        if chunk and (size + cost > BLOCK_MAX or len(chunk) >= STEPS_MAX):
            out.append(Steps(items=tuple(chunk), heading=heading if not out else ""))
            chunk, size = [], 0
        chunk.append(step)
        size += cost
    if chunk:
        out.append(Steps(items=tuple(chunk), heading=heading if not out else ""))
    return out


def fields(pairs: Iterable[tuple[str, str]], heading: str = "") -> list[Section]:
    items = [Field(name=clip(n, FIELD_NAME_MAX), value=clip(v, BLOCK_MAX) or "—") for n, v in pairs]
    return [
        Fields(items=tuple(items[i : i + FIELDS_MAX]), heading=heading if i == 0 else "")
        for i in range(0, len(items), FIELDS_MAX)
    ]


def option(value: str, label: str, description: str = "") -> Option:
    return Option(
        value=value, label=clip(label, LABEL_MAX), description=clip(description, DESCRIPTION_MAX)
    )


def actions(items: Sequence[Action]) -> list[Section]:
    return [
        Actions(items=tuple(items[i : i + ACTIONS_MAX])) for i in range(0, len(items), ACTIONS_MAX)
    ]


def action(
    label: str, intent: it.Intent, command: str = "", style: Style = Style.DEFAULT
) -> Action:
    return Action(label=clip(label, LABEL_MAX), intent=intent, command=command, style=style)


def notice(text: str, tone: Tone = Tone.INFO) -> Card:
    return Card(tone=tone, sections=tuple(prose(text)))


def pack(title: str, sections: Sequence[Section], tone: Tone = Tone.INFO) -> list[Card]:
    """Sections in order, in as few cards as the card budgets allow (the title on the first)."""
    cards: list[Card] = []
    current: list[Section] = []
    size = units(title)
    drawn = interactive = 0

    def flush() -> None:
        nonlocal current, size, drawn, interactive
        if current:
            cards.append(Card(title=title if not cards else "", tone=tone, sections=tuple(current)))
        current, size, drawn, interactive = [], 0, 0, 0

    for section in sections:
        parts = lower(section)  # budgets count what renderers draw
        cost = sum(units(t) for t in section_texts(section))
        controls = sum(isinstance(p, INTERACTIVE) for p in parts)
        if current and (
            size + cost > CARD_TEXT_MAX
            or drawn + len(parts) > SECTIONS_MAX
            or (controls and interactive + controls > INTERACTIVE_MAX)
        ):
            flush()
        current.append(section)
        size += cost
        drawn += len(parts)
        interactive += controls
    flush()
    return cards or [Card(title=title, tone=tone)]


def due_words(due: date | None) -> str:
    return f"by {due.day} {due:%b %Y}" if due else ""
