"""Core messages as Discord message payloads, always within Discord's limits.

Why a module of its own: every limit Discord enforces (2,000 characters of content, 10
embeds and 6,000 characters per message, 25 options per select, 5 rows of 5 buttons,
100-character custom_ids, 45-character modal titles) is applied here and nowhere else, so
a long playbook or a long answer can never make a send fail. The recommendation is drawn
from ``bot.digest`` (the short card every chat platform shares), never re-summarised here.

Text is escaped for Discord Markdown wherever Discord renders it (content, embed titles,
descriptions and fields); labels, footers and placeholders are shown verbatim by Discord.
"""

from __future__ import annotations

import io
import logging
import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import discord

from adapters.discord.components import TEXT_INPUT_ID, ComponentId, Kind, TextSpec
from bot.checkins.texts import STATE_WORDS
from bot.digest import build_digest, clip, units
from bot.messages import (
    AnyMessage,
    CheckInCatchUp,
    CheckInList,
    CheckInOffer,
    CheckInPrompt,
    CheckInView,
    Confirm,
    ExportFile,
    Level,
    Notice,
    PathAdvice,
    PathDetail,
    Plan,
    Question,
    QuestionKind,
    Recommendation,
    RevisitOffer,
    Status,
    Text,
    TimezoneQuestion,
    WhenKind,
)

CONTENT_MAX = 2000
TITLE_MAX = 256
DESCRIPTION_MAX = 4096
FIELD_NAME_MAX = 256
FIELD_VALUE_MAX = 1024
FIELDS_MAX = 25
FOOTER_MAX = 2048
EMBEDS_MAX = 10
EMBED_TOTAL_MAX = 6000
BUTTON_LABEL_MAX = 80
OPTION_TEXT_MAX = 100
PLACEHOLDER_MAX = 150
MODAL_TITLE_MAX = 45
BUTTONS_MAX = 5  # single choices shown as buttons; more become a select menu
PAGE_SIZE = 25  # options per select menu (Discord's maximum)
NO_MENTIONS = discord.AllowedMentions.none()
log = logging.getLogger(__name__)

_ICONS = {Level.ERROR: "⚠️ ", Level.WARNING: "⚠️ ", Level.SUCCESS: "✅ ", Level.INFO: ""}


# --------------------------------------------------------------------------- text


def escape(text: str) -> str:
    """Neutralise Markdown, masked links and <…> mentions/timestamps in shown text."""
    return discord.utils.escape_markdown(text, ignore_links=False).replace("<", "\\<")


def fit(text: str, limit: int, *, markdown: bool = True) -> str:
    """``text`` escaped (if Discord renders Markdown there) and at most ``limit`` units.

    Clipping happens before escaping, so an escape sequence is never cut in half.
    """
    out = escape(text) if markdown else text
    budget = limit
    while units(out) > limit and budget > 0:
        budget -= max(1, units(out) - limit)
        clipped = clip(text, budget)
        out = escape(clipped) if markdown else clipped
    return out if units(out) <= limit else ""


def label(text: str, limit: int) -> str:
    """A component label (shown verbatim): clipped, and never empty (Discord rejects it)."""
    return fit(text, limit, markdown=False).strip() or "…"


def join_lines(lines: Sequence[str], limit: int) -> str:
    """Lines (already escaped) joined by newlines; lines that do not fit become "…"."""
    out: list[str] = []
    for line in lines:
        if units("\n".join([*out, line])) <= limit:
            out.append(line)
            continue
        if not out:
            return _cut(line, limit)
        while out and units("\n".join([*out, "…"])) > limit:
            out.pop()
        return "\n".join([*out, "…"])
    return "\n".join(out)


# --------------------------------------------------------------------------- payloads


@dataclass(frozen=True, slots=True)
class ButtonSpec:
    label: str
    custom_id: str
    style: discord.ButtonStyle = discord.ButtonStyle.secondary
    row: int = 0


@dataclass(frozen=True, slots=True)
class OptionSpec:
    label: str
    value: str
    description: str = ""
    default: bool = False


@dataclass(frozen=True, slots=True)
class SelectSpec:
    custom_id: str
    options: tuple[OptionSpec, ...]
    placeholder: str = ""
    min_values: int = 1
    max_values: int = 1
    row: int = 0


ComponentSpec = ButtonSpec | SelectSpec


def build_view(components: Sequence[ComponentSpec]) -> discord.ui.View:
    """A view used only to serialise components: it is stopped before it is sent.

    Why stopped: clicks are routed by custom_id (router.py), so discord.py must not keep a
    per-message view in memory (it would grow with every message and die with the process).
    """
    view = discord.ui.View(timeout=None)
    for spec in components:
        if isinstance(spec, ButtonSpec):
            view.add_item(
                discord.ui.Button(
                    label=spec.label, custom_id=spec.custom_id, style=spec.style, row=spec.row
                )
            )
        else:
            options = [
                discord.SelectOption(
                    label=o.label,
                    value=o.value,
                    description=o.description or None,
                    default=o.default,
                )
                for o in spec.options
            ]
            view.add_item(
                discord.ui.Select(
                    custom_id=spec.custom_id,
                    options=options,
                    placeholder=spec.placeholder or None,
                    min_values=spec.min_values,
                    max_values=spec.max_values,
                    row=spec.row,
                )
            )
    view.stop()
    return view


@dataclass
class Outgoing:
    """One Discord message to send."""

    content: str = ""
    embeds: list[discord.Embed] = field(default_factory=list)
    components: list[ComponentSpec] = field(default_factory=list)
    attachment: ExportFile | None = None

    def kwargs(self) -> dict[str, Any]:
        """Keyword arguments for ``send``/``send_message``/``followup.send``.

        Built per call: a ``discord.File`` is consumed by a send and a view is per message.
        """
        out: dict[str, Any] = {"allowed_mentions": NO_MENTIONS}
        if self.content:
            out["content"] = self.content
        if self.embeds:
            out["embeds"] = list(self.embeds)
        if self.components:
            out["view"] = build_view(self.components)
        if self.attachment is not None:
            data = io.BytesIO(self.attachment.content.encode("utf-8"))
            out["file"] = discord.File(data, filename=self.attachment.filename)
        return out


@dataclass
class Update:
    """A new state for the message a component sits on; ``None`` leaves a part as it is."""

    content: str | None = None
    embeds: list[discord.Embed] | None = None
    components: list[ComponentSpec] = field(default_factory=list)  # [] removes them

    def kwargs(self) -> dict[str, Any]:
        out: dict[str, Any] = {"allowed_mentions": NO_MENTIONS}
        if self.content is not None:
            out["content"] = self.content
        if self.embeds is not None:
            out["embeds"] = list(self.embeds)
        out["view"] = build_view(self.components) if self.components else None
        return out


# --------------------------------------------------------------------------- embeds


def embed_units(embed: discord.Embed) -> int:
    """What Discord counts towards the 6,000 limit, in UTF-16 units."""
    total = units(embed.title or "") + units(embed.description or "")
    total += sum(units(f.name or "") + units(f.value or "") for f in embed.fields)
    total += units(embed.footer.text or "") + units(embed.author.name or "")
    return total


def shrink_to_limit(embeds: list[discord.Embed], limit: int = EMBED_TOTAL_MAX) -> None:
    """Clip the longest text of ``embeds`` until together they fit ``limit`` (in place)."""
    while sum(embed_units(e) for e in embeds) > limit:
        excess = sum(embed_units(e) for e in embeds) - limit
        best: tuple[int, discord.Embed, int] | None = None  # (size, embed, field index or -1)
        for e in embeds:
            if best is None or units(e.description or "") > best[0]:
                best = (units(e.description or ""), e, -1)
            for i, f in enumerate(e.fields):
                if units(f.value or "") > best[0]:
                    best = (units(f.value or ""), e, i)
        if best is None or best[0] <= 1:
            return
        size, embed, index = best
        keep = max(1, size - excess - 1)
        if index < 0:
            embed.description = _cut(embed.description or "", keep)
        else:
            f = embed.fields[index]
            embed.set_field_at(index, name=f.name, value=_cut(f.value or "", keep), inline=False)


def _cut(text: str, keep: int) -> str:
    """Cut already-escaped text to ``keep`` units, ending in "…", no dangling backslash."""
    if units(text) <= keep:
        return text
    out = text
    while out and units(out) > keep - 1:
        out = out[: -max(1, units(out) - (keep - 1))]
    return out.rstrip("\\") + "…"


def _field(embed: discord.Embed, name: str, value: str) -> None:
    """Add a field if it has a value (Discord rejects empty values)."""
    if value.strip() and len(embed.fields) < FIELDS_MAX:
        embed.add_field(name=fit(name, FIELD_NAME_MAX), value=value, inline=False)


def _bullets(items: Sequence[str], limit: int = FIELD_VALUE_MAX) -> str:
    return join_lines([f"• {escape(clip(i, 600))}" for i in items if i.strip()], limit)


# --------------------------------------------------------------------------- questions


def _scale_label(q: Question, n: int) -> str:
    if n == q.scale_min and q.scale_low_label:
        return f"{n} · {q.scale_low_label}"
    if n == q.scale_max and q.scale_high_label:
        return f"{n} · {q.scale_high_label}"
    return str(n)


def _options(q: Question) -> list[OptionSpec]:
    """Every possible answer; values are what the core parses (choice id, or the number)."""
    if q.kind == QuestionKind.SCALE:
        return [
            OptionSpec(label(_scale_label(q, n), OPTION_TEXT_MAX), str(n), "", q.current == n)
            for n in range(q.scale_min, q.scale_max + 1)
        ]
    chosen = q.current if isinstance(q.current, list) else [q.current]
    return [
        OptionSpec(
            label(c.label, OPTION_TEXT_MAX),
            c.id,
            fit(c.description, OPTION_TEXT_MAX, markdown=False),
            c.id in chosen,
        )
        for c in q.choices
    ]


def pages_of(q: Question) -> int:
    """How many select pages a question needs (1 unless it has more than 25 options)."""
    return max(1, math.ceil(len(_options(q)) / PAGE_SIZE))


def question_components(q: Question, owner: int, page: int = 0) -> list[ComponentSpec]:
    """Buttons (<= 5 options), a select (<= 25) or a paged select; modal buttons for text."""
    base = ComponentId(Kind.CHOICE, owner, q.consultation_id, q.step, q.question_id)
    out: list[ComponentSpec] = []
    options = _options(q)
    if q.kind == QuestionKind.FREE_TEXT or (
        q.kind == QuestionKind.MULTI_CHOICE and len(options) > PAGE_SIZE
    ):
        numbers = q.kind == QuestionKind.MULTI_CHOICE
        spec = TextSpec(numbers, q.optional, max(1, min(q.max_length or 1000, 4000)))
        caption = "Type the numbers of your choices" if numbers else "Answer"
        if q.current is not None and not numbers:
            caption = "Change my answer"
        out.append(
            ButtonSpec(
                caption,
                base.with_kind(Kind.TEXT, spec.encode()).encode(),
                discord.ButtonStyle.primary,
            )
        )
    elif q.kind == QuestionKind.MULTI_CHOICE:
        top = max(1, min(q.max_choices or len(options), len(options)))
        low = min(max(1, q.min_choices), top)
        placeholder = f"Choose {low}" if low == top else f"Choose {low} to {top}"
        out.append(
            SelectSpec(
                base.with_kind(Kind.SELECT, "0").encode(),
                tuple(options),
                placeholder,
                low,
                top,
            )
        )
    elif len(options) <= BUTTONS_MAX:
        for o in options:
            style = discord.ButtonStyle.primary if o.default else discord.ButtonStyle.secondary
            text = label(o.label, BUTTON_LABEL_MAX)
            if q.kind == QuestionKind.SCALE:
                target = base.with_kind(Kind.NUMBER, o.value)
            else:  # the choice id takes the question's place: the step pins the question
                target = base.with_kind(Kind.CHOICE, "", ref=o.value)
            out.append(ButtonSpec(text, target.encode(), style))
    else:
        pages = pages_of(q)
        page = min(max(page, 0), pages - 1)
        shown = options[page * PAGE_SIZE : (page + 1) * PAGE_SIZE]
        placeholder = "Choose one"
        if pages > 1:
            first, last = page * PAGE_SIZE + 1, page * PAGE_SIZE + len(shown)
            placeholder = f"Choose one (options {first} to {last} of {len(options)})"
        out.append(
            SelectSpec(base.with_kind(Kind.SELECT, str(page)).encode(), tuple(shown), placeholder)
        )
        if page > 0:
            out.append(
                ButtonSpec("◀ Previous", base.with_kind(Kind.PAGE, str(page - 1)).encode(), row=1)
            )
        if page < pages - 1:
            out.append(
                ButtonSpec("Next ▶", base.with_kind(Kind.PAGE, str(page + 1)).encode(), row=1)
            )
    if q.optional:
        out.append(ButtonSpec("Skip", base.with_kind(Kind.SKIP, "").encode(), row=1))
    return out


def question_embed(q: Question) -> discord.Embed:
    parts = [f"**{fit(q.prompt, 1500)}**"]
    if q.help:
        parts.append(fit(q.help, 1000))
    if q.kind == QuestionKind.SCALE and (q.scale_low_label or q.scale_high_label):
        low = f"{q.scale_min} = {q.scale_low_label}" if q.scale_low_label else str(q.scale_min)
        high = f"{q.scale_max} = {q.scale_high_label}" if q.scale_high_label else str(q.scale_max)
        parts.append(fit(f"{low} … {high}", 400))
    if q.kind == QuestionKind.MULTI_CHOICE and len(q.choices) > PAGE_SIZE:
        used = units("\n\n".join(parts)) + 2
        listing = [f"{i}. {escape(clip(c.label, 80))}" for i, c in enumerate(q.choices, 1)]
        parts.append(join_lines(listing, DESCRIPTION_MAX - used))
    embed = discord.Embed(
        title=f"Question {q.position} of {q.total}", description="\n\n".join(parts)
    )
    words = q.current_words()
    if words:
        embed.set_footer(text=fit(f"Your current answer: {words}", 300, markdown=False))
    elif q.optional:
        embed.set_footer(text="Optional: you may skip this one.")
    return embed


def render_question(q: Question, owner: int, page: int = 0) -> Outgoing:
    content = f"⚠️ {fit(q.error, 1000)}" if q.error else ""
    return Outgoing(content, [question_embed(q)], question_components(q, owner, page))


def question_page_update(q: Question, owner: int, page: int) -> Update:
    """The same question showing another page of its options."""
    return Update(
        content="", embeds=[question_embed(q)], components=question_components(q, owner, page)
    )


# --------------------------------------------------------------------------- advice


def render_recommendation(rec: Recommendation, plan: Plan | None, owner: int) -> Outgoing:
    """The short card (bot.digest) as one embed, with a details button per path."""
    digest = build_digest(rec, plan)
    embed = discord.Embed(title=fit(digest.headline, TITLE_MAX))
    for p in digest.paths:
        _field(embed, f"{p.rank}. {p.title}", fit(p.paragraph, FIELD_VALUE_MAX))
    _field(embed, "Why this order", fit(digest.why_order, FIELD_VALUE_MAX))
    _field(embed, "What would change this", fit(digest.what_would_change, FIELD_VALUE_MAX))
    _field(embed, "Next steps", _bullets([s.text for s in digest.next_steps]))
    footer = rec.playbook_title
    if digest.more_paths:
        footer += f" · {digest.more_paths} more path(s) in your export"
    embed.set_footer(text=fit(footer, 200, markdown=False))
    extra = [*rec.notes, *(f"Left out: {d}" for d in rec.dropped)]
    room = EMBED_TOTAL_MAX - 100 - embed_units(embed)
    if extra and room > 40:
        _field(embed, "Also worth knowing", _bullets(extra, min(FIELD_VALUE_MAX, room - 20)))
    shrink_to_limit([embed])
    buttons: list[ComponentSpec] = [
        ButtonSpec(
            label(f"More on {p.rank}. {p.title}", BUTTON_LABEL_MAX),
            ComponentId(
                Kind.DETAILS, owner, rec.consultation_id, rec.step, p.path_id, str(p.rank)
            ).encode(),
        )
        for p in digest.paths
    ]
    return Outgoing("", [embed], buttons)


def render_path(path: PathAdvice) -> discord.Embed:
    embed = discord.Embed(
        title=fit(f"{path.rank}. {path.title}", TITLE_MAX),
        description=fit(path.summary, 1500),
    )
    _field(embed, "Why, for you", _bullets(path.reasons))
    _field(embed, "Pros", _bullets(path.pros))
    _field(embed, "Cons", _bullets(path.cons))
    _field(embed, "Risks", _bullets(path.risks))
    steps = [
        s.text + (f" (by {s.due.day} {s.due:%b %Y})" if s.due else "") for s in path.next_steps
    ]
    _field(embed, "Next steps", _bullets(steps))
    shrink_to_limit([embed])
    return embed


def render_plan(plan: Plan) -> Outgoing:
    if not plan.items:
        return Outgoing("Your plan is empty.")
    lines = [
        f"• {escape(clip(i.action, 300))}"
        + (f" — by {i.due.day} {i.due:%b %Y}" if i.due else "")
        + ("" if i.status == "open" else f" ({escape(i.status)})")
        for i in plan.items
    ]
    return Outgoing("", [discord.Embed(title="Your plan", description=join_lines(lines, 4000))])


def render_status(s: Status) -> Outgoing:
    head = f"{escape(s.state)}: {s.position} of {s.total} questions answered."
    lines = [head, ""] + [
        f"**{i}. {escape(clip(a.prompt, 200))}**: {escape(clip(a.answer, 300))}"
        for i, a in enumerate(s.answers, start=1)
    ]
    embed = discord.Embed(
        title=fit(s.playbook_title, TITLE_MAX), description=join_lines(lines, 4000)
    )
    return Outgoing("", [embed])


# --------------------------------------------------------------------------- the rest


def render_text(t: Text) -> Outgoing:
    if t.title:
        return Outgoing(
            "", [discord.Embed(title=fit(t.title, TITLE_MAX), description=fit(t.text, 4000))]
        )
    if units(escape(t.text)) <= CONTENT_MAX:
        return Outgoing(escape(t.text))
    return Outgoing("", [discord.Embed(description=fit(t.text, 4000))])


def render_notice(n: Notice) -> Outgoing:
    return Outgoing(_ICONS.get(n.level, "") + fit(n.text, 1900))


def render_confirm(c: Confirm, owner: int) -> Outgoing:
    base = ComponentId(Kind.CONFIRM, owner, ref=c.action)
    return Outgoing(
        fit(c.prompt, 1900),
        components=[
            ButtonSpec(
                label(c.confirm_label, BUTTON_LABEL_MAX),
                base.with_kind(Kind.CONFIRM, "y").encode(),
                discord.ButtonStyle.danger,
            ),
            ButtonSpec(
                label(c.cancel_label, BUTTON_LABEL_MAX),
                base.with_kind(Kind.CONFIRM, "n").encode(),
            ),
        ],
    )


def render_export(f: ExportFile) -> Outgoing:
    return Outgoing("Everything I keep about you is in the attached Markdown file.", attachment=f)


# --------------------------------------------------------------------------- check-ins

LIST_PAGE = 4  # check-ins per page of the list: one row of buttons each, one row for paging
MODAL_WHENS = frozenset({WhenKind.IN_DAYS, WhenKind.DATE})  # offer choices that ask first


def _when_words(local: datetime | None) -> str:
    return f"{local:%a %d %b %Y, %H:%M}" if local is not None else ""


def _rows(buttons: Sequence[ButtonSpec], first_row: int = 0) -> list[ComponentSpec]:
    """Buttons laid out five to a row (Discord's maximum per action row)."""
    return [
        ButtonSpec(b.label, b.custom_id, b.style, first_row + i // BUTTONS_MAX)
        for i, b in enumerate(buttons)
    ]


def render_offer(o: CheckInOffer, owner: int) -> Outgoing:
    """The offer after a recommendation: one button per choice (in N days / a date: modal)."""
    lines = [
        f"• {escape(clip(i.action, 300))}" + (f" — by {i.due:%d %b %Y}" if i.due else "")
        for i in o.items
    ]
    embed = discord.Embed(
        title="Shall I check in with you on your plan?",
        description=join_lines(lines, 3500) or None,
    )
    zone = o.timezone if o.timezone_known else f"{o.timezone} for now; you can change it"
    embed.set_footer(text=fit(f"Times are in {zone}.", 300, markdown=False))
    buttons = [
        ButtonSpec(
            label(c.label + ("…" if c.id in MODAL_WHENS else ""), BUTTON_LABEL_MAX),
            ComponentId(Kind.OFFER, owner, o.consultation_id, 0, c.id).encode(),
            discord.ButtonStyle.primary if c.id == WhenKind.SUGGESTED else _SECONDARY,
        )
        for c in o.choices[: BUTTONS_MAX * 5]
    ]
    return Outgoing("", [embed], _rows(buttons))


_SECONDARY = discord.ButtonStyle.secondary


def render_prompt(p: CheckInPrompt, owner: int) -> Outgoing:
    """A due check-in (a DM): the plan step and one button per answer."""
    repeat = f" · every {p.repeat_days} days" if p.repeat_days else ""
    embed = discord.Embed(
        title="Check-in: how is it going?", description=f"**{fit(p.action, 3000)}**"
    )
    embed.set_footer(
        text=fit(f"Due {_when_words(p.due_local)} ({p.timezone}){repeat}", 300, markdown=False)
    )
    buttons = [
        ButtonSpec(
            label(c.label, BUTTON_LABEL_MAX),
            ComponentId(Kind.ANSWER, owner, p.checkin_id, p.occurrence, c.id).encode(),
            discord.ButtonStyle.success if c.id == "done" else _SECONDARY,
        )
        for c in p.choices[: BUTTONS_MAX * 5]
    ]
    return Outgoing("", [embed], _rows(buttons))


def render_catchup(c: CheckInCatchUp, owner: int) -> Outgoing:
    """Missed check-ins: the list, and one multi-select per choice (values: check-in ids)."""
    shown = c.items[:PAGE_SIZE]
    lines = [f"{i}. {escape(clip(m.action, 300))}" for i, m in enumerate(shown, 1)]
    if len(c.items) > len(shown):
        lines.append(f"…and {len(c.items) - len(shown)} more: see `/advise checkins`.")
    embed = discord.Embed(description=join_lines([fit(c.text, 1000), "", *lines], DESCRIPTION_MAX))
    options = tuple(
        OptionSpec(label(f"{i}. {m.action}", OPTION_TEXT_MAX), str(m.checkin_id))
        for i, m in enumerate(shown, 1)
    )
    selects: list[ComponentSpec] = [
        SelectSpec(
            ComponentId(Kind.CATCHUP, owner, 0, 0, choice.id).encode(),
            options,
            label(choice.label, PLACEHOLDER_MAX),
            1,
            len(options),
            row,
        )
        for row, choice in enumerate(c.choices[:5])
        if options
    ]
    return Outgoing("", [embed], selects)


def _list_line(n: int, v: CheckInView) -> str:
    head = f"**#{v.checkin_id}** {escape(clip(v.action, 200))}"
    state = STATE_WORDS.get(v.state, v.state)
    detail = f"{escape(v.schedule)} · {escape(state)}"
    if v.next_due_local is not None:
        detail += f" · next {_when_words(v.next_due_local)}"
    if v.plan_status != "open":
        detail += f" · step {escape(v.plan_status)}"
    line = f"{n}. {head}\n{detail}"
    if v.last_error:
        line += f"\n⚠️ {fit(v.last_error, 300)}"
    return line


def list_pages(lst: CheckInList) -> int:
    return max(1, math.ceil(len(lst.items) / LIST_PAGE))


def render_checkin_list(lst: CheckInList, owner: int, page: int = 0) -> Outgoing:
    """`/advise checkins`: a page of check-ins, each with a row of its actions."""
    if not lst.items:
        return Outgoing(
            "You have no check-ins. After a recommendation I offer them; "
            "`/advise resume` shows your latest advice."
        )
    pages = list_pages(lst)
    page = min(max(page, 0), pages - 1)
    shown = lst.items[page * LIST_PAGE : (page + 1) * LIST_PAGE]
    lines = [_list_line(page * LIST_PAGE + i, v) for i, v in enumerate(shown, 1)]
    embed = discord.Embed(title="Your check-ins", description=join_lines(lines, DESCRIPTION_MAX))
    footer = f"Time zone {lst.timezone} · quiet hours {lst.quiet_hours}"
    if pages > 1:
        footer += f" · page {page + 1} of {pages}"
    embed.set_footer(text=fit(footer, 300, markdown=False))
    out: list[ComponentSpec] = []
    for row, v in enumerate(shown):
        for a in lst.actions[:BUTTONS_MAX]:
            text = f"#{v.checkin_id} {a.label}" if a is lst.actions[0] else a.label
            style = discord.ButtonStyle.danger if a.id == "cancel" else _SECONDARY
            target = ComponentId(Kind.ITEM, owner, v.checkin_id, 0, a.id)
            out.append(ButtonSpec(label(text, BUTTON_LABEL_MAX), target.encode(), style, row))
    if page > 0:
        prev = ComponentId(Kind.LIST, owner, 0, 0, "", str(page - 1))
        out.append(ButtonSpec("◀ Previous", prev.encode(), row=LIST_PAGE))
    if page < pages - 1:
        nxt = ComponentId(Kind.LIST, owner, 0, 0, "", str(page + 1))
        out.append(ButtonSpec("Next ▶", nxt.encode(), row=LIST_PAGE))
    return Outgoing("", [embed], out)


def render_timezone_question(q: TimezoneQuestion, owner: int) -> Outgoing:
    """A select of likely zones and an "Other…" button (a modal) → SetTimezone."""
    options = tuple(
        OptionSpec(label(z, OPTION_TEXT_MAX), z, "", z == q.current)
        for z in q.suggestions[:PAGE_SIZE]
        if 0 < len(z) <= OPTION_TEXT_MAX
    )
    parts: list[ComponentSpec] = []
    if options:
        select_id = ComponentId(Kind.ZONE, owner).encode()
        parts.append(SelectSpec(select_id, options, "Choose your time zone"))
    other_id = ComponentId(Kind.ZONE_OTHER, owner, ref="tz").encode()
    parts.append(ButtonSpec("Other…", other_id, row=1))
    text = fit(q.prompt, 1500) + f"\n-# Now: {escape(q.current)}"
    return Outgoing(text, components=parts)


def render_revisit(r: RevisitOffer, owner: int) -> Outgoing:
    """After "blocked" / "situation changed": pick a question to answer again → Edit."""
    options = tuple(
        OptionSpec(
            label(q.label, OPTION_TEXT_MAX),
            q.id,
            fit(q.description, OPTION_TEXT_MAX, markdown=False),
        )
        for q in r.questions[:PAGE_SIZE]
        if q.id
    )
    if not options:
        return Outgoing(fit(r.prompt, 1900))
    target = ComponentId(Kind.REVISIT, owner, r.consultation_id)
    return Outgoing(
        fit(r.prompt, 1900),
        components=[SelectSpec(target.encode(), options, "Answer a question again")],
    )


def when_modal(opener: ComponentId, title: str, caption: str, placeholder: str) -> discord.ui.Modal:
    """The modal behind "in N days" / "a date" / "Change" / "Other…" time zone.

    Its custom_id names the opener (kind in the arg), so the submit is routed, and checked
    against the message, from the custom_id alone.
    """
    target = ComponentId(
        Kind.WHEN, opener.owner, opener.consultation_id, opener.step, opener.ref, opener.kind.value
    )
    modal = discord.ui.Modal(
        title=label(title, MODAL_TITLE_MAX), custom_id=target.encode(), timeout=None
    )
    modal.add_item(
        discord.ui.TextInput(
            label=label(caption, MODAL_TITLE_MAX),
            custom_id=TEXT_INPUT_ID,
            style=discord.TextStyle.short,
            required=True,
            max_length=64,
            placeholder=label(placeholder, PLACEHOLDER_MAX),
        )
    )
    modal.stop()
    return modal


# --------------------------------------------------------------------------- dispatch


def render_one(message: AnyMessage, owner: int, plan: Plan | None = None) -> Outgoing | None:
    """One core message as one Discord message; None for kinds this adapter does not show."""
    match message:
        case Question():
            return render_question(message, owner)
        case Recommendation():
            return render_recommendation(message, plan, owner)
        case Text():
            return render_text(message)
        case Notice():
            return render_notice(message)
        case Plan():
            return render_plan(message)
        case Status():
            return render_status(message)
        case PathDetail():
            return Outgoing("", [render_path(message.path)])
        case Confirm():
            return render_confirm(message, owner)
        case ExportFile():
            return render_export(message)
        case CheckInOffer():
            return render_offer(message, owner)
        case CheckInPrompt():
            return render_prompt(message, owner)
        case CheckInCatchUp():
            return render_catchup(message, owner)
        case CheckInList():
            return render_checkin_list(message, owner)
        case TimezoneQuestion():
            return render_timezone_question(message, owner)
        case RevisitOffer():
            return render_revisit(message, owner)
    log.debug("not shown on Discord: %s", type(message).__name__)
    return None


def render(messages: Sequence[AnyMessage], owner: int) -> list[Outgoing]:
    """Core messages as few Discord messages as the limits allow.

    A recommendation absorbs the plan that follows it (the digest lists the next steps).
    """
    out: list[Outgoing | None] = []
    skip_next = False
    for i, m in enumerate(messages):
        if skip_next:
            skip_next = False
            continue
        nxt = messages[i + 1] if i + 1 < len(messages) else None
        if (
            isinstance(m, Recommendation)
            and isinstance(nxt, Plan)
            and nxt.consultation_id == m.consultation_id
        ):
            out.append(render_one(m, owner, nxt))
            skip_next = True
        elif isinstance(m, Plan) and not m.items:
            continue
        else:
            out.append(render_one(m, owner))
    return pack([o for o in out if o is not None])


def _mergeable(a: Outgoing, b: Outgoing) -> bool:
    if a.components or (a.attachment and b.attachment):
        return False
    if b.content and a.embeds:  # content shows above embeds: keep the reading order
        return False
    content = "\n\n".join(c for c in (a.content, b.content) if c)
    embeds = [*a.embeds, *b.embeds]
    return (
        units(content) <= CONTENT_MAX
        and len(embeds) <= EMBEDS_MAX
        and sum(embed_units(e) for e in embeds) <= EMBED_TOTAL_MAX
    )


def pack(parts: Sequence[Outgoing]) -> list[Outgoing]:
    """Merge neighbours into one message where Discord's limits and reading order allow."""
    out: list[Outgoing] = []
    for part in parts:
        if out and _mergeable(out[-1], part):
            last = out[-1]
            out[-1] = Outgoing(
                "\n\n".join(c for c in (last.content, part.content) if c),
                [*last.embeds, *part.embeds],
                list(part.components),
                last.attachment or part.attachment,
            )
        else:
            out.append(part)
    return out


def answered_update(words: str) -> Update:
    """The question message once answered: the question stays, its components go."""
    return Update(content=f"✅ Your answer: {fit(words, 1500)}", components=[])


def closed_update(text: str) -> Update:
    """A stale or closed question message: say why, remove the components."""
    return Update(content=fit(text, 1900), components=[])


def modal_for(target: ComponentId, spec: TextSpec, title: str) -> discord.ui.Modal:
    """The answer modal; stopped like views, its submit is routed by custom_id."""
    modal = discord.ui.Modal(
        title=label(title or "Your answer", MODAL_TITLE_MAX),
        custom_id=target.with_kind(Kind.MODAL).encode(),
        timeout=None,
    )
    caption = "Numbers of your choices, e.g. 1, 4, 27" if spec.numbers else "Your answer"
    if spec.optional:
        caption = label(caption + " (optional)", MODAL_TITLE_MAX)
    modal.add_item(
        discord.ui.TextInput(
            label=caption,
            custom_id=TEXT_INPUT_ID,
            style=discord.TextStyle.paragraph if spec.max_length > 100 else discord.TextStyle.short,
            required=not spec.optional,
            max_length=spec.max_length,
        )
    )
    modal.stop()
    return modal
