"""Mutation scores from ``mutmut results --all true`` on stdin (scripts/mutation.sh).

    mutation_score.py                     the score per module of every mutant checked
    mutation_score.py --pick 80 --seed 15 print a seeded random sample of each module's
                                          mutants (to run with ``mutmut run NAME…``)
    mutation_score.py --only FILE         the score over the mutants named in FILE

A mutant counts as killed when a test failed on it, timed out on it, or the type checker
caught it; "no tests" (no chosen test runs the mutated function) counts against the score,
like a survivor. Mutants not checked yet are left out and shown in their own column.
"""

from __future__ import annotations

import argparse
import collections
import random
import sys
from pathlib import Path

DETECTED = ("killed", "timeout", "caught by type check")


def module_of(mutant: str) -> str:
    # bot.advice.cues.x_implied__mutmut_3, bot.features.conversation.xǁConversationǁ_typed__…
    head = mutant.split("__mutmut_")[0]
    return head.rsplit(".", 1)[0]


def read(lines: list[str]) -> dict[str, str]:
    status: dict[str, str] = {}
    for line in lines:
        name, sep, value = line.strip().rpartition(": ")
        if sep and "__mutmut_" in name:
            status[name] = value.strip()
    return status


def score(status: dict[str, str]) -> int:
    per: dict[str, collections.Counter[str]] = collections.defaultdict(collections.Counter)
    for name, value in status.items():
        per[module_of(name)][value] += 1
    if not per:
        print("no mutation results: run scripts/mutation.sh first", file=sys.stderr)
        return 1
    width = max(len(m) for m in per)
    print(f"{'module':<{width}}  {'killed / total':>15}   score  survived  no tests  not run")
    all_killed = all_total = 0
    for module in sorted(per):
        c = per[module]
        total = sum(c.values()) - c["not checked"]
        killed = sum(c[s] for s in DETECTED)
        all_killed += killed
        all_total += total
        pct = 100 * killed / total if total else 0.0
        print(
            f"{module:<{width}}  {killed:>6} / {total:<6}  {pct:5.1f} %  {c['survived']:>8}"
            f"  {c['no tests']:>8}  {c['not checked']:>7}"
        )
    pct = 100 * all_killed / all_total if all_total else 0.0
    print(f"{'all':<{width}}  {all_killed:>6} / {all_total:<6}  {pct:5.1f} %")
    return 0


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--pick", type=int, help="sample this many mutants per module")
    parser.add_argument("--seed", type=int, default=15)
    parser.add_argument("--only", type=Path, help="score only the mutants named in this file")
    args = parser.parse_args()
    status = read(sys.stdin.readlines())
    if args.pick:
        rng = random.Random(args.seed)
        by_module: dict[str, list[str]] = collections.defaultdict(list)
        for name in sorted(status):
            by_module[module_of(name)].append(name)
        for module in sorted(by_module):
            names = by_module[module]
            for name in rng.sample(names, min(args.pick, len(names))):
                print(name)
        return 0
    if args.only:
        wanted = set(args.only.read_text().split())
        status = {n: s for n, s in status.items() if n in wanted}
    return score(status)


if __name__ == "__main__":
    sys.exit(main())
