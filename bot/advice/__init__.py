"""The advice pipeline: pure functions of (playbook, answers, today).

``ranking`` scores and orders paths (and keeps the version-1 ``rank``); ``cues`` reads
free text; ``whatif`` re-ranks under changed answers; ``plan`` dates the steps;
``compose`` builds the ``Advice`` a person reads; ``lint`` checks composed advice.
"""

from bot.advice.ranking import (
    Answers,
    Factor,
    Ranking,
    ScoredPath,
    drop_reason,
    effective_answers,
    rank,
    score_paths,
    visible_questions,
    what_would_change,
)

__all__ = [
    "Answers",
    "Factor",
    "Ranking",
    "ScoredPath",
    "drop_reason",
    "effective_answers",
    "rank",
    "score_paths",
    "visible_questions",
    "what_would_change",
]
