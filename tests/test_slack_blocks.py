"""Block Kit rendering, ids, escaping and /advise parsing, without a network.

Why: Slack rejects a whole message for one block over a limit, and text a person typed
must never turn into a mention or a link. slack_sdk's models check Slack's limits in
``to_dict()``, so every rendered block is serialised here; a property test throws long,
hostile text at every message type.
"""

from __future__ import annotations

import json
from datetime import date
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from adapters.slack import ids
from adapters.slack.blocks import (
    MAX_BLOCKS,
    SlackFile,
    SlackPost,
    answered_post,
    question_post,
    render,
    text_modal,
)
from adapters.slack.ids import ModalMeta, QuestionRef, Verb
from adapters.slack.manifest import BOT_SCOPES, build_manifest
from adapters.slack.mrkdwn import escape, fit, inert
from adapters.slack.subcommands import Kind, parse, to_event
from bot import events as ev
from bot.digest import units
from bot.messages import (
    AnswerSummary,
    ChoiceOption,
    Confirm,
    ExportFile,
    Level,
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
from bot.settings import load_settings

HOSTILE = "<@U0BOSS> <!channel> <!here> <https://evil.example|click> & &amp; > <#C01>"


def serialised(post: SlackPost) -> list[dict[str, Any]]:
    """The blocks as Slack receives them (slack_sdk validates limits here)."""
    return [b.to_dict() for b in post.blocks]


def mrkdwn_texts(blocks: list[dict[str, Any]]) -> list[str]:
    out = []
    for block in blocks:
        for obj in [block.get("text"), *block.get("elements", []), *block.get("fields", [])]:
            if isinstance(obj, dict) and obj.get("type") == "mrkdwn":
                out.append(obj["text"])
    return out


def check_limits(post: SlackPost) -> list[dict[str, Any]]:
    blocks = serialised(post)
    assert 1 <= len(blocks) <= MAX_BLOCKS
    block_ids = [b["block_id"] for b in blocks if "block_id" in b]
    assert len(block_ids) == len(set(block_ids))
    for block in blocks:
        if block["type"] == "section":
            assert units(block["text"]["text"]) <= 3000
        if block["type"] == "header":
            assert units(block["text"]["text"]) <= 150
        for element in [*block.get("elements", []), block.get("accessory") or {}]:
            action_id = element.get("action_id")
            assert action_id is None or len(action_id) <= 255
            assert len(element.get("options", [])) <= 100
    for text in mrkdwn_texts(blocks):
        assert "<" not in text and ">" not in text  # nothing can become a mention or link
    assert "<" not in post.text
    return blocks


def question(kind: QuestionKind, n: int = 3, **kw: Any) -> Question:
    choices = tuple(ChoiceOption(f"c{i:03d}", f"Choice {i}") for i in range(n))
    if kind in (QuestionKind.SCALE, QuestionKind.FREE_TEXT):
        choices = ()
    return Question(
        consultation_id=7,
        step=3,
        question_id="q1",
        kind=kind,
        prompt="Which one?",
        choices=choices,
        max_choices=n if kind == QuestionKind.MULTI_CHOICE else 1,
        max_length=100,
        **kw,
    )


# ------------------------------------------------------------------------------ escaping


def test_escape_and_fit() -> None:
    assert escape("a & <b> c") == "a &amp; &lt;b&gt; c"
    long = "&" * 1000
    fitted = fit(long, 3000)
    assert units(fitted) <= 3000 and fitted.startswith("&amp;")
    assert "&am…" not in fitted and fitted.endswith("…")  # never half an entity
    assert fit("short", 3000) == "short"


def test_text_read_back_from_slack_is_made_inert_again() -> None:
    assert inert("*Hi* &lt;@U1&gt; &amp; co") == "*Hi* &lt;@U1&gt; &amp; co"  # unchanged
    assert inert("<@U1> & <!here>") == "&lt;@U1&gt; &amp; &lt;!here&gt;"


def test_user_text_is_inert_everywhere() -> None:
    q = question(QuestionKind.FREE_TEXT, current=HOSTILE)
    for post in (
        question_post(q),
        answered_post("*Which one?*", HOSTILE),
        render([Notice(HOSTILE, Level.WARNING)])[0],
        render([Text(HOSTILE, title="<!channel>")])[0],
        render([Status(1, "Pb", "active", 1, 2, (AnswerSummary("q", "Say?", HOSTILE),))])[0],
    ):
        assert isinstance(post, SlackPost)
        blocks = check_limits(post)
        for block in blocks:
            text = block.get("text") or {}
            if text.get("type") == "mrkdwn":
                assert text.get("verbatim") is True  # no auto-linking of bare URLs either


# ------------------------------------------------------------------------------ questions


def test_few_choices_are_buttons_and_the_current_one_is_marked() -> None:
    post = question_post(question(QuestionKind.SINGLE_CHOICE, 3, current="c001", optional=True))
    blocks = check_limits(post)
    [actions] = [b for b in blocks if b["type"] == "actions"]
    assert [e["type"] for e in actions["elements"]] == ["button"] * 4
    assert [e.get("style") for e in actions["elements"][:3]] == [None, "primary", None]
    assert ids.decode_action(actions["elements"][3]["action_id"]).verb is Verb.SKIP  # type: ignore[union-attr]
    decoded = ids.decode_action(actions["elements"][0]["action_id"])
    assert decoded == ids.Decoded(Verb.ANSWER, QuestionRef(7, 3, "q1"))
    assert ids.decode_block(actions["block_id"]) == QuestionRef(7, 3, "q1")


@pytest.mark.parametrize("n", [6, 100, 101, 250, 4000])
def test_many_choices_paginate_into_selects_of_at_most_100(n: int) -> None:
    blocks = check_limits(question_post(question(QuestionKind.SINGLE_CHOICE, n)))
    selects = [
        e
        for b in blocks
        if b["type"] == "actions"
        for e in b["elements"]
        if e["type"] == "static_select"
    ]
    assert len(selects) == -(-n // 100)
    values = [o["value"] for s in selects for o in s["options"]]
    assert values == [f"c{i:03d}" for i in range(n)]  # every option, once, in order
    assert len({s["action_id"] for s in selects}) == len(selects)


@pytest.mark.parametrize("n", [3, 120, 250])
def test_multi_choice_is_multi_selects_plus_submit(n: int) -> None:
    q = question(QuestionKind.MULTI_CHOICE, n, current=["c001", "c002"])
    blocks = check_limits(question_post(q))
    selects = [
        e
        for b in blocks
        if b["type"] == "actions"
        for e in b["elements"]
        if e["type"] == "multi_static_select"
    ]
    assert len(selects) == -(-n // 100)
    assert [o["value"] for o in selects[0]["initial_options"]] == ["c001", "c002"]
    assert all(ids.decode_action(s["action_id"]).verb is Verb.PICK for s in selects)  # type: ignore[union-attr]
    last = [b for b in blocks if b["type"] == "actions"][-1]
    assert last["elements"][0]["text"]["text"] == "Submit"


def test_scale_and_free_text() -> None:
    blocks = check_limits(question_post(question(QuestionKind.SCALE, current=4)))
    [actions] = [b for b in blocks if b["type"] == "actions"]
    assert [e["value"] for e in actions["elements"]] == ["1", "2", "3", "4", "5"]
    blocks = check_limits(question_post(question(QuestionKind.FREE_TEXT, current="old")))
    [actions] = [b for b in blocks if b["type"] == "actions"]
    button = actions["elements"][0]
    assert button["text"]["text"] == "Change my answer"
    assert json.loads(button["value"]) == {"m": 100, "o": False, "v": "old"}


def test_error_is_shown_with_the_question() -> None:
    post = question_post(question(QuestionKind.MULTI_CHOICE, 3, error="Pick <1> to 3."))
    assert any(":warning: Pick &lt;1&gt; to 3." in t for t in mrkdwn_texts(check_limits(post)))


def test_text_modal_round_trips_its_metadata_and_limits() -> None:
    meta = ModalMeta(QuestionRef(12, 5, "notes"), "D0123", "1700000000.000100")
    q = question(QuestionKind.FREE_TEXT, current="x" * 50, optional=True)
    value = json.loads(json.dumps(question_post(q).blocks[-2].to_dict()))["elements"][0]["value"]
    view = text_modal(meta, "*Which one?*", value).to_dict()
    assert ModalMeta.decode(view["private_metadata"]) == meta
    [input_block] = [b for b in view["blocks"] if b["type"] == "input"]
    assert input_block["block_id"] == ids.TEXT_BLOCK and input_block["optional"] is True
    element = input_block["element"]
    assert element["max_length"] == 100 and element["initial_value"] == "x" * 50
    assert ModalMeta.decode("{nonsense") is None
    assert ModalMeta.decode('{"c": "x", "s": 1, "q": "a"}') is None


# ------------------------------------------------------------------------------ the rest


def big_path(i: int, text: str) -> PathAdvice:
    return PathAdvice(
        path_id=f"p{i}",
        rank=i + 1,
        title=f"Path {i} {text}"[:200],
        summary=text * 3,
        score=1.0,
        reasons=(text,) * 5,
        pros=(text,) * 5,
        cons=(text,) * 5,
        risks=(text,) * 5,
        next_steps=tuple(NextStep(text, date(2026, 4, 1)) for _ in range(5)),
    )


def recommendation(text: str, n_paths: int = 6) -> Recommendation:
    return Recommendation(
        consultation_id=3,
        step=9,
        playbook_title="Careers",
        paths=tuple(big_path(i, text) for i in range(n_paths)),
        why_order=(text,) * 4,
        what_would_change=text,
        notes=(text,),
        dropped=("Something",),
    )


def test_recommendation_card_fits_and_folds_the_plan() -> None:
    rec = recommendation(HOSTILE * 40)
    plan = Plan(3, (PlanItemView(1, "Write to <@U1> & co", date(2026, 3, 9), "open"),))
    posts = render([Text("Done"), rec, plan])
    assert len(posts) == 2  # the plan became the card's next steps
    card = posts[1]
    assert isinstance(card, SlackPost)
    blocks = check_limits(card)
    assert blocks[0]["type"] == "header"
    assert any("Write to &lt;@U1&gt; &amp; co" in t for t in mrkdwn_texts(blocks))
    more = [e for b in blocks if b["type"] == "actions" for e in b["elements"]]
    assert [e["value"] for e in more] == ["p4", "p5"]  # paths beyond the digest
    accessories = [b["accessory"]["value"] for b in blocks if "accessory" in b]
    assert accessories == ["p0", "p1", "p2", "p3"]


def test_every_other_message_renders() -> None:
    items = [
        Confirm("Delete <everything>?", "forget", "Delete my data", "Keep it"),
        PathDetail(1, big_path(0, "x" * 2000)),
        Plan(1, (PlanItemView(1, "Do it", None, "open"),)),
        ExportFile("data.md", "# hi"),
    ]
    posts = render(items)
    assert isinstance(posts[-1], SlackFile) and posts[-1].content == "# hi"
    for post in posts[:-1]:
        assert isinstance(post, SlackPost)
        check_limits(post)
    confirm = serialised(posts[0])  # type: ignore[arg-type]
    buttons = confirm[1]["elements"]
    assert [ids.decode_action(b["action_id"]).flag for b in buttons] == ["yes", "no"]  # type: ignore[union-attr]
    assert buttons[0]["style"] == "danger"


texts = st.text(
    alphabet=st.characters(blacklist_categories=("Cs",)) | st.sampled_from("<>&@!|*_`\n"),
    max_size=4000,
)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(text=texts, n=st.integers(min_value=2, max_value=260))
def test_any_text_stays_within_slack_limits(text: str, n: int) -> None:
    label = text[:80] or "x"
    choices = tuple(ChoiceOption(f"c{i}", label, text[:100]) for i in range(n))
    messages = [
        Question(1, 2, "q", QuestionKind.SINGLE_CHOICE, text or "?", text, choices, error=text),
        Question(
            1,
            2,
            "q",
            QuestionKind.MULTI_CHOICE,
            text or "?",
            choices=choices,
            max_choices=n,
            current=["c0"],
        ),
        Question(1, 2, "q", QuestionKind.FREE_TEXT, text or "?", current=text),
        recommendation(text or "x"),
        Status(1, text, "active", 1, 2, tuple(AnswerSummary("q", text, text) for _ in range(60))),
        Text(text or "x", title=text),
        Notice(text or "x"),
        PathDetail(1, big_path(0, text or "x")),
    ]
    for post in render(messages):
        assert isinstance(post, SlackPost)
        check_limits(post)
    check_limits(answered_post("*p*", text))


# ------------------------------------------------------------------------------ ids, parsing


@given(
    cid=st.integers(0, 10**12),
    step=st.integers(0, 10**9),
    qid=st.from_regex(r"\A[a-z0-9][a-z0-9_-]{0,39}\Z"),
    verb=st.sampled_from([Verb.ANSWER, Verb.PICK, Verb.SUBMIT, Verb.SKIP, Verb.TEXT]),
    n=st.integers(0, 99),
)
def test_question_ids_round_trip(cid: int, step: int, qid: str, verb: Verb, n: int) -> None:
    ref = QuestionRef(cid, step, qid)
    action = ids.question_action(verb, ref, n)
    assert len(action) <= 255 and ids.action_pattern(verb).match(action)
    assert ids.decode_action(action) == ids.Decoded(verb, ref)
    assert ids.decode_block(ids.question_block(ref, n)) == ref


@pytest.mark.parametrize(
    "raw",
    [
        "",
        "cr1",
        "cr1|a|x|1|q|0",
        "cr1|z|1|1|q|0",
        "cr1|a|1|1|Q!|0",
        "cr1|c|forget|maybe",
        "other|a|1|1|q|0",
        "cr1|d|x|0",
        "cr1|a|1|1|q",
    ],
)
def test_foreign_or_broken_action_ids_decode_to_none(raw: str) -> None:
    assert ids.decode_action(raw) is None


def test_subcommands() -> None:
    user = ev.UserRef("slack", "T1", "U1")
    assert parse("").kind is Kind.OPEN
    assert to_event(parse("start Tiny2"), user) == ev.Start(user, "tiny2")
    assert to_event(parse("restart"), user) == ev.Restart(user, None)
    for word, event in [
        ("resume", ev.Resume),
        ("status", ev.ShowStatus),
        ("back", ev.Back),
        ("export", ev.Export),
        ("forget", ev.Forget),
    ]:
        assert to_event(parse(f"  {word.upper()} "), user) == event(user)
    assert parse("help").kind is Kind.HELP
    assert parse("settings").kind is Kind.SETTINGS
    assert parse("admin playbook tiny").playbook == "tiny"
    checkins = parse("settings checkins every=7 tz=Europe/Zurich quiet=21:00-08:00")
    assert (checkins.kind, checkins.cadence_days, checkins.timezone, checkins.quiet_hours) == (
        Kind.SET_CHECKINS,
        7,
        "Europe/Zurich",
        "21:00-08:00",
    )
    assert parse("settings checkins").kind is Kind.INVALID
    assert parse("settings checkins cadence=x").kind is Kind.INVALID
    assert parse("settings playbook").kind is Kind.INVALID
    assert parse("settings colour blue").kind is Kind.INVALID
    assert parse("fly").kind is Kind.INVALID


# ------------------------------------------------------------------------------ manifest


def test_manifest_for_socket_mode_and_for_http_with_oauth(tmp_path: Any) -> None:
    socket = build_manifest(load_settings(data_dir=tmp_path, slack_mode="socket"))
    assert socket["settings"]["socket_mode_enabled"] is True
    assert socket["settings"]["interactivity"] == {"is_enabled": True}
    assert "url" not in socket["features"]["slash_commands"][0]
    assert socket["oauth_config"] == {"scopes": {"bot": list(BOT_SCOPES)}}
    assert "event_subscriptions" not in socket["settings"]

    http = build_manifest(
        load_settings(
            data_dir=tmp_path,
            slack_mode="http",
            slack_client_id="123.456",
            slack_redirect_uri="https://bot.example.org/slack/oauth_redirect",
            slack_command="/career",
        )
    )
    command = http["features"]["slash_commands"][0]
    assert command["command"] == "/career"
    assert command["url"] == "https://bot.example.org/slack/events"
    assert http["settings"]["socket_mode_enabled"] is False
    assert http["settings"]["interactivity"]["request_url"] == command["url"]
    assert http["oauth_config"]["redirect_urls"] == ["https://bot.example.org/slack/oauth_redirect"]
    assert http["settings"]["event_subscriptions"]["bot_events"] == [
        "app_uninstalled",
        "tokens_revoked",
    ]
    json.dumps(http)


def test_manifest_command_prints_json(tmp_path: Any) -> None:
    from click.testing import CliRunner

    from adapters.cli import cli

    env = {"CROSSROADS_DATA_DIR": str(tmp_path), "CROSSROADS_SLACK_MODE": "http"}
    result = CliRunner().invoke(cli, ["slack", "manifest", "--url", "https://x.example/"], env=env)
    assert result.exit_code == 0, result.output
    manifest = json.loads(result.stdout)
    assert manifest["features"]["slash_commands"][0]["url"] == "https://x.example/slack/events"
    missing = CliRunner().invoke(cli, ["slack", "manifest"], env=env)
    assert missing.exit_code == 0 and "placeholder" in missing.stderr
    assert "YOUR-PUBLIC-HOST" in missing.stdout
