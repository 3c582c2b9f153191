"""The what-if and decision-map claims, checked against an exhaustive search.

For every possible set of answers to two small playbooks, an independent scorer written
here (the playbook's sums, nothing from bot.advice) re-ranks the paths under every single
changed answer. The advice's claims must agree with it exactly:

* "If your answer to X were Y, Z would come first" (ranking.what_would_change): Z comes
  first after that change, and no cheaper single change (a scale moved by fewer steps, a
  choice nearer in the list, then an earlier question) puts another path first; when none
  does, the advice says so.
* The composed what-if (whatif.family_flip): the smallest change that puts a route of a
  different family first, or the "nothing would" sentence when there is no such change.
* The decision map: each decisive answer of the undecided key question leads to the path
  the search finds first for it, grouped in the order of the choices; the route kept open
  is the one whose worst rank across those answers is best.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterator
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import pytest

from bot.advice import compose, whatif
from bot.advice.ranking import rank, what_would_change
from bot.messages import QuestionKind
from bot.playbook.conditions import evaluate
from bot.playbook.loader import load_playbook, parse_playbook
from bot.playbook.schema import Playbook, PlaybookQuestion

TODAY = date(2026, 3, 2)

# Four paths in three families (two share one); ties at equal scores; a scale whose nearest
# flip is one step UP (second in the "nearest first" list); a path that wins on a fact no
# what-if may change.
WHATIF_YAML = """
id: whatif-test
version: 1
title: What-if test
intro: Hi.
families:
  - {id: study, label: "more study"}
  - {id: work, label: "a job"}
  - {id: gap, label: "a gap year"}
questions:
  - id: track
    kind: single_choice
    short: track
    prompt: Which track?
    key: true
    undecided: [open]
    choices:
      - {id: a, label: Track A}
      - {id: b, label: Track B}
      - {id: c, label: Track C}
      - {id: open, label: Not sure}
  - id: effort
    kind: scale
    short: effort
    prompt: How much effort?
    scale_min: 1
    scale_max: 5
  - id: tools
    kind: multi_choice
    short: tools
    prompt: Which tools?
    min_choices: 1
    max_choices: 2
    choices:
      - {id: x, label: Tool X}
      - {id: y, label: Tool Y}
      - {id: z, label: Tool Z}
  - id: locked
    kind: single_choice
    short: locked
    prompt: Locked in?
    what_if: false
    choices:
      - {id: "yes", label: "Yes"}
      - {id: "no", label: "No"}
criteria:
  - id: effort
    label: Effort
    weight: {question: effort, value: 2}
  - id: flat
    label: Flat
    weight: {value: 1}
paths:
  - id: alpha
    title: Alpha
    summary: The alpha route.
    family: study
    ratings: {effort: 1}
    adjust:
      - {when: {q: track, is: a}, score: 1.0, because: Track A suits it}
      - {when: {q: tools, has: x}, score: 0.5, because: Tool X helps}
  - id: beta
    title: Beta
    summary: The beta route.
    family: study
    base: 0.5
    ratings: {effort: -1, flat: 0.5}
    adjust:
      - {when: {q: track, in: [c, open]}, score: 1.0, because: Track C suits it}
  - id: gamma
    title: Gamma
    summary: The gamma route.
    family: work
    ratings: {flat: 1}
    adjust:
      - {when: {q: tools, has_any: [y, z]}, score: 0.75, because: Tools Y and Z help}
      - {when: {q: locked, is: "yes"}, score: 5, because: You are locked in}
  - id: delta
    title: Delta
    summary: The delta route.
    family: gap
    when: {q: locked, is: "no"}
    base: 1.0
    adjust:
      - {when: {q: track, is: b}, score: 0.5, because: Track B suits it}
"""
WHATIF = parse_playbook(WHATIF_YAML, "whatif-test")
TINY = load_playbook(Path(__file__).parent / "playbooks" / "tiny.yaml")


# ------------------------------------------------------------------ the independent search


def _effective(pb: Playbook, answers: dict[str, Any]) -> dict[str, Any]:
    return {
        q.id: answers[q.id] for q in pb.questions if evaluate(q.when, answers) and q.id in answers
    }


def _weight(pb: Playbook, crit_id: str, answers: dict[str, Any]) -> float:
    crit = next(c for c in pb.criteria if c.id == crit_id)
    if not crit.weight.question:
        return crit.weight.value
    q = pb.question(crit.weight.question)
    assert q is not None
    value = answers.get(q.id)
    if not isinstance(value, int):
        return crit.weight.value / 2
    return crit.weight.value * (value - q.scale_min) / (q.scale_max - q.scale_min)


_ORDERS: dict[tuple[int, str], list[str]] = {}


def search_order(pb: Playbook, answers: dict[str, Any]) -> list[str]:
    """Every applicable path, best first; equal scores keep the playbook's order."""
    key = (id(pb), repr(sorted(answers.items())))
    if key not in _ORDERS:
        if len(_ORDERS) > 100_000:
            _ORDERS.clear()
        _ORDERS[key] = _search_order(pb, answers)
    return list(_ORDERS[key])


def _search_order(pb: Playbook, answers: dict[str, Any]) -> list[str]:
    current = _effective(pb, answers)
    scored = []
    for i, path in enumerate(pb.paths):
        if not evaluate(path.when, current):
            continue
        total = path.base
        total += sum(_weight(pb, c, current) * r for c, r in path.ratings.items())
        total += sum(a.score for a in path.adjust if evaluate(a.when, current))
        scored.append((-round(total, 4), i, path.id))
    return [pid for _, _, pid in sorted(scored)]


def search_top(pb: Playbook, answers: dict[str, Any]) -> str | None:
    order = search_order(pb, answers)
    return order[0] if order else None


def cost(q: PlaybookQuestion, alternative: Any, current: Any, position: int) -> int:
    """Scale answers cost the steps moved; choices cost their place in the nearest-first list."""
    if q.kind == QuestionKind.SCALE:
        return abs(alternative - current)
    return position


def family(pb: Playbook, pid: str) -> str:
    path = pb.path(pid)
    assert path is not None
    return path.family or f"path:{pid}"


def every_answer_set(pb: Playbook) -> Iterator[dict[str, Any]]:
    """Every combination of answers the engine could store (free text left out)."""
    domains: list[list[Any]] = []
    for q in pb.questions:
        if q.kind == QuestionKind.SINGLE_CHOICE:
            domains.append(list(q.choice_ids))
        elif q.kind == QuestionKind.SCALE:
            domains.append(list(range(q.scale_min, q.scale_max + 1)))
        elif q.kind == QuestionKind.MULTI_CHOICE:
            top = q.max_choices or len(q.choices)
            sets = [
                list(combo)
                for n in range(max(q.min_choices, 1), top + 1)
                for combo in itertools.combinations(q.choice_ids, n)
            ]
            domains.append(sets)
        else:
            domains.append([None])
    for values in itertools.product(*domains):
        answers = {q.id: v for q, v in zip(pb.questions, values, strict=True) if v is not None}
        yield _effective(pb, answers)


def unique_answer_sets(pb: Playbook) -> list[dict[str, Any]]:
    seen: dict[str, dict[str, Any]] = {}
    for answers in every_answer_set(pb):
        seen.setdefault(repr(sorted(answers.items())), answers)
    return list(seen.values())


def visible(pb: Playbook, answers: dict[str, Any]) -> list[PlaybookQuestion]:
    return [q for q in pb.questions if evaluate(q.when, answers)]


def smallest_flip(
    pb: Playbook, answers: dict[str, Any]
) -> tuple[PlaybookQuestion, Any, str] | None:
    """The cheapest single change (cost, then question order) that puts another path first."""
    top = search_top(pb, answers)
    best: tuple[int, int, PlaybookQuestion, Any, str] | None = None
    for index, q in enumerate(visible(pb, answers)):
        if q.id not in answers or q.kind == QuestionKind.FREE_TEXT or not q.what_if:
            continue
        for position, alt in enumerate(q.alternatives(answers[q.id]), start=1):
            new_top = search_top(pb, {**answers, q.id: alt})
            if new_top is None or new_top == top:
                continue
            key = (cost(q, alt, answers[q.id], position), index)
            if best is None or key < best[:2]:
                best = (*key, q, alt, new_top)
    return None if best is None else best[2:]


def smallest_family_flip(
    pb: Playbook, answers: dict[str, Any], also_not: tuple[str, ...] = (), skip: str = ""
) -> tuple[PlaybookQuestion, Any, str] | None:
    """The cheapest single change that puts a path of another family first."""
    top = search_top(pb, answers)
    assert top is not None
    same = {family(pb, top), *(family(pb, p) for p in also_not)}
    best: tuple[int, int, PlaybookQuestion, Any, str] | None = None
    for index, q in enumerate(visible(pb, answers)):
        if (
            q.id not in answers
            or q.kind == QuestionKind.FREE_TEXT
            or not q.what_if
            or q.role is not None
            or q.id == skip
        ):
            continue
        for position, alt in enumerate(q.alternatives(answers[q.id]), start=1):
            new_top = search_top(pb, {**answers, q.id: alt})
            if new_top is None or family(pb, new_top) in same:
                continue
            key = (cost(q, alt, answers[q.id], position), index)
            if best is None or key < best[:2]:
                best = (*key, q, alt, new_top)
    return None if best is None else best[2:]


# ------------------------------------------------------------------------------ the claims


@pytest.mark.parametrize("pb", [TINY, WHATIF], ids=["tiny", "whatif"])
def test_the_ranking_and_its_what_if_agree_with_an_exhaustive_search(pb: Playbook) -> None:
    fallback = 0
    for answers in unique_answer_sets(pb):
        ranking = rank(pb, answers, TODAY)
        expected_order = search_order(pb, answers)
        shown = [p.path_id for p in ranking.paths]
        assert shown == expected_order[: pb.max_paths_shown], answers

        claim = what_would_change(pb, answers)
        flip = smallest_flip(pb, answers)
        if flip is None:
            fallback += 1
            assert claim.startswith("No single different answer would change the top path"), (
                answers,
                claim,
            )
            continue
        q, alt, new_top = flip
        title = pb.path(new_top).title  # type: ignore[union-attr]
        assert claim == (
            f"If your answer to “{q.label}” were “{q.describe(alt)}” instead of "
            f"“{q.describe(answers[q.id])}”, {title} would come first."
        ), answers
    if pb is WHATIF:
        assert fallback > 0, "the 'no single different answer' case must be reached"


def test_a_scale_is_costed_by_the_steps_moved_not_by_its_place_in_the_list() -> None:
    # Effort 2: one step up (second in the nearest-first list, after 1) puts Alpha first,
    # and so does adding Tool X (first in its list); the one-step scale change is smaller.
    answers = {"track": "a", "effort": 2, "tools": ["y"], "locked": "no"}
    assert search_top(WHATIF, answers) == "gamma"
    assert search_top(WHATIF, {**answers, "tools": ["x", "y"]}) == "alpha"
    claim = what_would_change(WHATIF, answers)
    flip = smallest_flip(WHATIF, answers)
    assert flip is not None
    q, alt, _ = flip
    assert (q.id, alt) == ("effort", 3)
    assert claim.startswith(f"If your answer to “{q.label}” were “{q.describe(3)}” instead"), claim
    assert claim.endswith("Alpha would come first."), claim


def test_equal_scores_keep_the_playbooks_order_in_the_what_if() -> None:
    # Pay does not matter (1 of 5): both paths score 0, and the first in the playbook leads.
    answers = {"role": "worker", "skills": ["code"], "money": 1}
    assert search_order(TINY, answers) == ["study", "job"]
    assert rank(TINY, answers, TODAY).paths[0].path_id == "study"
    claim = what_would_change(TINY, answers)
    assert claim.endswith("Get a job would come first."), claim
    money = TINY.question("money")
    assert money is not None
    assert f"were “{money.describe(2)}” instead of “{money.describe(1)}”" in claim, claim


@pytest.mark.parametrize("pb", [WHATIF], ids=["whatif"])
def test_the_family_what_if_is_the_smallest_change_to_another_family(pb: Playbook) -> None:
    reached_none = 0
    for answers in unique_answer_sets(pb):
        got = whatif.family_flip(pb, answers)
        want = smallest_family_flip(pb, answers)
        if want is None:
            reached_none += 1
            assert got is None, answers
            continue
        assert got is not None, answers
        assert (got.question.id, got.value, got.top) == (want[0].id, want[1], want[2]), answers
        # And the claim is true: re-ranking with that one change puts that path first.
        assert search_top(pb, {**answers, got.question.id: got.value}) == got.top
    assert reached_none > 0


def test_the_composed_advice_claims_hold_for_every_answer_set() -> None:
    pb = WHATIF
    saw_cases = saw_none = saw_flip = 0
    for answers in unique_answer_sets(pb):
        advice = compose.compose(pb, answers, TODAY)
        assert advice is not None
        order = search_order(pb, answers)
        assert [v.path_id for v in advice.paths] == order, answers
        cases = advice.cases
        if cases:
            saw_cases += 1
            q = pb.question(advice.deciding_question)
            assert q is not None and answers.get(q.id) in q.undecided
            decisive = [c for c in q.choice_ids if c not in q.undecided]
            # Answers grouped by the path they lead to, each group and the groups in the
            # order of the choices.
            firsts = [decisive.index(case.answers[0]) for case in cases]
            assert firsts == sorted(firsts), answers
            for case in cases:
                idx = [decisive.index(a) for a in case.answers]
                assert idx == sorted(idx), answers
            covered = sorted(a for case in cases for a in case.answers)
            assert covered == sorted(decisive), answers
            for case in cases:
                for a in case.answers:
                    assert search_top(pb, {**answers, q.id: a}) == case.path_id, (answers, a)
            assert advice.keep_open == expected_keep_open(pb, answers, q)
        lead = advice.keep_open if cases and advice.keep_open else order[0]
        skip = advice.deciding_question if cases else ""
        want = smallest_family_flip(pb, answers, also_not=(lead,), skip=skip)
        got = advice.what_if
        if want is None:
            saw_none += 1
            assert got.question_id in ("", None) and got.path_id in ("", None), answers
        else:
            saw_flip += 1
            assert (got.question_id, got.answer, got.path_id) == (want[0].id, want[1], want[2]), (
                answers
            )
            if want[0].kind == QuestionKind.MULTI_CHOICE:
                words = (
                    f"you changed your answer to “{want[0].label}” to “{want[0].describe(want[1])}”"
                )
                assert words in got.text, got.text
    assert saw_cases and saw_none and saw_flip


def expected_keep_open(pb: Playbook, answers: dict[str, Any], q: PlaybookQuestion) -> str:
    now = search_order(pb, answers)
    rankings = [
        search_order(pb, {**answers, q.id: c}) for c in q.choice_ids if c not in q.undecided
    ]
    candidates = [p for p in now if all(p in r for r in rankings)]

    def worst(pid: str) -> tuple[int, int, int]:
        ranks = [r.index(pid) for r in rankings]
        return (max(ranks), sum(ranks), now.index(pid))

    if now[0] in candidates and worst(now[0])[0] <= 1:
        return now[0]
    return min(candidates, key=worst) if candidates else now[0]


def test_decision_map_groups_answers_by_the_path_the_search_puts_first() -> None:
    pb = WHATIF
    q = pb.question("track")
    assert q is not None
    several = 0
    for answers in unique_answer_sets(pb):
        if answers["track"] != "open":
            continue
        branches = whatif.decision_map(pb, answers, q)
        expected: dict[str, list[str]] = {}
        for cid in q.choice_ids:
            if cid in q.undecided:
                continue
            expected.setdefault(search_top(pb, {**answers, "track": cid}) or "", []).append(cid)
        assert [(b.path_id, list(b.answers)) for b in branches] == list(expected.items())
        for b in branches:
            assert list(b.order) == search_order(pb, {**answers, "track": b.answers[0]})
        several += len(branches) > 1
    assert several > 0


# ------------------------------------------------------------------ the ranking's own words

REASONS_YAML = """
id: reasons-test
version: 1
title: Reasons test
intro: Hi.
max_next_steps: 3
questions:
  - id: s
    kind: scale
    short: focus
    prompt: How much?
    scale_min: 1
    scale_max: 5
  - id: region
    kind: single_choice
    short: region
    prompt: Where?
    choices:
      - {id: here, label: Here}
      - {id: away, label: Away}
  - id: notes
    kind: free_text
    short: notes
    prompt: Notes?
    optional: true
criteria:
  - id: ml
    label: ML focus
    weight: {question: s, value: 1}
  - id: calm
    label: A calm life
    weight: {value: 0.2}
paths:
  - id: p1
    title: Path one
    summary: One.
    ratings: {ml: 1, calm: 1}
    next_steps:
      - {text: Step A., due_in_days: 1}
      - {text: Step B., due_in_days: 2}
  - id: p2
    title: Path two
    summary: Two.
    base: 0.2
    ratings: {ml: -1}
    next_steps:
      - {text: Step A., due_in_days: 1}
      - {text: Step C., due_in_days: 3}
  - id: gone
    title: Gone path
    summary: Gone.
    when: {q: region, is: away}
    dropped_because: It needs you away.
    dropped_reasons:
      - {when: {q: s, gte: 5}, text: It needs you away and calmer.}
  - id: quiet
    title: Quiet path
    summary: Quiet.
    when: {q: region, is: away}
"""
REASONS = parse_playbook(REASONS_YAML, "reasons-test")


def test_reasons_name_the_criterion_mid_sentence_and_what_was_said() -> None:
    r = rank(REASONS, {"s": 2, "region": "here", "notes": "Hi there"}, TODAY)
    one, two = r.paths
    # ML focus weighs 1 x (2-1)/4 = 0.25: exactly the smallest contribution worth a sentence;
    # a calm life weighs 0.2: not worth one. Acronyms keep their capitals mid-sentence.
    assert one.reasons == ("It serves ML focus (you rated it 2 of 5).",)
    assert two.reasons == ("It costs you on ML focus (you rated it 2 of 5).",)
    assert (one.score, two.score) == (0.45, -0.05)
    assert r.why_order == ("It serves ML focus (you rated it 2 of 5).",)
    assert r.notes == ("You noted (notes): Hi there",)
    # Dropped paths say why, or give their title alone when they have no reason.
    assert r.dropped == ("Gone path: It needs you away.", "Quiet path")
    calmer = rank(REASONS, {"s": 5, "region": "here"}, TODAY)
    assert calmer.dropped[0] == "Gone path: It needs you away and calmer."
    # The plan: each path's steps in turn, once each, up to max_next_steps.
    assert [s.text for s in r.next_steps] == ["Step A.", "Step B.", "Step C."]
    assert r.next_steps[0].due == TODAY + timedelta(days=1)


def test_a_scale_not_answered_counts_half_and_close_paths_are_called_close() -> None:
    from bot.advice.ranking import weights

    assert weights(REASONS, {}) == {"ml": (0.5, ""), "calm": (0.2, "")}
    assert weights(REASONS, {"s": 5}) == {"ml": (1.0, "you rated it 5 of 5"), "calm": (0.2, "")}
    r = rank(REASONS, {"s": 1, "region": "here"}, TODAY)  # 0.2 each: a tie, no reason
    assert [p.path_id for p in r.paths] == ["p1", "p2"]
    assert r.why_order == (
        "The two leading paths are close; neither wins clearly on what you told me.",
    )
    only = rank(REASONS, {"s": 1, "region": "away"}, TODAY)
    assert "Gone path" not in " ".join(only.dropped)


def test_the_only_path_left_says_so() -> None:
    pb = parse_playbook(
        REASONS_YAML.replace("    base: 0.2\n", "    base: 0.2\n    when: {q: region, is: away}\n"),
        "reasons-only",
    )
    r = rank(pb, {"s": 3, "region": "here"}, TODAY)
    assert [p.path_id for p in r.paths] == ["p1"]
    assert r.why_order == ("Path one is the only path that fits what you told me.",)


def test_a_lead_of_exactly_the_smallest_contribution_is_a_reason_for_the_order() -> None:
    pb = parse_playbook(REASONS_YAML.replace("ratings: {ml: -1}", "ratings: {ml: 0}"), "gap")
    r = rank(pb, {"s": 2, "region": "here"}, TODAY)
    assert [p.score for p in r.paths] == [0.45, 0.2]
    assert r.why_order == ("It serves ML focus (you rated it 2 of 5).",)  # 0.25 ahead


def test_a_plain_label_is_lower_cased_mid_sentence() -> None:
    r = rank(TINY, {"role": "worker", "skills": ["code"], "money": 5}, TODAY)
    assert r.paths[0].reasons == ("It serves good pay (you rated it 5 of 5).",)


def test_reasons_cite_what_the_person_said_and_flips_count_by_question() -> None:
    r = rank(TINY, {"role": "student", "thesis": "yes", "skills": ["code"], "money": 1}, TODAY)
    study = next(p for p in r.paths if p.path_id == "study")
    assert "You already wrote a thesis (you said thesis: Yes)." in study.reasons
    answers = {"track": "b", "effort": 3, "tools": ["y"], "locked": "no"}
    fam = family(WHATIF, search_top(WHATIF, answers) or "")
    expected = {
        q.id
        for q in visible(WHATIF, answers)
        if q.what_if and q.role is None
        for alt in q.alternatives(answers[q.id])
        if family(WHATIF, search_top(WHATIF, {**answers, q.id: alt}) or "") != fam
    }
    assert whatif.flips(WHATIF, answers) == len(expected) > 0


def test_an_unanswered_question_is_no_what_if() -> None:
    answers = {"role": "worker", "money": 5}  # skills not answered yet
    claim = what_would_change(TINY, answers)
    assert "Coding" not in claim and "skills" not in claim
    assert claim.endswith("Keep studying would come first.")
