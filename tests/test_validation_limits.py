"""Every limit the answer parser enforces, tried at exactly the limit and one past it.

A person who types an answer of exactly the allowed length, or picks exactly the allowed
number of options, must be accepted; one more must be refused with a message that says
what is expected (never silently cut, never a different option).
"""

from __future__ import annotations

from typing import Any

import pytest

from bot import events as ev
from bot.messages import QuestionKind
from bot.playbook.schema import PlaybookQuestion, Wording
from bot.validation import (
    BAD_EVENT,
    MAX_ID,
    Invalid,
    clean_text,
    event_problem,
    parse_answer,
    whole_number,
)

W = Wording()


def question(kind: str, **fields: Any) -> PlaybookQuestion:
    data: dict[str, Any] = {"id": "q", "kind": kind, "prompt": "Question?", **fields}
    if kind in ("single_choice", "multi_choice") and "choices" not in fields:
        data["choices"] = [
            {"id": "code", "label": "Coding"},
            {"id": "maths", "label": "Maths"},
            {"id": "writing", "label": "Writing"},
            {"id": "design", "label": "Design"},
        ]
    return PlaybookQuestion.model_validate(data)


# ------------------------------------------------------------------------------ free text


@pytest.mark.parametrize(("max_length", "max_text"), [(100, 2000), (2000, 100), (50, 50)])
def test_free_text_of_exactly_the_limit_is_kept_and_one_more_is_refused(
    max_length: int, max_text: int
) -> None:
    q = question("free_text", max_length=max_length)
    limit = min(max_length, max_text)
    assert parse_answer(q, "x" * limit, W, max_text) == "x" * limit
    refused = parse_answer(q, "x" * (limit + 1), W, max_text)
    assert isinstance(refused, Invalid)
    assert refused.reason == (
        f"That is {limit + 1} characters; please keep it to {limit} or fewer."
    )


def test_a_playbooks_own_too_long_wording_is_used_as_written() -> None:
    q = question("free_text", max_length=10)
    wording = Wording(too_long="Trop long ({length}/{max}).")
    refused = parse_answer(q, "x" * 11, wording, 2000)
    assert refused == Invalid("Trop long (11/10).")


def test_free_text_is_cleaned_before_it_is_measured() -> None:
    q = question("free_text", max_length=5)
    # Control characters and surrounding spaces do not count against the limit.
    assert parse_answer(q, "  ab\x00cde \u202e ", W, 2000) == "abcde"
    assert parse_answer(q, "e\u0301" * 5, W, 2000) == "\u00e9" * 5  # NFC: 5 characters


def test_an_optional_free_text_skipped_by_word_or_by_nothing() -> None:
    q = question("free_text", optional=True)
    assert parse_answer(q, "skip", W, 2000) is None
    assert parse_answer(q, "Skip", W, 2000) is None
    assert parse_answer(q, "", W, 2000) is None
    assert parse_answer(q, "none", W, 2000) == "none"  # typed text, kept as typed
    required = question("free_text")
    assert parse_answer(required, "skip", W, 2000) == "skip"
    assert parse_answer(required, "   ", W, 2000) == Invalid(W.empty + " " + W.empty)


def test_a_choice_answer_longer_than_any_option_is_refused_with_its_length() -> None:
    q = question("single_choice")
    long = "Coding" + " " * 0 + "x" * 995  # 1001 characters
    refused = parse_answer(q, long, W, 2000)
    assert isinstance(refused, Invalid)
    assert refused.reason.startswith("That answer is 1001 characters long")
    assert refused.reason.endswith(W.invalid_choice)
    # 1000 characters is not "too long" yet: it is only not an option.
    assert parse_answer(q, "x" * 1000, W, 2000) == Invalid(W.invalid_choice)


# ---------------------------------------------------------------------------- multi choice


@pytest.mark.parametrize(("lo", "hi"), [(1, 2), (2, 3), (1, None)])
def test_multi_choice_accepts_exactly_min_and_max_and_refuses_one_past(
    lo: int, hi: int | None
) -> None:
    q = question("multi_choice", min_choices=lo, max_choices=hi)
    top = hi or len(q.choices)
    ids = q.choice_ids
    message = Invalid(W.invalid_multi.format(min=lo, max=top))
    assert parse_answer(q, ids[:lo], W, 2000) == ids[:lo]
    assert parse_answer(q, ids[:top], W, 2000) == ids[:top]
    typed = ", ".join(str(i + 1) for i in range(top))
    assert parse_answer(q, typed, W, 2000) == ids[:top]
    if top < len(ids):
        assert parse_answer(q, ids[: top + 1], W, 2000) == message
        assert parse_answer(q, typed + f", {top + 1}", W, 2000) == message
    if lo > 1:
        assert parse_answer(q, ids[: lo - 1], W, 2000) == message


def test_multi_choice_answers_come_back_in_the_playbooks_order_without_repeats() -> None:
    q = question("multi_choice", max_choices=2)
    assert parse_answer(q, ["writing", "code"], W, 2000) == ["code", "writing"]
    assert parse_answer(q, "3 1", W, 2000) == ["code", "writing"]
    assert parse_answer(q, "Writing; Coding", W, 2000) == ["code", "writing"]
    # The same option twice counts once.
    assert parse_answer(q, ["code", "code", "maths"], W, 2000) == ["code", "maths"]


def test_a_list_of_clicks_longer_than_four_times_the_options_is_refused() -> None:
    q = question("multi_choice")  # four options
    assert parse_answer(q, ["code"] * 16, W, 2000) == ["code"]
    assert isinstance(parse_answer(q, ["code"] * 17, W, 2000), Invalid)


def test_a_label_with_spaces_is_one_choice_not_two() -> None:
    q = question(
        "multi_choice",
        choices=[
            {"id": "ml", "label": "Machine learning"},
            {"id": "stats", "label": "Statistics"},
        ],
    )
    assert parse_answer(q, "machine learning", W, 2000) == ["ml"]
    assert parse_answer(q, "1 2", W, 2000) == ["ml", "stats"]


# ----------------------------------------------------------------------------------- scale


def test_a_scale_takes_exactly_its_ends_and_nothing_beyond() -> None:
    q = question("scale", scale_min=1, scale_max=5)
    message = Invalid(W.invalid_scale.format(min=1, max=5))
    assert parse_answer(q, "1", W, 2000) == 1
    assert parse_answer(q, "5", W, 2000) == 5
    assert parse_answer(q, 1, W, 2000) == 1
    assert parse_answer(q, 5, W, 2000) == 5
    for bad in ("0", "6", 0, 6, True, "3.5", 3.0):
        assert parse_answer(q, bad, W, 2000) == message, bad
    signed = question("scale", scale_min=-2, scale_max=2)
    assert parse_answer(signed, "-2", W, 2000) == -2
    assert parse_answer(signed, "+2", W, 2000) == 2
    assert isinstance(parse_answer(signed, "-3", W, 2000), Invalid)


# -------------------------------------------------------------------------- single choice


def test_a_choice_by_id_number_label_or_a_clear_abbreviation() -> None:
    q = question(
        "single_choice",
        choices=[
            {"id": "yes", "label": "Yes"},
            {"id": "unsure", "label": "Not sure yet"},
            {"id": "no", "label": "No"},
        ],
    )
    assert parse_answer(q, "unsure", W, 2000) == "unsure"
    assert parse_answer(q, "1", W, 2000) == "yes"
    assert parse_answer(q, "3", W, 2000) == "no"
    assert parse_answer(q, "NOT SURE YET", W, 2000) == "unsure"
    assert parse_answer(q, "not sure", W, 2000) == "unsure"  # a prefix of one label
    assert parse_answer(q, "not sur yet", W, 2000) == "unsure"  # a typo, close enough
    assert parse_answer(q, "sure", W, 2000) == Invalid(W.invalid_choice)  # inside a label
    assert parse_answer(q, "4", W, 2000) == Invalid(W.invalid_choice)
    assert parse_answer(q, "0", W, 2000) == Invalid(W.invalid_choice)
    assert parse_answer(q, 2, W, 2000) == "unsure"  # a number an adapter sent


def test_a_two_letter_token_is_never_guessed_but_three_letters_are() -> None:
    q = question(
        "single_choice",
        choices=[{"id": "a", "label": "Applied research"}, {"id": "b", "label": "Basic"}],
    )
    assert parse_answer(q, "ap", W, 2000) == Invalid(W.invalid_choice)
    assert parse_answer(q, "app", W, 2000) == "a"


def test_an_ambiguous_prefix_is_asked_again() -> None:
    q = question(
        "single_choice",
        choices=[
            {"id": "phd1", "label": "PhD in physics"},
            {"id": "phd2", "label": "PhD in ML"},
        ],
    )
    assert parse_answer(q, "phd in", W, 2000) == Invalid(W.invalid_choice)


def test_choice_ids_that_are_digits_win_over_positions() -> None:
    q = question(
        "single_choice", choices=[{"id": "2", "label": "Two"}, {"id": "1", "label": "One"}]
    )
    assert parse_answer(q, "1", W, 2000) == "1"
    assert parse_answer(q, "2", W, 2000) == "2"


def test_skip_words_skip_an_optional_question_unless_they_name_a_choice() -> None:
    q = question(
        "single_choice",
        optional=True,
        choices=[{"id": "none_yet", "label": "None yet"}, {"id": "some", "label": "Some"}],
    )
    assert parse_answer(q, "none", W, 2000) == "none_yet"
    assert parse_answer(q, "skip", W, 2000) is None
    assert parse_answer(q, "n/a", W, 2000) is None
    assert parse_answer(q, "-", W, 2000) is None
    required = question("single_choice")
    assert parse_answer(required, "skip", W, 2000) == Invalid(W.empty + " " + W.invalid_choice)
    assert parse_answer(required, None, W, 2000) == Invalid(W.empty + " " + W.invalid_choice)
    assert parse_answer(required, [], W, 2000) == Invalid(W.empty + " " + W.invalid_choice)


# ------------------------------------------------------------------ numbers and event fields


def test_whole_numbers_at_their_bounds() -> None:
    assert whole_number("0") == 0
    assert whole_number(str(MAX_ID)) == MAX_ID
    assert whole_number(str(MAX_ID + 1)) is None
    assert whole_number("5", 1, 5) == 5 and whole_number("1", 1, 5) == 1
    assert whole_number("6", 1, 5) is None and whole_number("0", 1, 5) is None
    assert whole_number("-1") is None and whole_number("+1") is None
    assert whole_number("-1", -5, 5, signed=True) == -1
    assert whole_number("9" * 19, 0, 10**20) == int("9" * 19)
    assert whole_number("9" * 20, 0, 10**21) is None
    assert whole_number("²") is None and whole_number("") is None


def test_clean_text_turns_every_line_break_into_a_newline() -> None:
    assert clean_text("a\r\nb\rc\u2028d\u2029e") == "a\nb\nc\nd\n\ne"


@pytest.mark.parametrize(("field", "limit"), [("platform", 16), ("tenant", 64), ("user_id", 64)])
def test_user_fields_fit_their_columns_exactly(field: str, limit: int) -> None:
    base = {"platform": "console", "tenant": "local", "user_id": "ann"}
    fits = ev.Start(user=ev.UserRef(**{**base, field: "x" * limit}))
    assert event_problem(fits) is None
    too_long = ev.Start(user=ev.UserRef(**{**base, field: "x" * (limit + 1)}))
    assert event_problem(too_long) == BAD_EVENT


def test_ids_in_events_fit_a_signed_64_bit_column() -> None:
    user = ev.UserRef(platform="console", tenant="local", user_id="ann")

    def answer(cid: int) -> ev.Answer:
        return ev.Answer(user=user, value="1", consultation_id=cid, step=1)

    assert event_problem(answer(MAX_ID)) is None
    assert event_problem(answer(0)) is None
    assert event_problem(answer(MAX_ID + 1)) == BAD_EVENT
    assert event_problem(answer(-1)) == BAD_EVENT
    assert event_problem(ev.Answer(user=user, value=True, step=1)) is None  # a bool is no id
    # A list of plan items: at most 1000 ids, each a valid id.
    ok = ev.ScheduleCheckIns(user=user, when=None, plan_item_ids=tuple(range(1000)))
    assert event_problem(ok) is None
    many = ev.ScheduleCheckIns(user=user, when=None, plan_item_ids=tuple(range(1001)))
    assert event_problem(many) == BAD_EVENT
    wrong = ev.ScheduleCheckIns(user=user, when=None, plan_item_ids=(1, MAX_ID + 1))
    assert event_problem(wrong) == BAD_EVENT
    texts = ev.ScheduleCheckIns(user=user, when=None, plan_item_ids=("1",))  # type: ignore[arg-type]
    assert event_problem(texts) == BAD_EVENT


def test_text_fields_refuse_nul_and_lone_surrogates_but_answers_are_parsed_later() -> None:
    user = ev.UserRef(platform="console", tenant="local", user_id="ann")
    assert event_problem(ev.Start(user=user, playbook_id="a\x00b")) == BAD_EVENT
    assert event_problem(ev.Start(user=user, playbook_id="a\ud800")) == BAD_EVENT
    assert event_problem(ev.Start(user=user, playbook_id="tiny")) is None
    assert event_problem(ev.Start(user=ev.UserRef(platform="", tenant="t", user_id="u"))) == (
        BAD_EVENT
    )
    assert event_problem(ev.Start(user=ev.UserRef(platform="p", tenant="t", user_id=""))) == (
        BAD_EVENT
    )
    assert event_problem("not an event") == BAD_EVENT
    assert event_problem(ev.Start) == BAD_EVENT


def test_kind_names_match_the_parser() -> None:
    # The parser's branches cover every question kind the playbook format has.
    assert {k.value for k in QuestionKind} == {
        "single_choice",
        "multi_choice",
        "scale",
        "free_text",
    }


def test_an_exact_label_wins_over_a_longer_label_it_begins() -> None:
    q = question(
        "single_choice",
        choices=[
            {"id": "m1", "label": "Maths"},
            {"id": "mp", "label": "Maths and physics"},
        ],
    )
    assert parse_answer(q, "maths", W, 2000) == "m1"
    assert parse_answer(q, "MATHS AND PHYSICS", W, 2000) == "mp"


def test_a_number_sent_to_a_free_text_question_is_refused() -> None:
    q = question("free_text")
    assert parse_answer(q, 5, W, 2000) == Invalid(W.empty)


def test_event_fields_of_an_unexpected_type_are_refused_and_typed_text_is_parsed_later() -> None:
    user = ev.UserRef(platform="console", tenant="local", user_id="ann")
    assert event_problem(ev.Start(user=user, playbook_id=3.5)) == BAD_EVENT  # type: ignore[arg-type]
    assert event_problem(ev.Start(user=user, playbook_id=["tiny"])) == BAD_EVENT  # type: ignore[arg-type]
    # A typed line may hold anything: clean_text deals with it where it is read.
    assert event_problem(ev.Typed(user=user, text="a\x00b" + "x" * 20_000)) is None
    assert event_problem(ev.Typed(user=user, text=3.5)) == BAD_EVENT  # type: ignore[arg-type]
