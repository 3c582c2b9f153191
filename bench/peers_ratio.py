"""Crossroads beside the peers (python-telegram-bot) on one workload: paired ratios in one run.

Runs, in interleaved rounds (A B C D, A B C D, ...), the peer benchmarks of
``../shared/peers`` (see its README; build the PTB venv with its setup.sh) and the same
workload through our console adapter (bench/peers_turns.py: the peers' own
crossroads_turns.py predates the core contract), then prints for every round the ratio of our
throughput to each peer's, and the median, min and max of those ratios. Rounds are paired
so that the machine's drift (a shared machine moves 2x) cancels out of the ratio.

Configurations:
  ptb.wal.update   PTB ConversationHandler + SQLAlchemy/SQLite WAL, flushed every update
                   (synchronous FULL: about one fsync per turn) - the best persisted peer;
  ptb.memory       PTB with persistence never flushed during the run: the in-memory floor;
  cr.full          Crossroads console, SQLite synchronous FULL (equal durability);
  cr.default       Crossroads console at its default (WAL, synchronous NORMAL).

Usage (from the project root):
  .venv/bin/python bench/peers_ratio.py [--rounds 3] [--users 1000] [--peers ../shared/peers]
      [--peers-home $TMPDIR/peers] [--project .] [--raw results.jsonl]
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

PAIRS = (
    ("cr.full", "ptb.wal.update", "equal durability vs the best persisted peer"),
    ("cr.default", "ptb.wal.update", "our default vs the best persisted peer"),
    ("cr.full", "ptb.memory", "equal durability vs the in-memory PTB floor"),
)


def commands(args: argparse.Namespace, data: str) -> dict[str, list[str]]:
    ptb = [
        str(Path(args.peers_home) / "venv-ptb" / "bin" / "python"),
        str(Path(args.peers) / "ptb_bench.py"),
        "--users",
        str(args.users),
        "--data-dir",
        data,
        "--store",
        "sqlite",
    ]
    cr = [  # the peers' workload through our API (bench/peers_turns.py, see RESULTS.md)
        str(Path(args.project) / ".venv" / "bin" / "python"),
        str(Path(args.project) / "bench" / "peers_turns.py"),
        "--peers",
        args.peers,
        "--users",
        str(args.users),
        "--via",
        "console",
        "--playbook",
        "peer10",
        "--data-dir",
        data,
    ]
    return {
        "ptb.wal.update": [*ptb, "--flush", "update", "--journal", "WAL"],
        "ptb.memory": [*ptb, "--flush", "none"],
        "cr.full": [*cr, "--sync", "FULL"],
        "cr.default": cr,
    }


def run_one(label: str, cmd: list[str]) -> dict[str, object]:
    out = subprocess.run(
        [*cmd, "--label", label], capture_output=True, text=True, check=False
    ).stdout
    rows = [json.loads(line) for line in out.splitlines() if line.startswith("{")]
    if not rows:
        raise SystemExit(f"{label}: no result from {' '.join(cmd)}")
    return rows[-1]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--users", type=int, default=1000)
    parser.add_argument("--project", default=str(Path(__file__).resolve().parent.parent))
    parser.add_argument("--peers", default=None, help="default: ../shared/peers of the project")
    parser.add_argument(
        "--peers-home",
        default=os.environ.get("PEERS_HOME", str(Path(tempfile.gettempdir()) / "peers")),
    )
    parser.add_argument("--raw", help="also append every result line to this file")
    args = parser.parse_args()
    args.project = str(Path(args.project).resolve())
    args.peers = args.peers or str(Path(args.project).parent.parent / "shared" / "peers")
    if not Path(args.peers).is_dir():
        args.peers = str(Path("/work/shared/peers"))
    rounds: list[dict[str, dict[str, object]]] = []
    with tempfile.TemporaryDirectory() as data:
        cmds = commands(args, data)
        for r in range(args.rounds):
            results = {}
            for label, cmd in cmds.items():
                row = run_one(label, cmd)
                results[label] = row
                checks = row.get("checks", {})
                ok = all(v is True for k, v in checks.items() if k.startswith("ok_"))  # type: ignore[union-attr]
                print(
                    f"round {r + 1}/{args.rounds} {label:16} {row['turns_per_s']:>8} turns/s  "
                    f"p50 {row['p50_ms']} ms  p99 {row['p99_ms']} ms"
                    + ("" if ok else "  CHECKS FAILED"),
                    flush=True,
                )
                if args.raw:
                    with open(args.raw, "a") as f:
                        f.write(json.dumps(row) + "\n")
            rounds.append(results)
    print()
    for label in rounds[0]:
        tps = [float(r[label]["turns_per_s"]) for r in rounds]  # type: ignore[arg-type]
        p99 = [float(r[label]["p99_ms"]) for r in rounds]  # type: ignore[arg-type]
        extra = ""
        if "final_p99_ms" in rounds[0][label]:
            finals = [float(r[label]["final_p99_ms"]) for r in rounds]  # type: ignore[arg-type]
            extra = f", final-turn p99 median {statistics.median(finals):.3f} ms"
        print(
            f"{label:16} turns/s median {statistics.median(tps):.1f} "
            f"(min {min(tps):.1f}, max {max(tps):.1f}); p99 median {statistics.median(p99):.3f} ms"
            + extra
        )
    print()
    for ours, peer, what in PAIRS:
        ratios = [
            float(r[ours]["turns_per_s"]) / float(r[peer]["turns_per_s"])  # type: ignore[arg-type]
            for r in rounds
        ]
        print(
            f"{ours} / {peer} ({what}): median {statistics.median(ratios):.2f}x "
            f"(min {min(ratios):.2f}, max {max(ratios):.2f}; per round "
            + ", ".join(f"{x:.2f}" for x in ratios)
            + ")"
        )


if __name__ == "__main__":
    sys.exit(main())
