"""The playbook format, as typed models. docs/playbooks.md explains it for authors.

Field-level rules live here (pydantic reports them with their key path); rules that span
the document (references, order of conditions) live in ``validate_references``.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from typing import Annotated, Any, Literal

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    PrivateAttr,
    StringConstraints,
    model_validator,
)

from bot.messages import QuestionKind
from bot.playbook.conditions import Condition

Ident = Annotated[str, StringConstraints(pattern=r"^[a-z0-9][a-z0-9_-]{0,39}$")]
Prose = Annotated[str, StringConstraints(min_length=1, max_length=1500)]
LongProse = Annotated[str, StringConstraints(min_length=1, max_length=2500)]
Loc = tuple[str | int, ...]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)


class ChoiceSpec(_Strict):
    id: Ident
    label: Annotated[str, StringConstraints(min_length=1, max_length=80)]
    description: Annotated[str, StringConstraints(max_length=100)] = ""
    # On the ``role: routes`` question: the paths this choice names (none: names no route).
    paths: list[Ident] = Field(default_factory=list)
    # On the ``role: topics`` question: the topics this choice selects.
    topics: list[Ident] = Field(default_factory=list)


class PlaybookQuestion(_Strict):
    id: Ident
    kind: QuestionKind
    prompt: Prose
    short: Annotated[str, StringConstraints(max_length=60)] = ""
    help: str = ""
    when: Condition | None = None
    optional: bool = False
    # False: a fact the person cannot choose (their field of study), so "what would change
    # this" never suggests answering it differently.
    what_if: bool = True
    # A deciding question: when the answer is one of ``undecided`` the advice is conditional
    # (it is re-ranked under each other answer and says what to do in each case).
    key: bool = False
    undecided: list[Ident] = Field(default_factory=list)
    # ``routes``: the routes the person is weighing (choices map to paths, each gets a
    # verdict); ``topics``: what is on their mind (choices select topics); ``story``: a
    # free-text account of their situation whose cues pre-fill the other answers.
    role: Literal["routes", "topics", "story"] | None = None
    choices: list[ChoiceSpec] = Field(default_factory=list)
    min_choices: int = Field(1, ge=0)
    max_choices: int | None = Field(None, ge=1)
    max_length: int = Field(500, ge=1, le=4000)
    scale_min: int = 1
    scale_max: int = 5
    scale_low_label: str = ""
    scale_high_label: str = ""

    @model_validator(mode="after")
    def _kind_fields(self) -> PlaybookQuestion:
        choice_kinds = (QuestionKind.SINGLE_CHOICE, QuestionKind.MULTI_CHOICE)
        if self.kind in choice_kinds and len(self.choices) < 2:
            raise ValueError(f"a {self.kind} question needs at least two choices")
        if self.kind not in choice_kinds and self.choices:
            raise ValueError(f"a {self.kind} question takes no choices")
        ids = [c.id for c in self.choices]
        dupes = sorted({i for i in ids if ids.count(i) > 1})
        if dupes:
            raise ValueError(f"duplicate choice ids: {', '.join(dupes)}")
        if self.kind == QuestionKind.SCALE and not (self.scale_min < self.scale_max <= 10):
            raise ValueError("a scale needs scale_min < scale_max <= 10")
        if self.kind == QuestionKind.MULTI_CHOICE:
            top = self.max_choices or len(self.choices)
            if not (self.min_choices <= top <= len(self.choices)):
                raise ValueError("need min_choices <= max_choices <= number of choices")
        if self.key and self.kind != QuestionKind.SINGLE_CHOICE:
            raise ValueError("key: true needs a single_choice question")
        if self.undecided and not self.key:
            raise ValueError("undecided needs key: true")
        for cid in self.undecided:
            if cid not in ids:
                raise ValueError(f"undecided: {cid!r} is not a choice of this question")
        if self.role == "story":
            if self.kind != QuestionKind.FREE_TEXT:
                raise ValueError("role: story needs a free_text question")
        elif self.role is not None and self.kind not in choice_kinds:
            raise ValueError(f"role: {self.role} needs a choice question")
        for c in self.choices:
            if c.paths and self.role != "routes":
                raise ValueError(f"choice {c.id!r}: paths are only for the role: routes question")
            if c.topics and self.role != "topics":
                raise ValueError(f"choice {c.id!r}: topics are only for the role: topics question")
        return self

    @property
    def label(self) -> str:
        """How the question is cited in reasons ("your degree: Master's")."""
        return self.short or self.prompt.rstrip("?").strip()

    @property
    def choice_ids(self) -> list[str]:
        return [c.id for c in self.choices]

    def choice_label(self, choice_id: str) -> str:
        return next((c.label for c in self.choices if c.id == choice_id), choice_id)

    def alternatives(self, current: Any) -> list[Any]:
        """Every other valid answer, nearest first: used to find what would change a ranking."""
        if self.kind == QuestionKind.SINGLE_CHOICE:
            return [c for c in self.choice_ids if c != current]
        if self.kind == QuestionKind.SCALE and isinstance(current, int):
            values = [v for v in range(self.scale_min, self.scale_max + 1) if v != current]
            return sorted(values, key=lambda v: abs(v - current))
        if self.kind == QuestionKind.MULTI_CHOICE and isinstance(current, list):
            toggled = []
            for cid in self.choice_ids:
                new = [c for c in current if c != cid] if cid in current else [*current, cid]
                top = self.max_choices or len(self.choices)
                if self.min_choices <= len(new) <= top:
                    toggled.append([c for c in self.choice_ids if c in new])
            return toggled
        return []

    def describe(self, value: Any) -> str:
        """An answer in words, as the person would recognise it."""
        if value is None:
            return "(not answered)"
        if self.kind == QuestionKind.SINGLE_CHOICE:
            return self.choice_label(str(value))
        if self.kind == QuestionKind.MULTI_CHOICE:
            return ", ".join(self.choice_label(v) for v in value) or "none"
        if self.kind == QuestionKind.SCALE:
            return f"{value} of {self.scale_max}"
        return str(value)


class Weight(_Strict):
    """A criterion's weight: fixed, or read from a scale answer (with a fallback)."""

    question: Ident | None = None
    value: float = 1.0


class Criterion(_Strict):
    id: Ident
    label: Annotated[str, StringConstraints(min_length=1, max_length=80)]
    weight: Weight = Field(default_factory=Weight)
    # Optional sentences used when this criterion decides something: ``reason_for`` when a
    # route does well on it and the person cares (their rating is above the midpoint),
    # ``reason_against`` when a route does badly on it. ``{path}`` is the route's title.
    reason_for: str = ""
    reason_against: str = ""


class Conditional(_Strict):
    """A piece of advice shown only when ``when`` holds."""

    text: Prose
    when: Condition | None = None


class LongAnswer(_Strict):
    """A topic answer: like Conditional, with room for a fuller reply."""

    text: LongProse
    when: Condition | None = None


DEFAULT_LEAD_DAYS = 14


class StepSpec(Conditional):
    """A next step: dated from today (``due_in_days``), before a calendar event, or undated."""

    due_in_days: int | None = Field(None, ge=0, le=730)
    before: Ident | None = None
    lead_days: int | None = Field(None, ge=0, le=180)  # default DEFAULT_LEAD_DAYS

    @model_validator(mode="after")
    def _one_date(self) -> StepSpec:
        if self.due_in_days is not None and self.before is not None:
            raise ValueError("use either due_in_days or before, not both")
        if self.lead_days is not None and self.before is None:
            raise ValueError("lead_days needs before")
        return self

    @property
    def lead(self) -> int:
        return DEFAULT_LEAD_DAYS if self.lead_days is None else self.lead_days


class Risk(Conditional):
    """A risk, and what to do about it (shown with the risk)."""

    remedy: str = ""


class Family(_Strict):
    """A kind of route: what-if and the decision map speak of a different kind, not a sibling."""

    id: Ident
    label: Annotated[str, StringConstraints(min_length=1, max_length=100)]


class CalendarEvent(_Strict):
    """A yearly event (an application round, a typical deadline) a step may be tied to."""

    id: Ident
    label: Annotated[str, StringConstraints(min_length=1, max_length=150)]
    month: int = Field(ge=1, le=12)
    day: int = Field(ge=1, le=31)
    when: Condition | None = None

    @model_validator(mode="after")
    def _real_date(self) -> CalendarEvent:
        days = (31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31)[self.month - 1]
        if self.day > days:
            raise ValueError(f"month {self.month} has no day {self.day} (every year)")
        return self


class Topic(_Strict):
    """A question people in this domain ask, with an answer tailored by rules."""

    id: Ident
    title: Annotated[str, StringConstraints(min_length=1, max_length=150)]
    when: Condition | None = None
    answer: list[LongAnswer] = Field(min_length=1)
    paths: list[Ident] = Field(default_factory=list)


class CueValue(_Strict):
    """What a cue implies for a question: a choice id, a scale value or a multi choice."""

    q: Ident
    value: str | int


class Cue(_Strict):
    """Patterns over free text that imply an answer, select a topic or add a route."""

    match: list[Annotated[str, StringConstraints(min_length=1, max_length=2000)]] = Field(
        min_length=1
    )
    set: CueValue | None = None
    topic: Ident | None = None
    route: Ident | None = None
    negated: CueValue | None = None
    # The cue stays silent when any of these patterns is found anywhere in the text ("in
    # India" means region elsewhere, unless the person is "open to moving abroad").
    unless: list[Annotated[str, StringConstraints(min_length=1, max_length=300)]] = Field(
        default_factory=list
    )
    # A weak cue (a bare keyword: "geologist", "pharmacy") only speaks for a question no
    # other cue answered, and only when every weak cue for it agrees.
    weak: bool = False
    # A match right after one of these (in the words before it, as for negation) is not
    # counted: "a master's in physics" is a degree, "do a master's in CS first" a plan.
    not_after: list[Annotated[str, StringConstraints(min_length=1, max_length=300)]] = Field(
        default_factory=list
    )

    @model_validator(mode="after")
    def _one_effect(self) -> Cue:
        effects = [n for n in ("set", "topic", "route") if getattr(self, n) is not None]
        if len(effects) > 1 or (not effects and self.negated is None):
            raise ValueError("a cue needs exactly one of set / topic / route (or only negated)")
        return self


class Adjustment(_Strict):
    """A rule that moves a path up or down for a reason the person will be told."""

    when: Condition
    score: float
    because: Prose


class Variant(_Strict):
    """Reframes a path for some people (a different title and summary)."""

    when: Condition
    title: str | None = None
    summary: str | None = None
    phrase: str | None = None


class Path(_Strict):
    id: Ident
    title: Annotated[str, StringConstraints(min_length=1, max_length=100)]
    summary: Prose
    when: Condition | None = None
    dropped_because: str = ""
    # When the path is dropped, the first of these whose ``when`` holds replaces
    # ``dropped_because`` (a path can be dropped for different reasons).
    dropped_reasons: list[Conditional] = Field(default_factory=list)
    family: Ident | None = None
    # How the route reads inside a sentence ("go for {phrase}"), e.g. "a doctorate in an ML
    # group that works on physics"; default: the title with its first letter lowered.
    phrase: Annotated[str, StringConstraints(max_length=150)] = ""
    # What the advice says when the person named this route (first match wins).
    verdict: list[Conditional] = Field(default_factory=list)
    base: float = 0.0
    ratings: dict[str, float] = Field(default_factory=dict)
    adjust: list[Adjustment] = Field(default_factory=list)
    variants: list[Variant] = Field(default_factory=list)
    pros: list[Conditional] = Field(default_factory=list)
    cons: list[Conditional] = Field(default_factory=list)
    risks: list[Risk] = Field(default_factory=list)
    next_steps: list[StepSpec] = Field(default_factory=list)


class Wording(_Strict):
    """Re-prompt wording; ``{…}`` fields are filled in by the engine."""

    invalid_choice: str = "Please pick one of the options (its number or its name)."
    invalid_multi: str = "Please pick {min} to {max} of the options, separated by commas."
    invalid_scale: str = "Please answer with a whole number from {min} to {max}."
    empty: str = "This question needs an answer."
    too_long: str = "That is {length} characters; please keep it under {max}."
    stale: str = "That question was already answered; here is where we are now."
    welcome_back: str = "Welcome back: we continue where you stopped."
    finished: str = "That is everything I need. Here is what I would weigh up:"
    # After the story (``role: story``): what it pre-filled, and how to correct it.
    story_understood: str = "Here is what I took from what you wrote:"
    story_correct: str = "If anything is wrong, type {edit} with its number, or pick it below."
    story_unsure: str = "What you wrote left these open, so I will ask: {questions}."
    story_nothing: str = "I could not take any answers from that, so I will ask them one by one."
    story_rest: str = "I will ask only what is still missing."
    # Glue of the composed advice (docs/playbooks.md, "Advice wording"). Fields in braces:
    # {path}, {first}, {second}: a route's title as it reads mid-sentence; {question}: a
    # question's short label; {answer}, {current}: choice labels; {n}: a count; {family}:
    # a family label; {criterion}: a criterion label; {text}, {month}, {year}: plan steps.
    short_lead: str = "My advice: {path}."
    short_next: str = "If that does not work out, {path} is the next best fit."
    short_close: str = "It is a close call between {first} and {second}."
    short_depends: str = (
        "The best route depends on your answer to “{question}”, which is still open."
    )
    short_case: str = "If it is {answer}, go for {path}."
    short_any_case: str = "Whatever you decide about “{question}”, {path} fits best."
    short_keep_open: str = "Until you know, {path} keeps the most doors open."
    short_flip: str = "If {change}, {path} would come first."
    change_single: str = "your answer to “{question}” were “{answer}” instead of “{current}”"
    change_scale: str = "you rated “{question}” {answer} instead of {current}"
    change_multi: str = "you changed your answer to “{question}” to “{answer}”"
    confidence_clear: str = (
        "{path} leads clearly: no single change of answer puts a different kind of route first."
    )
    confidence_some: str = (
        "{path} leads, but {n} of your answers, each changed on its own, would put a different "
        "kind of route first."
    )
    confidence_depends: str = (
        "How sure I can be depends on your answer to “{question}”: the answers lead to "
        "different routes."
    )
    confidence_close: str = "It is a close call: {first} and {second} are nearly level for you."
    what_if: str = "If {change}, I would point you to {family} instead: {path}."
    what_if_none: str = (
        "No single different answer would put a different kind of route first: the advice "
        "rests on several of your answers at once."
    )
    reason_for: str = "It does well on {criterion}, which matters to you."
    reason_against: str = "It does less well on {criterion}."
    # After a named route's verdict: its place, said only where it tells something (the
    # runner-up); "" leaves the place out ({rank}, {count}, {lead}: the recommended route).
    verdict_second: str = "It comes second for you, after {lead}."
    verdict_rank: str = ""
    verdict_top: str = "It is the route I recommend for you."
    step_cycle: str = "{text} (for the {month} {year} round)."
    heading_short: str = "In short"
    heading_verdicts: str = "The routes you named"
    heading_unnamed: str = "A strong route you did not name"
    heading_topics: str = "Your questions"
    heading_pros: str = "For"
    heading_cons: str = "Against"
    heading_risks: str = "Risks, and what to do about them"
    heading_plan: str = "Your next steps"
    heading_overview: str = "Every route I considered"
    heading_left_out: str = "Left out"
    heading_confidence: str = "How sure is this"
    heading_what_if: str = "What would change this"


class Playbook(_Strict):
    id: Ident
    version: int = Field(ge=1)
    title: Annotated[str, StringConstraints(min_length=1, max_length=100)]
    description: str = ""
    intro: Prose
    wording: Wording = Field(default_factory=Wording)
    questions: list[PlaybookQuestion] = Field(min_length=1)
    criteria: list[Criterion] = Field(default_factory=list)
    paths: list[Path] = Field(min_length=2)
    max_paths_shown: int = Field(4, ge=1, le=10)
    max_next_steps: int = Field(5, ge=1, le=10)
    families: list[Family] = Field(default_factory=list)
    close_margin: float = Field(1.0, ge=0)
    calendar: list[CalendarEvent] = Field(default_factory=list)
    topics: list[Topic] = Field(default_factory=list)
    cues: list[Cue] = Field(default_factory=list)

    _by_id: dict[str, PlaybookQuestion] = PrivateAttr(default_factory=dict)
    _paths_by_id: dict[str, Path] = PrivateAttr(default_factory=dict)

    def model_post_init(self, context: Any, /) -> None:
        self._by_id = {q.id: q for q in self.questions}
        self._paths_by_id = {}
        for p in self.paths:
            self._paths_by_id.setdefault(p.id, p)  # the first, as a scan would find it

    # The advice looks questions and paths up thousands of times per recommendation: read
    # the private dict directly (``self._by_id`` goes through pydantic's __getattr__).
    def question(self, question_id: str) -> PlaybookQuestion | None:
        return self.__pydantic_private__["_by_id"].get(question_id)  # type: ignore[index]

    def question_index(self, question_id: str) -> int:
        return next(i for i, q in enumerate(self.questions) if q.id == question_id)

    def path(self, path_id: str) -> Path | None:
        return self.__pydantic_private__["_paths_by_id"].get(path_id)  # type: ignore[index]

    def topic(self, topic_id: str) -> Topic | None:
        return next((t for t in self.topics if t.id == topic_id), None)

    def event(self, event_id: str) -> CalendarEvent | None:
        return next((e for e in self.calendar if e.id == event_id), None)

    def family_of(self, path: Path) -> str:
        """A path's family id; a path without one is a family of its own."""
        return path.family or f"path:{path.id}"

    def family_label(self, family_id: str) -> str:
        return next((f.label for f in self.families if f.id == family_id), "")

    def role_question(self, role: str) -> PlaybookQuestion | None:
        return next((q for q in self.questions if q.role == role), None)

    def key_questions(self) -> list[PlaybookQuestion]:
        return [q for q in self.questions if q.key]


def _conditions(pb: Playbook) -> Iterator[tuple[Loc, Condition, int]]:
    """Every condition with its location and the index of the first question it may not see."""
    n = len(pb.questions)
    for i, q in enumerate(pb.questions):
        if q.when is not None:
            yield ("questions", i, "when"), q.when, i
    for i, p in enumerate(pb.paths):
        base: Loc = ("paths", i)
        if p.when is not None:
            yield (*base, "when"), p.when, n
        for j, a in enumerate(p.adjust):
            yield (*base, "adjust", j, "when"), a.when, n
        for j, v in enumerate(p.variants):
            yield (*base, "variants", j, "when"), v.when, n
        for section in ("pros", "cons", "risks", "next_steps", "dropped_reasons", "verdict"):
            for j, item in enumerate(getattr(p, section)):
                if item.when is not None:
                    yield (*base, section, j, "when"), item.when, n
    for i, ev in enumerate(pb.calendar):
        if ev.when is not None:
            yield ("calendar", i, "when"), ev.when, n
    for i, t in enumerate(pb.topics):
        if t.when is not None:
            yield ("topics", i, "when"), t.when, n
        for j, a in enumerate(t.answer):
            if a.when is not None:
                yield ("topics", i, "answer", j, "when"), a.when, n


def _duplicates(items: list[str], loc: Callable[[int], Loc], what: str) -> list[tuple[Loc, str]]:
    return [(loc(i), f"duplicate {what} {x!r}") for i, x in enumerate(items) if x in items[:i]]


def _check_cue_value(
    value: Any, by_id: dict[str, PlaybookQuestion], loc: Loc
) -> list[tuple[Loc, str]]:
    q = by_id.get(value.q)
    if q is None:
        return [((*loc, "q"), f"unknown question {value.q!r}")]
    if q.kind in (QuestionKind.SINGLE_CHOICE, QuestionKind.MULTI_CHOICE):
        if value.value not in q.choice_ids:
            return [((*loc, "value"), f"{value.value!r} is not a choice of question {q.id!r}")]
    elif q.kind == QuestionKind.SCALE:
        if not isinstance(value.value, int) or not q.scale_min <= value.value <= q.scale_max:
            return [((*loc, "value"), f"{q.id!r} takes a whole number {q.scale_min}-{q.scale_max}")]
    else:
        return [((*loc, "q"), f"a cue cannot set the free-text question {q.id!r}")]
    return []


def _fallback_last(items: list[Any], loc: Loc, what: str) -> list[tuple[Loc, str]]:
    if items and items[-1].when is not None:
        return [((*loc, len(items) - 1, "when"), f"the last {what} needs no `when` (the fallback)")]
    return []


def _validate_advice(pb: Playbook, by_id: dict[str, PlaybookQuestion]) -> list[tuple[Loc, str]]:
    """References of the advice constructs: families, calendar, roles, topics, cues, verdicts."""
    problems: list[tuple[Loc, str]] = []
    family_ids = [f.id for f in pb.families]
    event_ids = [e.id for e in pb.calendar]
    topic_ids = [t.id for t in pb.topics]
    path_ids = [p.id for p in pb.paths]
    problems += _duplicates(family_ids, lambda i: ("families", i, "id"), "family id")
    problems += _duplicates(event_ids, lambda i: ("calendar", i, "id"), "calendar id")
    problems += _duplicates(topic_ids, lambda i: ("topics", i, "id"), "topic id")
    for role in ("routes", "topics"):
        holders = [i for i, q in enumerate(pb.questions) if q.role == role]
        for i in holders[1:]:
            problems.append((("questions", i, "role"), f"only one question may have role {role}"))
    named: set[str] = set()
    for i, q in enumerate(pb.questions):
        for j, c in enumerate(q.choices):
            for k, pid in enumerate(c.paths):
                named.add(pid)
                if pid not in path_ids:
                    problems.append(
                        (("questions", i, "choices", j, "paths", k), f"unknown path {pid!r}")
                    )
            for k, tid in enumerate(c.topics):
                if tid not in topic_ids:
                    problems.append(
                        (("questions", i, "choices", j, "topics", k), f"unknown topic {tid!r}")
                    )
    for i, p in enumerate(pb.paths):
        if p.family is not None and p.family not in family_ids:
            problems.append((("paths", i, "family"), f"unknown family {p.family!r}"))
        if p.family is None and pb.families:
            problems.append((("paths", i), "this playbook declares families: give the path one"))
        problems += _fallback_last(p.verdict, ("paths", i, "verdict"), "verdict")
        for j, st in enumerate(p.next_steps):
            if st.before is not None and st.before not in event_ids:
                problems.append(
                    (("paths", i, "next_steps", j, "before"), f"unknown calendar id {st.before!r}")
                )
    for i, t in enumerate(pb.topics):
        problems += _fallback_last(t.answer, ("topics", i, "answer"), "answer")
        for k, pid in enumerate(t.paths):
            if pid not in path_ids:
                problems.append((("topics", i, "paths", k), f"unknown path {pid!r}"))
    routes_q = pb.role_question("routes")
    for i, cue in enumerate(pb.cues):
        loc: Loc = ("cues", i)
        for key in ("match", "unless", "not_after"):
            for j, pattern in enumerate(getattr(cue, key)):
                try:
                    re.compile(pattern, re.IGNORECASE)
                except re.error as exc:
                    problems.append(((*loc, key, j), f"not a valid regular expression: {exc}"))
        for name in ("set", "negated"):
            value = getattr(cue, name)
            if value is not None:
                problems += _check_cue_value(value, by_id, (*loc, name))
        if cue.topic is not None and cue.topic not in topic_ids:
            problems.append(((*loc, "topic"), f"unknown topic {cue.topic!r}"))
        if cue.route is not None:
            if routes_q is None:
                problems.append(((*loc, "route"), "no question has role: routes"))
            elif cue.route not in routes_q.choice_ids:
                problems.append(
                    ((*loc, "route"), f"{cue.route!r} is not a choice of question {routes_q.id!r}")
                )
    return problems


def validate_references(pb: Playbook) -> list[tuple[Loc, str]]:
    """Cross-document checks; returns (location, message) for every problem found."""
    problems: list[tuple[Loc, str]] = []
    ids = [q.id for q in pb.questions]
    for i, qid in enumerate(ids):
        if qid in ids[:i]:
            problems.append((("questions", i, "id"), f"duplicate question id {qid!r}"))
    position = {qid: i for i, qid in enumerate(ids)}
    by_id = {q.id: q for q in pb.questions}
    for loc, cond, limit in _conditions(pb):
        for leaf in cond.leaves():
            assert leaf.q is not None
            q = by_id.get(leaf.q)
            if q is None:
                problems.append((loc, f"unknown question {leaf.q!r}"))
                continue
            if position[leaf.q] >= limit:
                problems.append((loc, f"question {leaf.q!r} comes later, so it cannot decide this"))
            if q.kind in (QuestionKind.SINGLE_CHOICE, QuestionKind.MULTI_CHOICE):
                for value in leaf.referenced_values():
                    if value not in q.choice_ids:
                        problems.append((loc, f"{value!r} is not a choice of question {leaf.q!r}"))
            if (leaf.gte is not None or leaf.lte is not None) and q.kind != QuestionKind.SCALE:
                problems.append((loc, f"gte/lte need a scale question; {leaf.q!r} is {q.kind}"))
            if (leaf.has is not None or leaf.has_any is not None) and (
                q.kind != QuestionKind.MULTI_CHOICE
            ):
                problems.append((loc, f"has/has_any need a multi_choice question, not {leaf.q!r}"))
    crit_ids = [c.id for c in pb.criteria]
    for i, c in enumerate(pb.criteria):
        if c.id in crit_ids[:i]:
            problems.append((("criteria", i, "id"), f"duplicate criterion id {c.id!r}"))
        wq = c.weight.question
        if wq is not None and (wq not in by_id or by_id[wq].kind != QuestionKind.SCALE):
            problems.append(
                (("criteria", i, "weight", "question"), f"{wq!r} is not a scale question")
            )
    path_ids = [p.id for p in pb.paths]
    for i, p in enumerate(pb.paths):
        if p.id in path_ids[:i]:
            problems.append((("paths", i, "id"), f"duplicate path id {p.id!r}"))
        for crit in p.ratings:
            if crit not in crit_ids:
                problems.append((("paths", i, "ratings", crit), f"unknown criterion {crit!r}"))
    problems += _validate_advice(pb, by_id)
    return problems
