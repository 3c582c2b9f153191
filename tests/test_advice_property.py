"""Property tests: any valid set of answers gives an explained ranking that fits in chat.

Answers are generated per question kind, in playbook order, and only for questions whose
``when`` holds given the answers so far: exactly what the engine could have stored.
"""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bot import digest as dg
from bot.advice import rank
from bot.advice.compose import compose
from bot.messages import NextStep, PathAdvice, QuestionKind, Recommendation
from bot.playbook.conditions import evaluate
from bot.playbook.loader import load_playbook
from bot.playbook.schema import Playbook
from bot.settings import REPO_ROOT
from bot.snapshots import payload_to_recommendation, ranking_to_payload

PLAYBOOKS = {
    name: load_playbook(REPO_ROOT / "config" / "playbooks" / f"{name}.yaml")
    for name in ("ml-research-career", "phd-offer-choice")
}
TINY = load_playbook(Path(__file__).parent / "playbooks" / "tiny.yaml")
TODAY = date(2026, 3, 2)
PROFILE = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])

# Platform limits the digest must respect (Discord, Slack).
DISCORD_CONTENT = 2000
DISCORD_EMBEDS = 10
DISCORD_EMBEDS_TOTAL = 6000
DISCORD_TITLE = 256
DISCORD_DESCRIPTION = 4096
DISCORD_FIELD_NAME = 256
DISCORD_FIELD_VALUE = 1024
SLACK_BLOCKS = 50
SLACK_SECTION = 3000
SLACK_HEADER = 150
SLACK_BUTTON = 75

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
    assert ranking.what_would_change
    for d in ranking.dropped:
        title, _, why = d.partition(": ")
        assert title and why.strip(), f"dropped without a reason: {d!r}"
    rec = payload_to_recommendation(ranking_to_payload(ranking, answers), 1, 1, pb.title)
    digest = dg.build_digest(rec, ranking.next_steps)
    _check_digest(digest, rec)
    return rec


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
def test_the_tiny_test_playbook_digest_fits_too(data: st.DataObject) -> None:
    answers = data.draw(answers_for(TINY))
    ranking = rank(TINY, answers, TODAY)
    rec = payload_to_recommendation(ranking_to_payload(ranking, answers), 1, 1, TINY.title)
    _check_digest(dg.build_digest(rec), rec)


# ---------------------------------------------------------------------- the digest


def _check_digest(d: dg.Digest, rec: Recommendation) -> None:
    u = dg.units
    assert 0 < u(d.headline) <= dg.HEADLINE_MAX
    assert len(d.paths) == min(len(rec.paths), dg.MAX_PATHS)
    assert d.more_paths == len(rec.paths) - len(d.paths)
    for p, full in zip(d.paths, rec.paths, strict=False):
        assert p.path_id == full.path_id and p.rank == full.rank
        assert u(p.title) <= dg.TITLE_MAX
        assert u(p.paragraph) <= dg.PARAGRAPH_MAX
        if any(r.strip() for r in full.reasons):
            assert "Main reason for you: " in p.paragraph
    assert u(d.why_order) <= dg.WHY_MAX
    assert u(d.what_would_change) <= dg.CHANGE_MAX
    assert len(d.next_steps) <= dg.MAX_STEPS
    assert all(u(s.text) <= dg.STEP_MAX for s in d.next_steps)
    assert d.total_units() <= dg.TOTAL_MAX
    assert u(d.fallback_text()) <= dg.FALLBACK_MAX <= DISCORD_CONTENT
    assert d.fallback_text().startswith(d.headline)
    _render_discord(d)
    _render_slack(d)


def _render_discord(d: dg.Digest) -> None:
    """The layout adapters use, with their own labels, checked against Discord's limits."""
    u = dg.units
    embeds: list[dict[str, Any]] = [{"title": d.headline, "description": ""}]
    for p in d.paths:
        embeds.append({"title": f"{p.rank}. {p.title}", "description": p.paragraph})
    fields = []
    if d.why_order:
        fields.append({"name": "Why this order", "value": d.why_order})
    if d.what_would_change:
        fields.append({"name": "What would change this", "value": d.what_would_change})
    embeds.append({"title": "Why and what if", "fields": fields})
    if d.next_steps:
        steps = "\n".join(f"{i}. {s.text}" for i, s in enumerate(d.next_steps, start=1))
        embeds.append({"title": "Your next steps", "description": steps})
    if d.more_paths:
        embeds[-1]["footer"] = {"text": f"{d.more_paths} more paths in the full card"}
    assert len(embeds) <= DISCORD_EMBEDS
    total = 0
    for e in embeds:
        assert u(e["title"]) <= DISCORD_TITLE
        assert u(e.get("description", "")) <= DISCORD_DESCRIPTION
        total += u(e["title"]) + u(e.get("description", ""))
        for f in e.get("fields", []):
            assert u(f["name"]) <= DISCORD_FIELD_NAME and u(f["value"]) <= DISCORD_FIELD_VALUE
            total += u(f["name"]) + u(f["value"])
        total += u(e.get("footer", {}).get("text", ""))
    assert total <= DISCORD_EMBEDS_TOTAL


def _render_slack(d: dg.Digest) -> None:
    u = dg.units
    blocks: list[dict[str, Any]] = [{"type": "header", "text": d.headline}]
    for p in d.paths:
        blocks.append({"type": "section", "text": f"{p.rank}. {p.title}\n{p.paragraph}"})
        blocks.append({"type": "actions", "button": p.title})
    blocks.append({"type": "divider"})
    blocks.append({"type": "section", "text": f"Why this order: {d.why_order}"})
    blocks.append({"type": "section", "text": f"What would change this: {d.what_would_change}"})
    steps = "\n".join(f"• {s.text}" for s in d.next_steps)
    blocks.append({"type": "section", "text": f"Next steps:\n{steps}"})
    assert len(blocks) <= SLACK_BLOCKS
    for b in blocks:
        if b["type"] == "header":
            assert u(b["text"]) <= SLACK_HEADER
        elif b["type"] == "section":
            assert u(b["text"]) <= SLACK_SECTION
        elif b["type"] == "actions":
            assert u(b["button"]) <= SLACK_BUTTON


LONG_TEXT = st.text(
    alphabet=st.characters(blacklist_categories=("Cs",)),
    max_size=3000,
)


@st.composite
def any_recommendation(draw: st.DrawFn) -> tuple[Recommendation, list[NextStep]]:
    """Recommendations no playbook would produce: huge texts, emoji, ten paths."""
    n = draw(st.integers(0, 10))
    paths = tuple(
        PathAdvice(
            path_id=f"p{i}",
            rank=i + 1,
            title=draw(LONG_TEXT.filter(str.strip)),
            summary=draw(LONG_TEXT),
            score=float(-i),
            reasons=tuple(draw(st.lists(LONG_TEXT, max_size=4))),
            pros=tuple(draw(st.lists(LONG_TEXT, max_size=3))),
        )
        for i in range(n)
    )
    rec = Recommendation(
        consultation_id=1,
        step=1,
        playbook_title=draw(LONG_TEXT),
        paths=paths,
        why_order=tuple(draw(st.lists(LONG_TEXT, max_size=3))),
        what_would_change=draw(LONG_TEXT),
    )
    steps = draw(
        st.lists(
            st.builds(NextStep, LONG_TEXT, st.one_of(st.none(), st.dates())),
            max_size=12,
        )
    )
    return rec, steps


@settings(max_examples=150, deadline=None)
@given(any_recommendation())
def test_digest_budgets_hold_for_any_recommendation(
    case: tuple[Recommendation, list[NextStep]],
) -> None:
    rec, steps = case
    d = dg.build_digest(rec, steps)
    assert dg.units(d.headline) <= dg.HEADLINE_MAX
    if rec.paths:
        _check_digest(d, rec)
    else:
        assert d.paths == () and d.total_units() <= dg.TOTAL_MAX
        assert dg.units(d.fallback_text()) <= dg.FALLBACK_MAX


@given(LONG_TEXT, st.integers(1, 400))
def test_clip_keeps_a_prefix_within_budget(text: str, limit: int) -> None:
    out = dg.clip(text, limit)
    assert dg.units(out) <= limit
    collapsed = " ".join(text.split())
    if dg.units(collapsed) <= limit:
        assert out == collapsed
    else:
        assert out.endswith(dg.ELLIPSIS)
        assert collapsed.startswith(out[: -len(dg.ELLIPSIS)])


def test_worst_case_budget_adds_up() -> None:
    assert dg.WORST_CASE <= dg.TOTAL_MAX <= DISCORD_EMBEDS_TOTAL - 500
    assert 1 + dg.MAX_PATHS + 2 <= DISCORD_EMBEDS
    room = min(DISCORD_FIELD_VALUE, SLACK_SECTION)
    assert room >= dg.PARAGRAPH_MAX + dg.TITLE_MAX + 10
    room = min(DISCORD_DESCRIPTION, SLACK_SECTION)
    assert room >= dg.MAX_STEPS * (dg.STEP_MAX + 4) + 20
