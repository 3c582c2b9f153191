"""Personas through the real engine (SQLite): the top path and the points tailored to them.

Each persona answers the questions the engine actually asks, in the order it asks them;
the final Recommendation and Plan are what a person would see.
"""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from datetime import timedelta
from typing import Any

import pytest

from bot import events as ev
from bot.engine import Engine
from bot.messages import PathAdvice, Plan, Question, Recommendation
from bot.settings import Settings
from tests.conftest import FIXED_NOW, make_engine

ML = "ml-research-career"
OFFERS = "phd-offer-choice"

# The reference person: physics master's, ML theses in high-energy physics, CERN internships.
SEED: dict[str, Any] = {
    "goal": "applied",
    "degree": "master",
    "field": "hep",
    "situation": "graduated",
    "experience": ["thesis", "internship"],
    "landscape": ["not_yet"],
    "phd_view": "want",
    "region": "europe",
    "academia": 3,
    "pay": 2,
    "speed": 3,
    "safety": 3,
    "domain": 3,
}
CS_THEORY: dict[str, Any] = {
    "goal": "theory",
    "degree": "master",
    "field": "cs",
    "situation": "studying",
    "experience": ["thesis", "papers", "ml_venue"],
    "landscape": ["ml_groups", "contacted"],
    "phd_view": "want",
    "region": "north_america",
    "academia": 5,
    "pay": 2,
    "speed": 2,
    "safety": 2,
    "domain": 1,
}
SWE_ENGINEER: dict[str, Any] = {
    "goal": "engineering",
    "degree": "bachelor",
    "field": "cs",
    "situation": "software_job",
    "experience": ["job", "open_source"],
    "landscape": ["industry_labs"],
    "phd_view": "avoid",
    "region": "open",
    "academia": 1,
    "pay": 4,
    "speed": 4,
    "safety": 3,
    "domain": 2,
    "constraints": "Two children in school, so I cannot move city.",
}
MATHS_THEORY: dict[str, Any] = {
    "goal": "theory",
    "degree": "master",
    "field": "maths",
    "situation": "studying",
    "experience": ["thesis"],
    "landscape": ["ml_groups"],
    "phd_view": "want",
    "region": "uk",
    "academia": 5,
    "pay": 1,
    "speed": 2,
    "safety": 3,
    "domain": 3,
}
BIO_BACHELOR: dict[str, Any] = {
    "goal": "applied",
    "degree": "bachelor",
    "field": "science",
    "situation": "graduated",
    "experience": ["courses"],
    "landscape": ["not_yet"],
    "phd_view": "open",
    "region": "europe",
    "academia": 3,
    "pay": 3,
    "speed": 2,
    "safety": 4,
    "domain": 4,
}
ASTRO_PHD: dict[str, Any] = {
    "goal": "applied",
    "degree": "phd",
    "field": "physics",
    "situation": "other_job",
    "experience": ["thesis", "papers"],
    "landscape": ["industry_labs"],
    "region": "north_america",
    "academia": 2,
    "pay": 4,
    "speed": 4,
    "safety": 3,
    "domain": 2,
}
SCIENCE_PROFESSOR: dict[str, Any] = {
    "goal": "applied",
    "degree": "master",
    "field": "science",
    "situation": "other_job",
    "experience": ["papers", "job"],
    "landscape": ["ml_for_science"],
    "phd_view": "open",
    "region": "europe",
    "academia": 4,
    "pay": 4,
    "speed": 3,
    "safety": 3,
    "domain": 4,
}


@pytest.fixture
async def eng(sqlite_url: str, settings: Settings) -> AsyncIterator[Engine]:
    engine = await make_engine(sqlite_url, settings, ML, OFFERS)
    yield engine
    await engine.db.dispose()


class Run:
    """What a finished consultation produced."""

    def __init__(self, rec: Recommendation, plan: Plan, asked: list[str]) -> None:
        self.rec, self.plan, self.asked = rec, plan, asked

    def path(self, path_id: str) -> PathAdvice:
        found = [p for p in self.rec.paths if p.path_id == path_id]
        assert found, f"{path_id} not shown; shown: {[p.path_id for p in self.rec.paths]}"
        return found[0]

    @property
    def shown(self) -> list[str]:
        return [p.path_id for p in self.rec.paths]


def _finished(out: list[Any]) -> tuple[Recommendation, Plan] | None:
    recs = [m for m in out if isinstance(m, Recommendation)]
    plans = [m for m in out if isinstance(m, Plan)]
    return (recs[-1], plans[-1]) if recs and plans else None


async def consult(engine: Engine, user: ev.UserRef, playbook: str, answers: dict[str, Any]) -> Run:
    out = (await engine.run(ev.Start(user=user, playbook_id=playbook))).messages
    asked: list[str] = []
    for _ in range(40):
        done = _finished(out)
        if done:
            return Run(*done, asked)
        q = next(m for m in out if isinstance(m, Question))
        assert not q.error, q.error
        asked.append(q.question_id)
        value = answers.get(q.question_id, "skip" if q.optional else None)
        assert value is not None, f"persona has no answer for {q.question_id}"
        out = (
            await engine.run(ev.Answer(user=user, value=value, question_id=q.question_id))
        ).messages
    raise AssertionError("the consultation did not finish")


async def change_answer(engine: Engine, user: ev.UserRef, question: str, value: Any) -> Run:
    out = (await engine.run(ev.Edit(user=user, question=question))).messages
    q = next(m for m in out if isinstance(m, Question))
    assert q.question_id == question
    out = (await engine.run(ev.Answer(user=user, value=value, question_id=question))).messages
    done = _finished(out)
    assert done, f"changing {question} did not lead straight back to a recommendation: {out}"
    return Run(*done, [question])


def user(name: str) -> ev.UserRef:
    return ev.UserRef("console", "test", name)


def text_of(p: PathAdvice) -> str:
    return " ".join([p.summary, *p.reasons, *p.pros, *p.cons, *p.risks])


# ---------------------------------------------------------------------- ML research career


async def test_seed_person_gets_ml_for_physics_first_and_an_honest_hep_card(eng: Engine) -> None:
    run = await consult(eng, user("seed"), ML, SEED)
    assert run.rec.top.path_id == "phd_ml_science"
    assert run.rec.top.title == "PhD in an ML group that works on physics"
    # The four options the person asked about, minus the second master's, plus the one
    # they did not think of (ML-for-physics groups in ML departments) come first.
    assert run.shown == ["phd_ml_science", "phd_own_field", "phd_ml", "industry"]

    hep = run.path("phd_own_field")
    assert hep.title == "PhD in particle physics with an ML focus"
    assert any("service work" in c and "no ML" in c for c in hep.cons)
    assert any("thousands of authors" in c for c in hep.cons)
    assert any("software work" in p for p in hep.pros)  # scientific computing strength
    assert any("rarely learned after university" in p for p in hep.pros)  # maths/physics
    assert any("service tasks" in s.text for s in hep.next_steps)

    ml_phd = run.path("phd_ml")
    assert any("With no publications yet" in r for r in ml_phd.risks)
    # A second master's is not needed: said on the PhD cards, master's not shown.
    assert any("would only delay you" in p for p in ml_phd.pros)
    assert "masters_first" not in run.shown

    industry = run.path("industry")
    assert any("rule out a professorship" in c for c in industry.cons)
    assert any("postponing it tends to mean never doing it" in c for c in industry.cons)
    assert any("without a doctorate is possible but uncommon" in r for r in industry.risks)
    assert any("plan" in r and "switch later" in r for r in industry.risks)
    assert any("what a doctoral position pays" in p for p in industry.pros)

    # Not having looked at the landscape shows up as a risk on the top path.
    assert any("not mapped these groups" in r for r in run.rec.top.risks)
    # The plan: the top path's steps, dated from today, the first within two weeks.
    assert 3 <= len(run.plan.items) <= 5
    assert any(
        "three groups doing ML for physics" in i.action
        and i.due == (FIXED_NOW + timedelta(days=14)).date()
        for i in run.plan.items
    )
    assert "Postdoc in an ML or ML-for-science group" in run.rec.dropped[0]


async def test_cs_graduate_with_papers_gets_ml_phd_and_no_own_field_path(eng: Engine) -> None:
    run = await consult(eng, user("cs"), ML, CS_THEORY)
    assert run.rec.top.path_id == "phd_ml"
    assert run.rec.top.title == "PhD in machine learning"
    assert "phd_own_field" not in run.shown
    assert "phd_ml_science" not in run.shown
    assert any(
        d.startswith("PhD in your own field") and "computer science" in d for d in run.rec.dropped
    )
    assert any("paper at an ML venue" in r for r in run.rec.top.reasons)
    assert not any("With no publications yet" in r for r in run.rec.top.risks)
    # Wants a professorship: the industry card says what it costs.
    industry = run.path("industry")
    assert any("rule out a professorship" in c for c in industry.cons)
    assert any("professorship" in r and "costs you" in r for r in industry.reasons)
    assert len(run.plan.items) >= 3


async def test_software_engineer_aiming_at_research_engineering(eng: Engine) -> None:
    run = await consult(eng, user("swe"), ML, SWE_ENGINEER)
    assert run.rec.top.path_id == "research_engineer"
    assert run.shown[1] == "industry"
    move = run.path("industry")
    assert move.title == "Move into research from your tech job"
    assert any("manager" in s.text for s in move.next_steps)
    assert any("switch later is a gamble" in r for r in move.risks)
    # Does not want a professorship: the academic-door con is not pushed at them.
    assert not any("professorship" in c for c in move.cons)
    assert "phd_own_field" not in run.shown
    assert run.rec.notes == (
        "You noted (constraints): Two children in school, so I cannot move city.",
    )
    assert len(run.plan.items) >= 3


async def test_maths_graduate_for_theory_gets_learning_theory_phd(eng: Engine) -> None:
    run = await consult(eng, user("maths"), ML, MATHS_THEORY)
    assert run.rec.top.path_id == "phd_own_field"
    assert run.rec.top.title == "PhD in mathematics or statistics on the theory of learning"
    assert any("natural thesis topic in mathematics" in w for w in run.rec.why_order)
    assert run.shown[1] == "phd_ml"
    assert any("With no publications yet" in r for r in run.path("phd_ml").risks)
    # Not a physicist: no HEP-specific text anywhere.
    assert not any("LHC" in text_of(p) for p in run.rec.paths)
    assert "lab_staff" not in run.shown


async def test_biology_bachelor_without_ml_experience_starts_with_a_masters(eng: Engine) -> None:
    run = await consult(eng, user("bio"), ML, BIO_BACHELOR)
    assert run.rec.top.path_id == "masters_first"
    assert run.rec.top.title == "A master's with a strong ML component, then a PhD"
    assert any("continental Europe" in r for r in run.rec.top.reasons)
    assert any("little hands-on ML research" in r for r in run.rec.top.reasons)
    own = run.path("phd_own_field")
    assert own.title == "PhD in your science with an ML focus"
    assert any("require a master's" in r for r in own.reasons)
    industry = run.path("industry")
    assert any("junior engineering or analysis" in r for r in industry.reasons)
    assert run.plan.items[0].action.startswith("Check the entry rules of five PhD programmes")


async def test_physics_phd_holder_gets_industry_research_and_no_second_phd(eng: Engine) -> None:
    run = await consult(eng, user("astro"), ML, ASTRO_PHD)
    assert "phd_view" not in run.asked  # not asked of someone who already has a doctorate
    assert run.rec.top.path_id == "industry"
    assert run.rec.top.title == "Research scientist in an industry lab"
    assert any("research-scientist roles directly" in r for r in run.rec.top.reasons)
    assert not any("without a doctorate" in r for r in run.rec.top.risks)
    assert set(run.shown) == {"industry", "research_engineer", "postdoc", "lab_staff"}
    assert sum("already hold a doctorate" in d for d in run.rec.dropped) == 5


async def test_scientist_who_wants_a_professorship_sees_the_industry_cost(eng: Engine) -> None:
    run = await consult(eng, user("sci"), ML, SCIENCE_PROFESSOR)
    assert run.rec.top.path_id == "phd_ml_science"
    assert run.rec.top.title == "PhD in an ML group that works on science"
    assert any("groups doing ML for your domain" in w for w in run.rec.why_order)
    industry = run.path("industry")
    assert any("rule out a professorship" in c for c in industry.cons)
    assert industry.rank > run.path("phd_own_field").rank


# ---------------------------------------------------------------------- changing answers

WHAT_IF = re.compile(
    r"“(?P<q>.+?)” were “(?P<new>.+?)” instead of “(?P<old>.+?)”, (?P<title>.+) would come first\.$"
)


def _parse_what_if(
    engine: Engine, playbook: str, rec: Recommendation, answers: dict[str, Any]
) -> tuple[str, Any, str]:
    """The (question id, new answer value, claimed new top title) a recommendation names."""
    match = WHAT_IF.search(rec.what_would_change)
    assert match, rec.what_would_change
    pb = engine.playbook(playbook)
    assert pb is not None
    q = next(q for q in pb.questions if q.label == match["q"])
    assert q.describe(answers[q.id]) == match["old"]
    value = next(v for v in q.alternatives(answers[q.id]) if q.describe(v) == match["new"])
    return q.id, value, match["title"]


async def test_changing_an_answer_reranks_from_the_new_answers(eng: Engine) -> None:
    who = user("seed-edit")
    first = await consult(eng, who, ML, SEED)
    assert first.rec.top.path_id == "phd_ml_science"
    # The person realises they want to work on language and vision, not physics.
    second = await change_answer(eng, who, "domain", 1)
    assert second.rec.top.path_id != "phd_ml_science"
    hep = [p for p in second.rec.paths if p.path_id == "phd_own_field"]
    assert not hep or any("core ML" in c for c in hep[0].cons)
    assert any("core ML" in text_of(p) for p in second.rec.paths)
    # And back again: the original ranking returns.
    third = await change_answer(eng, who, "domain", 3)
    assert [p.path_id for p in third.rec.paths] == first.shown


@pytest.mark.parametrize(
    ("name", "persona"),
    [
        ("seed", SEED),
        ("swe", SWE_ENGINEER),
        ("maths", MATHS_THEORY),
        ("bio", BIO_BACHELOR),
        ("astro", ASTRO_PHD),
        ("sci", SCIENCE_PROFESSOR),
    ],
)
async def test_what_would_change_claim_holds(
    eng: Engine, name: str, persona: dict[str, Any]
) -> None:
    who = user(f"whatif-{name}")
    run = await consult(eng, who, ML, persona)
    qid, value, claimed = _parse_what_if(eng, ML, run.rec, persona)
    changed = await change_answer(eng, who, qid, value)
    assert changed.rec.top.title == claimed
    assert changed.rec.top.path_id != run.rec.top.path_id


async def test_seed_what_would_change_is_the_domain_versus_core_ml_question(eng: Engine) -> None:
    run = await consult(eng, user("seed-whatif"), ML, SEED)
    assert run.rec.what_would_change == (
        "If your answer to “wish to stay in your own domain” were “2 of 5” instead of "
        "“3 of 5”, ML-focused PhD (core machine learning) would come first."
    )


async def test_a_fact_is_never_offered_as_what_would_change(eng: Engine) -> None:
    run = await consult(eng, user("cs-whatif"), ML, CS_THEORY)
    assert "field" not in run.rec.what_would_change
    assert "highest degree" not in run.rec.what_would_change


# ---------------------------------------------------------------------- PhD offers

OFFER_BASE: dict[str, Any] = {
    "offer_a": "Uni North, Prof. Lind",
    "goal_after": "academia",
    "fit_a": 3,
    "fit_b": 5,
    "funding_a": 4,
    "funding_b": 4,
    "topic_a": 4,
    "topic_b": 5,
    "place_a": 3,
    "place_b": 5,
    "life_a": 4,
    "life_b": 3,
    "supervision": "close",
    "group_a": "medium",
    "group_b": "large",
    "unknowns": ["none"],
    "deadline": "weeks",
}


async def test_offers_clear_winner_on_fit_and_placement(eng: Engine) -> None:
    run = await consult(eng, user("offers-b"), OFFERS, OFFER_BASE)
    assert run.rec.top.path_id == "accept_b"
    assert any("good fit with the second advisor" in r for r in run.rec.top.reasons)
    assert any("strong placement record at the second offer" in r for r in run.rec.top.reasons)
    assert any("see the advisor rarely" in c for c in run.rec.top.cons)
    assert "find_out" not in run.shown  # everything checked: dropped with its reason
    assert any(d.startswith("Ask for a little more time") for d in run.rec.dropped)
    assert run.rec.notes == ("You noted (first offer): Uni North, Prof. Lind",)
    assert any("decline politely" in i.action for i in run.plan.items)


async def test_offers_close_call_with_unchecked_students_means_find_out(eng: Engine) -> None:
    answers = {**OFFER_BASE, "fit_a": 4, "fit_b": 4, "place_b": 3, "topic_b": 4}
    answers |= {"unknowns": ["students", "stability"], "deadline": "later"}
    run = await consult(eng, user("offers-unknown"), OFFERS, answers)
    assert run.rec.top.path_id == "find_out"
    assert any("Current students are the best evidence" in w for w in run.rec.why_order)
    assert run.plan.items[0].action.startswith("Email both advisors today")
    assert run.plan.items[0].due == (FIXED_NOW + timedelta(days=1)).date()


async def test_offers_favourite_with_shaky_funding_means_negotiate(eng: Engine) -> None:
    answers = {**OFFER_BASE, "fit_b": 5, "funding_b": 2, "fit_a": 3, "funding_a": 5}
    run = await consult(eng, user("offers-negotiate"), OFFERS, answers)
    assert run.rec.top.path_id == "negotiate"
    b = run.path("accept_b")
    assert any("scramble for money" in r for r in b.reasons)


async def test_offers_neither_fits_means_decline_both(eng: Engine) -> None:
    answers = {**OFFER_BASE, "fit_a": 2, "fit_b": 1, "topic_a": 2, "topic_b": 2}
    run = await consult(eng, user("offers-neither"), OFFERS, answers)
    assert run.rec.top.path_id == "decline_both"
    assert any("Neither advisor fits you well" in w for w in run.rec.why_order)
