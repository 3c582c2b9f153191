"""Any card as Discord messages: one generic renderer and Discord's limits profile.

Why one renderer: the core presents every result (a question, the recommendation, a
check-in, a notice) as a ``bot.ui.cards.Card`` made of a few generic sections, so this
module handles each section kind once and knows no feature. A card becomes one embed:
its title; prose without a heading in the description; each headed section a field (and
unheaded text after it continues that field); trailing small print the footer, other
small print a ``-#`` line. Its interactive sections become components (at most five
action rows), and its attachment a file. Several cards share a message while the embeds
fit (10 embeds, 6,000 characters); a card with components ends its message. A receipt
replaces the whole clicked message, so text that shared it with the question (a
playbook's intro, a notice before the question) gives way to the answered question.

The core keeps its budgets (``bot/ui/budgets.py``), but escaping for Discord Markdown can
make text longer, so the layout here still splits text over fields, embeds and messages
rather than ever sending a payload Discord would refuse; it never drops text.

Text a person typed may be anywhere, so every string Discord renders as Markdown
(titles, descriptions, fields) is escaped, mentions included; footers, labels and
placeholders are shown verbatim by Discord, and every send forbids mentions anyway.
"""

from __future__ import annotations

import io
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field, replace
from typing import Any

import discord

from bot.api import cards as c
from bot.api import codec, units
from bot.api import intents as it

NO_MENTIONS = discord.AllowedMentions.none()
TEXT_INPUT_ID = "text"  # the one text input of every modal
SPLIT_MARK = "#"  # custom_id suffix of the second, third… select of one split c.Choices
CONTINUED = "\u200b"  # the name of a field that continues the one before it


@dataclass(frozen=True, slots=True)
class Limits:
    """Discord's limits (UTF-16 units, as Discord counts); the layout keeps all of them."""

    content: int = 2000
    title: int = 256
    description: int = 4096
    field_name: int = 256
    field_value: int = 1024
    fields: int = 25
    footer: int = 2048
    embeds: int = 10
    embed_total: int = 6000
    rows: int = 5
    row_buttons: int = 5
    select_options: int = 25
    button_label: int = 80
    option_label: int = 100
    option_description: int = 100
    placeholder: int = 150
    modal_title: int = 45
    input_label: int = 45
    text_input: int = 4000


LIMITS = Limits()
COLOURS = {
    c.Tone.INFO: discord.Colour.blurple(),
    c.Tone.SUCCESS: discord.Colour.green(),
    c.Tone.WARNING: discord.Colour.gold(),
    c.Tone.ERROR: discord.Colour.red(),
}
STYLES = {
    c.Style.DEFAULT: discord.ButtonStyle.secondary,
    c.Style.PRIMARY: discord.ButtonStyle.primary,
    c.Style.DANGER: discord.ButtonStyle.danger,
}
STEP_MARKS = {"open": "•", "done": "✅", "dropped": "✖"}
TYPE_NUMBERS = "Type the numbers of your choices"


# --------------------------------------------------------------------------- text


def escape(text: str) -> str:
    """Neutralise Markdown, masked links and <…> mentions/timestamps in shown text."""
    return discord.utils.escape_markdown(text, ignore_links=False).replace("<", "\\<")


def cut(text: str, limit: int) -> str:
    """At most ``limit`` units of ``text`` ending in "…", never half an escape or a pair."""
    if units(text) <= limit:
        return text
    out: list[str] = []
    size = 0
    for ch in text:
        step = units(ch)
        if size + step > limit - 1:
            break
        out.append(ch)
        size += step
    kept = "".join(out)
    if (len(kept) - len(kept.rstrip("\\"))) % 2:
        kept = kept[:-1]  # a lone trailing backslash would escape the ellipsis
    return kept + "…"


def plain(text: str, limit: int) -> str:
    """A label or placeholder (shown verbatim): within ``limit``, never empty."""
    return cut(" ".join(text.split()), limit) or "…"


def _pieces(text: str, limit: int) -> list[str]:
    """Escaped ``text`` in pieces of at most ``limit`` units: at lines, else at spaces."""
    out: list[str] = []
    current = ""
    for line in text.split("\n"):
        candidate = f"{current}\n{line}" if current else line
        if units(candidate) <= limit:
            current = candidate
            continue
        if current:
            out.append(current)
        current = ""
        while units(line) > limit:
            head = _head(line, limit)
            out.append(head)
            line = line[len(head) :].lstrip(" ")
        current = line
    if current:
        out.append(current)
    return out


def _head(line: str, limit: int) -> str:
    """The longest start of ``line`` within ``limit``, ending at a space if one is near."""
    size = 0
    end = 0
    for i, ch in enumerate(line):
        size += units(ch)
        if size > limit:
            break
        end = i + 1
    head = line[:end]
    space = head.rfind(" ")
    if space > len(head) * 2 // 3:
        head = head[:space]
    if (len(head) - len(head.rstrip("\\"))) % 2:
        head = head[:-1]
    return head or line[:1]


def _due(step_due: Any) -> str:
    return f" — by {step_due.day} {step_due:%b %Y}" if step_due else ""


def section_lines(s: c.BaseSection, numbered: bool = False) -> list[str]:
    """The Markdown lines a text section shows (escaped); interactive ones show none,
    except a choice list that is answered by typing numbers (``numbered``)."""
    match s:
        case c.Prose():
            return [escape(s.text)]
        case c.Bullets():
            return [f"• {escape(i)}" for i in s.items]
        case c.Fields():
            return [f"**{escape(f.name)}**: {escape(f.value)}" for f in s.items]
        case c.Steps():
            return [
                f"{STEP_MARKS.get(st.status, '•')} {escape(st.text)}{_due(st.due)}"
                for st in s.items
            ]
        case c.Context():
            return [f"-# {escape(s.text)}"]
        case c.Choices() if numbered:
            return [f"{i}. {escape(o.label)}" for i, o in enumerate(s.options, 1)]
    return []


# --------------------------------------------------------------------------- components


@dataclass(frozen=True, slots=True)
class Button:
    label: str
    custom_id: str
    style: discord.ButtonStyle = discord.ButtonStyle.secondary


@dataclass(frozen=True, slots=True)
class Menu:
    custom_id: str
    options: tuple[discord.SelectOption, ...]
    placeholder: str = ""
    min_values: int = 1
    max_values: int = 1


Row = tuple[Button, ...] | Menu


def _buttons_for(choices: c.Choices) -> list[Button] | None:
    """One button per option (a single pick of <= 5), if every value fits the intent."""
    if choices.multi or len(choices.options) > LIMITS.row_buttons:
        return None
    if "value" not in choices.intent.field_names():
        return None
    out: list[Button] = []
    for o in choices.options:
        try:
            custom_id = codec.encode(choices.intent.with_value(o.value))
        except codec.Unencodable:
            return None
        chosen = o.value in choices.current
        style = discord.ButtonStyle.primary if chosen else discord.ButtonStyle.secondary
        out.append(Button(plain(o.label, LIMITS.button_label), custom_id, style))
    return out


def _select_option(o: Any, current: Sequence[str]) -> discord.SelectOption:
    return discord.SelectOption(
        label=plain(o.label, LIMITS.option_label),
        value=o.value,
        description=plain(o.description, LIMITS.option_description) if o.description else None,
        default=o.value in current,
    )


def split_id(custom_id: str, part: int) -> str:
    """The ``part``-th id standing for one intent on a message (0: the plain id).

    Codec ids leave room for the suffix in practice (the ids presenters make are far
    below 100 characters); one that would not fit is cut before the suffix, so it no
    longer decodes and a click on it gets the polite "unknown button" answer.
    """
    if part == 0:
        return custom_id
    suffix = f"{SPLIT_MARK}{part}"
    return custom_id[: codec.MAX_ID - len(suffix)] + suffix


def unsplit_id(custom_id: str) -> str:
    """The codec id behind a split select's id (codec ids never hold ``SPLIT_MARK``)."""
    head, mark, tail = custom_id.rpartition(SPLIT_MARK)
    return head if mark and tail.isdigit() else custom_id


def _menus_for(choices: c.Choices) -> list[Menu] | None:
    """Selects of <= 25 options; a long single pick is split over several, one per row.

    None: a multiple pick with more options than one select holds (typed numbers instead).
    """
    size = LIMITS.select_options
    options = choices.options
    if choices.multi and len(options) > size:
        return None
    custom_id = codec.encode(choices.intent)
    parts = [options[i : i + size] for i in range(0, len(options), size)]
    menus: list[Menu] = []
    for n, part in enumerate(parts):
        placeholder = choices.placeholder or (
            "Pick all that apply" if choices.multi else "Pick one"
        )
        if len(parts) > 1:
            first = n * size + 1
            placeholder += f" (options {first} to {first + len(part) - 1} of {len(options)})"
        high = max(1, min(choices.max_picks, len(part)))
        menus.append(
            Menu(
                split_id(custom_id, n),
                tuple(_select_option(o, choices.current) for o in part),
                plain(placeholder, LIMITS.placeholder),
                min(max(0, choices.min_picks), high),
                high,
            )
        )
    return menus


def _opener(intent: it.Intent, label: str, *, optional: bool, max_length: int) -> Button:
    custom_id = codec.encode_opener(intent, optional=optional, max_length=max_length)
    return Button(plain(label, LIMITS.button_label), custom_id, discord.ButtonStyle.primary)


def typed_numbers(choices: c.Choices) -> bool:
    """Whether a choice list is answered by typing the options' numbers in a text box."""
    return _menus_for(choices) is None


def section_rows(s: c.BaseSection) -> list[Row]:
    """The action rows an interactive section becomes (none for a text section)."""
    match s:
        case c.Actions():
            return [
                tuple(
                    Button(
                        plain(a.label, LIMITS.button_label), codec.encode(a.intent), STYLES[a.style]
                    )
                    for a in s.items
                )
            ]
        case c.TextEntry():
            length = max(1, min(s.max_length, LIMITS.text_input))
            return [(_opener(s.intent, s.button, optional=s.optional, max_length=length),)]
        case c.Choices():
            buttons = _buttons_for(s)
            if buttons is not None:
                return [tuple(buttons)]
            menus = _menus_for(s)
            if menus is not None:
                return list(menus)
            return [(_opener(s.intent, TYPE_NUMBERS, optional=s.min_picks == 0, max_length=400),)]
    return []


def build_view(rows: Sequence[Row]) -> discord.ui.View:
    """The components, laid out one row each, in a view used only to serialise them.

    Why stopped: clicks are dispatched by custom_id (``inbound.py``: dynamic items and one
    handler), so discord.py keeps no per-message view in memory.
    """
    view = discord.ui.View(timeout=None)
    for n, row in enumerate(rows):
        if isinstance(row, Menu):
            view.add_item(
                discord.ui.Select(
                    custom_id=row.custom_id,
                    options=list(row.options),
                    placeholder=row.placeholder or None,
                    min_values=row.min_values,
                    max_values=row.max_values,
                    row=n,
                )
            )
            continue
        for b in row:
            view.add_item(
                discord.ui.Button(label=b.label, custom_id=b.custom_id, style=b.style, row=n)
            )
    view.stop()
    return view


# --------------------------------------------------------------------------- layout


@dataclass
class Outgoing:
    """One Discord message: content, embeds, component rows, an attachment."""

    content: str = ""
    embeds: list[discord.Embed] = field(default_factory=list)
    rows: list[Row] = field(default_factory=list)
    attachment: c.Attachment | None = None

    def kwargs(self) -> dict[str, Any]:
        """Keyword arguments for ``send``/``send_message``/``followup.send``.

        Built per call: a ``discord.File`` is consumed by a send and a view is per message.
        """
        out: dict[str, Any] = {"allowed_mentions": NO_MENTIONS}
        if self.content:
            out["content"] = self.content
        if self.embeds:
            out["embeds"] = list(self.embeds)
        if self.rows:
            out["view"] = build_view(self.rows)
        if self.attachment is not None:
            a = self.attachment
            data = io.BytesIO(a.data())
            out["file"] = discord.File(
                data, filename=a.filename, description=cut(a.alt_text, 1024) or None
            )
        return out

    def edit_kwargs(self) -> dict[str, Any]:
        """Keyword arguments that make an existing message this one (rows replaced)."""
        return {
            "allowed_mentions": NO_MENTIONS,
            "content": self.content or None,
            "embeds": list(self.embeds),
            "view": build_view(self.rows) if self.rows else None,
        }


def embed_units(embed: discord.Embed) -> int:
    """What Discord counts towards the 6,000 limit."""
    total = units(embed.title or "") + units(embed.description or "")
    total += sum(units(f.name or "") + units(f.value or "") for f in embed.fields)
    return total + units(embed.footer.text or "")


@dataclass
class _Block:
    name: str | None  # None: the description (or an unheaded field after it)
    paragraphs: list[str] = field(default_factory=list)


def _blocks(card: c.Card) -> tuple[list[_Block], list[str]]:
    """The card's text as blocks in reading order, and the footer lines.

    Small print after which only small print or controls follow is the footer.
    """
    drawn = card.basic()  # any kind of section, as the base kinds drawn here
    last_text = max(
        (
            i
            for i, s in enumerate(drawn)
            if section_lines(s, _numbered(s)) and not isinstance(s, c.Context)
        ),
        default=-1,
    )
    blocks: list[_Block] = [_Block(None)]
    footer: list[str] = []
    for i, s in enumerate(drawn):
        if isinstance(s, c.Context) and i > last_text:
            footer.append(s.text)
            continue
        lines = section_lines(s, _numbered(s))
        if not lines:
            continue
        heading = getattr(s, "heading", "")
        if heading:
            blocks.append(_Block(escape(heading)))
        blocks[-1].paragraphs.append("\n".join(lines))
    return [b for b in blocks if b.paragraphs], footer


def _numbered(s: c.BaseSection) -> bool:
    return isinstance(s, c.Choices) and typed_numbers(s)


def card_embeds(card: c.Card) -> list[discord.Embed]:
    """One embed for the card, or more when escaped text outgrows one (never cut)."""
    colour = COLOURS[card.tone]
    title = cut(escape(card.title), LIMITS.title) if card.title else None
    blocks, footer_lines = _blocks(card)
    footer = plain("\n".join(footer_lines), LIMITS.footer) if footer_lines else ""
    # Leave room in every embed for the footer (it goes on the last one).
    room = LIMITS.embed_total - units(footer) - units(title or "")
    embeds = [discord.Embed(title=title, colour=colour)]

    def fresh() -> discord.Embed:
        embeds.append(discord.Embed(colour=colour))
        return embeds[-1]

    for block in blocks:
        text = "\n\n".join(block.paragraphs)
        current = embeds[-1]
        if block.name is None and not current.description and not current.fields:
            first, *rest = _pieces(text, LIMITS.description)
            current.description = first
            pieces = _pieces("\n".join(rest), LIMITS.field_value) if rest else []
            names = [CONTINUED] * len(pieces)
        else:
            name = cut(block.name, LIMITS.field_name) if block.name else CONTINUED
            pieces = _pieces(text, LIMITS.field_value)
            names = [name] + [CONTINUED] * (len(pieces) - 1)
        for name, piece in zip(names, pieces, strict=True):
            current = embeds[-1]
            cost = units(name) + units(piece)
            if len(current.fields) >= LIMITS.fields or embed_units(current) + cost > room:
                current = fresh()
                if name == CONTINUED and units(piece) <= LIMITS.description:
                    current.description = piece
                    continue
            current.add_field(name=name, value=piece, inline=False)
    if footer:
        embeds[-1].set_footer(text=footer)
    if not any(e.title or e.description or e.fields or e.footer.text for e in embeds):
        return []
    return embeds


def card_rows(card: c.Card) -> list[Row]:
    """The card's components, each id unique on its message (Discord requires it): a
    repeated id gets a ``#n`` suffix, which ``unsplit_id`` removes again."""
    seen: set[str] = set()

    def unique(custom_id: str) -> str:
        base, n, out = unsplit_id(custom_id), 0, custom_id
        while out in seen:
            n += 1
            out = split_id(base, n)
        seen.add(out)
        return out

    rows: list[Row] = []
    for s in card.basic():
        for row in section_rows(s):
            if isinstance(row, Menu):
                rows.append(replace(row, custom_id=unique(row.custom_id)))
            else:
                rows.append(tuple(replace(b, custom_id=unique(b.custom_id)) for b in row))
    return rows


def render(cards: Iterable[c.Card], *, content: str = "") -> list[Outgoing]:
    """Cards as few messages as Discord's limits allow, in order.

    ``content``: a plain line for the first message (a pointer, a note). Rows beyond five
    continue in a message of their own.
    """
    out: list[Outgoing] = []
    current = Outgoing(content=cut(escape(content), LIMITS.content) if content else "")

    def close() -> None:
        nonlocal current
        if current.content or current.embeds or current.rows or current.attachment:
            out.append(current)
        current = Outgoing()

    for card in cards:
        embeds = card_embeds(card)
        rows = card_rows(card)
        if current.rows or (current.attachment and card.attachment):
            close()
        for embed in embeds:
            total = sum(embed_units(e) for e in current.embeds) + embed_units(embed)
            if len(current.embeds) >= LIMITS.embeds or total > LIMITS.embed_total:
                close()
            current.embeds.append(embed)
        if card.attachment is not None:
            current.attachment = card.attachment
        while rows:
            current.rows, rows = rows[: LIMITS.rows], rows[LIMITS.rows :]
            close()
    close()
    return out


def modal_for(opener: codec.Opener, custom_id: str, *, title: str, label: str) -> discord.ui.Modal:
    """The text box a c.TextEntry (or a typed-numbers choice) opens; its submit carries
    ``custom_id`` (the intent) and is dispatched like any click, never kept in memory."""
    modal = discord.ui.Modal(
        title=plain(title, LIMITS.modal_title), custom_id=custom_id, timeout=None
    )
    caption = label.rstrip("…. ") or "Your answer"
    if opener.optional and units(caption) + 11 <= LIMITS.input_label:
        caption += " (optional)"
    modal.add_item(
        discord.ui.TextInput(
            label=plain(caption, LIMITS.input_label),
            custom_id=TEXT_INPUT_ID,
            style=discord.TextStyle.paragraph
            if opener.max_length > 100
            else discord.TextStyle.short,
            required=not opener.optional,
            max_length=max(1, min(opener.max_length, LIMITS.text_input)),
        )
    )
    modal.stop()
    return modal


def receipt(card: c.Card) -> Outgoing:
    """What a clicked message becomes: the receipt card, without components."""
    (first, *_) = render([card]) or [Outgoing(content="✅")]
    first.rows = []
    return first


def rendered_text(messages: Sequence[Outgoing]) -> str:
    """Everything the messages show, as one string (logs at DEBUG, tests)."""
    parts: list[str] = []
    for m in messages:
        parts.append(m.content)
        for e in m.embeds:
            parts += [e.title or "", e.description or ""]
            parts += [f"{f.name}\n{f.value}" for f in e.fields]
            parts.append(e.footer.text or "")
    return "\n".join(p for p in parts if p)
