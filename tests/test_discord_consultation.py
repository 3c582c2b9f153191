"""End to end: the real discord.py client (the production CrossroadsClient) against the fake.

The tiny playbook asks: role (3 choices: buttons; Student shows thesis), thesis (2
buttons), skills (multi-select), money (scale 1-5: buttons), notes (optional free text:
a modal). Every test runs on SQLite and on PostgreSQL.
"""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

from bot import events as ev
from bot.core.reply import Reply
from bot.ui import codec
from bot.ui import intents as it
from tests.discord_harness import (
    NO_PINGS,
    World,
    assert_no_pings,
    button,
    dm_id,
    intents,
    question_title,
    select,
    text_of,
)
from tests.fakes.discord_fake import FakeDiscord, FakeMessage

CB_MESSAGE, CB_DEFERRED_MESSAGE, CB_DEFERRED_UPDATE, CB_UPDATE, CB_MODAL = 4, 5, 6, 7, 9

pytest_plugins = ["tests.discord_fixtures"]  # fixtures: fake, world, loopback_only


async def click(
    world: World, message: FakeMessage, custom_id: str, **kw: object
) -> tuple[str, str]:
    """Click and wait until the bot finished; returns (interaction id, outcome)."""
    bot = world.bots[-1]
    iid = await world.fake.inject_component(message.id, custom_id, **kw)  # type: ignore[arg-type]
    return iid, await bot.handled(iid)


async def next_dm(fake: FakeDiscord, after: int, user_id: int | None = None) -> FakeMessage:
    return await fake.wait_for_message(channel_id=dm_id(fake, user_id), after=after)


async def test_full_consultation_from_guild_start_to_recommendation(world: World) -> None:
    fake = world.fake
    bot = await world.bot()
    mark = fake.mark()
    iid = await fake.inject_command("advise start")
    assert await bot.handled(iid) == "dm"
    pointer = await fake.wait_for_callback(iid)
    assert pointer.type == CB_MESSAGE and pointer.ephemeral
    assert "direct message" in (pointer.content or "")

    # The consultation is in the DM: intro + first question, buttons for 3 choices.
    q_role = await next_dm(fake, mark)
    assert [e["title"] for e in q_role.embeds] == ["Tiny test playbook", "Question 1 of 5"]
    assert question_title(q_role) == "What are you?"
    assert {type(i) for i in intents(q_role)} == {it.AnswerQuestion}

    mark = fake.mark()
    iid, outcome = await click(world, q_role, button(q_role, "Student"))
    assert outcome == "applied"
    update = await fake.wait_for_callback(iid)
    assert update.type == CB_UPDATE
    receipt = fake.message(q_role.id)  # the question with its answer, no buttons
    assert receipt.embeds[-1]["title"] == "Question 1 of 5"
    assert receipt.embeds[-1]["footer"]["text"] == "Your answer: Student"
    assert receipt.components == []
    q_thesis = await fake.wait_for_message(
        lambda m: "thesis" in str(m.embeds), channel_id=dm_id(fake), after=mark
    )
    assert question_title(q_thesis) == "Did you write a thesis?"

    mark = fake.mark()
    await click(world, q_thesis, button(q_thesis, "Yes"))
    q_skills = await next_dm(fake, mark)
    menu = select(q_skills)
    assert (menu["min_values"], menu["max_values"]) == (1, 3)
    assert [o["label"] for o in menu["options"]] == ["Coding", "Maths", "Writing"]

    mark = fake.mark()
    iid, outcome = await click(world, q_skills, menu["custom_id"], values=["code", "writing"])
    assert outcome == "applied"
    assert "Your answer: Coding, Writing" in text_of(fake.message(q_skills.id))
    q_money = await next_dm(fake, mark)
    assert [c["label"] for c in q_money.components[0]["components"]] == ["1", "2", "3", "4", "5"]

    mark = fake.mark()
    await click(world, q_money, button(q_money, "2"))
    q_notes = await next_dm(fake, mark)
    assert question_title(q_notes) == "Anything else?"
    # An optional free-text question: one button opening an optional text box.
    assert [c["label"] for c in q_notes.components[0]["components"]] == ["Type your answer"]

    iid, outcome = await click(world, q_notes, button(q_notes, "Type your answer"))
    assert outcome == "modal"
    modal = await fake.wait_for_callback(iid)
    assert modal.type == CB_MODAL and modal.data is not None
    assert modal.data["title"] == "Question 5 of 5"
    (text_input,) = modal.data["components"][0]["components"]
    assert text_input["required"] is False
    mark = fake.mark()
    typed = "@everyone I like **maths** <@&1234567890123456789>"
    submit = await fake.inject_modal_submit(iid, {"text": typed})
    assert await bot.handled(submit) == "applied"
    answered = fake.message(q_notes.id)
    assert answered.components == []
    # Footers show text verbatim (no Markdown, no mentions there): the answer is whole.
    assert answered.embeds[-1]["footer"]["text"] == f"Your answer: {typed}"
    assert answered.payload["mention_everyone"] is False

    final = await next_dm(fake, mark)
    intro, card = final.embeds
    assert intro["description"] == "That is everything I need. Here is what I would weigh up:"
    assert card["title"] == "Tiny test playbook"
    names = [f["name"] for f in card["fields"]]
    # The answer first, then each route judged, then the plan and every route considered.
    assert names[0] == "In short" and "My advice: keep studying." in card["fields"][0]["value"]
    assert names[-2:] == ["Your next steps", "Every route I considered"]
    assert "Write to two supervisors." in card["fields"][-2]["value"]
    assert "**2. Get a job**" in card["fields"][-1]["value"]
    labels = [c["label"] for c in final.components[0]["components"]]
    assert labels == ["1. Keep studying", "2. Get a job"]  # details of every ranked route

    mark = fake.mark()
    iid, outcome = await click(world, final, final.custom_ids()[0])
    assert outcome == "shown"
    details = await fake.wait_for_message(channel_id=dm_id(fake), after=mark)
    assert details.embeds[0]["title"] == "1. Keep studying"
    assert {f["name"] for f in details.embeds[0]["fields"]} >= {"For", "Your next steps"}
    assert_no_pings(fake)
    assert all(cb.allowed_mentions in (None, NO_PINGS) for cb in fake.callbacks)
    assert not any("CheckIn" in m.content for m in fake.all_messages())  # no reprs leak


async def test_restart_mid_consultation_and_clicks_on_messages_from_before(world: World) -> None:
    fake = world.fake
    bot = await world.bot()
    mark = fake.mark()
    await bot.handled(await fake.inject_command("advise start"))
    q_role = await next_dm(fake, mark)
    mark = fake.mark()
    await click(world, q_role, button(q_role, "Student"))
    q_thesis = await next_dm(fake, mark)

    # A new client on the same database; the old thesis message still works.
    bot = await world.restart(bot)
    assert len(fake.identifies) == 2
    mark = fake.mark()
    iid, outcome = await click(world, q_thesis, button(q_thesis, "No"))
    assert outcome == "applied"
    assert (await fake.wait_for_callback(iid)).type == CB_UPDATE
    q_skills = await next_dm(fake, mark)
    mark = fake.mark()
    await click(world, q_skills, select(q_skills)["custom_id"], values=["maths"])
    q_money = await next_dm(fake, mark)
    mark = fake.mark()
    await click(world, q_money, button(q_money, "5"))
    q_notes = await next_dm(fake, mark)

    # A modal opened before a restart is submitted after it.
    opened, _ = await click(world, q_notes, button(q_notes, "Type your answer"))
    bot = await world.restart(bot)
    mark = fake.mark()
    submit = await fake.inject_modal_submit(opened, {"text": "Written after a restart"})
    assert await bot.handled(submit) == "applied"
    final = await next_dm(fake, mark)
    assert final.embeds[1]["fields"][0]["name"] == "In short"
    assert len(fake.identifies) == 3
    # pay rated 5 of 5: a chart of the top routes on it is attached beside the advice
    sent = [f for m in fake.all_messages() for f in m.files]
    [chart] = [f for f in sent if f.filename == "crossroads-routes.png"]
    assert chart.data.startswith(b"\x89PNG\r\n\x1a\n")


async def test_dms_closed_continue_ephemerally_in_the_channel(world: World) -> None:
    from adapters.discord.inbound import DMS_CLOSED

    fake = world.fake
    bot = await world.bot()
    bob = fake.add_user("bob")
    fake.add_member(fake.guild_id, bob)
    fake.fail_messages_to_user(bob)
    iid = await fake.inject_command("advise start", user_id=bob)
    assert await bot.handled(iid) == "dm-closed"
    reply = await fake.wait_for_callback(iid)
    assert reply.ephemeral and reply.type == CB_MESSAGE
    assert (reply.content or "").startswith(DMS_CLOSED)
    assert reply.message is not None and reply.message.channel_id == fake.channel_id
    assert question_title(reply) == "What are you?"
    bob_dm = dm_id(fake, bob)
    assert [r.status for r in fake.requests if r.path == f"/channels/{bob_dm}/messages"] == [403]
    assert fake.messages[bob_dm] == []

    # The ephemeral question works like a DM one; what follows stays ephemeral.
    mark = fake.mark()
    click_id, outcome = await click(world, reply.message, button(reply, "Worker"))
    assert outcome == "applied"
    assert (await fake.wait_for_callback(click_id)).type == CB_UPDATE
    q_skills = await fake.wait_for_message(channel_id=fake.channel_id, after=mark)
    assert q_skills.ephemeral and question_title(q_skills) == "Which skills do you have?"
    mark = fake.mark()
    await click(world, q_skills, select(q_skills)["custom_id"], values=["code"])
    q_money = await fake.wait_for_message(channel_id=fake.channel_id, after=mark)
    assert q_money.ephemeral

    # DM channel creation refused (no shared server, blocked bot): the same fallback.
    carol = fake.add_user("carol")
    fake.add_member(fake.guild_id, carol)
    fake.fail_dm_channel_creation(carol)
    iid = await fake.inject_command("advise start", user_id=carol)
    assert await bot.handled(iid) == "dm-closed"
    assert (await fake.wait_for_callback(iid)).ephemeral
    assert_no_pings(fake)


async def test_click_by_another_user_is_refused(world: World) -> None:
    from bot.core.actions import NOT_YOURS

    fake = world.fake
    bot = await world.bot()
    mark = fake.mark()
    await bot.handled(await fake.inject_command("advise start"))
    q_role = await next_dm(fake, mark)
    bob = fake.add_user("bob")
    fake.add_member(fake.guild_id, bob)

    iid = await fake.inject_forged_component(q_role.id, button(q_role, "Student"), user_id=bob)
    assert await bot.handled(iid) == "refused"
    refusal = await fake.wait_for_callback(iid)
    assert refusal.type == CB_MESSAGE and refusal.ephemeral
    assert text_of(refusal) == NOT_YOURS
    assert fake.message(q_role.id).components == q_role.components  # untouched
    assert fake.message(q_role.id).edits == []

    # Alice's consultation did not move: her own click is the first answer.
    iid, outcome = await click(world, q_role, button(q_role, "Student"))
    assert outcome == "applied"


async def test_forged_and_unknown_custom_ids_are_refused_politely(world: World) -> None:
    from adapters.discord.inbound import UNKNOWN

    fake = world.fake
    bot = await world.bot()
    mark = fake.mark()
    await bot.handled(await fake.inject_command("advise start"))
    q_role = await next_dm(fake, mark)
    real = codec.decode(button(q_role, "Student"))
    assert isinstance(real, it.AnswerQuestion)
    elsewhere = it.AnswerQuestion(consultation=424242, step=1, value="student")
    cases = [
        "hello",
        "x2:a:not-a-number:1:student",
        "x9:a:1:1:student",
        "x" * 100,
        codec.encode(elsewhere),  # a real-looking id that is not on this message
        codec.encode(real.with_value("other")) + "#1",
        codec.encode_opener(real, optional=True, max_length=100),
    ]
    for custom_id in cases:
        iid = await fake.inject_forged_component(q_role.id, custom_id)
        assert await bot.handled(iid) == "unknown", custom_id
        reply = await fake.wait_for_callback(iid)
        assert reply.type == CB_MESSAGE and reply.ephemeral and reply.content == UNKNOWN
    # A select id sent as a click on a button of the message: not that component either.
    iid = await fake.inject_forged_component(
        q_role.id, button(q_role, "Student"), component_type=3, values=["student"]
    )
    assert await bot.handled(iid) == "unknown"
    assert fake.message(q_role.id).edits == []
    iid, outcome = await click(world, q_role, button(q_role, "Student"))
    assert outcome == "applied"


async def test_stale_components_say_so_politely(world: World) -> None:
    fake = world.fake
    bot = await world.bot()
    start = await fake.inject_command("advise start", dm=True)
    await bot.handled(start)
    first = await fake.wait_for_callback(start)
    assert first.message is not None and not first.ephemeral  # in a DM: answered in place
    mark = fake.mark()
    await click(world, first.message, button(first, "Student"))
    q_thesis = await next_dm(fake, mark)

    # Going back makes the thesis question stale.
    back = await fake.inject_command("advise back", dm=True)
    assert await bot.handled(back) in ("applied", "shown")
    again = await fake.wait_for_callback(back)
    assert question_title(again) == "What are you?"
    mark = fake.mark()
    _, outcome = await click(world, q_thesis, button(q_thesis, "Yes"))
    assert outcome == "stale"
    stale = fake.message(q_thesis.id)
    assert stale.components == []  # no longer clickable; its text stays
    assert question_title(stale) == "Did you write a thesis?"
    current = await next_dm(fake, mark)
    assert "already answered" in text_of(current)
    assert question_title(current) == "What are you?"

    # A double click (the same click delivered twice) applies once.
    assert again.message is not None
    mark = fake.mark()
    first_click, outcome = await click(world, again.message, button(again, "Worker"))
    assert outcome == "applied"
    replay = dict(fake.interaction_payload(first_click))
    for key in ("id", "token"):
        replay.pop(key)
    twice = await fake.inject_interaction(replay)
    assert await bot.handled(twice) == "stale"
    skills = [m for m in fake.all_messages() if "Which skills" in str(m.embeds)]
    assert len(skills) == 2  # the next question, and where-we-are after the stale click


async def test_socket_drop_mid_consultation_resumes_and_replays_the_click(world: World) -> None:
    fake = world.fake
    bot = await world.bot()
    mark = fake.mark()
    await bot.handled(await fake.inject_command("advise start"))
    q_role = await next_dm(fake, mark)
    with fake.holding_resumes():
        assert await fake.drop_gateway() == 1
        mark = fake.mark()
        queued = await fake.inject_component(q_role.id, button(q_role, "Worker"))
        await fake.wait_for(kind="resume", after=mark)
    resumed = await fake.wait_for(kind="resumed", after=mark)
    assert "INTERACTION_CREATE" in resumed.data["replayed"]
    assert await bot.handled(queued) == "applied"
    q_skills = await next_dm(fake, mark)
    assert question_title(q_skills) == "Which skills do you have?"
    assert len(fake.identifies) == 1 and len(fake.resumes) == 1


async def test_rate_limited_dm_send_is_retried_once(world: World) -> None:
    fake = world.fake
    bot = await world.bot()
    dm = dm_id(fake)
    fake.rate_limit_messages(1, retry_after=0.05, channel_id=dm)
    iid = await fake.inject_command("advise start")
    assert await bot.handled(iid) == "dm"
    assert [r.status for r in fake.requests if r.path == f"/channels/{dm}/messages"] == [429, 200]
    (sent,) = fake.messages[dm]
    assert question_title(sent) == "What are you?"
    assert (await fake.wait_for_callback(iid)).ephemeral


async def test_slow_work_is_deferred_then_delivered(world: World) -> None:
    """The acknowledgement never waits for the database: past the budget the bot defers."""
    fake = world.fake
    bot = await world.bot(defer_after=0.05)
    gate = asyncio.Event()
    real_handle, real_act = bot.engine.handle, bot.engine.act

    async def slow_handle(event: ev.InEvent) -> Reply:
        await gate.wait()
        return await real_handle(event)

    async def slow_act(*args: Any, **kwargs: Any) -> Reply:
        await gate.wait()
        return await real_act(*args, **kwargs)

    bot.engine.handle = slow_handle  # type: ignore[method-assign]
    bot.engine.act = slow_act  # type: ignore[method-assign]
    iid = await fake.inject_command("advise start", dm=True)
    deferred = await fake.wait_for_callback(iid)  # arrives while the engine is still blocked
    assert deferred.type == CB_DEFERRED_MESSAGE and not deferred.ephemeral
    gate.set()
    assert await bot.handled(iid) == "applied"
    assert deferred.message is not None
    shown = fake.message(deferred.message.id)  # the "thinking" message became the question
    assert question_title(shown) == "What are you?"

    gate.clear()
    mark = fake.mark()
    click_id = await fake.inject_component(shown.id, button(shown, "Student"))
    assert (await fake.wait_for_callback(click_id)).type == CB_DEFERRED_UPDATE
    gate.set()
    assert await bot.handled(click_id) == "applied"
    assert fake.message(shown.id).embeds[-1]["footer"]["text"] == "Your answer: Student"
    assert question_title(await next_dm(fake, mark)) == "Did you write a thesis?"

    # Guild start: the DM hand-off happens after an ephemeral deferral.
    gate.clear()
    bob = fake.add_user("bob")
    fake.add_member(fake.guild_id, bob)
    iid = await fake.inject_command("advise start", user_id=bob)
    deferred = await fake.wait_for_callback(iid)
    assert deferred.type == CB_DEFERRED_MESSAGE and deferred.ephemeral
    gate.set()
    assert await bot.handled(iid) == "dm"
    assert deferred.message is not None
    assert "direct message" in fake.message(deferred.message.id).content
    assert_no_pings(fake)


WIDE = """
id: wide
version: 1
title: Wide playbook
intro: Many options.
questions:
  - id: pick
    kind: single_choice
    prompt: Pick one
    choices:
{single}
  - id: several
    kind: multi_choice
    prompt: Pick some
    min_choices: 1
    max_choices: 3
    choices:
{multi}
  - id: rate
    kind: scale
    prompt: Rate it
    scale_min: 0
    scale_max: 10
    scale_low_label: not at all
    scale_high_label: very much
criteria:
  - id: c
    label: C
    weight: {{question: rate, value: 1}}
paths:
  - id: a
    title: Path A
    summary: The first path.
    ratings: {{c: 1}}
  - id: b
    title: Path B
    summary: The second path.
    ratings: {{c: -1}}
"""


async def test_long_choice_lists_page_and_type(world: World, tmp_path: Path) -> None:
    from adapters.runtime import Runtime
    from bot.engine import Engine
    from bot.playbook.loader import PlaybookRegistry, load_playbook
    from bot.store.database import Database
    from bot.store.migrate import upgrade

    choices = "\n".join(f"      - {{id: c{i}, label: Choice {i}}}" for i in range(1, 31))
    (tmp_path / "wide.yaml").write_text(WIDE.format(single=choices, multi=choices))
    db = Database(world.db_url)
    await upgrade(db)
    settings = world.settings.model_copy(update={"default_playbook": "wide"})
    engine = Engine(db, PlaybookRegistry([load_playbook(tmp_path / "wide.yaml")]), settings)
    await engine.prepare()
    fake = world.fake
    bot = await world.bot(rt=Runtime(settings, db, engine))

    start = await fake.inject_command("advise start", dm=True)
    await bot.handled(start)
    q = (await fake.wait_for_callback(start)).message
    assert q is not None
    # 30 options for one pick: two selects (Discord holds 25 each), one row each.
    menus = [row["components"][0] for row in q.components]
    assert [len(m["options"]) for m in menus] == [25, 5]
    assert "options 1 to 25 of 30" in menus[0]["placeholder"]
    assert "options 26 to 30 of 30" in menus[1]["placeholder"]
    assert [o["label"] for o in menus[1]["options"]] == [f"Choice {i}" for i in range(26, 31)]
    mark = fake.mark()
    _, outcome = await click(world, q, menus[1]["custom_id"], values=["c27"])
    assert outcome == "applied"
    assert "Your answer: Choice 27" in text_of(fake.message(q.id))

    # 30 options for several picks: numbered lines and a text box for the numbers.
    q_multi = await next_dm(fake, mark)
    assert "30. Choice 30" in q_multi.embeds[-1]["description"]
    opened, outcome = await click(
        world, q_multi, button(q_multi, "Type the numbers of your choices")
    )
    assert outcome == "modal"
    mark = fake.mark()
    submit = await fake.inject_modal_submit(opened, {"text": "1, 27"})
    assert await bot.handled(submit) == "applied"
    q_rate = await next_dm(fake, mark)
    menu = select(q_rate)
    assert [o["value"] for o in menu["options"]] == [str(n) for n in range(11)]
    assert menu["options"][0]["label"] == "0 · not at all"
    mark = fake.mark()
    _, outcome = await click(world, q_rate, menu["custom_id"], values=["7"])
    assert outcome == "applied"
    final = await next_dm(fake, mark)
    assert final.embeds[1]["title"] == "Wide playbook"
    assert final.embeds[1]["fields"][0]["name"] == "In short"

    status = await fake.inject_command("advise status", dm=True)
    await bot.handled(status)
    text = text_of(await fake.wait_for_callback(status))
    assert "Choice 27" in text and "Choice 1, Choice 27" in text and "7 of 10" in text


async def test_database_outage_is_polite_and_the_question_stays_usable(world: World) -> None:
    from bot.store.database import StoreUnavailable

    fake = world.fake
    bot = await world.bot()
    start = await fake.inject_command("advise start", dm=True)
    await bot.handled(start)
    q_role = (await fake.wait_for_callback(start)).message
    assert q_role is not None
    real_run = bot.engine.db.run

    async def down(*args: object, **kwargs: object) -> object:
        raise StoreUnavailable("The PostgreSQL server at db:5432 cannot be reached right now.")

    bot.engine.db.run = down  # type: ignore[method-assign]
    iid, outcome = await click(world, q_role, button(q_role, "Student"))
    assert outcome == "unavailable"
    reply = await fake.wait_for_callback(iid)
    assert reply.type == CB_MESSAGE and reply.ephemeral
    assert "cannot be reached right now" in text_of(reply)
    assert fake.message(q_role.id).components == q_role.components  # still clickable

    bot.engine.db.run = real_run  # type: ignore[method-assign]
    _, outcome = await click(world, q_role, button(q_role, "Student"))
    assert outcome == "applied"


DIGITS = """
id: digits
version: 1
title: Digit ids
intro: Choice ids that look like positions.
questions:
  - id: few
    kind: single_choice
    prompt: Few
    choices:
      - {id: "3", label: Three}
      - {id: "1", label: One}
      - {id: "2", label: Two}
  - id: many
    kind: single_choice
    prompt: Many
    choices:
{many}
  - id: several
    kind: multi_choice
    prompt: Several
    choices:
      - {id: "3", label: Three}
      - {id: "1", label: One}
      - {id: "2", label: Two}
criteria:
  - id: c
    label: C
paths:
  - id: a
    title: Path A
    summary: The first path.
    ratings: {c: 1}
  - id: b
    title: Path B
    summary: The second path.
    ratings: {c: -1}
"""


async def test_choices_are_sent_by_id_not_by_position(world: World, tmp_path: Path) -> None:
    """Digit choice ids in another order than their positions are still read right."""
    from adapters.runtime import Runtime
    from bot.engine import Engine
    from bot.playbook.loader import PlaybookRegistry, load_playbook
    from bot.store.database import Database
    from bot.store.migrate import upgrade

    many = "\n".join(f'      - {{id: "{i}", label: L{i}}}' for i in range(7, 0, -1))
    (tmp_path / "digits.yaml").write_text(DIGITS.replace("{many}", many))
    db = Database(world.db_url)
    await upgrade(db)
    settings = world.settings.model_copy(update={"default_playbook": "digits"})
    engine = Engine(db, PlaybookRegistry([load_playbook(tmp_path / "digits.yaml")]), settings)
    await engine.prepare()
    fake = world.fake
    bot = await world.bot(rt=Runtime(settings, db, engine))

    start = await fake.inject_command("advise start", dm=True)
    await bot.handled(start)
    q_few = (await fake.wait_for_callback(start)).message
    assert q_few is not None
    mark = fake.mark()
    await click(world, q_few, button(q_few, "One"))  # position 2, id "1"
    q_many = await next_dm(fake, mark)
    mark = fake.mark()
    await click(world, q_many, select(q_many)["custom_id"], values=["2"])  # L2, position 6
    assert "Your answer: L2" in text_of(fake.message(q_many.id))
    q_several = await next_dm(fake, mark)
    mark = fake.mark()
    await click(world, q_several, select(q_several)["custom_id"], values=["3"])
    await next_dm(fake, mark)
    status = await fake.inject_command("advise status", dm=True)
    await bot.handled(status)
    text = text_of(await fake.wait_for_callback(status))
    assert "**1. Few**: One" in text and "**2. Many**: L2" in text
    assert "**3. Several**: Three" in text
