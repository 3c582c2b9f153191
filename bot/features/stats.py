"""Admin insights (issue #13 part 2): aggregates of a server, a workspace or the whole
database, with small counts hidden, as tables, a chart and CSV.

What is counted (bot/store/stats_repo.py holds the SQL): consultations started and
finished, where the unfinished ones stand (the current question of those in progress and
of those abandoned: no turn for ``stats_abandoned_days``), the funnel (started, each
question reached, finished), which route came first in each finished consultation's
latest recommendation, check-in reply rates (answered / delivered) and mentor requests
with their claim times (through the mentor hand-off's query, when it is installed).

Small counts (the choice, and why): a count below 5 (0 included) is shown as "<5", and
every other count is rounded to the nearest 10 (5 to 14 show as 10, 15 to 24 as 20). The
same people are counted in several tables (the overview's split of those who started,
the funnel, where the unfinished stand, the routes that came first), so hiding the small
cells alone would not do: a hidden cell could be recovered by subtracting shown figures,
within a table or across two. Rounding every figure closes those links at once, where
complementary suppression would have to follow every link between tables. Why 10 and
not 5: a shown figure must be less precise than the range a hidden one can take (0 to
4). With rounding to 5, a total of "10" whose two parts are both hidden can only be
4 + 4, and an exact "0" beside it gives cells away too; with 0-4 hidden and rounding to
10 no additive relation (a total and its parts) can pin a hidden cell down, which
tests/test_stats.py checks exhaustively for one table and for the overview linked to the
routes table. A rate (the check-in reply rate) is rounded to 10 percentage points and
shown only when both the part and the rest are at least 5. Claim times are shown only for
at least 5 claims, rounded. Nothing raw leaves this module: the cards, the chart and the
CSV are all made from the published figures.
"""

from __future__ import annotations

import asyncio
import csv
import io
import logging
import statistics
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import timedelta

from bot import charts
from bot.checkins import texts as checkin_texts
from bot.core.context import CoreContext
from bot.core.reply import Outcome
from bot.core.result import Result, result
from bot.messages import CheckInChoice, Notice, StatsReport, StatsTable
from bot.playbook.schema import Playbook
from bot.store import stats_repo
from bot.store.stats_repo import MentorCounts, MentorQuery, PlaybookCounts, RawStats, Scope

__all__ = [
    "HIDDEN",
    "ROUND_TO",
    "THRESHOLD",
    "Names",
    "Stats",
    "publish",
    "published",
    "rate",
    "to_csv",
]

log = logging.getLogger(__name__)

THRESHOLD = 5  # a count below this (0 included) is hidden
ROUND_TO = 10  # every other count is rounded to the nearest multiple of this (halves up)
RATE_STEP = 10  # percentage points
HIDDEN = "<5"
NO_RATE = "—"
CSV_COLUMNS = ("table", "playbook", "row", "column", "value")
NOTHING_YET = "No consultations have been started here yet, so there is nothing to count."
MENTORS_MISSING = (
    "Mentor requests and claim times: not counted, this installation has no mentor "
    "hand-off (its tables do not exist)."
)


def published(n: int) -> int | None:
    """A count as it may be shown: None (below THRESHOLD: hidden), or rounded to the
    nearest ROUND_TO, halves up."""
    if n < THRESHOLD:
        return None
    return ROUND_TO * ((n + ROUND_TO // 2) // ROUND_TO)


def shown(n: int) -> str:
    value = published(n)
    return HIDDEN if value is None else str(value)


def rate(part: int, whole: int) -> str:
    """``part / whole`` in percent, rounded to RATE_STEP (halves up), or NO_RATE unless
    both the part and the rest are at least THRESHOLD."""
    rest = whole - part
    if part < THRESHOLD or rest < THRESHOLD:
        return NO_RATE
    return f"{RATE_STEP * ((200 * part + RATE_STEP * whole) // (2 * RATE_STEP * whole))}%"


def duration(seconds: float) -> str:
    """A waiting time in words, rounded: minutes below an hour, hours below two days."""
    minutes = seconds / 60
    if minutes < 60:
        return f"{max(5, 5 * round(minutes / 5))} min"
    hours = minutes / 60
    if hours < 48:
        return f"{round(hours)} h"
    return f"{round(hours / 24)} days"


@dataclass(frozen=True, slots=True)
class Names:
    """How one playbook's ids read: its title, its questions in order, its routes."""

    title: str
    questions: tuple[tuple[str, str], ...]  # (id, label) in the playbook's order
    paths: tuple[tuple[str, str], ...]  # (id, title) in the playbook's order

    @classmethod
    def of(cls, pb: Playbook) -> Names:
        return cls(
            title=pb.title,
            questions=tuple((q.id, _capital(q.short or q.prompt)) for q in pb.questions),
            paths=tuple((p.id, p.title) for p in pb.paths),
        )

    @classmethod
    def unknown(cls, playbook_id: str) -> Names:
        """A playbook no longer installed: its ids are all there is to show."""
        return cls(title=playbook_id, questions=(), paths=())

    def question(self, qid: str) -> str:
        return dict(self.questions).get(qid, qid)

    def path(self, pid: str) -> str:
        return dict(self.paths).get(pid, pid)

    def order(self, seen: Iterable[str]) -> list[str]:
        """The playbook's questions in order, then any other id seen (an older version)."""
        known = [qid for qid, _ in self.questions]
        return known + sorted(set(seen) - set(known))


def _capital(text: str) -> str:
    text = " ".join(text.split()).rstrip("?")
    return text[:1].upper() + text[1:]


# ---------------------------------------------------------------- the published tables


def _overview(raw: RawStats, days: int) -> StatsTable:
    pbs = raw.playbooks.values()
    rows = (
        ("Consultations started", raw.started),
        ("People", raw.people),
        ("Finished (reached a recommendation)", sum(p.finished for p in pbs)),
        ("In progress", sum(p.in_progress for p in pbs)),
        (f"Abandoned (no answer for {days} days)", sum(p.abandoned for p in pbs)),
        ("Closed or restarted before the end", sum(p.closed for p in pbs)),
    )
    return StatsTable(
        key="overview",
        title="Consultations",
        columns=("", "Count"),
        rows=tuple((label, (shown(n),)) for label, n in rows),
    )


def _funnel(counts: PlaybookCounts, names: Names) -> StatsTable:
    rows = [("Started", (shown(counts.started),))]
    for qid in names.order(counts.reached):
        rows.append((f"Reached: {names.question(qid)}", (shown(counts.reached.get(qid, 0)),)))
    rows.append(("Finished", (shown(counts.finished),)))
    return StatsTable(
        key="funnel",
        title=f"Funnel: {names.title}",
        columns=("Step", "Consultations"),
        rows=tuple(rows),
        group=names.title,
    )


def _dropout(counts: PlaybookCounts, names: Names, days: int) -> StatsTable | None:
    rows = []
    for qid in names.order(counts.stopped):
        live, idle = counts.stopped.get(qid, (0, 0))
        if live or idle:
            rows.append((names.question(qid), (shown(live), shown(idle))))
    if not rows:
        return None
    return StatsTable(
        key="dropout",
        title=f"Where unfinished consultations stand: {names.title}",
        columns=("Question", "In progress", f"Abandoned ({days}+ days)"),
        rows=tuple(rows),
        group=names.title,
    )


def _first(counts: PlaybookCounts, names: Names) -> StatsTable | None:
    if not counts.first:
        return None
    order = {pid: i for i, (pid, _) in enumerate(names.paths)}
    ranked = sorted(counts.first.items(), key=lambda kv: (-kv[1], order.get(kv[0], 999), kv[0]))
    return StatsTable(
        key="first_paths",
        title=f"Routes that came first: {names.title}",
        columns=("Route", "Finished consultations"),
        rows=tuple((names.path(pid), (shown(n),)) for pid, n in ranked),
        group=names.title,
    )


_ANSWER_ROWS = (
    (CheckInChoice.DONE,),
    (CheckInChoice.IN_PROGRESS,),
    (CheckInChoice.BLOCKED,),
    (CheckInChoice.SITUATION_CHANGED,),
    (CheckInChoice.SNOOZE_DAY, CheckInChoice.SNOOZE_WEEK),
    (CheckInChoice.STOP,),
)


def _answer_label(choices: tuple[CheckInChoice, ...]) -> str:
    if len(choices) > 1:
        return "Replied: Snooze"
    return f"Replied: {checkin_texts.choice_label(checkin_texts.PROMPT_CHOICES, choices[0])}"


def _checkins(raw: RawStats) -> StatsTable:
    c = raw.checkins
    answered = min(c.answered, c.delivered)
    rows = [
        ("Delivered", (shown(c.delivered),)),
        ("Answered", (shown(answered),)),
        ("Reply rate (answered / delivered)", (rate(answered, c.delivered),)),
    ]
    for choices in _ANSWER_ROWS:
        n = sum(c.answers.get(str(choice), 0) for choice in choices)
        rows.append((_answer_label(choices), (shown(n),)))
    rows.append(("Missed while the bot was offline", (shown(c.missed),)))
    rows.append(("Could not be delivered", (shown(c.failed),)))
    return StatsTable(key="checkins", title="Check-ins", columns=("", "Value"), rows=tuple(rows))


def _mentors(m: MentorCounts) -> StatsTable:
    waits = sorted(m.claim_seconds)
    enough = len(waits) >= THRESHOLD
    median = duration(statistics.median(waits)) if enough else NO_RATE
    slow = duration(statistics.quantiles(waits, n=10)[-1]) if enough else NO_RATE
    return StatsTable(
        key="mentors",
        title="Mentor requests",
        columns=("", "Value"),
        rows=(
            ("Requests", (shown(m.requests),)),
            ("Claimed by a mentor", (shown(min(m.claimed, m.requests)),)),
            ("Claim rate", (rate(min(m.claimed, m.requests), m.requests),)),
            ("Time to claim: median", (median,)),
            ("Time to claim: 9 in 10 within", (slow,)),
        ),
    )


def publish(raw: RawStats, names: dict[str, Names], days: int) -> tuple[StatsTable, ...]:
    """Every table, from published figures only (see the module docstring)."""
    tables = [_overview(raw, days)]
    ordered = sorted(raw.playbooks.items(), key=lambda kv: (-kv[1].started, kv[0]))
    for pid, counts in ordered:
        pb_names = names.get(pid) or Names.unknown(pid)
        tables.append(_funnel(counts, pb_names))
        tables += [t for t in (_dropout(counts, pb_names, days),) if t is not None]
        tables += [t for t in (_first(counts, pb_names),) if t is not None]
    tables.append(_checkins(raw))
    if raw.mentors is not None:
        tables.append(_mentors(raw.mentors))
    return tuple(tables)


def to_csv(tables: Sequence[StatsTable]) -> str:
    """The published tables as CSV, one figure per line (table, playbook, row, column,
    value): easy to filter or pivot in a spreadsheet."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(CSV_COLUMNS)
    for table in tables:
        for label, values in table.rows:
            for column, value in zip(table.columns[1:], values, strict=True):
                writer.writerow((table.key, table.group, label, column, value))
    return out.getvalue()


def _bars(table: StatsTable) -> list[charts.Bar]:
    bars: list[charts.Bar] = []
    for label, (value, *_) in table.rows:
        bars.append((label.removeprefix("Reached: "), None if value == HIDDEN else int(value)))
    return bars


def chart_inputs(
    tables: Sequence[StatsTable],
) -> tuple[list[tuple[str, list[charts.Bar]]], list[tuple[str, list[charts.Bar]]], str]:
    """What the chart draws, from the published tables only: the funnels, the routes that
    came first, and the same in words (the image's alt text)."""
    funnels = [(t.title, _bars(t)) for t in tables if t.key == "funnel"]
    first = [(t.title, _bars(t)) for t in tables if t.key == "first_paths"]
    words = [
        f"{title}: " + ", ".join(f"{label} {HIDDEN if v is None else v}" for label, v in bars)
        for title, bars in (*funnels, *first)
    ]
    return funnels, first, ". ".join(words)[:1000]


# ---------------------------------------------------------------- the feature


class Stats:
    """The statistics an admin asks for. ``mentors``: how the mentor hand-off's figures
    are read (stats_repo.MentorQuery; it answers None while there are none to read)."""

    def __init__(self, ctx: CoreContext, mentors: MentorQuery | None = None) -> None:
        self.ctx = ctx
        self.mentors = mentors

    def names(self, playbook_ids: Iterable[str]) -> dict[str, Names]:
        out: dict[str, Names] = {}
        for pid in playbook_ids:
            pb = self.ctx.playbooks.get(pid) or next(
                (v for (vid, _), v in sorted(self.ctx.versions.items()) if vid == pid), None
            )
            out[pid] = Names.of(pb) if pb is not None else Names.unknown(pid)
        return out

    async def report(
        self, platform: str | None, tenant: str | None, *, chart: bool = False, csv: bool = False
    ) -> Result:
        """SHOWN: the statistics of ``tenant`` on ``platform`` (both None: everything)."""
        scope = Scope(platform, tenant if platform is not None else None)
        days = self.ctx.settings.stats_abandoned_days
        cutoff = self.ctx.clock() - timedelta(days=days)
        raw = await self.ctx.db.run(stats_repo.gather, scope, cutoff, self.mentors)
        if raw.started == 0 and (raw.mentors is None or raw.mentors.requests == 0):
            return result(Outcome.SHOWN, Notice(NOTHING_YET))
        tables = publish(raw, self.names(raw.playbooks), days)
        notes = [
            "Counts are rounded to the nearest 10, and counts below 5 (none included) are "
            "shown as <5, so that no figure, on its own or set against another, points at a "
            "few people. A rate is left out (—) where it would reveal such a small group.",
        ]
        if raw.mentors is None:
            notes.append(MENTORS_MISSING)
        if scope.platform == "discord":
            notes.append("Consultations started in a DM with me belong to no server.")
        png, alt, chart_note = None, "", ""
        if chart:
            png, alt, chart_note = await self._chart(tables, _scope_words(scope))
        report = StatsReport(
            scope=_scope_words(scope),
            tables=tables,
            notes=tuple(notes),
            chart=png,
            chart_alt=alt,
            chart_note=chart_note,
            csv=to_csv(tables) if csv else None,
        )
        return result(Outcome.SHOWN, report)

    @staticmethod
    async def _chart(tables: Sequence[StatsTable], scope: str) -> tuple[bytes | None, str, str]:
        if not charts.available():
            return None, "", charts.UNAVAILABLE
        funnels, first, alt = chart_inputs(tables)
        try:
            png = await asyncio.to_thread(charts.stats_png, funnels, first, f"Crossroads: {scope}")
        except charts.ChartsUnavailable as exc:
            return None, "", str(exc)
        except Exception:  # a chart is never worth failing the statistics for
            log.exception("could not draw the statistics chart")
            return None, "", "The chart could not be drawn this time; the figures are above."
        return png, alt, ""


def _scope_words(scope: Scope) -> str:
    if scope.platform is None:
        return "every platform and server (the whole database)"
    if scope.platform == "discord":
        return f"Discord server {scope.tenant}" if scope.tenant else "Discord"
    if scope.platform == "slack":
        return f"Slack workspace {scope.tenant}" if scope.tenant else "Slack"
    return f"{scope.platform} {scope.tenant or ''}".strip()
