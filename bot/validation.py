"""Turning what a person typed or clicked into a valid answer, or saying what is expected."""

from __future__ import annotations

import dataclasses
import difflib
import re
import unicodedata
from dataclasses import dataclass
from typing import Any

from bot.events import UserRef
from bot.messages import QuestionKind
from bot.playbook.schema import PlaybookQuestion, Wording

__all__ = [
    "BAD_EVENT",
    "MAX_ID",
    "SKIP_WORDS",
    "Invalid",
    "clean_text",
    "event_problem",
    "parse_answer",
    "whole_number",
]

SKIP_WORDS = frozenset({"skip", "-", "none", "n/a"})
# Control characters (except tab, newline and carriage return, which clean_text turns into
# a newline), bidi controls, and lone surrogates (never text: only a broken decoder makes
# them, and no database can store them). Zero-width joiners and non-joiners stay: they are
# part of emoji and of Indic and Persian writing.
_CONTROL = re.compile(
    "[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069\ud800-\udfff]"
)
_SPLIT = re.compile(r"[,;\s]+")
# The schema's default wording (bot/playbook/schema.py, owned by the playbook format) says
# "under {max}" although {max} itself is accepted; until it says "at most", it is replaced.
_UNDER_MAX = Wording.model_fields["too_long"].default
MAX_ID = 2**63 - 1
"""The largest id a database row can have (a signed 64-bit integer)."""
_WHOLE = re.compile(r"[+-]?[0-9]{1,19}")


@dataclass(frozen=True, slots=True)
class Invalid:
    reason: str


def clean_text(raw: str) -> str:
    """Normalise Unicode and drop control and bidi-override characters; keep newlines."""
    text = _CONTROL.sub("", raw)  # first: NFC cannot normalise a lone surrogate
    text = unicodedata.normalize("NFC", text).replace("\r\n", "\n").replace("\r", "\n")
    return text.replace("\u2028", "\n").replace("\u2029", "\n\n").strip()


def whole_number(token: str, lo: int = 0, hi: int = MAX_ID, *, signed: bool = False) -> int | None:
    """The whole number typed in ``token`` when it lies in [lo, hi], else None.

    Only ASCII digits count: ``str.isdigit`` also accepts "²" and "①", which ``int``
    refuses, and a number of thousands of digits would hit Python's int-string limit.
    """
    text = token.strip()
    if not _WHOLE.fullmatch(text) or (not signed and text[0] in "+-"):
        return None
    value = int(text)
    return value if lo <= value <= hi else None


def _choice(q: PlaybookQuestion, token: str) -> str | None:
    """A choice by its id (what buttons send), its number (what people type), or its label.

    The id wins, so a playbook whose choice ids are digits is never misread by position.
    """
    token = token.strip().lower()
    for c in q.choices:
        if token == c.id:
            return c.id
    number = whole_number(token, 1, len(q.choices))
    if number is not None:
        return q.choices[number - 1].id
    exact = next((c.id for c in q.choices if token == c.label.lower()), None)
    return exact if exact is not None else _close_choice(q, token)


def _close_choice(q: PlaybookQuestion, token: str) -> str | None:
    """A choice a person clearly meant: "not sure" for "Not sure yet", "none" for "None yet",
    "applied" for "Applied research". Only an unambiguous match counts; otherwise None and
    the question is asked again."""
    if len(token) < 3:
        return None
    labels = {c.label.lower(): c.id for c in q.choices}
    starts = {cid for label, cid in labels.items() if label.startswith(token)}
    elsewhere = [label for label in labels if token in label and not label.startswith(token)]
    if starts or elsewhere:  # only a prefix of one label, found in no other, is clear
        return starts.pop() if len(starts) == 1 and not elsewhere else None
    close = difflib.get_close_matches(token, list(labels), n=2, cutoff=0.85)
    return labels[close[0]] if len(close) == 1 else None


def parse_answer(q: PlaybookQuestion, raw: Any, wording: Wording, max_text: int) -> Any:
    """Return the value to store (None means "skipped"), or Invalid with what is expected."""
    if isinstance(raw, str):
        raw = clean_text(raw)
        if len(raw) > 1000 and q.kind != QuestionKind.FREE_TEXT:
            # Far longer than any option: say so instead of trying to match it.
            return Invalid(
                f"That answer is {len(raw)} characters long, too long to be one of the "
                f"options. {_expected(q, wording)}"
            )
    skip_word = isinstance(raw, str) and raw.lower() in SKIP_WORDS
    if skip_word and q.choices and _choice(q, str(raw)) is not None:
        skip_word = False  # "none" for a choice "None yet" is that choice, not a skip
    if raw in ("", None, []) or (skip_word and q.kind != QuestionKind.FREE_TEXT):
        return None if q.optional else Invalid(wording.empty + " " + _expected(q, wording))
    if q.kind == QuestionKind.SINGLE_CHOICE:
        token = _token(raw)
        choice = _choice(q, token) if token is not None else None
        return choice if choice is not None else Invalid(_expected(q, wording))
    if q.kind == QuestionKind.MULTI_CHOICE:
        if isinstance(raw, list):
            tokens = [_token(t) for t in raw] if len(raw) <= 4 * len(q.choices) else [None]
        else:
            tokens = _split_multi(q, raw) if isinstance(raw, str) else [_token(raw)]
        picked = [_choice(q, t) if t is not None else None for t in tokens]
        top = q.max_choices or len(q.choices)
        if any(p is None for p in picked) or not (q.min_choices <= len(set(picked)) <= top):
            return Invalid(_expected(q, wording))
        return [c for c in q.choice_ids if c in picked]
    if q.kind == QuestionKind.SCALE:
        value = (
            raw
            if isinstance(raw, int) and not isinstance(raw, bool)
            else whole_number(raw, q.scale_min, q.scale_max, signed=True)
            if isinstance(raw, str)
            else None
        )
        if value is None or not q.scale_min <= value <= q.scale_max:
            return Invalid(_expected(q, wording))
        return value
    if not isinstance(raw, str):
        return Invalid(_expected(q, wording))
    if q.optional and raw.lower() == "skip":
        return None
    limit = min(q.max_length, max_text)
    if len(raw) > limit:
        template = wording.too_long
        if template == _UNDER_MAX:  # says "under 500" while 500 is accepted
            template = "That is {length} characters; please keep it to {max} or fewer."
        return Invalid(template.format(length=len(raw), max=limit))
    return raw


def _token(raw: Any) -> str | None:
    """A choice token from what an adapter sent: text, or a small whole number."""
    if isinstance(raw, str):
        return raw
    if isinstance(raw, int) and not isinstance(raw, bool) and abs(raw) <= MAX_ID:
        return str(raw)
    return None


def _split_multi(q: PlaybookQuestion, raw: str) -> list[str]:
    # Labels may contain spaces: accept "1, 3", "1 3", or labels separated by commas.
    if "," in raw or ";" in raw:
        return [t for t in re.split(r"[,;]", raw) if t.strip()]
    whole = _choice(q, raw)
    return [raw] if whole is not None else [t for t in _SPLIT.split(raw) if t]


def _expected(q: PlaybookQuestion, wording: Wording) -> str:
    if q.kind == QuestionKind.SINGLE_CHOICE:
        return wording.invalid_choice
    if q.kind == QuestionKind.MULTI_CHOICE:
        top = q.max_choices or len(q.choices)
        return wording.invalid_multi.format(min=q.min_choices, max=top)
    if q.kind == QuestionKind.SCALE:
        return wording.invalid_scale.format(min=q.scale_min, max=q.scale_max)
    return wording.empty


# Columns an event's text lands in unchanged (bot/store/models.py): longer would not fit.
_TEXT_LIMITS = {"platform": 16, "tenant": 64, "user_id": 64, "origin_tenant": 64}
_MAX_FIELD = 10_000
_NOT_TEXT = re.compile("[\x00\ud800-\udfff]")
BAD_EVENT = (
    "I cannot use that request: it has a number out of range or characters that are not "
    "text. Nothing was changed."
)


def event_problem(event: object) -> str | None:
    """Why ``event`` (bot/events.py) cannot be applied, or None when every field is usable.

    The engine asks this before touching the database, so no content of an event, however
    hostile (ids beyond 64 bits, NUL, lone surrogates, over-long names), reaches a query.
    Answer values are exempt from the text rule: ``parse_answer`` cleans and checks them.
    """
    if not dataclasses.is_dataclass(event) or isinstance(event, type):
        return BAD_EVENT
    for f in dataclasses.fields(event):
        value = getattr(event, f.name)
        if f.name in ("value", "text"):  # an answer or a typed line: cleaned where parsed
            items = value if isinstance(value, list) else [value]
            if not all(isinstance(v, str | int) for v in items):
                return BAD_EVENT
            continue
        if not _usable(f.name, value):
            return BAD_EVENT
    if hasattr(event, "user"):
        user = event.user
        if not (isinstance(user, UserRef) and user.platform and user.user_id):
            return BAD_EVENT
    return None


def _usable(name: str, value: object) -> bool:
    if value is None or isinstance(value, bool):
        return True
    if isinstance(value, int):
        return 0 <= value <= MAX_ID
    if isinstance(value, str):
        return len(value) <= _TEXT_LIMITS.get(name, _MAX_FIELD) and not _NOT_TEXT.search(value)
    if isinstance(value, tuple):
        return len(value) <= 1000 and all(isinstance(v, int) and _usable(name, v) for v in value)
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return event_problem(value) is None
    return False
