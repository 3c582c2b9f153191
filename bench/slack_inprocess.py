"""The peers' workload through the real Slack adapter, in-process (issue 12 item 6).

What bench/peers_turns.py measures through the console, here through adapters/slack: the
slack-bolt AsyncApp the service builds (``adapters.slack.service.build``: bolt, the
envelope middleware, the listeners, the courier, slack_sdk's AsyncWebClient with the
adapter's retry handlers) is fed each turn as Slack delivers it over HTTP: a raw body
(slash command: form fields; typed DM: an Events API JSON ``event_callback``) with its
``v0=`` HMAC signature, as an ``AsyncBoltRequest`` into ``app.async_dispatch``; bolt
verifies the signature, parses the body, runs the middleware and the listener, acks; the
turn ends when the work after the ack (the core's turn, conversations.open / users.info
the first time, chat.postMessage of the reply) has finished (``Listeners.drain``).

No sockets: the Web API calls go through an in-process stand-in for the aiohttp session
(``InProcessSession``) that encodes each request as aiohttp would (JSON or urlencoded
form), decodes it, answers it with the Slack fake's own method handlers
(tests/fakes/slack_fake.py: it checks tokens, stores messages and validates blocks as over
HTTP) and returns the JSON-encoded reply that slack_sdk parses. So parsing is counted on
both sides, as the peers parse Telegram updates and fake Bot API replies.

Workload (as bench/peers_turns.py, the peers' benchcommon): N people; each ``/advise
start`` (slash command), then every answer of the playbook typed in the DM (choices as
their numbers, as on the console); people round-robin, one turn at a time; answers drawn
with random.Random(42) as the harness draws them. The person reads which question waits
from the core's Reply (recorded around Engine.handle/act), as the console bench does.

Each round runs the Slack adapter and then the console (bench/peers_turns.py --via
console) on fresh databases in this process, A B A B; printed: turns/s, p50, p99 of each
and the ratio Slack/console per round, with min-max over rounds.

Usage:
  .venv/bin/python bench/slack_inprocess.py [--users 200] [--rounds 3] [--playbook peer10]
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import io
import json
import logging
import random
import shutil
import statistics
import sys
import tempfile
import time
from collections.abc import Mapping
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from slack_bolt.request.async_request import AsyncBoltRequest  # noqa: E402

from adapters.runtime import Runtime  # noqa: E402
from adapters.slack.app import Listeners  # noqa: E402
from adapters.slack.delivery import Courier  # noqa: E402
from adapters.slack.service import build  # noqa: E402
from bench import peers_turns  # noqa: E402
from bench.peers_turns import FAILED, pct, pick, typed  # noqa: E402
from bot import events as ev  # noqa: E402
from bot.core.reply import Reply  # noqa: E402
from bot.engine import Engine  # noqa: E402
from bot.playbook.loader import PlaybookRegistry  # noqa: E402
from bot.settings import load_settings  # noqa: E402
from bot.store.database import Database  # noqa: E402
from bot.store.migrate import upgrade  # noqa: E402
from tests.fakes.slack_fake import SlackApiFailure, SlackFake  # noqa: E402

UNROUTABLE_PORT = 9  # the fake's URLs (response_url) need a port; nothing ever connects


class _Headers(dict[str, str]):
    """The response headers slack_sdk reads (case-insensitive ``get``)."""

    def get(self, key: str, default: Any = None) -> Any:  # type: ignore[override]
        for k, v in self.items():
            if k.lower() == key.lower():
                return v
        return default


class _Response:
    content_type = "application/json"

    def __init__(self, status: int, raw: bytes, headers: Mapping[str, str]) -> None:
        self.status = status
        self._raw = raw
        self.headers = _Headers(headers)

    async def json(self) -> Any:
        return json.loads(self._raw)

    async def text(self) -> str:
        return self._raw.decode()

    async def read(self) -> bytes:
        return self._raw

    async def __aenter__(self) -> _Response:
        return self

    async def __aexit__(self, *exc: object) -> None:
        return None


class InProcessSession:
    """What slack_sdk needs of an aiohttp.ClientSession, answered by the fake's handlers."""

    closed = False

    def __init__(self, fake: SlackFake) -> None:
        self.fake = fake
        self.calls = 0

    def request(self, http_verb: str, url: str, **req_args: Any) -> _Response:
        self.calls += 1
        headers = req_args.get("headers") or {}
        params: dict[str, Any] = (
            dict(parse_qsl(urlencode(req_args["params"]))) if req_args.get("params") else {}
        )
        if req_args.get("json") is not None:
            wire = json.dumps(req_args["json"]).encode()  # aiohttp's json= encoding
            params.update(json.loads(wire))
            content_type = "application/json"
        else:
            data = req_args.get("data")
            if isinstance(data, Mapping):
                wire = urlencode({k: v for k, v in data.items() if v is not None}).encode()
                params.update(parse_qsl(wire.decode(), keep_blank_values=True))
            content_type = "application/x-www-form-urlencoded"
        method = urlsplit(url).path.rsplit("/", 1)[-1]
        auth = str(headers.get("Authorization", ""))
        token = auth.removeprefix("Bearer ").strip() if auth.startswith("Bearer ") else None
        token = token or params.pop("token", None)
        params.pop("token", None)
        info = self.fake.tokens.get(token) if token else None
        status = 200
        try:
            body = self.fake._dispatch(method, info, token, params, {})
        except SlackApiFailure as failure:
            status = failure.status
            body = {"ok": False, "error": failure.error, **failure.extra}
        stub = _RequestStub(http_verb, content_type)
        team = info.team_id if info else None
        self.fake._record(stub, method, token, team, params, {}, status, body, None)  # type: ignore[arg-type]
        return _Response(status, json.dumps(body).encode(), {"Content-Type": "application/json"})

    async def close(self) -> None:
        return None


class _RequestStub:
    """The two fields of an aiohttp request the fake's call log keeps."""

    def __init__(self, method: str, content_type: str) -> None:
        self.method = method
        self.content_type = content_type


def recording(engine: Engine) -> dict[ev.UserRef, Reply]:
    """Each person's latest Reply from the core (what the card in their DM shows)."""
    latest: dict[ev.UserRef, Reply] = {}
    handle, act = engine.handle, engine.act

    async def recorded_handle(event: ev.InEvent) -> Reply:
        reply = await handle(event)
        latest[event.user] = reply
        return reply

    async def recorded_act(user: ev.UserRef, *args: Any, **kwargs: Any) -> Reply:
        reply = await act(user, *args, **kwargs)
        latest[user] = reply
        return reply

    engine.handle = recorded_handle  # type: ignore[method-assign]
    engine.act = recorded_act  # type: ignore[method-assign]
    return latest


async def slack_round(args: argparse.Namespace, tmp: Path) -> dict[str, Any]:
    pbdir = tmp / "playbooks"
    pbdir.mkdir()
    shutil.copy(ROOT / "config/playbooks/ml-research-career.yaml", pbdir)
    if args.playbook == "peer10":
        shutil.copy(Path(args.peers) / "playbooks/peer10.yaml", pbdir)
    db = Database(f"sqlite:///{tmp / 'crossroads.db'}")
    await upgrade(db)
    fake = SlackFake()
    fake._port = UNROUTABLE_PORT
    settings = load_settings(
        default_playbook=args.playbook,
        playbooks_dir=pbdir,
        data_dir=tmp,
        slack_mode="http",
        slack_bot_token=fake.bot_token,
        slack_signing_secret=fake.signing_secret,
        slack_api_base="http://127.0.0.1:9/api/",
        slack_client_id="",
    )
    registry = PlaybookRegistry.from_directory(pbdir)
    engine = Engine(db, registry, settings)
    await engine.prepare()
    rt = Runtime(settings, db, engine)
    session = InProcessSession(fake)
    listeners = Listeners(rt, Courier())
    app = build(rt, session, listeners)  # type: ignore[arg-type]
    latest = recording(engine)
    pb = registry.get(args.playbook)
    assert pb is not None
    questions = {q.id: q for q in pb.questions}
    rng = random.Random(42)
    people = [f"U{u:07d}" for u in range(args.users)]
    refs = [ev.UserRef("slack", fake.team.id, p) for p in people]
    latencies: list[float] = []
    errors = finished = 0

    async def turn(signed: Any) -> float:
        t0 = time.perf_counter()
        request = AsyncBoltRequest(body=signed.body.decode(), headers=signed.headers)
        response = await app.async_dispatch(request)
        assert await listeners.drain(30)
        took = time.perf_counter() - t0
        assert response.status == 200, (response.status, response.body)
        return took

    # Warm-up (bolt's auth.test, first-use caches), not counted: one person's start.
    await turn(
        fake.signer.slash_command(
            fake.payloads.slash_command(settings.slack_command, "start", user_id="UWARMUP")
        )
    )
    began = time.perf_counter()
    for step in range(len(pb.questions) + 1):
        for u, person in enumerate(people):
            last = latest.get(refs[u])
            q = questions.get(last.awaiting or "") if step and last is not None else None
            if step and q is None:
                continue  # finished (or conditional questions ended early)
            if q is None:
                payload = fake.payloads.slash_command(
                    settings.slack_command, "start", user_id=person
                )
                signed = fake.signer.slash_command(payload)
            else:
                line = typed(q, pick(q, rng, u, step - 1))
                signed = fake.signer.event(fake.payloads.message_im(line, user_id=person))
            latencies.append(await turn(signed))
            reply = latest[refs[u]]
            if reply.outcome in FAILED:
                errors += 1
            finished += reply.finished
    wall = time.perf_counter() - began
    posts = sum(1 for c in fake.calls if c.method == "chat.postMessage" and c.ok)
    await db.dispose()
    latencies.sort()
    return {
        "via": "slack in-process (bolt async_dispatch, typed DMs)",
        "turns": len(latencies),
        "wall_s": wall,
        "turns_per_s": len(latencies) / wall,
        "p50_ms": pct(latencies, 50) * 1e3,
        "p99_ms": pct(latencies, 99) * 1e3,
        "errors": errors,
        "finished": finished,
        "posts": posts,
        "api_calls": session.calls,
    }


async def console_round(args: argparse.Namespace, tmp: Path) -> dict[str, Any]:
    console_args = peers_turns.parser().parse_args(
        [
            "--users",
            str(args.users),
            "--via",
            "console",
            "--playbook",
            args.playbook,
            "--peers",
            args.peers,
            "--data-dir",
            str(tmp),
        ]
    )
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        ok = await peers_turns.main(console_args)
    row: dict[str, Any] = json.loads(out.getvalue().strip().splitlines()[-1])
    row["errors"] = row["checks"]["errors"]
    row["finished"] = row["checks"]["finished"]
    row["ok"] = ok
    return row


def span(values: list[float], fmt: str = ".3f") -> str:
    return (
        f"median {statistics.median(values):{fmt}}  min-max {min(values):{fmt}}-{max(values):{fmt}}"
    )


async def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--users", type=int, default=200)
    ap.add_argument("--rounds", type=int, default=3, help="Slack then console, this many times")
    ap.add_argument("--playbook", choices=["peer10", "ml-research-career"], default="peer10")
    ap.add_argument("--peers", default=peers_turns.default_peers())
    args = ap.parse_args()
    logging.basicConfig(level=logging.ERROR)
    print(f"{args.users} people, playbook {args.playbook}, {args.rounds} rounds (Slack, console)")
    rows: dict[str, list[dict[str, Any]]] = {"slack": [], "console": []}
    for i in range(args.rounds):
        for kind, fn in (("slack", slack_round), ("console", console_round)):
            tmp = Path(tempfile.mkdtemp(prefix=f"xr-{kind}-"))
            try:
                row = await fn(args, tmp)
            finally:
                shutil.rmtree(tmp, ignore_errors=True)
            rows[kind].append(row)
            print(
                f"round {i + 1} {kind:7s}: {row['turns']} turns, {row['turns_per_s']:.1f} turns/s, "
                f"p50 {row['p50_ms']:.2f} ms, p99 {row['p99_ms']:.2f} ms, errors {row['errors']}, "
                f"finished {row['finished']}/{args.users}"
                + (
                    f", posts {row['posts']}, Web API calls {row['api_calls']}"
                    if kind == "slack"
                    else ""
                ),
                flush=True,
            )
    for figure in ("turns_per_s", "p50_ms", "p99_ms"):
        s = [r[figure] for r in rows["slack"]]
        c = [r[figure] for r in rows["console"]]
        ratio = [a / b for a, b in zip(s, c, strict=True)]
        print(
            f"{figure}: slack {span(s, '.2f')}; console {span(c, '.2f')}; "
            f"slack/console {span(ratio)}"
        )
    bad = any(r["errors"] or r["finished"] != args.users for k in rows for r in rows[k])
    if bad:
        print("CHECK FAILED: errors or unfinished consultations", file=sys.stderr)
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(asyncio.run(main()))
