"""Any core card as Block Kit (``slack_sdk.models.blocks``): one generic renderer.

Why one renderer: the core decides what a person sees (``bot/ui/cards.py``); this module
only decides how each *kind* of section looks in Slack, once. A recommendation, a
question, a check-in or a notice are all just cards, so a new kind of content needs no
code here. The core keeps its size budgets (``bot/ui/budgets.py``); what is left to this
module is what only Slack knows: escaping (which lengthens text), 3,000 characters per
section, 50 blocks per message, 100 options per select, the multi-select's Submit button
and the modal a text box needs.

How each section looks:

* title → header (with the tone's emoji); Prose, Bullets, Fields, Steps → mrkdwn sections
  (the heading in bold), split at 3,000 characters after escaping; Context → context;
* Choices, single pick: one button per option (<= 5, when the option value fits the
  intent) or static selects of <= 100 options each; multi pick: multi selects plus a
  Submit button whose action_id is the same intent (its handler gathers the selects);
* TextEntry → a button with a codec *opener* id (the modal opens as the first response);
  the modal's label, placeholder and current text ride in the button's value;
* Actions → buttons (PRIMARY/DANGER styles); an Attachment → a file upload.

Every string reaching mrkdwn is escaped (mrkdwn.py) and marked verbatim, so text a person
typed can never mention anyone or become a link.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from slack_sdk.models.blocks import (
    ActionsBlock,
    Block,
    ButtonElement,
    ContextBlock,
    DividerBlock,
    HeaderBlock,
    InputBlock,
    Option,
    PlainTextInputElement,
    PlainTextObject,
    SectionBlock,
    StaticMultiSelectElement,
    StaticSelectElement,
)
from slack_sdk.models.views import View

from adapters.slack.mrkdwn import escape, fit, inert, mrkdwn
from bot.api import (
    Actions,
    BaseSection,
    Bullets,
    Card,
    Choices,
    Context,
    Fields,
    Prose,
    Steps,
    Style,
    TextEntry,
    Tone,
    clip,
    codec,
    units,
)


@dataclass(frozen=True, slots=True)
class Limits:
    """Slack's Block Kit limits this renderer keeps (api.slack.com/reference/block-kit)."""

    blocks: int = 50  # per message (modals: 100)
    modal_blocks: int = 100
    section: int = 3000  # mrkdwn text of a section
    context: int = 2000  # one context element (our own margin below Slack's 3,000)
    header: int = 150
    label: int = 75  # button text, option text and description
    options: int = 100  # per select
    buttons: int = 5  # more single-pick options than this become a select
    button_value: int = 2000
    input_label: int = 2000
    placeholder: int = 150
    input: int = 3000  # plain_text_input max_length
    fallback: int = 3000  # the notification text we send
    modal_title: int = 24
    error: int = 300  # a modal's error message
    alt_text: int = 1000  # an uploaded image's alt_txt (plain text)


LIMITS = Limits()
TONE_MARK = {
    Tone.INFO: "",
    Tone.SUCCESS: ":white_check_mark:",
    Tone.WARNING: ":warning:",
    Tone.ERROR: ":x:",
}
STYLES = {Style.PRIMARY: "primary", Style.DANGER: "danger", Style.DEFAULT: None}
TEXT_CALLBACK = "x2text"  # callback_id of the text-box modal
TEXT_BLOCK = "answer"  # block_id of the modal's input block (errors are keyed by it)
TEXT_ACTION = "text"  # action_id of the modal's text input
SUBMIT = "Submit"
MARK_ROOM = 20  # room kept in a section for the tone's emoji


@dataclass(frozen=True, slots=True)
class SlackPost:
    """One chat message: its blocks and the notification text (both already escaped)."""

    text: str
    blocks: Sequence[Block | dict[str, Any]] = field(default_factory=list)


@dataclass(frozen=True, slots=True)
class SlackFile:
    """A file for the person (a document, an image), uploaded with the card's text as
    comment; ``alt_text`` describes an image."""

    filename: str
    content: str | bytes
    title: str
    comment: str = ""
    alt_text: str = ""


Outgoing = SlackPost | SlackFile


# ------------------------------------------------------------------------------ text


def pieces(text: str, limit: int) -> list[str]:
    """``text`` escaped, in pieces of at most ``limit`` units, cut between words.

    Why here: escaping lengthens text (``&`` → ``&amp;``), so a text within the core's
    budget may still exceed a Slack section; it is split, never cut, and an entity is
    never split in half (words are escaped whole; a word longer than a piece is split
    between characters before escaping).
    """
    out: list[str] = []
    current: list[str] = []
    size = 0
    for word in _words(text):
        escaped = escape(word)
        n = units(escaped)
        if current and size + n > limit:
            out.append("".join(current).strip())
            current, size = [], 0
        if not current:
            escaped = escaped.lstrip()
            n = units(escaped)
        if n > limit:  # one word longer than a piece
            *whole, escaped = _hard_split(escaped.strip(), limit)
            out += whole
            n = units(escaped)
        current.append(escaped)
        size += n
    if "".join(current).strip():
        out.append("".join(current).strip())
    return [p for p in out if p]


def _hard_split(escaped: str, limit: int) -> list[str]:
    """An escaped word in pieces of at most ``limit`` units, never inside an entity."""
    out: list[str] = []
    piece = ""
    for token in re.findall(r"&(?:amp|lt|gt);|.", escaped, flags=re.DOTALL):
        if piece and units(piece) + units(token) > limit:
            out.append(piece)
            piece = ""
        piece += token
    return [*out, piece]


def _words(text: str) -> Iterable[str]:
    """Words with the white space before them (line breaks kept)."""
    word = ""
    for ch in text:
        if ch.isspace() and word and not word.isspace():
            yield word
            word = ""
        word += ch
    if word:
        yield word


def _sections(lines: Sequence[str], heading: str = "") -> list[Block]:
    """Already-escaped mrkdwn lines as sections of at most LIMITS.section - MARK_ROOM units."""
    limit = LIMITS.section - MARK_ROOM
    out: list[Block] = []
    current: list[str] = [f"*{part}*" for part in pieces(heading, limit - 2)] if heading else []
    size = sum(units(x) + 1 for x in current)
    for line in lines:
        for part in [line] if units(line) <= limit else _split_escaped(line, limit):
            if current and size + units(part) + 1 > limit:
                out.append(SectionBlock(text=mrkdwn("\n".join(current))))
                current, size = [], 0
            current.append(part)
            size += units(part) + 1
    if current:
        out.append(SectionBlock(text=mrkdwn("\n".join(current))))
    return out


def _split_escaped(line: str, limit: int) -> list[str]:
    """An escaped line longer than a section, cut at spaces (entities hold no spaces)."""
    out: list[str] = []
    rest = line
    while units(rest) > limit:
        cut = rest.rfind(" ", 0, limit)
        while cut > 0 and units(rest[:cut]) > limit:
            cut = rest.rfind(" ", 0, cut)
        if cut <= 0:  # no space: cut before an entity starts
            cut = limit
            while cut > 0 and (units(rest[:cut]) > limit or "&" in rest[max(0, cut - 4) : cut]):
                cut -= 1
            cut = cut or limit
        out.append(rest[:cut])
        rest = rest[cut:].lstrip(" ")
    return [*out, rest] if rest else out


def _escaped_lines(text: str) -> list[str]:
    return pieces(text, LIMITS.section - MARK_ROOM)


def _label(text: str) -> str:
    """Plain text for a button or an option (the core keeps labels within 75)."""
    return clip(text, LIMITS.label) or "…"


def _due(step_due: Any) -> str:
    return f" — by {step_due.day} {step_due:%b %Y}" if step_due is not None else ""


STEP_MARK = {"open": "•", "done": "✓", "dropped": "✗"}


# ------------------------------------------------------------------------------ sections


def _prose(s: Prose) -> list[Block]:
    return _sections(_escaped_lines(s.text), s.heading)


def _bullets(s: Bullets) -> list[Block]:
    lines = [f"• {part}" for item in s.items for part in _escaped_lines(item)]
    return _sections(lines, s.heading)


def _fields(s: Fields) -> list[Block]:
    lines: list[str] = []
    for f in s.items:
        lines += [f"*{part}*" for part in pieces(f.name, LIMITS.section - MARK_ROOM - 2)]
        lines += _escaped_lines(f.value)
    return _sections(lines, s.heading)


def _steps(s: Steps) -> list[Block]:
    lines = [
        f"{STEP_MARK.get(st.status, '•')} {part}{_due(st.due) if i == 0 else ''}"
        for st in s.items
        for i, part in enumerate(_escaped_lines(st.text))
    ]
    return _sections(lines, s.heading)


def _context(s: Context) -> list[Block]:
    parts = pieces(s.text, LIMITS.context)
    return [
        ContextBlock(elements=[mrkdwn(p) for p in parts[i : i + 10]])
        for i in range(0, len(parts), 10)
    ]


def _button_intent(s: Choices, value: str) -> str | None:
    """The action_id of a button for one option, or None when the intent cannot carry it."""
    if "value" not in s.intent.field_names():
        return None
    try:
        return codec.encode(s.intent.with_value(value))
    except codec.Unencodable:
        return None


def _option(o: Any) -> Option:
    description = clip(o.description, LIMITS.label) if o.description else None
    return Option(value=o.value, text=_label(o.label), description=description)


def _choices(s: Choices) -> list[Block]:
    if not s.multi and len(s.options) <= LIMITS.buttons:
        ids = [_button_intent(s, o.value) for o in s.options]
        if all(ids):
            return _choice_buttons(s, [i for i in ids if i])
    action_id = codec.encode(s.intent)
    pages = [s.options[i : i + LIMITS.options] for i in range(0, len(s.options), LIMITS.options)]
    current = set(s.current)
    blocks: list[Block] = []
    for k, page in enumerate(pages):
        if len(pages) > 1:
            first = k * LIMITS.options + 1
            placeholder = f"Options {first} to {first + len(page) - 1} of {len(s.options)}"
        else:
            placeholder = s.placeholder or "Choose"
        options = [_option(o) for o in page]
        chosen = [opt for opt, o in zip(options, page, strict=True) if o.value in current]
        element: StaticSelectElement | StaticMultiSelectElement
        if s.multi:
            single_page = len(pages) == 1 and s.max_picks < len(page)
            element = StaticMultiSelectElement(
                placeholder=clip(placeholder, LIMITS.placeholder),
                action_id=action_id,
                options=options,
                initial_options=chosen or None,
                max_selected_items=s.max_picks if single_page else None,
            )
        else:
            element = StaticSelectElement(
                placeholder=clip(placeholder, LIMITS.placeholder),
                action_id=action_id,
                options=options,
                initial_option=chosen[0] if chosen else None,
            )
        blocks.append(ActionsBlock(elements=[element]))
    if s.multi:
        note = f"Pick {s.min_picks} to {s.max_picks}, then press {SUBMIT}."
        blocks.append(ContextBlock(elements=[mrkdwn(escape(note))]))
        blocks.append(
            ActionsBlock(
                elements=[ButtonElement(text=SUBMIT, action_id=action_id, style="primary")]
            )
        )
    return blocks


def _choice_buttons(s: Choices, ids: list[str]) -> list[Block]:
    blocks: list[Block] = []
    described = [o for o in s.options if o.description]
    if described:
        lines = [f"*{escape(o.label)}*: {escape(o.description)}" for o in described]
        blocks += _sections(lines)
    buttons = [
        ButtonElement(
            text=_label(o.label),
            action_id=action_id,
            value=o.value,
            style="primary" if o.value in s.current else None,
        )
        for o, action_id in zip(s.options, ids, strict=True)
    ]
    return [*blocks, ActionsBlock(elements=buttons)]


def opener_value(s: TextEntry) -> str:
    """What the modal needs besides the opener id (label, placeholder, current text)."""
    data: dict[str, str] = {"l": s.label, "p": s.placeholder}
    if s.current:
        data["v"] = s.current
    encoded = json.dumps(data, ensure_ascii=False, separators=(",", ":"))
    if len(encoded) > LIMITS.button_value:  # a long current text is not prefilled
        data.pop("v", None)
        data["l"] = clip(s.label, 1000)
        encoded = json.dumps(data, ensure_ascii=False, separators=(",", ":"))
    return encoded


def _text_entry(s: TextEntry) -> list[Block]:
    action_id = codec.encode_opener(s.intent, optional=s.optional, max_length=s.max_length)
    button = ButtonElement(
        text=_label(s.button), action_id=action_id, value=opener_value(s), style="primary"
    )
    return [ActionsBlock(elements=[button])]


def _actions(s: Actions) -> list[Block]:
    buttons = [
        ButtonElement(text=_label(a.label), action_id=codec.encode(a.intent), style=STYLES[a.style])
        for a in s.items
    ]
    return [ActionsBlock(elements=buttons)]


def section_blocks(s: BaseSection) -> list[Block]:
    """The blocks of one base section; they stay together in one message (a select and its
    Submit button must)."""
    match s:
        case Prose():
            return _prose(s)
        case Bullets():
            return _bullets(s)
        case Fields():
            return _fields(s)
        case Steps():
            return _steps(s)
        case Choices():
            return _choices(s)
        case TextEntry():
            return _text_entry(s)
        case Actions():
            return _actions(s)
        case Context():
            return _context(s)
    raise TypeError(f"{type(s).__name__} is not a base section: lower it first")


# ------------------------------------------------------------------------------ cards


def _marked(blocks: list[Block], mark: str) -> list[Block]:
    """The tone's emoji before the first text (the header's, or the first section's)."""
    if not mark:
        return blocks
    for block in blocks:
        if isinstance(block, SectionBlock) and block.text is not None:
            block.text = mrkdwn(f"{mark} {block.text.text}")
            return blocks
    return [ContextBlock(elements=[mrkdwn(mark)]), *blocks]


def card_posts(card: Card) -> list[SlackPost]:
    """One card as one message, or several when its blocks pass 50 (title on the first)."""
    mark = TONE_MARK[card.tone]
    head: list[Block] = []
    if card.title:
        title = f"{mark} {card.title}" if mark else card.title
        head = [HeaderBlock(text=PlainTextObject(text=clip(title, LIMITS.header), emoji=True))]
    groups = [section_blocks(s) for s in card.basic()]  # any kind, as the base kinds
    if not card.title and groups:
        groups[0] = _marked(groups[0], mark)
    messages: list[list[Block]] = []
    current = head
    for group in groups:
        if current and len(current) + len(group) > LIMITS.blocks:
            messages.append(current)
            current = []
        current = current + group
    if current or not messages:
        messages.append(current)
    text = fallback(card)
    return [SlackPost(text, _with_ids(blocks)) for blocks in messages]


def fallback(card: Card) -> str:
    """The notification text: the card as plain text, escaped, within 3,000."""
    return fit(card.plain(), LIMITS.fallback) or "Crossroads"


def _with_ids(blocks: list[Block]) -> list[Block]:
    """Block ids unique within the message (the same intent may stand in several blocks)."""
    for n, block in enumerate(blocks):
        block.block_id = f"b{n}"
    return blocks


def render(cards: Sequence[Card]) -> list[Outgoing]:
    """Every card in order: one message each (more for a huge one), a file for an attachment."""
    out: list[Outgoing] = []
    for card in cards:
        if card.attachment is not None:
            a = card.attachment
            out.append(
                SlackFile(
                    a.filename,
                    a.content,
                    card.title or a.filename,
                    fallback(card),
                    clip(a.alt_text, LIMITS.alt_text),
                )
            )
            continue
        out += card_posts(card)
    return out


def post(card: Card) -> SlackPost:
    """A card that must stay one message (a receipt replacing the clicked message)."""
    posts = card_posts(card)
    if len(posts) == 1:
        return posts[0]
    return SlackPost(
        posts[0].text, _with_ids([b for p in posts for b in p.blocks][: LIMITS.blocks])
    )


def home_view(cards: Sequence[Card]) -> View:
    """Cards as the App Home tab (``views.publish``): one view, a divider between cards.

    The same renderer as messages; a home holds up to 100 blocks, so the cards (small:
    an overview) fit; should they not, the last blocks give way to a line saying so.
    """
    blocks: list[Block] = []
    for card in cards:
        if card.attachment is not None:
            continue
        if blocks:
            blocks.append(DividerBlock())
        for message in card_posts(card):
            blocks += message.blocks
    if len(blocks) > LIMITS.modal_blocks:
        note = ContextBlock(elements=[mrkdwn(escape("More in your DM with me."))])
        blocks = [*blocks[: LIMITS.modal_blocks - 1], note]
    return View(type="home", blocks=_with_ids(blocks))


# ------------------------------------------------------------------------------ a clicked message


INTERACTIVE_BLOCKS = frozenset({"actions", "input"})
CHOSEN_BLOCK = "chosen"


def closed(blocks: Sequence[Mapping[str, Any]], chosen: str) -> list[dict[str, Any]]:
    """A message we sent, read back from a click, without its buttons and with what was
    chosen: the clicked message of an applied click the core gave no receipt for.

    Text read back from Slack is made inert again (``mrkdwn.inert``) in case Slack
    returned it unescaped.
    """
    kept: list[dict[str, Any]] = []
    for raw in blocks:
        if raw.get("type") in INTERACTIVE_BLOCKS or raw.get("block_id") == CHOSEN_BLOCK:
            continue
        block = {k: v for k, v in raw.items() if k != "accessory"}
        if block.get("type") == "section" and "text" not in block and not block.get("fields"):
            continue
        kept.append(_inert_block(block))
    note = f"{TONE_MARK[Tone.SUCCESS]} You chose: {fit(chosen, LIMITS.context - 100) or '…'}"
    kept = kept[: LIMITS.blocks - 1]
    kept.append(ContextBlock(block_id=CHOSEN_BLOCK, elements=[mrkdwn(note)]).to_dict())
    return kept


def _inert_block(block: dict[str, Any]) -> dict[str, Any]:
    def fix(obj: Any) -> Any:
        if isinstance(obj, Mapping):
            if obj.get("type") == "mrkdwn" and isinstance(obj.get("text"), str):
                return {**obj, "text": inert(obj["text"])[: LIMITS.section]}
            return {k: fix(v) for k, v in obj.items()}
        if isinstance(obj, list):
            return [fix(v) for v in obj]
        return obj

    return fix(block)  # type: ignore[no-any-return]


def text_blocks(blocks: Sequence[Mapping[str, Any]]) -> list[dict[str, Any]]:
    """The readable blocks of a message (no buttons), to show above a modal's text box."""
    return [
        _inert_block({k: v for k, v in b.items() if k != "accessory"})
        for b in blocks
        if b.get("type") in ("section", "header", "context")
        and ("text" in b or b.get("fields") or b.get("elements"))
    ][: LIMITS.modal_blocks - 1]


def text_modal(
    opener: codec.Opener, button_value: str, metadata: str, shown: Sequence[Mapping[str, Any]]
) -> View:
    """The modal of a text box: the clicked message's text above one text input.

    ``button_value`` is the opener button's value (``opener_value``); ``metadata`` goes
    back with the submission (the intent and the clicked message).
    """
    try:
        data = json.loads(button_value)
        label, placeholder, current = (
            str(data.get("l") or ""),
            str(data.get("p") or ""),
            data.get("v"),
        )
    except (ValueError, TypeError, AttributeError):
        label, placeholder, current = "", "", None
    limit = max(1, min(opener.max_length, LIMITS.input))
    if not isinstance(current, str) or not current or len(current) > limit:
        current = None
    hint = f"At most {limit} characters." + (" Leave it empty to skip." if opener.optional else "")
    element = PlainTextInputElement(
        action_id=TEXT_ACTION,
        multiline=limit > 100,
        max_length=limit,
        initial_value=current,
        placeholder=clip(placeholder, LIMITS.placeholder) or None,
    )
    return View(
        type="modal",
        callback_id=TEXT_CALLBACK,
        title="Your answer",
        submit="Send",
        close="Cancel",
        private_metadata=metadata,
        blocks=[
            *shown,
            InputBlock(
                block_id=TEXT_BLOCK,
                label=clip(label, LIMITS.input_label) or "Your answer",
                optional=opener.optional,
                hint=hint,
                element=element,
            ),
        ],
    )
