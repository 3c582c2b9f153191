"""bench/peers_turns.py runs the peers' workload through our API and checks its own result.

Why a test: the peers' shared harness broke silently when the core contract changed; this
one runs a few people through both entry points on every change, so it cannot rot the same
way. (Only the playbook in this repository: the peers' peer10.yaml lives beside them.)
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from bench import peers_turns


@pytest.mark.parametrize("via", ["engine", "console"])
async def test_every_person_finishes_and_every_answer_is_stored(
    via: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    args = peers_turns.parser().parse_args(
        ["--users", "3", "--via", via, "--playbook", "ml-research-career"]
    )
    args.data_dir = str(tmp_path)
    assert await peers_turns.main(args) is True
    row = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    assert row["via"] == via and row["users"] == 3
    assert row["checks"]["finished"] == 3 and row["checks"]["closed"] == 3
    assert row["checks"]["errors"] == 0
    assert row["final_turns"] == 3 and row["start_turns"] == 3
    assert row["turns"] == 3 + row["checks"]["answers_rows"]  # a start, then one per answer
