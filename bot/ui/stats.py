"""The admin statistics and a person's route chart as cards.

A statistics report is tables (``cards.Table``: chat platforms read them as fields, a
terminal draws them aligned) with the notes on how small counts are hidden, then a card
holding the chart (an image attachment) or the one line saying why there is none, then a
card holding the CSV when it was asked for. Each adapter sends an attachment the way it
sends the data export: Discord attaches the file, Slack uploads it (files_upload_v2), the
console writes it to disk.
"""

from __future__ import annotations

from bot.messages import RouteChart, StatsReport, StatsTable
from bot.ui.blocks import pack, prose
from bot.ui.budgets import CONTEXT_MAX, FIELD_NAME_MAX, HEADING_MAX, ITEM_MAX, TITLE_MAX, clip
from bot.ui.cards import Attachment, Card, Context, Section, Table

__all__ = ["CHART_FILE", "CSV_FILE", "ROUTE_CHART_FILE", "route_chart", "stats"]

CHART_FILE = "crossroads-stats.png"
CSV_FILE = "crossroads-stats.csv"
ROUTE_CHART_FILE = "crossroads-routes.png"
ROUTE_CHART_TEXT = (
    "Your top routes side by side on what you said matters: a bar to the right is a point "
    "in the route's favour, to the left one against it, longer where it weighs more for you."
)


def _table(t: StatsTable) -> Table:
    return Table(
        heading=clip(t.title, HEADING_MAX),
        columns=tuple(clip(c, 60) for c in t.columns),
        rows=tuple(
            (clip(label, FIELD_NAME_MAX), *(clip(v, ITEM_MAX) for v in values))
            for label, values in t.rows
        ),
    )


def stats(r: StatsReport) -> list[Card]:
    sections: list[Section] = [_table(t) for t in r.tables]
    sections += [Context(text=clip(note, CONTEXT_MAX)) for note in r.notes]
    out = pack(clip(f"Crossroads statistics: {r.scope}", TITLE_MAX), sections)
    if r.chart is not None:
        out.append(
            Card(
                sections=tuple(prose("The funnel and the routes that came first, as a chart.")),
                attachment=Attachment(
                    filename=CHART_FILE,
                    content=r.chart,
                    media_type="image/png",
                    alt_text=r.chart_alt,
                ),
            )
        )
    elif r.chart_note:
        out.append(Card(sections=(Context(text=clip(r.chart_note, CONTEXT_MAX)),)))
    if r.csv is not None:
        out.append(
            Card(
                sections=tuple(prose("The same figures as CSV, small counts hidden the same way.")),
                attachment=Attachment(filename=CSV_FILE, content=r.csv, media_type="text/csv"),
            )
        )
    return out


def route_chart(c: RouteChart) -> Card:
    return Card(
        sections=tuple(prose(ROUTE_CHART_TEXT)),
        attachment=Attachment(
            filename=ROUTE_CHART_FILE, content=c.png, media_type="image/png", alt_text=c.alt
        ),
    )
