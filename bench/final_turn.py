"""The final turn's advice work (rank + compose) for the seed person, in one process.

Run against two checkouts, alternating, to compare (figures in bench/RESULTS.md):
    git archive 7554ecf | tar -x -C /tmp/old
    .venv/bin/python bench/final_turn.py /tmp/old; .venv/bin/python bench/final_turn.py .
"""

import statistics
import sys
import time
from datetime import date
from pathlib import Path

root = Path(sys.argv[1])
sys.path.insert(0, str(root))
from bot.advice import rank  # noqa: E402 - from the checkout named on the command line
from bot.advice.compose import compose  # noqa: E402
from bot.playbook.loader import load_playbook  # noqa: E402

pb = load_playbook(root / "config/playbooks/ml-research-career.yaml")
ans = {
    "goal": "unsure",
    "degree": "master",
    "field": "hep",
    "situation": "graduated",
    "experience": ["thesis", "internship"],
    "landscape": ["not_yet"],
    "routes": ["phd_domain", "phd_ml", "masters_first", "industry"],
    "phd_view": "want",
    "region": "europe",
    "academia": 3,
    "pay": 2,
    "speed": 3,
    "safety": 3,
    "domain": 3,
    "topics": [
        "where",
        "masters",
        "own_field",
        "domain_value",
        "core_phd",
        "company",
        "compare",
        "other",
    ],
    "worry": "I worry that HEP is slow for ML",
    "constraints": None,
}
today = date(2026, 12, 2)
for _ in range(3):
    rank(pb, ans, today)
    compose(pb, ans, today)
ts = []
for _ in range(30):
    a = time.perf_counter()
    rank(pb, ans, today)
    compose(pb, ans, today)
    ts.append(time.perf_counter() - a)
print(f"{root}: median {statistics.median(ts) * 1000:.1f} ms, min {min(ts) * 1000:.1f} ms")
