"""The generic card renderer (adapters/slack/cards.py), escaping, /advise parsing and the
manifest, without a network.

Why: Slack rejects a whole message for one block over a limit, and text a person typed
must never turn into a mention or a link, yet it must still be shown. slack_sdk's models
check Slack's limits in ``to_dict()``, so every rendered block is serialised here; a
property test throws long, hostile text at every section kind, and the core's own
presenters' biggest cards go through the renderer too.
"""

from __future__ import annotations

import json
from datetime import date, datetime
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from adapters.slack import cards
from adapters.slack.cards import LIMITS, SlackFile, SlackPost, render
from adapters.slack.manifest import BOT_SCOPES, build_manifest
from adapters.slack.mrkdwn import escape, fit, inert
from adapters.slack.slash import Kind, help_card, parse, setting_event
from bot import events as ev
from bot.checkins import texts as checkin_texts
from bot.messages import CheckInCatchUp, CheckInList, CheckInView, MissedCheckIn
from bot.settings import load_settings
from bot.ui import codec, presenters
from bot.ui import intents as it
from bot.ui.budgets import units
from bot.ui.cards import (
    Action,
    Actions,
    Attachment,
    Bullets,
    Card,
    Choices,
    Context,
    Field,
    Fields,
    Option,
    Prose,
    Step,
    Steps,
    Style,
    TextEntry,
    Tone,
)

HOSTILE = "<@U0BOSS> <!channel> <!here> <https://evil.example|click> & &amp; > <#C01>"
HOSTILE_ESCAPED = (
    "&lt;@U0BOSS&gt; &lt;!channel&gt; &lt;!here&gt; &lt;https://evil.example|click&gt; "
    "&amp; &amp;amp; &gt; &lt;#C01&gt;"
)
ANSWER = it.AnswerQuestion(consultation=7, step=3)


def serialised(post: SlackPost) -> list[dict[str, Any]]:
    """The blocks as Slack receives them (slack_sdk validates limits here)."""
    return [b if isinstance(b, dict) else b.to_dict() for b in post.blocks]


def mrkdwn_texts(blocks: list[dict[str, Any]]) -> list[str]:
    out = []
    for block in blocks:
        for obj in [block.get("text"), *block.get("elements", []), *block.get("fields", [])]:
            if isinstance(obj, dict) and obj.get("type") == "mrkdwn":
                out.append(obj["text"])
    return out


def elements(blocks: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [e for b in blocks if b["type"] == "actions" for e in b["elements"]]


def check_limits(post: SlackPost) -> list[dict[str, Any]]:
    blocks = serialised(post)
    assert 1 <= len(blocks) <= LIMITS.blocks
    block_ids = [b["block_id"] for b in blocks if "block_id" in b]
    assert len(block_ids) == len(set(block_ids))
    for block in blocks:
        if block["type"] == "section":
            assert units(block["text"]["text"]) <= 3000
            assert block["text"]["verbatim"] is True  # no auto-linking of bare URLs either
        if block["type"] == "header":
            assert units(block["text"]["text"]) <= 150
        ids = [e.get("action_id") for e in block.get("elements", []) if "action_id" in e]
        assert len(ids) == len(set(ids))  # unique within their block
        for element in block.get("elements", []):
            assert len(element.get("action_id", "")) <= 255
            assert len(element.get("options", [])) <= 100
            if element.get("type") == "button":
                assert units(element["text"]["text"]) <= 75
    for text in mrkdwn_texts(blocks):
        assert "<" not in text and ">" not in text  # nothing can become a mention or link
    assert "<" not in post.text
    return blocks


def posts(*card: Card) -> list[SlackPost]:
    out = render(card)
    assert all(isinstance(p, SlackPost) for p in out)
    return [p for p in out if isinstance(p, SlackPost)]


def one(card: Card) -> list[dict[str, Any]]:
    [post] = posts(card)
    return check_limits(post)


# ------------------------------------------------------------------------------ escaping


def test_escape_and_fit() -> None:
    assert escape("a & <b> c") == "a &amp; &lt;b&gt; c"
    fitted = fit("&" * 1000, 3000)
    assert units(fitted) <= 3000 and fitted.startswith("&amp;")
    assert "&am…" not in fitted and fitted.endswith("…")  # never half an entity
    assert fit("short", 3000) == "short"


def test_text_read_back_from_slack_is_made_inert_again() -> None:
    assert inert("*Hi* &lt;@U1&gt; &amp; co") == "*Hi* &lt;@U1&gt; &amp; co"  # unchanged
    assert inert("<@U1> & <!here>") == "&lt;@U1&gt; &amp; &lt;!here&gt;"


# ------------------------------------------------------------------------------ every section kind


def test_every_section_kind_shows_user_text_escaped_not_dropped() -> None:
    card = Card(
        title="Title",
        sections=(
            Prose(text=HOSTILE, heading=HOSTILE),
            Bullets(items=(HOSTILE, "second"), heading="List"),
            Fields(items=(Field(name=HOSTILE, value=HOSTILE),), heading="Answers"),
            Steps(items=(Step(text=HOSTILE, due=date(2027, 1, 15)),), heading="Plan"),
            Context(text=HOSTILE),
        ),
    )
    blocks = one(card)
    assert blocks[0] == {
        "type": "header",
        "block_id": "b0",
        "text": {"type": "plain_text", "text": "Title", "emoji": True},
    }
    texts = mrkdwn_texts(blocks)
    prose, bullets, fields, steps, context = texts
    assert prose == f"*{HOSTILE_ESCAPED}*\n{HOSTILE_ESCAPED}"
    assert bullets == f"*List*\n• {HOSTILE_ESCAPED}\n• second"
    assert fields == f"*Answers*\n*{HOSTILE_ESCAPED}*\n{HOSTILE_ESCAPED}"
    assert steps == f"*Plan*\n• {HOSTILE_ESCAPED} — by 15 Jan 2027"
    assert context == HOSTILE_ESCAPED
    assert blocks[-1]["type"] == "context"


def test_tone_marks_the_first_text() -> None:
    titled = one(Card(title="Careful", tone=Tone.WARNING, sections=(Prose(text="x"),)))
    assert titled[0]["text"]["text"] == ":warning: Careful"
    plain = one(Card(tone=Tone.ERROR, sections=(Prose(text="Down"),)))
    assert plain[0]["text"]["text"] == ":x: Down"
    info = one(Card(sections=(Prose(text="Hello"),)))
    assert info[0]["text"]["text"] == "Hello"


def test_few_single_choices_are_buttons_carrying_the_value() -> None:
    choices = Choices(
        intent=ANSWER,
        options=(
            Option(value="a", label="Apples", description="Crunchy <@U1>"),
            Option(value="b", label="Pears"),
        ),
        current=("b",),
    )
    blocks = one(Card(sections=(choices,)))
    described, actions = blocks
    assert described["text"]["text"] == "*Apples*: Crunchy &lt;@U1&gt;"
    buttons = actions["elements"]
    assert [codec.decode(b["action_id"]) for b in buttons] == [
        ANSWER.with_value("a"),
        ANSWER.with_value("b"),
    ]
    assert [b["value"] for b in buttons] == ["a", "b"]
    assert [b.get("style") for b in buttons] == [None, "primary"]  # the current answer


def test_choices_without_a_value_field_are_a_select_of_option_values() -> None:
    intent = it.ManageCheckIn(action="cancel")
    choices = Choices(
        intent=intent,
        options=(Option(value="12", label="#12 Write"), Option(value="13", label="#13 Read")),
        placeholder="Cancel…",
    )
    [block] = one(Card(sections=(choices,)))
    [select] = block["elements"]
    assert select["type"] == "static_select" and codec.decode(select["action_id"]) == intent
    assert [o["value"] for o in select["options"]] == ["12", "13"]
    assert select["placeholder"]["text"] == "Cancel…"


@pytest.mark.parametrize("n", [6, 100, 101, 250])
def test_many_choices_page_into_selects_of_at_most_100(n: int) -> None:
    options = tuple(Option(value=f"c{i:03d}", label=f"Choice {i}") for i in range(n))
    choices = Choices(intent=ANSWER, options=options, current=("c005",))
    blocks = one(Card(sections=(choices,)))
    selects = [e for e in elements(blocks) if e["type"] == "static_select"]
    assert sum(len(s["options"]) for s in selects) == n
    assert [len(s["options"]) for s in selects][:-1] == [100] * (len(selects) - 1)
    assert {s["action_id"] for s in selects} == {codec.encode(ANSWER)}
    assert selects[0]["initial_option"]["value"] == "c005"


@pytest.mark.parametrize("n", [3, 150])
def test_multi_choice_is_multi_selects_plus_a_submit_of_the_same_intent(n: int) -> None:
    options = tuple(Option(value=f"t{i:03d}", label=f"Topic {i}") for i in range(n))
    choices = Choices(intent=ANSWER, options=options, min_picks=1, max_picks=2, current=("t001",))
    blocks = one(Card(sections=(choices,)))
    pickers = [e for e in elements(blocks) if e["type"] == "multi_static_select"]
    [submit] = [e for e in elements(blocks) if e["type"] == "button"]
    assert sum(len(p["options"]) for p in pickers) == n
    assert submit["text"]["text"] == "Submit" and submit["action_id"] == pickers[0]["action_id"]
    assert pickers[0]["initial_options"][0]["value"] == "t001"
    assert "Pick 1 to 2, then press Submit." in mrkdwn_texts(blocks)
    if n == 3:
        assert pickers[0]["max_selected_items"] == 2


def test_text_entry_is_a_button_opening_a_modal_that_round_trips() -> None:
    entry = TextEntry(
        intent=ANSWER,
        label="Anything else? <@U1>",
        placeholder="e.g. <!here>",
        max_length=100,
        optional=True,
        current="my <b> answer",
        button="Change your answer",
    )
    card = Card(title="Question 3 of 3", sections=(Prose(text="Anything <else>?"), entry))
    blocks = one(card)
    [button] = elements(blocks)
    opener = codec.decode_opener(button["action_id"])
    assert opener == codec.Opener(ANSWER, True, 100)
    assert button["text"]["text"] == "Change your answer"
    meta = json.dumps({"i": button["action_id"], "c": "D1", "t": "1.2"})
    view = cards.text_modal(opener, button["value"], meta, cards.text_blocks(blocks)).to_dict()
    assert view["callback_id"] == cards.TEXT_CALLBACK and view["private_metadata"] == meta
    *shown, box = view["blocks"]
    assert [b["type"] for b in shown] == ["header", "section"]  # what is being answered
    assert shown[1]["text"]["text"] == "Anything &lt;else&gt;?"
    assert box["block_id"] == cards.TEXT_BLOCK and box["optional"] is True
    assert box["label"]["text"] == "Anything else? <@U1>"  # plain text: shown, not parsed
    assert box["element"]["initial_value"] == "my <b> answer"
    assert box["element"]["max_length"] == 100


def test_actions_are_buttons_with_their_styles() -> None:
    actions = Actions(
        items=(
            Action(
                label="Delete my data",
                intent=it.ConfirmAction(action="forget", yes=True),
                style=Style.DANGER,
            ),
            Action(label="Keep it", intent=it.ConfirmAction(action="forget", yes=False)),
            Action(label="Go", intent=it.Command(name="start"), style=Style.PRIMARY),
        )
    )
    [block] = one(Card(sections=(actions,)))
    assert [e.get("style") for e in block["elements"]] == ["danger", None, "primary"]
    assert codec.decode(block["elements"][0]["action_id"]) == it.ConfirmAction(
        action="forget", yes=True
    )


def test_an_attachment_is_a_file_with_the_card_as_its_comment() -> None:
    card = Card(
        title="Everything I keep about you",
        sections=(Prose(text="It is in the attached <file>."),),
        attachment=Attachment(filename="me.md", content="# Me <@U1>"),
    )
    [file] = render([card])
    assert isinstance(file, SlackFile)
    assert (file.filename, file.content, file.title) == ("me.md", "# Me <@U1>", card.title)
    assert "It is in the attached &lt;file&gt;." in file.comment


def test_closing_a_clicked_message_keeps_its_text_and_drops_its_buttons() -> None:
    card = Card(
        title="Shall I?",
        sections=(
            Bullets(items=("Step <one>",)),
            Actions(items=(Action(label="Every week", intent=it.Command(name="status")),)),
        ),
    )
    read_back = one(card)
    read_back[1]["text"]["text"] = "• Step <one>"  # as if Slack returned it unescaped
    closed = cards.closed(read_back, "Every <week>")
    assert [b["type"] for b in closed] == ["header", "section", "context"]
    assert closed[1]["text"]["text"] == "• Step &lt;one&gt;"
    assert closed[-1]["elements"][0]["text"].endswith("You chose: Every &lt;week&gt;")
    again = cards.closed(closed, "twice")  # closing a closed message keeps one note
    assert [b["type"] for b in again] == ["header", "section", "context"]


# ------------------------------------------------------------------------------ limits


SECTIONS = st.sampled_from(["prose", "bullets", "fields", "steps", "context", "choices"])


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.text(min_size=1, max_size=1000), st.lists(SECTIONS, min_size=1, max_size=40))
def test_any_card_stays_within_slack_limits(text: str, kinds: list[str]) -> None:
    """Even past the core's budgets (escaping can quintuple a text), nothing is cut."""
    hostile = (text + " " + HOSTILE) * 3
    made: dict[str, Any] = {
        "prose": Prose(text=hostile, heading=text[:200]),
        "bullets": Bullets(items=(hostile, text)),
        "fields": Fields(items=(Field(name=text[:200], value=hostile),) * 3),
        "steps": Steps(items=(Step(text=hostile, due=date(2027, 1, 1), status="done"),)),
        "context": Context(text=hostile),
        "choices": Choices(
            intent=ANSWER,
            options=tuple(Option(value=f"o{i}", label=text[:75] or "x") for i in range(120)),
        ),
    }
    card = Card(title=text[:150], tone=Tone.WARNING, sections=tuple(made[k] for k in kinds))
    out = posts(card)
    for post in out:
        check_limits(post)
    shown = "".join(t for p in out for t in mrkdwn_texts(serialised(p)))
    assert shown.count("&lt;@U0BOSS&gt;") >= 3 * sum(k != "choices" for k in kinds)


def test_the_core_s_biggest_cards_fit() -> None:
    many = tuple(
        CheckInView(
            i,
            i,
            "<!channel> " + "x" * 4000,
            "every week",
            "failed",
            datetime(2026, 3, 3, 10),
            "open",
            "I cannot find our direct message any more.",
        )
        for i in range(60)
    )
    listing = CheckInList(many, "UTC", "off", checkin_texts.LIST_ACTIONS)
    rendered = posts(*presenters.present([listing]))
    shown = "".join(t for p in rendered for t in mrkdwn_texts(check_limits(p)))
    assert "<!channel>" not in shown and shown.count("&lt;!channel&gt;") >= 60
    missed = tuple(MissedCheckIn(i, "step") for i in range(40))
    note = CheckInCatchUp("t", missed, "UTC", checkin_texts.CATCHUP_CHOICES)
    for post in posts(*presenters.present([note])):
        check_limits(post)


# ------------------------------------------------------------------------------ /advise


def test_slash_command_text() -> None:
    user = ev.UserRef("slack", "T1", "U1")
    assert parse("").kind is Kind.OPEN
    start = parse("start Tiny2")
    assert (start.kind, start.command, start.playbook) == (Kind.COMMAND, "start", "tiny2")
    assert parse("restart").command == "restart" and parse("restart").playbook is None
    for word in ("resume", "status", "back", "export", "forget"):
        assert parse(f"  {word.upper()} ") == parse(word)
        assert parse(word).command == word and word in it_commands()
    assert parse("reminders").command == "checkins"
    assert setting_event(parse("timezone Europe/Berlin"), user) == ev.SetTimezone(
        user=user, timezone="Europe/Berlin"
    )
    assert setting_event(parse("quiet off"), user) == ev.SetQuietHours(user=user, quiet_hours="off")
    assert parse("quiet").kind is Kind.INVALID
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
    for bad in ("settings checkins", "settings checkins cadence=x", "settings playbook", "fly"):
        assert parse(bad).kind is Kind.INVALID


def it_commands() -> frozenset[str]:
    from bot.core.actions import COMMANDS

    return COMMANDS


def test_help_lists_every_subcommand() -> None:
    blocks = one(help_card("/advise"))
    text = "\n".join(mrkdwn_texts(blocks))
    for word in ("start", "resume", "status", "back", "restart", "export", "forget", "settings"):
        assert f"/advise {word}" in text


# ------------------------------------------------------------------------------ manifest


def test_manifest_for_socket_mode_and_for_http_with_oauth(tmp_path: Any) -> None:
    socket = build_manifest(load_settings(data_dir=tmp_path, slack_mode="socket"))
    assert socket["settings"]["socket_mode_enabled"] is True
    assert socket["settings"]["interactivity"] == {"is_enabled": True}
    assert "url" not in socket["features"]["slash_commands"][0]
    assert socket["oauth_config"] == {"scopes": {"bot": list(BOT_SCOPES)}}
    events = socket["settings"]["event_subscriptions"]
    assert events == {"bot_events": ["message.im", "app_home_opened"]}  # no URL: the socket
    home = socket["features"]["app_home"]
    assert home["home_tab_enabled"] and home["messages_tab_enabled"]
    assert home["messages_tab_read_only_enabled"] is False  # people type in the DM
    assert "im:history" in BOT_SCOPES  # message.im needs it

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
    assert http["settings"]["event_subscriptions"] == {
        "bot_events": ["message.im", "app_home_opened", "app_uninstalled", "tokens_revoked"],
        "request_url": command["url"],
    }
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
