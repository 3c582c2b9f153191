"""Charts as PNG images: the admin statistics (funnel, routes that came first) and a
person's own comparison of their top routes.

matplotlib is optional (the ``charts`` extra) and costs about a second to import, so it is
imported inside the functions that draw, never when this module (or the statistics) is
imported: a process that never draws a chart never loads it. Drawing uses the Agg canvas
directly (no pyplot: no GUI backend, no global figure state) and matplotlib's bundled
DejaVu Sans; nothing is fetched from the network. Labels are drawn as plain text (no
mathtext), so a ``$`` in a playbook's wording is just a dollar sign.

Drawing holds the GIL for tens of milliseconds: callers run these functions in a worker
thread (``asyncio.to_thread``) so the event loop keeps answering, and a lock lets one
chart be drawn at a time (matplotlib's font cache is shared state).
"""

from __future__ import annotations

import importlib.util
import io
import textwrap
import threading
from collections.abc import Sequence
from functools import lru_cache
from typing import Any

__all__ = [
    "UNAVAILABLE",
    "Bar",
    "ChartsUnavailable",
    "available",
    "routes_png",
    "stats_png",
]

UNAVAILABLE = (
    "Charts are not available here: matplotlib is not installed (pip install 'crossroads[charts]')."
)
Bar = tuple[str, int | None]  # a label and its value; None: fewer than 5, not shown
HIDDEN = "<5"
LABEL_WIDTH = 40
WIDTH_IN = 9.0
DPI = 100
FUNNEL_COLOUR = "#4c72b0"
PATHS_COLOUR = "#55a868"
ROUTE_COLOURS = ("#4c72b0", "#dd8452", "#55a868", "#c44e52")
_DRAWING = threading.Lock()


class ChartsUnavailable(RuntimeError):
    """matplotlib is not installed: the caller says so in one line instead of a chart."""


def available() -> bool:
    """Whether charts can be drawn (without importing matplotlib)."""
    return importlib.util.find_spec("matplotlib") is not None


def _short(label: str, width: int = LABEL_WIDTH) -> str:
    return textwrap.shorten(" ".join(label.split()), width, placeholder="…") or "…"


def _matplotlib() -> tuple[Any, Any, Any]:
    """matplotlib's Figure, the Agg canvas and rc_context, imported now (lazily)."""
    try:
        from matplotlib import rc_context
        from matplotlib.backends.backend_agg import FigureCanvasAgg
        from matplotlib.figure import Figure
    except ImportError as exc:
        raise ChartsUnavailable(UNAVAILABLE) from exc
    return Figure, FigureCanvasAgg, rc_context


_RC = {
    "text.parse_math": False,
    "font.family": "DejaVu Sans",
    "font.size": 10,
    "axes.spines.top": False,
    "axes.spines.right": False,
}


def _png(fig: Any, canvas_cls: Any) -> bytes:
    canvas_cls(fig)
    out = io.BytesIO()
    fig.savefig(out, format="png", dpi=DPI, metadata={"Software": None})
    return out.getvalue()


def _bars(ax: Any, title: str, bars: Sequence[Bar], colour: str) -> None:
    """Horizontal bars, first at the top; a hidden value is drawn as its label only."""
    labels = [_short(label) for label, _ in bars]
    values = [value or 0 for _, value in bars]
    ys = list(range(len(bars)))
    ax.barh(ys, values, color=colour, height=0.6)
    ax.set_yticks(ys, labels)
    ax.invert_yaxis()
    ax.set_title(_short(title, 70), loc="left", fontsize=11, fontweight="bold")
    top = max(values, default=0) or 5
    ax.set_xlim(0, top * 1.15)
    for y, (_, value) in zip(ys, bars, strict=True):
        text = HIDDEN if value is None else str(value)
        ax.text((value or 0) + top * 0.01, y, text, va="center", fontsize=9)
    ax.tick_params(axis="y", length=0)
    ax.xaxis.get_major_locator().set_params(integer=True)


def stats_png(
    funnels: Sequence[tuple[str, Sequence[Bar]]],
    first: Sequence[tuple[str, Sequence[Bar]]],
    title: str,
) -> bytes:
    """One image: a funnel per playbook (started, each question reached, finished) and the
    routes that came first, as horizontal bars. Values are the published (rounded) counts.
    """
    figure_cls, canvas_cls, rc_context = _matplotlib()
    panels = [(t, b, FUNNEL_COLOUR) for t, b in funnels if b]
    panels += [(t, b, PATHS_COLOUR) for t, b in first if b]
    if not panels:
        panels = [("Nothing to chart yet", [], FUNNEL_COLOUR)]
    heights = [0.9 + 0.32 * max(len(b), 1) for _, b, _ in panels]
    with _DRAWING, rc_context(_RC):
        fig = figure_cls(figsize=(WIDTH_IN, sum(heights) + 0.6), layout="constrained")
        fig.suptitle(_short(title, 90), fontsize=12)
        axes = fig.subplots(len(panels), 1, squeeze=False, height_ratios=heights)
        for ax, (panel_title, bars, colour) in zip(axes[:, 0], panels, strict=True):
            _bars(ax, panel_title, bars, colour)
        return _png(fig, canvas_cls)


@lru_cache(maxsize=128)
def routes_png(
    criteria: tuple[str, ...],
    routes: tuple[tuple[str, tuple[float, ...]], ...],
    title: str,
    axis: str,
) -> bytes:
    """A person's top routes side by side on each criterion they weighted: for each
    criterion one bar per route, how much it counts for (right) or against (left) the
    route. Cached: the same recommendation shown again draws nothing new."""
    figure_cls, canvas_cls, rc_context = _matplotlib()
    n = max(len(routes), 1)
    height = 0.45 + 0.8 / n
    with _DRAWING, rc_context(_RC):
        fig = figure_cls(
            figsize=(WIDTH_IN * 0.85, 1.6 + 0.75 * max(len(criteria), 1)), layout="constrained"
        )
        ax = fig.subplots()
        for i, (route, values) in enumerate(routes):
            ys = [c + (i - (n - 1) / 2) * (height / n) for c in range(len(criteria))]
            colour = ROUTE_COLOURS[i % len(ROUTE_COLOURS)]
            ax.barh(ys, values, height=height / n, color=colour, label=_short(route, 60))
        ax.set_yticks(range(len(criteria)), [_short(c) for c in criteria])
        ax.invert_yaxis()
        ax.axvline(0, color="#333333", linewidth=0.8)
        ax.set_xticks([])  # weights in playbook units mean nothing to a person: sides do
        ax.set_xlabel(textwrap.fill(axis, 70))
        fig.suptitle(textwrap.fill(title, 70), fontsize=11, fontweight="bold")
        ax.tick_params(axis="y", length=0)
        ax.legend(loc="upper center", bbox_to_anchor=(0.5, -0.12), ncol=1, frameon=False)
        return _png(fig, canvas_cls)
