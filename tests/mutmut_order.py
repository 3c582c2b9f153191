"""A pytest plugin for mutation runs (scripts/mutation.sh): fastest tests first.

mutmut runs every test that covers a mutated function, stopping at the first failure, in
no particular order. Running them fastest first (durations from mutmut's own stats) kills
most mutants in a fraction of a second instead of after the slow property tests. Order
does not change a verdict: every covering test still runs when the mutant survives.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

STATS = Path("mutmut-stats.json")  # mutmut runs pytest inside mutants/, where it keeps it


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    if not STATS.exists():
        return
    try:
        durations: dict[str, float] = json.loads(STATS.read_text())["duration_by_test"]
    except (ValueError, KeyError):
        return
    items.sort(key=lambda item: durations.get(item.nodeid, 0.0))
