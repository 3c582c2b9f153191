"""The bolt AsyncApp and its listeners: Slack requests in, core events, Block Kit out.

Why this shape: Slack drops any request not acknowledged within 3 seconds, so every
listener calls ``ack()`` first and hands the slow part (the core turn, conversations.open,
chat.postMessage) to a task of its own (``Listeners.spawn``), then returns. The app runs
with ``process_before_response``, so bolt answers Slack the moment the listener returns;
without it bolt polls for the ack every 10 ms, which alone costs ~11 ms per request and,
in a burst, thousands of wake-ups per second. This is bolt's lazy-listener pattern
without bolt copying each request. The one exception is a modal submission, whose
validation errors must travel in the ack itself: it waits for the core at most
VIEW_ACK_BUDGET seconds, then closes the modal and posts the outcome to the DM instead.

The listeners hold no advising logic: they map a request to a core event, and the core's
reply to posts, updates and modals (blocks.py). A person is ``UserRef("slack", team,
user)``: the same user id in two workspaces is two people.
"""

from __future__ import annotations

import asyncio
import logging
import re
from collections import OrderedDict
from collections.abc import Coroutine, Mapping, Sequence
from typing import Any

from slack_bolt.async_app import AsyncApp, AsyncBoltContext
from slack_bolt.authorization.async_authorize import AsyncAuthorize
from slack_bolt.context.ack.async_ack import AsyncAck
from slack_bolt.context.respond.async_respond import AsyncRespond
from slack_bolt.oauth.async_oauth_settings import AsyncOAuthSettings
from slack_bolt.request.async_request import AsyncBoltRequest
from slack_sdk.errors import SlackApiError, SlackClientError
from slack_sdk.models.views import View
from slack_sdk.web.async_client import AsyncWebClient

from adapters.runtime import Runtime
from adapters.slack import ids
from adapters.slack.blocks import (
    DECLINE,
    OTHER_ZONE,
    SlackPost,
    answered_post,
    closed_post,
    help_post,
    list_post,
    question_post,
    render,
    text_modal,
    when_modal,
)
from adapters.slack.delivery import Courier, Failure
from adapters.slack.ids import CheckInAction, CheckInKind, ModalMeta, QuestionRef, Verb, WhenMeta
from adapters.slack.mrkdwn import SECTION_MAX, fit, inert
from adapters.slack.subcommands import ADMIN_KINDS, Kind, Parsed, parse, to_event
from bot import events as ev
from bot.checkins import texts as checkin_texts
from bot.digest import clip
from bot.engine import FORGET_ACTION, UnknownPlaybook
from bot.messages import (
    NO_CHECKINS,
    AnswerValue,
    AnyMessage,
    CheckInList,
    Level,
    Notice,
    Question,
    WhenKind,
)
from bot.store.database import StoreUnavailable
from bot.validation import whole_number

log = logging.getLogger(__name__)

PLATFORM = "slack"
ACK_DM = "I have sent you a direct message: let's continue there."
NOT_INSTALLED = (
    "Crossroads is not installed in this workspace (any more). "
    "Ask a workspace admin to install it again."
)
NO_THANKS = "No check-ins"
VIEW_ACK_BUDGET = 2.0  # seconds; Slack allows 3 for the ack of a modal submission
RECENT_IDS = 10_000
OOPS = (
    "Something went wrong on my side. Nothing you already told me is lost; "
    "please try again in a moment."
)
_API_ERRORS = (SlackApiError, SlackClientError, OSError, asyncio.TimeoutError)
Json = Mapping[str, Any]


class RecentIds:
    """Request ids (trigger_id) this process has already handled.

    Why: a redelivered request (an HTTP retry, a Socket Mode redelivery) carries the same
    trigger_id; skipping it here saves a duplicate reply. Only an optimisation: a retry that
    lands on another process is still applied once, by the core's step check.
    """

    def __init__(self, size: int = RECENT_IDS) -> None:
        self._size = size
        self._ids: OrderedDict[str, None] = OrderedDict()

    def seen(self, key: str | None) -> bool:
        if not key:
            return False
        if key in self._ids:
            return True
        self._ids[key] = None
        if len(self._ids) > self._size:
            self._ids.popitem(last=False)
        return False


def _retry_num(request: AsyncBoltRequest) -> int:
    raw = request.headers.get("x-slack-retry-num", ["0"])
    value = raw[0] if raw else "0"
    return whole_number(value, 0, 1000) or 0


def _prompt_from(blocks: Sequence[Json] | None) -> str:
    """Our own (already escaped) prompt text, read back from a message or a modal."""
    for block in blocks or ():
        if block.get("block_id") == ids.PROMPT_BLOCK:
            text = block.get("text")
            if isinstance(text, Mapping):
                return inert(str(text.get("text") or ""))[:SECTION_MAX]
    return ""


def _same_question_error(out: Sequence[AnyMessage], q: QuestionRef) -> Question | None:
    """The core asking the same question again with a reason: the answer was invalid."""
    first = out[0] if out else None
    if (
        isinstance(first, Question)
        and first.error
        and first.question_id == q.question_id
        and first.consultation_id == q.consultation_id
    ):
        return first
    return None


def _applied(out: Sequence[AnyMessage]) -> bool:
    """Whether an answer was taken.

    The core answers a taken answer with the next question or the recommendation (or a
    warning that no path fits); one it did not take (stale, closed, nothing to answer,
    database down) starts with an info or error Notice. See the report: the core could
    say this explicitly.
    """
    first = out[0] if out else None
    return not (first is None or (isinstance(first, Notice) and first.level != Level.WARNING))


class Listeners:
    """Every Slack listener, bound to one runtime; no per-person state in memory."""

    def __init__(self, rt: Runtime, courier: Courier) -> None:
        self.rt = rt
        self.engine = rt.engine
        self.courier = courier
        self.command = rt.settings.slack_command
        self.recent = RecentIds()
        self._stale_texts = {pb.wording.stale for pb in rt.engine.playbooks.all()}
        self._zones: dict[tuple[str, str], str | None] = {}
        self._work: set[asyncio.Task[None]] = set()
        self._idle = asyncio.Event()
        self._idle.set()

    # ------------------------------------------------------------------ work after the ack

    def spawn(self, work: Coroutine[Any, Any, None]) -> None:
        """Run the slow part of a request after its ack, as a task of its own.

        Why tracked: a shutdown lets acknowledged work finish (drain), and a test can wait
        for "everything handled" instead of sleeping. Counted from this call, so a request
        whose ack was sent is never "idle" before its work ran.
        """
        task = asyncio.ensure_future(work)
        self._work.add(task)
        self._idle.clear()
        task.add_done_callback(self._finished)

    def _finished(self, task: asyncio.Task[None]) -> None:
        self._work.discard(task)
        if not self._work:
            self._idle.set()
        if not task.cancelled() and task.exception() is not None:
            error = task.exception()
            log.error("slack: work after an ack failed: %s", type(error).__name__, exc_info=error)

    async def drain(self, timeout: float = 10.0) -> bool:  # noqa: ASYNC109 - a shutdown deadline
        """Wait until no acknowledged work is running; False if some still was at ``timeout``."""
        try:
            async with asyncio.timeout(timeout):
                await self._idle.wait()
        except TimeoutError:
            return False
        return True

    # ------------------------------------------------------------------ helpers

    @staticmethod
    def who(context: AsyncBoltContext) -> tuple[ev.UserRef, str, str]:
        team = context.team_id or context.enterprise_id or ""
        user = context.user_id or ""
        return ev.UserRef(PLATFORM, team, user), team, user

    def _stale(self, out: Sequence[AnyMessage]) -> bool:
        first = out[0] if out else None
        return isinstance(first, Notice) and first.text in self._stale_texts

    async def handle(self, event: ev.InEvent) -> list[AnyMessage]:
        """One core turn; a failure becomes a polite notice (the log keeps the details)."""
        try:
            return list((await self.engine.run(event)).messages)
        except StoreUnavailable as exc:
            return [Notice(f"{exc} Nothing you already told me is lost.", Level.ERROR)]
        except Exception:
            log.exception("slack: the core failed on a %s event", type(event).__name__)
            return [Notice(OOPS, Level.ERROR)]

    async def tell(self, respond: AsyncRespond | None, message: AnyMessage) -> None:
        """An ephemeral reply through the request's response_url (the fallback route)."""
        if respond is None:
            return
        posts = [p for p in render([message]) if isinstance(p, SlackPost)]
        if not posts:
            return
        try:
            await respond(
                text=posts[0].text,
                blocks=posts[0].blocks,
                response_type="ephemeral",
                replace_original=False,
            )
        except _API_ERRORS as exc:
            log.error("slack response_url post failed too: %s", type(exc).__name__)

    async def report(self, respond: AsyncRespond | None, failure: Failure | None) -> None:
        """Tell the person a reply could not be delivered (already logged by the courier)."""
        if failure is None:
            return
        await self.tell(
            respond,
            Notice(
                f"I could not deliver my reply (Slack said: {failure.error}). Nothing you "
                f"told me is lost: use {self.command} resume in a moment to see where we are.",
                Level.ERROR,
            ),
        )

    # ------------------------------------------------------------------ /advise

    async def on_command(
        self,
        ack: AsyncAck,
        command: dict[str, Any],
        context: AsyncBoltContext,
        client: AsyncWebClient,
        respond: AsyncRespond,
    ) -> None:
        parsed = parse(str(command.get("text") or ""))
        if parsed.kind is Kind.HELP:
            post = help_post(self.command)
            await ack(text=post.text, blocks=post.blocks)
            return
        if parsed.kind is Kind.INVALID:
            await ack(text=fit(parsed.error, 2000))
            return
        ref, team, user = self.who(context)
        if parsed.kind in ADMIN_KINDS:
            await ack()
            if not self.recent.seen(command.get("trigger_id")):
                self.spawn(self.settings(parsed, team, user, client, respond))
            return
        in_dm = self.courier.cached_dm(team, user) == command.get("channel_id")
        await ack() if in_dm else await ack(text=ACK_DM)
        if not self.recent.seen(command.get("trigger_id")):
            self.spawn(self.consult(parsed, ref, team, user, client, respond))

    async def consult(
        self,
        parsed: Parsed,
        ref: ev.UserRef,
        team: str,
        user: str,
        client: AsyncWebClient,
        respond: AsyncRespond,
    ) -> None:
        # The DM lookup and the core turn do not depend on each other: run them together.
        dm = asyncio.ensure_future(self.courier.dm_channel(client, team, user))
        try:
            event = to_event(parsed, ref)
            if event is None:  # bare command: continue, or start
                try:
                    has_open = await self.engine.has_open_consultation(ref)
                except StoreUnavailable:
                    has_open = False  # Start reports the outage politely
                event = ev.Resume(ref) if has_open else ev.Start(ref)
            out = await self.handle(event)
        finally:
            channel = await dm
        if channel is None:
            await self.tell(
                respond,
                Notice(
                    "I could not open a direct message with you. Your progress is saved; "
                    "please check that apps may message you, then try again.",
                    Level.ERROR,
                ),
            )
            return
        await self.report(respond, await self.courier.send(client, channel, render(out), team=team))

    async def settings(
        self, parsed: Parsed, team: str, user: str, client: AsyncWebClient, respond: AsyncRespond
    ) -> None:
        """Workspace settings: only for admins and owners, as users.info reports them."""
        try:
            info = await client.users_info(user=user)
            member = info.get("user") or {}
        except _API_ERRORS as exc:
            log.warning("slack users.info failed for team %s: %s", team, type(exc).__name__)
            await self.tell(
                respond,
                Notice(
                    "I could not check your permissions right now, so nothing was changed. "
                    "Please try again in a moment.",
                    Level.WARNING,
                ),
            )
            return
        if not (member.get("is_admin") or member.get("is_owner") or member.get("is_primary_owner")):
            await self.tell(
                respond,
                Notice(
                    "Only workspace admins and owners can see or change Crossroads settings.",
                    Level.WARNING,
                ),
            )
            return
        message: AnyMessage
        try:
            if parsed.kind is Kind.SET_PLAYBOOK and parsed.playbook:
                message = await self.engine.set_tenant_playbook(PLATFORM, team, parsed.playbook)
            elif parsed.kind is Kind.SET_CHECKINS:
                message = await self.engine.set_tenant_checkin_defaults(
                    PLATFORM,
                    team,
                    cadence_days=parsed.cadence_days,
                    timezone=parsed.timezone,
                    quiet_hours=parsed.quiet_hours,
                )
            else:
                message = await self.engine.tenant_overview(PLATFORM, team)
        except UnknownPlaybook as exc:
            message = Notice(str(exc), Level.WARNING)
        except StoreUnavailable as exc:
            message = Notice(f"{exc} Nothing was changed.", Level.ERROR)
        if parsed.kind is not Kind.SETTINGS:
            log.info("slack admin %s used %s in team %s", user, parsed.kind.value, team)
        await self.tell(respond, message)

    # ------------------------------------------------------------------ answers

    async def on_answer(
        self,
        ack: AsyncAck,
        body: dict[str, Any],
        action: dict[str, Any],
        context: AsyncBoltContext,
        client: AsyncWebClient,
        respond: AsyncRespond,
        request: AsyncBoltRequest,
    ) -> None:
        """A button or a single select: its value is the answer."""
        await ack()
        decoded = ids.decode_action(str(action.get("action_id") or ""))
        if decoded is None or decoded.question is None or self.recent.seen(body.get("trigger_id")):
            return
        selected = action.get("selected_option")
        if isinstance(selected, Mapping):
            value, label = str(selected.get("value") or ""), str(selected["text"]["text"])
        elif "value" in action:
            value = str(action["value"])
            label = str((action.get("text") or {}).get("text") or value)
        else:
            return
        self.spawn(
            self.answer(body, context, client, respond, request, decoded.question, value, label)
        )

    async def on_skip(
        self,
        ack: AsyncAck,
        body: dict[str, Any],
        action: dict[str, Any],
        context: AsyncBoltContext,
        client: AsyncWebClient,
        respond: AsyncRespond,
        request: AsyncBoltRequest,
    ) -> None:
        await ack()
        decoded = ids.decode_action(str(action.get("action_id") or ""))
        if decoded is None or decoded.question is None or self.recent.seen(body.get("trigger_id")):
            return
        self.spawn(
            self.answer(body, context, client, respond, request, decoded.question, "", "skipped")
        )

    async def on_submit(
        self,
        ack: AsyncAck,
        body: dict[str, Any],
        action: dict[str, Any],
        context: AsyncBoltContext,
        client: AsyncWebClient,
        respond: AsyncRespond,
        request: AsyncBoltRequest,
    ) -> None:
        """Submit of a multi-choice question: the union of its (paginated) multi selects."""
        await ack()
        decoded = ids.decode_action(str(action.get("action_id") or ""))
        if decoded is None or decoded.question is None or self.recent.seen(body.get("trigger_id")):
            return
        q = decoded.question
        values: list[str] = []
        labels: list[str] = []
        state = ((body.get("state") or {}).get("values")) or {}
        for block_id, elements in state.items():
            if ids.decode_block(str(block_id)) != q:
                continue
            for element in elements.values():
                for option in element.get("selected_options") or ():
                    values.append(str(option.get("value")))
                    labels.append(str((option.get("text") or {}).get("text") or ""))
        label = ", ".join(labels) if labels else "nothing selected"
        self.spawn(self.answer(body, context, client, respond, request, q, values, label))

    async def answer(
        self,
        body: dict[str, Any],
        context: AsyncBoltContext,
        client: AsyncWebClient,
        respond: AsyncRespond | None,
        request: AsyncBoltRequest,
        q: QuestionRef,
        value: AnswerValue,
        label: str,
    ) -> None:
        ref, team, _ = self.who(context)
        container = body.get("container") or {}
        channel = str(container.get("channel_id") or (body.get("channel") or {}).get("id") or "")
        ts = container.get("message_ts")
        prompt = _prompt_from((body.get("message") or {}).get("blocks"))
        out = await self.handle(ev.Answer(ref, value, q.question_id, q.consultation_id, q.step))
        await self.after_answer(
            client, respond, team, channel, ts, prompt, q, label, out, _retry_num(request) > 0
        )

    async def after_answer(
        self,
        client: AsyncWebClient,
        respond: AsyncRespond | None,
        team: str,
        channel: str,
        ts: str | None,
        prompt: str,
        q: QuestionRef,
        label: str,
        out: list[AnyMessage],
        retry: bool,
    ) -> None:
        """Update the answered question in place (so it cannot be pressed again), then
        post what comes next; an invalid answer re-asks in place with the reason."""
        if not channel:
            return
        invalid = _same_question_error(out, q)
        if invalid is not None:
            if ts:
                await self.courier.update(client, channel, ts, question_post(invalid), team=team)
            else:
                await self.report(
                    respond, await self.courier.send(client, channel, render(out), team=team)
                )
            return
        if retry and self._stale(out):
            # A redelivery of an answer another delivery already applied: say nothing twice.
            log.info("slack: redelivered answer in team %s was already applied", team)
            return
        if _applied(out) and ts:
            await self.courier.update(client, channel, ts, answered_post(prompt, label), team=team)
        await self.report(respond, await self.courier.send(client, channel, render(out), team=team))

    # ------------------------------------------------------------------ free text

    async def on_text(
        self,
        ack: AsyncAck,
        body: dict[str, Any],
        action: dict[str, Any],
        client: AsyncWebClient,
        respond: AsyncRespond,
    ) -> None:
        """The free-text button: open the modal now (its trigger_id lives 3 seconds)."""
        await ack()
        decoded = ids.decode_action(str(action.get("action_id") or ""))
        if decoded is None or decoded.question is None or self.recent.seen(body.get("trigger_id")):
            return
        container = body.get("container") or {}
        meta = ModalMeta(
            decoded.question,
            str(container.get("channel_id") or ""),
            str(container.get("message_ts") or ""),
        )
        prompt = _prompt_from((body.get("message") or {}).get("blocks"))
        view = text_modal(meta, prompt, str(action.get("value") or ""))
        self.spawn(self.open_modal(client, respond, str(body["trigger_id"]), view))

    async def open_modal(
        self, client: AsyncWebClient, respond: AsyncRespond, trigger_id: str, view: View
    ) -> None:
        try:
            await client.views_open(trigger_id=trigger_id, view=view)
        except _API_ERRORS as exc:
            log.error("slack views.open failed: %s", type(exc).__name__)
            await self.tell(
                respond,
                Notice("I could not open the answer form; please press the button again."),
            )

    async def on_text_submit(
        self,
        ack: AsyncAck,
        body: dict[str, Any],
        view: dict[str, Any],
        context: AsyncBoltContext,
        client: AsyncWebClient,
        request: AsyncBoltRequest,
    ) -> None:
        """The modal's answer: invalid → errors shown in the modal; valid → modal closes."""
        meta = ModalMeta.decode(str(view.get("private_metadata") or ""))
        if meta is None:
            await ack()
            return
        q = meta.question
        values = (view.get("state") or {}).get("values") or {}
        text = str(
            ((values.get(ids.TEXT_BLOCK) or {}).get(ids.TEXT_ACTION) or {}).get("value") or ""
        )
        ref, team, _ = self.who(context)
        turn = asyncio.ensure_future(
            self.handle(ev.Answer(ref, text, q.question_id, q.consultation_id, q.step))
        )

        async def finish() -> None:
            await self.after_answer(
                client,
                None,
                team,
                meta.channel,
                meta.ts or None,
                _prompt_from(view.get("blocks")),
                q,
                text.strip() or "skipped",
                await turn,
                _retry_num(request) > 0,
            )

        try:
            out = await asyncio.wait_for(asyncio.shield(turn), VIEW_ACK_BUDGET)
        except TimeoutError:
            await ack()  # too slow for the modal: close it, the DM gets the outcome
            self.spawn(finish())
            return
        invalid = _same_question_error(out, q)
        if invalid is not None:
            await ack(response_action="errors", errors={ids.TEXT_BLOCK: clip(invalid.error, 300)})
            return
        await ack()
        self.spawn(finish())

    # ------------------------------------------------------------------ the rest

    async def on_confirm(
        self,
        ack: AsyncAck,
        body: dict[str, Any],
        action: dict[str, Any],
        context: AsyncBoltContext,
        client: AsyncWebClient,
        respond: AsyncRespond,
    ) -> None:
        await ack()
        decoded = ids.decode_action(str(action.get("action_id") or ""))
        if decoded is not None and not self.recent.seen(body.get("trigger_id")):
            self.spawn(self.confirm(decoded, body, context, client, respond))

    async def confirm(
        self,
        decoded: ids.Decoded,
        body: dict[str, Any],
        context: AsyncBoltContext,
        client: AsyncWebClient,
        respond: AsyncRespond,
    ) -> None:
        ref, team, _ = self.who(context)
        container = body.get("container") or {}
        channel = str(container.get("channel_id") or "")
        ts = str(container.get("message_ts") or "")
        prompt = _prompt_from((body.get("message") or {}).get("blocks"))
        out: list[AnyMessage] = []
        if decoded.token != FORGET_ACTION:
            note = "This choice is no longer available."
        elif decoded.flag == "yes":
            out = await self.handle(ev.Forget(ref, confirmed=True))
            note = "You chose to delete your data."
        else:
            note = "Nothing was deleted."
        if channel and ts:
            await self.courier.update(client, channel, ts, closed_post(prompt, note), team=team)
        if out and channel:
            await self.report(
                respond, await self.courier.send(client, channel, render(out), team=team)
            )

    async def on_path(
        self,
        ack: AsyncAck,
        body: dict[str, Any],
        action: dict[str, Any],
        context: AsyncBoltContext,
        client: AsyncWebClient,
        respond: AsyncRespond,
    ) -> None:
        await ack()
        if not self.recent.seen(body.get("trigger_id")):
            self.spawn(
                self.show_path(str(action.get("value") or ""), body, context, client, respond)
            )

    async def show_path(
        self,
        path_id: str,
        body: dict[str, Any],
        context: AsyncBoltContext,
        client: AsyncWebClient,
        respond: AsyncRespond,
    ) -> None:
        ref, team, _ = self.who(context)
        channel = str((body.get("container") or {}).get("channel_id") or "")
        out = await self.handle(ev.ShowPath(ref, path_id))
        if channel:
            await self.report(
                respond, await self.courier.send(client, channel, render(out), team=team)
            )

    # ------------------------------------------------------------------ check-ins

    async def platform_timezone(self, client: AsyncWebClient, team: str, user: str) -> str | None:
        """The person's zone as Slack knows it (users.info ``tz``), so no question is asked.

        Cached per person in this process (a zone rarely changes; the core never lets it
        override one the person chose); None when Slack cannot say.
        """
        key = (team, user)
        if key in self._zones:
            return self._zones[key]
        try:
            info = await client.users_info(user=user)
            zone = (info.get("user") or {}).get("tz")
        except _API_ERRORS as exc:
            log.warning("slack users.info (tz) failed for team %s: %s", team, type(exc).__name__)
            return None
        value = str(zone) if zone else None
        self._zones[key] = value
        if len(self._zones) > RECENT_IDS:
            self._zones.pop(next(iter(self._zones)))
        return value

    async def on_checkin(
        self,
        ack: AsyncAck,
        body: dict[str, Any],
        action: dict[str, Any],
        context: AsyncBoltContext,
        client: AsyncWebClient,
        respond: AsyncRespond,
    ) -> None:
        """A click on a check-in message; days, dates and other zones open a modal first."""
        await ack()
        act = CheckInAction.decode(str(action.get("action_id") or ""))
        if act is None or self.recent.seen(body.get("trigger_id")):
            return
        selected = action.get("selected_option")
        if isinstance(selected, Mapping):
            value, label = str(selected.get("value") or ""), str(selected["text"]["text"])
        else:
            value = str(action.get("value") or act.choice)
            label = str((action.get("text") or {}).get("text") or value)
        container = body.get("container") or {}
        channel = str(container.get("channel_id") or "")
        ts = str(container.get("message_ts") or "")
        prompt = _prompt_from((body.get("message") or {}).get("blocks"))
        meta: WhenMeta | None = None
        if act.kind is CheckInKind.OFFER and act.choice in (WhenKind.IN_DAYS, WhenKind.DATE):
            meta = WhenMeta("offer", act.id, act.choice, channel, ts)
        elif act.kind is CheckInKind.LIST and act.choice == checkin_texts.CHANGE:
            meta = WhenMeta("change", act.id, "", channel, ts)
        elif act.kind is CheckInKind.ZONE and value == OTHER_ZONE:
            meta = WhenMeta("zone", 0, "", channel, ts)
        if meta is not None:
            view = when_modal(meta, prompt if meta.purpose == "offer" else "")
            self.spawn(self.open_modal(client, respond, str(body["trigger_id"]), view))
            return
        self.spawn(self.checkin(act, value, label, context, client, channel, ts, prompt))

    async def checkin_event(
        self, act: CheckInAction, value: str, ref: ev.UserRef, client: AsyncWebClient
    ) -> ev.InEvent | None:
        """The core event for a check-in click (None: nothing to tell the core)."""
        match act.kind:
            case CheckInKind.OFFER:
                if act.choice == NO_CHECKINS:
                    return ev.ScheduleCheckIns(ref, None, consultation_id=act.id)
                zone = await self.platform_timezone(client, ref.tenant, ref.user_id)
                return ev.ScheduleCheckIns(
                    ref, ev.When(act.choice), consultation_id=act.id, platform_timezone=zone
                )
            case CheckInKind.PROMPT:
                return ev.AnswerCheckIn(ref, act.id, act.occurrence, act.choice)
            case CheckInKind.LIST | CheckInKind.CATCHUP:
                if act.choice == checkin_texts.CANCEL:
                    return ev.CancelCheckIn(ref, act.id)
                if act.choice in (checkin_texts.SNOOZE_DAY, checkin_texts.SNOOZE_WEEK):
                    days = 7 if act.choice == checkin_texts.SNOOZE_WEEK else 1
                    return ev.SnoozeCheckIn(ref, act.id, days)
                return None
            case CheckInKind.ZONE:
                return ev.SetTimezone(ref, value) if value else None
            case CheckInKind.REVISIT:
                return None if act.choice == DECLINE else ev.Edit(ref, value)
        return None

    async def checkin(
        self,
        act: CheckInAction,
        value: str,
        label: str,
        context: AsyncBoltContext,
        client: AsyncWebClient,
        channel: str,
        ts: str,
        prompt: str,
    ) -> None:
        ref, team, _ = self.who(context)
        event = await self.checkin_event(act, value, ref, client)
        if act.kind is CheckInKind.OFFER and act.choice == NO_CHECKINS:
            label = NO_THANKS  # declining is taken too: close the offer in place
        out = await self.handle(event) if event is not None else []
        await self.after_checkin(client, team, channel, ts, prompt, act.kind, label, out)

    async def after_checkin(
        self,
        client: AsyncWebClient,
        team: str,
        channel: str,
        ts: str,
        prompt: str,
        kind: CheckInKind,
        label: str,
        out: list[AnyMessage],
    ) -> None:
        """Close the clicked message in place when the choice was taken (a prompt cannot be
        answered twice); a list is replaced by the new list; the rest is posted."""
        if not channel:
            return
        first = out[0] if out else None
        taken = not isinstance(first, Notice) or first.level == Level.SUCCESS
        taken = taken or (kind is CheckInKind.OFFER and label == NO_THANKS)
        rest = list(out)
        if ts and kind is CheckInKind.LIST:
            listing = next((m for m in out if isinstance(m, CheckInList)), None)
            if listing is not None:
                rest.remove(listing)
                await self.courier.update(client, channel, ts, list_post(listing), team=team)
        elif ts and taken and kind is not CheckInKind.CATCHUP:
            shown = "Not now" if kind is CheckInKind.REVISIT and not out else label
            await self.courier.update(client, channel, ts, answered_post(prompt, shown), team=team)
        if rest:
            await self.courier.send(client, channel, render(rest), team=team)

    async def on_when_submit(
        self,
        ack: AsyncAck,
        body: dict[str, Any],
        view: dict[str, Any],
        context: AsyncBoltContext,
        client: AsyncWebClient,
    ) -> None:
        """The days / date / zone modal: a problem is shown in the modal, else it closes."""
        meta = WhenMeta.decode(str(view.get("private_metadata") or ""))
        if meta is None:
            await ack()
            return
        values = (view.get("state") or {}).get("values") or {}

        def field(block: str, action: str, key: str) -> str:
            raw = (values.get(block) or {}).get(action) or {}
            if key == "selected_option":
                return str((raw.get(key) or {}).get("value") or "")
            return str(raw.get(key) or "").strip()

        ref, team, user = self.who(context)
        event: ev.InEvent
        error_block = ids.DAYS_BLOCK
        label = ""
        if meta.purpose == "zone":
            zone = field(ids.ZONE_BLOCK, ids.ZONE_ACTION, "value")
            event, error_block, label = ev.SetTimezone(ref, zone), ids.ZONE_BLOCK, zone
        else:
            kind = meta.when or field(ids.KIND_BLOCK, ids.KIND_ACTION, "selected_option")
            days = field(ids.DAYS_BLOCK, ids.DAYS_ACTION, "value")
            day = field(ids.DATE_BLOCK, ids.DATE_ACTION, "selected_date")
            at = field(ids.TIME_BLOCK, ids.TIME_ACTION, "selected_time")
            when: ev.When
            if kind == WhenKind.IN_DAYS:
                n_days = whole_number(days, 1, 365)
                if n_days is None:
                    await ack(
                        response_action="errors",
                        errors={ids.DAYS_BLOCK: "Say in how many days (1 to 365)."},
                    )
                    return
                when, label = ev.When(kind, days=n_days), f"In {n_days} day(s)"
            elif kind == WhenKind.DATE:
                if not day:
                    await ack(response_action="errors", errors={ids.DATE_BLOCK: "Pick a date."})
                    return
                on = f"{day} {at}" if at else day
                when, label, error_block = ev.When(kind, on=on), f"On {on}", ids.DATE_BLOCK
            elif kind in (WhenKind.WEEKLY, WhenKind.FORTNIGHTLY, WhenKind.SUGGESTED):
                when, label = ev.When(kind), kind.replace("_", " ").capitalize()
            else:
                await ack(response_action="errors", errors={ids.KIND_BLOCK: "Choose when."})
                return
            if meta.purpose == "offer":
                zone = await self.platform_timezone(client, team, user)
                event = ev.ScheduleCheckIns(
                    ref, when, consultation_id=meta.id, platform_timezone=zone
                )
            else:
                event = ev.ChangeCheckIn(ref, meta.id, when)
        turn = asyncio.ensure_future(self.handle(event))
        kind_of = CheckInKind.LIST if meta.purpose == "change" else CheckInKind.OFFER
        if meta.purpose == "zone":
            kind_of = CheckInKind.ZONE
        prompt = _prompt_from(view.get("blocks"))

        async def finish() -> None:
            await self.after_checkin(
                client, team, meta.channel, meta.ts, prompt, kind_of, label, await turn
            )

        try:
            out = await asyncio.wait_for(asyncio.shield(turn), VIEW_ACK_BUDGET)
        except TimeoutError:
            await ack()
            self.spawn(finish())
            return
        first = out[0] if out else None
        if isinstance(first, Notice) and first.level == Level.WARNING:
            await ack(response_action="errors", errors={error_block: clip(first.text, 300)})
            return
        await ack()
        self.spawn(finish())

    @staticmethod
    async def on_other(ack: AsyncAck) -> None:
        """Selections inside a multi-choice question, and anything we do not know: ack."""
        await ack()

    @staticmethod
    async def on_error(error: Exception) -> None:
        log.error("slack listener failed: %s", type(error).__name__, exc_info=error)


def build_app(
    rt: Runtime,
    client: AsyncWebClient,
    *,
    listeners: Listeners | None = None,
    signing_secret: str = "",
    oauth_settings: AsyncOAuthSettings | None = None,
    authorize: AsyncAuthorize | None = None,
) -> AsyncApp:
    """The bolt app. Single workspace: ``client`` carries the bot token. Multi-workspace:
    ``oauth_settings`` + ``authorize`` find each team's token in the installation store."""
    app = AsyncApp(
        name="crossroads",
        client=client,
        signing_secret=signing_secret,
        oauth_settings=oauth_settings,
        authorize=authorize,
        installation_store_bot_only=True if oauth_settings is not None else None,
        user_facing_authorize_error_message=NOT_INSTALLED,
        # Listeners ack and return at once (work goes to Listeners.spawn), so the response
        # can go out when they return, instead of after bolt's 10 ms ack polling.
        process_before_response=True,
    )
    on = listeners or Listeners(rt, Courier())
    app.command(rt.settings.slack_command)(on.on_command)
    app.action(ids.action_pattern(Verb.ANSWER))(on.on_answer)
    app.action(ids.action_pattern(Verb.SKIP))(on.on_skip)
    app.action(ids.action_pattern(Verb.SUBMIT))(on.on_submit)
    app.action(ids.action_pattern(Verb.TEXT))(on.on_text)
    app.action(ids.action_pattern(Verb.CONFIRM))(on.on_confirm)
    app.action(ids.action_pattern(Verb.PATH))(on.on_path)
    app.action(ids.action_pattern(Verb.CHECKIN))(on.on_checkin)
    app.action(re.compile(".*"))(on.on_other)  # PICK and anything else: ack only
    app.view(ids.TEXT_CALLBACK)(on.on_text_submit)
    app.view(ids.WHEN_CALLBACK)(on.on_when_submit)
    app.error(on.on_error)
    if oauth_settings is not None:
        app.enable_token_revocation_listeners()
    return app
