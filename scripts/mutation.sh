#!/usr/bin/env bash
# Mutation testing of the advice, validation, intake and store modules (docs/testing.md).
#
#   scripts/mutation.sh            run (or resume) mutmut, then print the score per module
#   scripts/mutation.sh --score    only print the score of the last run
#   scripts/mutation.sh --fresh    forget earlier results and start again
#   scripts/mutation.sh --sample FILE   run (again) only the mutants named in FILE (one a
#                                  line, or the second column of docs/mutation-sample.tsv),
#                                  then print the score over them
#
# What is mutated and which tests judge the mutants: [tool.mutmut] in pyproject.toml.
# Parallelism: MUTATION_JOBS (default 1: the machine is shared; 2 when it is idle).
# Results are kept in mutants/ (git-ignored): a re-run only tests new or changed mutants.
# Not part of CI's default run: a full run takes about an hour on two cores.
set -euo pipefail
cd "$(dirname "$0")/.."

PY=.venv/bin/python
if ! "$PY" -c "import mutmut" 2>/dev/null; then
    "$PY" -m pip install -q -e '.[test,mutation]'
fi

mode="${1:-run}"
names=()
if [[ "$mode" == "--sample" ]]; then
    sample="${2:?usage: $0 --sample FILE}"
    # A named mutant is tested again even if it has a result (new tests may kill it).
    mapfile -t names < <(awk '{print $NF}' "$sample")
    mode=run
fi
if [[ "$mode" == "--fresh" ]]; then
    rm -rf mutants
    mode=run
fi
if [[ "$mode" == "run" ]]; then
    # CI=true makes the PostgreSQL runs of the chosen tests fail, not skip, without a server.
    # Each surviving mutant runs every test that covers it: fewer property-test examples
    # (40 instead of 150) keep that to seconds; the default test run keeps 150.
    CI=true CROSSROADS_PROPERTY_EXAMPLES="${CROSSROADS_PROPERTY_EXAMPLES:-40}" \
        "$PY" -m mutmut run --max-children "${MUTATION_JOBS:-1}" "${names[@]}" || true
elif [[ "$mode" != "--score" ]]; then
    echo "usage: $0 [--score | --fresh | --sample FILE]" >&2
    exit 2
fi

if [[ -n "${sample:-}" ]]; then
    "$PY" -m mutmut results --all true | "$PY" scripts/mutation_score.py --only <(awk '{print $NF}' "$sample")
else
    "$PY" -m mutmut results --all true | "$PY" scripts/mutation_score.py
fi
