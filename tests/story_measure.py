"""Stories and what a careful reader infers from each: the intake's pre-fill measure.

Two sets. ``STORIES``: the seed question and four stories the intake was built on.
``BATCHES``: stories a teammate wrote blind (without seeing the cues) with a careful
reader's expectations (``expected.json`` beside them); each batch was measured before the
cues were tuned on it, and the figures at that moment are in bench/RESULTS.md, so only a
new batch measures stories the cues have not seen.

Each expectation is what a careful human reader would take from the story, and nothing
more. ``required`` items count towards the pre-fill rate; ``allowed`` items are plausible
readings that are not counted against the text if pre-filled. A pre-filled answer that
fits neither contradicts the text. ``bench/story_prefill.py`` prints the figures; the
tests in ``test_intake_story.py`` hold the targets (>= 70 % pre-filled, no contradiction,
at most 7 questions left to ask).
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

STORY_DIR = Path(__file__).parent / "stories"


@dataclass(frozen=True)
class Expect:
    """``one``: the answer (or the answers it may be, for a scale a range); ``some``: the
    choices a multiple-choice answer must include, ``only``: all it may include."""

    one: tuple[Any, ...] = ()
    some: frozenset[str] = frozenset()
    only: frozenset[str] = frozenset()

    def fits(self, value: Any) -> bool:
        """The answer the reader infers (every required choice, nothing beyond)."""
        if self.one:
            return value in self.one
        picked = set(value or ())
        return self.some <= picked <= (self.only | self.some)

    def covers(self, value: Any) -> bool:
        """Holds what the reader infers (a multiple-choice answer may hold more)."""
        if self.one:
            return value in self.one
        return self.some <= set(value or ())

    def plausible(self, value: Any) -> bool:
        """Not contradicting the text: a multiple-choice answer may hold fewer choices."""
        if self.one:
            return value in self.one
        return set(value or ()) <= (self.only | self.some)


def one(*values: Any) -> Expect:
    return Expect(one=values)


def scale(lo: int, hi: int) -> Expect:
    return Expect(one=tuple(range(lo, hi + 1)))


def some(required: set[str], also: set[str] = frozenset()) -> Expect:  # type: ignore[assignment]
    return Expect(some=frozenset(required), only=frozenset(also))


@dataclass(frozen=True)
class Story:
    name: str
    required: Mapping[str, Expect]
    allowed: Mapping[str, Expect] = field(default_factory=dict)
    folder: Path = STORY_DIR

    @property
    def text(self) -> str:
        return (self.folder / f"{self.name}.txt").read_text(encoding="utf-8").strip()


SCALES = frozenset({"academia", "pay", "speed", "safety", "domain"})


def _expect(question: str, raw: Any) -> Expect:
    if isinstance(raw, dict):
        return Expect(some=frozenset(raw.get("some", ())), only=frozenset(raw.get("only", ())))
    if question in SCALES:
        return scale(raw[0], raw[-1])
    return one(*raw)


def load_batch(folder: Path) -> tuple[Story, ...]:
    """A blind batch: NAME.txt stories and expected.json (required / allowed per story)."""
    data = json.loads((folder / "expected.json").read_text(encoding="utf-8"))
    return tuple(
        Story(
            name,
            {q: _expect(q, v) for q, v in spec["required"].items()},
            {q: _expect(q, v) for q, v in spec.get("allowed", {}).items()},
            folder,
        )
        for name, spec in data.items()
    )


ALL_TOPICS = {"where", "masters", "own_field", "domain_value", "core_phd", "company", "compare"}

STORIES: tuple[Story, ...] = (
    Story(
        "seed",
        required={
            "degree": one("master"),
            "field": one("hep"),
            "situation": one("graduated"),
            "experience": some({"thesis", "internship"}),
            "routes": some({"phd_domain", "phd_ml", "masters_first", "industry"}),
            "phd_view": one("want"),
            "topics": some(ALL_TOPICS | {"other"}, {"carries_over", "counts"}),
            "domain": scale(4, 5),
            "speed": scale(4, 5),
        },
        allowed={"goal": one("unsure")},
    ),
    Story(
        "software_engineer",
        required={
            "degree": one("bachelor"),
            "field": one("cs"),
            "situation": one("software_job"),
            "experience": some({"open_source"}, {"courses"}),  # "courses only" does not fit
            "goal": one("applied"),
            "region": one("europe"),
            "routes": some({"research_engineer", "masters_first"}, {"phd_ml"}),
            "phd_view": one("open"),
            "pay": scale(4, 5),
            "academia": scale(1, 2),
        },
        allowed={"topics": some(set(), {"core_phd", "company", "compare", "carries_over"})},
    ),
    Story(
        "biology_phd",
        required={
            "field": one("science"),
            "situation": one("studying"),
            "experience": some({"papers", "ml_venue"}),
            "region": one("uk"),
            "academia": scale(4, 5),
            "routes": some({"postdoc"}, {"industry"}),
        },
        allowed={
            "phd_view": one("want"),
            "goal": one("applied"),
            "domain": scale(4, 5),
            "degree": one("master"),
            "topics": some(set(), {"company", "compare", "other"}),
        },
    ),
    Story(
        "maths_undergrad",
        required={
            "degree": one("undergrad"),
            "field": one("maths"),
            "situation": one("studying"),
            "goal": one("theory"),
            "region": one("north_america"),
            "academia": scale(4, 5),
            "pay": scale(1, 2),
            "phd_view": one("want"),
            "routes": some({"phd_ml", "masters_first"}),
        },
        allowed={"topics": some(set(), {"masters", "core_phd"})},
    ),
    Story(
        "engineer_india",
        required={
            "degree": one("master"),
            "field": one("engineering"),
            "situation": one("software_job"),
            "experience": some({"thesis", "job"}),
            "pay": scale(4, 5),
            "safety": scale(4, 5),
            "routes": some({"industrial_phd", "research_engineer"}),
            "region": one("open", "elsewhere"),
        },
        allowed={"goal": one("applied"), "phd_view": one("open"), "domain": scale(3, 5)},
    ),
)


@dataclass(frozen=True)
class Measure:
    story: str
    prefilled: dict[str, Any]
    hits: tuple[str, ...]
    missed: tuple[str, ...]
    contradictions: tuple[str, ...]
    remaining: tuple[str, ...]  # questions still to be asked after the story

    @property
    def rate(self) -> float:
        total = len(self.hits) + len(self.missed)
        return len(self.hits) / total if total else 1.0


def judge(
    story: Story,
    prefilled: Mapping[str, Any],
    remaining: list[str],
    hidden: frozenset[str] = frozenset(),
) -> Measure:
    """``hidden``: questions the pre-filled facts hide (no doctorate question for a person
    who has one): not asked, so neither a hit nor a miss."""
    wanted = {q: e for q, e in story.required.items() if q not in hidden}
    wrong = []
    for q, value in prefilled.items():
        if q in hidden:
            continue
        expect = story.allowed.get(q) or story.required.get(q)
        if expect is None or not (expect.plausible(value) or expect.fits(value)):
            wrong.append(f"{q}={value!r}")
    hits = tuple(
        q
        for q, e in wanted.items()
        if q in prefilled and e.covers(prefilled[q]) and f"{q}={prefilled[q]!r}" not in wrong
    )
    missed = tuple(q for q in wanted if q not in hits)
    return Measure(story.name, dict(prefilled), hits, missed, tuple(wrong), tuple(remaining))


def measure(story: Story) -> Measure:
    """Pre-fill ``story`` with the ml-research-career playbook, as the intake does."""
    from bot.advice import visible_questions
    from bot.advice.cues import story_answers
    from bot.playbook.loader import load_playbook

    root = Path(__file__).resolve().parents[1]
    pb = load_playbook(root / "config" / "playbooks" / "ml-research-career.yaml")
    found, _ = story_answers(pb, story.text, {"story": story.text})
    if story.folder != STORY_DIR:
        found.values.pop("topics", None)  # the blind batches were not asked about topics
    answers = {"story": story.text, **found.values}
    shown = visible_questions(pb, answers)
    remaining = [q.id for q in shown if q.id not in answers]
    hidden = frozenset(q.id for q in pb.questions) - {q.id for q in shown}
    return judge(story, found.values, remaining, hidden)


BATCHES: dict[str, tuple[Story, ...]] = {
    name: load_batch(STORY_DIR / name) for name in ("blind1", "blind2", "blind3", "blind4")
}
