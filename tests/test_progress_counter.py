"""The "question N of M" counter: M never grows while a person answers forward."""

from __future__ import annotations

import itertools
from pathlib import Path

import pytest

from bot import events as ev
from bot.messages import Question, QuestionKind
from bot.settings import REPO_ROOT, Settings
from tests.conftest import make_engine

PLAYBOOKS = ["tiny", "tiny2", "steps"] + [
    p.stem for p in sorted((REPO_ROOT / "config" / "playbooks").glob("*.yaml"))
]


def pick(q: Question, variant: int) -> object:
    if q.kind == QuestionKind.SINGLE_CHOICE:
        return q.choices[variant % len(q.choices)].id
    if q.kind == QuestionKind.MULTI_CHOICE:
        n = max(1, q.min_choices)
        start = variant % len(q.choices)
        return [c.id for c in itertools.islice(itertools.cycle(q.choices), start, start + n)]
    if q.kind == QuestionKind.SCALE:
        return q.scale_min + variant % (q.scale_max - q.scale_min + 1)
    return "skip" if q.optional else "some words"


@pytest.mark.parametrize("playbook", PLAYBOOKS)
async def test_the_total_never_grows_while_answering(
    playbook: str, tmp_path: Path, settings: Settings
) -> None:
    url = f"sqlite:///{tmp_path / 'p.db'}"
    engine = await make_engine(
        url, settings.model_copy(update={"default_playbook": playbook}), playbook
    )
    try:
        for variant in range(4):
            user = ev.UserRef("console", "local", f"u{variant}")
            out = (await engine.run(ev.Start(user=user))).messages
            seen: list[tuple[int, int]] = []
            while (qs := [m for m in out if isinstance(m, Question)]) and len(seen) < 100:
                q = qs[-1]
                seen.append((q.position, q.total))
                answer = ev.Answer(
                    user=user,
                    value=pick(q, variant),
                    question_id=q.question_id,
                    consultation_id=q.consultation_id,
                    step=q.step,
                )
                out = (await engine.run(answer)).messages
            totals = [t for _, t in seen]
            assert totals == sorted(totals, reverse=True), (playbook, variant, seen)
            assert all(p <= t for p, t in seen)
            assert [p for p, _ in seen] == list(range(1, len(seen) + 1))
            assert seen[-1][0] == seen[-1][1]  # the last question says N of N
    finally:
        await engine.db.dispose()
