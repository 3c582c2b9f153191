"""Core messages as Block Kit, built with ``slack_sdk.models.blocks`` (which checks limits).

Why a module of its own: this is the only place that knows how a neutral message looks in
Slack. Choices become buttons (few), a static_select (many; one select per 100 options),
or multi_static_selects plus a Submit button; free text goes through a modal. Every text
that reaches mrkdwn is escaped (see mrkdwn.py) and fitted to Slack's limits: at most
50 blocks per message, 3,000 characters per section, 150 per header, 75 per button or
option. The recommendation is rendered from the core's Digest, whose budgets are made
for exactly these limits.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime

from slack_sdk.models.blocks import (
    ActionsBlock,
    Block,
    ButtonElement,
    ContextBlock,
    DatePickerElement,
    HeaderBlock,
    InputBlock,
    NumberInputElement,
    Option,
    PlainTextInputElement,
    SectionBlock,
    StaticMultiSelectElement,
    StaticSelectElement,
    TimePickerElement,
)
from slack_sdk.models.views import View

from adapters.slack import ids
from adapters.slack.ids import CheckInAction, CheckInKind, ModalMeta, QuestionRef, Verb, WhenMeta
from adapters.slack.mrkdwn import (
    CONTEXT_MAX,
    FALLBACK_MAX,
    SECTION_MAX,
    escape,
    fit,
    join_fitting,
    mrkdwn,
)
from bot.checkins.texts import STATE_WORDS
from bot.digest import build_digest, clip, units
from bot.messages import (
    AnyMessage,
    CheckInCatchUp,
    CheckInChoice,
    CheckInList,
    CheckInOffer,
    CheckInPrompt,
    ChoiceOption,
    Confirm,
    ExportFile,
    Level,
    Notice,
    PathAdvice,
    PathDetail,
    Plan,
    PlanItemView,
    Question,
    QuestionKind,
    Recommendation,
    RevisitOffer,
    Status,
    Text,
    TimezoneQuestion,
    WhenKind,
)

log = logging.getLogger(__name__)
MAX_BLOCKS = 50  # per message
MAX_OPTIONS = 100  # per select menu
MAX_SELECTS = 40  # select menus in one question message
MAX_BUTTONS = 5  # more choices than this become a select menu
MAX_SCALE_BUTTONS = 10
LABEL_MAX = 75  # button text, option text and description
HEADER_MAX = 150
PLACEHOLDER_MAX = 150
INPUT_MAX = 3000  # plain_text_input max_length
BUTTON_VALUE_MAX = 2000
LEVEL_MARK = {
    Level.INFO: ":information_source:",
    Level.SUCCESS: ":white_check_mark:",
    Level.WARNING: ":warning:",
    Level.ERROR: ":x:",
}


@dataclass(frozen=True, slots=True)
class SlackPost:
    """One chat message: its blocks and the notification text (both already escaped)."""

    text: str
    blocks: list[Block] = field(default_factory=list)


@dataclass(frozen=True, slots=True)
class SlackFile:
    """A document for the person, uploaded into the DM."""

    filename: str
    content: str
    title: str


Outgoing = SlackPost | SlackFile


# ----------------------------------------------------------------------------- helpers


def _section(
    text: str, *, block_id: str | None = None, accessory: ButtonElement | None = None
) -> SectionBlock:
    return SectionBlock(text=mrkdwn(text), block_id=block_id, accessory=accessory)


def _context(text: str) -> ContextBlock:
    return ContextBlock(elements=[mrkdwn(text)])


def _label(text: str) -> str:
    """Plain text for a button or option: clipped, never empty."""
    return clip(text, LABEL_MAX) or "…"


def _titled(title: str, body_lines: list[str]) -> str:
    head = f"*{fit(title, 200)}*"
    return join_fitting([head, *body_lines], SECTION_MAX)


def _chunks(items: Sequence[ChoiceOption], size: int) -> list[Sequence[ChoiceOption]]:
    return [items[i : i + size] for i in range(0, len(items), size)] or [items]


def _option(c: ChoiceOption) -> Option:
    description = clip(c.description, LABEL_MAX) if c.description else None
    return Option(value=c.id, text=_label(c.label), description=description)


# ----------------------------------------------------------------------------- questions


def _skip_button(ref: QuestionRef, n: int) -> ButtonElement:
    return ButtonElement(
        text="Skip this question", action_id=ids.question_action(Verb.SKIP, ref, n), value="skip"
    )


def _choice_blocks(q: Question, ref: QuestionRef) -> list[Block]:
    current = str(q.current) if q.current is not None else None
    if len(q.choices) <= MAX_BUTTONS:
        buttons: list[ButtonElement] = [
            ButtonElement(
                text=_label(c.label),
                action_id=ids.question_action(Verb.ANSWER, ref, i),
                value=c.id,
                style="primary" if c.id == current else None,
            )
            for i, c in enumerate(q.choices)
        ]
        if q.optional:
            buttons.append(_skip_button(ref, len(buttons)))
        blocks: list[Block] = []
        described = [c for c in q.choices if c.description]
        if described:
            lines = [f"• *{fit(c.label, 200)}*: {fit(c.description, 600)}" for c in described]
            blocks.append(_section(join_fitting(lines, SECTION_MAX)))
        blocks.append(ActionsBlock(block_id=ids.question_block(ref, 0), elements=buttons))
        return blocks
    return _select_blocks(q, ref, multi=False)


def _select_blocks(q: Question, ref: QuestionRef, *, multi: bool) -> list[Block]:
    """One select per 100 options (Slack's cap), each in its own actions block."""
    # At most MAX_SELECTS menus (4,000 options) so the message stays within 50 blocks.
    chunks = _chunks(q.choices, MAX_OPTIONS)[:MAX_SELECTS]
    chosen = set(q.current) if isinstance(q.current, list) else {str(q.current)}
    blocks: list[Block] = []
    for k, chunk in enumerate(chunks):
        if len(chunks) > 1:
            first = k * MAX_OPTIONS + 1
            placeholder = f"Options {first} to {first + len(chunk) - 1} of {len(q.choices)}"
        else:
            placeholder = "Choose your answers" if multi else "Choose your answer"
        options = [_option(c) for c in chunk]
        initial = [o for o, c in zip(options, chunk, strict=True) if c.id in chosen]
        element: StaticSelectElement | StaticMultiSelectElement
        if multi:
            limit = q.max_choices if len(chunks) == 1 and q.max_choices < len(chunk) else None
            element = StaticMultiSelectElement(
                placeholder=placeholder,
                action_id=ids.question_action(Verb.PICK, ref, k),
                options=options,
                initial_options=initial or None,
                max_selected_items=limit,
            )
        else:
            element = StaticSelectElement(
                placeholder=placeholder,
                action_id=ids.question_action(Verb.ANSWER, ref, k),
                options=options,
                initial_option=initial[0] if initial else None,
            )
        blocks.append(ActionsBlock(block_id=ids.question_block(ref, k), elements=[element]))
    closing: list[ButtonElement] = []
    if multi:
        closing.append(
            ButtonElement(
                text="Submit",
                action_id=ids.question_action(Verb.SUBMIT, ref, 0),
                value="submit",
                style="primary",
            )
        )
    if q.optional:
        closing.append(_skip_button(ref, 1))
    if closing:
        blocks.append(ActionsBlock(block_id=ids.question_block(ref, len(chunks)), elements=closing))
    return blocks


def _scale_blocks(q: Question, ref: QuestionRef) -> list[Block]:
    values = list(range(q.scale_min, q.scale_max + 1))
    if len(values) > MAX_SCALE_BUTTONS:
        choices = tuple(ChoiceOption(str(v), str(v)) for v in values)
        as_choice = Question(
            consultation_id=q.consultation_id,
            step=q.step,
            question_id=q.question_id,
            kind=QuestionKind.SINGLE_CHOICE,
            prompt=q.prompt,
            choices=choices,
            optional=q.optional,
            current=None if q.current is None else str(q.current),
        )
        return _select_blocks(as_choice, ref, multi=False)
    buttons = [
        ButtonElement(
            text=str(v),
            action_id=ids.question_action(Verb.ANSWER, ref, i),
            value=str(v),
            style="primary" if q.current is not None and str(q.current) == str(v) else None,
        )
        for i, v in enumerate(values)
    ]
    if q.optional:
        buttons.append(_skip_button(ref, len(buttons)))
    return [ActionsBlock(block_id=ids.question_block(ref, 0), elements=buttons)]


def text_button_value(q: Question) -> str:
    """What the "write my answer" button carries to build the modal without asking the core."""
    data: dict[str, object] = {"m": min(q.max_length or INPUT_MAX, INPUT_MAX), "o": q.optional}
    if isinstance(q.current, str):
        data["v"] = q.current
    encoded = json.dumps(data, separators=(",", ":"))
    if len(encoded) > BUTTON_VALUE_MAX:  # a long current answer is not prefilled
        data.pop("v")
        encoded = json.dumps(data, separators=(",", ":"))
    return encoded


def _text_blocks(q: Question, ref: QuestionRef) -> list[Block]:
    buttons = [
        ButtonElement(
            text="Change my answer" if q.current else "Write my answer",
            action_id=ids.question_action(Verb.TEXT, ref, 0),
            value=text_button_value(q),
            style="primary",
        )
    ]
    if q.optional:
        buttons.append(_skip_button(ref, 1))
    return [ActionsBlock(block_id=ids.question_block(ref, 0), elements=buttons)]


def prompt_text(q: Question) -> str:
    """The prompt as escaped mrkdwn (bold when it is one line)."""
    body = fit(q.prompt, SECTION_MAX - 2)
    return f"*{body}*" if "\n" not in body and body else body


def question_post(q: Question) -> SlackPost:
    ref = QuestionRef(q.consultation_id, q.step, q.question_id)
    blocks: list[Block] = [_section(prompt_text(q), block_id=ids.PROMPT_BLOCK)]
    notes = [f"Question {q.position} of {q.total}"]
    if q.help:
        notes.append(fit(q.help, CONTEXT_MAX - 200))
    if q.kind == QuestionKind.SCALE and (q.scale_low_label or q.scale_high_label):
        low = f"{q.scale_min} = {fit(q.scale_low_label, 200)}" if q.scale_low_label else ""
        high = f"{q.scale_max} = {fit(q.scale_high_label, 200)}" if q.scale_high_label else ""
        notes.append(" … ".join(p for p in (low, high) if p))
    if q.kind == QuestionKind.MULTI_CHOICE:
        notes.append(f"Pick {q.min_choices} to {q.max_choices}, then press Submit.")
    blocks.append(_context(" · ".join(notes)))
    if q.error:
        blocks.append(_section(f"{LEVEL_MARK[Level.WARNING]} {fit(q.error, SECTION_MAX - 20)}"))
    if q.kind == QuestionKind.SINGLE_CHOICE:
        blocks += _choice_blocks(q, ref)
    elif q.kind == QuestionKind.MULTI_CHOICE:
        blocks += _select_blocks(q, ref, multi=True)
    elif q.kind == QuestionKind.SCALE:
        blocks += _scale_blocks(q, ref)
    else:
        blocks += _text_blocks(q, ref)
    if q.current is not None:
        blocks.append(_context("Your current answer: " + fit(q.current_words() or "skipped", 1000)))
    return SlackPost(fit(q.prompt, FALLBACK_MAX), blocks)


def answered_post(prompt_mrkdwn: str, answer: str) -> SlackPost:
    """A question after its answer was taken: same prompt, no buttons, the answer shown.

    ``prompt_mrkdwn`` is our own (already escaped) prompt text read back from the message;
    ``answer`` is raw and gets escaped here.
    """
    prompt = prompt_mrkdwn or "*Question*"
    shown = fit(answer, CONTEXT_MAX - 40)
    return SlackPost(
        "Answered: " + shown,
        [
            _section(prompt, block_id=ids.PROMPT_BLOCK),
            _context(f"{LEVEL_MARK[Level.SUCCESS]} Your answer: {shown}"),
        ],
    )


def closed_post(text: str, note: str) -> SlackPost:
    """A message whose buttons are done with (a confirmation that was answered)."""
    return SlackPost(fit(note, FALLBACK_MAX), [_section(text), _context(fit(note, CONTEXT_MAX))])


def text_modal(meta: ModalMeta, prompt_mrkdwn: str, value: str) -> View:
    """The free-text modal; ``value`` is the button value from text_button_value."""
    try:
        data = json.loads(value)
        limit = max(1, min(int(data.get("m", INPUT_MAX)), INPUT_MAX))
        optional = bool(data.get("o", False))
        initial = data.get("v")
    except (ValueError, TypeError, AttributeError):
        limit, optional, initial = INPUT_MAX, False, None
    if not isinstance(initial, str) or not initial or len(initial) > limit:
        initial = None
    blocks: list[Block] = []
    if prompt_mrkdwn:
        blocks.append(_section(prompt_mrkdwn, block_id=ids.PROMPT_BLOCK))
    blocks.append(
        InputBlock(
            block_id=ids.TEXT_BLOCK,
            label="Your answer",
            optional=optional,
            hint=f"At most {limit} characters." + (" Leave it empty to skip." if optional else ""),
            element=PlainTextInputElement(
                action_id=ids.TEXT_ACTION,
                multiline=True,
                max_length=limit,
                initial_value=initial,
            ),
        )
    )
    return View(
        type="modal",
        callback_id=ids.TEXT_CALLBACK,
        title="Your answer",
        submit="Send",
        close="Cancel",
        private_metadata=meta.encode(),
        blocks=blocks,
    )


# ----------------------------------------------------------------------------- the rest


def recommendation_post(rec: Recommendation, plan: Plan | None = None) -> SlackPost:
    """The short card, from the core's Digest; "More" buttons open each path in full."""
    digest = build_digest(rec, plan)
    blocks: list[Block] = [HeaderBlock(text=clip(digest.headline, HEADER_MAX) or "Your paths")]
    for i, p in enumerate(digest.paths):
        title = f"*{p.rank}. {fit(p.title, 400)}*"
        blocks.append(
            _section(
                f"{title}\n{fit(p.paragraph, SECTION_MAX - 410)}",
                accessory=ButtonElement(
                    text="More about this",
                    action_id=ids.path_action(rec.consultation_id, i),
                    value=p.path_id,
                ),
            )
        )
    if digest.why_order:
        blocks.append(_section(_titled("Why this order", [fit(digest.why_order, 2700)])))
    if digest.what_would_change:
        blocks.append(
            _section(_titled("What would change this", [fit(digest.what_would_change, 2700)]))
        )
    if digest.next_steps:
        steps = [f"• {fit(s.text, 900)}" for s in digest.next_steps]
        blocks.append(_section(_titled("Next steps", steps)))
    hidden = rec.paths[len(digest.paths) :]
    if hidden:
        blocks.append(_context(f"{len(hidden)} more path(s) were weighed; details below."))
        blocks.append(
            ActionsBlock(
                elements=[
                    ButtonElement(
                        text=_label(f"{p.rank}. {p.title}"),
                        action_id=ids.path_action(rec.consultation_id, len(digest.paths) + i),
                        value=p.path_id,
                    )
                    for i, p in enumerate(hidden[:25])
                ]
            )
        )
    extras = [*rec.notes]
    if rec.dropped:
        extras.append("Left out for you: " + "; ".join(rec.dropped))
    if extras:
        blocks.append(_context(fit(" ".join(extras), CONTEXT_MAX)))
    return SlackPost(fit(digest.fallback_text(), FALLBACK_MAX), blocks[:MAX_BLOCKS])


def path_post(path: PathAdvice) -> SlackPost:
    blocks: list[Block] = [HeaderBlock(text=clip(f"{path.rank}. {path.title}", HEADER_MAX))]
    blocks.append(_section(fit(path.summary, SECTION_MAX)))
    for label, items in (
        ("Why it fits you", path.reasons),
        ("Pros", path.pros),
        ("Cons", path.cons),
        ("Risks", path.risks),
    ):
        if items:
            blocks.append(_section(_titled(label, [f"• {fit(t, 1000)}" for t in items])))
    if path.next_steps:
        lines = []
        for step in path.next_steps:
            due = f" (by {step.due.day} {step.due:%b %Y})" if step.due else ""
            lines.append(f"• {fit(step.text, 900)}{due}")
        blocks.append(_section(_titled("Next steps", lines)))
    return SlackPost(fit(f"{path.rank}. {path.title}", FALLBACK_MAX), blocks)


def plan_post(plan: Plan) -> SlackPost:
    lines = []
    for item in plan.items:
        due = f" — by {item.due.day} {item.due:%b %Y}" if item.due else ""
        lines.append(f"• {fit(item.action, 900)}{due} ({fit(item.status, 20)})")
    return SlackPost("Your plan", [_section(_titled("Your plan", lines))])


def status_post(status: Status) -> SlackPost:
    head = (
        f"*{fit(status.playbook_title, 200)}*: {fit(status.state, 30)}, "
        f"{status.position} of {status.total} questions answered."
    )
    blocks: list[Block] = [_section(head)]
    lines = [
        f"{i}. *{fit(a.prompt, 300)}*: {fit(a.answer, 1000)}"
        for i, a in enumerate(status.answers, start=1)
    ]
    section = ""
    for line in lines:
        candidate = f"{section}\n{line}" if section else line
        if units(candidate) > SECTION_MAX:
            blocks.append(_section(section))
            candidate = line
        section = candidate
        if len(blocks) >= MAX_BLOCKS - 1:
            break
    if section and len(blocks) < MAX_BLOCKS:
        blocks.append(_section(section))
    return SlackPost(fit(head.replace("*", ""), FALLBACK_MAX), blocks)


def text_post(message: Text) -> SlackPost:
    blocks: list[Block] = []
    if message.title:
        blocks.append(HeaderBlock(text=clip(message.title, HEADER_MAX) or "Crossroads"))
    paragraphs = [p for p in message.text.split("\n\n") if p.strip()] or [message.text]
    section = ""
    for para in paragraphs:
        piece = fit(para, SECTION_MAX)
        candidate = f"{section}\n\n{piece}" if section else piece
        if units(candidate) > SECTION_MAX:
            blocks.append(_section(section))
            candidate = piece
        section = candidate
    if section.strip():
        blocks.append(_section(section))
    fallback = f"{message.title}\n{message.text}" if message.title else message.text
    return SlackPost(fit(fallback, FALLBACK_MAX) or "Crossroads", blocks[:MAX_BLOCKS])


def notice_post(notice: Notice) -> SlackPost:
    body = fit(notice.text, SECTION_MAX - 30)
    return SlackPost(body, [_section(f"{LEVEL_MARK[notice.level]} {body}")])


def confirm_post(confirm: Confirm) -> SlackPost:
    body = fit(confirm.prompt, SECTION_MAX)
    return SlackPost(
        body,
        [
            _section(body, block_id=ids.PROMPT_BLOCK),
            ActionsBlock(
                block_id=f"{ids.PREFIX}{ids.SEP}confirm",
                elements=[
                    ButtonElement(
                        text=_label(confirm.confirm_label),
                        action_id=ids.confirm_action(confirm.action, True),
                        value="yes",
                        style="danger",
                    ),
                    ButtonElement(
                        text=_label(confirm.cancel_label),
                        action_id=ids.confirm_action(confirm.action, False),
                        value="no",
                    ),
                ],
            ),
        ],
    )


def render(messages: Sequence[AnyMessage]) -> list[Outgoing]:
    """Every core message as Slack posts/files, in order; a Plan that follows its
    Recommendation is folded into the recommendation card (as its next steps)."""
    out: list[Outgoing] = []
    items = list(messages)
    for i, m in enumerate(items):
        match m:
            case Recommendation():
                nxt = items[i + 1] if i + 1 < len(items) else None
                plan = (
                    nxt
                    if isinstance(nxt, Plan) and nxt.consultation_id == m.consultation_id
                    else None
                )
                out.append(recommendation_post(m, plan))
            case Plan():
                prev = items[i - 1] if i else None
                folded = (
                    isinstance(prev, Recommendation) and prev.consultation_id == m.consultation_id
                )
                if not folded and m.items:
                    out.append(plan_post(m))
            case Question():
                out.append(question_post(m))
            case Text():
                out.append(text_post(m))
            case Notice():
                out.append(notice_post(m))
            case Status():
                out.append(status_post(m))
            case Confirm():
                out.append(confirm_post(m))
            case PathDetail():
                out.append(path_post(m.path))
            case ExportFile():
                out.append(SlackFile(m.filename, m.content, "Your Crossroads data"))
            case CheckInOffer():
                out.append(offer_post(m))
            case CheckInPrompt():
                out.append(prompt_post(m))
            case CheckInCatchUp():
                out.append(catchup_post(m))
            case CheckInList():
                out.append(list_post(m))
            case TimezoneQuestion():
                out.append(timezone_post(m))
            case RevisitOffer():
                out.append(revisit_post(m))
            case _:
                log.warning("slack: no rendering for %s; not sent", type(m).__name__)
    return out


def help_post(command: str, *, admin_hint: bool = True) -> SlackPost:
    rows = [
        ("", "start, or continue where you stopped"),
        ("start [playbook]", "start a consultation (or continue the one in progress)"),
        ("resume", "show the question you are on"),
        ("status", "where you are and what you answered"),
        ("back", "go back one question"),
        ("restart [playbook]", "start again from the first question"),
        ("checkins", "your check-ins: snooze, change or cancel them"),
        ("timezone <Area/City>", "your time zone for check-ins"),
        ("quiet <HH:MM-HH:MM|off|default>", "hours without check-ins"),
        ("export", "send you everything I keep about you as a file"),
        ("forget", "delete everything I keep about you (asks first)"),
        ("help", "this list"),
    ]
    if admin_hint:
        rows += [
            ("settings", "workspace settings (admins and owners)"),
            ("settings playbook <id>", "default playbook for this workspace"),
            (
                "settings checkins [cadence=<days>] [timezone=<Area/City>] [quiet=HH:MM-HH:MM]",
                "check-in defaults",
            ),
        ]
    lines = [
        f"`{escape((command + ' ' + usage).strip())}` — {escape(what)}" for usage, what in rows
    ]
    body = "*Crossroads* holds the consultation in a direct message with you.\n" + "\n".join(lines)
    return SlackPost("Crossroads commands", [_section(body)])


# ----------------------------------------------------------------------------- check-ins

OTHER_ZONE = "other"
DECLINE = "no"  # the revisit offer's "not now"
MAX_LIST_ITEMS = 23  # two blocks each, plus a heading and a note: within 50 blocks
CHANGE_KINDS = (
    ChoiceOption(WhenKind.IN_DAYS, "Once, in a number of days"),
    ChoiceOption(WhenKind.DATE, "Once, on a date"),
    ChoiceOption(WhenKind.WEEKLY, "Every week"),
    ChoiceOption(WhenKind.FORTNIGHTLY, "Every two weeks"),
)


def when_words(local: datetime) -> str:
    """A local time the way people read it: "Tue 3 Mar 2026, 10:00"."""
    return f"{local:%a} {local.day} {local:%b %Y}, {local:%H:%M}"


def _ci_button(
    action: CheckInAction, label: str, value: str, style: str | None = None
) -> ButtonElement:
    return ButtonElement(text=_label(label), action_id=action.encode(), value=value, style=style)


def _items_lines(items: Sequence[PlanItemView]) -> list[str]:
    lines = []
    for item in items:
        due = f" — by {item.due.day} {item.due:%b %Y}" if item.due else ""
        lines.append(f"• {fit(item.action, 600)}{due}")
    return lines


def offer_post(offer: CheckInOffer) -> SlackPost:
    """After the recommendation: when should I check in on the plan? One button per choice;
    "in N days" and "on a date" open a modal (the app does that on the click)."""
    title = "Shall I check in with you later about these steps?"
    blocks: list[Block] = [
        _section(_titled(title, _items_lines(offer.items)), block_id=ids.PROMPT_BLOCK)
    ]
    zone = fit(offer.timezone, 100)
    note = f"Times in {zone}." if offer.timezone_known else f"Times in {zone} (you can change it)."
    blocks.append(_context(note))
    buttons = [
        _ci_button(
            CheckInAction(CheckInKind.OFFER, offer.consultation_id, 0, str(c.id)),
            c.label,
            str(c.id),
            "primary" if c.id == WhenKind.SUGGESTED else None,
        )
        for c in offer.choices[:25]
    ]
    blocks.append(ActionsBlock(block_id=ids.checkin_block(CheckInKind.OFFER, 0), elements=buttons))
    return SlackPost(title, blocks)


def prompt_post(prompt: CheckInPrompt) -> SlackPost:
    """A due check-in, as a DM: the plan step and one button per answer."""
    head = f"*Check-in:* {fit(prompt.action, SECTION_MAX - 200)}"
    due = when_words(prompt.due_local)
    repeat = f" · every {prompt.repeat_days} days" if prompt.repeat_days else ""
    buttons = [
        _ci_button(
            CheckInAction(CheckInKind.PROMPT, prompt.checkin_id, prompt.occurrence, str(c.id)),
            c.label,
            str(c.id),
            "primary" if c.id == CheckInChoice.DONE else None,
        )
        for c in prompt.choices[:25]
    ]
    return SlackPost(
        fit("How is it going: " + prompt.action, FALLBACK_MAX),
        [
            _section(head + "\nHow is it going?", block_id=ids.PROMPT_BLOCK),
            _context(f"Planned for {due} ({fit(prompt.timezone, 60)}){repeat}"),
            ActionsBlock(block_id=ids.checkin_block(CheckInKind.PROMPT, 0), elements=buttons),
        ],
    )


def _per_item(
    kind: CheckInKind,
    rows: Sequence[tuple[int, int, str]],
    choices: Sequence[ChoiceOption],
    limit: int,
) -> list[Block]:
    """A section and a row of buttons per check-in (id, occurrence, escaped mrkdwn line)."""
    blocks: list[Block] = []
    for n, (checkin_id, occurrence, line) in enumerate(rows[:limit]):
        blocks.append(_section(line))
        buttons = [
            _ci_button(CheckInAction(kind, checkin_id, occurrence, str(c.id)), c.label, str(c.id))
            for c in choices[:25]
        ]
        blocks.append(ActionsBlock(block_id=ids.checkin_block(kind, n), elements=buttons))
    if len(rows) > limit:
        blocks.append(_context(f"{len(rows) - limit} more not shown here."))
    return blocks


def catchup_post(note: CheckInCatchUp) -> SlackPost:
    rows = [
        (
            item.checkin_id,
            note.occurrence,
            f"• {fit(item.action, 2000)}"
            + (f" (every {item.repeat_days} days)" if item.repeat_days else ""),
        )
        for item in note.items
    ]
    body = fit(note.text, SECTION_MAX)
    blocks = [_section(body, block_id=ids.PROMPT_BLOCK)]
    blocks += _per_item(CheckInKind.CATCHUP, rows, note.choices, MAX_LIST_ITEMS)
    return SlackPost(body, blocks[:MAX_BLOCKS])


def list_post(listing: CheckInList) -> SlackPost:
    """``/advise checkins``: each check-in with snooze / change / cancel; failed ones say why."""
    zone = fit(listing.timezone, 60)
    head = f"*Your check-ins* (times in {zone}; quiet hours {fit(listing.quiet_hours, 40)})"
    if not listing.items:
        text = "You have no check-ins. I offer them after each recommendation."
        return SlackPost(text, [_section(f"{head}\n{text}")])
    rows = []
    for item in listing.items:
        state = STATE_WORDS.get(item.state, item.state)
        nxt = f", next {when_words(item.next_due_local)}" if item.next_due_local else ""
        line = f"#{item.checkin_id} *{fit(item.action, 1500)}*\n{fit(item.schedule, 100)}, "
        line += f"{fit(state, 100)}{nxt}"
        if item.last_error:
            line += f"\n{LEVEL_MARK[Level.WARNING]} {fit(item.last_error, 500)}"
        rows.append((item.checkin_id, 0, line))
    blocks = [_section(head, block_id=ids.PROMPT_BLOCK)]
    blocks += _per_item(CheckInKind.LIST, rows, listing.actions, MAX_LIST_ITEMS)
    return SlackPost(f"Your check-ins ({len(listing.items)})", blocks[:MAX_BLOCKS])


def timezone_post(question: TimezoneQuestion) -> SlackPost:
    """Asked only when Slack gave no zone (users.info ``tz``): a select, or "other" (modal)."""
    options = [Option(value=z, text=_label(z)) for z in question.suggestions[: MAX_OPTIONS - 1]]
    options.append(Option(value=OTHER_ZONE, text="Another zone…"))
    initial = next((o for o in options if o.value == question.current), None)
    body = fit(question.prompt, SECTION_MAX - 200)
    select = StaticSelectElement(
        placeholder="Choose your time zone",
        action_id=CheckInAction(CheckInKind.ZONE, 0, 0, "pick").encode(),
        options=options,
        initial_option=initial,
    )
    return SlackPost(
        body,
        [
            _section(body, block_id=ids.PROMPT_BLOCK),
            _context(f"Now: {fit(question.current, 60)}"),
            ActionsBlock(block_id=ids.checkin_block(CheckInKind.ZONE, 0), elements=[select]),
        ],
    )


def revisit_post(offer: RevisitOffer) -> SlackPost:
    """After "blocked" / "situation changed": go back to one question (events.Edit)."""
    body = fit(offer.prompt, SECTION_MAX)
    buttons = [
        _ci_button(
            CheckInAction(CheckInKind.REVISIT, offer.consultation_id, 0, f"q{n}"),
            q.label,
            str(q.id),
        )
        for n, q in enumerate(offer.questions[:24])
    ]
    buttons.append(
        _ci_button(
            CheckInAction(CheckInKind.REVISIT, offer.consultation_id, 0, DECLINE),
            "Not now",
            DECLINE,
        )
    )
    return SlackPost(
        body,
        [
            _section(body, block_id=ids.PROMPT_BLOCK),
            ActionsBlock(block_id=ids.checkin_block(CheckInKind.REVISIT, 0), elements=buttons),
        ],
    )


def when_modal(meta: WhenMeta, prompt_mrkdwn: str = "") -> View:
    """Ask what a button cannot: the number of days, a date (and time), or a time zone."""
    blocks: list[Block] = []
    if prompt_mrkdwn:
        blocks.append(_section(prompt_mrkdwn, block_id=ids.PROMPT_BLOCK))
    title = "Check-ins"
    if meta.purpose == "zone":
        title = "Your time zone"
        blocks.append(
            InputBlock(
                block_id=ids.ZONE_BLOCK,
                label="Time zone (Area/City)",
                hint="For example Europe/Berlin or America/New_York.",
                element=PlainTextInputElement(action_id=ids.ZONE_ACTION, max_length=64),
            )
        )
    else:
        choose = meta.when == ""
        if choose:
            blocks.append(
                InputBlock(
                    block_id=ids.KIND_BLOCK,
                    label="When",
                    element=StaticSelectElement(
                        action_id=ids.KIND_ACTION,
                        placeholder="Choose",
                        options=[_option(c) for c in CHANGE_KINDS],
                    ),
                )
            )
        if choose or meta.when == WhenKind.IN_DAYS:
            blocks.append(
                InputBlock(
                    block_id=ids.DAYS_BLOCK,
                    label="In how many days?",
                    optional=choose,
                    element=NumberInputElement(
                        action_id=ids.DAYS_ACTION,
                        is_decimal_allowed=False,
                        min_value="1",
                        max_value="365",
                    ),
                )
            )
        if choose or meta.when == WhenKind.DATE:
            blocks.append(
                InputBlock(
                    block_id=ids.DATE_BLOCK,
                    label="On which date?",
                    optional=choose,
                    element=DatePickerElement(action_id=ids.DATE_ACTION),
                )
            )
            blocks.append(
                InputBlock(
                    block_id=ids.TIME_BLOCK,
                    label="At what time? (your usual check-in time if empty)",
                    optional=True,
                    element=TimePickerElement(action_id=ids.TIME_ACTION),
                )
            )
    return View(
        type="modal",
        callback_id=ids.WHEN_CALLBACK,
        title=title,
        submit="Save",
        close="Cancel",
        private_metadata=meta.encode(),
        blocks=blocks,
    )
