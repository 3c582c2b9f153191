"""Re-check named mutants, each in a fresh pytest process (docs/testing.md "Score").

    mutation_recheck.py FILE [--jobs 2] [--timeout 600]

FILE names mutants (one a line, or the second column of docs/mutation-sample.tsv). For
each, the tests mutmut's stats map to the mutated function run in ``mutants/`` with
``MUTANT_UNDER_TEST`` set, fastest first, stopping at the first failure: what mutmut's own
runner does, but in a new process instead of a fork of one that has already run tests (in
this project mutmut 3.8's forks reported mutants as surviving that these runs, and the
same tests with the mutant applied to the source by hand, kill). The covering tests of the
fastest test file go first, alone; a survivor of those then runs all of them. Prints
``name: verdict`` lines (killed, survived, timeout, no tests), which ``mutation_score.py`` reads.
Run ``scripts/mutation.sh`` first: it makes ``mutants/`` and the stats.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
MUTANTS = ROOT / "mutants"
PY = ROOT / ".venv" / "bin" / "python"


def mangled(mutant: str) -> str:
    return mutant.split("__mutmut_")[0]


def check(mutant: str, tests: list[str], timeout: float, durations: dict[str, float]) -> str:
    """The mutant's verdict: first its fastest test file alone (collecting every covering
    file costs most of a run), then, if that kills nothing, every covering test."""
    if not tests:
        return "no tests"
    tests = sorted(tests, key=lambda t: durations.get(t, 0.0))
    first_file = tests[0].split("::")[0]
    quick = [t for t in tests if t.startswith(first_file + "::")]
    if len(quick) < len(tests):
        verdict = _run(mutant, quick, timeout)
        if verdict != "survived":
            return verdict
    return _run(mutant, tests, timeout)


def _run(mutant: str, tests: list[str], timeout: float) -> str:
    env = {
        **os.environ,
        "MUTANT_UNDER_TEST": mutant,
        "CI": "true",
        "CROSSROADS_PROPERTY_EXAMPLES": os.environ.get("CROSSROADS_PROPERTY_EXAMPLES", "40"),
    }
    args = [str(PY), "-m", "pytest", "-x", "-q", "--rootdir=.", "-p", "no:randomly"]
    args += ["-p", "no:cacheprovider", "-p", "tests.mutmut_order", *tests]
    try:
        done = subprocess.run(
            args, cwd=MUTANTS, env=env, capture_output=True, timeout=timeout, check=False
        )
    except subprocess.TimeoutExpired:
        return "timeout"
    if done.returncode == 0:
        return "survived"
    if done.returncode in (1, 3):  # a test failed, or an error inside one
        return "killed"
    return f"error {done.returncode}"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("names", type=Path)
    parser.add_argument("--jobs", type=int, default=1)
    parser.add_argument("--timeout", type=float, default=600)
    args = parser.parse_args()
    names = [line.split()[-1] for line in args.names.read_text().splitlines() if line.strip()]
    stats = json.loads((MUTANTS / "mutmut-stats.json").read_text())
    by_function: dict[str, list[str]] = stats["tests_by_mangled_function_name"]

    def one(name: str) -> str:
        tests = sorted(by_function.get(mangled(name), []))
        verdict = check(name, tests, args.timeout, stats["duration_by_test"])
        line = f"    {name}: {verdict}"
        print(line, flush=True)
        return line

    with ThreadPoolExecutor(max_workers=args.jobs) as pool:
        list(pool.map(one, names))
    return 0


if __name__ == "__main__":
    sys.exit(main())
