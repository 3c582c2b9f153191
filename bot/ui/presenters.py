"""Core results presented as cards: the only place that knows how each result looks.

Every adapter renders the cards generically, so the recommendation, a question, a check-in
or a notice reads the same on every platform (only the medium differs). Budgets are kept
here (``bot/ui/budgets.py``), never by cutting in an adapter.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace

from bot.checkins import texts as checkin_texts
from bot.core.reply import Reply
from bot.core.result import Result
from bot.mentors import texts as mentor_texts
from bot.messages import (
    Answerable,
    AnyMessage,
    CheckInAsked,
    CheckInCatchUp,
    CheckInList,
    CheckInOffer,
    CheckInPrompt,
    CheckInView,
    Confirm,
    ExportFile,
    Home,
    Level,
    MentorAsked,
    MentorBoardCard,
    MentorConsent,
    MentorIntro,
    MentorNote,
    MentorOffer,
    MentorStatus,
    MentorSummary,
    Notice,
    OfferAsked,
    PathAdvice,
    PathDetail,
    Plan,
    PlanItemView,
    Question,
    QuestionKind,
    Recommendation,
    ReminderMessage,
    RescheduleQuestion,
    RevisitOffer,
    RouteChart,
    StatsReport,
    Status,
    Text,
    TimezoneQuestion,
    Understood,
    WhenKind,
)
from bot.ports import Notification
from bot.ui import intents as it
from bot.ui.blocks import (
    action,
    actions,
    bullets,
    due_words,
    fields,
    notice,
    option,
    pack,
    prose,
    steps,
)
from bot.ui.budgets import (
    ACTIONS_MAX,
    CONTEXT_MAX,
    HEADING_MAX,
    LABEL_MAX,
    OPTIONS_MAX,
    TITLE_MAX,
    clip,
)
from bot.ui.cards import (
    Action,
    Actions,
    Attachment,
    Card,
    Choices,
    Context,
    Section,
    Style,
    TextEntry,
    Tone,
)
from bot.ui.stats import route_chart
from bot.ui.stats import stats as present_stats

TONES = {
    Level.INFO: Tone.INFO,
    Level.SUCCESS: Tone.SUCCESS,
    Level.WARNING: Tone.WARNING,
    Level.ERROR: Tone.ERROR,
}
WHEN_FMT = "%a %d %b %Y, %H:%M"
OFFER_TITLE = "Shall I check in with you on your plan?"
CHECKIN_TITLE = "Check-in: how is it going?"


# ---------------------------------------------------------------- consultation


def _scale_label(q: Question, n: int) -> str:
    if n == q.scale_min and q.scale_low_label:
        return f"{n} · {q.scale_low_label}"
    if n == q.scale_max and q.scale_high_label:
        return f"{n} · {q.scale_high_label}"
    return str(n)


def question_answer(q: Question) -> Section:
    """The interactive part of a question: choices, a scale, or a text box."""
    intent = it.AnswerQuestion(consultation=q.consultation_id, step=q.step)
    if q.kind == QuestionKind.FREE_TEXT:
        return TextEntry(
            intent=intent,
            label=clip(q.prompt, HEADING_MAX),
            max_length=q.max_length,
            optional=q.optional,
            current=q.current if isinstance(q.current, str) else "",
            button="Change your answer" if q.current else "Type your answer",
            multiline=q.multiline,
        )
    if q.kind == QuestionKind.SCALE:
        options = tuple(
            option(str(n), _scale_label(q, n)) for n in range(q.scale_min, q.scale_max + 1)
        )
        current = (str(q.current),) if isinstance(q.current, int) else ()
        return Choices(intent=intent, options=options, current=current, numbered=False)
    chosen = q.current if isinstance(q.current, list) else [q.current] if q.current else []
    multi = q.kind == QuestionKind.MULTI_CHOICE
    return Choices(
        intent=intent,
        options=tuple(option(c.id, c.label, c.description) for c in q.choices[:OPTIONS_MAX]),
        min_picks=q.min_choices if multi else 1,
        max_picks=q.max_choices if multi else 1,
        current=tuple(str(c) for c in chosen),
        placeholder="Pick all that apply" if multi else "Pick one",
    )


def question(q: Question) -> Card:
    sections: list[Section] = []
    if q.error:
        sections += prose(q.error)
    sections += prose(q.prompt)
    if q.help:
        sections.append(Context(text=clip(q.help, CONTEXT_MAX)))
    if q.current is not None and q.current_words():
        sections.append(Context(text=clip(f"Your answer so far: {q.current_words()}", CONTEXT_MAX)))
    sections.append(question_answer(q))
    if q.optional and (q.kind != QuestionKind.FREE_TEXT or q.multiline):
        skip = it.SkipQuestion(consultation=q.consultation_id, step=q.step)
        sections += actions([action("Skip this question", skip, "skip")])
    return Card(
        title=f"Question {q.position} of {q.total}",
        tone=Tone.WARNING if q.error else Tone.INFO,
        sections=tuple(sections),
    )


def answered(q: Question, words: str) -> Card:
    """What an answered question's message becomes (the receipt of an applied answer)."""
    return Card(
        title=f"Question {q.position} of {q.total}",
        tone=Tone.SUCCESS,
        sections=(
            *prose(q.prompt),
            Context(text=clip(f"Your answer: {words or 'skipped'}", CONTEXT_MAX)),
        ),
    )


def receipt(asked: Answerable, words: str) -> Card:
    """What a clicked message becomes once its click applied: what it asked, and the
    answer, with nothing left to click (so it cannot be answered twice)."""
    match asked:
        case Question():
            return answered(asked, words)
        case CheckInAsked():
            return Card(
                title=CHECKIN_TITLE,
                tone=Tone.SUCCESS,
                sections=(
                    *prose(asked.action),
                    Context(text=clip(f"You answered: {words}", CONTEXT_MAX)),
                ),
            )
        case OfferAsked():
            return Card(
                title=OFFER_TITLE,
                tone=Tone.SUCCESS,
                sections=(Context(text=clip(f"You chose: {words}", CONTEXT_MAX)),),
            )
        case Confirm():
            return Card(
                tone=Tone.SUCCESS,
                sections=(
                    *prose(asked.prompt),
                    Context(text=clip(f"You chose: {words}", CONTEXT_MAX)),
                ),
            )
        case MentorAsked():
            return mentor_receipt(asked, words)


def _path_sections(p: PathAdvice, *, full: bool) -> list[Section]:
    out: list[Section] = [*prose(p.summary)]
    out += bullets(p.reasons[: None if full else 2], "Why, for you")
    if full:
        out += bullets(p.pros, "Pros")
        out += bullets(p.cons, "Cons")
        out += bullets(p.risks, "Risks")
        out += steps(((s.text, s.due, "open") for s in p.next_steps), "Next steps")
    return out


def path_detail(d: PathDetail) -> list[Card]:
    if d.view is not None and d.advice is not None:
        from bot.ui.advice import present_path

        return present_path(d.view, d.advice)
    p = d.path
    return pack(clip(f"{p.rank}. {p.title}", TITLE_MAX), _path_sections(p, full=True))


def plan_sections(items: Sequence[PlanItemView]) -> list[Section]:
    return steps(((i.action, i.due, i.status) for i in items), "Your plan")


def recommendation(rec: Recommendation, plan: Plan | None) -> list[Card]:
    """The recommendation: the top path in full, the others in brief, the plan, details."""
    if not rec.paths:
        return [notice("None of the paths in this playbook fit your answers.", Tone.WARNING)]
    if rec.advice is not None:
        from bot.ui.advice import present_advice

        return present_advice(rec.advice, rec.consultation_id, plan.items if plan else None)
    top = rec.top
    main: list[Section] = [*prose(top.summary)]
    main += bullets(top.reasons, "Why, for you")
    main += bullets(top.pros, "Pros")
    main += bullets(top.cons, "Cons")
    main += bullets(top.risks, "Risks")
    main += bullets(rec.why_order, "Why this order")
    main += prose(rec.what_would_change, "What would change this")
    rest: list[Section] = []
    if len(rec.paths) > 1:
        rest += fields(
            ((f"{p.rank}. {p.title}", clip(p.summary, 400)) for p in rec.paths[1:]),
            "The other paths",
        )
    rest += bullets(rec.notes, "Also worth knowing")
    rest += bullets(rec.dropped, "Left out for you")
    if plan is not None and plan.items:
        rest += plan_sections(plan.items)
    details = [
        action(
            f"More on {p.rank}. {p.title}",
            it.OpenPath(consultation=rec.consultation_id, path=p.path_id),
            f"details {p.rank}",
        )
        for p in rec.paths[: ACTIONS_MAX * 3]
    ]
    rest += actions(details)
    return [
        *pack(clip(f"Best fit for you: {top.title}", TITLE_MAX), main),
        *pack("Your other options and your plan", rest),
    ]


def plan(p: Plan) -> Card:
    if not p.items:
        return notice("Your plan is empty.")
    return Card(sections=tuple(plan_sections(p.items)))


def status(s: Status) -> list[Card]:
    head = f"{s.state.capitalize()}: {s.position} of {s.total} questions answered."
    pairs = [(f"{i}. {a.prompt}", a.answer) for i, a in enumerate(s.answers, start=1)]
    return pack(clip(s.playbook_title, TITLE_MAX), [*prose(head), *fields(pairs)])


def understood(u: Understood) -> list[Card]:
    """What a story pre-filled, each item correctable (a pick, or ``edit N`` typed)."""
    if not u.items:
        return [notice(" ".join(x for x in (u.nothing, u.unsure_note) if x))]
    sections: list[Section] = [
        *prose(u.lead),
        *fields((item.prompt, item.answer) for item in u.items),
        *prose(u.correct),
        Choices(
            intent=it.Revisit(consultation=u.consultation_id),
            options=tuple(
                replace(option(item.question_id, item.prompt), typed=item.prompt.split(".")[0])
                for item in u.items[:OPTIONS_MAX]
            ),
            placeholder="Correct one of these",
            numbered=False,
            command="edit {value}",
        ),
    ]
    sections += prose(" ".join(x for x in (u.unsure_note, u.rest) if x))
    return pack("", sections, Tone.SUCCESS)


def text(t: Text) -> list[Card]:
    return pack(clip(t.title, TITLE_MAX), prose(t.text))


def confirm(c: Confirm) -> Card:
    return Card(
        tone=Tone.WARNING,
        sections=(
            *prose(c.prompt),
            Actions(
                items=(
                    action(
                        c.confirm_label,
                        it.ConfirmAction(action=c.action, yes=True),
                        "yes",
                        Style.DANGER,
                    ),
                    action(c.cancel_label, it.ConfirmAction(action=c.action, yes=False), "no"),
                )
            ),
        ),
    )


def export(f: ExportFile) -> Card:
    return Card(
        title="Everything I keep about you",
        sections=tuple(prose("It is in the attached Markdown file.")),
        attachment=Attachment(filename=f.filename, content=f.content, media_type=f.media_type),
    )


# ---------------------------------------------------------------- check-ins

_WHEN_TEXT = {
    WhenKind.IN_DAYS: ("In how many days?", "e.g. 10"),
    WhenKind.DATE: ("On which date? (YYYY-MM-DD, optionally HH:MM)", "e.g. 2027-01-15"),
}


def offer(o: CheckInOffer) -> Card:
    items = [f"{i.action}" + (f" ({due_words(i.due)})" if i.due else "") for i in o.items]
    zone = o.timezone if o.timezone_known else f"{o.timezone} for now; you can change it"
    direct = [
        action(
            c.label,
            it.ChooseCheckIns(consultation=o.consultation_id, when=str(c.id)),
            f"remind {c.id}",
            Style.PRIMARY if c.id == WhenKind.SUGGESTED else Style.DEFAULT,
        )
        for c in o.choices
        if c.id not in _WHEN_TEXT
    ]
    boxes: list[Section] = [
        TextEntry(
            intent=it.ChooseCheckIns(consultation=o.consultation_id, when=str(c.id)),
            label=_WHEN_TEXT[WhenKind(c.id)][0],
            placeholder=_WHEN_TEXT[WhenKind(c.id)][1],
            max_length=16,
            button=clip(c.label + "…", LABEL_MAX),
            command="remind {text}",
        )
        for c in o.choices
        if c.id in _WHEN_TEXT
    ]
    return Card(
        title=OFFER_TITLE,
        sections=(
            *bullets(items),
            Context(text=clip(f"Times are in {zone}.", CONTEXT_MAX)),
            *actions(direct),
            *boxes,
        ),
    )


def checkin_prompt(p: CheckInPrompt) -> Card:
    repeat = f" · every {p.repeat_days} days" if p.repeat_days else ""
    due = f"{p.due_local:{WHEN_FMT}} ({p.timezone})"
    return Card(
        title=CHECKIN_TITLE,
        sections=(
            *prose(p.action),
            Context(text=clip(f"Check-in #{p.checkin_id} · due {due}{repeat}", CONTEXT_MAX)),
            Choices(
                intent=it.ReplyCheckIn(checkin=p.checkin_id, occurrence=p.occurrence),
                options=tuple(option(str(c.id), c.label) for c in p.choices),
                placeholder="How is it going?",
            ),
        ),
    )


_CATCHUP_VERBS = {checkin_texts.SNOOZE_DAY: "snooze 1", checkin_texts.CANCEL: "cancel"}


def catchup(c: CheckInCatchUp) -> list[Card]:
    shown = c.items[:4]
    rows: list[Section] = []
    for m in shown:
        rows.append(
            Actions(
                items=tuple(
                    action(
                        f"{choice.label}: {m.action}",
                        it.CatchUp(action=str(choice.id), checkin=m.checkin_id),
                        f"checkin {m.checkin_id} {_CATCHUP_VERBS.get(str(choice.id), 'cancel')}",
                        Style.DANGER if choice.id == checkin_texts.CANCEL else Style.DEFAULT,
                    )
                    for choice in c.choices[:ACTIONS_MAX]
                )
            )
        )
    more = len(c.items) - len(shown)
    listing = [f"#{m.checkin_id} {m.action}" for m in c.items[len(shown) :]]
    tail = [Context(text=f"…and {more} more: see your check-ins.")] if more > 0 else []
    return pack("Check-ins I missed", [*prose(c.text), *bullets(listing), *rows, *tail])


def _list_line(v: CheckInView) -> tuple[str, str]:
    state = checkin_texts.STATE_WORDS.get(v.state, v.state)
    detail = f"{v.schedule} · {state}"
    if v.next_due_local is not None and v.state == "pending":
        detail += f" · next {v.next_due_local:{WHEN_FMT}}"
    if v.plan_status != "open":
        detail += f" · step {v.plan_status}"
    if v.last_error:
        detail += f" · {v.last_error}"
    return f"#{v.checkin_id} {v.action}", detail


_LIST_COMMANDS = {
    checkin_texts.SNOOZE_DAY: "checkin {value} snooze 1",
    checkin_texts.SNOOZE_WEEK: "checkin {value} snooze 7",
    checkin_texts.CHANGE: "checkin {value} change WHEN",
    checkin_texts.CANCEL: "checkin {value} cancel",
}


def checkin_list(lst: CheckInList) -> list[Card]:
    if not lst.items:
        return [notice("You have no check-ins. After a recommendation I offer them.")]
    options = tuple(option(str(v.checkin_id), f"#{v.checkin_id} {v.action}") for v in lst.items)
    pickers = [
        Choices(
            intent=it.ManageCheckIn(action=str(a.id)),
            options=options[:OPTIONS_MAX],
            placeholder=clip(f"{a.label}…", LABEL_MAX),
            numbered=False,
            command=_LIST_COMMANDS.get(str(a.id), ""),
        )
        for a in lst.actions[:4]
    ]
    zone = f"Time zone {lst.timezone} · quiet hours {lst.quiet_hours}"
    return pack(
        "Your check-ins",
        [
            *fields(_list_line(v) for v in lst.items),
            Context(text=clip(zone, CONTEXT_MAX)),
            *pickers,
        ],
    )


def reschedule(q: RescheduleQuestion) -> Card:
    """Asked after "change" on a check-in: the new time, as a choice or typed."""
    intent = it.RescheduleCheckIn(checkin=q.checkin_id)
    kinds = [c for c in checkin_texts.OFFER_CHOICES if c.id not in (*_WHEN_TEXT, "none")]
    command = f"checkin {q.checkin_id} change {{value}}"
    return Card(
        title=f"When should check-in #{q.checkin_id} come instead?",
        sections=(
            Choices(
                intent=intent,
                options=tuple(option(str(c.id), c.label) for c in kinds),
                numbered=False,
                command=command,
            ),
            TextEntry(
                intent=intent,
                label="In N days, or on a date (YYYY-MM-DD)",
                placeholder="e.g. 10 or 2027-01-15",
                max_length=16,
                button="Other time…",
                command=f"checkin {q.checkin_id} change {{text}}",
            ),
        ),
    )


def timezone_question(q: TimezoneQuestion) -> Card:
    options = tuple(option(z, z) for z in q.suggestions if 0 < len(z) <= LABEL_MAX)
    return Card(
        sections=(
            *prose(q.prompt),
            Context(text=clip(f"Now: {q.current}", CONTEXT_MAX)),
            Choices(
                intent=it.SetZone(),
                options=options,
                current=(q.current,),
                numbered=False,
                command="timezone {value}",
            ),
            TextEntry(
                intent=it.SetZone(),
                label="Your time zone (Area/City, e.g. Europe/Berlin)",
                max_length=64,
                button="Other…",
                command="timezone {text}",
            ),
        ),
    )


def revisit(r: RevisitOffer) -> Card:
    if not r.questions:
        return notice(r.prompt)
    return Card(
        sections=(
            *prose(r.prompt),
            Choices(
                intent=it.Revisit(consultation=r.consultation_id),
                options=tuple(
                    option(q.id, q.label, q.description) for q in r.questions[:OPTIONS_MAX]
                ),
                placeholder="Answer a question again",
                numbered=False,
                command="edit {value}",
            ),
        ),
    )


# ---------------------------------------------------------------- the home overview

HOME_NOTHING = (
    "You have no consultation yet. Start one: I ask about your background and goals, "
    "then weigh the routes open to you."
)
HOME_ROUTES = 3  # routes with a details button
HOME_STEPS = 3  # open plan steps shown
HOME_CHECKINS = 5


def _home_routes(rec: Recommendation) -> list[Action]:
    """A details button for each of the top routes, in rank order."""
    if rec.advice is not None:
        ranked = [(p.rank, p.title, p.path_id) for p in rec.advice.paths]
    else:
        ranked = [(p.rank, p.title, p.path_id) for p in rec.paths]
    return [
        action(
            f"More on {rank}. {title}",
            it.OpenPath(consultation=rec.consultation_id, path=path_id),
            f"details {rank}",
        )
        for rank, title, path_id in ranked[:HOME_ROUTES]
    ]


def _home_advice(rec: Recommendation) -> list[Section]:
    if rec.advice is not None and rec.advice.short_version:
        return prose(" ".join(rec.advice.short_version), rec.advice.headings.short)
    if rec.paths:
        return prose(rec.top.summary, f"Best fit for you: {rec.top.title}")
    return []


def home(h: Home) -> list[Card]:
    """The overview: where the consultation stands with a button to go on, the top of the
    advice (details buttons for the first routes) and plan, then the check-ins."""
    out: list[Card] = []
    s = h.status
    if s is None:
        start = action("Start a consultation", it.Command(name="start"), "start", Style.PRIMARY)
        out += pack("Your consultation", [*prose(HOME_NOTHING), *actions([start])])
    else:
        sections: list[Section] = []
        buttons: list[Action] = []
        if s.state == "active":
            sections += prose(f"In progress: question {h.question} of {h.total}.")
            resume = it.Command(name="resume")
            buttons.append(action("Continue the consultation", resume, "resume", Style.PRIMARY))
            if s.position:
                buttons.append(action("Your answers so far", it.Command(name="status"), "status"))
        else:
            sections += prose(f"Complete: {s.position} of {s.total} questions answered.")
            if h.recommendation is not None:
                sections += _home_advice(h.recommendation)
            buttons.append(action("Show the advice", it.Command(name="resume"), "resume"))
        if h.plan is not None:
            open_items = [i for i in h.plan.items if i.status == "open"]
            shown = sorted(open_items, key=lambda i: (i.due is None, i.due))[:HOME_STEPS]
            sections += plan_sections(shown)
            if len(open_items) > len(shown):
                more = len(open_items) - len(shown)
                steps_word = "step" if more == 1 else "steps"
                sections.append(Context(text=f"…and {more} more open {steps_word} in your plan."))
        sections += actions(buttons)
        if h.recommendation is not None:
            sections += actions(_home_routes(h.recommendation))
        out += pack(clip(s.playbook_title, TITLE_MAX), sections)
    if h.checkins is not None and h.checkins.items:
        listed = h.checkins.items[:HOME_CHECKINS]
        rest = len(h.checkins.items) - len(listed)
        manage = action("Manage your check-ins", it.Command(name="checkins"), "checkins")
        listing: list[Section] = [
            *fields(_list_line(v) for v in listed),
            Context(text=clip(f"Time zone {h.checkins.timezone}", CONTEXT_MAX)),
        ]
        if rest > 0:
            listing.append(Context(text=f"…and {rest} more."))
        out += pack("Your check-ins", [*listing, *actions([manage])])
    return out


# ---------------------------------------------------------------- mentor hand-off

MT = mentor_texts


def mentor_offer(o: MentorOffer) -> Card:
    ask = action(MT.OFFER_BUTTON, it.AskMentor(consultation=o.consultation_id), "mentor")
    return Card(title=MT.OFFER_TITLE, sections=(*prose(MT.OFFER_TEXT), *actions([ask])))


def summary_sections(summary: MentorSummary, *, yours: bool) -> list[Section]:
    """What is shared, in the same words on the consent card (``yours``), the board and the
    introduction: background answers, routes weighed, the short version, the questions."""
    out: list[Section] = fields(((a.prompt, a.answer) for a in summary.background), MT.BACKGROUND)
    out += bullets(summary.routes or (MT.NONE_GIVEN,), MT.YOUR_ROUTES if yours else MT.ROUTES)
    out += prose(summary.short_version or MT.NONE_GIVEN, MT.SHORT)
    questions = MT.YOUR_QUESTIONS if yours else MT.QUESTIONS
    out += bullets(summary.questions or (MT.NONE_GIVEN,), questions)
    return out


def mentor_consent(c: MentorConsent) -> list[Card]:
    buttons = [
        action(
            choice.label,
            it.ShareWithMentor(consultation=c.consultation_id, step=c.step, value=choice.id),
            f"mentor {choice.id}",
            Style.PRIMARY if choice.id == MT.SHARE else Style.DEFAULT,
        )
        for choice in MT.CONSENT_CHOICES
    ]
    sections = [
        *prose(MT.CONSENT_LEAD),
        *summary_sections(c.summary, yours=True),
        Context(text=clip(MT.CONSENT_NOTHING_ELSE, CONTEXT_MAX)),
        *actions(buttons),
    ]
    return pack(MT.CONSENT_TITLE, sections, Tone.WARNING)


def mentor_status(st: MentorStatus) -> Card:
    words = MT.STATUS_WORDS.get(st.state, st.state)
    if st.copy_checkins and st.state in ("requested", "released", "claimed"):
        words += MT.SHARED_COPY
    sections: list[Section] = [*prose(words)]
    if st.state in ("requested", "released", "claimed"):
        withdraw = it.WithdrawRequest(request=st.request_id)
        sections += actions([action(MT.WITHDRAW_BUTTON, withdraw, "mentor withdraw")])
    return Card(title=MT.STATUS_TITLE, sections=tuple(sections))


def mentor_board(b: MentorBoardCard) -> list[Card]:
    if b.state not in ("requested", "released"):
        return [
            Card(title=MT.BOARD_TAKEN_TITLE, tone=Tone.SUCCESS, sections=(*prose(MT.BOARD_TAKEN),))
        ]
    lead = MT.BOARD_LEAD.format(playbook=b.summary.playbook_title)
    claim = action(MT.CLAIM_BUTTON, it.ClaimRequest(request=b.request_id), "", Style.PRIMARY)
    sections: list[Section] = [*prose(lead)]
    if b.resurfaced:
        sections.append(Context(text=MT.BOARD_AGAIN))
    sections += [*summary_sections(b.summary, yours=False), *actions([claim])]
    return pack(MT.BOARD_TITLE, sections)


def mentor_intro(i: MentorIntro) -> list[Card]:
    if i.state != "claimed":
        ended = MT.INTRO_ENDED.get(i.state, MT.INTRO_ENDED["requested"])
        return [Card(title=MT.INTRO_TITLE, sections=(*prose(ended),))]
    buttons = [
        action(MT.RELEASE_BUTTON, it.ReleaseRequest(request=i.request_id)),
        action(MT.WITHDRAW_INTRO_BUTTON, it.WithdrawRequest(request=i.request_id)),
        action(MT.CLOSE_BUTTON, it.CloseRequest(request=i.request_id)),
    ]
    sections: list[Section] = [*prose(MT.INTRO_LEAD), *summary_sections(i.summary, yours=False)]
    if i.copy_checkins:
        sections.append(Context(text=MT.INTRO_COPY))
    return pack(MT.INTRO_TITLE, [*sections, *actions(buttons)], Tone.SUCCESS)


def mentor_note(n: MentorNote) -> Card:
    answer = Context(text=clip(MT.NOTE_ANSWER.format(answer=n.answer), CONTEXT_MAX))
    return Card(title=MT.NOTE_TITLE, sections=(*prose(n.action), answer))


def mentor_receipt(asked: MentorAsked, words: str) -> Card:
    """What a clicked hand-off message becomes once the click applied."""
    if asked.where == "board":
        return mentor_board(
            MentorBoardCard(asked.ident, "claimed", MentorSummary("", (), (), "", ()))
        )[0]
    if asked.where == "intro":
        return Card(title=MT.INTRO_TITLE, tone=Tone.SUCCESS, sections=(*prose(words),))
    title = MT.CONSENT_TITLE if asked.where == "consent" else MT.STATUS_TITLE
    return Card(
        title=title,
        tone=Tone.SUCCESS,
        sections=(Context(text=clip(f"You chose: {words}", CONTEXT_MAX)),),
    )


# ---------------------------------------------------------------- any result


def present(messages: Sequence[AnyMessage]) -> list[Card]:
    """Every result as cards, in order (a plan right after its recommendation joins it)."""
    out: list[Card] = []
    skip_plan = False
    for i, m in enumerate(messages):
        match m:
            case Recommendation():
                nxt = messages[i + 1] if i + 1 < len(messages) else None
                out += recommendation(m, nxt if isinstance(nxt, Plan) else None)
                skip_plan = isinstance(nxt, Plan)
                continue
            case Plan():
                if not skip_plan:
                    out.append(plan(m))
            case Text():
                out += text(m)
            case Notice():
                out.append(notice(m.text, TONES[m.level]))
            case Question():
                out.append(question(m))
            case PathDetail():
                out += path_detail(m)
            case Status():
                out += status(m)
            case Understood():
                out += understood(m)
            case Confirm():
                out.append(confirm(m))
            case ExportFile():
                out.append(export(m))
            case CheckInOffer():
                out.append(offer(m))
            case CheckInPrompt():
                out.append(checkin_prompt(m))
            case CheckInCatchUp():
                out += catchup(m)
            case CheckInList():
                out += checkin_list(m)
            case TimezoneQuestion():
                out.append(timezone_question(m))
            case RevisitOffer():
                out.append(revisit(m))
            case RescheduleQuestion():
                out.append(reschedule(m))
            case Home():
                out += home(m)
            case StatsReport():
                out += present_stats(m)
            case RouteChart():
                out.append(route_chart(m))
            case MentorOffer():
                out.append(mentor_offer(m))
            case MentorConsent():
                out += mentor_consent(m)
            case MentorStatus():
                out.append(mentor_status(m))
            case MentorBoardCard():
                out += mentor_board(m)
            case MentorIntro():
                out += mentor_intro(m)
            case MentorNote():
                out.append(mentor_note(m))
        skip_plan = False
    return out


def reply(res: Result) -> Reply:
    """A feature's result as the Reply adapters render."""
    shown_instead = receipt(*res.answered) if res.answered is not None else None
    awaiting = ""
    for m in res.messages:
        if isinstance(m, Question):
            awaiting = m.question_id
        elif isinstance(m, Confirm):
            awaiting = f"confirm:{m.action}"
        elif isinstance(m, MentorConsent):
            awaiting = "confirm:mentor"
    return Reply(
        outcome=res.outcome,
        cards=tuple(present(res.messages)),
        receipt=shown_instead,
        finished=any(isinstance(m, Recommendation) for m in res.messages),
        awaiting=awaiting,
    )


def notification(message: ReminderMessage) -> Notification:
    """A due check-in (or the catch-up note) as the cards a sender posts."""
    return Notification(
        cards=tuple(present([message])), redelivery=message.redelivery, source=message
    )
