"""The bolt AsyncApp: Slack requests in, ``Engine.handle`` / ``Engine.act`` calls, cards out.

Why this shape (issue 14, step 5: bolt's own mechanisms):

* one global middleware (``Listeners.envelope``) does what every request needs before a
  listener runs: the person's identity (``UserRef("slack", team, user)``: the same user id
  in two workspaces is two people), retry detection (``X-Slack-Retry-Num``) and envelope
  dedupe (a trigger_id this process already handled: an HTTP retry or a Socket Mode
  redelivery; a retry landing on another process is applied once by the core's own step
  check, and its STALE reply is not shown twice);
* every listener has bolt's lazy shape, ``ack`` first and the slow part after
  (``Listeners.listener(ack=…, lazy=[…])``). Bolt's own ``lazy=`` deep-copies the request
  and its context, which fails with the shared aiohttp session of our client (TypeError:
  cannot pickle '_contextvars.Context'), and starts untracked tasks; this wrapper keeps the
  shape, hands the lazy part the same request, and tracks it so a shutdown (or a test)
  can wait for acknowledged work (``drain``). The app runs with
  ``process_before_response``, so bolt answers Slack the moment the ack part returns
  instead of polling for it every 10 ms. The one exception is a modal submission, whose
  validation errors must travel in the ack itself: it waits for the core at most
  VIEW_ACK_BUDGET seconds, then closes the modal and shows the outcome in the DM;
* one component handler: an action_id is a ``bot.ui.codec`` id; it is decoded and given
  to ``Engine.act`` with what Slack sent along (picked option values, typed text, the
  person's Slack time zone). What happened is ``reply.outcome``, never read from cards:
  APPLIED turns the clicked message into the core's receipt (or closes it: its buttons go,
  what was chosen stays); INVALID with a question re-asks in place; REFUSED answers only
  the person who clicked (ephemeral); a STALE reply to a Slack retry is not shown again;
* typed DMs: a ``message`` event in the person's DM (``channel_type`` im) is ``ev.Typed``
  for the core, the Reply's cards go back with chat.postMessage like every other reply.
  The bot's own messages (``bot_id``), every ``subtype`` (edits, deletions, bot messages,
  joins, file shares…) and hidden events are acknowledged and ignored; a redelivered
  event (same ``event_id``) is not answered twice in this process. One person's DMs are
  answered in the order they arrived (``adapters/lanes.py``), different people at once;
  a typed answer and a click on the same question are settled by the core's version
  check (the one that loses gets the polite "already answered" and where we are now);
* the App Home: ``app_home_opened`` on the Home tab publishes the core's overview
  (``Engine.home``: consultation state, top of the advice and plan, check-ins) with the
  same renderer (``cards.home_view``); a button there answers in the person's DM and the
  home is published again.

The listeners hold no advising logic and no SQL; cards.py renders every card.
"""

from __future__ import annotations

import asyncio
import json
import logging
import re
from collections import OrderedDict
from collections.abc import Awaitable, Callable, Coroutine, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from slack_bolt.async_app import AsyncApp, AsyncBoltContext
from slack_bolt.authorization.async_authorize import AsyncAuthorize
from slack_bolt.context.ack.async_ack import AsyncAck
from slack_bolt.context.respond.async_respond import AsyncRespond
from slack_bolt.oauth.async_oauth_settings import AsyncOAuthSettings
from slack_bolt.request.async_request import AsyncBoltRequest
from slack_bolt.response import BoltResponse
from slack_sdk.errors import SlackApiError, SlackClientError
from slack_sdk.web.async_client import AsyncWebClient

from adapters.lanes import Lanes
from adapters.runtime import Runtime
from adapters.slack import cards
from adapters.slack.cards import TEXT_ACTION, TEXT_BLOCK, TEXT_CALLBACK, SlackPost, render
from adapters.slack.delivery import Courier, Failure
from adapters.slack.mentors import mentor_admin
from adapters.slack.mrkdwn import fit, typed_text
from adapters.slack.slash import (
    ADMIN_KINDS,
    MENTOR_KINDS,
    Kind,
    Parsed,
    help_card,
    parse,
    setting_event,
)
from adapters.waiting import until_idle
from bot.api import (
    Card,
    Click,
    Outcome,
    Prose,
    Reply,
    StoreUnavailable,
    Tone,
    clip,
    codec,
    notice,
    whole_number,
)
from bot.api import events as ev
from bot.api import intents as it

log = logging.getLogger(__name__)

PLATFORM = "slack"
ACK_DM = "I have sent you a direct message: let's continue there."
NOT_INSTALLED = (
    "Crossroads is not installed in this workspace (any more). "
    "Ask a workspace admin to install it again."
)
STATS_SENT = "I sent the statistics to our direct messages."
STATS_NO_DM = (
    "I could not open a direct message with you, so the chart (and CSV) could not be sent; "
    "the figures are above."
)
VIEW_ACK_BUDGET = 2.0  # seconds; Slack allows 3 for the ack of a modal submission
RECENT_IDS = 10_000
OOPS = (
    "Something went wrong on my side. Nothing you already told me is lost; "
    "please try again in a moment."
)
# What the middleware puts into bolt's context for the listeners.
PERSON = "crossroads_person"
RETRY = "crossroads_retry"
REPEAT = "crossroads_repeat"
COMPONENT = re.compile("^" + re.escape(codec.PREFIX + ":"))
OPENER = re.compile("^" + re.escape(codec.PREFIX + "e"))
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

    def seen(self, key: object) -> bool:
        if not isinstance(key, str) or not key:
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


@dataclass(frozen=True, slots=True)
class Clicked:
    """The message a click (or the modal it opened) came from."""

    channel: str = ""
    ts: str = ""
    blocks: Sequence[Json] = ()


@dataclass(frozen=True, slots=True)
class Turn:
    """One request as a listener sees it: what bolt injects and what the middleware found."""

    body: dict[str, Any]
    context: AsyncBoltContext
    client: AsyncWebClient
    respond: AsyncRespond | None

    @property
    def person(self) -> ev.UserRef:
        person = self.context.get(PERSON)
        assert isinstance(person, ev.UserRef)
        return person

    @property
    def retried(self) -> bool:
        return bool(self.context.get(RETRY))

    @property
    def repeated(self) -> bool:
        return bool(self.context.get(REPEAT))

    @property
    def action(self) -> Json:
        actions = self.body.get("actions") or [{}]
        return actions[0] if isinstance(actions[0], Mapping) else {}

    @property
    def event(self) -> Json:
        event = self.body.get("event")
        return event if isinstance(event, Mapping) else {}

    @property
    def from_home(self) -> bool:
        """Whether a click came from the person's App Home (no message to update)."""
        view = self.body.get("view")
        return isinstance(view, Mapping) and view.get("type") == "home"

    @property
    def clicked(self) -> Clicked:
        container = self.body.get("container") or {}
        channel = container.get("channel_id") or (self.body.get("channel") or {}).get("id")
        blocks = (self.body.get("message") or {}).get("blocks") or ()
        return Clicked(str(channel or ""), str(container.get("message_ts") or ""), blocks)


AckStep = Callable[[AsyncAck, Turn], Awaitable[bool]]
Work = Callable[[Turn], Coroutine[Any, Any, None]]


def picked(turn: Turn) -> tuple[tuple[str, ...], str]:
    """What a click picked: option values for the core, and their labels in words.

    A select sends its option; a Submit button (or any button) sends the multi selects
    of its message that carry the same action_id, gathered from the message state.
    """
    action = turn.action
    selected = action.get("selected_option")
    if isinstance(selected, Mapping):
        return (str(selected.get("value") or ""),), _text(selected)
    action_id = action.get("action_id")
    values: list[str] = []
    labels: list[str] = []
    state = ((turn.body.get("state") or {}).get("values")) or {}
    for elements in state.values():
        element = (elements or {}).get(action_id) or {}
        for option in element.get("selected_options") or ():
            values.append(str(option.get("value") or ""))
            labels.append(_text(option))
    if labels:
        return tuple(values), ", ".join(labels)
    return (), _text(action) or "nothing selected"


def _error(exc: BaseException) -> str:
    if isinstance(exc, SlackApiError):
        return str(exc.response.get("error") or type(exc).__name__)
    return type(exc).__name__


def _text(obj: Json) -> str:
    text = obj.get("text")
    return str(text.get("text") or "") if isinstance(text, Mapping) else str(text or "")


def typed_dm(event: Json, bot_user_id: str | None) -> str | None:
    """The text a person typed in their DM with the bot, or None for any other message.

    Ignored: other channels, the bot's own messages (and any bot's: ``bot_id``), every
    ``subtype`` (message_changed, message_deleted, bot_message, channel_join, file_share…),
    hidden events, and messages with no text.
    """
    if event.get("type") != "message" or event.get("channel_type") != "im":
        return None
    if event.get("subtype") or event.get("bot_id") or event.get("hidden"):
        return None
    user = event.get("user")
    if not user or user == bot_user_id:
        return None
    text = typed_text(str(event.get("text") or ""))
    return text if text.strip() else None


def reason(reply: Reply) -> str:
    """What a modal shows under its text box for an INVALID (or REFUSED) reply: the core
    puts the reason first (the first paragraph of the first card)."""
    for card in reply.cards[:1]:
        for section in card.basic():
            if isinstance(section, Prose):
                return clip(section.text, cards.LIMITS.error)
    return clip(reply.text(), cards.LIMITS.error) or "Please check your answer."


class Listeners:
    """Every Slack listener, bound to one runtime; no per-person state in memory."""

    def __init__(self, rt: Runtime, courier: Courier) -> None:
        self.rt = rt
        self.engine = rt.engine
        self.courier = courier
        self.command = rt.settings.slack_command
        self.recent = RecentIds()
        self._zones: dict[tuple[str, str], str | None] = {}
        self.lanes = Lanes()  # typed DMs: one person's in order, people concurrently
        self._work: set[asyncio.Task[None]] = set()
        self._idle = asyncio.Event()
        self._idle.set()

    # ------------------------------------------------------------------ bolt's mechanisms

    async def envelope(
        self,
        context: AsyncBoltContext,
        body: dict[str, Any],
        request: AsyncBoltRequest,
        next_: Callable[[], Awaitable[BoltResponse]],
    ) -> BoltResponse:
        """Global middleware: who it is, whether Slack retries, whether it was seen here."""
        team = context.team_id or context.enterprise_id or ""
        context[PERSON] = ev.UserRef(PLATFORM, team, context.user_id or "")
        context[RETRY] = _retry_num(request)
        # An interaction is one trigger_id; an event (a typed DM) one event_id, the same
        # on Slack's retries and Socket Mode redeliveries.
        context[REPEAT] = self.recent.seen(body.get("trigger_id") or body.get("event_id"))
        return await next_()

    def listener(self, *, ack: AckStep, lazy: Sequence[Work]) -> Callable[..., Awaitable[None]]:
        """A bolt listener of the lazy shape: ``ack`` answers Slack (and says whether there is
        more to do), then each ``lazy`` step runs after the ack, tracked; a request this
        process has already handled is acknowledged again and not worked on twice."""

        first = ack

        async def listener(
            ack: AsyncAck,
            body: dict[str, Any],
            context: AsyncBoltContext,
            client: AsyncWebClient,
            respond: AsyncRespond,
        ) -> None:
            turn = Turn(body, context, client, respond)
            if await first(ack, turn) and not turn.repeated:
                for step in lazy:
                    self.spawn(step(turn))

        return listener

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
        return await until_idle(self._idle, timeout)

    # ------------------------------------------------------------------ the core

    async def safely(self, call: Awaitable[Reply]) -> Reply:
        """One core call; a failure becomes a polite card (the log keeps the details)."""
        try:
            return await call
        except StoreUnavailable as exc:
            text = f"{exc} Nothing you already told me is lost."
            return Reply(outcome=Outcome.UNAVAILABLE, cards=(notice(text, Tone.ERROR),))
        except Exception:
            log.exception("slack: the core failed")
            return Reply(outcome=Outcome.UNAVAILABLE, cards=(notice(OOPS, Tone.ERROR),))

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

    # ------------------------------------------------------------------ replies

    async def tell(self, respond: AsyncRespond | None, card: Card) -> None:
        """An ephemeral reply through the request's response_url (only the asker sees it)."""
        if respond is None:
            return
        post = cards.post(card)
        try:
            await respond(
                text=post.text,
                blocks=post.blocks,
                response_type="ephemeral",
                replace_original=False,
            )
        except _API_ERRORS as exc:
            log.error("slack response_url post failed: %s", type(exc).__name__)

    async def report(self, respond: AsyncRespond | None, failure: Failure | None) -> None:
        """Tell the person a reply could not be delivered (already logged by the courier)."""
        if failure is None:
            return
        await self.tell(
            respond,
            notice(
                f"I could not deliver my reply (Slack said: {failure.error}). Nothing you "
                f"told me is lost: use {self.command} resume in a moment to see where we are.",
                Tone.ERROR,
            ),
        )

    async def after_click(self, turn: Turn, at: Clicked, reply: Reply, chosen: str) -> None:
        """Show a click's Reply, by its outcome (see the module docstring)."""
        client, team = turn.client, turn.person.tenant
        if reply.outcome is Outcome.REFUSED:
            for card in reply.cards:
                await self.tell(turn.respond, card)
            return
        if reply.outcome is Outcome.STALE and turn.retried:
            # A redelivery of a click another delivery already applied: say nothing twice.
            log.info("slack: redelivered click in team %s was already applied", team)
            return
        rest = list(reply.cards)
        if at.channel and at.ts:
            if reply.outcome is Outcome.APPLIED:
                if reply.receipt is not None:
                    receipt = cards.post(reply.receipt)
                else:
                    receipt = SlackPost(fit(chosen, 3000), cards.closed(at.blocks, chosen))
                await self.courier.update(client, at.channel, at.ts, receipt, team=team)
            elif reply.outcome is Outcome.INVALID and rest and rest[0].interactive():
                # asked again with the reason: in place of the message that was answered
                await self.courier.update(client, at.channel, at.ts, cards.post(rest[0]), team=team)
                rest = rest[1:]
        if rest and at.channel:
            failure = await self.courier.send(client, at.channel, render(rest), team=team)
            await self.report(turn.respond, failure)

    # ------------------------------------------------------------------ /advise

    async def ack_command(self, ack: AsyncAck, turn: Turn) -> bool:
        parsed = parse(str(turn.body.get("text") or ""))
        if parsed.kind is Kind.HELP:
            post = cards.post(help_card(self.command))
            await ack(text=post.text, blocks=post.blocks)
            return False
        if parsed.kind is Kind.INVALID:
            await ack(text=fit(parsed.error, 2000))
            return False
        if parsed.kind in ADMIN_KINDS:
            await ack()
            return True
        person = turn.person
        in_dm = self.courier.cached_dm(person.tenant, person.user_id) == turn.body.get("channel_id")
        await ack() if in_dm else await ack(text=ACK_DM)
        return True

    async def run_command(self, turn: Turn) -> None:
        parsed = parse(str(turn.body.get("text") or ""))
        if parsed.kind in ADMIN_KINDS:
            await self.settings(parsed, turn)
            return
        person = turn.person
        # The DM lookup and the core turn do not depend on each other: run them together.
        dm = asyncio.ensure_future(
            self.courier.dm_channel(turn.client, person.tenant, person.user_id)
        )
        try:
            reply = await self.safely(self.command_reply(parsed, person))
        finally:
            channel = await dm
        if channel is None:
            await self.tell(
                turn.respond,
                notice(
                    "I could not open a direct message with you. Your progress is saved; "
                    "please check that apps may message you, then try again.",
                    Tone.ERROR,
                ),
            )
            return
        failure = await self.courier.send(
            turn.client, channel, render(reply.cards), team=person.tenant
        )
        await self.report(turn.respond, failure)

    async def command_reply(self, parsed: Parsed, person: ev.UserRef) -> Reply:
        if parsed.kind is Kind.COMMAND:
            command = it.Command(name=parsed.command)
            return await self.engine.act(person, command, playbook_id=parsed.playbook)
        event = setting_event(parsed, person)
        if event is not None:
            return await self.engine.handle(event)
        try:  # the bare command: continue, or start
            has_open = await self.engine.has_open_consultation(person)
        except StoreUnavailable:
            has_open = False  # start reports the outage politely
        return await self.engine.act(person, it.Command(name="resume" if has_open else "start"))

    async def settings(self, parsed: Parsed, turn: Turn) -> None:
        """Workspace settings: only for admins and owners, as users.info reports them."""
        team, user = turn.person.tenant, turn.person.user_id
        try:
            info = await turn.client.users_info(user=user)
            member = info.get("user") or {}
        except _API_ERRORS as exc:
            log.warning("slack users.info failed for team %s: %s", team, type(exc).__name__)
            await self.tell(
                turn.respond,
                notice(
                    "I could not check your permissions right now, so nothing was changed. "
                    "Please try again in a moment.",
                    Tone.WARNING,
                ),
            )
            return
        if not (member.get("is_admin") or member.get("is_owner") or member.get("is_primary_owner")):
            await self.tell(
                turn.respond,
                notice(
                    "Only workspace admins and owners can see or change Crossroads settings.",
                    Tone.WARNING,
                ),
            )
            return
        if parsed.kind is Kind.STATS:
            await self.stats(parsed, turn)
            return
        if parsed.kind in MENTOR_KINDS:
            call = mentor_admin(self.engine, parsed, team)
        elif parsed.kind is Kind.SET_PLAYBOOK and parsed.playbook:
            call = self.engine.set_tenant_playbook(PLATFORM, team, parsed.playbook)
        elif parsed.kind is Kind.SET_CHECKINS:
            call = self.engine.set_tenant_checkin_defaults(
                PLATFORM,
                team,
                cadence_days=parsed.cadence_days,
                timezone=parsed.timezone,
                quiet_hours=parsed.quiet_hours,
            )
        else:
            call = self.engine.tenant_overview(PLATFORM, team)
        reply = await self.safely(call)
        if parsed.kind is not Kind.SETTINGS:
            log.info(
                "slack admin %s used %s in team %s: %s",
                user,
                parsed.kind.value,
                team,
                reply.outcome.value,
            )
        for card in reply.cards:
            await self.tell(turn.respond, card)

    async def stats(self, parsed: Parsed, turn: Turn) -> None:
        """The workspace's statistics, for an admin already checked: tables, the chart
        (uploaded with files_upload_v2) and the CSV go to the admin's DM, not the channel;
        the command's channel gets an ephemeral pointer. Without a DM the tables come
        ephemerally (a response_url carries no file) with a line saying so."""
        team, user = turn.person.tenant, turn.person.user_id
        dm = asyncio.ensure_future(self.courier.dm_channel(turn.client, team, user))
        try:
            reply = await self.safely(
                self.engine.tenant_stats(PLATFORM, team, chart=True, csv=parsed.csv)
            )
        finally:
            channel = await dm
        log.info("slack admin %s used stats in team %s: %s", user, team, reply.outcome.value)
        if channel is not None:
            failure = await self.courier.send(turn.client, channel, render(reply.cards), team=team)
            if failure is None:
                if turn.body.get("channel_id") != channel:
                    await self.tell(turn.respond, notice(STATS_SENT))
                return
            text = f"I could not deliver the statistics (Slack said: {failure.error}). Try again."
            await self.tell(turn.respond, notice(text, Tone.ERROR))
            return
        for card in reply.cards:
            if card.attachment is None:
                await self.tell(turn.respond, card)
        await self.tell(turn.respond, notice(STATS_NO_DM, Tone.WARNING))

    # ------------------------------------------------------------------ components

    async def ack_click(self, ack: AsyncAck, turn: Turn) -> bool:
        """Every button and select: ack; a change in a multi select waits for its Submit."""
        await ack()
        action = turn.action
        if action.get("type") == "multi_static_select":
            return False
        return codec.decode(action.get("action_id")) is not None

    async def run_click(self, turn: Turn) -> None:
        intent = codec.decode(turn.action.get("action_id"))
        if intent is None:
            return
        person = turn.person
        values, chosen = picked(turn)
        zone = await self.platform_timezone(turn.client, person.tenant, person.user_id)
        click = Click(values=values, platform_timezone=zone)
        reply = await self.safely(self.engine.act(person, intent, click))
        if turn.from_home:
            await self.after_home_click(turn, reply)
        else:
            await self.after_click(turn, turn.clicked, reply, chosen)

    async def after_home_click(self, turn: Turn, reply: Reply) -> None:
        """A button in the App Home: the cards go to the person's DM (the consultation
        continues there), then the home is published again (it may have changed)."""
        person = turn.person
        channel = await self.courier.dm_channel(turn.client, person.tenant, person.user_id)
        if channel is not None and reply.cards:
            await self.courier.send(turn.client, channel, render(reply.cards), team=person.tenant)
        await self.publish_home(turn)

    async def ack_opener(self, ack: AsyncAck, turn: Turn) -> bool:
        await ack()
        return codec.decode_opener(turn.action.get("action_id")) is not None

    async def open_text_box(self, turn: Turn) -> None:
        """A text box's button: the modal is the first response (its trigger_id lives 3 s)."""
        raw = str(turn.action.get("action_id") or "")
        opener = codec.decode_opener(raw)
        if opener is None:
            return
        at = turn.clicked
        metadata = json.dumps({"i": raw, "c": at.channel, "t": at.ts}, separators=(",", ":"))
        view = cards.text_modal(
            opener, str(turn.action.get("value") or ""), metadata, cards.text_blocks(at.blocks)
        )
        try:
            await turn.client.views_open(trigger_id=str(turn.body.get("trigger_id")), view=view)
        except _API_ERRORS as exc:
            log.error("slack views.open failed: %s", type(exc).__name__)
            await self.tell(
                turn.respond,
                notice("I could not open the text box; please press the button again."),
            )

    async def on_text_submit(
        self,
        ack: AsyncAck,
        body: dict[str, Any],
        view: dict[str, Any],
        context: AsyncBoltContext,
        client: AsyncWebClient,
    ) -> None:
        """A text box's answer: INVALID → the reason in the modal; otherwise it closes and
        the DM shows the rest. Acks within VIEW_ACK_BUDGET whatever the core does."""
        try:
            meta = json.loads(str(view.get("private_metadata") or ""))
        except ValueError:
            meta = {}
        opener = codec.decode_opener(meta.get("i") if isinstance(meta, dict) else None)
        turn = Turn(body, context, client, None)
        if opener is None or turn.repeated:
            await ack()
            return
        values = (view.get("state") or {}).get("values") or {}
        text = str(((values.get(TEXT_BLOCK) or {}).get(TEXT_ACTION) or {}).get("value") or "")
        person = turn.person
        shown = [b for b in view.get("blocks") or () if b.get("block_id") != TEXT_BLOCK]
        at = Clicked(str(meta.get("c") or ""), str(meta.get("t") or ""), shown)

        async def answer() -> Reply:
            zone = await self.platform_timezone(client, person.tenant, person.user_id)
            click = Click(text=text, platform_timezone=zone)
            return await self.safely(self.engine.act(person, opener.intent, click))

        core = asyncio.ensure_future(answer())

        async def finish() -> None:
            await self.after_click(turn, at, await core, text.strip() or "nothing")

        try:
            reply = await asyncio.wait_for(asyncio.shield(core), VIEW_ACK_BUDGET)
        except TimeoutError:
            await ack()  # too slow for the modal: close it, the DM gets the outcome
            self.spawn(finish())
            return
        if reply.outcome in (Outcome.INVALID, Outcome.REFUSED):
            # shown under the text box: the person can correct it (or sees it is not theirs)
            await ack(response_action="errors", errors={TEXT_BLOCK: reason(reply)})
            return
        await ack()
        self.spawn(finish())

    # ------------------------------------------------------------------ typed DMs

    async def ack_message(self, ack: AsyncAck, turn: Turn) -> bool:
        """Every message event is acknowledged; only text a person typed in the DM is ours."""
        await ack()
        return typed_dm(turn.event, turn.context.bot_user_id) is not None

    async def run_message(self, turn: Turn) -> None:
        """Queue the typed text in the person's lane and wait until it was answered."""
        person = turn.person
        done = self.lanes.submit((person.tenant, person.user_id), lambda: self.answer_dm(turn))
        if done is not None:
            await asyncio.shield(done)

    async def answer_dm(self, turn: Turn) -> None:
        """One typed DM: ``ev.Typed`` to the core, the Reply's cards back into the DM."""
        text = typed_dm(turn.event, turn.context.bot_user_id)
        channel = str(turn.event.get("channel") or "")
        if text is None or not channel:
            return
        person = turn.person
        self.courier.remember_dm(person.tenant, person.user_id, channel)
        zone = await self.platform_timezone(turn.client, person.tenant, person.user_id)
        typed = ev.Typed(user=person, text=text, platform_timezone=zone)
        reply = await self.safely(self.engine.handle(typed))
        await self.courier.send(turn.client, channel, render(reply.cards), team=person.tenant)

    # ------------------------------------------------------------------ App Home

    async def ack_home(self, ack: AsyncAck, turn: Turn) -> bool:
        await ack()
        event = turn.event
        if event.get("tab") == "messages" and event.get("channel") and event.get("user"):
            # the person opened the DM: remember its id (saves a conversations.open later)
            person = turn.person
            self.courier.remember_dm(person.tenant, person.user_id, str(event["channel"]))
        return event.get("tab") == "home" and bool(event.get("user"))

    async def publish_home(self, turn: Turn) -> None:
        """views.publish the person's App Home: the core's overview as Block Kit."""
        person = turn.person
        reply = await self.safely(self.engine.home(person))
        try:
            await turn.client.views_publish(
                user_id=person.user_id, view=cards.home_view(reply.cards)
            )
        except _API_ERRORS as exc:
            log.error(
                "slack views.publish failed for team %s: %s",
                person.tenant,
                _error(exc),
            )

    @staticmethod
    async def on_other(ack: AsyncAck) -> None:
        """Anything that is not ours: ack, nothing else."""
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
        # The ack part returns at once (the rest goes to Listeners.spawn), so the response
        # can go out when it returns, instead of after bolt's 10 ms ack polling.
        process_before_response=True,
    )
    on = listeners or Listeners(rt, Courier())
    app.middleware(on.envelope)
    app.command(rt.settings.slack_command)(on.listener(ack=on.ack_command, lazy=[on.run_command]))
    app.action(COMPONENT)(on.listener(ack=on.ack_click, lazy=[on.run_click]))
    app.action(OPENER)(on.listener(ack=on.ack_opener, lazy=[on.open_text_box]))
    app.action(re.compile(".*"))(on.on_other)  # not ours: ack only
    app.view(TEXT_CALLBACK)(on.on_text_submit)
    app.event("message")(on.listener(ack=on.ack_message, lazy=[on.run_message]))
    app.event("app_home_opened")(on.listener(ack=on.ack_home, lazy=[on.publish_home]))
    app.error(on.on_error)
    if oauth_settings is not None:
        app.enable_token_revocation_listeners()
    return app
