"""Playbooks: the data that makes a consultation (questions, paths, criteria, rules)."""

from bot.playbook.conditions import Condition, evaluate
from bot.playbook.loader import PlaybookError, PlaybookIssue, PlaybookRegistry, load_playbook
from bot.playbook.schema import Criterion, Path, Playbook, PlaybookQuestion

__all__ = [
    "Condition",
    "Criterion",
    "Path",
    "Playbook",
    "PlaybookError",
    "PlaybookIssue",
    "PlaybookQuestion",
    "PlaybookRegistry",
    "evaluate",
    "load_playbook",
]
