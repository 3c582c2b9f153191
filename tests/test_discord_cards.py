"""The Discord card renderer: every section kind, Discord's limits for any card, and user
text escaped where Discord reads Markdown (present, inert, never dropped).

Payloads are checked with the fake's own validators (the limits Discord enforces), after
discord.py serialised them exactly as a send would.
"""

from __future__ import annotations

from datetime import date
from typing import Any

import discord
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from adapters.discord.cards import (
    LIMITS,
    TEXT_INPUT_ID,
    TYPE_NUMBERS,
    Button,
    Menu,
    Outgoing,
    escape,
    modal_for,
    receipt,
    render,
    unsplit_id,
)
from bot.ui import codec
from bot.ui import intents as it
from bot.ui.budgets import check
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
from tests.fakes.discord_fake import _validate_message_body, _validate_modal

ANSWER = it.AnswerQuestion(consultation=7, step=3)
HOSTILE = "@everyone **bold** <@&123456789012345678> [link](https://example.com) `code` _x_"


def payload(out: Outgoing) -> dict[str, Any]:
    """The JSON body discord.py would send for ``out``."""
    kwargs = out.kwargs()
    body: dict[str, Any] = {}
    if "content" in kwargs:
        body["content"] = kwargs["content"]
    body["embeds"] = [e.to_dict() for e in kwargs.get("embeds", [])]
    if "view" in kwargs:
        body["components"] = kwargs["view"].to_components()
    body["allowed_mentions"] = kwargs["allowed_mentions"].to_dict()
    return body


def valid(out: Outgoing) -> dict[str, Any]:
    body = payload(out)
    assert _validate_message_body(body) == {}, body
    assert body["allowed_mentions"] == {"parse": []}
    return body


def everything(body: dict[str, Any]) -> str:
    parts = [body.get("content") or ""]
    for e in body["embeds"]:
        parts += [e.get("title", ""), e.get("description", "")]
        parts += [f"{f['name']}\n{f['value']}" for f in e.get("fields", [])]
        parts.append(e.get("footer", {}).get("text", ""))
    return "\n".join(parts)


def test_every_text_section_kind_has_its_place_in_one_embed() -> None:
    card = Card(
        title="Best fit for you: Research",
        tone=Tone.SUCCESS,
        sections=(
            Prose(text="Do a higher degree."),
            Bullets(items=("You like maths.", "You wrote a thesis."), heading="Why, for you"),
            Context(text="a small note between sections"),
            Fields(items=(Field(name="2. Get a job", value="Work in industry."),)),
            Steps(
                items=(
                    Step(text="Write to two supervisors.", due=date(2027, 3, 9)),
                    Step(text="Update your CV.", status="done"),
                ),
                heading="Your plan",
            ),
            Prose(
                text="If pay mattered more, a job would come first.", heading="What would change"
            ),
            Context(text="Times are in UTC."),
        ),
    )
    (out,) = render([card])
    body = valid(out)
    (embed,) = body["embeds"]
    assert embed["title"] == "Best fit for you: Research"
    assert embed["color"] == discord.Colour.green().value
    assert embed["description"] == "Do a higher degree."
    names = [f["name"] for f in embed["fields"]]
    assert names == ["Why, for you", "Your plan", "What would change"]
    why, plan, _ = (f["value"] for f in embed["fields"])
    # Unheaded text after a field continues it, in reading order.
    assert why == (
        "• You like maths.\n• You wrote a thesis.\n\n-# a small note between sections"
        "\n\n**2\\. Get a job**: Work in industry."
    ) or why.startswith("• You like maths.\n• You wrote a thesis.\n\n-# a small note")
    assert "Work in industry." in why
    assert plan == "• Write to two supervisors. — by 9 Mar 2027\n✅ Update your CV."
    assert embed["footer"]["text"] == "Times are in UTC."  # trailing small print
    assert out.rows == []


def test_interactive_sections_become_rows_with_codec_ids() -> None:
    card = Card(
        title="Question 3 of 5",
        sections=(
            Prose(text="Which one?"),
            Choices(
                intent=ANSWER,
                options=tuple(Option(value=v, label=v.title()) for v in ("a", "b", "c")),
                current=("b",),
            ),
            Choices(
                intent=ANSWER,
                options=tuple(Option(value=f"o{i}", label=f"O{i}") for i in range(8)),
                min_picks=1,
                max_picks=3,
                current=("o2",),
                placeholder="Pick up to three",
            ),
            TextEntry(intent=ANSWER, label="Or say it", button="Type your answer", optional=True),
            Actions(
                items=(
                    Action(label="Skip", intent=it.SkipQuestion(consultation=7, step=3)),
                    Action(
                        label="Delete",
                        intent=it.ConfirmAction(action="forget", yes=True),
                        style=Style.DANGER,
                    ),
                    Action(label="Go", intent=it.Command(name="resume"), style=Style.PRIMARY),
                )
            ),
        ),
    )
    (out,) = render([card])
    body = valid(out)
    buttons, menu, opener, actions = body["components"]
    # A single pick of <= 5: one button per option, carrying its value.
    assert [b["label"] for b in buttons["components"]] == ["A", "B", "C"]
    assert [codec.decode(b["custom_id"]) for b in buttons["components"]] == [
        ANSWER.with_value(v) for v in ("a", "b", "c")
    ]
    assert [b["style"] for b in buttons["components"]] == [2, 1, 2]  # the current one stands out
    # A multiple pick: a multi-select whose values are the option values.
    (select,) = menu["components"]
    assert codec.decode(select["custom_id"]) == ANSWER
    assert (select["min_values"], select["max_values"]) == (1, 3)
    assert select["placeholder"] == "Pick up to three"
    assert [o["value"] for o in select["options"]] == [f"o{i}" for i in range(8)]
    assert [o.get("default") for o in select["options"]][2] is True
    # A text entry: a button that opens a text box (the spec rides in the id).
    (box,) = opener["components"]
    decoded = codec.decode_opener(box["custom_id"])
    assert decoded is not None and decoded.intent == ANSWER and decoded.optional
    assert box["label"] == "Type your answer"
    assert [b["style"] for b in actions["components"]] == [2, 4, 1]  # default, danger, primary


def test_a_long_single_pick_is_split_and_a_long_multi_pick_is_typed() -> None:
    many = tuple(Option(value=f"c{i}", label=f"Choice {i}") for i in range(1, 61))
    single = Card(sections=(Choices(intent=ANSWER, options=many),))
    (out,) = render([single])
    body = valid(out)
    menus = [row["components"][0] for row in body["components"]]
    assert [len(m["options"]) for m in menus] == [25, 25, 10]
    assert {codec.decode(unsplit_id(m["custom_id"])) for m in menus} == {ANSWER}
    assert len({m["custom_id"] for m in menus}) == 3  # unique on the message
    assert "options 51 to 60 of 60" in menus[2]["placeholder"]

    multi = Card(
        sections=(Prose(text="Pick some"), Choices(intent=ANSWER, options=many, max_picks=5))
    )
    (out,) = render([multi])
    body = valid(out)
    ((opener,),) = (row["components"] for row in body["components"])
    assert opener["label"] == TYPE_NUMBERS
    assert codec.decode_opener(opener["custom_id"]).intent == ANSWER  # type: ignore[union-attr]
    assert "1. Choice 1" in body["embeds"][0]["description"]
    assert "60. Choice 60" in body["embeds"][0]["description"]


def test_user_text_is_escaped_where_discord_reads_markdown_and_kept_whole() -> None:
    card = Card(
        title=HOSTILE,
        sections=(
            Prose(text=HOSTILE),
            Bullets(items=(HOSTILE,), heading=HOSTILE),
            Fields(items=(Field(name=HOSTILE, value=HOSTILE),)),
            Choices(intent=ANSWER, options=(Option(value="x", label=HOSTILE),)),
            Context(text=HOSTILE),
        ),
    )
    (out,) = render([card])
    body = valid(out)
    (embed,) = body["embeds"]
    escaped = escape(HOSTILE)
    assert "\\*\\*bold\\*\\*" in escaped and "\\<@&123456789012345678>" in escaped
    assert embed["title"] == escaped
    assert embed["description"] == escaped
    assert embed["fields"][0]["name"] == escaped
    assert embed["fields"][0]["value"] == f"• {escaped}\n\n**{escaped}**: {escaped}"
    # Footers and labels are shown verbatim by Discord (no Markdown, no mentions).
    assert embed["footer"]["text"] == HOSTILE
    assert body["components"][0]["components"][0]["label"] == HOSTILE
    # Nothing unescaped is left to ping or format.
    for text in (embed["title"], embed["description"], embed["fields"][0]["value"]):
        assert "<@" not in text.replace("\\<@", "") and "**bold**" not in text


def test_several_cards_share_a_message_and_a_card_with_controls_ends_it() -> None:
    notice = Card(sections=(Prose(text="Starting again."),))
    question = Card(
        title="Question 1 of 4",
        sections=(
            Prose(text="What are you?"),
            Choices(intent=ANSWER, options=(Option(value="s", label="Student"),)),
        ),
    )
    attached = Card(
        title="Everything I keep about you",
        sections=(Prose(text="It is in the attached file."),),
        attachment=Attachment(filename="me.md", content="# Me"),
    )
    first, second = render([notice, question, attached])
    assert [e.description for e in first.embeds] == ["Starting again.", "What are you?"]
    assert len(first.rows) == 1 and second.rows == []
    assert second.attachment is not None and second.attachment.filename == "me.md"
    sent = second.kwargs()
    assert isinstance(sent["file"], discord.File) and sent["file"].filename == "me.md"
    valid(first)
    valid(second)


def test_a_receipt_is_the_card_without_components() -> None:
    card = Card(
        title="Question 1 of 4",
        tone=Tone.SUCCESS,
        sections=(Prose(text="What are you?"), Context(text=f"Your answer: {HOSTILE}")),
    )
    out = receipt(card)
    assert out.rows == [] and out.edit_kwargs()["view"] is None
    body = valid(out)
    assert body["embeds"][0]["footer"]["text"] == f"Your answer: {HOSTILE}"


def test_the_text_box_modal_fits_discord() -> None:
    opener = codec.decode_opener(codec.encode_opener(ANSWER, optional=True, max_length=9000))
    assert opener is not None
    modal = modal_for(
        opener,
        codec.encode(ANSWER),
        title="Question 12 of 40: " + "x" * 60,
        label="Type your answer…",
    )
    data = modal.to_dict()
    assert _validate_modal(data) == {}, data
    (text_input,) = data["components"][0]["components"]
    assert text_input["custom_id"] == TEXT_INPUT_ID
    assert text_input["label"] == "Type your answer (optional)"
    assert text_input["required"] is False and text_input["max_length"] == 4000
    assert codec.decode(data["custom_id"]) == ANSWER


# ---------------------------------------------------------------- any card fits

TEXT = st.text(
    alphabet=st.characters(blacklist_categories=("Cs",), blacklist_characters="\r"),
    min_size=1,
    max_size=300,
).filter(str.strip)
MARKDOWN = st.text(alphabet="*_~`|>\\<@#-[]() ", min_size=1, max_size=300).filter(str.strip)
ANY_TEXT = st.one_of(TEXT, MARKDOWN)


@st.composite
def cards(draw: st.DrawFn) -> Card:
    """A card within the core's budgets (bot/ui/budgets.py), of any mix of sections."""
    text = draw(ANY_TEXT)
    sections: list[Any] = []
    kinds = draw(st.lists(st.sampled_from("pbfsxcnta"), min_size=1, max_size=20))
    interactive = 0
    for kind in kinds:
        if kind in "cnta":
            if interactive >= 4:
                continue
            interactive += 1
        match kind:
            case "p":
                sections.append(Prose(text=(text * 4)[:1000], heading=text[:200]))
            case "b":
                sections.append(Bullets(items=tuple([text[:300]] * 3)))
            case "f":
                sections.append(
                    Fields(items=tuple(Field(name=text[:200], value=text) for _ in range(3)))
                )
            case "s":
                sections.append(Steps(items=(Step(text=text[:280], due=date(2027, 1, 1)),) * 3))
            case "x":
                sections.append(Context(text=text[:300]))
            case "c":
                n = draw(st.integers(1, 100))
                options = tuple(Option(value=f"v{i}", label=text[:75]) for i in range(n))
                sections.append(
                    Choices(intent=ANSWER, options=options, max_picks=draw(st.integers(1, 3)))
                )
            case "n":
                sections.append(TextEntry(intent=ANSWER, label=text[:200], button=text[:75]))
            case "a":
                sections.append(
                    Actions(items=(Action(label=text[:75], intent=it.Command(name="status")),) * 5)
                )
    return Card(title=text[:150], sections=tuple(sections))


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(cards(), min_size=1, max_size=4))
def test_any_cards_within_budget_render_within_discords_limits(batch: list[Card]) -> None:
    batch = [c for c in batch if not check(c)] or [Card(sections=(Prose(text="x"),))]
    out = render(batch)
    for message in out:
        body = valid(message)
        assert len(body.get("components", [])) <= LIMITS.rows
        for row in message.rows:
            for item in [row] if isinstance(row, Menu) else row:
                custom_id = item.custom_id
                assert len(custom_id) <= 100
                raw = unsplit_id(custom_id)
                assert codec.decode(raw) or codec.decode_opener(raw)
                if isinstance(item, Button):
                    assert 1 <= len(item.label) <= 80
    # Nothing is dropped: every prose text of every card is shown (escaped) somewhere.
    shown = "\n".join(everything(payload(m)) for m in out)
    flat = shown.replace("\n", "")
    for card in batch:
        for section in card.sections:
            if isinstance(section, Prose):
                for word in escape(section.text).split():
                    assert word in flat
