"""The words of the mentor hand-off, in one place so every card and notice says the same.

They are the bot's own sentences about the hand-off (like bot/checkins/texts.py), not
advice: what a person is told about sharing, and what mentors are told about a request.
"""

from __future__ import annotations

from bot.messages import ChoiceOption

SHARE = "share"
SHARE_CHECKINS = "share_checkins"
NO = "no"
CONSENT_CHOICES = (
    ChoiceOption(SHARE, "Share this with a mentor"),
    ChoiceOption(SHARE_CHECKINS, "Share, and copy my check-in answers to the mentor"),
    ChoiceOption(NO, "Not now"),
)

OFFER_TITLE = "Talk it through with a mentor?"
OFFER_TEXT = (
    "Mentors in this community can talk your options through with you. If you like, I "
    "show you exactly what they would see first; nothing is shared until you say yes."
)
OFFER_BUTTON = "Ask for a mentor…"

CONSENT_TITLE = "What a mentor would see"
CONSENT_LEAD = (
    "If you say yes, I post this to the mentors channel here, without your name. The mentor "
    "who takes it is introduced to you, and only then do you see each other's names. You "
    "can withdraw at any time; forgetting your data deletes the post too."
)
CONSENT_NOTHING_ELSE = (
    "Nothing else is shared: not what you wrote in your own words, not your plan, and not "
    "your check-ins unless you pick the second button."
)
BACKGROUND = "Background"
ROUTES = "Routes they are weighing"
SHORT = "The advice, in short"
QUESTIONS = "Their questions"
YOUR_ROUTES = "Routes you are weighing"
YOUR_QUESTIONS = "Your questions"
NONE_GIVEN = "none given"

SHARED = (
    "Done: your summary is on the mentors channel. When a mentor takes it, I introduce you "
    "to each other. You can withdraw it at any time."
)
SHARED_COPY = " Your check-in answers will be copied to your mentor."
DECLINED = "Nothing was shared."
ALREADY_OPEN = "You already have a mentor request."
NO_CHANNEL = (
    "Mentors are not set up here yet: an admin names a mentors channel first. Nothing was shared."
)
NO_RECOMMENDATION = "There is no recommendation yet: finish the questions first."
CHANGED = (
    "Your consultation changed since I showed you that summary, so I shared nothing. Here "
    "is what would be shared now."
)
WITHDRAW_BUTTON = "Withdraw my request"
STATUS_TITLE = "Your mentor request"
STATUS_WORDS = {
    "requested": "Waiting for a mentor to take it.",
    "released": "Waiting for a mentor to take it (a mentor handed it back).",
    "claimed": "A mentor took it: look for your introduction.",
    "withdrawn": "Withdrawn.",
    "closed": "Done.",
}
WITHDRAWN = "Withdrawn: your request is off the mentors channel."
NOTHING_TO_WITHDRAW = "You have no open mentor request."

BOARD_TITLE = "Someone would like to talk to a mentor"
BOARD_LEAD = (
    "From a Crossroads consultation ({playbook}). Take it, and I introduce you to them; "
    "their name is not shown here."
)
BOARD_AGAIN = "Still looking for a mentor."
CLAIM_BUTTON = "I'll mentor them"
BOARD_TAKEN_TITLE = "Mentor request: taken"
BOARD_TAKEN = "A mentor has taken this request. Thank you!"
FITS = "this request fits what you mentor on."
CLAIMED = "You took it: I have introduced you to each other."
TAKEN_BY_OTHER = "Thank you! Another mentor has already taken this request."
YOURS_ALREADY = "You have already taken this request."
OWN_REQUEST = "This is your own request; another mentor will take it."
OTHER_SERVER = "That request belongs to another server's mentors."
GONE = "This request is no longer open."

INTRO_TITLE = "Crossroads introduces you"
INTRO_LEAD = (
    "One of you asked for a mentor after a Crossroads consultation; the other offered to "
    "help. Here is what was shared."
)
INTRO_COPY = "Check-in answers are copied to the mentor."
RELEASE_BUTTON = "Hand it back (mentor)"
WITHDRAW_INTRO_BUTTON = "Withdraw (the person)"
CLOSE_BUTTON = "Mark as done"
INTRO_TOGETHER = "{0}, meet {1}, who offered to mentor you."
INTRO_TO_PERSON = "Your mentor is {0}: say hello in a direct message."
INTRO_TO_MENTOR = "You are mentoring {0}: say hello in a direct message."
INTRO_ENDED = {
    "released": "The mentor handed this request back; it is open to other mentors again.",
    "withdrawn": "The person withdrew this request.",
    "closed": "This hand-off is done. Thank you both!",
    "requested": "This introduction is no longer current.",
}
RELEASED = "Handed back: the request is open to other mentors again."
NOT_YOUR_CLAIM = "Only the mentor who took this request can hand it back."
NOT_YOUR_REQUEST = "Only the person who asked, or their mentor, can do that."
CLOSED = "Marked as done."

NOTE_TITLE = "Check-in update"
NOTE_ANSWER = "Their answer: {answer}"
