"""The composed advice, as domain types (not display types).

``Advice`` is what a person reads, in reading order; presenters turn it into cards. It is
stored whole in recommendation_snapshots.payload (``model_dump(mode="json")``), so showing
it again later gives the same text even after the playbook changes.
"""

from __future__ import annotations

from datetime import date
from enum import StrEnum

from pydantic import BaseModel, ConfigDict


class _Frozen(BaseModel):
    model_config = ConfigDict(frozen=True, extra="ignore")


class PlanStep(_Frozen):
    text: str
    due: date | None = None
    path_id: str = ""
    event_id: str = ""  # the calendar event the step is due before, if any
    event_date: date | None = None


class RiskItem(_Frozen):
    text: str
    remedy: str = ""


class PathView(_Frozen):
    """One ranked path with everything about it (details open for any ranked path)."""

    path_id: str
    family: str
    rank: int
    title: str
    summary: str
    score: float
    reasons_for: tuple[str, ...] = ()
    reasons_against: tuple[str, ...] = ()
    pros: tuple[str, ...] = ()
    cons: tuple[str, ...] = ()
    risks: tuple[RiskItem, ...] = ()
    steps: tuple[PlanStep, ...] = ()


class Verdict(_Frozen):
    path_id: str
    title: str
    text: str
    named: bool = True  # False: the strong route the person did not name
    rank: int | None = None  # None: the path was left out for this person


class TopicAnswer(_Frozen):
    topic_id: str
    title: str
    text: str
    path_ids: tuple[str, ...] = ()
    selected_by: str = ""  # "choice", "cue" or "rule"


class Case(_Frozen):
    """One branch of the decision map: under these answers, this path comes first."""

    question_id: str
    answers: tuple[str, ...]
    answer_labels: tuple[str, ...]
    path_id: str
    title: str


class Level(StrEnum):
    CLEAR = "clear"  # a clear lead: no single change puts another kind of route first
    LEAD = "lead"  # a lead some single changes would overturn
    CLOSE = "close"  # the top two are within close_margin


class Confidence(_Frozen):
    level: Level
    text: str
    margin: float
    flips: int  # questions whose single change puts a different family first


class WhatIf(_Frozen):
    """The smallest single change that puts a path of a different family first."""

    text: str
    question_id: str = ""
    answer: str | int | list[str] | None = None
    path_id: str = ""


class LeftOut(_Frozen):
    path_id: str
    title: str
    reason: str


class Section(_Frozen):
    """Pros, cons and risks of one top route as shown in the advice (nothing repeated)."""

    path_id: str
    title: str
    summary: str
    reasons_for: tuple[str, ...] = ()
    pros: tuple[str, ...] = ()
    cons: tuple[str, ...] = ()
    risks: tuple[RiskItem, ...] = ()


class Headings(_Frozen):
    short: str = ""
    verdicts: str = ""
    unnamed: str = ""
    topics: str = ""
    pros: str = ""
    cons: str = ""
    risks: str = ""
    plan: str = ""
    overview: str = ""
    left_out: str = ""
    confidence: str = ""
    what_if: str = ""


class Advice(_Frozen):
    playbook_id: str
    playbook_version: int
    playbook_title: str
    today: date
    short_version: tuple[str, ...]
    conditional: bool = False
    deciding_question: str = ""
    cases: tuple[Case, ...] = ()
    keep_open: str = ""  # path id
    verdicts: tuple[Verdict, ...] = ()
    unnamed: Verdict | None = None
    topics: tuple[TopicAnswer, ...] = ()
    top: tuple[Section, ...] = ()
    confidence: Confidence | None = None
    what_if: WhatIf | None = None
    plan: tuple[PlanStep, ...] = ()
    paths: tuple[PathView, ...] = ()
    left_out: tuple[LeftOut, ...] = ()
    headings: Headings = Headings()
    answers: dict[str, str | int | list[str] | None] = {}

    def path(self, path_id: str) -> PathView | None:
        return next((p for p in self.paths if p.path_id == path_id), None)

    @property
    def top_path(self) -> PathView:
        return self.paths[0]
