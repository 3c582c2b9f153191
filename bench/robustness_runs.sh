#!/usr/bin/env bash
# Run process-level tests many times in a row under a CPU hog (issue 11 item 10).
#
#   bench/robustness_runs.sh [RUNS] [PYTEST TARGET...]
#
# Starts one busy-loop per core (`python3 -c 'while True: pass'`), runs pytest on the
# targets RUNS times (default 20) with CI=true, kills exactly the hogs it started (by pid,
# also on Ctrl-C), and prints per-test pass counts and the wall time of each run. Results
# (one JUnit XML per run) stay in $OUT (default: a fresh directory under /tmp).
set -u
cd "$(dirname "$0")/.."
RUNS=${1:-20}
shift || true
TARGETS=("$@")
if [ ${#TARGETS[@]} -eq 0 ]; then
    TARGETS=(
        tests/test_stop_signals.py
        tests/test_discord_commands.py::test_the_readme_run_command_serves_discord
        tests/test_discord_shard_processes.py
    )
fi
OUT=${OUT:-$(mktemp -d /tmp/crossroads-robustness.XXXXXX)}
PY=.venv/bin/python
HOGS=()
stop_hogs() {
    for pid in "${HOGS[@]}"; do kill "$pid" 2>/dev/null; done
    for pid in "${HOGS[@]}"; do wait "$pid" 2>/dev/null; done
    HOGS=()
}
trap stop_hogs EXIT INT TERM
for _ in $(seq "$(nproc)"); do
    python3 -c 'while True: pass' &
    HOGS+=($!)
done
echo "hogs: ${HOGS[*]} ($(nproc) cores); results in $OUT"
for i in $(seq "$RUNS"); do
    start=$(date +%s.%N)
    CI=true "$PY" -m pytest "${TARGETS[@]}" -q -p no:cacheprovider \
        --junitxml="$OUT/run$i.xml" >"$OUT/run$i.log" 2>&1
    rc=$?
    end=$(date +%s.%N)
    printf 'run %2d: exit %d, %.1f s, %s\n' "$i" "$rc" "$(echo "$end - $start" | bc)" \
        "$(tail -1 "$OUT/run$i.log")"
done
stop_hogs
"$PY" - "$OUT" "$RUNS" <<'EOF'
import statistics
import sys
import xml.etree.ElementTree as ET
from collections import Counter
from pathlib import Path

out, runs = Path(sys.argv[1]), int(sys.argv[2])
passed, failed, took = Counter(), Counter(), {}
for i in range(1, runs + 1):
    for case in ET.parse(out / f"run{i}.xml").iter("testcase"):
        name = f"{case.get('classname')}::{case.get('name')}"
        bad = case.find("failure") is not None or case.find("error") is not None
        skipped = case.find("skipped") is not None
        (failed if bad or skipped else passed)[name] += 1
        took.setdefault(name, []).append(float(case.get("time") or 0))
for name in sorted(took):
    t = sorted(took[name])
    print(
        f"{passed[name]}/{runs} passed  {name}  "
        f"(min {t[0]:.1f} s, median {statistics.median(t):.1f} s, max {t[-1]:.1f} s)"
    )
EOF
