"""Behaviour every chat platform shares, tested once: a stale click, someone else's click,
invalid input. Parametrised over the platforms' fakes through one small driver protocol.

Why once: since issue 14 the core decides what happened (``Reply.outcome``) and every
adapter only shows it, so these behaviours must look the same on each platform; a test per
platform would drift. The seam is ``PlatformDriver``: a platform joins by implementing it
(a few moves a person makes: a command, a press, typing into a text box, and what they
were shown) and adding itself to ``DRIVERS``: Discord (tests/discord_platform.py, on
tests/discord_harness.py) and Slack (below, on tests/fakes/slack_driver.py).

Where the platforms legitimately differ, the test says so beside the expectation (one
place: a Discord text box enforces its length in the client).
"""

from __future__ import annotations

import contextlib
import copy
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any, Protocol

import pytest

from bot import events as ev
from bot.engine import Engine
from bot.messages import Status
from bot.settings import Settings
from tests.conftest import make_engine
from tests.discord_harness import TOKEN
from tests.discord_platform import discord_platform
from tests.fakes.discord_fake import FakeDiscord
from tests.fakes.slack_driver import (  # noqa: F401 - fixtures
    SlackDriver,
    elements,
    fake_fixture,
    loopback_fixture,
    running_adapter,
    slack_settings,
    texts,
)
from tests.fakes.slack_fake import FakeMessage, SlackFake

OWNER, OTHER = "U0OWNER0SH", "U0OTHER0SH"


class PlatformDriver(Protocol):
    """The moves a shared behaviour test makes on one platform (its adapter on its fake).

    ``Message`` is whatever the platform's fake stores for a message the bot sent; the
    tests only pass it back to the driver.
    """

    platform: str

    def ref(self, user: str) -> ev.UserRef:
        """The core's person for a platform user id."""
        ...

    async def command(self, user: str, name: str, expect: str) -> Any:
        """Run the bot's command ``name`` as ``user``; the message shown with ``expect``."""
        ...

    async def press(self, message: Any, label: str, *, user: str) -> None:
        """Press the button, or pick the option, labelled ``label`` on ``message``."""
        ...

    async def type_into(self, message: Any, button: str, text: str, *, user: str) -> str | None:
        """Open ``message``'s text box with ``button`` and send ``text``: the reason the
        form refused it (None when it was taken)."""
        ...

    async def shown(self, user: str, expect: str, count: int = 1) -> Any:
        """Until ``user`` was shown ``count`` messages with ``expect``: the last of them."""
        ...

    def seen_by(self, user: str) -> list[str]:
        """Everything ``user`` was shown so far (their DM and replies only they see)."""
        ...

    def text(self, message: Any) -> str:
        """A message's text as it is now (after any edits)."""
        ...

    def snapshot(self, message: Any) -> Any:
        """A copy of ``message`` as it is now, to press its buttons after it was edited
        (a client that has not refreshed, a double press)."""
        ...

    def interactive(self, message: Any) -> bool:
        """Whether a message still has buttons or menus."""
        ...

    async def settle(self) -> None:
        """Until the adapter has finished everything it acknowledged."""
        ...


class SlackPlatform:
    """PlatformDriver for Slack: the real bolt adapter on the fake Slack (HTTP mode)."""

    platform = "slack"

    def __init__(self, drv: SlackDriver) -> None:
        self.drv = drv
        self.fake = drv.fake

    def ref(self, user: str) -> ev.UserRef:
        return ev.UserRef("slack", self.fake.team.id, user)

    async def command(self, user: str, name: str, expect: str) -> FakeMessage:
        before = len(self._found(user, expect))
        await self.drv.command(name, user_id=user)
        return await self.shown(user, expect, before + 1)

    async def press(self, message: FakeMessage, label: str, *, user: str) -> None:
        for e in elements(message):
            if (e.get("text") or {}).get("text") == label:
                await self.drv.click(message, e, user_id=user)
                return
            for option in e.get("options") or ():
                if option["text"]["text"] == label:
                    await self.drv.click(message, e, user_id=user, value=option["value"])
                    return
        raise AssertionError(f"nothing labelled {label!r} in {message.blocks}")

    async def type_into(
        self, message: FakeMessage, button: str, text: str, *, user: str
    ) -> str | None:
        opened = len(self.fake.calls_to("views.open"))
        await self.press(message, button, user=user)
        await self.fake.wait_for_call("views.open", count=opened + 1)
        modal = self.fake.latest_view(user)
        submission = self.fake.payloads.view_submission(modal, inputs={"text": text})
        ack = await self.drv.interact(submission)
        body = ack.json or {}
        if body.get("response_action") == "errors":
            return " ".join(str(v) for v in body["errors"].values())
        return None

    def _messages(self, user: str) -> list[tuple[str, FakeMessage | None]]:
        dm = self.fake.dm_channel(user)
        out: list[tuple[str, FakeMessage | None]] = []
        if dm is not None:
            out += [(texts(m), m) for m in self.fake.channel_messages(dm)]
        out += [
            (str(p.body.get("text") or ""), None)
            for p in self.fake.response_posts
            if p.user_id == user
        ]
        return out

    def _found(self, user: str, expect: str) -> list[tuple[str, FakeMessage | None]]:
        return [(t, m) for t, m in self._messages(user) if expect in t]

    async def shown(self, user: str, expect: str, count: int = 1) -> FakeMessage | None:
        def check() -> list[tuple[str, FakeMessage | None]] | None:
            found = self._found(user, expect)
            return found if len(found) >= count else None

        found = await self.fake.wait_until(check, what=f"{count} message(s) with {expect!r}")
        return found[count - 1][1]

    def seen_by(self, user: str) -> list[str]:
        return [t for t, _ in self._messages(user)]

    def text(self, message: FakeMessage) -> str:
        return texts(message)

    def snapshot(self, message: FakeMessage) -> FakeMessage:
        return copy.deepcopy(message)

    def interactive(self, message: FakeMessage) -> bool:
        return bool(elements(message))

    async def settle(self) -> None:
        assert await self.drv.service.drain()


@contextlib.asynccontextmanager
async def slack_platform(
    fixtures: dict[str, Any], engine: Engine, tmp_path: Path, url: str
) -> AsyncIterator[PlatformDriver]:
    fake: SlackFake = fixtures["fake"]
    settings = slack_settings(fake, tmp_path, url, "http")
    async with running_adapter(fake, engine, settings, "http") as drv:
        yield SlackPlatform(drv)


# A platform's starter: its adapter on its fake (from the fixtures it names) and the
# engine's database, as a driver.
Starter = Callable[
    [dict[str, Any], Engine, Path, str],
    contextlib.AbstractAsyncContextManager[PlatformDriver],
]
DRIVERS: dict[str, tuple[Starter, tuple[str, ...]]] = {
    "discord": (discord_platform, ("discord_fake",)),
    "slack": (slack_platform, ("fake",)),
}


@pytest.fixture
async def discord_fake() -> AsyncIterator[FakeDiscord]:
    """The fake Discord (its own name: ``fake`` is the Slack fake in this module)."""
    async with FakeDiscord(token=TOKEN) as server:
        yield server


@pytest.fixture
async def tiny(sqlite_url: str, settings: Settings) -> AsyncIterator[Engine]:
    engine = await make_engine(sqlite_url, settings.model_copy(update={"default_playbook": "tiny"}))
    yield engine
    await engine.db.dispose()


@pytest.fixture(params=sorted(DRIVERS))
def platform(request: pytest.FixtureRequest) -> tuple[Starter, dict[str, Any]]:
    """The platform's starter and the fixtures it needs (only that platform's fake runs)."""
    starter, needs = DRIVERS[request.param]
    return starter, {name: request.getfixturevalue(name) for name in needs}


@pytest.fixture
async def chat(
    platform: tuple[Starter, dict[str, Any]], tiny: Engine, tmp_path: Path, sqlite_url: str
) -> AsyncIterator[PlatformDriver]:
    starter, fixtures = platform
    async with starter(fixtures, tiny, tmp_path, sqlite_url) as driver:
        yield driver


async def answers(engine: Engine, ref: ev.UserRef) -> list[str]:
    [status] = (await engine.run(ev.ShowStatus(user=ref))).messages
    assert isinstance(status, Status)
    return [a.answer for a in status.answers]


# ------------------------------------------------------------------------------ the behaviours


async def test_a_stale_click_is_answered_politely_and_changes_nothing(
    chat: PlatformDriver, tiny: Engine
) -> None:
    question = await chat.command(OWNER, "start", "What are you?")
    old = chat.snapshot(question)
    await chat.press(question, "Student", user=OWNER)
    await chat.shown(OWNER, "Did you write a thesis?")
    assert "Your answer: Student" in chat.text(question) and not chat.interactive(question)
    await chat.press(old, "Worker", user=OWNER)  # pressed again before it was updated
    await chat.shown(OWNER, "already answered")
    await chat.shown(OWNER, "Did you write a thesis?", count=2)  # where we are now
    await chat.settle()
    assert await answers(tiny, chat.ref(OWNER)) == ["Student"]


async def test_someone_else_s_click_is_refused_to_them_alone(
    chat: PlatformDriver, tiny: Engine
) -> None:
    question = await chat.command(OWNER, "start", "What are you?")
    owner_saw = len(chat.seen_by(OWNER))
    await chat.press(question, "Worker", user=OTHER)
    await chat.shown(OTHER, "belong to someone else")
    await chat.settle()
    assert len(chat.seen_by(OWNER)) == owner_saw  # the owner is told nothing
    assert chat.interactive(question)  # the question is still open
    assert await answers(tiny, chat.ref(OWNER)) == []


async def at_the_last_question(chat: PlatformDriver, tiny: Engine) -> Any:
    """The owner's consultation at its last question (a text box): the message asking it.

    The first four answers go straight to the core; the platform shows where it stands.
    """
    await chat.command(OWNER, "start", "What are you?")
    ref = chat.ref(OWNER)
    for value in ("student", "yes", ["code"], "4"):
        await tiny.run(ev.Answer(user=ref, value=value))
    return await chat.command(OWNER, "resume", "Anything else?")


async def test_invalid_input_is_explained_and_not_taken(chat: PlatformDriver, tiny: Engine) -> None:
    notes = await at_the_last_question(chat, tiny)
    ref = chat.ref(OWNER)
    refused = await chat.type_into(notes, "Type your answer", "x" * 150, user=OWNER)
    # Platforms differ here: Discord's client enforces the text box's max_length, so the
    # text never reaches the bot and the client says why; Slack sends it and the core does.
    assert (
        refused
        == {
            "discord": "text input 'text' must be 0..100 characters",
            "slack": "That is 150 characters; please keep it to 100 or fewer.",
        }[chat.platform]
    )
    await chat.settle()
    assert chat.interactive(notes)  # still waiting for an answer
    assert len(await answers(tiny, ref)) == 4
    assert await chat.type_into(notes, "Type your answer", "short", user=OWNER) is None
    await chat.shown(OWNER, "Your answer: short")
    assert (await answers(tiny, ref))[-1] == "short"


async def test_someone_else_s_text_box_is_refused_in_the_form(
    chat: PlatformDriver, tiny: Engine
) -> None:
    notes = await at_the_last_question(chat, tiny)
    ref = chat.ref(OWNER)
    refused = await chat.type_into(notes, "Type your answer", "mine now", user=OTHER)
    assert refused is not None and "belong to someone else" in refused
    await chat.settle()
    assert chat.interactive(notes) and len(await answers(tiny, ref)) == 4


async def offer_after_the_last_answer(chat: PlatformDriver, tiny: Engine) -> Any:
    """A consultation finished on the platform: the check-in offer it ends with."""
    notes = await at_the_last_question(chat, tiny)
    assert await chat.type_into(notes, "Type your answer", "short", user=OWNER) is None
    return await chat.shown(OWNER, "Shall I check in with you on your plan?")


async def test_an_invalid_time_is_explained_by_the_core_and_not_taken(
    chat: PlatformDriver, tiny: Engine
) -> None:
    """Input within the text box's limits that the core refuses: the same on every platform."""
    offer = await offer_after_the_last_answer(chat, tiny)
    refused = await chat.type_into(offer, "In a few days…", "soonish", user=OWNER)
    assert refused is not None and refused.startswith("I did not understand that time.")
    await chat.settle()
    assert chat.interactive(offer)  # still open: nothing was scheduled
    listing = (await tiny.run(ev.ListCheckIns(user=chat.ref(OWNER)))).messages
    assert [getattr(m, "items", None) for m in listing] == [()]


async def test_a_used_offer_becomes_its_receipt_and_cannot_be_used_twice(
    chat: PlatformDriver, tiny: Engine
) -> None:
    offer = await offer_after_the_last_answer(chat, tiny)
    await chat.press(offer, "Every week", user=OWNER)
    await chat.shown(OWNER, "Check-ins are set for")
    await chat.settle()
    assert "You chose: Every week" in chat.text(offer) and not chat.interactive(offer)


async def test_a_used_confirmation_becomes_its_receipt(chat: PlatformDriver, tiny: Engine) -> None:
    await chat.command(OWNER, "start", "What are you?")
    ask = await chat.command(OWNER, "forget", "It cannot be undone")
    await chat.press(ask, "Keep it", user=OWNER)
    await chat.shown(OWNER, "Nothing was deleted.")
    await chat.settle()
    assert "You chose: Keep it" in chat.text(ask) and not chat.interactive(ask)
    assert await tiny.has_open_consultation(chat.ref(OWNER))


@pytest.fixture
async def career(sqlite_url: str, settings: Settings) -> AsyncIterator[Engine]:
    engine = await make_engine(
        sqlite_url,
        settings.model_copy(update={"default_playbook": "ml-research-career"}),
        "ml-research-career",
    )
    yield engine
    await engine.db.dispose()


@pytest.fixture
async def story_chat(
    platform: tuple[Starter, dict[str, Any]], career: Engine, tmp_path: Path, sqlite_url: str
) -> AsyncIterator[PlatformDriver]:
    starter, fixtures = platform
    async with starter(fixtures, career, tmp_path, sqlite_url) as driver:
        yield driver


async def test_a_story_typed_into_the_text_box_prefills_the_answers(
    story_chat: PlatformDriver, career: Engine
) -> None:
    from tests.story_measure import STORIES

    seed = next(s for s in STORIES if s.name == "seed").text
    chat = story_chat
    question = await chat.command(OWNER, "start", "Tell me about your situation")
    assert await chat.type_into(question, "Type your answer", seed, user=OWNER) is None
    understood = await chat.shown(OWNER, "Here is what I took from what you wrote")
    shown = chat.text(understood).replace("**", "")
    assert "field: Physics: particle / high-energy physics" in shown
    await chat.shown(OWNER, "What kind of ML researcher do you want to become?")
    await chat.settle()
    [status] = (await career.run(ev.ShowStatus(user=chat.ref(OWNER)))).messages
    assert isinstance(status, Status)
    told = {a.question_id for a in status.answers if a.answer.endswith("(from your story)")}
    assert {"degree", "field", "experience", "routes", "phd_view"} <= told
