"""Score per module from ``mutmut results --all true`` on stdin (scripts/mutation.sh).

A mutant counts as killed when a test failed on it, timed out on it, or the type checker
caught it; "no tests" (no chosen test runs the mutated function) counts against the score,
like a survivor. Mutants not checked yet are left out and shown in their own column.
"""

from __future__ import annotations

import collections
import sys

DETECTED = ("killed", "timeout", "caught by type check")


def module_of(mutant: str) -> str:
    # bot.advice.cues.x_implied__mutmut_3, bot.features.conversation.xǁConversationǁ_typed__…
    head = mutant.split("__mutmut_")[0]
    return head.rsplit(".", 1)[0]


def main() -> int:
    per: dict[str, collections.Counter[str]] = collections.defaultdict(collections.Counter)
    for line in sys.stdin:
        name, sep, status = line.strip().rpartition(": ")
        if sep and "__mutmut_" in name:
            per[module_of(name)][status.strip()] += 1
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
        score = 100 * killed / total if total else 0.0
        print(
            f"{module:<{width}}  {killed:>6} / {total:<6}  {score:5.1f} %  {c['survived']:>8}"
            f"  {c['no tests']:>8}  {c['not checked']:>7}"
        )
    score = 100 * all_killed / all_total if all_total else 0.0
    print(f"{'all':<{width}}  {all_killed:>6} / {all_total:<6}  {score:5.1f} %")
    return 0


if __name__ == "__main__":
    sys.exit(main())
