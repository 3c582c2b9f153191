"""Check-in delivery against a real HTTP endpoint: a Discord-like DM fake and its client.

DmFake (aiohttp, 127.0.0.1 only) behaves like Discord's create-message endpoint in the
ways delivery depends on:
  * ``enforce_nonce``: a repeated nonce returns the first message, creates nothing;
  * a global rate limit (optional): at most ``rate_limit`` requests in any ``window``
    seconds, else 429 ``{"retry_after": s, "global": true}`` (a 429 costs no slot);
  * closed DMs: 403 with Discord's code 50007;
  * ``hold_after``: past that many messages, create each message but keep the response
    back until released (a process killed now has sent messages it never recorded).
It counts messages per check-in, so a double shows up even if two nonces differed.

HttpDmSender is the CheckInSender the worker processes (tests/checkin_worker.py) and the
benchmarks use against it. ``seed_due`` writes due check-ins straight into the store.
"""

from __future__ import annotations

import asyncio
import collections
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Any

import aiohttp
from aiohttp import web
from sqlalchemy import insert, select
from sqlalchemy.orm import Session

from bot.checkins.sender import Delivered, RetryAfter, SendResult, Unreachable
from bot.events import UserRef
from bot.messages import CheckInPrompt
from bot.ports import Notification
from bot.store.checkins_repo import new_salt
from bot.store.database import Database
from bot.store.models import CheckIn, Consultation, PlanItem, User


@dataclass
class DmFake:
    rate_limit: int | None = None
    window: float = 1.0
    closed: set[str] = field(default_factory=set)
    hold_after: int | None = None  # after this many messages, hold every response back
    messages: dict[str, dict[str, Any]] = field(default_factory=dict)  # by nonce
    per_checkin: collections.Counter[int] = field(default_factory=collections.Counter)
    created_by: collections.Counter[str] = field(default_factory=collections.Counter)
    requests: int = 0
    limited: int = 0
    nonce_hits: int = 0
    held: int = 0
    ready: set[str] = field(default_factory=set)
    go: asyncio.Event = field(default_factory=asyncio.Event)
    first_at: float | None = None
    last_at: float | None = None
    _accepted: collections.deque[float] = field(default_factory=collections.deque)
    _release: asyncio.Event = field(default_factory=asyncio.Event)
    _runner: web.AppRunner | None = None
    url: str = ""

    async def start(self) -> str:
        app = web.Application()
        app.router.add_post("/dm", self._dm)
        app.router.add_get("/go", self._go)
        self._runner = web.AppRunner(app, access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
        self.url = f"http://127.0.0.1:{port}"
        return self.url

    async def stop(self) -> None:
        self._release.set()
        if self._runner is not None:
            await self._runner.cleanup()

    def release(self) -> None:
        """Stop holding responses back (and answer the ones held)."""
        self.hold_after = None
        self._release.set()

    @property
    def delivered(self) -> int:
        return len(self.messages)

    @property
    def doubled(self) -> list[int]:
        return [cid for cid, n in self.per_checkin.items() if n > 1]

    async def _go(self, request: web.Request) -> web.Response:
        """Worker processes wait here, so a race starts when every racer is ready."""
        self.ready.add(request.query.get("who", "?"))
        return web.json_response({"go": self.go.is_set()})

    async def _dm(self, request: web.Request) -> web.Response:
        body = await request.json()
        self.requests += 1
        now = time.monotonic()
        if body["user"] in self.closed:
            return web.json_response(
                {"code": 50007, "message": "Cannot send messages to this user"}, status=403
            )
        if self.rate_limit is not None:
            while self._accepted and self._accepted[0] <= now - self.window:
                self._accepted.popleft()
            if len(self._accepted) >= self.rate_limit:
                self.limited += 1
                retry = self._accepted[0] + self.window - now
                return web.json_response(
                    {
                        "message": "You are being rate limited.",
                        "retry_after": retry,
                        "global": True,
                    },
                    status=429,
                )
            self._accepted.append(now)
        nonce = body["nonce"]
        if nonce in self.messages:
            self.nonce_hits += 1
            return web.json_response(self.messages[nonce])
        message = {"id": str(len(self.messages) + 1), "nonce": nonce, "user": body["user"]}
        self.messages[nonce] = message
        self.per_checkin[int(body["checkin_id"])] += 1
        self.created_by[str(body.get("worker", ""))] += 1
        self.first_at = self.first_at if self.first_at is not None else now
        self.last_at = now
        if self.hold_after is not None and len(self.messages) > self.hold_after:
            self.held += 1
            await self._release.wait()
        return web.json_response(message)


class HttpDmSender:
    """A CheckInSender posting to DmFake the way a Discord adapter posts a DM."""

    def __init__(
        self,
        base_url: str,
        *,
        platform: str = "discord",
        max_rate: float | None = None,
        name: str = "",
    ) -> None:
        self.name = name
        self.base_url = base_url.rstrip("/")
        self.platform = platform
        self.max_rate = max_rate
        self._session: aiohttp.ClientSession | None = None

    async def close(self) -> None:
        if self._session is not None:
            await self._session.close()

    async def send(
        self, user: UserRef, notification: Notification, idempotency_key: str
    ) -> SendResult:
        message = notification.source
        assert message is not None
        if self._session is None:
            self._session = aiohttp.ClientSession(
                connector=aiohttp.TCPConnector(limit=256), timeout=aiohttp.ClientTimeout(total=600)
            )
        checkin_id = message.checkin_id if isinstance(message, CheckInPrompt) else 0
        payload = {
            "user": user.user_id,
            "nonce": idempotency_key,
            "enforce_nonce": True,
            "checkin_id": checkin_id,
            "worker": self.name,
            "content": message.action if isinstance(message, CheckInPrompt) else message.text,
        }
        async with self._session.post(f"{self.base_url}/dm", json=payload) as response:
            body = await response.json()
            if response.status == 200:
                return Delivered(str(body["id"]))
            if response.status == 429:
                return RetryAfter(float(body["retry_after"]), bool(body.get("global", True)))
            if response.status in (403, 404):
                return Unreachable("Your DMs are closed to me.")
            raise RuntimeError(f"unexpected HTTP {response.status}")


def _seed(
    s: Session,
    count: int,
    due: datetime,
    per_user: int,
    platform: str,
    tenant: str,
    spread: timedelta,
) -> list[int]:
    conn = s.connection()
    users = (count + per_user - 1) // per_user
    conn.execute(
        insert(User),
        [
            {
                "platform": platform,
                "tenant": tenant,
                "platform_user_id": f"u{i}",
                "quiet_start": "00:00",  # no quiet hours: these run at any time of day
                "quiet_end": "00:00",
                "timezone": "UTC",
                "created_at": due,
            }
            for i in range(users)
        ],
    )
    uids = list(s.scalars(select(User.id).where(User.platform == platform, User.tenant == tenant)))
    conn.execute(
        insert(Consultation),
        [
            {
                "user_id": uid,
                "playbook_id": "tiny",
                "playbook_version": 1,
                "status": "completed",
                "current_step": None,
                "version": 1,
                "answers": {},
                "created_at": due,
                "updated_at": due,
            }
            for uid in uids
        ],
    )
    cids = list(
        s.scalars(
            select(Consultation.id).where(Consultation.user_id.in_(uids)).order_by(Consultation.id)
        )
    )
    items = [
        {
            "consultation_id": cids[i // per_user],
            "action": f"Step {i}",
            "due_date": date(2026, 3, 5),
            "status": "open",
            "created_at": due,
            "updated_at": due,
        }
        for i in range(count)
    ]
    conn.execute(insert(PlanItem), items)
    owner = dict(
        s.execute(
            select(PlanItem.id, Consultation.user_id)
            .join(Consultation, Consultation.id == PlanItem.consultation_id)
            .where(PlanItem.consultation_id.in_(cids))
        ).all()
    )
    pids = list(owner)
    step = spread / count
    rows = [
        {
            "user_id": owner[pid],
            "platform": platform,
            "plan_item_id": pid,
            "kind": "once",
            "cycle": 0,
            "occurrence": 1,
            "salt": new_salt(),
            "local_due": (due + n * step).replace(tzinfo=None),
            "due_at": due + n * step,
            "state": "pending",
            "failures": 0,
            "missed_pending": False,
            "missed_count": 0,
            "created_at": due,
            "updated_at": due,
        }
        for n, pid in enumerate(sorted(pids))
    ]
    for start in range(0, len(rows), 5000):
        conn.execute(insert(CheckIn), rows[start : start + 5000])
    return list(s.scalars(select(CheckIn.id).order_by(CheckIn.id)))


async def seed_due(
    db: Database,
    count: int,
    due: datetime | None = None,
    *,
    per_user: int = 10,
    platform: str = "discord",
    tenant: str = "g1",
    spread: timedelta = timedelta(0),
) -> list[int]:
    """``count`` pending once-check-ins due from ``due`` (default now) over ``spread``,
    ``per_user`` of them a person."""
    when = due or datetime.now(UTC)
    return await db.run(_seed, count, when, per_user, platform, tenant, spread)


def spread(values: Sequence[float]) -> str:
    return f"min {min(values):.2f} / max {max(values):.2f}" if values else "-"
