"""How much of a person's story the intake pre-fills (issue 10's measure), per story.

Run: .venv/bin/python bench/story_prefill.py
Prints, per story in tests/stories: the share of what a careful reader infers that is
pre-filled, contradictions (pre-filled answers the text does not support) and how many
questions remain to be asked.
"""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from tests.story_measure import BATCHES, STORIES, Story, measure


def table(title: str, stories: tuple[Story, ...]) -> None:
    print(f"\n{title}")
    print(f"{'story':<20} {'pre-filled':>11} {'contradicts':>12} {'left to ask':>12}  missed")
    hits = total = wrong = 0
    for story in stories:
        m = measure(story)
        hits, total = hits + len(m.hits), total + len(m.hits) + len(m.missed)
        wrong += len(m.contradictions)
        rate = f"{len(m.hits)}/{len(m.hits) + len(m.missed)} {m.rate:.0%}"
        print(
            f"{m.story:<20} {rate:>11} {len(m.contradictions):>12} {len(m.remaining):>12}  "
            f"{', '.join(m.missed) or '-'} {' '.join(m.contradictions)}"
        )
    print(f"{'all':<20} {f'{hits}/{total} {hits / total:.0%}':>11} {wrong:>12}")


def main() -> None:
    table("the seed and the four stories the intake was built on", STORIES)
    for name, batch in BATCHES.items():
        tuned = "not used for tuning" if name == "blind4" else "then used for tuning"
        table(f"{name}: written blind, {tuned}", batch)


if __name__ == "__main__":
    main()
