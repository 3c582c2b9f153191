"""The composed advice (bot/advice): what a reader would look for, on the test playbook.

tests/playbooks/advice.yaml has every advice construct: a key question with an
undecided answer, named routes, topics, cues, families, a calendar per region. Claims
about other answers (what-if, the decision map) are checked by re-ranking.
"""

from __future__ import annotations

import random
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import pytest

from bot.advice import whatif
from bot.advice.compose import compose, sentences
from bot.advice.cues import apply_cues, read_cues
from bot.advice.lint import lint_advice, random_answers
from bot.advice.model import Advice, Level
from bot.advice.plan import next_occurrence
from bot.playbook.loader import load_playbook

PB = load_playbook(Path(__file__).parent / "playbooks" / "advice.yaml")
TODAY = date(2026, 12, 1)

# A physicist with a master's, drawn to academia, weighing three routes, with a worry typed.
PHYSICIST: dict[str, Any] = {
    "goal": "academic",
    "degree": "master",
    "field": "physics",
    "region": "europe",
    "routes": ["phd_domain", "masters", "company"],
    "topics": ["domain"],
    "safety": 3,
    "pay": 2,
    "story": "Would a second master's in CS make me a better candidate?",
}


def advise(answers: dict[str, Any], today: date = TODAY) -> Advice:
    advice = compose(PB, answers, today)
    assert advice is not None
    return advice


def all_text(advice: Advice) -> str:
    parts = [*advice.short_version, *(v.text for v in advice.verdicts)]
    parts += [t.text for t in advice.topics]
    for s in advice.top:
        parts += [s.summary, *s.reasons_for, *s.pros, *s.cons]
        parts += [f"{r.text} {r.remedy}" for r in s.risks]
    return " ".join(parts)


# --------------------------------------------------------------------------- short version


def test_a_clear_case_leads_with_the_route_and_its_deciding_reason() -> None:
    advice = advise(PHYSICIST)
    assert advice.paths[0].path_id == "phd_domain"
    assert not advice.conditional
    assert 2 <= len(advice.short_version) <= 4
    assert advice.short_version[0] == "My advice: a PhD in ML for your own field."
    assert "Your physics background is worth most in ML for science." in advice.short_version


def test_an_undecided_key_question_makes_the_advice_conditional_and_true() -> None:
    advice = advise({**PHYSICIST, "goal": "unsure"})
    assert advice.conditional and advice.deciding_question == "goal"
    assert 2 <= len(advice.short_version) <= 4
    short = " ".join(advice.short_version)
    # Each case says what to do, and re-ranking with that answer agrees.
    assert {c.path_id for c in advice.cases} == {"phd_domain", "industry"}
    for case in advice.cases:
        for answer in case.answers:
            assert whatif.top_id(PB, {**advice.answers, "goal": answer}) == case.path_id
        assert f"“{case.answer_labels[0]}”" in short
        assert case.title.lower() in short.lower()
    # What keeps both open: a route ranked well whichever way the person decides.
    assert advice.keep_open
    assert f"until you know, {advice.path(advice.keep_open).title.lower()}" in short.lower()
    for cid in ("academic", "applied"):
        order = [p for p, _ in whatif.ranked(PB, {**advice.answers, "goal": cid})]
        assert order.index(advice.keep_open) <= 1


def test_a_close_call_says_so_and_what_would_tip_it() -> None:
    rng = random.Random(3)
    found = 0
    for _ in range(300):
        answers = random_answers(PB, rng, [])
        if answers.get("goal") == "unsure":
            continue
        advice = advise(answers)
        if len(advice.paths) < 2 or advice.confidence is None:
            continue
        margin = advice.paths[0].score - advice.paths[1].score
        if margin >= PB.close_margin:
            assert advice.confidence.level != Level.CLOSE
            continue
        found += 1
        assert advice.conditional and advice.confidence.level == Level.CLOSE
        assert advice.short_version[0].startswith("It is a close call between")
        assert advice.paths[1].title.lower() in advice.short_version[0].lower()
    assert found >= 5, "the corpus must hold close calls"


# --------------------------------------------------------------------------- routes and topics


def test_every_named_route_gets_its_verdict_in_order_then_the_strong_unnamed_one() -> None:
    advice = advise({**PHYSICIST, "goal": "applied", "routes": ["phd_domain", "masters"]})
    assert [v.path_id for v in advice.verdicts] == ["phd_domain", "masters_first"]
    masters = advice.verdicts[1]
    assert masters.text.startswith("Skip it, unless a programme you want requires it.")
    assert masters.rank == 4 and "routes I considered" not in masters.text  # no bare rank


def test_the_runner_up_says_it_comes_second_and_after_what() -> None:
    routes = PB.role_question("routes")
    assert routes is not None
    named = [c for c in routes.choice_ids if c != "none_yet"]
    advice = advise({**PHYSICIST, "goal": "applied", "routes": named})
    assert not advice.conditional
    [second] = [v for v in advice.verdicts if v.rank == 2]
    assert second.text.endswith("It comes second for you, after a job at a tech company.")
    others = [v for v in advice.verdicts if v.rank and v.rank > 2]
    assert others and all("second for you" not in v.text for v in others)


def test_a_named_route_that_does_not_apply_says_why() -> None:
    advice = advise({**PHYSICIST, "routes": ["predoc"]})
    (verdict,) = advice.verdicts
    assert verdict.rank is None
    assert verdict.text == "It is meant for people who do not hold a master's yet."
    assert [lo.path_id for lo in advice.left_out] == ["predoc"]


def test_a_route_typed_in_the_story_gets_a_verdict_too() -> None:
    advice = advise({**PHYSICIST, "routes": None, "story": "I am thinking of a PhD in physics."})
    assert [v.path_id for v in advice.verdicts] == ["phd_domain"]


def test_topics_are_selected_by_choice_by_cue_and_by_rule_and_answered_for_the_person() -> None:
    advice = advise(PHYSICIST)
    by_id = {t.topic_id: t for t in advice.topics}
    assert by_id["domain_value"].selected_by == "choice"
    assert by_id["domain_value"].text.startswith("A lot, in ML for science")  # a physicist
    assert by_id["second_masters"].selected_by == "cue"  # the typed worry is answered
    assert "Rarely:" in by_id["second_masters"].text
    assert "Would a second master" not in all_text(advice)  # not echoed back
    # A master's holder who did not ask still gets the master's question answered (rule).
    cs = advise({**PHYSICIST, "field": "cs", "topics": None, "story": None})
    (topic,) = cs.topics
    assert topic.topic_id == "second_masters" and topic.selected_by == "rule"
    assert topic.text.startswith("No: you already have the computer science")
    # Not selected: no answer.
    bachelor = advise({**PHYSICIST, "degree": "bachelor", "topics": None, "story": None})
    assert bachelor.topics == ()


# --------------------------------------------------------------------------- cues


@pytest.mark.parametrize(
    ("text", "safety"),
    [
        ("I would like a safe job.", 5),
        ("I do not want a safe job.", 1),
        ("I don't need a safe route at all.", 1),
        ("No, I want a safe job.", 5),  # the negation is in another clause
        ("I want a safe job, not a big salary.", 5),  # the negation comes after
        ("Honestly I would rather not have a safe route.", 1),
    ],
)
def test_a_cue_reads_negation_in_its_clause(text: str, safety: int) -> None:
    hits = read_cues(PB, text)
    assert [(v.q, v.value) for v in hits.sets] == [("safety", safety)]
    filled, _ = apply_cues(PB, {**PHYSICIST, "safety": None, "story": text})
    assert filled["safety"] == safety


def test_a_cue_never_overrides_an_answer_the_person_gave() -> None:
    filled, hits = apply_cues(PB, {**PHYSICIST, "story": "I do not want a safe job."})
    assert hits.sets and filled["safety"] == 3


def test_a_negated_cue_without_an_alternative_is_ignored() -> None:
    assert read_cues(PB, "I never asked about domain knowledge.").topics == []
    assert read_cues(PB, "My domain knowledge is deep.").topics == ["domain_value"]


# --------------------------------------------------------------------------- reasons


def test_a_neutral_rating_never_yields_a_reason_and_a_high_one_does_where_it_decides() -> None:
    neutral = advise({**PHYSICIST, "goal": "applied", "safety": 3})
    assert "safety matters" not in all_text(neutral)
    for view in neutral.paths:
        assert not any("safety matters" in r for r in (*view.reasons_for, *view.reasons_against))
    keen = advise({**PHYSICIST, "goal": "applied", "safety": 5})
    industry = keen.path("industry")
    assert industry is not None
    assert "It is a safe route, and safety matters a lot to you." in industry.reasons_for
    # The risky route gets it as a reason against, never for.
    phd_ml = keen.path("phd_ml")
    assert phd_ml is not None
    assert "It is the riskier route, and safety matters a lot to you." in phd_ml.reasons_against
    assert not any("riskier" in r for r in phd_ml.reasons_for)


def test_a_rule_against_a_route_is_never_a_reason_for_it() -> None:
    advice = advise({**PHYSICIST, "goal": "applied"})
    phd = advice.path("phd_domain")
    assert phd is not None
    assert "A domain doctorate is a slow road to an industry lab." in phd.reasons_against
    assert all("slow road" not in r for r in phd.reasons_for)


def test_no_sentence_is_said_twice() -> None:
    for goal in ("academic", "applied", "unsure"):
        advice = advise({**PHYSICIST, "goal": goal})
        said = [s.casefold() for s in sentences(all_text(advice))]
        assert len(said) == len(set(said)), goal


# --------------------------------------------------------------------------- what would change


def test_what_would_change_names_a_different_kind_of_route_and_is_true() -> None:
    rng = random.Random(7)
    checked = 0
    for _ in range(200):
        answers = random_answers(PB, rng, [])
        advice = advise(answers)
        wi = advice.what_if
        assert wi is not None
        if not wi.question_id:
            continue
        checked += 1
        changed = {**advice.answers, wi.question_id: wi.answer}
        assert whatif.top_id(PB, changed) == wi.path_id
        assert whatif.family(PB, wi.path_id) != advice.paths[0].family
    assert checked >= 50


def test_what_would_change_skips_a_sibling_of_the_same_family() -> None:
    # phd_domain leads; the nearest change may put phd_ml (a sibling doctorate) first, but
    # the advice speaks only of a different family.
    advice = advise(PHYSICIST)
    assert advice.what_if is not None and advice.what_if.path_id
    assert advice.path(advice.what_if.path_id).family != "doctorate"  # type: ignore[union-attr]
    assert "instead:" in advice.what_if.text


# --------------------------------------------------------------------------- plan


def test_calendar_steps_fall_before_the_event_or_say_which_cycle() -> None:
    # 1 December: the European round of 31 January is 61 days away: this cycle.
    advice = advise(PHYSICIST, date(2026, 12, 1))
    apply = next(s for s in advice.plan if s.event_id == "eu_calls")
    assert apply.event_date == date(2027, 1, 31)
    assert apply.due == date(2027, 1, 10)
    assert "round" not in apply.text
    # 20 January: too close to prepare (lead 21 days + a week): the next cycle, said so.
    late = advise(PHYSICIST, date(2027, 1, 20))
    apply = next(s for s in late.plan if s.event_id == "eu_calls")
    assert apply.event_date == date(2028, 1, 31) and apply.due == date(2028, 1, 10)
    assert apply.text.endswith("(for the January 2028 round).")
    # The shortlist that prepares the applications is due before them, never after.
    shortlist = next(s for s in late.paths[0].steps if s.text.startswith("Shortlist"))
    assert shortlist.due is not None and shortlist.due <= apply.due


def test_steps_follow_the_region() -> None:
    na = advise({**PHYSICIST, "region": "north_america"})
    events = {s.event_id for p in na.paths for s in p.steps if s.event_id}
    assert events == {"na_deadlines"}
    anywhere = advise({**PHYSICIST, "region": "open"})
    events = {s.event_id for p in anywhere.paths for s in p.steps if s.event_id}
    assert events == {"eu_calls", "na_deadlines"}


@pytest.mark.parametrize("offset", range(0, 366, 13))
def test_the_plan_is_dated_in_order_never_past_never_after_its_deadline(offset: int) -> None:
    today = date(2026, 1, 1) + timedelta(days=offset)
    advice = advise({**PHYSICIST, "region": "open"}, today)
    dues = [s.due for s in advice.plan if s.due is not None]
    assert dues == sorted(dues) and dues[0] >= today
    for s in advice.plan:
        if s.event_date is not None:
            assert s.due is not None and s.due < s.event_date
            assert (s.event_date - today).days >= 28


def test_next_occurrence_on_the_event_day_is_next_year() -> None:
    event = PB.event("na_deadlines")
    assert event is not None
    assert next_occurrence(event, date(2026, 12, 1), 21) == (date(2027, 12, 1), True)
    assert next_occurrence(event, date(2026, 10, 1), 21) == (date(2026, 12, 1), False)


def test_the_linter_finds_nothing_in_these_cases() -> None:
    for goal in ("academic", "applied", "unsure"):
        answers = {**PHYSICIST, "goal": goal}
        assert lint_advice(PB, answers, advise(answers), TODAY) == []


# ------------------------------------------------------------------ plan dates at their edges

PLAN_YAML = """
id: plan-test
version: 1
title: Plan test
intro: Hi.
max_next_steps: 4
calendar:
  - {id: call, label: the call, month: 3, day: 31}
  - {id: other, label: the other call, month: 6, day: 1, when: {q: go, is: "yes"}}
questions:
  - id: go
    kind: single_choice
    short: go
    prompt: Go?
    choices:
      - {id: "yes", label: "Yes"}
      - {id: "no", label: "No"}
criteria: []
paths:
  - id: first
    title: First
    summary: The first.
    next_steps:
      - {text: Read the rules., due_in_days: 60}
      - {text: Apply., before: call, lead_days: 10}
      - {text: Celebrate.}
      - {text: Only if yes., due_in_days: 1, when: {q: go, is: "yes"}}
      - {text: Apply to the other., before: other, lead_days: 0}
  - id: second
    title: Second
    summary: The second.
    next_steps:
      - {text: apply., due_in_days: 2}
      - {text: Call a friend., due_in_days: 3}
      - {text: Rest., due_in_days: 4}
"""


def _plan_pb():  # type: ignore[no-untyped-def]
    from bot.playbook.loader import parse_playbook

    return parse_playbook(PLAN_YAML, "plan-test")


def test_a_calendar_step_is_this_cycles_only_with_lead_and_slack_left() -> None:
    from bot.advice.plan import SLACK_DAYS, next_occurrence

    pb = _plan_pb()
    call = pb.event("call")
    assert call is not None and SLACK_DAYS == 7
    # 31 March, 10 days of lead: this cycle while at least 17 days remain.
    assert next_occurrence(call, date(2027, 3, 14), 10) == (date(2027, 3, 31), False)
    assert next_occurrence(call, date(2027, 3, 15), 10) == (date(2028, 3, 31), True)
    assert next_occurrence(call, date(2027, 3, 31), 0) == (date(2028, 3, 31), True)
    assert next_occurrence(call, date(2027, 4, 1), 0) == (date(2028, 3, 31), False)
    assert next_occurrence(call, date(2027, 3, 24), 0) == (date(2027, 3, 31), False)


def test_step_texts_and_dates_for_this_and_the_next_cycle() -> None:
    from bot.advice.plan import path_steps

    pb = _plan_pb()
    first = pb.path("first")
    assert first is not None
    early = path_steps(pb, first, {"go": "no"}, date(2027, 1, 1))
    assert [(s.text, s.due, s.event_id, s.event_date) for s in early] == [
        ("Read the rules.", date(2027, 3, 2), "", None),
        ("Apply.", date(2027, 3, 21), "call", date(2027, 3, 31)),
        ("Celebrate.", None, "", None),
    ]
    # Two months of reading would end after the deadline: it is brought forward to it.
    late = path_steps(pb, first, {"go": "no"}, date(2027, 2, 1))
    assert [(s.text, s.due) for s in late[:2]] == [
        ("Read the rules.", date(2027, 3, 21)),
        ("Apply.", date(2027, 3, 21)),
    ]
    # Too close to this year's call: next year's round, and the text says which.
    missed = path_steps(pb, first, {"go": "yes"}, date(2027, 3, 20))
    apply = next(s for s in missed if s.event_id == "call")
    assert apply.text == "Apply (for the March 2028 round)."
    assert apply.due == date(2028, 3, 21) and apply.event_date == date(2028, 3, 31)
    assert [s.text for s in missed if s.event_id == "other"] == ["Apply to the other."]
    assert "Only if yes." in [s.text for s in missed]
    # An event that does not apply to the person drops its step.
    assert not [s for s in early if s.event_id == "other"]
    assert all(s.path_id == "first" for s in early)


def test_the_plan_takes_paths_in_turn_up_to_the_limit_by_date_once_each() -> None:
    from bot.advice.plan import build_plan

    pb = _plan_pb()
    first, second = pb.path("first"), pb.path("second")
    assert first is not None and second is not None
    today = date(2027, 1, 1)
    plan = build_plan(pb, [first, second], {"go": "no"}, today)
    # Three from the first path reach the minimum: the second path is not needed.
    assert [s.text for s in plan] == ["Read the rules.", "Apply.", "Celebrate."]
    more = build_plan(pb, [first, second], {"go": "no"}, today, minimum=5)
    # Undated last; "apply." is "Apply." again; never more than max_next_steps (4).
    assert [(s.text, s.due) for s in more] == [
        ("Call a friend.", date(2027, 1, 4)),
        ("Read the rules.", date(2027, 3, 2)),
        ("Apply.", date(2027, 3, 21)),
        ("Celebrate.", None),
    ]
    same_day = build_plan(pb, [second], {"go": "no"}, today, minimum=1)
    assert [s.text for s in same_day] == ["apply.", "Call a friend.", "Rest."]


# ------------------------------------------------------------------ the words of the advice


def test_sentence_helpers() -> None:
    from bot.advice.compose import Said, cap, first_sentence, mid_sentence, sentence, sentences

    assert mid_sentence(" A PhD in ML ") == "a PhD in ML"
    assert mid_sentence("PhD first") == "PhD first"
    assert mid_sentence("ML for science") == "ML for science"
    assert mid_sentence("A") == "a"
    assert mid_sentence("Another master's first") == "another master's first"
    assert cap("  go now ") == "Go now"
    assert sentence("  go   there  ") == "Go there."
    for ending in ("Go!", "Go?", "Go…", "Go (now)", "He said “go”", 'He said "go"', "Go."):
        assert sentence(ending) == ending
    assert sentence("   ") == ""
    assert sentences("One. Two!  Three? (Four.) “Five.” 6 six. seven.") == [
        "One.",
        "Two!",
        "Three?",
        "(Four.) “Five.” 6 six. seven.",  # only after . ! ? and before a capital or digit
    ]
    assert sentences("Go. “Now” is. 2 more. 'Yes' too. \"No\" then.") == [
        "Go.",
        "“Now” is.",
        "2 more.",
        "'Yes' too.",
        '"No" then.',
    ]
    assert sentences("  ") == []
    assert first_sentence("One. Two.") == "One."
    assert first_sentence("") == ""
    said = Said()
    assert said.fresh("One. Two.") == "One. Two."
    assert said.fresh("two! Three.") == "Three."  # case and punctuation do not make it new
    assert said.fresh("...") == ""


def test_reasons_speak_only_for_what_matters_to_the_person() -> None:
    from bot.advice.compose import reasons
    from bot.playbook.loader import parse_playbook

    pb = parse_playbook(
        """
id: reasons
version: 1
title: Reasons
intro: Hi.
questions:
  - {id: pay, kind: scale, short: pay, prompt: Pay?, scale_min: 1, scale_max: 5}
criteria:
  - id: pay
    label: Good pay
    weight: {question: pay, value: 2}
  - id: fixed
    label: Fixed thing
    weight: {value: 1}
    reason_for: "{path} is steady."
    reason_against: "{path} is unsteady."
  - id: mute
    label: Mute thing
    weight: {value: 1}
paths:
  - id: job
    title: A job
    summary: Work.
    ratings: {pay: 1, fixed: 1, mute: 1}
    adjust:
      - {when: {q: pay, gte: 1}, score: 0.5, because: "It starts soon.  "}
      - {when: {q: pay, gte: 1}, score: -0.3, because: It is far away}
      - {when: {q: pay, gte: 1}, score: 0.2, because: It is small}
  - id: study
    title: A PhD
    summary: Study.
    ratings: {pay: -1, fixed: -1}
""",
        "reasons",
    )
    job, study = pb.path("job"), pb.path("study")
    assert job is not None and study is not None
    # Pay 4 of 5 matters (above the middle): it speaks for the job and against the PhD;
    # largest first, at most three, each a sentence; 0.2 is too small to be worth one.
    good = "It does well on good pay, which matters to you."
    assert reasons(pb, job, {"pay": 4}) == (
        (good, "A job is steady.", "It starts soon."),
        ("It is far away.",),
    )
    assert reasons(pb, study, {"pay": 4}) == (
        (),
        ("It does less well on good pay.", "A PhD is unsteady."),
    )
    # Pay 3 of 5 (the middle) gives no pay reason either way; authored ones still speak.
    assert reasons(pb, job, {"pay": 3}) == (
        ("A job is steady.", "It starts soon."),
        ("It is far away.",),
    )
    # Against a rival: what beats it, largest gap first; nothing beats itself, so then
    # the path's own strongest reasons.
    assert reasons(pb, job, {"pay": 5}, against=study)[0] == (
        good,
        "A job is steady.",
        "It starts soon.",
    )
    assert reasons(pb, job, {"pay": 4}, against=job)[0] == reasons(pb, job, {"pay": 4})[0]
    # Pay at the middle: no pay reason against the PhD either, only the authored one.
    assert reasons(pb, study, {"pay": 3}) == ((), ("A PhD is unsteady.",))


# ------------------------------------------------------------------ what the person is told

ADVICE_PB = Path(__file__).parent / "playbooks" / "advice.yaml"
BASE = {
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
DEC_1 = date(2026, 12, 1)
PLAN = [
    ("List ten teams that publish research.", date(2026, 12, 8)),
    ("Shortlist five groups that publish ML methods in your field.", date(2026, 12, 15)),
    ("Send your applications to European groups.", date(2027, 1, 10)),
]
TOPICS = [
    (
        "second_masters",
        "Rarely: a second master's costs two years and admissions judge research evidence "
        "more than degrees.",
    ),
    (
        "domain_value",
        "A lot, in ML for science: physics training carries over to modelling and to "
        "careful evaluation.",
    ),
]
WHAT_IF_GOAL = (
    "If your answer to “kind of researcher” were “An applied researcher in industry” instead "
    "of “An academic researcher”, I would point you to a job in industry instead: a job at a "
    "tech company."
)


def _advice(**change: object):  # type: ignore[no-untyped-def]
    pb = load_playbook(ADVICE_PB)
    a = compose(pb, {**BASE, **change}, DEC_1)
    assert a is not None
    return a


def test_a_decided_person_gets_the_answer_first_and_each_named_route_a_verdict() -> None:
    a = _advice()
    assert a.short_version == (
        "My advice: a PhD in ML for your own field.",
        "A doctorate in your field, in a group that builds ML methods for it.",
        "Your physics background is worth most in ML for science.",
        "If that does not work out, a job at a tech company is the next best fit.",
    )
    assert not a.conditional and a.cases == () and a.keep_open == ""
    assert [(v.path_id, v.rank, v.text) for v in a.verdicts] == [
        (
            "phd_domain",
            1,
            "Yes, if the group publishes ML methods, not only analyses. It is the route I "
            "recommend for you.",
        ),
        (
            "masters_first",
            4,
            "Skip it, unless a programme you want requires it.",
        ),
    ]
    assert a.unnamed is None
    assert [(t.topic_id, t.text) for t in a.topics] == TOPICS
    assert [s.path_id for s in a.top] == ["phd_domain", "industry"]
    assert a.top[0].summary == ""  # already said in the short version
    assert a.top[1].reasons_for == ("It is a safe route, and safety matters a lot to you.",)
    assert a.top[1].cons == (
        "An industry job rarely leads back to academia.",
        "Moving into research from engineering is not guaranteed.",
    )
    assert (a.confidence.level.value, a.confidence.margin, a.confidence.flips) == ("lead", 1.5, 2)
    assert a.confidence.text == (
        "A PhD in ML for your own field leads, but 2 of your answers, each changed on its own, "
        "would put a different kind of route first."
    )
    assert (a.what_if.text, a.what_if.question_id, a.what_if.answer, a.what_if.path_id) == (
        WHAT_IF_GOAL,
        "goal",
        "applied",
        "industry",
    )
    assert [(s.text, s.due) for s in a.plan] == PLAN
    assert [(p.path_id, p.rank, p.score) for p in a.paths] == [
        ("phd_domain", 1, 2.75),
        ("industry", 2, 1.25),
        ("phd_ml", 3, 0.25),
        ("masters_first", 4, -0.5),
    ]
    assert [(x.path_id, x.reason) for x in a.left_out] == [
        ("predoc", "It is meant for people who do not hold a master's yet.")
    ]


def test_an_undecided_person_gets_each_case_and_the_route_that_keeps_doors_open() -> None:
    a = _advice(goal="unsure")
    assert a.short_version == (
        "The best route depends on your answer to “kind of researcher”, which is still open.",
        "If it is “An academic researcher”, go for a PhD in ML for your own field.",
        "If it is “An applied researcher in industry”, go for a job at a tech company.",
        "Until you know, a job at a tech company keeps the most doors open.",
    )
    assert a.conditional and a.deciding_question == "goal" and a.keep_open == "industry"
    assert [(c.answers, c.path_id) for c in a.cases] == [
        (("academic",), "phd_domain"),
        (("applied",), "industry"),
    ]
    # The route it recommends is the one kept open, though they did not name it.
    assert a.unnamed is not None and (a.unnamed.path_id, a.unnamed.text) == (
        "industry",
        "A real option if you choose a team that publishes. It is the route I recommend for you.",
    )
    assert [(v.path_id, v.rank) for v in a.verdicts] == [("phd_domain", 2), ("masters_first", 3)]
    assert [s.path_id for s in a.top] == ["industry", "phd_domain"]
    assert (a.confidence.level.value, a.confidence.margin) == ("close", 0.5)
    assert a.confidence.text == (
        "How sure I can be depends on your answer to “kind of researcher”: the answers lead "
        "to different routes."
    )
    # The what-if names no change of the open question (the cases already say that).
    assert (a.what_if.question_id, a.what_if.answer, a.what_if.path_id) == (
        "pay",
        1,
        "phd_domain",
    )
    assert a.what_if.text == (
        "If you rated “pay” 1 instead of 2, I would point you to a doctorate instead: a PhD in "
        "ML for your own field."
    )


def test_a_lead_of_exactly_the_close_margin_is_not_called_close() -> None:
    # close_margin is 1.0: 1.0 ahead is a lead; 0.5 ahead is a close call.
    lead = _advice(degree="bachelor", safety=2, pay=3, routes=[], topics=[], story=None)
    assert (lead.confidence.level.value, lead.confidence.margin) == ("lead", 1.0)
    close = _advice(degree="bachelor", safety=1, pay=1, routes=[], topics=[], story=None)
    assert (close.confidence.level.value, close.confidence.margin) == ("close", 0.5)
    assert close.conditional
    assert close.short_version == (
        "It is a close call between a PhD in ML for your own field and a PhD in ML.",
        "My advice: a PhD in ML for your own field.",
        "Your physics background is worth most in ML for science.",
    )
    assert close.confidence.text == (
        "It is a close call: a PhD in ML for your own field and a PhD in ML are nearly level "
        "for you."
    )


def test_a_clear_lead_says_no_single_change_would_move_it() -> None:
    a = _advice(field="cs", safety=1, pay=1, routes=[], topics=[], story=None)
    assert (a.confidence.level.value, a.confidence.flips) == ("clear", 0)
    assert a.confidence.text == (
        "A PhD in ML leads clearly: no single change of answer puts a different kind of route "
        "first."
    )
    assert a.what_if.text == (
        "No single different answer would put a different kind of route first: the advice "
        "rests on several of your answers at once."
    )
    assert a.what_if.question_id == "" and a.what_if.path_id == ""
    assert a.short_version[-1] == (
        "If that does not work out, a PhD in ML for your own field is the next best fit."
    )


def test_a_named_route_that_is_left_out_says_why() -> None:
    a = _advice(routes=["predoc"])
    (verdict,) = a.verdicts
    assert (verdict.path_id, verdict.rank, verdict.text) == (
        "predoc",
        None,
        "It is meant for people who do not hold a master's yet.",
    )
    assert a.unnamed is not None and a.unnamed.path_id == "phd_domain"


def test_a_step_counted_from_today_is_not_due_over_the_holidays() -> None:
    from datetime import date

    from bot.advice.plan import past_the_holidays

    assert past_the_holidays(date(2026, 12, 21)) == date(2026, 12, 21)
    assert past_the_holidays(date(2026, 12, 22)) == date(2027, 1, 4)  # a Monday
    assert past_the_holidays(date(2027, 1, 1)) == date(2027, 1, 4)
    assert past_the_holidays(date(2027, 12, 30)) == date(2028, 1, 4)  # a Tuesday
    assert past_the_holidays(date(2028, 1, 3)) == date(2028, 1, 4)
    assert past_the_holidays(date(2032, 1, 2)) == date(2032, 1, 5)  # the 4th is a Sunday
    assert past_the_holidays(date(2027, 1, 4)) == date(2027, 1, 4)


EDGES_YAML = """
id: compose-edges
version: 1
title: Compose edges
intro: Hi.
close_margin: 1.0
questions:
  - {id: pay, kind: scale, short: pay, prompt: Pay?, scale_min: 1, scale_max: 5}
  - id: tools
    kind: multi_choice
    short: tools
    prompt: Tools?
    choices: [{id: x, label: Tool X}, {id: "y", label: Tool Y}]
  - id: routes
    kind: multi_choice
    role: routes
    short: routes
    prompt: Routes?
    optional: true
    choices:
      - {id: a, label: Alpha, paths: [alpha]}
      - {id: b, label: Beta, paths: [beta]}
criteria:
  - id: pay
    label: Pay
    weight: {question: pay, value: 2}
paths:
  - id: alpha
    title: Alpha
    summary: The alpha route.
    ratings: {pay: 1}
    pros:
      - {text: Pro always.}
      - {text: Pro with Y., when: {q: tools, has: "y"}}
    cons:
      - {text: Con with X., when: {q: tools, has: x}}
  - id: beta
    title: Beta
    summary: The beta route.
    base: 1.0
    adjust:
      - {when: {q: tools, has: "y"}, score: 0.5, because: Tool Y helps}
"""


def _edges():  # type: ignore[no-untyped-def]
    from bot.playbook.loader import parse_playbook

    return parse_playbook(EDGES_YAML, "compose-edges")


def test_two_paths_a_lead_names_the_next_best_and_conditions_pick_pros_and_cons() -> None:
    pb = _edges()
    a = compose(pb, {"pay": 5, "tools": ["x"]}, TODAY)
    assert a is not None and [p.path_id for p in a.paths] == ["alpha", "beta"]
    assert a.short_version[-1] == "If that does not work out, beta is the next best fit."
    alpha = a.path("alpha")
    assert alpha is not None
    assert alpha.pros == ("Pro always.",) and alpha.cons == ("Con with X.",)
    other = compose(pb, {"pay": 5, "tools": ["y"]}, TODAY)
    assert other is not None and other.path("alpha").pros == ("Pro always.", "Pro with Y.")  # type: ignore[union-attr]
    assert other.path("alpha").cons == ()  # type: ignore[union-attr]


def test_a_close_call_says_which_scale_change_would_tip_it() -> None:
    pb = _edges()
    a = compose(pb, {"pay": 4, "tools": ["x"]}, TODAY)  # 1.5 against 1.0: within the margin
    assert a is not None and a.confidence is not None and a.confidence.level.value == "close"
    assert "If you rated “pay” 2 instead of 4, beta would come first." in a.short_version


def test_a_routes_answer_given_as_one_id_still_gets_its_verdict() -> None:
    pb = _edges()
    a = compose(pb, {"pay": 5, "tools": ["x"], "routes": "b"}, TODAY)
    assert a is not None and [v.path_id for v in a.verdicts] == ["beta"]


FOUR_CASES_YAML = """
id: four-cases
version: 1
title: Four cases
intro: Hi.
close_margin: 0.5
questions:
  - id: aim
    kind: single_choice
    short: aim
    prompt: Aim?
    key: true
    undecided: [unsure]
    choices:
      - {id: a, label: Aim A}
      - {id: b, label: Aim B}
      - {id: c, label: Aim C}
      - {id: d, label: Aim D}
      - {id: unsure, label: Not sure}
paths:
  - id: pa
    title: Route A
    summary: The A route.
    base: 0.2
    adjust: [{when: {q: aim, is: a}, score: 2, because: A fits}]
  - id: pb
    title: Route B
    summary: The B route.
    base: 0.1
    adjust: [{when: {q: aim, is: b}, score: 2, because: B fits}]
  - id: pc
    title: Route C
    summary: The C route.
    adjust: [{when: {q: aim, is: c}, score: 2, because: C fits}]
  - id: pd
    title: Route D
    summary: The D route.
    adjust: [{when: {q: aim, is: d}, score: 2, because: D fits}]
"""


def test_four_open_cases_keep_the_first_three_and_the_route_that_keeps_doors_open() -> None:
    from bot.playbook.loader import parse_playbook

    pb = parse_playbook(FOUR_CASES_YAML, "four-cases")
    a = compose(pb, {"aim": "unsure"}, TODAY)
    assert a is not None and [c.path_id for c in a.cases] == ["pa", "pb", "pc", "pd"]
    # Six lines would be too many: the opening goes, then the fourth case; at most four.
    assert a.short_version == (
        "If it is “Aim A”, go for route A.",
        "If it is “Aim B”, go for route B.",
        "If it is “Aim C”, go for route C.",
        "Until you know, route A keeps the most doors open.",
    )


TIE_YAML = """
id: flip-tie
version: 1
title: Flip tie
intro: Hi.
close_margin: 1.0
questions:
  - {id: pay, kind: scale, short: pay, prompt: Pay?, scale_min: 1, scale_max: 5}
paths:
  - {id: alpha, title: Alpha, summary: The alpha route., base: 1.5}
  - id: beta
    title: Beta
    summary: The beta route.
    base: 1.0
    adjust:
      - {when: {q: pay, lte: 2}, score: 1.0, because: Low pay suits it}
      - {when: {q: pay, gte: 4}, score: 1.0, because: High pay suits it}
"""


def test_a_close_call_tipped_either_way_names_the_lower_rating_first_considered() -> None:
    from bot.playbook.loader import parse_playbook

    pb = parse_playbook(TIE_YAML, "flip-tie")
    # 2 and 4 are both one step from 3 and both put beta first: the nearest-first order
    # of the alternatives (lower first) decides which one the person is told.
    a = compose(pb, {"pay": 3}, TODAY)
    assert a is not None and a.confidence.level.value == "close"
    assert "If you rated “pay” 2 instead of 3, beta would come first." in a.short_version
    assert not any("4 instead of 3" in s for s in a.short_version)


def test_a_good_rating_on_a_criterion_of_negative_weight_is_no_reason_either_way() -> None:
    from bot.advice.compose import reasons
    from bot.playbook.loader import parse_playbook

    pb = parse_playbook(
        """
id: negative
version: 1
title: Negative
intro: Hi.
questions:
  - {id: pay, kind: scale, short: pay, prompt: Pay?, scale_min: 1, scale_max: 5}
criteria:
  - id: travel
    label: Travel
    weight: {value: -1}
    reason_for: "{path} lets you travel."
    reason_against: "{path} keeps you at home."
paths:
  - {id: job, title: A job, summary: Work., ratings: {travel: 0.5}}
  - {id: study, title: A PhD, summary: Study., ratings: {travel: -0.5}}
""",
        "negative",
    )
    job, study = pb.path("job"), pb.path("study")
    assert job is not None and study is not None
    # The job rates well on travel (0.5), but the weight is negative, so it costs the job
    # 0.5: that is neither "lets you travel" (it lost points) nor "keeps you at home" (it
    # does not). The PhD rates badly (-0.5) and gains 0.5 from it: "keeps you at home" is
    # not a reason for it, and nothing speaks against it.
    assert reasons(pb, job, {"pay": 3}) == ((), ())
    assert reasons(pb, study, {"pay": 3}) == ((), ())


SHOWN_YAML = """
id: shown
version: 1
title: Shown
intro: Hi.
close_margin: 0.1
wording:
  verdict_rank: "It comes {rank} of {count} for you, after {lead}."
questions:
  - {id: pay, kind: scale, short: pay, prompt: Pay?, scale_min: 1, scale_max: 5}
  - id: routes
    kind: multi_choice
    role: routes
    short: routes
    prompt: Routes?
    optional: true
    choices:
      - {id: a, label: Alpha, paths: [alpha]}
      - {id: c, label: Gamma, paths: [gamma]}
paths:
  - id: alpha
    title: Alpha
    summary: The alpha route.
    base: 3.0
    variants:
      - {when: {q: pay, gte: 4}, title: Alpha for the well paid}
      - {when: {q: pay, lte: 1}, summary: The frugal alpha route.}
    risks:
      - {text: It may be dull., remedy: Find a hobby.}
      - {text: It pays badly at first., when: {q: pay, gte: 4}}
  - {id: beta, title: Beta, summary: The beta route., base: 2.0}
  - id: gamma
    title: Gamma
    summary: The gamma route.
    base: 1.0
"""


def _shown(answers: dict[str, Any]) -> Advice:
    from bot.playbook.loader import parse_playbook

    a = compose(parse_playbook(SHOWN_YAML, "shown"), answers, TODAY)
    assert a is not None
    return a


def test_the_top_route_shows_its_risks_those_whose_condition_holds() -> None:
    calm = _shown({"pay": 3})
    assert [(r.text, r.remedy) for r in calm.top[0].risks] == [("It may be dull.", "Find a hobby.")]
    keen = _shown({"pay": 5})
    assert [(r.text, r.remedy) for r in keen.top[0].risks] == [
        ("It may be dull.", "Find a hobby."),
        ("It pays badly at first.", ""),
    ]


def test_a_variant_changes_the_title_or_the_summary_and_keeps_the_rest() -> None:
    # A variant with a title only keeps the path's summary; one with a summary only keeps
    # the path's title.
    keen = _shown({"pay": 5}).path("alpha")
    assert keen is not None
    assert (keen.title, keen.summary) == ("Alpha for the well paid", "The alpha route.")
    frugal = _shown({"pay": 1}).path("alpha")
    assert frugal is not None
    assert (frugal.title, frugal.summary) == ("Alpha", "The frugal alpha route.")


def test_a_named_route_further_down_says_its_rank_after_the_lead() -> None:
    a = _shown({"pay": 3, "routes": ["c"]})
    (verdict,) = a.verdicts
    assert verdict.path_id == "gamma" and verdict.rank == 3
    assert verdict.text == "The gamma route. It comes 3 of 3 for you, after alpha."
    # The lead was not named, has no verdict text of its own: it is recommended as such.
    assert a.unnamed is not None and a.unnamed.path_id == "alpha"
    assert a.unnamed.text == "It is the route I recommend for you."
