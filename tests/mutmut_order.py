"""A pytest plugin for mutation runs (scripts/mutation.sh): fastest tests first.

mutmut runs every test that covers a mutated function, stopping at the first failure, in
no particular order. Running them fastest first (durations from mutmut's own stats) kills
most mutants in a fraction of a second instead of after the slow property tests. Order
does not change a verdict: every covering test still runs when the mutant survives.

It also empties the advice's caches when a mutant's tests start. mutmut forks each mutant's
process from one that has already run tests, so a cached result (a cue pattern's plan, a
sentence, a playbook's scorer, the table of ASCII characters built at import) would come
from the unmutated code, and a mutant of a cached function would never run.
"""

from __future__ import annotations

import json
import os
import sys
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


# Caches filled by earlier tests in the process a mutant's process is forked from.
_DICT_CACHES = {
    "bot.advice.cues": ("_READ", "_INDEXES"),
    "bot.advice.scoring": ("_SCORERS",),
    "bot.advice.textscan": ("_OTHERS",),
}


def pytest_sessionstart(session: pytest.Session) -> None:
    if not os.environ.get("MUTANT_UNDER_TEST"):
        return
    for name, module in list(sys.modules.items()):
        if not name.startswith("bot.") or module is None:
            continue
        for value in list(vars(module).values()):
            clear = getattr(value, "cache_clear", None)
            if callable(clear):
                clear()
        for attr in _DICT_CACHES.get(name, ()):
            getattr(module, attr).clear()
    textscan = sys.modules.get("bot.advice.textscan")
    if textscan is not None:  # built at import: build it again, through the mutant
        textscan._ASCII.update({i: textscan._spaced_char(chr(i)) for i in range(128)})
