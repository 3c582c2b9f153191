"""The neutral outbound message model every adapter renders.

The core answers every event with a list of these. They carry structure, never platform
markup: an adapter decides whether a choice becomes a button, a select or a numbered line.
User-typed text inside them is raw; each adapter escapes it for its own medium.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from enum import StrEnum

AnswerValue = str | int | list[str]


class QuestionKind(StrEnum):
    SINGLE_CHOICE = "single_choice"
    MULTI_CHOICE = "multi_choice"
    FREE_TEXT = "free_text"
    SCALE = "scale"


class Level(StrEnum):
    INFO = "info"
    SUCCESS = "success"
    WARNING = "warning"
    ERROR = "error"


@dataclass(frozen=True, slots=True)
class ChoiceOption:
    id: str
    label: str
    description: str = ""


@dataclass(frozen=True, slots=True)
class Text:
    """Plain prose: the introduction, help, a status line."""

    text: str
    title: str = ""


@dataclass(frozen=True, slots=True)
class Notice:
    """A short system message: stale click, nothing to go back to, database down."""

    text: str
    level: Level = Level.INFO


@dataclass(frozen=True, slots=True)
class Question:
    """One step of a consultation.

    ``step`` is the consultation's version when the question was asked; a component that
    carries it back lets the core tell a fresh click from one on an old message.
    """

    consultation_id: int
    step: int
    question_id: str
    kind: QuestionKind
    prompt: str
    help: str = ""
    choices: tuple[ChoiceOption, ...] = ()
    optional: bool = False
    min_choices: int = 1
    max_choices: int = 1
    max_length: int = 0
    scale_min: int = 1
    scale_max: int = 5
    scale_low_label: str = ""
    scale_high_label: str = ""
    position: int = 1
    total: int = 1
    current: AnswerValue | None = None
    error: str = ""

    def choice_label(self, choice_id: str) -> str:
        return next((c.label for c in self.choices if c.id == choice_id), choice_id)


@dataclass(frozen=True, slots=True)
class NextStep:
    text: str
    due: date | None = None


@dataclass(frozen=True, slots=True)
class PathAdvice:
    path_id: str
    rank: int
    title: str
    summary: str
    score: float
    reasons: tuple[str, ...] = ()
    pros: tuple[str, ...] = ()
    cons: tuple[str, ...] = ()
    risks: tuple[str, ...] = ()
    next_steps: tuple[NextStep, ...] = ()


@dataclass(frozen=True, slots=True)
class Recommendation:
    """The ranked paths, why they are in this order, and what would change the top one."""

    consultation_id: int
    step: int
    playbook_title: str
    paths: tuple[PathAdvice, ...]
    why_order: tuple[str, ...]
    what_would_change: str
    notes: tuple[str, ...] = ()
    dropped: tuple[str, ...] = ()

    @property
    def top(self) -> PathAdvice:
        return self.paths[0]


@dataclass(frozen=True, slots=True)
class PlanItemView:
    id: int
    action: str
    due: date | None
    status: str


@dataclass(frozen=True, slots=True)
class Plan:
    consultation_id: int
    items: tuple[PlanItemView, ...]


@dataclass(frozen=True, slots=True)
class ExportFile:
    """A document for the person: adapters attach it as a file, the console writes it."""

    filename: str
    content: str
    media_type: str = "text/markdown"


@dataclass(frozen=True, slots=True)
class Confirm:
    """Ask before doing something that cannot be undone; ``action`` is echoed back."""

    prompt: str
    action: str
    confirm_label: str = "Yes"
    cancel_label: str = "No"


@dataclass(frozen=True, slots=True)
class AnswerSummary:
    question_id: str
    prompt: str
    answer: str


@dataclass(frozen=True, slots=True)
class Status:
    consultation_id: int
    playbook_title: str
    state: str
    position: int
    total: int
    answers: tuple[AnswerSummary, ...] = field(default_factory=tuple)


OutMessage = Text | Notice | Question | Recommendation | Plan | ExportFile | Confirm | Status


@dataclass(frozen=True, slots=True)
class PathDetail:
    """Everything about one path, for "tell me more" (the short card leaves detail out)."""

    consultation_id: int
    path: PathAdvice


AnyMessage = OutMessage | PathDetail
