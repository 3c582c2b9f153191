"""A small chart beside a person's recommendation: their top routes compared on the
criteria they weighted (issue #13 part 2).

Drawn from the stored snapshot the recommendation was shown from (its advice keeps the
answers and the playbook version), so showing the same advice again draws the same chart
(and hits the cache in bot/charts.py). Only for the platforms in the setting
``route_chart_platforms`` (default Discord and Slack, which show images; the console
shows none), and only when matplotlib is installed. A chart that cannot be drawn is
left out and logged: it never costs the person their recommendation.
"""

from __future__ import annotations

import asyncio
import logging

from bot import charts
from bot import events as ev
from bot.advice.model import Advice
from bot.advice.ranking import weights
from bot.core.context import CoreContext
from bot.core.result import Result
from bot.messages import Plan, Recommendation, RouteChart
from bot.playbook.schema import Playbook
from bot.store.database import StoreUnavailable

__all__ = ["ROUTES", "RouteCharts", "route_inputs"]

log = logging.getLogger(__name__)
ROUTES = 3  # the top routes compared
TITLE = "How your top routes compare on what you said matters"
AXIS = "← counts against the route      counts for the route →"

ChartInputs = tuple[tuple[str, ...], tuple[tuple[str, tuple[float, ...]], ...], str, str]


def route_inputs(pb: Playbook, advice: Advice) -> tuple[ChartInputs, str] | None:
    """What the chart draws and its alt text, or None when there is nothing to compare:
    the person weighted no criterion (or gave each the lowest weight), or one route only.

    A bar is the route's rating on the criterion times the weight the person's answer
    gave it: the same amount the ranking added to the route's score.
    """
    given = weights(pb, advice.answers)
    rated = [
        c
        for c in pb.criteria
        if c.weight.question
        and isinstance(advice.answers.get(c.weight.question), int)
        and given[c.id][0] > 0
    ]
    routes = []
    for view in advice.paths[:ROUTES]:
        path = pb.path(view.path_id)
        if path is None:
            continue
        values = tuple(round(given[c.id][0] * path.ratings.get(c.id, 0.0), 4) for c in rated)
        routes.append((view.title, values))
    if not rated or len(routes) < 2 or not any(v for _, values in routes for v in values):
        return None
    labels = tuple(c.label for c in rated)
    alt = "; ".join(
        f"{title}: "
        + ", ".join(
            f"{label} {'for' if v > 0 else 'against' if v < 0 else 'neutral'}"
            for label, v in zip(labels, values, strict=True)
        )
        for title, values in routes
    )
    return (labels, tuple(routes), TITLE, AXIS), f"{TITLE}. {alt}"[:1000]


class RouteCharts:
    def __init__(self, ctx: CoreContext) -> None:
        self.ctx = ctx

    def wanted(self, user: ev.UserRef) -> bool:
        return user.platform in self.ctx.settings.route_chart_platforms and charts.available()

    async def attach(self, user: ev.UserRef, res: Result) -> None:
        """Put a chart right after each recommendation (and the plan that joins it) in
        ``res``, for a person on a platform that shows images."""
        found = [
            i
            for i, m in enumerate(res.messages)
            if isinstance(m, Recommendation) and m.advice is not None
        ]
        if not found or not self.wanted(user):
            return
        for i in reversed(found):
            rec = res.messages[i]
            assert isinstance(rec, Recommendation) and rec.advice is not None
            chart = await self._draw(rec.consultation_id, rec.advice)
            if chart is None:
                continue
            at = (
                i + 2
                if i + 1 < len(res.messages) and isinstance(res.messages[i + 1], Plan)
                else i + 1
            )
            res.messages.insert(at, chart)

    async def _draw(self, consultation_id: int, advice: Advice) -> RouteChart | None:
        pb = self.ctx.playbook(advice.playbook_id, advice.playbook_version)
        try:
            if pb is None:
                pb = await self.ctx.db.run(
                    self.ctx.playbook_for, advice.playbook_id, advice.playbook_version
                )
            inputs = route_inputs(pb, advice)
            if inputs is None:
                return None
            drawn, alt = inputs
            png = await asyncio.to_thread(charts.routes_png, *drawn)
        except (StoreUnavailable, charts.ChartsUnavailable) as exc:
            log.info("no route chart for consultation %s: %s", consultation_id, exc)
            return None
        except Exception:
            log.exception("could not draw the route chart for consultation %s", consultation_id)
            return None
        return RouteChart(consultation_id=consultation_id, png=png, alt=alt)
