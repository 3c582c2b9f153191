"""The words and choice ids of check-ins, in one place so every message uses the same."""

from __future__ import annotations

from bot.events import When
from bot.messages import NO_CHECKINS, CheckInChoice, ChoiceOption, WhenKind

PROMPT_CHOICES = (
    ChoiceOption(CheckInChoice.DONE, "Done"),
    ChoiceOption(CheckInChoice.IN_PROGRESS, "In progress"),
    ChoiceOption(CheckInChoice.BLOCKED, "Blocked"),
    ChoiceOption(CheckInChoice.SITUATION_CHANGED, "My situation changed"),
    ChoiceOption(CheckInChoice.SNOOZE_DAY, "Snooze 1 day"),
    ChoiceOption(CheckInChoice.SNOOZE_WEEK, "Snooze 1 week"),
    ChoiceOption(CheckInChoice.STOP, "Stop these"),
)

OFFER_CHOICES = (
    ChoiceOption(WhenKind.SUGGESTED, "On the suggested dates", "One check-in per step"),
    ChoiceOption(WhenKind.IN_DAYS, "In a few days", "Pick the number of days"),
    ChoiceOption(WhenKind.WEEKLY, "Every week"),
    ChoiceOption(WhenKind.FORTNIGHTLY, "Every two weeks"),
    ChoiceOption(WhenKind.DATE, "On a date", "Pick the date"),
    ChoiceOption(NO_CHECKINS, "No check-ins"),
)


def choice_label(choices: tuple[ChoiceOption, ...], choice_id: str) -> str:
    return next((c.label for c in choices if c.id == choice_id), choice_id)


def when_words(when: When | None) -> str:
    """What a person chose in the offer, in words ("Every week", "In 10 days")."""
    if when is None:
        return choice_label(OFFER_CHOICES, NO_CHECKINS)
    if when.kind == WhenKind.IN_DAYS and when.days is not None:
        return f"In {when.days} day{'s' if when.days != 1 else ''}"
    if when.kind == WhenKind.DATE and when.on:
        return f"On {when.on}"
    return choice_label(OFFER_CHOICES, when.kind)


SNOOZE_DAY = "snooze_day"
SNOOZE_WEEK = "snooze_week"
CHANGE = "change"
CANCEL = "cancel"

LIST_ACTIONS = (
    ChoiceOption(SNOOZE_DAY, "Snooze 1 day"),
    ChoiceOption(SNOOZE_WEEK, "Snooze 1 week"),
    ChoiceOption(CHANGE, "Change"),
    ChoiceOption(CANCEL, "Cancel"),
)

CATCHUP_CHOICES = (
    ChoiceOption(SNOOZE_DAY, "Ask me tomorrow"),
    ChoiceOption(CANCEL, "Drop it"),
)

CATCHUP_TEXT = (
    "I was offline when these check-ins were due, so I did not want to send them late. "
    "Shall I ask again tomorrow, or drop them?"
)

TIMEZONE_SUGGESTIONS = (
    "Europe/London",
    "Europe/Berlin",
    "America/New_York",
    "America/Chicago",
    "America/Los_Angeles",
    "Asia/Kolkata",
    "Asia/Shanghai",
    "Asia/Tokyo",
    "Australia/Sydney",
    "UTC",
)

ANSWER_NOTES = {
    CheckInChoice.DONE: "Well done! I marked it done on your plan.",
    CheckInChoice.IN_PROGRESS: "Good to hear it is moving. I noted it as in progress.",
    CheckInChoice.BLOCKED: "Thanks for telling me. I noted it as blocked on your plan.",
    CheckInChoice.SITUATION_CHANGED: "Thanks for telling me.",
    CheckInChoice.STOP: "No more check-ins about this step.",
}

STATE_WORDS = {
    "pending": "scheduled",
    "sent": "waiting for your answer",
    "failed": "could not be delivered",
    "missed": "missed while I was offline",
}
