"""Any card as plain terminal text: one renderer for every kind of content.

No colours or escape sequences (output may be piped). Text wraps to the terminal width.
What can be clicked elsewhere is typed here: numbered choices, a text line, or the
command an action or picker declares (shown with a leading ``/``).
"""

from __future__ import annotations

import shutil
import textwrap
from typing import TextIO

from bot.api import (
    Actions,
    BaseSection,
    Bullets,
    Card,
    Choices,
    Context,
    Fields,
    Prose,
    Section,
    Steps,
    Table,
    TextEntry,
    Tone,
    clean_text,
    lower,
)

PREFIX = {Tone.WARNING: "! ", Tone.ERROR: "! ", Tone.INFO: "* ", Tone.SUCCESS: "* "}


def terminal_width(stream: TextIO) -> int | None:
    """The width to wrap to: the terminal's, or None (no wrapping) for a pipe or a file."""
    try:
        if not stream.isatty():
            return None
    except (AttributeError, ValueError):
        return None
    return max(40, min(100, shutil.get_terminal_size((80, 24)).columns) - 2)


def _safe(text: str) -> str:
    """Typed text may hold escape sequences: they never reach the terminal."""
    return clean_text(text)


_WIDTH: list[int | None] = [None]  # set by render() for the card being drawn


def _wrap(text: str, indent: str = "", first: str = "") -> list[str]:
    lines: list[str] = []
    width = _WIDTH[0]
    for para in _safe(text).split("\n"):
        lead = first or indent
        if width is None:
            lines.append(lead + para)
        else:
            lines += textwrap.wrap(
                para, width, initial_indent=lead, subsequent_indent=indent, break_on_hyphens=False
            ) or [lead.rstrip()]
        first = ""
    return lines


def _command(template: str, **values: str) -> str:
    return "/" + template.format(**values)


def _choices(s: Choices) -> list[str]:
    if s.command:  # a picker: typed as a command naming the option
        lines = [f"  {_command(s.command, value='N')}  {_safe(s.placeholder)}".rstrip()]
        typed = [o.typed or o.value for o in s.options]
        if not all(t.isdigit() for t in typed):  # numbers are listed elsewhere
            lines += [f"    {t}: {_safe(o.label)}" for t, o in zip(typed, s.options, strict=True)]
        return lines
    if not s.numbered:  # a scale: type the value
        shown = " · ".join(_safe(o.label) for o in s.options)
        return [*_wrap(shown, "  ", "  "), "  Type a number." + _keep(s.current)]
    lines = []
    for i, o in enumerate(s.options, start=1):
        extra = f" — {o.description}" if o.description else ""
        lines += _wrap(f"{i}. {o.label}{extra}", "     ", "  ")
    hint = (
        "Type one or more numbers, separated by commas (e.g. 1,3)."
        if s.multi
        else "Type the number of your choice."
    )
    return [*lines, "  " + hint + _keep(s.current)]


def _keep(current: tuple[str, ...] | str) -> str:
    return " Press Enter to keep your answer." if current else ""


def _entry(s: TextEntry) -> list[str]:
    if s.command:
        example = f" ({_safe(s.placeholder)})" if s.placeholder else ""
        return [f"  {_command(s.command, text='…')}  {_safe(s.label)}{example}"]
    if s.multiline:  # the skip action is listed beside it
        return [
            "  Type or paste it (several lines are fine), then an empty line to finish. "
            f"At most {s.max_length} characters."
        ]
    hint = f"Type your answer on one line. At most {s.max_length} characters."
    if s.optional:
        hint += " Type skip to leave it out."
    return ["  " + hint + _keep(s.current)]


TABLE_LABEL_MAX = 48


def _table(s: Table) -> list[str]:
    """A table drawn aligned (a terminal's font is monospaced): labels left, values right;
    a header row when there are several value columns."""
    head = [f"{_safe(s.heading)}:"] if s.heading else []

    def cell(text: str, width: int = TABLE_LABEL_MAX) -> str:
        text = " ".join(_safe(text).split())
        return text if len(text) <= width else text[: width - 1] + "…"

    rows = [[cell(v) for v in row] for row in s.rows]
    header = [cell(c) for c in s.columns]
    shown = [header, *rows] if len(header) > 2 else rows
    if not shown:
        return head
    n = max(len(r) for r in shown)
    shown = [r + [""] * (n - len(r)) for r in shown]
    widths = [max(len(r[i]) for r in shown) for i in range(n)]
    lines = []
    for r in shown:
        values = "  ".join(v.rjust(w) for v, w in zip(r[1:], widths[1:], strict=True))
        lines.append(f"  {r[0].ljust(widths[0])}  {values}".rstrip())
    return [*head, *lines]


def _drawn(section: Section) -> tuple[Section, ...]:
    """What is drawn for a section: a table as itself, anything else as base sections."""
    return (section,) if isinstance(section, Table) else lower(section)


def _section(s: BaseSection | Table) -> list[str]:
    if isinstance(s, Table):
        return _table(s)
    head = [f"{_safe(s.heading)}:"] if getattr(s, "heading", "") else []
    match s:
        case Prose():
            return [*head, *_wrap(s.text, "  " if head else "")]
        case Bullets():
            return [*head, *(line for item in s.items for line in _wrap(item, "    ", "  • "))]
        case Fields():
            return [
                *head,
                *(ln for f in s.items for ln in _wrap(f"{f.name}: {f.value}", "    ", "  ")),
            ]
        case Steps():
            out = head
            for st in s.items:
                due = f" — by {st.due:%a %d %b %Y}" if st.due else ""
                out += _wrap(f"[{st.status}] {st.text}{due}", "    ", "  ")
            return out
        case Context():
            return _wrap(s.text, "  ", "  ")
        case Choices():
            return _choices(s)
        case TextEntry():
            return _entry(s)
        case Actions():
            shown = [a for a in s.items if a.command]
            return [f"  {_command(a.command):<22} {_safe(a.label)}" for a in shown]
    return []


def render(card: Card, width: int | None = None) -> str:
    """``width``: wrap to it (a terminal); None keeps each paragraph on one line (a pipe)."""
    _WIDTH[0] = width
    lines: list[str] = []
    if card.title:
        lines.append(f"=== {_safe(card.title)} ===")
    # any kind of section, as the base kinds drawn here (a table drawn as one)
    drawn = [part for section in card.sections for part in _drawn(section)]
    for i, section in enumerate(drawn):
        body = _section(section)
        if (
            i == 0
            and not card.title
            and len(drawn) == 1  # a one-paragraph notice; not a continued card
            and body
            and isinstance(section, Prose)
            and not section.heading
        ):
            body[0] = PREFIX[card.tone] + body[0]
        elif i == 0 and card.title and card.tone in (Tone.WARNING, Tone.ERROR) and body:
            body[0] = "! " + body[0]
        lines += body
    return "\n".join(lines)
