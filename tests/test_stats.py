"""Admin statistics on a seeded database (SQLite and PostgreSQL): the aggregates per
tenant, small counts hidden, the CSV, the chart, and that hidden cells cannot be
recovered from the shown figures.

The seed is built through the engine, as people would use the bot: consultations that
finish (the route that comes first depends on the pay answer), stop part-way (recently,
or long ago: abandoned), are cancelled; weekly check-ins delivered twice by the real
delivery worker and answered in part; other tenants that must not leak in.
"""

from __future__ import annotations

import csv
import io
import itertools
import struct
import subprocess
import sys
from collections.abc import AsyncIterator
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from bot import charts
from bot import events as ev
from bot.checkins.delivery import DeliveryConfig, DeliveryWorker
from bot.core.reply import Outcome, Reply
from bot.engine import Engine
from bot.features.stats import (
    HIDDEN,
    MENTORS_MISSING,
    NOTHING_YET,
    ROUND_TO,
    Names,
    publish,
    published,
    rate,
)
from bot.messages import CheckInPrompt, Plan, StatsReport
from bot.settings import REPO_ROOT, Settings, load_settings
from bot.store import stats_repo
from bot.store.models import Consultation, MentorRequest
from bot.store.stats_repo import MentorCounts, PlaybookCounts, RawStats, Scope
from bot.ui.cards import Card, Table
from tests.checkin_doubles import FakeClock, RecordingSender
from tests.conftest import FIXED_NOW, make_engine, make_registry

T1, T2, GUILD = "T0000001", "T0000002", "445566778899"
JOB_FIRST = ["student", "yes", ["code"], "5", "skip"]  # pay 5 of 5: "Get a job" ranks first
STUDY_FIRST = ["student", "yes", ["code"], "1", "skip"]  # pay 1 of 5: the thesis bonus wins
PNG_MAGIC = b"\x89PNG\r\n\x1a\n"


def slack(n: int, team: str = T1) -> ev.UserRef:
    return ev.UserRef("slack", team, f"U{n:05d}")


async def answer(engine: Engine, user: ev.UserRef, values: list[object]) -> list[object]:
    out = (await engine.run(ev.Start(user=user))).messages
    for value in values:
        out = (await engine.run(ev.Answer(user=user, value=value))).messages  # type: ignore[arg-type]
    return out


def clock_of(engine: Engine) -> FakeClock:
    assert isinstance(engine.clock, FakeClock)
    return engine.clock


async def deliver(engine: Engine, sender: RecordingSender) -> list[CheckInPrompt]:
    clock = clock_of(engine)
    worker = DeliveryWorker(
        engine.db,
        DeliveryConfig.from_settings(engine.settings),
        {"slack": sender},
        clock=clock,
        sleep=clock.sleep,
    )
    before = len(sender.sends)
    await worker.drain()
    return [s.message for s in sender.sends[before:] if isinstance(s.message, CheckInPrompt)]


async def seed(engine: Engine) -> None:
    """Workspace T1: 17 consultations (8 finished, 6 in progress, 2 abandoned, 1 closed)
    and 8 weekly check-ins delivered twice; T2 and a Discord server beside it."""
    clock = clock_of(engine)
    clock.now = FIXED_NOW - timedelta(days=20)
    for n in (100, 101):  # stopped at the pay question 20 days ago: abandoned
        await answer(engine, slack(n), ["student", "yes", ["code"]])
    clock.now = FIXED_NOW
    finishers = [slack(n) for n in range(8)]
    first_steps: list[int] = []
    for i, user in enumerate(finishers):
        out = await answer(engine, user, JOB_FIRST if i < 5 else STUDY_FIRST)
        [plan] = [m for m in out if isinstance(m, Plan)]
        first_steps.append(plan.items[0].id)
    await answer(engine, slack(200), [])
    await engine.run(ev.Cancel(user=slack(200)))  # closed before the end
    for n in range(3):  # another workspace: never counted in T1
        await answer(engine, slack(n, T2), JOB_FIRST)
    for n in range(5):  # a Discord server (Discord keys people by user, tenant "dm")
        user = ev.UserRef("discord", "dm", f"{900 + n}")
        await engine.run(ev.Start(user=user, origin_tenant=GUILD))
    for n in range(10):  # started in the bot's DMs: no server's
        await engine.run(ev.Start(user=ev.UserRef("discord", "dm", f"{950 + n}")))

    # Weekly check-ins for T1's finishers: two deliveries each, 6 + 5 replies.
    weekly = ev.When(kind="weekly")
    for user, step in zip(finishers, first_steps, strict=True):
        await engine.run(ev.ScheduleCheckIns(user=user, when=weekly, plan_item_ids=(step,)))
    sender = RecordingSender(platform="slack")
    clock.advance(days=7, hours=1)
    first = await deliver(engine, sender)
    assert len(first) == 8
    for prompt in first[:6]:
        user = next(s.user for s in sender.sends if s.message is prompt)
        reply = ev.AnswerCheckIn(
            user=user,
            checkin_id=prompt.checkin_id,
            occurrence=prompt.occurrence,
            answer="in_progress",
        )
        assert (await engine.run(reply)).outcome == Outcome.APPLIED
    clock.advance(days=7)
    second = await deliver(engine, sender)
    for prompt in second[:5]:
        user = next(s.user for s in sender.sends if s.message is prompt)
        reply = ev.AnswerCheckIn(
            user=user, checkin_id=prompt.checkin_id, occurrence=prompt.occurrence, answer="done"
        )
        assert (await engine.run(reply)).outcome == Outcome.APPLIED
    # Now: six people part-way through, at the skills question.
    for n in range(300, 306):
        await answer(engine, slack(n), ["student", "yes"])


@pytest.fixture
async def eng(db_url: str, settings: Settings) -> AsyncIterator[Engine]:
    engine = await make_engine(db_url, settings.model_copy(update={"default_playbook": "tiny"}))
    engine.clock = FakeClock(FIXED_NOW)
    yield engine
    await engine.db.dispose()


def tables(reply: Reply) -> dict[str, Table]:
    found = {}
    for card in reply.cards:
        for section in card.sections:
            if isinstance(section, Table):
                found[section.heading] = section
    return found


def cell(table: Table, label: str, column: int = 1) -> str:
    row = next(r for r in table.rows if r[0] == label)
    return row[column]


def attachments(reply: Reply) -> list[Card]:
    return [c for c in reply.cards if c.attachment is not None]


async def test_a_workspace_sees_its_own_aggregates_with_small_counts_hidden(eng: Engine) -> None:
    await seed(eng)
    raw = await eng.db.run(
        stats_repo.gather, Scope("slack", T1), eng.clock() - timedelta(days=14), None
    )
    counts = raw.playbooks["tiny"]
    # The raw counts (never shown as such)...
    assert (counts.started, counts.finished, counts.in_progress) == (17, 8, 6)
    assert (counts.abandoned, counts.closed, raw.people) == (2, 1, 17)
    assert counts.stopped == {"skills": (6, 0), "money": (0, 2)}
    assert counts.first == {"job": 5, "study": 3}
    assert counts.reached["role"] == 17 and counts.reached["money"] == 10
    # every weekly check-in was delivered twice: the second delivery is counted too
    assert raw.checkins.delivered == 16
    assert raw.checkins.answers == {"in_progress": 6, "done": 5}

    # ...and as an admin sees them: rounded to 10, below 5 shown as <5.
    reply = await eng.tenant_stats("slack", T1)
    assert reply.outcome == Outcome.SHOWN
    shown = tables(reply)
    overview = shown["Consultations"]
    assert cell(overview, "Consultations started") == "20"  # 17
    assert cell(overview, "People") == "20"
    assert cell(overview, "Finished (reached a recommendation)") == "10"  # 8
    assert cell(overview, "In progress") == "10"  # 6
    assert cell(overview, "Abandoned (no answer for 14 days)") == HIDDEN  # 2
    assert cell(overview, "Closed or restarted before the end") == HIDDEN  # 1
    funnel = shown["Funnel: Tiny test playbook"]
    assert [r[0] for r in funnel.rows] == [
        "Started",
        "Reached: Your role",
        "Reached: Thesis",
        "Reached: Skills",
        "Reached: Pay",
        "Reached: Notes",
        "Finished",
    ]
    assert cell(funnel, "Reached: Pay") == "10" and cell(funnel, "Finished") == "10"
    stand = shown["Where unfinished consultations stand: Tiny test playbook"]
    assert stand.rows == (("Skills", "10", HIDDEN), ("Pay", HIDDEN, HIDDEN))
    first = shown["Routes that came first: Tiny test playbook"]
    assert first.rows == (("Get a job", "10"), ("Keep studying", HIDDEN))
    checkins = shown["Check-ins"]
    assert cell(checkins, "Delivered") == "20"  # 16
    assert cell(checkins, "Answered") == "10"  # 11
    assert cell(checkins, "Reply rate (answered / delivered)") == "70%"  # 11/16, 5 unanswered
    assert cell(checkins, "Replied: In progress") == "10"  # 6
    assert cell(checkins, "Replied: Done") == "10"  # 5
    assert cell(checkins, "Replied: Blocked") == HIDDEN  # 0
    text = reply.text()
    assert "rounded to the nearest 10" in text
    # The mentor hand-off is installed (migration 0008): its figures are counted, none yet.
    assert MENTORS_MISSING not in text and cell(shown["Mentor requests"], "Requests") == HIDDEN
    for raw_figure in ("17", "16", "11"):  # no exact figure anywhere in what is shown
        assert f": {raw_figure}" not in text and f" {raw_figure} " not in text


async def test_each_tenant_counts_only_its_own_consultations(eng: Engine) -> None:
    await seed(eng)
    other = tables(await eng.tenant_stats("slack", T2))
    assert cell(other["Consultations"], "Consultations started") == HIDDEN  # 3
    assert cell(other["Check-ins"], "Delivered") == HIDDEN
    server = tables(await eng.tenant_stats("discord", GUILD))
    # 5 started from the server; the 10 started in DMs would make it 15 (shown as 20)
    assert cell(server["Consultations"], "Consultations started") == "10"
    everything = tables(await eng.tenant_stats(None, None))
    assert cell(everything["Consultations"], "Consultations started") == "40"  # 17+3+5+10
    empty = await eng.tenant_stats("slack", "T9999999")
    assert empty.outcome == Outcome.SHOWN and empty.text() == NOTHING_YET


async def test_csv_holds_the_published_figures_only(eng: Engine) -> None:
    await seed(eng)
    reply = await eng.tenant_stats("slack", T1, csv=True)
    [card] = attachments(reply)
    assert card.attachment is not None and card.attachment.media_type == "text/csv"
    assert isinstance(card.attachment.content, str)
    rows = list(csv.DictReader(io.StringIO(card.attachment.content)))
    assert list(rows[0]) == ["table", "playbook", "row", "column", "value"]
    by_key = {(r["table"], r["row"], r["column"]): r["value"] for r in rows}
    assert by_key[("overview", "Consultations started", "Count")] == "20"
    assert by_key[("dropout", "Pay", "Abandoned (14+ days)")] == HIDDEN
    assert by_key[("first_paths", "Keep studying", "Finished consultations")] == HIDDEN
    assert by_key[("checkins", "Reply rate (answered / delivered)", "Value")] == "70%"
    assert {r["playbook"] for r in rows if r["table"] == "funnel"} == {"Tiny test playbook"}
    # every figure in the CSV is one the cards show
    shown = {value for t in tables(reply).values() for row in t.rows for value in row[1:]}
    assert {r["value"] for r in rows} <= shown
    assert all(v in (HIDDEN, "—") or v.endswith("%") or int(v) % 10 == 0 for v in shown)


def png_size(data: bytes) -> tuple[int, int]:
    assert data[:8] == PNG_MAGIC and data[12:16] == b"IHDR"
    return struct.unpack(">II", data[16:24])


async def test_the_chart_is_a_png_of_the_published_figures(eng: Engine) -> None:
    await seed(eng)
    reply = await eng.tenant_stats("slack", T1, chart=True)
    [card] = attachments(reply)
    chart = card.attachment
    assert chart is not None and chart.is_image and chart.media_type == "image/png"
    assert isinstance(chart.content, bytes) and len(chart.content) > 1000
    width, height = png_size(chart.content)
    assert width > 300 and height > 200
    # its alt text says what it shows, in the published figures
    assert "Started 20" in chart.alt_text and f"Keep studying {HIDDEN}" in chart.alt_text


async def test_without_matplotlib_the_chart_is_one_line(
    eng: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    await answer(eng, slack(1), JOB_FIRST)
    monkeypatch.setattr(charts, "available", lambda: False)
    reply = await eng.tenant_stats("slack", T1, chart=True)
    assert reply.outcome == Outcome.SHOWN and attachments(reply) == []
    assert reply.cards[-1].plain() == charts.UNAVAILABLE
    assert "Consultations started" in reply.text()  # the figures are all there


def test_importing_the_statistics_does_not_import_matplotlib() -> None:
    """matplotlib is imported when a chart is drawn, not before (fresh interpreter)."""
    code = (
        "import sys\n"
        "import bot.engine, bot.features.stats, bot.features.route_chart, bot.charts\n"
        "import bot.ui.stats, adapters.console.stats\n"
        "assert 'matplotlib' not in sys.modules, 'imported too early'\n"
        "assert bot.charts.available()\n"
        "png = bot.charts.stats_png([('Funnel', [('Started', 5)])], [], 'x')\n"
        "assert png.startswith(b'\\x89PNG') and 'matplotlib' in sys.modules\n"
        "print('ok')\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", code], cwd=REPO_ROOT, capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "ok"


async def test_mentor_figures_come_from_the_hook_when_installed(eng: Engine) -> None:
    await answer(eng, slack(1), JOB_FIRST)
    hours = tuple(3600.0 * h for h in (1, 2, 2, 3, 30, 5, 4))
    seen: list[Scope] = []

    def query(_session: object, scope: Scope) -> MentorCounts:
        seen.append(scope)
        return MentorCounts(requests=9, claimed=7, claim_seconds=hours)

    eng.stats.mentors = query
    shown = tables(await eng.tenant_stats("slack", T1))
    mentors = shown["Mentor requests"]
    assert seen == [Scope("slack", T1)]
    assert cell(mentors, "Requests") == "10"  # 9
    assert cell(mentors, "Claimed by a mentor") == "10"  # 7
    assert cell(mentors, "Claim rate") == "—"  # 2 unclaimed: a small group
    assert cell(mentors, "Time to claim: median") == "3 h"
    assert MENTORS_MISSING not in (await eng.tenant_stats("slack", T1)).text()
    eng.stats.mentors = lambda _s, _scope: MentorCounts(
        requests=3, claimed=3, claim_seconds=(60.0,) * 3
    )
    few = tables(await eng.tenant_stats("slack", T1))["Mentor requests"]
    assert cell(few, "Requests") == HIDDEN and cell(few, "Time to claim: median") == "—"


async def test_mentor_requests_are_counted_from_the_mentor_hand_off_s_table(eng: Engine) -> None:
    """The default hook reads the mentor hand-off's table (migration 0008): requests of
    this board only, claimed ones with their time to claim."""
    await answer(eng, slack(1), JOB_FIRST)
    made = FIXED_NOW - timedelta(days=3)

    def create(s: Session) -> None:
        consultation = s.scalars(select(Consultation)).first()
        assert consultation is not None

        def row(tenant: str, claimed: timedelta | None) -> MentorRequest:
            return MentorRequest(
                user_id=consultation.user_id,
                consultation_id=consultation.id,
                platform="slack",
                tenant=tenant,
                state="closed" if claimed is not None else "withdrawn",
                summary={},
                tags=[],
                copy_checkins=False,
                claimed_at=made + claimed if claimed is not None else None,
                created_at=made,
                updated_at=made,
            )

        s.add_all(row(T1, timedelta(hours=h)) for h in (1, 2, 2, 3, 4, 5, 30))
        s.add_all(row(T1, None) for _ in range(5))
        s.add_all(row(T2, None) for _ in range(9))

    await eng.db.run(create)
    mentors = tables(await eng.tenant_stats("slack", T1))["Mentor requests"]
    assert cell(mentors, "Requests") == "10"  # 12 of this workspace (9 elsewhere)
    assert cell(mentors, "Claimed by a mentor") == "10"  # 7
    assert cell(mentors, "Claim rate") == "60%"  # 7 of 12, 5 unclaimed
    assert cell(mentors, "Time to claim: median") == "3 h"
    assert MENTORS_MISSING not in (await eng.tenant_stats("slack", T1)).text()


# ---------------------------------------------------------------- the suppression rule


def test_counts_are_rounded_and_small_ones_hidden() -> None:
    ns = (0, 1, 4, 5, 7, 8, 12, 14, 15, 18, 24, 25)
    assert [published(n) for n in ns] == [None] * 3 + [10] * 5 + [20] * 3 + [30]
    assert rate(11, 16) == "70%" and rate(13, 20) == "70%" and rate(10, 20) == "50%"
    assert rate(12, 16) == "—" and rate(3, 16) == "—" and rate(16, 16) == "—"
    assert rate(0, 9) == "—" and rate(0, 0) == "—"


def _groups(limit: int, parts: int) -> dict[tuple[int | None, ...], set[tuple[int, ...]]]:
    """Every published (total, parts...) of ``parts`` counts below ``limit``, with the true
    splits that publish it."""
    out: dict[tuple[int | None, ...], set[tuple[int, ...]]] = {}
    for split in itertools.product(range(limit), repeat=parts):
        key = (published(sum(split)), *(published(n) for n in split))
        out.setdefault(key, set()).add(split)
    return out


def _pinned(shown: tuple[int | None, ...], splits: set[tuple[int, ...]]) -> list[int]:
    """The hidden parts whose true value the published figures leave no choice about."""
    return [
        i
        for i, value in enumerate(shown[1:])
        if value is None and len({split[i] for split in splits}) < 2
    ]


@pytest.mark.parametrize(("parts", "limit"), [(2, 65), (3, 35), (4, 25)])
def test_no_hidden_cell_follows_from_its_total(parts: int, limit: int) -> None:
    """A total and its parts (the overview's split, the routes, the replies): wherever a
    part is hidden, at least two true values publish exactly the same figures. Only
    totals whose every split lies inside the enumeration are judged."""
    judged = 0
    for shown, splits in _groups(limit, parts).items():
        total = shown[0]
        if total is not None and total + ROUND_TO // 2 > limit:
            continue
        assert _pinned(shown, splits) == [], f"recoverable from {shown}: {sorted(splits)}"
        judged += 1
    assert judged > 10


def test_no_hidden_cell_follows_across_linked_tables() -> None:
    """The overview (started = finished + in progress + abandoned + closed) and the routes
    table (finished = one route + the other) share the finished count; all splits of up
    to 24 started: no hidden cell of either is pinned down by the two together."""
    limit = 25
    seen: dict[tuple[int | None, ...], set[tuple[int, ...]]] = {}
    for a, b, live, idle, closed in itertools.product(range(limit), repeat=5):
        finished = a + b
        started = finished + live + idle + closed
        if started >= limit:
            continue
        cells = (started, finished, live, idle, closed, a, b)
        seen.setdefault(tuple(published(n) for n in cells), set()).add(cells)
    judged = 0
    for shown, splits in seen.items():
        if shown[0] is not None and shown[0] + ROUND_TO // 2 > limit:
            continue
        for i, value in enumerate(shown):
            if value is None:
                assert len({cells[i] for cells in splits}) >= 2, f"{i} pinned in {shown}"
                judged += 1
    assert judged > 10


def test_rounding_to_5_would_give_cells_away() -> None:
    """Why 10: rounded to 5, a total of 10 with both parts hidden can only be 4 + 4."""

    def by_5(n: int) -> int | None:
        return None if n < 5 else 5 * ((n + 2) // 5)

    out: dict[tuple[int | None, ...], set[tuple[int, ...]]] = {}
    for a, b in itertools.product(range(8), repeat=2):
        out.setdefault((by_5(a + b), by_5(a), by_5(b)), set()).add((a, b))
    assert out[(10, None, None)] == {(4, 4)}


def test_cross_table_differences_give_nothing_away() -> None:
    """The funnel and the drop-out table share people: without rounding, 'reached Pay'
    minus 'finished' would be the hidden abandoned count. Two seeds that differ only in
    that hidden cell publish identical tables."""

    def raw(abandoned_at_pay: int) -> RawStats:
        counts = PlaybookCounts(
            started=12 + abandoned_at_pay,
            finished=12,
            abandoned=abandoned_at_pay,
            reached={"role": 12 + abandoned_at_pay, "money": 12 + abandoned_at_pay},
            stopped={"money": (0, abandoned_at_pay)},
            first={"job": 12},
        )
        return RawStats(people=counts.started, playbooks={"tiny": counts})

    names = {"tiny": Names.of(make_registry("tiny").get("tiny"))}  # type: ignore[arg-type]
    assert publish(raw(1), names, 14) == publish(raw(2), names, 14)


def test_a_large_report_keeps_every_card_within_the_platform_budgets() -> None:
    """The default playbook's every question with people at it, every route first: the
    cards still fit Discord and Slack (budgets), and each table reads as fields."""
    from bot.ui.budgets import check
    from bot.ui.stats import stats as present

    pb = make_registry("ml-research-career").get("ml-research-career")
    assert pb is not None
    counts = PlaybookCounts(
        started=900,
        finished=400,
        in_progress=300,
        abandoned=200,
        reached={q.id: 500 + i for i, q in enumerate(pb.questions)},
        stopped={q.id: (7 + i, i % 4) for i, q in enumerate(pb.questions)},
        first={p.id: 40 + i for i, p in enumerate(pb.paths)},
    )
    raw = RawStats(people=800, playbooks={pb.id: counts})
    report = StatsReport(
        scope="x" * 200, tables=publish(raw, {pb.id: Names.of(pb)}, 14), notes=("note",)
    )
    cards = present(report)
    for card in cards:
        assert check(card) == [], check(card)
    assert sum(len(t.rows) for t in report.tables) > 30


async def test_crossroads_stats_prints_tables_and_writes_the_files(
    eng: Engine, tmp_path: Path
) -> None:
    """The terminal command: aligned text tables, the CSV and the chart where asked."""
    from adapters.console.stats import run_stats

    await answer(eng, slack(1), JOB_FIRST)
    out = io.StringIO()
    settings = load_settings(
        data_dir=tmp_path,
        database_url=eng.db.url,
        playbooks_dir=REPO_ROOT / "tests" / "playbooks",
        default_playbook="tiny",
    )
    csv_file, chart_file = tmp_path / "s.csv", tmp_path / "s.png"
    code = await run_stats(settings, f"slack:{T1}", csv_file, chart_file, out=out)
    printed = out.getvalue()
    assert code == 0, printed
    assert "=== Crossroads statistics: Slack workspace T0000001 ===" in printed
    assert "  Question  In progress  Abandoned (14+ days)" not in printed  # nobody part-way
    assert any(
        line.startswith("  Consultations started") and line.endswith("<5")
        for line in printed.splitlines()
    )
    assert f"* Wrote the chart to {chart_file}." in printed
    assert csv_file.read_text().startswith("table,playbook,row,column,value\n")
    assert chart_file.read_bytes().startswith(PNG_MAGIC)


def test_crossroads_stats_refuses_a_tenant_it_cannot_read(tmp_path: Path) -> None:
    from click.testing import CliRunner

    from adapters.cli import cli

    env = {"CROSSROADS_DATA_DIR": str(tmp_path)}
    done = CliRunner().invoke(cli, ["stats", "--tenant", "T0123"], env=env)
    assert done.exit_code == 2
    assert "--tenant: use PLATFORM:ID" in done.output
    assert "stats" in CliRunner().invoke(cli, ["--help"]).output
