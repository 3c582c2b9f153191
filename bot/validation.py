"""Turning what a person typed or clicked into a valid answer, or saying what is expected."""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from typing import Any

from bot.messages import QuestionKind
from bot.playbook.schema import PlaybookQuestion, Wording

SKIP_WORDS = frozenset({"skip", "-", "none", "n/a"})
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f\u200b-\u200f\u2028-\u202e\u2066-\u2069]")
_SPLIT = re.compile(r"[,;\s]+")


@dataclass(frozen=True, slots=True)
class Invalid:
    reason: str


def small_number(text: str, digits: int = 9) -> int | None:
    """A whole number typed in ASCII digits (at most ``digits`` of them), else None.

    ``str.isdigit`` accepts "①" and "²", which ``int`` refuses, and huge numbers overflow
    database ids: a number a person types is checked here, once.
    """
    text = text.strip()
    if not text or len(text) > digits or not text.isascii() or not text.isdigit():
        return None
    return int(text)


def clean_text(raw: str) -> str:
    """Normalise Unicode and drop control and bidi-override characters; keep newlines."""
    text = unicodedata.normalize("NFC", raw).replace("\r\n", "\n").replace("\r", "\n")
    return _CONTROL.sub("", text).strip()


def _choice(q: PlaybookQuestion, token: str) -> str | None:
    """A choice by its id (what buttons send), its number (what people type), or its label.

    The id wins, so a playbook whose choice ids are digits is never misread by position.
    """
    token = token.strip().lower()
    for c in q.choices:
        if token == c.id:
            return c.id
    if token.isdigit():
        index = int(token) - 1
        return q.choices[index].id if 0 <= index < len(q.choices) else None
    return next((c.id for c in q.choices if token == c.label.lower()), None)


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
    if raw in ("", None, []) or (
        isinstance(raw, str) and raw.lower() in SKIP_WORDS and q.kind != QuestionKind.FREE_TEXT
    ):
        return None if q.optional else Invalid(wording.empty + " " + _expected(q, wording))
    if q.kind == QuestionKind.SINGLE_CHOICE:
        choice = _choice(q, str(raw)) if isinstance(raw, str | int) else None
        return choice if choice is not None else Invalid(_expected(q, wording))
    if q.kind == QuestionKind.MULTI_CHOICE:
        tokens = raw if isinstance(raw, list) else _split_multi(q, str(raw))
        picked = [_choice(q, str(t)) for t in tokens]
        top = q.max_choices or len(q.choices)
        if any(p is None for p in picked) or not (q.min_choices <= len(set(picked)) <= top):
            return Invalid(_expected(q, wording))
        return [c for c in q.choice_ids if c in picked]
    if q.kind == QuestionKind.SCALE:
        try:
            value = int(str(raw).strip())
        except ValueError:
            return Invalid(_expected(q, wording))
        if not q.scale_min <= value <= q.scale_max:
            return Invalid(_expected(q, wording))
        return value
    if not isinstance(raw, str):
        return Invalid(_expected(q, wording))
    if q.optional and raw.lower() == "skip":
        return None
    limit = min(q.max_length, max_text)
    if len(raw) > limit:
        return Invalid(wording.too_long.format(length=len(raw), max=limit))
    return raw


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
