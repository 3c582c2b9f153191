"""The consultation linter: the playbooks pass over a persona corpus and random people, and
the linter catches each fault it is meant to catch (so a pass means something)."""

from __future__ import annotations

from datetime import date, timedelta
from pathlib import Path

import pytest
from click.testing import CliRunner

from adapters.cli import cli
from bot.advice.compose import compose
from bot.advice.lint import lint_advice, lint_playbook, persona_corpus
from bot.advice.model import Advice, PlanStep, Verdict, WhatIf
from bot.playbook.loader import load_playbook
from bot.settings import REPO_ROOT

TEST_PB = Path(__file__).parent / "playbooks" / "advice.yaml"
PB = load_playbook(TEST_PB)
TODAY = date(2026, 12, 1)
PERSON = {
    "goal": "academic",
    "degree": "master",
    "field": "physics",
    "region": "europe",
    "routes": ["phd_domain", "masters"],
    "topics": ["domain"],
    "safety": 5,
    "pay": 2,
    "story": "Is a second master's worth it?",
}


def test_the_test_playbook_passes_over_the_corpus_and_300_random_people() -> None:
    corpus = list(persona_corpus(PB))
    assert len(corpus) > 30
    assert lint_playbook(PB, TODAY, random_sets=300, seed=1) == []


@pytest.mark.parametrize("name", ["ml-research-career", "phd-offer-choice"])
def test_the_shipped_playbooks_pass(name: str) -> None:
    pb = load_playbook(REPO_ROOT / "config" / "playbooks" / f"{name}.yaml")
    problems = lint_playbook(pb, TODAY, random_sets=100, seed=2)
    assert problems == [], "\n".join(map(str, problems[:20]))


@pytest.mark.parametrize("today", [date(2027, 1, 20), date(2027, 6, 30), date(2027, 11, 25)])
def test_the_plan_is_right_on_any_day_of_the_year(today: date) -> None:
    assert lint_playbook(PB, today, random_sets=40, seed=3) == []


# --------------------------------------------------------------------------- it catches faults


@pytest.fixture
def advice() -> Advice:
    a = compose(PB, PERSON, TODAY)
    assert a is not None and lint_advice(PB, PERSON, a, TODAY) == []
    return a


def _lint(a: Advice) -> list[str]:
    return lint_advice(PB, PERSON, a, TODAY)


def test_it_catches_a_sentence_said_twice(advice: Advice) -> None:
    bad = advice.model_copy(
        update={"short_version": (*advice.short_version, advice.topics[0].text)}
    )
    assert any("says again" in p for p in _lint(bad))


def test_it_catches_steps_out_of_order_in_the_past_or_after_their_deadline(
    advice: Advice,
) -> None:
    reordered = advice.model_copy(update={"plan": tuple(reversed(advice.plan))})
    assert "plan steps are not in date order" in _lint(reordered)
    past = PlanStep(text="Do it.", due=TODAY - timedelta(days=1))
    assert any("in the past" in p for p in _lint(advice.model_copy(update={"plan": (past,)})))
    late = PlanStep(
        text="Apply.",
        due=date(2027, 2, 1),
        event_id="eu_calls",
        event_date=date(2027, 1, 31),
    )
    assert any(
        "not before the event" in p for p in _lint(advice.model_copy(update={"plan": (late,)}))
    )


def test_it_catches_a_named_route_without_a_verdict(advice: Advice) -> None:
    bad = advice.model_copy(update={"verdicts": advice.verdicts[:1]})
    assert "named route masters_first has no verdict" in _lint(bad)


def test_it_catches_a_selected_topic_without_an_answer(advice: Advice) -> None:
    bad = advice.model_copy(update={"topics": advice.topics[1:]})
    assert any(p.startswith("selected topic") for p in _lint(bad))


def test_it_catches_a_factor_against_a_route_given_as_a_reason(advice: Advice) -> None:
    industry = advice.path("industry")
    assert industry is not None
    against = "An industry job rarely leads back to academia."
    assert against in industry.reasons_against
    wrong = industry.model_copy(update={"reasons_for": (against,)})
    paths = tuple(wrong if p.path_id == "industry" else p for p in advice.paths)
    assert any(
        "a factor against it" in p for p in _lint(advice.model_copy(update={"paths": paths}))
    )


def test_it_catches_a_false_or_sibling_what_if(advice: Advice) -> None:
    assert advice.what_if is not None and advice.what_if.question_id
    false = advice.what_if.model_copy(update={"path_id": "masters_first"})
    assert any("re-ranking gives" in p for p in _lint(advice.model_copy(update={"what_if": false})))
    sibling = WhatIf(text="x.", question_id="pay", answer=2, path_id=advice.paths[0].path_id)
    assert any("a sibling" in p for p in _lint(advice.model_copy(update={"what_if": sibling})))


def test_it_catches_bad_grammar_and_a_broken_platform_limit(advice: Advice) -> None:
    joined = Verdict(path_id="phd_domain", title="A PhD", text="Good.; really good.")
    bad = advice.model_copy(update={"verdicts": (joined, *advice.verdicts[1:])})
    assert any("'.;' join" in p for p in _lint(bad))
    huge = advice.model_copy(update={"short_version": ("Word " * 900 + "end.", "Fine.")})
    problems = _lint(huge)
    assert any("over the 3000 limit" in p for p in problems)


# --------------------------------------------------------------------------- the command


def test_the_lint_command_passes_a_good_playbook() -> None:
    res = CliRunner().invoke(
        cli, ["playbook", "lint", str(TEST_PB), "--random", "20", "--today", "2026-12-01"]
    )
    assert res.exit_code == 0, res.output
    assert res.output.strip().endswith("0 problem(s) (advice-test v1, 20 random)")


def test_the_lint_command_reports_every_fault_and_fails(tmp_path: Path) -> None:
    text = TEST_PB.read_text(encoding="utf-8").replace(
        "      - text: Good pay from the start.",
        "      - text: Good pay from the start.; Really",
    )
    bad = tmp_path / "bad.yaml"
    bad.write_text(text, encoding="utf-8")
    res = CliRunner().invoke(cli, ["playbook", "lint", str(bad), "--random", "10"])
    assert res.exit_code == 1
    lines = res.output.strip().splitlines()
    assert any("'.;' join" in line and line.startswith(f"{bad}: ") for line in lines)
    assert "problem(s)" in lines[-1]


def test_it_catches_a_title_put_mid_sentence_with_its_capital(advice: Advice) -> None:
    title = advice.paths[1].title
    assert title[0].isupper()
    bad = advice.model_copy(update={"short_version": (f"Go for {title}.", "Fine.")})
    assert any("a mid-sentence capital" in p for p in _lint(bad))
