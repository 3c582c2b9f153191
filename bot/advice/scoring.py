"""Path scores from a playbook compiled once, and re-scored under one changed answer.

The what-if search (``whatif``, ``ranking.what_would_change``) re-ranks every path under
every other answer of every question: about fifty rankings per recommendation, each of which
used to evaluate every question's and every path's conditions again. A ``Scorer`` compiles a
playbook's conditions once and knows which questions each condition reads; a ``State`` holds
one set of answers with everything derived from it, and ``Scorer.change`` re-evaluates only
the conditions that read an answer the change moved (the changed question, and the questions
it shows or hides). Sums are taken in the same order and rounded the same way as
``ranking.score_paths``, so every score, tie and order is the one a full re-ranking gives.

Everything here is a pure function of (playbook, answers): playbook versions are immutable,
and the caches are keyed by the playbook object (held, so its id is not reused) and by the
answers' values.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Mapping
from dataclasses import dataclass, field
from itertools import compress
from typing import Any

from bot.playbook.conditions import Test, compiled, references
from bot.playbook.schema import Playbook, PlaybookQuestion

Answers = Mapping[str, Any]
Order = tuple[tuple[str, float], ...]


def freeze(answers: Answers) -> tuple[Any, ...]:
    """A hashable key equal only for answers every condition reads alike (types included)."""
    return tuple((k, type(v), tuple(v) if isinstance(v, list) else v) for k, v in answers.items())


def _same(a: Any, b: Any) -> bool:
    return type(a) is type(b) and a == b


@dataclass(frozen=True, slots=True)
class _PathTerms:
    index: int
    id: str
    base: float
    when: Test | None
    when_reads: frozenset[str]
    ratings: tuple[tuple[str, float], ...]
    adjust: tuple[tuple[float, Test, frozenset[str]], ...]
    adjust_scores: tuple[float, ...]


@dataclass(slots=True)
class State:
    """One set of answers (as given, before hidden questions are dropped) and its ranking."""

    answers: dict[str, Any]
    shown: list[bool]
    effective: dict[str, Any]
    weights: dict[str, float]
    applies: list[bool]
    holds: list[tuple[bool, ...]]
    scores: list[float]
    order: Order
    ranked: tuple[int, ...]  # the paths of ``order``, as indexes into the playbook's paths
    changes: dict[tuple[str, type, Any], Order] = field(default_factory=dict)


class Scorer:
    STATES = 16  # answer sets kept per playbook (one recommendation uses a handful)

    def __init__(self, pb: Playbook) -> None:
        self.pb = pb
        self.question_ids = tuple(q.id for q in pb.questions)
        self.shown_tests = tuple(
            compiled(q.when) if q.when is not None else None for q in pb.questions
        )
        shown_by: dict[str, list[int]] = {}
        for i, q in enumerate(pb.questions):
            for qid in references(q.when):
                shown_by.setdefault(qid, []).append(i)
        self.shown_by = {k: tuple(v) for k, v in shown_by.items()}
        self.index = {qid: i for i, qid in enumerate(self.question_ids)}
        criteria: list[tuple[str, str | None, float, int, int]] = []
        for c in pb.criteria:
            wq = pb.question(c.weight.question) if c.weight.question else None
            if wq is None:
                criteria.append((c.id, None, c.weight.value, 0, 1))
            else:
                criteria.append((c.id, wq.id, c.weight.value, wq.scale_min, wq.scale_max))
        self.criteria = tuple(criteria)
        self.weight_questions = frozenset(qid for _, qid, _, _, _ in criteria if qid is not None)
        paths: list[_PathTerms] = []
        reads: dict[str, set[int]] = {}
        for i, p in enumerate(pb.paths):
            adjust = tuple((a.score, compiled(a.when), references(a.when)) for a in p.adjust)
            terms = _PathTerms(
                index=i,
                id=p.id,
                base=p.base,
                when=compiled(p.when) if p.when is not None else None,
                when_reads=references(p.when),
                ratings=tuple(p.ratings.items()),
                adjust=adjust,
                adjust_scores=tuple(a.score for a in p.adjust),
            )
            paths.append(terms)
            for qid in terms.when_reads.union(*(r for _, _, r in adjust)):
                reads.setdefault(qid, set()).add(i)
        self.paths = tuple(paths)
        self.path_ids = tuple(p.id for p in paths)
        self.path_reads = {k: frozenset(v) for k, v in reads.items()}
        # (question id, path index) -> the path's adjustments whose conditions read it
        self.adjust_reads: dict[tuple[str, int], tuple[int, ...]] = {}
        for terms in paths:
            for j, (_, _, reads_q) in enumerate(terms.adjust):
                for qid in reads_q:
                    key = (qid, terms.index)
                    self.adjust_reads[key] = (*self.adjust_reads.get(key, ()), j)
        self._states: OrderedDict[tuple[Any, ...], State] = OrderedDict()
        self._lock = threading.Lock()  # a SQLite unit may run in the store's worker thread

    # ------------------------------------------------------------------ visibility

    def shown(self, answers: Answers) -> list[bool]:
        return [t is None or t(answers) for t in self.shown_tests]

    def visible(self, answers: Answers) -> list[PlaybookQuestion]:
        """``ranking.visible_questions``."""
        return [
            q
            for q, t in zip(self.pb.questions, self.shown_tests, strict=True)
            if t is None or t(answers)
        ]

    def effective(self, answers: Answers) -> dict[str, Any]:
        """``ranking.effective_answers``."""
        return self._effective(answers, self.shown(answers))

    def _effective(self, answers: Answers, shown: list[bool]) -> dict[str, Any]:
        return {
            qid: answers[qid]
            for qid, s in zip(self.question_ids, shown, strict=True)
            if s and qid in answers
        }

    # ------------------------------------------------------------------ scores

    def weight_values(self, answers: Answers) -> dict[str, float]:
        """The number ``ranking.weights`` gives each criterion (its reason aside)."""
        out: dict[str, float] = {}
        for cid, qid, value, low, high in self.criteria:
            if qid is None:
                out[cid] = value
                continue
            given = answers.get(qid)
            if isinstance(given, int):
                out[cid] = value * ((given - low) / (high - low))
            else:
                out[cid] = value * 0.5
        return out

    @staticmethod
    def _total(p: _PathTerms, weights: dict[str, float], holds: tuple[bool, ...]) -> float:
        amounts = [weights[crit] * rating for crit, rating in p.ratings]
        amounts += compress(p.adjust_scores, holds)
        return round(p.base + sum(amounts), 4)

    def _order(self, applies: list[bool], scores: list[float]) -> tuple[Order, tuple[int, ...]]:
        ranked = [(-scores[i], i) for i, a in enumerate(applies) if a]
        ranked.sort()
        ids = self.path_ids
        return tuple((ids[i], -neg) for neg, i in ranked), tuple(i for _, i in ranked)

    def state(self, answers: Answers) -> State:
        """The ranking of ``answers`` (as ``whatif.ranked``: hidden questions' answers
        dropped first), kept for the changes after it."""
        return self._state(answers, hide=True)

    def as_given(self, answers: Answers) -> State:
        """The ranking of ``answers`` as they are (as ``ranking.score_paths``)."""
        return self._state(answers, hide=False)

    def _state(self, answers: Answers, *, hide: bool) -> State:
        key = (hide, *freeze(answers))
        with self._lock:
            found = self._states.get(key)
            if found is not None:
                self._states.move_to_end(key)
                return found
        given = dict(answers)
        shown = self.shown(given)
        current = self._effective(given, shown) if hide else given
        weights = self.weight_values(current)
        applies: list[bool] = []
        holds: list[tuple[bool, ...]] = []
        scores: list[float] = []
        for p in self.paths:
            ok = p.when is None or p.when(current)
            h = tuple(t(current) for _, t, _ in p.adjust) if ok else ()
            applies.append(ok)
            holds.append(h)
            scores.append(self._total(p, weights, h) if ok else 0.0)
        made = State(
            given, shown, current, weights, applies, holds, scores, *self._order(applies, scores)
        )
        with self._lock:
            self._states[key] = made
            if len(self._states) > self.STATES:
                self._states.popitem(last=False)
        return made

    def change(self, base: State, qid: str, value: Any) -> Order:
        """The ranking of ``{**base.answers, qid: value}``, from what that change can move.

        ``base`` is a ``state`` (hidden questions' answers dropped), not an ``as_given``."""
        key = (qid, type(value), tuple(value) if isinstance(value, list) else value)
        found = base.changes.get(key)
        if found is not None:
            return found
        given = {**base.answers, qid: value}
        shown = base.shown
        moved = [qid]
        for i in self.shown_by.get(qid, ()):
            now = (t := self.shown_tests[i]) is None or t(given)
            if now != shown[i]:
                if shown is base.shown:
                    shown = list(shown)
                shown[i] = now
                moved.append(self.question_ids[i])
        current = dict(base.effective)
        for k in moved:
            if shown[self.index[k]] and k in given:
                current[k] = given[k]
            else:
                current.pop(k, None)
        changed = {k for k in moved if not _same(current.get(k), base.effective.get(k))}
        if not changed:
            base.changes[key] = base.order
            return base.order
        reweigh = not changed.isdisjoint(self.weight_questions)
        weights = self.weight_values(current) if reweigh else base.weights
        touched: set[int] = set()
        for k in changed:
            touched.update(self.path_reads.get(k, ()))
        applies, scores = base.applies, base.scores
        if touched or reweigh:
            applies, scores = list(applies), list(scores)
            for p in self.paths:
                i = p.index
                if i in touched:
                    ok = applies[i]
                    if p.when is not None and not changed.isdisjoint(p.when_reads):
                        ok = p.when(current)
                    if not ok:
                        applies[i] = False
                        continue
                    if base.applies[i]:  # re-evaluate the adjustments that read a change
                        redo = {j for k in changed for j in self.adjust_reads.get((k, i), ())}
                        old = base.holds[i]
                        h = (
                            tuple(
                                p.adjust[j][1](current) if j in redo else old[j]
                                for j in range(len(old))
                            )
                            if redo
                            else old
                        )
                    else:
                        h = tuple(t(current) for _, t, _ in p.adjust)
                    applies[i] = True
                    scores[i] = self._total(p, weights, h)
                elif reweigh and applies[i]:
                    scores[i] = self._total(p, weights, base.holds[i])
        order, _ = self._order(applies, scores)
        base.changes[key] = order
        return order


_SCORERS: OrderedDict[int, Scorer] = OrderedDict()
_SCORERS_LOCK = threading.Lock()
SCORERS = 64


def scorer(pb: Playbook) -> Scorer:
    """The playbook's scorer, built once per playbook object."""
    with _SCORERS_LOCK:
        found = _SCORERS.get(id(pb))
        if found is not None and found.pb is pb:  # it holds pb, so the id is not reused
            _SCORERS.move_to_end(id(pb))
            return found
    made = Scorer(pb)
    with _SCORERS_LOCK:
        _SCORERS[id(pb)] = made
        if len(_SCORERS) > SCORERS:
            _SCORERS.popitem(last=False)
    return made
