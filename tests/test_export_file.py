"""/export: a safe file name in the data folder, current answers first, then what changed."""

from __future__ import annotations

from pathlib import Path

from bot import events as ev
from bot.export import export_filename
from bot.messages import ExportFile
from bot.settings import Settings
from tests.conftest import make_engine
from tests.test_console_cli import Console


def test_file_names_cannot_leave_the_folder() -> None:
    for name in ("../../etc/x", "/etc/passwd", "..", "a/b\\c", "\x00", "", "ü" * 10):
        made = export_filename("console", name)
        assert "/" not in made and "\\" not in made and ".." not in made, made
        assert made.startswith("crossroads-console-") and made.endswith(".md")
    assert export_filename("slack", "U123") == "crossroads-slack-U123.md"


def test_console_export_goes_to_the_data_folder_under_a_safe_name(tmp_path: Path) -> None:
    console = Console(tmp_path)
    run = console.run("1", "/export", user="../../etc/x")
    assert run.code == 0, run.err
    exports = tmp_path / "data" / "exports"
    written = list(exports.iterdir())
    assert [p.name for p in written] == ["crossroads-console-etc_x.md"]
    assert f"* Wrote your data to {written[0]}." in run.out
    assert not [p for p in tmp_path.iterdir() if p.suffix == ".md"]  # not in the cwd
    assert not (tmp_path.parent / "etc").exists()


async def test_export_shows_current_answers_then_the_changes(
    sqlite_url: str, settings: Settings
) -> None:
    engine = await make_engine(sqlite_url, settings.model_copy(update={"default_playbook": "tiny"}))
    ann = ev.UserRef("console", "local", "ann")
    try:
        await engine.run(ev.Start(user=ann))
        for value in ["worker", ["code"], "2"]:
            await engine.run(ev.Answer(user=ann, value=value))
        await engine.run(ev.Edit(user=ann, question="money"))
        await engine.run(ev.Answer(user=ann, value="5"))
        export = ((await engine.run(ev.Export(user=ann))).messages)[0]
        assert isinstance(export, ExportFile)
        md = export.content
        current = md[md.index("### Current answers") : md.index("### Earlier answers")]
        earlier = md[md.index("### Earlier answers") :]
        assert "- pay: 5 of 5" in current and "2 of 5" not in current
        assert "- your role: Worker" in current
        assert "pay: 2 of 5 (replaced" in earlier and "5 of 5" not in earlier.split("\n\n")[1]
    finally:
        await engine.db.dispose()
