"""Size budgets that make any card fit every platform, and the helpers that keep them.

The budgets are the tightest of Discord's and Slack's limits for the element each section
becomes (counted in UTF-16 code units, as both platforms count):

* a card: title <= 150 (Slack header), all text <= 5,500 (Discord: 6,000 per message of
  embeds), at most 20 sections (Slack: 50 blocks; a section takes at most two) and at most
  4 interactive sections (Discord: 5 action rows; one is left for an adapter's paging);
* prose, a bullet list, a field value, a plan: <= 1,000 (a Discord embed field 1,024);
* an option label and a button label <= 75 (Slack), an option description <= 75;
* at most 500 options; each adapter pages them into its selects (Slack 100, Discord 25).

``check`` lists every breach; presenters build with ``clip`` and ``split`` so that it
finds none, and a property test runs every presenter through it.
"""

from __future__ import annotations

import re

from bot.ui.cards import (
    Actions,
    Bullets,
    Card,
    Choices,
    Context,
    Fields,
    Prose,
    Section,
    Steps,
    TextEntry,
)

__all__ = [
    "ACTIONS_MAX",
    "BLOCK_MAX",
    "CARD_TEXT_MAX",
    "CONTEXT_MAX",
    "DESCRIPTION_MAX",
    "ELLIPSIS",
    "FIELDS_MAX",
    "FIELD_NAME_MAX",
    "HEADING_MAX",
    "INTERACTIVE_MAX",
    "ITEM_MAX",
    "LABEL_MAX",
    "OPTIONS_MAX",
    "SECTIONS_MAX",
    "STEPS_MAX",
    "TITLE_MAX",
    "check",
    "clip",
    "split",
    "units",
]

TITLE_MAX = 150
HEADING_MAX = 200
BLOCK_MAX = 1000  # prose, a bullet list together, a field value, a plan together
ITEM_MAX = 300  # one bullet or step
FIELD_NAME_MAX = 200
FIELDS_MAX = 10
STEPS_MAX = 10
LABEL_MAX = 75
DESCRIPTION_MAX = 75
OPTIONS_MAX = 500  # adapters page them: Slack 100 per select, Discord 25
ACTIONS_MAX = 5
CONTEXT_MAX = 300
CARD_TEXT_MAX = 5500
SECTIONS_MAX = 20
INTERACTIVE_MAX = 4

ELLIPSIS = "…"
_SPACE = re.compile(r"[ \t]+")


def units(text: str) -> int:
    """Length as Discord and Slack count it (UTF-16 code units)."""
    return len(text.encode("utf-16-le")) // 2


def clip(text: str, limit: int) -> str:
    """Collapse runs of spaces and cut to at most ``limit`` units, at a word if possible."""
    text = _SPACE.sub(" ", text).strip()
    if units(text) <= limit:
        return text
    if limit < 1:
        return ""
    budget = limit - units(ELLIPSIS)
    cut = text[:budget]
    while cut and units(cut) > budget:  # astral characters count twice
        cut = cut[:-1]
    space = cut.rfind(" ")
    if space >= len(cut) * 2 // 3:
        cut = cut[:space]
    return cut.rstrip(" ,;:-") + ELLIPSIS


def split(text: str, limit: int = BLOCK_MAX) -> list[str]:
    """Cut a long text into pieces of at most ``limit`` units, at paragraph or sentence ends."""
    text = text.strip()
    if units(text) <= limit:
        return [text] if text else []
    pieces: list[str] = []
    current = ""
    for sentence in re.split(r"(?<=[.!?])\s+|\n{2,}", text):
        candidate = f"{current} {sentence}".strip() if current else sentence
        if units(candidate) <= limit:
            current = candidate
            continue
        if current:
            pieces.append(current)
        current = sentence if units(sentence) <= limit else clip(sentence, limit)
    if current:
        pieces.append(current)
    return pieces


def _section_problems(s: Section) -> list[str]:
    out: list[str] = []
    heading = getattr(s, "heading", "")
    if units(heading) > HEADING_MAX:
        out.append(f"heading longer than {HEADING_MAX}")
    match s:
        case Prose():
            if units(s.text) > BLOCK_MAX:
                out.append(f"prose longer than {BLOCK_MAX}")
        case Bullets():
            if sum(units(i) + 3 for i in s.items) > BLOCK_MAX:
                out.append(f"bullets longer than {BLOCK_MAX}")
            out += [f"bullet longer than {ITEM_MAX}" for i in s.items if units(i) > ITEM_MAX]
        case Fields():
            if len(s.items) > FIELDS_MAX:
                out.append(f"more than {FIELDS_MAX} fields")
            for f in s.items:
                if units(f.name) > FIELD_NAME_MAX or units(f.value) > BLOCK_MAX:
                    out.append("field too long")
        case Steps():
            if len(s.items) > STEPS_MAX:
                out.append(f"more than {STEPS_MAX} steps")
            if sum(units(st.text) + 20 for st in s.items) > BLOCK_MAX:
                out.append(f"steps longer than {BLOCK_MAX}")
        case Choices():
            if not 0 < len(s.options) <= OPTIONS_MAX:
                out.append(f"choices need 1 to {OPTIONS_MAX} options")
            for o in s.options:
                if units(o.label) > LABEL_MAX or units(o.description) > DESCRIPTION_MAX:
                    out.append(f"option {o.value!r} too long")
        case TextEntry():
            if units(s.label) > HEADING_MAX or units(s.button) > LABEL_MAX:
                out.append("text entry label too long")
        case Actions():
            if not 0 < len(s.items) <= ACTIONS_MAX:
                out.append(f"actions need 1 to {ACTIONS_MAX} buttons")
            out += [f"button {a.label!r} too long" for a in s.items if units(a.label) > LABEL_MAX]
        case Context():
            if units(s.text) > CONTEXT_MAX:
                out.append(f"context longer than {CONTEXT_MAX}")
    return out


def check(card: Card) -> list[str]:
    """Every budget ``card`` breaks (empty when it fits every platform)."""
    out: list[str] = []
    if units(card.title) > TITLE_MAX:
        out.append(f"title longer than {TITLE_MAX}")
    drawn = card.basic()
    if len(drawn) > SECTIONS_MAX:
        out.append(f"more than {SECTIONS_MAX} sections")
    if len(card.interactive()) > INTERACTIVE_MAX:
        out.append(f"more than {INTERACTIVE_MAX} interactive sections")
    if sum(units(t) for t in card.texts()) > CARD_TEXT_MAX:
        out.append(f"more than {CARD_TEXT_MAX} units of text")
    for i, s in enumerate(drawn):
        out += [f"section {i} ({type(s).__name__}): {p}" for p in _section_problems(s)]
    return out
