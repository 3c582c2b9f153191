"""A new kind of section needs no adapter code: every renderer draws it through its fallback.

Why: the contract (bot/ui/cards.py) promises that the core can add a kind of content
without touching Discord, Slack or the console. The kind below is declared here, in the
test alone (a subclass of ``Section`` saying how it reads in base sections), and put into
a card that goes through the three real renderers unchanged.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass

import pytest

from adapters.console import cards as console
from adapters.discord import cards as discord_cards
from adapters.slack import cards as slack_cards
from bot.ui import budgets, codec
from bot.ui import intents as it
from bot.ui.blocks import pack
from bot.ui.cards import (
    Action,
    Actions,
    Bullets,
    Card,
    Choices,
    Context,
    Option,
    Prose,
    Section,
    lower,
)


@dataclass(frozen=True, slots=True, kw_only=True)
class Verdict(Section):
    """What we think of one route a person named: a kind no renderer has heard of."""

    route: str
    verdict: str
    reasons: tuple[str, ...]

    def basic(self) -> Sequence[Section]:
        return (
            Prose(text=self.verdict, heading=self.route),
            Bullets(items=self.reasons),
        )


@dataclass(frozen=True, slots=True, kw_only=True)
class Verdicts(Section):
    """Several verdicts and a way to ask about each: a kind made of another new kind."""

    items: tuple[Verdict, ...]
    consultation: int

    def basic(self) -> Sequence[Section]:
        pick = Choices(
            intent=it.OpenPath(consultation=self.consultation, path=""),
            options=tuple(Option(value=str(i), label=v.route) for i, v in enumerate(self.items)),
            placeholder="Ask about a route",
        )
        return (*self.items, Context(text="Verdicts for the routes you named."), pick)


@dataclass(frozen=True, slots=True, kw_only=True)
class Forgetful(Section):
    """A kind whose author forgot to say how it reads."""

    text: str


PHD = Verdict(
    route="A PhD in physics with an ML focus",
    verdict="A good fit for you now",
    reasons=("You already publish in physics", "Your group uses ML daily"),
)
JOB = Verdict(
    route="An industry ML job",
    verdict="Worth keeping open",
    reasons=("Pays from the first month",),
)
MORE = Action(label="Tell me more", intent=it.Command(name="status"), command="status")
CARD = Card(
    title="Your routes",
    sections=(Verdicts(items=(PHD, JOB), consultation=7), Actions(items=(MORE,))),
)
WORDS = (
    "A PhD in physics with an ML focus",
    "A good fit for you now",
    "You already publish in physics",
    "Your group uses ML daily",
    "An industry ML job",
    "Worth keeping open",
    "Pays from the first month",
    "Verdicts for the routes you named.",
)


def test_a_new_kind_lowers_to_base_sections_in_reading_order() -> None:
    kinds = [type(s).__name__ for s in CARD.basic()]
    assert kinds == ["Prose", "Bullets", "Prose", "Bullets", "Context", "Choices", "Actions"]
    assert [t for t in WORDS if t in CARD.plain()] == list(WORDS)
    assert len(CARD.interactive()) == 2  # the choice inside the new kind counts as a control
    assert budgets.check(CARD) == []


def test_the_console_draws_a_new_kind() -> None:
    text = console.render(CARD)
    for words in WORDS:
        assert words in text
    assert text.index("A good fit for you now") < text.index("Worth keeping open")
    assert "/status" in text  # the card's own action is still there


def test_discord_draws_a_new_kind_with_its_controls() -> None:
    messages = discord_cards.render([CARD])
    text = discord_cards.rendered_text(messages)
    for words in WORDS:
        assert discord_cards.escape(words) in text
    rows = [row for m in messages for row in m.rows]
    buttons = [b.custom_id for row in rows if isinstance(row, tuple) for b in row]
    assert buttons == [codec.encode(MORE.intent)]
    (menu,) = (row for row in rows if isinstance(row, discord_cards.Menu))
    assert [o.label for o in menu.options] == [PHD.route, JOB.route]  # the new kind's choice


def test_slack_draws_a_new_kind_with_its_controls() -> None:
    posts = slack_cards.render([CARD])
    blocks = [
        b.to_dict() if hasattr(b, "to_dict") else b
        for p in posts
        if isinstance(p, slack_cards.SlackPost)
        for b in p.blocks
    ]
    shown = json.dumps(blocks, ensure_ascii=False)
    for words in WORDS:
        assert words in shown
    elements = [e for b in blocks if b["type"] == "actions" for e in b["elements"]]
    assert codec.encode(MORE.intent) in [e["action_id"] for e in elements]
    (select,) = (e for e in elements if e["type"] == "static_select")
    assert [o["text"]["text"] for o in select["options"]] == [PHD.route, JOB.route]


def test_budgets_count_what_a_new_kind_draws() -> None:
    many = [Verdict(route=f"Route {i}", verdict="Fine", reasons=("One reason",)) for i in range(15)]
    cards = pack("Routes", many)
    assert len(cards) == 2  # 30 drawn sections do not fit one card's 20
    assert all(budgets.check(card) == [] for card in cards)


def test_a_kind_that_does_not_say_how_it_reads_fails_loudly() -> None:
    with pytest.raises(NotImplementedError, match="Forgetful"):
        lower(Forgetful(text="lost"))
    with pytest.raises(NotImplementedError):
        console.render(Card(sections=(Forgetful(text="lost"),)))
