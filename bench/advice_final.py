"""The final turn's pure work, person by person: rank, compose, the snapshot payload.

People are simulated as bench/peers_turns.py simulates them (random.Random(seed) answers,
one to three choices, a scale value), walking the playbook's visible questions; a story
question is answered with one of the stories in tests/stories (or left empty), and what it
implies is pre-filled as the consultation's story step does. Then the final turn's work
(``rank``, ``compose``, ``ranking_to_payload``) runs for each person.

Two uses:
  timing       per-person time of each stage (p50 / p99 / mean, ms, wall clock) over
               --people people, and the process CPU time per person (less moved by a busy
               machine than wall time);
  --fingerprint  one sha256 over every person's payload and the story turn's pre-fill (JSON,
               sorted keys), and one per person with --per-person: run it on two checkouts and
               compare to show that a change keeps the advice identical.

Run:  .venv/bin/python bench/advice_final.py --people 400 [--playbook ml-research-career]
      .venv/bin/python bench/advice_final.py --people 2000 --fingerprint
      CROSSROADS_PROJECT=../base ../base/.venv/bin/python bench/advice_final.py --fingerprint
"""

from __future__ import annotations

import argparse
import hashlib
import json
import math
import os
import random
import sys
import time
from datetime import date
from pathlib import Path
from typing import Any

# CROSSROADS_PROJECT: run this script against another checkout (a baseline for --fingerprint).
ROOT = Path(os.environ.get("CROSSROADS_PROJECT") or Path(__file__).resolve().parent.parent)
sys.path.insert(0, str(ROOT))

from bot.advice import effective_answers, rank, visible_questions  # noqa: E402
from bot.advice.compose import compose  # noqa: E402
from bot.advice.cues import story_answers  # noqa: E402
from bot.playbook.loader import load_playbook  # noqa: E402
from bot.playbook.schema import Playbook, PlaybookQuestion  # noqa: E402
from bot.snapshots import ranking_to_payload  # noqa: E402

TODAY = date(2026, 12, 1)


def stories() -> list[str]:
    found = sorted((ROOT / "tests" / "stories").rglob("*.txt"))
    return [p.read_text(encoding="utf-8") for p in found]


def pick(q: PlaybookQuestion, rng: random.Random, texts: list[str]) -> Any:
    match q.kind:
        case "single_choice":
            return rng.choice(q.choices).id
        case "multi_choice":
            high = q.max_choices or len(q.choices)
            k = rng.randint(max(1, q.min_choices), max(1, min(high, 3)))
            picked = {c.id for c in rng.sample(list(q.choices), k)}
            return [c for c in q.choice_ids if c in picked]
        case "scale":
            return rng.randint(q.scale_min, q.scale_max)
    if q.role == "story":
        return rng.choice([*texts, ""])
    return rng.choice(["", "I worry that I am too old to start a PhD.", "x" * 40])


def person(pb: Playbook, rng: random.Random, texts: list[str]) -> tuple[dict[str, Any], Any]:
    """A finished consultation's answers, and what its story step pre-filled."""
    answers: dict[str, Any] = {}
    prefilled: Any = None
    while True:
        q = next((q for q in visible_questions(pb, answers) if q.id not in answers), None)
        if q is None:
            return answers, prefilled
        value = pick(q, rng, texts)
        if q.role == "story":
            found, _ = story_answers(pb, value, answers)
            prefilled = {"values": found.values, "conflicting": found.conflicting}
            answers[q.id] = value or None
            answers.update({k: v for k, v in found.values.items() if k != q.id})
            continue
        answers[q.id] = value


def final(pb: Playbook, answers: dict[str, Any]) -> dict[str, Any] | None:
    ranking = rank(pb, answers, TODAY)
    if not ranking.paths:
        return None
    advice = compose(pb, answers, TODAY)
    return ranking_to_payload(ranking, effective_answers(pb, answers), advice)


def pct(ordered: list[float], p: float) -> float:
    return ordered[max(0, math.ceil(p / 100.0 * len(ordered)) - 1)]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--playbook", default="ml-research-career")
    ap.add_argument("--people", type=int, default=400)
    ap.add_argument("--seed", type=int, default=42)
    ap.add_argument("--fingerprint", action="store_true")
    ap.add_argument("--per-person", action="store_true", help="with --fingerprint: one per line")
    ap.add_argument("--profile", help="cProfile of the timed stages to this file")
    args = ap.parse_args()
    pb = load_playbook(ROOT / "config" / "playbooks" / f"{args.playbook}.yaml")
    rng = random.Random(args.seed)
    texts = stories()
    people = [person(pb, rng, texts) for _ in range(args.people)]
    if args.fingerprint:
        total = hashlib.sha256()
        for i, (answers, prefilled) in enumerate(people):
            blob = json.dumps(
                {"prefilled": prefilled, "payload": final(pb, answers)},
                sort_keys=True,
                default=str,
            ).encode()
            total.update(blob)
            if args.per_person:
                print(i, hashlib.sha256(blob).hexdigest()[:16])
        print(f"{args.playbook} {args.people} people seed {args.seed}: {total.hexdigest()}")
        return
    stages: dict[str, list[float]] = {"rank": [], "compose": [], "payload": [], "final": []}
    profile = None
    if args.profile:
        import cProfile

        profile = cProfile.Profile()
        profile.enable()
    cpu0 = time.process_time()
    for answers, _ in people:
        t0 = time.perf_counter()
        ranking = rank(pb, answers, TODAY)
        t1 = time.perf_counter()
        advice = compose(pb, answers, TODAY)
        t2 = time.perf_counter()
        ranking_to_payload(ranking, effective_answers(pb, answers), advice)
        t3 = time.perf_counter()
        for name, took in (("rank", t1 - t0), ("compose", t2 - t1), ("payload", t3 - t2)):
            stages[name].append(took)
        stages["final"].append(t3 - t0)
    cpu = time.process_time() - cpu0
    if profile is not None:
        profile.disable()
        profile.dump_stats(args.profile)
    row: dict[str, Any] = {
        "playbook": args.playbook,
        "people": args.people,
        "cpu_ms_per_person": round(cpu / len(people) * 1e3, 3),
    }
    for name, values in stages.items():
        values.sort()
        row[f"{name}_p50_ms"] = round(pct(values, 50) * 1e3, 3)
        row[f"{name}_p99_ms"] = round(pct(values, 99) * 1e3, 3)
        row[f"{name}_mean_ms"] = round(sum(values) / len(values) * 1e3, 3)
    print(json.dumps(row))


if __name__ == "__main__":
    main()
