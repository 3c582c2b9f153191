"""The short version of a recommendation, as plain-text pieces with explicit budgets.

Chat platforms cap message sizes, and a card that is cut off by the platform loses its
ending (often the next steps). Adapters therefore render the short card from a
:class:`Digest`, whose every piece is already clipped to a budget that fits, with room to
spare, both of these at once:

* Discord: message content <= 2,000 characters; at most 10 embeds per message, together
  <= 6,000 characters; embed title <= 256, description <= 4,096, field name <= 256,
  field value <= 1,024.
* Slack: at most 50 blocks; section text <= 3,000 characters; header text <= 150;
  button text <= 75.

Sizes are counted in UTF-16 code units (what both platforms count, and never fewer than
Python's ``len``). The pieces are plain text: no Markdown, no mentions. Text a person typed
never goes into a digest, so escaping by an adapter cannot push a piece over its budget
(adapters still escape, since playbook text may contain ``*`` or ``<``).

The layout the budgets are made for: one headline (Discord embed title / Slack header),
one block per path (title as field name or bold line, paragraph as field value or
section), one block each for "why this order" and "what would change this", and one for
the next steps. That is at most 1 + MAX_PATHS + 3 = 8 embeds or sections.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date

from bot.messages import NextStep, Plan, Recommendation

# ---- budgets, in UTF-16 code units -------------------------------------------------
HEADLINE_MAX = 150  # Slack header block limit; well under Discord's 256 title limit
TITLE_MAX = 75  # a path title must fit a Slack button or select option (75)
PARAGRAPH_MAX = 700  # per path: summary + top reason; < Discord field value (1,024)
REASON_MAX = 300  # the top reason inside a paragraph
WHY_MAX = 600  # "why this order", < field value 1,024
CHANGE_MAX = 450  # "what would change this"
STEP_MAX = 160  # one next step, due date included
MAX_PATHS = 4
MAX_STEPS = 5
FALLBACK_MAX = 1900  # the whole short card as one plain message (Discord content <= 2,000)
# Every piece together, leaving >= 500 units of Discord's 6,000 for an adapter's own
# labels ("Why this order", "Next steps", numbering, footers).
TOTAL_MAX = 5500
WORST_CASE = (
    HEADLINE_MAX
    + MAX_PATHS * (TITLE_MAX + PARAGRAPH_MAX)
    + WHY_MAX
    + CHANGE_MAX
    + MAX_STEPS * STEP_MAX
)
assert WORST_CASE <= TOTAL_MAX, "the digest budgets must add up to at most TOTAL_MAX"

ELLIPSIS = "…"
_SPACE = re.compile(r"\s+")


def units(text: str) -> int:
    """Length as Discord and Slack count it (UTF-16 code units)."""
    return len(text.encode("utf-16-le")) // 2


def clip(text: str, limit: int) -> str:
    """Collapse whitespace and cut to at most ``limit`` units, at a word if possible."""
    text = _SPACE.sub(" ", text).strip()
    if units(text) <= limit:
        return text
    if limit < 1:
        return ""
    budget = limit - units(ELLIPSIS)
    cut = text[:budget]  # units >= len, so this is the longest candidate
    while cut and units(cut) > budget:  # astral characters count twice
        cut = cut[:-1]
    space = cut.rfind(" ")
    if space >= len(cut) * 2 // 3:
        cut = cut[:space]
    return cut.rstrip(" ,;:-") + ELLIPSIS


@dataclass(frozen=True, slots=True)
class PathDigest:
    rank: int
    path_id: str
    title: str  # <= TITLE_MAX
    paragraph: str  # <= PARAGRAPH_MAX: the summary, then the main reason


@dataclass(frozen=True, slots=True)
class StepDigest:
    text: str  # <= STEP_MAX, the due date already written in ("… (by 16 Mar 2026)")
    due: date | None = None


@dataclass(frozen=True, slots=True)
class Digest:
    headline: str
    paths: tuple[PathDigest, ...]
    why_order: str
    what_would_change: str
    next_steps: tuple[StepDigest, ...]
    more_paths: int = 0  # shown paths left out of the digest (see the full card)

    def pieces(self) -> list[str]:
        """Every text piece, for budget checks."""
        out = [self.headline, self.why_order, self.what_would_change]
        for p in self.paths:
            out += [p.title, p.paragraph]
        out += [s.text for s in self.next_steps]
        return out

    def total_units(self) -> int:
        return sum(units(p) for p in self.pieces())

    def fallback_text(self) -> str:
        """The whole digest as one plain message of at most FALLBACK_MAX units.

        For a medium with one text field (Discord content, Slack's notification text,
        a terminal). Lines are dropped from the end, never cut in the middle.
        """
        lines = [self.headline]
        for p in self.paths:
            lines.append(f"{p.rank}. {p.title}")
        if self.paths:
            lines.append(clip(self.paths[0].paragraph, 400))
        if self.why_order:
            lines.append("Why this order: " + self.why_order)
        if self.what_would_change:
            lines.append("What would change this: " + self.what_would_change)
        if self.next_steps:
            lines.append("Next steps:")
            lines += [f"- {s.text}" for s in self.next_steps]
        text = ""
        for line in lines:
            candidate = f"{text}\n{line}" if text else line
            if units(candidate) > FALLBACK_MAX:
                break
            text = candidate
        return text


def _step_text(step: NextStep) -> StepDigest:
    if step.due is None:
        return StepDigest(clip(step.text, STEP_MAX))
    tail = f" (by {step.due.day} {step.due:%b %Y})"
    return StepDigest(clip(step.text, STEP_MAX - units(tail)) + tail, step.due)


def _paragraph(summary: str, reason: str) -> str:
    reason = clip(reason, REASON_MAX) if reason else ""
    if not reason:
        return clip(summary, PARAGRAPH_MAX)
    lead = "Main reason for you: "
    room = PARAGRAPH_MAX - units(lead) - units(reason) - 1
    return f"{clip(summary, room)} {lead}{reason}"


def _steps(rec: Recommendation, steps: Sequence[NextStep] | Plan | None) -> list[NextStep]:
    if isinstance(steps, Plan):
        return [NextStep(i.action, i.due) for i in steps.items if i.status == "open"]
    if steps is not None:
        return list(steps)
    out: list[NextStep] = []
    for path in rec.paths:  # the same rule as the stored plan: top paths until three steps
        out += [s for s in path.next_steps if s not in out]
        if len(out) >= 3:
            break
    return out


def build_digest(rec: Recommendation, steps: Sequence[NextStep] | Plan | None = None) -> Digest:
    """The short card for ``rec``; ``steps`` defaults to the plan rule over its paths."""
    shown = rec.paths[:MAX_PATHS]
    paths = tuple(
        PathDigest(
            rank=p.rank,
            path_id=p.path_id,
            title=clip(p.title, TITLE_MAX),
            paragraph=_paragraph(p.summary, _top_reason(p.reasons, p.pros)),
        )
        for p in shown
    )
    if rec.paths:
        headline = clip(f"Best fit for you: {rec.paths[0].title}", HEADLINE_MAX)
    else:
        headline = clip(rec.playbook_title.strip() or "No path fits your answers", HEADLINE_MAX)
    return Digest(
        headline=headline,
        paths=paths,
        why_order=clip(" ".join(rec.why_order), WHY_MAX),
        what_would_change=clip(rec.what_would_change, CHANGE_MAX),
        next_steps=tuple(_step_text(s) for s in _steps(rec, steps)[:MAX_STEPS]),
        more_paths=max(0, len(rec.paths) - len(shown)),
    )


def _top_reason(reasons: Iterable[str], pros: Iterable[str]) -> str:
    """The first reason that says something, else the first pro."""
    return next((t for t in [*reasons, *pros] if t.strip()), "")
