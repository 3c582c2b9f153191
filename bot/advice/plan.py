"""Dated steps: from today, or before the next usable occurrence of a calendar event."""

from __future__ import annotations

import calendar as _calendar
from collections.abc import Iterable
from datetime import date, timedelta

from bot.advice.model import PlanStep
from bot.advice.ranking import Answers
from bot.playbook.conditions import evaluate
from bot.playbook.schema import CalendarEvent, Path, Playbook, StepSpec

SLACK_DAYS = 7  # an event must be at least lead_days + this far away to be this cycle's


def past_the_holidays(due: date) -> date:
    """A step counted in days from today never falls due between 22 December and 3 January,
    when groups and offices are shut: it moves to the first weekday from 4 January."""
    if (due.month, due.day) >= (12, 22) or (due.month, due.day) <= (1, 3):
        due = date(due.year + (due.month == 12), 1, 4)
        while due.weekday() >= 5:
            due += timedelta(days=1)
    return due


def next_occurrence(event: CalendarEvent, today: date, lead_days: int) -> tuple[date, bool]:
    """The event date a step is due before, and whether that is a later cycle.

    The next occurrence still at least ``lead_days + SLACK_DAYS`` away; if the nearest
    upcoming one is closer, the one a year after it (a later cycle).
    """
    year = today.year
    nearest = date(year, event.month, event.day)
    if nearest < today:
        nearest = date(year + 1, event.month, event.day)
    if (nearest - today).days >= lead_days + SLACK_DAYS:
        return nearest, False
    return date(nearest.year + 1, event.month, event.day), True


def step_for(
    pb: Playbook, path: Path, spec: StepSpec, answers: Answers, today: date
) -> PlanStep | None:
    """One step for this person, dated; None when it does not apply to them."""
    if not evaluate(spec.when, answers):
        return None
    text = spec.text.strip()
    if spec.before is not None:
        event = pb.event(spec.before)
        if event is None or not evaluate(event.when, answers):
            return None
        when, later_cycle = next_occurrence(event, today, spec.lead)
        if later_cycle:
            month = _calendar.month_name[when.month]
            text = pb.wording.step_cycle.format(text=text.rstrip("."), month=month, year=when.year)
        return PlanStep(
            text=text,
            due=when - timedelta(days=spec.lead),
            path_id=path.id,
            event_id=event.id,
            event_date=when,
        )
    due = (
        past_the_holidays(today + timedelta(days=spec.due_in_days))
        if spec.due_in_days is not None
        else None
    )
    return PlanStep(text=text, due=due, path_id=path.id)


def path_steps(pb: Playbook, path: Path, answers: Answers, today: date) -> list[PlanStep]:
    """A path's steps for this person, in its own order.

    A step written before a calendar-tied step prepares it, so it is never due after it.
    """
    steps = [s for spec in path.next_steps if (s := step_for(pb, path, spec, answers, today))]
    out: list[PlanStep] = []
    for i, step in enumerate(steps):
        later = [s.due for s in steps[i + 1 :] if s.event_id and s.due is not None]
        if step.due is not None and not step.event_id and later and step.due > min(later):
            step = step.model_copy(update={"due": min(later)})
        out.append(step)
    return out


def build_plan(
    pb: Playbook, paths: Iterable[Path], answers: Answers, today: date, minimum: int = 3
) -> tuple[PlanStep, ...]:
    """Steps of the given paths, path by path until ``minimum`` are collected, by date.

    Never more than ``max_next_steps``; undated steps last; the same text only once.
    """
    plan: list[PlanStep] = []
    seen: set[str] = set()
    for path in paths:
        for step in path_steps(pb, path, answers, today):
            key = step.text.casefold()
            if len(plan) < pb.max_next_steps and key not in seen:
                plan.append(step)
                seen.add(key)
        if len(plan) >= minimum:
            break
    order = {id(s): i for i, s in enumerate(plan)}
    plan.sort(key=lambda s: (s.due is None, s.due or today, order[id(s)]))
    return tuple(plan)
