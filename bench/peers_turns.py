"""The peers' workload (../shared/peers/benchcommon.py) through our API, in-process.

What ``../shared/peers/crossroads_turns.py`` measures, against the core contract of issue 14:
that harness reads ``ConsoleSession.last_question`` / ``finished``, builds events
positionally and iterates a list returned by ``Engine.handle``; none of these exist any more
(events are keyword-only, ``handle`` returns a ``Reply`` of cards, the console renders cards
and keeps no domain question). Why a script of ours rather than shims on ConsoleSession: see
bench/RESULTS.md ("The peers' workload on the new contract").

Workload, as the peers run it: N people (default 1,000), each "/start" then every answer of
the playbook; people interleaved round-robin (step 0 for all, then step 1, ...), so all N
consultations are open at once; one turn at a time (each awaited), so a turn's latency is
its own service time; "/start" counts as a turn; each turn is committed before the next.

How a simulated person knows what to answer: the Reply says which question the core waits
for (``Reply.awaiting``, a question id); the person reads it in the playbook, as a person
reads the card. Answers are drawn as in the harness (random.Random(42), one to three
choices, a scale value, the peers' text for free text).

Entry points (--via):
  engine   ``Engine.handle(ev.Start)``, then ``ev.Answer`` with the consultation and step the
           question card's component carries (what a click sends)
  console  the console adapter: a text line (bytes, decoded as ConsoleSession.run does) into
           ``ConsoleSession.step()``, which hands it to the core as typed text and renders the
           Reply into a StringIO (one session per person); choices are typed as numbers

--sync FULL: SQLite ``synchronous=FULL`` on every connection, after the project's own pragmas
(default NORMAL in WAL: no fsync per commit; FULL: an fsync of the WAL per commit, like the
peers' SQLite stores). --profile FILE: cProfile of the measured loop only.

Output: one JSON line in the peers' report format (their summarize.py reads it).
Run:  .venv/bin/python bench/peers_turns.py --users 1000 --via console --playbook peer10
"""

from __future__ import annotations

import argparse
import asyncio
import io
import json
import math
import os
import random
import shutil
import statistics
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from sqlalchemy import event, text  # noqa: E402
from sqlalchemy.engine import Engine as SqlEngine  # noqa: E402

from adapters.console.session import ConsoleSession  # noqa: E402
from bot import events as ev  # noqa: E402
from bot.core.reply import Outcome, Reply  # noqa: E402
from bot.engine import Engine  # noqa: E402
from bot.playbook.loader import PlaybookRegistry  # noqa: E402
from bot.playbook.schema import PlaybookQuestion  # noqa: E402
from bot.settings import load_settings  # noqa: E402
from bot.store.database import Database  # noqa: E402
from bot.store.migrate import upgrade  # noqa: E402
from bot.ui import intents as it  # noqa: E402

FAILED = frozenset({Outcome.INVALID, Outcome.STALE, Outcome.NOT_FOUND, Outcome.UNAVAILABLE})
Value = str | int | list[str]


def pct(ordered: list[float], p: float) -> float:
    """Nearest rank, as the peers' benchcommon.pct."""
    return ordered[max(0, math.ceil(p / 100.0 * len(ordered)) - 1)]


def answer_text(user: int, question: int) -> str:
    """The peers' free-text answer (benchcommon.answer_text)."""
    return f"answer {question + 1} from user {user}: " + "x" * (20 + (user * 7 + question) % 40)


def pick(q: PlaybookQuestion, rng: random.Random, user: int, index: int) -> Value:
    """What the person answers: as the harness picks, on the playbook's question."""
    match q.kind:
        case "single_choice":
            return rng.choice(q.choices).id
        case "multi_choice":
            high = q.max_choices or len(q.choices)
            k = rng.randint(max(1, q.min_choices), max(1, min(high, 3)))
            return [c.id for c in rng.sample(list(q.choices), k)]
        case "scale":
            return rng.randint(q.scale_min, q.scale_max)
    return answer_text(user, index)


def typed(q: PlaybookQuestion, value: Value) -> str:
    """The line a person types for ``value``: choice numbers as listed, else the value."""
    ids = [c.id for c in q.choices]
    if isinstance(value, list):
        return ", ".join(str(ids.index(v) + 1) for v in value)
    if q.kind == "single_choice":
        return str(ids.index(str(value)) + 1)
    return str(value)


def asked_at(reply: Reply) -> it.AnswerQuestion | None:
    """The consultation and step the question card's component carries."""
    for card in reply.cards:
        for section in card.interactive():
            if isinstance(section.intent, it.AnswerQuestion):
                return section.intent
    return None


def synchronous(mode: str) -> Callable[[Any, Any], None]:
    def apply(dbapi_conn: Any, _record: Any) -> None:
        cur = dbapi_conn.cursor()
        cur.execute(f"PRAGMA synchronous={mode}")
        cur.close()

    return apply


def recording(engine: Engine) -> list[Reply]:
    """The Reply of every ``Engine.handle`` call, in order (the console's turns)."""
    seen: list[Reply] = []
    handle = engine.handle

    async def recorded(event: ev.InEvent) -> Reply:
        reply = await handle(event)
        seen.append(reply)
        return reply

    engine.handle = recorded  # type: ignore[method-assign]
    return seen


async def main(args: argparse.Namespace) -> bool:
    peers = Path(args.peers)
    tmp = Path(tempfile.mkdtemp(prefix="xr-peers-", dir=args.data_dir))
    try:
        pbdir = tmp / "playbooks"
        pbdir.mkdir()
        shutil.copy(ROOT / "config/playbooks/ml-research-career.yaml", pbdir)
        if args.playbook == "peer10":  # the peers' dialog, beside their harness
            shutil.copy(peers / "playbooks/peer10.yaml", pbdir)
        url = f"sqlite:///{tmp / 'crossroads.db'}"
        db = Database(url)
        if args.sync:
            # On each engine the Database holds (it keeps one for inline units and one that
            # waits for the lock): run after the project's own pragmas, on every connection.
            for engine_of_db in {
                id(v): v for v in vars(db).values() if isinstance(v, SqlEngine)
            }.values():
                event.listen(engine_of_db, "connect", synchronous(args.sync))
        await upgrade(db)
        statements = [0]
        if args.count_sql:

            def count(*_: Any, **__: Any) -> None:
                statements[0] += 1

            event.listen(SqlEngine, "before_cursor_execute", count)
        settings = load_settings(default_playbook=args.playbook, playbooks_dir=pbdir, data_dir=tmp)
        registry = PlaybookRegistry.from_directory(pbdir)
        engine = Engine(db, registry, settings)
        await engine.prepare()
        pb = registry.get(args.playbook)
        assert pb is not None
        questions = {q.id: q for q in pb.questions}
        rng = random.Random(42)

        people = [ev.UserRef("console", "local", f"user{u}") for u in range(args.users)]
        waiting: list[Reply | None] = [None] * args.users  # the last Reply per person
        replies = recording(engine)
        outs = [io.StringIO() for _ in people]
        sessions = [
            ConsoleSession(engine, person, stdin=io.BytesIO(), stdout=out, export_dir=tmp)
            for person, out in zip(people, outs, strict=True)
            if args.via == "console"  # lines are handed to step(); stdin is never read
        ]
        latencies: list[float] = []
        kinds: dict[str, list[float]] = {"start": [], "answer": [], "final": []}
        errors = finished = 0
        profile = None
        if args.profile:
            import cProfile

            profile = cProfile.Profile()
            profile.enable()
        began = time.perf_counter()
        for step in range(len(pb.questions) + 1):
            for u, person in enumerate(people):
                last = waiting[u]
                q = questions.get(last.awaiting) if last is not None else None
                if step and q is None:
                    continue  # finished early (conditional questions)
                turn: Callable[[], Awaitable[Reply]]
                if args.via == "console":
                    session = sessions[u]
                    raw = (
                        b"/start\n"
                        if q is None
                        else (typed(q, pick(q, rng, u, step - 1)) + "\n").encode()
                    )

                    async def turn(session: ConsoleSession = session, raw: bytes = raw) -> Reply:
                        await session.step(raw.decode("utf-8").rstrip("\r\n"))
                        return replies[-1]

                elif q is None:

                    async def turn(person: ev.UserRef = person) -> Reply:
                        return await engine.handle(ev.Start(user=person))

                else:
                    at = asked_at(last) if last is not None else None
                    answer = ev.Answer(
                        user=person,
                        value=pick(q, rng, u, step - 1),
                        question_id=q.id,
                        consultation_id=at.consultation if at else None,
                        step=at.step if at else None,
                    )

                    async def turn(answer: ev.Answer = answer) -> Reply:
                        return await engine.handle(answer)

                t0 = time.perf_counter()
                reply = await turn()
                took = time.perf_counter() - t0
                latencies.append(took)
                kinds["start" if step == 0 else "final" if reply.finished else "answer"].append(
                    took
                )
                if reply.outcome in FAILED:
                    errors += 1
                    if args.show_errors:
                        print(reply.outcome.value, reply.text()[:300], file=sys.stderr)
                finished += reply.finished
                waiting[u] = reply
                outs[u].seek(0)
                outs[u].truncate()
        wall = time.perf_counter() - began
        if profile is not None:
            profile.disable()
            profile.dump_stats(args.profile)
        await db.dispose()

        fresh = Database(url)  # an independent read-back

        def counts(s: Any) -> tuple[Any, ...]:
            return tuple(
                s.execute(text(sql)).scalar()
                for sql in (
                    "SELECT count(*) FROM consultations WHERE status != 'active'",
                    "SELECT count(*) FROM consultations WHERE status = 'active'",
                    "SELECT count(*) FROM answers",
                    "PRAGMA synchronous",
                    "PRAGMA journal_mode",
                )
            )

        done, active, answers, sync, journal = await fresh.run(counts)
        await fresh.dispose()
        latencies.sort()
        checks = {
            "ok_no_errors": errors == 0,
            "ok_users_finished": finished == args.users,
            "ok_closed_consultations": done == args.users and active == 0,
            "errors": errors,
            "finished": finished,
            "closed": done,
            "open": active,
            "answers_rows": answers,
        }
        row: dict[str, Any] = {
            "label": args.label or f"crossroads.{args.via}.{args.playbook}",
            "peer": "crossroads",
            "harness": "bench/peers_turns.py",
            "via": args.via,
            "playbook": args.playbook,
            "questions": len(pb.questions),
            "users": args.users,
            "sqlite_pragmas": {
                "journal_mode": journal,
                "synchronous": sync,
                "synchronous_during_run": args.sync or "project default",
            },
            "turns": len(latencies),
            "wall_s": round(wall, 3),
            "turns_per_s": round(len(latencies) / wall, 1),
            "p50_ms": round(pct(latencies, 50) * 1e3, 3),
            "p99_ms": round(pct(latencies, 99) * 1e3, 3),
            "max_ms": round(latencies[-1] * 1e3, 3),
            "mean_ms": round(statistics.fmean(latencies) * 1e3, 3),
            "checks": checks,
        }
        for kind, values in kinds.items():
            values.sort()
            if values:
                row[f"{kind}_turns"] = len(values)
                row[f"{kind}_p50_ms"] = round(pct(values, 50) * 1e3, 3)
                row[f"{kind}_p99_ms"] = round(pct(values, 99) * 1e3, 3)
        rest = sorted(kinds["start"] + kinds["answer"])
        if rest:
            row["p99_without_final_ms"] = round(pct(rest, 99) * 1e3, 3)
        if args.count_sql:
            row["sql_statements_per_turn"] = round(statements[0] / len(latencies), 2)
        print(json.dumps(row), flush=True)
        ok = all(v is True for k, v in checks.items() if k.startswith("ok_"))
        if not ok:
            print("CHECK FAILED", file=sys.stderr)
        return ok
    finally:
        if not args.keep:
            shutil.rmtree(tmp, ignore_errors=True)


def default_peers() -> str:
    beside = ROOT.parent.parent / "shared" / "peers"
    return str(beside if beside.is_dir() else Path("/work/shared/peers"))


def parser() -> argparse.ArgumentParser:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--users", type=int, default=1000)
    ap.add_argument("--via", choices=["engine", "console"], default="console")
    ap.add_argument("--playbook", choices=["peer10", "ml-research-career"], default="peer10")
    ap.add_argument("--sync", choices=["OFF", "NORMAL", "FULL"], default=None)
    ap.add_argument("--peers", default=default_peers(), help="the peers' folder (peer10.yaml)")
    ap.add_argument("--data-dir", default=os.environ.get("TMPDIR"))
    ap.add_argument("--keep", action="store_true")
    ap.add_argument("--show-errors", action="store_true")
    ap.add_argument("--count-sql", action="store_true", help="SQL statements per turn")
    ap.add_argument("--profile", help="write cProfile stats of the measured loop to this file")
    ap.add_argument("--label", default=None)
    return ap


if __name__ == "__main__":
    sys.exit(0 if asyncio.run(main(parser().parse_args())) else 1)
