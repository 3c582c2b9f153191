"""A person's recommendation carries a chart of their top routes on what they weighted,
on the platforms that show images (setting route_chart_platforms), never on the console.
"""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from bot import charts
from bot import events as ev
from bot.engine import Engine
from bot.features.route_chart import route_inputs
from bot.messages import Plan, Recommendation, RouteChart
from bot.settings import Settings
from tests.conftest import make_engine

SLACK = ev.UserRef("slack", "T0000001", "U00001")
CONSOLE = ev.UserRef("console", "local", "ada")
PAY_MATTERS = ["student", "yes", ["code"], "5", "skip"]
PAY_DOES_NOT = ["student", "yes", ["code"], "1", "skip"]
PNG_MAGIC = b"\x89PNG\r\n\x1a\n"


@pytest.fixture
async def eng(sqlite_url: str, settings: Settings) -> AsyncIterator[Engine]:
    engine = await make_engine(sqlite_url, settings.model_copy(update={"default_playbook": "tiny"}))
    yield engine
    await engine.db.dispose()


async def finish(engine: Engine, user: ev.UserRef, values: list[object]) -> list[object]:
    out = (await engine.run(ev.Start(user=user))).messages
    for value in values:
        out = (await engine.run(ev.Answer(user=user, value=value))).messages  # type: ignore[arg-type]
    return out


async def test_slack_recommendation_has_the_chart_right_after_the_plan(eng: Engine) -> None:
    out = await finish(eng, SLACK, PAY_MATTERS)
    kinds = [type(m) for m in out]
    at = kinds.index(Recommendation)
    assert kinds[at + 1 : at + 3] == [Plan, RouteChart]
    chart = out[at + 2]
    assert isinstance(chart, RouteChart) and chart.png.startswith(PNG_MAGIC)
    assert "Good pay" in chart.alt and "Get a job: Good pay for" in chart.alt
    assert "Keep studying: Good pay against" in chart.alt
    # as the person gets it: a card with the image attached, and a line saying what it is
    reply = await eng.handle(ev.Resume(user=SLACK))  # shown again, from the snapshot
    [card] = [c for c in reply.cards if c.attachment is not None]
    assert card.attachment is not None and card.attachment.media_type == "image/png"
    assert card.attachment.content == chart.png  # the same advice draws the same chart
    assert "top routes" in card.plain()


async def test_the_bars_are_what_the_ranking_added(eng: Engine) -> None:
    out = await finish(eng, SLACK, PAY_MATTERS)
    rec = next(m for m in out if isinstance(m, Recommendation))
    assert rec.advice is not None
    pb = eng.playbook("tiny")
    assert pb is not None
    inputs = route_inputs(pb, rec.advice)
    assert inputs is not None
    (criteria, routes, _title, _axis), _alt = inputs
    # pay rated 5 of 5: weight 2 x 1; the job is rated +1 on pay, studying -1
    assert criteria == ("Good pay",)
    assert routes == (("Get a job", (2.0,)), ("Keep studying", (-2.0,)))


async def test_no_chart_on_the_console_when_off_or_when_nothing_was_weighted(
    eng: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    assert not any(isinstance(m, RouteChart) for m in await finish(eng, CONSOLE, PAY_MATTERS))
    # pay rated 1 of 5 weighs nothing: there is nothing the person said matters to compare
    other = ev.UserRef("slack", "T0000001", "U00002")
    assert not any(isinstance(m, RouteChart) for m in await finish(eng, other, PAY_DOES_NOT))
    eng.settings = eng.settings.model_copy(update={"route_chart_platforms": []})
    third = ev.UserRef("slack", "T0000001", "U00003")
    assert not any(isinstance(m, RouteChart) for m in await finish(eng, third, PAY_MATTERS))
    eng.settings = eng.settings.model_copy(update={"route_chart_platforms": ["slack"]})
    monkeypatch.setattr(charts, "available", lambda: False)  # matplotlib not installed
    fourth = ev.UserRef("slack", "T0000001", "U00004")
    out = await finish(eng, fourth, PAY_MATTERS)
    assert any(isinstance(m, Recommendation) for m in out)
    assert not any(isinstance(m, RouteChart) for m in out)


def test_the_setting_takes_platform_names_only(settings: Settings) -> None:
    assert settings.route_chart_platforms == ["discord", "slack"]
    with pytest.raises(ValueError, match="route_chart_platforms"):
        Settings(route_chart_platforms=["telegram"])  # type: ignore[list-item]
