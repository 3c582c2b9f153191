"""The consultation linter: compose advice for many people and report mechanical faults.

``lint_advice`` checks one composed ``Advice`` against the answers it came from;
``lint_playbook`` runs a playbook over a persona corpus (every answer of every question,
one at a time, from a base person) and seeded random answer sets. Used by the tests and
by ``crossroads playbook lint FILE``.
"""

from __future__ import annotations

import random
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import date
from typing import Any

from bot.advice import whatif
from bot.advice.compose import (
    _factors,
    _named_paths,
    _topics,
    compose,
    mid_sentence,
    phrase,
    sentences,
)
from bot.advice.cues import apply_cues
from bot.advice.model import Advice
from bot.advice.ranking import Answers, effective_answers, score_paths
from bot.messages import QuestionKind
from bot.playbook.conditions import evaluate
from bot.playbook.schema import Playbook

__all__ = [
    "MAX_TEXT",
    "MAX_TITLE",
    "Problem",
    "body_texts",
    "check_cards",
    "check_claims",
    "cue_phrases",
    "lint_advice",
    "lint_playbook",
    "persona_corpus",
    "random_answers",
]

# Platform limits a single text must respect to be shown whole (Slack section, Discord).
MAX_TEXT = 3000
MAX_TITLE = 256
_GRAMMAR = (
    (re.compile(r"\.\s*;"), "a '.;' join"),
    (re.compile(r"\s[,.;:]"), "a space before punctuation"),
    (re.compile(r"(?<!\.)\.\.(?!\.)"), "a doubled full stop"),  # an ellipsis is not one
    (re.compile(r"\s{2,}"), "a doubled space"),
)


@dataclass(frozen=True, slots=True)
class Problem:
    who: str
    message: str

    def __str__(self) -> str:
        return f"{self.who}: {self.message}"


def body_texts(advice: Advice) -> Iterator[tuple[str, str]]:
    """(where, text) of everything the advice itself says, in reading order."""
    for i, s in enumerate(advice.short_version):
        yield f"short[{i}]", s
    for v in advice.verdicts:
        yield f"verdict {v.path_id}", v.text
    if advice.unnamed is not None:
        yield f"unnamed {advice.unnamed.path_id}", advice.unnamed.text
    for t in advice.topics:
        yield f"topic {t.topic_id}", t.text
    for sec in advice.top:
        yield f"{sec.path_id} summary", sec.summary
        for label, items in (("reason", sec.reasons_for), ("pro", sec.pros), ("con", sec.cons)):
            for x in items:
                yield f"{sec.path_id} {label}", x
        for r in sec.risks:
            yield f"{sec.path_id} risk", r.text
            yield f"{sec.path_id} remedy", r.remedy
    if advice.confidence is not None:
        yield "confidence", advice.confidence.text
    if advice.what_if is not None:
        yield "what_if", advice.what_if.text
    for st in advice.plan:
        yield "plan", st.text


def _norm(s: str) -> str:
    return re.sub(r"[^\w]+", " ", s.casefold()).strip()


def lint_advice(pb: Playbook, answers: Answers, advice: Advice, today: date) -> list[str]:
    """Every mechanical fault of one composed advice (empty: none found)."""
    out: list[str] = []
    given = effective_answers(pb, answers)
    implied, hits = apply_cues(pb, given)
    current = effective_answers(pb, implied)

    # Nothing said twice; grammar; sizes.
    seen: dict[str, str] = {}
    for where, text in body_texts(advice):
        if not text:
            continue
        if len(text) > MAX_TEXT:
            out.append(f"{where}: {len(text)} characters, over the {MAX_TEXT} limit")
        for pattern, what in _GRAMMAR:
            if pattern.search(text):
                out.append(f"{where}: {what} in {text!r}")
        for s in sentences(text):
            key = _norm(s)
            if key in seen:
                out.append(f"{where}: says again what {seen[key]} said: {s!r}")
            seen.setdefault(key, where)
            if s[:1].islower():
                out.append(f"{where}: a sentence starts in lower case: {s!r}")
    # A route's title put into a sentence keeps no capital it only has at a sentence start.
    capitals = [p.title for p in advice.paths if mid_sentence(p.title) != p.title]
    for where, text in body_texts(advice):
        if not where.startswith(("short", "confidence", "what_if", "verdict", "unnamed")):
            continue
        for title in capitals:
            if re.search(r"[a-z,;:] " + re.escape(title), text):
                out.append(f"{where}: a mid-sentence capital in {title!r}")
    if not 2 <= len(advice.short_version) <= 4:
        out.append(f"short version has {len(advice.short_version)} sentences, not 2-4")
    for p in advice.paths:
        if len(p.title) > MAX_TITLE:
            out.append(f"path {p.path_id}: title over {MAX_TITLE} characters")

    # Plan: in date order, none in the past, none after the deadline it serves.
    dues = [s.due for s in advice.plan if s.due is not None]
    if dues != sorted(dues):
        out.append("plan steps are not in date order")
    if any(s.due is None for s in advice.plan[: len(dues)]):
        out.append("an undated step comes before a dated one")
    for s in (*advice.plan, *(st for p in advice.paths for st in p.steps)):
        if s.due is not None and s.due < today:
            out.append(f"step in the past ({s.due}): {s.text!r}")
        if s.event_date is not None and s.due is not None and s.due >= s.event_date:
            out.append(f"step due {s.due}, not before the event on {s.event_date}: {s.text!r}")
        if s.event_id:
            event = pb.event(s.event_id)
            if event is not None and not evaluate(event.when, current):
                out.append(f"step tied to {s.event_id}, which does not apply to this person")

    # Every named route has a verdict; every selected topic an answer.
    verdicts = {v.path_id for v in advice.verdicts}
    for pid in _named_paths(pb, current):
        if pid not in verdicts:
            out.append(f"named route {pid} has no verdict")
    answered = {t.topic_id for t in advice.topics if t.text.strip()}
    for t in _topics(pb, current, hits):
        if t.topic_id not in answered:
            out.append(f"selected topic {t.topic_id} has no answer")
    for v in advice.verdicts:
        if not v.text.strip():
            out.append(f"verdict for {v.path_id} is empty")

    # A factor against a route never appears as a reason for it; neutral ratings are silent.
    for view in advice.paths:
        path = pb.path(view.path_id)
        if path is None:
            continue
        against = {_norm(con) for _, a, _, con in _factors(pb, path, current) if con and a < 0}
        for r in view.reasons_for:
            if _norm(r) in against:
                out.append(f"{view.path_id}: a factor against it is given as a reason: {r!r}")
        for c in pb.criteria:
            q = pb.question(c.weight.question) if c.weight.question else None
            value = current.get(q.id) if q is not None else None
            if q is None or not isinstance(value, int):
                continue
            if value <= (q.scale_min + q.scale_max) / 2:
                label, title = mid_sentence(c.label), phrase(pb, view.path_id, current)
                words = {
                    _norm(w.replace("{criterion}", label).replace("{path}", title))
                    for w in (c.reason_for, c.reason_against, pb.wording.reason_for)
                    if w
                }
                for r in (*view.reasons_for, *view.reasons_against):
                    if _norm(r) in words:
                        out.append(f"{view.path_id}: a neutral or low rating gives a reason: {r!r}")
        if not (view.pros or view.cons or view.risks or view.reasons_for):
            out.append(f"{view.path_id}: no pros, cons, risks or reasons")

    # Every ranked path is in the overview; every left-out path says why.
    scored, dropped = score_paths(pb, current)
    if [s.path.id for s in scored] != [p.path_id for p in advice.paths]:
        out.append("the overview does not list every ranked path in order")
    for lo in advice.left_out:
        if not lo.reason.strip():
            out.append(f"left-out path {lo.path_id} does not say why")
    if len(advice.left_out) != len(dropped):
        out.append("not every left-out path is listed")

    # The what-if and decision-map claims hold when re-ranked.
    out += check_claims(pb, current, advice)
    out += check_cards(advice)
    return out


def check_cards(advice: Advice) -> list[str]:
    """The advice and every path's details, as cards, within every platform's budgets."""
    from bot.ui import budgets
    from bot.ui.advice import present_advice, present_path

    out: list[str] = []
    cards = present_advice(advice, 1)
    for p in advice.paths:
        cards += present_path(p, advice)
    for card in cards:
        out += [f"card {card.title!r}: {m}" for m in budgets.check(card)]
    for card in cards:
        for text in card.texts():
            if text.endswith("…"):
                out.append(f"card {card.title!r}: a text was cut: {text[-60:]!r}")
    return out


def check_claims(pb: Playbook, current: Answers, advice: Advice) -> list[str]:
    """Re-rank under the changed answers the advice names; the claims must hold."""
    out: list[str] = []
    top = advice.paths[0].path_id
    wi = advice.what_if
    if wi is not None and wi.question_id:
        new_top = whatif.top_id(pb, {**current, wi.question_id: wi.answer})
        if new_top != wi.path_id:
            out.append(f"what-if claims {wi.path_id}, re-ranking gives {new_top}")
        if whatif.family(pb, wi.path_id) == whatif.family(pb, top):
            out.append(f"what-if names {wi.path_id}, a sibling of {top}")
    for case in advice.cases:
        for answer in case.answers:
            new_top = whatif.top_id(pb, {**current, case.question_id: answer})
            if new_top != case.path_id:
                out.append(f"case {case.question_id}={answer} claims {case.path_id}, got {new_top}")
    return out


# --------------------------------------------------------------------------- corpus


def _sample_of(pattern: str) -> str:
    """A literal text a cue pattern matches, made by simplifying the regex (best effort)."""
    s = pattern
    s = re.sub(r"\(\?:", "(", s)
    for _ in range(3):
        s = re.sub(r"\(([^()|]*)\|[^()]*\)", r"\1", s)  # (a|b) -> a
    s = re.sub(r"\[([^\]])[^\]]*\]", r"\1", s)  # [- ] -> -
    s = re.sub(r"\\b|\^|\$", "", s)
    s = re.sub(r"\\([.\\()?*+])", r"\1", s)
    s = re.sub(r"[?*+]|\{\d+(,\d*)?\}", "", s)
    s = s.replace("(", "").replace(")", "")
    return s if re.search(pattern, s, re.IGNORECASE) else ""


def cue_phrases(pb: Playbook) -> list[str]:
    return [p for cue in pb.cues for pat in cue.match if (p := _sample_of(pat))]


def random_answers(pb: Playbook, rng: random.Random, phrases: list[str]) -> dict[str, Any]:
    """One valid set of answers, drawn in playbook order for the questions that are asked."""
    answers: dict[str, Any] = {}
    for q in pb.questions:
        if not evaluate(q.when, answers):
            continue
        if q.optional and rng.random() < 0.25:
            answers[q.id] = None
        elif q.kind == QuestionKind.SINGLE_CHOICE:
            answers[q.id] = rng.choice(q.choice_ids)
        elif q.kind == QuestionKind.MULTI_CHOICE:
            top = q.max_choices or len(q.choices)
            k = rng.randint(max(q.min_choices, 1), top)
            picked = set(rng.sample(q.choice_ids, k))
            answers[q.id] = [c for c in q.choice_ids if c in picked]
        elif q.kind == QuestionKind.SCALE:
            answers[q.id] = rng.randint(q.scale_min, q.scale_max)
        else:
            bits = rng.sample(phrases, min(len(phrases), rng.randint(0, 3))) if phrases else []
            bits = [("I do not think " + b) if rng.random() < 0.3 else b for b in bits]
            answers[q.id] = (". ".join(bits) or "Nothing else.")[: q.max_length]
    return answers


def persona_corpus(pb: Playbook) -> Iterator[tuple[str, dict[str, Any]]]:
    """A base person, then every other answer of every question, one at a time."""
    base: dict[str, Any] = {}
    for q in pb.questions:
        if not evaluate(q.when, base):
            continue
        if q.kind == QuestionKind.SINGLE_CHOICE:
            base[q.id] = q.choice_ids[0]
        elif q.kind == QuestionKind.MULTI_CHOICE:
            base[q.id] = q.choice_ids[: max(q.min_choices, 1)]
        elif q.kind == QuestionKind.SCALE:
            base[q.id] = (q.scale_min + q.scale_max) // 2
        else:
            base[q.id] = None
    yield "base", base
    for q in pb.questions:
        if q.kind == QuestionKind.FREE_TEXT:
            for phrase in cue_phrases(pb):
                yield f"{q.id}={phrase!r}", {**base, q.id: phrase}
            continue
        values: list[Any]
        if q.kind == QuestionKind.MULTI_CHOICE:
            values = [[c] for c in q.choice_ids] + [q.choice_ids[: q.max_choices or None]]
        elif q.kind == QuestionKind.SCALE:
            values = list(range(q.scale_min, q.scale_max + 1))
        else:
            values = list(q.choice_ids)
        for v in values:
            yield f"{q.id}={v}", {**base, q.id: v}


def lint_playbook(
    pb: Playbook,
    today: date,
    random_sets: int = 300,
    seed: int = 0,
    progress: Callable[[int], None] | None = None,
) -> list[Problem]:
    """Run the corpus and ``random_sets`` random people; every fault found, per person."""
    problems: list[Problem] = []
    rng = random.Random(seed)
    phrases = cue_phrases(pb)
    people = list(persona_corpus(pb))
    people += [(f"random #{i}", random_answers(pb, rng, phrases)) for i in range(random_sets)]
    for n, (who, answers) in enumerate(people, start=1):
        advice = compose(pb, answers, today)
        if advice is None:
            problems.append(Problem(who, "no path applies"))
            continue
        problems += [Problem(who, m) for m in lint_advice(pb, answers, advice, today)]
        if progress is not None:
            progress(n)
    return problems
