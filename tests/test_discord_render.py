"""Property tests: custom_ids round-trip within 100 characters; rendering stays in limits.

Why: a payload over a Discord limit fails the whole send, and a custom_id that does not
round-trip breaks every click after a restart; hypothesis looks for the inputs that do.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import date
from typing import Any

import discord
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from adapters.discord.components import ComponentId, Kind, TextSpec, decode
from adapters.discord.render import (
    Outgoing,
    build_view,
    embed_units,
    escape,
    render,
    render_question,
)
from bot.digest import units
from bot.messages import (
    AnswerSummary,
    ChoiceOption,
    Confirm,
    ExportFile,
    NextStep,
    Notice,
    PathAdvice,
    PathDetail,
    Plan,
    PlanItemView,
    Question,
    QuestionKind,
    Recommendation,
    Status,
    Text,
)

IDENT = st.from_regex(r"[a-z0-9][a-z0-9_-]{0,39}", fullmatch=True)
TEXT = st.text(st.characters(codec="utf-8", exclude_categories=("Cs",)), min_size=1, max_size=2500)
SHORT = st.text(st.characters(codec="utf-8", exclude_categories=("Cs",)), min_size=1, max_size=80)
OWNER = st.integers(1, (1 << 64) - 1)
FAST = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@FAST
@given(
    kind=st.sampled_from(list(Kind)),
    owner=OWNER,
    cid=st.integers(0, 10**12 - 1),
    step=st.integers(0, 10**7 - 1),
    qid=IDENT | st.just(""),
    arg=st.from_regex(r"[A-Za-z0-9-]{0,8}", fullmatch=True),
)
def test_custom_ids_round_trip_within_100(
    kind: Kind, owner: int, cid: int, step: int, qid: str, arg: str
) -> None:
    target = ComponentId(kind, owner, cid, step, qid, arg)
    encoded = target.encode()
    assert 1 <= len(encoded) <= 100
    assert decode(encoded) == target


@FAST
@given(st.text(max_size=120))
def test_anything_else_decodes_to_nothing_or_itself(text: str) -> None:
    target = decode(text)
    assert target is None or target.encode() == text


def test_text_spec_round_trip() -> None:
    for spec in (TextSpec(False, True, 4000), TextSpec(True, False, 1)):
        assert TextSpec.decode(spec.encode()) == spec
    assert TextSpec.decode("x") is None and TextSpec.decode("fr0") is None


def check_components(out: Outgoing) -> None:
    """What Discord (and the fake) validate for a message's components."""
    view = build_view(out.components)  # raises if rows overflow
    rows = view.to_components()
    assert len(rows) <= 5
    ids = [c["custom_id"] for row in rows for c in row["components"]]
    assert len(ids) == len(set(ids)) and all(1 <= len(i) <= 100 for i in ids)
    for row in rows:
        kinds = [c["type"] for c in row["components"]]
        assert len(kinds) <= 5 and (3 not in kinds or len(kinds) == 1)
        for comp in row["components"]:
            if comp["type"] == 2:
                assert 1 <= len(comp["label"]) <= 80
            else:
                assert 1 <= len(comp["options"]) <= 25
                assert comp["min_values"] <= comp["max_values"] <= len(comp["options"])
                for o in comp["options"]:
                    assert 1 <= len(o["label"]) <= 100 and len(o["value"]) <= 100
                    assert len(o.get("description") or "") <= 100


def check_message(out: Outgoing) -> None:
    assert units(out.content) <= 2000
    assert len(out.embeds) <= 10
    assert sum(embed_units(e) for e in out.embeds) <= 6000
    for e in out.embeds:
        assert units(e.title or "") <= 256 and units(e.description or "") <= 4096
        assert len(e.fields) <= 25
        for f in e.fields:
            assert 1 <= units(f.name or "") <= 256 and 1 <= units(f.value or "") <= 1024
        assert units(e.footer.text or "") <= 2048
    check_components(out)


@st.composite
def questions(draw: Any) -> Question:
    kind = draw(st.sampled_from(list(QuestionKind)))
    n = draw(st.integers(2, 70)) if kind in ("single_choice", "multi_choice") else 0
    choices = tuple(
        ChoiceOption(f"c{i}", draw(SHORT), draw(st.text(max_size=100))) for i in range(n)
    )
    low = draw(st.integers(-40, 9))
    current: Any = None
    if kind == QuestionKind.MULTI_CHOICE and draw(st.booleans()):
        current = [c.id for c in choices[:3]]
    return Question(
        consultation_id=draw(st.integers(1, 10**12 - 1)),
        step=draw(st.integers(1, 10**7 - 1)),
        question_id=draw(IDENT),
        kind=kind,
        prompt=draw(TEXT),
        help=draw(st.text(max_size=1500)),
        choices=choices,
        optional=draw(st.booleans()),
        min_choices=draw(st.integers(0, 3)),
        max_choices=max(1, min(n, draw(st.integers(1, 40)))) if n else 1,
        max_length=draw(st.integers(1, 4000)),
        scale_min=low,
        scale_max=draw(st.integers(low + 1, 10)),
        scale_low_label=draw(st.text(max_size=120)),
        scale_high_label=draw(st.text(max_size=120)),
        position=3,
        total=9,
        current=current,
        error=draw(st.text(max_size=300)),
    )


@FAST
@given(q=questions(), owner=OWNER, page=st.integers(-2, 5))
def test_questions_render_within_limits(q: Question, owner: int, page: int) -> None:
    out = render_question(q, owner, page)
    check_message(out)
    assert {decode(i).owner for i in out_ids(out)} == {owner}  # type: ignore[union-attr]


def out_ids(out: Outgoing) -> list[str]:
    return [c.custom_id for c in out.components]


@st.composite
def paths(draw: Any, rank: int) -> PathAdvice:
    items = st.lists(TEXT, max_size=8)
    return PathAdvice(
        path_id=draw(IDENT),
        rank=rank,
        title=draw(TEXT),
        summary=draw(TEXT),
        score=1.0,
        reasons=tuple(draw(items)),
        pros=tuple(draw(items)),
        cons=tuple(draw(items)),
        risks=tuple(draw(items)),
        next_steps=tuple(NextStep(t, date(2026, 3, 9)) for t in draw(items)),
    )


@FAST
@given(data=st.data(), owner=OWNER)
def test_recommendations_render_within_limits(data: Any, owner: int) -> None:
    count = data.draw(st.integers(1, 7))
    ids = data.draw(st.lists(IDENT, min_size=count, max_size=count, unique=True))
    ranked = tuple(replace(data.draw(paths(i + 1)), path_id=pid) for i, pid in enumerate(ids))
    rec = Recommendation(
        consultation_id=7,
        step=12,
        playbook_title=data.draw(TEXT),
        paths=ranked,
        why_order=tuple(data.draw(st.lists(TEXT, max_size=4))),
        what_would_change=data.draw(TEXT),
        notes=tuple(data.draw(st.lists(TEXT, max_size=4))),
        dropped=tuple(data.draw(st.lists(TEXT, max_size=4))),
    )
    plan = Plan(
        7,
        tuple(
            PlanItemView(i, t, None, "open")
            for i, t in enumerate(data.draw(st.lists(TEXT, max_size=8)))
        ),
    )
    messages = [Text(data.draw(TEXT)), rec, plan, PathDetail(7, ranked[0])]
    outs = render(messages, owner)
    for out in outs:
        check_message(out)
    status = Status(
        7,
        data.draw(TEXT),
        "active",
        2,
        9,
        tuple(AnswerSummary(f"q{i}", data.draw(TEXT), data.draw(TEXT)) for i in range(30)),
    )
    for message in (
        status,
        plan,
        Confirm(data.draw(TEXT), "forget", data.draw(SHORT), data.draw(SHORT)),
        Notice(data.draw(TEXT) * 3),
        Text(data.draw(TEXT) * 3, title=data.draw(TEXT)),
        ExportFile("x.md", data.draw(TEXT)),
    ):
        for out in render([message], owner):
            check_message(out)


def test_user_text_cannot_ping_or_format() -> None:
    typed = "@everyone **bold** <@&123> <t:0> [link](https://example.com) `code` > quote"
    out = escape(typed)
    assert out == (
        "@everyone \\*\\*bold\\*\\* \\<@&123> \\<t:0> \\[link](https://example.com) "
        "\\`code\\` > quote"
    )
    assert render([Notice(typed)], 1)[0].kwargs()["allowed_mentions"].to_dict() == {"parse": []}
    assert discord.AllowedMentions.none().to_dict() == {"parse": []}
