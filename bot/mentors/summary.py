"""What a mentor may see of a consultation: a pure function of the playbook, the answers
and the stored recommendation.

Only the playbook's own words and the labels of the choices a person picked go in it;
nothing a person typed in their own words (a story, a worry, constraints) ever does, so
the summary cannot carry a name, an address or anything else they did not pick from a
list. The person sees this summary word for word before they say yes (docs/privacy.md).
"""

from __future__ import annotations

from typing import Any

from bot.advice import visible_questions
from bot.advice.model import Advice
from bot.messages import AnswerSummary, MentorSummary, QuestionKind
from bot.playbook.schema import Playbook
from bot.snapshots import payload_to_advice

TOP_FAMILIES = 2  # the families of the top routes a request is tagged with
ASKED = ("choice", "cue")  # topics the person picked or their story raised (not the rules')


def summarise(
    pb: Playbook, answers: dict[str, Any], payload: dict[str, Any]
) -> tuple[MentorSummary, tuple[str, ...]]:
    """The summary to share and the request's tags (path families and topic ids)."""
    advice = payload_to_advice(payload)
    background = tuple(
        AnswerSummary(q.id, q.label, q.describe(answers[q.id]))
        for q in visible_questions(pb, answers)
        if q.role is None
        and q.kind != QuestionKind.FREE_TEXT
        and answers.get(q.id) not in (None, "", [])
    )
    if advice is not None:
        routes = tuple(v.title for v in advice.verdicts if v.named)
        questions = tuple(t.title for t in advice.topics if t.selected_by in ASKED)
        short = " ".join(advice.short_version)
    else:
        routes = _picked_labels(pb, answers, "routes")
        questions = _picked_labels(pb, answers, "topics")
        top = (payload.get("paths") or [{}])[0]
        short = f"{top.get('title', '')}: {top.get('summary', '')}".strip(": ")
    summary = MentorSummary(pb.title, background, routes, short, questions)
    return summary, _tags(pb, answers, advice)


def _picked_labels(pb: Playbook, answers: dict[str, Any], role: str) -> tuple[str, ...]:
    q = pb.role_question(role)
    if q is None:
        return ()
    picked = answers.get(q.id) or []
    picked = [picked] if isinstance(picked, str) else picked
    return tuple(c.label for c in q.choices if c.id in picked and (c.paths or c.topics))


def _tags(pb: Playbook, answers: dict[str, Any], advice: Advice | None) -> tuple[str, ...]:
    out: list[str] = []
    if advice is not None:
        families = {p.path_id: p.family for p in advice.paths}
        named = [v.path_id for v in advice.verdicts if v.named]
        for path_id in [p.path_id for p in advice.paths[:TOP_FAMILIES]] + named:
            family = families.get(path_id) or _family(pb, path_id)
            if family and family not in out:
                out.append(family)
        asked = [t.topic_id for t in advice.topics if t.selected_by in ASKED]
        out += [t for t in asked if t not in out]
        return tuple(out)
    topics_q = pb.role_question("topics")
    picked = (answers.get(topics_q.id) or []) if topics_q is not None else []
    for choice in topics_q.choices if topics_q is not None else ():
        if choice.id in picked:
            out += [t for t in choice.topics if t not in out]
    return tuple(out)


def _family(pb: Playbook, path_id: str) -> str:
    path = next((p for p in pb.paths if p.id == path_id), None)
    return pb.family_of(path) if path is not None else ""


def known_tags(playbooks: list[Playbook]) -> dict[str, str]:
    """Every tag a mentor can be given: path families and topic ids, with their labels."""
    out: dict[str, str] = {}
    for pb in playbooks:
        for family in pb.families:
            out.setdefault(family.id, family.label)
        for topic in pb.topics:
            out.setdefault(topic.id, topic.title)
    return out


def to_json(summary: MentorSummary) -> dict[str, Any]:
    return {
        "playbook_title": summary.playbook_title,
        "background": [[a.question_id, a.prompt, a.answer] for a in summary.background],
        "routes": list(summary.routes),
        "short_version": summary.short_version,
        "questions": list(summary.questions),
    }


def from_json(raw: dict[str, Any]) -> MentorSummary:
    return MentorSummary(
        str(raw.get("playbook_title") or ""),
        tuple(AnswerSummary(str(q), str(p), str(a)) for q, p, a in raw.get("background") or ()),
        tuple(str(r) for r in raw.get("routes") or ()),
        str(raw.get("short_version") or ""),
        tuple(str(q) for q in raw.get("questions") or ()),
    )
