"""Content of the shipped version-2 playbooks: what a person's own words pre-fill, and
facts that must stay true for their region.

Pure functions over the playbook files (no database): the cues read a story the way the
intake does, and the composed advice is checked for what a reader in Europe must never be
told.
"""

from __future__ import annotations

import random
import re
from datetime import date
from typing import Any

import pytest

from bot.advice.compose import compose
from bot.advice.cues import read_cues
from bot.advice.lint import body_texts
from bot.messages import QuestionKind
from bot.playbook.loader import load_playbook
from bot.settings import REPO_ROOT

ML = load_playbook(REPO_ROOT / "config" / "playbooks" / "ml-research-career.yaml")
OFFERS = load_playbook(REPO_ROOT / "config" / "playbooks" / "phd-offer-choice.yaml")

# The seed person's question, paraphrased claim by claim (the facts, in other words).
SEED_STORY = (
    "I have read that the majority of novel ML research is in NLP and computer vision. "
    "My background is ML applications in high-energy physics: my bachelor's and master's "
    "theses used ML, and I did a few internships with the CERN LHC experiments. Would it "
    "make sense to obtain a masters in computer science? I am very interested in pursuing "
    "a PhD in high-energy physics focused on ML. Is that the optimal path? ML developments "
    "are relatively slow in high-energy physics. How useful is my domain knowledge, and is "
    "a specialised domain better? Could I even pursue a purely ML-focused PhD with my "
    "background? I have also considered joining a tech company and working my way up. "
    "What are the pros and cons of each option (effectiveness, risk)? Is there another "
    "good option that I am not considering?"
)


def _sets(text: str, pb: Any = ML) -> dict[str, list[Any]]:
    out: dict[str, list[Any]] = {}
    for s in read_cues(pb, text).sets:
        out.setdefault(s.q, []).append(s.value)
    return out


def test_the_seed_story_prefills_background_routes_and_every_question() -> None:
    hits = read_cues(ML, SEED_STORY)
    sets = _sets(SEED_STORY)
    assert sets["field"][0] == "hep"
    assert sets["degree"][0] == "master"
    assert {"thesis", "internship"} <= set(sets["experience"])
    assert sets["phd_view"] == ["want"]
    assert {"phd_domain", "phd_ml", "masters_first", "industry"} <= set(hits.routes)
    asked = {
        "where_research_is",
        "second_masters",
        "own_field_phd",
        "domain_value",
        "core_ml_phd_realistic",
        "company_vs_phd",
        "pros_cons_risk",
        "other_options",
    }
    assert asked <= set(hits.topics), asked - set(hits.topics)


@pytest.mark.parametrize(
    ("story", "question", "value"),
    [
        ("I studied molecular biology and know some Python.", "field", "science"),
        ("I am a mechanical engineer working on turbines.", "field", "engineering"),
        ("I have a master's in mathematics, mostly probability.", "field", "maths"),
        ("I have a bachelor's in computer science.", "field", "cs"),
        ("I work as a software engineer at a bank.", "situation", "software_job"),
        ("I did my PhD in astrophysics and I am a postdoc now.", "degree", "phd"),
        ("My background is in astrophysics.", "field", "physics"),
        ("I would like to study in Germany or the Netherlands.", "region", "europe"),
        ("I am not interested in an academic career.", "academia", 1),
        ("I don't want to do a PhD if I can avoid it.", "phd_view", "avoid"),
    ],
)
def test_other_backgrounds_prefill_their_answers(story: str, question: str, value: Any) -> None:
    assert _sets(story).get(question, [None])[0] == value


def test_a_computer_science_masters_someone_wants_is_not_taken_as_their_degree() -> None:
    sets = _sets("Would a masters in computer science help me? I studied physics.")
    assert "cs" not in sets.get("field", [])
    assert "second_masters" in read_cues(ML, "Would a masters in computer science help?").topics


def test_a_typed_worry_selects_the_topic_that_answers_it() -> None:
    answers: dict[str, Any] = {
        "goal": "applied",
        "degree": "master",
        "field": "engineering",
        "situation": "other_job",
        "experience": ["thesis"],
        "landscape": ["not_yet"],
        "phd_view": "open",
        "region": "uk",
        "academia": 2,
        "pay": 3,
        "speed": 3,
        "safety": 3,
        "domain": 3,
        "worry": "Is there another option I am not considering?",
    }
    advice = compose(ML, answers, date(2026, 12, 1))
    assert advice is not None
    other = [t for t in advice.topics if t.topic_id == "other_options"]
    assert other and "industrial doctorate" in other[0].text
    assert "CASE" in other[0].text  # the UK form of it, for someone who chose the UK


_NORTH_AMERICAN = re.compile(r"Fermilab|SLAC|Berkeley|IAIFI|Boston|Department of Energy")


def _random_answers(rng: random.Random) -> dict[str, Any]:
    answers: dict[str, Any] = {}
    for q in ML.questions:
        if q.kind == QuestionKind.SCALE:
            answers[q.id] = rng.randint(q.scale_min, q.scale_max)
        elif q.kind == QuestionKind.SINGLE_CHOICE:
            answers[q.id] = rng.choice(q.choice_ids)
        elif q.kind == QuestionKind.MULTI_CHOICE:
            answers[q.id] = [c for c in q.choice_ids if rng.random() < 0.3] or [q.choice_ids[0]]
    return answers


def test_someone_who_chose_europe_is_never_sent_to_a_north_american_institute() -> None:
    rng = random.Random(9)
    for _ in range(150):
        answers = {**_random_answers(rng), "region": "europe"}
        advice = compose(ML, answers, date(2026, 12, 1))
        assert advice is not None
        texts = [t for _, t in body_texts(advice)]
        texts += [p.summary for p in advice.paths]
        for p in advice.paths:
            texts += [*p.pros, *p.cons, *(r.text for r in p.risks), *(s.text for s in p.steps)]
        found = [t for t in texts if _NORTH_AMERICAN.search(t)]
        assert not found, (answers, found)


def test_a_us_offer_holder_is_told_about_april_15() -> None:
    assert _sets("Both offers are in the United States.", OFFERS)["region"] == ["north_america"]
    topic = next(t for t in OFFERS.topics if t.id == "more_time")
    us = next(a for a in topic.answer if a.when is not None)
    assert "April 15" in us.text
    assert "more_time" in read_cues(OFFERS, "Can I ask for an extension?").topics
