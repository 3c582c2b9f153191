"""Property tests: any valid set of answers gives explained advice that fits in chat.

Answers are generated per question kind, in playbook order, and only for questions whose
``when`` holds given the answers so far: exactly what the engine could have stored.
"""

from __future__ import annotations

import os
import re
from datetime import date
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bot.advice import rank
from bot.advice.compose import compose
from bot.messages import QuestionKind, Recommendation
from bot.playbook.conditions import evaluate
from bot.playbook.loader import load_playbook
from bot.playbook.schema import Playbook
from bot.settings import REPO_ROOT
from bot.snapshots import payload_to_recommendation, ranking_to_payload
from bot.ui import budgets
from bot.ui.advice import present_advice
from bot.ui.cards import Card
from tests import test_whatif_exhaustive as exhaustive

PLAYBOOKS = {
    name: load_playbook(REPO_ROOT / "config" / "playbooks" / f"{name}.yaml")
    for name in ("ml-research-career", "phd-offer-choice")
}
TINY = load_playbook(Path(__file__).parent / "playbooks" / "tiny.yaml")
TODAY = date(2026, 3, 2)
# scripts/mutation.sh runs these once per surviving mutant, and asks for fewer examples.
EXAMPLES = int(os.environ.get("CROSSROADS_PROPERTY_EXAMPLES", "150"))
PROFILE = settings(
    max_examples=EXAMPLES, deadline=None, suppress_health_check=[HealthCheck.too_slow]
)

TEXT = st.text(
    alphabet=st.characters(blacklist_categories=("Cs",)),  # no lone surrogates
    min_size=1,
    max_size=200,
)


@st.composite
def answers_for(draw: st.DrawFn, pb: Playbook) -> dict[str, Any]:
    answers: dict[str, Any] = {}
    for q in pb.questions:
        if not evaluate(q.when, answers):
            continue
        if q.optional and draw(st.booleans()):
            answers[q.id] = None  # skipped: the engine stores None
            continue
        if q.kind == QuestionKind.SINGLE_CHOICE:
            answers[q.id] = draw(st.sampled_from(q.choice_ids))
        elif q.kind == QuestionKind.MULTI_CHOICE:
            top = q.max_choices or len(q.choices)
            picked = draw(
                st.lists(
                    st.sampled_from(q.choice_ids),
                    min_size=max(q.min_choices, 1),
                    max_size=top,
                    unique=True,
                )
            )
            answers[q.id] = [c for c in q.choice_ids if c in picked]
        elif q.kind == QuestionKind.SCALE:
            answers[q.id] = draw(st.integers(q.scale_min, q.scale_max))
        else:
            answers[q.id] = draw(TEXT.map(lambda t, n=q.max_length: t[:n]))
    return answers


def _check_ranking(pb: Playbook, answers: dict[str, Any]) -> Recommendation:
    ranking = rank(pb, answers, TODAY)
    assert ranking.paths, "some path must always fit"
    assert len(ranking.paths) <= pb.max_paths_shown
    assert [p.rank for p in ranking.paths] == list(range(1, len(ranking.paths) + 1))
    assert [p.score for p in ranking.paths] == sorted(
        (p.score for p in ranking.paths), reverse=True
    )
    # Steps tied to a calendar event (`before:`) are dated by the composed advice, which is
    # what the person's plan is made of; every step of every shown path must get a date.
    advice = compose(pb, answers, TODAY)
    assert advice is not None
    dated = {v.path_id: v.steps for v in advice.paths}
    for p in ranking.paths:
        assert p.title.strip() and p.summary.strip()
        assert p.reasons or p.pros or p.cons, f"{p.path_id} is shown unexplained"
        assert 3 <= len(p.next_steps) <= 5, f"{p.path_id}: {len(p.next_steps)} next steps"
        steps = dated[p.path_id]
        assert [s.text for s in steps] == [s.text for s in p.next_steps]
        assert all(s.due is not None and s.due >= TODAY for s in steps), steps
    assert all(s.due is not None and s.due >= TODAY for s in advice.plan)
    assert 3 <= len(ranking.next_steps) <= pb.max_next_steps
    assert ranking.why_order and all(w.strip() for w in ranking.why_order)
    _check_what_ifs(pb, answers, ranking.what_would_change, advice)
    for d in ranking.dropped:
        title, _, why = d.partition(": ")
        assert title and why.strip(), f"dropped without a reason: {d!r}"
    _check_cards(present_advice(advice, 1))
    return payload_to_recommendation(ranking_to_payload(ranking, answers), 1, 1, pb.title)


def _title_for(pb: Playbook, path_id: str, answers: dict[str, Any]) -> str:
    path = pb.path(path_id)
    assert path is not None
    variant = next((v for v in path.variants if evaluate(v.when, answers)), None)
    return (variant.title if variant is not None else "") or path.title


def _check_what_ifs(pb: Playbook, answers: dict[str, Any], claim: str, advice: Any) -> None:
    """Both what-ifs are the smallest single change that does what they say (an independent
    re-ranking, tests/test_whatif_exhaustive.py), not merely some non-empty text."""
    current = exhaustive._effective(pb, answers)
    flip = exhaustive.smallest_flip(pb, current)
    if flip is None:
        assert claim.startswith("No single different answer would change the top path"), claim
    else:
        q, alt, new_top = flip
        title = _title_for(pb, new_top, {**current, q.id: alt})
        assert claim == (
            f"If your answer to “{q.label}” were “{q.describe(alt)}” instead of "
            f"“{q.describe(current[q.id])}”, {title} would come first."
        )
    implied = dict(advice.answers)
    order = exhaustive.search_order(pb, implied)
    assert [v.path_id for v in advice.paths] == order
    lead = advice.keep_open if advice.cases and advice.keep_open else order[0]
    skip = advice.deciding_question if advice.cases else ""
    want = exhaustive.smallest_family_flip(pb, implied, also_not=(lead,), skip=skip)
    got = advice.what_if
    if want is None:
        assert not got.question_id and not got.path_id, got
    else:
        assert (got.question_id, got.answer, got.path_id) == (want[0].id, want[1], want[2])


def _check_cards(cards: list[Card]) -> None:
    """What the person is shown fits every platform: the budgets hold on every card."""
    assert cards
    for card in cards:
        assert budgets.check(card) == [], card


@pytest.mark.parametrize("name", sorted(PLAYBOOKS))
@PROFILE
@given(data=st.data())
def test_any_answers_give_an_explained_ranking_that_fits_chat(
    name: str, data: st.DataObject
) -> None:
    pb = PLAYBOOKS[name]
    _check_ranking(pb, data.draw(answers_for(pb)))


@PROFILE
@given(data=st.data())
def test_the_tiny_test_playbooks_advice_fits_too(data: st.DataObject) -> None:
    answers = data.draw(answers_for(TINY))
    advice = compose(TINY, answers, TODAY)
    assert advice is not None
    _check_cards(present_advice(advice, 1))


LONG_TEXT = st.text(alphabet=st.characters(blacklist_categories=("Cs",)), max_size=3000)


@given(LONG_TEXT, st.integers(1, 400))
def test_clip_keeps_a_prefix_within_budget(text: str, limit: int) -> None:
    out = budgets.clip(text, limit)
    assert budgets.units(out) <= limit
    collapsed = re.sub(r"[ \t]+", " ", text).strip()
    if budgets.units(collapsed) <= limit:
        assert out == collapsed
    else:
        assert out.endswith(budgets.ELLIPSIS)
        assert collapsed.startswith(out[: -len(budgets.ELLIPSIS)])
