"""/forget leaves no copy of the person's text in the SQLite files (database and WAL)."""

from __future__ import annotations

from pathlib import Path

from bot import events as ev
from bot.settings import Settings
from tests.conftest import make_engine

MARK = "QZX-forgotten-4711"
ANN = ev.UserRef("console", "local", f"ann-{MARK}")
KEEP = ev.UserRef("console", "local", "bob")


def copies(db_file: Path) -> int:
    found = 0
    for path in (db_file, db_file.with_name(db_file.name + "-wal")):
        if path.exists():
            found += path.read_bytes().count(MARK.encode())
    return found


async def test_forget_overwrites_rows_and_empties_the_wal(
    tmp_path: Path, settings: Settings
) -> None:
    db_file = tmp_path / "crossroads.db"
    engine = await make_engine(
        f"sqlite:///{db_file}", settings.model_copy(update={"default_playbook": "tiny"})
    )
    try:
        for user in (ANN, KEEP):
            await engine.run(ev.Start(user=user))
            for value in ["student", "yes", ["code"], "5", f"my secret {MARK} " * 20]:
                await engine.run(ev.Answer(user=user, value=value if user == ANN else "1"))
        await engine.run(ev.Back(user=ANN))
        await engine.run(ev.Answer(user=ANN, value=f"changed {MARK}"))  # history holds both texts
        assert copies(db_file) > 0
        await engine.run(ev.Forget(user=ANN, confirmed=True))
        assert copies(db_file) == 0  # while the process still runs
        assert await engine.has_open_consultation(KEEP)
    finally:
        await engine.db.dispose()
    assert copies(db_file) == 0
