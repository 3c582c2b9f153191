"""Ranking paths from answers, and explaining the ranking in the person's own terms.

Everything here is a pure function of (playbook, answers, today): the engine stores what
it returns, and tests can call it directly.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any

from bot.advice.scoring import scorer
from bot.messages import NextStep, PathAdvice, QuestionKind
from bot.playbook.conditions import Condition, evaluate
from bot.playbook.schema import Path, Playbook, PlaybookQuestion

Answers = Mapping[str, Any]
MIN_REASON = 0.25  # contributions smaller than this are not worth a sentence


def visible_questions(pb: Playbook, answers: Answers) -> list[PlaybookQuestion]:
    """The questions this person is asked, given what they answered so far."""
    return scorer(pb).visible(answers)


def effective_answers(pb: Playbook, answers: Answers) -> dict[str, Any]:
    """Answers to questions that are still asked: a changed answer can hide a later question."""
    return scorer(pb).effective(answers)


@dataclass(frozen=True, slots=True)
class Factor:
    """One thing that moved a path's score, and the sentence that says why."""

    key: str
    amount: float
    reason: str


@dataclass(frozen=True, slots=True)
class ScoredPath:
    path: Path
    score: float
    factors: tuple[Factor, ...]


@dataclass(frozen=True, slots=True)
class Ranking:
    paths: tuple[PathAdvice, ...]
    why_order: tuple[str, ...]
    what_would_change: str
    dropped: tuple[str, ...] = ()
    notes: tuple[str, ...] = ()
    next_steps: tuple[NextStep, ...] = field(default_factory=tuple)


def _cite(pb: Playbook, cond: Condition, answers: Answers) -> str:
    """Name the answers a rule looked at, so a reason points at what the person said."""
    cited: list[str] = []
    for leaf in cond.leaves():
        q = pb.question(leaf.q or "")
        if q is not None and leaf.q in answers:
            text = f"{q.label}: {q.describe(answers[leaf.q])}"
            if text not in cited:
                cited.append(text)
    return f" (you said {'; '.join(cited)})" if cited else ""


def weights(pb: Playbook, answers: Answers) -> dict[str, tuple[float, str]]:
    out: dict[str, tuple[float, str]] = {}
    for c in pb.criteria:
        wq = pb.question(c.weight.question) if c.weight.question else None
        if wq is None:
            out[c.id] = (c.weight.value, "")
            continue
        value = answers.get(wq.id)
        if isinstance(value, int):
            share = (value - wq.scale_min) / (wq.scale_max - wq.scale_min)
            out[c.id] = (c.weight.value * share, f"you rated it {value} of {wq.scale_max}")
        else:
            out[c.id] = (c.weight.value * 0.5, "")
    return out


def _in_sentence(label: str) -> str:
    """Lower-case a label's first letter for use mid-sentence, unless it starts an acronym."""
    if len(label) > 1 and label[1].isupper():
        return label
    return label[:1].lower() + label[1:]


def _path_factors(
    pb: Playbook,
    path: Path,
    answers: Answers,
    crit_weights: dict[str, tuple[float, str]],
    labels: dict[str, str],
) -> tuple[Factor, ...]:
    factors: list[Factor] = []
    for crit, rating in path.ratings.items():
        weight, why = crit_weights[crit]
        amount = weight * rating
        verb = "serves" if amount > 0 else "costs you on"
        tail = f" ({why})" if why else ""
        factors.append(
            Factor(f"c:{crit}", amount, f"It {verb} {_in_sentence(labels[crit])}{tail}.")
        )
    for i, adj in enumerate(path.adjust):
        if evaluate(adj.when, answers):
            reason = adj.because.rstrip(".") + _cite(pb, adj.when, answers) + "."
            factors.append(Factor(f"a:{path.id}:{i}", adj.score, reason))
    return tuple(factors)


def score_paths(pb: Playbook, answers: Answers) -> tuple[list[ScoredPath], list[Path]]:
    """Score every path that applies to this person; return (ranked, dropped)."""
    return scored_paths(pb, answers, len(pb.paths))


def scored_paths(
    pb: Playbook, answers: Answers, explained: int
) -> tuple[list[ScoredPath], list[Path]]:
    """``score_paths``, with the factors (the sentences) of only the first ``explained``
    paths; the others have none. Scores and order come from the playbook's scorer, summed
    as ``path.base`` plus each factor's amount in order (ratings, then adjustments)."""
    state = scorer(pb).as_given(answers)
    crit_weights = weights(pb, answers) if explained else {}
    labels = {c.id: c.label for c in pb.criteria}
    scored: list[ScoredPath] = []
    for n, (i, (_, score)) in enumerate(zip(state.ranked, state.order, strict=True)):
        path = pb.paths[i]
        factors = _path_factors(pb, path, answers, crit_weights, labels) if n < explained else ()
        scored.append(ScoredPath(path, score, factors))
    dropped = [p for p, applies in zip(pb.paths, state.applies, strict=True) if not applies]
    return scored, dropped


def _top_id(pb: Playbook, answers: Answers) -> str | None:
    """The leading path only (ties: the earlier path), as score_paths would order them."""
    order = scorer(pb).state(answers).order
    return order[0][0] if order else None


def _title(path: Path, answers: Answers) -> tuple[str, str]:
    for variant in path.variants:
        if evaluate(variant.when, answers):
            return variant.title or path.title, variant.summary or path.summary
    return path.title, path.summary


def what_would_change(pb: Playbook, answers: Answers) -> str:
    """Find the single answer that, changed, would put another path first.

    Tries every other value of every answered question, nearest first, and reports the
    smallest change that flips the top path; computed, never canned.
    """
    current = effective_answers(pb, answers)
    ranks = scorer(pb)
    state = ranks.state(current)
    top = state.order[0][0] if state.order else None
    best: tuple[int, int, PlaybookQuestion, Any, str] | None = None
    for index, q in enumerate(visible_questions(pb, current)):
        if q.id not in current or q.kind == QuestionKind.FREE_TEXT or not q.what_if:
            continue
        for distance, alternative in enumerate(q.alternatives(current[q.id]), start=1):
            cost = abs(alternative - current[q.id]) if q.kind == QuestionKind.SCALE else distance
            if best is not None and (cost, index) >= best[:2]:
                continue
            order = ranks.change(state, q.id, alternative)
            new_top = order[0][0] if order else None
            if new_top is not None and new_top != top:
                best = (cost, index, q, alternative, new_top)
                break
    if best is None:
        return (
            "No single different answer would change the top path: it leads on several of "
            "your answers at once."
        )
    _, _, q, alternative, new_top = best
    path = next(p for p in pb.paths if p.id == new_top)
    new_answers = {**current, q.id: alternative}
    return (
        f"If your answer to “{q.label}” were “{q.describe(alternative)}” instead of "
        f"“{q.describe(current[q.id])}”, {_title(path, new_answers)[0]} would come first."
    )


def _why_order(first: ScoredPath, second: ScoredPath | None, title: str) -> list[str]:
    if second is None:
        return [f"{title} is the only path that fits what you told me."]
    theirs = {f.key: f.amount for f in second.factors}
    gaps = sorted(
        (f for f in first.factors if f.amount - theirs.get(f.key, 0.0) >= MIN_REASON),
        key=lambda f: -(f.amount - theirs.get(f.key, 0.0)),
    )
    reasons = [f.reason for f in gaps[:3]]
    if not reasons:
        reasons = ["The two leading paths are close; neither wins clearly on what you told me."]
    return reasons


def drop_reason(path: Path, answers: Answers) -> str:
    """Why a path is not shown: the first matching ``dropped_reasons`` entry, else the default."""
    for reason in path.dropped_reasons:
        if evaluate(reason.when, answers):
            return reason.text.strip()
    return path.dropped_because.strip()


def _texts(items: list[Any], answers: Answers) -> tuple[str, ...]:
    return tuple(i.text.strip() for i in items if evaluate(i.when, answers))


def rank(pb: Playbook, answers: Answers, today: date) -> Ranking:
    """The full recommendation: ranked, explained, with next steps dated from ``today``."""
    current = effective_answers(pb, answers)
    # Reasons for the paths shown and the two _why_order compares; scores for all.
    scored, dropped = scored_paths(pb, current, max(pb.max_paths_shown, 2))
    shown = scored[: pb.max_paths_shown]
    advice: list[PathAdvice] = []
    for rank_no, s in enumerate(shown, start=1):
        title, summary = _title(s.path, current)
        reasons = tuple(
            f.reason
            for f in sorted(s.factors, key=lambda f: -abs(f.amount))
            if abs(f.amount) >= MIN_REASON
        )[:4]
        steps = tuple(
            NextStep(
                st.text.strip(),
                today + timedelta(days=st.due_in_days) if st.due_in_days is not None else None,
            )
            for st in s.path.next_steps
            if evaluate(st.when, current)
        )
        advice.append(
            PathAdvice(
                path_id=s.path.id,
                rank=rank_no,
                title=title,
                summary=summary.strip(),
                score=s.score,
                reasons=reasons,
                pros=_texts(s.path.pros, current),
                cons=_texts(s.path.cons, current),
                risks=_texts(s.path.risks, current),
                next_steps=steps,
            )
        )
    plan: list[NextStep] = []
    for path in advice:
        for step in path.next_steps:
            if len(plan) < pb.max_next_steps and step not in plan:
                plan.append(step)
        if len(plan) >= 3:
            break
    top_title = advice[0].title if advice else ""
    notes = tuple(
        f"You noted ({q.label}): {current[q.id]}"
        for q in visible_questions(pb, current)
        if q.kind == QuestionKind.FREE_TEXT and current.get(q.id)
    )
    return Ranking(
        paths=tuple(advice),
        why_order=tuple(_why_order(scored[0], scored[1] if len(scored) > 1 else None, top_title))
        if scored
        else (),
        what_would_change=what_would_change(pb, current) if scored else "",
        dropped=tuple(
            f"{p.title}: {why}" if (why := drop_reason(p, current)) else p.title for p in dropped
        ),
        notes=notes,
        next_steps=tuple(plan),
    )
