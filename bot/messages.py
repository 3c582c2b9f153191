"""The neutral outbound message model every adapter renders.

The core answers every event with a list of these. They carry structure, never platform
markup: an adapter decides whether a choice becomes a button, a select or a numbered line.
User-typed text inside them is raw; each adapter escapes it for its own medium.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime
from enum import StrEnum
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from bot.advice.model import Advice, PathView

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
    multiline: bool = False  # a story: several lines (a terminal reads up to an empty line)

    def choice_label(self, choice_id: str) -> str:
        return next((c.label for c in self.choices if c.id == choice_id), choice_id)

    def current_words(self) -> str:
        """The current answer in words (raw user text for free text; "" if none or skipped).

        Every adapter shows it when a person comes back to change an answer.
        """
        value = self.current
        if value is None or value == "" or value == []:
            return ""
        if isinstance(value, list):
            return ", ".join(self.choice_label(c) for c in value)
        if self.kind == QuestionKind.SINGLE_CHOICE:
            return self.choice_label(str(value))
        return str(value)


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
    # The composed advice (bot/advice/model.py), when the snapshot holds one: presenters
    # show it instead of the ranking above, which stays for version-1 snapshots.
    advice: Advice | None = None

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
class Understood:
    """After a story: the answers it pre-filled (numbered as ``edit N`` takes them) and the
    questions it left open, for the person to confirm or correct before the rest."""

    consultation_id: int
    items: tuple[AnswerSummary, ...]  # prompt: "N. short label"
    unsure: tuple[str, ...]  # labels of questions the story pointed two ways on
    lead: str
    correct: str  # how to correct an item (the edit command filled in)
    unsure_note: str
    nothing: str
    rest: str


@dataclass(frozen=True, slots=True)
class Status:
    consultation_id: int
    playbook_title: str
    state: str
    position: int
    total: int
    answers: tuple[AnswerSummary, ...] = field(default_factory=tuple)


OutMessage = (
    Text | Notice | Question | Recommendation | Plan | ExportFile | Confirm | Status | Understood
)


@dataclass(frozen=True, slots=True)
class PathDetail:
    """Everything about one path, for "tell me more" (the short card leaves detail out)."""

    consultation_id: int
    path: PathAdvice
    # With composed advice: the path's full view and the advice (for its headings).
    view: PathView | None = None
    advice: Advice | None = None


class CheckInChoice(StrEnum):
    """The answers a check-in DM offers; adapters send the id back in AnswerCheckIn."""

    DONE = "done"
    IN_PROGRESS = "in_progress"
    BLOCKED = "blocked"
    SITUATION_CHANGED = "situation_changed"
    SNOOZE_DAY = "snooze_day"
    SNOOZE_WEEK = "snooze_week"
    STOP = "stop"


class WhenKind(StrEnum):
    """How a person can ask for check-ins (events.When.kind)."""

    SUGGESTED = "suggested"  # the dates the advice suggests for each plan item
    IN_DAYS = "in_days"  # once, in ``days`` days
    WEEKLY = "weekly"
    FORTNIGHTLY = "fortnightly"
    DATE = "date"  # once, on ``on`` ("YYYY-MM-DD" or "YYYY-MM-DD HH:MM", local time)


NO_CHECKINS = "none"  # the offer's "no thanks" choice


@dataclass(frozen=True, slots=True)
class CheckInOffer:
    """After a recommendation: would the person like check-ins on their plan, and when?

    ``choices`` ids are WhenKind values plus NO_CHECKINS; the adapter answers with
    events.ScheduleCheckIns (asking for the number of days / the date when needed).
    """

    consultation_id: int
    items: tuple[PlanItemView, ...]
    choices: tuple[ChoiceOption, ...]
    timezone: str
    timezone_known: bool


@dataclass(frozen=True, slots=True)
class CheckInPrompt:
    """A due check-in, sent as a DM through a CheckInSender.

    A click comes back as events.AnswerCheckIn(checkin_id, occurrence, choice id).
    ``action`` is the plan item as the person's plan has it (raw text: escape it).
    ``redelivery`` is True when an earlier attempt may already have reached the person
    (its process died between sending and recording): a platform without a nonce can
    look for that message before posting again.
    """

    checkin_id: int
    occurrence: int
    plan_item_id: int
    action: str
    due_local: datetime
    timezone: str
    choices: tuple[ChoiceOption, ...]
    repeat_days: int | None = None
    redelivery: bool = False


@dataclass(frozen=True, slots=True)
class MissedCheckIn:
    checkin_id: int
    action: str
    repeat_days: int | None = None


@dataclass(frozen=True, slots=True)
class CheckInCatchUp:
    """One note for every check-in that fell due while the bot was down for too long.

    ``choices`` apply per item: ``snooze_day`` -> events.SnoozeCheckIn(id, 1),
    ``cancel`` -> events.CancelCheckIn(id).
    """

    text: str
    items: tuple[MissedCheckIn, ...]
    timezone: str
    choices: tuple[ChoiceOption, ...]
    occurrence: int = 1
    redelivery: bool = False


ReminderMessage = CheckInPrompt | CheckInCatchUp


@dataclass(frozen=True, slots=True)
class CheckInView:
    checkin_id: int
    plan_item_id: int
    action: str
    schedule: str  # in words: "once", "every 7 days"
    state: str  # pending | sent (waiting for an answer) | failed | missed
    next_due_local: datetime | None
    plan_status: str = "open"
    last_error: str = ""


@dataclass(frozen=True, slots=True)
class CheckInList:
    """`/advise checkins`: each check-in with what can be done to it.

    ``actions`` apply per item: ``snooze_day`` / ``snooze_week`` -> events.SnoozeCheckIn
    (1 / 7 days), ``change`` -> events.ChangeCheckIn (ask for the new When), ``cancel`` ->
    events.CancelCheckIn.
    """

    items: tuple[CheckInView, ...]
    timezone: str
    quiet_hours: str
    actions: tuple[ChoiceOption, ...]


@dataclass(frozen=True, slots=True)
class TimezoneQuestion:
    """Asked once when the platform gave no time zone; answer with events.SetTimezone."""

    prompt: str
    current: str
    suggestions: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class RevisitOffer:
    """After "blocked" / "my situation changed": revisit the consultation from a question.

    Each option id is a question id: the adapter sends events.Edit(user, id), which keeps
    every other answer. Declining needs no event.
    """

    consultation_id: int
    prompt: str
    questions: tuple[ChoiceOption, ...]


@dataclass(frozen=True, slots=True)
class RescheduleQuestion:
    """After "change" on a check-in: when should it come instead?"""

    checkin_id: int


@dataclass(frozen=True, slots=True)
class Home:
    """A person's overview (Slack's App Home): where their consultation stands, the top
    of its advice and plan, and their check-ins.

    ``status`` None: no consultation. ``question``/``total``: the current question's
    position while the consultation is active ("question 3 of 7").
    """

    status: Status | None
    question: int = 0
    total: int = 0
    recommendation: Recommendation | None = None
    plan: Plan | None = None
    checkins: CheckInList | None = None


@dataclass(frozen=True, slots=True)
class CheckInAsked:
    """A delivered check-in, as a click on its DM answered it (the receipt's subject)."""

    checkin_id: int
    action: str


@dataclass(frozen=True, slots=True)
class OfferAsked:
    """The check-in offer after a recommendation, as a click answered it."""

    consultation_id: int


# ---------------------------------------------------------------- mentor hand-off


@dataclass(frozen=True, slots=True)
class MentorSummary:
    """Exactly what a person agrees to share with mentors, and nothing else.

    ``background``: their answers to the playbook's choice and scale questions (no free
    text: not their story, notes or constraints); ``routes``: the routes they named as
    weighing; ``short_version``: the recommendation's short version; ``questions``: the
    questions they picked for the advice to answer.
    """

    playbook_title: str
    background: tuple[AnswerSummary, ...]
    routes: tuple[str, ...]
    short_version: str
    questions: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class MentorOffer:
    """After a recommendation, where a mentors channel is set: would they like a mentor?"""

    consultation_id: int


@dataclass(frozen=True, slots=True)
class MentorConsent:
    """What would be shared, word for word, with yes (with or without check-in copies)
    and no. ``step``: the consultation's version, so a yes applies to this summary only."""

    consultation_id: int
    step: int
    summary: MentorSummary


@dataclass(frozen=True, slots=True)
class MentorStatus:
    """The person's own view of their request (after yes, or when they ask)."""

    request_id: int
    state: str
    copy_checkins: bool


@dataclass(frozen=True, slots=True)
class MentorBoardCard:
    """A request on the mentors channel: the summary and a claim button while unclaimed;
    once taken, a short line without the summary."""

    request_id: int
    state: str
    summary: MentorSummary
    resurfaced: bool = False


@dataclass(frozen=True, slots=True)
class MentorIntro:
    """The introduction of a person and the mentor who took their request. Once the
    request is no longer theirs (handed back, withdrawn, closed) it keeps no summary."""

    request_id: int
    state: str
    summary: MentorSummary
    copy_checkins: bool


@dataclass(frozen=True, slots=True)
class MentorNote:
    """A check-in answer copied to the mentor (the person agreed to it)."""

    action: str
    answer: str


@dataclass(frozen=True, slots=True)
class MentorAsked:
    """A mentor hand-off message as a click answered it: ``where`` is which one
    ("consent", "board", "intro", "status"); ``ident`` its consultation or request."""

    where: str
    ident: int


MentorMessage = (
    MentorOffer | MentorConsent | MentorStatus | MentorBoardCard | MentorIntro | MentorNote
)


# What a click can answer: the clicked message becomes a receipt of it, with the answer
# in words (core.result.Result.answered; bot.ui.presenters.receipt).
Answerable = Question | CheckInAsked | OfferAsked | Confirm | MentorAsked


CheckInMessage = (
    CheckInOffer
    | CheckInPrompt
    | CheckInCatchUp
    | CheckInList
    | TimezoneQuestion
    | RevisitOffer
    | RescheduleQuestion
)


# ---------------------------------------------------------------- admin insights


@dataclass(frozen=True, slots=True)
class StatsTable:
    """One table of the admin statistics, every cell already published (counts rounded,
    small ones hidden by bot.features.stats): ``rows`` are (label, a value per column);
    ``group`` names the playbook a table is about ("" for the whole scope)."""

    key: str  # overview | funnel | dropout | first_paths | checkins | mentors
    title: str
    columns: tuple[str, ...]  # the first names the row labels
    rows: tuple[tuple[str, tuple[str, ...]], ...]
    group: str = ""


@dataclass(frozen=True, slots=True)
class StatsReport:
    """``/advise-admin stats``: aggregates of one server, workspace or the whole database.

    ``chart``: a PNG of the funnel and the routes that came first, when asked for and
    matplotlib is installed (else ``chart_note`` says why not, in one line); ``csv``: the
    tables as CSV, when asked for.
    """

    scope: str
    tables: tuple[StatsTable, ...]
    notes: tuple[str, ...] = ()
    chart: bytes | None = None
    chart_alt: str = ""
    chart_note: str = ""
    csv: str | None = None


@dataclass(frozen=True, slots=True)
class RouteChart:
    """A person's top routes compared on the criteria they weighted, as a PNG, shown with
    their recommendation on the platforms that show images (setting route_chart_platforms)."""

    consultation_id: int
    png: bytes
    alt: str


InsightMessage = StatsReport | RouteChart

AnyMessage = OutMessage | PathDetail | CheckInMessage | Home | InsightMessage | MentorMessage
