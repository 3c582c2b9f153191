"""Start-up (issue 12 item 3): a console turn loads only what it uses, and the playbook
cache that spares a restart the YAML parse changes nothing a person sees.

Each test runs the real `crossroads console` in a subprocess on its own data folder.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from bot.playbook.loader import PlaybookError, load_playbook
from tests.test_console_cli import Console, in_order, q
from tests.test_playbook_check import TYPOS, VALID

REPO_ROOT = Path(__file__).resolve().parent.parent

# Packages a console consultation never needs: charts, migrations (the schema is at head),
# the scheduler and the platform SDKs; PyYAML once the playbooks are cached.
HEAVY = ("matplotlib", "numpy", "alembic", "mako", "apscheduler", "discord", "slack_bolt")
HEAVY += ("slack_sdk", "aiohttp", "asyncpg", "yaml")

# The console as `crossroads console`, writing the loaded top-level packages to a file as
# the process exits.
DUMP_MODULES = """
import atexit, gc, json, sys
out = sys.argv.pop(1)
collector = []  # whether the garbage collector ran while each line was answered
atexit.register(lambda: open(out, "w").write(json.dumps([sorted(sys.modules), collector])))
sys.argv[0] = "crossroads"
from adapters.cli import main
import adapters.console.session as session
step = session.ConsoleSession.step
async def noted(self, line):
    collector.append(gc.isenabled())
    return await step(self, line)
session.ConsoleSession.step = noted
main()
"""


@pytest.fixture
def console(tmp_path: Path) -> Console:
    root = tmp_path / "root"
    root.mkdir()
    return Console(root)


def run_console_dumping(
    console: Console, dump: Path, *lines: str
) -> tuple[str, list[str], list[bool]]:
    done = subprocess.run(
        [sys.executable, "-c", DUMP_MODULES, str(dump), "console", "--user", "alice"],
        input="".join(f"{line}\n" for line in lines),
        capture_output=True,
        text=True,
        env=console.env,
        cwd=console.root,
        timeout=60,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert "Traceback" not in done.stdout + done.stderr
    modules, collector = json.loads(dump.read_text())
    return done.stdout, modules, collector


def test_a_console_turn_on_a_migrated_database_imports_no_heavy_package(
    console: Console, tmp_path: Path
) -> None:
    console.ok("1")  # migrates, caches the playbook, answers the first question
    out, modules, collector = run_console_dumping(console, tmp_path / "modules.json", "1")
    in_order(out, "Welcome back", q(2, 5, "Did you write a thesis?"), q(3, 5, "Which skills"))
    # Start-up runs without the cyclic garbage collector; the consultation with it.
    assert collector == [True]
    loaded = {m.split(".")[0] for m in modules}
    assert "sqlalchemy" in loaded  # the dump is of the process that held the consultation
    assert sorted(loaded & set(HEAVY)) == []


def test_a_restart_reads_the_cached_playbook_and_shows_the_same(console: Console) -> None:
    first = console.ok("1", user="ann")
    cache = console.root / "data" / "cache" / "playbooks"
    entries = sorted(cache.glob("*.json"))
    assert [e.name.rpartition("-")[0] for e in entries] == ["tiny"]
    assert console.ok("1", user="ben") == first  # the same cards from the cached playbook
    assert sorted(cache.glob("*.json")) == entries  # read, not rewritten under a new name


def test_an_edited_playbook_is_read_again_and_the_old_entry_dropped(console: Console) -> None:
    console.ok()
    tiny = console.root / "playbooks" / "tiny.yaml"
    tiny.write_text(
        tiny.read_text(encoding="utf-8").replace("What are you?", "What are you now?"),
        encoding="utf-8",
    )
    out = console.ok(user="bob")
    in_order(out, q(1, 5, "What are you now?"))
    assert len(list((console.root / "data" / "cache" / "playbooks").glob("*.json"))) == 1


def test_a_playbook_broken_after_a_cached_start_is_refused_with_its_lines(
    console: Console,
) -> None:
    playbooks = console.root / "playbooks"
    (playbooks / "mini.yaml").write_text(VALID, encoding="utf-8")
    console.ok()  # both cached
    (playbooks / "mini.yaml").write_text(TYPOS, encoding="utf-8")
    run = console.run("1")
    assert run.code == 2
    assert run.out == ""
    assert "crossroads: refusing to start: a playbook is invalid:" in run.err
    assert f"{playbooks / 'mini.yaml'}:8: questions[0].promt: Extra inputs are not permitted" in (
        run.err
    )


def test_a_damaged_cache_entry_is_ignored(console: Console) -> None:
    first = console.ok("1", user="ann")
    entries = list((console.root / "data" / "cache" / "playbooks").glob("*.json"))
    assert entries
    for entry in entries:
        entry.write_text('{"id": "tiny", "questions": "not a list"', encoding="utf-8")
    assert console.ok("1", user="ben") == first


@pytest.mark.parametrize("name", ["ml-research-career", "phd-offer-choice"])
def test_the_cached_playbook_equals_the_parsed_one(name: str, tmp_path: Path) -> None:
    path = REPO_ROOT / "config" / "playbooks" / f"{name}.yaml"
    parsed = load_playbook(path)
    assert load_playbook(path, cache_dir=tmp_path) == parsed  # written
    assert len(list(tmp_path.glob("*.json"))) == 1
    assert load_playbook(path, cache_dir=tmp_path) == parsed  # read back


def test_an_invalid_playbook_is_never_cached(tmp_path: Path) -> None:
    bad = tmp_path / "mini.yaml"
    bad.write_text(TYPOS, encoding="utf-8")
    for _ in range(2):
        with pytest.raises(PlaybookError) as caught:
            load_playbook(bad, cache_dir=tmp_path / "cache")
        assert any(i.line == 8 for i in caught.value.issues)
    assert not (tmp_path / "cache").exists()
