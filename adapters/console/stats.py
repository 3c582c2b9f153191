"""``crossroads stats``: the admin statistics in the terminal, as text tables.

The core makes the report (bot/features/stats.py: small counts hidden); this prints its
cards with the console renderer and writes its files where asked: the CSV to ``--csv``,
the chart to ``--chart``. Without ``--tenant`` the whole database is counted.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import TextIO

from adapters.console.cards import render, terminal_width
from adapters.runtime import StartupError, open_runtime
from bot.api import Card, Outcome, Settings

PLATFORMS = ("discord", "slack", "console")
TENANT_HELP = (
    "--tenant: use PLATFORM:ID, e.g. discord:123456789012345678 (a server id) or slack:T0123ABC "
    "(a workspace id)"
)


def parse_tenant(value: str | None) -> tuple[str | None, str | None]:
    """``discord:<server id>`` / ``slack:<team id>`` / ``console:<tenant>``; None: everything."""
    if value is None:
        return None, None
    platform, sep, tenant = value.strip().partition(":")
    if not sep or platform.lower() not in PLATFORMS or not tenant.strip():
        raise StartupError(TENANT_HELP)
    return platform.lower(), tenant.strip()


def _write(path: Path, data: bytes, what: str, out: TextIO) -> bool:
    try:
        path.expanduser().write_bytes(data)
    except OSError as exc:
        sys.stderr.write(f"crossroads: could not write {what} to {path}: {exc.strerror}\n")
        return False
    out.write(f"* Wrote {what} to {path}.\n")
    return True


async def run_stats(
    settings: Settings,
    tenant: str | None,
    csv_file: Path | None,
    chart_file: Path | None,
    out: TextIO | None = None,
) -> int:
    stream = out or sys.stdout
    platform, tenant_id = parse_tenant(tenant)
    rt = await open_runtime(settings)
    try:
        reply = await rt.engine.tenant_stats(
            platform, tenant_id, chart=chart_file is not None, csv=csv_file is not None
        )
    finally:
        await rt.close()
    width = terminal_width(stream)
    ok = reply.outcome is Outcome.SHOWN
    for card in reply.cards:
        ok = _show(card, csv_file, chart_file, width, stream) and ok
    return 0 if ok else 1


def _show(
    card: Card, csv_file: Path | None, chart_file: Path | None, width: int | None, out: TextIO
) -> bool:
    a = card.attachment
    if a is None:
        out.write(render(card, width) + "\n\n")
        return True
    if a.is_image and chart_file is not None:
        return _write(chart_file, a.data(), "the chart", out)
    if not a.is_image and csv_file is not None:
        return _write(csv_file, a.data(), "the figures as CSV", out)
    return True
