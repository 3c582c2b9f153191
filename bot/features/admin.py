"""Admin settings of a server or workspace: its default playbook and check-in defaults.

Each change answers a ``Result`` like any event (the engine presents it as a Reply): an
unknown playbook raises ``UnknownPlaybook`` (NOT_FOUND), a value that does not fit is
INVALID, a change APPLIED, the overview SHOWN. Who may call these is the adapter's to
check (Discord: Manage Server; Slack: workspace admins and owners).
"""

from __future__ import annotations

import re
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from sqlalchemy.orm import Session

from bot import events as ev
from bot.core.context import CoreContext
from bot.core.reply import Outcome
from bot.core.result import Result, result
from bot.messages import Level, Notice, Text
from bot.store import repository as repo

DefaultPlaybook = Any  # Callable[[Session, UserRef, str | None], str]


class Admin:
    def __init__(
        self, ctx: CoreContext, default_playbook_id: DefaultPlaybook, unknown: Any
    ) -> None:
        self.ctx = ctx
        self._default_playbook_id = default_playbook_id
        self._unknown_playbook = unknown

    async def tenant_default_playbook(self, platform: str, tenant: str) -> str:
        """The playbook new consultations from this server/workspace use."""
        ref = ev.UserRef(platform, tenant, "")
        return await self.ctx.db.run(lambda s: self._default_playbook_id(s, ref, tenant))

    async def set_tenant_playbook(self, platform: str, tenant: str, playbook_id: str) -> Result:
        if self.ctx.playbooks.get(playbook_id) is None:
            raise self._unknown_playbook(playbook_id)
        now = self.ctx.clock()
        await self.ctx.db.run(
            lambda s: repo.set_tenant_settings(
                s, platform, tenant, now, default_playbook=playbook_id
            )
        )
        return result(
            Outcome.APPLIED,
            Notice(f"New consultations here now use the playbook {playbook_id}.", Level.SUCCESS),
        )

    async def set_tenant_checkin_defaults(
        self,
        platform: str,
        tenant: str,
        *,
        cadence_days: int | None = None,
        timezone: str | None = None,
        quiet_hours: str | None = None,
    ) -> Result:
        """Server/workspace defaults for check-ins; invalid values get a polite refusal."""
        try:
            changes = checkin_defaults(cadence_days, timezone, quiet_hours)
        except ValueError as exc:
            return result(Outcome.INVALID, Notice(str(exc), Level.WARNING))
        if not changes:
            return result(
                Outcome.INVALID,
                Notice("Nothing to change: give a cadence, a time zone or quiet hours."),
            )
        now = self.ctx.clock()

        def unit(s: Session) -> dict[str, Any]:
            row = repo.tenant_settings(s, platform, tenant)
            merged = {**((row.checkin_defaults if row else None) or {}), **changes}
            repo.set_tenant_settings(s, platform, tenant, now, checkin_defaults=merged)
            return merged

        merged = await self.ctx.db.run(unit)
        summary = ", ".join(f"{k.replace('_', ' ')} {v}" for k, v in sorted(merged.items()))
        return result(Outcome.APPLIED, Notice(f"Check-in defaults here: {summary}.", Level.SUCCESS))

    async def tenant_overview(self, platform: str, tenant: str) -> Result:
        """What an admin has set for this server/workspace, in words."""
        row = await self.ctx.db.run(lambda s: repo.tenant_settings(s, platform, tenant))
        playbook = (row.default_playbook if row else None) or self.ctx.settings.default_playbook
        defaults = (row.checkin_defaults if row else None) or {}
        lines = [
            f"Default playbook: {playbook} (available: {', '.join(self.ctx.playbooks.ids())})."
        ]
        cadence = defaults.get("cadence_days")
        lines.append(
            f"Check-in cadence: every {cadence} days."
            if cadence
            else "Check-in cadence: the dates each plan suggests."
        )
        lines.append(
            f"Time zone fallback: {defaults.get('timezone', self.ctx.settings.default_timezone)}."
        )
        quiet = defaults.get("quiet_hours") or (
            f"{self.ctx.settings.quiet_hours_start:%H:%M}-{self.ctx.settings.quiet_hours_end:%H:%M}"
        )
        lines.append(f"Quiet hours: {quiet}.")
        return result(Outcome.SHOWN, Text("\n".join(lines), title="Crossroads settings here"))


def checkin_defaults(
    cadence_days: int | None, timezone: str | None, quiet_hours: str | None
) -> dict[str, Any]:
    """Validate admin check-in defaults; raises ValueError with a sentence for the admin."""
    changes: dict[str, Any] = {}
    if cadence_days is not None:
        if not 1 <= cadence_days <= 90:
            raise ValueError("The check-in cadence must be between 1 and 90 days.")
        changes["cadence_days"] = cadence_days
    if timezone is not None:
        try:
            ZoneInfo(timezone.strip())
        except (ZoneInfoNotFoundError, ValueError):
            raise ValueError(
                "That is not a time zone I know; use an IANA name such as Europe/Berlin."
            ) from None
        changes["timezone"] = timezone.strip()
    if quiet_hours is not None:
        match = re.fullmatch(
            r"\s*([01]\d|2[0-3]):([0-5]\d)\s*-\s*([01]\d|2[0-3]):([0-5]\d)\s*", quiet_hours
        )
        if match is None:
            raise ValueError("Quiet hours look like 21:00-08:00 (24-hour clock, start-end).")
        changes["quiet_hours"] = f"{match[1]}:{match[2]}-{match[3]}:{match[4]}"
    return changes
