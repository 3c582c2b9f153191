"""The composed advice as cards (reading order of ADVICE.md), and any ranked path's details.

Order: the short version; a verdict for each route the person named, then the strong
route they did not name; an answer to each of their questions; for the top routes what
speaks for and against them and their risks with what to do; how sure this is and what
would change it; the dated plan; an overview of every ranked path with a details action,
and the left-out paths with their reasons. Headings come from the playbook's wording.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from bot.advice.compose import first_sentence, mid_sentence
from bot.advice.model import Advice, PathView, RiskItem
from bot.messages import PlanItemView
from bot.ui import intents as it
from bot.ui.blocks import action, actions, bullets, fields, pack, prose, steps
from bot.ui.budgets import ACTIONS_MAX, INTERACTIVE_MAX, ITEM_MAX, TITLE_MAX, clip, units
from bot.ui.cards import Card, Section


def _items(items: Iterable[str], heading: str = "") -> list[Section]:
    """Bullets when every item fits a bullet, otherwise paragraphs (never cut a sentence)."""
    items = [i for i in items if i]
    if not items:
        return []
    if all(units(i) <= ITEM_MAX for i in items):
        return bullets(items, heading)
    out: list[Section] = []
    for i, item in enumerate(items):
        out += prose(item, heading if i == 0 else "")
    return out


def _risk(r: RiskItem) -> str:
    return f"{r.text} {r.remedy}".strip()


def _first_sentence(text: str) -> str:
    return first_sentence(text) or text


def advice_sections(
    advice: Advice, consultation_id: int, plan: Sequence[PlanItemView] | None = None
) -> list[Section]:
    h = advice.headings
    out: list[Section] = [*prose(" ".join(advice.short_version), h.short)]
    if advice.verdicts:
        out += fields(((v.title, v.text) for v in advice.verdicts), h.verdicts)
    if advice.unnamed is not None:
        out += fields([(advice.unnamed.title, advice.unnamed.text)], h.unnamed)
    for t in advice.topics:
        out += prose(t.text, t.title)
    for sec in advice.top:
        head = sec.title
        if sec.summary:
            out += prose(sec.summary, head)
            head = ""
        parts = [
            (h.pros, [*sec.reasons_for, *sec.pros]),
            (h.cons, list(sec.cons)),
            (h.risks, [_risk(r) for r in sec.risks]),
        ]
        for heading, items in parts:
            if items:
                out += _items(items, head or heading)  # the route's title heads its first part
                head = ""
    if advice.confidence is not None and advice.confidence.text:
        out += prose(advice.confidence.text, h.confidence)
    if advice.what_if is not None and advice.what_if.text:
        out += prose(advice.what_if.text, h.what_if)
    if plan is not None:
        out += steps(((i.action, i.due, i.status) for i in plan), h.plan)  # with progress
    else:
        out += steps(((s.text, s.due, "open") for s in advice.plan), h.plan)
    out += overview_sections(advice, consultation_id)
    return out


def overview_sections(advice: Advice, consultation_id: int) -> list[Section]:
    """Every ranked path, compactly, each with an action to open its details."""
    h = advice.headings
    out = fields(
        ((f"{p.rank}. {p.title}", _first_sentence(p.summary)) for p in advice.paths), h.overview
    )
    if advice.left_out:
        out += _items(
            [f"{lo.title}: {mid_sentence(lo.reason)}" for lo in advice.left_out], h.left_out
        )
    limit = ACTIONS_MAX * (INTERACTIVE_MAX - 1)
    out += actions(
        [
            action(
                f"{p.rank}. {p.title}",
                it.OpenPath(consultation=consultation_id, path=p.path_id),
                f"details {p.rank}",
            )
            for p in advice.paths[:limit]
        ]
    )
    return out


def present_advice(
    advice: Advice, consultation_id: int, plan: Sequence[PlanItemView] | None = None
) -> list[Card]:
    """The whole advice as cards within every platform's budgets."""
    return pack(
        clip(advice.playbook_title, TITLE_MAX), advice_sections(advice, consultation_id, plan)
    )


def path_sections(view: PathView, advice: Advice) -> list[Section]:
    h = advice.headings
    out: list[Section] = [*prose(view.summary)]
    out += _items([*view.reasons_for, *view.pros], h.pros)
    out += _items([*view.reasons_against, *view.cons], h.cons)
    out += _items([_risk(r) for r in view.risks], h.risks)
    out += steps(((s.text, s.due, "open") for s in view.steps), h.plan)
    return out


def present_path(view: PathView, advice: Advice) -> list[Card]:
    """Everything about one ranked path ("details"), whatever its rank."""
    return pack(clip(f"{view.rank}. {view.title}", TITLE_MAX), path_sections(view, advice))


def advice_markdown(advice: Advice) -> list[str]:
    """The advice as Markdown lines, in reading order (for the export)."""
    from bot.ui.cards import Bullets, Fields, Prose, Steps

    lines: list[str] = []
    for section in advice_sections(advice, 0):
        heading = getattr(section, "heading", "")
        if heading:
            lines += ["", f"#### {heading}", ""]
        match section:
            case Prose():
                lines.append(section.text)
            case Bullets():
                lines += [f"- {item}" for item in section.items]
            case Fields():
                lines += [f"- **{f.name}**: {f.value}" for f in section.items]
            case Steps():
                lines += [
                    f"- {st.text}" + (f" (by {st.due:%Y-%m-%d})" if st.due else "")
                    for st in section.items
                ]
    return lines
