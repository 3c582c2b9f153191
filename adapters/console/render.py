"""Core messages as plain terminal text. No colours or escapes: output may be piped."""

from __future__ import annotations

from bot.checkins.schedule import example_date
from bot.messages import (
    AnyMessage,
    CheckInCatchUp,
    CheckInList,
    CheckInOffer,
    CheckInPrompt,
    Confirm,
    ExportFile,
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

WIDTH = 78
HINTS = {
    QuestionKind.SINGLE_CHOICE: "Type the number of your choice.",
    QuestionKind.MULTI_CHOICE: "Type one or more numbers, separated by commas (e.g. 1,3).",
    QuestionKind.SCALE: "Type a number.",
    QuestionKind.FREE_TEXT: "Type your answer on one line.",
}


def render_question(q: Question) -> str:
    lines = []
    if q.error:
        lines.append(f"! {q.error}")
    lines.append(f"[{q.position}/{q.total}] {q.prompt}")
    if q.help:
        lines.append(f"  {q.help}")
    for i, c in enumerate(q.choices, start=1):
        extra = f" — {c.description}" if c.description else ""
        lines.append(f"  {i}. {c.label}{extra}")
    if q.kind == QuestionKind.SCALE:
        low = f" = {q.scale_low_label}" if q.scale_low_label else ""
        high = f" = {q.scale_high_label}" if q.scale_high_label else ""
        lines.append(f"  {q.scale_min}{low} … {q.scale_max}{high}")
    hint = HINTS[q.kind]
    if q.kind == QuestionKind.FREE_TEXT:
        hint += f" At most {q.max_length} characters."
    if q.optional:
        hint += " Type skip to leave it out."
    if q.current is not None:
        hint += f" Press Enter to keep your answer ({q.current_words()})."
    lines.append(f"  {hint}")
    return "\n".join(lines)


def render_path(p: PathAdvice, *, full: bool) -> str:
    lines = [f"{p.rank}. {p.title}", f"   {p.summary}"]
    for reason in p.reasons[: None if full else 2]:
        lines.append(f"   • {reason}")
    if full:
        for label, items in (("Pros", p.pros), ("Cons", p.cons), ("Risks", p.risks)):
            for item in items:
                lines.append(f"   {label}: {item}")
        for step in p.next_steps:
            due = f" (by {step.due:%a %d %b %Y})" if step.due else ""
            lines.append(f"   Next: {step.text}{due}")
    return "\n".join(lines)


def render_recommendation(rec: Recommendation) -> str:
    lines = [
        f"=== {rec.playbook_title}: what I would weigh up ==="
        if rec.playbook_title
        else "=== Your recommendation ==="
    ]
    top = rec.top
    lines.append(render_path(top, full=True))
    lines.append("")
    lines.append("Why this order:")
    lines += [f"  • {w}" for w in rec.why_order]
    lines.append("")
    lines.append(f"What would change this: {rec.what_would_change}")
    if len(rec.paths) > 1:
        lines.append("")
        lines.append("The other paths:")
        for p in rec.paths[1:]:
            lines.append(render_path(p, full=False))
    for note in rec.notes:
        lines.append(f"Note — {note}")
    if rec.dropped:
        lines.append("")
        lines.append("Left out for you: " + "; ".join(rec.dropped))
    lines.append("")
    lines.append("Type /details N for everything about path N.")
    return "\n".join(lines)


OFFER_COMMANDS = {
    WhenKind.SUGGESTED: "/remind suggested",
    WhenKind.IN_DAYS: "/remind 3",
    WhenKind.WEEKLY: "/remind weekly",
    WhenKind.FORTNIGHTLY: "/remind fortnightly",
}
WHEN_FMT = "%a %d %b %Y, %H:%M"


def render_offer(offer: CheckInOffer) -> str:
    lines = [f"Shall I check in with you later about these steps? (times in {offer.timezone})"]
    for c in offer.choices:
        command = OFFER_COMMANDS.get(str(c.id), "/remind none")
        if c.id == WhenKind.DATE:
            command = f"/remind {example_date()}"
        extra = f" — {c.description}" if c.description else ""
        lines.append(f"  {command:<20} {c.label}{extra}")
    lines.append(f"  Any number of days or date works, e.g. /remind 10, /remind {example_date()}.")
    return "\n".join(lines)


def render_checkin_prompt(p: CheckInPrompt) -> str:
    every = f" (every {p.repeat_days} days)" if p.repeat_days else ""
    lines = [
        f"=== Check-in #{p.checkin_id}: {p.action} ===",
        f"Due {p.due_local:{WHEN_FMT}} ({p.timezone}){every}. How is it going?",
    ]
    lines += [f"  {i}. {c.label}" for i, c in enumerate(p.choices, start=1)]
    lines.append("  Type the number of your answer, or /skip to answer later.")
    return "\n".join(lines)


def render_catchup(c: CheckInCatchUp) -> str:
    lines = ["=== Check-ins I missed ===", c.text]
    lines += [f"  #{i.checkin_id} {i.action}" for i in c.items]
    lines += [f"  {n}. {choice.label}" for n, choice in enumerate(c.choices, start=1)]
    lines.append("  Type 1 or 2, or /skip to decide later.")
    return "\n".join(lines)


def render_checkin_list(cl: CheckInList) -> str:
    if not cl.items:
        return "You have no check-ins. After a recommendation, /remind sets them up."
    lines = [f"Your check-ins (times in {cl.timezone}; quiet hours {cl.quiet_hours}):"]
    for v in cl.items:
        when = f"next {v.next_due_local:{WHEN_FMT}}" if v.next_due_local else v.state
        if v.state == "sent":
            when = "waiting for your answer"
        elif v.state == "missed":
            when = "missed while I was offline"
        problem = f" — {v.last_error}" if v.last_error else ""
        lines.append(f"  #{v.checkin_id} {v.action} — {v.schedule}, {when}{problem}")
    lines.append("  /checkin N snooze [days] | /checkin N change WHEN | /checkin N cancel")
    return "\n".join(lines)


def render_revisit(r: RevisitOffer) -> str:
    lines = [r.prompt]
    lines += [f"  /edit {q.id:<16} {q.label} ({q.description})" for q in r.questions]
    return "\n".join(lines)


def render(message: AnyMessage) -> str:
    """One message as text; every branch of the message model is handled."""
    match message:
        case Text():
            return f"=== {message.title} ===\n{message.text}" if message.title else message.text
        case Notice():
            prefix = {"error": "! ", "warning": "! "}.get(message.level, "* ")
            return prefix + message.text
        case Question():
            return render_question(message)
        case Recommendation():
            return render_recommendation(message)
        case PathDetail():
            return render_path(message.path, full=True)
        case Plan():
            if not message.items:
                return "Your plan is empty."
            lines = ["Your plan:"]
            for item in message.items:
                due = f" — by {item.due:%a %d %b %Y}" if item.due else ""
                lines.append(f"  [{item.status}] {item.action}{due}")
            return "\n".join(lines)
        case Status():
            lines = [
                f"{message.playbook_title}: {message.state}, "
                f"{message.position} of {message.total} questions answered."
            ]
            for i, a in enumerate(message.answers, start=1):
                lines.append(f"  {i}. {a.prompt}: {a.answer}")
            return "\n".join(lines)
        case Confirm():
            return f"{message.prompt} Type yes to confirm, anything else to keep it."
        case ExportFile():
            return message.content
        case CheckInOffer():
            return render_offer(message)
        case CheckInPrompt():
            return render_checkin_prompt(message)
        case CheckInCatchUp():
            return render_catchup(message)
        case CheckInList():
            return render_checkin_list(message)
        case TimezoneQuestion():
            return f"{message.prompt} Type /timezone Area/City, e.g. /timezone Europe/London."
        case RevisitOffer():
            return render_revisit(message)
    return str(message)
