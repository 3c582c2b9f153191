"""Cues: patterns in free text that imply an answer, select a topic or add a route.

The intake uses ``read_cues`` to pre-fill answers from a person's story; the advice uses
``apply_cues`` so a typed worry selects the topic that answers it.
"""

from __future__ import annotations

import bisect
import re
import threading
from collections import OrderedDict
from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any

from bot.advice.textscan import Index, Scanned
from bot.messages import QuestionKind
from bot.playbook.schema import Cue, CueValue, Playbook

# A negation a few words before a match, in the same clause, turns the match around.
_NEGATION = re.compile(
    r"\b(?:not|no|never|nor|without|hardly|cannot|can't|cant|don't|dont|doesn't|doesnt|"
    r"didn't|didnt|isn't|isnt|aren't|arent|wasn't|won't|wont|wouldn't|wouldnt|"
    r"shouldn't|rather not|neither|nothing|rather than|instead of|no longer|dont|done with)\b",
    re.IGNORECASE,
)
_CLAUSE_BREAK = re.compile(r"[.;:!?,\n()]|\b(?:but|however|although|though|whereas)\b", re.I)
NEGATION_WINDOW = 8  # words before the match (in its clause) that may negate it


@lru_cache(maxsize=2048)
def _compiled(pattern: str) -> re.Pattern[str]:
    return re.compile(pattern, re.IGNORECASE)


class _Text:
    """A text prepared once for many patterns: where its clauses end (for the windows), and
    what lets most patterns be skipped or tried only where they can start (textscan)."""

    def __init__(self, raw: str) -> None:
        self.text = raw.replace("\u2019", "'").replace("\u2018", "'")
        self.breaks = [m.end() for m in _CLAUSE_BREAK.finditer(self.text)]
        self.scan = Scanned(self.text)

    def window(self, start: int) -> str:
        """The words before ``start`` in its clause (at most NEGATION_WINDOW of them)."""
        i = bisect.bisect_right(self.breaks, start) - 1
        begin = self.breaks[i] if i >= 0 else 0
        return " ".join(self.text[begin:start].split()[-NEGATION_WINDOW:])


def _window(text: str, start: int) -> str:
    return _Text(text).window(start)


# "I don't know if I need a PhD, maybe a master's in Germany": doubt, not a negation.
_DOUBT = re.compile(
    r"\b(?:don't|dont|do not|not) (?:know|sure)(?: yet)?(?: if| whether| what| which| how)?\b", re.I
)


def _negates(window: str) -> bool:
    return bool(_NEGATION.search(_DOUBT.sub(" ", window)))


@dataclass(slots=True)
class CueHits:
    """What free text implied: answers (question id -> value), topics and routes."""

    sets: list[CueValue] = field(default_factory=list)
    topics: list[str] = field(default_factory=list)
    routes: list[str] = field(default_factory=list)
    weak: list[CueValue] = field(default_factory=list)  # bare keywords: only if nothing else


def _effect(cue: Cue, t: _Text, possible: set[str]) -> tuple[bool, bool]:
    """(matched, negated): negated only when every counted match is negated, so "not
    making the best use of my time ... could I use my time better" still counts.

    ``possible``: the patterns that may match the text (the others are skipped)."""
    negated_only = False
    for pattern in cue.match:
        if pattern not in possible:
            continue
        for m in t.scan.finditer(pattern):
            window = t.window(m.start())
            if any(_compiled(p).search(window) for p in cue.not_after):
                continue
            if not _negates(window):
                return True, False
            negated_only = True
    return negated_only, negated_only


_READ: OrderedDict[tuple[int, str], tuple[Playbook, CueHits]] = OrderedDict()
READ_CACHE = 256  # texts: the same story is read at the story turn and at every ranking


def read_cues(pb: Playbook, text: str) -> CueHits:
    """Every cue that fires in ``text`` (a negated match counts as its ``negated`` value)."""
    if not text:
        return CueHits()
    key = (id(pb), text)
    cached = _READ.get(key)
    if cached is not None and cached[0] is pb:  # the playbook is kept, so its id is not reused
        _READ.move_to_end(key)
        return _copy(cached[1])
    hits = _read(pb, _Text(text))
    _READ[key] = (pb, hits)
    if len(_READ) > READ_CACHE:
        _READ.popitem(last=False)
    return _copy(hits)


def _copy(hits: CueHits) -> CueHits:
    return CueHits(list(hits.sets), list(hits.topics), list(hits.routes), list(hits.weak))


_INDEXES: OrderedDict[int, tuple[Playbook, Index]] = OrderedDict()
_INDEXES_LOCK = threading.Lock()


def _index(pb: Playbook) -> Index:
    """The playbook's cue patterns indexed by what they need (built once per playbook)."""
    with _INDEXES_LOCK:
        found = _INDEXES.get(id(pb))
        if found is not None and found[0] is pb:
            return found[1]
    made = Index([p for cue in pb.cues for p in cue.match])
    with _INDEXES_LOCK:
        _INDEXES[id(pb)] = (pb, made)
        if len(_INDEXES) > 64:
            _INDEXES.popitem(last=False)
    return made


def _read(pb: Playbook, t: _Text) -> CueHits:
    hits = CueHits()
    possible = _index(pb).candidates(t.scan)
    for cue in pb.cues:
        matched, negated = _effect(cue, t, possible)
        if not matched or any(t.scan.search(p) for p in cue.unless):
            continue
        into = hits.weak if cue.weak else hits.sets
        if negated:
            if cue.negated is not None:
                into.append(cue.negated)
            continue
        if cue.set is not None:
            into.append(cue.set)
        if cue.topic is not None and cue.topic not in hits.topics:
            hits.topics.append(cue.topic)
        if cue.route is not None and cue.route not in hits.routes:
            hits.routes.append(cue.route)
    return hits


def free_text(pb: Playbook, answers: Mapping[str, Any]) -> str:
    """All free-text answers, one clause-separated block."""
    parts = [
        str(answers[q.id])
        for q in pb.questions
        if q.kind == QuestionKind.FREE_TEXT and answers.get(q.id)
    ]
    return "\n".join(parts)


@dataclass(slots=True)
class Implied:
    """What cues imply for the unanswered questions: values, and questions left open
    because the text points two ways (two different values, or a cue and its negation)."""

    values: dict[str, Any] = field(default_factory=dict)
    conflicting: list[str] = field(default_factory=list)


def implied(
    pb: Playbook, hits: CueHits, answers: Mapping[str, Any], *, first_wins: bool
) -> Implied:
    """The answers ``hits`` imply for questions ``answers`` leaves open.

    An implied value never overrides an answer the person gave. A multiple-choice
    question collects every implied choice. For the others, conflicting cues either let
    the first one win (``first_wins``: a worry typed at the end only steers the advice) or
    leave the question to be asked (a story at the start: asking is cheap, a wrong
    pre-filled answer is not).
    """
    out = Implied()
    seen: dict[str, set[Any]] = {}
    for value in hits.sets:
        q = pb.question(value.q)
        if q is None or answers.get(q.id) is not None:
            continue
        if q.kind == QuestionKind.MULTI_CHOICE:
            picked = set(out.values.get(q.id) or ())
            picked.add(value.value)
            out.values[q.id] = [c for c in q.choice_ids if c in picked]
            continue
        seen.setdefault(q.id, set()).add(value.value)
        out.values.setdefault(q.id, value.value)
    weak: dict[str, set[Any]] = {}
    for value in hits.weak:
        q = pb.question(value.q)
        if q is None or answers.get(q.id) is not None or q.id in seen:
            continue
        if q.kind == QuestionKind.MULTI_CHOICE:
            if q.id not in out.values:  # a strong cue's choices stand alone
                weak.setdefault(q.id, set()).add(value.value)
            continue
        weak.setdefault(q.id, set()).add(value.value)
    for qid, values in weak.items():
        q = pb.question(qid)
        assert q is not None
        if q.kind == QuestionKind.MULTI_CHOICE:
            out.values[qid] = [c for c in q.choice_ids if c in values]
        elif len(values) == 1:
            out.values[qid] = next(iter(values))
        elif not first_wins:
            out.conflicting.append(qid)
    if not first_wins:
        for qid, values in seen.items():
            if len(values) > 1:
                out.values.pop(qid, None)
                out.conflicting.append(qid)
    routes_q = pb.role_question("routes")
    if routes_q is not None and hits.routes:
        current = list(answers.get(routes_q.id) or [])
        merged = [c for c in routes_q.choice_ids if c in current or c in hits.routes]
        if merged != current:
            out.values[routes_q.id] = merged
    topics_q = pb.role_question("topics")
    if topics_q is not None and hits.topics and answers.get(topics_q.id) is None:
        chosen = [c.id for c in topics_q.choices if set(c.topics) & set(hits.topics)]
        if chosen:
            out.values[topics_q.id] = chosen
    return out


def apply_cues(pb: Playbook, answers: Mapping[str, Any]) -> tuple[dict[str, Any], CueHits]:
    """Answers with what the free text implies filled in, and the hits.

    An implied value fills a question left unanswered (or adds a choice to a
    multiple-choice answer); the first cue for a question wins. Routes named in the text
    join the answer to the routes question.
    """
    hits = read_cues(pb, free_text(pb, answers))
    found = implied(pb, hits, answers, first_wins=True)
    out = dict(answers)
    for qid, value in found.values.items():
        q = pb.question(qid)
        if q is not None and q.role == "topics":
            continue  # topics reach the advice as hits, not as an answer the person gave
        out[qid] = value
    return out, hits


def story_answers(pb: Playbook, text: str, answers: Mapping[str, Any]) -> tuple[Implied, CueHits]:
    """What a story implies for the questions not answered yet (conflicts left to ask)."""
    hits = read_cues(pb, text)
    return implied(pb, hits, answers, first_wins=False), hits
