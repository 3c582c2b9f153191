"""The playbook format, as typed models. docs/playbooks.md explains it for authors.

Field-level rules live here (pydantic reports them with their key path); rules that span
the document (references, order of conditions) live in ``validate_references``.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Annotated, Any

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
Loc = tuple[str | int, ...]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)


class ChoiceSpec(_Strict):
    id: Ident
    label: Annotated[str, StringConstraints(min_length=1, max_length=80)]
    description: Annotated[str, StringConstraints(max_length=100)] = ""


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


class Conditional(_Strict):
    """A piece of advice shown only when ``when`` holds."""

    text: Prose
    when: Condition | None = None


class StepSpec(Conditional):
    due_in_days: int | None = Field(None, ge=0, le=730)


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


class Path(_Strict):
    id: Ident
    title: Annotated[str, StringConstraints(min_length=1, max_length=100)]
    summary: Prose
    when: Condition | None = None
    dropped_because: str = ""
    # When the path is dropped, the first of these whose ``when`` holds replaces
    # ``dropped_because`` (a path can be dropped for different reasons).
    dropped_reasons: list[Conditional] = Field(default_factory=list)
    base: float = 0.0
    ratings: dict[str, float] = Field(default_factory=dict)
    adjust: list[Adjustment] = Field(default_factory=list)
    variants: list[Variant] = Field(default_factory=list)
    pros: list[Conditional] = Field(default_factory=list)
    cons: list[Conditional] = Field(default_factory=list)
    risks: list[Conditional] = Field(default_factory=list)
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

    _by_id: dict[str, PlaybookQuestion] = PrivateAttr(default_factory=dict)

    def model_post_init(self, context: Any, /) -> None:
        self._by_id = {q.id: q for q in self.questions}

    def question(self, question_id: str) -> PlaybookQuestion | None:
        return self._by_id.get(question_id)

    def question_index(self, question_id: str) -> int:
        return next(i for i, q in enumerate(self.questions) if q.id == question_id)


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
        for section in ("pros", "cons", "risks", "next_steps", "dropped_reasons"):
            for j, item in enumerate(getattr(p, section)):
                if item.when is not None:
                    yield (*base, section, j, "when"), item.when, n


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
    return problems
