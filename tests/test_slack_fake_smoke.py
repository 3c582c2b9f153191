"""Smoke tests: the real slack-bolt AsyncApp and slack_sdk against the fake Slack.

Why: the adapter tests rely on the fake being faithful enough that bolt's own machinery
(signature checks, acks, retries, Socket Mode) runs unmodified; these tests prove that.
"""

from __future__ import annotations

import asyncio
import gc
import warnings
from collections.abc import AsyncIterator, Iterator
from typing import Any

import pytest
from slack_bolt.adapter.socket_mode.async_handler import AsyncSocketModeHandler
from slack_bolt.async_app import AsyncApp
from slack_bolt.request.async_request import AsyncBoltRequest
from slack_bolt.response import BoltResponse
from slack_sdk.errors import SlackApiError
from slack_sdk.http_retry.builtin_async_handlers import (
    AsyncRateLimitErrorRetryHandler,
    AsyncServerErrorRetryHandler,
    async_default_handlers,
)
from slack_sdk.models.blocks import (
    ActionsBlock,
    Block,
    ButtonElement,
    InputBlock,
    PlainTextInputElement,
    SectionBlock,
)
from slack_sdk.models.views import View
from slack_sdk.web.async_client import AsyncWebClient
from slack_sdk.webhook.async_client import AsyncWebhookClient

from tests.fakes.slack_fake import SlackFake, loopback_only, post_to_app, serve_bolt_app

USER = "U0PHYS0001"
ACK_TEXT = "Let's continue in a direct message."


@pytest.fixture(autouse=True)
def _loopback_only(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """slack_sdk honours HTTPS_PROXY (and ignores NO_PROXY); strip it and refuse non-loopback."""
    for name in ("HTTPS_PROXY", "https_proxy", "HTTP_PROXY", "http_proxy"):
        monkeypatch.delenv(name, raising=False)
    with loopback_only() as refused:
        yield
    assert refused == []


@pytest.fixture
async def leak_check() -> AsyncIterator[None]:
    """Fail on unclosed aiohttp sessions/connectors or destroyed pending tasks."""
    loop = asyncio.get_running_loop()
    reports: list[str] = []
    previous = loop.get_exception_handler()
    loop.set_exception_handler(lambda _loop, ctx: reports.append(str(ctx.get("message"))))
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", ResourceWarning)
        yield
        await asyncio.sleep(0)
        gc.collect()
    loop.set_exception_handler(previous)
    reports += [str(w.message) for w in caught if issubclass(w.category, ResourceWarning)]
    assert [r for r in reports if "Unclosed" in r or "destroyed" in r] == []


@pytest.fixture
async def fake(leak_check: None) -> AsyncIterator[SlackFake]:
    async with SlackFake() as server:
        yield server


def question_blocks() -> list[Block]:
    return [
        SectionBlock(block_id="q_path", text="Which path are you weighing first?"),
        ActionsBlock(
            block_id="q_path_choices",
            elements=[
                ButtonElement(text="PhD with an ML focus", action_id="path_phd", value="phd"),
                ButtonElement(text="Industry job", action_id="path_industry", value="industry"),
            ],
        ),
    ]


def goal_modal(user_id: str) -> View:
    return View(
        type="modal",
        callback_id="goal_modal",
        title="Your goal",
        submit="Save",
        private_metadata=user_id,
        blocks=[
            InputBlock(
                block_id="goal_block",
                label="What do you want to be doing in five years?",
                element=PlainTextInputElement(action_id="goal"),
            )
        ],
    )


class Seen:
    """What the app's listeners ran and saw (to prove a rejected request ran nothing)."""

    def __init__(self) -> None:
        self.listeners: list[str] = []
        self.retry_headers: list[tuple[str | None, str | None]] = []
        self.submissions: list[dict[str, Any]] = []


def build_app(
    fake: SlackFake, *, retry_on_429: bool = False, socket_mode: bool = False
) -> tuple[AsyncApp, Seen]:
    handlers = async_default_handlers()
    if retry_on_429:
        handlers.append(AsyncRateLimitErrorRetryHandler(max_retry_count=1))
    client = AsyncWebClient(token=fake.bot_token, base_url=fake.base_url, retry_handlers=handlers)
    app = AsyncApp(client=client, signing_secret=fake.signing_secret)
    seen = Seen()

    @app.middleware
    async def record_retry_headers(
        req: AsyncBoltRequest, resp: BoltResponse, next: Any
    ) -> BoltResponse:
        seen.retry_headers.append(
            (
                req.headers.get("x-slack-retry-num", [None])[0],
                req.headers.get("x-slack-retry-reason", [None])[0],
            )
        )
        return await next()  # type: ignore[no-any-return]

    @app.command("/advise")
    async def advise(ack: Any, command: dict[str, Any], client: AsyncWebClient) -> None:
        seen.listeners.append("advise")
        await ack(ACK_TEXT)
        dm = await client.conversations_open(users=command["user_id"])
        await client.chat_postMessage(
            channel=dm["channel"]["id"],
            text="Which path are you weighing first?",
            blocks=question_blocks(),
        )

    @app.action("path_phd")
    async def on_path(ack: Any, body: dict[str, Any], client: AsyncWebClient) -> None:
        seen.listeners.append("path_phd")
        await ack()
        await client.chat_update(
            channel=body["container"]["channel_id"],
            ts=body["container"]["message_ts"],
            text="You picked: PhD with an ML focus",
            blocks=[SectionBlock(text="You picked: *PhD with an ML focus*")],
        )
        await client.views_open(trigger_id=body["trigger_id"], view=goal_modal(body["user"]["id"]))

    @app.view("goal_modal")
    async def on_goal(ack: Any, view: dict[str, Any]) -> None:
        seen.listeners.append("goal_modal")
        goal = view["state"]["values"]["goal_block"]["goal"]["value"] or ""
        seen.submissions.append({"goal": goal, "metadata": view["private_metadata"]})
        if len(goal) < 10:
            await ack(response_action="errors", errors={"goal_block": "Tell me a bit more."})
        else:
            await ack()

    return app, seen


# ---------------------------------------------------------------------------------------------
# HTTP mode


async def test_http_slash_command_acks_then_posts_block_kit_in_dm(fake: SlackFake) -> None:
    app, seen = build_app(fake)
    async with serve_bolt_app(app) as url:
        payload = fake.payloads.slash_command("/advise", "hello", user_id=USER)
        reply = await post_to_app(url, fake.signer.slash_command(payload))
        assert reply.status == 200
        assert reply.text == ACK_TEXT  # ack("text") alone is a text/plain body in HTTP mode

        post = await fake.wait_for_call("chat.postMessage")

    opened = fake.calls_to("conversations.open", ok_only=True)
    assert len(opened) == 1 and opened[0].params["users"] == USER
    dm = fake.dm_channel(USER)
    assert dm is not None and dm.startswith("D")
    assert post.params["channel"] == dm and post.token == fake.bot_token
    assert post.team_id == fake.team.id
    [message] = fake.channel_messages(dm)
    assert message.bot_id == fake.team.bot_id
    assert [b["type"] for b in message.blocks] == ["section", "actions"]
    assert message.blocks[1]["elements"][0]["action_id"] == "path_phd"
    assert len(fake.calls_to("auth.test")) == 1  # bolt's lazy auth.test on the first request
    assert seen.listeners == ["advise"]


async def test_http_block_action_updates_message_and_modal_rejects_short_goal(
    fake: SlackFake,
) -> None:
    app, seen = build_app(fake)
    async with serve_bolt_app(app) as url:
        await post_to_app(url, fake.signer.slash_command(fake.payloads.slash_command(user_id=USER)))
        await fake.wait_for_call("chat.postMessage")
        [message] = fake.channel_messages(fake.dm_channel(USER) or "")

        click = fake.payloads.block_actions("path_phd", user_id=USER, message=message)
        assert click["actions"][0]["value"] == "phd"
        reply = await post_to_app(url, fake.signer.interactive(click))
        assert reply.status == 200 and reply.text == ""

        update = await fake.wait_for_call("chat.update")
        assert update.params["ts"] == message.ts
        await fake.wait_for_call("views.open")
        assert message.text == "You picked: PhD with an ML focus"
        assert len(message.history) == 1

        modal = fake.latest_view(USER)
        assert modal.callback_id == "goal_modal" and modal.private_metadata == USER
        short = fake.payloads.view_submission(modal, inputs={"goal": "ML"})
        reply = await post_to_app(url, fake.signer.interactive(short))
        assert reply.status == 200
        assert reply.json() == {
            "response_action": "errors",
            "errors": {"goal_block": "Tell me a bit more."},
        }

        long = fake.payloads.view_submission(modal, inputs={"goal": "Lead an ML research group"})
        reply = await post_to_app(url, fake.signer.interactive(long))
        assert reply.status == 200 and reply.text == ""
    assert seen.submissions == [
        {"goal": "ML", "metadata": USER},
        {"goal": "Lead an ML research group", "metadata": USER},
    ]


async def test_http_rejects_forged_and_stale_signatures_and_passes_retry_headers(
    fake: SlackFake,
) -> None:
    app, seen = build_app(fake)
    async with serve_bolt_app(app) as url:
        payload = fake.payloads.slash_command(user_id=USER)
        forged = await post_to_app(url, fake.signer.slash_command(payload, forge=True))
        stale = await post_to_app(url, fake.signer.slash_command(payload, stale=True))
        assert (forged.status, stale.status) == (401, 401)
        assert forged.json() == {"error": "invalid request"}
        # verification runs before dispatch, so nothing can still be pending here
        assert seen.listeners == [] and fake.calls == []

        retried = fake.signer.slash_command(payload, retry_num=1, retry_reason="http_timeout")
        reply = await post_to_app(url, retried)
        assert reply.status == 200
        await fake.wait_for_call("chat.postMessage")
    assert seen.listeners == ["advise"]
    assert seen.retry_headers[-1] == ("1", "http_timeout")


async def test_http_rate_limited_post_is_retried_once_and_posted_once(fake: SlackFake) -> None:
    app, _ = build_app(fake, retry_on_429=True)
    fake.rate_limit("chat.postMessage", retry_after=0)
    async with serve_bolt_app(app) as url:
        reply = await post_to_app(
            url, fake.signer.slash_command(fake.payloads.slash_command(user_id=USER))
        )
        assert reply.status == 200
        await fake.wait_for_call("chat.postMessage")
    attempts = fake.calls_to("chat.postMessage")
    assert [(c.status, c.error) for c in attempts] == [(429, "ratelimited"), (200, None)]
    assert len(fake.channel_messages(fake.dm_channel(USER) or "")) == 1


# ---------------------------------------------------------------------------------------------
# Socket Mode


async def test_socket_mode_slash_command_view_submission_and_reconnects(fake: SlackFake) -> None:
    app, seen = build_app(fake)
    handler = AsyncSocketModeHandler(app, fake.app_token, ping_interval=0.2)
    try:
        await handler.connect_async()
        first = await fake.wait_for_socket()
        assert first.sent[0]["type"] == "hello"
        opened = fake.calls_to("apps.connections.open", ok_only=True)
        assert len(opened) == 1 and opened[0].token == fake.app_token

        ack = await fake.push_slash_command(fake.payloads.slash_command(user_id=USER))
        assert ack.payload == {"text": ACK_TEXT}  # bolt wraps a text ack for the socket
        await fake.wait_for_call("chat.postMessage")
        [message] = fake.channel_messages(fake.dm_channel(USER) or "")

        ack = await fake.push_interactive(
            fake.payloads.block_actions("path_phd", user_id=USER, message=message)
        )
        assert ack.payload is None
        await fake.wait_for_call("views.open")
        modal = fake.latest_view(USER)
        ack = await fake.push_interactive(
            fake.payloads.view_submission(modal, inputs={"goal": "x"})
        )
        assert ack.payload == {
            "response_action": "errors",
            "errors": {"goal_block": "Tell me a bit more."},
        }

        # Slack's {"type": "disconnect"}: bolt fetches a new URL and reconnects
        second = await fake.request_socket_reconnect()
        assert second.id != first.id
        ack = await fake.push_slash_command(fake.payloads.slash_command(user_id=USER))
        assert ack.connection_id == second.id
        await fake.wait_for_call("chat.postMessage", count=2)

        # an abrupt TCP drop: bolt's monitor notices and reconnects
        await fake.drop_socket(abrupt=True)
        third = await fake.wait_for_socket(min_count=3)
        ack = await fake.push_slash_command(fake.payloads.slash_command(user_id=USER))
        assert ack.connection_id == third.id
        await fake.wait_for_call("chat.postMessage", count=3)
    finally:
        await handler.close_async()
    assert len(fake.calls_to("apps.connections.open", ok_only=True)) == 3
    assert seen.listeners.count("advise") == 3


# ---------------------------------------------------------------------------------------------
# the Web API surface the adapters use, through the real AsyncWebClient


# slack_sdk 3.48's oauth_v2_access uses aiohttp.BasicAuth, deprecated in aiohttp 3.14
@pytest.mark.filterwarnings("ignore:BasicAuth is deprecated:DeprecationWarning")
async def test_web_api_auth_faults_users_files_oauth_and_response_url(fake: SlackFake) -> None:
    bad = AsyncWebClient(token="xoxb-unknown", base_url=fake.base_url)
    with pytest.raises(SlackApiError) as err:
        await bad.auth_test()
    assert err.value.response["error"] == "invalid_auth"

    handlers = [*async_default_handlers(), AsyncServerErrorRetryHandler(max_retry_count=1)]
    client = AsyncWebClient(token=fake.bot_token, base_url=fake.base_url, retry_handlers=handlers)
    fake.server_error("users.info", status=503)
    fake.add_user(USER, is_admin=True, tz="America/New_York", tz_offset=-18000)
    info = await client.users_info(user=USER)
    assert info["user"]["is_admin"] is True and info["user"]["tz_offset"] == -18000
    assert [c.status for c in fake.calls_to("users.info")] == [503, 200]

    fake.api_error("chat.postMessage", "channel_not_found")
    with pytest.raises(SlackApiError) as err:
        await client.chat_postMessage(channel=USER, text="hi")
    assert err.value.response["error"] == "channel_not_found"

    upload = await client.files_upload_v2(
        channel=fake.team.general_channel_id,
        filename="plan.md",
        content="# My plan\n\n- write to three groups\n",
        title="Your plan",
        initial_comment="Here is your plan.",
    )
    file = fake.files[upload["file"]["id"]]
    assert file.text.startswith("# My plan") and file.title == "Your plan"
    assert [m.via for m in fake.channel_messages(fake.team.general_channel_id)] == ["file_share"]

    code = fake.add_oauth_code(team_id="T0NEWTEAM", team_name="New Lab", installer_user_id="U0NEW1")
    oauth = await AsyncWebClient(base_url=fake.base_url).oauth_v2_access(
        client_id=fake.client_id, client_secret=fake.client_secret, code=code
    )
    assert oauth["team"] == {"id": "T0NEWTEAM", "name": "New Lab"}
    assert oauth["authed_user"]["id"] == "U0NEW1" and oauth["is_enterprise_install"] is False
    new_auth = await AsyncWebClient(token=oauth["access_token"], base_url=fake.base_url).auth_test()
    assert new_auth["team_id"] == "T0NEWTEAM" and new_auth["bot_id"]

    payload = fake.payloads.slash_command(user_id=USER)
    hook = AsyncWebhookClient(payload["response_url"])
    first = await hook.send(text="Working on it…")
    second = await hook.send(text="Done.", replace_original=True)
    assert (first.status_code, second.status_code) == (200, 200)
    assert [p.outcome for p in fake.response_posts] == ["posted_ephemeral", "replaced"]
    assert [e.text for e in fake.ephemerals] == ["Done."]


async def test_web_api_views_messages_and_response_url_lifecycle(fake: SlackFake) -> None:
    client = AsyncWebClient(token=fake.bot_token, base_url=fake.base_url)
    fake.add_user(USER)

    trigger = fake.issue_trigger_id(fake.team.id, USER)
    opened = await client.views_open(trigger_id=trigger, view=goal_modal(USER))
    view_id = opened["view"]["id"]
    with pytest.raises(SlackApiError) as err:
        await client.views_open(trigger_id=trigger, view=goal_modal(USER))
    assert err.value.response["error"] == "exchanged_trigger_id"
    fake.trigger_ttl = 0
    with pytest.raises(SlackApiError) as err:
        await client.views_open(
            trigger_id=fake.issue_trigger_id(fake.team.id, USER), view=goal_modal(USER)
        )
    assert err.value.response["error"] == "expired_trigger_id"
    fake.trigger_ttl = 3.0
    with pytest.raises(SlackApiError) as err:
        await client.views_update(view_id=view_id, hash="stale", view=goal_modal(USER))
    assert err.value.response["error"] == "hash_conflict"
    updated = await client.views_update(
        view_id=view_id, hash=opened["view"]["hash"], view=goal_modal("v2")
    )
    assert updated["view"]["private_metadata"] == "v2"
    submission = fake.payloads.view_submission(view_id, inputs={"goal": "Become a researcher"})
    pushed = await client.views_push(trigger_id=submission["trigger_id"], view=goal_modal(USER))
    assert pushed["view"]["previous_view_id"] == view_id

    too_long = [{"type": "section", "text": {"type": "mrkdwn", "text": "a" * 3001}}]
    with pytest.raises(SlackApiError) as err:
        await client.chat_postMessage(channel=USER, text="x", blocks=too_long)
    assert err.value.response["error"] == "invalid_blocks"

    await client.chat_postEphemeral(channel=fake.team.general_channel_id, user=USER, text="psst")
    assert [e.text for e in fake.ephemerals] == ["psst"]

    select = {
        "type": "static_select",
        "action_id": "pick",
        "options": [{"text": {"type": "plain_text", "text": "A master's first"}, "value": "msc"}],
    }
    posted = await client.chat_postMessage(
        channel=USER, text="Pick one", blocks=[{"type": "actions", "elements": [select]}]
    )
    message = fake.message(posted["channel"], posted["ts"])
    click = fake.payloads.block_actions("pick", user_id=USER, message=message, value="msc")
    assert click["actions"][0]["selected_option"]["value"] == "msc"
    assert click["actions"][0]["block_id"] == message.blocks[0]["block_id"]  # filled by fake
    hook = AsyncWebhookClient(click["response_url"])
    await hook.send(text="You picked a master's first.", replace_original=True)
    assert message.text == "You picked a master's first." and message.blocks == []
    await hook.send_dict({"delete_original": True})
    assert message.deleted
    for _ in range(3):
        assert (await hook.send(text="again")).status_code == 200
    assert (await hook.send(text="sixth use")).status_code == 404


async def test_events_over_http_and_socket_mode(fake: SlackFake) -> None:
    client = AsyncWebClient(token=fake.bot_token, base_url=fake.base_url)
    app = AsyncApp(client=client, signing_secret=fake.signing_secret)
    heard: list[str] = []

    @app.event("message")
    async def on_dm(event: dict[str, Any], say: Any) -> None:
        heard.append(event["text"])
        await say("noted: " + event["text"])

    async with serve_bolt_app(app) as url:
        event = fake.payloads.message_im("I chose the PhD", user_id=USER)
        reply = await post_to_app(url, fake.signer.event(event))
        assert reply.status == 200
        await fake.wait_for_call("chat.postMessage")

    handler = AsyncSocketModeHandler(app, fake.app_token)
    try:
        await handler.connect_async()
        ack = await fake.push_event(fake.payloads.message_im("and wrote to two labs", user_id=USER))
        assert ack.payload is None
        await fake.wait_for_call("chat.postMessage", count=2)
    finally:
        await handler.close_async()
    assert heard == ["I chose the PhD", "and wrote to two labs"]
    dm_texts = [m.text for m in fake.channel_messages(fake.dm_channel(USER) or "")]
    assert dm_texts == ["noted: I chose the PhD", "noted: and wrote to two labs"]
