"""Composing the advice a person reads: a pure function of (playbook, answers, today).

Reading order (ADVICE.md): the short version; a verdict for each route the person named,
then the strong route they did not name; an answer to each selected topic; reasons, pros,
cons and risks of the top routes; how sure this is and what would change it; the dated
plan. Every ranked path keeps its own full view for "details". No sentence is said twice.
"""

from __future__ import annotations

import re
from datetime import date
from functools import lru_cache
from typing import Any

from bot.advice import whatif
from bot.advice.cues import CueHits, apply_cues
from bot.advice.model import (
    Advice,
    Case,
    Confidence,
    Headings,
    LeftOut,
    Level,
    PathView,
    RiskItem,
    Section,
    TopicAnswer,
    Verdict,
    WhatIf,
)
from bot.advice.plan import build_plan, path_steps
from bot.advice.ranking import (
    MIN_REASON,
    Answers,
    drop_reason,
    effective_answers,
    scored_paths,
    visible_questions,
    weights,
)
from bot.messages import QuestionKind
from bot.playbook.conditions import evaluate
from bot.playbook.schema import Path, Playbook, PlaybookQuestion

TOP_SECTIONS = 2  # routes whose pros, cons and risks the advice itself shows
MAX_REASONS = 3
_SENTENCE_END = re.compile(r"(?<=[.!?])\s+(?=[A-Z0-9“\"'(])")
_SPACES = re.compile(r"\s+")


# --------------------------------------------------------------------------- words


def mid_sentence(text: str) -> str:
    """A title as it reads inside a sentence: "A PhD in ML" -> "a PhD in ML".

    The first letter is lowered only when the first word has no other capital (so "PhD",
    "ML", "CERN" stay as they are).
    """
    text = text.strip()
    first = text.split(" ", 1)[0]
    if len(first) > 1 and any(c.isupper() for c in first[1:]):
        return text
    return text[:1].lower() + text[1:]


def cap(text: str) -> str:
    text = text.strip()
    return text[:1].upper() + text[1:]


# The text helpers below are pure functions of a string, called a few hundred times per
# recommendation mostly on the playbook's own sentences: each result is kept (bounded).
@lru_cache(maxsize=8192)
def sentence(text: str) -> str:
    """Whitespace collapsed, a capital first, a full stop last."""
    text = _SPACES.sub(" ", text).strip()
    if not text:
        return ""
    text = cap(text)
    if not text.endswith((".", "!", "?", "…", ")", "”", '"')):
        text += "."
    return text


def sentences(text: str) -> list[str]:
    return list(_sentences(text))


@lru_cache(maxsize=8192)
def _sentences(text: str) -> tuple[str, ...]:
    return tuple(s for s in _SENTENCE_END.split(_SPACES.sub(" ", text).strip()) if s)


def first_sentence(text: str) -> str:
    parts = _sentences(text)
    return parts[0] if parts else ""


_NOT_WORD = re.compile(r"[^\w]+")


@lru_cache(maxsize=8192)
def _norm(s: str) -> str:
    return _NOT_WORD.sub(" ", s.casefold()).strip()


class Said:
    """Everything said so far; ``fresh`` drops the sentences already said."""

    def __init__(self) -> None:
        self._seen: set[str] = set()

    def fresh(self, text: str) -> str:
        kept = []
        for s in _sentences(text):
            key = _norm(s)
            if key and key not in self._seen:
                self._seen.add(key)
                kept.append(s)
        return " ".join(kept)


def _quoted(labels: list[str]) -> str:
    return " or ".join(f"“{label}”" for label in labels)


# --------------------------------------------------------------------------- reasons


def _title(path: Path, answers: Answers) -> tuple[str, str]:
    for variant in path.variants:
        if evaluate(variant.when, answers):
            return variant.title or path.title, (variant.summary or path.summary).strip()
    return path.title, path.summary.strip()


def _factors(pb: Playbook, path: Path, answers: Answers) -> list[tuple[str, float, str, str]]:
    """(key, amount, reason for, reason against) of every term of the path's score.

    A criterion speaks only when the person's rating of it is above the scale midpoint
    (it matters to them): a neutral or low rating never yields a reason.
    """
    out: list[tuple[str, float, str, str]] = []
    w = weights(pb, answers)
    for c in pb.criteria:
        rating = path.ratings.get(c.id)
        if rating is None:
            continue
        weight = w[c.id][0]
        amount = weight * rating
        q = pb.question(c.weight.question) if c.weight.question else None
        if q is not None:
            value = answers.get(q.id)
            cares = isinstance(value, int) and value > (q.scale_min + q.scale_max) / 2
            if not cares:
                out.append((f"c:{c.id}", amount, "", ""))
                continue
            label = mid_sentence(c.label)
            pro = c.reason_for or pb.wording.reason_for.format(criterion=label)
            con = c.reason_against or pb.wording.reason_against.format(criterion=label)
        else:  # a fixed weight: the person said nothing about it; only authored reasons
            pro, con = c.reason_for, c.reason_against
        title = phrase(pb, path.id, answers)
        out.append(
            (
                f"c:{c.id}",
                amount,
                pro.replace("{path}", title) if rating > 0 else "",
                con.replace("{path}", title) if rating < 0 else "",
            )
        )
    for i, adj in enumerate(path.adjust):
        if evaluate(adj.when, answers):
            text = adj.because.strip()
            pro, con = (text, "") if adj.score > 0 else ("", text)
            out.append((f"a:{path.id}:{i}", adj.score, pro, con))
    return out


def reasons(
    pb: Playbook, path: Path, answers: Answers, against: Path | None = None
) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """(reasons for, reasons against) a path, largest first.

    With ``against``, the reasons for are those by which the path beats that one (what
    decides between them), falling back to its own strongest reasons.
    """
    mine = _factors(pb, path, answers)
    theirs = {k: a for k, a, _, _ in _factors(pb, against, answers)} if against else {}
    pros = [(a - theirs.get(k, 0.0), p) for k, a, p, _ in mine if p and a >= MIN_REASON]
    if against is not None:
        deciding = [(gap, p) for gap, p in pros if gap >= MIN_REASON]
        pros = deciding or pros
    cons = [(-a, c) for _, a, _, c in mine if c and -a >= MIN_REASON]
    pros.sort(key=lambda t: -t[0])
    cons.sort(key=lambda t: -t[0])
    return (
        tuple(sentence(p) for _, p in pros[:MAX_REASONS]),
        tuple(sentence(c) for _, c in cons[:MAX_REASONS]),
    )


def _texts(items: list[Any], answers: Answers) -> tuple[str, ...]:
    return tuple(sentence(i.text) for i in items if evaluate(i.when, answers))


def _risks(path: Path, answers: Answers) -> tuple[RiskItem, ...]:
    return tuple(
        RiskItem(text=sentence(r.text), remedy=sentence(r.remedy) if r.remedy else "")
        for r in path.risks
        if evaluate(r.when, answers)
    )


# --------------------------------------------------------------------------- changes


def change_words(pb: Playbook, q: PlaybookQuestion, value: Any, current: Any) -> str:
    w = pb.wording
    if q.kind == QuestionKind.SCALE:
        return w.change_scale.format(question=q.label, answer=value, current=current)
    if q.kind == QuestionKind.MULTI_CHOICE:
        return w.change_multi.format(question=q.label, answer=q.describe(value))
    return w.change_single.format(
        question=q.label, answer=q.describe(value), current=q.describe(current)
    )


def _path_title(pb: Playbook, path_id: str, answers: Answers) -> str:
    path = pb.path(path_id)
    return _title(path, answers)[0] if path is not None else path_id


def phrase(pb: Playbook, path_id: str, answers: Answers) -> str:
    """The route as it reads mid-sentence: its (variant's) ``phrase``, else its title."""
    path = pb.path(path_id)
    if path is None:
        return path_id
    for variant in path.variants:
        if evaluate(variant.when, answers):
            if variant.phrase:
                return variant.phrase.strip()
            if variant.title:
                return mid_sentence(variant.title)
            break
    return path.phrase.strip() or mid_sentence(path.title)


def _flip_to(changes: list[whatif.Change], target: str) -> whatif.Change | None:
    best: whatif.Change | None = None
    for change in changes:
        if change.top == target and (
            best is None or (change.cost, change.index) < (best.cost, best.index)
        ):
            best = change
    return best


def _what_if(pb: Playbook, answers: Answers, changes: list[whatif.Change], lead: str) -> WhatIf:
    change = whatif.family_flip(pb, answers, changes, also_not=(lead,))
    if change is None:
        return WhatIf(text=sentence(pb.wording.what_if_none))
    q = change.question
    new_answers = {**answers, q.id: change.value}
    title = phrase(pb, change.top, new_answers)
    words = change_words(pb, q, change.value, answers[q.id])
    label = pb.family_label(whatif.family(pb, change.top))
    if label:
        text = pb.wording.what_if.format(change=words, family=label, path=title)
    else:
        text = pb.wording.short_flip.format(change=words, path=title)
    return WhatIf(text=sentence(text), question_id=q.id, answer=change.value, path_id=change.top)


# --------------------------------------------------------------------------- composition


def _deciding_question(pb: Playbook, answers: Answers) -> PlaybookQuestion | None:
    """The first key question the person left undecided."""
    for q in visible_questions(pb, answers):
        if q.key and answers.get(q.id) in q.undecided:
            return q
    return None


def _named_paths(pb: Playbook, answers: Answers) -> list[str]:
    routes_q = pb.role_question("routes")
    if routes_q is None:
        return []
    picked = answers.get(routes_q.id) or []
    if isinstance(picked, str):
        picked = [picked]
    out: list[str] = []
    for choice in routes_q.choices:
        if choice.id in picked:
            out += [pid for pid in choice.paths if pid not in out]
    return out


def _topics(pb: Playbook, answers: Answers, hits: CueHits) -> list[TopicAnswer]:
    chosen: dict[str, str] = {}
    topics_q = pb.role_question("topics")
    if topics_q is not None:
        picked = answers.get(topics_q.id) or []
        for choice in topics_q.choices:
            if choice.id in picked:
                for tid in choice.topics:
                    chosen.setdefault(tid, "choice")
    for tid in hits.topics:
        chosen.setdefault(tid, "cue")
    for t in pb.topics:
        if t.when is not None and evaluate(t.when, answers):
            chosen.setdefault(t.id, "rule")
    out = []
    for t in pb.topics:
        if t.id not in chosen:
            continue
        entry = next((a for a in t.answer if evaluate(a.when, answers)), None)
        if entry is None:
            continue
        out.append(
            TopicAnswer(
                topic_id=t.id,
                title=t.title.strip(),
                text=_SPACES.sub(" ", entry.text).strip(),
                path_ids=tuple(t.paths),
                selected_by=chosen[t.id],
            )
        )
    return out


def compose(pb: Playbook, answers: Answers, today: date) -> Advice | None:
    """The advice for these answers, or None when no path applies to the person."""
    given = effective_answers(pb, answers)
    implied, hits = apply_cues(pb, given)
    current = effective_answers(pb, implied)
    scored, dropped = scored_paths(pb, current, 0)  # the views give their own reasons
    if not scored:
        return None
    w = pb.wording
    by_id = {s.path.id: s for s in scored}
    order = [s.path.id for s in scored]
    count = len(order)

    def title(pid: str) -> str:
        return _path_title(pb, pid, current)

    def mid(pid: str) -> str:
        return phrase(pb, pid, current)

    # Every ranked path, in full.
    views: list[PathView] = []
    for rank_no, s in enumerate(scored, start=1):
        t, summary = _title(s.path, current)
        against = scored[1].path if rank_no == 1 and count > 1 else None
        pros_r, cons_r = reasons(pb, s.path, current, against)
        views.append(
            PathView(
                path_id=s.path.id,
                family=whatif.family(pb, s.path.id),
                rank=rank_no,
                title=t,
                summary=summary,
                score=s.score,
                reasons_for=pros_r,
                reasons_against=cons_r,
                pros=_texts(s.path.pros, current),
                cons=_texts(s.path.cons, current),
                risks=_risks(s.path, current),
                steps=tuple(path_steps(pb, s.path, current, today)),
            )
        )
    top = views[0]
    second = views[1] if count > 1 else None
    margin = top.score - second.score if second else float("inf")
    close = second is not None and margin < pb.close_margin
    changes = list(whatif.single_changes(pb, current))

    # The short version, and the decision map when the answer depends on something.
    said = Said()
    short: list[str] = []
    cases: list[Case] = []
    keep = ""
    deciding = _deciding_question(pb, current)
    conditional = False
    if deciding is not None:
        branches = whatif.decision_map(pb, current, deciding)
        if len({b.path_id for b in branches}) > 1:
            conditional = True
            keep = whatif.keep_open(pb, current, deciding) or top.path_id
            for b in branches:
                labels = [deciding.choice_label(c) for c in b.answers]
                cases.append(
                    Case(
                        question_id=deciding.id,
                        answers=b.answers,
                        answer_labels=tuple(labels),
                        path_id=b.path_id,
                        title=title(b.path_id),
                    )
                )
            lines = [w.short_depends.format(question=deciding.label)]
            lines += [
                w.short_case.format(answer=_quoted(list(c.answer_labels)), path=mid(c.path_id))
                for c in cases
            ]
            lines.append(w.short_keep_open.format(path=mid(keep)))
            if len(lines) > 4:
                lines = lines[1:]
            if len(lines) > 4:
                lines = [*lines[:3], lines[-1]]
            short = lines
        else:
            short = [
                w.short_any_case.format(question=deciding.label, path=mid(top.path_id)),
                first_sentence(top.summary),
            ]
    if not short and close and second is not None:
        conditional = True
        short = [
            w.short_close.format(first=mid(top.path_id), second=mid(second.path_id)),
            w.short_lead.format(path=mid(top.path_id)),
        ]
        if top.reasons_for:
            short.append(top.reasons_for[0])
        flip = _flip_to(changes, second.path_id)
        if flip is not None:
            words = change_words(pb, flip.question, flip.value, current[flip.question.id])
            short.append(w.short_flip.format(change=words, path=mid(second.path_id)))
    if not short:
        short = [w.short_lead.format(path=mid(top.path_id)), first_sentence(top.summary)]
        if top.reasons_for:
            short.append(top.reasons_for[0])
        if second is not None:
            short.append(w.short_next.format(path=mid(second.path_id)))
    short = [s for s in (sentence(said.fresh(sentence(line))) for line in short[:4]) if s]
    # The route the advice recommends now: while the deciding answer is open, the one that
    # keeps the most doors open; otherwise the top of the ranking.
    lead = keep if cases and keep else top.path_id
    deciding_id = deciding.id if deciding is not None else ""

    # Verdicts: every named route, then the strong route they did not name.
    named = _named_paths(pb, current)
    verdicts: list[Verdict] = []
    dropped_ids = {p.id: p for p in dropped}
    for pid in named:
        path = pb.path(pid)
        if path is None:
            continue
        if pid in dropped_ids:
            why = drop_reason(path, current) or path.summary
            text = said.fresh(sentence(why)) or sentence(why)
            verdicts.append(Verdict(path_id=pid, title=path.title, text=text, rank=None))
            continue
        rank_no = order.index(pid) + 1
        entry = next((v for v in path.verdict if evaluate(v.when, current)), None)
        body = sentence(entry.text) if entry else sentence(views[rank_no - 1].summary)
        if pid == lead:
            tail = w.verdict_top
        elif rank_no == 2 and order[0] == lead:
            tail = w.verdict_second.format(lead=mid(lead), rank=rank_no, count=count)
        else:
            tail = w.verdict_rank.format(rank=rank_no, count=count, lead=mid(lead))
        said_tail = sentence(tail) if tail else ""
        text = said.fresh(f"{body} {said_tail}".strip()) or said_tail or body
        verdicts.append(Verdict(path_id=pid, title=title(pid), text=text, rank=rank_no))
    unnamed = None
    if named and lead not in named:
        path = by_id[lead].path
        lead_view = views[order.index(lead)]
        entry = next((v for v in path.verdict if evaluate(v.when, current)), None)
        body = sentence(entry.text) if entry else sentence(lead_view.summary)
        text = said.fresh(f"{body} {sentence(w.verdict_top)}") or sentence(w.verdict_top)
        unnamed = Verdict(
            path_id=lead, title=lead_view.title, text=text, named=False, rank=lead_view.rank
        )

    # The person's questions.
    topics = []
    for t in _topics(pb, current, hits):
        text = said.fresh(t.text) or t.text
        topics.append(t.model_copy(update={"text": text}))

    # Pros, cons and risks of the top routes (and of the route that keeps doors open).
    top_ids: list[str] = []
    wanted = [lead, *(c.path_id for c in cases)] if cases else order[:TOP_SECTIONS]
    for pid in wanted:
        if pid and pid not in top_ids and len(top_ids) < TOP_SECTIONS + 1:
            top_ids.append(pid)
    sections: list[Section] = []
    for pid in top_ids:
        v = views[order.index(pid)]
        reasons_for = tuple(x for r in v.reasons_for if (x := said.fresh(r)))
        pros = tuple(x for p in v.pros if (x := said.fresh(p)))
        cons = tuple(x for c in (*v.reasons_against, *v.cons) if (x := said.fresh(c)))
        risks = tuple(
            RiskItem(text=t, remedy=said.fresh(r.remedy) if r.remedy else "")
            for r in v.risks
            if (t := said.fresh(r.text))
        )
        sections.append(
            Section(
                path_id=pid,
                title=v.title,
                summary=said.fresh(v.summary),
                reasons_for=reasons_for,
                pros=pros,
                cons=cons,
                risks=risks,
            )
        )

    # How sure, and what would change it.
    flips = whatif.flips(pb, current, changes)
    if cases and deciding is not None:
        level = Level.CLOSE if close else Level.LEAD
        conf = w.confidence_depends.format(question=deciding.label)
    elif close and second is not None:
        level = Level.CLOSE
        conf = w.confidence_close.format(first=mid(top.path_id), second=mid(second.path_id))
    elif flips == 0:
        level = Level.CLEAR
        conf = w.confidence_clear.format(path=mid(top.path_id))
    else:
        level = Level.LEAD
        conf = w.confidence_some.format(path=mid(top.path_id), n=flips)
    confidence = Confidence(
        level=level,
        text=sentence(said.fresh(sentence(conf)) or conf),
        margin=round(margin, 4) if second else 0.0,
        flips=flips,
    )
    # While the deciding answer is open the cases already say what it changes.
    others = [c for c in changes if not (cases and c.question.id == deciding_id)]
    what = _what_if(pb, current, others, lead)
    what = what.model_copy(update={"text": said.fresh(what.text)})  # "" if already said

    # The plan: the top route first, then the route that keeps doors open and the cases.
    plan_order = [lead, top.path_id, *(c.path_id for c in cases), *order]
    seen: list[str] = []
    for pid in plan_order:
        if pid and pid in by_id and pid not in seen:
            seen.append(pid)
    plan = build_plan(pb, [by_id[pid].path for pid in seen], current, today)

    left_out = tuple(
        LeftOut(path_id=p.id, title=p.title, reason=sentence(drop_reason(p, current)))
        for p in dropped
    )
    return Advice(
        playbook_id=pb.id,
        playbook_version=pb.version,
        playbook_title=pb.title,
        today=today,
        short_version=tuple(short),
        conditional=conditional,
        deciding_question=deciding.id if deciding is not None and cases else "",
        cases=tuple(cases),
        keep_open=keep,
        verdicts=tuple(verdicts),
        unnamed=unnamed,
        topics=tuple(topics),
        top=tuple(sections),
        confidence=confidence,
        what_if=what,
        plan=plan,
        paths=tuple(views),
        left_out=left_out,
        headings=Headings(
            short=w.heading_short,
            verdicts=w.heading_verdicts,
            unnamed=w.heading_unnamed,
            topics=w.heading_topics,
            pros=w.heading_pros,
            cons=w.heading_cons,
            risks=w.heading_risks,
            plan=w.heading_plan,
            overview=w.heading_overview,
            left_out=w.heading_left_out,
            confidence=w.heading_confidence,
            what_if=w.heading_what_if,
        ),
        answers=dict(current),
    )
