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


# --------------------------------------------------------------------------- each check, exactly


def _top(advice: Advice, i: int, **update: object) -> Advice:
    top = list(advice.top)
    top[i] = top[i].model_copy(update=update)
    return advice.model_copy(update={"top": tuple(top)})


def test_it_reads_every_part_of_the_advice_and_names_it(advice: Advice) -> None:
    from bot.advice.lint import body_texts
    from bot.advice.model import RiskItem, TopicAnswer

    bad = "Bad ,text."
    fault = f"a space before punctuation in {bad!r}"
    risk = RiskItem(text=bad, remedy="Fine remedy.")
    remedy = RiskItem(text="Fine risk.", remedy=bad)
    cases: list[tuple[Advice, str]] = [
        (advice.model_copy(update={"short_version": (bad, *advice.short_version[1:])}), "short[0]"),
        (
            advice.model_copy(
                update={
                    "verdicts": (
                        advice.verdicts[0].model_copy(update={"text": bad}),
                        *advice.verdicts[1:],
                    )
                }
            ),
            "verdict phd_domain",
        ),
        (
            advice.model_copy(
                update={
                    "unnamed": Verdict(path_id="phd_ml", title="A PhD in ML", text=bad, named=False)
                }
            ),
            "unnamed phd_ml",
        ),
        (
            advice.model_copy(
                update={
                    "topics": (
                        TopicAnswer(topic_id="domain_value", title="T", text=bad),
                        *advice.topics,
                    )
                }
            ),
            "topic domain_value",
        ),
        (_top(advice, 1, summary=bad), "industry summary"),
        (_top(advice, 1, reasons_for=(bad,)), "industry reason"),
        (_top(advice, 1, pros=(bad,)), "industry pro"),
        (_top(advice, 1, cons=(bad,)), "industry con"),
        (_top(advice, 1, risks=(risk,)), "industry risk"),
        (_top(advice, 1, risks=(remedy,)), "industry remedy"),
        (
            advice.model_copy(
                update={"confidence": advice.confidence.model_copy(update={"text": bad})}  # type: ignore[union-attr]
            ),
            "confidence",
        ),
        (advice.model_copy(update={"what_if": WhatIf(text=bad)}), "what_if"),
        (advice.model_copy(update={"plan": (PlanStep(text=bad, due=TODAY),)}), "plan"),
    ]
    for broken, where in cases:
        assert f"{where}: {fault}" in _lint(broken), where
    # And in reading order, every part once.
    wheres = [w for w, _ in body_texts(advice)]
    assert wheres[: len(advice.short_version)] == [
        f"short[{i}]" for i in range(len(advice.short_version))
    ]
    assert wheres[-len(advice.plan) :] == ["plan"] * len(advice.plan)
    assert wheres.index("confidence") < wheres.index("what_if") < wheres.index("plan")


@pytest.mark.parametrize(
    ("text", "what"),
    [
        ("Good.; really.", "a '.;' join"),
        ("Good , really.", "a space before punctuation"),
        ("Good.. Really.", "a doubled full stop"),
        ("Good  really.", "a doubled space"),
    ],
)
def test_each_grammar_fault_is_named(advice: Advice, text: str, what: str) -> None:
    bad = advice.model_copy(update={"short_version": (text, *advice.short_version[1:])})
    assert f"short[0]: {what} in {text!r}" in _lint(bad)


def test_an_ellipsis_is_no_doubled_full_stop(advice: Advice) -> None:
    ok = advice.model_copy(
        update={"short_version": ("Wait... then go.", *advice.short_version[1:])}
    )
    assert not [p for p in _lint(ok) if "doubled full stop" in p]


def test_sizes_sentences_and_titles_at_their_limits(advice: Advice) -> None:
    from bot.advice.lint import MAX_TEXT, MAX_TITLE

    exact = "x" * (MAX_TEXT - 1) + "."
    fits = advice.model_copy(update={"short_version": (exact, *advice.short_version[1:])})
    assert not [p for p in _lint(fits) if "limit" in p]
    over = advice.model_copy(update={"short_version": (exact + "x", *advice.short_version[1:])})
    assert f"short[0]: {MAX_TEXT + 1} characters, over the {MAX_TEXT} limit" in _lint(over)
    lower = advice.model_copy(update={"short_version": ("fine start.", *advice.short_version[1:])})
    assert "short[0]: a sentence starts in lower case: 'fine start.'" in _lint(lower)
    for n in (1, 5):
        short = tuple(f"Sentence number {i}." for i in range(n))
        assert f"short version has {n} sentences, not 2-4" in _lint(
            advice.model_copy(update={"short_version": short})
        )
    for n in (2, 4):
        short = tuple(f"Sentence number {i}." for i in range(n))
        assert not [
            p
            for p in _lint(advice.model_copy(update={"short_version": short}))
            if "short version has" in p
        ]
    long_title = advice.paths[1].model_copy(update={"title": "T" * (MAX_TITLE + 1)})
    ok_title = advice.paths[1].model_copy(update={"title": "T" * MAX_TITLE})
    for view, expect in ((long_title, True), (ok_title, False)):
        paths = (advice.paths[0], view, *advice.paths[2:])
        found = f"path industry: title over {MAX_TITLE} characters" in _lint(
            advice.model_copy(update={"paths": paths})
        )
        assert found == expect


def test_plan_faults_are_named(advice: Advice) -> None:
    undated = PlanStep(text="Think.", due=None)
    dated = PlanStep(text="Write.", due=TODAY + timedelta(days=3))
    assert "an undated step comes before a dated one" in _lint(
        advice.model_copy(update={"plan": (undated, dated)})
    )
    assert "an undated step comes before a dated one" not in _lint(
        advice.model_copy(update={"plan": (dated, undated)})
    )
    today = PlanStep(text="Now.", due=TODAY)
    assert not [p for p in _lint(advice.model_copy(update={"plan": (today,)})) if "past" in p]
    on_the_day = PlanStep(
        text="Apply.", due=date(2027, 1, 31), event_id="eu_calls", event_date=date(2027, 1, 31)
    )
    assert "step due 2027-01-31, not before the event on 2027-01-31: 'Apply.'" in _lint(
        advice.model_copy(update={"plan": (on_the_day,)})
    )
    # A deadline of the other region does not apply to this person (Europe).
    na = PlanStep(text="Apply in the US.", due=TODAY, event_id="na_deadlines")
    assert "step tied to na_deadlines, which does not apply to this person" in _lint(
        advice.model_copy(update={"plan": (na,)})
    )
    eu = PlanStep(text="Apply in Europe.", due=TODAY, event_id="eu_calls")
    assert not [p for p in _lint(advice.model_copy(update={"plan": (eu,)})) if "tied to" in p]
    # The steps of every path are checked too, not only the plan's.
    past = PlanStep(text="Old.", due=TODAY - timedelta(days=1))
    view = advice.paths[2].model_copy(update={"steps": (past,)})
    paths = (*advice.paths[:2], view, *advice.paths[3:])
    assert f"step in the past ({TODAY - timedelta(days=1)}): 'Old.'" in _lint(
        advice.model_copy(update={"paths": paths})
    )


def test_verdict_topic_and_path_faults_are_named(advice: Advice) -> None:
    empty = advice.verdicts[0].model_copy(update={"text": "  "})
    assert "verdict for phd_domain is empty" in _lint(
        advice.model_copy(update={"verdicts": (empty, *advice.verdicts[1:])})
    )
    blank_topic = advice.topics[0].model_copy(update={"text": " "})
    assert f"selected topic {blank_topic.topic_id} has no answer" in _lint(
        advice.model_copy(update={"topics": (blank_topic, *advice.topics[1:])})
    )
    bare = advice.paths[2].model_copy(
        update={"pros": (), "cons": (), "risks": (), "reasons_for": ()}
    )
    paths = (*advice.paths[:2], bare, *advice.paths[3:])
    assert "phd_ml: no pros, cons, risks or reasons" in _lint(
        advice.model_copy(update={"paths": paths})
    )
    for keep in ("pros", "cons", "risks", "reasons_for"):
        one = advice.paths[2].model_copy(
            update={
                k: getattr(advice.paths[2], k) if k == keep else ()
                for k in ("pros", "cons", "risks", "reasons_for")
            }
        )
        if not getattr(one, keep):
            continue
        paths = (*advice.paths[:2], one, *advice.paths[3:])
        assert "phd_ml: no pros, cons, risks or reasons" not in _lint(
            advice.model_copy(update={"paths": paths})
        ), keep


def test_overview_and_left_out_faults_are_named(advice: Advice) -> None:
    swapped = (advice.paths[1], advice.paths[0], *advice.paths[2:])
    assert "the overview does not list every ranked path in order" in _lint(
        advice.model_copy(update={"paths": swapped})
    )
    assert "the overview does not list every ranked path in order" in _lint(
        advice.model_copy(update={"paths": advice.paths[:-1]})
    )
    silent = advice.left_out[0].model_copy(update={"reason": " "})
    assert "left-out path predoc does not say why" in _lint(
        advice.model_copy(update={"left_out": (silent,)})
    )
    assert "not every left-out path is listed" in _lint(advice.model_copy(update={"left_out": ()}))


def test_a_neutral_rating_given_as_a_reason_is_named(advice: Advice) -> None:
    from bot.advice.compose import mid_sentence, phrase

    crit = next(c for c in PB.criteria if c.id == "pay")  # pay 2 of 5: below the middle
    reason = PB.wording.reason_for.replace("{criterion}", mid_sentence(crit.label)).replace(
        "{path}", phrase(PB, "industry", {**PERSON})
    )
    view = advice.paths[1].model_copy(update={"reasons_for": (reason,)})
    paths = (advice.paths[0], view, *advice.paths[2:])
    assert f"industry: a neutral or low rating gives a reason: {reason!r}" in _lint(
        advice.model_copy(update={"paths": paths})
    )


def test_a_false_case_of_the_decision_map_is_named() -> None:
    person = {**PERSON, "goal": "unsure"}
    a = compose(PB, person, TODAY)
    assert a is not None and a.cases and lint_advice(PB, person, a, TODAY) == []
    case = a.cases[0]
    other = next(c.path_id for c in a.cases if c.path_id != case.path_id)
    wrong = case.model_copy(update={"path_id": other})
    problems = lint_advice(PB, person, a.model_copy(update={"cases": (wrong, *a.cases[1:])}), TODAY)
    answer = case.answers[0]
    assert f"case goal={answer} claims {other}, got {case.path_id}" in problems


def test_a_mid_sentence_capital_is_named_only_mid_sentence(advice: Advice) -> None:
    title = advice.paths[1].title  # "A job at a tech company"
    mid = advice.model_copy(update={"short_version": (f"Then go for {title}.", "Fine.")})
    assert f"short[0]: a mid-sentence capital in {title!r}" in _lint(mid)
    start = advice.model_copy(update={"short_version": (f"{title} is next.", "Fine.")})
    assert not [p for p in _lint(start) if "mid-sentence capital" in p]
    # Only the parts that name routes in running text are checked for it.
    plan = advice.model_copy(update={"plan": (PlanStep(text=f"Look at {title}.", due=TODAY),)})
    assert not [p for p in _lint(plan) if "mid-sentence capital" in p]


def test_a_cut_text_on_a_card_is_named(advice: Advice) -> None:
    from bot.advice.lint import check_cards

    assert check_cards(advice) == []
    cut = advice.model_copy(update={"short_version": (*advice.short_version[:-1], "It goes on…")})
    assert any("a text was cut" in p for p in check_cards(cut))


# --------------------------------------------------------------------------- the corpus


@pytest.mark.parametrize(
    ("pattern", "sample"),
    [
        ("not interested in (becoming )?a professor", "not interested in becoming a professor"),
        ("another master'?s", "another master's"),
        ("ph\\.?d in physics", "ph.d in physics"),
        ("safe(ty)? (job|route)", "safety job"),
        ("(?:a|b)c", "ac"),
        ("\\bword\\b", "word"),
        ("^start$", "start"),
        ("a+b*c", "abc"),
        ("(x|y|z)w", "xw"),
        ("[- ]go", "-go"),
        ("x{2}y", ""),  # best effort: no sample when the simplified text does not match
    ],
)
def test_cue_patterns_are_turned_into_texts_they_match(pattern: str, sample: str) -> None:
    from bot.advice.lint import _sample_of

    assert _sample_of(pattern) == sample


def test_the_persona_corpus_is_a_base_person_then_each_answer_in_turn() -> None:
    tiny = load_playbook(Path(__file__).parent / "playbooks" / "tiny.yaml")
    corpus = list(persona_corpus(tiny))
    base = {"role": "student", "thesis": "yes", "skills": ["code"], "money": 3, "notes": None}
    assert corpus[0] == ("base", base)
    assert [w for w, _ in corpus[1:]] == [
        "role=student",
        "role=worker",
        "role=other",
        "thesis=yes",
        "thesis=no",
        "skills=['code']",
        "skills=['maths']",
        "skills=['writing']",
        "skills=['code', 'maths', 'writing']",
        "money=1",
        "money=2",
        "money=3",
        "money=4",
        "money=5",
    ]
    assert dict(corpus)["money=5"] == {**base, "money": 5}
    assert dict(corpus)["skills=['maths']"] == {**base, "skills": ["maths"]}
    # A free-text question is tried with every cue's sample text.
    with_cues = dict(persona_corpus(PB))
    assert with_cues["story='domain knowledge'"]["story"] == "domain knowledge"


def test_random_people_are_valid_and_the_same_for_a_seed() -> None:
    import random

    from bot.advice.lint import cue_phrases, random_answers
    from bot.playbook.conditions import evaluate
    from bot.validation import parse_answer

    phrases = cue_phrases(PB)
    people = [random_answers(PB, random.Random(7), phrases) for _ in range(2)]
    assert people[0] == people[1]
    rng = random.Random(3)
    skipped = stories = 0
    for _ in range(200):
        person = random_answers(PB, rng, phrases)
        for q in PB.questions:
            if not evaluate(q.when, person):
                assert q.id not in person
                continue
            value = person[q.id]
            if value is None:
                assert q.optional
                skipped += 1
                continue
            raw = value if not isinstance(value, int) else str(value)
            assert parse_answer(q, raw, PB.wording, 4000) == value, (q.id, value)
            if q.id == "story":
                stories += value != "Nothing else."
    assert skipped and stories


def test_lint_playbook_counts_people_and_reports_who() -> None:
    from bot.advice.lint import Problem

    seen: list[int] = []
    problems = lint_playbook(PB, TODAY, random_sets=5, seed=1, progress=seen.append)
    assert problems == []
    assert seen == list(range(1, len(list(persona_corpus(PB))) + 6))
    assert str(Problem("random #3", "a fault")) == "random #3: a fault"


def test_random_stories_are_cue_texts_joined_as_sentences_and_scales_are_whole() -> None:
    import random

    from bot.advice.lint import cue_phrases, random_answers

    phrases = cue_phrases(PB)
    rng = random.Random(5)
    joined = 0
    for _ in range(100):
        story = random_answers(PB, rng, phrases).get("story")
        if not story or story == "Nothing else.":
            continue
        parts = story.split(". ")
        joined += len(parts) > 1
        for part in parts:
            assert part.removeprefix("I do not think ") in phrases, (story, part)
    assert joined
    base = dict(persona_corpus(PB))["base"]
    assert all(isinstance(base[q.id], int) for q in PB.questions if q.kind.value == "scale")
    assert base["safety"] == 3  # the middle of 1..5


def test_the_corpus_goes_on_past_a_free_text_question() -> None:
    from bot.playbook.loader import parse_playbook

    pb = parse_playbook(
        """
id: order
version: 1
title: Order
intro: Hi.
questions:
  - {id: story, kind: free_text, short: story, prompt: Story?, optional: true}
  - id: pick
    kind: single_choice
    short: pick
    prompt: Pick?
    choices: [{id: a, label: A}, {id: b, label: B}]
criteria: []
paths: [{id: p, title: P, summary: P.}, {id: q, title: Q, summary: Q.}]
""",
        "order",
    )
    assert [w for w, _ in persona_corpus(pb)] == ["base", "pick=a", "pick=b"]
