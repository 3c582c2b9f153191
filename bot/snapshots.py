"""Recommendations to and from the JSON kept in recommendation_snapshots.

Format 1 (main before the advice pipeline) holds the ranking only. Format 2 adds
``advice``: the composed ``Advice`` whole, so showing it again gives the same text; the
format-1 keys stay beside it, so a format-2 payload also loads as a ``Recommendation``.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from pydantic import ValidationError

from bot.advice import Ranking
from bot.advice.model import Advice
from bot.messages import NextStep, PathAdvice, Recommendation


def _step(step: NextStep) -> dict[str, Any]:
    return {"text": step.text, "due": step.due.isoformat() if step.due else None}


def _path(p: PathAdvice) -> dict[str, Any]:
    return {
        "path_id": p.path_id,
        "rank": p.rank,
        "title": p.title,
        "summary": p.summary,
        "score": p.score,
        "reasons": list(p.reasons),
        "pros": list(p.pros),
        "cons": list(p.cons),
        "risks": list(p.risks),
        "next_steps": [_step(s) for s in p.next_steps],
    }


PAYLOAD_FORMAT = 2


def ranking_to_payload(
    ranking: Ranking, answers: dict[str, Any], advice: Advice | None = None
) -> dict[str, Any]:
    payload: dict[str, Any] = {
        "paths": [_path(p) for p in ranking.paths],
        "why_order": list(ranking.why_order),
        "what_would_change": ranking.what_would_change,
        "dropped": list(ranking.dropped),
        "notes": list(ranking.notes),
        "answers": answers,
    }
    if advice is not None:
        payload["format"] = PAYLOAD_FORMAT
        payload["advice"] = advice.model_dump(mode="json")
    return payload


def payload_to_advice(payload: dict[str, Any]) -> Advice | None:
    """The stored advice, or None for a format-1 snapshot (shown as a Recommendation)."""
    raw = payload.get("advice")
    if not isinstance(raw, dict):
        return None
    try:
        return Advice.model_validate(raw)
    except ValidationError:
        return None


def _load_step(raw: dict[str, Any]) -> NextStep:
    return NextStep(raw["text"], date.fromisoformat(raw["due"]) if raw.get("due") else None)


def payload_to_recommendation(
    payload: dict[str, Any], consultation_id: int, step: int, title: str
) -> Recommendation:
    paths = tuple(
        PathAdvice(
            path_id=p["path_id"],
            rank=p["rank"],
            title=p["title"],
            summary=p["summary"],
            score=p["score"],
            reasons=tuple(p["reasons"]),
            pros=tuple(p["pros"]),
            cons=tuple(p["cons"]),
            risks=tuple(p["risks"]),
            next_steps=tuple(_load_step(s) for s in p["next_steps"]),
        )
        for p in payload["paths"]
    )
    return Recommendation(
        consultation_id=consultation_id,
        step=step,
        playbook_title=title,
        paths=paths,
        why_order=tuple(payload["why_order"]),
        what_would_change=payload["what_would_change"],
        notes=tuple(payload.get("notes", ())),
        dropped=tuple(payload.get("dropped", ())),
        advice=payload_to_advice(payload),
    )
