"""Start-up of whole processes (issue 12 item 3): `crossroads --help` and the console's
first question, this checkout against another (a copy of main), runs alternating A B A B.

Per run, from outside the process:
  help      wall and user+sys CPU of `crossroads --help`, its peak RSS (wait4's ru_maxrss)
  console   `crossroads console --user a` resuming a consultation on a migrated data
            folder (one per checkout, set up untimed, which also fills this branch's
            playbook cache): wall time from spawn until the question card is printed
            whole ("first question"; its user+sys CPU so far from /proc, in 10 ms
            steps), the RSS while it then waits for input (VmRSS, "idle RSS"), then stdin
            is closed and the process's user+sys CPU (to exit) and peak RSS are read from
            wait4 when it exits.

Both checkouts run with this venv's interpreter and packages, PYTHONPATH set to the
checkout and the editable install's import hook taken out (so each imports its own
``bot``/``adapters``), PYTHONDONTWRITEBYTECODE=1. ``--bytecode compiled`` compiles both
checkouts' ``bot``/``adapters`` first (an installed package has .pyc files);
``--bytecode none`` deletes their __pycache__ folders (every run compiles the sources).
``--cold-cache`` deletes the data folder's playbook cache before every run (a first start
after installing or editing a playbook).

Usage:
  git archive main | tar -x -C /tmp/su-base      # the baseline checkout
  .venv/bin/python bench/startup.py --base /tmp/su-base [-n 10] [--bytecode compiled|none]
      [--cold-cache]
Prints medians, min-max and the paired ratios A/B (A = this checkout).
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent

# `crossroads ARGS` from the checkout on PYTHONPATH, not the editable install's mapping.
BOOT = (
    "import sys\n"
    "sys.meta_path[:] = [f for f in sys.meta_path\n"
    "                    if not getattr(f, '__module__', '').startswith('__editable__')]\n"
    "sys.argv[0] = 'crossroads'\n"
    "from adapters.cli import main\n"
    "main()\n"
)
QUESTION = b"=== Question "


@dataclass
class Figures:
    rows: dict[str, list[float]] = field(default_factory=dict)

    def add(self, name: str, value: float) -> None:
        self.rows.setdefault(name, []).append(value)


def _env(tree: Path, data: Path) -> dict[str, str]:
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("CROSSROADS_", "SLACK_", "DISCORD_")) and k != "DATABASE_URL"
    }
    env.update(
        PYTHONPATH=str(tree),
        PYTHONDONTWRITEBYTECODE="1",
        CROSSROADS_DATA_DIR=str(data),
        CROSSROADS_CONFIG_DIR=str(tree / "config"),
    )
    return env


def _cmd(*args: str) -> list[str]:
    return [sys.executable, "-c", BOOT, *args]


def _wait(proc: subprocess.Popen[bytes]) -> tuple[float, float]:
    """(user+sys CPU seconds, peak RSS MiB) of the finished child."""
    _, status, usage = os.wait4(proc.pid, 0)
    proc.returncode = os.waitstatus_to_exitcode(status)
    return usage.ru_utime + usage.ru_stime, usage.ru_maxrss / 1024


def _cpu_so_far(pid: int) -> float:
    """user+sys CPU seconds of a running process (/proc, clock ticks: 10 ms steps)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def _vm_rss(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def time_help(tree: Path, data: Path, out: Figures) -> None:
    start = time.perf_counter()
    proc = subprocess.Popen(
        _cmd("--help"),
        env=_env(tree, data),
        cwd=tree,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    assert proc.stdout is not None and proc.stderr is not None
    text, err = proc.stdout.read(), proc.stderr.read()
    cpu, rss = _wait(proc)
    wall = time.perf_counter() - start
    if proc.returncode != 0 or b"console" not in text:
        raise SystemExit(f"{tree}: --help failed: {err!r}")
    out.add("help wall s", wall)
    out.add("help cpu s", cpu)
    out.add("help peak RSS MiB", rss)


def time_console(tree: Path, data: Path, out: Figures, settle: float) -> None:
    start = time.perf_counter()
    proc = subprocess.Popen(
        _cmd("console", "--user", "a"),
        env=_env(tree, data),
        cwd=tree,
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    assert proc.stdout is not None and proc.stdin is not None and proc.stderr is not None
    seen = b""
    fd = proc.stdout.fileno()
    while True:  # until the question card is complete (it ends with an empty line)
        chunk = os.read(fd, 65536)
        if not chunk:
            raise SystemExit(f"{tree}: console ended before a question: {proc.stderr.read()!r}")
        seen += chunk
        at = seen.find(QUESTION)
        if at >= 0 and b"\n\n" in seen[at:]:
            break
    first = time.perf_counter() - start
    first_cpu = _cpu_so_far(proc.pid)
    time.sleep(settle)  # waiting for input now; let it settle before reading its RSS
    idle = _vm_rss(proc.pid)
    proc.stdin.close()
    rest = proc.stdout.read()
    cpu, peak = _wait(proc)
    if proc.returncode != 0 or b"Goodbye" not in rest:
        raise SystemExit(f"{tree}: console did not end cleanly: {proc.stderr.read()!r}")
    out.add("console first question wall s", first)
    out.add("console first question cpu s", first_cpu)
    out.add("console cpu to exit s", cpu)
    out.add("console idle RSS MiB", idle)
    out.add("console peak RSS MiB", peak)


def imported_from(tree: Path) -> str:
    """Where ``adapters`` is imported from when run as the timed commands are."""
    probe = BOOT.replace("from adapters.cli import main\nmain()\n", "import adapters\n")
    probe += "print(adapters.__file__)\n"
    done = subprocess.run(
        [sys.executable, "-c", probe],
        env=_env(tree, tree),
        cwd=tree,
        check=True,
        capture_output=True,
        text=True,
    )
    return done.stdout.strip()


def prepare(tree: Path, data: Path, bytecode: str) -> None:
    where = imported_from(tree)
    if not where.startswith(str(tree) + os.sep):
        raise SystemExit(f"{tree}: the commands would import {where}")
    for pkg in ("bot", "adapters"):
        for cache in (tree / pkg).rglob("__pycache__"):
            shutil.rmtree(cache)
    if bytecode == "compiled":
        subprocess.run(
            [sys.executable, "-m", "compileall", "-q", str(tree / "bot"), str(tree / "adapters")],
            check=True,
            stdout=subprocess.DEVNULL,
        )
    shutil.rmtree(data, ignore_errors=True)
    env = _env(tree, data)
    subprocess.run(_cmd("db", "upgrade"), env=env, cwd=tree, check=True, capture_output=True)
    # The consultation the timed runs resume (and, on this branch, the playbook cache).
    subprocess.run(
        _cmd("console", "--user", "a"), env=env, cwd=tree, check=True, capture_output=True
    )


def summary(values: list[float]) -> str:
    return f"median {statistics.median(values):8.3f}  min-max {min(values):.3f}-{max(values):.3f}"


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--base", type=Path, required=True, help="the baseline checkout (B)")
    ap.add_argument("-n", type=int, default=10, help="runs of each command per checkout")
    ap.add_argument("--bytecode", choices=("compiled", "none"), default="compiled")
    ap.add_argument("--cold-cache", action="store_true", help="no playbook cache (a first start)")
    ap.add_argument("--settle", type=float, default=0.3, help="seconds before reading idle RSS")
    args = ap.parse_args()
    trees = {"A": REPO, "B": args.base.resolve()}
    data = {k: Path(f"/tmp/crossroads-startup-bench-{k}") for k in trees}
    load = os.getloadavg()
    print(
        f"A = {trees['A']}  B = {trees['B']}  bytecode {args.bytecode}  n={args.n}  "
        f"playbook cache {'cold' if args.cold_cache else 'warm'}  "
        f"load {load[0]:.2f} {load[1]:.2f} {load[2]:.2f}"
    )
    for key, tree in trees.items():
        prepare(tree, data[key], args.bytecode)
    figures = {k: Figures() for k in trees}
    for i in range(args.n + 1):  # the first round is a warm-up, not counted
        for key, tree in trees.items():
            if args.cold_cache:
                shutil.rmtree(data[key] / "cache", ignore_errors=True)
            target = figures[key] if i else Figures()
            time_help(tree, data[key], target)
            time_console(tree, data[key], target, args.settle)
    for name in figures["A"].rows:
        a, b = figures["A"].rows[name], figures["B"].rows[name]
        ratios = [x / y for x, y in zip(a, b, strict=True)]
        print(f"{name}")
        print(f"  A      {summary(a)}")
        print(f"  B      {summary(b)}")
        print(f"  A/B    {summary(ratios)}")
    load = os.getloadavg()
    print(f"load at the end {load[0]:.2f} {load[1]:.2f} {load[2]:.2f}")


if __name__ == "__main__":
    main()
