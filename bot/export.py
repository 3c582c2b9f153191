"""A person's data as one Markdown document: what they told us and what we advised."""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session

from bot.advice import visible_questions
from bot.mentors.summary import from_json
from bot.messages import ExportFile
from bot.playbook.schema import Playbook
from bot.snapshots import payload_to_advice
from bot.store import checkins_repo, mentors_repo
from bot.store import repository as repo
from bot.store.models import User
from bot.ui.advice import advice_markdown

PlaybookLookup = Callable[[Session, str, int], Playbook]
_SAFE = re.compile(r"[^A-Za-z0-9_-]+")


def _md(text: str) -> str:
    """Keep user text from turning into Markdown structure (headings, links, HTML)."""
    out = text.replace("\\", "\\\\")
    for ch in "`*_[]<>#|":
        out = out.replace(ch, "\\" + ch)
    return out.replace("\n", " ")


def export_markdown(
    s: Session, user: User, playbook_for: PlaybookLookup, now: datetime
) -> ExportFile:
    lines = [
        "# Your Crossroads data",
        "",
        f"Exported {now:%Y-%m-%d %H:%M} UTC for {_md(user.platform)} user "
        f"{_md(user.platform_user_id)} ({_md(user.tenant)}).",
    ]
    if user.timezone:
        lines.append(f"Time zone: {user.timezone}.")
    if user.quiet_start and user.quiet_end:
        lines.append(f"Quiet hours: {user.quiet_start}-{user.quiet_end} (local time).")
    for c in repo.user_consultations(s, user.id):
        pb = playbook_for(s, c.playbook_id, c.playbook_version)
        lines += [
            "",
            f"## {pb.title} (consultation {c.id}, {c.status})",
            "",
            f"Started {c.created_at:%Y-%m-%d}; playbook {pb.id} version {c.playbook_version}.",
        ]
        lines += answers_section(s, c.id, c.answers or {}, pb)
        snap = repo.latest_snapshot(s, c.id)
        if snap is not None:
            lines += ["", f"### Recommendation (shown {snap.created_at:%Y-%m-%d})", ""]
            advice = payload_to_advice(snap.payload)
            if advice is not None:
                lines += advice_markdown(advice)
            for p in snap.payload["paths"] if advice is None else ():
                lines.append(f"{p['rank']}. **{p['title']}** — {p['summary']}")
                for label, key in (("Pros", "pros"), ("Cons", "cons"), ("Risks", "risks")):
                    for item in p[key]:
                        lines.append(f"   - {label}: {item}")
            if advice is None and snap.payload.get("why_order"):
                lines += ["", "Why this order: " + " ".join(snap.payload["why_order"])]
            if advice is None and snap.payload.get("what_would_change"):
                lines += ["", "What would change it: " + snap.payload["what_would_change"]]
        items = repo.plan_items(s, c.id)
        if items:
            lines += ["", "### Plan", ""]
            for item in items:
                due = f" (by {item.due_date:%Y-%m-%d})" if item.due_date else ""
                box = "x" if item.status == "done" else " "
                lines.append(f"- [{box}] {item.action}{due} — {item.status}")
    lines += checkins_section(s, user)
    lines += mentors_section(s, user)
    lines.append("")
    return ExportFile(export_filename(user.platform, user.platform_user_id), "\n".join(lines))


def export_filename(platform: str, user_id: str) -> str:
    """A file name that is only a name: no folders, no dots to climb, no odd characters."""
    safe = "-".join(
        _SAFE.sub("_", part).strip("._-")[:40] or "user" for part in (platform, user_id)
    )
    return f"crossroads-{safe}.md"


def _describe(pb: Playbook, question_id: str, value: Any) -> tuple[str, str]:
    q = pb.question(question_id)
    label = q.label if q else question_id
    if value is None:
        return label, "(skipped)"
    return label, q.describe(value) if q else str(value)


def answers_section(
    s: Session, consultation_id: int, current: dict[str, Any], pb: Playbook
) -> list[str]:
    """The answers as they stand now, in question order; then every change, oldest first."""
    history = repo.answer_history(s, consultation_id)
    given = {r.question_id: r for r in history if r.superseded_at is None}
    lines = ["", "### Current answers", ""]
    shown = [q.id for q in visible_questions(pb, current) if q.id in current]
    for qid in shown:
        label, answer = _describe(pb, qid, current[qid])
        record = given.get(qid)
        when = f" (since {record.answered_at:%Y-%m-%d})" if record is not None else ""
        if record is not None and record.source == "story":
            when = f" (taken from your story, {record.answered_at:%Y-%m-%d})"
        lines.append(f"- {_md(label)}: {_md(answer)}{when}")
    if not shown:
        lines.append("- (none yet)")
    changed = [r for r in history if r.superseded_at is not None]
    if changed:
        lines += ["", "### Earlier answers, since changed", ""]
        for r in changed:
            label, answer = _describe(pb, r.question_id, r.value)
            told = " (from your story)" if r.source == "story" else ""
            lines.append(
                f"- {r.answered_at:%Y-%m-%d %H:%M} UTC, {_md(label)}: {_md(answer)}{told} "
                f"(replaced {r.superseded_at:%Y-%m-%d %H:%M} UTC)"
            )
    hidden = [qid for qid in current if qid not in shown]
    if hidden:
        lines += ["", "### Kept but not used (the questions no longer apply)", ""]
        for qid in hidden:
            label, answer = _describe(pb, qid, current[qid])
            lines.append(f"- {_md(label)}: {_md(answer)}")
    return lines


def checkins_section(s: Session, user: User) -> list[str]:
    """Every check-in ever set, with its schedule, state and what became of each one."""
    rows = checkins_repo.user_checkins(s, user.id, states=None)
    if not rows:
        return []
    history = checkins_repo.outcomes(s, [r.id for r in rows])
    lines = ["", "## Check-ins", ""]
    for r in rows:
        every = f"every {r.interval_days} days" if r.kind == "repeat" else "once"
        nxt = ""
        if r.state == "pending" and r.local_due is not None:
            nxt = f"; next {r.local_due:%Y-%m-%d %H:%M} (your local time)"
        error = f"; last problem: {_md(r.last_error)}" if r.last_error else ""
        lines.append(f"- {_md(r.action) or '(step removed)'} — {every}, {r.state}{nxt}{error}")
        for outcome, at in history[r.id]:
            lines.append(f"   - {at:%Y-%m-%d %H:%M} UTC: {outcome.replace('_', ' ')}")
    return lines


def mentors_section(s: Session, user: User) -> list[str]:
    """Every mentor request, with exactly what it shared and where it stands."""
    requests = mentors_repo.user_requests(s, user.id)
    if not requests:
        return []
    lines = ["", "## Mentor requests", ""]
    for r in requests:
        copied = "; check-in answers copied to the mentor" if r.copy_checkins else ""
        lines.append(
            f"- Asked {r.created_at:%Y-%m-%d} for consultation {r.consultation_id}: {r.state}"
            f"{copied}. Shared with the mentors channel:"
        )
        shared = from_json(r.summary or {})
        for a in shared.background:
            lines.append(f"   - {_md(a.prompt)}: {_md(a.answer)}")
        for route in shared.routes:
            lines.append(f"   - Route you are weighing: {_md(route)}")
        if shared.short_version:
            lines.append(f"   - The advice, in short: {_md(shared.short_version)}")
        for question in shared.questions:
            lines.append(f"   - Your question: {_md(question)}")
    return lines
