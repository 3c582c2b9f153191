"""The `crossroads` command: run the bot, hold a console consultation, manage the database.

Start-up is CPU-bound, so each command imports only what it uses, when it runs: `--help`
loads click and these definitions, not the ORM, alembic, pydantic or a platform SDK.
"""

from __future__ import annotations

import sys
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import TYPE_CHECKING

import click

from adapters.discord.cli import discord_group  # imports no discord.py until a command runs
from adapters.slack.commands import slack as slack_commands  # click only; slack_sdk on use

if TYPE_CHECKING:
    from bot.settings import Settings


def _fail(message: str, code: int = 2) -> None:
    click.echo(f"crossroads: {message}", err=True)
    sys.exit(code)


def _settings(**overrides: object) -> Settings:
    from adapters.runtime import settings_or_exit

    return settings_or_exit(**overrides)


def _collector_off_for_start_up() -> None:
    """Start-up creates a few hundred thousand objects that live as long as the process
    (modules, classes, the ORM's mappers, the playbooks), and the cyclic garbage collector
    would scan them again and again while they are made: about a tenth of a console's
    start. It stays off until the runtime is ready; adapters/serve.py then freezes what
    exists out of its scans and turns it back on (``_run`` does, if start-up fails)."""
    import gc

    gc.disable()


def _run(coro_fn: Callable[[], Awaitable[int | None]]) -> None:
    import asyncio
    import gc

    from adapters.runtime import StartupError

    try:
        code = asyncio.run(coro_fn())
    except StartupError as exc:
        _fail(str(exc))
    except KeyboardInterrupt:
        click.echo("\nStopped; your progress is saved.", err=True)
        code = 130
    finally:
        gc.enable()
    sys.exit(code or 0)


@click.group(invoke_without_command=True)
@click.version_option(package_name="crossroads", prog_name="crossroads")
@click.pass_context
def cli(ctx: click.Context) -> None:
    """Crossroads: career advice in Discord, Slack or this terminal.

    With no command, serves the platforms whose credentials are set in the environment,
    or holds a consultation here in the terminal when none are.
    """
    if ctx.invoked_subcommand is None:
        ctx.invoke(run)


@cli.command()
@click.option("--user", default=None, help="Console user name (default: your login name).")
@click.option("--playbook", default=None, help="Playbook id for the console consultation.")
def run(user: str | None, playbook: str | None) -> None:
    """Serve the configured platforms, or the terminal when none are configured."""
    _collector_off_for_start_up()
    from adapters.serve import serve

    _run(lambda: serve(_settings(), console_user=user, console_playbook=playbook))


@cli.command()
@click.option("--user", default=None, help="Who you are; the same name resumes your consultation.")
@click.option("--playbook", default=None, help="Which playbook to use (see `playbook list`).")
def console(user: str | None, playbook: str | None) -> None:
    """Hold a consultation in this terminal (works with piped input too)."""
    _collector_off_for_start_up()
    from adapters.serve import serve_console

    _run(lambda: serve_console(_settings(), user, playbook))


@cli.group()
def db() -> None:
    """Database schema commands."""


@db.command("upgrade")
def db_upgrade() -> None:
    """Create or upgrade the schema to the latest migration."""

    from adapters.runtime import open_runtime

    async def go() -> int:
        rt = await open_runtime(_settings(auto_migrate=True), log_to_stderr=True)
        await rt.close()
        click.echo("database is up to date")
        return 0

    _run(go)


@cli.command()
@click.option(
    "--tenant",
    default=None,
    metavar="PLATFORM:ID",
    help="One Discord server (discord:SERVER_ID) or Slack workspace (slack:TEAM_ID); "
    "default: the whole database.",
)
@click.option(
    "--csv",
    "csv_file",
    default=None,
    type=click.Path(dir_okay=False, path_type=Path),
    help="Also write the figures as CSV to this file.",
)
@click.option(
    "--chart",
    "chart_file",
    default=None,
    type=click.Path(dir_okay=False, path_type=Path),
    help="Also draw the funnel and routes chart as a PNG into this file (charts extra).",
)
def stats(tenant: str | None, csv_file: Path | None, chart_file: Path | None) -> None:
    """Aggregate statistics (small counts hidden) as text tables."""
    from adapters.console.stats import run_stats

    _run(lambda: run_stats(_settings(), tenant, csv_file, chart_file))


@cli.group()
def playbook() -> None:
    """Playbook commands."""


@playbook.command("check")
@click.argument("files", nargs=-1, required=True, type=click.Path(path_type=Path))
def playbook_check(files: tuple[Path, ...]) -> None:
    """Validate playbook FILES; print every problem with its location."""
    from bot.playbook.loader import PlaybookError, load_playbook

    failed = 0
    for file in files:
        try:
            pb = load_playbook(file)
        except PlaybookError as exc:
            failed += 1
            for issue in exc.issues:
                click.echo(str(issue))
            continue
        click.echo(
            f"{file}: ok ({pb.id} v{pb.version}: {len(pb.questions)} questions, "
            f"{len(pb.paths)} paths)"
        )
    sys.exit(1 if failed else 0)


@playbook.command("lint")
@click.argument("file", type=click.Path(path_type=Path))
@click.option("--random", "random_sets", default=300, show_default=True, type=click.IntRange(0))
@click.option("--seed", default=0, show_default=True, help="Seed of the random answer sets.")
@click.option("--today", default=None, help="The date the advice is given (YYYY-MM-DD).")
def playbook_lint(file: Path, random_sets: int, seed: int, today: str | None) -> None:
    """Compose advice for a persona corpus and random people; print every fault found."""
    from datetime import date

    from bot.advice.lint import lint_playbook
    from bot.playbook.loader import PlaybookError, load_playbook

    try:
        pb = load_playbook(file)
        day = date.fromisoformat(today) if today else date.today()
    except PlaybookError as exc:
        for issue in exc.issues:
            click.echo(str(issue))
        sys.exit(1)
    except ValueError:
        _fail(f"--today: not a date: {today}")
        return
    problems = lint_playbook(pb, day, random_sets=random_sets, seed=seed)
    for problem in problems:
        click.echo(f"{file}: {problem}")
    click.echo(f"{file}: {len(problems)} problem(s) ({pb.id} v{pb.version}, {random_sets} random)")
    sys.exit(1 if problems else 0)


@playbook.command("list")
def playbook_list() -> None:
    """List the installed playbooks."""
    from adapters.runtime import StartupError
    from bot.playbook.loader import PlaybookError, PlaybookRegistry

    try:
        settings = _settings()
        registry = PlaybookRegistry.from_directory(settings.playbooks_dir)
    except (StartupError, PlaybookError) as exc:
        _fail(str(exc))
        return
    for pb in registry.all():
        mark = " (default)" if pb.id == settings.default_playbook else ""
        click.echo(f"{pb.id}{mark}: {pb.title} — version {pb.version}")


cli.add_command(slack_commands)
cli.add_command(discord_group)


def main() -> None:
    cli()
